"""Deployments as Pulumi resources: one per (source entry, target cloud), children of one component.

Sources: CAS orders and instance entries (their `certificate_pem` is the leaf and its chain, their `private_key`
a secret output), SCM certificates (`certificate_pem`, `certificate_chain_pem`, `private_key_pem`), each as its
section's `issued` view (components/dns/fleet.issued_view: a DNS-validated entry's certificate as its validation
saw it issued in this run), and ACM imports (the config's PEMs). A source without a certificate is fed as ""
(never null: the engine drops null outputs and a preview would read them as unknown); the target keeps what it
deployed.
The key is wrapped in Output.secret again here, whatever the source did, so the engine encrypts it everywhere.

Resource names are `<source>-to-<cloud>` (e.g. `alicloud.orders.docs-to-aws`); the identity tagged on each copy
is `<project>/<stack>/deploy:<source>:<cloud>`, so a copy is proven this stack's before anything deletes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

import pulumi

from components.deploy import material
from components.deploy.acm_target import AcmTarget
from components.deploy.cas_upload import CasUpload
from components.deploy.config import DeployTarget
from components.deploy.scm_import import ScmImport
from components.dynamic import resource_identity

DEFAULT_SCM_REGION = "cn-north-4"
DEFAULT_DELETE_IN_USE_TIMEOUT_SECONDS = 1200


@dataclass(frozen=True)
class Source:
    """A certificate entry with targets, and its material as Pulumi inputs."""

    path: str                       # e.g. alicloud.orders.docs (the config path without the namespace)
    targets: tuple[DeployTarget, ...]
    certificate_pem: Any            # Input[str]: "" while there is none
    chain_pem: Any                  # Input[str]
    private_key_pem: Any            # Input[str], secret


def sources(fleet: Any, alicloud: Any = None, huaweicloud: Any = None) -> list[Source]:
    """Every entry of the fleet (FleetSpec) with `deployTo`, from the section components that hold it."""
    out: list[Source] = []
    for spec in ((*fleet.alicloud.orders, *fleet.alicloud.instance_orders) if fleet.alicloud and alicloud else ()):
        if spec.deploy_to:
            issued = alicloud.issued[spec.name]
            out.append(Source(f"alicloud.orders.{spec.name}", spec.deploy_to, issued["certificate_pem"], "",
                              pulumi.Output.secret(issued["private_key"])))
    for spec in (fleet.huaweicloud.certificates if fleet.huaweicloud and huaweicloud else ()):
        if spec.deploy_to:
            issued = huaweicloud.issued[spec.name]
            out.append(Source(f"huaweicloud.certificates.{spec.name}", spec.deploy_to, issued["certificate_pem"],
                              issued["certificate_chain_pem"], pulumi.Output.secret(issued["private_key"])))
    for spec in (fleet.aws.imports if fleet.aws else ()):
        if spec.deploy_to:
            out.append(Source(f"aws.imports.{spec.name}", spec.deploy_to, spec.certificate_pem, spec.chain_pem or "",
                              pulumi.Output.secret(spec.private_key_pem or "")))
    return out


class Deployments(pulumi.ComponentResource):
    """Every deployment target of the stack ("certfleet:deploy:Deployments" named "deploy")."""

    def __init__(self, name: str, fleet: Any, found: Iterable[Source], opts: pulumi.ResourceOptions | None = None):
        super().__init__("certfleet:deploy:Deployments", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        scm_region = fleet.huaweicloud.region if fleet.huaweicloud else DEFAULT_SCM_REGION
        in_use_timeout = fleet.aws.delete_in_use_timeout_seconds if fleet.aws else DEFAULT_DELETE_IN_USE_TIMEOUT_SECONDS
        self.targets: dict[str, dict[str, Any]] = {}
        for source in found:
            for target in source.targets:
                inputs = {"source": source.path, "resource_tag": resource_identity(f"deploy:{source.path}:{target.cloud}"),
                          "certificate_pem": source.certificate_pem, "chain_pem": source.chain_pem,
                          "private_key_pem": source.private_key_pem, "source_pending": False}
                resource_name = f"{source.path}-to-{target.cloud}"
                copy_name = target.name or material.default_copy_name(pulumi.get_stack(), source.path)
                if target.cloud == "aws":
                    resource = AcmTarget(resource_name, {
                        **inputs, "cert_name": f"deploy:{source.path}", "previous_resource_tags": [],
                        "region": target.region, "tags": dict(target.tags), "expiry_margin_days": 0,
                        "delete_in_use_timeout_seconds": in_use_timeout, "adopt_id": None,
                        "replace_adopted": False, "on_destroy": None}, child)
                elif target.cloud == "alicloud":
                    resource = CasUpload(resource_name, {**inputs, "name": copy_name}, child)
                else:
                    resource = ScmImport(resource_name, {**inputs, "name": copy_name,
                                                         "region": target.region or scm_region}, child)
                self.targets.setdefault(source.path, {})[target.cloud] = resource
        self.register_outputs({})

    def acm(self) -> dict[str, AcmTarget]:
        """source path -> its ACM copy (the distributions a deployed copy serves take its arn and status)."""
        return {path: by_cloud["aws"] for path, by_cloud in self.targets.items() if "aws" in by_cloud}

    def summary(self, path: str) -> dict[str, Any]:
        """What the stack exports under the source entry: `deployments: {<cloud>: {...}}`."""
        out = {}
        for cloud, resource in sorted(self.targets.get(path, {}).items()):
            copy_id = {"aws": "arn", "alicloud": "cert_id", "huaweicloud": "certificate_id"}[cloud]
            out[cloud] = {"id": getattr(resource, copy_id), "fingerprint": resource.fingerprint,
                          "not_after": resource.not_after, "status": resource.status,
                          "status_message": resource.status_message}
        return out


def with_deployments(summary: Mapping[str, Any], section_path: str, deployments: Deployments | None) -> dict[str, Any]:
    """A section's exported entries, each with its `deployments` when it has any."""
    if deployments is None:
        return dict(summary)
    return {name: with_entry(entry, {"deployments": found})
            if (found := deployments.summary(f"{section_path}.{name}")) else entry for name, entry in summary.items()}


def with_entry(entry: Any, more: Mapping[str, Any]) -> Any:
    """An exported entry (a dict, or one output of a dict: components/packed_provider.fields_of) with `more`."""
    if isinstance(entry, pulumi.Output):
        return entry.apply(lambda fields: {**fields, **more})
    return {**entry, **more}
