"""certfleet:aws as Pulumi resources: ACM certificates requested and imported, template snapshots, distributions.

Everything is a child of one component ("certfleet:aws:Certificates" named "aws": the type and name stay
as they were before distributions existed, so the URNs of existing certificates do not change).

Order comes from the data flow, not from `depends_on`: a distribution takes its certificate's `arn` and
`status` as inputs, so the engine creates (and, on a replacement, re-points) the distribution after the
certificate and deletes the certificate only after every distribution that used it let go.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping

import pulumi

from components.aws.acm import AcmCertificate
from components.dns.fleet import Challenge, asked_records, issued_status, validate_through_dns, validated
from components.aws.acm_import import AcmImport
from components.aws.cloudfront import Distribution
from components.aws.config import AwsSpec
from components.aws.templates import DistributionTemplate, template_resource_name
from components.dynamic import renamed_from
from components.packed_provider import fields_of


# What the stack exports per resource (also what scripts/report.py prints).
# `adopted`: the object was adopted by id (the entry's `adopt`), not made by certfleet; destroy keeps it.
ACM_OUTPUTS = ("arn", "status", "status_message", "domain", "sans", "validation_records", "not_after", "adopted",
               "renewal_status", "renewal_eligibility")
IMPORT_OUTPUTS = ("arn", "status", "status_message", "domain", "sans", "not_after", "adopted")
DISTRIBUTION_OUTPUTS = ("distribution_id", "domain_name", "status", "stage", "status_message", "aliases",
                        "certificate_arn", "bound", "adopted", "edge",  # edge: components/aws/edge_check.py
                        "certificate_fingerprint")  # what the edge must serve (scripts/report.py edge_lines)


class AwsCertificates(pulumi.ComponentResource):
    """All of `certfleet:aws`: requested and imported certificates, template snapshots and distributions."""

    certificates: dict[str, AcmCertificate]
    imports: dict[str, AcmImport]
    templates: dict[str, DistributionTemplate]
    distributions: dict[str, Distribution]

    def __init__(self, name: str, aws: AwsSpec, opts: pulumi.ResourceOptions | None = None,
                 deployed: Mapping[str, Any] | None = None) -> None:
        """`deployed`: source path (e.g. alicloud.orders.docs) -> its ACM copy (components/deploy/), for the
        distributions it serves."""
        super().__init__("certfleet:aws:Certificates", name, None, opts)
        self.aws = aws
        child = pulumi.ResourceOptions(parent=self)
        self.reuses = dict(aws.reuses)  # aggregate: entry -> the wildcard certificate that serves it
        # A certificate whose records certfleet writes (`dns`) does not wait for ISSUED in its own create: the
        # records come after it; its CertificateValidation waits instead (components/dns/validation.py).
        self.certificates = {spec.name: AcmCertificate(spec.name, spec,
                                                       replace(aws, issued_timeout_seconds=0) if spec.dns else aws,
                                                       renamed_from(spec.previous_names, child))
                             for spec in aws.certificates if spec.name not in self.reuses}
        self.validations = validate_through_dns([
            Challenge(spec.name, "acm", spec.dns, spec.sans, cert.arn, asked_records(cert.validation_records),
                      pulumi.Output.from_input(True), cert.status.apply(lambda status: status == "PENDING_VALIDATION"),
                      aws.region, keeps_certificate=keeps_on_destroy(spec))
            for spec in aws.certificates if spec.dns and (cert := self.certificates.get(spec.name))], self, "aws")
        self.imports = {spec.name: AcmImport(spec.name, spec, aws, renamed_from(spec.previous_names, child))
                        for spec in aws.imports}
        store = ({"table": aws.version_store.table, "region": aws.version_store.region}
                 if aws.version_store else None)
        self.templates = {}
        for spec in aws.distributions:
            key = template_resource_name(spec.template, spec.template_version)
            if key not in self.templates:
                self.templates[key] = DistributionTemplate(key, spec.template, spec.template_version, store, child)
        self.distributions = {}
        for spec in aws.distributions:
            serving = {"import": self.imports, "deployed": deployed or {}}.get(
                spec.serving_kind, self.certificates)[spec.serving_certificate]
            self.distributions[spec.name] = Distribution(
                spec.name, spec, aws, self.templates[template_resource_name(spec.template, spec.template_version)],
                serving.arn, issued_status(self.validations.get(spec.serving_certificate), serving.status),
                renamed_from(spec.previous_names, child), serving_fingerprint(spec, serving))
        self.register_outputs({})   # what it holds is the stack's export (__main__.py): not kept twice in the state

    def summary(self) -> dict[str, Any]:
        return {name: self._summary(name, cert) for name, cert in self.certificates.items()}

    def _summary(self, name: str, cert: AcmCertificate) -> Any:
        reused = self._reused_by(name)
        validation = self.validations.get(name)
        if validation is None:   # one output for the entry (components/packed_provider.py fields_of)
            return fields_of(cert, ACM_OUTPUTS).apply(lambda fields: {**fields, **reused})
        return {**{key: getattr(cert, key) for key in ACM_OUTPUTS}, **reused,
                **validated(validation, "status", cert.status, cert.status_message)}

    def _reused_by(self, serving: str) -> dict[str, list[str]]:
        """aggregate: the entries this certificate serves besides its own."""
        entries = sorted(entry for entry, by in self.reuses.items() if by == serving)
        return {"reused_by": entries} if entries else {}

    def imports_summary(self) -> dict[str, Any]:
        return {name: {**{key: getattr(imported, key) for key in IMPORT_OUTPUTS}, **self._reused_by(name)}
                for name, imported in self.imports.items()}

    def distributions_summary(self) -> dict[str, Any]:
        out = {}
        for spec in self.aws.distributions:
            distribution = self.distributions[spec.name]
            written = {"certificate": spec.certificate, "template": spec.template,
                       "template_version": spec.template_version}
            # One output per entry (components/packed_provider.py fields_of), as the certificates'.
            out[spec.name] = fields_of(distribution, DISTRIBUTION_OUTPUTS).apply(
                lambda fields, written=written: {**fields, **written})
        return out

    def dns_records(self) -> pulumi.Output[list[dict[str, Any]]]:
        """Every validation record to publish, once, with the certificates that need it."""
        named = [cert.validation_records.apply(lambda records, n=name: [(n, r) for r in records or []])
                 for name, cert in self.certificates.items()]
        return pulumi.Output.all(*named).apply(merge_records)

    def exports(self) -> dict[str, Any]:
        return {"certificates": self.summary(), "imports": self.imports_summary(),
                "distributions": self.distributions_summary(), "aggregated": dict(sorted(self.reuses.items())),
                "validationRecords": self.dns_records()}


def serving_fingerprint(spec: Any, serving: Any) -> Any:
    """The fingerprint of what an import or a deployed copy holds now ("" while it holds nothing, never null): an
    in-place re-import changes it, so the distribution binds and checks its edge again (cloudfront.py). "" for a
    requested certificate: ACM renews it in place and a refresh re-checks the edge."""
    if spec.serving_kind not in ("import", "deployed"):
        return ""
    return pulumi.Output.from_input(serving.fingerprint).apply(lambda fingerprint: fingerprint or "")


def keeps_on_destroy(spec: Any) -> bool:
    """Destroy keeps this certificate (onDestroy: keep, or adopted without onDestroy: delete): its validation
    CNAME stays with it (components/dns/record_checks.py)."""
    return spec.on_destroy == "keep" or (bool(spec.adopt) and spec.on_destroy != "delete")


def merge_records(per_certificate: list[list[tuple[str, dict[str, Any]]]]) -> list[dict[str, Any]]:
    merged: dict[tuple[str, str, str], dict[str, Any]] = {}
    for pairs in per_certificate:
        for cert_name, record in pairs:
            key = (record["name"], record["type"], record["value"])
            entry = merged.setdefault(key, {"name": key[0], "type": key[1], "value": key[2], "certificates": []})
            entry["certificates"] = sorted({*entry["certificates"], cert_name})
    return sorted(merged.values(), key=lambda r: r["name"])
