"""Run the Huawei Cloud SCM emulator until interrupted; prints its URL (127.0.0.1 only) first.

    python -m emulators.scm --port N --ak AK --sk SK [--project-id ID] [--state FILE] [--dns-resolver HOST:PORT]

Every flag falls back to an environment variable: EMU_SCM_* first, then the SDK's own
HUAWEICLOUD_SDK_* names, so one set of variables configures both the emulator and its client.
"""

import argparse
import sys

from emulators.core.cli import add_server_arguments, env_value, serve
from emulators.core.dns_check import parse_resolver
from emulators.scm.models import ScmSettings
from emulators.scm.responses import ScmApi

ENV_PREFIX = "EMU_SCM"
DEFAULT_PROJECT_ID = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
DEFAULT_DOMAIN_ID = "d0m41n1d"


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m emulators.scm", description=__doc__.splitlines()[0])
    add_server_arguments(parser, ENV_PREFIX)
    parser.add_argument("--ak", default=env_value(f"{ENV_PREFIX}_AK", "HUAWEICLOUD_SDK_AK"),
                        help="access key the SDK signs with (env EMU_SCM_AK, HUAWEICLOUD_SDK_AK)")
    parser.add_argument("--sk", default=env_value(f"{ENV_PREFIX}_SK", "HUAWEICLOUD_SDK_SK"),
                        help="secret key (env EMU_SCM_SK, HUAWEICLOUD_SDK_SK)")
    parser.add_argument("--project-id", default=env_value(f"{ENV_PREFIX}_PROJECT_ID", "HUAWEICLOUD_SDK_PROJECT_ID",
                                                     default=DEFAULT_PROJECT_ID),
                        help="the project of v2 paths /v2/{project_id}/scm/... (env EMU_SCM_PROJECT_ID)")
    parser.add_argument("--domain-id", default=env_value(f"{ENV_PREFIX}_DOMAIN_ID", "HUAWEICLOUD_SDK_DOMAIN_ID",
                                                    default=DEFAULT_DOMAIN_ID),
                        help="account id served at GET /v3/auth/domains (env EMU_SCM_DOMAIN_ID)")
    parser.add_argument("--auth-token", action="append", default=None,
                        help="an accepted X-Auth-Token value; repeatable (env EMU_SCM_AUTH_TOKEN)")
    parser.add_argument("--validation-wait", type=float,
                        default=float(env_value(f"{ENV_PREFIX}_VALIDATION_WAIT", default="0")),
                        help="seconds from a published challenge to issuance (env EMU_SCM_VALIDATION_WAIT)")
    parser.add_argument("--dns-resolver", default=env_value(f"{ENV_PREFIX}_DNS_RESOLVER", default=""),
                        help="HOST:PORT of a DNS server (e.g. python -m emulators.dns): a DNS challenge counts as "
                             "published once it serves every TXT record (env EMU_SCM_DNS_RESOLVER; default: only "
                             "the control call publish)")
    args = parser.parse_args(argv)
    try:
        parse_resolver(args.dns_resolver)
    except ValueError as error:
        parser.error(str(error))
    if args.auth_token is None:
        args.auth_token = [env_value(f"{ENV_PREFIX}_AUTH_TOKEN")] if env_value(f"{ENV_PREFIX}_AUTH_TOKEN") else []
    if not args.ak or not args.sk:
        parser.error("--ak and --sk are required (or EMU_SCM_AK/SK, HUAWEICLOUD_SDK_AK/SK)")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_arguments(argv)
    api = ScmApi(credentials={args.ak: args.sk}, project_id=args.project_id, domain_id=args.domain_id,
                 auth_tokens=tuple(args.auth_token),
                 settings=ScmSettings(validation_wait_seconds=args.validation_wait, dns_resolver=args.dns_resolver))
    serve(api, args)


if __name__ == "__main__":
    sys.exit(main())
