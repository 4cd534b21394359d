"""A distribution served by a deployed copy (components/aws/cloudfront.py) against the AWS emulator and its TLS edge:
the copy is re-imported IN PLACE (same ARN) when its source renews, so the distribution learns of it through its
`certificate_fingerprint` input. It waits (never binds aliases the copy does not cover) while the source's names
changed and the successor is not deployed yet, binds once it is, and checks its edge again after a re-import."""

from __future__ import annotations

import hashlib

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from components.aws import distribution_config as dc
from components.aws.cloudfront import NOT_COVERING
from scripts.report import edge_lines
from tests.provider.test_cloudfront_provider import acm, as_state, imported_certificate, inputs, live
from tests.provider.test_edge_check_provider import control, provider, template  # noqa: F401 (fixtures)
from tests.provider.test_edge_check_provider import acm_fingerprint, issued_pems, served_fingerprint

SOURCE = "huaweicloud.certificates.portal"


class Unknown:  # pulumi's sentinel for a value computed during preview (components.dynamic.is_unknown)
    pass


def fingerprint_of(certificate_pem: bytes) -> str:
    return hashlib.sha256(x509.load_pem_x509_certificate(certificate_pem).public_bytes(Encoding.DER)).hexdigest()


def reimport(arn: str, *names) -> str:
    """What the ACM copy does when its source renews: the new certificate into the same ARN."""
    certificate, key, chain = issued_pems(*names)
    acm().import_certificate(CertificateArn=arn, Certificate=certificate, PrivateKey=key, CertificateChain=chain)
    return fingerprint_of(certificate)


def served_by_copy(template, arn, aliases, fingerprint):
    return inputs(template, arn, "ISSUED", name="portal", aliases=aliases, certificate_name=SOURCE,
                  certificate_fingerprint=fingerprint)


def update(provider, distribution_id, olds, news):
    olds = as_state(olds)
    assert provider.diff(distribution_id, olds, news).changes is not False
    return provider.update(distribution_id, olds, news).outs


def test_new_names_wait_for_the_successor_and_bind_once_it_is_deployed(provider, template):
    arn = imported_certificate("portal.example.com")
    first = served_by_copy(template, arn, ("portal.example.com",), acm_fingerprint(arn))
    created = provider.create(first)
    assert created.outs["bound_aliases"] == ["portal.example.com"]

    # The source now names portal2 only; its copy still holds the portal certificate: no failure, no binding.
    renamed = {**first, "aliases": ["portal2.example.com"]}
    waiting = update(provider, created.id, created.outs, renamed)
    assert (waiting["stage"], waiting["certificate_status"]) == (dc.WAITING, NOT_COVERING)
    config = live(created.id)["DistributionConfig"]
    assert config["Aliases"]["Items"] == ["portal.example.com"]  # the current binding keeps serving
    assert "does not cover the distribution's aliases yet" in waiting["status_message"]

    # The successor is issued and re-imported into the same ARN: only the fingerprint tells the distribution.
    successor = {**renamed, "certificate_fingerprint": reimport(arn, "portal2.example.com")}
    bound = update(provider, created.id, waiting, successor)
    assert (bound["stage"], bound["bound_aliases"], bound["bound_certificate_arn"]) == (
        dc.DEPLOYED, ["portal2.example.com"], arn)
    assert bound["edge"]["portal2.example.com"]["fingerprint"] == successor["certificate_fingerprint"]


def test_a_reimport_makes_the_distribution_check_its_edge_again(provider, template):
    arn = imported_certificate("portal.example.com")
    props = served_by_copy(template, arn, ("portal.example.com",), acm_fingerprint(arn))
    created = provider.create(props)
    old = created.outs["edge"]["portal.example.com"]
    assert old["ok"] and old["fingerprint"] == props["certificate_fingerprint"]

    renewed = {**props, "certificate_fingerprint": reimport(arn, "portal.example.com")}
    # The report sees an edge verdict about the certificate served before the re-import as not current.
    stale = {**created.outs, "stage": dc.DEPLOYED, "certificate_fingerprint": renewed["certificate_fingerprint"]}
    assert any("edge NOT CHECKED for portal.example.com" in line for line in edge_lines(stale))
    checked = update(provider, created.id, created.outs, renewed)
    result = checked["edge"]["portal.example.com"]
    assert result["ok"] and result["fingerprint"] == renewed["certificate_fingerprint"] != old["fingerprint"]
    assert served_fingerprint("portal.example.com") == renewed["certificate_fingerprint"]
    assert edge_lines(checked) == ["    edge: serves the bound certificate (1 of 1 aliases checked)"]


def test_the_fingerprint_changes_nothing_when_unknown_absent_or_the_same(provider, template):
    arn = imported_certificate("portal.example.com")
    props = served_by_copy(template, arn, ("portal.example.com",), acm_fingerprint(arn))
    created = provider.create(props)
    olds = as_state(created.outs)
    assert provider.diff(created.id, olds, props).changes is False
    assert provider.diff(created.id, olds, {**props, "certificate_fingerprint": Unknown()}).changes is False  # preview
    before = {k: v for k, v in olds.items() if k != "certificate_fingerprint"}  # a state written before it existed
    assert provider.diff(created.id, before, props).changes is False
    assert provider.diff(created.id, olds, {**props, "certificate_fingerprint": "ab" * 32}).changes is not False
