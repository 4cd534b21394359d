"""`python -m emulators.cas`: run the CAS emulator until interrupted; prints its URL first."""

from __future__ import annotations

import argparse
import sys

from emulators.cas.responses import CasApi
from emulators.core.cli import add_server_arguments, env_value, serve
from emulators.core.dns_check import parse_resolver

ENV_PREFIX = "EMU_CAS"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m emulators.cas", description=__doc__)
    add_server_arguments(parser, ENV_PREFIX)
    parser.add_argument("--access-key-id",
                        default=env_value(f"{ENV_PREFIX}_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_ID"),
                        help=f"accepted AccessKey ID (env {ENV_PREFIX}_ACCESS_KEY_ID, then ALIBABA_CLOUD_ACCESS_KEY_ID)")
    parser.add_argument("--access-key-secret",
                        default=env_value(f"{ENV_PREFIX}_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
                        help=f"its secret (env {ENV_PREFIX}_ACCESS_KEY_SECRET, then ALIBABA_CLOUD_ACCESS_KEY_SECRET)")
    parser.add_argument("--package-total", type=int, default=int(env_value(f"{ENV_PREFIX}_PACKAGE_TOTAL", default=20)),
                        help="units pre-bought for every ProductCode after a reset (default 20)")
    parser.add_argument("--validation-wait", type=float,
                        default=float(env_value(f"{ENV_PREFIX}_VALIDATION_WAIT", default=0)),
                        help="seconds from publishing the challenge to review (default 0)")
    parser.add_argument("--review-wait", type=float, default=float(env_value(f"{ENV_PREFIX}_REVIEW_WAIT", default=0)),
                        help="seconds of CA review before issuance (default 0)")
    parser.add_argument("--record-domain-style", choices=("relative", "fqdn"),
                        default=env_value(f"{ENV_PREFIX}_RECORD_DOMAIN_STYLE", default="relative"),
                        help="RecordDomain as _dnsauth (default) or _dnsauth.<domain>")
    parser.add_argument("--order-domain-style", choices=("primary", "all"),
                        default=env_value(f"{ENV_PREFIX}_ORDER_DOMAIN_STYLE", default="primary"),
                        help="ListUserCertificateOrder's Domain: the primary name only (default, as every "
                             "published sample) or every name comma-joined, CN first")
    parser.add_argument("--challenge-lag-reads", type=int,
                        default=int(env_value(f"{ENV_PREFIX}_CHALLENGE_LAG_READS", default=0)),
                        help="DescribeCertificateState reads of a new order that show empty record fields "
                             "before its challenge (default 0)")
    parser.add_argument("--dns-resolver", default=env_value(f"{ENV_PREFIX}_DNS_RESOLVER", default=""),
                        help="HOST:PORT of a DNS server (e.g. python -m emulators.dns): a DNS challenge counts as "
                             "published once it serves the TXT record (env EMU_CAS_DNS_RESOLVER; default: only "
                             "the control call publish)")
    parser.add_argument("--account-plan", choices=("v1", "v2", "both"),
                        default=env_value(f"{ENV_PREFIX}_ACCOUNT_PLAN", default="both"),
                        help="what the account holds: V1.0 resource plans, V2.0 instances or both (default both)")
    parser.add_argument("--seed-instances", type=int, default=int(env_value(f"{ENV_PREFIX}_SEED_INSTANCES", default=0)),
                        help="V2.0 instances bought for every ProductCode at start (fixed ids; default 0)")
    parser.add_argument("--max-clock-skew", type=float, default=None,
                        help="reject signatures dated further than this many seconds from now (default off)")
    parser.add_argument("--no-nonce-check", action="store_true", help="accept a reused signature nonce")
    args = parser.parse_args(argv)
    if not args.access_key_id or not args.access_key_secret:
        parser.error("an access key id and secret are required (flags or environment)")
    try:
        parse_resolver(args.dns_resolver)
    except ValueError as error:
        parser.error(str(error))
    api = CasApi(
        {args.access_key_id: args.access_key_secret},
        check_nonce=not args.no_nonce_check, max_clock_skew=args.max_clock_skew,
        account_plan=args.account_plan, seed_instances=args.seed_instances,
        package_total=args.package_total, validation_wait=args.validation_wait, review_wait=args.review_wait,
        record_domain_style=args.record_domain_style, order_domain_style=args.order_domain_style,
        challenge_lag_reads=args.challenge_lag_reads, dns_resolver=args.dns_resolver,
    )
    serve(api, args)


if __name__ == "__main__":
    sys.exit(main())
