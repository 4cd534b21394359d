"""The sweep: what the tag index cannot show yet, the certificate listing can.

Why: tags sent with a purchase may not be visible in the tag listing for a while (reference/huawei-scm.md A5),
so after an interrupted run, or a lost answer to a buy, "no tagged match" does not prove "nothing bought".
The sweep lists every certificate of the account (GET /v3/scm/certificates, status ALL: an order may still be
in its undocumented pre-PAID status, or an interrupted run may have left it anywhere from PAID to ISSUED) and
looks at those that may be that purchase: not past any purchase (expired, revoked, imported), of the same
brand, type and domain type, showing this entry's primary name or no name at all (at PAID, and while the
order is processed, SCM shows none, A6), ordered since the journal stamp (SCM shows no creation time, so the
order id's time stands in). cert-manager style, like scm_candidates.py: SWEEP_CHECKS run in order on each
one; the first check with an opinion decides: SKIP (not this purchase's, or claimed), ADOPT / REFUSE (it
carries this resource's tag: judged as the tag listing's candidates are), or UNCLAIMED (no certfleet tag
visible on a certificate bought since the look began: it may be this purchase with its tags not visible yet,
or one bought outside certfleet, by another stack or in the console). An unclaimed certificate stops the
purchase: the look goes on (its tags may appear, which proves it this entry's) and, if it ends with one still
unclaimed, create refuses, naming it and what the user can do.

"Claimed" means: another certfleet resource's tag is on it, or this run bought it for another entry, or this
run's replacement replaces it. Certificates in another stack's state carry their resource's tag.

v2 (`api: v2`, docs/scm-v2.md): the v2 purchase carries no tags, so a v2 purchase whose answer was lost, or
whose run died before it tagged it, is never shown by its tags: waiting cannot prove it. Its marker is the
journal stamp: an unclaimed certificate of the entry's product, ordered since the stamp, showing no name or the
entry's primary name, is what the interrupted purchase bought. When the look ends (the full lag, so that other
purchases' tags can show) with such certificates left, a v2 entry claims the first (claim_v2_purchase: under a
lock, so two entries of one run never claim one certificate) instead of refusing; create tags it and records
it as `adopted` (certfleet cannot prove it placed it: destroy keeps it). Only within a recent interruption, and
an order whose time is known (may_claim_v2): otherwise it stops the purchase as for v3.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cached_property
from types import SimpleNamespace
from typing import Any, Callable, Mapping

from components.dynamic import (ADOPT, REFUSE, SKIP, RunSet, Verdict, first_opinion, foreign_owner, tell_user,
                                wait_for)
from components.errors import CertfleetError, WaitTimeout
from components.huaweicloud.scm_candidates import Candidate, Purchase, judge, purchase_of
from components.huaweicloud.scm_model import (CLOCK_SLACK_SECONDS, DEAD, LISTING_LAG_SECONDS,
                                              POLL_SECONDS, REQUEST_TAG, RESOURCE_TAG, V2, order_time, undo_advice)
from components import clock
from components.journal import (RECENT_SECONDS, earlier_stamps, follows_interrupted_run, journalled_at,
                                may_follow_interrupted_run)

UNCLAIMED = "unclaimed"  # stop the purchase unless the look proves the certificate this entry's before it ends
# No recent purchase is in these: it can never have been revoked or have expired yet; UPLOAD is an import.
PAST_ANY_PURCHASE = DEAD + ("UPLOAD",)
PAGE = 50  # SCM's largest page

# (resource tag, certificate id) of each purchase this run made: claimed by that resource's state-to-be.
BOUGHT_IN_THIS_RUN = RunSet()


# Certificates this run claimed for a v2 entry without proof (see the module docstring): recorded `adopted`.
CLAIMED_IN_THIS_RUN = RunSet()
_CLAIM_LOCK = threading.Lock()  # one claim at a time: two entries of one product never take one certificate


def note_bought(resource_tag: str, cert_id: str) -> None:
    BOUGHT_IN_THIS_RUN.add((resource_tag, cert_id))


def claimed_without_proof(cert_id: str) -> bool:
    return cert_id in CLAIMED_IN_THIS_RUN


def may_claim_v2(since: float, order_id: str | None, now: float | None = None) -> bool:
    """May a v2 entry claim an unclaimed certificate (ordered `order_id`) found by a look that began at `since`?
    Only within a recent interruption (journal.RECENT_SECONDS): a stamp kept for months (a DEAD replacement with
    unchanged inputs keeps its first purchase's stamp; a certificate dropped by refresh) would let an untagged
    purchase of anyone's since then be taken for this entry's, and certfleet cannot prove it placed it. And only
    an order whose time is known (its id tells it) and is not before the look began."""
    placed = order_time(order_id)
    recent = (clock.epoch() if now is None else now) - RECENT_SECONDS
    return since >= recent and placed is not None and placed >= since - CLOCK_SLACK_SECONDS


def sweep_since(props: Mapping[str, Any]) -> float:
    """Since when an unrecorded purchase of this entry can have been placed (epoch seconds): the journal's
    stamp of the current purchase when an interrupted run may have placed it, and every earlier purchase's
    recent stamp (journal.may_follow_interrupted_run). Without a stamp time: the last RECENT_SECONDS."""
    now = clock.epoch()
    times = [float(h["at"]) for h in earlier_stamps(props) if float(h.get("at") or 0) >= now - RECENT_SECONDS]
    current = journalled_at(props)
    if follows_interrupted_run(props) or current is None:
        times.append(current if current is not None else now - RECENT_SECONDS)
    return min(times) if times else now


@dataclass(frozen=True)
class Sweep:
    """One look: what create is about to buy and since when an unrecorded purchase of it can exist."""

    purchase: Purchase
    since: float                      # epoch seconds
    bought: frozenset[tuple[str, str]]  # BOUGHT_IN_THIS_RUN


class Swept:
    """A certificate the listing shows. Its tags and its order id cost a call each, made only when a check
    needs them (most certificates are told apart by the listing's brand, type and domain type)."""

    def __init__(self, listed: Any, read_tags: Callable[[str], dict[str, str]],
                 read_order_id: Callable[[str], str | None]) -> None:
        self.listed = listed
        self.cert_id: str = listed.id
        self._read_tags, self._read_order_id = read_tags, read_order_id

    @cached_property
    def tags(self) -> dict[str, str]:
        return self._read_tags(self.cert_id)

    @cached_property
    def order_id(self) -> str | None:
        return self._read_order_id(self.cert_id)

    def as_candidate(self) -> Candidate:
        """As the tag listing would show it, for scm_candidates.judge."""
        detail = SimpleNamespace(order_status=self.listed.status, domain=self.listed.domain, sans=self.listed.sans,
                                 partner_order_id=self.order_id)
        return Candidate(self.cert_id, self.tags.get(REQUEST_TAG), detail)


def the_renewed_certificate(s: Sweep, c: Swept) -> Verdict | None:
    """A renewal's predecessor, by id (components/renewal.py): never the successor, whatever its tags say."""
    renews = s.purchase.props.get("renews")
    if isinstance(renews, Mapping) and renews.get("id") == c.cert_id:
        return SKIP, "the certificate this purchase renews: it serves until its successor is issued"
    return None


def past_any_purchase(s: Sweep, c: Swept) -> Verdict | None:
    return (SKIP, f"{c.listed.status}: not a recent purchase") if c.listed.status in PAST_ANY_PURCHASE else None


def another_product(s: Sweep, c: Swept) -> Verdict | None:
    props = s.purchase.props
    mine = (props["brand"], props["type"], props["domain_type"])
    theirs = (c.listed.brand, c.listed.type, c.listed.domain_type)
    return (SKIP, f"another product: {'/'.join(map(str, theirs))}") if theirs != mine else None


def another_primary_name(s: Sweep, c: Swept) -> Verdict | None:
    """Only a name SCM shows tells it apart: with none (PAID, or an order still processed, whatever status
    SCM reports) it may be this purchase."""
    primary = s.purchase.props["domains"][0].lower()
    if c.listed.domain and c.listed.domain.strip().lower() != primary:
        return SKIP, f"applied for {c.listed.domain}"
    return None


def replaced_by_this_run(s: Sweep, c: Swept) -> Verdict | None:
    return (SKIP, "the certificate this run's replacement replaces") if c.cert_id in s.purchase.replaced else None


def bought_by_this_run_for_another_entry(s: Sweep, c: Swept) -> Verdict | None:
    mine = s.purchase.props["resource_tag"]
    others = [tag for tag, cert_id in s.bought if cert_id == c.cert_id and tag != mine]
    return (SKIP, f"bought by this run for {others[0]}") if others else None


def tagged_for_another_resource(s: Sweep, c: Swept) -> Verdict | None:
    owner = foreign_owner(c.tags.get(RESOURCE_TAG), s.purchase.props)
    return (SKIP, f"certfleet resource '{owner}''s") if owner else None


def tagged_for_this_resource(s: Sweep, c: Swept) -> Verdict | None:
    """Its own tags show this resource's (the tag index has not caught up): judged like a tagged candidate."""
    return judge(s.purchase, c.as_candidate()) if c.tags.get(RESOURCE_TAG) else None


def bought_before_the_look(s: Sweep, c: Swept) -> Verdict | None:
    placed = order_time(c.order_id)
    if placed is not None and placed < s.since - CLOCK_SLACK_SECONDS:
        return SKIP, f"ordered before this purchase was journalled (order {c.order_id})"
    return None


def unclaimed(s: Sweep, c: Swept) -> Verdict:
    p = s.purchase
    order = f" (order {c.order_id})" if c.order_id else ""
    return UNCLAIMED, (
        f"{p.resource}: SCM certificate {c.cert_id}{order} is {c.listed.status or '(no status shown)'}, a "
        f"{p.props['brand']} {p.props['type']} {p.props['domain_type']} certificate ordered since this purchase "
        f"was journalled, and no certfleet tag on it is visible. An interrupted run (or a buy whose answer was "
        f"lost) may have bought it for this entry, with its tags not visible in SCM yet; certfleet will not buy "
        f"a second one. It may as well be another stack's purchase, or one made in the console, whose tags are "
        f"not visible yet: check its tags and its order in the SCM console before you adopt or refund it. "
        f"Either wait for SCM to show its tags and run `pulumi up` again (it is then taken for this entry if it "
        f"is this purchase, and passed over if it is another stack's); or, if it is this entry's, add "
        f"`adopt: {c.cert_id}` to the entry; or, if nobody wants it: {undo_advice(c.listed.status, c.order_id)}; "
        f"then run `pulumi up` again")


SWEEP_CHECKS: tuple[Callable[[Sweep, Swept], Verdict | None], ...] = (
    the_renewed_certificate,
    past_any_purchase,
    another_product,
    another_primary_name,
    replaced_by_this_run,
    bought_by_this_run_for_another_entry,
    tagged_for_another_resource,
    tagged_for_this_resource,
    bought_before_the_look,
    unclaimed,
)


def judge_swept(sweep: Sweep, swept: Swept) -> Verdict:
    """The first opinion of SWEEP_CHECKS on one listed certificate."""
    return first_opinion(SWEEP_CHECKS, sweep, swept)


class ScmSweepSteps:
    """The provider's looks that pair the tag index with the sweep (mixed into ScmCertificateProvider, which
    supplies `clock`, `_call`, `_tags`, `_show` and, from scm_candidates.ScmCandidateSteps, `_find_existing`)."""

    def _find_before_buying(self, client: Any, props: Mapping[str, Any], resource: str) -> str | None:
        """The last look before a purchase: the certificate to adopt, or None (buy). Normally the tag look, once.
        After an interrupted run (the journal's stamp is from an earlier run, or an earlier purchase of the entry
        was journalled recently) its certificate may be missing from the tag index: the tag look and the sweep,
        for the full `listing_lag_seconds` (never the shared window: this look guards money)."""
        if not may_follow_interrupted_run(props):
            return self._find_existing(client, props, resource)
        lag = props.get("listing_lag_seconds")
        return self._look_and_sweep(client, props, resource, sweep_since(props),
                                    LISTING_LAG_SECONDS if lag is None else float(lag),
                                    "the certificate an interrupted run may have bought")

    def _look_and_sweep(self, client: Any, props: Mapping[str, Any], resource: str, since: float,
                        timeout: float, what: str, sweep: bool = True) -> str | None:
        """The tag look and (`sweep`) the sweep, again and again until one finds this entry's certificate (its
        id) or `timeout` runs out (None). A refusal raises at once; a certificate still unclaimed when the look
        ends raises then, naming it (its tags may appear meanwhile and prove it this entry's)."""
        unclaimed_left: list[tuple[str, str]] = []  # (certificate id, why it stops the purchase)
        order_ids: dict[str, str] = {}  # certificate id -> its order id: fixed once known, so read once per look

        def look() -> str | None:
            found = self._find_existing(client, props, resource)
            if found or not sweep:
                return found
            adopt, unclaimed_left[:] = self._sweep(client, purchase_of(props), since, resource, order_ids)
            return adopt

        try:
            return wait_for(f"{resource}: {what}", look, timeout, POLL_SECONDS, self.clock)
        except WaitTimeout:
            pass
        if unclaimed_left and props.get("api") == V2:
            # Claimed only within a recent interruption, with a known order time (may_claim_v2); any other
            # unclaimed certificate stops the purchase, as for v3 (the user adopts it by id if it is this entry's).
            claimable = [cert_id for cert_id, _ in unclaimed_left if may_claim_v2(since, order_ids.get(cert_id))]
            claimed = self._claim_v2_purchase(client, props, resource, claimable) if claimable else None
            if claimed:
                return claimed
        if unclaimed_left:
            more = f" ({len(unclaimed_left) - 1} more such certificate(s) found)" if len(unclaimed_left) > 1 else ""
            raise CertfleetError(unclaimed_left[0][1] + more)
        return None

    def _claim_v2_purchase(self, client: Any, props: Mapping[str, Any], resource: str,
                           unclaimed_ids: list[str]) -> str | None:
        """The first of the look's unclaimed certificates that is still unclaimed (no certfleet tag, not taken
        by this run), noted as this entry's purchase; None if another entry took them all meanwhile."""
        with _CLAIM_LOCK:
            taken = {cert_id for _, cert_id in BOUGHT_IN_THIS_RUN.snapshot()}
            for cert_id in unclaimed_ids:
                if cert_id in taken or RESOURCE_TAG in self._tags(client, cert_id, resource):
                    continue
                note_bought(props["resource_tag"], cert_id)
                CLAIMED_IN_THIS_RUN.add(cert_id)
                tell_user(f"{resource}: SCM certificate {cert_id}, untagged, of this entry's product and ordered "
                          f"since this v2 purchase was journalled, is taken as the purchase an interrupted run "
                          f"(or a lost answer) made; certfleet tags it and records it as adopted (destroy keeps "
                          f"it: certfleet cannot prove it placed it). docs/scm-v2.md")
                return cert_id
        return None

    def _sweep(self, client: Any, purchase: Purchase, since: float, resource: str,
               order_ids: dict[str, str]) -> tuple[str | None, list[tuple[str, str]]]:
        """(the certificate to adopt, or None; each unclaimed certificate and why it stops the purchase). Raises
        CertfleetError when a certificate's own tags prove it this resource's and the candidate checks
        refuse it. `order_ids`: the look's order ids known so far (see _listed)."""
        sweep = Sweep(purchase, since, BOUGHT_IN_THIS_RUN.snapshot())
        adopt, unclaimed_found = None, []
        for swept in self._listed(client, purchase.props, resource, order_ids):
            verdict, why = judge_swept(sweep, swept)
            if verdict == REFUSE:
                raise CertfleetError(why)
            if verdict == ADOPT and adopt is None:
                adopt = swept.cert_id
            elif verdict == UNCLAIMED:
                unclaimed_found.append((swept.cert_id, why))
        return adopt, unclaimed_found

    def _listed(self, client: Any, props: Mapping[str, Any], resource: str,
                order_ids: dict[str, str]) -> list[Swept]:
        """Every certificate the listing shows. An order id, once read, is kept in `order_ids` (one dict per
        look, so each poll does not show every certificate again); tags are read afresh each poll (they may
        appear)."""
        from huaweicloudsdkscm.v3 import ListCertificatesRequest

        def order_id(cert_id: str) -> str | None:
            if cert_id not in order_ids:
                shown = self._show(client, cert_id, resource)
                if shown is None or not shown.order_id:
                    return None  # not shown (yet): asked again next poll
                order_ids[cert_id] = shown.order_id
            return order_ids[cert_id]

        # Every status (ALL): a lost order may still be in its undocumented pre-PAID status, which no status
        # filter names, or an interrupted run may have left it under review (CHECKING_ORG, ISSUING, UNPASSED).
        found: list[Swept] = []
        offset = 0
        while True:
            page = self._call("ListCertificates", resource, lambda: client.list_certificates(
                ListCertificatesRequest(status="ALL", limit=PAGE, offset=offset,
                                        enterprise_project_id=props.get("enterprise_project_id"))))
            items = page.certificates or []
            found += [Swept(item, lambda cert_id: self._tags(client, cert_id, resource), order_id) for item in items]
            offset += len(items)
            if not items or offset >= (page.total_count or 0):
                return found
