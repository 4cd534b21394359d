"""SCM v2 purchase (issue 9 item 3, seed 003): `api: v2` buys through POST /v2/{project_id}/scm/cert/purchase,
and never twice, though the v2 body carries no tags (docs/scm-v2.md).

The provider's methods run against the SCM emulator through the official SDK's transport (tests/provider/
test_scm_provider.py's fixtures). An interrupted run is played by the calls it made before it died: a raw v2
purchase (killed before it tagged), or a whole create (killed before the state was saved); then the next
run's create, whose journal stamp is from that earlier run, must take that certificate and buy nothing.
"""

from __future__ import annotations

import time

import pytest

from components import dynamic
from components.errors import CertfleetError, CloudError
from components.huaweicloud import client as scm_api
from components.huaweicloud import scm_sweep
from components.huaweicloud.scm import GENERATION_TAG, REQUEST_TAG, RESOURCE_TAG, request_hash
from components.huaweicloud.scm_model import CLOCK_SLACK_SECONDS, purchase_body_v2
from tests.emulators.conftest_scm import SCM_PROJECT_ID, make_scm_client
from tests.provider.test_scm_provider import COMPANY, emulated, inputs, provider  # noqa: F401

EARLIER_RUN = "an-earlier-run-that-was-killed"


@pytest.fixture(autouse=True)
def fresh_run():
    run_sets = (dynamic.DECLARED, dynamic.REPLACED, scm_sweep.BOUGHT_IN_THIS_RUN, scm_sweep.CLAIMED_IN_THIS_RUN)
    for run_set in run_sets:
        run_set.clear()
    yield
    for run_set in run_sets:
        run_set.clear()


def v2_inputs(name="legacy", journal_run=dynamic.RUN_ID, project_id=SCM_PROJECT_ID, **cert):
    entry = {"api": "v2", "brand": "GLOBALSIGN", "type": "OV_SSL_CERT", "domainType": "MULTI_DOMAIN",
             "domains": [f"{name}.example.com", f"www.{name}.example.com"], "company": COMPANY, **cert}
    return inputs(name, huawei_extra={"projectId": project_id}, journal_run=journal_run, **entry)


def killed_run_bought(scm_emulator, props, tags=None):
    """What a run killed right after its v2 purchase left: a PAID certificate without any tag (or `tags`)."""
    client = make_scm_client(scm_emulator.url)
    bought = scm_api.purchase_v2(client, SCM_PROJECT_ID, purchase_body_v2(props))
    cert_id = bought.cert[0].cert_id
    if tags:
        from huaweicloudsdkscm.v3 import (BatchCreateOrDeleteTagsRequest, BatchCreateOrDeleteTagsRequestBody,
                                          ScsResourceTag)
        client.batch_create_or_delete_tags(BatchCreateOrDeleteTagsRequest(
            resource_id=cert_id, body=BatchCreateOrDeleteTagsRequestBody(
                action="create", tags=[ScsResourceTag(key=k, value=v) for k, v in tags.items()])))
    return cert_id


def certificates(scm_control):
    return emulated(scm_control)["certificates"]


# --- the v2 body ---------------------------------------------------------------------------------------------

def test_v2_body_holds_every_seed_field():
    props = v2_inputs(years=2, domainNumbers=5)
    assert purchase_body_v2(props) == {
        "cert_brand": "GLOBALSIGN", "cert_type": "OV_SSL_CERT", "domain_type": "MULTI_DOMAIN", "effective_time": 2,
        "domain_numbers": 5, "order_number": 1, "agree_privacy_protection": True}


def test_create_buys_through_v2_tags_afterwards_and_applies(provider, scm_control):
    created = provider.create(v2_inputs(years=2, domainNumbers=3, tags={"team": "legacy"}))
    [cert] = certificates(scm_control)
    assert cert["id"] == created.id and cert["api_version"] == "v2"
    assert (cert["brand"], cert["type"], cert["domain_type"]) == ("GLOBALSIGN", "OV_SSL_CERT", "MULTI_DOMAIN")
    assert (cert["validity_period"], cert["domain_numbers"]) == (24, 3)
    # The v3 tag API works on a v2 purchase: later looks find it by its tags, as a v3 buy.
    assert cert["tags"] == {"team": "legacy", RESOURCE_TAG: "certfleet/test/legacy",
                            REQUEST_TAG: request_hash(created.outs), GENERATION_TAG: created.outs["generation"]}
    assert cert["domain"] == "legacy.example.com" and cert["sans"] == "www.legacy.example.com"
    assert created.outs["status"] == "CHECKING" and created.outs["adopted"] is False


@pytest.mark.parametrize("kind", ["EV_SSL_CERT"])
def test_every_v2_type_and_single_or_wildcard_domain_types_buy(provider, scm_control, kind):
    single = provider.create(v2_inputs("one", type=kind, domainType="SINGLE_DOMAIN", domains=["one.example.com"]))
    wild = provider.create(v2_inputs("wild", type=kind, domainType="WILDCARD", domains=["*.wild.example.com"]))
    shown = {c["id"]: c for c in certificates(scm_control)}
    assert {shown[single.id]["domain_type"], shown[wild.id]["domain_type"]} == {"SINGLE_DOMAIN", "WILDCARD"}
    assert {shown[single.id]["type"], shown[wild.id]["type"]} == {kind}
    assert all(c["api_version"] == "v2" for c in shown.values())


def test_another_project_is_refused_and_buys_nothing(provider, scm_control):
    with pytest.raises(CloudError) as raised:
        provider.create(v2_inputs(project_id="f" * 32))
    assert raised.value.code == "SCM.0003" and "scm.PurchaseCertificateV2" in str(raised.value)
    assert certificates(scm_control) == []


# --- never twice: the marker is the journal stamp --------------------------------------------------------------

def test_lost_v2_answer_claims_the_purchase_instead_of_buying_again(provider, scm_control):
    scm_control.add_fault("PurchaseCertificateV2", drop_response=True, times=1)
    created = provider.create(v2_inputs())
    [cert] = certificates(scm_control)
    assert cert["id"] == created.id and cert["api_version"] == "v2"
    assert created.outs["adopted"] is True  # certfleet cannot prove it placed it: destroy keeps it
    assert cert["tags"][RESOURCE_TAG] == "certfleet/test/legacy" and cert["tags"][REQUEST_TAG]
    assert created.outs["status"] == "CHECKING"


def test_killed_before_tagging_the_next_run_claims_it(provider, scm_control, scm_emulator):
    props = v2_inputs(journal_run=EARLIER_RUN)
    bought = killed_run_bought(scm_emulator, props)
    created = provider.create(props)
    assert created.id == bought and len(certificates(scm_control)) == 1
    assert created.outs["adopted"] is True
    [cert] = certificates(scm_control)
    assert cert["tags"][RESOURCE_TAG] == "certfleet/test/legacy" and cert["domain"] == "legacy.example.com"


def test_killed_after_tagging_the_next_run_finds_it_by_its_tags(provider, scm_control):
    first = provider.create(v2_inputs())  # bought and tagged; the state was never saved
    again = provider.create(v2_inputs(journal_run=EARLIER_RUN))
    assert again.id == first.id and len(certificates(scm_control)) == 1
    assert again.outs["adopted"] is False  # its tags prove it certfleet's purchase


def test_an_untagged_order_older_than_the_stamp_is_not_taken(provider, scm_control, scm_emulator):
    older = killed_run_bought(scm_emulator, v2_inputs())
    props = v2_inputs(journal_run=EARLIER_RUN)
    props["journal"]["at"] = time.time() + 3 * CLOCK_SLACK_SECONDS  # journalled well after that order
    created = provider.create(props)
    assert created.id != older and len(certificates(scm_control)) == 2 and created.outs["adopted"] is False


def test_another_product_or_another_resource_is_not_taken(provider, scm_control, scm_emulator):
    ev = killed_run_bought(scm_emulator, v2_inputs(type="EV_SSL_CERT"))
    theirs = killed_run_bought(scm_emulator, v2_inputs(), tags={RESOURCE_TAG: "certfleet/other/stack"})
    created = provider.create(v2_inputs(journal_run=EARLIER_RUN))
    assert created.id not in (ev, theirs) and len(certificates(scm_control)) == 3


def test_two_entries_of_one_product_never_take_one_certificate(provider, scm_control, scm_emulator):
    bought = killed_run_bought(scm_emulator, v2_inputs("a"))
    first = provider.create(v2_inputs("a", journal_run=EARLIER_RUN))
    second = provider.create(v2_inputs("b", journal_run=EARLIER_RUN))
    assert first.id == bought and second.id != bought and len(certificates(scm_control)) == 2
    tags = {c["id"]: c["tags"][RESOURCE_TAG] for c in certificates(scm_control)}
    assert tags == {first.id: "certfleet/test/a", second.id: "certfleet/test/b"}


def test_destroy_keeps_a_claimed_certificate_and_takes_its_tags_off(provider, scm_control, scm_emulator,
                                                                   monkeypatch):
    told: list[str] = []
    monkeypatch.setattr("components.huaweicloud.scm.tell_user", told.append)
    props = v2_inputs(journal_run=EARLIER_RUN)
    killed_run_bought(scm_emulator, props)
    created = provider.create(props)
    provider.delete(created.id, created.outs)
    [cert] = certificates(scm_control)
    assert cert["id"] == created.id and cert["status"] == "CHECKING"  # neither withdrawn nor refunded
    assert RESOURCE_TAG not in cert["tags"]
    # The campaign plays the operator on these words (scripts/campaign SCM_OPERATOR_PATTERNS): if they drift,
    # its destroys leave the certificate behind as an orphan.
    from scripts.campaign.campaign import SCM_OPERATOR_PATTERNS
    assert [created.id] == [found for pattern, _ in SCM_OPERATOR_PATTERNS for m in told
                            for found in pattern.findall(m)]


def test_destroy_refunds_a_v2_purchase_certfleet_made(provider, scm_control):
    created = provider.create(v2_inputs())
    provider.delete(created.id, created.outs)  # withdraws the application, then refunds (PAID within 7 days)
    assert certificates(scm_control) == []


def test_an_old_stamp_never_claims_an_untagged_certificate(provider, scm_control, scm_emulator):
    """A create under a stamp kept for months (a DEAD replacement with unchanged inputs keeps its first
    purchase's stamp; a certificate dropped by refresh) must not claim someone's untagged purchase of the
    product since then (a colleague's console purchase): certfleet cannot prove it placed it. It stops the
    purchase instead, naming it, and leaves it untouched (not tagged, not applied for)."""
    console = killed_run_bought(scm_emulator, v2_inputs("other"))  # PAID, no tags
    props = v2_inputs(journal_run=EARLIER_RUN)
    props["journal"]["at"] = time.time() - 200 * 86400  # the entry's first purchase, 200 days ago
    props["listing_lag_seconds"] = 0
    with pytest.raises(CertfleetError) as refused:
        provider.create(props)
    assert console in str(refused.value) and f"adopt: {console}" in str(refused.value)
    [cert] = certificates(scm_control)
    assert cert["id"] == console and cert["status"] == "PAID" and RESOURCE_TAG not in (cert.get("tags") or {})


def test_a_claim_needs_the_orders_time(provider, scm_control, scm_emulator):
    """may_claim_v2: a recent, interrupted stamp, and an order whose time its id tells, not before the look."""
    now = time.time()
    placed = time.strftime("CS%y%m%d%H%M0001", time.gmtime(now))
    assert scm_sweep.may_claim_v2(now - 60, placed, now)
    assert not scm_sweep.may_claim_v2(now - 60, None, now)  # order time unknown
    assert not scm_sweep.may_claim_v2(now - 200 * 86400, placed, now)  # a stamp kept for months
    assert not scm_sweep.may_claim_v2(now - 60, time.strftime("CS%y%m%d%H%M0001", time.gmtime(now - 7200)), now)


def test_a_stamp_of_another_purchase_buys_nothing(provider, scm_control):
    """`pulumi up --target <certificate>` leaves the journal out: the stamp is the previous run's, of another
    purchase (here: other years). The create refuses, and nothing is bought."""
    props = {**v2_inputs(years=2), "journal": v2_inputs()["journal"]}
    with pytest.raises(CertfleetError, match="stamp for this entry is of another purchase"):
        provider.create(props)
    assert certificates(scm_control) == []
