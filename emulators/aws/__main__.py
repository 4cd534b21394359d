"""Run the AWS (ACM + CloudFront + Route 53) emulator until interrupted; prints its URL first.

    python -m emulators.aws --port N [--host 127.0.0.1] [--deploy-seconds S] [--acm-validation-wait S]
                            [--route53-sync-seconds S] [--dns-feed URL] [--edge-port N]

Flags fall back to EMU_AWS_PORT, EMU_AWS_DEPLOY_SECONDS, EMU_AWS_ACM_VALIDATION_WAIT (then moto's own
MOTO_ACM_VALIDATION_WAIT), EMU_AWS_ROUTE53_SYNC_SECONDS, EMU_AWS_DNS_FEED and EMU_AWS_EDGE_PORT.
The CloudFront edge's TLS address (host:port) is told by GET /_certfleet/cloudfront/edge.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys

from emulators.core.cli import env_value

ENV_PREFIX = "EMU_AWS"


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m emulators.aws", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(env_value(f"{ENV_PREFIX}_PORT", default="0")),
                        help="port to listen on, 0 = any free port (env EMU_AWS_PORT)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--deploy-seconds", type=float,
                        default=float(env_value(f"{ENV_PREFIX}_DEPLOY_SECONDS", default="5")),
                        help="seconds a created or updated distribution stays InProgress (default 5)")
    parser.add_argument("--acm-validation-wait", type=float,
                        default=float(env_value(f"{ENV_PREFIX}_ACM_VALIDATION_WAIT", "MOTO_ACM_VALIDATION_WAIT",
                                           default="60")),
                        help="seconds a requested certificate stays PENDING_VALIDATION (default 60)")
    parser.add_argument("--route53-sync-seconds", type=float,
                        default=float(env_value(f"{ENV_PREFIX}_ROUTE53_SYNC_SECONDS", default="0")),
                        help="seconds a Route 53 change stays PENDING before GetChange says INSYNC (default 0)")
    parser.add_argument("--dns-feed", default=env_value(f"{ENV_PREFIX}_DNS_FEED", default="") or None,
                        help="URL of a DNS emulator (python -m emulators.dns) that Route 53 zones and record "
                             "changes are pushed to (env EMU_AWS_DNS_FEED)")
    parser.add_argument("--edge-port", type=int, default=int(env_value(f"{ENV_PREFIX}_EDGE_PORT", default="0")),
                        help="port of the CloudFront edge, a TLS listener serving each distribution's certificate "
                             "by SNI; 0 = any free port (env EMU_AWS_EDGE_PORT)")
    parser.add_argument("--quiet", action="store_true", help="do not log requests to stderr")
    args = parser.parse_args(argv)
    if args.deploy_seconds < 0 or args.acm_validation_wait < 0 or args.route53_sync_seconds < 0:
        parser.error("--deploy-seconds, --acm-validation-wait and --route53-sync-seconds must be >= 0")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_arguments(argv)
    # moto reads this when imported; the emulator also sets moto's setting directly (runtime-settable).
    os.environ["MOTO_ACM_VALIDATION_WAIT"] = str(int(args.acm_validation_wait))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    from emulators.aws.models import Settings
    from emulators.aws.server import AwsEmulator

    emulator = AwsEmulator(args.host, args.port, Settings(deploy_seconds=args.deploy_seconds,
                                                         acm_validation_wait=args.acm_validation_wait,
                                                         route53_sync_seconds=args.route53_sync_seconds),
                           log_requests=not args.quiet, dns_feed=args.dns_feed, edge_port=args.edge_port)
    print(emulator.url, flush=True)  # the only line: callers read it, then close the pipe
    try:
        emulator.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        emulator.stop()


if __name__ == "__main__":
    sys.exit(main())
