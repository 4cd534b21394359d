"""Zero-touch validation wired into a section: a DnsRecord per validated name, a CertificateValidation per entry.

Each section's component (components/fleet.py, components/aws/fleet.py) hands over its DNS-validated entries as
`Challenge`s: the entry's certificate resource, its id, the records its CA asks for (normalised to
{name, type, value}) and whether the CA still asks (CAS/SCM: until issued; ACM: always, it renews through them).

One DnsRecord per (dns provider, zone, region, base name): a wildcard and its apex share one, and so do two
entries of the section for the same base name (their values merged into one rrset). A record belongs to the base
name that is the longest suffix of its name among the entry's names: `_x.www.shop.example.com` to
`www.shop.example.com`, not to `shop.example.com`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from components import names
from components.dns.config import DnsSpec
from components.dns.record import DnsRecord
from components.dns.validation import CertificateValidation


@dataclass(frozen=True)
class Challenge:
    entry: str                          # the entry's name in its section
    cloud: str                          # acm | cas | cas-instance | scm (components/dns/validation.STATUS_OF)
    dns: DnsSpec
    domains: tuple[str, ...]            # the entry's names
    certificate_id: pulumi.Output       # ARN, CAS order id, CAS instance id, SCM certificate id
    records: pulumi.Output              # list of {name, type, value} the CA asks for
    asking: pulumi.Output               # bool: the CA still needs them (False: issued, the TXT records go)
    region: str | None = None           # the certificate's region (ACM, SCM)


@dataclass
class EntryValidation:
    validation: CertificateValidation
    records: list[DnsRecord]

    def summary(self) -> dict[str, Any]:
        return {"status": self.validation.status, "issued": self.validation.issued,
                "status_message": self.validation.status_message,
                "records": [{"name": r.name, "type": r.type, "zone": r.zone_name, "zone_id": r.zone_id,
                             "owned": r.owned, "served": r.served, "status_message": r.status_message}
                            for r in self.records]}


def owner_identity() -> str:
    """Who writes the records: the stack (project/stack); its entries share records of one name."""
    return f"{pulumi.get_project()}/{pulumi.get_stack()}"


def record_base(record_name: str, bases: list[str]) -> str | None:
    """The entry name (wildcard stripped) a validation record belongs to: the longest that the name ends in."""
    fitting = [b for b in bases if names.within_zone(record_name, b)]
    return max(fitting, key=len) if fitting else None


def records_of(base: str, bases: list[str], per_entry: list[tuple[list[dict], bool]]) -> dict[str, Any]:
    """Name, type and values of the record for `base`, from the records every contributing entry asks for."""
    found = [r for records, _ in per_entry for r in records or [] if record_base(r["name"], bases) == base]
    asking = any(wanted for _, wanted in per_entry)
    record_names = sorted({r["name"].rstrip(".").lower() for r in found})
    types = sorted({r["type"] for r in found})
    return {"name": record_names[0] if record_names else None, "type": types[0] if types else None,
            "values": sorted({r["value"] for r in found}) if asking else [],
            "names_asked": record_names}


def validate_through_dns(challenges: list[Challenge], parent: pulumi.Resource) -> dict[str, EntryValidation]:
    """Declare the records and the waits of `challenges` as children of `parent`; entry -> its validation."""
    owner = owner_identity()
    groups: dict[tuple, list[Challenge]] = {}
    entry_keys: dict[str, list[tuple]] = {}
    for challenge in challenges:
        spec = challenge.dns
        for base in sorted({names.base_name(d) for d in challenge.domains}):
            key = (spec.provider, spec.zone, spec.region, base)
            groups.setdefault(key, []).append(challenge)
            entry_keys.setdefault(challenge.entry, []).append(key)
    records: dict[tuple, DnsRecord] = {}
    for key, contributors in groups.items():
        provider, _, region, base = key
        spec = contributors[0].dns
        asked = pulumi.Output.all(*[pulumi.Output.all(c.records, c.asking) for c in contributors]).apply(
            lambda pairs, b=base, cs=contributors: records_of(
                b, sorted({names.base_name(d) for c in cs for d in c.domains}), [(r, a) for r, a in pairs]))
        records[key] = DnsRecord(f"{provider}-{base}", {
            "provider": provider, "zone_ref": spec.zone, "region": region, "domain": base,
            "record_name": base, "used_by": sorted({c.entry for c in contributors}),
            "name": asked.apply(lambda a: a["name"]), "type": asked.apply(lambda a: a["type"]),
            "values": asked.apply(lambda a: a["values"]), "ttl": spec.ttl, "owner": owner,
            "propagation_timeout_seconds": spec.propagation_timeout_seconds,
        }, pulumi.ResourceOptions(parent=parent))
    out: dict[str, EntryValidation] = {}
    for challenge in challenges:
        mine = [records[k] for k in entry_keys[challenge.entry]]
        served = pulumi.Output.all(*[pulumi.Output.all(r.name, r.values, r.served, r.status_message)
                                     for r in mine]).apply(
            lambda rows: [{"name": n, "values": v or [], "served": bool(s), "status_message": m}
                          for n, v, s, m in rows])
        validation = CertificateValidation(f"{challenge.entry}-validation", {
            "entry": challenge.entry, "cloud": challenge.cloud, "certificate_id": challenge.certificate_id,
            "region": challenge.region, "records": served,
            "validation_timeout_seconds": challenge.dns.validation_timeout_seconds,
        }, pulumi.ResourceOptions(parent=parent))
        out[challenge.entry] = EntryValidation(validation, mine)
    return out


def validated(validation: EntryValidation | None, key: str, status: pulumi.Output[str],
              message: pulumi.Output[str]) -> dict[str, Any]:
    """An entry's `validation` summary, its status (`key`) as the CA's once the validation saw it issued (the
    certificate resource itself learns it on the next `pulumi up --refresh`), and the validation's message while
    the certificate resource still says "publish the records" (certfleet does that now)."""
    if validation is None:
        return {}
    wait = validation.validation
    shown_message = pulumi.Output.all(message, status, wait.outcome, wait.status, wait.status_message).apply(
        lambda m: m[4] if m[4] and (m[2] == "pending" or (m[2] == "issued" and m[1] != m[3])) else m[0])
    return {key: issued_status(validation, status), "status_message": shown_message,
            "validation": validation.summary()}


def issued_status(validation: EntryValidation | None, status: pulumi.Output[str]) -> pulumi.Output[str]:
    if validation is None:
        return status
    return pulumi.Output.all(status, validation.validation.status, validation.validation.issued).apply(
        lambda s: s[1] if s[2] else s[0])
