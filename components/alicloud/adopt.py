"""Adopt by id for CAS (`adopt: "<order id>"`): what differs between the order and the entry, and the steps.

Apart from cas.py and candidates.py because adopting an order the config names has its own rules (cas.py's
docstring, "adopt by id"): ADOPT_COMPARISONS (dead, plan, names, a pending order's validation, key) and the
messages for a refusal or a missing order, then AdoptById, a mixin of cas.CasOrderProvider (it uses the
provider's `clock`, `_describe` and `_settle`): check's preview of the adoption and create's adoption.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

from pulumi.dynamic import CheckFailure, CreateResult

from components import keys
from components.alicloud import client as cas_api
from components.alicloud.candidates import (carries_key, certificate_for_names, keep_for_the_run, listed_names,
                                            may_be_these_names, order_label)
from components.alicloud.purchase import each_listed_order
from components.alicloud.status import owner_text as _owner_text
from components.dynamic import tell_user
from components.errors import CertfleetError

# --- adopt by id: what differs between an order placed outside certfleet and the entry? ---------------------
# ADOPT_COMPARISONS run in order on the order `adopt` names (its ListUserCertificateOrder item and its
# DescribeCertificateState); each reports one difference or None. Every difference CAS lets certfleet see needs
# a new order to change (plan, names, key, a pending order's validation): without `replaceAdopted: true` it is
# an error; with it, create buys a new order and leaves the adopted one alone. CAS shows neither an order's
# CSR, contact, company nor tags, and not which API placed it: those cannot be compared.

# ListUserCertificateOrder statuses of orders that can never serve the entry (purchase.DEAD_ORDER_STATUSES).
# Not PAYED: bought, not applied for; once the user applies for it in the console, certfleet follows it.
ADOPT_DEAD_STATUSES = ("CHECKED_FAIL", "REVOKED", "EXPIRED")


@dataclass(frozen=True)
class AdoptedOrder:
    """The order `adopt` names, as CAS shows it."""

    order_id: int
    listed: Any     # its ListUserCertificateOrder item (None: not listed, e.g. the list lags)
    state: Any      # its DescribeCertificateState body

    @property
    def kind(self) -> str:
        return (self.state.type or "").lower()

    @property
    def domains(self) -> list[str]:
        """Its names as the order list shows them: the primary name, or every name CN first."""
        return listed_names(getattr(self.listed, "domain", None))

    @property
    def certificate(self) -> str | None:
        return (self.state.certificate or None) if self.kind == "certificate" else None


@dataclass(frozen=True)
class Difference:
    field: str       # the entry's key
    in_cas: Any
    in_entry: Any

    def __str__(self) -> str:
        return f"{self.field} is {self.in_cas!r} in CAS, {self.in_entry!r} in the entry"


def adopted_is_dead(o: AdoptedOrder, props: Mapping[str, Any]) -> Difference | None:
    status = getattr(o.listed, "status", None)
    return Difference("state", status, "a live order") if status in ADOPT_DEAD_STATUSES else None


def adopted_plan_differs(o: AdoptedOrder, props: Mapping[str, Any]) -> Difference | None:
    plan = getattr(o.listed, "product_code", None)
    return Difference("productCode", plan, props["product_code"]) if plan and plan != props["product_code"] else None


def adopted_names_differ(o: AdoptedOrder, props: Mapping[str, Any]) -> Difference | None:
    """An issued order: its certificate's names (every entry name, CN = the primary name). A pending one: as the order
    list shows it (candidates.may_be_these_names), which may be the primary name only (and DomainCount): its
    other names cannot be compared until it is issued (cas._outputs then records nothing for a certificate
    that does not cover the entry's names: names_mismatch). Extra certificate names are fine (CAS may add a
    free one)."""
    configured = list(props["domains"])
    if o.certificate is not None:
        if certificate_for_names(o.certificate, configured):
            return None
        try:
            names = keys.certificate_names(o.certificate)[1]
        except ValueError:
            names = ["a certificate that does not parse"]
        return Difference("domains", names, configured)
    count = getattr(o.listed, "domain_count", None)
    if o.listed is None or may_be_these_names(getattr(o.listed, "domain", None), configured, count):
        return None
    shown = o.domains + ([f"({count} names)"] if count is not None and len(o.domains) != count else [])
    return Difference("domains", shown, configured)


def adopted_validation_differs(o: AdoptedOrder, props: Mapping[str, Any]) -> Difference | None:
    """Only a pending order's: its challenge is of that kind (once issued, validation is history)."""
    shown = (o.state.validate_type or "").upper()
    if o.kind != "domain_verify" or not shown or shown == props["validation"]:
        return None
    return Difference("validation", shown, props["validation"])


def adopted_key_differs(o: AdoptedOrder, props: Mapping[str, Any]) -> Difference | None:
    """`csr: generate` is a key certfleet makes: an order placed outside certfleet never has it. An issued
    certificate must carry the configured CSR's key, or (csr left out) one CAS made and returns."""
    mode = props["csr_mode"]
    if mode == "generate":
        return Difference("csr", "a key made outside certfleet", "generate")
    certificate = o.certificate
    if certificate is None:
        return None  # pending: CAS exposes no order's CSR (an issued certificate is checked in cas._outputs)
    if mode == "pem" and not carries_key(certificate, props["csr_pem"]):
        return Difference("csr", "a certificate for another key", "the configured CSR's key")
    if mode == "cas" and not o.state.private_key:
        return Difference("csr", "a key CAS does not hold (the orderer's CSR)", "a key CAS makes (csr left out)")
    return None


ADOPT_COMPARISONS: tuple[Callable[[AdoptedOrder, Mapping[str, Any]], Difference | None], ...] = (
    adopted_is_dead,
    adopted_plan_differs,
    adopted_names_differ,
    adopted_validation_differs,
    adopted_key_differs,
)


def adopt_differences(order: AdoptedOrder, props: Mapping[str, Any]) -> list[Difference]:
    return [d for compare in ADOPT_COMPARISONS if (d := compare(order, props)) is not None]


def adopt_refusal(props: Mapping[str, Any], order_id: Any, differences: list[Difference]) -> str:
    return (f"alicloud: {order_label(props)}: the adopted CAS order {order_id} differs from the entry in what "
            f"only a new order could change: {'; '.join(str(d) for d in differences)}. Make the entry match the "
            f"order, or set `replaceAdopted: true` to buy a new order for the entry (order {order_id} is then "
            f"kept, untouched)")


def missing_adopt(props: Mapping[str, Any], order_id: Any, owner_text: str) -> str:
    return (f"alicloud: {order_label(props)}: adopt: CAS order {order_id} does not exist or is not visible to "
            f"these credentials ({owner_text}); CAS shows an order only to the account that placed it, at its "
            f"endpoint")


class AdoptById:
    """The provider's adopt-by-id steps (a mixin of cas.CasOrderProvider)."""

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
        return next((item for item in each_listed_order(cas, keyword, resource, self.clock)
                     if int(item.order_id or 0) == order_id), None)

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
