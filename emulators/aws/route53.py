"""Route 53 as AWS has it where a validation-record provider meets it, around moto's Route53Backend,
and the feed that makes the DNS emulator serve what Route 53 holds.

`install(state)` wraps moto (once per process; the last AwsEmulator started owns the feed):
  ChangeResourceRecordSets  checked as a whole against the current record sets (CHANGE_CHECKS, in
                            order), then applied all or none: CREATE of an existing set, DELETE of a missing set or with other
                            TTL/values -> InvalidChangeBatch (AWS wording); TXT values must be quoted
                            strings of <= 255 characters; no CNAME at the apex or beside other types;
                            names case-insensitive, stored lower-case
  ChangeInfo / GetChange    a new change id per change, PENDING until `route53_sync_seconds` have
                            passed, then INSYNC; unknown ids -> NoSuchChange
  CreateHostedZone          the zone name stored lower-case
  ListHostedZonesByName     DNSName (+ HostedZoneId) is a start position in reversed-label order, with
                            MaxItems, IsTruncated and NextDNSName / NextHostedZoneId
With a feed (`--dns-feed URL`), every public hosted zone created or deleted and every record set
changed is pushed to the DNS emulator (emulators/dns): SOA and apex NS excepted (the DNS server serves
its own), alias record sets skipped, record sets with a SetIdentifier merged into one rrset.
"""

from __future__ import annotations

import re
import secrets
import string
import sys
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.route53 import models as route53_models
from moto.route53.exceptions import DnsNameInvalidForZone, InvalidInput, Route53ClientError
from moto.route53.responses import Route53
from moto.route53.utils import validate_domain_name

from emulators.dns.exceptions import DnsFeedError
from emulators.dns.feed import ZoneSink, feed_for
from emulators.dns.records import ONE_QUOTED, QUOTED_STRINGS

if TYPE_CHECKING:
    from emulators.aws.models import EmulatorState

Route53Backend = route53_models.Route53Backend
CHANGE_ID_CHARACTERS = string.ascii_uppercase + string.digits
SERVER_OWNED_TYPES = ("SOA", "NS")  # at the apex only
MAX_TXT_STRING = 255


class ChangeInvalid(Route53ClientError):
    def __init__(self, message: str):
        super().__init__("InvalidChangeBatch", f"[{message}]")


class NoSuchChange(Route53ClientError):
    def __init__(self, change_id: str):
        super().__init__("NoSuchChange", f"A change with the specified change ID does not exist: {change_id}")


class Route53Extras:
    """What the emulator keeps beside moto's Route 53: change ids and their sync times, and the feed."""

    def __init__(self, state: "EmulatorState", feed: ZoneSink | None):
        self.state = state
        self.feed = feed
        self._changes: dict[str, float] = {}  # change id -> time.monotonic() of submission
        self._lock = threading.Lock()
        self.fed_zones: set[str] = set()

    def new_change(self) -> dict:
        change_id = "C" + "".join(secrets.choice(CHANGE_ID_CHARACTERS) for _ in range(20))
        with self._lock:
            self._changes[change_id] = time.monotonic()
        return {"Id": f"/change/{change_id}", "Status": "PENDING", "SubmittedAt": utcnow()}

    def change_info(self, change_id: str) -> dict:
        change_id = change_id.rsplit("/", 1)[-1]
        with self._lock:
            submitted = self._changes.get(change_id)
        if submitted is None:
            raise NoSuchChange(change_id)
        in_sync = time.monotonic() - submitted >= self.state.settings.route53_sync_seconds
        return {"Id": f"/change/{change_id}", "Status": "INSYNC" if in_sync else "PENDING", "SubmittedAt": utcnow()}

    def reset(self) -> None:
        """moto was reset: forget the changes, and take the zones fed so far off the DNS server."""
        with self._lock:
            self._changes.clear()
            zones, self.fed_zones = self.fed_zones, set()
        for zone in zones:
            self._push(lambda: self.feed.delete_zone(zone))

    # --- the feed ---

    def zone_created(self, zone) -> None:
        if zone.private_zone or not self.feed:
            return
        self.fed_zones.add(zone.name.lower())
        self._push(lambda: self.feed.put_zone(zone.name.lower()))

    def zone_deleted(self, backend: Route53Backend, zone) -> None:
        name = zone.name.lower()
        if zone.private_zone or not self.feed:
            return
        if any(other.name.lower() == name and not other.private_zone for other in backend.zones.values()):
            return  # another public hosted zone of that name still exists
        self.fed_zones.discard(name)
        self._push(lambda: self.feed.delete_zone(name))

    def rrsets_changed(self, zone, keys: set[tuple[str, str]]) -> None:
        if zone.private_zone or not self.feed:
            return
        origin = zone.name.lower()
        for name, rdtype in sorted(keys):
            if name == origin and rdtype in SERVER_OWNED_TYPES:
                continue
            sets = [rs for rs in zone.rrsets if rs.name.lower() == name and rs.type == rdtype and not rs.alias_target]
            values = list(dict.fromkeys(value for rs in sets for value in rs.records))
            ttl = min((int(rs.ttl) for rs in sets), default=300)
            self._push(lambda: self.feed.put_rrset(origin, name, rdtype, ttl, values))

    def _push(self, call) -> None:
        # The API call has been accepted; a DNS server that is down must not fail it. Say so loudly.
        try:
            call()
        except DnsFeedError as error:
            print(f"aws emulator: Route 53 change not fed to the DNS emulator: {error}", file=sys.stderr, flush=True)


_active: dict[str, Route53Extras] = {}


def install(state: "EmulatorState", feed: ZoneSink | str | None = None) -> Route53Extras:
    """Wrap moto's Route 53 (once per process) and make `state`'s extras the active ones."""
    extras = Route53Extras(state, feed_for(feed) if feed is None or isinstance(feed, str) else feed)
    _active["extras"] = extras
    state.reset_hooks.append(extras.reset)
    if getattr(Route53Backend, "_certfleet_installed", False):
        return extras
    original_create_zone = Route53Backend.create_hosted_zone
    original_delete_zone = Route53Backend.delete_hosted_zone
    original_change_response = Route53.change_resource_record_sets
    original_create_response = Route53.create_hosted_zone
    original_delete_response = Route53.delete_hosted_zone

    def create_hosted_zone(self, name, *args, **kwargs):
        with state.lock:
            zone = original_create_zone(self, name.lower(), *args, **kwargs)  # AWS stores names lower-case
            _active["extras"].zone_created(zone)
            return zone

    def delete_hosted_zone(self, id_):
        with state.lock:
            zone = original_delete_zone(self, id_)
            if zone is not None:
                _active["extras"].zone_deleted(self, zone)
            return zone

    def change_resource_record_sets(self, zoneid, change_list):
        with state.lock:
            zone = self.get_hosted_zone(zoneid)
            keys = apply_batch(zone, change_list)
            _active["extras"].rrsets_changed(zone, keys)

    def with_new_change(original):
        def response(self):
            result = original(self)
            result.result["ChangeInfo"] = _active["extras"].new_change()
            return result
        return response

    def get_change(self):
        return ActionResult({"ChangeInfo": _active["extras"].change_info(self._get_param("Id"))})

    Route53Backend.create_hosted_zone = create_hosted_zone
    Route53Backend.delete_hosted_zone = delete_hosted_zone
    Route53Backend.change_resource_record_sets = change_resource_record_sets
    Route53.change_resource_record_sets = with_new_change(original_change_response)
    Route53.create_hosted_zone = with_new_change(original_create_response)
    Route53.delete_hosted_zone = with_new_change(original_delete_response)
    Route53.get_change = get_change
    Route53.list_hosted_zones_by_name = list_hosted_zones_by_name
    Route53Backend._certfleet_installed = True
    return extras


# --- ChangeResourceRecordSets ----------------------------------------------------------------------

@dataclass(frozen=True)
class Change:
    """One change of a batch, its name normalised (lower-case, trailing dot)."""

    action: str
    record_set: dict  # moto's shape: ResourceRecords as a list of value strings
    origin: str  # the zone's name, lower-case with the trailing dot
    given_name: str  # the name as the request spelt it (for moto's wording)

    @property
    def key(self) -> tuple[str, str, str | None]:
        return record_key(self.record_set["Name"], self.record_set["Type"], self.record_set.get("SetIdentifier"))

    @property
    def described(self) -> str:
        name, rdtype, set_identifier = self.key
        return f"[name='{name}', type='{rdtype}'" + (f", set-identifier='{set_identifier}']" if set_identifier else "]")


def name_in_zone(working: dict, change: Change) -> None:
    name = change.record_set["Name"]
    validate_domain_name(name, code="InvalidChangeBatch")
    if name != change.origin and not name.endswith("." + change.origin):
        raise DnsNameInvalidForZone(name=change.given_name, zone_name=change.origin)


def known_action(working: dict, change: Change) -> None:
    if change.action not in ("CREATE", "UPSERT", "DELETE"):
        raise InvalidInput(f"Invalid Action {change.action}")


def records_or_alias(working: dict, change: Change) -> None:
    record_set = change.record_set
    if not record_set.get("AliasTarget") and (record_set.get("TTL") is None or not record_set["ResourceRecords"]):
        name, rdtype, set_identifier = change.key
        raise InvalidInput(
            "Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or "
            f"TrafficPolicyInstanceId], but found none in Change with [Action={change.action}, Name={name}, "
            f"Type={rdtype}, SetIdentifier={set_identifier or 'null'}]")


def delete_finds_the_set(working: dict, change: Change) -> None:
    if change.action == "DELETE" and change.key not in working:
        raise ChangeInvalid(f"Tried to delete resource record set {change.described} but it was not found")


def delete_repeats_the_values(working: dict, change: Change) -> None:
    if change.action == "DELETE" and not same_content(_as_dict(working[change.key]), change.record_set):
        raise ChangeInvalid(f"Tried to delete resource record set {change.described} but the values provided "
                            "do not match the current values")


def create_finds_no_set(working: dict, change: Change) -> None:
    if change.action == "CREATE" and change.key in working:
        raise ChangeInvalid(f"Tried to create resource record set {change.described} but it already exists")


def txt_values_are_quoted_strings(working: dict, change: Change) -> None:
    if change.action == "DELETE" or change.record_set["Type"] != "TXT":
        return
    for value in change.record_set["ResourceRecords"]:
        if not QUOTED_STRINGS.fullmatch(value):
            raise ChangeInvalid(f"Invalid Resource Record: 'FATAL problem: InvalidCharacterString (Value should be "
                                f"enclosed in quotation marks) encountered with '{value}''")
        if any(len(re.sub(r"\\(\d{3}|.)", "x", text)) > MAX_TXT_STRING for text in ONE_QUOTED.findall(value)):
            raise ChangeInvalid(f"Invalid Resource Record: 'FATAL problem: CharacterStringTooLong (Value is too "
                                f"long) encountered with '{value}''")


def cname_not_at_apex(working: dict, change: Change) -> None:
    name, rdtype, _ = change.key
    if change.action != "DELETE" and rdtype == "CNAME" and name == change.origin:
        raise ChangeInvalid(f"RRSet of type CNAME with DNS name {name} is not permitted at apex in zone "
                            f"{change.origin}")


def cname_stands_alone(working: dict, change: Change) -> None:
    name, rdtype, _ = change.key
    if change.action == "DELETE":
        return
    for other_name, other_type, _ in working:
        if other_name == name and other_type != rdtype and "CNAME" in (rdtype, other_type):
            raise ChangeInvalid(f"RRSet of type {rdtype} with DNS name {name} is not permitted because a conflicting "
                                f"RRSet of type {other_type} with the same DNS name already exists in zone "
                                f"{change.origin}")


# In this order, per change, against the record sets as the earlier changes of the batch leave them.
CHANGE_CHECKS = (name_in_zone, known_action, records_or_alias, delete_finds_the_set, delete_repeats_the_values,
                 create_finds_no_set, txt_values_are_quoted_strings, cname_not_at_apex, cname_stands_alone)


def apply_batch(zone, change_list: list[dict]) -> set[tuple[str, str]]:
    """Check every change (CHANGE_CHECKS), then apply all, or raise before anything changed. Returns the
    (name, type) pairs the batch touched."""
    origin = zone.name.lower().rstrip(".") + "."
    # moto's RecordSet objects as they are; a dict (moto's request shape) for each set the batch writes
    working = {record_key(rs.name, rs.type, rs.set_identifier): rs for rs in zone.rrsets}
    touched = set()
    for raw in change_list:
        record_set = dict(raw["ResourceRecordSet"])
        given_name = record_set["Name"]
        record_set["Name"] = record_key(given_name, "", None)[0]
        record_set["ResourceRecords"] = [record["Value"] for record in record_set.get("ResourceRecords") or []]
        change = Change(raw["Action"], record_set, origin, given_name)
        for check in CHANGE_CHECKS:
            check(working, change)
        if change.action == "DELETE":
            del working[change.key]
        else:
            working[change.key] = record_set  # UPSERT replaces the whole set
        touched.add(change.key[:2])
    zone.rrsets = [route53_models.RecordSet(rs) if isinstance(rs, dict) else rs for rs in working.values()]
    for raw in change_list:
        zone.rr_changes.append(raw)  # moto's journal, kept for its other readers
    return touched


def record_key(name: str, rdtype: str, set_identifier: str | None) -> tuple[str, str, str | None]:
    return name.lower().rstrip(".") + ".", rdtype, set_identifier


def same_content(current: dict, given: dict) -> bool:
    if current.get("AliasTarget") or given.get("AliasTarget"):
        return current.get("AliasTarget") == given.get("AliasTarget")
    return (int(current.get("TTL") or 0) == int(given.get("TTL") or 0)
            and sorted(current.get("ResourceRecords") or []) == sorted(given.get("ResourceRecords") or []))


def _as_dict(record_set) -> dict[str, Any]:
    if isinstance(record_set, dict):
        return record_set
    fields = {"Name": record_set.name, "Type": record_set.type, "TTL": record_set.ttl,
              "ResourceRecords": list(record_set.records or []), "SetIdentifier": record_set.set_identifier,
              "Weight": record_set.weight, "Region": record_set.region, "HealthCheckId": record_set.health_check_id,
              "AliasTarget": record_set.alias_target, "Failover": record_set.failover,
              "GeoLocation": record_set.geo_location, "MultiValueAnswer": record_set.multi_value_answer}
    return {key: value for key, value in fields.items() if value is not None}


# --- ListHostedZonesByName -------------------------------------------------------------------------

def list_hosted_zones_by_name(self):
    dns_name = self._get_param("DNSName")
    zone_id = self._get_param("HostedZoneId")
    max_items = self._get_int_param("MaxItems", 100)
    if zone_id and not dns_name:
        raise InvalidInput("The input is not valid: HostedZoneId requires DNSName")
    zones = sorted(self.backend.zones.values(), key=zone_order)
    if dns_name:
        start = (reversed_labels(dns_name), (zone_id or "").rsplit("/", 1)[-1])
        zones = [zone for zone in zones if zone_order(zone) >= start]
    page, rest = zones[:max_items], zones[max_items:]
    result = {"HostedZones": page, "DNSName": dns_name, "HostedZoneId": zone_id, "IsTruncated": bool(rest),
              "MaxItems": max_items}
    if rest:
        result.update(NextDNSName=rest[0].name, NextHostedZoneId=rest[0].resource_id)
    return ActionResult(result)


def reversed_labels(name: str) -> tuple[str, ...]:
    return tuple(reversed(name.lower().rstrip(".").split(".")))


def zone_order(zone) -> tuple:
    return reversed_labels(zone.name), zone.resource_id
