"""Wait for the CA once certfleet's validation records are served: the third resource of zero-touch validation.

As Terraform's aws_acm_certificate_validation: a certificate (created first, it hands out the records), its
DnsRecord resources (written and served), then this resource, which depends on the records and waits, bounded by
the entry's `dns.validationTimeoutSeconds` (one window per run, components/dynamic.WaitWindow), until the CA has
issued. None of the three APIs has a "validate now" call (ACM, CAS V1 orders, CAS V2 instances and SCM all look
at the DNS by themselves), so waiting means reading the certificate's status. No cloud object of its own: delete
does nothing. What is not issued in time is recorded with the reason, and `pulumi up --refresh` reads it again.
Outputs: `status` (the cloud's own status text), `issued`, `status_message`, and the certificate as issued
(MATERIAL_KEYS), read by the providers' own functions once the CA has issued, so deploy targets, distributions,
renewal and the report have it in the same run (the certificate resource learns of it at the next refresh):
`certificate_pem` (as the certificate resource outputs it: CAS's leaf followed by its chain, SCM's leaf),
`certificate_chain_pem` (SCM), `private_key` (a secret; only when the CA made the key), `not_after` (as the
certificate resource outputs it), `not_before` (the leaf's, ISO 8601). "" when there is none, never null (a null
output reads as unknown in a preview); ACM's are always "" (an ACM certificate is not deployable). CAS's
only when it passes the checks the certificate's own provider applies (components/dns/material_checks.py, against
the `recorded` input: what the certificate resource records), never an adopted order's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, UpdateResult

from components.dns.material_checks import withheld
from components.dynamic import ISSUANCE, CertfleetProvider, CertfleetResource, Clock, changed_keys, wait_for
from components.errors import WaitTimeout

POLL_SECONDS = 5.0
INPUT_KEYS = ("cloud", "certificate_id", "region", "records", "validation_timeout_seconds")
# `recorded` (what the certificate resource records) is read whenever the validation runs, but is no reason to
# run it: it is built from outputs that are null until issued, which a preview reads as unknown.
ISSUED, FAILED, PENDING = "issued", "failed", "pending"
MATERIAL_KEYS = ("certificate_pem", "certificate_chain_pem", "private_key", "not_after", "not_before")
NO_MATERIAL = dict.fromkeys(MATERIAL_KEYS, "")


@dataclass(frozen=True)
class Reading:
    """One read of the certificate: the cloud's status text, ISSUED | FAILED | PENDING, and once issued its
    material (MATERIAL_KEYS, "" for what there is none of)."""

    status: str
    outcome: str
    material: Mapping[str, str] = field(default_factory=lambda: NO_MATERIAL)
    source: Any = None   # the SDK body read (an instance's GetInstanceDetail), for material_checks


def material_of(certificate_pem: str | None, chain_pem: str | None = None, private_key: str | None = None,
                not_after: str | None = None) -> dict[str, str]:
    """The material outputs; `not_after` defaults to the leaf's (ISO 8601, as keys.certificate_not_after)."""
    from components import keys
    from components.renewal import certificate_not_before

    if not certificate_pem:
        return dict(NO_MATERIAL)
    return {"certificate_pem": certificate_pem, "certificate_chain_pem": chain_pem or "",
            "private_key": private_key or "",
            "not_after": not_after or keys.certificate_not_after(certificate_pem) or "",
            "not_before": certificate_not_before(certificate_pem) or ""}


# --- the certificate in each cloud: one Reading (material once issued, by the provider's own functions) --------

def acm_status(certificate_id: str, region: str | None, resource: str) -> Reading:
    import botocore.exceptions

    from components.aws import clients
    from components.aws.acm import DEAD_STATUSES

    try:
        with clients.TransportErrors("acm", "DescribeCertificate", resource):
            status = clients.client("acm", region or "us-east-1").describe_certificate(
                CertificateArn=certificate_id)["Certificate"]["Status"]
    except botocore.exceptions.ClientError as err:
        raise clients.cloud_error("acm", "DescribeCertificate", resource, err) from err
    # No material: an ACM certificate cannot be exported (nor deployed elsewhere).
    return Reading(status, ISSUED if status == "ISSUED" else FAILED if status in DEAD_STATUSES else PENDING)


def cas_order_status(certificate_id: str, region: str | None, resource: str) -> Reading:
    from components.alicloud import client as cas_api
    from components.alicloud.status import issued_of

    request = cas_api.models().DescribeCertificateStateRequest(order_id=int(certificate_id))
    cas = cas_api.cas_client()
    body = cas_api.call("DescribeCertificateState", resource, lambda: cas.describe_certificate_state(request)).body
    state = body.type
    # `payed` (bought, not applied for) is no failure: the order's own update applies for it.
    outcome = ISSUED if state == "certificate" else FAILED if state == "verify_fail" else PENDING
    certificate, cas_key = issued_of(body)  # the same call's answer: certificate and (CAS's) key
    return Reading(state, outcome, material_of(certificate, private_key=cas_key) if outcome == ISSUED else NO_MATERIAL)


def cas_instance_status(certificate_id: str, region: str | None, resource: str) -> Reading:
    from components.alicloud import client as cas_api
    from components.alicloud.instance import user_certificate
    from components.alicloud.instance_checks import ISSUED as INSTANCE_ISSUED
    from components.alicloud.instance_checks import state_of

    request = cas_api.models().GetInstanceDetailRequest(instance_id=certificate_id)
    cas = cas_api.cas_client()
    detail = cas_api.call("GetInstanceDetail", resource, lambda: cas.get_instance_detail(request)).body
    state = state_of(detail)
    outcome = ISSUED if state == INSTANCE_ISSUED else FAILED if state in ("revoked", "expired") else PENDING
    if outcome != ISSUED or not detail.certificate_id:
        return Reading(state, outcome)
    certificate, cas_key = user_certificate(cas, detail.certificate_id, resource)
    return Reading(state, outcome, material_of(certificate, private_key=cas_key), detail)


def scm_status(certificate_id: str, region: str | None, resource: str) -> Reading:
    from huaweicloudsdkscm.v3 import ShowCertificateRequest

    from components.huaweicloud import client as scm_api
    from components.huaweicloud.scm_model import DEAD, ISSUED_LIKE
    from components.huaweicloud.scm_purchase import exported_material

    client = scm_api.scm_client(region or "cn-north-4")
    shown = scm_api.call("ShowCertificate", resource, lambda: client.show_certificate(
        ShowCertificateRequest(certificate_id=certificate_id)))
    status = shown.status
    # Only what can never be issued is a failure; anything else (PAID, an undocumented status) is waited for.
    outcome = ISSUED if status in ISSUED_LIKE else FAILED if status in DEAD + ("UNPASSED",) else PENDING
    if status != "ISSUED":  # what the certificate resource exports too (scm_purchase._outputs)
        return Reading(status, outcome)
    exported = exported_material(client, certificate_id, resource)
    return Reading(status, outcome, material_of(exported["certificate_pem"], exported["certificate_chain_pem"],
                                                exported["private_key_pem"], shown.not_after or None))


STATUS_OF: dict[str, Callable[[str, str | None, str], Reading]] = {
    "acm": acm_status, "cas": cas_order_status, "cas-instance": cas_instance_status, "scm": scm_status}


class ValidationProvider(CertfleetProvider):
    clock: type[Clock] = Clock

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changes = changed_keys(olds, news, INPUT_KEYS)
        if olds.get("outcome") == PENDING:
            changes.append("outcome")  # not issued yet: the next `up` waits again
        elif any(key not in olds for key in MATERIAL_KEYS):
            changes.append("certificate_pem")  # recorded before the material was an output: read it once
        return DiffResult(changes=bool(changes), replaces=[], stables=[], delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(f"{props['cloud']}:{props['certificate_id']}", self._wait(props))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._wait(news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        if not props.get("certificate_id"):
            return ReadResult(id_, {**NO_MATERIAL, **props})
        found = STATUS_OF[props["cloud"]](props["certificate_id"], props.get("region"), _label(props))
        return ReadResult(id_, {**props, **_outputs(props, found, None)})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        return None  # nothing in the cloud is this resource's

    def _wait(self, props: Mapping[str, Any]) -> dict[str, Any]:
        resource = _label(props)
        if not props.get("certificate_id"):
            return {**props, **_outputs(props, Reading("", PENDING), "the certificate has not been ordered yet")}
        # Not served: a name server answered otherwise. "unverified" (none could be asked) is no reason to hold
        # back: the CA looks for itself. (Each record's DnsRecord.validation_view.)
        records = props.get("records") or []
        unserved = [r for r in records if r.get("asked") and r.get("served") == "not served"]
        found = STATUS_OF[props["cloud"]](props["certificate_id"], props.get("region"), resource)
        if found.outcome == PENDING and records and not any(r.get("asked") for r in records):
            why = "the CA has not given a record to publish yet; `pulumi up --refresh` picks it up"
            return {**props, **_outputs(props, found, why)}
        if unserved or found.outcome != PENDING:
            why = None if not unserved else (
                "waiting for DNS: " + "; ".join(f"{r.get('name')} not yet served ({r.get('status_message')})"
                                                for r in unserved))
            return {**props, **_outputs(props, found, why)}

        def issued_or_failed() -> Reading | None:
            read = STATUS_OF[props["cloud"]](props["certificate_id"], props.get("region"), resource)
            return read if read.outcome != PENDING else None

        try:
            found = wait_for(f"{resource} to be issued", issued_or_failed,
                             float(props.get("validation_timeout_seconds", 300)), POLL_SECONDS, self.clock,
                             shared=ISSUANCE, first_interval_seconds=1.0)
        except WaitTimeout:
            return {**props, **_outputs(props, Reading(found.status, PENDING), None)}
        return {**props, **_outputs(props, found, None)}


def _outputs(props: Mapping[str, Any], found: Reading, why: str | None) -> dict[str, Any]:
    status, outcome = found.status, found.outcome
    if why:
        message = why
    elif outcome == ISSUED:
        message = f"issued ({status}) after certfleet's DNS records were served"
    elif outcome == FAILED:
        message = f"{status}: the CA will not issue this certificate; see the certificate's own status"
    else:
        message = (f"records served; the CA has not issued yet ({status}) within "
                   f"{props.get('validation_timeout_seconds')} s: `pulumi up --refresh` picks it up")
    # Material only with an issued outcome that passes the certificate provider's own checks: what is "" here
    # never feeds a deploy target.
    material = {**NO_MATERIAL, **found.material} if outcome == ISSUED else NO_MATERIAL
    if material["certificate_pem"] and (reason := withheld(props.get("cloud", ""), material["certificate_pem"],
                                                           found.source, props.get("recorded"))):
        material = NO_MATERIAL
        message += (f"; its certificate is not taken for the entry ({reason}): the certificate resource's "
                    f"`pulumi up --refresh` decides")
    return {"status": status, "outcome": outcome, "issued": outcome == ISSUED, "status_message": message,
            **material}


def _label(props: Mapping[str, Any]) -> str:
    return f"Validation {props.get('entry')}"


class CertificateValidation(CertfleetResource, module="dns", name="Validation"):
    """Waits for one certificate. Type token: pulumi-python:dynamic/dns:Validation."""

    status: pulumi.Output[str]
    outcome: pulumi.Output[str]
    issued: pulumi.Output[bool]
    status_message: pulumi.Output[str]
    certificate_pem: pulumi.Output[str]
    certificate_chain_pem: pulumi.Output[str]
    private_key: pulumi.Output[str]       # secret
    not_after: pulumi.Output[str]
    not_before: pulumi.Output[str]

    def __init__(self, resource_name: str, inputs: Mapping[str, Any],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        outputs = dict.fromkeys(("status", "outcome", "issued", "status_message", *MATERIAL_KEYS))
        # The key is encrypted in state and masked in every preview, output and log.
        own = pulumi.ResourceOptions(additional_secret_outputs=["private_key"])
        super().__init__(ValidationProvider(), resource_name, {**inputs, **outputs},
                         pulumi.ResourceOptions.merge(opts, own))
