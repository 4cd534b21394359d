"""Wait for the CA once certfleet's validation records are served: the third resource of zero-touch validation.

As Terraform's aws_acm_certificate_validation: a certificate (created first, it hands out the records), its
DnsRecord resources (written and served), then this resource, which depends on the records and waits, bounded by
the entry's `dns.validationTimeoutSeconds` (one window per run, components/dynamic.WaitWindow), until the CA has
issued. None of the three APIs has a "validate now" call (ACM, CAS V1 orders, CAS V2 instances and SCM all look
at the DNS by themselves), so waiting means reading the certificate's status. No cloud object of its own: delete
does nothing. What is not issued in time is recorded with the reason, and `pulumi up --refresh` reads it again.
Outputs: `status` (the cloud's own status text), `issued`, `status_message`.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, UpdateResult

from components.dynamic import ISSUANCE, CertfleetResource, Clock, changed_keys, wait_for
from components.errors import WaitTimeout

POLL_SECONDS = 5.0
INPUT_KEYS = ("cloud", "certificate_id", "region", "records", "validation_timeout_seconds")
ISSUED, FAILED, PENDING = "issued", "failed", "pending"


# --- the certificate's status in each cloud: (cloud's status text, ISSUED | FAILED | PENDING) ----------------

def acm_status(certificate_id: str, region: str | None, resource: str) -> tuple[str, str]:
    import botocore.exceptions

    from components.aws import clients
    from components.aws.acm import DEAD_STATUSES

    try:
        with clients.TransportErrors("acm", "DescribeCertificate", resource):
            status = clients.client("acm", region or "us-east-1").describe_certificate(
                CertificateArn=certificate_id)["Certificate"]["Status"]
    except botocore.exceptions.ClientError as err:
        raise clients.cloud_error("acm", "DescribeCertificate", resource, err) from err
    return status, ISSUED if status == "ISSUED" else FAILED if status in DEAD_STATUSES else PENDING


def cas_order_status(certificate_id: str, region: str | None, resource: str) -> tuple[str, str]:
    from components.alicloud import client as cas_api

    request = cas_api.models().DescribeCertificateStateRequest(order_id=int(certificate_id))
    cas = cas_api.cas_client()
    state = cas_api.call("DescribeCertificateState", resource,
                         lambda: cas.describe_certificate_state(request)).body.type
    # `payed` (bought, not applied for) is no failure: the order's own update applies for it.
    return state, ISSUED if state == "certificate" else FAILED if state == "verify_fail" else PENDING


def cas_instance_status(certificate_id: str, region: str | None, resource: str) -> tuple[str, str]:
    from components.alicloud import client as cas_api
    from components.alicloud.instance_checks import ISSUED as INSTANCE_ISSUED
    from components.alicloud.instance_checks import state_of

    request = cas_api.models().GetInstanceDetailRequest(instance_id=certificate_id)
    cas = cas_api.cas_client()
    state = state_of(cas_api.call("GetInstanceDetail", resource, lambda: cas.get_instance_detail(request)).body)
    return state, ISSUED if state == INSTANCE_ISSUED else FAILED if state in ("revoked", "expired") else PENDING


def scm_status(certificate_id: str, region: str | None, resource: str) -> tuple[str, str]:
    from huaweicloudsdkscm.v3 import ShowCertificateRequest

    from components.huaweicloud import client as scm_api
    from components.huaweicloud.scm_model import DEAD, ISSUED_LIKE

    client = scm_api.scm_client(region or "cn-north-4")
    status = scm_api.call("ShowCertificate", resource, lambda: client.show_certificate(
        ShowCertificateRequest(certificate_id=certificate_id))).status
    # Only what can never be issued is a failure; anything else (PAID, an undocumented status) is waited for.
    return status, ISSUED if status in ISSUED_LIKE else FAILED if status in DEAD + ("UNPASSED",) else PENDING


STATUS_OF: dict[str, Callable[[str, str | None, str], tuple[str, str]]] = {
    "acm": acm_status, "cas": cas_order_status, "cas-instance": cas_instance_status, "scm": scm_status}


class ValidationProvider(pulumi.dynamic.ResourceProvider):
    clock: type[Clock] = Clock

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changes = changed_keys(olds, news, INPUT_KEYS)
        if olds.get("outcome") == PENDING:
            changes.append("outcome")  # not issued yet: the next `up` waits again
        return DiffResult(changes=bool(changes), replaces=[], stables=[], delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(f"{props['cloud']}:{props['certificate_id']}", self._wait(props))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._wait(news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        if not props.get("certificate_id"):
            return ReadResult(id_, props)
        status, outcome = STATUS_OF[props["cloud"]](props["certificate_id"], props.get("region"), _label(props))
        return ReadResult(id_, {**props, **_outputs(props, status, outcome, None)})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        return None  # nothing in the cloud is this resource's

    def _wait(self, props: Mapping[str, Any]) -> dict[str, Any]:
        resource = _label(props)
        if not props.get("certificate_id"):
            return {**props, **_outputs(props, "", PENDING, "the certificate has not been ordered yet")}
        # Not served: a name server answered otherwise. "unverified" (none could be asked) is no reason to hold
        # back: the CA looks for itself. (Each record's DnsRecord.validation_view.)
        records = props.get("records") or []
        unserved = [r for r in records if r.get("asked") and r.get("served") == "not served"]
        status, outcome = STATUS_OF[props["cloud"]](props["certificate_id"], props.get("region"), resource)
        if outcome == PENDING and records and not any(r.get("asked") for r in records):
            why = "the CA has not given a record to publish yet; `pulumi up --refresh` picks it up"
            return {**props, **_outputs(props, status, outcome, why)}
        if unserved or outcome != PENDING:
            why = None if not unserved else (
                "waiting for DNS: " + "; ".join(f"{r.get('name')} not yet served ({r.get('status_message')})"
                                                for r in unserved))
            return {**props, **_outputs(props, status, outcome, why)}

        def issued_or_failed() -> tuple[str, str] | None:
            found = STATUS_OF[props["cloud"]](props["certificate_id"], props.get("region"), resource)
            return found if found[1] != PENDING else None

        try:
            status, outcome = wait_for(f"{resource} to be issued", issued_or_failed,
                                       float(props.get("validation_timeout_seconds", 300)), POLL_SECONDS, self.clock,
                                       shared=ISSUANCE, first_interval_seconds=1.0)
        except WaitTimeout:
            return {**props, **_outputs(props, status, PENDING, None)}
        return {**props, **_outputs(props, status, outcome, None)}


def _outputs(props: Mapping[str, Any], status: str, outcome: str, why: str | None) -> dict[str, Any]:
    if why:
        message = why
    elif outcome == ISSUED:
        message = f"issued ({status}) after certfleet's DNS records were served"
    elif outcome == FAILED:
        message = f"{status}: the CA will not issue this certificate; see the certificate's own status"
    else:
        message = (f"records served; the CA has not issued yet ({status}) within "
                   f"{props.get('validation_timeout_seconds')} s: `pulumi up --refresh` picks it up")
    return {"status": status, "outcome": outcome, "issued": outcome == ISSUED, "status_message": message}


def _label(props: Mapping[str, Any]) -> str:
    return f"Validation {props.get('entry')}"


class CertificateValidation(CertfleetResource, module="dns", name="Validation"):
    """Waits for one certificate. Type token: pulumi-python:dynamic/dns:Validation."""

    status: pulumi.Output[str]
    outcome: pulumi.Output[str]
    issued: pulumi.Output[bool]
    status_message: pulumi.Output[str]

    def __init__(self, resource_name: str, inputs: Mapping[str, Any],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        outputs = dict.fromkeys(("status", "outcome", "issued", "status_message"))
        super().__init__(ValidationProvider(), resource_name, {**inputs, **outputs}, opts)
