"""The SCM deployment target (components/deploy/scm_import.py) against the SCM emulator through the official SDK:
import and tag, a renewal imports the new copy and deletes the previous one, a pending source keeps the copy,
delete removes only tagged copies, a run that died between the import and the tag is recognised, and no key
text outside the secret."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from components.deploy import material, scm_import
from components.deploy.scm_import import ScmImportProvider
from components.huaweicloud import client as scm_api
from components.huaweicloud.scm_model import RESOURCE_TAG
from tests.emulators.conftest_scm import SCM_AK, SCM_DOMAIN_ID, SCM_SK, make_scm_client
from tests.pki import Pki
from tests.provider.test_acm_import_provider import no_key_text

TAG = "certfleet/test/deploy:alicloud.orders.docs:huaweicloud"


class FakeClock:
    @staticmethod
    def now():
        return 0.0

    @staticmethod
    def sleep(seconds):
        return None


@pytest.fixture(scope="module")
def pki() -> Pki:
    return Pki.make(slot=8, now=datetime.now(timezone.utc))


@pytest.fixture
def provider(scm_emulator, monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("HUAWEICLOUD_SDK_AK", SCM_AK)
    monkeypatch.setenv("HUAWEICLOUD_SDK_SK", SCM_SK)
    monkeypatch.setenv("HUAWEICLOUD_SDK_DOMAIN_ID", SCM_DOMAIN_ID)
    monkeypatch.setenv("CERTFLEET_HUAWEICLOUD_SCM_ENDPOINT", scm_emulator.url)
    scm_api._clients.clear()
    p = ScmImportProvider()
    p.clock = FakeClock
    yield p
    scm_api._clients.clear()


@pytest.fixture
def told(monkeypatch):
    messages: list[str] = []
    monkeypatch.setattr(scm_import, "tell_user", messages.append)
    return messages


def inputs(pki, **extra):
    """What deploy/fleet.py feeds an SCM target of a CAS order: leaf + chain in one PEM."""
    leaf, key = pki.leaf(["docs.example.com"])
    return {"source": "alicloud.orders.docs", "resource_tag": TAG, "name": "test-docs", "region": "cn-north-4",
            "certificate_pem": leaf + pki.chain_pem(), "chain_pem": "", "private_key_pem": key,
            "source_pending": False, **extra}


def imported(scm_emulator) -> dict[str, dict]:
    """certificate id -> {name, tags} of every certificate in the account, through the SDK."""
    from huaweicloudsdkscm.v3 import ListCertificatesRequest, ListTagsByCertificateRequest
    sdk = make_scm_client(scm_emulator.url)
    out = {}
    for item in sdk.list_certificates(ListCertificatesRequest(status="ALL", limit=50)).certificates or []:
        tags = sdk.list_tags_by_certificate(ListTagsByCertificateRequest(resource_id=item.id)).tags or []
        out[item.id] = {"name": item.name, "tags": {t.key: t.value for t in tags}}
    return out


def create(provider, props):
    return provider.create(provider.check({}, props).inputs).outs


def update(provider, olds, news):
    checked = provider.check(olds, news).inputs
    if not provider.diff(TAG, olds, checked).changes:
        return olds
    return provider.update(TAG, olds, checked).outs


def test_import_names_tags_and_records_the_copy(provider, scm_emulator, pki):
    props = inputs(pki)
    outs = create(provider, props)
    [(certificate_id, copy)] = imported(scm_emulator).items()
    assert outs["certificate_id"] == certificate_id and outs["status"] == "DEPLOYED"
    assert copy == {"name": f"test-docs-{material.fingerprint(props['certificate_pem'])[:8]}",
                    "tags": {RESOURCE_TAG: TAG}}
    public = {k: v for k, v in outs.items() if k not in scm_import.SECRET_OUTPUTS}
    assert no_key_text(json.dumps(public), props["private_key_pem"])
    assert outs["owner"] == {"endpoint": scm_emulator.url, "account": SCM_DOMAIN_ID}


def test_a_renewal_imports_the_new_copy_then_deletes_the_previous(provider, scm_emulator, pki):
    outs = create(provider, inputs(pki))
    renewed = update(provider, outs, inputs(pki))
    assert renewed["certificate_id"] != outs["certificate_id"]
    assert list(imported(scm_emulator)) == [renewed["certificate_id"]]


def test_a_pending_source_keeps_the_copy(provider, scm_emulator, pki):
    outs = create(provider, inputs(pki))
    pending = {**inputs(pki), "certificate_pem": "", "private_key_pem": ""}
    kept = update(provider, outs, pending)
    assert kept["certificate_id"] == outs["certificate_id"] and kept["fingerprint"] == outs["fingerprint"]
    assert list(imported(scm_emulator)) == [outs["certificate_id"]]


def test_delete_removes_only_a_copy_tagged_as_this_resources(provider, scm_emulator, pki, told):
    outs = create(provider, inputs(pki))
    provider.delete(TAG, {**outs, "resource_tag": "certfleet/other/deploy:x:huaweicloud"})
    assert list(imported(scm_emulator)) == [outs["certificate_id"]] and "not this resource's" in told[0]
    provider.delete(TAG, outs)
    assert imported(scm_emulator) == {}
    provider.delete(TAG, outs)  # gone already: success


def test_an_untagged_copy_with_the_same_name_and_certificate_serves_but_is_never_claimed_or_deleted(
        provider, scm_emulator, pki, told):
    # certfleet deletes only what it can prove it placed: an untagged copy (a run that died before the tag, or
    # someone else's import of the same PEMs: nothing tells which) is used, never tagged, and left in place.
    from huaweicloudsdkscm.v3 import ImportCertificateRequest, ImportCertificateRequestBody
    props = inputs(pki)
    leaf, chain = material.split_bundle(props["certificate_pem"])
    body = ImportCertificateRequestBody(name=material.copy_name("test-docs", leaf), certificate=leaf,
                                        certificate_chain=chain, private_key=props["private_key_pem"])
    found = make_scm_client(scm_emulator.url).import_certificate(ImportCertificateRequest(body=body)).certificate_id
    outs = create(provider, props)
    assert outs["certificate_id"] == found and imported(scm_emulator) == {found: {"name": body.name, "tags": {}}}
    assert "cannot prove it imported it" in told[0]
    renewed = update(provider, outs, inputs(pki))  # the untagged copy is retired: kept
    assert set(imported(scm_emulator)) == {found, renewed["certificate_id"]}
    provider.delete(TAG, {**outs, "certificate_id": found})
    assert found in imported(scm_emulator)
    assert any(f"left SCM certificate {found}" in m for m in told)


def test_an_import_error_carries_no_key_text(provider, scm_emulator, pki):
    props = inputs(pki)
    _, other_key = pki.leaf(["docs.example.com"], slot=1, kind="EC_prime256v1")
    with pytest.raises(Exception) as raised:
        create(provider, {**props, "private_key_pem": other_key})
    assert "huaweicloud" in str(raised.value) and no_key_text(str(raised.value), other_key)
    assert imported(scm_emulator) == {}
