"""AWS Route 53 as a DnsApi (components/dns/api.py), through boto3.

The client is components/aws/clients.client("route53", "us-east-1"): Route 53 is global and signs in
us-east-1; the client honours the normal AWS environment (AWS_ENDPOINT_URL included), paces itself at the
rates in REQUESTS_PER_SECOND and retries throttling and PriorRequestNotComplete (a change to the zone still
being applied) with botocore's standard retries.

Route 53 keeps one record set per name and type and changes it in batches that apply all or none
(reference/dns-apis.md §1.2). A write is ONE batch that Route 53 itself makes conditional: CREATE of the set
when the caller read none (rejected if one exists), else DELETE of exactly what the caller read (rejected if
the set differs now) and CREATE; and an UPSERT of the owner record. A rejection is RecordChanged, after one
more try when the set differs only in spelling (TXT quoting, CNAME dot or case: values are compared
canonically), and none when the set is already exactly the one asked for with this owner (botocore's retry of
a batch whose answer was lost). A delete must repeat the current TTL and values exactly, so it first tries with
what the caller read and, when Route 53 says the set is not like that, reads it again and deletes exactly what
is there (values someone else added stay, as an UPSERT of the rest). TXT values are sent as quoted strings of
at most 255 characters; list output spells special characters of names and TXT values as \\NNN octal.
"""

from __future__ import annotations

import os
from typing import Any, Callable

import botocore.exceptions

from components.aws.clients import TransportErrors, client, error_code
from components.dns.api import (
    PROPAGATION, RecordChanged, RecordSet, RunMemo, Zone, canonical_value, canonical_values, explained, in_zone,
    no_zone_for_name, normalise_name, owner_name, owner_of, owner_value, record_set, require_in_zone, same_set,
    suffixes, txt_presentation, txt_text, zone_mismatch,
)
from components.dynamic import Clock, wait_for
from components.errors import CloudError, WaitTimeout

REGION = "us-east-1"
ZONE_PAGE_SIZE = "100"          # ListHostedZones' maximum
DENIED_CODES = ("AccessDenied", "AccessDeniedException")
CHANGE_REJECTED = ("InvalidChangeBatch", "InvalidInput")  # the batch does not fit the zone as it is now
# InvalidChangeBatch wording of a CREATE or DELETE that does not fit the set as it is now (reference §1.2)
SET_CHANGED_WORDING = ("already exists", "not found", "values provided do not match")
CREDENTIAL_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
COMMENT_MAX = 256


class Route53Api:
    provider = "route53"

    def __init__(self, sync_timeout_seconds: float = 120, clock: type[Clock] = Clock) -> None:
        self.sync_timeout_seconds = sync_timeout_seconds  # how long a write waits for INSYNC
        self.clock = clock
        self.zones = RunMemo()

    # --- zones ---

    def find_zone(self, zone_ref: str | None, record_name: str, resource: str) -> Zone:
        name = normalise_name(record_name)
        if zone_ref:
            zone_id = zone_ref.rsplit("/", 1)[-1]
            got = self.zones.get(("id", zone_id), lambda: self._call(
                "GetHostedZone", resource, lambda r53: r53.get_hosted_zone(Id=zone_id)))
            zone = Zone(self.provider, zone_id, route53_name(got["HostedZone"]["Name"]))
            if not in_zone(zone.name, name):
                raise zone_mismatch(self.provider, "route53.GetHostedZone", resource, zone, name)
            return zone
        # One listing of the account's zones per run (RunMemo), whatever the number of records: with
        # ListHostedZonesByName a lookup per parent name of each record would cost thousands of calls at 1/s.
        public = self.zones.get("public", lambda: self._public_zones(resource))
        for candidate in suffixes(name):
            zones = [zone for zone in public if zone.name == candidate]
            if len(zones) > 1:
                raise CloudError("aws", "route53.ListHostedZones", resource, "AmbiguousZone",
                                 f"{len(zones)} public hosted zones are named {candidate} "
                                 f"({', '.join(z.zone_id for z in zones)}); name the zone to use")
            if zones:
                return zones[0]
        raise no_zone_for_name(self.provider, "route53.ListHostedZones", resource, name)

    def _public_zones(self, resource: str) -> list[Zone]:
        """Every public hosted zone of the account (ListHostedZones, pages of 100)."""
        found, params = [], {"MaxItems": ZONE_PAGE_SIZE}
        while True:
            page = self._call("ListHostedZones", resource, lambda r53: r53.list_hosted_zones(**params))
            found += [Zone(self.provider, hosted["Id"].rsplit("/", 1)[-1], route53_name(hosted["Name"]))
                      for hosted in page.get("HostedZones", []) if not hosted.get("Config", {}).get("PrivateZone")]
            if not page.get("IsTruncated"):
                return found
            params = {"MaxItems": ZONE_PAGE_SIZE, "Marker": page["NextMarker"]}

    def check_access(self, zone: Zone, resource: str) -> None:
        self._call("ListResourceRecordSets", resource,
                   lambda r53: r53.list_resource_record_sets(HostedZoneId=zone.zone_id, MaxItems="1"))

    # --- records ---

    def read(self, zone: Zone, name: str, rtype: str, resource: str) -> RecordSet | None:
        name = require_in_zone(zone, name, "route53.ListResourceRecordSets", resource)
        found = self._rrset(zone, name, rtype, resource)
        if found is None:
            return None
        owner_set = self._rrset(zone, owner_name(name), "TXT", resource)
        return record_set(name, rtype, found.get("TTL", 0), _texts(found), _owner(owner_set))

    def write(self, zone: Zone, record: RecordSet, owner: str, resource: str,
              current: RecordSet | None) -> None:
        name = require_in_zone(zone, record.name, "route53.ChangeResourceRecordSets", resource)
        wanted = [_change("CREATE", name, record.type, record.ttl, canonical_values(record.type, record.values)),
                  _change("UPSERT", owner_name(name), "TXT", record.ttl, [owner_value(owner)])]
        deleted = [] if current is None else [_change("DELETE", name, current.type, current.ttl, current.values)]
        try:
            info = self._change_batch(zone, deleted + wanted, resource)
        except CloudError as err:
            if not _set_changed(err):
                raise
            info = self._write_again(zone, name, record, owner, current, wanted, resource)
        if info is not None:
            self._wait_in_sync(info, resource)

    def _write_again(self, zone: Zone, name: str, record: RecordSet, owner: str, current: RecordSet | None,
                     wanted: list[dict], resource: str) -> dict | None:
        """After Route 53 rejected the conditional batch: once more when the set is `current` spelt otherwise
        (DELETE must repeat the stored spelling); nothing to do when it is already `record` with this owner;
        else RecordChanged."""
        found = self._rrset(zone, name, record.type, resource)
        if current is not None and found is not None and same_set(_as_record_set(name, found), current):
            try:
                return self._change_batch(zone, [{"Action": "DELETE", "ResourceRecordSet": found}, *wanted],
                                          resource)
            except CloudError as err:
                if not _set_changed(err):
                    raise
        now = self.read(zone, name, record.type, resource)
        if same_set(now, record) and now.owner == owner:
            return None
        raise RecordChanged(resource, name, record.type, current, now)

    def delete(self, zone: Zone, current: RecordSet, resource: str) -> None:
        name = require_in_zone(zone, current.name, "route53.ChangeResourceRecordSets", resource)
        changes = [_change("DELETE", name, current.type, current.ttl, current.values)]
        if current.owner:  # written with the record's TTL (write above)
            changes.append(_change("DELETE", owner_name(name), "TXT", current.ttl, [owner_value(current.owner)]))
        try:
            self._change_batch(zone, changes, resource)
            return
        except CloudError as err:
            if err.code not in CHANGE_REJECTED:
                raise
        # Not as the caller read it (changed since, or gone): delete exactly what is there now.
        changes = []
        found = self._rrset(zone, name, current.type, resource)
        if found is not None:
            left = [record for record in found.get("ResourceRecords", [])
                    if _canonical(current.type, record["Value"]) not in current.values]
            changes.append({"Action": "UPSERT" if left else "DELETE",
                            "ResourceRecordSet": {**found, "ResourceRecords": left} if left else found})
        owner_set = self._rrset(zone, owner_name(name), "TXT", resource)
        if owner_set is not None:
            changes.append({"Action": "DELETE", "ResourceRecordSet": owner_set})
        if changes:
            self._change_batch(zone, changes, resource)

    def delete_owner(self, zone: Zone, name: str, resource: str, owner: str | None = None) -> None:
        name = require_in_zone(zone, name, "route53.ChangeResourceRecordSets", resource)
        owner_set = self._rrset(zone, owner_name(name), "TXT", resource)
        if owner_set is None or (owner is not None and owner not in [owner_of(t) for t in _texts(owner_set)]):
            return
        try:
            self._change_batch(zone, [{"Action": "DELETE", "ResourceRecordSet": owner_set}], resource)
        except CloudError as err:
            if err.code not in CHANGE_REJECTED or self._rrset(zone, owner_name(name), "TXT", resource) is not None:
                raise

    # --- calls ---

    def _rrset(self, zone: Zone, name: str, rtype: str, resource: str) -> dict | None:
        """The record set `name`/`rtype` as Route 53 lists it (the listing starts there), or None."""
        page = self._call("ListResourceRecordSets", resource, lambda r53: r53.list_resource_record_sets(
            HostedZoneId=zone.zone_id, StartRecordName=name, StartRecordType=rtype, MaxItems="1"))
        for found in page.get("ResourceRecordSets", []):
            if route53_name(found["Name"]) == name and found["Type"] == rtype and not found.get("SetIdentifier"):
                return found
        return None

    def _change_batch(self, zone: Zone, changes: list[dict], resource: str) -> dict:
        batch = {"Comment": f"certfleet: {resource}"[:COMMENT_MAX], "Changes": changes}
        return self._call("ChangeResourceRecordSets", resource, lambda r53: r53.change_resource_record_sets(
            HostedZoneId=zone.zone_id, ChangeBatch=batch))["ChangeInfo"]

    def _wait_in_sync(self, info: dict, resource: str) -> None:
        """Until Route 53's servers all have the change, for at most sync_timeout_seconds and within the run's
        PROPAGATION window (a thousand writes wait once, not a thousand times); then the caller's propagation
        check decides."""
        if info.get("Status") == "INSYNC":
            return

        def in_sync() -> bool | None:
            status = self._call("GetChange", resource, lambda r53: r53.get_change(Id=info["Id"]))["ChangeInfo"]
            return True if status["Status"] == "INSYNC" else None

        try:
            wait_for(f"Route 53 change {info['Id']}", in_sync, self.sync_timeout_seconds, interval_seconds=10,
                     clock=self.clock, shared=PROPAGATION, first_interval_seconds=1)
        except WaitTimeout:
            return

    def _call(self, operation: str, resource: str, send: Callable[[Any], Any]) -> Any:
        try:
            with TransportErrors("route53", operation, resource):
                return send(client("route53", REGION))
        except botocore.exceptions.ClientError as err:
            code = error_code(err)
            message = explained(err.response.get("Error", {}).get("Message", str(err)),
                                denied=code in DENIED_CODES, permission=f"route53:{operation}",
                                secrets=[os.environ.get(v) for v in CREDENTIAL_VARIABLES])
            raise CloudError("aws", f"route53.{operation}", resource, code, message) from err


def route53_name(name: str) -> str:
    """A name as Route 53 lists it (trailing dot, special characters as \\NNN octal), normalised."""
    return normalise_name(txt_text(f'"{name}"', octal_escapes=True) if "\\" in name else name)


def _change(action: str, name: str, rtype: str, ttl: int, values) -> dict:
    wire = [txt_presentation(v) if rtype == "TXT" else (f"{v}." if rtype == "CNAME" else v) for v in values]
    return {"Action": action, "ResourceRecordSet": {
        "Name": name, "Type": rtype, "TTL": int(ttl), "ResourceRecords": [{"Value": v} for v in wire]}}


def _set_changed(err: CloudError) -> bool:
    """Did Route 53 reject a batch because a CREATE or DELETE does not fit the set as it is now? moto's own
    check of a DELETE says InvalidInput "... in Change with [Action=DELETE ..." (reference §1.5)."""
    message = str(err).split(f" failed: {err.code}: ", 1)[-1]  # not the resource's name
    if err.code == "InvalidChangeBatch":
        return any(wording in message for wording in SET_CHANGED_WORDING)
    return err.code == "InvalidInput" and "Action=DELETE" in message


def _as_record_set(name: str, found: dict) -> RecordSet:
    return record_set(name, found["Type"], found.get("TTL", 0), _texts(found), None)


def _canonical(rtype: str, wire_value: str) -> str:
    return canonical_value(rtype, txt_text(wire_value, octal_escapes=True) if rtype == "TXT" else wire_value)


def _texts(found: dict) -> list[str]:
    return [_canonical(found["Type"], record["Value"]) for record in found.get("ResourceRecords", [])]


def _owner(owner_set: dict | None) -> str | None:
    for text in _texts(owner_set) if owner_set else []:
        if owner_of(text):
            return owner_of(text)
    return None
