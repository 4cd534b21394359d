"""One validation record (an ACM CNAME, a CAS or SCM TXT) in Route 53, Alibaba Cloud DNS or Huawei Cloud DNS.

A dynamic resource per record name: preview shows which record goes where, refresh sees drift, destroy cleans up.
Its inputs come from the certificate's outputs (`name`, `type`, `values`: what the CA asks for now; empty once a
CAS/SCM certificate is issued, which removes the TXT record; ACM's CNAME stays while the certificate exists,
ACM renews through it) and from the entry's `dns` block (provider, zone, ttl, timeouts).

Ownership (never overwrite or delete a record certfleet did not write): certfleet writes, beside each record, an
owner TXT record `_certfleet-owner.<name>` = `certfleet-owner=<project>/<stack>` (components/dns/api.py; in one
atomic change batch on Route 53). Whether a create may take a name is decided by TAKE_CHECKS, in order. A record
already there with exactly the wanted values and no owner is used as it is and never changed or deleted
(`owned: false`): e.g. an ACM CNAME another tool wrote for the same account.

After a write, the create waits (bounded, `propagationTimeoutSeconds`, sharing one window per run) until every
authoritative name server of the zone serves the values (components/dns/propagation.py, as lego does); what is
not served yet is recorded (`served: false`) and the next `pulumi up` waits again. Only then does the entry's
CertificateValidation (components/dns/validation.py) wait for the CA.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Mapping

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, ReadResult, UpdateResult

from components.dns import api as dns_apis
from components.dns import propagation
from components.dynamic import (RUN_WAITS, CertfleetResource, Clock, declared_in_this_run, first_opinion,
                                is_unknown, note_declared, tell_user)
from components.errors import CertfleetError, CloudError

PROPAGATION = "dns propagation"  # the kind of wait (components/dynamic.WaitWindow)
POLL_SECONDS = 2.0
RECORD_KIND = "dns-record"       # note_declared kind: (provider, zone id, name, type)
REPLACE_KEYS = ("provider", "zone_ref", "region", "domain", "name", "type")
UPDATE_KEYS = ("values", "ttl", "owner")

# --- may certfleet write this name? (the first opinion decides) -------------------------------------------
WRITE, USE, REFUSE = "write", "use", "refuse"


def name_is_free(current: dns_apis.RecordSet | None, wanted: dns_apis.RecordSet, owner: str) -> tuple | None:
    return (WRITE, "no record at this name yet") if current is None else None


def written_by_this_stack(current: dns_apis.RecordSet, wanted: dns_apis.RecordSet, owner: str) -> tuple | None:
    return (WRITE, "certfleet wrote it for this stack") if current.owner == owner else None


def written_by_another_stack(current: dns_apis.RecordSet, wanted: dns_apis.RecordSet, owner: str) -> tuple | None:
    if current.owner:
        return (REFUSE, f"certfleet stack {current.owner} wrote it (its owner record {dns_apis.owner_name(current.name)}"
                        f" says so); one record, one stack: remove it from that stack first")
    return None


def already_there(current: dns_apis.RecordSet, wanted: dns_apis.RecordSet, owner: str) -> tuple | None:
    if current.type == wanted.type and set(current.values) == set(wanted.values):
        return (USE, "it already holds exactly these values, written by someone else: certfleet uses it as it is "
                     "and never changes or deletes it")
    return None


def someone_elses(current: dns_apis.RecordSet, wanted: dns_apis.RecordSet, owner: str) -> tuple | None:
    return (REFUSE, f"it holds {list(current.values)} ({current.type}), not certfleet's {list(wanted.values)}, and "
                    f"certfleet did not write it (no owner record {dns_apis.owner_name(current.name)}): certfleet never "
                    f"overwrites a record it did not write. Delete it, or publish this entry by hand (`dns: false`)")


TAKE_CHECKS: tuple[Callable[..., tuple | None], ...] = (
    name_is_free, written_by_this_stack, written_by_another_stack, already_there, someone_elses)


# --- the provider ------------------------------------------------------------------------------------------

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


class DnsRecordProvider(pulumi.dynamic.ResourceProvider):
    clock: type[Clock] = Clock
    # (provider, region, zone id) of the zones this run could read (one check per zone, not per record)
    _zone_checked: dict[tuple, None] = {}

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        if not news.get("name") and olds.get("name") and not is_unknown(news.get("name")):
            # The CA asks for nothing any more (issued): still the same record, now to be removed.
            news = {**news, "name": olds["name"], "type": olds.get("type")}
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
            if key not in self._zone_checked:
                api.check_access(zone, _label(props))
                self._zone_checked[key] = None
        except CloudError as err:
            return str(err)
        return None

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [k for k in REPLACE_KEYS if is_unknown(news.get(k)) or olds.get(k) != news.get(k)]
        changes = [k for k in UPDATE_KEYS if is_unknown(news.get(k)) or _comparable(olds.get(k), k) !=
                   _comparable(news.get(k), k)]
        if olds.get("owned") and news.get("values") and not is_unknown(news.get("values")):
            # Drift a refresh saw (changed or deleted out of band), or a write not yet served: write/wait again.
            wanted = dns_apis.canonical_values(news.get("type") or "TXT", news["values"])
            if tuple(sorted(olds.get("served_values") or [])) != wanted or not olds.get("served"):
                changes.append("served_values")
        return DiffResult(changes=bool(replaces or changes), replaces=replaces, stables=[],
                          delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        outs = self._converge(props, owned=False)
        return CreateResult(f"{outs['zone_id']}/{props.get('name') or props['domain']}/{props.get('type')}", outs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._converge(news, owned=bool(olds.get("owned"))))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        if not props.get("zone_id") or not props.get("name"):
            return ReadResult(id_, props)
        api = dns_apis.dns_api(props["provider"], props.get("region"))
        zone = dns_apis.Zone(props["provider"], props["zone_id"], props["zone_name"])
        current = api.read(zone, props["name"], props["type"], _label(props))
        served_values = list(current.values) if current is not None else []
        outs = {**props, "served_values": served_values}
        if props.get("owned") and current is not None and current.owner != props["owner"]:
            outs["owned"] = False  # someone took it over: from now on certfleet leaves it alone
        if props.get("values"):
            outs["served"] = propagation.check_served(props["name"], props["type"], props["values"],
                                                      propagation.Resolvers.from_env()) is None
        outs["status_message"] = _message(outs, None)
        return ReadResult(id_, outs)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        if not props.get("owned") or not props.get("name"):
            if props.get("served_values"):
                tell_user(f"{_label(props)}: kept {props['name']} ({props['type']}): certfleet did not write it")
            return
        if declared_in_this_run(RECORD_KIND, _identity(props)):
            return  # the old half of a replacement that writes the same record: the new resource has it now
        api = dns_apis.dns_api(props["provider"], props.get("region"))
        zone = dns_apis.Zone(props["provider"], props["zone_id"], props["zone_name"])
        current = api.read(zone, props["name"], props["type"], _label(props))
        if current is None:
            api.delete_owner(zone, props["name"], _label(props))
        elif current.owner != props["owner"]:
            tell_user(f"{_label(props)}: kept {props['name']}: its owner record no longer names this stack")
        else:
            api.delete(zone, current, _label(props))

    # --- create and update: write what the CA asks for, then wait until the zone's servers serve it --------

    def _converge(self, props: Mapping[str, Any], owned: bool) -> dict[str, Any]:
        resource = _label(props)
        api = dns_apis.dns_api(props["provider"], props.get("region"))
        zone = api.find_zone(props.get("zone_ref"), props["domain"], resource)
        outs = {**props, "zone_id": zone.zone_id, "zone_name": zone.name, "owned": owned, "served": False,
                "served_values": []}
        if not props.get("name"):
            outs["status_message"] = "the CA has not given a record yet"
            return outs
        note_declared(RECORD_KIND, _identity(outs))
        current = api.read(zone, props["name"], props["type"], resource)
        if not props.get("values"):  # the certificate is issued (CAS, SCM): the record goes
            if current is not None and owned and current.owner == props["owner"]:
                api.delete(zone, current, resource)
                current = None
            elif current is None and owned:
                api.delete_owner(zone, props["name"], resource)
            outs.update(owned=owned and current is not None, served=True,
                        served_values=list(current.values) if current else [])
            outs["status_message"] = _message(outs, None)
            return outs
        wanted = wanted_record(props)
        verdict, why = first_opinion(TAKE_CHECKS, current, wanted, props["owner"])
        if verdict == REFUSE:
            raise CertfleetError(f"{resource}: certfleet will not write {wanted.name} ({wanted.type}) in "
                                 f"{zone.provider} zone {zone.name} ({zone.zone_id}): {why}")
        if verdict == WRITE:
            if current != dataclasses.replace(wanted, owner=props["owner"]):
                api.write(zone, wanted, props["owner"], resource, current)
            outs["owned"] = True
        outs["served_values"] = list(wanted.values)
        deadline = RUN_WAITS.deadline(PROPAGATION, float(props.get("propagation_timeout_seconds", 120)), self.clock)
        reason = propagation.wait_until_served(props["name"], props["type"], list(wanted.values),
                                               propagation.Resolvers.from_env(),
                                               max(0.0, deadline - self.clock.now()), self.clock, POLL_SECONDS)
        outs["served"] = reason is None
        outs["status_message"] = _message(outs, reason)
        return outs


def _identity(props: Mapping[str, Any]) -> str:
    return f"{props['provider']}:{props.get('zone_id')}:{props.get('name')}:{props.get('type')}"


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

    def __init__(self, resource_name: str, inputs: Mapping[str, Any],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        outputs = dict.fromkeys(("zone_id", "zone_name", "owned", "served", "served_values", "status_message"))
        super().__init__(DnsRecordProvider(), resource_name, {**inputs, **outputs}, opts)
