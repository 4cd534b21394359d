"""Alibaba Cloud DNS (Alidns 2015-01-09) as a DnsApi (components/dns/api.py), through
`alibabacloud-alidns20150109`.

Environment (read in the provider process, never stored):
  ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET (+ ALIBABA_CLOUD_SECURITY_TOKEN)   as for CAS (components/alicloud/client.py)
  CERTFLEET_ALIDNS_ENDPOINT    host:port override (the emulator); default alidns.aliyuncs.com, the central
                               endpoint that serves every domain of the account (a region changes nothing here:
                               which regional hosts exist is not confirmed, reference/dns-apis.md §2.1)
  CERTFLEET_ALIDNS_PROTOCOL    https (default) or http (the emulator)

Alidns keeps one record per value (reference/dns-apis.md §2.3): a record set here is every record of one RR
and type. RR is relative to the domain (`@` = apex), TXT values are raw text (no quotes). A write lists the
set first and goes on only if it is still `current` (canonical values and TTL; else RecordChanged, nothing
written: Alidns has no conditional write, so this narrows the race to the calls of one write). Then it puts
the owner record, then updates records whose TTL is off, turns extra records into missing values (an update
keeps the record count and never leaves the name empty), adds what is still missing and deletes what is left
over. Record ids are needed for all of that, and RecordSet carries none: write and delete list the records
(one DescribeDomainRecords each for the set and the owner record).

Retries (components/alicloud/client.call): Throttling*, 5xx and transport errors, and LastOperationNotFinished.
Rates (api-alidns-2015-01-09-quota, reference/dns-apis.md §2.4): Add/Update/DeleteDomainRecord 60/s,
DescribeDomainRecords 100/s per account: far above what one `pulumi up` sends, so the client does not pace.
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Any, Callable

from components.alicloud import client as alicloud
from components.dns.api import (
    RecordChanged, RecordSet, RunMemo, Zone, canonical_value, canonical_values, explained, in_zone, longest_zone,
    no_zone_for_name, normalise_name, owner_name, owner_of, owner_value, record_set, require_in_zone, same_set,
    zone_mismatch,
)
from components.dynamic import Clock
from components.errors import CloudError

ENV_ENDPOINT = "CERTFLEET_ALIDNS_ENDPOINT"
ENV_PROTOCOL = "CERTFLEET_ALIDNS_PROTOCOL"
DEFAULT_ENDPOINT = "alidns.aliyuncs.com"
ALSO_RETRIED = ("LastOperationNotFinished",)     # Alidns' own "a change of this domain is still being applied"
DENIED_CODES = ("Forbidden.RAM", "NoPermission", "Forbidden.NoPermission")
GONE_CODES = ("DomainRecordNotBelongToUser",)    # a deleted (or never ours) record id
RECORD_PAGE_SIZE = 500
DOMAIN_PAGE_SIZE = 100
APEX = "@"


class AlidnsApi:
    provider = "alidns"

    def __init__(self, region: str | None = None, clock: type[Clock] = Clock) -> None:
        self.region = region  # unused: one endpoint serves every domain (module docstring)
        self.clock = clock
        self.zones = RunMemo()

    # --- zones ---

    def find_zone(self, zone_ref: str | None, record_name: str, resource: str) -> Zone:
        name = normalise_name(record_name)
        if zone_ref:
            zone = Zone(self.provider, normalise_name(zone_ref), normalise_name(zone_ref))
            # InvalidDomainName.NoExist / IncorrectDomainUser if not the account's
            self.zones.get(("domain", zone.zone_id), lambda: self.check_access(zone, resource))
            if not in_zone(zone.name, name):
                raise zone_mismatch(self.provider, "alidns.DescribeDomainRecords", resource, zone, name)
            return zone
        zone = longest_zone(self.zones.get("all", lambda: self._all_zones(resource)), name)
        if zone is None:
            raise no_zone_for_name(self.provider, "alidns.DescribeDomains", resource, name)
        return zone

    def _all_zones(self, resource: str) -> list[Zone]:
        zones, page_number = [], 1
        while True:
            body = self._call("DescribeDomains", resource, lambda sdk, m: sdk.describe_domains(
                m.DescribeDomainsRequest(page_number=page_number, page_size=DOMAIN_PAGE_SIZE)))
            domains = body.domains.domain if body.domains and body.domains.domain else []
            zones += [Zone(self.provider, normalise_name(d.domain_name), normalise_name(d.domain_name))
                      for d in domains]
            if not domains or len(zones) >= (body.total_count or 0):
                break
            page_number += 1
        return zones

    def check_access(self, zone: Zone, resource: str) -> None:
        self._call("DescribeDomainRecords", resource, lambda sdk, m: sdk.describe_domain_records(
            m.DescribeDomainRecordsRequest(domain_name=zone.zone_id, page_size=1)))

    # --- records ---

    def read(self, zone: Zone, name: str, rtype: str, resource: str) -> RecordSet | None:
        name = require_in_zone(zone, name, "alidns.DescribeDomainRecords", resource)
        found = _as_record_set(name, rtype, self._records(zone, name, rtype, resource))
        if found is None:
            return None
        owners = [owner_of(r.value) for r in self._records(zone, owner_name(name), "TXT", resource)]
        return dataclasses.replace(found, owner=next((o for o in owners if o), None))

    def write(self, zone: Zone, record: RecordSet, owner: str, resource: str,
              current: RecordSet | None) -> None:
        name = require_in_zone(zone, record.name, "alidns.AddDomainRecord", resource)
        found = self._records(zone, name, record.type, resource)
        if not same_set(_as_record_set(name, record.type, found), current):
            raise RecordChanged(resource, name, record.type, current, self.read(zone, name, record.type, resource))
        self._converge(zone, owner_name(name), "TXT", [owner_value(owner)], record.ttl, resource)
        self._converge(zone, name, record.type, list(canonical_values(record.type, record.values)), record.ttl,
                       resource, found)

    def delete(self, zone: Zone, current: RecordSet, resource: str) -> None:
        name = require_in_zone(zone, current.name, "alidns.DeleteDomainRecord", resource)
        for found in self._records(zone, name, current.type, resource):
            if canonical_value(current.type, found.value) in current.values:
                self._delete(found.record_id, resource)
        self.delete_owner(zone, name, resource)

    def delete_owner(self, zone: Zone, name: str, resource: str, owner: str | None = None) -> None:
        name = require_in_zone(zone, name, "alidns.DeleteDomainRecord", resource)
        for found in self._records(zone, owner_name(name), "TXT", resource):
            if owner is None or owner_of(found.value) == owner:
                self._delete(found.record_id, resource)

    def _converge(self, zone: Zone, name: str, rtype: str, values: list[str], ttl: int, resource: str,
                  records: list[Any] | None = None) -> None:
        """Make the records of `name`/`rtype` (`records`, listed if not given) exactly `values`, each with `ttl`."""
        rr = relative_name(zone, name)
        wanted = {canonical_value(rtype, v): v for v in values}
        kept, extra = {}, []
        for found in self._records(zone, name, rtype, resource) if records is None else records:
            key = canonical_value(rtype, found.value)
            if key in wanted and key not in kept:
                kept[key] = found
            else:
                extra.append(found)
        for found in kept.values():
            if found.ttl != ttl:
                self._update(found.record_id, rr, rtype, found.value, ttl, resource)
        for key, value in wanted.items():
            if key in kept:
                continue
            if extra:
                self._update(extra.pop(0).record_id, rr, rtype, value, ttl, resource)
            else:
                self._add(zone, rr, rtype, value, ttl, resource)
        for found in extra:
            self._delete(found.record_id, resource)

    # --- calls ---

    def _records(self, zone: Zone, name: str, rtype: str, resource: str) -> list[Any]:
        """Every record of `name` and `rtype` (RR compared exactly here too: the filter's exactness is the
        service's)."""
        rr, found, page_number = relative_name(zone, name), [], 1
        while True:
            body = self._call("DescribeDomainRecords", resource, lambda sdk, m: sdk.describe_domain_records(
                m.DescribeDomainRecordsRequest(domain_name=zone.zone_id, rrkey_word=rr, type=rtype,
                                               search_mode="COMBINATION", page_number=page_number,
                                               page_size=RECORD_PAGE_SIZE)))
            page = body.domain_records.record if body.domain_records and body.domain_records.record else []
            found += [r for r in page if (r.rr or "").lower() == rr and (r.type or "").upper() == rtype]
            if len(page) < RECORD_PAGE_SIZE or page_number * RECORD_PAGE_SIZE >= (body.total_count or 0):
                return found
            page_number += 1

    def _add(self, zone: Zone, rr: str, rtype: str, value: str, ttl: int, resource: str) -> None:
        try:
            self._call("AddDomainRecord", resource, lambda sdk, m: sdk.add_domain_record(m.AddDomainRecordRequest(
                domain_name=zone.zone_id, rr=rr, type=rtype, value=value, ttl=ttl)))
        except CloudError as err:
            if err.code != "DomainRecordDuplicate":  # there already (a retry after a lost answer, or a race)
                raise

    def _update(self, record_id: str, rr: str, rtype: str, value: str, ttl: int, resource: str) -> None:
        self._call("UpdateDomainRecord", resource, lambda sdk, m: sdk.update_domain_record(
            m.UpdateDomainRecordRequest(record_id=record_id, rr=rr, type=rtype, value=value, ttl=ttl)))

    def _delete(self, record_id: str, resource: str) -> None:
        try:
            self._call("DeleteDomainRecord", resource, lambda sdk, m: sdk.delete_domain_record(
                m.DeleteDomainRecordRequest(record_id=record_id)))
        except CloudError as err:
            if err.code not in GONE_CODES:
                raise

    def _call(self, action: str, resource: str, send: Callable[[Any, Any], Any]) -> Any:
        config = _config()
        sdk = _client(config)
        from alibabacloud_alidns20150109 import models

        def to_error(err: Exception) -> CloudError:
            code = alicloud.error_code(err)
            message = explained(alicloud.error_message(err), denied=code in DENIED_CODES,
                                permission=f"alidns:{action}",
                                secrets=(config.access_key_id, config.access_key_secret, config.security_token))
            return CloudError("alicloud", f"alidns.{action}", resource, code, message)

        return alicloud.call(action, resource, lambda: send(sdk, models).body, clock=self.clock, service="alidns",
                             also_retried=ALSO_RETRIED, to_error=to_error)


def _as_record_set(name: str, rtype: str, records: list[Any]) -> RecordSet | None:
    """The records of one RR and type as one set (its TTL the lowest), None if there are none."""
    if not records:
        return None
    return record_set(name, rtype, min(r.ttl for r in records), [r.value for r in records], None)


def relative_name(zone: Zone, name: str) -> str:
    """Alidns' RR: `name` relative to the domain, `@` for the apex."""
    return APEX if name == zone.name else name[:-(len(zone.name) + 1)]


def _config() -> alicloud.Config:
    return alicloud.Config.from_env(endpoint_env=ENV_ENDPOINT, protocol_env=ENV_PROTOCOL,
                                    default_endpoint=DEFAULT_ENDPOINT, product="Alibaba Cloud DNS")


_clients: dict[alicloud.Config, Any] = {}
_clients_lock = threading.Lock()


def _client(config: alicloud.Config) -> Any:
    """The process's Alidns client for this configuration (SDK clients cannot be pickled into state)."""
    with _clients_lock:
        if config not in _clients:
            from alibabacloud_alidns20150109.client import Client
            from alibabacloud_tea_openapi.models import Config as SdkConfig

            _clients[config] = Client(SdkConfig(
                access_key_id=config.access_key_id, access_key_secret=config.access_key_secret,
                security_token=config.security_token, endpoint=config.endpoint, protocol=config.protocol))
        return _clients[config]
