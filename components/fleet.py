"""Component resources that wire the validated config model to the dynamic providers."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable, Mapping

import pulumi

from components.alicloud import cas
from components.alicloud.cas import CasOrder
from components.alicloud.config import AlicloudSpec
from components.alicloud import instance_checks
from components.alicloud.instance import CasInstanceCertificate
from components.aws.fleet import AwsCertificates  # noqa: F401 (the program imports it from here)
from components.huaweicloud import scm
from components.huaweicloud.config import HuaweiSpec
from components.huaweicloud.scm import ScmCertificate
from components.dns.fleet import Challenge, asked_records, issued_status, issued_view, validate_through_dns, validated
from components.dns.material_checks import recorded_of
from components.dynamic import renamed_from
from components.huaweicloud.scm_model import ISSUED_LIKE, UNDER_REVIEW

# CAS states (orders: alicloud/status.py; instance entries: alicloud/instance_checks.py) for DNS validation:
# once issued the TXT record goes; while pending, the validation's view of the CA is the news.
CAS_ISSUED = ("certificate", "issued")
CAS_PENDING = ("domain_verify", "process", "pending")
from components.journal import PurchaseJournal, fingerprint
from components.packed_provider import UNKNOWN, fields_of
from components.renewal import HELD_KEY, RENEWAL_KEY, RENEWS_KEY, PreviousOutputs, SectionRenewal, held_from


def purchase_journal(section: str, purchases: dict[str, str], previous: dict[str, tuple[str, ...]],
                     parent: pulumi.Resource, adopting: list[str]) -> PurchaseJournal:
    """The section's journal (components/journal.py), saved before any of its purchases."""
    return PurchaseJournal(f"{section.split('.')[0]}-journal", section, purchases,
                           {k: list(v) for k, v in previous.items()}, pulumi.ResourceOptions(parent=parent),
                           adopting)


def buys(spec: Any) -> bool:
    """May this entry's create place a paid order? Not an entry that adopts an existing object without
    `replaceAdopted`: its create adopts or refuses, never buys, so the journal counts it as no purchase
    (`adopting`). It is still journalled: removing its `adopt` line must change nothing, and a later
    replacement of the entry, which buys, needs its stamp."""
    return not spec.adopt or spec.replace_adopted


# What the stack exports per SCM certificate (the private key stays out: it is a secret of the resource).
SCM_OUTPUTS = ("certificate_id", "order_id", "status", "status_message", "domains", "validation_records",
               "not_after", "adopted")


class HuaweiCertificates(pulumi.ComponentResource):
    """All SCM certificates of `certfleet:huaweicloud`, as children of one component."""

    certificates: dict[str, ScmCertificate]

    def __init__(self, name: str, huawei: HuaweiSpec, opts: pulumi.ResourceOptions | None = None,
                 previous: PreviousOutputs | None = None) -> None:
        """`previous`: the stack's previous outputs (components/renewal.py), when some entry declares renewBefore."""
        super().__init__("certfleet:huaweicloud:Certificates", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.renewal = SectionRenewal("huaweicloud", "certificates", huawei.certificates, previous, "certificate_id")
        journal = purchase_journal(
            "huaweicloud.certificates",
            {s.name: self.renewal.fingerprint(s.name, scm.certificate_inputs(s, huawei, ""), scm.HASH_KEYS, fingerprint)
             for s in huawei.certificates},
            {s.name: s.previous_names for s in huawei.certificates}, self,
            [s.name for s in huawei.certificates if not buys(s)])
        # An entry whose records certfleet writes does not wait for issuance in its create (the records come
        # after it): its CertificateValidation does (components/dns/validation.py).
        self.certificates = {spec.name: ScmCertificate(spec.name, spec, without_issuance_wait(huawei, spec),
                                                       journal.stamp_of(spec.name),
                                                       renamed_from(spec.previous_names, child),
                                                       renewal=self.renewal.inputs(spec.name))
                             for spec in huawei.certificates}
        self.validations = validate_through_dns([
            Challenge(spec.name, "scm", spec.dns, spec.domains, cert.certificate_id,
                      asked_records(cert.validation_records),
                      cert.status.apply(lambda status: status not in ISSUED_LIKE),
                      cert.status.apply(lambda status: status in UNDER_REVIEW), huawei.region)
            for spec in huawei.certificates if spec.dns and (cert := self.certificates[spec.name])], self,
            "huaweicloud")
        # The certificate as issued (what the validation saw issued in this run, or its own): everything
        # downstream takes it (components/dns/fleet.issued_view).
        self.issued = IssuedViews(lambda name, cert=self.certificates.get: issued_view(
            {"certificate_pem": cert(name).certificate_pem, "certificate_chain_pem": cert(name).certificate_chain_pem,
             "private_key": cert(name).private_key_pem, "not_after": cert(name).not_after},
            self.validations.get(name)))
        self.register_outputs({})   # what it holds is the stack's export (__main__.py): not kept twice in the state

    def summary(self) -> dict[str, Any]:
        return {name: self._validated_entry(name, cert) if name in self.validations else self._entry(name, cert)
                for name, cert in self.certificates.items()}

    def _entry(self, name: str, cert: ScmCertificate) -> Any:
        """An entry without DNS validation, as one output (components/packed_provider.fields_of): its issued view
        is its own, so all of it comes from the certificate's `spec`."""
        def entry(fields: dict[str, Any]) -> dict[str, Any]:
            return {**{key: fields[key] for key in SCM_OUTPUTS}, "not_after": fields["not_after"] or None,
                    "renewal": renewal_entry(self.renewal, name, fields, fields["status"] in ISSUED_LIKE)}
        return fields_of(cert, (*SCM_OUTPUTS, *RENEWAL_FIELDS)).apply(entry)

    def _validated_entry(self, name: str, cert: ScmCertificate) -> dict[str, Any]:
        validation = self.validations.get(name)
        return {**{key: getattr(cert, key) for key in SCM_OUTPUTS},
                "not_after": exported(self.issued[name]["not_after"]),
                "renewal": self.renewal.output(
                    name, cert, issued_status(validation, cert.status).apply(lambda s: s in ISSUED_LIKE),
                    self.issued[name]["certificate_pem"], self.issued[name]["not_after"]),
                **validated(validation, "status", cert.status, cert.status_message)}


# What the stack exports per CAS order (also what scripts/report.py prints). private_key is a secret.
CAS_OUTPUTS = ("order_id", "state", "status_message", "product_code", "domains", "challenge", "not_after", "cert_id",
               "certificate_pem", "private_key", "adopted", "adopted_by_id")


class AlicloudOrders(pulumi.ComponentResource):
    """All CAS orders of `certfleet:alicloud`, as children of one component."""

    orders: dict[str, CasOrder | CasInstanceCertificate]

    def __init__(self, name: str, alicloud: AlicloudSpec, opts: pulumi.ResourceOptions | None = None,
                 previous: PreviousOutputs | None = None) -> None:
        """`previous`: the stack's previous outputs (components/renewal.py), when some entry declares renewBefore.
        Orders renew; instance entries do not (no renewBefore)."""
        super().__init__("certfleet:alicloud:Orders", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.renewal = SectionRenewal("alicloud", "orders", alicloud.orders, previous, "order_id")
        # Entries with `instance:` (applied for through a V2.0 instance) share the journal: an interrupted
        # application is recognised by its journal stamp (components/alicloud/instance_checks.py).
        instances = alicloud.instance_orders
        journal = purchase_journal(
            "alicloud.orders",
            {**{s.name: self.renewal.fingerprint(s.name, cas.order_inputs(s, alicloud), cas.REPLACE_KEYS, fingerprint)
                for s in alicloud.orders},
             **{s.name: fingerprint(instance_checks.instance_inputs(s, 0, "", []), instance_checks.REPLACE_KEYS)
                for s in instances}},
            {s.name: s.previous_names for s in (*alicloud.orders, *instances)}, self,
            [s.name for s in alicloud.orders if not buys(s)])
        self.orders = {spec.name: CasOrder(spec.name, spec, without_issuance_wait(alicloud, spec),
                                           journal.stamp_of(spec.name), renamed_from(spec.previous_names, child),
                                           renewal=self.renewal.inputs(spec.name))
                       for spec in alicloud.orders}
        self.orders.update({spec.name: CasInstanceCertificate(
            spec.name, spec, without_issuance_wait(alicloud, spec).issued_timeout_seconds, journal.stamp_of(spec.name),
            renamed_from(spec.previous_names, child)) for spec in instances})
        self.validations = validate_through_dns([
            Challenge(spec.name, kind, spec.dns, spec.domains,
                      order.instance_id if kind == "cas-instance" else order.order_id,
                      order.challenges.apply(dns_challenges),
                      order.state.apply(lambda state: state not in CAS_ISSUED),
                      order.state.apply(lambda state: state in CAS_PENDING),
                      recorded=recorded_of(order, kind))
            for spec in (*alicloud.orders, *instances)
            if spec.dns and (order := self.orders[spec.name]) and (kind := "cas-instance" if spec in instances else "cas")],
            self,
            "alicloud")
        # The certificate as issued (components/dns/fleet.issued_view); CAS keeps no chain apart.
        self.issued = IssuedViews(lambda name, order=self.orders.get: issued_view(
            {"certificate_pem": order(name).certificate_pem, "private_key": order(name).private_key,
             "not_after": order(name).not_after}, self.validations.get(name)))
        self.register_outputs({})   # what it holds is the stack's export (__main__.py): not kept twice in the state

    def summary(self) -> dict[str, Any]:
        return {name: self._entry(name, order) if isinstance(order, CasOrder) and name not in self.validations
                else self._validated_entry(name, order) for name, order in self.orders.items()}

    def _entry(self, name: str, order: CasOrder) -> Any:
        """An order without DNS validation, as one output (components/packed_provider.fields_of): its issued view
        is its own, so all of it comes from the order's `spec` but the private key (a secret of its own)."""
        private_key = exported_key(order.private_key)

        def entry(fields: dict[str, Any]) -> dict[str, Any]:
            return {**{key: fields[key] for key in CAS_OUTPUTS if key != "private_key"},
                    **{key: fields[key] or None for key in ("certificate_pem", "not_after")},
                    "private_key": private_key,
                    "renewal": renewal_entry(self.renewal, name, fields, fields["state"] == "certificate")}
        return fields_of(order, (*(k for k in CAS_OUTPUTS if k != "private_key"), *RENEWAL_FIELDS)).apply(entry)

    def _validated_entry(self, name: str, order: CasOrder | CasInstanceCertificate) -> dict[str, Any]:
        validation = self.validations.get(name)
        instance = isinstance(order, CasInstanceCertificate)
        return {**{key: getattr(order, key) for key in CAS_OUTPUTS},
                **{key: exported(self.issued[name][key]) for key in ("certificate_pem", "not_after")},
                "private_key": exported_key(self.issued[name]["private_key"]),
                **({} if instance else {"renewal": self.renewal.output(
                    name, order, issued_status(validation, order.state).apply(lambda s: s == "certificate"),
                    self.issued[name]["certificate_pem"], self.issued[name]["not_after"])}),
                **({"instance_id": order.instance_id} if instance else {}),
                **validated(validation, "state", order.state, order.status_message)}


class IssuedViews(dict):
    """entry -> its issued view (components/dns/fleet.issued_view), made when first asked for: only deploy
    targets and DNS-validated entries read it, and each view is half a dozen outputs per entry."""

    def __init__(self, view_of: Callable[[str], dict[str, pulumi.Output]]) -> None:
        super().__init__()
        self.view_of = view_of

    def __missing__(self, name: str) -> dict[str, pulumi.Output]:
        self[name] = view = self.view_of(name)
        return view


# What an entry's `renewal` object is made of (renewal.held_from's arguments, then the issued certificate's).
RENEWAL_FIELDS = (HELD_KEY, RENEWAL_KEY, RENEWS_KEY, "not_after", "certificate_pem")


def renewal_entry(renewal: SectionRenewal, name: str, fields: Mapping[str, Any], issued: bool) -> Any:
    """An entry's `renewal` object from its resource's fields (fields_of): unknown while one of them is."""
    if any(fields[key] == UNKNOWN for key in RENEWAL_FIELDS):
        return UNKNOWN
    return renewal.entry(name, held_from(*(fields[key] for key in RENEWAL_FIELDS[:3])), issued,
                         fields["not_after"], fields["certificate_pem"])


def exported(value: pulumi.Output) -> pulumi.Output:
    """An issued_view value as the stack exports it: null for none (schema/outputs.v1.schema.json)."""
    return value.apply(lambda v: v or None)


def exported_key(key: pulumi.Output) -> pulumi.Output:
    """A private key as the stack exports it: a secret when there is one, a plain null when there is none (an
    order pending, or with the user's own CSR): a secret null would cost an encrypted value per order for nothing."""
    return pulumi.Output.unsecret(key).apply(lambda value: pulumi.Output.secret(value) if value else None)


def without_issuance_wait(section: Any, spec: Any) -> Any:
    """The section as an entry with `dns` sees it: its create does not wait for issuance (the records come
    after it; the entry's CertificateValidation waits)."""
    return replace(section, issued_timeout_seconds=0) if spec.dns else section


def dns_challenges(challenges: list[Any] | None) -> list[dict[str, Any]]:
    """A CAS order's or instance entry's `challenges` as {name, type, value}: the DNS ones only. Not `challenge`:
    null once issued, it would read as unknown in every preview. (An order recorded before `challenges` existed
    shows none until its next refresh: its record keeps what it had, or waits for that refresh.)"""
    return [{"name": c["name"], "type": c.get("record_type") or "TXT", "value": c["value"]}
            for c in challenges or [] if c and c.get("type") == "DNS"]
