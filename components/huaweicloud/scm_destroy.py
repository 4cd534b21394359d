"""What destroy may undo in SCM, and how: withdraw an application (cancel-cert), refund (unsubscribe), delete.

SCM's rules as documented (reference/huawei-scm.md A4): cancel-cert withdraws an application pending domain or
organisation verification, or an addition of names, and answers `success` when it accepts the request, not
when the review is over (CANCELCHECKING, then PAID, or back under review: destroy polls, in one window per
run for all its withdrawals); unsubscribe refunds only a PAID or REVOKED certificate within 7 days of
payment, and deletes it; DeleteCertificate deletes only issued, hosted or expired certificates, and refunds
nothing. ScmDestroySteps holds the provider's steps that follow them (mixed into ScmCertificateProvider,
scm.py, whose `delete` decides what to undo; it supplies `clock`, `_call`, `_show` and, from
scm_candidates.ScmCandidateSteps, `_release`).
"""

from __future__ import annotations

from typing import Any, Mapping

from components.dynamic import declared_in_this_run, tell_user, wait_for
from components.errors import CloudError, WaitTimeout
from components.huaweicloud.scm_model import (APPLICABLE, DELETABLE, POLL_SECONDS, WITHDRAWABLE, WITHDRAWAL,
                                              declared_keys, refund_problem)


class ScmDestroySteps:
    """Withdraw, refund, delete: the provider's steps for `delete` (see the module docstring)."""

    def _keep_or_delete(self, client: Any, cert_id: str, shown: Any, props: Mapping[str, Any],
                        resource: str) -> None:
        """An issued (or dead) certificate: deleted only by a real destroy with onDestroy: delete."""
        from huaweicloudsdkscm.v3 import DeleteCertificateRequest

        kept = f"{resource}: the {shown.status} certificate {cert_id} (order {shown.order_id}) is kept in SCM"
        if any(declared_in_this_run(kind, name) for kind, name in declared_keys(props)):
            # The program still declares it: this delete is the old half of a replacement, and the old
            # certificate may still be serving while its successor is validated.
            tell_user(f"{kept} because it was replaced; onDestroy applies to a real destroy only (delete it in "
                      f"the console once nothing uses it)")
        elif props.get("on_destroy") == "delete" and shown.status in DELETABLE:
            self._call("DeleteCertificate", resource,
                       lambda: client.delete_certificate(DeleteCertificateRequest(certificate_id=cert_id)))
        elif props.get("on_destroy") == "delete":
            # SCM deletes no revoked certificate (only issued, hosted, expired); it refunds one within 7 days.
            self._refund(client, cert_id, shown, props, resource)
        else:  # onDestroy: keep (the default): a paid, issued certificate stays in SCM
            tell_user(f"{kept}; set onDestroy: delete to delete it on destroy")

    def _refund(self, client: Any, cert_id: str, shown: Any, props: Mapping[str, Any], resource: str) -> None:
        """Unsubscribe (refund; SCM then deletes it) a certificate SCM may refund: PAID or REVOKED, within 7 days
        of payment (scm_model.refund_problem). One SCM will not refund is kept and the user told why, instead
        of a call SCM refuses; SCM's own refusal (SCM.0010) is reported the same way."""
        from huaweicloudsdkscm.v3 import UnsubscribeCertificateRequest

        problem = refund_problem(shown.status, shown.order_id)
        if problem is None:
            try:
                self._call("UnsubscribeCertificate", resource, lambda: client.unsubscribe_certificate(
                    UnsubscribeCertificateRequest(cert_id=cert_id)))
                return
            except CloudError as err:
                if err.code == "SCM.0020":
                    return  # gone meanwhile
                if err.code != "SCM.0010":
                    raise
                problem = f"SCM refused the refund ({err})"
        released = f"; {self._release(client, cert_id, props, resource)}" if props.get("adopted") else ""
        again = " (which applies for it again)" if shown.status in APPLICABLE else ""
        tell_user(f"{resource}: the {shown.status} certificate {cert_id} (order {shown.order_id}) cannot be refunded "
                  f"and stays in SCM, paid for: {problem}. Destroy drops it from the stack; to use it, name it in "
                  f"an entry's `adopt: {cert_id}`{again}{released}")

    def _withdraw_application(self, client: Any, cert_id: str, status: str, props: Mapping[str, Any],
                              resource: str) -> Any | None:
        """Withdraw an application under review (no refund: the certificate stays bought) and wait, bounded,
        for the review of the withdrawal (CANCELCHECKING -> PAID, or refused): SCM's `success` only says the
        request was accepted. The fresh look, or None."""
        from huaweicloudsdkscm.v3 import CancelCertificateRequestRequest

        if status in WITHDRAWABLE:
            try:
                self._call("CancelCertificateRequest", resource, lambda: client.cancel_certificate_request(
                    CancelCertificateRequestRequest(certificate_id=cert_id)))
            except CloudError as err:
                # SCM.0010 on a retry after a lost answer: withdrawn already (the look below decides).
                if err.code != "SCM.0010":
                    raise
        try:
            # One window per run (shared), as the other long waits: a destroy of many withdrawals waits at
            # most the longest delete timeout in all.
            wait_for(f"{resource} withdrawal", lambda: self._withdrawn(client, cert_id, resource),
                     props.get("delete_timeout_seconds", 300), POLL_SECONDS, self.clock, shared=WITHDRAWAL)
        except WaitTimeout:
            pass  # decided by the caller, on this fresh look
        return self._show(client, cert_id, resource)

    def _withdrawn(self, client: Any, cert_id: str, resource: str) -> bool | None:
        """True once the withdrawal is decided (or the certificate is gone). Still under review (or not yet
        registered as withdrawn) -> None: wait."""
        shown = self._show(client, cert_id, resource)
        return None if shown is not None and shown.status in WITHDRAWABLE + ("CANCELCHECKING",) else True

