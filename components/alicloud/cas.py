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
  credentials are set: a pull-request preview without them skips the check, without an error.
- create: look before you buy. CAS orders carry no client-chosen marker (ListUserCertificateOrder neither
  returns nor filters tags), so an order is recognised by its names (`Domain`, CN first) and plan
  (`ProductCode`); config guarantees a name belongs to one order of the stack. Failed, cancelled, revoked
  and expired matches are ignored. A pending match (CHECKING: domain_verify or process) is adopted (CAS
  exposes no order's CSR, so names and plan are all there is to compare). An issued match (ISSUED,
  WILLEXPIRED) may be an interrupted run's order that was issued since, but also the old order of a
  replacement (delete keeps issued orders), another stack's or one bought in the console, so it is adopted
  only when (a) its BuyDate is at most ADOPT_ISSUED_WINDOW_SECONDS (24 h) before this create started, and
  (b) with the user's CSR, its certificate carries the CSR's public key, or, with no CSR, CAS returns the
  key it made for it (so it was ordered without a CSR too). Such a create records `adopted: true`, and
  delete never revokes an adopted order, whatever revokeOnDelete says (it may be someone else's). With
  `csr: generate` the key of an interrupted run's order is lost: a pending match, or a recent issued one
  whose key CAS does not hold and has the kind of `keyAlgorithm`, makes create refuse (naming the order,
  never suggesting a revocation) instead of placing a second paid order. If the Create call itself fails in a way that
  leaves it open whether the order was placed (lost response, 5xx), the list is polled for up to
  LOOK_AGAIN_SECONDS (it may lag) for a match bought since the call started. Then bounded waits for the
  challenge and (optionally) issuance; a wait that runs out, or any error once the order exists (a
  certificate that does not parse too), never fails the create: the order is recorded with its state and
  a message, and `pulumi up --refresh` resumes.
- read (refresh): follows DescribeCertificateState; a vanished order is removed from state; a certificate
  that does not parse fails the refresh with a CloudError naming the order.
- diff: the inputs that shape the certificate (REPLACE_KEYS) replace, **delete before replace** (also a
  resource option, because `pulumi up --replace` skips diff): the old pending order is cancelled and deleted
  (its plan unit comes back) before the new one is bought, so the new create can never mistake the old
  order for its own. An issued old certificate is kept (or revoked with revokeOnDelete) as on destroy.
  `validation` replaces only a pending order (its challenge changes); `contact`, `companyName` and `tags`
  are read by CAS only at purchase and are stored in place, never buying a new unit (update reads the
  order once and never waits for issuance).
  A failed or cancelled order is replaced by the next `pulumi up`. An order CAS reports as `unknow` is
  never replaced nor deleted (it may be alive): the user looks in the console. revokeOnDelete cannot
  change in the same `up` as a replacement (the old order's delete would use the old value).
- delete: pending -> CancelOrderRequest then DeleteCertificateRequest (plan unit back); failed or cancelled
  -> DeleteCertificateRequest; issued -> kept, unless revokeOnDelete (CancelCertificateForPackageRequest)
  and the order was not adopted; unknow -> kept, with a warning.
"""

from __future__ import annotations

import time
from typing import Any, Mapping

import pulumi
from pulumi.dynamic import (CheckFailure, CheckResult, CreateResult, DiffResult, ReadResult, ResourceProvider,
                            UpdateResult)

from components import keys
from components.alicloud import client as cas_api
from components.config import AlicloudSpec, CasOrderSpec
from components.dynamic import CertfleetResource, Clock, changed_keys, tell_user, wait_for
from components.errors import CertfleetError, CloudError, WaitTimeout

# Inputs that shape the certificate: a change needs a new order.
REPLACE_KEYS = ("product_code", "api", "domains", "csr_mode", "csr_pem", "key_algorithm")
# Replaces a pending order only (its challenge changes); once issued, a new order would spend a new unit.
PENDING_REPLACE_KEYS = ("validation",)
# Read by CAS only when the order is placed: stored in place, never a new order (a stack-wide contact or
# tag change must not buy a unit per order). `pulumi up --replace` applies them to a pending order.
PURCHASE_ONLY_KEYS = ("contact", "company_name", "tags")
INPUT_KEYS = (("order_name",) + REPLACE_KEYS + PENDING_REPLACE_KEYS + PURCHASE_ONLY_KEYS
              + ("revoke_on_delete", "issued_timeout_seconds"))
OUTPUT_KEYS = ("order_id", "state", "status_message", "challenge", "certificate_pem", "not_after", "cert_id",
               "private_key", "csr", "adopted")
PENDING_STATES = ("domain_verify", "process")
# Orders that can never be issued any more: the next `pulumi up` replaces them. Not `unknow`: such an order
# may be alive, so certfleet neither replaces nor deletes it.
DEAD_STATES = ("verify_fail", "payed")
# ListUserCertificateOrder statuses of orders that are no use any more; any other match is adopted.
DEAD_ORDER_STATUSES = ("CHECKED_FAIL", "PAYED", "REVOKED", "EXPIRED")
# ListUserCertificateOrder statuses of issued orders (any other live status is pending).
ISSUED_ORDER_STATUSES = ("ISSUED", "WILLEXPIRED")
# An issued order with this create's names and plan is taken for an interrupted run's order only if it was
# bought at most this long before the create started (and its key fits, see the module docstring). Older
# ones are the old order of a replacement, another stack's or the console's: never adopted. 24 h covers a
# rerun the next day; a CA review (OV/EV) that takes longer leaves the order pending, which is adopted.
ADOPT_ISSUED_WINDOW_SECONDS = 24 * 3600
CHALLENGE_TIMEOUT_SECONDS = 60
POLL_SECONDS = 2.0
# How far the CAS clock may be behind ours when a lost Create is looked for by BuyDate.
CLOCK_SLACK_MS = 5 * 60 * 1000
# How long the order list is polled for an order whose Create answer was lost (the list may lag).
LOOK_AGAIN_SECONDS = 30


def _models() -> Any:
    from alibabacloud_cas20200407 import models
    return models


def order_label(props: Mapping[str, Any]) -> str:
    return f"order '{props.get('order_name')}'"


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
                   not_after: str | None, adopted: bool = False) -> str:
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


def _key_fits_algorithm(certificate_pem: str, key_algorithm: str) -> bool:
    """Does the certificate's key have the kind and size (or curve) of `keyAlgorithm` (keys.KEY_ALGORITHMS)?"""
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    try:
        public_key = x509.load_pem_x509_certificate(certificate_pem.encode()).public_key()
    except ValueError:
        return False
    kind, parameter = keys.KEY_ALGORITHMS.get(key_algorithm, (None, None))
    if kind == "RSA":
        return isinstance(public_key, rsa.RSAPublicKey) and public_key.key_size == parameter
    return (kind == "EC" and isinstance(public_key, ec.EllipticCurvePublicKey)
            and public_key.curve.name == parameter.name)


# --- the provider -----------------------------------------------------------------------------------------

class CasOrderProvider(ResourceProvider):
    """Dynamic provider for one CAS order. Holds no state: everything it needs is in the props."""

    clock = Clock
    wall_clock = staticmethod(time.time)  # epoch seconds, compared with CAS's BuyDate; swappable in tests

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = check_inputs(news)
        buys = not olds or bool(replace_keys(olds, news))
        if buys and not failures and cas_api.Config.available():
            failures += self._quota_failures(news)
        return CheckResult(news, failures)

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        if olds.get("state") == "unknow":
            # The order may be alive: replacing it could buy a second one (status_message says what to do).
            return DiffResult(changes=False)
        replaces = replace_keys(olds, news)
        if olds.get("state") in DEAD_STATES:
            return DiffResult(changes=True, replaces=replaces or ["state"], delete_before_replace=True)
        if not changed_keys(olds, news, INPUT_KEYS):
            return DiffResult(changes=False)
        if replaces and changed_keys(olds, news, ("revoke_on_delete",)):
            # The old order's delete runs with the OLD props: true -> false would still revoke it.
            raise CertfleetError(
                f"alicloud: {order_label(news)}: revokeOnDelete changes in the same update as a change that "
                f"replaces the order ({', '.join(replaces)}); the old order would be deleted with the old "
                f"revokeOnDelete. Change revokeOnDelete alone first (`pulumi up`), then the rest")
        return DiffResult(changes=None, replaces=replaces, delete_before_replace=True)

    def create(self, props: dict[str, Any]) -> CreateResult:
        cas = cas_api.cas_client()
        resource = order_label(props)
        started_ms = int(self.wall_clock() * 1000)
        private_key, csr = None, props.get("csr_pem")
        order_id, adopted = self._adoptable_order(cas, props, started_ms, resource)
        if order_id is None:
            if props["csr_mode"] == "generate":
                private_key, csr = keys.generate_key_and_csr(list(props["domains"]), props["key_algorithm"])
            order_id = self._buy(cas, props, csr, resource)
        outs = self._settle(cas, order_id, {**props, "private_key": private_key, "csr": csr, "adopted": adopted},
                            resource)
        return CreateResult(str(order_id), outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        cas = cas_api.cas_client()
        resource = order_label(props)
        state = self._describe(cas, id_, resource)
        if state is None:
            return ReadResult("", {})  # gone out of band: the engine drops it, `up` orders again
        try:
            outs = self._outputs(id_, state, props)
        except ValueError as err:  # a certificate that does not parse (cryptography's ValueError)
            raise CloudError("alicloud", "cas.DescribeCertificateState", resource, "InvalidCertificate",
                             f"the certificate CAS returned for order {id_} does not parse ({err}); look at the "
                             f"order in the CAS console") from None
        return ReadResult(id_, outs, {k: props.get(k) for k in INPUT_KEYS})

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        # In-place changes (revokeOnDelete, the wait budget, purchase-only inputs) are stored; no CAS write.
        # The order is read once: no wait for the challenge or for issuance (nothing changed at CAS).
        cas = cas_api.cas_client()
        carried = {k: olds.get(k) for k in ("private_key", "csr", "adopted")}
        return UpdateResult(self._settle(cas, int(id_), {**news, **carried}, order_label(news), wait=False))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        cas = cas_api.cas_client()
        resource = order_label(props)
        state = self._describe(cas, id_, resource)
        if state is None:
            return
        kind = (state.type or "").lower()
        request = {"order_id": int(id_)}
        models = _models()
        if kind in PENDING_STATES:
            cas_api.call("CancelOrderRequest", resource,
                         lambda: cas.cancel_order_request(models.CancelOrderRequestRequest(**request)),
                         clock=self.clock)
            kind = "payed"
        if kind in ("payed", "verify_fail"):
            # Gives the plan unit back (reference §6.5).
            cas_api.call("DeleteCertificateRequest", resource,
                         lambda: cas.delete_certificate_request(models.DeleteCertificateRequestRequest(**request)),
                         clock=self.clock)
        elif kind == "certificate" and props.get("adopted"):
            keep = " (revokeOnDelete: true is ignored for it)" if props.get("revoke_on_delete") else ""
            tell_user(f"{resource}: the issued certificate (CAS order {id_}, cert {state.cert_id}) is kept{keep}: "
                      f"certfleet adopted this order instead of buying one, and it may belong to another stack "
                      f"or have been bought in the console, so certfleet never revokes it; revoke it in the CAS "
                      f"console if it is yours to revoke")
        elif kind == "certificate" and props.get("revoke_on_delete"):
            cas_api.call("CancelCertificateForPackageRequest", resource,
                         lambda: cas.cancel_certificate_for_package_request(
                             models.CancelCertificateForPackageRequestRequest(**request)), clock=self.clock)
        elif kind == "certificate":
            tell_user(f"{resource}: the issued certificate (CAS order {id_}, cert {state.cert_id}) is kept; "
                      f"set revokeOnDelete: true to revoke it on destroy")
        elif kind == "unknow":
            # It may be alive (and paid for): never cancel or revoke what CAS cannot describe.
            tell_user(f"{resource}: CAS reports order {id_} as unknown (unknow); certfleet leaves it alone: "
                      f"look at it in the CAS console")

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

    def _adoptable_order(self, cas: Any, props: Mapping[str, Any], started_ms: int,
                         resource: str) -> tuple[int | None, bool]:
        """(order id, adopted) of the order an interrupted run of this create placed, by the rules of the
        module docstring; (None, False) when there is none and create must buy. Refuses (CertfleetError) with
        `csr: generate` when such an order exists, since its key was lost."""
        generate = props["csr_mode"] == "generate"
        names = f"{', '.join(props['domains'])} ({props['product_code']})"
        since_ms = started_ms - ADOPT_ISSUED_WINDOW_SECONDS * 1000
        for buy_date, order_id, status in self._live_matches(cas, props):
            if status not in ISSUED_ORDER_STATUSES:  # pending
                if generate:
                    raise CertfleetError(
                        f"alicloud: {resource}: CAS order {order_id} for {names} is pending ({status}), probably "
                        f"placed by an interrupted run whose generated key was lost; certfleet will not place a "
                        f"second paid order automatically. In the CAS console cancel and delete order "
                        f"{order_id} (the plan unit comes back), then run `pulumi up` again")
                return order_id, False
            if buy_date < since_ms:
                continue  # an older certificate: a replaced order, another stack's or the console's
            state = self._describe(cas, order_id, resource)
            if state is None or (state.type or "").lower() != "certificate" or not state.certificate:
                continue
            if generate:
                if state.private_key or not _key_fits_algorithm(state.certificate, props["key_algorithm"]):
                    continue  # CAS made its key, or another kind of key: not a run of this create
                after = time.strftime("%Y-%m-%d %H:%M UTC",
                                      time.gmtime((buy_date + ADOPT_ISSUED_WINDOW_SECONDS * 1000) / 1000 + 60))
                raise CertfleetError(
                    f"alicloud: {resource}: CAS order {order_id} for {names} was bought less than "
                    f"{ADOPT_ISSUED_WINDOW_SECONDS // 3600} h ago and is issued ({status}). It is probably the "
                    f"order of an interrupted run, and its private key (generated by certfleet) was lost with "
                    f"that run, so its certificate cannot be used; certfleet will not place a second paid order "
                    f"automatically. Check order {order_id} in the CAS console. If you want a new order, run "
                    f"`pulumi up` again after {after} (issued orders older than the window are not taken for "
                    f"an interrupted run's); if you do not, remove order '{props.get('order_name')}' from the "
                    f"config")
            if props.get("csr_pem"):
                try:
                    fits = keys.certificate_matches_key(state.certificate, props["csr_pem"])
                except ValueError:
                    fits = False
                if not fits:
                    continue  # another key: not this resource's certificate
            elif not state.private_key:
                continue  # ordered with a CSR, so not by a create that lets CAS make the key
            return order_id, True
        return None, False

    def _buy(self, cas: Any, props: Mapping[str, Any], csr: str | None, resource: str) -> int:
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
        try:
            order_id = cas_api.call(action, resource, send, spends_money=True, clock=self.clock).body.order_id
        except CloudError as err:
            if not cas_api.is_transient(err.__cause__):
                raise
            # The order may have been placed and only the answer lost: look before buying again, for a while,
            # because the order list may not show a new order at once.
            try:
                order_id = wait_for(f"{resource}: the order of the unanswered {action} in the order list",
                                    lambda: self._live_matches(cas, props, bought_since_ms=started_ms) or None,
                                    LOOK_AGAIN_SECONDS, POLL_SECONDS, self.clock)[0][1]
            except WaitTimeout:
                raise err
        if not order_id:
            raise CloudError("alicloud", f"cas.{action}", resource, "MissingOrderId", "the answer had no OrderId")
        return int(order_id)

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
                    state = wait_for(f"{resource} validation challenge",
                                     lambda: (s if has_challenge(s := current()) else None),
                                     CHALLENGE_TIMEOUT_SECONDS, POLL_SECONDS, self.clock)
                    if props.get("issued_timeout_seconds"):
                        state = wait_for(f"{resource} to be issued",
                                         lambda: (s if finished(s := current()) else None),
                                         props["issued_timeout_seconds"], POLL_SECONDS, self.clock)
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
        # Ours when certfleet generated it; CAS's when it made the key (returned once issued); else None.
        private_key = props.get("private_key") or (state.private_key if certificate and state.private_key else None)
        return {
            **{k: props.get(k) for k in INPUT_KEYS},
            "order_id": order_id,
            "state": kind,
            "status_message": status_message(kind, challenge, bool(props.get("revoke_on_delete")), not_after,
                                             bool(props.get("adopted"))),
            "challenge": challenge,
            "certificate_pem": certificate,
            "not_after": not_after,
            "cert_id": (state.cert_id or None) if certificate else None,
            "private_key": private_key,
            "csr": props.get("csr") or props.get("csr_pem"),
            "adopted": bool(props.get("adopted")),
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

    def __init__(self, name: str, spec: CasOrderSpec, alicloud: AlicloudSpec,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        # The private key is encrypted in state and masked in every preview, output and log.
        # Delete before replace always: `pulumi up --replace` skips diff (and its delete_before_replace), and
        # create-before-delete would let the new create adopt the old pending order that delete then cancels.
        own = pulumi.ResourceOptions(additional_secret_outputs=["private_key"], delete_before_replace=True)
        super().__init__(CasOrderProvider(), name, {**order_inputs(spec, alicloud), **dict.fromkeys(OUTPUT_KEYS)},
                         pulumi.ResourceOptions.merge(opts, own))


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
    }
