"""The SCM dynamic provider's methods, called directly against the SCM emulator through the official SDK.

The emulator's control API plays the CA (publish the challenge, reject) and injects faults at the wire
(429 throttling, a dropped answer); nothing replaces the SDK.
"""

from __future__ import annotations

import hashlib
import json
import time

import pytest

from components import dynamic, keys
from components.config import load_fleet
from components.errors import CertfleetError, CloudError
from components.huaweicloud import client as scm_api
from components.journal import fingerprint
from components.huaweicloud.scm import GENERATION_TAG, HASH_KEYS, INPUT_KEYS, REQUEST_TAG, RESOURCE_TAG, \
    ScmCertificateProvider, certificate_inputs, request_hash
from tests.emulators.conftest_scm import SCM_AK, SCM_DOMAIN_ID, SCM_SK


APPLICANT = {"name": "Zhang.San", "phone": "13800000000", "email": "ops@example.com"}
COMPANY = {"name": "Example Ltd", "province": "Beijing", "city": "Beijing", "country": "CN"}


def inputs(name="api", huawei_extra=None, journal_run=dynamic.RUN_ID, **cert):
    """A certificate's inputs as fleet.py makes them; the journal stamp is from this run unless told otherwise
    (`journal_run`: another run's id, or None for no stamp at all)."""
    raw_cert = {"brand": "GEOTRUST", "type": "DV_SSL_CERT", "domainType": "SINGLE_DOMAIN",
                "domains": ["api.example.com"], "applicant": APPLICANT, **cert}
    fleet = load_fleet({"huaweicloud": {**(huawei_extra or {}), "certificates": {name: raw_cert}}})
    spec = fleet.huaweicloud.certificates[0]
    props = certificate_inputs(spec, fleet.huaweicloud, f"certfleet/test/{name}")
    # The stamp journalled this very purchase (journal.stamp_refusal): its fingerprint as fleet.py computes it.
    journal = None if journal_run is None else {"fingerprint": fingerprint(props, HASH_KEYS), "run": journal_run,
                                                "at": time.time()}
    return {**props, "previous_resource_tags": [f"certfleet/test/{n}" for n in spec.previous_names],
            "journal": journal}


def stamped(props):
    """`props` with a stamp that journalled this very purchase (journal.stamp_refusal), as fleet.py computes it.
    Call again after changing what the purchase buys (e.g. a renewal generation)."""
    stamp = props.get("journal")
    return {**props, "journal": {**stamp, "fingerprint": fingerprint(props, HASH_KEYS)} if stamp else stamp}


class FakeClock:
    """Time advances only when the provider sleeps: bounded waits and backoff run instantly."""

    t = 0.0
    sleeps: list[float] = []

    @classmethod
    def now(cls):
        return cls.t

    @classmethod
    def sleep(cls, seconds):
        cls.sleeps.append(seconds)
        cls.t += seconds


@pytest.fixture
def provider(scm_emulator, monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("HUAWEICLOUD_SDK_AK", SCM_AK)
    monkeypatch.setenv("HUAWEICLOUD_SDK_SK", SCM_SK)
    monkeypatch.setenv("HUAWEICLOUD_SDK_DOMAIN_ID", SCM_DOMAIN_ID)
    monkeypatch.setenv("CERTFLEET_HUAWEICLOUD_SCM_ENDPOINT", scm_emulator.url)
    scm_api._clients.clear()
    FakeClock.sleeps = []
    dynamic.RUN_WAITS.reset()
    p = ScmCertificateProvider()
    p.clock = FakeClock
    yield p
    scm_api._clients.clear()
    dynamic.RUN_WAITS.reset()


def emulated(control):
    return control.call("GET", "scm/certificates")


def test_create_buys_applies_and_records_dns_records(provider, scm_control):
    props = inputs(domainType="MULTI_DOMAIN", domains=["api.example.com", "www.api.example.com"])
    created = provider.create(props)
    outs = created.outs
    assert outs["status"] == "CHECKING"
    assert {r["domain"] for r in outs["validation_records"]} == {"api.example.com", "www.api.example.com"}
    assert all(r["type"] == "TXT" and r["name"].startswith("_dnsauth.") for r in outs["validation_records"])
    assert "publish validation_records" in outs["status_message"]
    assert outs["order_id"] and outs["certificate_pem"] is None and outs["private_key_pem"] is None
    [cert] = emulated(scm_control)["certificates"]
    assert cert["id"] == created.id and cert["tags"][RESOURCE_TAG] == "certfleet/test/api"
    assert cert["domain"] == "api.example.com" and cert["sans"] == "www.api.example.com"


def test_create_is_five_calls_the_apply_seen_by_the_records_wait(provider, scm_control):
    scm_control.call("DELETE", "calls")
    created = provider.create(inputs())
    assert created.outs["status"] == "CHECKING" and created.outs["validation_records"]
    operations = scm_control.call("GET", "calls")["operations"]
    assert {op: counts.get("ok") for op, counts in operations.items()} == {
        "ListCertificatesByTag": 1, "SubscribeCertificate": 1, "ShowCertificate": 2, "ApplyCertificate": 1}


def test_refresh_follows_status_to_issued_and_exports_key(provider, scm_control):
    props = inputs()
    created = provider.create(props)
    scm_control.call("POST", f"scm/certificates/{created.id}/publish")
    read = provider.read(created.id, created.outs)
    assert read.outs["status"] == "ISSUED"
    assert read.outs["certificate_pem"].startswith("-----BEGIN CERTIFICATE-----")
    assert "PRIVATE KEY" in read.outs["private_key_pem"]  # made by SCM (csr: scm), exported once issued
    assert read.outs["not_after"] and "keeps it" in read.outs["status_message"]
    assert read.inputs["domains"] == ["api.example.com"]


def test_generated_csr_keeps_the_key_locally(provider, scm_control):
    created = provider.create(inputs(csr="generate", keyAlgorithm="EC_P256"))
    assert "PRIVATE KEY" in created.outs["private_key_pem"]
    assert emulated(scm_control)["certificates"][0]["csr_supplied"] is True
    scm_control.call("POST", f"scm/certificates/{created.id}/publish")
    read = provider.read(created.id, created.outs)
    assert read.outs["status"] == "ISSUED"
    assert read.outs["private_key_pem"] == created.outs["private_key_pem"]


def test_lost_buy_answer_is_adopted_not_bought_twice(provider, scm_control):
    scm_control.add_fault("SubscribeCertificate", drop_response=True, times=1)
    created = provider.create(inputs())
    assert len(emulated(scm_control)["certificates"]) == 1
    assert created.outs["status"] == "CHECKING"
    # A second create of the same resource (a crashed run retried) adopts the same certificate again.
    again = provider.create(inputs())
    assert again.id == created.id and len(emulated(scm_control)["certificates"]) == 1
    # ... and re-stamps the generation, so deleting the first record leaves the adopted one alone.
    provider.delete(created.id, created.outs)
    [cert] = emulated(scm_control)["certificates"]
    assert cert["tags"][GENERATION_TAG] == again.outs["generation"] and cert["status"] == "CHECKING"


def test_throttling_is_retried_with_backoff(provider, scm_control):
    scm_control.add_fault("ShowCertificate", status=429, times=2)   # GET: the SDK reports error_code "429"
    scm_control.add_fault("SubscribeCertificate", status=429, times=1)  # POST: APIGW.0308
    created = provider.create(inputs())
    assert created.outs["status"] == "CHECKING"
    assert len(FakeClock.sleeps) >= 3 and len(emulated(scm_control)["certificates"]) == 1


def test_persistent_throttling_gives_up_with_a_cloud_error(provider, scm_control):
    scm_control.add_fault("ListCertificatesByTag", status=429, times=10)
    with pytest.raises(CloudError) as raised:
        provider.create(inputs())
    assert raised.value.code == "APIGW.0308" and "scm.ListCertificatesByTag" in str(raised.value)
    assert "certificate 'api'" in str(raised.value)
    assert emulated(scm_control)["certificates"] == []


def test_apply_error_after_purchase_is_recorded_not_raised(provider, scm_control):
    scm_control.add_fault("ApplyCertificate", status=400, code="SCM.0015", message="names do not match", times=1)
    created = provider.create(inputs())
    assert created.outs["status"] == "PAID" and "SCM.0015" in created.outs["status_message"]
    # The next up sees a bought, unapplied certificate and applies (update).
    assert provider.diff(created.id, created.outs, inputs()).changes is True
    updated = provider.update(created.id, created.outs, inputs())
    assert updated.outs["status"] == "CHECKING" and len(emulated(scm_control)["certificates"]) == 1


def test_delete_withdraws_and_refunds_a_pending_certificate(provider, scm_control):
    created = provider.create(inputs())
    provider.delete(created.id, created.outs)
    assert emulated(scm_control)["certificates"] == []
    assert provider.read(created.id, created.outs).id == ""


def test_delete_keeps_an_issued_certificate_by_default(provider, scm_control):
    created = provider.create(inputs())
    scm_control.call("POST", f"scm/certificates/{created.id}/publish")
    issued = provider.read(created.id, created.outs).outs
    provider.delete(created.id, issued)
    assert [c["status"] for c in emulated(scm_control)["certificates"]] == ["ISSUED"]
    provider.delete(created.id, {**issued, "on_destroy": "delete"})
    assert emulated(scm_control)["certificates"] == []


def test_ov_certificate_sends_company_fields(provider, scm_control):
    props = inputs(brand="GLOBALSIGN", type="OV_SSL_CERT", company=COMPANY, validation="EMAIL")
    created = provider.create(props)
    [cert] = emulated(scm_control)["certificates"]
    assert cert["application_info"]["company_name"] == "Example Ltd" and cert["validation_method"] == "EMAIL"
    assert created.outs["validation_records"] == [] and "e-mail" in created.outs["status_message"]


def test_diff_replaces_on_purchase_changes_and_updates_tags_in_place(provider):
    olds = {**inputs(), "status": "CHECKING"}
    assert provider.diff("x", olds, inputs(years=2)).replaces == ["years"]
    tagged = provider.diff("x", olds, inputs(tags={"team": "edge"}))
    assert tagged.changes is None and tagged.replaces == []
    assert provider.diff("x", olds, inputs()).changes is False


def test_multi_domain_buy_pays_for_the_extra_single_and_wildcard_names(provider, scm_control):
    props = inputs(domainType="MULTI_DOMAIN", domainNumbers=5,
                   domains=["api.example.com", "www.api.example.com", "*.api.example.com"])
    created = provider.create(props)
    assert created.outs["status"] == "CHECKING"  # SCM accepted the application for all three names
    [cert] = emulated(scm_control)["certificates"]
    assert (cert["single_domain_number"], cert["wildcard_domain_number"], cert["domain_numbers"]) == (1, 1, 5)


# --- regressions: money safety -------------------------------------------------------------------------------

def faults_left(control, action):
    """Injected faults not yet used: a fault still here means the provider never made that call."""
    return [f for f in control.faults() if f["action"] == action]


def count_calls(control, action):
    """Counts the provider's `action` calls at the emulator from here on: a fault rule that only delays each
    call a millisecond, and counts its hits."""
    rule = control.add_fault(action, delay=0.001, times=None)

    def count() -> int:
        return next(f["hits"] for f in control.faults() if f["id"] == rule["id"])
    return count


def test_show_errors_after_the_purchase_are_recorded_not_raised(provider, scm_control):
    scm_control.add_fault("ShowCertificate", status=500, times=None)
    created = provider.create(inputs())
    assert created.id and created.outs["status"] == "UNKNOWN" and "scm.ShowCertificate" in created.outs["status_message"]
    assert len(emulated(scm_control)["certificates"]) == 1
    # The next up looks again (update) and applies; no second purchase.
    scm_control.clear_faults()
    assert provider.diff(created.id, created.outs, inputs()).changes is True
    updated = provider.update(created.id, created.outs, inputs())
    assert updated.outs["status"] == "CHECKING" and len(emulated(scm_control)["certificates"]) == 1


def test_generated_key_survives_an_error_after_the_apply(provider, scm_control):
    props = inputs(csr="generate")
    original_apply = provider._apply

    def apply_then_outage(client, cert_id, props, resource):  # an SCM outage starting right after the apply
        note = original_apply(client, cert_id, props, resource)
        scm_control.add_fault("ShowCertificate", status=503, times=None)
        return note

    provider._apply = apply_then_outage
    created = provider.create(props)
    assert "PRIVATE KEY" in created.outs["private_key_pem"] and created.outs["csr_pem"]
    assert created.outs["status"] == "UNKNOWN"
    [cert] = emulated(scm_control)["certificates"]
    assert cert["status"] == "CHECKING" and cert["id"] == created.id


def test_export_error_is_recorded_and_the_next_up_exports(provider, scm_control):
    created = provider.create(inputs(csr="generate"))
    scm_control.call("POST", f"scm/certificates/{created.id}/publish")
    scm_control.add_fault("ExportCertificate", status=500, times=None)
    updated = provider.update(created.id, created.outs, inputs(csr="generate", tags={"team": "edge"}))
    assert updated.outs["status"] == "UNKNOWN" and updated.outs["private_key_pem"] == created.outs["private_key_pem"]
    scm_control.clear_faults()
    assert provider.diff(created.id, updated.outs, inputs(csr="generate", tags={"team": "edge"})).changes is True
    again = provider.update(created.id, updated.outs, inputs(csr="generate", tags={"team": "edge"}))
    assert again.outs["status"] == "ISSUED" and again.outs["certificate_pem"]


@pytest.mark.parametrize("change", [{"csr": "generate"}, {"keyAlgorithm": "EC_P384"}])
def test_replacement_for_a_new_key_buys_instead_of_adopting_the_old_certificate(provider, scm_control, change):
    created = provider.create(inputs(csr="generate", keyAlgorithm="EC_P256") if "csr" not in change else inputs())
    scm_control.call("POST", f"scm/certificates/{created.id}/publish")
    outs = provider.read(created.id, created.outs).outs
    news = inputs(**{"csr": "generate", "keyAlgorithm": "EC_P256", **change}) if "csr" not in change \
        else inputs(**change)
    assert provider.diff(created.id, outs, news).replaces
    new = provider.create(news)  # create before delete
    assert new.id != created.id and "PRIVATE KEY" in new.outs["private_key_pem"]
    provider.delete(created.id, outs)
    statuses = {c["id"]: c["status"] for c in emulated(scm_control)["certificates"]}
    assert statuses == {created.id: "ISSUED", new.id: "CHECKING"}


def test_region_and_stack_rename_do_not_buy_again(provider, scm_control):
    created = provider.create(inputs())
    moved = {**inputs(huawei_extra={"region": "ap-southeast-1"}), "resource_tag": "certfleet/prod/api"}
    diff = provider.diff(created.id, created.outs, moved)
    assert diff.replaces == [] and diff.changes is None
    updated = provider.update(created.id, created.outs, moved)
    assert updated.outs["status"] == "CHECKING"
    [cert] = emulated(scm_control)["certificates"]
    assert cert["tags"][RESOURCE_TAG] == "certfleet/prod/api"
    # A later interrupted create under the new name finds it (same purchase, re-tagged).
    assert provider.create(moved).id == created.id and len(emulated(scm_control)["certificates"]) == 1


def test_other_names_on_a_paid_certificate_are_applied_for_not_bought(provider, scm_control):
    scm_control.add_fault("ApplyCertificate", status=400, code="SCM.0015", message="names do not match", times=1)
    created = provider.create(inputs())
    assert created.outs["status"] == "PAID"
    news = inputs(domains=["www.example.com"])
    diff = provider.diff(created.id, created.outs, news)
    assert diff.changes is True and diff.replaces == []
    updated = provider.update(created.id, created.outs, news)
    [cert] = emulated(scm_control)["certificates"]
    assert updated.outs["status"] == "CHECKING" and cert["domain"] == "www.example.com"
    # Under review, other names still need a new purchase.
    assert provider.diff(created.id, updated.outs, inputs(domains=["ftp.example.com"])).replaces == ["domains"]


@pytest.mark.parametrize("status", ["SUPPLEMENTCHECKING", "CANCELSUPPLEMENTING", "CANCLEREVOKING", "REVOKING"])
def test_delete_never_withdraws_or_refunds_an_issued_certificate(provider, scm_control, status):
    created = provider.create(inputs())
    scm_control.call("POST", f"scm/certificates/{created.id}/publish")
    issued = provider.read(created.id, created.outs).outs
    scm_control.call("POST", f"scm/certificates/{created.id}/status", {"status": status})
    for action in ("CancelCertificateRequest", "UnsubscribeCertificate", "DeleteCertificate"):
        scm_control.add_fault(action, status=500, code="SCM.9999", times=1)  # fails loudly if ever called
    provider.delete(created.id, issued)
    assert [c["status"] for c in emulated(scm_control)["certificates"]] == [status]
    assert all(faults_left(scm_control, a) for a in ("CancelCertificateRequest", "UnsubscribeCertificate"))


def test_delete_keeps_a_certificate_whose_withdrawal_is_refused(provider, scm_control):
    created = provider.create(inputs())
    scm_control.call("POST", "scm/settings", {"refuse_withdrawals": 1})
    scm_control.add_fault("UnsubscribeCertificate", status=500, code="SCM.9999", times=1)
    provider.delete(created.id, created.outs)
    assert [c["status"] for c in emulated(scm_control)["certificates"]] == ["CHECKING"]
    assert faults_left(scm_control, "UnsubscribeCertificate")


def test_delete_never_asks_for_the_refund_of_a_rejected_certificate(provider, scm_control, monkeypatch):
    """SCM refunds no UNPASSED certificate (reference A4): destroy keeps it and says so, without a failing call."""
    told = []
    monkeypatch.setattr("components.huaweicloud.scm_destroy.tell_user", told.append)
    created = provider.create(inputs())
    scm_control.call("POST", f"scm/certificates/{created.id}/reject")
    scm_control.add_fault("UnsubscribeCertificate", status=500, code="SCM.9999", times=1)  # fails if ever called
    provider.delete(created.id, provider.read(created.id, created.outs).outs)
    assert faults_left(scm_control, "UnsubscribeCertificate")
    assert [c["status"] for c in emulated(scm_control)["certificates"]] == ["UNPASSED"]
    [message] = told
    assert created.id in message and "cannot be refunded" in message and "UNPASSED" in message
    assert f"adopt: {created.id}" in message


def test_create_waits_for_the_order_to_be_paid_before_applying(provider, scm_control):
    scm_control.call("POST", "scm/settings", {"order_processing_reads": 3})
    created = provider.create(inputs())
    assert created.outs["status"] == "CHECKING" and FakeClock.sleeps
    [cert] = emulated(scm_control)["certificates"]
    assert cert["domain"] == "api.example.com"


def test_an_order_still_processing_is_looked_at_again_by_the_next_up(provider, scm_control):
    scm_control.call("POST", "scm/settings", {"order_processing_reads": 10_000})
    created = provider.create(inputs())
    assert created.outs["status"] not in ("PAID", "CHECKING") and len(emulated(scm_control)["certificates"]) == 1
    assert provider.diff(created.id, created.outs, inputs()).changes is True
    scm_control.call("POST", "scm/settings", {"order_processing_reads": 0})
    assert provider.diff(created.id, {**created.outs, "status": "ORDER_PROCESSING"}, inputs()).changes is True


def test_lost_buy_answer_with_a_lagging_tag_index_is_still_adopted(provider, scm_control):
    scm_control.call("POST", "scm/settings", {"tag_index_lag_reads": 3})
    scm_control.add_fault("SubscribeCertificate", drop_response=True, times=1)
    created = provider.create(inputs())
    [cert] = emulated(scm_control)["certificates"]
    assert created.id == cert["id"] and created.outs["status"] == "CHECKING"


def test_refused_buy_is_not_looked_for_at_length(provider, scm_control):
    scm_control.add_fault("SubscribeCertificate", status=400, code="SCM.0005", times=1)
    with pytest.raises(CloudError):
        provider.create(inputs())
    assert sum(FakeClock.sleeps) < 10 and emulated(scm_control)["certificates"] == []


def test_on_destroy_change_together_with_a_replacement_is_allowed(provider):
    # A replacement keeps the old issued certificate whatever onDestroy says (see the replacement tests
    # below), so changing onDestroy in the same `up` is harmless and no longer refused.
    olds = {**inputs(onDestroy="delete"), "status": "ISSUED"}
    assert provider.diff("x", olds, inputs(onDestroy="keep", years=2)).replaces == ["years"]
    assert provider.diff("x", olds, inputs(onDestroy="keep")).replaces == []
    assert provider.diff("x", {**inputs(), "status": "ISSUED"}, inputs(onDestroy="delete", years=2)).replaces


def test_sdk_side_errors_become_cloud_errors(scm_emulator, tmp_path, monkeypatch):
    from huaweicloudsdkscm.v3 import ShowCertificateRequest

    from tests.emulators.conftest_scm import make_scm_client

    monkeypatch.setenv("HOME", str(tmp_path))
    client = make_scm_client(scm_emulator.url, ak="")  # the SDK itself raises ValueError before sending
    with pytest.raises(CloudError) as raised:
        scm_api.call("ShowCertificate", "certificate 'api'", lambda: client.show_certificate(
            ShowCertificateRequest(certificate_id="x")))
    assert "scm.ShowCertificate" in str(raised.value) and "certificate 'api'" in str(raised.value)


def test_client_config_repr_hides_secrets():
    config = scm_api.Config(ak="AKID", sk="THE-SECRET-KEY", domain_id="d", security_token="THE-TOKEN",
                            endpoint="https://x")
    assert "THE-SECRET-KEY" not in repr(config) and "THE-TOKEN" not in repr(config) and "AKID" in repr(config)


# --- regressions: stale state in update ------------------------------------------------------------------------

def test_other_names_on_a_certificate_that_moved_on_since_the_refresh_are_refused(provider, scm_control):
    scm_control.add_fault("ApplyCertificate", status=400, code="SCM.0015", message="names do not match", times=1)
    props = inputs(domainType="MULTI_DOMAIN", domains=["api.example.com", "www.api.example.com"])
    created = provider.create(props)
    assert created.outs["status"] == "PAID"
    # Applied for outside this run (the console, or an apply whose answer was lost): SCM says CHECKING.
    scm_control.call("POST", f"scm/certificates/{created.id}/status", {"status": "CHECKING"})
    [before] = emulated(scm_control)["certificates"]
    news = inputs(domainType="MULTI_DOMAIN", domains=["api.example.com", "shop.example.com"])
    assert provider.diff(created.id, created.outs, news).replaces == []  # state still says PAID
    for action in ("ApplyCertificate", "BatchCreateOrDeleteTags"):
        scm_control.add_fault(action, status=500, code="SCM.9999", times=1)  # fails loudly if ever called
    with pytest.raises(CertfleetError, match=r"moved on since the last refresh.*pulumi up --refresh"):
        provider.update(created.id, created.outs, news)
    [cert] = emulated(scm_control)["certificates"]
    assert cert["tags"] == before["tags"] and cert["domain"] == before["domain"] and cert["status"] == "CHECKING"
    assert faults_left(scm_control, "ApplyCertificate") and faults_left(scm_control, "BatchCreateOrDeleteTags")
    # After `pulumi up --refresh` diff sees the real status and replaces (a new purchase).
    refreshed = provider.read(created.id, created.outs)
    assert refreshed.outs["status"] == "CHECKING"
    assert provider.diff(created.id, refreshed.outs, news).replaces == ["domains"]


def test_update_of_a_certificate_deleted_out_of_band_does_not_wait(provider, scm_control, scm_client):
    from huaweicloudsdkscm.v3 import UnsubscribeCertificateRequest

    scm_control.add_fault("ApplyCertificate", status=400, code="SCM.0015", message="names do not match", times=1)
    created = provider.create(inputs())
    assert created.outs["status"] == "PAID"
    scm_client.unsubscribe_certificate(UnsubscribeCertificateRequest(cert_id=created.id))  # refunded in the console
    assert emulated(scm_control)["certificates"] == []
    started = FakeClock.t
    assert provider.diff(created.id, created.outs, inputs()).changes is True  # PAID in state: update applies
    updated = provider.update(created.id, created.outs, inputs())
    assert FakeClock.t - started < 5
    assert updated.outs["status"] == "GONE" and "pulumi up --refresh" in updated.outs["status_message"]
    assert updated.outs["certificate_id"] == created.id
    # The next up looks once again (still quick); refresh drops it from state.
    assert provider.diff(created.id, updated.outs, inputs()).changes is True
    assert provider.read(created.id, updated.outs).id == ""


def test_update_looks_once_at_a_status_certfleet_does_not_know(provider, scm_control):
    created = provider.create(inputs())
    scm_control.call("POST", f"scm/certificates/{created.id}/status", {"status": "SOMETHING_NEW"})
    started = FakeClock.t
    updated = provider.update(created.id, created.outs, inputs(tags={"team": "edge"}))
    assert FakeClock.t - started < 5
    assert updated.outs["status"] == "SOMETHING_NEW" and "pulumi up --refresh" in updated.outs["status_message"]
    assert emulated(scm_control)["certificates"][0]["tags"]["team"] == "edge"


# --- regressions: renames, interrupted runs, replacement, owner, drift, shared waits ----------------------------

OTHER_AK, OTHER_SK, OTHER_DOMAIN_ID = "FAKEAK789OTHERACCOUNT", "FAKESK000otherAccountSecret", "0th3rd0m41n"


def bought_by_an_interrupted_run(provider, props):
    """The purchase of an earlier run that died before the state was saved: bought and tagged, nothing else."""
    client, resource = provider._client(props)
    return provider._buy(client, props, "generation-of-the-earlier-run", resource)


def use_keys(monkeypatch, scm_control, ak, domain_id):
    """The next calls use another key pair (registered at the emulator for `domain_id`)."""
    scm_control.call("POST", "scm/accounts", {"ak": ak, "sk": OTHER_SK, "domain_id": domain_id})
    monkeypatch.setenv("HUAWEICLOUD_SDK_AK", ak)
    monkeypatch.setenv("HUAWEICLOUD_SDK_SK", OTHER_SK)
    monkeypatch.setenv("HUAWEICLOUD_SDK_DOMAIN_ID", domain_id)
    scm_api._clients.clear()


# 1. renames

def test_renamed_entry_adopts_the_certificate_bought_under_its_former_name(provider, scm_control):
    earlier = bought_by_an_interrupted_run(provider, inputs(name="api"))
    created = provider.create(inputs(name="edge", previousNames=["api"]))
    [cert] = emulated(scm_control)["certificates"]
    assert created.id == earlier == cert["id"] and created.outs["status"] == "CHECKING"
    assert cert["tags"][RESOURCE_TAG] == "certfleet/test/edge"  # adopted under its new identity
    assert cert["tags"][GENERATION_TAG] == created.outs["generation"]


def test_rename_through_an_alias_re_tags_in_place_and_buys_nothing(provider, scm_control):
    created = provider.create(inputs(name="api"))
    renamed = inputs(name="edge", previousNames=["api"])
    diff = provider.diff(created.id, created.outs, renamed)
    assert diff.replaces == [] and diff.changes is None
    updated = provider.update(created.id, created.outs, renamed)
    [cert] = emulated(scm_control)["certificates"]
    assert updated.outs["status"] == "CHECKING" and cert["tags"][RESOURCE_TAG] == "certfleet/test/edge"
    assert provider.create(inputs(name="edge")).id == created.id  # found under the new identity alone


# 2. an interrupted run and a lagging tag index

def test_create_after_an_interrupted_run_waits_for_the_lagging_listing(provider, scm_control):
    scm_control.call("POST", "scm/settings", {"tag_index_lag_reads": 5})
    earlier = bought_by_an_interrupted_run(provider, inputs())
    created = provider.create(inputs(journal_run="an-earlier-run"))
    [cert] = emulated(scm_control)["certificates"]
    assert created.id == earlier == cert["id"] and created.outs["status"] == "CHECKING"


def test_create_after_an_interrupted_run_finds_by_the_paid_sweep_what_the_index_never_shows(provider, scm_control):
    scm_control.call("POST", "scm/settings", {"tag_index_lag_reads": 10_000})  # an order the index never shows
    earlier = bought_by_an_interrupted_run(provider, inputs())
    started = FakeClock.t
    created = provider.create(inputs(journal_run="an-earlier-run", huawei_extra={"listingLagSeconds": 30}))
    assert FakeClock.t - started < 5  # the sweep sees it at once: its own tags prove it this purchase's
    [cert] = emulated(scm_control)["certificates"]
    assert created.id == earlier == cert["id"] and created.outs["status"] == "CHECKING"


def test_create_after_an_interrupted_run_that_bought_nothing_buys_once_the_listing_lag_is_over(provider,
                                                                                                 scm_control):
    scm_control.call("POST", "scm/settings", {"tag_index_lag_reads": 10_000})
    started = FakeClock.t
    provider.create(inputs(journal_run="an-earlier-run", huawei_extra={"listingLagSeconds": 30}))
    assert 30 - 1e-6 <= FakeClock.t - started < 40 and len(emulated(scm_control)["certificates"]) == 1


def test_create_journalled_in_this_run_looks_once_and_buys(provider, scm_control):
    scm_control.call("POST", "scm/settings", {"tag_index_lag_reads": 5})
    created = provider.create(inputs())
    [cert] = emulated(scm_control)["certificates"]
    assert cert["id"] == created.id and created.outs["status"] == "CHECKING"
    assert FakeClock.sleeps == []  # no wait at all: nothing before this run journalled the purchase


# 3. onDestroy: delete fires on a real destroy only

@pytest.mark.parametrize("rename", [False, True], ids=["same-name", "renamed-in-the-same-up"])
def test_replacement_keeps_the_issued_certificate_whatever_on_destroy_says(provider, scm_control, rename):
    created = provider.create(inputs(onDestroy="delete"))
    scm_control.call("POST", f"scm/certificates/{created.id}/publish")
    issued = provider.read(created.id, created.outs).outs
    news = inputs(name="edge", previousNames=["api"], onDestroy="delete", years=2) if rename \
        else inputs(onDestroy="delete", years=2)
    provider.check(issued, news)  # the program still declares the certificate
    assert provider.diff(created.id, issued, news).replaces == ["years"]
    new = provider.create(news)  # create before delete
    provider.delete(created.id, issued)
    statuses = {c["id"]: c["status"] for c in emulated(scm_control)["certificates"]}
    assert statuses == {created.id: "ISSUED", new.id: "CHECKING"}


def test_replacement_still_withdraws_and_refunds_a_pending_certificate(provider, scm_control):
    created = provider.create(inputs(onDestroy="delete"))
    news = inputs(onDestroy="delete", years=2)
    provider.check(created.outs, news)
    assert provider.diff(created.id, created.outs, news).replaces == ["years"]
    new = provider.create(news)
    provider.delete(created.id, created.outs)
    assert [c["id"] for c in emulated(scm_control)["certificates"]] == [new.id]


def test_real_destroy_honours_on_destroy_delete(provider, scm_control):
    created = provider.create(inputs(onDestroy="delete"))
    scm_control.call("POST", f"scm/certificates/{created.id}/publish")
    issued = provider.read(created.id, created.outs).outs
    provider.check({}, inputs(name="web", domains=["web.example.com"]))  # the program declares another one only
    provider.delete(created.id, issued)
    assert emulated(scm_control)["certificates"] == []


# 4. owner: another account's "not found" is not "gone"

def test_outputs_record_the_owner_but_never_the_access_key(provider, scm_emulator, monkeypatch):
    created = provider.create(inputs())
    assert created.outs["owner"] == {"endpoint": scm_emulator.url, "account": SCM_DOMAIN_ID}
    assert SCM_AK not in json.dumps(created.outs)
    monkeypatch.delenv("HUAWEICLOUD_SDK_DOMAIN_ID")
    assert scm_api.owner("cn-north-4")["account"] == hashlib.sha256(SCM_AK.encode()).hexdigest()[:12]


def test_another_accounts_keys_never_drop_a_certificate_from_state(provider, scm_control, monkeypatch):
    created = provider.create(inputs())
    use_keys(monkeypatch, scm_control, OTHER_AK, OTHER_DOMAIN_ID)
    for call in (lambda: provider.read(created.id, created.outs),
                 lambda: provider.update(created.id, created.outs, inputs(tags={"team": "edge"})),
                 lambda: provider.delete(created.id, created.outs)):
        with pytest.raises(CloudError) as raised:
            call()
        text = str(raised.value)
        assert "certificate 'api'" in text and created.id in text and SCM_DOMAIN_ID in text
        assert OTHER_DOMAIN_ID in text and "of the account that bought it" in text and "pulumi state delete" in text
    [cert] = emulated(scm_control)["certificates"]
    assert cert["status"] == "CHECKING" and "team" not in cert["tags"]


def test_under_the_recorded_owner_not_found_is_gone(provider, scm_control, scm_client, monkeypatch):
    from huaweicloudsdkscm.v3 import UnsubscribeCertificateRequest

    scm_control.add_fault("ApplyCertificate", status=400, code="SCM.0015", times=1)
    created = provider.create(inputs())
    assert created.outs["status"] == "PAID"
    use_keys(monkeypatch, scm_control, "FAKEAK321SECONDKEY", SCM_DOMAIN_ID)  # another key of the same account
    assert provider.read(created.id, created.outs).outs["status"] == "PAID"
    scm_client.unsubscribe_certificate(UnsubscribeCertificateRequest(cert_id=created.id))  # refunded in the console
    with pytest.raises(CloudError, match="not recorded"):  # a state from before owners were recorded: unproven
        provider.read(created.id, {**created.outs, "owner": None})
    assert provider.read(created.id, created.outs).id == ""


# 5. drift made in the console shows in the next preview

def test_refresh_reports_names_and_tags_changed_in_the_console(provider, scm_control, scm_client):
    from huaweicloudsdkscm.v3 import (ApplyCertificateRequest, ApplyCertificateRequestBody,
                                      BatchCreateOrDeleteTagsRequest, BatchCreateOrDeleteTagsRequestBody,
                                      CancelCertificateRequestRequest, ScsResourceTag)

    props = inputs(domainType="MULTI_DOMAIN", domains=["api.example.com", "www.api.example.com"],
                   tags={"team": "edge"})
    created = provider.create(props)
    assert provider.read(created.id, created.outs).inputs == {k: created.outs[k] for k in INPUT_KEYS}
    # In the console: a tag changed, the application withdrawn (PAID) and made again for other names.
    scm_client.batch_create_or_delete_tags(BatchCreateOrDeleteTagsRequest(
        resource_id=created.id, body=BatchCreateOrDeleteTagsRequestBody(
            action="create", tags=[ScsResourceTag(key="team", value="console")])))
    scm_client.cancel_certificate_request(CancelCertificateRequestRequest(certificate_id=created.id))
    paid = provider.read(created.id, created.outs)
    assert paid.outs["status"] == "PAID" and paid.inputs["domains"] == props["domains"]  # SCM has no names yet
    scm_client.apply_certificate(ApplyCertificateRequest(certificate_id=created.id, body=ApplyCertificateRequestBody(
        domain="api.example.com", sans="shop.example.com", domain_method="DNS", key_algorithm="RSA_2048",
        applicant_name="Zhang.San", applicant_phone="13800000000", applicant_email="ops@example.com",
        agree_privacy_protection=True)))
    read = provider.read(created.id, created.outs)
    assert read.inputs["domains"] == read.outs["domains"] == ["api.example.com", "shop.example.com"]
    assert read.inputs["tags"] == read.outs["tags"] == {"team": "console"}  # certfleet's own tags left out
    diff = provider.diff(created.id, read.outs, props)  # the next preview
    assert diff.replaces == ["domains"] and diff.changes is not False
    # The replacement buys a certificate for the configured names: it never adopts the drifted one back.
    new = provider.create(props)
    assert new.id != created.id and len(emulated(scm_control)["certificates"]) == 2


def test_refresh_does_not_report_names_in_another_order_as_drift(provider, scm_control, scm_client):
    from huaweicloudsdkscm.v3 import (ApplyCertificateRequest, ApplyCertificateRequestBody,
                                      CancelCertificateRequestRequest)

    names = ["api.example.com", "a.api.example.com", "b.api.example.com"]
    props = inputs(domainType="MULTI_DOMAIN", domainNumbers=3, domains=names)
    created = provider.create(props)
    scm_client.cancel_certificate_request(CancelCertificateRequestRequest(certificate_id=created.id))
    provider.read(created.id, created.outs)  # CANCELCHECKING -> PAID
    scm_client.apply_certificate(ApplyCertificateRequest(certificate_id=created.id, body=ApplyCertificateRequestBody(
        domain="api.example.com", sans="b.api.example.com;a.api.example.com", domain_method="DNS",
        key_algorithm="RSA_2048", applicant_name="Zhang.San", applicant_phone="13800000000",
        applicant_email="ops@example.com", agree_privacy_protection=True)))
    read = provider.read(created.id, created.outs)
    assert read.inputs["domains"] == names
    assert provider.diff(created.id, read.outs, props).changes is False


# 6. the long waits share the run's wait window; the looks before a purchase do not

def test_long_waits_of_one_run_share_its_wait_window(provider, scm_control):
    extra = {"issuedTimeoutSeconds": 600}
    first = provider.create(inputs(huawei_extra=extra))  # issuance never comes: waits its 600 s
    started = FakeClock.t
    second = provider.create(inputs(name="web", domains=["web.example.com"], huawei_extra=extra))
    assert FakeClock.t - started < 10  # the window closed: it looked once
    assert first.outs["status"] == second.outs["status"] == "CHECKING"
    assert len(emulated(scm_control)["certificates"]) == 2


@pytest.mark.parametrize("case", ["interrupted-run", "lost-buy-answer"])
def test_looks_before_a_purchase_run_their_full_length_after_the_window_closed(provider, scm_control, case):
    provider.create(inputs(name="web", domains=["web.example.com"], huawei_extra={"issuedTimeoutSeconds": 600}))
    scm_control.call("POST", "scm/settings", {"tag_index_lag_reads": 5})
    if case == "interrupted-run":
        earlier = bought_by_an_interrupted_run(provider, inputs())
        created = provider.create(inputs(journal_run="an-earlier-run"))
        assert created.id == earlier
    else:
        scm_control.add_fault("SubscribeCertificate", drop_response=True, times=1)
        created = provider.create(inputs())
    assert len([c for c in emulated(scm_control)["certificates"] if c["domain"] == "api.example.com"]) == 1
    assert created.outs["status"] == "CHECKING"


# 7. look before you buy: every certificate under this resource's tag is judged, whatever its request hash

def new_run(monkeypatch):
    """The next calls belong to another `pulumi up` (a new provider process): nothing declared or replaced."""
    dynamic.DECLARED.clear()
    dynamic.REPLACED.clear()


@pytest.mark.parametrize("left", ["paid", "applied-with-a-lagging-index"])
def test_create_refuses_an_unrecorded_purchase_made_with_earlier_settings(provider, scm_control, left):
    # Run 1 buys (and maybe applies) and is killed before the state is saved; the user then changes `years`.
    old_props = inputs()
    if left == "paid":
        earlier = bought_by_an_interrupted_run(provider, old_props)
        status, journal_run = "PAID", dynamic.RUN_ID  # the changed purchase is journalled anew, in this run
    else:
        earlier = provider.create(old_props).id  # the result never reaches the state
        status, journal_run = "CHECKING", "an-earlier-run"
        scm_control.call("POST", "scm/settings", {"tag_index_lag_reads": 3})
    started = FakeClock.t
    with pytest.raises(CertfleetError) as raised:
        provider.create(inputs(years=2, journal_run=journal_run))
    text = str(raised.value)
    assert "certificate 'api'" in text and earlier in text and status in text
    assert request_hash(old_props) in text and "interrupted run" in text and "will not buy a second one" in text
    assert "unsubscribe it" in text and "within 7 days" in text and "pulumi up" in text
    assert ("withdraw its application" in text) == (status == "CHECKING")  # a PAID one has none to withdraw
    assert FakeClock.t - started < 60  # the refusal stops the look at once, long before listing_lag_seconds
    [cert] = emulated(scm_control)["certificates"]  # no second purchase
    assert cert["id"] == earlier and cert["status"] == status


def test_replacement_skips_the_certificate_it_replaces_and_buys_its_successor(provider, scm_control, monkeypatch):
    created = provider.create(inputs())  # confirmed, in state, still under review (CHECKING)
    news = inputs(years=2)
    # The certificate is pending under another request hash: without diff's decision to replace it, create
    # takes it for an unrecorded purchase and refuses (the engine always diffs before a replacing create).
    with pytest.raises(CertfleetError, match=created.id):
        provider.create(news)
    provider.check(created.outs, news)
    assert provider.diff(created.id, created.outs, news).replaces == ["years"]
    new = provider.create(news)  # create before delete: the old one is still live
    assert new.id != created.id and new.outs["status"] == "CHECKING"
    # Killed before the state was saved: the next run diffs again (state still holds the old one) and adopts
    # the successor it bought.
    new_run(monkeypatch)
    provider.check(created.outs, news)
    assert provider.diff(created.id, created.outs, news).replaces == ["years"]
    again = provider.create(inputs(years=2, journal_run="an-earlier-run"))
    assert again.id == new.id
    provider.delete(created.id, created.outs)  # the old pending certificate is withdrawn and refunded
    [cert] = emulated(scm_control)["certificates"]
    assert cert["id"] == new.id and cert["tags"][REQUEST_TAG] == request_hash(news)


def test_an_issued_earlier_certificate_with_another_request_is_skipped(provider, scm_control, monkeypatch):
    # Run 1: C1 bought and issued. Run 2: years 1 -> 2 replaces it with C2 and keeps the issued C1.
    first = provider.create(inputs())
    scm_control.call("POST", f"scm/certificates/{first.id}/publish")
    issued = provider.read(first.id, first.outs).outs
    new_run(monkeypatch)
    provider.check(issued, inputs(years=2))
    assert provider.diff(first.id, issued, inputs(years=2)).replaces == ["years"]
    second = provider.create(inputs(years=2))
    provider.delete(first.id, issued)
    assert {c["id"]: c["status"] for c in emulated(scm_control)["certificates"]} == {
        first.id: "ISSUED", second.id: "CHECKING"}
    # Run 3: years 2 -> 3. C1 (issued, another request) is skipped; the pending C2 is refused unless diff
    # decided to replace it.
    new_run(monkeypatch)
    news = inputs(years=3)
    with pytest.raises(CertfleetError) as raised:
        provider.create(news)
    assert second.id in str(raised.value) and first.id not in str(raised.value)
    provider.check(second.outs, news)
    assert provider.diff(second.id, second.outs, news).replaces == ["years"]
    third = provider.create(news)
    assert third.id not in (first.id, second.id) and third.outs["status"] == "CHECKING"
    provider.delete(second.id, second.outs)
    assert {c["id"]: c["status"] for c in emulated(scm_control)["certificates"]} == {
        first.id: "ISSUED", third.id: "CHECKING"}


@pytest.mark.parametrize("earlier", [False, True], ids=["nothing-bought-before", "bought-by-an-interrupted-run"])
def test_create_without_a_journal_stamp_refuses_and_buys_nothing(provider, scm_control, earlier):
    # `pulumi up --target <certificate>` leaves the journal out of the update: the stamp of a new entry is None.
    if earlier:
        bought_by_an_interrupted_run(provider, inputs())
    before = emulated(scm_control)["certificates"]
    with pytest.raises(CertfleetError) as raised:
        provider.create(inputs(journal_run=None))
    text = str(raised.value)
    assert "certificate 'api'" in text and "not in the purchase journal" in text and "huaweicloud-journal" in text
    assert "--target" in text and "interrupted run" in text
    assert emulated(scm_control)["certificates"] == before and FakeClock.sleeps == []


def test_delete_finishes_when_the_withdrawal_answer_was_lost(provider, scm_control):
    """Found by the crash campaign: the withdrawal went through, its answer was lost, and the retry was
    refused with SCM.0010 (nothing under review any more): destroy failed until run again."""
    created = provider.create(inputs())
    scm_control.add_fault("CancelCertificateRequest", drop_response=True, times=1)
    provider.delete(created.id, created.outs)
    assert emulated(scm_control)["certificates"] == []


def test_an_application_whose_generated_key_was_lost_is_withdrawn_and_made_again(provider, scm_control):
    """Found by the crash campaign: killed after applying with a generated key and before the state kept it,
    the next create adopted the certificate under review with no key: a paid certificate nobody could use.
    Now it withdraws that application (no refund) and applies again with a new key."""
    lost = provider.create(inputs(csr="generate"))  # the run dies: its key never reaches the state
    assert lost.outs["status"] == "CHECKING"
    again = provider.create(inputs(csr="generate", journal_run="an-interrupted-run"))
    assert again.id == lost.id and again.outs["private_key_pem"] != lost.outs["private_key_pem"]
    assert again.outs["status"] == "CHECKING" and len(emulated(scm_control)["certificates"]) == 1
    scm_control.call("POST", f"scm/certificates/{again.id}/publish")
    issued = provider.read(again.id, again.outs).outs
    assert keys.certificate_matches_key(issued["certificate_pem"], again.outs["private_key_pem"])


def test_a_recent_earlier_purchase_is_looked_for_through_the_listing_lag(provider, scm_control):
    """Killed right after buying; the user changes `years` at once, so the new purchase is journalled in this
    run. The earlier purchase is recent, so its certificate may not be in the tag index yet: create keeps
    looking (as CAS does, journal.may_follow_interrupted_run) and refuses instead of buying a second one."""
    scm_control.call("POST", "scm/settings", {"tag_index_lag_reads": 3})
    earlier = bought_by_an_interrupted_run(provider, inputs())
    stamp = {"fingerprint": "e" * 32, "run": "an-earlier-run", "at": time.time() - 30}
    news = inputs(years=2)
    news["journal"]["earlier"] = [stamp]  # journalled in this run (inputs' stamp), carrying the earlier one
    with pytest.raises(CertfleetError, match=earlier):
        provider.create(news)
    assert [c["id"] for c in emulated(scm_control)["certificates"]] == [earlier]


@pytest.mark.parametrize("csr", ["generate", "scm"])
def test_a_refresh_of_an_issued_certificate_exports_it_only_when_scm_shows_another(provider, scm_control, csr):
    created = provider.create(inputs(csr=csr))
    scm_control.call("POST", f"scm/certificates/{created.id}/publish")
    exports = count_calls(scm_control, "ExportCertificate")
    first = provider.read(created.id, created.outs).outs            # issued since the create: exported
    assert first["status"] == "ISSUED" and "BEGIN CERTIFICATE" in first["certificate_pem"] and exports() == 1
    again = provider.read(created.id, first).outs                   # the same certificate: the state's material
    assert exports() == 1
    assert {k: again[k] for k in ("certificate_pem", "certificate_chain_pem", "private_key_pem", "fingerprint")} \
        == {k: first[k] for k in ("certificate_pem", "certificate_chain_pem", "private_key_pem", "fingerprint")}
    assert "PRIVATE KEY" in again["private_key_pem"]
    # A state whose certificate is not the one SCM shows (whatever fingerprint the state recorded): exported again.
    provider.read(created.id, {**first, "certificate_pem": "stale"})
    assert exports() == 2
    # A state without the key SCM made: exported again (certfleet's own key is in the state, never in SCM).
    refetched = provider.read(created.id, {**first, "private_key_pem": None}).outs
    assert exports() == (3 if csr == "scm" else 2)
    assert ("PRIVATE KEY" in (refetched["private_key_pem"] or "")) == (csr == "scm")
