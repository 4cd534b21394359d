"""Huawei Cloud DNS (v2 record sets) as a DnsApi (components/dns/api.py), through `huaweicloudsdkdns`.

Environment (read in the provider process, never stored):
  HUAWEICLOUD_SDK_AK / HUAWEICLOUD_SDK_SK (+ HUAWEICLOUD_SDK_SECURITY_TOKEN)   access key pair (required)
  HUAWEICLOUD_SDK_PROJECT_ID         the region's project; unset, the SDK asks IAM for it (by region) when the
                                     client is built, or, with an endpoint override, PLACEHOLDER_PROJECT_ID is sent
  CERTFLEET_HUAWEICLOUD_DNS_ENDPOINT full URL override (the emulator); default https://dns.<region>.myhuaweicloud.com

Huawei DNS keeps one record set per name and type (reference/dns-apis.md §3.2): names are FQDNs with the
trailing dot, TXT values double-quoted strings of at most 255 characters. A write lists the set first and goes
on only if it is still `current` (canonical values and TTL; else RecordChanged, nothing written), puts the
owner set, then creates the record set (DNS.0312, one created since: RecordChanged, and the owner set is put
back as it was) or updates it (Huawei has no conditional update: the race is narrowed to the calls of one
write). A written set is PENDING_* for a while and may not be changed until it is ACTIVE (DNS.0314): writes
wait for that before and after changing a set, bounded by pending_timeout_seconds and by the run's PROPAGATION
window, and DNS.0314 is retried like throttling (APIGW.0308, 429) and flow control (DNS.0014). Huawei
publishes no request rates for DNS (reference/dns-apis.md §3.5): the client does not pace.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from components.dns.api import (
    PROPAGATION, RecordChanged, RecordSet, RunMemo, Zone, canonical_value, canonical_values, explained, in_zone,
    longest_zone, no_zone_for_name, normalise_name, owner_name, owner_of, owner_value, record_set, require_in_zone,
    same_set, txt_presentation, txt_text, zone_mismatch,
)
from components.dynamic import Clock, wait_for
from components.errors import CertfleetError, CloudError, WaitTimeout
from components.huaweicloud import client as huawei

ENV_PROJECT_ID = "HUAWEICLOUD_SDK_PROJECT_ID"
ENV_ENDPOINT = "CERTFLEET_HUAWEICLOUD_DNS_ENDPOINT"
# Sent as X-Project-Id when an endpoint override has no project id: the emulator's default (it checks none).
PLACEHOLDER_PROJECT_ID = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
TRANSIENT_CODES = ("DNS.0014", "DNS.0314")  # flow control; the set is not in a steady state yet
DENIED_CODES = ("DNS.0013",)
GONE_CODES = ("DNS.0313",)                   # no such record set
EXISTS_CODE = "DNS.0312"                     # a set of this name and type exists already
PERMISSIONS = {  # SDK method -> IAM action (Huawei DNS's permission names)
    "list_public_zones": "dns:zone:list", "show_public_zone": "dns:zone:get",
    "list_record_sets_by_zone": "dns:recordset:list", "show_record_set": "dns:recordset:get",
    "create_record_set": "dns:recordset:create", "update_record_set": "dns:recordset:update",
    "delete_record_set": "dns:recordset:delete",
}
PAGE_SIZE = 500
DESCRIPTION_MAX = 255


class HuaweiDnsApi:
    provider = "huaweicloud"

    def __init__(self, region: str, pending_timeout_seconds: float = 60, clock: type[Clock] = Clock) -> None:
        self.region = region
        self.pending_timeout_seconds = pending_timeout_seconds  # how long a write waits for ACTIVE
        self.clock = clock
        self.zones = RunMemo()

    # --- zones ---

    def find_zone(self, zone_ref: str | None, record_name: str, resource: str) -> Zone:
        from huaweicloudsdkdns.v2 import ShowPublicZoneRequest

        name = normalise_name(record_name)
        if zone_ref:
            got = self.zones.get(("id", zone_ref), lambda: self._call(
                "show_public_zone", resource,
                lambda dns: dns.show_public_zone(ShowPublicZoneRequest(zone_id=zone_ref))))
            zone = Zone(self.provider, got.id, normalise_name(got.name))
            if not in_zone(zone.name, name):
                raise zone_mismatch(self.provider, "dns.show_public_zone", resource, zone, name)
            return zone
        zone = longest_zone(self.zones.get("all", lambda: self._all_zones(resource)), name)
        if zone is None:
            raise no_zone_for_name(self.provider, "dns.list_public_zones", resource, name)
        return zone

    def _all_zones(self, resource: str) -> list[Zone]:
        from huaweicloudsdkdns.v2 import ListPublicZonesRequest

        zones: list[Zone] = []
        while True:
            page = self._call("list_public_zones", resource, lambda dns: dns.list_public_zones(
                ListPublicZonesRequest(type="public", limit=PAGE_SIZE, offset=len(zones))))
            zones += [Zone(self.provider, z.id, normalise_name(z.name)) for z in page.zones or []]
            total = page.metadata.total_count if page.metadata else None
            if len(page.zones or []) < PAGE_SIZE or (total is not None and len(zones) >= total):
                break
        return zones

    def check_access(self, zone: Zone, resource: str) -> None:
        from huaweicloudsdkdns.v2 import ListRecordSetsByZoneRequest

        self._call("list_record_sets_by_zone", resource, lambda dns: dns.list_record_sets_by_zone(
            ListRecordSetsByZoneRequest(zone_id=zone.zone_id, limit=1)))

    # --- records ---

    def read(self, zone: Zone, name: str, rtype: str, resource: str) -> RecordSet | None:
        name = require_in_zone(zone, name, "dns.list_record_sets_by_zone", resource)
        found = self._find(zone, name, rtype, resource)
        if found is None:
            return None
        owner_set = self._find(zone, owner_name(name), "TXT", resource)
        owners = [owner_of(text) for text in _texts(owner_set)] if owner_set else []
        return dataclasses.replace(_as_record_set(name, found), owner=next((o for o in owners if o), None))

    def write(self, zone: Zone, record: RecordSet, owner: str, resource: str,
              current: RecordSet | None) -> None:
        name = require_in_zone(zone, record.name, "dns.create_record_set", resource)
        found = self._find(zone, name, record.type, resource)
        if not same_set(_as_record_set(name, found), current):
            raise RecordChanged(resource, name, record.type, current, self.read(zone, name, record.type, resource))
        owner_before = self._find(zone, owner_name(name), "TXT", resource)
        written = [self._put(zone, owner_name(name), "TXT", [owner_value(owner)], record.ttl, resource, owner_before)]
        try:
            written.append(self._put(zone, name, record.type, list(canonical_values(record.type, record.values)),
                                     record.ttl, resource, found))
        except RecordChanged:
            self._put_back(zone, owner_before, written[0], resource)
            raise
        for recordset_id in written:
            if recordset_id:
                self._wait_steady(zone, recordset_id, resource)

    def delete(self, zone: Zone, current: RecordSet, resource: str) -> None:
        name = require_in_zone(zone, current.name, "dns.delete_record_set", resource)
        found = self._find(zone, name, current.type, resource)
        if found is not None:
            left = [wire for wire in found.records or [] if _canonical(current.type, wire) not in current.values]
            if left:  # values someone else added stay
                self._update(zone, found.id, left, None, resource)
            else:
                self._delete(zone, found.id, resource)
        self.delete_owner(zone, name, resource)

    def delete_owner(self, zone: Zone, name: str, resource: str, owner: str | None = None) -> None:
        name = require_in_zone(zone, name, "dns.delete_record_set", resource)
        owner_set = self._find(zone, owner_name(name), "TXT", resource)
        if owner_set is not None and (owner is None or owner in [owner_of(t) for t in _texts(owner_set)]):
            self._delete(zone, owner_set.id, resource)

    def _put(self, zone: Zone, name: str, rtype: str, values: list[str], ttl: int, resource: str,
             found: Any) -> str | None:
        """Create (`found` None) or update the set `name`/`rtype` to exactly `values` and `ttl`; the id of a set it
        changed. RecordChanged if a set was created since `found` was listed."""
        from huaweicloudsdkdns.v2 import CreateRecordSetRequest, CreateRecordSetRequestBody

        wire = [_wire(rtype, v) for v in values]
        if found is None:
            body = CreateRecordSetRequestBody(name=f"{name}.", type=rtype, records=wire, ttl=ttl,
                                              description=f"certfleet: {resource}"[:DESCRIPTION_MAX])
            try:
                return self._call("create_record_set", resource, lambda dns: dns.create_record_set(
                    CreateRecordSetRequest(zone_id=zone.zone_id, body=body))).id
            except CloudError as err:
                if err.code != EXISTS_CODE:
                    raise
            now = self._find(zone, name, rtype, resource)
            if now is not None and _holds(now, rtype, wire, ttl):
                # Already so (a retry whose first answer was lost, or another resource of the stack writing the
                # same owner record): nothing this call wrote, so nothing it may put back.
                return None
            raise RecordChanged(resource, name, rtype, None, _as_record_set(name, now))
        if _holds(found, rtype, wire, ttl):
            return None
        self._update(zone, found.id, wire, ttl, resource)
        return found.id

    def _put_back(self, zone: Zone, before: Any, written_id: str | None, resource: str) -> None:
        """The owner set as it was `before` a write that was refused (so it names no one who wrote nothing)."""
        if written_id is None:
            return  # unchanged
        if before is None:
            self._delete(zone, written_id, resource)
        else:
            self._update(zone, written_id, list(before.records or []), before.ttl, resource)

    def _update(self, zone: Zone, recordset_id: str, wire: list[str], ttl: int | None, resource: str) -> None:
        from huaweicloudsdkdns.v2 import UpdateRecordSetReq, UpdateRecordSetRequest

        self._wait_steady(zone, recordset_id, resource)
        self._call("update_record_set", resource, lambda dns: dns.update_record_set(UpdateRecordSetRequest(
            zone_id=zone.zone_id, recordset_id=recordset_id, body=UpdateRecordSetReq(records=wire, ttl=ttl))))

    # --- calls ---

    def _find(self, zone: Zone, name: str, rtype: str, resource: str) -> Any:
        """The record set `name`/`rtype`, or None."""
        from huaweicloudsdkdns.v2 import ListRecordSetsByZoneRequest

        page = self._call("list_record_sets_by_zone", resource, lambda dns: dns.list_record_sets_by_zone(
            ListRecordSetsByZoneRequest(zone_id=zone.zone_id, name=f"{name}.", type=rtype, search_mode="equal",
                                        limit=PAGE_SIZE)))
        return next((s for s in page.recordsets or [] if normalise_name(s.name) == name and s.type == rtype), None)

    def _wait_steady(self, zone: Zone, recordset_id: str, resource: str) -> None:
        """Until the set is no longer PENDING_* (or gone), for at most pending_timeout_seconds and within the run's
        PROPAGATION window (a thousand writes wait once, not a thousand times)."""
        from huaweicloudsdkdns.v2 import ShowRecordSetRequest

        def steady() -> bool | None:
            try:
                shown = self._call("show_record_set", resource, lambda dns: dns.show_record_set(
                    ShowRecordSetRequest(zone_id=zone.zone_id, recordset_id=recordset_id)))
            except CloudError as err:
                if err.code in GONE_CODES:
                    return True
                raise
            return None if (shown.status or "").startswith("PENDING") else True

        try:
            wait_for(f"record set {recordset_id} to be ACTIVE", steady, self.pending_timeout_seconds,
                     interval_seconds=5, clock=self.clock, shared=PROPAGATION, first_interval_seconds=0.5)
        except WaitTimeout:
            return  # a change now meets DNS.0314, which is retried; the caller's propagation check decides

    def _delete(self, zone: Zone, recordset_id: str, resource: str) -> None:
        from huaweicloudsdkdns.v2 import DeleteRecordSetRequest

        self._wait_steady(zone, recordset_id, resource)
        try:
            self._call("delete_record_set", resource, lambda dns: dns.delete_record_set(
                DeleteRecordSetRequest(zone_id=zone.zone_id, recordset_id=recordset_id)))
        except CloudError as err:
            if err.code not in GONE_CODES:
                raise

    def _call(self, operation: str, resource: str, send: Callable[[Any], Any]) -> Any:
        config = DnsConfig.from_env(self.region)

        def to_error(err: Exception) -> CloudError:
            code = huawei.error_code(err)
            message = explained(huawei.error_message(err), denied=code in DENIED_CODES,
                                permission=PERMISSIONS.get(operation, f"dns:{operation}"),
                                secrets=(config.ak, config.sk, config.security_token))
            return CloudError("huaweicloud", f"dns.{operation}", resource, code, message)

        return huawei.call(operation, resource, lambda: send(_client(config)), clock=self.clock, service="dns",
                           transient_codes=TRANSIENT_CODES, to_error=to_error)


@dataclass(frozen=True)
class DnsConfig:
    ak: str
    sk: str = field(repr=False)  # secrets never in a repr (tracebacks, logs)
    security_token: str | None = field(repr=False)
    project_id: str | None       # None: the SDK asks IAM for the region's project
    region: str
    endpoint: str
    overridden: bool

    @classmethod
    def from_env(cls, region: str) -> "DnsConfig":
        ak, sk = os.environ.get(huawei.ENV_AK, ""), os.environ.get(huawei.ENV_SK, "")
        if not ak or not sk:
            # Empty keys would make the SDK query ECS metadata; say what is missing instead.
            raise CertfleetError(f"huaweicloud: set {huawei.ENV_AK} and {huawei.ENV_SK} "
                                 f"(Huawei Cloud DNS needs an access key pair)")
        override = os.environ.get(ENV_ENDPOINT) or None
        project_id = os.environ.get(ENV_PROJECT_ID) or (PLACEHOLDER_PROJECT_ID if override else None)
        return cls(ak=ak, sk=sk, security_token=os.environ.get(huawei.ENV_SECURITY_TOKEN) or None,
                   project_id=project_id, region=region,
                   endpoint=override or f"https://dns.{region}.myhuaweicloud.com", overridden=bool(override))


_clients: dict[DnsConfig, Any] = {}
_clients_lock = threading.Lock()


def _client(config: DnsConfig) -> Any:
    """The process's DnsClient for this configuration (SDK clients cannot be pickled into state). Built inside
    a call: without a project id, building asks IAM, and a failure there is that call's CloudError."""
    with _clients_lock:
        if config not in _clients:
            from huaweicloudsdkcore.auth.credentials import BasicCredentials
            from huaweicloudsdkcore.region.region import Region
            from huaweicloudsdkdns.v2 import DnsClient

            credentials = BasicCredentials(config.ak, config.sk, config.project_id)
            if config.security_token:
                credentials = credentials.with_security_token(config.security_token)
            builder = DnsClient.new_builder().with_http_config(huawei.http_config()).with_credentials(credentials)
            if config.project_id:
                builder = builder.with_endpoint(config.endpoint)
            else:
                builder = builder.with_region(Region(config.region, config.endpoint))
            _clients[config] = builder.build()
        return _clients[config]


def _wire(rtype: str, value: str) -> str:
    return txt_presentation(value) if rtype == "TXT" else (f"{value}." if rtype == "CNAME" else value)


def _canonical(rtype: str, wire: str) -> str:
    return canonical_value(rtype, txt_text(wire) if rtype == "TXT" else wire)


def _holds(found: Any, rtype: str, wire: list[str], ttl: int) -> bool:
    return found.ttl == ttl and sorted(_texts(found)) == sorted(_texts_of(rtype, wire))


def _as_record_set(name: str, found: Any) -> RecordSet | None:
    return None if found is None else record_set(name, found.type, found.ttl or 0, _texts(found), None)


def _texts_of(rtype: str, wires: list[str]) -> list[str]:
    return [_canonical(rtype, wire) for wire in wires]


def _texts(found: Any) -> list[str]:
    return _texts_of(found.type, found.records or [])
