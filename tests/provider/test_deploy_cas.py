"""The CAS deployment target (components/deploy/cas_upload.py) against the CAS emulator through the official SDK:
upload, a renewal uploads the new copy and deletes the previous one (or keeps it when CAS refuses), a pending
source keeps the copy, delete removes only tagged copies, a rerun after a lost answer makes no second copy, and
no key text outside the secret."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from components import dynamic
from components.alicloud import client as cas_api
from components.deploy import cas_upload, material
from components.deploy.cas_upload import CasUploadProvider
from components.errors import CloudError
from emulators.cas import CasApi
from emulators.core.testing import ControlClient
from tests.emulators.cas_scaffolding import ACCESS_KEY_ID, ACCESS_KEY_SECRET, certfleet_cas, make_cas_client
from tests.pki import Pki
from tests.provider.test_acm_import_provider import no_key_text
from tests.provider.test_cas_provider import FakeClock

TAG = "certfleet/test/deploy:huaweicloud.certificates.portal:alicloud"


@pytest.fixture(scope="module")
def pki() -> Pki:
    return Pki.make(slot=7, now=datetime.now(timezone.utc))


@pytest.fixture
def emulator(monkeypatch):
    monkeypatch.setattr(dynamic.random, "uniform", lambda low, high: high)
    with certfleet_cas(monkeypatch, CasApi({ACCESS_KEY_ID: ACCESS_KEY_SECRET})) as server:
        yield server


@pytest.fixture
def control(emulator):
    return ControlClient(emulator.url)


@pytest.fixture
def provider(emulator):
    p = CasUploadProvider()
    p.clock = FakeClock()
    return p


@pytest.fixture
def told(monkeypatch):
    messages: list[str] = []
    monkeypatch.setattr(cas_upload, "tell_user", messages.append)
    return messages


def inputs(pki, **extra):
    """What deploy/fleet.py feeds a CAS target of an SCM certificate: leaf and chain apart."""
    leaf, key = pki.leaf(["portal.example.com"])
    return {"source": "huaweicloud.certificates.portal", "resource_tag": TAG, "name": "test-portal",
            "certificate_pem": leaf, "chain_pem": pki.chain_pem(), "private_key_pem": key, "source_pending": False,
            **extra}


def uploaded(emulator) -> dict[str, dict]:
    """CertId -> {name, tags} of every uploaded certificate, as the SDK lists and details them."""
    from alibabacloud_cas20200407 import models
    sdk = make_cas_client(emulator)
    listed = sdk.list_user_certificate_order(models.ListUserCertificateOrderRequest(order_type="UPLOAD"))
    out = {}
    for item in listed.body.certificate_order_list or []:
        detail = sdk.get_user_certificate_detail(models.GetUserCertificateDetailRequest(cert_id=item.certificate_id)).body
        out[str(item.certificate_id)] = {"name": detail.name, "cert": detail.cert,
                                         "tags": {t.tag_key: t.tag_value for t in detail.tags or []}}
    return out


def create(provider, props):
    checked = provider.check({}, props).inputs
    return provider.create(checked).outs


def update(provider, olds, news):
    checked = provider.check(olds, news).inputs
    diff = provider.diff(TAG, olds, checked)
    if not diff.changes:
        return olds
    return provider.update(TAG, olds, checked).outs


def test_upload_names_tags_and_records_the_copy(provider, emulator, pki):
    props = inputs(pki)
    outs = create(provider, props)
    [(cert_id, copy)] = uploaded(emulator).items()
    assert outs["cert_id"] == cert_id and outs["status"] == "DEPLOYED"
    fingerprint = material.fingerprint(props["certificate_pem"])
    assert copy["name"] == outs["copy_name"] == f"test-portal-{fingerprint[:8]}"
    assert copy["tags"] == {cas_upload.RESOURCE_TAG: TAG}
    assert copy["cert"].count("BEGIN CERTIFICATE") == 3  # leaf and chain, as CDN serves it
    public = {k: v for k, v in outs.items() if k not in cas_upload.SECRET_OUTPUTS}
    assert no_key_text(json.dumps(public), props["private_key_pem"])


def test_a_renewal_uploads_the_new_copy_then_deletes_the_previous(provider, emulator, pki):
    outs = create(provider, inputs(pki))
    renewed = update(provider, outs, inputs(pki))
    assert renewed["cert_id"] != outs["cert_id"] and renewed["fingerprint"] != outs["fingerprint"]
    assert list(uploaded(emulator)) == [renewed["cert_id"]]
    assert renewed["kept_cert_ids"] == []


def test_a_previous_copy_cas_refuses_to_delete_is_kept_and_said(provider, emulator, control, pki, told):
    outs = create(provider, inputs(pki))
    control.add_fault("DeleteUserCertificate", status=400, code="OperationDenied.CertificateInUse",
                      message="The certificate is in use by CDN.", times=1)
    renewed = update(provider, outs, inputs(pki))
    assert set(uploaded(emulator)) == {outs["cert_id"], renewed["cert_id"]}
    assert renewed["kept_cert_ids"] == [outs["cert_id"]]
    assert f"CAS refused to delete the previous copies {outs['cert_id']}" in renewed["status_message"]
    assert any("OperationDenied.CertificateInUse" in m for m in told)
    provider.delete(TAG, renewed)  # the next step tries the kept one again
    assert uploaded(emulator) == {}


def test_a_pending_source_keeps_the_copy(provider, emulator, pki):
    outs = create(provider, inputs(pki))
    pending = {**inputs(pki), "certificate_pem": "", "chain_pem": "", "private_key_pem": ""}
    checked = provider.check(outs, pending).inputs
    assert checked["certificate_pem"] == outs["certificate_pem"] and checked["source_pending"] is True
    kept = provider.update(TAG, outs, checked).outs
    assert kept["cert_id"] == outs["cert_id"] and list(uploaded(emulator)) == [outs["cert_id"]]
    assert "kept while huaweicloud.certificates.portal has no new certificate yet" in kept["status_message"]


def test_a_source_never_issued_uploads_nothing_until_it_is(provider, emulator, pki):
    pending = {**inputs(pki), "certificate_pem": "", "chain_pem": "", "private_key_pem": ""}
    outs = create(provider, pending)
    assert outs["cert_id"] is None and outs["status"] == material.WAITING and uploaded(emulator) == {}
    first = update(provider, outs, inputs(pki))
    assert list(uploaded(emulator)) == [first["cert_id"]]


def test_delete_removes_only_a_copy_tagged_as_this_resources(provider, emulator, pki, told):
    outs = create(provider, inputs(pki))
    provider.delete(TAG, {**outs, "resource_tag": "certfleet/other/deploy:x:alicloud"})
    assert list(uploaded(emulator)) == [outs["cert_id"]] and "not this resource's to delete" in told[0]
    provider.delete(TAG, outs)
    assert uploaded(emulator) == {}
    provider.delete(TAG, outs)  # gone already: success


def test_a_rerun_after_a_lost_answer_finds_its_copy(provider, emulator, control, pki):
    props = inputs(pki)
    control.add_fault("UploadUserCertificate", drop_response=True, times=1)
    outs = create(provider, props)  # the SDK call is retried with the same ClientToken: the same copy
    assert list(uploaded(emulator)) == [outs["cert_id"]]
    again = provider.create(provider.check({}, props).inputs).outs  # a rerun after a crash: the same copy
    assert again["cert_id"] == outs["cert_id"] and len(uploaded(emulator)) == 1


def test_a_name_held_by_another_certificate_is_refused_without_key_text(provider, emulator, pki):
    props = inputs(pki)
    from alibabacloud_cas20200407 import models
    other_leaf, other_key = pki.leaf(["other.example.com"])
    name = material.copy_name("test-portal", props["certificate_pem"])
    make_cas_client(emulator).upload_user_certificate(models.UploadUserCertificateRequest(
        name=name, cert=other_leaf, key=other_key))
    with pytest.raises(CloudError) as raised:
        create(provider, props)
    assert "is not this resource's copy" in str(raised.value) and no_key_text(str(raised.value),
                                                                             props["private_key_pem"])
    assert len(uploaded(emulator)) == 1
