"""Buying an SCM certificate, applying for it and settling: the steps of create (and update) once it buys.

Apart from scm.py so the provider's lifecycle reads on its own (its docstring, "create" and "update": the
purchase, the look again after a lost answer, the bounded waits, and why nothing fails once money is spent).
ScmPurchaseSteps is mixed into ScmCertificateProvider (scm.py), which supplies `clock`, `_call`, `_show` and
`_must_show`; the look after a lost purchase answer is scm_sweep.ScmSweepSteps's `_look_and_sweep`, the
withdrawal of an application whose key was lost scm_destroy.ScmDestroySteps's `_withdraw_application`.
"""

from __future__ import annotations

from typing import Any, Mapping

from components.dynamic import ISSUANCE, ORDER_PROCESSING, RECORDS, Clock, tell_user, wait_for
from components.errors import CertfleetError, CloudError, WaitTimeout
from components.huaweicloud import client as scm_api
from components.huaweicloud.scm_model import (APPLICABLE, INPUT_KEYS, KNOWN_STATUSES, LOOKUP_TIMEOUT_SECONDS,
                                              ORDER_TIMEOUT_SECONDS, POLL_SECONDS, UNDER_REVIEW, UNKNOWN, V2,
                                              apply_body, purchase_body, purchase_body_v2, purchase_tags,
                                              status_message, validation_records)
from components.huaweicloud.scm_sweep import note_bought
from components.renewal import HELD_KEY, held_renewal
from components import clock
from components.keys import generate_key_and_csr


class ScmPurchaseSteps:
    """Buy, apply, wait and record the outputs (a mixin of scm.ScmCertificateProvider)."""

    def _buy(self, client: Any, props: Mapping[str, Any], generation: str, resource: str) -> str:
        """One purchase, v3 buy or v2 purchase (`api`); the certificate's id. A lost answer is never bought
        again: certfleet looks (v2: its sweep claims the purchase, scm_sweep.py)."""
        from huaweicloudsdkscm.v3 import SubscribeCertificateRequest

        v2 = props.get("api") == V2
        operation = "PurchaseCertificateV2" if v2 else "SubscribeCertificate"
        started = clock.epoch()
        try:
            if v2:
                bought = self._call(operation, resource, lambda: scm_api.purchase_v2(
                    client, props["project_id"], purchase_body_v2(props)), may_repeat=False)
            else:
                body = purchase_body(props, generation)
                bought = self._call(operation, resource, lambda: client.subscribe_certificate(
                    SubscribeCertificateRequest(body=body)), may_repeat=False)
        except CloudError as err:
            # A lost answer or a server error leaves it open whether the order went through: look again
            # (the tags are stored with the order) instead of buying a second time. The tag index may lag,
            # so keep looking for a while, sweeping the PAID listing too (scm_sweep.py); a 4xx answer
            # (refused, or throttled at the gateway) bought nothing: one tag look.
            status = getattr(err.__cause__, "status_code", None) or 0
            lost = not 400 <= status < 500
            # v2: no tags will ever show the order; the look only lets other purchases' tags show (the lag).
            timeout = (float(props.get("listing_lag_seconds") or 0) if v2 else LOOKUP_TIMEOUT_SECONDS) if lost else 0
            try:
                found = self._look_and_sweep(client, props, resource, started, timeout,
                                             "the order after a lost answer", sweep=lost)
            except CertfleetError as refusal:  # keep the failed call and SCM's code in the text
                raise CertfleetError(f"{refusal}. (certfleet looked because the purchase failed or its answer "
                                     f"was lost: {err})") from err
            if found is None:
                raise err from None
            note_bought(props["resource_tag"], found)
            return found
        if not bought.cert:
            raise CloudError("huaweicloud", f"scm.{operation}", resource, "NoCertificate",
                             f"order {bought.order_id} returned no certificate id")
        note_bought(props["resource_tag"], bought.cert[0].cert_id)  # claimed: other entries' sweeps skip it
        if v2:
            self._tag_v2_purchase(client, bought.cert[0].cert_id, props, generation, resource)
        return bought.cert[0].cert_id

    def _tag_v2_purchase(self, client: Any, cert_id: str, props: Mapping[str, Any], generation: str,
                         resource: str) -> None:
        """Tag a v2 purchase (or a claimed one) as the v3 buy tags its order, so later looks find it by its tags
        and other entries and stacks pass it over. After the purchase, so best effort: money is spent, and
        nothing depends on it (a crash before it leaves an untagged certificate, which the sweep claims)."""
        tags = purchase_tags(props, generation)  # the renewal generation too, as v3's buy tags it
        try:
            self._set_tags(client, cert_id, tags, resource)
        except CloudError as err:
            tell_user(f"{resource}: certificate {cert_id} is bought (v2) but could not be tagged ({err}); it is "
                      f"in the stack's state, and were that lost, the sweep would find it (docs/scm-v2.md)")

    def _apply(self, client: Any, cert_id: str, props: dict[str, Any], resource: str) -> str:
        """Apply for a PAID/UNPASSED certificate. Returns a note ("" when it went through)."""
        from huaweicloudsdkscm.v3 import ApplyCertificateRequest

        csr = props["csr"]
        if csr == "generate":
            props["private_key_pem"], props["csr_pem"] = generate_key_and_csr(list(props["domains"]),
                                                                              props["key_algorithm"])
            csr = props["csr_pem"]
        body = apply_body(props, csr)
        try:
            self._call("ApplyCertificate", resource, lambda: client.apply_certificate(
                ApplyCertificateRequest(certificate_id=cert_id, body=body)), may_repeat=False)
        except CloudError as err:
            return str(err)  # money is spent: record it, the next `up` applies again
        return ""

    def _apply_and_settle(self, client: Any, cert_id: str, props: dict[str, Any], resource: str,
                          looked: Any = None) -> dict[str, Any]:
        """Apply if needed, wait (bounded), return the outputs. Never raises: money is spent and `props` may
        hold the only copy of a generated key, so an error is recorded in status_message instead.

        `looked`: update's one look. Without it (create, right after a purchase or adoption) certfleet waits,
        bounded, for a known status; with it, a status certfleet does not know is recorded as it is."""
        shown, status = None, UNKNOWN  # `status`: the last status known to be current
        try:
            if looked is None:
                # A new order is processed before it is PAID (status undocumented; it may even be 404 at first).
                shown = wait_for(f"{resource} order", lambda: self._settled_order(client, cert_id, resource),
                                 ORDER_TIMEOUT_SECONDS, POLL_SECONDS, self.clock, shared=ORDER_PROCESSING)
            else:
                shown = looked
                if shown.status not in KNOWN_STATUSES:
                    return self._unsettled_outputs(
                        cert_id, shown, shown.status or UNKNOWN, props,
                        "SCM reports a status certfleet does not know (an order still being processed?); the next "
                        "`pulumi up` looks once again, `pulumi up --refresh` follows it", final=True)
            status = shown.status
            note = ""
            if shown.status in APPLICABLE:
                status = UNKNOWN  # the apply may have gone through even if it reports an error
                note = self._apply(client, cert_id, props, resource)
                if note:  # else the waits below look first
                    shown = self._must_show(client, cert_id, resource)
                    status = shown.status
            elif shown.status in UNDER_REVIEW and props["csr"] == "generate" and not props.get("private_key_pem"):
                # An interrupted run applied with a key it never saved (its certificate could never be used):
                # withdraw that application (certfleet's own, proven by the purchase's tags; nothing is
                # refunded) and apply again with a new key.
                status = UNKNOWN
                shown = self._withdraw_application(client, cert_id, shown.status, props, resource) \
                    or self._must_show(client, cert_id, resource)
                status = shown.status
                if shown.status in APPLICABLE:
                    status = UNKNOWN  # the apply may have gone through even if it reports an error
                    note = self._apply(client, cert_id, props, resource)
                    shown = self._must_show(client, cert_id, resource)
                    status = shown.status
                else:
                    note = (f"applied for by an interrupted run whose generated key was lost; withdrawing that "
                            f"application: {shown.status}; the next `pulumi up` applies again with a new key")
            waits = [(lambda s: s.status not in UNDER_REVIEW or bool(s.authentification)
                      or props["validation"] != "DNS", props.get("validation_record_timeout_seconds", 300), RECORDS)]
            if props.get("issued_timeout_seconds", 0):
                waits.append((lambda s: s.status not in UNDER_REVIEW, props["issued_timeout_seconds"], ISSUANCE))
            if not note:
                seen = [shown]  # the waits' looks: the last one is recorded, also after a timeout

                def look() -> Any:
                    seen.append(self._must_show(client, cert_id, resource))
                    return seen[-1]

                for done, timeout, kind in waits:
                    try:
                        wait_for(resource, lambda: s if done(s := look()) else None, timeout, POLL_SECONDS,
                                 self.clock, shared=kind)
                    except WaitTimeout:
                        break  # recorded as it is; `pulumi up --refresh` continues
                    finally:  # a look that failed leaves the last one (or, right after an apply, UNKNOWN)
                        shown, status = seen[-1], seen[-1].status if len(seen) > 1 else status
            if status == "ISSUED":
                status = UNKNOWN  # if the export fails, the next `up` looks again and exports
            return self._outputs(client, cert_id, shown, props, resource, note)
        except CertfleetError as err:
            return self._unsettled_outputs(cert_id, shown, status, props, str(err))

    def _settled_order(self, client: Any, cert_id: str, resource: str) -> Any | None:
        shown = self._show(client, cert_id, resource)
        return shown if shown is not None and shown.status in KNOWN_STATUSES else None

    def _unsettled_outputs(self, cert_id: str, shown: Any, status: str, props: Mapping[str, Any],
                           error: str, final: bool = False) -> dict[str, Any]:
        """Outputs after an error: what is known, the key kept, the error in status_message. The status is the
        last one seen, or UNKNOWN; diff then lets the next `pulumi up` look again (update)."""
        records = validation_records(shown) if shown is not None else []
        return {
            **self._recorded(cert_id, props),
            "order_id": shown.order_id if shown is not None else None,
            "status": status,
            "status_message": f"{status}: {error}" if final else f"{status}: {error}; the next `pulumi up` continues",
            "validation_records": records,
            "not_after": None,
            "fingerprint": None,
            "certificate_pem": None,
            "certificate_chain_pem": None,
            "private_key_pem": props.get("private_key_pem"),
        }

    def _outputs(self, client: Any, cert_id: str, shown: Any, props: Mapping[str, Any], resource: str,
                 note: str = "") -> dict[str, Any]:
        records = validation_records(shown)
        issued = {"certificate_pem": None, "certificate_chain_pem": None,
                  "private_key_pem": props.get("private_key_pem")}
        if shown.status == "ISSUED":
            issued = exported_before(shown, props) or exported_material(client, cert_id, resource, self.clock)
            issued["private_key_pem"] = issued["private_key_pem"] or props.get("private_key_pem")
        return {
            **self._recorded(cert_id, props),
            "order_id": shown.order_id,
            "status": shown.status,
            "status_message": status_message(shown.status, props, records, note),
            "validation_records": records,
            "not_after": shown.not_after or None,
            "fingerprint": shown.fingerprint or None,
            **issued,
        }

    @staticmethod
    def _recorded(cert_id: str, props: Mapping[str, Any]) -> dict[str, Any]:
        """What every output set carries: the inputs, the generation, the CSR, the id and the owner."""
        return {**{k: props.get(k) for k in INPUT_KEYS}, "generation": props.get("generation"),
                "renews": props.get("renews"),  # the predecessor of a renewal (components/renewal.py)
                HELD_KEY: held_renewal(props),  # what the stack exports as its renewal, never null
                "csr_pem": props.get("csr_pem"), "certificate_id": cert_id, "owner": scm_api.owner(props["region"]),
                "adopted": bool(props.get("adopted"))}


def exported_before(shown: Any, props: Mapping[str, Any]) -> dict[str, Any] | None:
    """The certificate, chain and key the state holds, when ShowCertificate shows that very certificate: its
    SHA-1 fingerprint is the state's leaf's (computed, not the state's word for it). A refresh of an issued
    certificate then reads once, not twice. Exported again: a certificate SCM changed, one never exported (create,
    update), and one whose SCM-made key (csr: scm) the state lacks. A chain SCM changes under the same leaf is
    picked up by the next export (an update of the entry)."""
    from components.deploy.scm_import import bare_fingerprint, sha1_of

    held = props.get("certificate_pem")
    if not held or not shown.fingerprint or bare_fingerprint(shown.fingerprint) != sha1_of(held):
        return None
    if props.get("csr") == "scm" and not props.get("private_key_pem"):
        return None
    return {k: props.get(k) for k in ("certificate_pem", "certificate_chain_pem", "private_key_pem")}


def exported_material(client: Any, cert_id: str, resource: str, clock: type[Clock] = Clock) -> dict[str, Any]:
    """ExportCertificate of an issued certificate: its certificate, chain and key (None unless SCM made it: csr:
    scm). Also what the DNS validation (components/dns/validation.py) outputs. Never log the answer."""
    from huaweicloudsdkscm.v3 import ExportCertificateRequest

    exported = scm_api.call("ExportCertificate", resource, lambda: client.export_certificate(
        ExportCertificateRequest(certificate_id=cert_id)), clock=clock)
    return {"certificate_pem": exported.certificate, "certificate_chain_pem": exported.certificate_chain,
            "private_key_pem": exported.private_key or None}
