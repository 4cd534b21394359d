"""ACM's provider behind the packing (components/packed_provider.py), against a real moto server: what the engine
stores is one JSON property; a state from before packing is rewritten once without a cloud call."""

from __future__ import annotations

import json

import pytest

from components.aws import clients
from components.packed_provider import PackedProvider
from components.packing import SPEC, packed, unpacked
from tests.provider.test_acm_provider import acm_client, inputs, provider  # noqa: F401 (a fixture)


@pytest.fixture
def inner(provider):  # noqa: F811 - test_acm_provider's provider (FakeClock, moto), with the call counts reset
    clients.reset_api_counts()
    return provider


def calls() -> int:
    return sum(c.calls for c in clients.api_counts().values())


def test_create_stores_one_json_property_that_holds_inputs_and_outputs(inner):
    provider = PackedProvider(inner)
    created = provider.create(packed(inputs()))
    assert set(created.outs) == {SPEC}
    outs = json.loads(created.outs[SPEC])
    assert outs["arn"] == created.id and outs["domain"] == "shop.example.com"
    assert outs["status"] == "PENDING_VALIDATION" and outs["validation_records"]
    assert acm_client().describe_certificate(CertificateArn=created.id)["Certificate"]["DomainName"] == "shop.example.com"


def test_the_inner_providers_diff_decides_and_its_replace_reasons_are_the_fields(inner):
    provider = PackedProvider(inner)
    created = provider.create(packed(inputs()))
    same = provider.diff(created.id, created.outs, packed(inputs()))
    assert same.changes is False
    renamed = provider.diff(created.id, created.outs, packed(inputs(domain="shop2.example.com")))
    assert renamed.replaces == ["domain", "sans"]   # sans holds the domain too
    tagged = provider.diff(created.id, created.outs, packed(inputs(tags={"team": "web"})))
    assert tagged.changes is None and tagged.replaces == []   # the engine shows the fields' diff


def test_a_state_from_before_packing_is_rewritten_by_one_update_without_a_cloud_call(inner):
    flat_state = inner.create(inputs()).outs     # what a certfleet before packing stored
    arn = flat_state["arn"]
    provider = PackedProvider(inner)
    diff = provider.diff(arn, flat_state, packed(inputs()))
    assert diff.changes is True and not diff.replaces    # nothing changed but the state's shape
    before = calls()
    updated = provider.update(arn, flat_state, packed(inputs()))
    assert calls() == before
    assert set(updated.outs) == {SPEC} and unpacked(updated.outs) == flat_state   # the outputs as they were
    assert provider.diff(arn, updated.outs, packed(inputs())).changes is False   # once


def test_a_flat_state_with_a_real_change_is_updated_by_the_provider(inner):
    flat_state = inner.create(inputs()).outs
    arn = flat_state["arn"]
    provider = PackedProvider(inner)
    news = packed(inputs(tags={"team": "web"}))
    assert provider.diff(arn, flat_state, news).changes is None
    updated = provider.update(arn, flat_state, news)
    assert json.loads(updated.outs[SPEC])["tags"] == {"team": "web"}
    tags = {t["Key"]: t["Value"] for t in acm_client().list_tags_for_certificate(CertificateArn=arn)["Tags"]}
    assert tags["team"] == "web"


def test_refresh_and_delete_read_either_shape(inner):
    flat_state = inner.create(inputs()).outs
    arn = flat_state["arn"]
    provider = PackedProvider(inner)
    read = provider.read(arn, flat_state)
    assert set(read.outs) == {SPEC} and set(read.inputs) == {SPEC}
    assert json.loads(read.outs[SPEC])["arn"] == arn and json.loads(read.inputs[SPEC])["domain"] == "shop.example.com"
    provider.delete(arn, read.outs)
    assert not [c for c in acm_client().list_certificates()["CertificateSummaryList"] if c["CertificateArn"] == arn]
