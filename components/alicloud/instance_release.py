"""Withdrawing certfleet's pending application on a CAS V2.0 instance and clearing its claim tags.

Apart from instance.py because these steps run on the way out (delete; and a create whose ApplyCertificate
was refused takes its claim back) while instance.py keeps the provider's lifecycle and picks the step (its
docstring, "delete"). WithdrawOrKeep is a mixin of instance.CasInstanceProvider: it uses the provider's
`clock`, `_call` and `_detail`.
"""

from __future__ import annotations

from typing import Any, Mapping

from components.alicloud import client as cas_api
from components.alicloud.client import models as _models
from components.alicloud.instance_checks import CLAIM_TAGS, holds_certificate, region_of
from components.dynamic import tell_user, wait_for
from components.errors import CloudError, WaitTimeout

WITHDRAWAL_WAIT_SECONDS = 10   # an accepted CancelPendingCertificate: a few looks until the instance shows it
KEPT = "instance {} itself is kept: certfleet never deletes or refunds an instance (you bought it)"


class WithdrawOrKeep:
    """The provider's withdrawal and claim-clearing steps (a mixin of instance.CasInstanceProvider)."""

    def _withdraw(self, cas: Any, instance: str, props: Mapping[str, Any], resource: str) -> None:
        """CancelPendingCertificate on certfleet's own pending application, then its claim is cleared. An
        OperationDenied answer counts as done only when the instance then shows inactive (a retry after a lost
        answer) or issued (issued meanwhile: reported as kept); still pending, the delete fails with CAS's
        code, so Pulumi keeps the state (and a generated key)."""
        denied = None
        try:
            self._call("CancelPendingCertificate", resource, lambda: cas.cancel_pending_certificate(
                _models().CancelPendingCertificateRequest(instance_id=instance)))
        except CloudError as err:
            if not err.code.startswith("OperationDenied"):
                raise
            denied = err
        after = self._detail(cas, instance, resource) if denied else self._wait_withdrawn(cas, instance, resource)
        if denied is not None and after is not None and after.status == "pending" and not holds_certificate(after):
            raise CloudError("alicloud", "cas.CancelPendingCertificate", resource, denied.code,
                             f"CAS denied withdrawing the pending application on instance {instance}, which still "
                             f"shows pending: nothing was changed and the resource stays in the state; withdraw it "
                             f"in the CAS console, or run `pulumi destroy` again later")
        if after is not None and after.status == "inactive":
            self._clear_claim(cas, instance, resource)
            tell_user(f"{resource}: the pending application was withdrawn (CancelPendingCertificate); "
                      f"{KEPT.format(instance)}")
        elif after is not None and holds_certificate(after):
            tell_user(f"{resource}: the application was not withdrawn: CAS issued certificate "
                      f"{after.certificate_id} meanwhile; it is kept (revoke it in the CAS console if nothing uses "
                      f"it); {KEPT.format(instance)}")
        else:
            tell_user(f"{resource}: the application was not withdrawn: instance {instance} is "
                      f"{after.status if after is not None else 'gone'}; look at it in the CAS console")

    def _wait_withdrawn(self, cas: Any, instance: str, resource: str) -> Any | None:
        """After CancelPendingCertificate was accepted: a few looks until the instance no longer shows pending
        (CAS may withdraw asynchronously). Returns its detail (None: gone); still pending, a CloudError, so
        Pulumi keeps the state (a delete) or nothing is applied (a create)."""
        def settled() -> tuple[Any] | None:
            detail = self._detail(cas, instance, resource)
            return (detail,) if detail is None or detail.status != "pending" else None
        try:
            return wait_for(f"{resource} withdrawal", settled, WITHDRAWAL_WAIT_SECONDS, 4, self.clock,
                            first_interval_seconds=1)[0]
        except WaitTimeout:
            raise CloudError("alicloud", "cas.CancelPendingCertificate", resource, "StillPending",
                             f"instance {instance} is still pending after the withdrawal was accepted "
                             f"({WITHDRAWAL_WAIT_SECONDS}s): the resource stays in the state; run `pulumi destroy` "
                             f"(or `pulumi up`) again later, or look at the instance in the CAS console") from None

    def _clear_claim(self, cas: Any, instance: str, resource: str) -> None:
        """UntagResources of certfleet's claim tags, so that the instance can carry another entry's certificate.
        A failure is told, never raised: the withdrawal it follows is done."""
        request = _models().UntagResourcesRequest(
            region_id=region_of(cas_api.Config.from_env().endpoint), resource_type="instance",
            resource_id=[instance], tag_key=list(CLAIM_TAGS))
        try:
            self._call("UntagResources", resource, lambda: cas.untag_resources(request))
        except CloudError as err:
            tell_user(f"{resource}: certfleet's claim tags ({', '.join(CLAIM_TAGS)}) stay on instance {instance} "
                      f"(UntagResources: {err.code}): remove them in the CAS console before another entry uses it")
