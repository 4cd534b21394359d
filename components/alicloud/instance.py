"""Alibaba Cloud CAS: a certificate applied for through a V2.0 instance the account bought (`instance:`).

V2.0 accounts buy certificate instances (`cas-cn-...`) in the console; the V1.0 resource-plan calls
(CreateCertificateForPackageRequest ...) answer `InsufficientQuota` there. An `orders` entry with `instance:`
orders through that instance (docs/cas-instances.md). Environment and SDK plumbing: components/alicloud/client.py.
The withdrawal and claim-clearing steps of delete (and of a refused apply) are in instance_release.py.
RAM actions: yundun-cert:GetInstanceDetail, yundun-cert:UpdateInstance, yundun-cert:ApplyCertificate,
yundun-cert:CancelPendingCertificate, yundun-cert:UntagResources, yundun-cert:GetUserCertificateDetail and, only
with revokeOnDelete, yundun-cert:RevokeCertificate.

Lifecycle:
- check (preview): notes that the program declares the entry (and its previousNames) under this kind AND
  as a CasOrder (cas.KIND): an entry switched between `productCode` and `instance:` is a new resource of the
  other type, created first, and the old one's delete at the end of the run must count as a replacement's
  (kept, never revoked), not a destroy. Then the config's name rules again (inputs.check_inputs); then, only
  with credentials, GetInstanceDetail. For a new resource or one moving to another instance: the instance
  must exist for these credentials, be usable (not expired, refunded or closed), carry the entry's exact and
  wildcard name counts (FullDomainCount, WildcardDomainCount), and hold no application or certificate for
  other names (instance_checks.capacity_failures). For a change that replaces the certificate on the same
  instance (names, CSR, key): refused while the instance holds a certificate, issued or being reissued - "an
  instance carries one certificate: name another instance" (instance_checks.replacement_failures).
- create: ownership first (instance_checks.INSTANCE_CHECKS, the first opinion decides). An unused (inactive)
  instance is applied for: UpdateInstance records the names, CSR or key algorithm, validation method,
  contacts, company and tags together with certfleet's claim (the entry, the purchase journal stamp's run,
  and a digest of the application), then ApplyCertificate; if the instance then still shows unused (the
  application failed, not a transient error whose application CAS may still carry out), the claim tags are
  removed again (UntagResources) before the error is raised. An
  instance being reissued (pending with a certificate) is refused. What the instance holds already is this
  entry's only when the claim names this entry (or one of its previousNames), a journal stamp the entry carries, and
  the application the instance shows still matches the claim's digest (else it was withdrawn and made again
  outside certfleet: refused). Then it is an interrupted run's (or the replaced resource's) application: a
  pending one is resumed without a second ApplyCertificate when it is exactly the entry's (names, validation,
  CSR or key algorithm), else withdrawn and applied anew (always with `csr: generate`: its key is not this
  create's); an issued one is resumed only for the entry's names and key (a CSR or generated key it cannot
  prove: refused). Anything else (the console's, another stack's, or applied before the entry's stamp) is
  refused, naming the instance. A create without a journal stamp (--target) does nothing. Then the bounded
  waits of cas.py for the validation records (RECORDS) and issuance (ISSUANCE); a wait that runs out records
  the state and a status message; `pulumi up --refresh` resumes.
- read: GetInstanceDetail, and GetUserCertificateDetail for the issued certificate (its key, when CAS made it,
  is a secret output). What the instance holds is recorded only while it is what certfleet applied for (the
  digest the state records, under the claim the state records it wrote: a rename's dropped previousNames do
  not matter). Another application, or another CertificateId while the instance no longer shows certfleet's
  application, gives state `foreign`, keeps the certificate certfleet recorded, is never withdrawn or revoked,
  and its status message names the way out (`pulumi up --replace` where create would take it, else another
  instance). Pending with a certificate is a reissue under review (state `reissuing`): the serving certificate
  stays in the outputs. Once issued, the reissued certificate (a new CertificateId, certfleet's application
  unchanged) is recorded over the old one when it carries the key of the configured CSR or the generated key
  (with CAS's key: CAS's new key), else `foreign`. An instance that shows no certificate
  keeps the recorded one in the state. A vanished instance (same owner) leaves the state.
- diff: instance, names, CSR and key replace; validation replaces a pending application only; tags, contacts,
  company, revokeOnDelete and the wait are stored in place. Replacement order, by path:
  same instance, pending: delete before replace (returned by diff): the old application must be withdrawn
  before the instance takes a new one. Same instance, issued or reissuing: refused at preview (check); if it
  was issued (or a reissue started) between preview and delete, the delete fails, so Pulumi keeps the state
  and a generated key. Another
  instance: create before delete (diff and the resource option), so the old certificate stays in the state
  until the new one exists. `pulumi up --replace` skips diff, so the resource option (create before delete)
  applies on the same instance too: create resumes this entry's application or certificate, applies anew
  (pending, `csr: generate`), or refuses (issued with a generated key, which the old state holds) without
  touching it; the old resource's delete then finds the instance taken by this run's create and leaves it.
- delete: the old half of a replacement whose instance a create of this run took does nothing. A pending
  application certfleet made (recorded, claim and digest still this entry's) is withdrawn
  (CancelPendingCertificate); an accepted withdrawal is waited for briefly (CAS may apply it
  asynchronously): still pending, the delete fails (Pulumi keeps the state). An OperationDenied answer is
  done only when the instance then shows inactive (a retry after a lost answer) or issued (issued meanwhile:
  kept and reported); still pending, the delete fails with CAS's code (Pulumi keeps the state and a
  generated key). After a withdrawal certfleet's claim
  tags are removed (UntagResources) so the instance can be used again. A reissue under review is never
  withdrawn, and its serving certificate never revoked while it runs. An issued certificate is kept, revoked
  (RevokeCertificate) only on a real destroy (the entry declared under neither kind), with revokeOnDelete,
  when it is certfleet's and the certificate the state recorded. The instance itself is never deleted or
  refunded: the user bought it.
"""

from __future__ import annotations

from typing import Any, Mapping

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, ReadResult, UpdateResult

from components import keys
from components.alicloud import client as cas_api
from components.alicloud.client import models as _models
from components.alicloud.inputs import check_inputs
from components.alicloud.cas import KIND as CAS_ORDER_KIND
from components.alicloud.instance_checks import (
    APPLY, CLAIM_APPLICATION_TAG, CLAIM_ENTRY_TAG, CLAIM_STAMP_TAG, FOREIGN, INPUT_KEYS,
    INSTANCE_CHECKS, ISSUED, KEY_MISMATCH, OUTPUT_KEYS, PENDING, PENDING_REPLACE_KEYS, REISSUING, REPLACE_KEYS,
    STORED_INPUT_KEYS, WITHDRAW_THEN_APPLY, application_digest, application_of_detail, application_of_entry,
    capacity_failures, challenges_of, claim_of, claims_of, foreign_message, holds_certificate, instance_inputs,
    is_certfleets, is_foreign, label, one_certificate, replace_keys, replacement_failures,
    shows_another_certificate, state_of, status_message, tags_of, wire_key_algorithm, wire_validation)
from components.alicloud.instance_config import CasInstanceSpec
from components.alicloud.instance_release import KEPT, WithdrawOrKeep
from components.alicloud.status import owner_text
from components.dynamic import (ISSUANCE, RECORDS, REFUSE, CertfleetProvider, CertfleetResource, Clock, RunSet,
                                changed_keys, declared_in_this_run, first_opinion, note_declared, resource_identity,
                                tell_user, wait_for)
from components.errors import CertfleetError, CloudError, WaitTimeout
from components.journal import journalled_at, not_journalled

KIND = "alicloud:CasInstanceCertificate"
CHALLENGE_TIMEOUT_SECONDS = 60
POLL_SECONDS = 5
# What the state records of certfleet's own application; carried by update, compared by read and delete.
RECORD_KEYS = ("private_key", "csr", "applied_by_certfleet", "application", "claim_written", "cert_id",
               "certificate_pem", "not_after")
# Facts about this run (one provider process per run, as components.dynamic.DECLARED):
TAKEN_IN_THIS_RUN = RunSet()   # instances a create of this run applied through or resumed
REPLACED_IN_PLACE = RunSet()   # instances whose entry check saw replaced on the same instance


class CasInstanceProvider(WithdrawOrKeep, CertfleetProvider):
    """Dynamic provider for one certificate applied for through a CAS instance. Holds no state."""

    clock = Clock

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        # A delete in this run, of this kind or of a CasOrder (the entry switched from productCode to
        # `instance:`), is the old half of a replacement.
        names = [news.get("order_name"), *(news.get("previous_names") or [])]
        note_declared(KIND, *names)
        note_declared(CAS_ORDER_KIND, *names)
        failures = check_inputs(news)  # the config's name-count and wildcard rules again
        moving = not olds or olds.get("instance_id") != news.get("instance_id")
        in_place = not moving and changed_keys(olds, news, REPLACE_KEYS + PENDING_REPLACE_KEYS)
        if in_place:
            REPLACED_IN_PLACE.add(news["instance_id"])  # for delete: never drop an issued one's state
        if (moving or in_place) and cas_api.Config.available():
            detail = self._detail(cas_api.cas_client(), news["instance_id"], label(news))
            if detail is None:
                failures.append(CheckFailure(
                    "instance_id", f"instance {news['instance_id']} is not visible to "
                                   f"{owner_text(cas_api.current_owner())}: check the id in the CAS console's "
                                   f"instance list and the credentials"))
            elif moving:
                failures += capacity_failures(detail, news)
            else:
                failures += replacement_failures(detail, olds, news)
        return CheckResult(news, failures)

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        if not changed_keys(olds, news, INPUT_KEYS):
            return DiffResult(changes=False)
        replaces = replace_keys(olds, news)
        # On the same instance the new application needs the old one withdrawn first; on another instance the
        # new one is applied for first, and the old one stays in the state until it exists.
        return DiffResult(changes=True, replaces=replaces,
                          delete_before_replace=bool(replaces) and "instance_id" not in replaces)

    def create(self, props: dict[str, Any]) -> CreateResult:
        cas, resource = cas_api.cas_client(), label(props)
        if journalled_at(props) is None:
            raise CertfleetError(not_journalled(resource, "alicloud-journal"))
        instance = props["instance_id"]
        detail = self._detail(cas, instance, resource)
        if detail is None:
            raise CertfleetError(f"{resource}: instance {instance} is not visible to "
                                 f"{owner_text(cas_api.current_owner())}")
        verdict, why = first_opinion(INSTANCE_CHECKS, detail, props)
        if verdict == REFUSE:
            raise CertfleetError(f"{resource}: {why}")
        TAKEN_IN_THIS_RUN.add(instance)  # a replaced resource's delete in this run leaves it alone
        private_key, csr = None, props.get("csr_pem")
        application = application_digest(application_of_detail(detail))  # RESUME: what the instance shows
        claim_written = claim_of(detail)                                    # RESUME: this entry's, maybe renamed
        if verdict == WITHDRAW_THEN_APPLY:
            self._call("CancelPendingCertificate", resource, lambda: cas.cancel_pending_certificate(
                _models().CancelPendingCertificateRequest(instance_id=instance)))
            self._wait_withdrawn(cas, instance, resource)
        if verdict in (APPLY, WITHDRAW_THEN_APPLY):
            if props["csr_mode"] == "generate":
                private_key, csr = keys.generate_key_and_csr(list(props["domains"]), props["key_algorithm"])
            application, claim_written = self._apply(cas, props, csr, resource), props["claim"]
        outs = self._settle(cas, {**props, "private_key": private_key, "csr": csr, "application": application,
                                  "claim_written": claim_written}, resource)
        return CreateResult(instance, outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        cas, resource = cas_api.cas_client(), label(props)
        detail = self._detail_owned(cas, id_, props, resource)
        if detail is None:
            return ReadResult("", {})
        return ReadResult(id_, self._outputs(cas, detail, props, resource),
                          {k: props.get(k) for k in STORED_INPUT_KEYS})

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        # Stored in place (tags, contacts and company are read by CAS at application): one read, no CAS write.
        cas, resource = cas_api.cas_client(), label(news)
        detail = self._detail_owned(cas, id_, olds, resource)
        carried = {k: olds.get(k) for k in RECORD_KEYS}
        if detail is None:
            return UpdateResult({**olds, **news, **carried})
        return UpdateResult(self._outputs(cas, detail, {**news, **carried}, resource))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        cas, resource = cas_api.cas_client(), label(props)
        detail = self._detail_owned(cas, id_, props, resource)
        if detail is None:
            return
        name = props["order_name"]
        replaced = declared_in_this_run(KIND, name) or declared_in_this_run(CAS_ORDER_KIND, name)
        if replaced and id_ in TAKEN_IN_THIS_RUN:  # create before delete on the same instance (--replace)
            tell_user(f"{resource}: nothing withdrawn or revoked: this run's replacement applied through instance "
                      f"{id_} or took its certificate; {KEPT.format(id_)}")
            return
        if replaced and id_ in REPLACED_IN_PLACE and holds_certificate(detail):
            # Issued (or a reissue started) since the preview: the replacement cannot apply here, and Pulumi
            # keeps the state (and a generated key) when this delete fails.
            what = ("a reissue is under review on it" if state_of(detail) == REISSUING
                    else "CAS issued the application meanwhile")
            raise CertfleetError(f"{resource}: {what}; {one_certificate(detail, id_)}. Nothing was changed; "
                                 f"`pulumi up --refresh` records what the instance holds")
        state = state_of(detail)
        ours = bool(props.get("applied_by_certfleet")) and is_certfleets(detail, props)
        if state == PENDING and ours:
            self._withdraw(cas, id_, props, resource)
        elif state == REISSUING:
            unapplied = " (revokeOnDelete is not applied while it runs)" if props.get("revoke_on_delete") else ""
            tell_user(f"{resource}: instance {id_} is reissuing certificate {detail.certificate_id} (a reissue "
                      f"under review, not applied for by certfleet): the reissue is not withdrawn and the serving "
                      f"certificate is kept{unapplied}; {KEPT.format(id_)}")
        elif state == ISSUED and ours and props.get("revoke_on_delete") and not replaced \
                and str(detail.certificate_id) == str(props.get("cert_id")):
            self._call("RevokeCertificate", resource, lambda: cas.revoke_certificate(_models().RevokeCertificateRequest(
                instance_id=id_, certificate_id=int(detail.certificate_id))))
            tell_user(f"{resource}: certificate {detail.certificate_id} revoked (revokeOnDelete: true); "
                      f"{KEPT.format(id_)}")
        elif state == ISSUED:
            why = ("the entry is being replaced" if replaced
                   else "revokeOnDelete is not set" if ours and str(detail.certificate_id) == str(props.get("cert_id"))
                   else "certfleet cannot prove it applied for it")
            tell_user(f"{resource}: the issued certificate {detail.certificate_id} is kept ({why}); {KEPT.format(id_)}")
        else:
            why = "it is not certfleet's application" if state == PENDING else f"it is {state}"
            tell_user(f"{resource}: nothing withdrawn or revoked ({why}); {KEPT.format(id_)}")
            if detail.status == "inactive" and claim_of(detail) in claims_of(props):
                self._clear_claim(cas, id_, resource)  # withdrawn outside certfleet: the claim is stale

    # --- steps ---------------------------------------------------------------------------------------------

    def _apply(self, cas: Any, props: Mapping[str, Any], csr: str | None, resource: str) -> str:
        """UpdateInstance with the application and certfleet's claim, then ApplyCertificate. Returns the
        application's digest (the claim's third tag, recorded in the state). An application that did not go
        through (the instance still unused) takes its claim tags back, so no claim is left without a state."""
        models = _models()
        instance = props["instance_id"]
        application = application_digest(application_of_entry(props, csr))
        claim = {CLAIM_ENTRY_TAG: props["claim"], CLAIM_STAMP_TAG: (props.get("journal") or {}).get("run") or "",
                 CLAIM_APPLICATION_TAG: application}
        tags = [models.UpdateInstanceRequestTags(tag_key=k, tag_value=v)
                for k, v in sorted({**(props.get("tags") or {}), **claim}.items())]
        request = models.UpdateInstanceRequest(
            instance_id=instance, domain=",".join(props["domains"]), csr=csr or None,
            generate_csr_method="upload" if csr else "online",
            key_algorithm=None if csr else wire_key_algorithm(props["key_algorithm"]),
            validation_method=wire_validation(props["validation"]), tags=tags,
            contact_id_list=list(props.get("contact_ids") or []) or None, company_id=props.get("company_id"))
        self._call("UpdateInstance", resource, lambda: cas.update_instance(request))
        try:
            self._call("ApplyCertificate", resource, lambda: cas.apply_certificate(
                models.ApplyCertificateRequest(instance_id=instance)))
        except CloudError as err:
            # A lost answer: the application may have gone through (the claim we just wrote proves it ours).
            detail = self._detail(cas, instance, resource)
            ours = detail is not None and claim_of(detail) == props["claim"] \
                and tags_of(detail).get(CLAIM_APPLICATION_TAG) == application
            if ours and detail.status == "pending":
                return application
            if ours and detail.status == "inactive" and not cas_api.is_transient(err.__cause__):
                # Refused: nothing applied, leave no claim behind. A transient error (a server error, a lost
                # answer) may still be carried out: the claim stays, so the application stays provably ours.
                self._clear_claim(cas, instance, resource)
            raise
        return application

    def _settle(self, cas: Any, props: Mapping[str, Any], resource: str) -> dict[str, Any]:
        """Bounded waits for the validation records, then (optionally) issuance. Never fails once applied."""
        instance = props["instance_id"]

        def current() -> Any:
            detail = self._detail(cas, instance, resource)
            if detail is None:
                raise CloudError("alicloud", "cas.GetInstanceDetail", resource, "NotFound",
                                 f"instance {instance} disappeared while certfleet was waiting for it")
            return detail

        try:
            try:
                detail = wait_for(f"{resource} validation records",
                                  lambda: d if (d := current()).status != "pending" or challenges_of(d) else None,
                                  CHALLENGE_TIMEOUT_SECONDS, POLL_SECONDS, self.clock, shared=RECORDS)
                if props.get("issued_timeout_seconds"):
                    detail = wait_for(f"{resource} to be issued",
                                      lambda: d if (d := current()).status != "pending" else None,
                                      props["issued_timeout_seconds"], POLL_SECONDS, self.clock, shared=ISSUANCE)
            except WaitTimeout:
                detail = current()
            return self._outputs(cas, detail, {**props, "applied_by_certfleet": True}, resource)
        except Exception as err:  # noqa: BLE001 - applied: record it, say what went wrong; refresh resumes
            return {**{k: props.get(k) for k in STORED_INPUT_KEYS}, **dict.fromkeys(OUTPUT_KEYS),
                    "state": "unknown", "applied_by_certfleet": True, "adopted": False, "adopted_by_id": False,
                    "application": props.get("application"), "claim_written": props.get("claim_written"),
                    "private_key": props.get("private_key"), "csr": props.get("csr") or props.get("csr_pem"),
                    "owner": cas_api.current_owner(),
                    "status_message": f"applied through instance {instance}, but reading it failed: {err}; run "
                                      f"`pulumi up --refresh`"}

    def _outputs(self, cas: Any, detail: Any, props: Mapping[str, Any], resource: str) -> dict[str, Any]:
        if is_foreign(detail, props):
            return self._foreign_outputs(detail, props)
        state = state_of(detail)
        challenges = challenges_of(detail) if state == PENDING else []
        certificate = cas_key = None
        if detail.certificate_id and state in (ISSUED, REISSUING, "revoked", "expired"):
            # The recorded certificate, or (none recorded yet, or a reissue) certfleet's application's:
            # is_foreign has ruled out an id of another application.
            certificate, cas_key = user_certificate(cas, detail.certificate_id, resource, self.clock)
        own_csr = props.get("csr_pem") or (props.get("csr") if props.get("csr_mode") == "generate" else None)
        if certificate and own_csr and not keys.certificate_matches_key(certificate, own_csr):
            if shows_another_certificate(detail, props):  # reissued without certfleet's key: the recorded one stays
                return self._foreign_outputs(detail, props)
            state, certificate, cas_key = KEY_MISMATCH, None, None  # not the key certfleet configured or made
        not_after = keys.certificate_not_after(certificate) if certificate else None
        cert_id = str(detail.certificate_id) if certificate else None
        if certificate is None and props.get("cert_id") and state != KEY_MISMATCH:
            # The instance shows no certificate now: the state keeps the one certfleet recorded.
            certificate, not_after, cert_id = props.get("certificate_pem"), props.get("not_after"), props["cert_id"]
        return {
            **{k: props.get(k) for k in STORED_INPUT_KEYS},
            "order_id": None, "state": state, "challenge": challenges[0] if challenges else None,
            "challenges": challenges, "status_message": status_message(state, props, challenges, not_after),
            "certificate_pem": certificate, "not_after": not_after, "cert_id": cert_id,
            # CAS's key comes with its certificate (a reissue brings a new one); certfleet's own key stays.
            "private_key": props.get("private_key") if own_csr or not cas_key else cas_key,
            "csr": props.get("csr") or props.get("csr_pem"), "adopted": False, "adopted_by_id": False,
            "owner": cas_api.current_owner(), "product_code": detail.spec,
            "applied_by_certfleet": bool(props.get("applied_by_certfleet")),
            "application": props.get("application"), "claim_written": props.get("claim_written"),
        }

    @staticmethod
    def _foreign_outputs(detail: Any, props: Mapping[str, Any]) -> dict[str, Any]:
        """State FOREIGN: the recorded outputs stay as they are (certificate, key, id)."""
        return {**{k: props.get(k) for k in STORED_INPUT_KEYS + OUTPUT_KEYS}, "state": FOREIGN,
                "challenge": None, "challenges": [], "status_message": foreign_message(detail, props),
                "owner": cas_api.current_owner(), "applied_by_certfleet": bool(props.get("applied_by_certfleet"))}

    def _detail_owned(self, cas: Any, instance: str, props: Mapping[str, Any], resource: str) -> Any | None:
        """GetInstanceDetail; None (gone) only for the owner the state records, else a CloudError."""
        detail = self._detail(cas, instance, resource)
        if detail is None and props.get("owner") != (current := cas_api.current_owner()):
            raise CloudError("alicloud", "cas.GetInstanceDetail", resource, "NotFound",
                             f"CAS does not show instance {instance} to this run, but it was used at "
                             f"{owner_text(props.get('owner'))} and this run uses {owner_text(current)}; run with "
                             f"the account's credentials, or `pulumi state delete` the resource if it is gone")
        return detail

    def _detail(self, cas: Any, instance: str, resource: str) -> Any | None:
        try:
            return self._call("GetInstanceDetail", resource, lambda: cas.get_instance_detail(
                _models().GetInstanceDetailRequest(instance_id=instance))).body
        except CloudError as err:
            if err.code == "NotFound":
                return None
            raise

    def _call(self, action: str, resource: str, send: Any) -> Any:
        return cas_api.call(action, resource, send, clock=self.clock)


def user_certificate(cas: Any, cert_id: Any, resource: str,
                     clock: type[Clock] = Clock) -> tuple[str | None, str | None]:
    """(certificate, CAS's key or None) of an instance's certificate: GetUserCertificateDetail. Also what the
    DNS validation (components/dns/validation.py) outputs once it sees the instance issued."""
    body = cas_api.call("GetUserCertificateDetail", resource, lambda: cas.get_user_certificate_detail(
        _models().GetUserCertificateDetailRequest(cert_id=int(cert_id))), clock=clock).body
    return body.cert or None, body.key or None


class CasInstanceCertificate(CertfleetResource, module="alicloud", name="CasInstanceCertificate"):
    """A certificate applied for through a CAS V2.0 instance.
    Type token: pulumi-python:dynamic/alicloud:CasInstanceCertificate."""

    order_id: pulumi.Output[str]
    instance_id: pulumi.Output[str]
    state: pulumi.Output[str]
    status_message: pulumi.Output[str]
    product_code: pulumi.Output[str]
    domains: pulumi.Output[list]
    challenge: pulumi.Output[dict]
    challenges: pulumi.Output[list]
    certificate_pem: pulumi.Output[str]
    not_after: pulumi.Output[str]
    cert_id: pulumi.Output[str]
    private_key: pulumi.Output[str]
    csr: pulumi.Output[str]
    adopted: pulumi.Output[bool]
    adopted_by_id: pulumi.Output[bool]
    owner: pulumi.Output[dict]

    def __init__(self, name: str, spec: CasInstanceSpec, issued_timeout_seconds: int, journal: Any = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        """`journal`: the purchase journal's stamp (PurchaseJournal.stamp_of): saved before this create runs."""
        # Create before delete (no delete_before_replace): `pulumi up --replace` skips diff, and on another
        # instance the old certificate stays in the state until the new one exists (module docstring).
        own = pulumi.ResourceOptions(additional_secret_outputs=["private_key"])
        props = {**instance_inputs(spec, issued_timeout_seconds, resource_identity(name),
                                   [resource_identity(n) for n in spec.previous_names]),
                 "journal": journal, **dict.fromkeys(OUTPUT_KEYS)}
        super().__init__(CasInstanceProvider(), name, props, pulumi.ResourceOptions.merge(opts, own))
