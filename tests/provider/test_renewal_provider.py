"""Renewal successors against the emulators (components/renewal.py): CAS through the plan's renewal call, SCM
through a new purchase with the generation in its request hash; the predecessor skipped and never touched."""

from __future__ import annotations

import time

import pytest

from components import dynamic
from components.alicloud import cas as cas_module
from components.alicloud import release as cas_release
from components.errors import CertfleetError, CloudError
from components.huaweicloud.scm import REQUEST_TAG, request_hash
from components.huaweicloud.scm_model import RENEWAL_TAG
from tests.provider.test_cas_provider import (clock, control, emulator, inputs, interrupted_run,  # noqa: F401
                                              provider, publish, shift_clocks, stamped)
from tests.provider import test_scm_provider as scm_tests
from tests.provider.test_scm_provider import provider as scm_provider  # noqa: F401 - fixture

DAY = 86400


@pytest.fixture(autouse=True)
def no_renewed_orders_left():
    """The emulator's order ids repeat across tests: a renewal noted by one test's diff must not make another
    test's delete say "replaced by its renewal"."""
    yield
    cas_release.RENEWED.clear()


def issued_order(provider, control):
    created = provider.create(inputs())
    publish(control, created.id)
    return created.id, provider.read(created.id, created.outs).outs


def renewal_of(order_id, outs, **extra):
    # Journalled as the program journals a renewal: the stamp's fingerprint includes the generation.
    return stamped({**inputs(), "renewal_generation": 1, "renews": {"id": order_id, "not_after": outs["not_after"]},
                    **extra})


def test_cas_successor_is_the_plans_renewal_and_the_predecessor_is_kept(provider, control, monkeypatch):
    old_id, old = issued_order(provider, control)
    shift_clocks(provider, control, 75 * DAY)  # digicert-free: 90 days, WILLEXPIRED in the last 30
    control.add_fault("CreateCertificateForPackageRequest", status=500, times=None)  # never a new Create
    news = renewal_of(old_id, old)
    assert provider.diff(old_id, old, news).replaces == ["renewal_generation"]
    dynamic.note_declared("alicloud:CasOrder", "blog")  # check ran: the delete is the old half of a replacement
    told = []
    monkeypatch.setattr(cas_release, "tell_user", told.append)
    provider.delete(old_id, {**old, "revoke_on_delete": True})  # delete before replace: forgets it only
    created = provider.create(news)
    state = {str(o["order_id"]): o for o in control.state()["orders"]}
    assert state[old_id]["state"] == "certificate"  # not revoked, not cancelled
    assert state[created.id]["renewed_from_order_id"] == int(old_id)
    assert created.outs["state"] == "payed" and "apply for it in the CAS console" in created.outs["status_message"]
    assert created.outs["renews"]["id"] == old_id
    assert any("replaced by its renewal" in m for m in told), told  # the delete said what it kept
    # payed is expected for a renewal: not dead, not replaced again.
    assert provider.diff(created.id, created.outs, news).changes is False


def test_cas_refuses_a_renewal_before_its_window_with_the_call_and_code(provider, control, monkeypatch):
    old_id, old = issued_order(provider, control)
    with pytest.raises(CloudError) as err:
        provider.create(renewal_of(old_id, old))
    assert "RenewCertificateOrderForPackageRequest" in str(err.value) and "WILLEXPIRED" in str(err.value)
    assert "certfleet:alicloud.orders.blog.renewBefore" in str(err.value) and "Lower renewBefore" not in str(err.value)
    assert len(control.state()["orders"]) == 1
    # At check (preview) the renewal waits instead: the generation stays, nothing is replaced.
    told = []
    monkeypatch.setattr(cas_module, "tell_user", told.append)
    checked = provider.check(old, renewal_of(old_id, old))
    assert checked.inputs.get("renewal_generation") is None and not checked.failures
    [waits] = told
    assert waits.startswith("certfleet:alicloud.orders.blog.renewBefore: the renewal of CAS order")
    assert "renewal_generation" not in waits and "WILLEXPIRED" in waits and "remove renewBefore" in waits
    assert "EXPIRED, or no longer lists, cannot be renewed" in waits
    # A create under the renewal's stamp after that deferral buys nothing, and does not blame --target.
    deferred = {**renewal_of(old_id, old), "renewal_generation": None, "renews": None}
    with pytest.raises(CertfleetError) as refused:
        provider.create(deferred)
    assert "deferred at preview" in str(refused.value) and "--target" not in str(refused.value)
    assert len(control.state()["orders"]) == 1


def test_cas_interrupted_renewal_adopts_its_payed_order_and_skips_the_predecessor(provider, control):
    old_id, old = issued_order(provider, control)
    shift_clocks(provider, control, 75 * DAY)
    first = provider.create(renewal_of(old_id, old, journal=interrupted_run()))
    # The next run (its state lost): the same renewal finds the payed order, never the predecessor, buys nothing.
    again = provider.create(renewal_of(old_id, old, journal=interrupted_run(), listing_lag_seconds=0))
    assert again.id == first.id and again.outs["adopted"] is True
    assert len(control.state()["orders"]) == 2


def test_scm_successor_is_a_new_purchase_with_the_generation_in_its_hash(scm_provider, scm_control):
    provider = scm_provider
    old = provider.create(scm_tests.inputs())
    scm_control.call("POST", f"scm/certificates/{old.id}/publish")
    old_outs = provider.read(old.id, old.outs).outs
    news = scm_tests.stamped({**scm_tests.inputs(), "renewal_generation": 1.0,
                              "renews": {"id": old.id, "not_after": "x"}})
    assert provider.diff(old.id, old_outs, news).replaces == ["renewal_generation"]
    assert request_hash(news) != request_hash(old_outs)
    created = provider.create(news)
    assert created.id != old.id
    by_id = {c["id"]: c for c in scm_tests.emulated(scm_control)["certificates"]}
    assert by_id[created.id]["tags"][REQUEST_TAG] == request_hash(news)
    assert by_id[created.id]["tags"][RENEWAL_TAG] == "1"
    assert by_id[old.id]["status"] == "ISSUED"
    # An interrupted run's rerun adopts the successor, never the predecessor (skipped by id first).
    rerun = provider.create({**news, "journal": {**news["journal"], "run": "an-interrupted-run"},
                             "listing_lag_seconds": 0})
    assert rerun.id == created.id and len(by_id) == 2


def test_cas_renewal_under_the_previous_runs_stamp_buys_nothing(provider, control):
    """`pulumi up --target <CasOrder>` in the window: the journal, left out, keeps the gen-0 stamp. Bought under
    it, the successor would be taken for someone else's by the next run's fresh gen-1 stamp (after a crash:
    a second successor). The create refuses, says why, and buys nothing."""
    old_id, old = issued_order(provider, control)
    shift_clocks(provider, control, 75 * DAY)
    gen0_stamp = inputs(journal=interrupted_run(at=time.time() - 40 * DAY))["journal"]  # gen 0's, long ago
    news = {**renewal_of(old_id, old), "journal": gen0_stamp}
    with pytest.raises(CertfleetError) as refused:
        provider.create(news)
    assert "of another purchase" in str(refused.value) and "--target" in str(refused.value)
    assert len(control.state()["orders"]) == 1  # no Renew*, no Create*


def test_cas_renewal_whose_predecessor_left_the_state_never_becomes_a_new_purchase(provider, control):
    """Run 1: the order list fails at check (fail closed: the renewal waits, the generation stays). Had it gone
    ahead, the predecessor would leave the state (delete before replace) and CAS refuse the renewal; then run
    2, without olds, must fail at check naming the entry instead of turning the renewal into a Create*."""
    old_id, old = issued_order(provider, control)
    news = {**renewal_of(old_id, old), "listing_lag_seconds": 0}
    control.add_fault("ListUserCertificateOrder", status=503, times=20)
    checked = provider.check(old, news)
    control.clear_faults()
    assert checked.inputs.get("renewal_generation") is None and not checked.failures  # waits: nothing replaced
    # The predecessor already left the state; CAS does not list it as WILLEXPIRED yet.
    again = provider.check({}, news)
    [failure] = again.failures
    assert failure.property == ""  # the user never sets renewal_generation: the reason names renewBefore
    assert failure.reason.startswith("certfleet:alicloud.orders.blog.renewBefore: ")
    assert f"adopt: \"{old_id}\"" in failure.reason and "renewal_generation" not in failure.reason
    assert "WILLEXPIRED" in failure.reason and "remove renewBefore" in failure.reason
    assert again.inputs["renewal_generation"] == 1 and again.inputs["renews"]["id"] == old_id  # never degraded
    # And with the order list unreadable at that point, the same (fail closed).
    control.add_fault("ListUserCertificateOrder", status=503, times=20)
    assert provider.check({}, news).failures
    control.clear_faults()
    assert len(control.state()["orders"]) == 1


def test_outputs_hold_the_renewal_of_the_state_never_null(provider, control, scm_provider, scm_control):
    """`renewal_held` (components/renewal.py HELD_KEY): what the stack exports as the entry's renewal. Never
    null, so the SDK never shows the program's input (the plan) for an untargeted or deferred resource."""
    old_id, old = issued_order(provider, control)
    assert old["renewal_held"] == {"generation": 0, "renews": None}
    shift_clocks(provider, control, 75 * DAY)
    created = provider.create(renewal_of(old_id, old))
    assert created.outs["renewal_held"] == {"generation": 1, "renews": {"id": old_id, "not_after": old["not_after"]}}
    cert = scm_provider.create(scm_tests.inputs())
    assert cert.outs["renewal_held"] == {"generation": 0, "renews": None}


def test_scm_v2_successor_is_tagged_with_its_renewal_generation(scm_provider, scm_control):
    from tests.provider.test_scm_v2 import v2_inputs
    old = scm_provider.create(v2_inputs())
    news = scm_tests.stamped({**v2_inputs(), "renewal_generation": 1.0, "renews": {"id": old.id, "not_after": "x"}})
    created = scm_provider.create(news)
    by_id = {c["id"]: c for c in scm_tests.emulated(scm_control)["certificates"]}
    assert created.id != old.id and by_id[created.id]["tags"][RENEWAL_TAG] == "1"
    assert RENEWAL_TAG not in by_id[old.id]["tags"]
