"""Look before you buy, and adopt by id, for SCM: is a certificate found under this resource's tag (or named by
`adopt`) this entry's, and may it be taken instead of buying one?

cert-manager style, like components/alicloud/candidates.py. CANDIDATE_CHECKS judge each certificate the tag
listing shows (create's look before a purchase); ADOPT_COMPARISONS list what differs between a certificate
named by `adopt` and the entry. ScmCandidateSteps holds the provider's steps that run them (the tag look, adopt
by id, and `_release` of a kept adopted certificate); the look that also sweeps the certificate listing, for
when the tag index may lag, is scm_sweep.py's. ScmCertificateProvider (scm.py) inherits them and supplies the
SCM calls they use (_client, _call, _show, _tags, _set_tags, _batch_tags; _apply_and_settle comes from
scm_purchase.ScmPurchaseSteps). Apart from
scm.py so the provider's lifecycle reads on its own; the rules in words: scm.py's docstring, "create" and
"adopt by id".
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from pulumi.dynamic import CheckFailure, CreateResult

from components.dynamic import (ADOPT, REFUSE, REPLACED, SKIP, Verdict, declared_in_this_run, first_opinion,
                                foreign_owner, tell_user)
from components.errors import CertfleetError
from components.huaweicloud import client as scm_api
from components.huaweicloud.scm_model import (APPLICABLE, CLOCK_SLACK_SECONDS, DEAD, GENERATION_TAG, ISSUED_LIKE,
                                              KIND, LISTING_LAG_SECONDS, MAX_TAG_VALUES, REQUEST_TAG, RESOURCE_TAG,
                                              _whole, declared_keys, ordered_within, request_hash, same_names,
                                              scm_names, undo_advice, user_tags)


def adoptable(detail: Any, configured: list[str]) -> bool:
    """May a create adopt this certificate its tags found? Alive, and not applied for yet or applied for the
    configured names: one applied for other names (in the console) is what a drift replacement replaces."""
    if detail is None:
        return True
    if detail.order_status in DEAD:
        return False
    names = scm_names(detail.domain, detail.sans)
    return detail.order_status in APPLICABLE or not names or same_names(names, configured)


# --- look before you buy: what is each certificate found under this resource's tag? ------------------------
# cert-manager style, like components/alicloud/candidates.py: CANDIDATE_CHECKS run in order on each live
# certificate the tag listing shows; the first check with an opinion decides: SKIP (not for this purchase),
# ADOPT, or REFUSE (stop, buy nothing).


@dataclass(frozen=True)
class Purchase:
    """What create is about to buy, as the checks see it."""

    props: Mapping[str, Any]
    request: str                 # request_hash(props)
    replaced: frozenset[str]     # certificates this run's replacements replace: never the new one

    @property
    def resource(self) -> str:
        return f"certificate '{self.props.get('cert_name')}' ({self.props.get('resource_tag')})"


@dataclass(frozen=True)
class Candidate:
    """A certificate ListCertificatesByTag shows under this resource's tag (current or former)."""

    cert_id: str
    request: str | None          # its certfleet-request tag (None: none)
    detail: Any                  # its resource_detail (None: not reported)

    @property
    def status(self) -> str | None:
        return getattr(self.detail, "order_status", None) if self.detail is not None else None


def renewed_by_this_purchase(p: Purchase, c: Candidate) -> Verdict | None:
    """The predecessor of a renewal (components/renewal.py): known by id, never the successor, never touched."""
    renews = p.props.get("renews")
    if isinstance(renews, Mapping) and renews.get("id") == c.cert_id:
        return SKIP, "the certificate this purchase renews: it serves until its successor is issued"
    return None


def dead(p: Purchase, c: Candidate) -> Verdict | None:
    return (SKIP, f"{c.status}: can never be issued (again)") if c.status in DEAD else None


def replaced_by_this_run(p: Purchase, c: Candidate) -> Verdict | None:
    if c.cert_id in p.replaced:
        return SKIP, "the certificate this run's replacement replaces (create before delete: still live)"
    return None


def bought_for_this_request(p: Purchase, c: Candidate) -> Verdict | None:
    if c.request != p.request:
        return None
    if adoptable(c.detail, list(p.props["domains"])):
        return ADOPT, "bought for this very request (an interrupted run, or a lost answer to the buy)"
    return SKIP, "applied for other names (in the console): what a drift replacement replaces"


def kept_by_an_earlier_replacement(p: Purchase, c: Candidate) -> Verdict | None:
    if c.status in ISSUED_LIKE:
        return SKIP, "issued for another request: an earlier certificate of this entry a replacement kept"
    return None


def unrecorded_earlier_purchase(p: Purchase, c: Candidate) -> Verdict | None:
    order = getattr(c.detail, "partner_order_id", None) if c.detail is not None else None
    return REFUSE, (
        f"{p.resource}: SCM certificate {c.cert_id}{f' (order {order})' if order else ''} is "
        f"{c.status or 'of unknown status'} and carries this resource's tag with request hash "
        f"{c.request or '(none)'}, while this purchase's is {p.request}. It was most likely bought by an "
        f"interrupted run with this entry's earlier settings and never recorded in the stack state; certfleet "
        f"will not buy a second one. To go on: {undo_advice(c.status, order)}; then run `pulumi up` again")


CANDIDATE_CHECKS: tuple[Callable[[Purchase, Candidate], Verdict | None], ...] = (
    renewed_by_this_purchase,
    dead,
    replaced_by_this_run,
    bought_for_this_request,
    kept_by_an_earlier_replacement,
    unrecorded_earlier_purchase,
)


def judge(purchase: Purchase, candidate: Candidate) -> Verdict:
    """The first opinion of CANDIDATE_CHECKS on one certificate found."""
    return first_opinion(CANDIDATE_CHECKS, purchase, candidate)


def purchase_of(props: Mapping[str, Any]) -> Purchase:
    return Purchase(props, request_hash(props), replaced_in_this_run())


def note_replaced(cert_id: str) -> None:
    """This run's diff replaces the certificate (create before delete: still live while the replacing create
    looks); after a crash the next run's diff notes it again."""
    REPLACED.add((KIND, str(cert_id)))


def replaced_in_this_run() -> frozenset[str]:
    return frozenset(cert_id for kind, cert_id in REPLACED.snapshot() if kind == KIND)


# --- adopt by id: what differs between a certificate bought outside certfleet and the entry? ----------------
# ADOPT_COMPARISONS run in order on the certificate `adopt` names; each reports one difference or None. A
# difference that `replaces` would need a new purchase (the entry's PURCHASE_KEYS, or names/key once applied
# for): an error unless the entry says `replaceAdopted: true`, when create buys a new certificate and keeps
# the adopted one unrecorded. The others are shown and then made true in place (tags, an application).


@dataclass(frozen=True)
class Difference:
    field: str        # the entry's key
    in_scm: Any
    in_entry: Any
    replaces: bool    # needs a new certificate: a purchase

    def __str__(self) -> str:
        return f"{self.field} is {self.in_scm!r} in SCM, {self.in_entry!r} in the entry"


def _applied(shown: Any) -> bool:
    return shown.status not in APPLICABLE and bool(scm_names(shown.domain, shown.sans))


def _same(field: str, in_scm: Any, in_entry: Any, replaces: bool = True) -> Difference | None:
    return None if in_scm in (None, "") or in_scm == in_entry else Difference(field, in_scm, in_entry, replaces)


def differs_in_brand(shown: Any, props: Mapping[str, Any]) -> Difference | None:
    return _same("brand", shown.brand, props["brand"])


def differs_in_type(shown: Any, props: Mapping[str, Any]) -> Difference | None:
    return _same("type", shown.type, props["type"])


def differs_in_domain_type(shown: Any, props: Mapping[str, Any]) -> Difference | None:
    return _same("domainType", shown.domain_type, props["domain_type"])


def differs_in_years(shown: Any, props: Mapping[str, Any]) -> Difference | None:
    months = shown.validity_period or 0  # SCM reports the validity in months
    return _same("years", months // 12 if months else None, _whole(props["years"]))


def differs_in_domain_numbers(shown: Any, props: Mapping[str, Any]) -> Difference | None:
    return _same("domainNumbers", shown.domain_count, _whole(props["domain_numbers"]))


def differs_in_project(shown: Any, props: Mapping[str, Any]) -> Difference | None:
    configured = props.get("enterprise_project_id")
    return _same("enterpriseProjectId", shown.enterprise_project_id, configured) if configured else None


def is_dead(shown: Any, props: Mapping[str, Any]) -> Difference | None:
    """An expired or revoked certificate can never serve the entry: only a new purchase can."""
    return Difference("status", shown.status, "a live certificate", True) if shown.status in DEAD else None


def differs_in_names(shown: Any, props: Mapping[str, Any]) -> Difference | None:
    """Before an application SCM holds no names: create applies for the entry's (no purchase)."""
    if not _applied(shown):
        return None
    names = scm_names(shown.domain, shown.sans)
    configured = list(props["domains"])
    return None if same_names(names, configured) else Difference("domains", names, configured, True)


def differs_in_key(shown: Any, props: Mapping[str, Any]) -> Difference | None:
    """`csr: generate` means a key certfleet made: one applied for outside certfleet never carries it."""
    if props["csr"] == "generate" and _applied(shown):
        return Difference("csr", "applied for with a key made outside certfleet", "generate", True)
    return None


def differs_in_validation(shown: Any, props: Mapping[str, Any]) -> Difference | None:
    """Applied for already: the method is the application's; the entry's applies to the next application."""
    if not _applied(shown):
        return None
    return _same("validation", shown.validation_method, props["validation"], replaces=False)


ADOPT_COMPARISONS: tuple[Callable[[Any, Mapping[str, Any]], Difference | None], ...] = (
    is_dead,
    differs_in_brand,
    differs_in_type,
    differs_in_domain_type,
    differs_in_years,
    differs_in_domain_numbers,
    differs_in_project,
    differs_in_names,
    differs_in_key,
    differs_in_validation,
)


def adopt_differences(shown: Any, props: Mapping[str, Any], tags: Mapping[str, str]) -> list[Difference]:
    found = [d for compare in ADOPT_COMPARISONS if (d := compare(shown, props)) is not None]
    in_scm, configured = user_tags(tags), dict(props.get("tags") or {})
    if any(in_scm.get(k) != v for k, v in configured.items()):
        found.append(Difference("tags", in_scm, configured, False))  # set in place by create
    return found


def adopt_owner_problem(cert_id: str, tags: Mapping[str, str], props: Mapping[str, Any]) -> str | None:
    """The certificate carries another certfleet resource's tag: it is that resource's, never adopted."""
    owner = foreign_owner(tags.get(RESOURCE_TAG), props)
    if owner:
        return (f"SCM certificate {cert_id} belongs to certfleet resource '{owner}' ({RESOURCE_TAG} tag): certfleet "
                f"never adopts another resource's certificate; remove `adopt` from this entry, or remove the "
                f"certificate from '{owner}' first")
    return None


def adopt_too_soon_problem(cert_id: str, shown: Any, tags: Mapping[str, str], props: Mapping[str, Any],
                           now: float | None = None) -> str | None:
    """The certificate shows no tags and was ordered within the tag index's lag (by its order id): it may be
    another stack's (or the console's) purchase whose tags SCM does not show yet. Adopting would tag it as this
    entry's, so certfleet waits until its tags can show."""
    lag = props.get("listing_lag_seconds")
    window = LISTING_LAG_SECONDS if lag is None else float(lag)
    if tags or not ordered_within(shown.order_id, window, now):
        return None
    return (f"SCM certificate {cert_id} (order {shown.order_id}) shows no tags and was ordered in the last minutes "
            f"(by its order id): it may be another stack's purchase, or one made in the console, whose tags SCM "
            f"does not show yet, and adopting it would tag it as this entry's. certfleet does not adopt it yet: "
            f"wait for SCM's tag index (check its tags in the SCM console) and run `pulumi up` again; a "
            f"certificate bought without tags is adopted once its order is more than "
            f"{(window + CLOCK_SLACK_SECONDS) / 60:g} minutes old")


def adopt_refusal(resource: str, cert_id: str, differences: list[Difference]) -> str:
    listed = "; ".join(str(d) for d in differences if d.replaces)
    return (f"{resource}: the adopted SCM certificate {cert_id} differs from the entry in what only a new purchase "
            f"could change: {listed}. Make the entry match the certificate, or set `replaceAdopted: true` to buy a "
            f"new certificate for the entry (certificate {cert_id} is then kept in SCM, untouched)")


def missing_adopt(resource: str, cert_id: str, region: str) -> str:
    owner = scm_api.owner(region)
    return (f"{resource}: adopt: SCM certificate {cert_id} does not exist or is not visible to these credentials "
            f"(account {owner['account']} at {owner['endpoint']})")


class ScmCandidateSteps:
    """The provider's steps that look before a purchase and adopt by id (mixed into ScmCertificateProvider,
    which supplies `clock` and the SCM calls)."""

    def _adopt_failures(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[CheckFailure]:
        """Preview of a first create with `adopt`: the certificate must exist for these credentials, belong to
        no other certfleet resource, and differ only where it can be made to match without a purchase (unless
        replaceAdopted). Silent without credentials (a pull-request preview) or when SCM cannot be asked:
        create checks again."""
        cert_id = news.get("adopt_id")
        if olds or not isinstance(cert_id, str) or not cert_id:
            return []
        try:
            client, resource = self._client(news)
            shown = self._show(client, cert_id, resource)
            if shown is None:
                return [CheckFailure("adopt_id", missing_adopt(resource, cert_id, news["region"]))]
            tags = self._tags(client, cert_id, resource)
        except CertfleetError:
            return []
        owner = adopt_owner_problem(cert_id, tags, news) or adopt_too_soon_problem(cert_id, shown, tags, news)
        if owner:
            return [CheckFailure("adopt_id", f"{resource}: {owner}")]
        differences = adopt_differences(shown, news, tags)
        if any(d.replaces for d in differences) and not news.get("replace_adopted"):
            return [CheckFailure("adopt_id", adopt_refusal(resource, cert_id, differences))]
        for difference in differences:
            tell_user(f"{resource}: adopting SCM certificate {cert_id}: {difference}"
                      + ("; replaceAdopted: a new certificate is bought and this one is kept" if difference.replaces
                         else "; `pulumi up` makes it match"))
        return []

    def _adopt(self, client: Any, props: Mapping[str, Any], resource: str) -> CreateResult | None:
        """Create with `adopt`: take the certificate, buying nothing (None: replaceAdopted and it differs in
        what only a purchase changes, so create buys as for any entry and leaves it alone)."""
        cert_id = props["adopt_id"]
        shown = self._show(client, cert_id, resource)
        if shown is None:
            raise CertfleetError(missing_adopt(resource, cert_id, props["region"]))
        tags = self._tags(client, cert_id, resource)
        owner = adopt_owner_problem(cert_id, tags, props) or adopt_too_soon_problem(cert_id, shown, tags, props)
        if owner:
            raise CertfleetError(f"{resource}: {owner}")
        differences = adopt_differences(shown, props, tags)
        if any(d.replaces for d in differences):
            if not props.get("replace_adopted"):
                raise CertfleetError(adopt_refusal(resource, cert_id, differences))
            tell_user(f"{resource}: SCM certificate {cert_id} is kept, untouched: replaceAdopted, and it differs "
                      f"from the entry ({'; '.join(str(d) for d in differences if d.replaces)})")
            return None
        # Tagged like a purchase of this resource: later creates (an interrupted run) find it by its tags.
        generation = uuid.uuid4().hex
        self._set_tags(client, cert_id, {**(props.get("tags") or {}), RESOURCE_TAG: props["resource_tag"],
                                         REQUEST_TAG: request_hash(props), GENERATION_TAG: generation}, resource)
        # Its lifecycle goes on as for a bought one: a PAID/UNPASSED certificate is applied for with the
        # entry's data (that spends nothing), then the records and issuance are waited for, bounded.
        outs = self._apply_and_settle(client, cert_id, {**props, "generation": generation, "adopted": True},
                                      resource)
        return CreateResult(cert_id, outs)

    def _release(self, client: Any, cert_id: str, props: Mapping[str, Any], resource: str,
                 tags: Mapping[str, str] | None = None) -> str:
        """A delete keeps an adopted certificate: take certfleet's own tags (resource, request hash, generation)
        off it, so a later entry never finds it by them and takes it for its own purchase (which a destroy would
        refund), and another entry or stack may adopt it without being refused as owned. Only while its
        resource tag is still this resource's identity: a newer owner's tags are never touched; the user's tags
        stay. (Not called when a newer create of this resource adopted it back: it is still serving.)
        `tags`: as delete just read them, with no call in between (None: read them now). Returns what was done,
        for the message."""
        tags = self._tags(client, cert_id, resource) if tags is None else tags
        if RESOURCE_TAG not in tags:
            return "it carries no certfleet resource tag (removed already), its other tags are as they were"
        if tags[RESOURCE_TAG] != props.get("resource_tag"):
            return (f"its tags are left as they are: its {RESOURCE_TAG} tag names '{tags[RESOURCE_TAG]}', not "
                    f"this resource")
        ours = {k: tags[k] for k in (RESOURCE_TAG, REQUEST_TAG, GENERATION_TAG) if k in tags}
        self._batch_tags(client, cert_id, "delete", ours, resource)
        return "certfleet's own tags were removed from it, its other tags are as they were"

    @staticmethod
    def _may_destroy_adopted(props: Mapping[str, Any]) -> bool:
        """Only the entry's own `onDestroy: delete`, on a real destroy (never the old half of a replacement)."""
        replaced = any(declared_in_this_run(kind, name) for kind, name in declared_keys(props))
        return props.get("on_destroy") == "delete" and not replaced

    def _find_existing(self, client: Any, props: Mapping[str, Any], resource: str) -> str | None:
        """The certificate an interrupted run of this purchase already bought, if any: every certificate tagged
        with this resource's identity, current or former (a renamed entry), judged by CANDIDATE_CHECKS. Raises
        CertfleetError when a check refuses (any certificate: a refusal wins over an adoption)."""
        purchase = purchase_of(props)
        identities = list(dict.fromkeys([props["resource_tag"], *(props.get("previous_resource_tags") or [])]))
        adopt = None
        for start in range(0, len(identities), MAX_TAG_VALUES):
            for candidate in self._tagged(client, identities[start:start + MAX_TAG_VALUES], resource):
                verdict, why = judge(purchase, candidate)
                if verdict == REFUSE:
                    raise CertfleetError(why)
                if verdict == ADOPT and adopt is None:
                    adopt = candidate.cert_id
        return adopt

    def _tagged(self, client: Any, identities: list[str], resource: str) -> list[Candidate]:
        """Every certificate tagged with one of `identities` (whatever its request hash)."""
        from huaweicloudsdkscm.v3 import ListCertificatesByTagRequest, ListCertificatesByTagRequestBody, ScsTag

        candidates: list[Candidate] = []
        offset = 0
        while True:  # pages of 50 (SCM allows 10, 20 or 50); normally one page with one or two certificates
            # The values of one key are ORed (reference/huawei-scm.md A5).
            body = ListCertificatesByTagRequestBody(action="filter", limit=50, offset=offset,
                                                    tags=[ScsTag(key=RESOURCE_TAG, values=identities)])
            found = self._call("ListCertificatesByTag", resource, lambda: client.list_certificates_by_tag(
                ListCertificatesByTagRequest(resource_instances="resource_instances", body=body)))
            for item in found.resources or []:
                tags = {t.key: t.value for t in item.tags or []}
                candidates.append(Candidate(item.resource_id, tags.get(REQUEST_TAG), item.resource_detail))
            offset += len(found.resources or [])
            if not found.resources or offset >= (found.total_count or 0):
                return candidates
