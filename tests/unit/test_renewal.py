"""Renewal before expiry: the config rule, each named check, generation arithmetic, previous outputs."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from components import renewal
from components.config import load_fleet
from components.errors import ConfigError
from components.journal import fingerprint
from components.huaweicloud.scm_model import request_hash
from components.renewal import (KEEP, RENEW, Previous, RenewBefore, Situation, decide, keep_generation,
                                plan_section, previous_of, renewal_output)

NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)
ISSUED = NOW - timedelta(days=335)   # a 365-day certificate with 30 days left
EXPIRES = ISSUED + timedelta(days=365)


def situation(renew_before=RenewBefore(days=45), previous=Previous(0, "42", ISSUED, EXPIRES, "scheduled"), now=NOW):
    return Situation("alicloud.orders.docs", renew_before, previous, now)


def order(**extra):
    return {"productCode": "digicert-free-1-free", "domains": ["docs.example.cn"], **extra}


# --- config ---

def test_renew_before_takes_days_or_a_percentage_per_section_and_entry():
    fleet = load_fleet({"alicloud": {"renewBefore": "30%", "orders": {"a": order(renewBefore=10), "b": order(
        domains=["b.example.cn"])}}, "huaweicloud": {"renewBefore": 20, "certificates": {}},
        "aws": {"renewBefore": 30, "certificates": {"shop": {"domain": "shop.example.com", "renewBefore": "10%"}}}})
    by_name = {o.name: o.renew_before for o in fleet.alicloud.orders}
    assert by_name == {"a": RenewBefore(days=10), "b": RenewBefore(percent=30)}
    assert fleet.aws.renew_before == RenewBefore(days=30)
    assert fleet.aws.certificates[0].renew_before == RenewBefore(percent=10)


@pytest.mark.parametrize("value", [0, -3, "0%", "100%", "30", "30 days", True, 1.5])
def test_bad_renew_before_fails_naming_the_path_and_the_rule(value):
    with pytest.raises(ConfigError) as err:
        load_fleet({"alicloud": {"orders": {"docs": order(renewBefore=value)}}})
    assert "certfleet:alicloud.orders.docs.renewBefore: must be a whole number of days >= 1" in str(err.value)


def test_no_renew_before_means_none():
    fleet = load_fleet({"alicloud": {"orders": {"docs": order()}}})
    assert fleet.alicloud.orders[0].renew_before is None


# --- the checks, one by one ---

def test_not_declared_keeps():
    assert renewal.not_declared(situation(renew_before=None))[0] == KEEP
    assert renewal.not_declared(situation()) is None


def test_first_certificate_keeps():
    assert renewal.first_certificate(situation(previous=None))[0] == KEEP


def test_not_issued_yet_keeps():
    assert renewal.not_issued_yet(situation(previous=Previous(0, "42", None, None, "scheduled")))[0] == KEEP
    assert renewal.not_issued_yet(situation()) is None


def test_successor_pending_keeps():
    assert renewal.successor_pending(situation(previous=Previous(1, "43", None, EXPIRES, "renewing")))[0] == KEEP
    assert renewal.successor_pending(situation()) is None


def test_window_too_long_uses_a_third_of_the_lifetime():
    too_long = RenewBefore(days=400)
    assert renewal.window_too_long(situation(renew_before=too_long))[0] == RENEW  # 30 days left < 365/3
    early = situation(renew_before=too_long, now=ISSUED + timedelta(days=100))
    assert renewal.window_too_long(early)[0] == KEEP
    assert renewal.window_too_long(situation()) is None
    plan = decide(situation(renew_before=too_long))
    assert plan.warning and "a third of the lifetime" in plan.warning


def test_outside_window_keeps_and_within_window_renews():
    assert renewal.outside_window(situation(renew_before=RenewBefore(days=10)))[0] == KEEP
    assert renewal.outside_window(situation()) is None
    verdict = renewal.within_window(situation())
    assert verdict[0] == RENEW and "expires in 30 days (renewBefore 45)" in verdict[1]


def test_a_percentage_is_of_the_lifetime_and_needs_it():
    assert decide(situation(renew_before=RenewBefore(percent=10))).action == RENEW   # 36.5 days > 30 left
    assert decide(situation(renew_before=RenewBefore(percent=5))).action == KEEP     # 18 days
    unknown = Previous(0, "42", None, EXPIRES, "scheduled")
    assert decide(situation(renew_before=RenewBefore(percent=50), previous=unknown)).action == KEEP


# --- generation arithmetic ---

def test_renew_gives_the_next_generation_and_the_predecessor():
    plan = decide(situation(previous=Previous(2, "42", ISSUED, EXPIRES, "renewed")))
    assert (plan.generation, plan.action) == (3, RENEW)
    assert plan.renews == {"id": "42", "not_after": EXPIRES.isoformat()}
    assert plan.inputs() == {"renewal_generation": 3, "renews": plan.renews}
    assert "renews alicloud.orders.docs: expires in 30 days (renewBefore 45)" in plan.log_line(
        "alicloud.orders.docs", RenewBefore(days=45))


def test_keep_carries_the_generation_and_zero_is_absent():
    assert decide(situation(renew_before=RenewBefore(days=5),
                            previous=Previous(1, "43", ISSUED, EXPIRES, "renewed"))).generation == 1
    assert decide(situation(previous=None)).inputs() == {"renewal_generation": None, "renews": None}


def test_a_generation_never_goes_back_at_check():
    assert keep_generation({"renewal_generation": 2}, {"renewal_generation": None})["renewal_generation"] == 2
    assert keep_generation({"renewal_generation": 2}, {"renewal_generation": 3})["renewal_generation"] == 3
    assert keep_generation({}, {"renewal_generation": None})["renewal_generation"] is None


def test_the_generation_is_part_of_the_purchase_only_once_set():
    inputs = {"domains": ["a.example.cn"], "product_code": "p"}
    keys = ("domains", "product_code", "renewal_generation")
    assert fingerprint({**inputs, "renewal_generation": None}, keys) == fingerprint(inputs, keys[:2])
    assert fingerprint({**inputs, "renewal_generation": 1}, keys) != fingerprint(inputs, keys)
    assert request_hash({**inputs}) == request_hash({**inputs, "renewal_generation": None})
    assert request_hash({**inputs, "renewal_generation": 1.0}) == request_hash({**inputs, "renewal_generation": 1})
    assert request_hash({**inputs, "renewal_generation": 1}) != request_hash(inputs)


# --- previous outputs: missing, partial ---

def test_previous_outputs_missing_or_partial_never_renew():
    rb = {"docs": RenewBefore(days=45)}
    assert plan_section("alicloud.orders", rb, None, "order_id", NOW)["docs"].action == KEEP
    assert plan_section("alicloud.orders", rb, {"docs": {"order_id": "42"}}, "order_id", NOW)["docs"].action == KEEP
    assert plan_section("alicloud.orders", rb, {"docs": "garbage"}, "order_id", NOW)["docs"].generation == 0
    # Outputs from before renewal existed (no `renewal` object): generation 0, decided on not_after alone.
    plan = plan_section("alicloud.orders", rb, {"docs": {"order_id": "42", "not_after": EXPIRES.isoformat()}},
                        "order_id", NOW)["docs"]
    assert (plan.action, plan.generation) == (RENEW, 1)


def test_previous_of_reads_the_exported_renewal_object():
    exported = {"certificate_id": "scs1", "not_after": "2026-07-01 00:00:00",
                "renewal": {"generation": 1.0, "not_before": ISSUED.isoformat(), "state": "renewed"}}
    previous = previous_of(exported, "certificate_id")
    assert previous == Previous(1, "scs1", ISSUED, datetime(2026, 7, 1, tzinfo=timezone.utc), "renewed")


# --- the exported object ---

def test_renewal_output_states():
    expires = EXPIRES.isoformat()
    assert renewal_output(None, 0, True, expires, None, NOW)["state"] == "not-declared"
    assert renewal_output(RenewBefore(days=10), 0, True, expires, None, NOW)["state"] == "scheduled"
    due = renewal_output(RenewBefore(days=45), 0, True, expires, None, NOW)
    assert due["state"] == "due" and due["days_left"] == 30.0 and due["renewBefore"] == 45
    assert due["renew_at"] == (EXPIRES - timedelta(days=45)).isoformat()
    assert renewal_output(RenewBefore(days=45), 1, False, None, None, NOW)["state"] == "renewing"
    assert renewal_output(RenewBefore(days=10), 1, True, expires, None, NOW)["state"] == "renewed"


def test_pr_summary_names_a_renewal_with_the_days_left():
    from scripts.pr_summary_digest import Change
    from scripts.pr_summary_kinds import reasons
    expires = (renewal.clock.now() + timedelta(days=12, hours=1)).isoformat()
    change = Change("urn:x", "docs", "alicloud:CasOrder", "replace", "DELETE_BEFORE_REPLACE", {},
                    {"renewal_generation": 1}, {"not_after": expires}, ("renewal_generation",),
                    ("renewal_generation",))
    paths, words = reasons(change, change.replace_keys)
    assert paths == [] and words == ["renewal before expiry (renewBefore): generation 1 succeeds the current "
                                     "certificate, which expires in 12 days"]


class _Answer:
    def __init__(self, value):
        self.value = value


def _read_with(monkeypatch, answers):
    """read_previous_outputs with the engine's invoke replaced by `answers` (a value, or an exception to raise)."""
    import pulumi
    warnings, calls, slept = [], [], []
    monkeypatch.setattr(pulumi, "get_organization", lambda: "organization")
    monkeypatch.setattr(pulumi, "get_project", lambda: "certfleet")
    monkeypatch.setattr(pulumi, "get_stack", lambda: "prod")
    monkeypatch.setattr(pulumi.log, "warn", warnings.append)

    def invoke(token, args):
        calls.append((token, args))
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return _Answer(answer)
    previous = renewal.read_previous_outputs(["alicloud", "huaweicloud"], invoke=invoke, sleep=slept.append)
    return previous, warnings, calls, slept


def test_previous_outputs_are_read_with_the_builtin_invoke_on_the_own_stack(monkeypatch):
    outputs = {"outputs": {"alicloud": {"orders": {"cdn": {"order_id": "1"}}}}, "secretOutputNames": ["alicloud"]}
    previous, warnings, calls, slept = _read_with(monkeypatch, [outputs])
    assert calls == [(renewal.READ_STACK_OUTPUTS, {"name": "organization/certfleet/prod"})]
    assert set(previous.sections) == {"alicloud", "huaweicloud"} and not warnings and not slept


def test_a_failed_read_is_retried_then_stops_the_run_before_anything_is_bought(monkeypatch):
    # The file backend's checkpoint may be half-written while the engine saves it (first `up`): a read can fail.
    previous, warnings, calls, slept = _read_with(monkeypatch, [Exception("failed to load checkpoint: EOF"),
                                                                {"outputs": {}}])
    assert len(calls) == 2 and slept == [renewal.READ_RETRY_SECONDS] and not warnings
    # Going on without them would buy under generation 0's fingerprint while the state holds another one.
    failing = [Exception("failed to load checkpoint: EOF")] * renewal.READ_ATTEMPTS
    with pytest.raises(renewal.PreviousOutputsUnreadable, match="nothing is changed in this run.*EOF|EOF.*nothing"):
        _read_with(monkeypatch, failing)
