"""ZoneStore: the DNS emulator's zones, shared by the control API, the DNS-API emulators and the server.

Thread-safe: writers hold a lock and publish a new immutable `Zone` (copy on write), so the DNS server
reads a consistent zone without locking while updates go on. Every change bumps the zone's SOA serial.

The SOA and the apex NS rrset are the server's own (they name `ns1.<zone>`, with an A record 127.0.0.1
in the zone as glue) and cannot be set; every other rrset is set whole with `put_rrset` (empty values =
delete), as Route 53's UPSERT does. Names are case-insensitive and stored lower-case.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from emulators.dns.exceptions import InvalidRecord, NoSuchZone
from emulators.dns.records import build_rrset, parse_name, parse_type

SERVER_ADDRESS = "127.0.0.1"
NAME_SERVER_LABEL = "ns1"
SOA_TTL = 60
NS_TTL = 3600
GLUE_TTL = 3600
# refresh, retry, expire, minimum (= negative-answer TTL, kept short for tests and local runs)
SOA_TIMERS = "3600 600 86400 60"

RRsetKey = tuple[dns.name.Name, int]


@dataclass(frozen=True)
class Zone:
    """One published version of a zone. Never mutated: a change publishes a new Zone."""

    origin: dns.name.Name
    serial: int
    rrsets: dict[RRsetKey, dns.rrset.RRset]  # includes the server's SOA and apex NS
    values: dict[RRsetKey, list[str]]  # the values as they were set (rrsets the server owns excluded)
    names: frozenset = field(default_factory=frozenset)  # owner names and the empty non-terminals above them

    @property
    def name(self) -> str:
        return self.origin.to_text()

    def get(self, name: dns.name.Name, rdtype: int) -> dns.rrset.RRset | None:
        return self.rrsets.get((name, rdtype))

    def at(self, name: dns.name.Name) -> list[dns.rrset.RRset]:
        return [rrset for (owner, _), rrset in sorted(self.rrsets.items(), key=_order) if owner == name]

    def soa(self) -> dns.rrset.RRset:
        return self.rrsets[(self.origin, dns.rdatatype.SOA)]

    def describe(self) -> dict:
        rrsets = []
        for key, rrset in sorted(self.rrsets.items(), key=_order):
            values = self.values.get(key, [rdata.to_text() for rdata in rrset])
            rrsets.append({"name": key[0].to_text(), "type": dns.rdatatype.to_text(key[1]), "ttl": rrset.ttl,
                           "values": list(values), "managed": key not in self.values})
        return {"name": self.name, "serial": self.serial, "name_servers": [_name_server(self.origin).to_text()],
                "rrsets": rrsets}


class ZoneStore:
    """put_zone / delete_zone / put_rrset / get_zone / zones, plus `zone_for` for the DNS server.

    Also the emulators' `Backend` (reset, to_state, load_state) for the core server's persistence."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._zones: dict[dns.name.Name, Zone] = {}

    # --- the operations the control API and DnsFeed share ---

    def put_zone(self, zone: str) -> dict:
        """Create the zone (SOA, NS, glue) if missing; an existing zone is kept as it is."""
        origin = parse_name(zone)
        if origin == dns.name.root:
            raise InvalidRecord("the root zone cannot be served")
        with self._lock:
            if origin not in self._zones:
                glue = (_name_server(origin), dns.rdatatype.A)
                self._publish(origin, 1, {glue: [SERVER_ADDRESS]}, {glue: GLUE_TTL})
            return self._zones[origin].describe()

    def delete_zone(self, zone: str) -> None:
        origin = parse_name(zone)
        with self._lock:
            if origin not in self._zones:
                raise NoSuchZone(origin.to_text())
            self._zones = {name: zone for name, zone in self._zones.items() if name != origin}

    def put_rrset(self, zone: str, name: str, rdtype: str, ttl: int, values: list[str]) -> Zone:
        """Replace the rrset `name`/`rdtype` of `zone` by `values` (empty = delete it); returns the new Zone.

        Only the changed rrset and the SOA are rebuilt: the other rrsets are immutable and shared."""
        origin = parse_name(zone)
        owner = parse_name(name)
        type_code = parse_type(rdtype)
        if not owner.is_subdomain(origin):
            raise InvalidRecord(f"{owner} is not in zone {origin}")
        if owner == origin and type_code == dns.rdatatype.NS:
            raise InvalidRecord("the apex NS rrset is the server's own")
        rrset = build_rrset(owner, type_code, ttl, values) if values else None  # validate before the lock
        with self._lock:
            current = self._zones.get(origin)
            if current is None:
                raise NoSuchZone(origin.to_text())
            key = (owner, type_code)
            rrsets, values_by_key = dict(current.rrsets), dict(current.values)
            if rrset is not None:
                rrsets[key], values_by_key[key] = rrset, list(values)
                names = current.names | _with_ancestors(origin, [owner])
            else:
                if key in values_by_key:
                    del values_by_key[key], rrsets[key]
                names = _with_ancestors(origin, [owner for owner, _ in rrsets])
            serial = current.serial + 1
            rrsets[(origin, dns.rdatatype.SOA)] = _soa(origin, serial)
            return self._set(Zone(origin, serial, rrsets, values_by_key, names))

    def get_zone(self, zone: str) -> dict:
        origin = parse_name(zone)
        current = self._zones.get(origin)
        if current is None:
            raise NoSuchZone(origin.to_text())
        return current.describe()

    def zones(self) -> list[str]:
        return sorted(origin.to_text() for origin in self._zones)

    # --- for the DNS server ---

    def zone_for(self, name: dns.name.Name) -> Zone | None:
        """The longest zone containing `name`, as published now (safe to read without the lock)."""
        zones = self._zones
        candidate = name
        if not candidate.is_absolute():
            return None
        while True:
            zone = zones.get(candidate)
            if zone is not None:
                return zone
            if candidate == dns.name.root:
                return None
            candidate = candidate.parent()

    # --- Backend (persistence, reset) ---

    def reset(self) -> None:
        with self._lock:
            self._zones = {}

    def to_state(self) -> dict:
        zones = {}
        for origin, zone in sorted(self._zones.items()):
            zones[origin.to_text()] = {
                "serial": zone.serial,
                "rrsets": [{"name": key[0].to_text(), "type": dns.rdatatype.to_text(key[1]),
                            "ttl": zone.rrsets[key].ttl, "values": values}
                           for key, values in sorted(zone.values.items(), key=_order)],
            }
        return {"zones": zones}

    def load_state(self, state: dict) -> None:
        with self._lock:
            self._zones = {}
            for zone_name, zone in state.get("zones", {}).items():
                origin = parse_name(zone_name)
                values, ttls = {}, {}
                for rrset in zone["rrsets"]:
                    key = (parse_name(rrset["name"]), parse_type(rrset["type"]))
                    values[key], ttls[key] = rrset["values"], rrset["ttl"]
                self._publish(origin, zone["serial"], values, ttls)

    def _publish(self, origin: dns.name.Name, serial: int, values: dict[RRsetKey, list[str]],
                 ttls: dict[RRsetKey, int]) -> None:
        """Build a whole new Zone from its values and publish it; the caller holds the lock."""
        rrsets = {key: build_rrset(key[0], key[1], ttls[key], value) for key, value in values.items()}
        rrsets[(origin, dns.rdatatype.SOA)] = _soa(origin, serial)
        rrsets[(origin, dns.rdatatype.NS)] = dns.rrset.from_text(origin, NS_TTL, dns.rdataclass.IN,
                                                                 dns.rdatatype.NS, _name_server(origin).to_text())
        names = _with_ancestors(origin, [owner for owner, _ in rrsets])
        self._set(Zone(origin, serial, rrsets, values, names))

    def _set(self, zone: Zone) -> Zone:
        """Publish `zone`; the caller holds the lock. Replacing the dict keeps readers safe."""
        zones = dict(self._zones)
        zones[zone.origin] = zone
        self._zones = zones
        return zone


def _soa(origin: dns.name.Name, serial: int) -> dns.rrset.RRset:
    return dns.rrset.from_text(origin, SOA_TTL, dns.rdataclass.IN, dns.rdatatype.SOA,
                               f"{_name_server(origin)} hostmaster.{origin} {serial} {SOA_TIMERS}")


def _with_ancestors(origin: dns.name.Name, owners) -> frozenset:
    """The owner names and every name between them and the zone apex (the empty non-terminals)."""
    names = set()
    for owner in owners:
        while owner.is_subdomain(origin) and owner not in names:
            names.add(owner)
            if owner == origin:
                break
            owner = owner.parent()
    return frozenset(names)


def _name_server(origin: dns.name.Name) -> dns.name.Name:
    return dns.name.from_text(NAME_SERVER_LABEL, origin=origin)


def _order(item) -> tuple:
    (name, rdtype) = item[0]
    return (name, rdtype)
