"""Huawei Cloud SCM: certificates bought (seed 002, v3 buy; or seed 003, v2 purchase, with `api: v2`) and applied
for, with DNS or EMAIL validation.

Environment: see components/huaweicloud/client.py (HUAWEICLOUD_SDK_AK/SK/DOMAIN_ID,
CERTFLEET_HUAWEICLOUD_SCM_ENDPOINT).
API permissions used: scm:cert:buy (SubscribeCertificate, or the v2 purchase), scm:cert:apply,
  scm:cert:get (ShowCertificate),
  scm:cert:list (ListCertificates: the sweep after an interrupted run or a lost buy answer),
  scm:cert:export, scm:cert:cancel (CancelCertificateRequest), scm:cert:unsubscribe, scm:cert:delete
  (only with onDestroy: delete), scm:tag:list / scm:tag:create (ListCertificatesByTag, ListTagsByCertificate,
  BatchCreateOrDeleteTags).
Modules: this one holds the provider (its lifecycle below) and the resource; the look before a purchase and
adopt by id (their checks, and the steps that run them, mixed into the provider) are in scm_candidates.py; the
sweep of the listing that pairs the tag look when the tag index may lag, in scm_sweep.py; the purchase, the apply
and the bounded waits after them (and the outputs they record), in scm_purchase.py; delete's withdraw, refund and
delete steps (SCM's rule for each), in scm_destroy.py; tags, statuses, input keys, the request hash, the inputs
and the request bodies are in scm_model.py.

Lifecycle:
- check: notes that the program declares this certificate in this run (components/dynamic.note_declared, by
  entry name and by resource identity), so that delete can tell the old half of a replacement from a destroy.
- create: refuses to buy when its props carry no purchase-journal stamp (the journal was left out of the
  update, e.g. by `pulumi up --target`): without it certfleet cannot tell whether an interrupted run already
  bought this certificate. Else it looks at every certificate of this resource (ListCertificatesByTag under
  its resource tag or a former one, `previous_resource_tags` of a renamed entry; the tags are written
  atomically with the purchase) and judges each with CANDIDATE_CHECKS, in order; the first check with an
  opinion decides. A dead one is skipped; so is the certificate this run's replacement replaces (diff notes
  it; create before delete keeps it live meanwhile). One with this purchase's request hash is adopted,
  re-tagged with the current identity, if it is not applied for yet or applied for the configured names (one
  applied for other names in the console is what a drift replacement replaces, so it is never adopted back).
  An issued one with another request hash is an earlier certificate of this entry that a replacement kept:
  skipped. One with another request hash that is not issued (bought, under review, still processing, status
  unknown) was most likely bought by an interrupted run with the entry's earlier settings and never recorded:
  create refuses, naming it, and buys nothing (a second paid purchase for one resource). With nothing to
  adopt it buys one (order_number 1). When the purchase journal's stamp (`journal`) is from an earlier run,
  that run may have bought and died before the state was saved, and the tag index may lag a purchase
  (reference A5), so "no tagged match" proves nothing: certfleet pairs the tag look with a sweep of the whole
  listing (every status: an order may still be in its undocumented pre-PAID status, or left under review)
  for certificates not past any purchase (expired, revoked, imported) of the same brand, type and domain
  type, showing the entry's primary name or no name, ordered since the journal stamp (the order id's time,
  minus slack), that nothing claims (scm_sweep.py, SWEEP_CHECKS): a certificate whose own tags show this
  resource's is judged by CANDIDATE_CHECKS; one that shows no certfleet tag stops the purchase: the look goes
  on for `listing_lag_seconds` (its tags may appear, proving it this entry's), then create refuses naming it
  (it may be this entry's, or another stack's or the console's whose tags are not visible yet: check its
  tags, then wait, `adopt` it by id, or unsubscribe it within 7 days). So it does when an earlier purchase of
  the entry (other settings) was journalled recently; otherwise it looks once (tags only). A refusal stops at
  once. A lost answer to the buy is never retried blindly: certfleet looks again, tags and sweep (bounded:
  the tag index may lag), and adopts what the purchase created; a refusal then also names the failed call
  and SCM's code. Then wait (bounded) for the order to be PAID (the first reads may answer 404 or a
  status certfleet does not know: it keeps polling), apply (domain, sans, CSR or key made by SCM,
  domain_method, applicant and company), wait (bounded) for the validation records and optionally for ISSUED; each of these three long waits shares the run's
  window of its kind (dynamic.WaitWindow), so a large stack waits at most each kind's longest timeout. Once
  money is spent create and update never fail: any error or a wait that runs out is recorded in `status`
  (UNKNOWN if not known)/`status_message`, a generated key is kept, and the next `pulumi up` (diff: an unknown
  status is a change) or `up --refresh` continues.
- v2 (`api: v2`, docs/scm-v2.md): the same create; only the purchase call differs (the v2 body, sent through
  the SDK's transport, carries no tags: certfleet tags the certificate right after the answer). Its marker is the
  journal stamp: after an interrupted run or a lost answer, the look's unclaimed certificates (of the entry's
  product, untagged, ordered since the stamp) are never waited into a refusal: when the look ends, the entry
  claims one (scm_sweep.py), tags it and records it `adopted` (destroy keeps it: not provably certfleet's).
- adopt by id (`adopt: "scs..."`, config): check (a first create, with credentials) shows the certificate:
  missing -> a failure naming the id; tagged `certfleet-resource` by another resource -> refused naming it;
  showing no tags at all while ordered within the tag index's lag (`listing_lag_seconds` plus slack, by its
  order id) -> refused, asking to wait (it may be another stack's purchase whose tags are not visible yet);
  a difference a purchase would be needed for (ADOPT_COMPARISONS) -> a failure naming each, unless
  `replaceAdopted`. create tags it as this resource's (resource, request hash, generation: later runs find
  it), buys nothing, and goes on as for a bought one (a PAID/UNPASSED one is applied for with the entry's
  data, which spends nothing); `adopted: true`. With replaceAdopted and a difference it buys as any entry
  and leaves the adopted certificate untagged. diff refuses a replacement of an adopted certificate while the
  entry says `adopt` without `replaceAdopted`; delete keeps it unless the entry says `onDestroy: delete` and
  it is a real destroy. Whenever delete leaves an adopted certificate in SCM (also the old half of a
  replaceAdopted replacement, or a refund SCM refuses) it takes certfleet's own tags (resource, request hash,
  generation) off it while its resource tag is still this resource's, leaving the user's tags: a later entry
  never takes it for its own purchase (which a destroy would refund), and another entry or stack may adopt
  it. Not when a newer create of this resource adopted it back (it is still serving).
- every output records `owner` ({endpoint, account}: the domain id, or a short hash of the access key) of the
  credentials that bought or last saw the certificate. SCM answers "not found" for another account's
  certificate, so read, update and delete take a 404 for "gone" only under the recorded owner; under other
  credentials they raise, naming both owners, and never drop a paid certificate from the state.
- read (refresh): follows the status. Names (once applied for; while PAID/UNPASSED SCM holds none, so the
  configured ones stay) and user tags (ListTagsByCertificate without certfleet's own `certfleet-*` tags) come
  from SCM and are returned as both outputs and inputs, so drift made in the console shows in the next
  preview. A refresh of more than a few certificates takes the tags from one listing of certfleet's tagged
  certificates (ListCertificatesByTag, 50 a page) and asks ListTagsByCertificate only where the listing's tags
  differ from the state's or the listing does not show the certificate (scm_tag_index.py): about one call per
  certificate instead of two. 404 (under the recorded owner) -> gone from state. Once ISSUED the certificate,
  chain and expiry are exported; the private key is a secret output (ResourceOptions.additional_secret_outputs).
- update: looks once first (no long wait: only a new purchase waits for a known status). A certificate gone
  (404) is recorded as GONE and nothing else is done (`pulumi up --refresh` drops it from state). Other names
  on a certificate state says is PAID/UNPASSED but SCM says has moved on (applied for in the console, or a lost
  apply answer) raise before anything changes: `pulumi up --refresh`, then diff replaces. Otherwise tags,
  applicant, validation method, timeouts, region and resource tag (a renamed entry, project or stack) change
  in place; a certificate still PAID or UNPASSED is applied for (again), also with other names. Brand, type,
  domain type, years, CSR source, key algorithm, or names once past PAID/UNPASSED replace (a new purchase,
  create before delete; diff notes the replaced certificate for the run, so the replacing create skips it).
- delete (allow-list): certfleet's application under review (CHECKING, CHECKING_ORG) is withdrawn
  (cancel-cert; its `success` means accepted, so the status is polled, bounded by `delete_timeout_seconds`
  within the run's one window for withdrawals, until CANCELCHECKING ends);
  never ISSUING or SUPPLEMENTCHECKING. Only what SCM refunds is refunded (unsubscribe): PAID (never applied
  for, or withdrawn) within 7 days of payment (the order id's time; SCM has the last word). A rejected
  (UNPASSED) certificate, or one paid more than 7 days ago, is kept and the user told why (no failing call).
  An issued or expired certificate is kept unless onDestroy is "delete" and this is a real destroy (`pulumi
  destroy`, or the entry left the config): then DeleteCertificate; a REVOKED one is never deleted (SCM
  deletes only issued, hosted, expired) but refunded within 7 days. The old half of a replacement (the
  certificate is still declared in this run) is always kept, whatever onDestroy says, so its successor can
  take over. Every other status is kept, with a warning.
"""

from __future__ import annotations

import uuid
from typing import Any, Mapping

import pulumi
from pulumi.dynamic import CheckResult, CreateResult, DiffResult, ReadResult, ResourceProvider, UpdateResult

from components.dynamic import Clock, changed_keys, note_declared, resource_identity, tell_user
from components.errors import CertfleetError, CloudError
from components.huaweicloud import client as scm_api
from components.huaweicloud.config import HuaweiSpec, ScmCertificateSpec
from components.huaweicloud.scm_candidates import ScmCandidateSteps, note_replaced
from components.huaweicloud.scm_destroy import ScmDestroySteps
from components.huaweicloud.scm_purchase import ScmPurchaseSteps
from components.huaweicloud.scm_sweep import ScmSweepSteps, claimed_without_proof
from components.huaweicloud.scm_tag_index import RefreshTagIndex, list_tagged
# HASH_KEYS (fleet.py), RESOURCE_TAG and request_hash (tests, scripts/candidates.py) are imported from here too.
from components.huaweicloud.scm_model import (APPLICABLE, DEAD, GENERATION_TAG, GONE,  # noqa: F401
                                              HASH_KEYS, INPUT_KEYS, KNOWN_STATUSES, ON_DESTROY_DECIDES,
                                              REPLACE_KEYS, REQUEST_TAG, RESOURCE_TAG, SECRET_OUTPUTS, WITHDRAWABLE,
                                              certificate_inputs, declared_keys, names_in_scm, request_hash,
                                              user_tags)
from components.journal import stamp_refusal
from components.packed_provider import PackedResource, packed_fields
from components.renewal import keep_generation


# The tags a refresh reports, listed once per client when it reads many certificates (scm_tag_index.py).
REFRESH_TAGS = RefreshTagIndex()


class ScmCertificateProvider(ScmCandidateSteps, ScmSweepSteps, ScmDestroySteps, ScmPurchaseSteps,
                             ResourceProvider):
    """Dynamic provider for one SCM certificate. Holds no state: everything it needs is in the props."""

    clock = Clock

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        for kind, name in declared_keys(news):
            note_declared(kind, name)  # a delete of it in this run is the old half of a replacement
        # components/config.py validated every rule before any call; adopting needs a look at the certificate.
        news = keep_generation(olds, news)  # a renewal generation never goes back (components/renewal.py)
        return CheckResult(news, self._adopt_failures(olds, news))

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        result = self._diff(olds, news)
        if result.replaces and olds.get("adopted") and news.get("adopt_id") and not news.get("replace_adopted"):
            # Only the entry may say to buy a new certificate in place of one it adopted.
            raise CertfleetError(
                f"certificate '{news.get('cert_name')}': changing {', '.join(result.replaces)} would replace the "
                f"adopted SCM certificate {id_} with a new purchase; set `replaceAdopted: true` on the entry to "
                f"buy one (certificate {id_} is then kept in SCM), or undo the change")
        if result.replaces:
            note_replaced(id_)  # the replacing create (this run, this process) skips it
        return result

    @staticmethod
    def _diff(olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        status = olds.get("status")
        replaces = changed_keys(olds, news, REPLACE_KEYS)
        if status in APPLICABLE:
            # Not applied for (or rejected): other names are simply applied for, no new purchase.
            replaces = [k for k in replaces if k != "domains"]
        if status in DEAD:
            return DiffResult(changes=True, replaces=replaces or ["status"], delete_before_replace=False)
        if status not in KNOWN_STATUSES and not replaces:
            return DiffResult(changes=True, replaces=[])  # order processing or status unknown: update looks
        if status in APPLICABLE and not replaces:
            return DiffResult(changes=True, replaces=[])  # bought but not applied for: update applies
        if not changed_keys(olds, news, INPUT_KEYS):
            return DiffResult(changes=False)
        return DiffResult(changes=None, replaces=replaces, delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        client, resource = self._client(props)
        if props.get("adopt_id"):
            adopted = self._adopt(client, props, resource)
            if adopted is not None:
                return adopted
        if refusal := stamp_refusal(props, HASH_KEYS, resource, "huaweicloud-journal"):
            raise CertfleetError(refusal)  # never buy under a stamp that did not journal this purchase
        generation = uuid.uuid4().hex
        cert_id = self._find_before_buying(client, props, resource)
        if cert_id and not claimed_without_proof(cert_id):
            # adopted: now ours, under the current identity (it may have been found under a former one)
            self._set_tags(client, cert_id, {GENERATION_TAG: generation, RESOURCE_TAG: props["resource_tag"]},
                           resource)
        elif not cert_id:
            cert_id = self._buy(client, props, generation, resource)
        claimed = claimed_without_proof(cert_id)  # a v2 purchase found untagged (scm_sweep.py): tag, adopted
        if claimed:
            self._tag_v2_purchase(client, cert_id, props, generation, resource)
        outs = self._apply_and_settle(client, cert_id, {**props, "generation": generation,
                                                        **({"adopted": True} if claimed else {})}, resource)
        return CreateResult(cert_id, outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        client, resource = self._client(props)
        shown = self._show_owned(client, id_, props, resource)
        if shown is None:
            return ReadResult("", {})  # refunded or deleted out of band: the engine drops it
        in_scm = {"domains": names_in_scm(shown, props.get("domains") or []),
                  "tags": user_tags(self._current_tags(client, id_, props, resource))}
        outs = {**self._outputs(client, id_, shown, props, resource), **in_scm}
        return ReadResult(id_, outs, {k: outs.get(k) for k in INPUT_KEYS})  # drift shows in the next preview

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        client, resource = self._client(news)
        # Look once, before any change. A show error raises here: nothing has changed yet.
        shown = self._show_owned(client, id_, olds, resource, news["region"])
        if shown is None:  # deleted or refunded out of band: final, no waiting
            return UpdateResult(self._unsettled_outputs(
                id_, None, GONE, olds,
                f"certificate {id_} no longer exists in SCM (deleted or refunded outside certfleet); run "
                f"`pulumi up --refresh` to drop it from state, then `pulumi up` buys a new one", final=True))
        if changed_keys(olds, news, ("domains",)) and shown.status not in APPLICABLE:
            # diff kept other names in place because state says PAID/UNPASSED, but SCM has moved on: applying
            # is no longer possible, so they would be recorded and never applied for. Nothing is spent yet.
            raise CertfleetError(
                f"{resource}: the certificate {id_} is {shown.status} in SCM, but the stack state still says "
                f"{olds.get('status')}: it moved on since the last refresh (applied for in the console, or an "
                f"apply whose answer was lost), so other names can no longer be applied for on it. Nothing was "
                f"changed. Run `pulumi up --refresh`: the refreshed status makes the new names a replacement "
                f"(a new purchase; read the preview)")
        old_tags, new_tags = olds.get("tags") or {}, news.get("tags") or {}
        removed = {k: v for k, v in old_tags.items() if k not in new_tags}
        if removed:
            self._batch_tags(client, id_, "delete", removed, resource)
        ours = {RESOURCE_TAG: news["resource_tag"], REQUEST_TAG: request_hash(news)}
        if new_tags != old_tags or ours != {RESOURCE_TAG: olds.get("resource_tag"), REQUEST_TAG: request_hash(olds)}:
            # Renamed project/stack, or other names applied for in place: the look-up tags follow.
            self._set_tags(client, id_, {**new_tags, **ours}, resource)
        kept = {k: olds.get(k) for k in ("generation", "private_key_pem", "csr_pem", "adopted")}
        kept["renews"] = news.get("renews") or olds.get("renews")  # what this certificate renewed stays known
        return UpdateResult(self._apply_and_settle(client, id_, {**news, **kept}, resource, shown))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        client, resource = self._client(props)
        shown = self._show_owned(client, id_, props, resource)
        if shown is None:
            return  # gone already
        tags = self._tags(client, id_, resource)  # read once: for the check below and a kept adopted one's release
        if self._adopted_by_newer_create(tags, props):
            return  # a replacement adopted this very certificate
        if props.get("adopted") and not self._may_destroy_adopted(props):
            tell_user(f"{resource}: the {shown.status} certificate {id_} (order {shown.order_id}) is kept in SCM: "
                      f"certfleet adopted it (bought outside certfleet, or an untagged v2 purchase it took "
                      f"after an interrupted run: certfleet cannot prove it placed it), so destroy never withdraws, "
                      f"refunds or deletes it unless the entry says onDestroy: delete (and a replacement always "
                      f"keeps it); {self._release(client, id_, props, resource, tags)}")
            return
        status = shown.status
        if status in ON_DESTROY_DECIDES:
            self._keep_or_delete(client, id_, shown, props, resource)
            return
        # Allow-list: withdraw only certfleet's application under review, refund only what SCM refunds.
        if status in WITHDRAWABLE + ("CANCELCHECKING",):
            shown = self._withdraw_application(client, id_, status, props, resource)
            if shown is None:
                return  # gone meanwhile
            status = shown.status
            if status == "CANCELCHECKING":
                raise CloudError("huaweicloud", "scm.CancelCertificateRequest", resource, "CANCELCHECKING",
                                 "the withdrawal is still under review; run `pulumi destroy` again later")
        if status not in APPLICABLE:
            # Issued while we waited, withdrawal refused, awaiting issuance, names being added, an unknown status:
            # never refund it.
            released = f"; {self._release(client, id_, props, resource)}" if props.get("adopted") else ""
            tell_user(f"{resource}: the certificate {id_} (order {shown.order_id}) is {status}, so destroy neither "
                      f"refunds nor deletes it; it is kept in SCM (refund or delete it in the console if "
                      f"unwanted){released}")
            return
        self._refund(client, id_, shown, props, resource)

    # --- steps ---

    def _client(self, props: Mapping[str, Any]) -> tuple[Any, str]:
        return scm_api.scm_client(props["region"]), f"certificate '{props.get('cert_name')}'"

    def _call(self, operation: str, resource: str, send: Any, may_repeat: bool = True) -> Any:
        return scm_api.call(operation, resource, send, may_repeat=may_repeat, clock=self.clock)

    def _show_owned(self, client: Any, cert_id: str, props: Mapping[str, Any], resource: str,
                    region: str | None = None) -> Any | None:
        """`_show` of a certificate in the state (`props`); `region`: the one the client is for, if not the
        state's. SCM answers "not found" for another account's certificate too, so None ("gone") only under
        the account and endpoint recorded in `owner`; under any other credentials this raises."""
        shown = self._show(client, cert_id, resource)
        if shown is None:
            self._refuse_unless_owner(cert_id, props, resource, scm_api.owner(region or props["region"]))
        return shown

    @staticmethod
    def _refuse_unless_owner(cert_id: str, props: Mapping[str, Any], resource: str,
                             current: dict[str, str]) -> None:
        """SCM says `cert_id` is not there: fine ("gone") under the recorded owner, else raise, naming both."""
        recorded = props.get("owner")
        if recorded != current:
            recorded = recorded if isinstance(recorded, Mapping) else {}
            raise CloudError(
                "huaweicloud", "scm.ShowCertificate", resource, "NotFound",
                f"SCM does not show certificate {cert_id} (order {props.get('order_id')}) to these credentials. "
                f"It was recorded for account {recorded.get('account', '(not recorded)')} at "
                f"{recorded.get('endpoint', '(not recorded)')}; the current credentials are account "
                f"{current['account']} at {current['endpoint']}. certfleet does not drop a paid certificate "
                f"another account may hold: run with the credentials (HUAWEICLOUD_SDK_AK/SK, "
                f"HUAWEICLOUD_SDK_DOMAIN_ID) and endpoint of the account that bought it; if it is really gone, "
                f"remove it from the stack with `pulumi state delete`")

    def _show(self, client: Any, cert_id: str, resource: str) -> Any | None:
        from huaweicloudsdkscm.v3 import ShowCertificateRequest

        try:
            return self._call("ShowCertificate", resource, lambda: client.show_certificate(
                ShowCertificateRequest(certificate_id=cert_id)))
        except CloudError as err:
            if err.code in ("SCM.0020", "SCM.0008") or err.code == "404":
                return None
            raise

    def _must_show(self, client: Any, cert_id: str, resource: str) -> Any:
        shown = self._show(client, cert_id, resource)
        if shown is None:
            raise CloudError("huaweicloud", "scm.ShowCertificate", resource, "SCM.0020",
                             f"{cert_id} disappeared while certfleet was working on it")
        return shown

    def _tags(self, client: Any, cert_id: str, resource: str) -> dict[str, str]:
        from huaweicloudsdkscm.v3 import ListTagsByCertificateRequest

        listed = self._call("ListTagsByCertificate", resource, lambda: client.list_tags_by_certificate(
            ListTagsByCertificateRequest(resource_id=cert_id)))
        return {t.key: t.value for t in listed.tags or []}

    def _current_tags(self, client: Any, cert_id: str, props: Mapping[str, Any], resource: str) -> dict[str, str]:
        """Read's tags: the run's listing when its user tags are the state's (scm_tag_index.py), else SCM's."""
        listed = REFRESH_TAGS.tags_of(client, cert_id, lambda: self._tag_listing(client))
        if listed is not None and user_tags(listed) == dict(props.get("tags") or {}):
            return listed
        return self._tags(client, cert_id, resource)

    def _tag_listing(self, client: Any) -> dict[str, dict[str, str]] | None:
        """Every certificate tagged as certfleet's, with its tags; None when listing fails (reads ask instead)."""
        try:
            return list_tagged(client, RESOURCE_TAG, lambda operation, send: self._call(
                operation, "the refresh's listing of certfleet's certificates", send))
        except CloudError:
            return None

    def _batch_tags(self, client: Any, cert_id: str, action: str, tags: Mapping[str, str], resource: str) -> None:
        from huaweicloudsdkscm.v3 import (BatchCreateOrDeleteTagsRequest, BatchCreateOrDeleteTagsRequestBody,
                                          ScsResourceTag)

        body = BatchCreateOrDeleteTagsRequestBody(action=action, tags=[ScsResourceTag(key=k, value=v)
                                                                       for k, v in sorted(tags.items())])
        self._call("BatchCreateOrDeleteTags", resource, lambda: client.batch_create_or_delete_tags(
            BatchCreateOrDeleteTagsRequest(resource_id=cert_id, body=body)))

    def _set_tags(self, client: Any, cert_id: str, tags: Mapping[str, str], resource: str) -> None:
        if tags:
            self._batch_tags(client, cert_id, "create", tags, resource)

    @staticmethod
    def _adopted_by_newer_create(tags: Mapping[str, str], props: Mapping[str, Any]) -> bool:
        """The certificate's generation tag (`tags`, as read) is a newer create's: it adopted it back."""
        stamped = tags.get(GENERATION_TAG)
        return bool(stamped and props.get("generation") and stamped != props["generation"])


# --- the resource -------------------------------------------------------------------------------------------

# What an SCM certificate's create, read and update return beside its inputs.
OUTPUT_KEYS = ("certificate_id", "order_id", "status", "status_message", "validation_records", "not_after",
               "fingerprint", "certificate_pem", "certificate_chain_pem", "private_key_pem", "csr_pem", "generation",
               "owner", "adopted", "renewal_held")


@packed_fields(*(k for k in (*OUTPUT_KEYS, *INPUT_KEYS, "renews", "api", "project_id") if k not in SECRET_OUTPUTS))
class ScmCertificate(PackedResource, module="huaweicloud", name="ScmCertificate"):
    """A purchased SCM certificate. Type token: pulumi-python:dynamic/huaweicloud:ScmCertificate.

    Its state is one JSON property, `spec` (components/packing.py), but the private key (a secret output, kept
    top level): `certificate.status` and the other fields read `spec`."""

    spec: pulumi.Output[str]
    private_key_pem: pulumi.Output[str]

    def __init__(self, name: str, spec: ScmCertificateSpec, huawei: HuaweiSpec, journal: Any = None,
                 opts: pulumi.ResourceOptions | None = None, renewal: Mapping[str, Any] | None = None) -> None:
        """`journal`: the purchase journal's stamp for this entry (PurchaseJournal.stamp_of)."""
        resource_tag = resource_identity(spec.name)
        super().__init__(ScmCertificateProvider(), name,
                         # `renewal`: renewal_generation and renews (components/renewal.py SectionRenewal.inputs)
                         {**certificate_inputs(spec, huawei, resource_tag), "renewal_generation": None,
                          "renews": None, **(renewal or {}), "journal": journal},
                         opts, SECRET_OUTPUTS)
