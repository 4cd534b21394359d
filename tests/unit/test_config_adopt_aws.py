"""certfleet:aws adopt by id (issue 14): `adopt`, `replaceAdopted` and `onDestroy` on certificates, imports and
distributions. Each rule fires with its config path and stays quiet on a valid value."""

from __future__ import annotations

import pytest

from components.config import load_fleet
from components.errors import ConfigError
from tests.pki import NOW, Pki

ARN = "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-4234-8234-123456789012"
OTHER_ARN = "arn:aws:acm:us-east-1:123456789012:certificate/87654321-1234-4234-8234-123456789012"
DIST_ID = "E2QWRUHAPOMQZL"
SHOP = {"domain": "shop.example.com"}
C = "certfleet:aws.certificates"


def load(aws: dict):
    return load_fleet({"aws": aws}, secret_paths=frozenset({"certfleet:aws"}), now=NOW)


def problems(aws: dict) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        load(aws)
    return raised.value.problems


@pytest.fixture(scope="module")
def pki() -> Pki:
    return Pki.make(slot=7, now=NOW)


def test_an_entry_without_adopt_keeps_the_defaults():
    spec = load({"certificates": {"shop": SHOP}}).aws.certificates[0]
    assert (spec.adopt, spec.replace_adopted, spec.on_destroy) == (None, False, None)


def test_a_certificate_adopts_an_arn_with_replace_and_on_destroy():
    spec = load({"certificates": {"shop": {**SHOP, "adopt": ARN, "replaceAdopted": True,
                                           "onDestroy": "delete"}}}).aws.certificates[0]
    assert (spec.adopt, spec.replace_adopted, spec.on_destroy) == (ARN, True, "delete")


@pytest.mark.parametrize("value", ["E2QWRUHAPOMQZL", "arn:aws:acm:us-east-1:12345:certificate/x",
                                   ARN.upper(), ARN + "\n", "", 42])
def test_a_certificate_adopt_must_be_an_acm_arn(value):
    found = problems({"certificates": {"shop": {**SHOP, "adopt": value}}})
    assert len(found) == 1 and found[0].startswith(f"{C}.shop.adopt: "), found


def test_the_arn_must_be_in_the_configured_region():
    arn = ARN.replace("us-east-1", "eu-west-1")
    found = problems({"certificates": {"shop": {**SHOP, "adopt": arn}}})
    assert found == [f"{C}.shop.adopt: {arn} is in eu-west-1, but certfleet:aws.region is us-east-1: certfleet "
                     f"manages ACM certificates of that region only"]
    assert load({"region": "eu-west-1", "certificates": {"shop": {**SHOP, "adopt": arn}}}).aws.certificates[0].adopt


def test_one_object_is_adopted_by_one_entry():
    found = problems({"certificates": {"a": {"domain": "a.example.com", "adopt": ARN},
                                       "b": {"domain": "b.example.com", "adopt": ARN}}})
    assert found == [f"{C}.b.adopt: {ARN} is already adopted by {C}.a; an object belongs to one entry"]


@pytest.mark.parametrize("key, value, message", [
    ("onDestroy", "revoke", "must be one of keep, delete, got 'revoke'"),
    ("replaceAdopted", "yes", "must be true or false, got 'yes'"),
])
def test_on_destroy_and_replace_adopted_values(key, value, message):
    assert problems({"certificates": {"shop": {**SHOP, "adopt": ARN, key: value}}}) == [
        f"{C}.shop.{key}: {message}"]


def test_on_destroy_without_adopt_is_allowed_and_replace_adopted_alone_warns():
    fleet = load({"certificates": {"shop": {**SHOP, "onDestroy": "keep", "replaceAdopted": True}}})
    assert fleet.aws.certificates[0].on_destroy == "keep"
    assert any("replaceAdopted: has no effect without adopt" in w for w in fleet.warnings)


def test_an_adopted_entry_that_aggregate_would_reuse_is_an_error():
    found = problems({"aggregate": True, "certificates": {
        "apps": {"domain": "*.example.com"}, "shop": {**SHOP, "adopt": ARN}}})
    assert found == [f"{C}.shop.adopt: with aggregate this entry reuses certificate apps and is not requested, so "
                     f"it cannot stand for {ARN}: turn aggregate off, or remove adopt"]


def test_an_import_adopts_an_arn(pki):
    certificate, key = pki.leaf(["legacy.example.org"])
    entry = {"certificate": certificate, "chain": pki.chain_pem(), "privateKey": key}
    spec = load({"imports": {"legacy": {**entry, "adopt": ARN}}}).aws.imports[0]
    assert (spec.adopt, spec.on_destroy) == (ARN, None)
    found = problems({"imports": {"legacy": {**entry, "adopt": DIST_ID}}})
    assert found == [f"certfleet:aws.imports.legacy.adopt: must be the ARN of an imported ACM certificate, "
                     f"arn:aws:acm:<region>:<account>:certificate/<id>, got '{DIST_ID}'"]


def test_a_distribution_adopts_an_id_and_not_an_arn():
    dist = {"template": "E195R1W5GIVPF5", "certificate": "shop"}
    aws = load({"certificates": {"shop": SHOP}, "distributions": {"web": {**dist, "adopt": DIST_ID,
                                                                          "onDestroy": "keep"}}}).aws
    assert (aws.distributions[0].adopt, aws.distributions[0].on_destroy) == (DIST_ID, "keep")
    found = problems({"certificates": {"shop": SHOP}, "distributions": {"web": {**dist, "adopt": ARN}}})
    assert found == [f"certfleet:aws.distributions.web.adopt: must be a CloudFront distribution id, 'E' and 12 or 13 "
                     f"upper-case letters or digits, got '{ARN}'"]


def test_two_entries_adopt_two_objects():
    aws = load({"certificates": {"a": {"domain": "a.example.com", "adopt": ARN},
                                 "b": {"domain": "b.example.com", "adopt": OTHER_ARN}}}).aws
    assert [c.adopt for c in aws.certificates] == [ARN, OTHER_ARN]
