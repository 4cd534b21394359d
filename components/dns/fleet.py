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
from typing import Any, Mapping

import pulumi

from components import names
from components.dns.config import DnsSpec
from components.dns.owner import stack_owner
from components.dns.record import DnsRecord
from components.dns.validation import MATERIAL_KEYS, CertificateValidation


@dataclass(frozen=True)
class Challenge:
    entry: str                          # the entry's name in its section
    cloud: str                          # acm | cas | cas-instance | scm (components/dns/validation.STATUS_OF)
    dns: DnsSpec
    domains: tuple[str, ...]            # the entry's names
    certificate_id: pulumi.Output       # ARN, CAS order id, CAS instance id, SCM certificate id
    records: pulumi.Output              # list of {name, type, value} the CA asks for
    asking: pulumi.Output               # bool: the CA still needs them (False: issued, the TXT records go)
    pending: pulumi.Output              # bool: the certificate resource's own status is a pending one
    region: str | None = None           # the certificate's region (ACM, SCM)
    keeps_certificate: bool = False     # destroy keeps the certificate (adopted, onDestroy: keep): ACM's CNAME stays
    recorded: pulumi.Output | None = None  # what the certificate resource records (material_checks.recorded_of)


@dataclass
class EntryValidation:
    validation: CertificateValidation
    records: list[DnsRecord]
    pending: pulumi.Output              # the certificate resource's own status is a pending one

    def summary(self) -> dict[str, Any]:
        return {"status": self.validation.status, "issued": self.validation.issued,
                "status_message": self.validation.status_message,
                "records": [{"name": r.name, "type": r.type, "zone": r.zone_name, "zone_id": r.zone_id,
                             "owned": r.owned, "served": r.served, "status_message": r.status_message}
                            for r in self.records]}


def asked_records(validation_records: pulumi.Output) -> pulumi.Output:
    """A certificate's `validation_records` output (ACM, SCM) as the {name, type, value} a Challenge carries."""
    return validation_records.apply(lambda records: [{k: r[k] for k in ("name", "type", "value")}
                                                     for r in records or []])


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
    # Asking, but no record shown (a challenge not published yet, a failed read): None keeps what was asked.
    values = (sorted({r["value"] for r in found}) or None) if asking else []
    return {"name": record_names[0] if record_names else None, "type": types[0] if types else None,
            "values": values, "names_asked": record_names}


def validate_through_dns(challenges: list[Challenge], parent: pulumi.Resource,
                         section: str) -> dict[str, EntryValidation]:
    """Declare the records and the waits of `challenges` as children of `parent`; entry -> its validation."""
    if not challenges:
        return {}  # no `dns` in this section: no DNS identity either
    owner = stack_owner()
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
            "section": section, "provider": provider, "zone_ref": spec.zone, "region": region, "domain": base,
            "record_name": base, "used_by": sorted({c.entry for c in contributors}),
            "name": asked.apply(lambda a: a["name"]), "type": asked.apply(lambda a: a["type"]),
            "values": asked.apply(lambda a: a["values"]), "ttl": spec.ttl, "owner": owner,
            "propagation_timeout_seconds": spec.propagation_timeout_seconds,
            "keep_with_certificate": any(c.keeps_certificate for c in contributors),
        }, pulumi.ResourceOptions(parent=parent))
    out: dict[str, EntryValidation] = {}
    for challenge in challenges:
        mine = [records[k] for k in entry_keys[challenge.entry]]
        served = pulumi.Output.all(*[r.validation_view for r in mine])
        validation = CertificateValidation(f"{challenge.entry}-validation", {
            "entry": challenge.entry, "cloud": challenge.cloud, "certificate_id": challenge.certificate_id,
            "region": challenge.region, "records": served,
            "validation_timeout_seconds": challenge.dns.validation_timeout_seconds,
            "recorded": challenge.recorded if challenge.recorded is not None else {},
        }, pulumi.ResourceOptions(parent=parent))
        out[challenge.entry] = EntryValidation(validation, mine, challenge.pending)
    return out


def validated(validation: EntryValidation | None, key: str, status: pulumi.Output[str],
              message: pulumi.Output[str]) -> dict[str, Any]:
    """An entry's `validation` summary, and, while the certificate resource's own status is a pending one (it
    learns of the issuance on the next `pulumi up --refresh`), its status (`key`) and message as the
    validation's: the CA's status once issued, else what certfleet is waiting for (not "publish the records":
    certfleet does that now). A status of its own that is not pending (issued, unusable, failed) is shown as it
    is."""
    if validation is None:
        return {}
    wait = validation.validation
    shown_message = pulumi.Output.all(message, validation.pending, wait.status_message).apply(
        lambda m: m[2] if m[1] and m[2] else m[0])
    return {key: issued_status(validation, status), "status_message": shown_message,
            "validation": validation.summary()}


def issued_status(validation: EntryValidation | None, status: pulumi.Output[str]) -> pulumi.Output[str]:
    """The certificate's status, or the CA's once the validation saw it issued while the certificate resource
    still says pending (a distribution then binds in the same run)."""
    if validation is None:
        return status
    return pulumi.Output.all(status, validation.pending, validation.validation.status,
                             validation.validation.issued).apply(lambda s: s[2] if s[1] and s[3] else s[0])


def issued_view(cert_outputs: Mapping[str, Any], validation: EntryValidation | None) -> dict[str, pulumi.Output]:
    """The certificate as issued, per MATERIAL_KEYS (certificate_pem, certificate_chain_pem, private_key,
    not_after, not_before), "" for what there is none of: what the stack exports, the `renewal` object and the
    deploy targets take, so a certificate the validation saw issued is deployed, bound and dated in the same
    run. `cert_outputs`: the certificate resource's own outputs under those keys (absent: it has none, e.g. a
    CAS order's chain; not_before defaults to its certificate's).

    While the certificate resource's own status is a pending one, each value is the validation's, else the
    certificate's (certfleet's generated key: the CA has none to give). The validation gives material only when
    it passes the checks the certificate's provider applies (components/dns/material_checks.py: the entry's key
    and names, never an adopted order's, never another application's on a CAS instance), else "". Otherwise the certificate's own: the
    same material once `up --refresh` has read it, and nothing where it deliberately records none (a key or
    names mismatch, another application's certificate). `private_key` is a secret."""
    from components.renewal import certificate_not_before

    own = {key: pulumi.Output.from_input(cert_outputs.get(key)).apply(lambda v: v or "") for key in MATERIAL_KEYS}
    if "not_before" not in cert_outputs:
        own["not_before"] = own["certificate_pem"].apply(lambda pem: certificate_not_before(pem) or "")
    if validation is None:
        view = own
    else:
        wait = validation.validation
        # The certificate's own value is asked for only when needed: a pending certificate's own outputs are
        # null in the state, which a preview reads as unknown, and would make every downstream input unknown.
        view = {key: pulumi.Output.all(validation.pending, getattr(wait, key)).apply(
                    lambda v, own_value=own[key]: v[1] if v[0] and v[1] else own_value) for key in MATERIAL_KEYS}
    return {**view, "private_key": pulumi.Output.secret(view["private_key"])}
