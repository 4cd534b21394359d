"""`python -m emulators.dns`: the authoritative DNS server on loopback plus its control API.

    python -m emulators.dns --port P [--dns-port D] [--state FILE] [--url-file F] [--quiet]

Prints the control URL first (as every emulator does); the DNS address is at GET /_emulator/dns/address
and on stderr. Flags fall back to EMU_DNS_PORT, EMU_DNS_DNS_PORT, EMU_DNS_STATE_FILE, EMU_DNS_URL_FILE.
"""

from __future__ import annotations

import argparse
import os
import sys

from emulators.core.cli import add_server_arguments, serve
from emulators.dns.responses import DnsApi
from emulators.dns.server import DnsServer
from emulators.dns.zones import ZoneStore

ENV_PREFIX = "EMU_DNS"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m emulators.dns", description=__doc__.splitlines()[0])
    add_server_arguments(parser, ENV_PREFIX)
    parser.add_argument("--dns-port", type=int, default=int(os.environ.get(f"{ENV_PREFIX}_DNS_PORT", "0")),
                        help=f"UDP and TCP port of the DNS server, 0 = any free port (env {ENV_PREFIX}_DNS_PORT)")
    args = parser.parse_args(argv)
    store = ZoneStore()
    dns_server = DnsServer(store, args.dns_port).start()
    host, port = dns_server.address
    print(f"dns: {host}:{port}", file=sys.stderr, flush=True)
    try:
        serve(DnsApi(store, dns_server), args)
    finally:
        dns_server.stop()


if __name__ == "__main__":
    sys.exit(main())
