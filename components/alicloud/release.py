"""Deleting a CAS order: what delete keeps, cancels and deletes, or revokes, and what it tells the user.

Apart from cas.py because these steps run only on the way out (delete, the old half of a replacement) while
cas.py keeps the provider's lifecycle and picks the step (its docstring, "delete"). KeepOrRelease is a mixin
of cas.CasOrderProvider: it uses the provider's `clock` and `_describe`.
"""

from __future__ import annotations

from typing import Any, Mapping

from components.alicloud import client as cas_api
from components.alicloud.candidates import carries_key, certificate_for_names, keep_for_the_run, order_label
from components.alicloud.client import models as _models
from components.alicloud.status import PENDING_STATES
from components.dynamic import RunSet, tell_user
from components.errors import CloudError


# Orders this run's diff replaces by their renewal (components/renewal.py): their delete only forgets them.
RENEWED = RunSet()


def note_renewed(order_id: str) -> None:
    RENEWED.add(str(order_id))


class KeepOrRelease:
    """The provider's delete steps (a mixin of cas.CasOrderProvider)."""

    def _cancel_and_delete(self, cas: Any, id_: str, kind: str, resource: str) -> None:
        """A pending order is cancelled, then deleted like a failed or cancelled one: the plan unit comes back
        (reference §6.5)."""
        models = _models()
        request = {"order_id": int(id_)}
        if kind in PENDING_STATES:
            try:
                cas_api.call("CancelOrderRequest", resource,
                             lambda: cas.cancel_order_request(models.CancelOrderRequestRequest(**request)),
                             clock=self.clock)
            except CloudError:
                # A retry after a lost answer finds the order cancelled already ("payed"): that is done.
                state = self._describe(cas, id_, resource)
                if state is None:
                    return
                if (state.type or "").lower() != "payed":
                    raise
        try:
            cas_api.call("DeleteCertificateRequest", resource,
                         lambda: cas.delete_certificate_request(models.DeleteCertificateRequestRequest(**request)),
                         clock=self.clock)
        except CloudError as err:
            if err.code != "NotFound":  # a retry after a lost answer: deleted already
                raise

    def _keep_adopted(self, id_: str, kind: str, state: Any, props: Mapping[str, Any], replaced: bool) -> None:
        if replaced:
            keep_for_the_run(int(id_))  # the replacing create must not adopt it again
        resource = order_label(props)
        if props.get("adopted_by_id"):
            tell_user(f"{resource}: CAS order {id_} ({kind}) is kept: the entry adopted it by id, and only the "
                      f"entry's own revokeOnDelete: true lets a real destroy cancel or revoke it (a replacement "
                      f"always keeps it)")
        elif kind == "certificate":
            ignored = " (revokeOnDelete: true is ignored for it)" if props.get("revoke_on_delete") else ""
            tell_user(f"{resource}: the issued certificate (CAS order {id_}, cert {state.cert_id}) is kept{ignored}: "
                      f"certfleet adopted this order after an interrupted run instead of buying one, and it may "
                      f"belong to another stack or have been bought in the console, so certfleet never revokes "
                      f"it; revoke it in the CAS console if it is yours to revoke")
        else:
            tell_user(f"{resource}: CAS order {id_} ({kind}) is kept: certfleet adopted it after an interrupted "
                      f"run and cannot prove it placed it, so it never cancels or deletes it; if it is yours, "
                      f"cancel and delete it in the CAS console (the plan unit comes back)")

    def _keep_or_revoke(self, cas: Any, id_: str, state: Any, props: Mapping[str, Any], replaced: bool) -> None:
        """An issued certificate of certfleet's own order: revoked only on a real destroy with revokeOnDelete."""
        resource = order_label(props)
        kept = f"{resource}: the issued certificate (CAS order {id_}, cert {state.cert_id}) is kept"
        csr_pem = props.get("csr_pem")
        if replaced and str(id_) in RENEWED:
            keep_for_the_run(int(id_))  # never the renewal's own order
            tell_user(f"{kept}: replaced by its renewal, it keeps serving until it expires; "
                      f"certfleet never revokes, cancels or deletes a renewed order (revokeOnDelete applies to a "
                      f"real destroy of the order the stack holds)")
        elif replaced:
            keep_for_the_run(int(id_))  # the replacing create must not take it for its own
            tell_user(f"{kept} because the order is being replaced (the old certificate may still be serving); "
                      f"revokeOnDelete applies to a real destroy only: revoke it in the CAS console once "
                      f"nothing uses it")
        elif csr_pem and not carries_key(state.certificate or "", csr_pem):
            tell_user(f"{kept}: it does not carry the key of the configured CSR, so certfleet never revokes it")
        elif props.get("adopted") and not certificate_for_names(state.certificate or "", list(props["domains"])):
            tell_user(f"{kept}: it is not for the entry's names, so certfleet never revokes it")
        elif props.get("revoke_on_delete"):
            cas_api.call("CancelCertificateForPackageRequest", resource,
                         lambda: cas.cancel_certificate_for_package_request(
                             _models().CancelCertificateForPackageRequestRequest(order_id=int(id_))),
                         clock=self.clock)
        else:
            tell_user(f"{kept}; set revokeOnDelete: true to revoke it on destroy")
