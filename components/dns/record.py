"""One validation record (an ACM CNAME, a CAS or SCM TXT) in Route 53, Alibaba Cloud DNS or Huawei Cloud DNS.

A dynamic resource per record name: preview shows which record goes where, refresh sees drift, destroy cleans up.
Its inputs come from the certificate's outputs (`name`, `type`, `values`: what the CA asks for now; empty once a
CAS/SCM certificate is issued, which removes the TXT record; ACM's CNAME stays while the certificate exists,
ACM renews through it) and from the entry's `dns` block (provider, zone, ttl, timeouts).

Ownership (never overwrite or delete a record certfleet did not write): certfleet writes, beside each record, an
owner TXT record `_certfleet-owner.<name>` = `certfleet-owner=<project>/<stack>/<random>` (components/dns/owner.py,
api.py; in one atomic change batch on Route 53), and keeps in state the values it wrote (`written_values`): it
removes only those, so values others added to the set stay. Whether it may write, and what a delete removes, are
decided by ordered checks (components/dns/record_checks.py). Writes are conditional on the set read just before
(api.RecordChanged: read and judged again once). A record already there with exactly the wanted values and no
owner is used as it is and never changed or deleted (`owned: false`).

After a write, the create waits (bounded, `propagationTimeoutSeconds`, sharing one window per run) until every
authoritative name server of the zone serves the values (components/dns/propagation.py, as lego does); what is
not served yet is recorded (`served: false`) and the next `pulumi up` waits again; name servers that cannot be
asked at all (a firewall) leave it unverified (`served: null`) without a write on every run. Only then does the entry's
CertificateValidation (components/dns/validation.py) wait for the CA.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, ReadResult, UpdateResult

from components.dns import api as dns_apis
from components.dns import propagation
from components.dns.record_checks import (CLEANUP_CHECKS, KEEP, LET_GO, RECORD_KIND, REFUSE, RELEASE_CHECKS,
                                          TAKE_CHECKS, USE, record_identity, values_left, values_to_write)
from components.dynamic import (RUN_WAITS, CertfleetProvider, CertfleetResource, Clock, RunSet, first_opinion,
                                is_unknown, note_declared, tell_user)
from components.errors import CertfleetError, CloudError

POLL_SECONDS = 2.0
UNREACHABLE_ZONES = RunSet()  # zone ids whose name servers could not be asked in this run
# A change of provider, zone or region that still means the same record (the zone written out where it was
# found) is an update; only a record of another name, type or zone is a new resource (created first, then the
# old one's values are removed: never the same record twice).
IDENTITY_KEYS = ("provider", "zone_ref", "region", "domain", "name", "type")
UPDATE_KEYS = ("values", "ttl", "owner", "keep_with_certificate")
ZONE_KEYS = ("provider", "zone_ref", "region")


def wanted_record(props: Mapping[str, Any]) -> dns_apis.RecordSet:
    return dns_apis.record_set(props["name"], props["type"], int(props["ttl"]), props.get("values") or [], None)


def static_problems(props: Mapping[str, Any]) -> list[CheckFailure]:
    """What check() can tell without the cloud (the values come from the CA; config rules ran already)."""
    failures = []
    name, values, rtype = props.get("name"), props.get("values"), props.get("type")
    if not is_unknown(values) and isinstance(values, list) and rtype == "CNAME" and len(set(values)) > 1:
        failures.append(CheckFailure("values", f"the CA asks for {len(set(values))} different CNAME targets at "
                                               f"{name}: {sorted(set(values))}; a name holds one CNAME"))
    if not is_unknown(name) and isinstance(name, str) and name and not is_unknown(props.get("domain")) \
            and not name.endswith(props["domain"]):
        failures.append(CheckFailure("name", f"{name} is not a record of {props['domain']}"))
    return failures


class DnsRecordProvider(CertfleetProvider):
    clock: type[Clock] = Clock
    # (provider, region, zone id) of the zones this run could read (one check per zone, not per record)
    _zone_checked = RunSet()

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        if not news.get("name") and olds.get("name") and not is_unknown(news.get("name")):
            # The CA asks for nothing any more (issued): still the same record, now to be removed.
            news = {**news, "name": olds["name"], "type": olds.get("type")}
        if news.get("values") is None and olds.get("values"):
            # The certificate's state is not known right now (a failed read): what was asked for still stands.
            news = {**news, "values": olds["values"]}
        failures = static_problems(news)
        if not failures and not any(is_unknown(news.get(k)) for k in ("provider", "zone_ref", "domain")):
            problem = self._zone_problem(news)
            if problem:
                failures.append(CheckFailure("zone_ref", problem))
        return CheckResult(news, failures)

    def _zone_problem(self, props: Mapping[str, Any]) -> str | None:
        """At preview: the zone exists, holds the name and this run may read it (its permission named if not).
        The zone listing is read once per run (api.RunMemo) and each zone's records once: a thousand records
        in one zone cost two calls, not two thousand."""
        try:
            api = dns_apis.dns_api(props["provider"], props.get("region"))
            zone = api.find_zone(props.get("zone_ref"), props["domain"], _label(props))
            key = (props["provider"], props.get("region"), zone.zone_id)
            if isinstance(props.get("name"), str) and props["name"]:
                note_declared(RECORD_KIND, record_identity(props, zone.zone_id))
            if key not in self._zone_checked:
                api.check_access(zone, _label(props))
                self._zone_checked.add(key)
        except CloudError as err:
            return str(err)
        return None

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        moved = [k for k in IDENTITY_KEYS if is_unknown(news.get(k)) or olds.get(k) != news.get(k)]
        # An unknown name (a preview while the certificate changes) is not yet a replacement: `up` diffs again
        # with the name known, and replaces only if it really is another record.
        replaces = [k for k in moved if not is_unknown(news.get(k))
                    and (k not in ZONE_KEYS or not self._same_zone(olds, news))]
        changes = moved + [k for k in UPDATE_KEYS if is_unknown(news.get(k)) or _comparable(olds.get(k), k) !=
                           _comparable(news.get(k), k)]
        if olds.get("owned") and news.get("values") and not is_unknown(news.get("values")):
            # Drift a refresh saw (changed or deleted out of band), or a write the name servers did not serve
            # (not: could not be asked, `served` None): write and wait again.
            wanted = dns_apis.canonical_values(news.get("type") or "TXT", news["values"])
            if not set(wanted) <= set(olds.get("served_values") or []) or olds.get("served") is False:
                changes.append("served_values")
        return DiffResult(changes=bool(changes), replaces=replaces, stables=[], delete_before_replace=False)

    @staticmethod
    def _same_zone(olds: Mapping[str, Any], news: Mapping[str, Any]) -> bool:
        """Another provider, zone reference or region that still finds the zone the record is in."""
        if news.get("provider") != olds.get("provider") or any(is_unknown(news.get(k)) for k in ZONE_KEYS):
            return False
        try:
            api = dns_apis.dns_api(news["provider"], news.get("region"))
            return api.find_zone(news.get("zone_ref"), news["domain"], _label(news)).zone_id == olds.get("zone_id")
        except CloudError:
            return False

    def create(self, props: dict[str, Any]) -> CreateResult:
        outs = with_view(self._converge(props, {}))
        return CreateResult(f"{outs['zone_id']}/{props.get('name') or props['domain']}/{props.get('type')}", outs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(with_view(self._converge(news, olds)))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        if not props.get("zone_id") or not props.get("name"):
            return ReadResult(id_, props)
        current = self._current(props)
        outs = {**props, "served_values": list(current.values) if current is not None else []}
        if props.get("owned") and current is not None and current.owner != props["owner"]:
            outs["owned"] = False  # someone took it over: from now on certfleet leaves it alone
        wanted = dns_apis.canonical_values(props["type"], props.get("values") or [])
        if wanted and current is not None and set(wanted) <= set(current.values):
            if props.get("served") is not None:  # unverified stays so: no probe per record per refresh
                reason = self._served_reason(props, list(wanted), 0.0)
                outs["served"] = _served(reason)
                outs["status_message"] = _message(outs, reason)
        elif wanted:
            outs["served"] = False
            outs["status_message"] = _message(outs, "certfleet's values are missing from the record")
        return ReadResult(id_, with_view(outs))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        if not props.get("name") or not props.get("zone_id"):
            return
        self._release(props, self._current(props), RELEASE_CHECKS)

    def _served_reason(self, props: Mapping[str, Any], values: list[str], timeout: float) -> Any:
        """Whether every name server of the zone serves certfleet's `values` (among others: a CA looks for its
        own), waiting up to `timeout`. A zone whose servers could not be asked at all is not asked again in this
        run: a firewall would otherwise cost seconds per record."""
        if props["zone_id"] in UNREACHABLE_ZONES:
            return propagation.NotServed(f"the name servers of {props['zone_name']} could not be asked earlier in "
                                         f"this run", unreachable=True)
        reason = propagation.wait_until_served(props["name"], props["type"], values, propagation.Resolvers.from_env(),
                                               timeout, self.clock, POLL_SECONDS, at_least=True)
        if reason is not None and reason.unreachable:
            UNREACHABLE_ZONES.add(props["zone_id"])
        return reason

    def _current(self, props: Mapping[str, Any]) -> dns_apis.RecordSet | None:
        """The record as it is now; None when it, or its whole zone, is gone."""
        api = dns_apis.dns_api(props["provider"], props.get("region"))
        try:
            return api.read(_zone(props), props["name"], props["type"], _label(props))
        except CloudError as err:
            if err.code in dns_apis.ZONE_GONE_CODES:
                return None
            raise

    def _release(self, props: Mapping[str, Any], current: dns_apis.RecordSet | None,
                 checks: tuple = CLEANUP_CHECKS) -> None:
        """Remove certfleet's values (`checks` decide: RELEASE_CHECKS on delete, CLEANUP_CHECKS once issued);
        others' values stay, and so does the owner record while any value is left."""
        verdict, why = first_opinion(checks, props, current)
        api, zone, resource = dns_apis.dns_api(props["provider"], props.get("region")), _zone(props), _label(props)
        if verdict == KEEP:
            if current is not None:
                tell_user(f"{resource}: kept {props['name']} ({props['type']}): {why}")
        elif verdict == LET_GO:
            api.delete_owner(zone, props["name"], resource, props["owner"])
            tell_user(f"{resource}: kept {props['name']} ({props['type']}) and stopped managing it: {why}")
        elif current is None:
            try:
                api.delete_owner(zone, props["name"], resource, props["owner"])
            except CloudError as err:
                if err.code not in dns_apis.ZONE_GONE_CODES:
                    raise
        elif left := values_left(current, props.get("written_values") or []):
            api.write(zone, dns_apis.record_set(current.name, current.type, current.ttl, left, None), props["owner"],
                      resource, current)
        else:
            api.delete(zone, current, resource)

    # --- create and update: write what the CA asks for, then wait until the zone's servers serve it --------

    def _converge(self, props: Mapping[str, Any], olds: Mapping[str, Any]) -> dict[str, Any]:
        resource = _label(props)
        api = dns_apis.dns_api(props["provider"], props.get("region"))
        zone = api.find_zone(props.get("zone_ref"), props["domain"], resource)
        if olds.get("zone_id") and olds["zone_id"] != zone.zone_id and olds.get("owned"):
            # The zone found moved (a longer zone now holds the name): certfleet's values leave the old one.
            self._release(olds, self._current(olds))
        written = list(olds.get("written_values") or []) if olds.get("zone_id") == zone.zone_id else []
        outs = {**props, "zone_id": zone.zone_id, "zone_name": zone.name, "owned": bool(olds.get("owned")),
                "written_values": written, "served": None, "served_values": []}
        if not props.get("name"):
            outs["status_message"] = "the CA has not given a record yet"
            return outs
        if not props.get("values"):  # the certificate is issued (CAS, SCM): certfleet's values go
            current = self._current(outs)
            if outs["owned"] and written:
                self._release(outs, current)
                current = self._current(outs)
            outs.update(owned=False, written_values=[], served=True,
                        served_values=list(current.values) if current else [])
            outs["status_message"] = _message(outs, None)
            return outs
        wanted = wanted_record(props)
        for attempt in (1, 2):  # a set that changed between the read and the write is read and judged again
            current = api.read(zone, wanted.name, wanted.type, resource)
            verdict, why = first_opinion(TAKE_CHECKS, current, wanted, props["owner"])
            if verdict == REFUSE:
                raise CertfleetError(f"{resource}: certfleet will not write {wanted.name} ({wanted.type}) in "
                                     f"{zone.provider} zone {zone.name} ({zone.zone_id}): {why}")
            full = values_to_write(current, wanted, written)
            if verdict == USE:
                outs.update(owned=False, written_values=[])
                break
            try:
                if current is None or current.owner != props["owner"] or set(current.values) != set(full) \
                        or current.ttl != wanted.ttl:
                    api.write(zone, dataclasses.replace(wanted, values=full), props["owner"], resource, current)
            except dns_apis.RecordChanged:
                if attempt == 2:
                    raise
                continue
            outs.update(owned=True, written_values=list(wanted.values))
            break
        outs["served_values"] = list(full)  # the whole set: certfleet's values and any others it keeps
        deadline = RUN_WAITS.deadline(dns_apis.PROPAGATION, float(props.get("propagation_timeout_seconds", 120)),
                                      self.clock)
        reason = self._served_reason(outs, list(wanted.values), max(0.0, deadline - self.clock.now()))
        outs["served"] = _served(reason)
        outs["status_message"] = _message(outs, reason)
        return outs


def with_view(outs: dict[str, Any]) -> dict[str, Any]:
    """`validation_view`: what the entry's CertificateValidation needs of this record, with no null anywhere
    (the engine drops null outputs, and a dropped one reads as unknown in every later preview)."""
    served = {True: "served", False: "not served", None: "unverified"}[outs.get("served")]
    outs["validation_view"] = {"name": outs.get("name") or "", "asked": bool(outs.get("values")), "served": served,
                               "status_message": outs.get("status_message") or ""}
    return outs


def _served(reason: Any) -> bool | None:
    """True: every name server serves it; False: one answered otherwise; None: none could be asked (a firewall,
    IPv6-only servers): unverified, the CA looks for itself, and certfleet does not write again for it."""
    if reason is None:
        return True
    return None if getattr(reason, "unreachable", False) else False


def _zone(props: Mapping[str, Any]) -> dns_apis.Zone:
    return dns_apis.Zone(props["provider"], props["zone_id"], props["zone_name"])


def _label(props: Mapping[str, Any]) -> str:
    return f"DnsRecord {props.get('record_name') or props.get('domain')}"


def _comparable(value: Any, key: str) -> Any:
    return sorted(value) if key == "values" and isinstance(value, list) else value


def _message(outs: Mapping[str, Any], reason: str | None) -> str:
    where = f"{outs['provider']} zone {outs.get('zone_name')} ({outs.get('zone_id')})"
    if not outs.get("values"):
        return f"nothing to publish at {where} (no record asked for, or the certificate is issued)"
    if not outs.get("owned"):
        return f"{outs['name']} {outs['type']} already in {where}, written by someone else: used as it is"
    if outs.get("served"):
        return f"{outs['name']} {outs['type']} written in {where} and served by every name server of the zone"
    if outs.get("served") is None:
        return (f"{outs['name']} {outs['type']} written in {where}; its name servers could not be asked from here"
                f"{' (' + reason + ')' if reason else ''}: unverified, the CA checks for itself")
    return (f"{outs['name']} {outs['type']} written in {where}, not yet served by every name server"
            f"{': ' + reason if reason else ''}; the next `pulumi up` waits again")


class DnsRecord(CertfleetResource, module="dns", name="Record"):
    """A validation record. Type token: pulumi-python:dynamic/dns:Record."""

    zone_id: pulumi.Output[str]
    zone_name: pulumi.Output[str]
    name: pulumi.Output[str]
    type: pulumi.Output[str]
    values: pulumi.Output[list]
    owned: pulumi.Output[bool]
    served: pulumi.Output[bool]
    status_message: pulumi.Output[str]
    validation_view: pulumi.Output[dict]

    def __init__(self, resource_name: str, inputs: Mapping[str, Any],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        outputs = dict.fromkeys(("zone_id", "zone_name", "owned", "written_values", "served", "served_values",
                                 "status_message", "validation_view"))
        super().__init__(DnsRecordProvider(), resource_name, {**inputs, **outputs}, opts)
