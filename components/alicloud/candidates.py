"""Look before you buy, for CAS: is an order listed with this purchase's primary name and plan this purchase's?

cert-manager style: CANDIDATE_CHECKS run in order on each live order the list shows with the purchase's
primary name first and its plan (CAS may list only an order's primary name, so its other names are known only
once its certificate shows them); the first check with an opinion decides: SKIP (not this purchase's), ADOPT,
or REFUSE (stop, buy nothing). Only an order that is provably not this purchase's is skipped: bought before
its stamp, or journalled in this run (someone else's); one that may be an interrupted run's and differs in
what CAS may show unreliably (listed names, DomainCount, names CAS put in the certificate) stops the purchase.
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
# ListUserCertificateOrder statuses of issued orders (any other live status is pending, PAYED too).
ISSUED_ORDER_STATUSES = ("ISSUED", "WILLEXPIRED")
# Bought, not applied for (or cancelled, not deleted): it holds a plan unit, and certfleet cannot apply for it.
PAYED_STATUS = "PAYED"


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


def listed_names(listed_domain: str | None) -> list[str]:
    """ListUserCertificateOrder's `Domain`, split: one name or several (comma-joined, CN first)."""
    return [d.strip().lower() for d in (listed_domain or "").split(",") if d.strip()]


def listed_first(listed_domain: str | None, domains: list[str]) -> bool:
    """Is the order listed with the entry's primary name first? What makes it a candidate at all."""
    listed = listed_names(listed_domain)
    return bool(listed) and listed[0] == domains[0].lower()


def may_be_these_names(listed_domain: str | None, domains: list[str], domain_count: int | None = None) -> bool:
    """Can a listed order be for exactly these names? Every published sample lists one name in `Domain` (for a
    CSR order, the CSR's CN: "the domain bound to the certificate"), so an order is matched on its first
    listed name = the entry's primary name; several listed names must be the entry's set, CN first; and
    `DomainCount` (the SDK's "number of purchased domain names"), when CAS returns it, must be their number.
    An order listed with the primary name only is a candidate whose other names are unknown until its
    certificate shows them (issued_for_other_names). DomainCount may be a plan's capacity or count a free
    name, so "no" here is not proof (listed_for_other_names)."""
    listed, wanted = listed_names(listed_domain), [d.lower() for d in domains]
    if not listed_first(listed_domain, wanted):
        return False
    if len(listed) > 1 and (len(listed) != len(set(listed)) or set(listed) != set(wanted)):
        return False
    return domain_count is None or domain_count == len(wanted)


def certificate_covers_names(certificate_pem: str, domains: list[str]) -> bool:
    """Is the certificate for every one of these names, its CN the primary name? Extra names are fine (CAS
    reportedly adds a free `www.` or bare name to DV certificates); a certificate without a CN only for exactly
    these names. Raises ValueError for a certificate that does not parse."""
    common, names = keys.certificate_names(certificate_pem)
    wanted = [d.lower() for d in domains]
    if not set(wanted) <= set(names):
        return False
    return common == wanted[0] or (common is None and set(names) == set(wanted))


def certificate_for_names(certificate_pem: str, domains: list[str]) -> bool:
    """certificate_covers_names, with a certificate that does not parse counting as "no"."""
    try:
        return certificate_covers_names(certificate_pem, domains)
    except ValueError:
        return False


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
    """A live order with the purchase's primary name and plan, as ListUserCertificateOrder shows it."""

    order_id: int
    buy_date_ms: int
    status: str
    listed_domain: str | None  # its `Domain` in the list: the primary name, or every name CN first
    domain_count: int | None   # its `DomainCount` (None: CAS did not return one)
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


def could_be_this_purchases(p: Purchase, c: Candidate) -> bool:
    """Bought since this purchase was journalled, after an interrupted run: maybe that run's order."""
    return follows_interrupted_run(p.props) and c.buy_date_ms >= p.since_ms


def _afresh(props: Mapping[str, Any]) -> str:
    name = props.get("order_name")
    return (f"remove order '{name}' from the config, run `pulumi up`, and add it back in a later `pulumi up` (its "
            f"purchase is then journalled anew, and orders bought earlier are not taken for an interrupted run's)")


def renewed_order(props: Mapping[str, Any]) -> int | None:
    """The predecessor's order id when this create is a renewal (components/renewal.py), else None."""
    renews = props.get("renews")
    if props.get("renewal_generation") and isinstance(renews, Mapping) and renews.get("id"):
        return int(renews["id"])
    return None


def renewed_by_this_purchase(p: Purchase, c: Candidate) -> Verdict | None:
    """A renewal's predecessor (components/renewal.py), known by id: never the successor, never touched."""
    if renewed_order(p.props) == int(c.order_id):
        return SKIP, "the order this purchase renews: it serves until its successor is issued"
    return None


def bought_before_every_stamp(p: Purchase, c: Candidate) -> Verdict | None:
    if c.buy_date_ms < p.earliest_ms:
        return SKIP, "bought before this entry's purchases were journalled"
    return None


def pending_from_an_earlier_purchase(p: Purchase, c: Candidate) -> Verdict | None:
    """The entry has earlier stamps (other settings, or removed and added back) and the order cannot be this
    purchase's own interrupted one. A pending order of an earlier purchase that the state records is
    cancelled by the replacement's delete, so a live one is most likely an interrupted run's, never
    recorded: stop rather than buy a second."""
    if could_be_this_purchases(p, c) or not earlier_stamps(p.props):
        return None
    if not c.pending:
        return SKIP, "an issued certificate of this entry's earlier settings (a replacement keeps those)"
    return REFUSE, (
        f"alicloud: {order_label(p.props)}: CAS order {c.order_id} for {_names(p.props)} is pending ({c.status}); "
        f"it was bought while this entry had other settings (or before it was removed and added back), most "
        f"likely by an interrupted run whose result was never saved, and the stack state does not record it. "
        f"certfleet will not place a second paid order while it is pending. Check order {c.order_id} in the CAS "
        f"console: if it is yours, cancel and delete it (the plan unit comes back), then run `pulumi up` again; "
        f"if it is not (another stack or the console may hold an order with the same primary name and plan), "
        f"certfleet buys once that order is issued or gone")


def listed_for_other_names(p: Purchase, c: Candidate) -> Verdict | None:
    """A pending order listed with other names than the entry's (several, not its set) or another DomainCount
    (an issued one is judged by its certificate: issued_for_other_names). Not proof: DomainCount may be a
    plan's capacity or count a free name, and CAS's listing is not documented. An order that may be an
    interrupted run's stops the purchase ("uncertain"); one that is provably not this purchase's (bought
    before its stamp, or journalled in this run: someone else's) is skipped."""
    domains = p.props["domains"]
    if not c.pending or may_be_these_names(c.listed_domain, domains, c.domain_count):
        return None
    shown = f"{c.listed_domain} (DomainCount {c.domain_count})" if c.domain_count is not None else c.listed_domain
    if not could_be_this_purchases(p, c):
        return SKIP, f"listed for other names: {shown}"
    return REFUSE, (
        f"alicloud: {order_label(p.props)}: CAS order {c.order_id} ({c.status}) is listed as {shown}, while this "
        f"entry has {len(domains)} name(s), {_names(p.props)}; it was bought since this purchase was journalled "
        f"({_journalled(p.props)}), after an interrupted run. Whether it is that run's order is uncertain (CAS's "
        f"DomainCount may be the plan's capacity or count a free name) or another's with the same primary name, "
        f"and certfleet will not place a second paid order past it. Check order {c.order_id} in the CAS console: "
        f"if it is yours, cancel and delete it (the plan unit comes back) and run `pulumi up` again, or run it "
        f"once CAS has issued the order (its certificate then shows its names, and certfleet adopts it if it is "
        f"for this entry); if it is not, {_afresh(p.props)}")


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


def bought_not_applied_for(p: Purchase, c: Candidate) -> Verdict | None:
    """PAYED, bought since this purchase was journalled, after an interrupted run: it holds a plan unit and may
    be that run's order (CAS may list a new order so until it takes the application). certfleet can neither
    apply for it nor tell whose it is, never cancels or deletes what it cannot prove it placed, and never
    buys past it: stop until the user deletes it or applies for it."""
    if c.status != PAYED_STATUS:
        return None
    state = c.state
    if state is None:
        return SKIP, "deleted since it was listed"
    if (state.type or "").lower() != "payed":
        return None  # applied for since it was listed: judged as the pending order it now is
    return REFUSE, (
        f"alicloud: {order_label(p.props)}: CAS order {c.order_id} for {_names(p.props)} is listed as PAYED "
        f"(bought, not applied for, or cancelled and not deleted) and was bought since this purchase was "
        f"journalled ({_journalled(p.props)}), so an interrupted run may have placed it. It holds a plan unit; "
        f"certfleet cannot apply for it nor tell whose it is, and will not place a second paid order past it. "
        f"If nobody needs it, delete order {c.order_id} in the CAS console (the plan unit comes back); if it is "
        f"for these names, apply for it in the console (certfleet then adopts it as a pending order); then run "
        f"`pulumi up` again")


def renewal_not_applied_for(p: Purchase, c: Candidate) -> Verdict | None:
    """A renewal's order is placed payed (applied for in the console): PAYED, bought since this renewal was
    journalled after an interrupted run, it is that run's renewal (the checks before skipped the predecessor and
    older orders). Not with csr: generate: that run's key is lost (bought_not_applied_for refuses)."""
    if p.props.get("renewal_generation") and c.status == PAYED_STATUS and p.csr_mode != "generate":
        return ADOPT, "a renewal order (CAS places it payed) bought since this renewal was journalled"
    return None


def pending_with_a_lost_generated_key(p: Purchase, c: Candidate) -> Verdict | None:
    if not (c.pending and p.csr_mode == "generate"):
        return None
    return REFUSE, (
        f"alicloud: {order_label(p.props)}: CAS order {c.order_id} for {_names(p.props)} is pending ({c.status}) "
        f"and was bought since this purchase was journalled ({_journalled(p.props)}), so an interrupted run "
        f"probably placed it, and the key certfleet generated for it was lost with that run; certfleet will not "
        f"place a second paid order automatically. Check order {c.order_id} in the CAS console: if it is yours, "
        f"cancel and delete it (the plan unit comes back), then run `pulumi up` again; if it is not (another "
        f"stack or the console may hold an order with the same primary name and plan), run `pulumi up` again "
        f"once it is issued: certfleet then tells it apart by its certificate, or says what to do")


def pending_order(p: Purchase, c: Candidate) -> Verdict | None:
    # CAS exposes no order's CSR, and may list only its primary name: primary name, plan and date are all
    # there is (an issued certificate is checked against the CSR's key before it is recorded, see _outputs).
    return (ADOPT, "pending, bought since this purchase was journalled") if c.pending else None


def not_issued(p: Purchase, c: Candidate) -> Verdict | None:
    return (SKIP, "listed as issued, but CAS returns no certificate for it") if c.certificate is None else None


def issued_for_other_names(p: Purchase, c: Candidate) -> Verdict | None:
    """The order list shows an order's primary name (maybe not its others): its certificate shows them all.
    One for every entry name, CN the primary, goes on to the key checks (extra names are fine: CAS may add a
    free one). Any other certificate stops the purchase: the checks before let through only orders bought
    since the stamp after an interrupted run, and CAS may have changed that run's names."""
    if certificate_for_names(c.certificate, p.props["domains"]):
        return None
    try:
        common, names = keys.certificate_names(c.certificate)
        shown = f"{', '.join(names)} (CN {common or 'none'})"
    except ValueError:
        shown = "a certificate that does not parse"
    return REFUSE, (
        f"alicloud: {order_label(p.props)}: CAS order {c.order_id} ({c.status}) has the primary name and plan of "
        f"{_names(p.props)} and was bought since this purchase was journalled ({_journalled(p.props)}), after an "
        f"interrupted run, but CAS issued it for {shown}, not for every name of the entry with the primary name "
        f"as CN. It may be that run's order or another's with the same primary name; certfleet cannot tell and "
        f"will not place a second paid order past it. Check order {c.order_id} in the CAS console: if it is "
        f"yours, it does not serve this entry as it is; either way, to buy a new order, {_afresh(p.props)}")


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
    return REFUSE, (
        f"alicloud: {order_label(p.props)}: CAS order {c.order_id} for {_names(p.props)} is issued ({c.status}) "
        f"and was bought since this purchase was journalled ({_journalled(p.props)}). It is probably the order "
        f"of an interrupted run, and its private key (generated by certfleet) was lost with that run, so its "
        f"certificate cannot be used; certfleet will not place a second paid order automatically. Check order "
        f"{c.order_id} in the CAS console. If you want a new order, {_afresh(p.props)}; if you do not, remove "
        f"order '{p.props.get('order_name')}' from the config")


def issued_without_a_key_from_cas(p: Purchase, c: Candidate) -> Verdict | None:
    if p.csr_mode == "cas" and not c.state.private_key:
        return SKIP, "ordered with a CSR, while this order lets CAS make the key"
    return None


def placed_by_an_interrupted_run(p: Purchase, c: Candidate) -> Verdict | None:
    return ADOPT, "issued, bought since this purchase was journalled, with the expected key"


CANDIDATE_CHECKS: tuple[Callable[[Purchase, Candidate], Verdict | None], ...] = (
    renewed_by_this_purchase,
    bought_before_every_stamp,
    kept_by_a_replacement,
    pending_from_an_earlier_purchase,   # before the name checks: an earlier purchase's order stops the buy
    listed_for_other_names,
    journalled_in_this_run,
    renewal_not_applied_for,
    bought_not_applied_for,
    pending_with_a_lost_generated_key,
    pending_order,
    not_issued,
    issued_for_other_names,
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
