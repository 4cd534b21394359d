"""SCM as documented (issue 13, item 5): the PAID sweep that pairs the lagging tag index, refunds only where SCM
refunds, withdrawal only where SCM withdraws, and a first status poll that tolerates an unknown pre-PAID status.

The named checks of components/huaweicloud/scm_sweep.py are tested one by one on plain values; everything else
runs the provider's methods against the SCM emulator through the official SDK (tests/provider/
test_scm_provider.py's fixtures), with the emulator's lag settings: `tag_index_lag_reads` (the tag listing) and
`purchase_tags_lag_reads` (a certificate's own tags).
"""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from huaweicloudsdkscm.v3 import model as scm_model

from components import dynamic
from components.dynamic import ADOPT, REFUSE, SKIP
from components.errors import CertfleetError, CloudError
from components.huaweicloud import scm_sweep
from components.huaweicloud.scm import REQUEST_TAG, RESOURCE_TAG, request_hash
from components.huaweicloud.scm_candidates import Purchase
from components.huaweicloud.scm_model import order_time, refund_problem, undo_advice
from components.huaweicloud.scm_sweep import (CLOCK_SLACK_SECONDS, UNCLAIMED, Sweep, Swept, another_primary_name,
                                              another_product, bought_before_the_look,
                                              bought_by_this_run_for_another_entry, past_any_purchase,
                                              replaced_by_this_run, sweep_since, tagged_for_another_resource,
                                              tagged_for_this_resource, unclaimed)
from tests.emulators.conftest_scm import make_scm_client
from tests.provider.test_scm_provider import (FakeClock, count_calls, emulated, faults_left, inputs,  # noqa: F401
                                             provider)

NOW = time.time()
OLD_ORDER = "CS2001010000ABCDE"  # placed 2020-01-01 00:00 (UTC reading)
RECENT_ORDER = "CS" + time.strftime("%y%m%d%H%M", time.gmtime(NOW)) + "ABCDE"


@pytest.fixture(autouse=True)
def fresh_run():
    for run_set in (dynamic.DECLARED, dynamic.REPLACED, scm_sweep.BOUGHT_IN_THIS_RUN):
        run_set.clear()
    yield
    for run_set in (dynamic.DECLARED, dynamic.REPLACED, scm_sweep.BOUGHT_IN_THIS_RUN):
        run_set.clear()


@pytest.fixture
def told(monkeypatch):
    """What the provider tells the user (tell_user: a warning in the CLI's output)."""
    messages: list[str] = []
    for module in ("scm", "scm_destroy"):
        monkeypatch.setattr(f"components.huaweicloud.{module}.tell_user", messages.append)
    return messages


# --- the named checks, one by one --------------------------------------------------------------------------

def swept(status="PAID", domain="", brand="GEOTRUST", type_="DV_SSL_CERT", domain_type="SINGLE_DOMAIN",
          tags=None, order_id="CS2611300000ABCDE", cert_id="scs1000000000001"):
    listed = SimpleNamespace(id=cert_id, status=status, domain=domain, sans="", brand=brand, type=type_,
                             domain_type=domain_type)
    return Swept(listed, lambda _: dict(tags or {}), lambda _: order_id)


def sweep(since=NOW, replaced=(), bought=(), **entry):
    props = inputs(**entry)
    return Sweep(Purchase(props, request_hash(props), frozenset(replaced)), since, frozenset(bought))


def test_another_product_is_skipped():
    assert another_product(sweep(), swept(brand="GLOBALSIGN"))[0] == SKIP
    assert another_product(sweep(), swept(domain_type="WILDCARD"))[0] == SKIP
    assert another_product(sweep(), swept()) is None


def test_another_primary_name_is_skipped_when_scm_shows_one():
    assert another_primary_name(sweep(), swept(status="CHECKING", domain="www.example.com"))[0] == SKIP
    assert another_primary_name(sweep(), swept(status="CHECKING", domain="API.example.com")) is None
    assert another_primary_name(sweep(), swept(status="PAID", domain="")) is None  # at PAID SCM shows no name


@pytest.mark.parametrize("status", ["PAYING", "", "WAIT_PAY", "CHECKING_ORG", "ISSUING", "UNPASSED"])
def test_a_certificate_showing_no_name_is_no_reason_to_skip_whatever_its_status(status):
    # An order still in its undocumented pre-PAID status shows no name either: it may be this purchase.
    assert another_primary_name(sweep(), swept(status=status, domain="")) is None


@pytest.mark.parametrize("status, skipped", [
    ("EXPIRED", True), ("REVOKED", True), ("REVOKING", True), ("UPLOAD", True), ("PAID", False),
    ("PAYING", False), ("", False), ("CHECKING_ORG", False), ("ISSUING", False), ("UNPASSED", False),
    ("ISSUED", False)])
def test_a_certificate_past_any_purchase_is_skipped(status, skipped):
    verdict = past_any_purchase(sweep(), swept(status=status))
    assert (verdict is not None and verdict[0] == SKIP) == skipped


def test_the_certificate_this_runs_replacement_replaces_is_skipped():
    assert replaced_by_this_run(sweep(replaced={"scs1000000000001"}), swept())[0] == SKIP
    assert replaced_by_this_run(sweep(), swept()) is None


def test_a_certificate_this_run_bought_for_another_entry_is_skipped():
    assert bought_by_this_run_for_another_entry(
        sweep(bought={("certfleet/test/web", "scs1000000000001")}), swept())[0] == SKIP
    # Bought for this very entry (a lost answer in this run): not claimed by anyone else.
    assert bought_by_this_run_for_another_entry(
        sweep(bought={("certfleet/test/api", "scs1000000000001")}), swept()) is None


def test_a_certificate_tagged_for_another_resource_is_skipped():
    assert tagged_for_another_resource(sweep(), swept(tags={RESOURCE_TAG: "other/stack/web"}))[0] == SKIP
    assert tagged_for_another_resource(sweep(), swept(tags={RESOURCE_TAG: "certfleet/test/api"})) is None
    renamed = sweep(name="edge", previousNames=["api"])
    assert tagged_for_another_resource(renamed, swept(tags={RESOURCE_TAG: "certfleet/test/api"})) is None


def test_a_certificate_tagged_for_this_resource_is_judged_like_a_tagged_candidate():
    s = sweep()
    mine = {RESOURCE_TAG: "certfleet/test/api", REQUEST_TAG: s.purchase.request}
    assert tagged_for_this_resource(s, swept(tags=mine))[0] == ADOPT
    earlier = {RESOURCE_TAG: "certfleet/test/api", REQUEST_TAG: "an-earlier-request"}
    verdict, why = tagged_for_this_resource(s, swept(tags=earlier))
    assert verdict == REFUSE and "scs1000000000001" in why and "will not buy a second one" in why
    assert tagged_for_this_resource(s, swept(tags={"team": "edge"})) is None


def test_a_certificate_ordered_before_the_journal_stamp_is_skipped():
    placed = order_time("CS2611301200ABCDE")
    assert bought_before_the_look(sweep(since=placed + CLOCK_SLACK_SECONDS + 60),
                                  swept(order_id="CS2611301200ABCDE"))[0] == SKIP
    assert bought_before_the_look(sweep(since=placed + 60), swept(order_id="CS2611301200ABCDE")) is None
    assert bought_before_the_look(sweep(since=NOW), swept(order_id="not-an-order-id")) is None  # unknown: may be


def test_an_unclaimed_certificate_stops_the_purchase_and_says_what_to_do():
    verdict, why = unclaimed(sweep(), swept(order_id=RECENT_ORDER))
    assert verdict == UNCLAIMED
    for part in ("certificate 'api'", "scs1000000000001", RECENT_ORDER, "PAID", "will not buy a second one",
                 "wait for SCM to show its tags", "adopt: scs1000000000001", "unsubscribe it", "7 days"):
        assert part in why
    _, too_old = unclaimed(sweep(), swept(order_id=OLD_ORDER))
    assert "can no longer be refunded" in too_old and "more than 7 days ago" in too_old


def test_the_unclaimed_refusal_warns_it_may_be_another_stacks_purchase():
    _, why = unclaimed(sweep(), swept(order_id=RECENT_ORDER))
    assert "another stack" in why and "console" in why and "check its tags" in why
    assert why.index("check its tags") < why.index("adopt: scs1000000000001")  # said before the advice


def test_an_order_still_being_processed_is_refunded_once_paid():
    _, why = unclaimed(sweep(), swept(status="PAYING", order_id=RECENT_ORDER))
    assert "PAYING" in why and "once it is PAID" in why and "can no longer be refunded" not in why


def test_order_time_reads_the_order_id():
    assert time.gmtime(order_time("CS1803192259ROA8U"))[:5] == (2018, 3, 19, 22, 59)
    assert order_time("") is None and order_time(None) is None and order_time("CS99999") is None


@pytest.mark.parametrize("status, order_id, refundable", [
    ("PAID", None, True), ("REVOKED", None, True), ("PAID", OLD_ORDER, False), ("UNPASSED", None, False),
    ("CHECKING", None, False), ("ISSUED", None, False)])
def test_refund_problem_follows_the_documented_rule(status, order_id, refundable):
    assert (refund_problem(status, order_id) is None) == refundable


@pytest.mark.parametrize("status, order_id, expected", [
    ("PAID", None, "unsubscribe it"), ("CHECKING", None, "withdraw its application"),
    ("PAYING", None, "once it is PAID"), ("", None, "once it is PAID"),
    ("UNPASSED", None, "can no longer be refunded"), ("PAID", OLD_ORDER, "can no longer be refunded"),
    ("CHECKING", OLD_ORDER, "can no longer be refunded")])
def test_undo_advice_names_a_refund_only_where_scm_gives_one(status, order_id, expected):
    assert expected in undo_advice(status, order_id)


def test_sweep_since_is_the_oldest_stamp_that_may_hide_an_order():
    props = inputs(journal_run="an-earlier-run")
    assert sweep_since(props) == props["journal"]["at"]
    earlier = {"fingerprint": "e" * 32, "run": "r0", "at": NOW - 600}
    assert sweep_since({**props, "journal": {**props["journal"], "earlier": [earlier]}}) == NOW - 600


# --- the sweep against the emulator: a killed create never buys twice, whatever the tag index shows -------------

def bought_by_an_interrupted_run(provider, props):
    client, resource = provider._client(props)
    return provider._buy(client, props, "generation-of-the-earlier-run", resource)


def new_run():
    for run_set in (dynamic.DECLARED, dynamic.REPLACED, scm_sweep.BOUGHT_IN_THIS_RUN):
        run_set.clear()


def buy_out_of_band(scm_emulator, tags=None, order_id=None, brand="GEOTRUST"):
    client = make_scm_client(scm_emulator.url)
    body = scm_model.PurchaseCertificateRequestBody(
        cert_brand=brand, cert_type="DV_SSL_CERT", domain_type="SINGLE_DOMAIN", effective_time=1,
        domain_numbers=1, order_number=1, agree_privacy_protection=True, is_auto_pay=True, order_id=order_id,
        tags=[scm_model.ScsResourceTag(key=k, value=v) for k, v in (tags or {}).items()] or None)
    return client.subscribe_certificate(scm_model.SubscribeCertificateRequest(body=body)).cert[0].cert_id


AFTER_A_CRASH = {"journal_run": "an-earlier-run", "huawei_extra": {"listingLagSeconds": 30}}


def test_killed_create_is_adopted_once_its_own_tags_show(provider, scm_control):
    """The tag index never shows the purchase and its own tags show only after a few reads: the look keeps
    sweeping and adopts it when they do; never a second purchase."""
    scm_control.call("POST", "scm/settings", {"tag_index_lag_reads": 10_000, "purchase_tags_lag_reads": 4})
    earlier = bought_by_an_interrupted_run(provider, inputs())
    new_run()
    started = FakeClock.t
    created = provider.create(inputs(**AFTER_A_CRASH))
    [cert] = emulated(scm_control)["certificates"]
    assert created.id == earlier == cert["id"] and created.outs["status"] == "CHECKING"
    assert FakeClock.t - started > 0  # it had to look more than once


def test_killed_create_whose_tags_never_show_is_refused_not_bought_again(provider, scm_control):
    scm_control.call("POST", "scm/settings", {"tag_index_lag_reads": 10_000, "purchase_tags_lag_reads": 10_000})
    earlier = bought_by_an_interrupted_run(provider, inputs())
    new_run()
    started = FakeClock.t
    with pytest.raises(CertfleetError) as raised:
        provider.create(inputs(**AFTER_A_CRASH))
    text = str(raised.value)
    assert earlier in text and "no certfleet tag on it is visible" in text and f"adopt: {earlier}" in text
    assert "unsubscribe it" in text and "wait for SCM to show its tags" in text
    assert FakeClock.t - started >= 30 - 1e-6  # it looked for the whole listing lag before refusing
    assert [c["id"] for c in emulated(scm_control)["certificates"]] == [earlier]


def test_a_look_reads_each_order_id_once_and_the_tags_every_poll(provider, scm_control):
    """A certificate's order id never changes: one ShowCertificate per look, not one per 2 s poll. Its tags may
    appear, so they are read at every poll."""
    scm_control.call("POST", "scm/settings", {"tag_index_lag_reads": 10_000, "purchase_tags_lag_reads": 10_000})
    earlier = bought_by_an_interrupted_run(provider, inputs())
    new_run()
    shows, tag_reads = count_calls(scm_control, "ShowCertificate"), count_calls(scm_control, "ListTagsByCertificate")
    with pytest.raises(CertfleetError, match=earlier):
        provider.create(inputs(**AFTER_A_CRASH))  # looks for the whole listing lag (30 s), then refuses
    assert shows() == 1 and tag_reads() >= 15


def test_refused_then_adopted_once_the_tags_show(provider, scm_control):
    """After the refusal the user waits and runs `pulumi up` again: by then SCM shows the tags, and the
    certificate is taken for the entry. (Each 30 s look reads the certificate's tags 16 times.)"""
    scm_control.call("POST", "scm/settings", {"tag_index_lag_reads": 10_000, "purchase_tags_lag_reads": 20})
    earlier = bought_by_an_interrupted_run(provider, inputs())
    new_run()
    with pytest.raises(CertfleetError, match=earlier):
        provider.create(inputs(**AFTER_A_CRASH))
    created = provider.create(inputs(**AFTER_A_CRASH))
    assert created.id == earlier and len(emulated(scm_control)["certificates"]) == 1


@pytest.mark.parametrize("tags_lag", [0, 10_000], ids=["own-tags-visible", "no-tags-visible"])
def test_lost_buy_answer_with_a_lagging_index_never_buys_twice(provider, scm_control, tags_lag):
    scm_control.call("POST", "scm/settings", {"tag_index_lag_reads": 10_000, "purchase_tags_lag_reads": tags_lag})
    scm_control.add_fault("SubscribeCertificate", drop_response=True, times=1)
    if tags_lag:
        with pytest.raises(CertfleetError) as raised:
            provider.create(inputs())
        [cert] = emulated(scm_control)["certificates"]
        assert cert["id"] in str(raised.value) and f"adopt: {cert['id']}" in str(raised.value)
    else:
        created = provider.create(inputs())
        [cert] = emulated(scm_control)["certificates"]
        assert created.id == cert["id"] and created.outs["status"] == "CHECKING"


def processing_forever(scm_control, tags_lag):
    """New orders stay in an undocumented pre-PAID status; the tag index never shows them."""
    scm_control.call("POST", "scm/settings", {"tag_index_lag_reads": 10_000, "purchase_tags_lag_reads": tags_lag,
                                              "order_processing_reads": 10_000,
                                              "order_processing_status": "PAYING"})


@pytest.mark.parametrize("tags_lag", [0, 10_000], ids=["own-tags-visible", "no-tags-visible"])
def test_lost_buy_answer_while_the_order_is_still_processing_never_buys_twice(provider, scm_control, tags_lag):
    """The reviewer's probe s1: the lost order is still PAYING (no name, not in the tag index) when the look
    after the lost answer and the next run's create sweep: both see it, neither buys again."""
    processing_forever(scm_control, tags_lag)
    scm_control.add_fault("SubscribeCertificate", drop_response=True, times=1)
    try:
        provider.create(inputs())
    except CertfleetError as refused:
        assert not tags_lag or "PAYING" in str(refused)
    [cert] = emulated(scm_control)["certificates"]
    assert cert["status"] == "PAYING"
    new_run()
    scm_control.call("POST", "scm/settings", {"order_processing_reads": 0})  # a new order would be PAID at once
    started = FakeClock.t
    if tags_lag:
        with pytest.raises(CertfleetError, match=cert["id"]):
            provider.create(inputs(**AFTER_A_CRASH))
        assert FakeClock.t - started < 60  # the listing lag (30 s), not the order timeout (600 s)
    else:
        assert provider.create(inputs(**AFTER_A_CRASH)).id == cert["id"]
    assert [c["id"] for c in emulated(scm_control)["certificates"]] == [cert["id"]]


def apply_for(scm_emulator, cert_id, domain="api.example.com"):
    client = make_scm_client(scm_emulator.url)
    client.apply_certificate(scm_model.ApplyCertificateRequest(
        certificate_id=cert_id, body=scm_model.ApplyCertificateRequestBody(
            domain=domain, applicant_name="Zhang_San", applicant_phone="13212345678",
            applicant_email="pki@example.com", domain_method="DNS", agree_privacy_protection=True)))


@pytest.mark.parametrize("left_in", ["CHECKING_ORG", "ISSUING", "UNPASSED"])
def test_an_order_an_interrupted_run_left_under_review_stops_the_purchase(provider, scm_control, scm_emulator,
                                                                        left_in):
    scm_control.call("POST", "scm/settings", {"tag_index_lag_reads": 10_000, "purchase_tags_lag_reads": 10_000})
    earlier = bought_by_an_interrupted_run(provider, inputs())
    apply_for(scm_emulator, earlier)
    if left_in == "UNPASSED":
        scm_control.call("POST", f"scm/certificates/{earlier}/reject")
    else:
        scm_control.call("POST", f"scm/certificates/{earlier}/status", {"status": left_in})
    new_run()
    with pytest.raises(CertfleetError) as raised:
        provider.create(inputs(**AFTER_A_CRASH))
    assert earlier in str(raised.value) and left_in in str(raised.value)
    assert [c["id"] for c in emulated(scm_control)["certificates"]] == [earlier]


def test_a_lost_buy_answer_that_ends_unclaimed_names_the_call_and_the_cloud_code(provider, scm_control):
    scm_control.call("POST", "scm/settings", {"tag_index_lag_reads": 10_000, "purchase_tags_lag_reads": 10_000})
    scm_control.add_fault("SubscribeCertificate", drop_response=True, times=1)
    with pytest.raises(CertfleetError) as raised:
        provider.create(inputs())
    [cert] = emulated(scm_control)["certificates"]
    text = str(raised.value)
    assert cert["id"] in text and "scm.SubscribeCertificate" in text
    lost = raised.value.__cause__
    assert isinstance(lost, CloudError) and lost.call == "scm.SubscribeCertificate" and lost.code in text


def test_untagged_purchase_since_the_journal_stamp_stops_the_purchase(provider, scm_control, scm_emulator):
    console = buy_out_of_band(scm_emulator)  # bought in the console (or by a run whose tags never arrive)
    with pytest.raises(CertfleetError) as raised:
        provider.create(inputs(**AFTER_A_CRASH))
    assert console in str(raised.value) and f"adopt: {console}" in str(raised.value)
    assert [c["id"] for c in emulated(scm_control)["certificates"]] == [console]


def test_purchases_the_sweep_may_pass_over_do_not_stop_the_purchase(provider, scm_control, scm_emulator):
    older = buy_out_of_band(scm_emulator, order_id=OLD_ORDER)  # ordered long before the journal stamp
    other_product = buy_out_of_band(scm_emulator, brand="GLOBALSIGN")
    another_resource = buy_out_of_band(scm_emulator, tags={RESOURCE_TAG: "other/stack/api"})
    created = provider.create(inputs(**AFTER_A_CRASH))
    ids = {c["id"] for c in emulated(scm_control)["certificates"]}
    assert ids == {older, other_product, another_resource, created.id}
    assert created.id not in (older, other_product, another_resource)


def test_a_certificate_this_run_bought_for_another_entry_does_not_stop_the_purchase(provider, scm_control):
    # "web" bought in this run, left PAID (its apply failed), its tags not visible yet.
    scm_control.call("POST", "scm/settings", {"purchase_tags_lag_reads": 10_000})
    scm_control.add_fault("ApplyCertificate", status=400, code="SCM.0015", times=1)
    web = provider.create(inputs(name="web", domains=["web.example.com"]))
    assert web.outs["status"] == "PAID"
    created = provider.create(inputs(**AFTER_A_CRASH))
    assert created.id != web.id and len(emulated(scm_control)["certificates"]) == 2


# --- the first status poll after a buy -------------------------------------------------------------------

@pytest.mark.parametrize("pre_paid", ["", "WAIT_PAY", "PAYING"])
def test_first_polls_tolerate_404_and_an_undocumented_pre_paid_status(provider, scm_control, pre_paid):
    scm_control.call("POST", "scm/settings", {"order_not_found_reads": 2, "order_processing_reads": 3,
                                              "order_processing_status": pre_paid})
    created = provider.create(inputs())
    assert created.outs["status"] == "CHECKING" and len(FakeClock.sleeps) >= 5
    assert len(emulated(scm_control)["certificates"]) == 1


# --- withdrawal and refunds on destroy ---------------------------------------------------------------------

def test_delete_withdraws_from_organisation_verification_then_refunds(provider, scm_control):
    created = provider.create(inputs())
    scm_control.call("POST", f"scm/certificates/{created.id}/status", {"status": "CHECKING_ORG"})
    provider.delete(created.id, created.outs)
    assert emulated(scm_control)["certificates"] == []


def test_delete_waits_for_the_withdrawal_review_and_keeps_what_is_still_under_it(provider, scm_control):
    """cancel-cert's `success` means accepted, not done: the provider polls (bounded) and never refunds
    while the withdrawal is still under review."""
    scm_control.call("POST", "scm/settings", {"cancel_review_seconds": 10_000})
    created = provider.create(inputs())
    scm_control.add_fault("UnsubscribeCertificate", status=500, code="SCM.9999", times=1)
    with pytest.raises(Exception, match="still under review"):
        provider.delete(created.id, {**created.outs, "delete_timeout_seconds": 10})
    assert faults_left(scm_control, "UnsubscribeCertificate")
    assert [c["status"] for c in emulated(scm_control)["certificates"]] == ["CANCELCHECKING"]


def test_delete_never_withdraws_an_application_awaiting_issuance(provider, scm_control, told):
    created = provider.create(inputs())
    scm_control.call("POST", f"scm/certificates/{created.id}/status", {"status": "ISSUING"})
    for action in ("CancelCertificateRequest", "UnsubscribeCertificate"):
        scm_control.add_fault(action, status=500, code="SCM.9999", times=1)
    provider.delete(created.id, created.outs)
    assert faults_left(scm_control, "CancelCertificateRequest") and faults_left(scm_control, "UnsubscribeCertificate")
    assert "ISSUING" in told[0] and "kept in SCM" in told[0]


def test_delete_after_the_refund_window_keeps_the_certificate_and_says_so(provider, scm_control, told):
    created = provider.create(inputs())
    scm_control.call("POST", f"scm/certificates/{created.id}/reject")
    scm_control.advance_clock(8 * 86400)
    scm_control.call("POST", f"scm/certificates/{created.id}/status", {"status": "PAID"})
    provider.delete(created.id, created.outs)
    [cert] = emulated(scm_control)["certificates"]
    assert cert["status"] == "PAID"
    assert "cannot be refunded" in told[-1] and "SCM.0010" in told[-1] and f"adopt: {created.id}" in told[-1]


def test_delete_does_not_ask_for_a_refund_the_order_id_shows_is_too_late(provider, scm_control, scm_emulator, told):
    old = buy_out_of_band(scm_emulator, order_id=OLD_ORDER,
                          tags={RESOURCE_TAG: "certfleet/test/api", REQUEST_TAG: request_hash(inputs())})
    created = provider.create(inputs(**AFTER_A_CRASH))  # adopted by its tags: bought for this very request
    assert created.id == old
    scm_control.add_fault("UnsubscribeCertificate", status=500, code="SCM.9999", times=1)
    provider.delete(created.id, created.outs)  # withdrawn (PAID again), then not refundable
    assert faults_left(scm_control, "UnsubscribeCertificate")
    assert [c["status"] for c in emulated(scm_control)["certificates"]] == ["PAID"]
    assert "more than 7 days ago" in told[-1]


def test_withdrawal_waits_share_one_window_per_run(provider, scm_control):
    """A destroy of many withdrawals waits at most the longest delete timeout in all, not one per certificate."""
    scm_control.call("POST", "scm/settings", {"cancel_review_seconds": 10_000})
    first = provider.create(inputs())
    second = provider.create(inputs(name="web", domains=["web.example.com"]))
    waited = []
    for created in (first, second):
        started = FakeClock.t
        with pytest.raises(CloudError, match="still under review"):
            provider.delete(created.id, created.outs)
        waited.append(FakeClock.t - started)
    assert waited[0] >= 300 - 1e-6 and waited[1] < 10  # FakeClock.t is a float: sums of sleeps round
    assert [c["status"] for c in emulated(scm_control)["certificates"]] == ["CANCELCHECKING"] * 2


@pytest.mark.parametrize("on_destroy", ["keep", "delete"])
def test_revoked_certificate_is_never_deleted_only_refunded_when_asked(provider, scm_control, on_destroy):
    created = provider.create(inputs(onDestroy=on_destroy))
    scm_control.call("POST", f"scm/certificates/{created.id}/publish")
    scm_control.call("POST", f"scm/certificates/{created.id}/status", {"status": "REVOKED"})
    outs = provider.read(created.id, created.outs).outs
    scm_control.add_fault("DeleteCertificate", status=500, code="SCM.9999", times=1)
    provider.delete(created.id, outs)  # a real destroy: nothing declares it in this run
    assert faults_left(scm_control, "DeleteCertificate")
    left = emulated(scm_control)["certificates"]
    assert left == [] if on_destroy == "delete" else [c["status"] for c in left] == ["REVOKED"]
