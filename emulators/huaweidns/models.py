"""State of the Huawei DNS emulator: accounts, public zones, record sets, injected IAM denials, the DNS feed.

Every access key belongs to an account (domain id) and project; a zone belongs to one account and, for any
other account, does not exist (404 DNS.0302). A zone is created (control API) with its default SOA and NS
sets (`default: true`, neither updatable nor deletable). A written set reports PENDING_CREATE /
PENDING_UPDATE and turns ACTIVE on a later read (after `pending_reads` reads that still show it pending);
updating or deleting it while pending is DNS.0314. Accepted changes are pushed at once to the DNS feed
(emulators/dns `DnsFeed`, or None), TXT values in their quoted form.

Not emulated: private zones, lines and weights (/v2.1), tags, batch and status APIs, zone quotas.
"""

from __future__ import annotations

import copy
import uuid

from emulators.core.clock import Clock
from emulators.dns.feed import push
from emulators.huaweidns.exceptions import (
    DefaultRecordSetDelete, DefaultRecordSetUpdate, InvalidRecordSetType, PermissionDenied, RecordSetNotFound,
    RecordSetNotSteady, ZoneNotFound,
)
from emulators.huaweidns.rules import Proposal, run_checks

DEFAULT_DOMAIN_ID = "d0m41n1dd45"
DEFAULT_PROJECT_ID = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
NAME_SERVERS = ["ns1.huaweicloud-dns.com.", "ns1.huaweicloud-dns.cn.", "ns1.huaweicloud-dns.net.",
                "ns1.huaweicloud-dns.org."]
ZONE_EMAIL = "hwclouds.cs@huawei.com"
# The IAM action each operation needs (names of Huawei DNS's fine-grained policies).
IAM_ACTIONS = {
    "ShowPublicZone": "dns:zone:get",
    "CreateRecordSet": "dns:recordset:create",
    "ListRecordSetsByZone": "dns:recordset:list",
    "ShowRecordSet": "dns:recordset:get",
    "UpdateRecordSet": "dns:recordset:update",
    "DeleteRecordSet": "dns:recordset:delete",
}


class HuaweiDnsBackend:
    def __init__(self, clock: Clock, credentials: dict[str, str], domain_id: str = DEFAULT_DOMAIN_ID,
                 project_id: str = DEFAULT_PROJECT_ID, feed=None, seed_zones: tuple[str, ...] = (),
                 pending_reads: int = 0):
        self.clock = clock
        self.feed = feed
        self.configured = {ak: {"sk": sk, "domain_id": domain_id, "project_id": project_id}
                           for ak, sk in credentials.items()}
        self.default_domain_id = domain_id
        self.seed_zones = tuple(seed_zones)
        self.default_pending_reads = pending_reads
        self.reset()

    # --- persistence ---

    def reset(self) -> None:
        for zone in list(getattr(self, "zones", {}).values()):
            self._feed("delete_zone", zone["name"])
        self.access_keys = copy.deepcopy(self.configured)
        self.zones: dict[str, dict] = {}
        self.record_sets: dict[str, dict] = {}
        self.denials: list[dict] = []
        self.settings = {"pending_reads": self.default_pending_reads}
        for name in self.seed_zones:
            self.add_zone(name, self.default_domain_id)

    def to_state(self) -> dict:
        return {"access_keys": self.access_keys, "zones": self.zones, "record_sets": self.record_sets,
                "denials": self.denials, "settings": self.settings}

    def load_state(self, state: dict) -> None:
        for key in ("access_keys", "zones", "record_sets", "denials", "settings"):
            setattr(self, key, state[key])
        self.resync_feed()

    # --- accounts, zones, denials (control API) ---

    def account_of(self, access_key: str) -> dict:
        return self.access_keys[access_key]

    def add_access_key(self, ak: str, sk: str, domain_id: str, project_id: str | None = None) -> None:
        if not ak or not sk or not domain_id:
            raise ValueError("ak, sk and domain_id are required")
        self.access_keys[ak] = {"sk": sk, "domain_id": domain_id, "project_id": project_id or uuid.uuid4().hex}

    def add_zone(self, name: str, domain_id: str) -> dict:
        name = name.strip().lower().rstrip(".") + "."
        for zone in self.zones.values():
            if zone["name"] == name:
                if zone["domain_id"] != domain_id:
                    raise ValueError(f"{name} belongs to account {zone['domain_id']}")
                return zone
        project_id = next((k["project_id"] for k in self.access_keys.values() if k["domain_id"] == domain_id),
                          DEFAULT_PROJECT_ID)
        now = self._now()
        zone = {"id": _new_id(), "name": name, "description": None, "email": ZONE_EMAIL, "zone_type": "public",
                "ttl": 300, "serial": 1, "status": "ACTIVE", "pool_id": "ff8080825ce479fe015ceca527b90001",
                "project_id": project_id, "created_at": now, "updated_at": now, "masters": [],
                "enterprise_project_id": "0", "domain_id": domain_id}
        self.zones[zone["id"]] = zone
        self._feed("put_zone", name)
        soa = f"{NAME_SERVERS[0]} {ZONE_EMAIL.replace('.', chr(92) + '.', 1)}. 1 7200 900 1209600 300"
        for record_type, records in (("SOA", [soa]), ("NS", list(NAME_SERVERS))):
            self._store(zone, name, record_type, records, 300 if record_type == "SOA" else 172800,
                        description=None, default=True, status="ACTIVE")
        return zone

    def delete_zone(self, zone_id: str) -> None:
        zone = self.zones.pop(zone_id, None)
        if zone is None:
            raise KeyError(zone_id)
        self.record_sets = {i: s for i, s in self.record_sets.items() if s["zone_id"] != zone_id}
        self._feed("delete_zone", zone["name"])

    def deny(self, zone_id: str, operation: str, ak: str | None) -> dict:
        if zone_id not in self.zones:
            raise KeyError(zone_id)
        if operation not in IAM_ACTIONS and operation != "*":
            raise ValueError(f"operation must be one of {sorted(IAM_ACTIONS)} or *")
        denial = {"zone_id": zone_id, "operation": operation, "ak": ak}
        self.denials.append(denial)
        return denial

    # --- checks ---

    def own_zone(self, zone_id: str, access_key: str, operation: str) -> dict:
        zone = self.zones.get(zone_id)
        if zone is None or zone["domain_id"] != self.account_of(access_key)["domain_id"]:
            raise ZoneNotFound(zone_id)
        for denial in self.denials:
            if denial["zone_id"] == zone_id and denial["operation"] in (operation, "*") \
                    and denial["ak"] in (None, access_key):
                raise PermissionDenied(IAM_ACTIONS[operation], zone["name"])
        return zone

    def own_record_set(self, zone: dict, record_set_id: str) -> dict:
        record_set = self.record_sets.get(record_set_id)
        if record_set is None or record_set["zone_id"] != zone["id"]:
            raise RecordSetNotFound()
        return record_set

    # --- operations ---

    def zones_of(self, access_key: str) -> list[dict]:
        domain_id = self.account_of(access_key)["domain_id"]
        return [z for z in self.zones.values() if z["domain_id"] == domain_id]

    def create(self, zone: dict, body: dict) -> dict:
        proposal = Proposal(name=_lower(body.get("name")), type=str(body.get("type") or "").upper(),
                            records=body.get("records"), ttl=body.get("ttl", 300), zone_name=zone["name"],
                            others=self.sets_of(zone))
        run_checks(proposal)
        record_set = self._store(zone, proposal.name, proposal.type, proposal.records, proposal.ttl,
                                 body.get("description"), default=False, status="PENDING_CREATE")
        self._push(zone, proposal.name, proposal.type)
        return record_set

    def update(self, zone: dict, record_set: dict, body: dict) -> dict:
        if record_set["default"]:
            raise DefaultRecordSetUpdate()
        self._check_steady(record_set)
        if body.get("type") not in (None, record_set["type"]):
            raise InvalidRecordSetType(f"The type of a record set cannot change ({record_set['type']}).")
        proposal = Proposal(name=_lower(body.get("name") or record_set["name"]), type=record_set["type"],
                            records=body["records"] if body.get("records") is not None else record_set["records"],
                            ttl=body["ttl"] if body.get("ttl") is not None else record_set["ttl"],
                            zone_name=zone["name"],
                            others=[s for s in self.sets_of(zone) if s["id"] != record_set["id"]])
        run_checks(proposal)
        old_name = record_set["name"]
        record_set.update(name=proposal.name, records=list(proposal.records), ttl=proposal.ttl,
                          update_at=self._now(), status="PENDING_UPDATE",
                          pending_reads_left=self.settings["pending_reads"])
        if "description" in body and body["description"] is not None:
            record_set["description"] = body["description"]
        self._push(zone, old_name, record_set["type"])
        if proposal.name != old_name:
            self._push(zone, proposal.name, record_set["type"])
        return record_set

    def delete(self, zone: dict, record_set: dict) -> dict:
        if record_set["default"]:
            raise DefaultRecordSetDelete()
        self._check_steady(record_set)
        del self.record_sets[record_set["id"]]
        self._push(zone, record_set["name"], record_set["type"])
        return {**record_set, "status": "PENDING_DELETE"}

    def read(self, record_set: dict) -> dict:
        """What a read shows now; a pending set turns ACTIVE after `pending_reads` reads."""
        shown = dict(record_set)
        if record_set["status"].startswith("PENDING_"):
            if record_set["pending_reads_left"] > 0:
                record_set["pending_reads_left"] -= 1
            else:
                record_set["status"] = shown["status"] = "ACTIVE"
        return shown

    def sets_of(self, zone: dict) -> list[dict]:
        return [s for s in self.record_sets.values() if s["zone_id"] == zone["id"]]

    def update_settings(self, values: dict) -> dict:
        unknown = set(values) - set(self.settings)
        if unknown:
            raise ValueError(f"unknown settings: {sorted(unknown)}")
        if not isinstance(values.get("pending_reads", 0), int) or values.get("pending_reads", 0) < 0:
            raise ValueError("pending_reads must be an integer >= 0")
        self.settings.update(values)
        return self.settings

    # --- the DNS feed ---

    def resync_feed(self) -> None:
        for zone in self.zones.values():
            self._feed("put_zone", zone["name"])
            for name, record_type in sorted({(s["name"], s["type"]) for s in self.sets_of(zone)}):
                self._push(zone, name, record_type)

    def _push(self, zone: dict, name: str, record_type: str) -> None:
        if record_type in ("SOA", "NS") and name == zone["name"]:
            return  # the DNS server serves its own apex SOA and NS
        found = [s for s in self.sets_of(zone) if (s["name"], s["type"]) == (name, record_type)]
        values = [v for s in found for v in s["records"]]  # TXT stays quoted: the DNS server reads that form
        ttl = found[0]["ttl"] if found else 300
        self._feed("put_rrset", zone["name"], name, record_type, ttl, values)

    def _feed(self, method: str, *args) -> None:
        push(self.feed, "huaweidns", method, *args)

    def _store(self, zone, name, record_type, records, ttl, description, default, status) -> dict:
        now = self._now()
        record_set = {"id": _new_id(), "name": name, "description": description, "zone_id": zone["id"],
                      "zone_name": zone["name"], "type": record_type, "ttl": ttl, "records": list(records),
                      "create_at": now, "update_at": None, "status": status, "default": default,
                      "project_id": zone["project_id"], "pending_reads_left": self.settings["pending_reads"]}
        self.record_sets[record_set["id"]] = record_set
        return record_set

    def _check_steady(self, record_set: dict) -> None:
        if record_set["status"] != "ACTIVE":
            raise RecordSetNotSteady(record_set["status"])

    def _now(self) -> str:
        return self.clock.now().strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]


def _lower(value) -> str:
    return value.strip().lower() if isinstance(value, str) else ""


def _new_id() -> str:
    return "ff8080" + uuid.uuid4().hex[:26]  # 32 hex digits like Huawei's ids
