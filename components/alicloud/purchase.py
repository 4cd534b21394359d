"""Buying a CAS order: the plan check at preview, the look before buying, and the Create* request.

Apart from cas.py because these steps run only on the way to a purchase (check's quota, create's search of
the order list and the paid call) while cas.py keeps the provider's lifecycle. LookThenBuy is a mixin of
cas.CasOrderProvider: it uses the provider's `clock`, `wall_clock` and `_describe`. What a listed order is
judged by is in candidates.py; the rules in words are in cas.py's docstring, "create".
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping

from pulumi.dynamic import CheckFailure

from components.alicloud import client as cas_api
from components.alicloud.candidates import (ADOPT, CLOCK_SLACK_MS, REFUSE, Candidate, judge, listed_first,
                                            may_be_these_names, order_label, purchase_of,
                                            renewed_order)  # noqa: F401 (cas.py imports it from here)
from components.alicloud.client import models as _models
from components.alicloud.inputs import REPLACE_KEYS
from components.dynamic import tell_user, wait_for
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


def renew_before_path(props: Mapping[str, Any]) -> str:
    """The config path of the entry's renewBefore: what the user changes (renewal_generation is certfleet's)."""
    return f"certfleet:alicloud.orders.{props.get('order_name')}.renewBefore"


class LookThenBuy:
    """The provider's purchase steps (a mixin of cas.CasOrderProvider)."""

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
