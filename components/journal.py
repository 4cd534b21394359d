"""The purchase journal: the stack's own durable record that a paid order is about to be placed.

Why: CAS orders carry no marker certfleet could look up, and SCM's tag index may lag a purchase
(reference/alibaba-cas.md A2, reference/huawei-scm.md A5), so after a run that was killed between "buy" and
"save the state" the next run cannot trust a listing that shows nothing. One journal resource per paid
section (CAS orders, SCM certificates) is updated before any of that section's purchases: the engine saves
it to the state before it calls a create that depends on it. Each entry is stamped with the run that first
journalled its current purchase (components/dynamic.RUN_ID). A create whose stamp is from an earlier run
follows an interrupted create of that very purchase, so it keeps looking in the listing for
`listingLagSeconds` before it buys; a create stamped in this run looks once, as before. A changed purchase
(other settings) gets a new stamp that carries the entry's earlier ones, and a removed entry's stamp stays
as a tombstone for an entry added back under its name (HISTORY_SECONDS): an interrupted run may have bought
under any of them, so a create never buys while an order placed under an earlier stamp is pending
unrecorded.

An entry that adopts an existing object by id (`adopt`, without `replaceAdopted`) buys nothing: it is
journalled like the others (so that removing its `adopt` line later changes nothing here, and a later
replacement, which may buy, finds its stamp), but it is listed in `adopting` and never counts as a purchase
in the rename rule below.

A create buys only under a stamp that journalled exactly its purchase (stamp_refusal: the fingerprint, the
renewal generation included): under the previous run's stamp (the journal left out by --target) the next run
would journal the purchase anew and take the order bought here for someone else's.

The journal also sees renames at preview (`check` has the old and the new entries): an entry that
disappears while a new one with the same purchase fingerprint appears, without `previousNames` naming the
old one, would buy the same certificate again, so preview fails and says how to rename.

An adopting entry added while another entry of the section is removed (not renamed) fails preview too: it
may adopt the very order or certificate the removed entry holds (`adopt: <its id>`), and the removed entry's
delete at the end of the update would then revoke it (`revokeOnDelete`) or cancel it while pending, under
the new entry. CAS shows no order's owner, and the journal holds no ids (a purchase's id exists only after
the journal is saved) nor can it see the stack's outputs, so this rule cannot compare ids. It does not compare
fingerprints either: an adopt accepts an order that differs from the entry in what CAS does not show or an
order not listed yet, so an equal fingerprint is not a sound test. The fix is either `previousNames` (a
rename keeps the object) or two updates (remove, then adopt).

No cloud calls: the journal lives in the state only, so it costs one small resource per section.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Iterable, Mapping

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, ReadResult, UpdateResult

from components import clock
from components.dynamic import RUN_ID, CertfleetProvider, CertfleetResource, is_unknown

# How long, and how many, earlier stamps of an entry (and stamps of removed entries) are kept: an order an
# interrupted run placed under them is looked for by later creates of the entry.
HISTORY_SECONDS = 30 * 24 * 3600
HISTORY_LENGTH = 10
# An earlier purchase journalled this recently may have been placed by a run that is not over long enough
# for the listing to show its order: a create then waits out the listing lag too.
RECENT_SECONDS = 24 * 3600


# Part of a purchase only once set (components/renewal.py): the first certificate's fingerprint stays what it
# was before renewals existed, so no journal entry changes for it.
RENEWAL_KEY = "renewal_generation"


def _whole_numbers(value: Any) -> Any:
    """The engine hands a provider numbers as floats (1.0); the program has ints: one fingerprint for both."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {k: _whole_numbers(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_whole_numbers(v) for v in value]
    return value


def fingerprint(inputs: Mapping[str, Any], keys: tuple[str, ...]) -> str:
    """What a purchase buys (names, plan, key..., the renewal generation): equal fingerprints buy the same
    certificate. The same in the program (the journal's entries) and in a provider's create (stamp_refusal)."""
    bought = {k: _whole_numbers(inputs.get(k)) for k in keys if k != RENEWAL_KEY or inputs.get(k)}
    return hashlib.sha256(json.dumps(bought, sort_keys=True).encode()).hexdigest()[:32]


def follows_interrupted_run(props: Mapping[str, Any]) -> bool:
    """Did an earlier run journal this purchase (and maybe place it) before it was interrupted?

    No stamp (a resource built without the journal) counts as yes: waiting is the safe side.
    """
    stamp = props.get("journal")
    return not isinstance(stamp, Mapping) or stamp.get("run") != RUN_ID


def journalled_at(props: Mapping[str, Any]) -> float | None:
    """Wall-clock time (epoch s) the current purchase was first journalled: nothing placed for it is older."""
    stamp = props.get("journal")
    return float(stamp["at"]) if isinstance(stamp, Mapping) and stamp.get("at") is not None else None


def may_follow_interrupted_run(props: Mapping[str, Any]) -> bool:
    """Should create wait out the listing lag? After an interrupted run of this purchase, or when an earlier
    purchase of the entry was journalled recently enough that its order may not be listed yet."""
    recent = clock.epoch() - RECENT_SECONDS
    return follows_interrupted_run(props) or any(float(h.get("at") or 0) >= recent for h in earlier_stamps(props))


def not_journalled(resource: str, journal: str) -> str:
    """Why a create without a journal stamp refuses to buy."""
    return (f"{resource}: this purchase is not in the purchase journal (the resource '{journal}' was left out "
            f"of this update, e.g. by --target), so certfleet cannot tell whether an interrupted run already "
            f"bought it, and buys nothing: run `pulumi up` without --target, or add the journal's URN to it "
            f"(`pulumi stack --show-urns`)")


def stamp_refusal(props: Mapping[str, Any], keys: tuple[str, ...], resource: str, journal: str) -> str | None:
    """Why a create may not buy under the stamp it carries, or None. The stamp must have journalled exactly this
    purchase (its fingerprint): a stamp of another purchase (the journal left out of a `--target` run keeps the
    previous run's stamps) would let this create buy under a stamp the next run replaces, and that run would take
    the order bought here for someone else's (journalled in its run) and buy again. A create that keeps the
    state's renewal generation (keep_generation: the program sent none) was journalled without it."""
    stamp = props.get("journal")
    if not isinstance(stamp, Mapping) or stamp.get("at") is None:
        return not_journalled(resource, journal)
    journalled = stamp.get("fingerprint")
    if journalled == fingerprint(props, keys):
        return None
    if not props.get("renews") and journalled == fingerprint({**props, RENEWAL_KEY: None}, keys):
        return None
    if not props.get("renews") and journalled == fingerprint(
            {**props, RENEWAL_KEY: (props.get(RENEWAL_KEY) or 0) + 1}, keys):
        # Journalled as the program's renewal, which preview deferred (check kept the state's generation).
        return (f"{resource}: the renewal this run planned was deferred at preview (see its message: the order "
                f"is not renewable yet), so this create is not the purchase the journal recorded and certfleet "
                f"buys nothing. Run `pulumi up` again once the renewal can go ahead, or remove renewBefore from "
                f"the entry to keep the current certificate")
    return (f"{resource}: the purchase journal's stamp for this entry is of another purchase (other settings or "
            f"another renewal generation): the resource '{journal}' was left out of this update (e.g. by "
            f"--target), so this purchase was never journalled and an interrupted run could not be told from "
            f"someone else's order. certfleet buys nothing: run `pulumi up` without --target, or add the journal's "
            f"URN to it (`pulumi stack --show-urns`)")


def adopt_takeover_problem(section: str, name: str, removed: list[str]) -> str:
    """Why an entry that adopts by id may not be added in the update that removes `removed`."""
    listed = ", ".join(f"'{old}'" for old in removed)
    first = removed[0]
    return (f"certfleet:{section}.{name}: adopts an existing object by id (`adopt`) in the same update that "
            f"removes {listed}. If '{name}' adopts the order or certificate {listed} holds, the delete of "
            f"{listed} at the end of this update revokes it (`revokeOnDelete`) or cancels it while pending, "
            f"though '{name}' now stands for it (CAS shows no order's owner, and preview cannot see which object "
            f"a removed entry holds). If you renamed '{first}' to '{name}', add `previousNames: [{first}]` to "
            f"'{name}' (the object keeps its identity; `adopt` is then not needed); otherwise remove {listed} "
            f"in one `pulumi up` and add '{name}' in the next")


def rename_problems(section: str, olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
    """Entries that would buy again what a removed entry bought (renames without `previousNames`), and
    entries that adopt by id while an entry is removed (they may take over what the removed entry holds)."""
    old_entries: dict[str, str] = olds.get("entries") or {}
    new_entries: dict[str, str] = news.get("entries") or {}
    previous: dict[str, list[str]] = news.get("previous") or {}
    adopting = set(news.get("adopting") or [])  # they take an existing object and buy nothing
    removed = {name: fp for name, fp in old_entries.items() if name not in new_entries}
    renamed = {old for name in new_entries for old in previous.get(name) or []}
    deleted = sorted(old for old in removed if old not in renamed)  # their delete runs in this update
    problems = []
    for name, fp in sorted(new_entries.items()):
        if name in old_entries:
            continue
        if name in adopting:
            if deleted:
                problems.append(adopt_takeover_problem(section, name, deleted))
            continue
        if is_unknown(fp):
            continue
        for old_name, old_fp in sorted(removed.items()):
            if old_fp == fp and old_name not in (previous.get(name) or []):
                problems.append(
                    f"certfleet:{section}.{name}: buys the same certificate (same names and plan) as "
                    f"'{old_name}', which this update removes, so it would be bought again. If you renamed "
                    f"the entry, add `previousNames: [{old_name}]` to it (the certificate keeps its identity "
                    f"and nothing is bought); if you really want a second purchase, remove '{old_name}' in one "
                    f"`pulumi up` and add '{name}' in the next")
    return problems


def _flatten(stamp: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A stamp and the earlier stamps it carries, newest first, each without its own history."""
    head = {k: v for k, v in stamp.items() if k != "earlier"}
    return [head, *(stamp.get("earlier") or [])]


def _recent(history: list[dict[str, Any]], now: float) -> list[dict[str, Any]]:
    return [h for h in history if float(h.get("at") or 0) >= now - HISTORY_SECONDS][:HISTORY_LENGTH]


def stamps(olds: Mapping[str, Any], news: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(stamps, tombstones). Each entry's stamp is kept while its purchase is the same (also across a declared
    rename); a new purchase gets a new stamp that carries the earlier ones (`earlier`): an interrupted run
    may have bought under any of them, and the create must not buy again while such an order is pending.
    A removed entry's stamp stays as a tombstone, so an entry added back under its name inherits it."""
    now = clock.epoch()
    old_stamps: dict[str, dict[str, Any]] = olds.get("stamps") or {}
    old_tombstones: dict[str, dict[str, Any]] = olds.get("tombstones") or {}
    previous: dict[str, list[str]] = news.get("previous") or {}
    entries: dict[str, str] = news.get("entries") or {}
    result = {}
    for name, fp in sorted(entries.items()):
        own = [old_stamps[n] for n in [name, *(previous.get(name) or [])] if n in old_stamps]
        same = [stamp for stamp in own if stamp.get("fingerprint") == fp]
        if same:
            result[name] = same[0]
            continue
        history = [h for stamp in own + ([old_tombstones[name]] if name in old_tombstones else [])
                   for h in _flatten(stamp)]
        history.sort(key=lambda h: -float(h.get("at") or 0))
        result[name] = {"fingerprint": fp, "run": RUN_ID, "at": now, "earlier": _recent(history, now)}
    renamed = {old for name in entries for old in previous.get(name) or []}
    tombstones = {name: stamp for name, stamp in {**old_tombstones, **old_stamps}.items()
                  if name not in entries and name not in renamed and _recent(_flatten(stamp), now)}
    return result, tombstones


def earlier_stamps(props: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The entry's earlier purchases' stamps (newest first): orders placed under them may be unrecorded."""
    stamp = props.get("journal")
    return list(stamp.get("earlier") or []) if isinstance(stamp, Mapping) else []


class PurchaseJournalProvider(CertfleetProvider):
    """The journal of one paid section. No cloud calls; see the module docstring."""

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        problems = rename_problems(news.get("section", "?"), olds, news) if olds else []
        return CheckResult(news, [CheckFailure("entries", p) for p in problems])

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        same = all(olds.get(k) == news.get(k) for k in ("section", "entries", "previous"))
        return DiffResult(changes=not same, replaces=[])

    def create(self, props: dict[str, Any]) -> CreateResult:
        current, tombstones = stamps({}, props)
        return CreateResult(f"journal-{props['section']}", {**props, "stamps": current, "tombstones": tombstones})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, props)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        current, tombstones = stamps(olds, news)
        return UpdateResult({**news, "stamps": current, "tombstones": tombstones})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        return None


class PurchaseJournal(CertfleetResource, module="certfleet", name="PurchaseJournal"):
    """Type token: pulumi-python:dynamic/certfleet:PurchaseJournal."""

    stamps: pulumi.Output[dict]

    def __init__(self, name: str, section: str, entries: Mapping[str, str], previous: Mapping[str, list[str]],
                 opts: pulumi.ResourceOptions | None = None, adopting: Iterable[str] = ()) -> None:
        """`adopting`: entries that adopt an existing object and buy nothing (never diffed: see rename_problems)."""
        super().__init__(PurchaseJournalProvider(), name,
                         {"section": section, "entries": dict(entries),
                          "previous": {k: list(v) for k, v in previous.items() if v}, "stamps": None,
                          "tombstones": None, "adopting": sorted(adopting)}, opts)

    def stamp_of(self, entry: str) -> pulumi.Output[dict]:
        """The paid resource's `journal` input ({fingerprint, run, at}); the dependency on it is what makes
        the engine save the journal before the resource's create runs."""
        return self.stamps.apply(lambda s: (s or {}).get(entry))
