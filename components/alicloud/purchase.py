"""Buying a CAS order: the plan check at preview, the look before buying, and the Create* request.

Apart from cas.py because these steps run only on the way to a purchase (check's quota, create's search of
the order list and the paid call) while cas.py keeps the provider's lifecycle. LookThenBuy is a mixin of
cas.CasOrderProvider: it uses the provider's `clock`, `wall_clock` and `_describe`. What a listed order is
judged by is in candidates.py; the rules in words are in cas.py's docstring, "create".
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Iterator, Mapping

from pulumi.dynamic import CheckFailure

from components.alicloud import client as cas_api
from components.alicloud.candidates import (ADOPT, CLOCK_SLACK_MS, REFUSE, Candidate, judge, listed_first,
                                            may_be_these_names, order_label, purchase_of,
                                            renewed_order)  # noqa: F401 (cas.py imports it from here)
from components.alicloud.client import models as _models
from components.alicloud.inputs import REPLACE_KEYS
from components.dynamic import RUN_ID, tell_user, wait_for
from components.errors import CertfleetError, CloudError, WaitTimeout
from components.journal import may_follow_interrupted_run, stamp_refusal

# ListUserCertificateOrder statuses of orders that are no use any more; any other match is a candidate. Not
# PAYED: "bought, not yet applied for" (or cancelled, not deleted) still holds a plan unit (reference A1).
DEAD_ORDER_STATUSES = ("CHECKED_FAIL", "REVOKED", "EXPIRED")
# ListUserCertificateOrder's ShowSize: its documented default; no larger maximum is documented for it.
ORDER_PAGE_SIZE = 50
POLL_SECONDS = 2.0
# How long a create after an interrupted run polls the order list before it buys (AlicloudSpec's default).
DEFAULT_LISTING_LAG_SECONDS = 60
# How long the order list is polled for an order whose Create answer was lost (the list may lag).
LOOK_AGAIN_SECONDS = 30


def each_listed_order(cas: Any, keyword: str | None, resource: str, clock: Any) -> Iterator[Any]:
    """Every CPACK order ListUserCertificateOrder shows for `keyword`, page by page (ShowSize 50), until an
    empty page or TotalCount items."""
    models = _models()
    page, seen = 1, 0
    while True:
        request = models.ListUserCertificateOrderRequest(order_type="CPACK", keyword=keyword, current_page=page,
                                                         show_size=ORDER_PAGE_SIZE)
        body = cas_api.call("ListUserCertificateOrder", resource, lambda: cas.list_user_certificate_order(request),
                            clock=clock).body
        items = body.certificate_order_list or []
        yield from items
        seen += len(items)
        if not items or seen >= (body.total_count or 0):
            return
        page += 1


# CAS's answers to a renewal of an order that is not expiring yet (the emulator: OperationDenied.StatusNotSupport).
NOT_RENEWABLE_CODES = ("OperationDenied.StatusNotSupport", "OperationDenied", "InvalidStatus")
# ListUserCertificateOrder's status of an order CAS renews (reference/lifecycle-apis.md §1.4: "expiring").
RENEWABLE_STATUS = "WILLEXPIRED"


NO_PLAN = "no plan"


def journalled_by_earlier_run(props: Mapping[str, Any]) -> bool:
    """The purchase's stamp names another run: an interrupted run journalled it and may have placed the order
    (then it is in the plan's used units already). A stamp unknown at preview (the journal changes in this run)
    is a new purchase."""
    stamp = props.get("journal")
    return isinstance(stamp, Mapping) and stamp.get("run") != RUN_ID


class PlanUnits:
    """Each plan's units as this run sees them (the provider process serves one preview or one update): the
    plan is asked once (DescribePackageState), and every order this run's checks find buying takes a unit of
    it. A thousand new orders are one call, and the first order beyond what the plan has left fails at preview,
    not only when the plan is already empty. Counted by order name: a second check of an order takes nothing."""

    def __init__(self) -> None:
        self._lock = threading.Lock()                     # the dicts
        self._asking: dict[str, threading.Lock] = {}     # one per plan: its checks wait for one answer
        self._plans: dict[str, Any] = {}
        self._buying: dict[str, set[str]] = {}

    def reset(self) -> None:
        """A new run (tests)."""
        with self._lock:
            self._asking.clear()
            self._plans.clear()
            self._buying.clear()

    def plan(self, product: str, ask: Callable[[], Any]) -> Any:
        """The plan's answer, asked on the first call for `product` (its other checks wait for it). No answer
        (None: CAS could not say) is not kept: the next check asks again."""
        with self._lock:
            asking = self._asking.setdefault(product, threading.Lock())
        with asking:
            with self._lock:
                if product in self._plans:
                    return self._plans[product]
            answer = ask()
            if answer is not None:
                with self._lock:
                    self._plans[product] = answer
            return answer

    def buying(self, product: str, order_name: Any) -> int:
        """How many orders of this run buy from `product`'s plan, this one included."""
        with self._lock:
            orders = self._buying.setdefault(product, set())
            orders.add(order_name)
            return len(orders)


PLAN_UNITS = PlanUnits()


def renew_before_path(props: Mapping[str, Any]) -> str:
    """The config path of the entry's renewBefore: what the user changes (renewal_generation is certfleet's)."""
    return f"certfleet:alicloud.orders.{props.get('order_name')}.renewBefore"


class LookThenBuy:
    """The provider's purchase steps (a mixin of cas.CasOrderProvider)."""

    def _quota_failures(self, news: Mapping[str, Any]) -> list[CheckFailure]:
        """A preview-time failure when the plan has no unit left for this order; silent when CAS cannot be
        asked. The plan is asked once per run (PLAN_UNITS)."""
        product = news["product_code"]
        plan = PLAN_UNITS.plan(product, lambda: self._package_state(news))
        if plan is None:
            return []  # unreachable or not allowed: the create reports it with the cloud's error
        if plan == NO_PLAN:
            return [CheckFailure("product_code", f"no resource plan for {product} in this account: buy one "
                                                 f"before ordering")]
        if journalled_by_earlier_run(news):
            return []  # maybe placed already (in `used`): its create looks first, adopts it and buys nothing
        total, used = plan
        buying = PLAN_UNITS.buying(product, news.get("order_name"))
        if used + buying > total:
            also = f"; this run orders {buying} of it" if buying > 1 else ""
            return [CheckFailure("product_code", f"the {product} plan has no unit left for this order ({used} of "
                                                 f"{total} used{also}): buy more before ordering")]
        return []

    def _package_state(self, news: Mapping[str, Any]) -> tuple[int, int] | str | None:
        """(total, used) units of the entry's plan; NO_PLAN when the account has none; None when CAS cannot say."""
        try:
            cas = cas_api.cas_client()
            request = _models().DescribePackageStateRequest(product_code=news["product_code"])
            body = cas_api.call("DescribePackageState", order_label(news),
                                lambda: cas.describe_package_state(request), clock=self.clock).body
        except CloudError as err:
            return NO_PLAN if err.code == "NotFoundPackage" else None
        except CertfleetError:
            return None
        return body.total_count or 0, body.used_count or 0

    def _renewal_deferred(self, news: Mapping[str, Any]) -> str | None:
        """Why CAS would refuse this renewal now (its order is not expiring in CAS's sense), or None. Asked at
        check, before the predecessor leaves the state (delete before replace). Fails closed: an order list that
        cannot be read defers the renewal too (the predecessor must not leave the state for a renewal that may
        be refused)."""
        renews = renewed_order(news)
        if renews is None:
            return None
        try:
            cas = cas_api.cas_client()
            listed = [item for item in each_listed_order(cas, news["domains"][0], order_label(news), self.clock)
                      if item.order_id == renews]
        except CertfleetError as err:
            return f"CAS's order list (ListUserCertificateOrder) could not be read to see whether order {renews} " \
                   f"is renewable now ({err})"
        if not listed:
            return f"order {renews} is not in CAS's order list (ListUserCertificateOrder): there is nothing to renew"
        if listed[0].status != RENEWABLE_STATUS:
            return (f"CAS lists order {renews} as {listed[0].status}, not {RENEWABLE_STATUS}: "
                    f"RenewCertificateOrderForPackageRequest renews an order only while it is about to expire in "
                    f"CAS's sense (OperationDenied.StatusNotSupport otherwise)")
        return None

    def _live_matches(self, cas: Any, props: Mapping[str, Any], bought_since_ms: int | None = None) -> list[Any]:
        """The ListUserCertificateOrder items of the live orders of this plan listed with the primary name first,
        newest first; the rest of what they show (names, DomainCount) is judged by the callers (CAS may show it
        unreliably). Keyword = the primary name; filtered here."""
        matches = [item for item in each_listed_order(cas, props["domains"][0], order_label(props), self.clock)
                   if (item.product_code == props["product_code"] and listed_first(item.domain, props["domains"])
                       and item.status not in DEAD_ORDER_STATUSES
                       and (bought_since_ms is None or (item.buy_date or 0) >= bought_since_ms))]
        return sorted(matches, key=lambda item: (item.buy_date or 0, item.order_id), reverse=True)

    def _candidates(self, cas: Any, props: Mapping[str, Any], resource: str) -> list[Candidate]:
        return [Candidate(item.order_id, item.buy_date or 0, item.status, item.domain, item.domain_count,
                          lambda o=item.order_id: self._describe(cas, o, resource))
                for item in self._live_matches(cas, props)]

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
                tell_user(f"{resource}: CAS has live orders for {props['domains'][0]} with this plan that are not "
                          f"this resource's; certfleet never touches them and buys its own: "
                          + "; ".join(f"order {o} ({why})" for o, why in sorted(left_alone.items())))
            return None, set(left_alone)

    def _buy(self, cas: Any, props: Mapping[str, Any], csr: str | None, resource: str,
             seen: set[int] | frozenset[int] = frozenset()) -> tuple[int, bool]:
        """Place the order: (order id, whether Create answered it). `seen`: orders listed before, which a
        lost answer's order cannot be. The only Create* call: never without the purchase journal's stamp (the
        durable intent the next run looks for, components/journal.py)."""
        if refusal := stamp_refusal(props, REPLACE_KEYS, resource, "alicloud-journal"):
            raise CertfleetError(refusal)
        models = _models()
        contact = props.get("contact") or {}
        tags = [{"Key": k, "Value": v} for k, v in sorted((props.get("tags") or {}).items())]
        common = dict(product_code=props["product_code"], validate_type=props["validation"],
                      username=contact.get("name"), email=contact.get("email"), phone=contact.get("phone"))
        renews = renewed_order(props)
        if renews is not None:
            # A renewal (components/renewal.py): the plan's renewal operation on the predecessor, never a new
            # Create* of another product. CAS answers a new order, in payed (applied for in the console).
            action = "RenewCertificateOrderForPackageRequest"
            request = models.RenewCertificateOrderForPackageRequestRequest(
                order_id=renews, csr=csr, tags=[models.RenewCertificateOrderForPackageRequestRequestTags(
                    key=t["Key"], value=t["Value"]) for t in tags] or None)
            send = lambda: cas.renew_certificate_order_for_package_request_with_options(  # noqa: E731
                request, cas_api.create_runtime())
        elif props["api"] == "withCsr":
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
            if renews is not None and err.code in NOT_RENEWABLE_CODES:
                raise CloudError("alicloud", f"cas.{action}", resource, err.code,
                                 f"{renew_before_path(props)}: CAS refused to renew order {renews}: it renews an "
                                 f"order only while its certificate is about to expire, in CAS's sense "
                                 f"(ListUserCertificateOrder status WILLEXPIRED). Nothing was bought. Run `pulumi up` "
                                 f"again once CAS lists order {renews} as WILLEXPIRED, or remove renewBefore from the "
                                 f"entry to keep the current certificate; an order that is EXPIRED or gone cannot be "
                                 f"renewed: remove renewBefore and replace the entry to buy a new one ({err})") from err
            if not cas_api.is_transient(err.__cause__):
                raise
            # The order may have been placed and only the answer lost: look before buying again, for a while,
            # because the order list may not show a new order at once.
            # Only an order listed exactly as this purchase: anything else stays for the next run's checks.
            def placed_by_this_call() -> list[Any] | None:
                return [m for m in self._live_matches(cas, props, bought_since_ms=started_ms)
                        if m.order_id not in seen
                        and may_be_these_names(m.domain, props["domains"], m.domain_count)] or None
            try:
                order_id = wait_for(f"{resource}: the order of the unanswered {action} in the order list",
                                    placed_by_this_call, LOOK_AGAIN_SECONDS, POLL_SECONDS, self.clock)[0].order_id
            except WaitTimeout:
                raise err
        if not order_id:
            raise CloudError("alicloud", f"cas.{action}", resource, "MissingOrderId", "the answer had no OrderId")
        return int(order_id), answered
