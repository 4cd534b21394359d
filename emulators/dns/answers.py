"""How the server answers one query from the ZoneStore, as an authoritative-only server does.

- a name outside every zone: REFUSED (no recursion is offered; RA is never set);
- the rrset asked for: the answer, AA set;
- a CNAME at the name (other type asked): the CNAME, then its target's answer when the target lies in
  one of the store's zones (chains followed up to MAX_CHAIN links, loops stopped); the RCODE is that of
  the last name looked up (RFC 6604);
- the name exists (or is an empty non-terminal) without that type: NODATA = NOERROR, empty answer, the
  zone's SOA in the authority section; no such name: NXDOMAIN with the SOA. The SOA's TTL there is
  min(SOA TTL, SOA minimum) (RFC 2308).
Not served: wildcard synthesis, delegations (NS below the apex are data only), zone transfers, DNSSEC.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from emulators.dns.zones import Zone, ZoneStore

MAX_CHAIN = 8
EDNS_PAYLOAD = 1232  # the DNS flag day 2020 default
REFUSED_TYPES = (dns.rdatatype.AXFR, dns.rdatatype.IXFR)


@dataclass
class Resolution:
    rcode: int
    authoritative: bool
    answer: list[dns.rrset.RRset] = field(default_factory=list)
    authority: list[dns.rrset.RRset] = field(default_factory=list)


def resolve(store: ZoneStore, qname: dns.name.Name, qtype: int) -> Resolution:
    zone = store.zone_for(qname)
    if zone is None:
        return Resolution(dns.rcode.REFUSED, authoritative=False)
    result = Resolution(dns.rcode.NOERROR, authoritative=True)
    name, seen = qname, set()
    while True:
        found = zone.at(name) if qtype == dns.rdatatype.ANY else [r for r in [zone.get(name, qtype)] if r]
        if found:
            result.answer.extend(found)
            return result
        cname = zone.get(name, dns.rdatatype.CNAME)
        if cname is not None and qtype != dns.rdatatype.CNAME:
            result.answer.append(cname)
            seen.add(name)
            target = cname[0].target
            next_zone = store.zone_for(target)
            if next_zone is None or target in seen or len(seen) >= MAX_CHAIN:
                return result
            zone, name = next_zone, target
            continue
        result.rcode = dns.rcode.NOERROR if name in zone.names else dns.rcode.NXDOMAIN
        result.authority.append(_negative_soa(zone))
        return result


def respond(store: ZoneStore, query: dns.message.Message) -> dns.message.Message:
    response = dns.message.make_response(query, our_payload=EDNS_PAYLOAD)
    response.flags &= ~dns.flags.RA
    if query.opcode() != dns.opcode.QUERY:
        response.set_rcode(dns.rcode.NOTIMP)
        return response
    if len(query.question) != 1:
        response.set_rcode(dns.rcode.FORMERR)
        return response
    question = query.question[0]
    if question.rdclass != dns.rdataclass.IN or question.rdtype in REFUSED_TYPES:
        response.set_rcode(dns.rcode.REFUSED)
        return response
    result = resolve(store, question.name, question.rdtype)
    response.set_rcode(result.rcode)
    if result.authoritative:
        response.flags |= dns.flags.AA
    # Owner names are answered as asked (case preserved, as resolvers expect), data as stored.
    response.answer = [_renamed(rrset, question.name) for rrset in result.answer]
    response.authority = result.authority
    return response


def _negative_soa(zone: Zone) -> dns.rrset.RRset:
    soa = zone.soa()
    negative = dns.rrset.RRset(soa.name, soa.rdclass, soa.rdtype)
    negative.update(soa)
    negative.ttl = min(soa.ttl, soa[0].minimum)
    return negative


def _renamed(rrset: dns.rrset.RRset, qname: dns.name.Name) -> dns.rrset.RRset:
    if rrset.name != qname or rrset.name.to_text() == qname.to_text():
        return rrset
    copy = dns.rrset.RRset(qname, rrset.rdclass, rrset.rdtype)
    copy.update(rrset)
    return copy
