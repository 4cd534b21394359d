"""Run the Huawei Cloud DNS emulator until interrupted; prints its URL (127.0.0.1 only) first.

    python -m emulators.huaweidns --port N --ak AK --sk SK [--zone example.com] [--dns-feed URL] [--state FILE]

Every flag falls back to an environment variable: EMU_HUAWEIDNS_* first, then the SDK's own
HUAWEICLOUD_SDK_* names. With --dns-feed, every accepted change is pushed to that `python -m emulators.dns`.
"""

import argparse
import os
import sys

from emulators.core.cli import add_server_arguments, serve
from emulators.huaweidns.models import DEFAULT_DOMAIN_ID, DEFAULT_PROJECT_ID
from emulators.huaweidns.responses import HuaweiDnsApi

ENV_PREFIX = "EMU_HUAWEIDNS"


def _env(*names: str, default: str | None = None) -> str | None:
    for name in names:
        if os.environ.get(name):
            return os.environ[name]
    return default


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m emulators.huaweidns", description=__doc__.splitlines()[0])
    add_server_arguments(parser, ENV_PREFIX)
    parser.add_argument("--ak", default=_env(f"{ENV_PREFIX}_AK", "HUAWEICLOUD_SDK_AK"),
                        help=f"access key the SDK signs with (env {ENV_PREFIX}_AK, HUAWEICLOUD_SDK_AK)")
    parser.add_argument("--sk", default=_env(f"{ENV_PREFIX}_SK", "HUAWEICLOUD_SDK_SK"),
                        help=f"secret key (env {ENV_PREFIX}_SK, HUAWEICLOUD_SDK_SK)")
    parser.add_argument("--project-id", default=_env(f"{ENV_PREFIX}_PROJECT_ID", "HUAWEICLOUD_SDK_PROJECT_ID",
                                                     default=DEFAULT_PROJECT_ID),
                        help=f"the key's project, shown in answers (env {ENV_PREFIX}_PROJECT_ID)")
    parser.add_argument("--domain-id", default=_env(f"{ENV_PREFIX}_DOMAIN_ID", default=DEFAULT_DOMAIN_ID),
                        help=f"the key's account (env {ENV_PREFIX}_DOMAIN_ID)")
    parser.add_argument("--zone", action="append", default=None,
                        help=f"a public zone the account has from the start and after every reset; repeatable "
                             f"(env {ENV_PREFIX}_ZONES, comma-separated)")
    parser.add_argument("--pending-reads", type=int, default=int(_env(f"{ENV_PREFIX}_PENDING_READS", default="0")),
                        help="reads that still show a written set PENDING_* before ACTIVE (default 0: the next read "
                             f"shows ACTIVE; env {ENV_PREFIX}_PENDING_READS)")
    parser.add_argument("--dns-feed", default=_env(f"{ENV_PREFIX}_DNS_FEED"),
                        help=f"URL of a `python -m emulators.dns` server to push changes to (env {ENV_PREFIX}_DNS_FEED)")
    args = parser.parse_args(argv)
    if args.zone is None:
        args.zone = [z for z in (_env(f"{ENV_PREFIX}_ZONES") or "").split(",") if z.strip()]
    if not args.ak or not args.sk:
        parser.error(f"--ak and --sk are required (or {ENV_PREFIX}_AK/SK, HUAWEICLOUD_SDK_AK/SK)")
    return args


def make_feed(url: str | None):
    if not url:
        return None
    from emulators.dns.feed import DnsFeed  # only needed with a feed
    return DnsFeed(url)


def main(argv: list[str] | None = None) -> None:
    args = parse_arguments(argv)
    api = HuaweiDnsApi({args.ak: args.sk}, domain_id=args.domain_id, project_id=args.project_id,
                       feed=make_feed(args.dns_feed), seed_zones=tuple(args.zone), pending_reads=args.pending_reads)
    serve(api, args)


if __name__ == "__main__":
    sys.exit(main())
