"""Component resources that wire the validated config model to the dynamic providers."""

from __future__ import annotations

from typing import Any

import pulumi

from components.aws.acm import AcmCertificate
from components.config import AwsSpec

# What the stack exports per ACM certificate (also what scripts/report.py prints).
ACM_OUTPUTS = ("arn", "status", "status_message", "domain", "sans", "validation_records", "not_after")


class AwsCertificates(pulumi.ComponentResource):
    """All ACM certificates of `certfleet:aws`, as children of one component."""

    certificates: dict[str, AcmCertificate]

    def __init__(self, name: str, aws: AwsSpec, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("certfleet:aws:Certificates", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.certificates = {spec.name: AcmCertificate(spec.name, spec, aws, child) for spec in aws.certificates}
        self.register_outputs({"certificates": self.summary()})

    def summary(self) -> dict[str, Any]:
        return {name: {key: getattr(cert, key) for key in ACM_OUTPUTS}
                for name, cert in self.certificates.items()}

    def dns_records(self) -> pulumi.Output[list[dict[str, Any]]]:
        """Every validation record to publish, once, with the certificates that need it."""
        named = [cert.validation_records.apply(lambda records, n=name: [(n, r) for r in records or []])
                 for name, cert in self.certificates.items()]
        return pulumi.Output.all(*named).apply(merge_records)


def merge_records(per_certificate: list[list[tuple[str, dict[str, Any]]]]) -> list[dict[str, Any]]:
    merged: dict[tuple[str, str, str], dict[str, Any]] = {}
    for pairs in per_certificate:
        for cert_name, record in pairs:
            key = (record["name"], record["type"], record["value"])
            entry = merged.setdefault(key, {"name": key[0], "type": key[1], "value": key[2], "certificates": []})
            entry["certificates"] = sorted({*entry["certificates"], cert_name})
    return sorted(merged.values(), key=lambda r: r["name"])
