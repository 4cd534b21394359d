"""`python -m emulators.alidns`: run the Alibaba Cloud DNS emulator until interrupted; prints its URL first.

Every flag falls back to an environment variable (EMU_ALIDNS_*, then the SDK's ALIBABA_CLOUD_* names).
With --dns-feed, every accepted zone and record change is pushed to that `python -m emulators.dns` server.
"""

from __future__ import annotations

import argparse
import sys

from emulators.alidns.responses import AlidnsApi
from emulators.core.cli import add_server_arguments, env_value, serve
from emulators.dns.feed import feed_for

ENV_PREFIX = "EMU_ALIDNS"


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m emulators.alidns", description=__doc__.splitlines()[0])
    add_server_arguments(parser, ENV_PREFIX)
    parser.add_argument("--access-key-id", default=env_value(f"{ENV_PREFIX}_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_ID"),
                        help=f"accepted AccessKey ID (env {ENV_PREFIX}_ACCESS_KEY_ID, then ALIBABA_CLOUD_ACCESS_KEY_ID)")
    parser.add_argument("--access-key-secret",
                        default=env_value(f"{ENV_PREFIX}_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
                        help=f"its secret (env {ENV_PREFIX}_ACCESS_KEY_SECRET, then ALIBABA_CLOUD_ACCESS_KEY_SECRET)")
    parser.add_argument("--domain", action="append", default=None,
                        help=f"a domain the account has from the start and after every reset; repeatable "
                             f"(env {ENV_PREFIX}_DOMAINS, comma-separated)")
    parser.add_argument("--dns-feed", default=env_value(f"{ENV_PREFIX}_DNS_FEED"),
                        help=f"URL of a `python -m emulators.dns` server to push changes to (env {ENV_PREFIX}_DNS_FEED)")
    parser.add_argument("--max-clock-skew", type=float, default=None,
                        help="reject signatures dated further than this many seconds from now (default off)")
    parser.add_argument("--no-nonce-check", action="store_true", help="accept a reused signature nonce")
    args = parser.parse_args(argv)
    if args.domain is None:
        args.domain = [d for d in (env_value(f"{ENV_PREFIX}_DOMAINS") or "").split(",") if d.strip()]
    if not args.access_key_id or not args.access_key_secret:
        parser.error("an access key id and secret are required (flags or environment)")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_arguments(argv)
    api = AlidnsApi({args.access_key_id: args.access_key_secret}, feed=feed_for(args.dns_feed),
                    seed_domains=tuple(args.domain), check_nonce=not args.no_nonce_check,
                    max_clock_skew=args.max_clock_skew)
    serve(api, args)


if __name__ == "__main__":
    sys.exit(main())
