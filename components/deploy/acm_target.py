"""ACM as a deployment target: a certificate of another cloud (CAS, SCM) or a PEM import copied into ACM, by the
ACM import provider itself (components/aws/acm_import.py), so CloudFront can serve it.

Everything acm_import.py does holds here: look before import (tagged certfleet:resource=<identity>), re-import
IN PLACE onto the same ARN when the source renews (a distribution serving it needs no change), replacement only
for another key type or region, delete only while the certificate carries this resource's tag (retried while
CloudFront still uses it), the key a secret and never in error text. What this module adds:
- the source's material as the source gives it: CAS's `Certificate` is the leaf followed by its chain, which ACM
  wants apart (`split_bundle`);
- a source with no certificate (material.py): before the first one the resource holds nothing (id
  `pending:<identity>`, status WAITING_FOR_SOURCE) and is replaced by a real import once it comes; afterwards
  check keeps the material last imported, so nothing changes;
- no expiry margin of its own (the source entry's renewal decides when a new certificate comes).
"""

from __future__ import annotations

from typing import Any, Mapping

import pulumi
from pulumi.dynamic import CheckResult, CreateResult, DiffResult, ReadResult, UpdateResult

from components.aws import acm_import
from components.aws.acm_import import AcmImportProvider, NoKeyText
from components.deploy import material
from components.dynamic import CertfleetResource

OUTPUT_KEYS = acm_import.OUTPUT_KEYS
SECRET_OUTPUTS = acm_import.SECRET_OUTPUTS


def split_for_acm(news: Mapping[str, Any]) -> dict[str, Any]:
    """ACM's Certificate is the leaf only, its CertificateChain the rest (unknown values, at preview, stay)."""
    certificate, chain = news.get("certificate_pem"), news.get("chain_pem") or ""
    if not isinstance(certificate, str) or not isinstance(chain, str) or not certificate:
        return dict(news)
    leaf, rest = material.split_bundle(certificate, chain)
    return {**news, "certificate_pem": leaf, "chain_pem": rest} if leaf else dict(news)


class AcmTargetProvider(AcmImportProvider):
    """The ACM import provider, for material that comes from another cloud's certificate."""

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        news = material.keep_deployed(olds, split_for_acm(news))
        if not material.has_material(news):
            return CheckResult(news, [])
        checked = super().check(olds, news)
        return CheckResult(checked.inputs, checked.failures)

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        if not material.holds_copy(id_):
            # Nothing in ACM yet: the first certificate replaces the placeholder (an import makes a new ARN).
            arriving = material.has_material(news)
            return DiffResult(changes=arriving, replaces=["certificate_pem"] if arriving else [],
                              delete_before_replace=False)
        if olds.get("source_pending") != news.get("source_pending"):
            diff = super().diff(id_, olds, news)
            return DiffResult(changes=None if diff.changes is False else diff.changes, replaces=diff.replaces or [],
                              delete_before_replace=False)
        return super().diff(id_, olds, news)

    def create(self, props: dict[str, Any]) -> CreateResult:
        if not material.has_material(props):
            return CreateResult(material.pending_id(props["resource_tag"]), self._waiting(props))
        props = split_for_acm(props)  # check split it already; a call without check (tests) too
        created = super().create(props)
        return CreateResult(created.id, {**created.outs, **self._deployed(props, created.outs)})

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        news = split_for_acm(news)
        updated = super().update(id_, olds, news)
        return UpdateResult({**updated.outs, **self._deployed(news, updated.outs)})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        if not material.holds_copy(id_):
            return ReadResult(id_, props, {k: props.get(k) for k in (*acm_import.INPUT_KEYS, "source",
                                                                       "source_pending")})
        read = super().read(id_, props)
        if not read.id:
            return read
        extra = {k: props.get(k) for k in ("source", "source_pending")}
        return ReadResult(read.id, {**read.outs, **extra, **self._deployed(props, read.outs)},
                          {**(read.inputs or {}), **extra})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        if material.holds_copy(id_):
            super().delete(id_, props)

    @staticmethod
    def _waiting(props: Mapping[str, Any]) -> dict[str, Any]:
        with NoKeyText("create", f"ACM copy of {props.get('source')}", props):
            return {**props, "arn": "", "status": material.WAITING, "fingerprint": None, "not_after": None,
                    "status_message": f"nothing imported yet: {props.get('source')} has no certificate yet; the next "
                                      f"`pulumi up` after it is issued imports it", "in_use_by": [], "adopted": False}

    @staticmethod
    def _deployed(props: Mapping[str, Any], outs: Mapping[str, Any]) -> dict[str, Any]:
        message = f"imported into ACM as {outs.get('arn')} from {props.get('source')}"
        if props.get("source_pending"):
            message += f"; kept while {props.get('source')} has no new certificate yet"
        status = outs.get("status")
        if status and status != "ISSUED":
            message = f"{status}: {message}"
        return {"source": props.get("source"), "source_pending": props.get("source_pending"),
                "status_message": message}


class AcmTarget(CertfleetResource, module="deploy", name="AcmTarget"):
    """A certificate of another cloud imported into ACM. Type token: pulumi-python:dynamic/deploy:AcmTarget."""

    arn: pulumi.Output[str]
    status: pulumi.Output[str]
    status_message: pulumi.Output[str]
    not_after: pulumi.Output[str]
    fingerprint: pulumi.Output[str]
    in_use_by: pulumi.Output[list]

    def __init__(self, name: str, inputs: Mapping[str, Any], opts: pulumi.ResourceOptions | None = None) -> None:
        secret = pulumi.ResourceOptions(additional_secret_outputs=SECRET_OUTPUTS)
        super().__init__(AcmTargetProvider(), name, {**inputs, **dict.fromkeys(OUTPUT_KEYS)},
                         pulumi.ResourceOptions.merge(opts, secret))
