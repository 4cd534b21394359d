"""What a change of a DNS validation record means (zero-touch validation: docs/dns-validation.md), in plain words:
DNS_CHECKS, run after the other rules (scripts/pr_summary_rules.py) on every change.

What happens follows the record's provider (components/dns/record.py, record_checks.py): a create writes what
the CA asks for and waits until every name server of the zone serves it, never overwriting a record certfleet did
not write (one with exactly these values is used as it is, `owned: false`); an update rewrites it (new TTL, new
values from the CA, drift a refresh saw) and removes certfleet's values once the CA asks for nothing (CAS/SCM
after issuance); a zone written out where the record was found is an update that moves nothing, another zone a
replacement (the new record first); a delete removes only the values certfleet wrote, while the owner record
names this stack, and keeps an ACM CNAME whose certificate stays (ACM renews through it). The record's name and
values come from the certificate's outputs: in the preview of a new certificate they are not known yet.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from scripts.pr_summary_context import Context, Finding
from scripts.pr_summary_digest import Change, is_unknown
from scripts.pr_summary_kinds import DNS_PROVIDERS, DNS_RECORD, DNS_ZONE_KEYS, section_of, shown, users_of

FROM_THE_CA = "name and value come from the CA once the certificate exists"
ONLY_ITS_OWN = "only if certfleet wrote it (its owner record names this stack)"


def seconds(value: Any, key: str) -> str:
    """`up to 60 s, dns.validationTimeoutSeconds`; the key alone when the value is not known."""
    return f"up to {int(value)} s, `{key}`" if isinstance(value, (int, float)) else f"`{key}`"


def _provider(inputs: Mapping[str, Any]) -> str:
    provider = DNS_PROVIDERS.get(str(inputs.get("provider")), shown(inputs.get("provider")))
    return provider + (f" ({shown(inputs['region'])})" if inputs.get("region") else "")


def _where(inputs: Mapping[str, Any]) -> str:
    """`Route 53, zone found automatically`, `Alibaba Cloud DNS zone example.cn`: where the config puts it."""
    ref = inputs.get("zone_ref")
    return f"{_provider(inputs)} zone {shown(ref)}" if ref else f"{_provider(inputs)}, zone found automatically"


def _old_zone(change: Change) -> str:
    """The zone the record is in now (found at its create), `Route 53 zone example.org (Z0123...)`."""
    name, zone_id = change.old_outputs.get("zone_name"), change.old_outputs.get("zone_id")
    if not name:
        return _where(change.old)
    same = not zone_id or zone_id == name  # Alibaba Cloud DNS names zones by domain name
    return f"{_provider(change.old)} zone {shown(name)}" + ("" if same else f" ({shown(zone_id)})")


def _users(change: Change) -> str:
    return ", ".join(f"{section_of(change)}.{user}" for user in users_of(change)) or "no entry"


def _record(inputs: Mapping[str, Any]) -> str:
    return f"{shown(inputs.get('name'))} ({shown(inputs.get('type'))})"


def _values(values: Any) -> str:
    return ", ".join(shown(v) for v in values) if isinstance(values, list) else shown(values)


def _canonical(value: Any) -> str:
    """A value as the zone serves it: TXT without quotes, a name without the final dot."""
    return str(value).strip('"').rstrip(".")


def _same_values(a: Any, b: Any) -> bool:
    return sorted(map(_canonical, a or [])) == sorted(map(_canonical, b or []))


def _known(value: Any) -> bool:
    return not is_unknown(value)


def record_created(change: Change, ctx: Context) -> list[Finding]:
    if change.type != DNS_RECORD or change.op != "create":
        return []
    new = change.new
    if not (_known(new.get("name")) and _known(new.get("values"))):
        what = FROM_THE_CA
    elif not new.get("values"):
        what = "nothing to write now: the CA asks for no record (the certificate is issued)"
    else:
        what = f"{_record(new)} = {_values(new['values'])}"
    return [Finding("note", f"writes the validation record for {shown(new.get('domain'))} in {_where(new)} "
                            f"(for {_users(change)}); {what}"),
            Finding("note", f"then waits until every name server of the zone serves it "
                            f"({seconds(new.get('propagation_timeout_seconds'), 'dns.propagationTimeoutSeconds')}); "
                            f"a record certfleet did not write is never overwritten (one with these values is used "
                            f"as it is, other values fail the `up`)")]


def _values_change(change: Change) -> list[Finding]:
    """What the CA's values do to the record (an update)."""
    old, new = change.old.get("values"), change.new.get("values")
    if not _known(new):
        return [Finding("note", "its values come from the CA, known only after `up` (rewritten if they differ)")]
    if not new and old:
        return [Finding("note", f"the certificate is issued and the CA needs no record any more: removes "
                                f"{_record(change.old)} {ONLY_ITS_OWN}")]
    if not new or _same_values(old, new):
        return []
    if change.old_outputs.get("owned") is False:
        # record_checks.TAKE_CHECKS: a record certfleet found in place (no owner record) is never overwritten.
        return [Finding("risk", f"the CA asks for new values, but certfleet did not write {_record(change.old)} "
                                f"(it used it as it was): it never overwrites it, so `up` fails until that record "
                                f"is changed or removed by hand")]
    return [Finding("note", f"the CA asks for new values: rewrites {_record(change.new)} with {_values(new)} "
                            f"(was {_values(old)})")]


def _drift(change: Change) -> list[Finding]:
    """What the last refresh read back (served_values, served) against what certfleet wrote."""
    values, out = change.new.get("values"), change.old_outputs
    if not out.get("owned") or not _known(values) or not values or not _same_values(values, change.old.get("values")):
        return []
    served = out.get("served_values") or []
    if not {_canonical(v) for v in values} <= {_canonical(v) for v in served}:
        return [Finding("note", f"repairs drift: the zone holds {_values(served) or 'nothing'} at "
                                f"{shown(change.new.get('name'))}, not what certfleet wrote (changed or deleted out "
                                f"of band): `up` writes it again")]
    if out.get("served") is False:  # None: the name servers could not be asked (unverified), no new write
        return [Finding("note", "not yet served by every name server of the zone: `up` waits again")]
    return []


def record_updated(change: Change, ctx: Context) -> list[Finding]:
    if change.type != DNS_RECORD or change.op != "update":
        return []
    old, new = change.old, change.new
    findings = []
    if set(change.diff_keys) & set(DNS_ZONE_KEYS):  # the provider's diff: the same zone is an update
        zone = shown(change.old_outputs.get("zone_name") or "?")
        where = (f"the zone is now named in the config ({shown(new['zone_ref'])})" if new.get("zone_ref")
                 and "zone_ref" in change.diff_keys else f"{_where(new)} finds the zone")
        findings.append(Finding("note", f"{where}: the one the record is in already ({zone}), nothing moves"))
    if "ttl" in change.diff_keys:
        findings.append(Finding("note", f"rewrites {_record(new)} with TTL {shown(new.get('ttl'))} s "
                                        f"(was {shown(old.get('ttl'))} s)"))
    return findings + _values_change(change) + _drift(change)


def record_replaced(change: Change, ctx: Context) -> list[Finding]:
    if change.type != DNS_RECORD or change.op != "replace":
        return []
    keys, new = set(change.replace_keys), change.new
    if keys & {"name", "type"} and not _known(new.get("name")):
        text = (f"its record is known only after `up` ({FROM_THE_CA}): written then; the old one, "
                f"{_record(change.old)}, is removed after it {ONLY_ITS_OWN}, and kept if the new one is the same")
    elif keys & {"name", "type"}:
        text = (f"the CA asks for another record: writes {_record(new)}, then removes {_record(change.old)} "
                f"{ONLY_ITS_OWN}")
    else:  # another zone (the provider's diff makes a zone that still finds the record's own an update)
        text = (f"moves the record from {_old_zone(change)} to {_where(new)}: the new one is written first, then "
                f"the old one is removed {ONLY_ITS_OWN}")
    findings = [Finding("note", text)]
    if _known(new.get("values")) and not new.get("values") and change.old.get("values"):
        findings.append(Finding("note", "the CA needs no record any more (the certificate is issued)"))
    return findings


def record_deleted(change: Change, ctx: Context) -> list[Finding]:
    """record_checks.RELEASE_CHECKS: not written by certfleet: kept; an ACM CNAME whose certificate stays: kept,
    only its owner record goes; else certfleet's values go (others' stay) while the owner record names it."""
    if change.type != DNS_RECORD or change.op != "delete":
        return []
    old, out = change.old, change.old_outputs
    if not old.get("name") or not out.get("zone_id"):
        return [Finding("note", "leaves the stack; nothing was written (the CA had asked for no record)")]
    if not old.get("values"):
        return [Finding("note", "leaves the stack; nothing left to remove (certfleet's values went when the "
                                "certificate was issued)")]
    if not out.get("owned") or not out.get("written_values"):
        return [Finding("note", f"leaves the stack; {_record(old)} stays in {_old_zone(change)}: certfleet did not "
                                f"write it")]
    section = section_of(change)
    staying = [f"{section}.{u}" for u in users_of(change) if f"{section}.{u}" not in ctx.deleted]
    if old.get("type") == "CNAME" and (old.get("keep_with_certificate") or section == "aws.certificates" and staying):
        why = "destroy keeps the certificate" if old.get("keep_with_certificate") else f"{', '.join(staying)} stays"
        return [Finding("note", f"keeps {_record(old)} in {_old_zone(change)}: ACM renews through it and {why}; "
                                f"only its owner record goes (certfleet stops managing it)")]
    return [Finding("note", f"removes {_record(old)} from {_old_zone(change)} {ONLY_ITS_OWN}: the values it "
                            f"wrote; values others added stay")]


DNS_CHECKS: tuple[Callable[[Change, Context], list[Finding]], ...] = (
    record_created, record_updated, record_replaced, record_deleted)
