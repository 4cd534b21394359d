"""Alibaba Cloud CAS: certificate orders from a resource plan (seeds 001 and 004).

Environment: see components/alicloud/client.py (ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET, endpoint override).
RAM actions used: yundun-cert:CreateCertificateForPackageRequest, yundun-cert:CreateCertificateWithCsrRequest,
  yundun-cert:DescribeCertificateState, yundun-cert:DescribePackageState, yundun-cert:ListUserCertificateOrder,
  yundun-cert:CancelOrderRequest, yundun-cert:DeleteCertificateRequest and, only with revokeOnDelete,
  yundun-cert:CancelCertificateForPackageRequest.

Where: this module keeps the provider's lifecycle and the resource; beside it are the inputs and their
replacement rules (inputs.py), states and status messages (status.py), the purchase steps and Create*
requests (purchase.py), adopt by id (adopt.py), the look-before-buy checks (candidates.py), what delete keeps,
cancels or revokes (release.py) and SDK plumbing (client.py).

Which API: `api: withCsr` -> CreateCertificateWithCsrRequest (DV plans, CSR and contact required); otherwise
CreateCertificateForPackageRequest with the user's CSR, a CSR certfleet generates (`csr: generate`; the key
is a secret output), or no CSR (CAS makes the key and returns it, also a secret output, once issued).

Lifecycle:
- check: a new order whose plan has no unit left for it fails at preview: the plan is asked once per run
  (DescribePackageState) and each order the run's checks find buying takes a unit (purchase.PLAN_UNITS; not
  one an interrupted run journalled: it may be placed, and counted as used, already). Only
  when credentials are set: a pull-request preview without them skips the check, without an error. check also
  notes that the program declares this order (and its `previousNames`) in this run, for delete.
- create: look before you buy, then buy. CAS orders carry no client-chosen marker (ListUserCertificateOrder
  neither returns nor filters tags), so an order is recognised by its primary name and plan: the list
  (Keyword = the primary name, pages of 50 until an empty page or TotalCount, filtered here) shows an order's
  `Domain` as its primary name only (every published sample; the CSR's CN for a CSR order) or maybe as every
  name, CN first; an item is a candidate when its first name is the entry's primary name and its
  `ProductCode` the entry's. Config guarantees a name belongs to one order of the stack. Failed, revoked and
  expired matches are ignored; PAYED ones (bought, not applied for, or cancelled and not deleted) still hold
  a plan unit and are live. Only an order that is provably not this purchase's is skipped (bought before
  its stamp, or journalled in this run); what CAS may show unreliably (listed names, DomainCount, names it
  adds to a certificate) never lets certfleet buy past an order that may be an interrupted run's. What may
  be this resource's comes from the purchase journal (components/journal.py): its stamp tells which run
  journalled this purchase, and when, and carries the entry's earlier stamps. No Create* call is made
  without a stamp that journalled this very purchase's fingerprint (journal.stamp_refusal; purchase._buy: the
  journal left out by --target, whose stamp is then the previous run's, buys nothing, replaceAdopted included;
  a renewal too: with `renewal_generation` and `renews`, _buy calls RenewCertificateOrderForPackageRequest on
  the predecessor, which every candidate check skips by id first; docs/renewal.md). Each live
  match goes through CANDIDATE_CHECKS (components/alicloud/candidates.py) in order; the first check with an
  opinion decides (skip, adopt, refuse):
  (a) bought before every stamp of the entry, or kept or cancelled by this run's replacement: skipped.
  (a2) bought under an earlier stamp (other settings, or before the entry was removed and added back) and
  not possibly this purchase's: pending -> refuse (most likely an interrupted run's order, recorded nowhere:
  the user cancels it if it is theirs); issued -> skipped (a replacement keeps those).
  (b) pending and listed for other names than the entry's (several listed names not its set, or a
  `DomainCount` other than its number of names: it may be the plan's capacity or count a free name):
  bought since the stamp after an interrupted run -> refuse ("uncertain", naming the order: if it is yours
  ...); otherwise skipped. An issued one is judged by its certificate, below.
  (c) journalled in this run: no earlier run can have placed it, so it is someone else's (the console,
  another stack, another CSR): never adopted, never touched; the user is told, and create buys.
  (c2) PAYED, bought since the stamp, after an interrupted run: it may be that run's order, but certfleet can
  neither apply for it nor tell whose it is: create refuses (never buys past it, never deletes it) until the
  user deletes it or applies for it in the console (it is then judged as the pending order it has become).
  (d) after an interrupted run (the list is polled for up to `listingLagSeconds`, also when an earlier
  stamp is recent: it may lag a purchase): a pending match, or an issued one whose certificate carries the
  user's CSR key (or, with no CSR, whose key CAS made and returns) and covers every entry name with the
  primary name as CN (extra names are fine: CAS reportedly adds a free `www.` or bare name to DV
  certificates), is adopted with `adopted: true`: certfleet cannot prove it placed it, so destroy never
  cancels, deletes or revokes it (it tells the user). An issued match whose certificate does not cover the
  entry's names (or whose CN is another name) makes create refuse, naming the order: it may be that run's.
  With `csr: generate` the key of an interrupted run's order is lost: a pending candidate, or an issued one
  whose key CAS does not hold and has the kind of `keyAlgorithm`, makes create refuse (naming the order,
  never suggesting a revocation) instead of placing a second paid order. Only when nothing is found, buy.
  (e) the order whose id comes back from this create's Create* call is certfleet's: `adopted: false`. If
  that call fails in a way that leaves it open whether the order was placed (lost response, 5xx), the list
  is polled for up to LOOK_AGAIN_SECONDS for a match bought since the call started (and not seen before
  it): most likely placed by this very call, but found in a list, so `adopted: true`.
  A pending order listed by its primary name only is compared on that name, plan, DomainCount and date alone;
  the refusals of pending orders say "if it is yours" (another stack may hold an order with that primary
  name). The lost-answer search of (e) takes only an order listed exactly as the purchase (names, count).
  Then bounded waits for the challenge and (optionally) issuance, each also bounded by the run's window of
  its kind (components/dynamic.WaitWindow). The challenge may lag the order: domain_verify is polled until
  its record fields are filled (RecordDomain full, `_dnsauth.example.cn`, or short, `_dnsauth`: the same
  record), as is `payed` right after a purchase (CAS may not have taken the application yet). A wait that
  runs out, or any error once the order exists (a certificate that does not parse too), never fails the
  create: the order is recorded with its state (domain_verify without a challenge: "CAS has not published
  the validation challenge yet") and a message, and `pulumi up --refresh` resumes. With the user's CSR, an
  issued certificate that does not carry the CSR's key is never recorded (state `key_mismatch`,
  certificate_pem None) and never revoked; nor is an adopted order's (after an interruption, a lost answer
  or by id) certificate that does not cover the entry's names with the primary name as CN (state
  `names_mismatch`; status.unusable_certificate).
- adopt by id (`adopt: "<order id>"`, config): check (a first create, with credentials) reads the order
  (DescribeCertificateState, and its plan and names from ListUserCertificateOrder): missing -> a failure
  naming the id; a difference (adopt.ADOPT_COMPARISONS: dead, plan, names - an issued order's from its
  certificate, which must cover the entry's names, CN first; a pending one's as listed, maybe the primary
  name only, and DomainCount; its certificate is checked once issued: names_mismatch -, a pending order's
  validation, key)
  -> a failure naming each, unless `replaceAdopted`. A PAYED order is adopted as it is (state payed): the
  user applies for it in the console, refresh follows it, and it is never replaced. create records the
  order, buying nothing (no journal stamp needed), `adopted` and `adopted_by_id` true, and settles it like a
  bought one; with replaceAdopted and a difference it buys as any entry and keeps the adopted order for the
  run (never taken by the look before buying). diff refuses a replacement of an order adopted by id while
  the entry still says `adopt` without `replaceAdopted`. delete keeps it, unless the entry's own
  `revokeOnDelete: true` (entry_revoke_on_delete; the section default never reaches it) and a real destroy:
  then as certfleet's own order. CAS orders carry no marker another stack could read, so an order another
  certfleet stack placed cannot be told apart.
- owner: every order records which endpoint and access key placed it (client.Config.owner: the endpoint
  and a SHA-256 prefix of the AccessKeyId, never the id). CAS answers NotFound for another account's order
  and on the other endpoint, so NotFound means "gone" only with the recorded owner; otherwise read, update
  and delete fail naming both owners instead of dropping a paid order from the state. A successful read
  records the current owner (a rotated key of the same account sees the order).
- read (refresh): follows DescribeCertificateState; a vanished order (same owner) is removed from state; a
  certificate that does not parse fails the refresh with a CloudError naming the order. An order recorded
  pending (a challenge not published yet, or waiting for validation) picks up its challenge and, once
  issued, its certificate; an adopted one stays adopted (never revoked).
- orders left pending that issue later: certfleet's own pending order is cancelled and deleted by a
  replacement or destroy (read first: if it has issued meanwhile, it is kept like any issued one). An adopted
  pending order is kept (the user is told) and may issue later: certfleet never revokes it nor takes it for
  the replacement's (the run's kept set) or a later purchase's (issued under an earlier stamp: skipped).
- diff: the inputs that shape the certificate (REPLACE_KEYS) replace, **delete before replace** (also a
  resource option, because `pulumi up --replace` skips diff): the old pending order is cancelled and deleted
  (its plan unit comes back) before the new one is bought. An issued old certificate is always kept by a
  replacement (revokeOnDelete applies to a real destroy only), and the new create never takes it for its
  own. `validation` replaces only a pending order (its challenge changes); `contact`, `companyName` and
  `tags` are read by CAS only at purchase and are stored in place, never buying a new unit (update reads
  the order once and never waits for issuance). The journal stamp, `listingLagSeconds` and `previousNames`
  are stored, never diffed. A failed or cancelled order is replaced by the next `pulumi up`. An order CAS
  reports as `unknow` is never replaced nor deleted (it may be alive): the user looks in the console.
- delete: an adopted order -> kept, whatever its state, with a message. Otherwise pending ->
  CancelOrderRequest then DeleteCertificateRequest (plan unit back); failed or cancelled ->
  DeleteCertificateRequest; issued -> kept when the delete is the old half of a replacement (check declared
  the order in this run), the certificate does not carry the configured CSR's key, or (adopted by id) does
  not cover the entry's names; revoked
  (CancelCertificateForPackageRequest) on a real destroy with revokeOnDelete; kept otherwise; unknow ->
  kept, with a warning.
"""

from __future__ import annotations

from typing import Any, Mapping

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, ReadResult, UpdateResult

from components import keys
from components.alicloud import client as cas_api
from components.alicloud.adopt import AdoptById
from components.alicloud.candidates import keep_for_the_run, may_be_these_names, order_label
from components.alicloud.client import models as _models
from components.alicloud.config import AlicloudSpec, CasOrderSpec
from components.alicloud.inputs import (INPUT_KEYS, OUTPUT_KEYS, REPLACE_KEYS, STORED_INPUT_KEYS, check_inputs,
                                        order_inputs, replace_keys)
from components.alicloud.purchase import LOOK_AGAIN_SECONDS, POLL_SECONDS, LookThenBuy, renew_before_path, renewed_order
from components.alicloud.release import KeepOrRelease, note_renewed
from components.alicloud.status import (DEAD_STATES, KEY_MISMATCH, PENDING_STATES, challenge_of, issued_of,
                                        status_message, unusable_certificate)
from components.alicloud.status import owner_text as _owner_text
from components.dynamic import (ISSUANCE, RECORDS, CertfleetProvider, Clock, changed_keys, declared_in_this_run,
                                note_declared, tell_user, wait_for)
from components.errors import CertfleetError, CloudError, WaitTimeout
from components.journal import stamp_refusal
from components import clock as certfleet_clock
from components.packed_provider import PackedResource, packed_fields
from components.renewal import HELD_KEY, RENEWAL_KEY, RENEWS_KEY, held_renewal, keep_generation

SECRET_OUTPUTS = ("private_key",)   # top-level properties of their own, not in the packed `spec`

# Importable from here too (tests, components/fleet.py): the order's inputs and the look before buying.
__all__ = ["CasOrder", "CasOrderProvider", "KEY_MISMATCH", "LOOK_AGAIN_SECONDS", "POLL_SECONDS", "REPLACE_KEYS",
           "may_be_these_names", "order_inputs"]

KIND = "alicloud:CasOrder"  # for components.dynamic.note_declared / declared_in_this_run
CHALLENGE_TIMEOUT_SECONDS = 60


def renewal_without_predecessor(news: Mapping[str, Any], deferred: str) -> CheckFailure:
    """Why a renewal whose predecessor is no longer in the state cannot go ahead now (and buys nothing). No
    property: the user never sets renewal_generation; the message names renewBefore."""
    renews = renewed_order(news)
    return CheckFailure("", (
        f"{renew_before_path(news)}: the renewal of CAS order {renews} cannot be placed now ({deferred}), and "
        f"order {renews} is no longer in the stack's state (an earlier run's renewal failed after it left the "
        f"state; CAS still holds it). certfleet never turns a renewal into a new purchase, so nothing is bought. "
        f"Ways out: run `pulumi up` again once CAS lists order {renews} as WILLEXPIRED (about 30 days before it "
        f"expires; the renewal then goes ahead); or, to keep the current certificate, take order {renews} back "
        f"with `adopt: \"{renews}\"` on the entry and remove renewBefore. An order CAS lists as EXPIRED, or no "
        f"longer lists, cannot be renewed: remove renewBefore, and the entry buys a new one"))


def renewal_waits(news: Mapping[str, Any], deferred: str) -> str:
    """What preview tells when a due renewal cannot be placed yet (the order stays, nothing is bought)."""
    renews = renewed_order(news)
    return (f"{renew_before_path(news)}: the renewal of CAS order {renews} waits: {deferred}. Nothing is bought now "
            f"and order {renews} keeps serving. Ways out: run `pulumi up` again once CAS lists order {renews} as "
            f"WILLEXPIRED (about 30 days before it expires; the renewal then goes ahead); or remove renewBefore "
            f"from the entry to keep the current certificate. An order CAS lists as EXPIRED, or no longer lists, "
            f"cannot be renewed: remove renewBefore and replace the entry (`pulumi up --replace <its URN>`) to buy "
            f"a new one")


# --- the provider -----------------------------------------------------------------------------------------

class CasOrderProvider(AdoptById, LookThenBuy, KeepOrRelease, CertfleetProvider):
    """Dynamic provider for one CAS order. Holds no state: everything it needs is in the props."""

    clock = Clock
    wall_clock = staticmethod(certfleet_clock.epoch)  # epoch seconds, compared with CAS's BuyDate; swappable in tests

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        # A delete of this order in this run is a replacement's (see delete).
        note_declared(KIND, news.get("order_name"), *(news.get("previous_names") or []))
        news = keep_generation(olds, news)  # a renewal generation never goes back (components/renewal.py)
        failures = []
        if cas_api.Config.available() and (deferred := self._renewal_deferred(news)):
            if olds:
                # Renewing now would fail after the predecessor left the state: renew on a later run instead.
                tell_user(renewal_waits(news, deferred))
                news = {**news, RENEWAL_KEY: olds.get(RENEWAL_KEY), RENEWS_KEY: None}
            else:
                # The predecessor left the state already (an earlier run's renewal failed after delete before
                # replace): a renewal never turns into a plain new purchase.
                failures.append(renewal_without_predecessor(news, deferred))
        failures += check_inputs(news)
        buys = not olds or bool(replace_keys(olds, news))
        if not olds and news.get("adopt_id") and not failures and cas_api.Config.available():
            adopt_failures, buys = self._adopt_preview(news)
            failures += adopt_failures
        if buys and not failures and cas_api.Config.available():
            failures += self._quota_failures(news)
        return CheckResult(news, failures)

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        if olds.get("state") == "unknow":
            # The order may be alive: replacing it could buy a second one (status_message says what to do).
            return DiffResult(changes=False)
        replaces = replace_keys(olds, news)
        if RENEWAL_KEY in replaces:
            note_renewed(id_)  # its delete (the old half) only forgets it: named so in what delete says
        adopted_by_id_kept = olds.get("adopted_by_id") and news.get("adopt_id") and not news.get("replace_adopted")
        # Dead orders are replaced; not one adopted by id that is bought, not applied for (payed): the user
        # applies for it in the console (status_message) and refresh follows it.
        # Nor a renewal's order: CAS places it payed, and the user applies for it in the console.
        dead = olds.get("state") in DEAD_STATES and not ((adopted_by_id_kept or renewed_order(olds) is not None)
                                                         and olds.get("state") == "payed")
        if dead:
            replaces = replaces or ["state"]
        if replaces and adopted_by_id_kept:
            # Only the entry may say to buy a new order in place of one it adopted.
            raise CertfleetError(
                f"alicloud: {order_label(news)}: {', '.join(replaces)} would replace the adopted CAS order {id_} "
                f"with a new order; set `replaceAdopted: true` on the entry to buy one (order {id_} is then kept, "
                f"untouched), or undo the change")
        if dead:
            return DiffResult(changes=True, replaces=replaces, delete_before_replace=True)
        # An order adopted by id is revoked only by the entry's own flag (entry_revoke_on_delete): the section's
        # default, which reaches the entry once its `adopt` line is gone, changes nothing for it.
        compared = [k for k in INPUT_KEYS if not (olds.get("adopted_by_id") and k == "revoke_on_delete")]
        if not changed_keys(olds, news, compared):
            # An order recorded before the `challenges` output existed: an in-place update (one read, no CAS
            # write) records it, so a DNS record of the entry is written in the same `up`.
            return DiffResult(changes="challenges" not in olds and bool(olds.get("order_id")))
        # A replacement never revokes the old certificate (delete keeps it), so revokeOnDelete may change too.
        return DiffResult(changes=None, replaces=replaces, delete_before_replace=True)

    def create(self, props: dict[str, Any]) -> CreateResult:
        cas = cas_api.cas_client()
        resource = order_label(props)
        if props.get("adopt_id"):
            adopted_by_id = self._adopt(cas, props, resource)
            if adopted_by_id is not None:
                return adopted_by_id
        if refusal := stamp_refusal(props, REPLACE_KEYS, resource, "alicloud-journal"):
            raise CertfleetError(refusal)  # never buy under a stamp that did not journal this purchase
        order_id, seen = self._look_before_buy(cas, props, resource)
        adopted = order_id is not None
        private_key, csr = None, props.get("csr_pem")
        if order_id is None:
            if props["csr_mode"] == "generate":
                private_key, csr = keys.generate_key_and_csr(list(props["domains"]), props["key_algorithm"])
            # (c) the id Create answered is ours; one found after a lost answer cannot be proven ours.
            order_id, answered = self._buy(cas, props, csr, resource, seen)
            adopted = not answered
        outs = self._settle(cas, order_id, {**props, "private_key": private_key, "csr": csr, "adopted": adopted},
                            resource)
        return CreateResult(str(order_id), outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        cas = cas_api.cas_client()
        resource = order_label(props)
        state = self._describe_owned(cas, id_, props, resource)
        if state is None:
            return ReadResult("", {})  # gone out of band: the engine drops it, `up` orders again
        try:
            outs = self._outputs(id_, state, props)
        except ValueError as err:  # a certificate that does not parse (cryptography's ValueError)
            raise CloudError("alicloud", "cas.DescribeCertificateState", resource, "InvalidCertificate",
                             f"the certificate CAS returned for order {id_} does not parse ({err}); look at the "
                             f"order in the CAS console") from None
        return ReadResult(id_, outs, {k: props.get(k) for k in STORED_INPUT_KEYS})

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        # In-place changes (revokeOnDelete, the wait budget, purchase-only inputs) are stored; no CAS write.
        # The order is read once: no wait for the challenge or for issuance (nothing changed at CAS).
        cas = cas_api.cas_client()
        self._describe_owned(cas, id_, olds, order_label(news))  # another account's order is not "gone"
        carried = {k: olds.get(k) for k in ("private_key", "csr", "adopted", "adopted_by_id")}
        carried[RENEWS_KEY] = news.get(RENEWS_KEY) or olds.get(RENEWS_KEY)  # what this order renewed stays known
        return UpdateResult(self._settle(cas, int(id_), {**news, **carried}, order_label(news), wait=False))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        cas = cas_api.cas_client()
        resource = order_label(props)
        state = self._describe_owned(cas, id_, props, resource)
        if state is None:
            return
        kind = (state.type or "").lower()
        replaced = declared_in_this_run(KIND, props["order_name"])  # the old half of a replacement
        if props.get("adopted") and not (props.get("adopted_by_id") and props.get("entry_revoke_on_delete")
                                         and not replaced):
            self._keep_adopted(id_, kind, state, props, replaced)
        elif kind in PENDING_STATES + DEAD_STATES:
            self._cancel_and_delete(cas, id_, kind, resource)
            if replaced:
                keep_for_the_run(int(id_))  # the list may still show it live: never the replacement's
        elif kind == "certificate":
            # An order adopted by id reaches here only with the entry's own revokeOnDelete: true.
            self._keep_or_revoke(cas, id_, state, {**props, "revoke_on_delete": True} if props.get("adopted")
                                 else props, replaced)
        elif kind == "unknow":
            # It may be alive (and paid for): never cancel or revoke what CAS cannot describe.
            tell_user(f"{resource}: CAS reports order {id_} as unknown (unknow); certfleet leaves it alone: "
                      f"look at it in the CAS console")

    def _describe_owned(self, cas: Any, order_id: int | str, props: Mapping[str, Any], resource: str) -> Any | None:
        """DescribeCertificateState; None when the order is gone. NotFound proves that only for the owner
        recorded with the order: for other credentials or another endpoint, raise instead (never drop a paid
        order from the state)."""
        state = self._describe(cas, order_id, resource)
        if state is None and props.get("owner") != (current := cas_api.current_owner()):
            raise CloudError(
                "alicloud", "cas.DescribeCertificateState", resource, "NotFound",
                f"CAS does not show order {order_id} to this run, but this run is not the owner the state records: "
                f"the order was placed at {_owner_text(props.get('owner'))}, and this run uses "
                f"{_owner_text(current)}. CAS shows an order only to the account that placed it, at its endpoint, "
                f"so certfleet keeps it in the state. Run with the credentials (and endpoint) of the account that "
                f"placed it; if the order is really gone, remove it with `pulumi state delete <urn>` (`pulumi "
                f"stack --show-urns` lists the URN of CasOrder '{props.get('order_name')}')")
        return state

    def _describe(self, cas: Any, order_id: int | str, resource: str) -> Any | None:
        request = _models().DescribeCertificateStateRequest(order_id=int(order_id))
        try:
            return cas_api.call("DescribeCertificateState", resource,
                                lambda: cas.describe_certificate_state(request), clock=self.clock).body
        except CloudError as err:
            if err.code == "NotFound":
                return None
            raise

    def _settle(self, cas: Any, order_id: int, props: Mapping[str, Any], resource: str,
                wait: bool = True) -> dict[str, Any]:
        """Bounded waits for the challenge, then (optionally) for issuance; with wait=False (update) one read.
        Never fails: money was spent."""
        domains = list(props["domains"])

        def current() -> Any:
            state = self._describe(cas, order_id, resource)
            if state is None:
                raise CloudError("alicloud", "cas.DescribeCertificateState", resource, "NotFound",
                                 f"order {order_id} disappeared while certfleet was waiting for it")
            return state

        def has_challenge(s: Any) -> bool:
            kind = (s.type or "").lower()
            if kind == "payed" and not props.get("adopted_by_id") and renewed_order(props) is None:
                return False  # just bought: CAS may not have taken the application yet (reference A1)
            return kind != "domain_verify" or challenge_of(s, domains) is not None

        def finished(s: Any) -> bool:
            return (s.type or "").lower() not in PENDING_STATES

        try:
            if not wait:
                state = current()
            else:
                try:
                    # Both end early when the run's window of their kind closes (dynamic.WaitWindow).
                    state = wait_for(f"{resource} validation challenge",
                                     lambda: (s if has_challenge(s := current()) else None),
                                     CHALLENGE_TIMEOUT_SECONDS, POLL_SECONDS, self.clock, shared=RECORDS)
                    if props.get("issued_timeout_seconds"):
                        state = wait_for(f"{resource} to be issued",
                                         lambda: (s if finished(s := current()) else None),
                                         props["issued_timeout_seconds"], POLL_SECONDS, self.clock,
                                         shared=ISSUANCE)
                except WaitTimeout:
                    state = current()
            return self._outputs(str(order_id), state, props)
        except Exception as err:  # noqa: BLE001 - e.g. a certificate that does not parse
            # The order exists (and is paid for): record it, say what went wrong; refresh resumes.
            return {**self._outputs(str(order_id), None, props), "state": "unknown",
                    "status_message": f"order {order_id} placed, but reading it failed: {err}; "
                                      f"run `pulumi up --refresh`"}

    def _outputs(self, order_id: str, state: Any | None, props: Mapping[str, Any]) -> dict[str, Any]:
        domains = list(props["domains"])
        kind = (state.type or "").lower() if state is not None else "unknown"
        challenge = challenge_of(state, domains) if state is not None else None
        certificate, cas_key = issued_of(state)
        not_after = keys.certificate_not_after(certificate) if certificate else None
        if certificate and (mismatch := unusable_certificate(certificate, props)):
            # Not the configured CSR's key, or an adopted order's certificate not for the entry's names (the
            # order was someone else's): record nothing.
            kind, certificate, not_after = mismatch, None, None
        # Ours when certfleet generated it; CAS's when it made the key (returned once issued); else None.
        private_key = props.get("private_key") or (cas_key if certificate else None)
        message = status_message(
            kind, challenge, bool(props.get("entry_revoke_on_delete" if props.get("adopted_by_id")
                                            else "revoke_on_delete")),
            not_after, bool(props.get("adopted")), bool(props.get("adopted_by_id")))
        if kind == "payed" and (renews := renewed_order(props)) is not None:
            message = (f"renewal of order {renews} placed (RenewCertificateOrderForPackageRequest), not applied "
                       f"for yet (payed): CAS offers no API to apply for a renewed order, so apply for it in the "
                       f"CAS console; `pulumi up --refresh` then follows it (validation, issuance). Order {renews} "
                       f"keeps serving until then")
        return {
            **{k: props.get(k) for k in STORED_INPUT_KEYS},
            "order_id": order_id,
            "state": kind,
            "status_message": message,
            "challenge": challenge,
            "challenges": [challenge] if challenge else [],
            "certificate_pem": certificate,
            "not_after": not_after,
            "cert_id": (state.cert_id or None) if certificate else None,
            "private_key": private_key,
            "csr": props.get("csr") or props.get("csr_pem"),
            "adopted": bool(props.get("adopted")),
            "owner": cas_api.current_owner(),  # these credentials place or see the order (module docstring)
            "adopted_by_id": bool(props.get("adopted_by_id")),  # `adopt` in the config, not a listing
            HELD_KEY: held_renewal(props),  # what the stack exports as its renewal (components/renewal.py)
        }


# --- the resource -------------------------------------------------------------------------------------------

@packed_fields(*(k for k in (*OUTPUT_KEYS, *STORED_INPUT_KEYS, RENEWAL_KEY) if k not in (*SECRET_OUTPUTS, "journal")))
class CasOrder(PackedResource, module="alicloud", name="CasOrder"):
    """A CAS certificate order. Type token: pulumi-python:dynamic/alicloud:CasOrder.

    Its state is one JSON property, `spec` (components/packing.py), but the private key (a secret output, kept
    top level): `order.order_id`, `order.state` and the other fields read `spec`."""

    spec: pulumi.Output[str]
    private_key: pulumi.Output[str]

    def __init__(self, name: str, spec: CasOrderSpec, alicloud: AlicloudSpec, journal: Any = None,
                 opts: pulumi.ResourceOptions | None = None, renewal: Mapping[str, Any] | None = None) -> None:
        """`journal`: the purchase journal's stamp for this order (PurchaseJournal.stamp_of): the dependency
        on it makes the engine save the journal before this create runs."""
        # The private key is encrypted in state and masked in every preview, output and log.
        # Delete before replace always: `pulumi up --replace` skips diff (and its delete_before_replace), and
        # create-before-delete would let the new create adopt the old pending order that delete then cancels.
        own = pulumi.ResourceOptions(delete_before_replace=True)
        # `renewal`: the program's renewal_generation and renews (components/renewal.py SectionRenewal.inputs).
        props = {**order_inputs(spec, alicloud), RENEWAL_KEY: None, RENEWS_KEY: None, **(renewal or {}),
                 "journal": journal}
        super().__init__(CasOrderProvider(), name, props, pulumi.ResourceOptions.merge(opts, own), SECRET_OUTPUTS)
