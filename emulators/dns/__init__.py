"""The DNS emulator: an authoritative DNS server on loopback (dnspython, UDP and TCP) fed by the
DNS-API emulators, so what an API wrote can be resolved for real.

Run: `python -m emulators.dns --port P [--dns-port D]`. In code:

    store = ZoneStore()
    with DnsServer(store) as dns_server, EmulatorServer(DnsApi(store, dns_server)) as control:
        store.put_zone("example.com")                     # or DnsFeed(control.url).put_zone(...)
        store.put_rrset("example.com", "_dnsauth.example.com", "TXT", 60, ["token"])

See docs/emulators-dns.md and COVERAGE.md.
"""

from emulators.dns.exceptions import DnsFeedError, InvalidRecord, NoSuchZone
from emulators.dns.feed import DnsFeed, ZoneSink
from emulators.dns.responses import DnsApi
from emulators.dns.server import DnsServer
from emulators.dns.zones import ZoneStore

__all__ = ["DnsApi", "DnsFeed", "DnsFeedError", "DnsServer", "InvalidRecord", "NoSuchZone", "ZoneSink",
           "ZoneStore"]
