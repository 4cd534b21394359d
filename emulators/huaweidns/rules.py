"""Record-set rules of Huawei DNS (shared/reference/dns-apis.md, sections 3.2 and 3.5), as an ordered chain.

Each check takes the proposed record set and the zone's other sets and raises the vendor error; the first
failure is the answer. Names must be FQDNs with the trailing dot inside the zone (emulator choice: a name
without the dot is DNS.0304, where the real service's behaviour is not confirmed); TXT values must be
double-quoted strings of at most 255 characters each, several allowed in one value.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

from emulators.dns.records import ONE_QUOTED, QUOTED_STRINGS
from emulators.huaweidns.exceptions import (
    InvalidRecordSetName, InvalidRecordSetType, InvalidRecordSetValue, InvalidTtl, RecordSetConflict,
)

RECORD_TYPES = ("A", "AAAA", "CNAME", "MX", "TXT", "NS", "SRV", "CAA")
MAX_VALUES = 50
MAX_TTL = 2147483647
_LABEL = re.compile(r"^(\*|[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)$")


@dataclass
class Proposal:
    name: str  # lower-case FQDN
    type: str
    records: list
    ttl: object
    zone_name: str  # with trailing dot
    others: list = field(default_factory=list)  # the zone's other record sets (dicts)


def check_name(p: Proposal) -> None:
    if not p.name.endswith("."):
        raise InvalidRecordSetName(f"Invalid record set name {p.name!r}: a full name ending with a dot is required.")
    if p.name != p.zone_name and not p.name.endswith("." + p.zone_name):
        raise InvalidRecordSetName(f"Invalid record set name {p.name!r}: it must end with the zone name {p.zone_name}.")
    labels = p.name[:-1].split(".")
    if len(p.name) > 254 or not all(_LABEL.match(label) for label in labels) or "*" in labels[1:]:
        raise InvalidRecordSetName(f"Invalid record set name {p.name!r}.")


def check_type(p: Proposal) -> None:
    if p.type not in RECORD_TYPES:
        raise InvalidRecordSetType(f"Invalid record set type {p.type!r}: one of {', '.join(RECORD_TYPES)}.")


def check_values(p: Proposal) -> None:
    if not isinstance(p.records, list) or not 1 <= len(p.records) <= MAX_VALUES \
            or not all(isinstance(v, str) and v for v in p.records):
        raise InvalidRecordSetValue(f"Invalid records: 1 to {MAX_VALUES} non-empty strings are required.")
    if len(set(p.records)) != len(p.records):
        raise InvalidRecordSetValue("Invalid records: duplicate values.")
    for value in p.records:
        _check_value(p.type, value)


def check_ttl(p: Proposal) -> None:
    if isinstance(p.ttl, bool) or not isinstance(p.ttl, int) or not 1 <= p.ttl <= MAX_TTL:
        raise InvalidTtl(p.ttl)


def check_conflict(p: Proposal) -> None:
    # One set per name and type; a CNAME shares its name with nothing (the real DNS.0312 wording).
    for other in p.others:
        if other["name"] == p.name and (other["type"] == p.type or "CNAME" in (other["type"], p.type)):
            raise RecordSetConflict(other["name"], other["type"])


RECORD_SET_CHECKS = (check_name, check_type, check_values, check_ttl, check_conflict)


def run_checks(proposal: Proposal) -> None:
    for check in RECORD_SET_CHECKS:
        check(proposal)


def _check_value(record_type: str, value: str) -> None:
    try:
        if record_type == "A":
            ipaddress.IPv4Address(value)
        elif record_type == "AAAA":
            ipaddress.IPv6Address(value)
    except ValueError:
        raise InvalidRecordSetValue(f"Invalid record value {value!r} for type {record_type}.") from None
    if record_type == "TXT":
        if not QUOTED_STRINGS.fullmatch(value):
            raise InvalidRecordSetValue(f"Invalid TXT record value {value!r}: it must be wrapped in double quotes.")
        if any(len(s) > 255 for s in ONE_QUOTED.findall(value)):
            raise InvalidRecordSetValue("Invalid TXT record value: a quoted string is longer than 255 characters.")
