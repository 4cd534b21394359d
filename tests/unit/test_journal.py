"""The purchase journal (components/journal.py) and the run-wide facts of components/dynamic.py."""

from __future__ import annotations

import threading
import time

from components import dynamic, journal
from components.journal import PurchaseJournalProvider


def _props(entries, previous=None, stamps=None, adopting=()):
    return {"section": "huaweicloud.certificates", "entries": entries, "previous": previous or {},
            "stamps": stamps, "adopting": sorted(adopting)}


# --- stamps: which run journalled a purchase ----------------------------------------------------------------

def test_create_stamps_every_entry_with_this_run():
    created = PurchaseJournalProvider().create(_props({"portal": "fp1", "api": "fp2"}))
    assert created.id == "journal-huaweicloud.certificates"
    assert {name: stamp["run"] for name, stamp in created.outs["stamps"].items()} == \
        {"portal": dynamic.RUN_ID, "api": dynamic.RUN_ID}


def test_update_keeps_the_stamp_of_an_unchanged_purchase_and_stamps_new_ones():
    earlier = {"portal": {"fingerprint": "fp1", "run": "an-earlier-run", "at": 1.0}}
    updated = PurchaseJournalProvider().update("j", _props({"portal": "fp1"}, stamps=earlier),
                                               _props({"portal": "fp1", "api": "fp2"}))
    assert updated.outs["stamps"]["portal"]["run"] == "an-earlier-run"   # still "follows an interrupted run"
    assert updated.outs["stamps"]["api"]["run"] == dynamic.RUN_ID


def test_a_changed_purchase_gets_a_new_stamp():
    earlier = {"portal": {"fingerprint": "fp1", "run": "an-earlier-run", "at": 1.0}}
    updated = PurchaseJournalProvider().update("j", _props({"portal": "fp1"}, stamps=earlier),
                                               _props({"portal": "fp-other-names"}))
    assert updated.outs["stamps"]["portal"]["run"] == dynamic.RUN_ID


def test_a_declared_rename_carries_the_stamp_over():
    earlier = {"portal": {"fingerprint": "fp1", "run": "an-earlier-run", "at": 1.0}}
    updated = PurchaseJournalProvider().update("j", _props({"portal": "fp1"}, stamps=earlier),
                                               _props({"portal-eu": "fp1"}, previous={"portal-eu": ["portal"]}))
    assert updated.outs["stamps"]["portal-eu"]["run"] == "an-earlier-run"


def test_follows_interrupted_run():
    assert not journal.follows_interrupted_run({"journal": {"run": dynamic.RUN_ID, "at": 5.0}})
    assert journal.follows_interrupted_run({"journal": {"run": "an-earlier-run", "at": 5.0}})
    assert journal.follows_interrupted_run({})  # no journal: the safe side is to look for a while
    assert journal.journalled_at({"journal": {"run": "x", "at": 5.0}}) == 5.0
    assert journal.journalled_at({}) is None


def test_journal_diff_never_replaces_and_ignores_its_own_stamps():
    provider = PurchaseJournalProvider()
    olds = {**_props({"portal": "fp1"}), "stamps": {"portal": {"run": "r"}}}
    assert provider.diff("j", olds, _props({"portal": "fp1"})).changes is False
    changed = provider.diff("j", olds, _props({"portal": "fp1", "api": "fp2"}))
    assert changed.changes is True and not changed.replaces


# --- renames at preview ----------------------------------------------------------------------------------------

def test_rename_without_previous_names_fails_check_naming_both_entries_and_the_fix():
    olds = _props({"portal": "fp1", "api": "fp2"})
    failures = PurchaseJournalProvider().check(olds, _props({"portal-eu": "fp1", "api": "fp2"})).failures
    assert len(failures) == 1
    reason = failures[0].reason
    assert reason.startswith("certfleet:huaweicloud.certificates.portal-eu: buys the same certificate")
    assert "'portal'" in reason and "previousNames: [portal]" in reason


def test_rename_with_previous_names_passes_check():
    olds = _props({"portal": "fp1"})
    news = _props({"portal-eu": "fp1"}, previous={"portal-eu": ["portal"]})
    assert PurchaseJournalProvider().check(olds, news).failures == []


def test_new_entry_with_other_names_and_first_create_pass_check():
    provider = PurchaseJournalProvider()
    assert provider.check(_props({"portal": "fp1"}), _props({"portal": "fp1", "blog": "fp9"})).failures == []
    assert provider.check({}, _props({"portal": "fp1"})).failures == []
    # Removing one entry and adding another that buys something else is no rename.
    assert provider.check(_props({"portal": "fp1"}), _props({"blog": "fp9"})).failures == []


def test_adopting_entry_added_while_an_entry_is_removed_fails_check_naming_both_and_the_fix():
    """`site` may adopt the very object `blog` holds (`adopt: <blog's id>`): blog's delete would then revoke
    or cancel it under `site`. The journal holds no ids, and an adopt's fingerprint need not equal (domain
    order, key algorithm...), so any removal in the same update refuses."""
    olds = _props({"blog": "fp1", "api": "fp2"})
    for site_fp in ("fp1", "fp-other"):
        news = _props({"site": site_fp, "api": "fp2"}, adopting=["site"])
        [failure] = PurchaseJournalProvider().check(olds, news).failures
        reason = failure.reason
        assert reason.startswith("certfleet:huaweicloud.certificates.site: adopts an existing object by id")
        assert "'blog'" in reason and "previousNames: [blog]" in reason
        assert "remove 'blog' in one `pulumi up` and add 'site' in the next" in reason
    # Unknown at preview (the fingerprint of a computed input): still refused.
    Unknown = type("Unknown", (), {})
    news = _props({"site": Unknown()}, adopting=["site"])
    assert len(PurchaseJournalProvider().check(_props({"blog": "fp1"}), news).failures) == 1


def test_adopting_entry_passes_check_when_renamed_or_nothing_is_removed():
    provider = PurchaseJournalProvider()
    olds = _props({"blog": "fp1", "api": "fp2"})
    # A declared rename: blog's resource becomes site's, nothing is deleted.
    renamed = _props({"site": "fp1", "api": "fp2"}, previous={"site": ["blog"]}, adopting=["site"])
    assert provider.check(olds, renamed).failures == []
    # blog renamed by another entry: not deleted either.
    moved = _props({"blog-eu": "fp1", "site": "fp1", "api": "fp2"}, previous={"blog-eu": ["blog"]},
                   adopting=["site"])
    assert provider.check(olds, moved).failures == []
    # Nothing removed in this update (blog gone in an earlier one: the two-update path).
    assert provider.check(_props({"api": "fp2"}), _props({"site": "fp1", "api": "fp2"}, adopting=["site"])
                          ).failures == []
    # An adopting entry already in the state creates nothing.
    assert provider.check(_props({"site": "fp1", "blog": "fp1"}),
                          _props({"site": "fp1"}, adopting=["site"])).failures == []
    # First create.
    assert provider.check({}, _props({"site": "fp1"}, adopting=["site"])).failures == []


def test_non_adopting_rename_refusal_is_unchanged_next_to_an_adopting_entry():
    olds = _props({"blog": "fp1", "portal": "fp3"})
    news = _props({"blog": "fp1", "portal-eu": "fp3"})
    [failure] = PurchaseJournalProvider().check(olds, news).failures
    assert "buys the same certificate" in failure.reason and "previousNames: [portal]" in failure.reason


# --- replacement vs destroy ---------------------------------------------------------------------------------------

def test_declared_in_this_run_only_after_check_noted_it():
    assert not dynamic.declared_in_this_run("test:Kind", "never-checked")
    dynamic.note_declared("test:Kind", "checked")
    assert dynamic.declared_in_this_run("test:Kind", "checked")
    assert not dynamic.declared_in_this_run("other:Kind", "checked")


# --- the run's shared wait window ---------------------------------------------------------------------------------

class FakeClock(dynamic.Clock):
    t = 0.0
    lock = threading.Lock()

    @staticmethod
    def now() -> float:
        return FakeClock.t

    @staticmethod
    def sleep(seconds: float) -> None:
        with FakeClock.lock:
            FakeClock.t += seconds


def test_wait_window_bounds_the_total_wait_of_many_sequential_waits(monkeypatch):
    """300 waits of an hour each, served a few at a time, end within about one hour in all."""
    monkeypatch.setattr(dynamic, "RUN_WAITS", dynamic.WaitWindow())
    FakeClock.t = 0.0
    probes = 0

    def never() -> None:
        nonlocal probes
        probes += 1
        return None

    for _ in range(300):
        try:
            dynamic.wait_for("issued", never, 3600, 30, FakeClock, shared=dynamic.ISSUANCE)
        except dynamic.WaitTimeout:
            pass
    assert FakeClock.t <= 3600 + 30
    assert probes <= 3600 / 30 + 1 + 300  # one window of polls, then one look each


def test_unshared_wait_runs_its_full_length_even_after_the_window_closed(monkeypatch):
    monkeypatch.setattr(dynamic, "RUN_WAITS", dynamic.WaitWindow())
    FakeClock.t = 0.0
    for shared in (dynamic.ISSUANCE, None):
        start = FakeClock.t
        try:
            dynamic.wait_for("x", lambda: None, 100, 10, FakeClock, shared=shared)
        except dynamic.WaitTimeout:
            pass
    assert FakeClock.t - start >= 100 - 1e-6  # the look-before-buy kind was not cut short


# --- earlier stamps: purchases an interrupted run may have placed under other settings -------------------------

def test_a_changed_purchase_carries_the_earlier_stamps():
    earlier = {"portal": {"fingerprint": "fp1", "run": "run-1", "at": time.time() - 60}}
    updated = PurchaseJournalProvider().update("j", _props({"portal": "fp1"}, stamps=earlier),
                                               _props({"portal": "fp2"})).outs["stamps"]["portal"]
    assert updated["fingerprint"] == "fp2" and updated["run"] == dynamic.RUN_ID
    assert [h["fingerprint"] for h in updated["earlier"]] == ["fp1"]
    assert journal.earlier_stamps({"journal": updated})[0]["run"] == "run-1"
    again = PurchaseJournalProvider().update("j", {"stamps": {"portal": updated}}, _props({"portal": "fp3"}))
    assert [h["fingerprint"] for h in again.outs["stamps"]["portal"]["earlier"]] == ["fp2", "fp1"]


def test_an_entry_removed_and_added_back_inherits_its_tombstone():
    provider = PurchaseJournalProvider()
    earlier = {"portal": {"fingerprint": "fp1", "run": "run-1", "at": time.time() - 60}}
    removed = provider.update("j", _props({"portal": "fp1"}, stamps=earlier), _props({}))
    assert removed.outs["stamps"] == {} and removed.outs["tombstones"]["portal"]["run"] == "run-1"
    back = provider.update("j", removed.outs, _props({"portal": "fp1"})).outs
    assert back["stamps"]["portal"]["run"] == dynamic.RUN_ID
    assert [h["run"] for h in back["stamps"]["portal"]["earlier"]] == ["run-1"]
    assert back["tombstones"] == {}


def test_stamps_older_than_the_history_are_forgotten():
    old = {"portal": {"fingerprint": "fp1", "run": "run-1", "at": time.time() - journal.HISTORY_SECONDS - 1}}
    updated = PurchaseJournalProvider().update("j", _props({"portal": "fp1"}, stamps=old),
                                               _props({"portal": "fp2", "api": "fp9"})).outs
    assert updated["stamps"]["portal"]["earlier"] == []
    gone = PurchaseJournalProvider().update("j", {"stamps": old}, _props({})).outs
    assert gone["tombstones"] == {}


def test_a_declared_rename_leaves_no_tombstone():
    earlier = {"portal": {"fingerprint": "fp1", "run": "run-1", "at": time.time()}}
    outs = PurchaseJournalProvider().update("j", _props({"portal": "fp1"}, stamps=earlier),
                                            _props({"portal-eu": "fp1"}, previous={"portal-eu": ["portal"]})).outs
    assert outs["tombstones"] == {} and outs["stamps"]["portal-eu"]["run"] == "run-1"


def test_each_kind_of_wait_has_its_own_window(monkeypatch):
    """A long validation-records timeout must not stretch the issuance waits' window (the 300-certificate
    benchmark waited 300 s for records that had arrived at once, because one window served both)."""
    monkeypatch.setattr(dynamic, "RUN_WAITS", dynamic.WaitWindow())
    FakeClock.t = 0.0
    dynamic.wait_for("records", lambda: "there", 300, 2, FakeClock, shared=dynamic.RECORDS)  # at once
    for _ in range(10):
        try:
            dynamic.wait_for("issued", lambda: None, 60, 2, FakeClock, shared=dynamic.ISSUANCE)
        except dynamic.WaitTimeout:
            pass
    assert FakeClock.t <= 60 + 2
