"""How the CA emulators see a DNS challenge: they ask a DNS server, as a CA's validator does.

With `--dns-resolver HOST:PORT` (CAS, SCM) a lazy read of a pending DNS-validated order asks that server
(locally the DNS emulator, `python -m emulators.dns`) for the challenge's record: one query, recursion not
desired, a short timeout, UDP then TCP when the answer is truncated. When every expected value is served the
challenge counts as published, the same state change as the control call `publish`.

Lazy reads run under the emulator's lock (emulators/core/server.py serialises every call), so a resolver that
did not answer is left alone for QUIET_SECONDS: a list of many pending orders must not wait a timeout each.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from typing import Iterable

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype

QUERY_TIMEOUT_SECONDS = 1.0
QUIET_SECONDS = 5.0
EDNS_PAYLOAD = 1232

_quiet_until: dict[tuple[str, int], float] = {}  # resolver -> monotonic time it may be asked again
_quiet_lock = threading.Lock()


def parse_resolver(text: str | None) -> tuple[str, int] | None:
    """"HOST:PORT" (an IP address; "[v6]:PORT" for IPv6) -> (host, port); "" or None -> None (no DNS checks).
    Raises ValueError for anything else (flags and settings report it)."""
    if not text:
        return None
    host, _, port_text = text.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    try:
        ipaddress.ip_address(host)
        port = int(port_text)
    except ValueError:
        raise ValueError(f"dns resolver must be HOST:PORT with an IP address, not {text!r}") from None
    if not 0 < port < 65536:
        raise ValueError(f"dns resolver port must be 1 to 65535, not {port}")
    return host, port


def served(resolver: str | tuple[str, int], name: str, rtype: str, values: Iterable[str]) -> bool:
    """Does `resolver` serve every one of `values` at `name` (other values may be there too, as a CA only
    looks for its token)? TXT values are each record's strings concatenated. False on any miss or failure."""
    values = list(values)
    address = parse_resolver(resolver) if isinstance(resolver, str) else resolver
    if address is None or not values:
        return False
    with _quiet_lock:
        if _quiet_until.get(address, 0.0) > time.monotonic():
            return False
    rdtype = dns.rdatatype.from_text(rtype)
    query = dns.message.make_query(dns.name.from_text(name), rdtype, use_edns=0, payload=EDNS_PAYLOAD)
    query.flags &= ~dns.flags.RD
    try:
        response = dns.query.udp(query, address[0], port=address[1], timeout=QUERY_TIMEOUT_SECONDS)
        if response.flags & dns.flags.TC:
            response = dns.query.tcp(query, address[0], port=address[1], timeout=QUERY_TIMEOUT_SECONDS)
    except (dns.exception.DNSException, OSError):
        with _quiet_lock:
            _quiet_until[address] = time.monotonic() + QUIET_SECONDS
        return False
    if response.rcode() != dns.rcode.NOERROR:
        return False
    found = {_text(rdtype, rdata) for rrset in response.answer if rrset.rdtype == rdtype for rdata in rrset}
    return all(_text_of_value(rdtype, value) in found for value in values)


def txt_records_served(resolver: str, records: Iterable[tuple[str, str]]) -> bool:
    """Every (name, TXT value) of a challenge is served; the values of one name are asked together (e.g. the
    tokens of `*.example.com` and `example.com`, both at `_dnsauth.example.com`). False when there are none."""
    by_name: dict[str, list[str]] = {}
    for name, value in records:
        by_name.setdefault(name, []).append(value)
    return bool(resolver and by_name) and all(served(resolver, name, "TXT", values) for name, values in by_name.items())


def _text(rdtype: int, rdata) -> str:
    if rdtype == dns.rdatatype.TXT:
        return b"".join(rdata.strings).decode("utf-8", "backslashreplace")
    return rdata.to_text().rstrip(".").lower()


def _text_of_value(rdtype: int, value: str) -> str:
    return value if rdtype == dns.rdatatype.TXT else value.rstrip(".").lower()
