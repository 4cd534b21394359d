"""Alibaba Cloud CAS: certificate orders from a resource plan (seeds 001 and 004).

Environment: see components/alicloud/client.py (ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET, endpoint override).
RAM actions used: yundun-cert:CreateCertificateForPackageRequest, yundun-cert:CreateCertificateWithCsrRequest,
  yundun-cert:DescribeCertificateState, yundun-cert:DescribePackageState, yundun-cert:ListUserCertificateOrder,
  yundun-cert:CancelOrderRequest, yundun-cert:DeleteCertificateRequest and, only with revokeOnDelete,
  yundun-cert:CancelCertificateForPackageRequest.

Which API: `api: withCsr` -> CreateCertificateWithCsrRequest (DV plans, CSR and contact required); otherwise
CreateCertificateForPackageRequest with the user's CSR, a CSR certfleet generates (`csr: generate`; the key
is a secret output), or no CSR (CAS makes the key and returns it, also a secret output, once issued).

Lifecycle:
- check: a new order whose plan has no unit left (DescribePackageState) fails at preview. Only when
  credentials are set: a pull-request preview without them skips the check, without an error. check also
  notes that the program declares this order (and its `previousNames`) in this run, for delete.
- create: look before you buy, then buy. CAS orders carry no client-chosen marker (ListUserCertificateOrder
  neither returns nor filters tags), so an order is recognised by its names (`Domain`, CN first) and plan
  (`ProductCode`); config guarantees a name belongs to one order of the stack. Failed, cancelled, revoked
  and expired matches are ignored. What may be this resource's comes from the purchase journal
  (components/journal.py): its stamp tells which run journalled this purchase, and when, and carries the
  entry's earlier stamps. A create without a stamp (the journal left out by --target) buys nothing. Each
  live match goes through CANDIDATE_CHECKS (components/alicloud/candidates.py) in order; the first check
  with an opinion decides (skip, adopt, refuse):
  (a) bought before every stamp of the entry, or kept or cancelled by this run's replacement: skipped.
  (b) bought under an earlier stamp (other settings, or before the entry was removed and added back) and
  not possibly this purchase's: pending -> refuse (an interrupted run's order, recorded nowhere: the user
  cancels it); issued -> skipped (a replacement keeps those).
  (c) journalled in this run: no earlier run can have placed it, so it is someone else's (the console,
  another stack, another CSR): never adopted, never touched; the user is told, and create buys.
  (d) after an interrupted run (the list is polled for up to `listingLagSeconds`, also when an earlier
  stamp is recent: it may lag a purchase): a pending match, or an issued one whose certificate carries the
  user's CSR key (or, with no CSR, whose key CAS made and returns), is adopted with `adopted: true`:
  certfleet cannot prove it placed it, so destroy never cancels, deletes or revokes it (it tells the user).
  With `csr: generate` the key of an interrupted run's order is lost: a pending candidate, or an issued one
  whose key CAS does not hold and has the kind of `keyAlgorithm`, makes create refuse (naming the order,
  never suggesting a revocation) instead of placing a second paid order. Only when nothing is found, buy.
  (e) the order whose id comes back from this create's Create* call is certfleet's: `adopted: false`. If
  that call fails in a way that leaves it open whether the order was placed (lost response, 5xx), the list
  is polled for up to LOOK_AGAIN_SECONDS for a match bought since the call started (and not seen before
  it): most likely placed by this very call, but found in a list, so `adopted: true`.
  Then bounded waits for the challenge and (optionally) issuance, each also bounded by the run's window of
  its kind (components/dynamic.WaitWindow); a wait that runs out, or any error once the order exists (a
  certificate that does not parse too), never fails the create: the order is recorded with its state and
  a message, and `pulumi up --refresh` resumes. With the user's CSR, an issued certificate that does not
  carry the CSR's key is never recorded (state `key_mismatch`, certificate_pem None) and never revoked.
- adopt by id (`adopt: "<order id>"`, config): check (a first create, with credentials) reads the order
  (DescribeCertificateState, and its plan and names from ListUserCertificateOrder): missing -> a failure
  naming the id; a difference (candidates.ADOPT_COMPARISONS: dead, plan, names, a pending order's validation,
  key) -> a failure naming each, unless `replaceAdopted`. create records the order, buying nothing (no journal
  stamp needed), `adopted` and `adopted_by_id` true, and settles it like a bought one; with replaceAdopted and
  a difference it buys as any entry and keeps the adopted order for the run (never taken by the look before
  buying). diff refuses a replacement of an order adopted by id while the entry still says `adopt` without
  `replaceAdopted`. delete keeps it, unless the entry's own `revokeOnDelete: true` (entry_revoke_on_delete;
  the section default never reaches it) and a real destroy: then as certfleet's own order. CAS orders carry
  no marker another stack could read, so an order another certfleet stack placed cannot be told apart.
- owner: every order records which endpoint and access key placed it (client.Config.owner: the endpoint
  and a SHA-256 prefix of the AccessKeyId, never the id). CAS answers NotFound for another account's order
  and on the other endpoint, so NotFound means "gone" only with the recorded owner; otherwise read, update
  and delete fail naming both owners instead of dropping a paid order from the state. A successful read
  records the current owner (a rotated key of the same account sees the order).
- read (refresh): follows DescribeCertificateState; a vanished order (same owner) is removed from state; a
  certificate that does not parse fails the refresh with a CloudError naming the order.
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
  the order in this run) or the certificate does not carry the configured CSR's key; revoked
  (CancelCertificateForPackageRequest) on a real destroy with revokeOnDelete; kept otherwise; unknow ->
  kept, with a warning.
"""

from __future__ import annotations

import time
from typing import Any, Mapping

import pulumi
from pulumi.dynamic import (CheckFailure, CheckResult, CreateResult, DiffResult, ReadResult, ResourceProvider,
                            UpdateResult)

from components import keys
from components.alicloud import client as cas_api
from components.alicloud.candidates import (ADOPT, CLOCK_SLACK_MS, REFUSE, AdoptedOrder, Candidate,
                                            adopt_differences, adopt_refusal, carries_key, judge, keep_for_the_run,
                                            missing_adopt, order_label, purchase_of)
from components.alicloud.config import AlicloudSpec, CasOrderSpec
from components.dynamic import (ISSUANCE, RECORDS, CertfleetResource, Clock, changed_keys, declared_in_this_run,
                                note_declared, tell_user, wait_for)
from components.errors import CertfleetError, CloudError, WaitTimeout
from components.journal import journalled_at, may_follow_interrupted_run, not_journalled

KIND = "alicloud:CasOrder"  # for components.dynamic.note_declared / declared_in_this_run

# Inputs that shape the certificate: a change needs a new order.
REPLACE_KEYS = ("product_code", "api", "domains", "csr_mode", "csr_pem", "key_algorithm")
# Replaces a pending order only (its challenge changes); once issued, a new order would spend a new unit.
PENDING_REPLACE_KEYS = ("validation",)
# Read by CAS only when the order is placed: stored in place, never a new order (a stack-wide contact or
# tag change must not buy a unit per order). `pulumi up --replace` applies them to a pending order.
PURCHASE_ONLY_KEYS = ("contact", "company_name", "tags")
INPUT_KEYS = (("order_name",) + REPLACE_KEYS + PENDING_REPLACE_KEYS + PURCHASE_ONLY_KEYS
              + ("revoke_on_delete", "issued_timeout_seconds", "entry_revoke_on_delete"))
# Stored with the order but never diffed: they steer a create's look-before-buy (the journal stamp, how long
# to look) and tell delete a replacement from a destroy (former names); changing them buys or changes nothing.
QUIET_INPUT_KEYS = ("journal", "listing_lag_seconds", "previous_names")
STORED_INPUT_KEYS = INPUT_KEYS + QUIET_INPUT_KEYS
OUTPUT_KEYS = ("order_id", "state", "status_message", "challenge", "certificate_pem", "not_after", "cert_id",
               "private_key", "csr", "adopted", "owner", "adopted_by_id")
PENDING_STATES = ("domain_verify", "process")
# Orders that can never be issued any more: the next `pulumi up` replaces them. Not `unknow`: such an order
# may be alive, so certfleet neither replaces nor deletes it.
DEAD_STATES = ("verify_fail", "payed")
# ListUserCertificateOrder statuses of orders that are no use any more; any other match is a candidate.
DEAD_ORDER_STATUSES = ("CHECKED_FAIL", "PAYED", "REVOKED", "EXPIRED")
# The issued certificate does not carry the configured CSR's key: nothing recorded (see _outputs).
KEY_MISMATCH = "key_mismatch"
CHALLENGE_TIMEOUT_SECONDS = 60
POLL_SECONDS = 2.0
# How long a create after an interrupted run polls the order list before it buys (AlicloudSpec's default).
DEFAULT_LISTING_LAG_SECONDS = 60
# How long the order list is polled for an order whose Create answer was lost (the list may lag).
LOOK_AGAIN_SECONDS = 30


def _models() -> Any:
    from alibabacloud_cas20200407 import models
    return models


# --- pure helpers ---------------------------------------------------------------------------------------

def same_names(listed_domain: str, domains: list[str]) -> bool:
    """ListUserCertificateOrder's `Domain` (comma-joined, CN first) names exactly these names."""
    listed = [d.strip().lower() for d in (listed_domain or "").split(",") if d.strip()]
    return bool(listed) and listed[0] == domains[0] and set(listed) == set(domains)


def challenge_of(state: Any, domains: list[str]) -> dict[str, Any] | None:
    """The DNS record or file to publish, from a DescribeCertificateState body in domain_verify."""
    if (state.type or "").lower() != "domain_verify":
        return None
    base = domains[0].removeprefix("*.")
    if (state.validate_type or "").upper() == "FILE" or state.uri:
        domain = state.domain or base
        return {"type": "FILE", "domain": domain, "uri": state.uri, "content": state.content,
                "url": f"http://{domain}{state.uri}"}
    if not state.record_value:
        return None  # CAS has not published the challenge yet
    record = (state.record_domain or "_dnsauth").rstrip(".").lower()
    name = record if record == base or record.endswith("." + base) else f"{record}.{base}"
    return {"type": "DNS", "record_type": state.record_type or "TXT", "name": name, "value": state.record_value}


def replace_keys(olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
    """The changed inputs that need a new order, given the old order's state."""
    keys = REPLACE_KEYS + (PENDING_REPLACE_KEYS if olds.get("state") in PENDING_STATES else ())
    return changed_keys(olds, news, keys)


def status_message(state: str, challenge: Mapping[str, Any] | None, revoke_on_delete: bool,
                   not_after: str | None, adopted: bool = False, by_id: bool = False) -> str:
    if by_id:  # revoke_on_delete: the entry's own flag (entry_revoke_on_delete) for an order adopted by id
        message = _state_message(state, challenge, revoke_on_delete, not_after, False)
        if state == "certificate":
            return message  # revoke_on_delete is the entry's own for an order adopted by id (config)
        return message + ("; adopted by id: destroy keeps this order unless the entry says revokeOnDelete: true"
                          if not revoke_on_delete else "; adopted by id, and the entry says revokeOnDelete: true")
    message = _state_message(state, challenge, revoke_on_delete, not_after, adopted)
    if adopted and state != "certificate":
        message += ("; adopted after an interrupted run: certfleet cannot prove it placed this order, so destroy "
                    "never cancels, deletes or revokes it")
    return message


def _state_message(state: str, challenge: Mapping[str, Any] | None, revoke_on_delete: bool,
                   not_after: str | None, adopted: bool) -> str:
    if state == "certificate":
        keep = ("destroy keeps it (an adopted order is never revoked, whatever revokeOnDelete says)" if adopted
                else "destroy revokes it (revokeOnDelete: true)" if revoke_on_delete
                else "destroy keeps it (set revokeOnDelete: true to revoke it instead)")
        return f"issued, expires {not_after}; {keep}"
    if state == "domain_verify":
        if not challenge:
            return "CAS has not published the validation challenge yet; run `pulumi up --refresh`"
        where = (f"DNS {challenge['record_type']} record {challenge['name']} = {challenge['value']}"
                 if challenge["type"] == "DNS" else f"the file {challenge['url']} with the given content")
        return f"waiting for domain validation: publish {where}; `pulumi up --refresh` then picks up the certificate"
    if state == "process":
        return "validated; the CA is reviewing the order; `pulumi up --refresh` picks up the certificate"
    if state == "verify_fail":
        return ("the CA rejected the order (verify_fail): the next `pulumi up` deletes it (the plan unit comes "
                "back) and places a new one")
    if state == "payed":
        return "the order was cancelled outside certfleet (payed): the next `pulumi up` replaces it"
    if state == KEY_MISMATCH:
        return ("CAS issued a certificate that does not carry the key of the configured CSR, so certfleet "
                "recorded nothing (and never revokes it): the order is probably someone else's, placed with "
                "another CSR. Look at the order in the CAS console; `pulumi up --replace` on this resource "
                "orders a certificate for your CSR and keeps this one")
    if state == "unknow":
        return ("CAS reports the order's state as unknown (unknow): it may still be alive, so certfleet neither "
                "replaces nor deletes it; look at the order in the CAS console (if it was revoked, "
                "`pulumi state delete` this resource and `pulumi up` orders again)")
    return state


def check_inputs(news: Mapping[str, Any]) -> list[CheckFailure]:
    """The config's main rules again, for resources built without components/config.py."""
    failures = []
    domains = news.get("domains")
    if isinstance(domains, list):
        if not 1 <= len(domains) <= 5:
            failures.append(CheckFailure("domains", f"an order has 1 to 5 names, got {len(domains)}"))
        wildcards = [str(d).startswith("*.") for d in domains]
        if any(wildcards) and not all(wildcards):
            failures.append(CheckFailure("domains", "CAS does not mix wildcard and single names in one order"))
    if news.get("api") == "withCsr" and news.get("csr_mode") == "cas":
        failures.append(CheckFailure("csr_mode", "CreateCertificateWithCsrRequest needs a CSR"))
    return failures


def _owner_text(owner: Mapping[str, Any] | None) -> str:
    if not isinstance(owner, Mapping):
        return "credentials this state does not record (it was written by an older certfleet)"
    return f"endpoint {owner.get('endpoint')} with access key fingerprint {owner.get('key')}"


# --- the provider -----------------------------------------------------------------------------------------

class CasOrderProvider(ResourceProvider):
    """Dynamic provider for one CAS order. Holds no state: everything it needs is in the props."""

    clock = Clock
    wall_clock = staticmethod(time.time)  # epoch seconds, compared with CAS's BuyDate; swappable in tests

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        for name in [news.get("order_name"), *(news.get("previous_names") or [])]:
            if isinstance(name, str):
                note_declared(KIND, name)  # a delete of this order in this run is a replacement's (see delete)
        failures = check_inputs(news)
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
        if olds.get("state") in DEAD_STATES:
            replaces = replaces or ["state"]
        if replaces and olds.get("adopted_by_id") and news.get("adopt_id") and not news.get("replace_adopted"):
            # Only the entry may say to buy a new order in place of one it adopted.
            raise CertfleetError(
                f"alicloud: {order_label(news)}: {', '.join(replaces)} would replace the adopted CAS order {id_} "
                f"with a new order; set `replaceAdopted: true` on the entry to buy one (order {id_} is then kept, "
                f"untouched), or undo the change")
        if olds.get("state") in DEAD_STATES:
            return DiffResult(changes=True, replaces=replaces, delete_before_replace=True)
        # An order adopted by id is revoked only by the entry's own flag (entry_revoke_on_delete): the section's
        # default, which reaches the entry once its `adopt` line is gone, changes nothing for it.
        compared = [k for k in INPUT_KEYS if not (olds.get("adopted_by_id") and k == "revoke_on_delete")]
        if not changed_keys(olds, news, compared):
            return DiffResult(changes=False)
        # A replacement never revokes the old certificate (delete keeps it), so revokeOnDelete may change too.
        return DiffResult(changes=None, replaces=replaces, delete_before_replace=True)

    def create(self, props: dict[str, Any]) -> CreateResult:
        cas = cas_api.cas_client()
        resource = order_label(props)
        if props.get("adopt_id"):
            adopted_by_id = self._adopt(cas, props, resource)
            if adopted_by_id is not None:
                return adopted_by_id
        if journalled_at(props) is None:
            raise CertfleetError(not_journalled(resource, "alicloud-journal"))
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

    # --- adopt by id ---

    def _read_adopted(self, cas: Any, props: Mapping[str, Any], resource: str) -> AdoptedOrder | None:
        """The order `adopt_id` names (None: CAS does not show it to these credentials). Its plan and names come
        from the order list, searched by the entry's first name, then unfiltered (the order may have others)."""
        order_id = int(props["adopt_id"])
        state = self._describe(cas, order_id, resource)
        if state is None:
            return None
        listed = self._listed(cas, order_id, props["domains"][0], resource) \
            or self._listed(cas, order_id, None, resource)
        return AdoptedOrder(order_id, listed, state)

    def _listed(self, cas: Any, order_id: int, keyword: str | None, resource: str) -> Any | None:
        models = _models()
        page, seen = 1, 0
        while True:
            request = models.ListUserCertificateOrderRequest(order_type="CPACK", keyword=keyword,
                                                             current_page=page, show_size=100)
            body = cas_api.call("ListUserCertificateOrder", resource,
                                lambda: cas.list_user_certificate_order(request), clock=self.clock).body
            items = body.certificate_order_list or []
            for item in items:
                if int(item.order_id or 0) == order_id:
                    return item
            seen += len(items)
            if not items or seen >= (body.total_count or 0):
                return None
            page += 1

    def _adopt_preview(self, news: Mapping[str, Any]) -> tuple[list[CheckFailure], bool]:
        """(failures, whether create would buy) for a first create with `adopt`. Silent when CAS cannot be
        asked: create checks again."""
        resource = order_label(news)
        try:
            order = self._read_adopted(cas_api.cas_client(), news, resource)
        except CertfleetError:
            return [], False
        if order is None:
            return [CheckFailure("adopt_id", missing_adopt(news, news["adopt_id"],
                                                           _owner_text(cas_api.current_owner())))], False
        differences = adopt_differences(order, news)
        if differences and not news.get("replace_adopted"):
            return [CheckFailure("adopt_id", adopt_refusal(news, order.order_id, differences))], False
        for difference in differences:
            tell_user(f"{resource}: adopting CAS order {order.order_id}: {difference}; replaceAdopted: a new order "
                      f"is bought and this one is kept")
        return [], bool(differences)

    def _adopt(self, cas: Any, props: Mapping[str, Any], resource: str) -> CreateResult | None:
        """Create with `adopt`: record the order, buying nothing (None: replaceAdopted and it differs, so create
        buys as for any entry and never takes this order for its own)."""
        order = self._read_adopted(cas, props, resource)
        if order is None:
            raise CertfleetError(missing_adopt(props, props["adopt_id"], _owner_text(cas_api.current_owner())))
        differences = adopt_differences(order, props)
        if differences:
            if not props.get("replace_adopted"):
                raise CertfleetError(adopt_refusal(props, order.order_id, differences))
            keep_for_the_run(order.order_id)  # the look before buying must not take it either
            tell_user(f"{resource}: CAS order {order.order_id} is kept, untouched: replaceAdopted, and it differs "
                      f"from the entry ({'; '.join(str(d) for d in differences)})")
            return None
        # Its lifecycle goes on as for a bought one: the challenge of a pending order, then issuance (bounded).
        # The owner these credentials make is recorded with it (_outputs), as for an order certfleet placed.
        outs = self._settle(cas, order.order_id, {**props, "private_key": None, "csr": props.get("csr_pem"),
                                                  "adopted": True, "adopted_by_id": True}, resource)
        return CreateResult(str(order.order_id), outs)

    # --- steps ---

    def _quota_failures(self, news: Mapping[str, Any]) -> list[CheckFailure]:
        """A preview-time failure when the plan has no unit left; silent when CAS cannot be asked."""
        try:
            cas = cas_api.cas_client()
            request = _models().DescribePackageStateRequest(product_code=news["product_code"])
            body = cas_api.call("DescribePackageState", order_label(news),
                                lambda: cas.describe_package_state(request), clock=self.clock).body
        except CloudError as err:
            if err.code == "NotFoundPackage":
                return [CheckFailure("product_code", f"no resource plan for {news['product_code']} in this "
                                                     f"account: buy one before ordering")]
            return []  # unreachable or not allowed: the create reports it with the cloud's error
        except CertfleetError:
            return []
        remaining = (body.total_count or 0) - (body.used_count or 0)
        if remaining < 1:
            return [CheckFailure("product_code", f"the {news['product_code']} plan has no unit left "
                                                 f"({body.used_count} of {body.total_count} used): "
                                                 f"buy more before ordering")]
        return []

    def _live_matches(self, cas: Any, props: Mapping[str, Any],
                      bought_since_ms: int | None = None) -> list[tuple[int, int, str]]:
        """(BuyDate ms, order id, status) of the orders with these names and plan that are not dead, newest
        first."""
        models = _models()
        resource = order_label(props)
        matches: list[tuple[int, int, str]] = []
        page, seen = 1, 0
        while True:
            request = models.ListUserCertificateOrderRequest(order_type="CPACK", keyword=props["domains"][0],
                                                             current_page=page, show_size=100)
            body = cas_api.call("ListUserCertificateOrder", resource,
                                lambda: cas.list_user_certificate_order(request), clock=self.clock).body
            items = body.certificate_order_list or []
            for item in items:
                if (item.product_code == props["product_code"] and same_names(item.domain, props["domains"])
                        and item.status not in DEAD_ORDER_STATUSES
                        and (bought_since_ms is None or (item.buy_date or 0) >= bought_since_ms)):
                    matches.append((item.buy_date or 0, item.order_id, item.status))
            seen += len(items)
            if not items or seen >= (body.total_count or 0):
                break
            page += 1
        return sorted(matches, reverse=True)

    def _candidates(self, cas: Any, props: Mapping[str, Any], resource: str) -> list[Candidate]:
        return [Candidate(order_id, buy_date, status, lambda o=order_id: self._describe(cas, o, resource))
                for buy_date, order_id, status in self._live_matches(cas, props)]

    def _look_before_buy(self, cas: Any, props: Mapping[str, Any], resource: str) -> tuple[int | None, set[int]]:
        """(the order an interrupted run placed for this purchase, or None; the live matches seen). Looks once
        when this run journalled the purchase, else for `listing_lag_seconds` (the list may lag a purchase).
        Raises CertfleetError when a check refuses (see CANDIDATE_CHECKS)."""
        purchase = purchase_of(props)
        left_alone: dict[int, str] = {}

        def adoptable() -> int | None:
            for candidate in self._candidates(cas, props, resource):
                verdict, why = judge(purchase, candidate)
                if verdict == REFUSE:
                    raise CertfleetError(why)
                if verdict == ADOPT:
                    return candidate.order_id
                left_alone[candidate.order_id] = why
            return None

        lag = props.get("listing_lag_seconds")
        lag = (DEFAULT_LISTING_LAG_SECONDS if lag is None else lag) if may_follow_interrupted_run(props) else 0
        try:
            return wait_for(f"{resource}: an order placed by an interrupted run in the order list", adoptable, lag,
                            POLL_SECONDS, self.clock), set(left_alone)
        except WaitTimeout:
            if left_alone:
                tell_user(f"{resource}: CAS has live orders with these names and plan that are not this "
                          f"resource's; certfleet never touches them and buys its own: "
                          + "; ".join(f"order {o} ({why})" for o, why in sorted(left_alone.items())))
            return None, set(left_alone)

    def _buy(self, cas: Any, props: Mapping[str, Any], csr: str | None, resource: str,
             seen: set[int] | frozenset[int] = frozenset()) -> tuple[int, bool]:
        """Place the order: (order id, whether Create answered it). `seen`: orders listed before, which a
        lost answer's order cannot be."""
        models = _models()
        contact = props.get("contact") or {}
        tags = [{"Key": k, "Value": v} for k, v in sorted((props.get("tags") or {}).items())]
        common = dict(product_code=props["product_code"], validate_type=props["validation"],
                      username=contact.get("name"), email=contact.get("email"), phone=contact.get("phone"))
        if props["api"] == "withCsr":
            action = "CreateCertificateWithCsrRequest"
            request = models.CreateCertificateWithCsrRequestRequest(
                csr=csr, tags=[models.CreateCertificateWithCsrRequestRequestTags(key=t["Key"], value=t["Value"])
                               for t in tags] or None, **common)
            send = lambda: cas.create_certificate_with_csr_request_with_options(  # noqa: E731
                request, cas_api.create_runtime())
        else:
            action = "CreateCertificateForPackageRequest"
            request = models.CreateCertificateForPackageRequestRequest(
                csr=csr, domain=",".join(props["domains"]), company_name=props.get("company_name"),
                tags=[models.CreateCertificateForPackageRequestRequestTags(key=t["Key"], value=t["Value"])
                      for t in tags] or None, **common)
            send = lambda: cas.create_certificate_for_package_request_with_options(  # noqa: E731
                request, cas_api.create_runtime())
        started_ms = int(self.wall_clock() * 1000) - CLOCK_SLACK_MS
        answered = True
        try:
            order_id = cas_api.call(action, resource, send, spends_money=True, clock=self.clock).body.order_id
        except CloudError as err:
            answered = False
            if not cas_api.is_transient(err.__cause__):
                raise
            # The order may have been placed and only the answer lost: look before buying again, for a while,
            # because the order list may not show a new order at once.
            def placed_by_this_call() -> list[tuple[int, int, str]] | None:
                return [m for m in self._live_matches(cas, props, bought_since_ms=started_ms)
                        if m[1] not in seen] or None
            try:
                order_id = wait_for(f"{resource}: the order of the unanswered {action} in the order list",
                                    placed_by_this_call, LOOK_AGAIN_SECONDS, POLL_SECONDS, self.clock)[0][1]
            except WaitTimeout:
                raise err
        if not order_id:
            raise CloudError("alicloud", f"cas.{action}", resource, "MissingOrderId", "the answer had no OrderId")
        return int(order_id), answered

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
        if replaced:
            keep_for_the_run(int(id_))  # the replacing create must not take it for its own
            tell_user(f"{kept} because the order is being replaced (the old certificate may still be serving); "
                      f"revokeOnDelete applies to a real destroy only: revoke it in the CAS console once "
                      f"nothing uses it")
        elif csr_pem and not carries_key(state.certificate or "", csr_pem):
            tell_user(f"{kept}: it does not carry the key of the configured CSR, so certfleet never revokes it")
        elif props.get("revoke_on_delete"):
            cas_api.call("CancelCertificateForPackageRequest", resource,
                         lambda: cas.cancel_certificate_for_package_request(
                             _models().CancelCertificateForPackageRequestRequest(order_id=int(id_))),
                         clock=self.clock)
        else:
            tell_user(f"{kept}; set revokeOnDelete: true to revoke it on destroy")

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
            return (s.type or "").lower() != "domain_verify" or challenge_of(s, domains) is not None

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
        certificate = (state.certificate or None) if state is not None and kind == "certificate" else None
        not_after = keys.certificate_not_after(certificate) if certificate else None
        if certificate and props.get("csr_pem") and not keys.certificate_matches_key(certificate, props["csr_pem"]):
            # Not the configured CSR's certificate (an adopted order was someone else's): record nothing.
            kind, certificate, not_after = KEY_MISMATCH, None, None
        # Ours when certfleet generated it; CAS's when it made the key (returned once issued); else None.
        private_key = props.get("private_key") or (state.private_key if certificate and state.private_key else None)
        return {
            **{k: props.get(k) for k in STORED_INPUT_KEYS},
            "order_id": order_id,
            "state": kind,
            "status_message": status_message(
                kind, challenge, bool(props.get("entry_revoke_on_delete" if props.get("adopted_by_id")
                                                else "revoke_on_delete")),
                not_after, bool(props.get("adopted")), bool(props.get("adopted_by_id"))),
            "challenge": challenge,
            "certificate_pem": certificate,
            "not_after": not_after,
            "cert_id": (state.cert_id or None) if certificate else None,
            "private_key": private_key,
            "csr": props.get("csr") or props.get("csr_pem"),
            "adopted": bool(props.get("adopted")),
            "owner": cas_api.current_owner(),  # these credentials place or see the order (module docstring)
            "adopted_by_id": bool(props.get("adopted_by_id")),  # `adopt` in the config, not a listing
        }


# --- the resource -------------------------------------------------------------------------------------------

class CasOrder(CertfleetResource, module="alicloud", name="CasOrder"):
    """A CAS certificate order. Type token: pulumi-python:dynamic/alicloud:CasOrder."""

    order_id: pulumi.Output[str]
    state: pulumi.Output[str]
    status_message: pulumi.Output[str]
    challenge: pulumi.Output[dict]
    certificate_pem: pulumi.Output[str]
    not_after: pulumi.Output[str]
    cert_id: pulumi.Output[str]
    private_key: pulumi.Output[str]
    csr: pulumi.Output[str]
    adopted: pulumi.Output[bool]
    adopted_by_id: pulumi.Output[bool]
    owner: pulumi.Output[dict]
    adopted_by_id: pulumi.Output[bool]

    def __init__(self, name: str, spec: CasOrderSpec, alicloud: AlicloudSpec, journal: Any = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        """`journal`: the purchase journal's stamp for this order (PurchaseJournal.stamp_of): the dependency
        on it makes the engine save the journal before this create runs."""
        # The private key is encrypted in state and masked in every preview, output and log.
        # Delete before replace always: `pulumi up --replace` skips diff (and its delete_before_replace), and
        # create-before-delete would let the new create adopt the old pending order that delete then cancels.
        own = pulumi.ResourceOptions(additional_secret_outputs=["private_key"], delete_before_replace=True)
        props = {**order_inputs(spec, alicloud), "journal": journal, **dict.fromkeys(OUTPUT_KEYS)}
        super().__init__(CasOrderProvider(), name, props, pulumi.ResourceOptions.merge(opts, own))


def order_inputs(spec: CasOrderSpec, alicloud: AlicloudSpec) -> dict[str, Any]:
    """The provider's inputs for one order of the config model."""
    return {
        "order_name": spec.name,
        "product_code": spec.product_code,
        "api": spec.api,
        "domains": list(spec.domains),
        "validation": spec.validation,
        "csr_mode": spec.csr,
        "csr_pem": spec.csr_pem,
        "key_algorithm": spec.key_algorithm,
        "contact": {"name": spec.contact.name, "email": spec.contact.email, "phone": spec.contact.phone},
        "company_name": spec.company_name,
        "tags": dict(spec.tags),
        "revoke_on_delete": spec.revoke_on_delete,
        "issued_timeout_seconds": alicloud.issued_timeout_seconds,
        "listing_lag_seconds": alicloud.listing_lag_seconds,
        "previous_names": list(spec.previous_names),
        # Steer create only (never diffed): which order to adopt, and whether a difference buys a new one.
        "adopt_id": spec.adopt,
        "replace_adopted": spec.replace_adopted,
        # Only when set, so that the states of orders from before this key show no change.
        **({"entry_revoke_on_delete": True} if spec.entry_revoke_on_delete else {}),
    }
