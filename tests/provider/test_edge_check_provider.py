"""The edge check against a genuine TLS listener: the AWS emulator's CloudFront edge (emulators/aws/edge.py), which
serves each distribution's ACM certificate by SNI, and the Distribution provider that checks it after Deployed
and at refresh (components/aws/edge_check.py). CERTFLEET_EDGE_ENDPOINT points at the edge (tests/conftest.py)."""

from __future__ import annotations

import copy
import hashlib
import os
import socket
import ssl

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from components.aws import acm_seen, edge_check
from components.aws.cloudfront import DistributionProvider
from components.errors import CloudError
from emulators.aws.testing import AwsControl
from tests.provider.test_cloudfront_provider import (acm, as_state, cf, imported_certificate, inputs,
                                                     requested_certificate, template_distribution, wait_issued)

ALIASES = ("shop.example.com", "www.shop.example.com")


@pytest.fixture
def control(aws):
    """The emulator's control API; deployments finish at once."""
    control = AwsControl(aws)
    control.settings(deploy_seconds=0)
    return control


@pytest.fixture
def provider(control):
    p = DistributionProvider()
    p.poll_seconds = 0.05
    return p


@pytest.fixture
def template(aws):
    return template_distribution()


def edge_address() -> tuple[str, int]:
    return edge_check.endpoint("unused.cloudfront.net")


def acm_fingerprint(arn: str) -> str:
    pem = acm().get_certificate(CertificateArn=arn)["Certificate"]
    return hashlib.sha256(x509.load_pem_x509_certificate(pem.encode()).public_bytes(Encoding.DER)).hexdigest()


def served_fingerprint(alias: str) -> str:
    return hashlib.sha256(edge_check.served_leaf(*edge_address(), alias)).hexdigest()


def issued_pems(*names) -> tuple[bytes, bytes, bytes]:
    """(certificate, key, chain) PEMs from a throwaway CA, as imported_certificate makes them."""
    from datetime import datetime, timedelta, timezone

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from emulators.core.ca import EmulatorCA
    from emulators.core.clock import Clock as EmulatorClock
    key = ec.generate_private_key(ec.SECP256R1())
    issued = EmulatorCA(EmulatorClock()).issue(key.public_key(), list(names),
                                               datetime.now(timezone.utc) + timedelta(days=90))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return issued.certificate_pem.encode(), key_pem, issued.chain_pem.encode()


def swap_certificate(distribution_id: str, arn: str) -> None:
    """Someone points the distribution at another certificate, outside certfleet."""
    got = cf().get_distribution_config(Id=distribution_id)
    changed = copy.deepcopy(got["DistributionConfig"])
    changed["ViewerCertificate"]["ACMCertificateArn"] = arn
    cf().update_distribution(Id=distribution_id, IfMatch=got["ETag"], DistributionConfig=changed)


# --- the emulator's edge -----------------------------------------------------------------------------------

def test_the_edge_serves_each_alias_its_distribution_s_certificate_by_sni(provider, template):
    shop = imported_certificate(*ALIASES)
    blog = imported_certificate("blog.example.org")
    provider.create(inputs(template, shop, "ISSUED"))
    provider.create(inputs(template, blog, "ISSUED", name="blog", aliases=("blog.example.org",)))
    assert served_fingerprint("shop.example.com") == served_fingerprint("www.shop.example.com") == acm_fingerprint(shop)
    assert served_fingerprint("blog.example.org") == acm_fingerprint(blog) != acm_fingerprint(shop)


def test_an_unknown_sni_name_or_none_fails_the_handshake_like_sni_only(provider, template):
    provider.create(inputs(template, imported_certificate(*ALIASES), "ISSUED"))
    with pytest.raises(ssl.SSLError, match="UNRECOGNIZED_NAME"):
        edge_check.served_leaf(*edge_address(), "nobody.example.com")
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    with socket.create_connection(edge_address(), timeout=5) as raw:  # an IP literal as server_hostname: no SNI
        with pytest.raises(ssl.SSLError):
            context.wrap_socket(raw, server_hostname=edge_address()[0])


def test_a_requested_certificate_is_served_as_acm_holds_it_and_a_reimport_at_once(provider, template):
    requested = requested_certificate(*ALIASES)
    wait_issued(requested)
    provider.create(inputs(template, requested, "ISSUED"))
    assert served_fingerprint("shop.example.com") == acm_fingerprint(requested)

    imported = imported_certificate("other.example.com")
    provider.create(inputs(template, imported, "ISSUED", name="other", aliases=("other.example.com",)))
    # Re-import into the same ARN (what a renewal of an imported certificate does): served at the next handshake.
    certificate, key, chain = issued_pems("other.example.com")
    acm().import_certificate(CertificateArn=imported, Certificate=certificate, PrivateKey=key,
                             CertificateChain=chain)
    assert served_fingerprint("other.example.com") == acm_fingerprint(imported) == hashlib.sha256(
        x509.load_pem_x509_certificate(certificate).public_bytes(Encoding.DER)).hexdigest()


# --- the provider's check ----------------------------------------------------------------------------------

def test_a_bound_distribution_passes_the_check_for_every_alias(provider, template):
    arn = imported_certificate(*ALIASES)
    created = provider.create(inputs(template, arn, "ISSUED"))
    edge = created.outs["edge"]
    assert sorted(edge) == list(ALIASES)
    for result in edge.values():
        assert result["ok"] is True and result["problem"] == ""
        assert result["fingerprint"] == acm_fingerprint(arn) and result["not_after"]
    # A refresh looks again and finds the same: no change of inputs, so no diff.
    read = provider.read(created.id, as_state(created.outs))
    assert read.outs["edge"] == edge
    assert provider.diff(created.id, read.outs, as_state(inputs(template, arn, "ISSUED"))).changes is False


def test_a_certificate_swapped_underneath_is_a_fingerprint_mismatch_at_refresh(provider, template):
    arn = imported_certificate(*ALIASES)
    created = provider.create(inputs(template, arn, "ISSUED"))
    swap_certificate(created.id, imported_certificate(*ALIASES))
    read = provider.read(created.id, as_state(created.outs))
    for alias in ALIASES:
        result = read.outs["edge"][alias]
        assert result["ok"] is False and "ACM holds" in result["problem"] and arn in result["problem"], result
        assert result["fingerprint"] != acm_fingerprint(arn)


def test_a_refresh_compares_with_the_certificate_the_run_just_read_without_asking_acm_again(provider, template,
                                                                                          control):
    requested = requested_certificate(*ALIASES)
    wait_issued(requested)
    created = provider.create(inputs(template, requested, "ISSUED"))
    # the refresh read the certificate a moment before (components/aws/acm.py read notes it)
    acm_seen.note_described(requested, acm().describe_certificate(CertificateArn=requested)["Certificate"])
    expected = acm_fingerprint(requested)
    control.clear_calls()
    read = provider.read(created.id, as_state(created.outs))
    assert "acm:GetCertificate" not in control.calls()["operations"]
    assert all(r["ok"] and r["fingerprint"] == expected for r in read.outs["edge"].values())
    # served something else: ACM is asked (once) and the mismatch named, as without what the run read
    swap_certificate(created.id, imported_certificate(*ALIASES))
    control.clear_calls()
    read = provider.read(created.id, as_state(created.outs))
    assert all(not r["ok"] and "ACM holds" in r["problem"] for r in read.outs["edge"].values())
    assert control.calls()["operations"]["acm:GetCertificate"] == {"ok": 1}


def test_what_the_refresh_read_is_used_only_while_it_is_recent(monkeypatch):
    acm_seen.note_described("arn:x", {"Status": "ISSUED", "Serial": "0a:1b", "NotAfter": None})
    assert acm_seen.recent("arn:x").serial == 0x0A1B
    monkeypatch.setattr(acm_seen, "MAX_AGE_SECONDS", 0.0)
    assert acm_seen.recent("arn:x") is None
    acm_seen.note_described("arn:pending", {"Status": "PENDING_VALIDATION"})   # no serial: nothing to serve
    assert acm_seen.recent("arn:pending") is None


def test_require_fails_naming_each_alias_after_its_bounded_retries_and_report_records(provider, template, control):
    arn = imported_certificate(*ALIASES)
    props = inputs(template, arn, "ISSUED", edge_check={"mode": "require", "timeout_seconds": 0.3})
    created = provider.create(props)  # served as bound: require passes
    assert all(result["ok"] for result in created.outs["edge"].values())
    swap_certificate(created.id, imported_certificate(*ALIASES))  # the edge now serves another certificate
    control.finish_deployments()
    outs = {**created.outs, "status": "Deployed"}
    with pytest.raises(CloudError) as raised:
        edge_check.after_change(outs, props, "distribution 'shop'", poll_seconds=0.05)
    text = str(raised.value)
    assert "EdgeCheckFailed" in text and all(f"{alias}: serves SHA-256" in text for alias in ALIASES), text
    recorded = edge_check.after_change(outs, {**props, "edge_check": {"mode": "report", "timeout_seconds": 0}},
                                       "distribution 'shop'")
    assert [result["ok"] for result in recorded.values()] == [False, False]
    # The next update puts the bound certificate back: the check passes again.
    repaired = provider.update(created.id, as_state(created.outs), props).outs["edge"]
    assert all(result["ok"] for result in repaired.values()), repaired


def test_the_check_off_or_an_unbound_distribution_makes_no_handshake(provider, template):
    pending = requested_certificate(*ALIASES)
    created = provider.create(inputs(template, pending, "PENDING_VALIDATION"))
    assert created.outs["edge"] == {}
    arn = imported_certificate("off.example.com")
    off = provider.create(inputs(template, arn, "ISSUED", name="off", aliases=("off.example.com",),
                                 edge_check={"mode": "off", "timeout_seconds": 0}))
    assert off.outs["edge"] == {} and off.outs["bound"] is True
    assert os.environ[edge_check.ENDPOINT_VARIABLE]  # the fixture points at the emulator's edge
