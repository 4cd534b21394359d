"""components/aws/pem.py with real certificates: every rule fires on what it is for and stays quiet otherwise."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography.x509.oid import ExtendedKeyUsageOID

from components.aws import pem
from tests.pki import NOW, Pki, certificate, key, key_pem, self_signed
from tests.pki import pem as to_pem

NAMES = ["shop.example.com", "www.shop.example.com"]


@pytest.fixture(scope="module")
def pki() -> Pki:
    return Pki.make()


@pytest.fixture(scope="module")
def good(pki):
    certificate_pem, private_key_pem = pki.leaf(NAMES)
    return certificate_pem, pki.chain_pem(), private_key_pem


def problems(certificate_pem, chain_pem, private_key_pem, margin_days=30, now=NOW):
    return pem.import_problems(certificate_pem, chain_pem, private_key_pem, margin_days, now)


def only(found: list[str], *words: str) -> str:
    """The single problem, which must mention every word."""
    assert len(found) == 1, found
    for word in words:
        assert word in found[0], found
    return found[0]


# --- stays quiet ---

def test_a_good_leaf_with_its_chain_passes(good):
    assert problems(*good) == []


def test_intermediate_only_chain_passes(pki, good):
    assert problems(good[0], to_pem(pki.intermediate), good[2]) == []


def test_without_the_key_the_key_checks_are_skipped(good):
    assert problems(good[0], good[1], None) == []


def test_traditional_rsa_key_passes(pki):
    certificate_pem, _ = pki.leaf(NAMES)
    assert problems(certificate_pem, pki.chain_pem(), key_pem(key("RSA_2048"), traditional=True)) == []


def test_ec_p256_is_accepted(pki):
    certificate_pem, private_key_pem = pki.leaf(NAMES, kind="EC_prime256v1", slot=1)
    assert problems(certificate_pem, pki.chain_pem(), private_key_pem) == []
    assert pem.certificate_facts(certificate_pem).key_algorithm == "EC_prime256v1"


def test_self_signed_leaf_needs_no_chain():
    certificate_pem, private_key_pem = self_signed(NAMES)
    assert problems(certificate_pem, "", private_key_pem) == []


def test_no_eku_at_all_is_fine(pki):
    certificate_pem, private_key_pem = pki.leaf(NAMES, eku=None)
    assert problems(certificate_pem, pki.chain_pem(), private_key_pem) == []


# --- parsing ---

@pytest.mark.parametrize("text", ["", "   ", "hello",
                                  "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n"])
def test_a_certificate_that_does_not_parse(good, text):
    only(problems(text, good[1], good[2]), "the certificate")


def test_leaf_and_chain_concatenated_in_certificate_is_refused(good):
    only(problems(good[0] + good[1], good[1], good[2]), "3 certificates", "chain")


def test_a_chain_that_does_not_parse(good):
    only(problems(good[0], "-----BEGIN CERTIFICATE-----\nxx\n-----END CERTIFICATE-----\n", good[2]), "chain")


def test_key_in_the_certificate_field(good):
    found = problems(good[2], good[1], good[2])
    assert any("PRIVATE KEY block" in p for p in found), found
    assert_no_key_material(found, good[2])


def test_certificate_in_the_key_field(good):
    only(problems(good[0], good[1], good[0]), "swapped")


def test_encrypted_pkcs8_key(good):
    encrypted = key_pem(key("RSA_2048"), password=b"passphrase")
    assert_no_key_material([only(problems(good[0], good[1], encrypted), "encrypted")], encrypted)


def test_encrypted_traditional_key(good):
    encrypted = key_pem(key("RSA_2048"), password=b"passphrase", traditional=True)
    assert "Proc-Type: 4,ENCRYPTED" in encrypted
    only(problems(good[0], good[1], encrypted), "encrypted")


def test_key_over_5_kb(good):
    only(problems(good[0], good[1], good[2] + "\n" * 5000), "5120")


def test_garbage_key_text(good):
    broken = good[2].replace(good[2].splitlines()[3], "A" * 64)
    assert_no_key_material([only(problems(good[0], good[1], broken), "private key")], broken)


# --- key matches ---

def test_mismatched_key(good):
    other = key_pem(key("RSA_2048", slot=7))
    found = only(problems(good[0], good[1], other), "does not belong")
    assert_no_key_material([found], other)


def assert_no_key_material(found: list[str], private_key_pem: str) -> None:
    text = "\n".join(found)
    assert "PRIVATE KEY-----" not in text
    for line in private_key_pem.splitlines()[1:-1]:
        assert line.strip() not in text or len(line.strip()) < 8


# --- chain ---

def test_missing_chain_for_a_ca_issued_leaf(good):
    only(problems(good[0], "", good[2]), "chain is missing", "Test Intermediate CA")


def test_chain_in_wrong_order(pki, good):
    only(problems(good[0], to_pem(pki.root, pki.intermediate), good[2]), "does not link", "order")


def test_unrelated_chain(good):
    other = Pki.make(slot=1, root_cn="Other Root", intermediate_cn="Other Intermediate")
    only(problems(good[0], other.chain_pem(), good[2]), "does not belong")


def test_same_names_but_a_different_signer(good):
    impostor = Pki.make(slot=2)  # same CNs, other keys: names link, signatures do not
    only(problems(good[0], impostor.chain_pem(), good[2]), "did not sign")


def test_leaf_repeated_in_the_chain(pki, good):
    only(problems(good[0], good[0] + pki.chain_pem(), good[2]), "the certificate itself")


def test_self_signed_with_a_chain(pki):
    certificate_pem, private_key_pem = self_signed(NAMES)
    only(problems(certificate_pem, pki.chain_pem(), private_key_pem), "self-signed")


# --- dates ---

def test_expired_leaf(pki):
    certificate_pem, private_key_pem = pki.leaf(NAMES, not_before=NOW - timedelta(days=400),
                                                not_after=NOW - timedelta(days=1))
    only(problems(certificate_pem, pki.chain_pem(), private_key_pem), "expired")


def test_not_yet_valid_leaf(pki):
    certificate_pem, private_key_pem = pki.leaf(NAMES, not_before=NOW + timedelta(days=1))
    only(problems(certificate_pem, pki.chain_pem(), private_key_pem), "not valid until")


def test_expiring_within_the_margin(pki):
    certificate_pem, private_key_pem = pki.leaf(NAMES, not_after=NOW + timedelta(days=10))
    only(problems(certificate_pem, pki.chain_pem(), private_key_pem, margin_days=30), "in 10 days", "30-day")
    assert problems(certificate_pem, pki.chain_pem(), private_key_pem, margin_days=9) == []


def test_margin_problem_is_about_the_margin_input(pki):
    certificate_pem, private_key_pem = pki.leaf(NAMES, not_after=NOW + timedelta(days=10))
    assert [i for i, _ in pem.import_problems_by_input(certificate_pem, pki.chain_pem(), private_key_pem,
                                                       30, NOW)] == ["expiry_margin_days"]


def test_expired_intermediate(pki, good):
    root_key = key("EC_prime256v1", 100)
    stale = certificate("Test Intermediate CA", "Test Root CA", pki.intermediate_key.public_key(), root_key,
                        ca=True, not_before=NOW - timedelta(days=900), not_after=NOW - timedelta(days=2))
    only(problems(good[0], to_pem(stale, pki.root), good[2]), "chain certificate 1", "expired")


def test_naive_now_is_taken_as_utc(good):
    assert problems(*good, now=NOW.replace(tzinfo=None)) == []


# --- key types ---

def test_rsa_1024_is_refused(pki):
    certificate_pem, private_key_pem = pki.leaf(NAMES, kind="RSA_1024")
    only(problems(certificate_pem, pki.chain_pem(), private_key_pem), "1024-bit", "too weak")


def test_ec_p384_is_refused_because_cloudfront_cannot_serve_it(pki):
    certificate_pem, private_key_pem = pki.leaf(NAMES, kind="EC_secp384r1")
    only(problems(certificate_pem, pki.chain_pem(), private_key_pem), "EC_secp384r1", "CloudFront")


def test_rsa_3072_is_accepted(pki):
    certificate_pem, private_key_pem = pki.leaf(NAMES, kind="RSA_3072")
    assert problems(certificate_pem, pki.chain_pem(), private_key_pem) == []


# --- usage and names ---

def test_client_auth_only_eku_is_refused(pki):
    certificate_pem, private_key_pem = pki.leaf(NAMES, eku=[ExtendedKeyUsageOID.CLIENT_AUTH])
    only(problems(certificate_pem, pki.chain_pem(), private_key_pem), "serverAuth")


def test_server_and_client_eku_passes(pki):
    certificate_pem, private_key_pem = pki.leaf(NAMES, eku=[ExtendedKeyUsageOID.SERVER_AUTH,
                                                            ExtendedKeyUsageOID.CLIENT_AUTH])
    assert problems(certificate_pem, pki.chain_pem(), private_key_pem) == []


def test_a_certificate_without_host_names(pki):
    leaf_key = key("RSA_2048")
    leaf = certificate("Example Corp", pki.intermediate.subject, leaf_key.public_key(), pki.intermediate_key)
    only(problems(to_pem(leaf), pki.chain_pem(), key_pem(leaf_key)), "no DNS host")


def test_names_keep_apex_and_wildcard_lower_cased_and_sorted(pki):
    certificate_pem, _ = pki.leaf(["Example.COM", "*.Example.com", "WWW.example.com", "example.com"])
    facts = pem.certificate_facts(certificate_pem)
    assert facts.names == ("*.example.com", "example.com", "www.example.com")
    assert facts.domain == "example.com"


def test_cn_that_is_no_host_is_the_domain_but_not_a_name(pki):
    leaf_key = key("RSA_2048")
    leaf = certificate("Example Corp", pki.intermediate.subject, leaf_key.public_key(), pki.intermediate_key,
                       sans=["a.example.com"])
    facts = pem.certificate_facts(to_pem(leaf))
    assert facts.names == ("a.example.com",)


def test_no_cn_takes_the_first_san_as_domain(pki):
    leaf_key = key("RSA_2048")
    leaf = certificate(None, pki.intermediate.subject, leaf_key.public_key(), pki.intermediate_key,
                       sans=["b.example.com", "a.example.com"])
    assert pem.certificate_facts(to_pem(leaf)).domain == "b.example.com"


def test_facts(good):
    facts = pem.certificate_facts(good[0])
    assert facts.key_algorithm == "RSA_2048"
    assert len(facts.fingerprint) == 64 and facts.fingerprint == facts.fingerprint.lower()
    assert facts.not_after > facts.not_before and facts.not_after.tzinfo is not None


def test_facts_of_garbage_raise_a_plain_sentence():
    with pytest.raises(ValueError, match="not PEM"):
        pem.certificate_facts("garbage")


def test_every_problem_at_once(pki):
    """Several faults are all reported, not just the first."""
    certificate_pem, _ = pki.leaf(NAMES, kind="RSA_1024", not_after=NOW + timedelta(days=3),
                                  eku=[ExtendedKeyUsageOID.CLIENT_AUTH])
    found = problems(certificate_pem, "", key_pem(key("RSA_2048", slot=7)))
    assert len(found) == 5, found  # weak key, mismatched key, no chain, margin, serverAuth
