"""Shared command-line plumbing for `python -m emulators.<api>`: port, state file, URL reporting."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

from emulators.core.api import ApiEmulator
from emulators.core.quotas import RateRule, parse_throttle
from emulators.core.server import EmulatorServer


def env_value(*names: str, default=None):
    """The first of these environment variables that is set and not empty, else `default` (flags' defaults)."""
    return next((os.environ[name] for name in names if os.environ.get(name)), default)


def add_server_arguments(parser: argparse.ArgumentParser, env_prefix: str) -> None:
    """--port, --state, --url-file, --quiet and --throttle, each falling back to `<env_prefix>_*` env vars."""
    parser.add_argument("--port", type=int, default=int(os.environ.get(f"{env_prefix}_PORT", "0")),
                        help=f"loopback port, 0 = any free port (env {env_prefix}_PORT)")
    parser.add_argument("--state", default=os.environ.get(f"{env_prefix}_STATE_FILE"),
                        help=f"JSON file that keeps state across restarts (env {env_prefix}_STATE_FILE)")
    parser.add_argument("--url-file", default=os.environ.get(f"{env_prefix}_URL_FILE"),
                        help=f"also write the URL to this file once listening (env {env_prefix}_URL_FILE)")
    parser.add_argument("--quiet", action="store_true", help="do not log requests to stderr")
    parser.add_argument("--throttle", action="append", default=None,
                        help="answer calls over a request rate as the cloud throttles: 'published' (the API's "
                             "published rates) or OPERATION=RATE per second and caller, OPERATION * = all "
                             f"together; repeatable or comma-separated (env {env_prefix}_THROTTLE; default off)")
    parser.set_defaults(throttle_env=os.environ.get(f"{env_prefix}_THROTTLE", ""))


def throttle_rules(api: ApiEmulator, args: argparse.Namespace) -> list[RateRule]:
    """The rate quotas of --throttle (or the _THROTTLE variable when no flag is given); exits on a bad value."""
    values = args.throttle if args.throttle is not None else [getattr(args, "throttle_env", "")]
    try:
        return [rule for value in values for rule in parse_throttle(value, api.published_rates)]
    except ValueError as error:
        sys.exit(f"{sys.argv[0]}: {error}")


def serve(api: ApiEmulator, args: argparse.Namespace) -> None:
    """Run until SIGINT/SIGTERM; prints the URL as the first line on stdout."""
    # Installed first, so a supervisor's SIGTERM right after start-up still exits cleanly.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server = EmulatorServer(api, port=args.port, state_file=args.state, log_requests=not args.quiet,
                            throttles=throttle_rules(api, args))
    if args.url_file:
        temporary = Path(args.url_file + ".tmp")
        temporary.write_text(server.url + "\n")
        os.replace(temporary, args.url_file)  # readers never see a partial URL
    print(server.url, flush=True)
    try:
        server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.stop()
