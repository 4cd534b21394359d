"""The ACM deployment target (components/deploy/acm_target.py) against the AWS emulator over HTTP: a CAS-style
bundle (leaf + chain in one PEM) imported, re-imported in place on renewal, kept while the source is pending,
deleted only when it is this resource's, and no key text anywhere but the secret input."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from components.aws.acm import RESOURCE_TAG
from components.deploy import acm_target, material
from components.deploy.acm_target import AcmTargetProvider
from components.dynamic import REPLACED
from components.errors import CloudError
from tests.pki import Pki
from tests.provider.test_acm_import_provider import certificates, no_key_text
from tests.provider.test_acm_provider import FakeClock, acm_client, tags_of

TAG = "certfleet/test/deploy:alicloud.orders.docs:aws"


@pytest.fixture(scope="module")
def pki() -> Pki:
    return Pki.make(slot=6, now=datetime.now(timezone.utc))


@pytest.fixture
def provider(aws):
    p = AcmTargetProvider()
    p.clock = FakeClock
    REPLACED.clear()
    return p


def inputs(pki, slot=0, **extra):
    """What deploy/fleet.py feeds an ACM target of a CAS order: the leaf and its chain in certificate_pem."""
    leaf, key = pki.leaf(["docs.example.com"], slot=slot)
    return {"source": "alicloud.orders.docs", "resource_tag": TAG, "certificate_pem": leaf + pki.chain_pem(),
            "chain_pem": "", "private_key_pem": key, "source_pending": False, "cert_name": "deploy:alicloud.orders.docs",
            "previous_resource_tags": [], "region": "us-east-1", "tags": {"team": "docs"}, "expiry_margin_days": 0,
            "delete_in_use_timeout_seconds": 5, "adopt_id": None, "replace_adopted": False, "on_destroy": None,
            **extra}


def deploy(provider, olds, news, id_=None):
    """The engine's steps: check, then create or diff + update."""
    checked = provider.check(olds, news)
    assert checked.failures == []
    if id_ is None:
        created = provider.create(checked.inputs)
        return created.id, created.outs
    diff = provider.diff(id_, olds, checked.inputs)
    if diff.changes is False:
        return id_, olds
    return id_, provider.update(id_, olds, checked.inputs).outs


def test_a_bundle_is_imported_as_leaf_and_chain_and_tagged(provider, pki):
    props = inputs(pki)  # each call issues a new leaf
    arn, outs = deploy(provider, {}, props)
    got = acm_client().get_certificate(CertificateArn=arn)
    assert got["Certificate"].count("BEGIN CERTIFICATE") == 1  # the leaf alone, the chain apart
    assert got["CertificateChain"].startswith(material.split_bundle(pki.chain_pem())[0].strip())
    assert tags_of(arn)[RESOURCE_TAG] == TAG and tags_of(arn)["team"] == "docs"
    assert outs["status"] == "ISSUED" and outs["fingerprint"] == material.fingerprint(props["certificate_pem"])
    assert outs["status_message"].startswith(f"imported into ACM as {arn} from alicloud.orders.docs")
    public = {k: v for k, v in outs.items() if k not in acm_target.SECRET_OUTPUTS}
    assert no_key_text(json.dumps(public, default=str), props["private_key_pem"])
    assert acm_target.SECRET_OUTPUTS == ["private_key_pem"]


def test_a_renewed_source_is_re_imported_onto_the_same_arn(provider, pki):
    arn, outs = deploy(provider, {}, inputs(pki))
    renewed = inputs(pki, slot=0)  # same key type, a new leaf (a new serial)
    assert renewed["certificate_pem"] != outs["certificate_pem"]
    same, new_outs = deploy(provider, outs, renewed, arn)
    assert same == arn and certificates() == [arn]
    assert new_outs["fingerprint"] == material.fingerprint(renewed["certificate_pem"]) != outs["fingerprint"]
    assert material.fingerprint(acm_client().get_certificate(CertificateArn=arn)["Certificate"]) == \
        new_outs["fingerprint"]
    assert tags_of(arn)[RESOURCE_TAG] == TAG  # read back and re-applied after the re-import


def test_while_the_source_is_pending_the_copy_stays(provider, pki):
    arn, outs = deploy(provider, {}, inputs(pki))
    pending = {**inputs(pki), "certificate_pem": "", "private_key_pem": ""}
    checked = provider.check(outs, pending)
    assert checked.inputs["certificate_pem"] == outs["certificate_pem"] and checked.inputs["source_pending"] is True
    assert provider.diff(arn, outs, checked.inputs).replaces == []
    updated = provider.update(arn, outs, checked.inputs).outs
    assert updated["fingerprint"] == outs["fingerprint"] and "kept while alicloud.orders.docs" in \
        updated["status_message"]
    assert certificates() == [arn]


def test_a_source_never_issued_holds_nothing_then_its_first_certificate_replaces_the_placeholder(provider, pki):
    pending = {**inputs(pki), "certificate_pem": "", "private_key_pem": ""}
    id_, outs = deploy(provider, {}, pending)
    assert id_ == material.pending_id(TAG) and outs["status"] == material.WAITING and certificates() == []
    provider.delete(id_, outs)  # nothing to delete: no call fails
    checked = provider.check(outs, inputs(pki))
    diff = provider.diff(id_, outs, checked.inputs)
    assert diff.changes and diff.replaces == ["certificate_pem"]
    assert provider.diff(id_, outs, provider.check(outs, pending).inputs).changes is False


def test_delete_removes_only_a_copy_tagged_as_this_resources(provider, pki, told=None):
    arn, outs = deploy(provider, {}, inputs(pki))
    acm_client().add_tags_to_certificate(CertificateArn=arn, Tags=[{"Key": RESOURCE_TAG, "Value": "someone/else"}])
    provider.delete(arn, outs)
    assert certificates() == [arn]  # not ours any more: left
    acm_client().add_tags_to_certificate(CertificateArn=arn, Tags=[{"Key": RESOURCE_TAG, "Value": TAG}])
    provider.delete(arn, outs)
    assert certificates() == []


def test_errors_carry_no_key_text(provider, pki):
    other_leaf, _ = pki.leaf(["docs.example.com"], slot=1, kind="EC_prime256v1")
    props = {**inputs(pki), "certificate_pem": other_leaf + pki.chain_pem()}
    failures = provider.check({}, props).failures
    assert failures and all(no_key_text(f.reason, props["private_key_pem"]) for f in failures)
    with pytest.raises(CloudError) as raised:
        provider.create({**props, "private_key_pem": props["private_key_pem"].replace("A", "B", 3)})
    assert no_key_text(str(raised.value), props["private_key_pem"]) and raised.value.__cause__ is None
