"""Run the Huawei Cloud DNS emulator until interrupted; prints its URL (127.0.0.1 only) first.

    python -m emulators.huaweidns --port N --ak AK --sk SK [--zone example.com] [--dns-feed URL] [--state FILE]

Every flag falls back to an environment variable: EMU_HUAWEIDNS_* first, then the SDK's own
HUAWEICLOUD_SDK_* names. With --dns-feed, every accepted change is pushed to that `python -m emulators.dns`.
"""

import argparse
import sys

from emulators.core.cli import add_server_arguments, env_value, serve
from emulators.dns.feed import feed_for
from emulators.huaweidns.models import DEFAULT_DOMAIN_ID, DEFAULT_PROJECT_ID
from emulators.huaweidns.responses import HuaweiDnsApi

ENV_PREFIX = "EMU_HUAWEIDNS"


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m emulators.huaweidns", description=__doc__.splitlines()[0])
    add_server_arguments(parser, ENV_PREFIX)
    parser.add_argument("--ak", default=env_value(f"{ENV_PREFIX}_AK", "HUAWEICLOUD_SDK_AK"),
                        help=f"access key the SDK signs with (env {ENV_PREFIX}_AK, HUAWEICLOUD_SDK_AK)")
    parser.add_argument("--sk", default=env_value(f"{ENV_PREFIX}_SK", "HUAWEICLOUD_SDK_SK"),
                        help=f"secret key (env {ENV_PREFIX}_SK, HUAWEICLOUD_SDK_SK)")
    parser.add_argument("--project-id", default=env_value(f"{ENV_PREFIX}_PROJECT_ID", "HUAWEICLOUD_SDK_PROJECT_ID",
                                                     default=DEFAULT_PROJECT_ID),
                        help=f"the key's project, shown in answers (env {ENV_PREFIX}_PROJECT_ID)")
    parser.add_argument("--domain-id", default=env_value(f"{ENV_PREFIX}_DOMAIN_ID", default=DEFAULT_DOMAIN_ID),
                        help=f"the key's account (env {ENV_PREFIX}_DOMAIN_ID)")
    parser.add_argument("--zone", action="append", default=None,
                        help=f"a public zone the account has from the start and after every reset; repeatable "
                             f"(env {ENV_PREFIX}_ZONES, comma-separated)")
    parser.add_argument("--pending-reads", type=int, default=int(env_value(f"{ENV_PREFIX}_PENDING_READS", default="0")),
                        help="reads that still show a written set PENDING_* before ACTIVE (default 0: the next read "
                             f"shows ACTIVE; env {ENV_PREFIX}_PENDING_READS)")
    parser.add_argument("--dns-feed", default=env_value(f"{ENV_PREFIX}_DNS_FEED"),
                        help=f"URL of a `python -m emulators.dns` server to push changes to (env {ENV_PREFIX}_DNS_FEED)")
    args = parser.parse_args(argv)
    if args.zone is None:
        args.zone = [z for z in (env_value(f"{ENV_PREFIX}_ZONES") or "").split(",") if z.strip()]
    if not args.ak or not args.sk:
        parser.error(f"--ak and --sk are required (or {ENV_PREFIX}_AK/SK, HUAWEICLOUD_SDK_AK/SK)")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_arguments(argv)
    api = HuaweiDnsApi({args.ak: args.sk}, domain_id=args.domain_id, project_id=args.project_id,
                       feed=feed_for(args.dns_feed), seed_zones=tuple(args.zone), pending_reads=args.pending_reads)
    serve(api, args)


if __name__ == "__main__":
    sys.exit(main())
