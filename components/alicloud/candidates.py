"""Look before you buy, for CAS: is an order listed with this purchase's names and plan this purchase's?

cert-manager style: CANDIDATE_CHECKS run in order on each live order with the purchase's names and plan;
the first check with an opinion decides: SKIP (not this purchase's), ADOPT, or REFUSE (stop, buy nothing).
What may be this resource's comes from the purchase journal (components/journal.py). The rules in words:
components/alicloud/cas.py's docstring, "create".
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable, Mapping

from components import keys
from components.dynamic import ADOPT, REFUSE, SKIP, RunSet, Verdict, first_opinion
from components.journal import earlier_stamps, follows_interrupted_run, journalled_at


def order_label(props: Mapping[str, Any]) -> str:
    return f"order '{props.get('order_name')}'"


# How far the CAS clock may be behind ours when BuyDate is compared with the journal stamp or a Create's start.
CLOCK_SLACK_MS = 5 * 60 * 1000
# ListUserCertificateOrder statuses of issued orders (any other live status is pending).
ISSUED_ORDER_STATUSES = ("ISSUED", "WILLEXPIRED")


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


def carries_key(certificate_pem: str, key_source_pem: str) -> bool:
    """keys.certificate_matches_key, with a certificate that does not parse counting as "no"."""
    try:
        return keys.certificate_matches_key(certificate_pem, key_source_pem)
    except ValueError:
        return False




@dataclass(frozen=True)
class Purchase:
    """What create is about to buy, as the checks see it."""

    props: Mapping[str, Any]
    since_ms: int          # the journal stamp minus CLOCK_SLACK_MS
    earliest_ms: int       # the oldest of the entry's stamps (earlier purchases too) minus CLOCK_SLACK_MS
    kept: frozenset[int]   # orders this run's replacements kept or cancelled: never the new order

    @property
    def csr_mode(self) -> str:
        return self.props["csr_mode"]


@dataclass
class Candidate:
    """A live order with the purchase's names and plan, as ListUserCertificateOrder shows it."""

    order_id: int
    buy_date_ms: int
    status: str
    describe: Callable[[], Any | None] = field(repr=False)  # its DescribeCertificateState (None: gone)

    @property
    def pending(self) -> bool:
        return self.status not in ISSUED_ORDER_STATUSES

    @cached_property
    def state(self) -> Any | None:
        return self.describe()  # asked only by the checks of issued orders

    @property
    def certificate(self) -> str | None:
        state = self.state
        issued = state is not None and (state.type or "").lower() == "certificate"
        return (state.certificate or None) if issued else None


def _names(props: Mapping[str, Any]) -> str:
    return f"{', '.join(props['domains'])} ({props['product_code']})"


def _journalled(props: Mapping[str, Any]) -> str:
    at = journalled_at(props)
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(at)) if at is not None else "no journal stamp"


def bought_before_every_stamp(p: Purchase, c: Candidate) -> Verdict | None:
    if c.buy_date_ms < p.earliest_ms:
        return SKIP, "bought before this entry's purchases were journalled"
    return None


def pending_from_an_earlier_purchase(p: Purchase, c: Candidate) -> Verdict | None:
    """The entry has earlier stamps (other settings, or removed and added back) and the order cannot be this
    purchase's own interrupted one. A pending order of an earlier purchase that the state records is
    cancelled by the replacement's delete, so a live one is most likely an interrupted run's, never
    recorded: stop rather than buy a second."""
    could_be_this_purchases = follows_interrupted_run(p.props) and c.buy_date_ms >= p.since_ms
    if could_be_this_purchases or not earlier_stamps(p.props):
        return None
    if not c.pending:
        return SKIP, "an issued certificate of this entry's earlier settings (a replacement keeps those)"
    return REFUSE, (
        f"alicloud: {order_label(p.props)}: CAS order {c.order_id} for {_names(p.props)} is pending ({c.status}); "
        f"it was bought while this entry had other settings (or before it was removed and added back), most "
        f"likely by an interrupted run whose result was never saved, and the stack state does not record it. "
        f"certfleet will not place a second paid order while it is pending: cancel and delete order "
        f"{c.order_id} in the CAS console (the plan unit comes back), then run `pulumi up` again")


def journalled_in_this_run(p: Purchase, c: Candidate) -> Verdict | None:
    """(a) This run journalled the purchase: no earlier run can have placed it, so the order is someone
    else's (the console, another stack, another CSR)."""
    if not follows_interrupted_run(p.props):
        return SKIP, "someone else's: this purchase was journalled in this run, so no earlier run placed it"
    return None


def kept_by_a_replacement(p: Purchase, c: Candidate) -> Verdict | None:
    if c.order_id in p.kept:
        return SKIP, "the old order this run's replacement kept"
    return None


def pending_with_a_lost_generated_key(p: Purchase, c: Candidate) -> Verdict | None:
    if not (c.pending and p.csr_mode == "generate"):
        return None
    return REFUSE, (
        f"alicloud: {order_label(p.props)}: CAS order {c.order_id} for {_names(p.props)} is pending ({c.status}) "
        f"and was bought since this purchase was journalled ({_journalled(p.props)}), so an interrupted run "
        f"probably placed it, and the key certfleet generated for it was lost with that run; certfleet will not "
        f"place a second paid order automatically. In the CAS console cancel and delete order {c.order_id} "
        f"(the plan unit comes back), then run `pulumi up` again")


def pending_order(p: Purchase, c: Candidate) -> Verdict | None:
    # CAS exposes no order's CSR: names, plan and date are all there is (an issued certificate is checked
    # against the CSR's key before it is recorded, see _outputs).
    return (ADOPT, "pending, bought since this purchase was journalled") if c.pending else None


def not_issued(p: Purchase, c: Candidate) -> Verdict | None:
    return (SKIP, "listed as issued, but CAS returns no certificate for it") if c.certificate is None else None


def issued_for_another_csr_key(p: Purchase, c: Candidate) -> Verdict | None:
    csr_pem = p.props.get("csr_pem")
    if csr_pem and not carries_key(c.certificate, csr_pem):
        return SKIP, "issued for another key than the configured CSR's"
    return None


def issued_for_another_kind_of_key(p: Purchase, c: Candidate) -> Verdict | None:
    if p.csr_mode == "generate" and (c.state.private_key
                                     or not _key_fits_algorithm(c.certificate, p.props["key_algorithm"])):
        return SKIP, "issued for a key CAS made, or for another kind of key than keyAlgorithm"
    return None


def issued_with_a_lost_generated_key(p: Purchase, c: Candidate) -> Verdict | None:
    if p.csr_mode != "generate":
        return None
    name = p.props.get("order_name")
    return REFUSE, (
        f"alicloud: {order_label(p.props)}: CAS order {c.order_id} for {_names(p.props)} is issued ({c.status}) "
        f"and was bought since this purchase was journalled ({_journalled(p.props)}). It is probably the order "
        f"of an interrupted run, and its private key (generated by certfleet) was lost with that run, so its "
        f"certificate cannot be used; certfleet will not place a second paid order automatically. Check order "
        f"{c.order_id} in the CAS console. If you want a new order, remove order '{name}' from the config, run "
        f"`pulumi up`, and add it back in a later `pulumi up` (its purchase is then journalled anew, and orders "
        f"bought earlier are not taken for an interrupted run's); if you do not, remove order '{name}' from "
        f"the config")


def issued_without_a_key_from_cas(p: Purchase, c: Candidate) -> Verdict | None:
    if p.csr_mode == "cas" and not c.state.private_key:
        return SKIP, "ordered with a CSR, while this order lets CAS make the key"
    return None


def placed_by_an_interrupted_run(p: Purchase, c: Candidate) -> Verdict | None:
    return ADOPT, "issued, bought since this purchase was journalled, with the expected key"


CANDIDATE_CHECKS: tuple[Callable[[Purchase, Candidate], Verdict | None], ...] = (
    bought_before_every_stamp,
    kept_by_a_replacement,
    pending_from_an_earlier_purchase,
    journalled_in_this_run,
    pending_with_a_lost_generated_key,
    pending_order,
    not_issued,
    issued_for_another_csr_key,
    issued_for_another_kind_of_key,
    issued_with_a_lost_generated_key,
    issued_without_a_key_from_cas,
    placed_by_an_interrupted_run,
)


def judge(purchase: Purchase, candidate: Candidate) -> Verdict:
    """The first opinion of CANDIDATE_CHECKS on one listed order."""
    return first_opinion(CANDIDATE_CHECKS, purchase, candidate)


def purchase_of(props: Mapping[str, Any]) -> Purchase:
    """The purchase of a create whose journal stamp is known (create refuses to buy without one)."""
    since = int(journalled_at(props) * 1000) - CLOCK_SLACK_MS
    earliest = min([since, *(int(float(h["at"]) * 1000) - CLOCK_SLACK_MS for h in earlier_stamps(props))])
    return Purchase(props, since, earliest, kept_by_replacement())


# Orders this run's deletes kept (issued, or adopted) or cancelled as the old half of a replacement: the
# replacing create must not take them for its own.
KEPT_BY_REPLACEMENT = RunSet()


def keep_for_the_run(order_id: int) -> None:
    KEPT_BY_REPLACEMENT.add(int(order_id))


def kept_by_replacement() -> frozenset[int]:
    return KEPT_BY_REPLACEMENT.snapshot()
