"""CAS as the real service most likely behaves (reference/alibaba-cas.md, addendum A1-A3): the order list shows an
order's primary name only (or, in the other shape, every name), PAYED orders still hold a plan unit, challenges
lag the order, RecordDomain comes full or short, and orders left pending may issue later. The provider's
methods against the CAS emulator through the official SDK, in both listing shapes where the shape matters."""

from __future__ import annotations

import time

import pytest

from components.alicloud import cas
from components.errors import CertfleetError
from tests.emulators.cas_scaffolding import describe, list_orders, order_for_package, package_state
from tests.provider.test_cas_provider import (BOTH_LISTING_SHAPES, PLAN, _fresh_csr,  # noqa: F401
                                              _own_csr_inputs, clock, control, emulator, inputs, interrupted_run,
                                              provider, publish, sdk, this_run, told)

NAMES = ("shop.example.cn", "www.shop.example.cn")
WITH_CSR_PLAN = "symantec-dv-1-starter"


def multi_name_inputs(**extra):
    return inputs(name="shop", domains=NAMES, **extra)


def csr_inputs(csr_pem, **extra):
    return _own_csr_inputs(csr_pem, productCode=WITH_CSR_PLAN, **extra)


def listed(sdk, order_id):
    return next(o for o in list_orders(sdk, keyword=NAMES[0]).certificate_order_list if o.order_id == order_id)


# --- the listing shapes: a multi-name order and a CSR order are recognised in both ---

@BOTH_LISTING_SHAPES
def test_lost_create_answer_of_a_multi_name_order_adopts_it(provider, control, sdk, emulator):
    control.add_fault("CreateCertificateForPackageRequest", drop_response=True)
    created = provider.create(multi_name_inputs())
    assert created.outs["adopted"] is True and created.outs["state"] == "domain_verify"
    assert package_state(sdk, PLAN).used_count == 1  # bought once, found in the list, never bought again
    shown = listed(sdk, int(created.id)).domain
    assert shown == (NAMES[0] if emulator.api.backend.settings["order_domain_style"] == "primary"
                     else ",".join(NAMES))


@BOTH_LISTING_SHAPES
def test_lost_create_answer_of_a_csr_order_adopts_it(provider, control, sdk):
    csr_pem, _ = _fresh_csr(*NAMES[:1], sans=NAMES[1:])
    control.add_fault("CreateCertificateWithCsrRequest", drop_response=True)
    created = provider.create(csr_inputs(csr_pem))
    assert created.outs["adopted"] is True and created.outs["domains"] == list(NAMES)
    assert package_state(sdk, WITH_CSR_PLAN).used_count == 1
    publish(control, created.id)
    assert provider.read(created.id, created.outs).outs["state"] == "certificate"  # for the CSR's key


@BOTH_LISTING_SHAPES
def test_multi_name_order_of_an_interrupted_run_is_adopted_pending_or_issued(provider, control, sdk):
    journal = interrupted_run()
    first = provider.create(multi_name_inputs(journal=journal))  # the engine dies before saving this
    again = provider.create(multi_name_inputs(journal=journal))
    assert again.id == first.id and again.outs["adopted"] is True
    publish(control, first.id)
    issued = provider.create(multi_name_inputs(journal=journal))  # its certificate shows every name
    assert issued.id == first.id and issued.outs["state"] == "certificate"
    assert package_state(sdk, PLAN).used_count == 1


def test_the_order_list_is_read_in_pages_of_fifty(provider, control, sdk, monkeypatch):
    other_plan = "symantec-free-1-free"
    control.call("POST", "cas/packages", {"product_code": other_plan, "total_count": 80})
    journal = interrupted_run(at=time.time() - 60)
    mine = order_for_package(sdk, ",".join(NAMES), product_code=PLAN)  # the interrupted run's: the oldest
    for _ in range(55):  # newer live orders for the names with another plan: listed, not this purchase
        order_for_package(sdk, ",".join(NAMES), product_code=other_plan)
    actions = []
    real_call = cas.cas_api.call

    def recorded(action, resource, send, **kwargs):
        actions.append(action)
        return real_call(action, resource, send, **kwargs)
    monkeypatch.setattr(cas.cas_api, "call", recorded)
    created = provider.create(multi_name_inputs(journal=journal))
    assert created.id == str(mine) and created.outs["adopted"] is True  # found on page 2
    assert actions.count("ListUserCertificateOrder") == 2  # 56 orders: 50 + 6, stopped at TotalCount


# --- an issued candidate's names come from its certificate; a free extra name is fine ---

def _extra_free_name(control):
    control.call("POST", "cas/settings", {"free_extra_name": True})  # CAS adds www.<name> to a one-name DV cert


@BOTH_LISTING_SHAPES
@pytest.mark.parametrize("csr", ["cas", "pem"])
def test_an_interrupted_runs_order_issued_with_a_free_extra_name_is_adopted(provider, control, sdk, told, csr):
    _extra_free_name(control)
    journal = interrupted_run()
    csr_pem, _ = _fresh_csr("blog.example.cn", sans=())
    props = inputs(journal=journal) if csr == "cas" else _own_csr_inputs(csr_pem, journal=journal)
    first = provider.create(props)  # the engine dies before saving this
    publish(control, first.id)
    again = provider.create({**props, "listing_lag_seconds": 0})
    assert again.id == first.id and again.outs["adopted"] is True and again.outs["state"] == "certificate"
    assert cas.keys.certificate_names(again.outs["certificate_pem"])[1] == ["blog.example.cn",
                                                                          "www.blog.example.cn"]
    assert package_state(sdk, PLAN).used_count == 1  # never a second paid order


@BOTH_LISTING_SHAPES
def test_a_generated_key_order_issued_with_a_free_extra_name_refuses_as_a_lost_key(provider, control, sdk):
    _extra_free_name(control)
    journal = interrupted_run()
    first = provider.create(inputs(csr="generate", journal=journal))
    publish(control, first.id)
    with pytest.raises(CertfleetError, match=f"order {first.id} .*ISSUED.*key .*was lost"):
        provider.create({**inputs(csr="generate", journal=journal), "listing_lag_seconds": 0})
    assert package_state(sdk, PLAN).used_count == 1


@BOTH_LISTING_SHAPES
def test_an_issued_order_for_other_names_since_the_stamp_stops_the_purchase(provider, control, sdk, told):
    """Same primary name and plan, bought since the stamp after an interrupted run, issued for names that are
    not (all) the entry's: maybe that run's order (whatever CAS did to its names), maybe another's: stop."""
    journal = interrupted_run()
    other = order_for_package(sdk, f"{NAMES[0]},api.shop.example.cn", product_code=PLAN)  # same count, other SAN
    publish(control, other)
    with pytest.raises(CertfleetError) as refused:
        provider.create(multi_name_inputs(journal=journal, alicloud_extra={"listingLagSeconds": 0}))
    message = str(refused.value)
    assert f"CAS order {other}" in message and "api.shop.example.cn" in message and "if it is yours" in message
    assert "second paid order" in message and "revoke" not in message.lower()
    assert package_state(sdk, PLAN).used_count == 1 and describe(sdk, other).type == "certificate"
    # Provably not this purchase's: journalled in this run (someone else's), or bought before every stamp.
    for stamp in (this_run(), interrupted_run(at=time.time() + 10 * 60)):
        created = provider.create(multi_name_inputs(journal=stamp, alicloud_extra={"listingLagSeconds": 0}))
        assert created.id != str(other) and created.outs["adopted"] is False
    assert any(f"order {other} (" in m for m in told)
    assert describe(sdk, other).type == "certificate"  # never touched


@BOTH_LISTING_SHAPES
def test_an_order_listed_with_another_domain_count_since_the_stamp_stops_the_purchase(provider, sdk, emulator):
    """DomainCount may be the plan's capacity or count a free name: an order that otherwise matches, bought
    since the stamp after an interrupted run, is uncertain, never silently dropped."""
    journal = interrupted_run()
    two = order_for_package(sdk, "blog.example.cn,www.blog.example.cn", product_code=PLAN)  # DomainCount 2
    with pytest.raises(CertfleetError) as refused:
        provider.create(inputs(journal=journal, alicloud_extra={"listingLagSeconds": 0}))
    message = str(refused.value)
    assert f"CAS order {two}" in message and "if it is yours" in message and "second paid order" in message
    if emulator.api.backend.settings["order_domain_style"] == "primary":
        assert "uncertain" in message and "DomainCount 2" in message
    assert package_state(sdk, PLAN).used_count == 1 and describe(sdk, two).type == "domain_verify"
    created = provider.create(inputs(journal=this_run()))  # journalled in this run: someone else's
    assert created.id != str(two) and package_state(sdk, PLAN).used_count == 2


def test_listed_for_other_names_stops_only_for_an_order_that_may_be_this_purchases():
    from components.alicloud.candidates import REFUSE, SKIP, Candidate, listed_for_other_names, purchase_of
    now = int(time.time() * 1000)

    def listed(domain, count, status="CHECKING"):
        return Candidate(1, now, status, domain, count, describe=lambda: None)
    after_interruption = purchase_of(inputs(journal=interrupted_run(at=time.time() - 60)))
    assert listed_for_other_names(after_interruption, listed("blog.example.cn", 1)) is None
    assert listed_for_other_names(after_interruption, listed("blog.example.cn", None)) is None
    assert listed_for_other_names(after_interruption, listed("blog.example.cn", 2))[0] == REFUSE
    assert listed_for_other_names(after_interruption, listed("blog.example.cn,www.blog.example.cn", 2))[0] == REFUSE
    assert listed_for_other_names(after_interruption, listed("blog.example.cn", 2, "ISSUED")) is None  # its cert
    in_this_run = purchase_of(inputs(journal=this_run()))
    assert listed_for_other_names(in_this_run, listed("blog.example.cn", 2))[0] == SKIP
    before_the_stamp = purchase_of(inputs(journal=interrupted_run(at=time.time() + 10 * 60)))
    assert listed_for_other_names(before_the_stamp, listed("blog.example.cn", 2))[0] == SKIP


# --- an adopted order's certificate must be for the entry's names ---

def test_an_adopted_order_issued_for_other_names_records_nothing_and_is_never_revoked(provider, control, sdk):
    journal = interrupted_run()
    other = order_for_package(sdk, f"{NAMES[0]},api.shop.example.cn", product_code=PLAN)  # listed as NAMES[0]
    created = provider.create(multi_name_inputs(journal=journal, revokeOnDelete=True))
    assert created.id == str(other) and created.outs["adopted"] is True  # pending: only its primary name shows
    publish(control, other)
    read = provider.read(created.id, created.outs).outs
    assert read["state"] == "names_mismatch" and read["certificate_pem"] is None and read["not_after"] is None
    assert "do not cover the entry" in read["status_message"] and "never revokes" in read["status_message"]
    provider.delete(created.id, read)  # a real destroy with revokeOnDelete: true
    assert describe(sdk, other).type == "certificate"


# --- PAYED: bought, not applied for (or cancelled, not deleted): live ---

def _cancelled(sdk, order_id):
    sdk.cancel_order_request(cas._models().CancelOrderRequestRequest(order_id=order_id))
    assert listed(sdk, order_id).status == "PAYED"


@BOTH_LISTING_SHAPES
def test_a_payed_order_after_an_interrupted_run_stops_the_purchase_until_it_is_deleted(provider, control, sdk):
    journal = interrupted_run()
    payed = order_for_package(sdk, ",".join(NAMES), product_code=PLAN)
    _cancelled(sdk, payed)
    with pytest.raises(CertfleetError) as refused:
        provider.create(multi_name_inputs(journal=journal))
    message = str(refused.value)
    assert f"CAS order {payed}" in message and "PAYED" in message and "second paid order" in message
    assert f"delete order {payed} in the CAS console" in message and "revoke" not in message.lower()
    assert package_state(sdk, PLAN).used_count == 1 and describe(sdk, payed).type == "payed"  # never touched
    sdk.delete_certificate_request(cas._models().DeleteCertificateRequestRequest(order_id=payed))
    created = provider.create(multi_name_inputs(journal=journal, alicloud_extra={"listingLagSeconds": 0}))
    assert created.outs["adopted"] is False and package_state(sdk, PLAN).used_count == 1


def test_a_payed_order_applied_for_again_is_adopted_as_pending(provider, control, sdk):
    journal = interrupted_run()
    payed = order_for_package(sdk, ",".join(NAMES), product_code=PLAN)
    _cancelled(sdk, payed)
    with pytest.raises(CertfleetError):
        provider.create(multi_name_inputs(journal=journal))
    control.call("POST", f"cas/orders/{payed}/advance", {"to": "domain_verify"})  # applied for in the console
    created = provider.create(multi_name_inputs(journal=journal))
    assert created.id == str(payed) and created.outs["adopted"] is True
    assert created.outs["state"] == "domain_verify" and package_state(sdk, PLAN).used_count == 1


def test_a_payed_order_is_someone_elses_when_the_purchase_was_journalled_in_this_run(provider, sdk, told):
    payed = order_for_package(sdk, ",".join(NAMES), product_code=PLAN)
    _cancelled(sdk, payed)
    created = provider.create(multi_name_inputs(journal=this_run()))
    assert created.id != str(payed) and created.outs["adopted"] is False
    assert any(f"order {payed} (someone else's" in m for m in told)
    assert describe(sdk, payed).type == "payed"


def test_the_status_of_a_payed_order_is_not_taken_for_dead_by_the_list_filter():
    from components.alicloud import adopt, purchase
    assert "PAYED" not in purchase.DEAD_ORDER_STATUSES and "PAYED" not in adopt.ADOPT_DEAD_STATUSES


# --- challenges as they arrive ---

@pytest.mark.parametrize("validation", ["DNS", "FILE"])
def test_a_lagging_challenge_is_waited_for(provider, control, clock, validation):
    control.call("POST", "cas/settings", {"challenge_lag_reads": 3})
    created = provider.create(inputs(validation=validation))
    assert created.outs["state"] == "domain_verify" and created.outs["challenge"]["type"] == validation
    assert (created.outs["challenge"].get("value") or created.outs["challenge"].get("content"))
    assert len([s for s in clock.sleeps if s == cas.POLL_SECONDS]) >= 2  # polled until it was there
    assert "not published" not in created.outs["status_message"]


def test_a_challenge_that_never_arrives_is_recorded_and_picked_up_by_refresh(provider, control, clock, sdk):
    control.call("POST", "cas/settings", {"challenge_lag_reads": 10_000})
    created = provider.create(inputs())
    assert created.outs["state"] == "domain_verify" and created.outs["challenge"] is None
    assert "has not published the validation challenge yet" in created.outs["status_message"]
    assert "pulumi up --refresh" in created.outs["status_message"]
    assert cas.CHALLENGE_TIMEOUT_SECONDS <= clock.t <= cas.CHALLENGE_TIMEOUT_SECONDS + cas.POLL_SECONDS
    assert package_state(sdk, PLAN).used_count == 1  # the wait running out never fails the create
    control.call("POST", "cas/settings", {"challenge_lag_reads": 0})
    read = provider.read(created.id, created.outs).outs
    assert read["challenge"]["name"] == "_dnsauth.blog.example.cn" and read["challenge"]["value"]


@pytest.mark.parametrize("domain", ["blog.example.cn", "*.blog.example.cn"])
def test_record_domain_full_or_short_gives_the_same_challenge_name(provider, control, domain):
    names = {}
    for style in ("relative", "fqdn"):
        control.call("POST", "cas/settings", {"record_domain_style": style})
        plan = "geotrust-dv-w-starter" if domain.startswith("*.") else PLAN
        created = provider.create(inputs(name=f"site-{style}", domains=(domain,), productCode=plan))
        shown = control.call("GET", f"cas/orders/{created.id}")["describe"]["RecordDomain"]
        assert shown == ("_dnsauth" if style == "relative" else "_dnsauth.blog.example.cn")
        names[style] = created.outs["challenge"]["name"]
    assert names["relative"] == names["fqdn"] == "_dnsauth.blog.example.cn"


# --- orders left pending may issue later ---

def test_a_kept_pending_order_that_issues_later_stays_kept(provider, control, sdk, told):
    """An order adopted after an interrupted run is never cancelled: a replacement keeps it pending, it issues
    later, and certfleet never revokes it nor takes it for the replacement's (nor, later, for a new purchase
    of the entry: it was bought under an earlier stamp)."""
    stamp = interrupted_run(at=time.time() - 60)
    adopted = order_for_package(sdk, "blog.example.cn", product_code=PLAN)  # the killed run's, maybe
    created = provider.create(inputs(journal=stamp, revokeOnDelete=True))
    assert created.id == str(adopted) and created.outs["adopted"] is True
    provider.check({}, inputs(journal=stamp))  # still declared: this delete is the old half of a replacement
    provider.delete(created.id, created.outs)
    assert describe(sdk, adopted).type == "domain_verify"  # kept, never cancelled
    replacement = provider.create({**inputs(journal=stamp), "listing_lag_seconds": 0})
    assert replacement.id != str(adopted)
    publish(control, adopted)  # the abandoned order reaches `certificate` later
    assert describe(sdk, adopted).type == "certificate"
    # A later purchase of the entry (new settings: a new stamp carrying the earlier one) replaces the
    # replacement (its pending order is cancelled and deleted) and leaves the issued abandoned order alone.
    provider.delete(replacement.id, replacement.outs)
    later = provider.create({**inputs(csr="generate", journal={**this_run(), "earlier": [stamp]}),
                             "listing_lag_seconds": 0})
    assert later.id not in (str(adopted), replacement.id)
    assert describe(sdk, adopted).type == "certificate"  # never revoked


def test_an_adopted_pending_order_that_issues_is_picked_up_by_refresh_and_never_revoked(provider, control, sdk):
    journal = interrupted_run()
    adopted = order_for_package(sdk, "blog.example.cn", product_code=PLAN)
    created = provider.create(inputs(journal=journal, revokeOnDelete=True))
    assert created.outs["adopted"] is True and created.outs["state"] == "domain_verify"
    publish(control, adopted)
    read = provider.read(created.id, created.outs).outs
    assert read["state"] == "certificate" and read["certificate_pem"] and read["adopted"] is True
    assert "never revoked" in read["status_message"]
    provider.delete(created.id, read)  # a real destroy, revokeOnDelete: true
    assert describe(sdk, adopted).type == "certificate"


# --- durable intent: no Create* call without the journal's stamp ---

def test_no_create_call_without_a_journal_stamp(provider, control, sdk):
    other_plan = order_for_package(sdk, "blog.example.cn", product_code="symantec-free-1-free")
    rules = [control.add_fault(a, status=500, times=None)
             for a in ("CreateCertificateForPackageRequest", "CreateCertificateWithCsrRequest")]
    cas_client = cas.cas_api.cas_client()
    with pytest.raises(CertfleetError, match="not in the purchase journal"):
        provider._buy(cas_client, {**inputs(), "journal": None}, None, "order 'blog'")
    with pytest.raises(CertfleetError, match="not in the purchase journal"):
        # replaceAdopted: the adopted order differs (plan), so create would buy: not without a stamp.
        provider.create({**inputs(adopt=str(other_plan), replaceAdopted=True), "journal": None})
    ids = {r["id"] for r in rules}
    assert sum(f["hits"] for f in control.faults() if f["id"] in ids) == 0
    assert package_state(sdk, PLAN).used_count == 0


def test_an_order_shown_payed_right_after_its_purchase_is_waited_for(provider, control, clock, sdk, monkeypatch):
    """CAS may show a new order as payed until it takes the application: create waits (as for a challenge)
    instead of recording a "dead" order that the next `pulumi up` would replace with a second purchase."""
    real_buy = provider._buy

    def buy_then_shown_payed(*args, **kwargs):
        order_id, answered = real_buy(*args, **kwargs)
        sdk.cancel_order_request(cas._models().CancelOrderRequestRequest(order_id=order_id))  # shown as payed
        clock.on_sleep = lambda seconds: control.call("POST", f"cas/orders/{order_id}/advance",
                                                      {"to": "domain_verify"}) if clock.t <= 2 else None
        return order_id, answered
    monkeypatch.setattr(provider, "_buy", buy_then_shown_payed)
    created = provider.create(inputs())
    assert created.outs["state"] == "domain_verify" and created.outs["challenge"]["value"]
    assert package_state(sdk, PLAN).used_count == 1


def test_an_earlier_purchases_pending_order_stops_the_purchase_whatever_its_domain_count():
    """An interrupted run bought under an earlier stamp (the settings changed since): its pending order stops the
    purchase also when CAS lists another DomainCount (the plan's capacity, or a free name), never skipped."""
    from components.alicloud.candidates import REFUSE, Candidate, judge, purchase_of
    now = time.time()
    earlier = {"fingerprint": "1" * 32, "run": "an-interrupted-run", "at": now - 3600}
    purchase = purchase_of(inputs(journal={**this_run(at=now), "earlier": [earlier]}))
    bought = int((now - 1800) * 1000)  # by the interrupted run, under the earlier stamp
    for count in (1, None, 2):
        verdict, why = judge(purchase, Candidate(7, bought, "CHECKING", "blog.example.cn", count,
                                                 describe=lambda: None))
        assert verdict == REFUSE and "bought while this entry had other settings" in why, (count, why)


def test_the_campaign_operator_recognises_every_refusal_that_asks_to_cancel_an_order():
    """The crash campaign plays the operator on the refusals that ask to cancel and delete a pending order
    (scripts/campaign OPERATOR_PATTERNS): if their wording drifts, the campaign never converges."""
    from components.alicloud.candidates import (REFUSE, Candidate, listed_for_other_names,
                                                pending_from_an_earlier_purchase, pending_with_a_lost_generated_key,
                                                purchase_of)
    from scripts.campaign.campaign import OPERATOR_PATTERNS
    now = time.time()
    bought = int((now - 1800) * 1000)
    pending = Candidate(7, bought, "CHECKING", "blog.example.cn", 2, describe=lambda: None)
    earlier = {"fingerprint": "1" * 32, "run": "an-interrupted-run", "at": now - 3600}
    cases = [(pending_with_a_lost_generated_key, inputs(csr="generate", journal=interrupted_run(at=now - 3600))),
             (pending_from_an_earlier_purchase, inputs(journal={**this_run(at=now), "earlier": [earlier]})),
             (listed_for_other_names, inputs(journal=interrupted_run(at=now - 3600)))]
    for check, props in cases:
        verdict, why = check(purchase_of(props), pending)
        assert verdict == REFUSE, (check.__name__, why)
        assert OPERATOR_PATTERNS[0][0].findall(why) == ["7"], (check.__name__, why)
