"""Is a validation record served yet? lego's authoritative pre-check (reference/dns-apis.md, section 4.2).

A record counts as propagated when every authoritative name server of its zone serves exactly the wanted
values now; resolver caches are ignored. One check (`check_served`):
1. find the zone apex: walk up the name's labels asking the resolvers for SOA;
2. ask the resolvers for the zone's NS set, and each name server's addresses (A);
3. ask each address, at `nameserver_port`, with recursion not desired (UDP, TCP when truncated);
   every one must answer with the values (`[]`: the record must be absent, after a delete).
`wait_until_served` repeats it for a bounded time. Neither raises on a DNS failure: they return the
reason (a NotServed), naming the server and what it answered, for the caller's error or status message, and
saying whether any authoritative server could be asked at all (`unreachable`) or one answered other data.

Locally the resolver and every name server are the DNS emulator (`python -m emulators.dns`): its zones'
NS glue is 127.0.0.1, so `CERTFLEET_DNS_NAMESERVER_PORT` is the port it listens on.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from typing import Sequence

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import dns.resolver

from components.dynamic import Clock, wait_for
from components.errors import WaitTimeout

RESOLVERS_VARIABLE = "CERTFLEET_DNS_RESOLVERS"
NAMESERVER_PORT_VARIABLE = "CERTFLEET_DNS_NAMESERVER_PORT"
DNS_PORT = 53
EDNS_PAYLOAD = 1232  # the DNS flag day 2020 size; longer answers come truncated and are asked again over TCP


class NotServed(str):
    """Why a record is not served (yet): the text names the server and what it answered.

    `unreachable` is True when no authoritative server could be asked at all: no resolver configured or
    answering, no name server with an (IPv4) address, or every name server timed out, refused the connection
    or the question (REFUSED, SERVFAIL) or answered without authority; the check then says nothing about the
    record. False when the DNS answered otherwise: a name server answered for the zone with other data
    (NXDOMAIN, NODATA, other values), some name servers answered and others not, or the resolvers answered
    but know no zone holding the name (not delegated: a CA finds nothing either).
    """

    unreachable: bool

    def __new__(cls, text: str, unreachable: bool) -> "NotServed":
        reason = super().__new__(cls, text)
        reason.unreachable = unreachable
        return reason

    def __reduce__(self):  # pickled with its flag (str's own reduction would drop it)
        return NotServed, (str(self), self.unreachable)


@dataclass(frozen=True)
class Resolvers:
    """Where to look: recursive resolvers (host, port) for the zone's SOA, NS and name server addresses,
    and the port its authoritative name servers are asked on."""

    addresses: tuple[tuple[str, int], ...]
    nameserver_port: int = DNS_PORT

    @classmethod
    def from_env(cls) -> "Resolvers":
        """CERTFLEET_DNS_RESOLVERS="host[:port],..." (IP addresses; default: the system's resolv.conf) and
        CERTFLEET_DNS_NAMESERVER_PORT (default 53). Raises ValueError naming the variable for a bad value."""
        text = os.environ.get(RESOLVERS_VARIABLE, "").strip()
        if text:
            addresses = tuple(_parse_address(item.strip(), RESOLVERS_VARIABLE) for item in text.split(",")
                              if item.strip())
        else:
            addresses = _system_resolvers()
        port_text = os.environ.get(NAMESERVER_PORT_VARIABLE, "").strip() or str(DNS_PORT)
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ValueError(f"{NAMESERVER_PORT_VARIABLE} must be a port number, not {port_text!r}")
        return cls(addresses, int(port_text))


def check_served(name: str, rtype: str, values: Sequence[str], resolvers: Resolvers,
                 query_timeout: float = 3.0, at_least: bool = False) -> NotServed | None:
    """None when every authoritative server of the zone serves exactly `values` at `name` (TXT: each
    record's strings concatenated; CNAME: the target, case-insensitive, no trailing dot; `[]`: no such
    record, NXDOMAIN or NODATA); with `at_least`, `values` among others (a CA looks for its token in the set).
    Otherwise the reason: the first server that answered other data, else the first that could not be asked
    (`unreachable` when none answered)."""
    qname = dns.name.from_text(name)  # a malformed name is the caller's bug: raised, not a reason
    rdtype = dns.rdatatype.from_text(rtype.upper())
    wanted = sorted({_normalized(rdtype, value) for value in values})
    asked = f"{qname.to_text(omit_final_dot=True)} {dns.rdatatype.to_text(rdtype)}"
    if not resolvers.addresses:
        return NotServed(f"no DNS resolver configured ({RESOLVERS_VARIABLE}) to check {asked}", unreachable=True)
    try:
        zone = _zone_apex(qname, resolvers, query_timeout)
        if zone is None:
            return NotServed(f"no SOA found for {qname.to_text(omit_final_dot=True)} (resolvers {_listed(resolvers)})",
                             unreachable=False)
        servers = _name_servers(zone, resolvers, query_timeout)
    except _Unanswered as unanswered:
        return NotServed(str(unanswered), unreachable=True)
    if not servers:
        return NotServed(f"zone {zone} has no name server with an address (resolvers {_listed(resolvers)})",
                         unreachable=True)
    not_asked, answered = [], 0
    for host, address in servers:
        server = f"{host} ({_joined(address, resolvers.nameserver_port)})"
        try:
            response = _ask((address, resolvers.nameserver_port), qname, rdtype, query_timeout, recursion=False)
        except (dns.exception.DNSException, OSError) as error:
            not_asked.append(f"{server} did not answer for {asked}: {_why(error)}")
            continue
        refusal = _not_authoritative(response)
        if refusal:
            not_asked.append(f"{server} {refusal} for {asked}")
            continue
        answered += 1
        reason = _mismatch(response, qname, rdtype, wanted, at_least)
        if reason:
            return NotServed(f"{server} {reason} for {asked}", unreachable=False)
    if not_asked:
        return NotServed(not_asked[0], unreachable=answered == 0)
    return None


def wait_until_served(name: str, rtype: str, values: Sequence[str], resolvers: Resolvers,
                      timeout_seconds: float, clock: type[Clock] = Clock,
                      interval_seconds: float = 2.0, query_timeout: float = 3.0,
                      at_least: bool = False) -> NotServed | None:
    """`check_served` until it passes (None) or `timeout_seconds` are up (the last reason). Checks at once,
    then every `interval_seconds`."""
    reasons: list[NotServed | None] = []

    def probe() -> bool | None:
        reasons.append(check_served(name, rtype, values, resolvers, query_timeout, at_least))
        return True if reasons[-1] is None else None

    try:
        wait_for(f"{name} {rtype} to be served", probe, timeout_seconds, interval_seconds, clock)
    except WaitTimeout:
        return reasons[-1]
    return None


# --- the steps --------------------------------------------------------------------------------------------

class _Unanswered(Exception):
    """No resolver answered a question of the check (the message is the reason)."""


def _zone_apex(qname: dns.name.Name, resolvers: Resolvers, timeout: float) -> dns.name.Name | None:
    """The closest enclosing zone: the first name upwards with an SOA in the answer, or the owner of the SOA an
    authoritative server puts in the authority section of a negative answer (the local server is
    authoritative-only and REFUSES names outside its zones, so walking up to the TLD finds nothing there)."""
    candidate = qname
    while candidate != dns.name.root:
        response = _ask_resolvers(resolvers, candidate, dns.rdatatype.SOA, timeout)
        if response.rcode() == dns.rcode.NOERROR and any(
                rrset.rdtype == dns.rdatatype.SOA and rrset.name == candidate for rrset in response.answer):
            return candidate
        if response.rcode() in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN) and response.flags & dns.flags.AA:
            for rrset in response.authority:
                if rrset.rdtype == dns.rdatatype.SOA and candidate.is_subdomain(rrset.name):
                    return rrset.name
        candidate = candidate.parent()
    return None


def _name_servers(zone: dns.name.Name, resolvers: Resolvers, timeout: float) -> list[tuple[str, str]]:
    """(name server, address) of every address of every NS host of `zone`."""
    response = _ask_resolvers(resolvers, zone, dns.rdatatype.NS, timeout)
    hosts = sorted({rdata.target for rrset in response.answer
                    if rrset.rdtype == dns.rdatatype.NS and rrset.name == zone for rdata in rrset})
    servers = []
    for host in hosts:
        answer = _ask_resolvers(resolvers, host, dns.rdatatype.A, timeout).answer
        # Any owner: a resolver may answer through a CNAME chain.
        addresses = sorted({rdata.address for rrset in answer if rrset.rdtype == dns.rdatatype.A for rdata in rrset})
        servers.extend((host.to_text(), address) for address in addresses)
    return servers


def _not_authoritative(response: dns.message.Message) -> str | None:
    """Why an answer is not one from an authority for the zone (REFUSED, SERVFAIL, ..., or no AA), or None."""
    rcode = response.rcode()
    if rcode not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
        return f"answers {dns.rcode.to_text(rcode)}"
    if not response.flags & dns.flags.AA:
        return f"answers {dns.rcode.to_text(rcode)} without authority (not AA)"
    return None


def _mismatch(response: dns.message.Message, qname: dns.name.Name, rdtype: int, wanted: list[str],
              at_least: bool = False) -> str | None:
    """What is wrong with an authoritative answer, or None when it serves exactly `wanted` (or, `at_least`,
    every one of `wanted` among others)."""
    rcode = response.rcode()
    served = sorted({_served_text(rdtype, rdata) for rrset in response.answer
                     if rrset.rdtype == rdtype and rrset.name == qname for rdata in rrset})
    if served == wanted or (at_least and wanted and set(wanted) <= set(served)):
        return None
    if not served:
        return f"answers {'NXDOMAIN' if rcode == dns.rcode.NXDOMAIN else 'NODATA'}"
    if not wanted:
        return f"still serves {served}"
    return f"serves {served} not {wanted}"


# --- queries ----------------------------------------------------------------------------------------------

def _ask(address: tuple[str, int], qname: dns.name.Name, rdtype: int, timeout: float,
         recursion: bool) -> dns.message.Message:
    """One question to one server: UDP (EDNS), again over TCP when the answer comes truncated."""
    query = dns.message.make_query(qname, rdtype, use_edns=0, payload=EDNS_PAYLOAD)
    if not recursion:
        query.flags &= ~dns.flags.RD
    host, port = address
    response = dns.query.udp(query, host, port=port, timeout=timeout)
    if response.flags & dns.flags.TC:
        response = dns.query.tcp(query, host, port=port, timeout=timeout)
    return response


def _ask_resolvers(resolvers: Resolvers, qname: dns.name.Name, rdtype: int, timeout: float) -> dns.message.Message:
    """The first answer of the resolvers, in order (the next one on a timeout or error)."""
    failures = []
    for address in resolvers.addresses:
        try:
            return _ask(address, qname, rdtype, timeout, recursion=True)
        except (dns.exception.DNSException, OSError) as error:
            failures.append(f"{_joined(*address)}: {_why(error)}")
    raise _Unanswered(f"no resolver answered {qname.to_text(omit_final_dot=True)} "
                      f"{dns.rdatatype.to_text(rdtype)} ({'; '.join(failures)})")


# --- values and addresses ---------------------------------------------------------------------------------

def _normalized(rdtype: int, value: str) -> str:
    if rdtype == dns.rdatatype.TXT:
        return value
    return value.strip().rstrip(".").lower()


def _served_text(rdtype: int, rdata) -> str:
    if rdtype == dns.rdatatype.TXT:
        return b"".join(rdata.strings).decode("utf-8", "backslashreplace")
    return rdata.to_text().rstrip(".").lower()


def _parse_address(text: str, variable: str) -> tuple[str, int]:
    """"host", "host:port", "[v6]:port" or a bare IPv6 address -> (host, port)."""
    host, port = text, DNS_PORT
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port_text = rest.removeprefix(":") or str(DNS_PORT)
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
    else:
        port_text = str(DNS_PORT)
    try:
        ipaddress.ip_address(host)
        port = int(port_text)
        if not 0 < port < 65536:
            raise ValueError
    except ValueError:
        raise ValueError(f"{variable}: {text!r} is not an IP address with an optional port") from None
    return host, port


def _system_resolvers() -> tuple[tuple[str, int], ...]:
    try:
        system = dns.resolver.Resolver()
    except dns.resolver.NoResolverConfiguration:
        return ()
    return tuple((str(address), system.port) for address in system.nameservers)


def _joined(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _listed(resolvers: Resolvers) -> str:
    return ", ".join(_joined(*address) for address in resolvers.addresses)


def _why(error: BaseException) -> str:
    if isinstance(error, dns.exception.Timeout):
        return "timed out"
    return str(error) or type(error).__name__
