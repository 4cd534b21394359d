"""Component resources that wire the validated config model to the dynamic providers."""

from __future__ import annotations

from typing import Any

import pulumi

from components.alicloud import cas
from components.alicloud.cas import CasOrder
from components.alicloud.config import AlicloudSpec
from components.aws.acm import AcmCertificate
from components.aws.config import AwsSpec
from components.huaweicloud import scm
from components.huaweicloud.config import HuaweiSpec
from components.huaweicloud.scm import ScmCertificate
from components.journal import PurchaseJournal, fingerprint


def renamed_from(previous_names: tuple[str, ...], opts: pulumi.ResourceOptions) -> pulumi.ResourceOptions:
    """An entry's former names as Pulumi aliases: the resource keeps its identity, nothing is replaced."""
    aliases = [pulumi.Alias(name=old) for old in previous_names]
    return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(aliases=aliases)) if aliases else opts


def purchase_journal(section: str, purchases: dict[str, str], previous: dict[str, tuple[str, ...]],
                     parent: pulumi.Resource) -> PurchaseJournal:
    """The section's journal (components/journal.py), saved before any of its purchases."""
    return PurchaseJournal(f"{section.split('.')[0]}-journal", section, purchases,
                           {k: list(v) for k, v in previous.items()}, pulumi.ResourceOptions(parent=parent))


# What the stack exports per ACM certificate (also what scripts/report.py prints).
ACM_OUTPUTS = ("arn", "status", "status_message", "domain", "sans", "validation_records", "not_after")


class AwsCertificates(pulumi.ComponentResource):
    """All ACM certificates of `certfleet:aws`, as children of one component."""

    certificates: dict[str, AcmCertificate]

    def __init__(self, name: str, aws: AwsSpec, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("certfleet:aws:Certificates", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.certificates = {spec.name: AcmCertificate(spec.name, spec, aws, renamed_from(spec.previous_names, child))
                             for spec in aws.certificates}
        self.register_outputs({"certificates": self.summary()})

    def summary(self) -> dict[str, Any]:
        return {name: {key: getattr(cert, key) for key in ACM_OUTPUTS}
                for name, cert in self.certificates.items()}

    def dns_records(self) -> pulumi.Output[list[dict[str, Any]]]:
        """Every validation record to publish, once, with the certificates that need it."""
        named = [cert.validation_records.apply(lambda records, n=name: [(n, r) for r in records or []])
                 for name, cert in self.certificates.items()]
        return pulumi.Output.all(*named).apply(merge_records)


# What the stack exports per SCM certificate (the private key stays out: it is a secret of the resource).
SCM_OUTPUTS = ("certificate_id", "order_id", "status", "status_message", "domains", "validation_records",
               "not_after")


class HuaweiCertificates(pulumi.ComponentResource):
    """All SCM certificates of `certfleet:huaweicloud`, as children of one component."""

    certificates: dict[str, ScmCertificate]

    def __init__(self, name: str, huawei: HuaweiSpec, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("certfleet:huaweicloud:Certificates", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        journal = purchase_journal(
            "huaweicloud.certificates",
            {s.name: fingerprint(scm.certificate_inputs(s, huawei, ""), scm.HASH_KEYS) for s in huawei.certificates},
            {s.name: s.previous_names for s in huawei.certificates}, self)
        self.certificates = {spec.name: ScmCertificate(spec.name, spec, huawei, journal.stamp_of(spec.name),
                                                       renamed_from(spec.previous_names, child))
                             for spec in huawei.certificates}
        self.register_outputs({"certificates": self.summary()})

    def summary(self) -> dict[str, Any]:
        return {name: {key: getattr(cert, key) for key in SCM_OUTPUTS} for name, cert in self.certificates.items()}


def merge_records(per_certificate: list[list[tuple[str, dict[str, Any]]]]) -> list[dict[str, Any]]:
    merged: dict[tuple[str, str, str], dict[str, Any]] = {}
    for pairs in per_certificate:
        for cert_name, record in pairs:
            key = (record["name"], record["type"], record["value"])
            entry = merged.setdefault(key, {"name": key[0], "type": key[1], "value": key[2], "certificates": []})
            entry["certificates"] = sorted({*entry["certificates"], cert_name})
    return sorted(merged.values(), key=lambda r: r["name"])


# What the stack exports per CAS order (also what scripts/report.py prints). private_key is a secret.
CAS_OUTPUTS = ("order_id", "state", "status_message", "product_code", "domains", "challenge", "not_after", "cert_id",
               "certificate_pem", "private_key", "adopted")


class AlicloudOrders(pulumi.ComponentResource):
    """All CAS orders of `certfleet:alicloud`, as children of one component."""

    orders: dict[str, CasOrder]

    def __init__(self, name: str, alicloud: AlicloudSpec, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("certfleet:alicloud:Orders", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        journal = purchase_journal(
            "alicloud.orders",
            {s.name: fingerprint(cas.order_inputs(s, alicloud), cas.REPLACE_KEYS) for s in alicloud.orders},
            {s.name: s.previous_names for s in alicloud.orders}, self)
        self.orders = {spec.name: CasOrder(spec.name, spec, alicloud, journal.stamp_of(spec.name),
                                           renamed_from(spec.previous_names, child))
                       for spec in alicloud.orders}
        self.register_outputs({"orders": self.summary()})

    def summary(self) -> dict[str, Any]:
        return {name: {key: getattr(order, key) for key in CAS_OUTPUTS} for name, order in self.orders.items()}
