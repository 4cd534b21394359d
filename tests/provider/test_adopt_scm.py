"""Adopting an SCM certificate by id (`certfleet:huaweicloud.certificates.<n>.adopt`): the provider's methods
against the SCM emulator through the official SDK. The certificates are bought out of band with the SDK, as
someone would in the console; purchases by certfleet are counted at the emulator (a fault rule on
SubscribeCertificate that would fail any purchase and counts its hits)."""

from __future__ import annotations

import time

import pytest
from huaweicloudsdkscm.v3 import model as scm_model

from components import dynamic
from components.errors import CertfleetError
from components.huaweicloud.scm import GENERATION_TAG, REQUEST_TAG, RESOURCE_TAG
from tests.emulators.conftest_scm import make_scm_client
from tests.provider.test_scm_provider import (APPLICANT, FakeClock, count_calls, emulated, inputs,  # noqa: F401
                                             provider)

ADOPT_ENTRY = {"csr": "scm"}


def order_id_at(seconds_ago: float) -> str:
    """An SCM order id (CS + yymmddHHMM + 5) placed `seconds_ago` (UTC reading, as the provider reads it)."""
    return "CS" + time.strftime("%y%m%d%H%M", time.gmtime(time.time() - seconds_ago)) + "ABCDE"


def buy_out_of_band(scm_emulator, domain_type="SINGLE_DOMAIN", years=1, tags=None, apply_for=None,
                    order_id=None) -> str:
    """A certificate bought (and optionally applied for) with the SDK, outside certfleet; ordered an hour ago
    unless `order_id` says otherwise (a purchase of the last minutes may carry tags SCM does not show yet)."""
    client = make_scm_client(scm_emulator.url)
    body = scm_model.PurchaseCertificateRequestBody(
        cert_brand="GEOTRUST", cert_type="DV_SSL_CERT", domain_type=domain_type, effective_time=years,
        domain_numbers=1, order_number=1, agree_privacy_protection=True, is_auto_pay=True,
        order_id=order_id or order_id_at(3600),
        tags=[scm_model.ScsResourceTag(key=k, value=v) for k, v in (tags or {}).items()] or None)
    cert_id = client.subscribe_certificate(scm_model.SubscribeCertificateRequest(body=body)).cert[0].cert_id
    for _ in range(5):  # the emulator processes a new order for a few reads before it is PAID
        client.show_certificate(scm_model.ShowCertificateRequest(certificate_id=cert_id))
    if apply_for:
        client.apply_certificate(scm_model.ApplyCertificateRequest(
            certificate_id=cert_id, body=scm_model.ApplyCertificateRequestBody(
                domain=apply_for, applicant_name="Zhang_San", applicant_phone="13212345678",
                applicant_email="pki@example.com", domain_method="DNS", agree_privacy_protection=True)))
    return cert_id


def count_purchases(scm_control):
    """Counts certfleet's purchase calls: any SubscribeCertificate from here on fails and is counted."""
    rule = scm_control.add_fault("SubscribeCertificate", status=500, times=None)

    def count() -> int:
        return next(f["hits"] for f in scm_control.faults() if f["id"] == rule["id"])
    return count


@pytest.fixture(autouse=True)
def fresh_run():
    dynamic.DECLARED.clear()
    yield
    dynamic.DECLARED.clear()


def adopt_inputs(cert_id, **entry):
    return inputs(journal_run=None, adopt=cert_id, **entry)  # an adopt entry is not in the purchase journal


def certificate(scm_control, cert_id):
    return next(c for c in emulated(scm_control)["certificates"] if c["id"] == cert_id)


def test_adopting_an_applied_certificate_buys_nothing_and_tags_it(provider, scm_emulator, scm_control):
    cert_id = buy_out_of_band(scm_emulator, apply_for="api.example.com")
    purchases = count_purchases(scm_control)
    props = adopt_inputs(cert_id)
    assert provider.check({}, props).failures == []
    created = provider.create(props)
    assert created.id == cert_id and created.outs["adopted"] is True
    assert created.outs["status"] == "CHECKING" and created.outs["validation_records"]
    assert purchases() == 0 and len(emulated(scm_control)["certificates"]) == 1
    tags = certificate(scm_control, cert_id)["tags"]
    assert tags[RESOURCE_TAG] == "certfleet/test/api" and tags[GENERATION_TAG] == created.outs["generation"]


def test_an_adopted_paid_certificate_is_applied_for_with_the_entry(provider, scm_emulator, scm_control):
    cert_id = buy_out_of_band(scm_emulator)
    purchases = count_purchases(scm_control)
    created = provider.create(adopt_inputs(cert_id))
    assert created.outs["status"] == "CHECKING" and purchases() == 0
    assert certificate(scm_control, cert_id)["domain"] == "api.example.com"


def test_a_recent_certificate_showing_no_tags_is_not_adopted_until_they_can_show(provider, scm_emulator,
                                                                                 scm_control):
    """Ordered minutes ago and showing no tags: it may be another stack's purchase whose tags SCM does not show
    yet. Adopting would tag it as this entry's; certfleet refuses and says to wait for the tag index."""
    cert_id = buy_out_of_band(scm_emulator, order_id=order_id_at(60))
    tagged = buy_out_of_band(scm_emulator, order_id=order_id_at(60), tags={"team": "web"})
    older = buy_out_of_band(scm_emulator, order_id=order_id_at(3600))
    purchases = count_purchases(scm_control)
    [failure] = provider.check({}, adopt_inputs(cert_id)).failures
    assert cert_id in failure.reason and "no tags" in failure.reason and "wait" in failure.reason
    assert "another stack" in failure.reason
    with pytest.raises(CertfleetError, match=cert_id):
        provider.create(adopt_inputs(cert_id))
    assert certificate(scm_control, cert_id)["tags"] == {} and purchases() == 0
    # One that shows its (user's) tags, or was ordered long enough ago, is adopted as before.
    assert provider.create(adopt_inputs(tagged, tags={"team": "web"})).outs["adopted"] is True
    assert provider.create(adopt_inputs(older, name="web", domains=["web.example.com"])).outs["adopted"] is True


def test_a_missing_certificate_fails_at_preview_naming_it(provider):
    [failure] = provider.check({}, adopt_inputs("scs1000000000001")).failures
    assert "scs1000000000001" in failure.reason and "does not exist" in failure.reason


def test_a_difference_needing_a_purchase_is_refused_without_replace_adopted(provider, scm_emulator, scm_control):
    cert_id = buy_out_of_band(scm_emulator, years=2, apply_for="www.example.com")
    purchases = count_purchases(scm_control)
    [failure] = provider.check({}, adopt_inputs(cert_id)).failures
    assert cert_id in failure.reason and "certificate 'api'" in failure.reason
    assert "years is 2 in SCM, 1 in the entry" in failure.reason and "domains is ['www.example.com']" in failure.reason
    with pytest.raises(CertfleetError, match="replaceAdopted"):
        provider.create(adopt_inputs(cert_id))
    assert purchases() == 0


def test_replace_adopted_buys_a_new_certificate_and_leaves_the_adopted_one(provider, scm_emulator, scm_control):
    cert_id = buy_out_of_band(scm_emulator, years=2)
    props = {**adopt_inputs(cert_id, replaceAdopted=True), **inputs(adopt=cert_id, replaceAdopted=True)}
    assert provider.check({}, props).failures == []
    created = provider.create(props)  # journalled: replaceAdopted may buy
    assert created.id != cert_id and created.outs["adopted"] is False
    assert RESOURCE_TAG not in certificate(scm_control, cert_id)["tags"]


def test_differences_changed_in_place_are_no_error(provider, scm_emulator, scm_control):
    cert_id = buy_out_of_band(scm_emulator, tags={"team": "web"})
    props = adopt_inputs(cert_id, tags={"team": "payments"})
    assert provider.check({}, props).failures == []
    provider.create(props)
    assert certificate(scm_control, cert_id)["tags"]["team"] == "payments"


def test_another_resources_certificate_is_refused_naming_the_owner(provider, scm_emulator, scm_control):
    cert_id = buy_out_of_band(scm_emulator, tags={RESOURCE_TAG: "certfleet/other/web"})
    purchases = count_purchases(scm_control)
    [failure] = provider.check({}, adopt_inputs(cert_id)).failures
    assert "certfleet/other/web" in failure.reason and cert_id in failure.reason
    with pytest.raises(CertfleetError, match="certfleet/other/web"):
        provider.create(adopt_inputs(cert_id))
    assert purchases() == 0


def test_destroy_keeps_an_adopted_certificate(provider, scm_emulator, scm_control):
    cert_id = buy_out_of_band(scm_emulator, apply_for="api.example.com")
    created = provider.create(adopt_inputs(cert_id))
    provider.delete(cert_id, created.outs)  # CHECKING: certfleet's own would be withdrawn and refunded
    assert certificate(scm_control, cert_id)["status"] == "CHECKING"
    scm_control.call("POST", f"scm/certificates/{cert_id}/publish")
    issued = provider.read(cert_id, created.outs).outs
    assert issued["adopted"] is True
    provider.delete(cert_id, issued)
    assert certificate(scm_control, cert_id)["status"] == "ISSUED"


def test_the_entrys_on_destroy_delete_deletes_an_adopted_certificate(provider, scm_emulator, scm_control):
    cert_id = buy_out_of_band(scm_emulator, apply_for="api.example.com")
    created = provider.create(adopt_inputs(cert_id, onDestroy="delete"))
    scm_control.call("POST", f"scm/certificates/{cert_id}/publish")
    issued = provider.read(cert_id, created.outs).outs
    provider.check({}, adopt_inputs(cert_id, onDestroy="delete"))  # still declared: a replacement keeps it
    provider.delete(cert_id, issued)
    assert certificate(scm_control, cert_id)["status"] == "ISSUED"
    dynamic.DECLARED.clear()  # a real destroy
    provider.delete(cert_id, issued)
    assert emulated(scm_control)["certificates"] == []


def test_removing_the_adopt_line_changes_nothing(provider, scm_emulator):
    cert_id = buy_out_of_band(scm_emulator, apply_for="api.example.com")
    created = provider.create(adopt_inputs(cert_id))
    without = inputs(journal_run=None)
    assert provider.diff(cert_id, created.outs, without).changes is False
    updated = provider.update(cert_id, created.outs, inputs(journal_run=None, tags={"team": "web"}))
    assert updated.outs["adopted"] is True


def test_a_replacement_of_an_adopted_certificate_needs_replace_adopted(provider, scm_emulator):
    cert_id = buy_out_of_band(scm_emulator, apply_for="api.example.com")
    created = provider.create(adopt_inputs(cert_id))
    with pytest.raises(CertfleetError, match="replaceAdopted"):
        provider.diff(cert_id, created.outs, adopt_inputs(cert_id, years=2))
    assert provider.diff(cert_id, created.outs, adopt_inputs(cert_id, years=2, replaceAdopted=True)).replaces


# --- a kept adopted certificate is released: certfleet's own tags come off, the user's stay ------------------

def certfleet_tags(scm_control, cert_id):
    return sorted(k for k in certificate(scm_control, cert_id)["tags"] if k.startswith("certfleet-"))


def test_a_kept_adopted_certificate_is_never_taken_as_a_later_entrys_purchase(provider, scm_emulator, scm_control,
                                                                              monkeypatch):
    told = []
    monkeypatch.setattr("components.huaweicloud.scm.tell_user", told.append)
    cert_id = buy_out_of_band(scm_emulator, apply_for="api.example.com", tags={"team": "web"})
    created = provider.create(adopt_inputs(cert_id, tags={"team": "web"}))
    assert created.outs["adopted"] is True and certfleet_tags(scm_control, cert_id)
    provider.delete(cert_id, created.outs)  # destroy (the entry left the config): kept
    assert certificate(scm_control, cert_id)["status"] == "CHECKING"
    assert certificate(scm_control, cert_id)["tags"] == {"team": "web"}  # the user's tags stay
    assert "certfleet's own tags were removed from it" in told[-1] and cert_id in told[-1]
    # Another stack may adopt it now: no certfleet resource owns it any more.
    assert provider.check({}, inputs(name="web", journal_run=None, adopt=cert_id)).failures == []
    # The entry comes back without `adopt`: certfleet buys its own, it never takes the kept one as a purchase.
    again = provider.create(inputs())
    assert again.id != cert_id and again.outs["adopted"] is False
    provider.delete(again.id, again.outs)  # certfleet's own, under review: withdrawn and refunded
    assert [c["id"] for c in emulated(scm_control)["certificates"]] == [cert_id]
    assert certificate(scm_control, cert_id)["status"] == "CHECKING"  # never withdrawn nor refunded


def test_the_old_half_of_a_replace_adopted_replacement_is_released(provider, scm_emulator, scm_control):
    cert_id = buy_out_of_band(scm_emulator, tags={"team": "web"})  # PAID: adopting applies for the entry's names
    created = provider.create(adopt_inputs(cert_id, tags={"team": "web"}))
    news = {**adopt_inputs(cert_id, years=2, replaceAdopted=True, tags={"team": "web"}),
            **inputs(years=2, adopt=cert_id, replaceAdopted=True, tags={"team": "web"})}
    assert provider.diff(cert_id, created.outs, news).replaces
    provider.check(created.outs, news)  # still declared: the delete below is the old half of the replacement
    replacement = provider.create(news)
    assert replacement.id != cert_id
    provider.delete(cert_id, created.outs)
    assert certificate(scm_control, cert_id)["status"] == "CHECKING"
    assert certificate(scm_control, cert_id)["tags"] == {"team": "web"}
    assert certfleet_tags(scm_control, replacement.id) == [GENERATION_TAG, REQUEST_TAG, RESOURCE_TAG]


def test_destroy_reads_a_kept_adopted_certificates_tags_once(provider, scm_emulator, scm_control):
    """The generation check and the release use one read of the tags: nothing happens between them."""
    cert_id = buy_out_of_band(scm_emulator, apply_for="api.example.com", tags={"team": "web"})
    created = provider.create(adopt_inputs(cert_id, tags={"team": "web"}))
    tag_reads = count_calls(scm_control, "ListTagsByCertificate")
    provider.delete(cert_id, created.outs)
    assert tag_reads() == 1
    assert certificate(scm_control, cert_id)["tags"] == {"team": "web"}  # released all the same


def test_a_certificate_adopted_back_by_a_newer_create_keeps_its_tags(provider, scm_emulator, scm_control):
    cert_id = buy_out_of_band(scm_emulator, apply_for="api.example.com")
    first = provider.create(adopt_inputs(cert_id))
    second = provider.create(adopt_inputs(cert_id))  # a replacement that adopted the same certificate again
    provider.check({}, adopt_inputs(cert_id))
    provider.delete(cert_id, first.outs)
    tags = certificate(scm_control, cert_id)["tags"]
    assert tags[RESOURCE_TAG] == "certfleet/test/api" and tags[GENERATION_TAG] == second.outs["generation"]


def test_a_newer_owners_tags_are_never_removed(provider, scm_emulator, scm_control):
    cert_id = buy_out_of_band(scm_emulator, apply_for="api.example.com")
    created = provider.create(adopt_inputs(cert_id))
    make_scm_client(scm_emulator.url).batch_create_or_delete_tags(scm_model.BatchCreateOrDeleteTagsRequest(
        resource_id=cert_id, body=scm_model.BatchCreateOrDeleteTagsRequestBody(action="create", tags=[
            scm_model.ScsResourceTag(key=RESOURCE_TAG, value="certfleet/other/web")])))
    provider.delete(cert_id, created.outs)
    tags = certificate(scm_control, cert_id)["tags"]
    assert tags[RESOURCE_TAG] == "certfleet/other/web" and GENERATION_TAG in tags and REQUEST_TAG in tags


def test_an_adopted_certificate_a_real_destroy_cannot_refund_is_released(provider, scm_emulator, scm_control):
    cert_id = buy_out_of_band(scm_emulator)
    created = provider.create(adopt_inputs(cert_id, onDestroy="delete"))
    scm_control.add_fault("UnsubscribeCertificate", status=400, code="SCM.0010", times=None)
    provider.delete(cert_id, created.outs)  # withdrawn; the refund is refused (7-day window over): kept
    assert certificate(scm_control, cert_id)["status"] in ("PAID", "UNPASSED")
    assert certfleet_tags(scm_control, cert_id) == []
