"""The edge check's ordered checks (components/aws/edge_check.py), its settings and config rules, and its report
line: facts made by hand, no network (the handshakes themselves: tests/provider/test_edge_check_provider.py)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from cryptography import x509

from components.aws import edge_check
from components.aws.edge_check import AliasFacts, Expected
from components.config import load_fleet
from components.errors import ConfigError
from scripts import report
from tests.pki import NOW, Pki

ARN = "arn:aws:acm:us-east-1:123456789012:certificate/shop"


def der(pem: str) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding
    return x509.load_pem_x509_certificate(pem.encode()).public_bytes(Encoding.DER)


def expected_for(leaf_der: bytes) -> Expected:
    leaf = x509.load_der_x509_certificate(leaf_der)
    return Expected(ARN, hashlib.sha256(leaf_der).hexdigest(), leaf.not_valid_after_utc)


SHOP = der(Pki.make().leaf(["shop.example.com", "*.shop.example.com"])[0])
OTHER = der(Pki.make().leaf(["shop.example.com", "*.shop.example.com"], slot=1)[0])


def facts(alias="www.shop.example.com", served=SHOP, expected=None, now=NOW, error=""):
    return AliasFacts(alias, "127.0.0.1:443", served, error, expected or expected_for(SHOP), now)


def test_the_bound_certificate_served_for_a_covered_alias_passes():
    result = edge_check.verdict(facts())
    assert result == {"ok": True, "fingerprint": hashlib.sha256(SHOP).hexdigest(),
                      "not_after": (NOW + timedelta(days=365)).isoformat(), "problem": ""}


@pytest.mark.parametrize("made, problem", [
    (dict(served=None, error="SSLError: unrecognized name"), "TLS handshake with SNI www.shop.example.com at "
                                                             "127.0.0.1:443 failed: SSLError: unrecognized name"),
    (dict(alias="deep.www.shop.example.com"), "names *.shop.example.com, shop.example.com, not "
                                              "deep.www.shop.example.com"),
    (dict(served=OTHER), "but ACM holds"),
    (dict(now=NOW + timedelta(days=400)), "expired at"),
])
def test_each_check_names_its_problem(made, problem):
    result = edge_check.verdict(facts(**made))
    assert result["ok"] is False and problem in result["problem"], result


def test_the_checks_run_in_order_and_the_first_problem_is_the_one_told():
    assert [c.__name__ for c in edge_check.CHECKS] == ["handshake_failed", "name_not_covered", "fingerprint_differs",
                                                       "expired"]
    # Another certificate, also expired, also not naming the alias: the name comes first.
    result = edge_check.verdict(facts(alias="api.example.org", served=OTHER, now=NOW + timedelta(days=400)))
    assert "not api.example.org" in result["problem"]
    # The right names, another certificate, expired: the fingerprint comes before the expiry.
    result = edge_check.verdict(facts(served=OTHER, now=NOW + timedelta(days=400)))
    assert "ACM holds" in result["problem"] and "expired" not in result["problem"]


def test_an_unreadable_acm_certificate_is_a_failure_saying_why():
    expected = Expected(ARN, "", None, "AccessDeniedException: not allowed")
    result = edge_check.verdict(facts(expected=expected))
    assert not result["ok"] and "could not be read" in result["problem"] and "AccessDenied" in result["problem"]


def test_a_failed_handshake_leaves_no_null_in_the_result():
    result = edge_check.verdict(facts(served=None, error="ConnectionRefusedError"))
    assert None not in result.values() and result["fingerprint"] == result["not_after"] == ""


def test_the_endpoint_is_the_distribution_on_443_unless_overridden(monkeypatch):
    monkeypatch.delenv(edge_check.ENDPOINT_VARIABLE, raising=False)
    assert edge_check.endpoint("d111.cloudfront.net") == ("d111.cloudfront.net", 443)
    monkeypatch.setenv(edge_check.ENDPOINT_VARIABLE, "127.0.0.1:8443")
    assert edge_check.endpoint("d111.cloudfront.net") == ("127.0.0.1", 8443)
    monkeypatch.setenv(edge_check.ENDPOINT_VARIABLE, "nonsense")
    with pytest.raises(ValueError, match="host:port"):
        edge_check.endpoint("d111.cloudfront.net")


def test_nothing_is_checked_before_deployed_when_unbound_disabled_or_off():
    outs = {"status": "Deployed", "bound": True, "enabled": True, "bound_certificate_arn": ARN,
            "bound_aliases": ["shop.example.com"], "domain_name": "d.cloudfront.net", "certificate_status": "ISSUED"}
    on = {"edge_check": {"mode": "report", "timeout_seconds": 0}}
    assert edge_check.applicable(outs, on)
    for changed in ({"status": "InProgress"}, {"bound": False}, {"enabled": False}):
        assert not edge_check.applicable({**outs, **changed}, on)
        assert edge_check.after_change({**outs, **changed}, on, "distribution 'shop'") == {}
    assert not edge_check.applicable(outs, {"edge_check": {"mode": "off", "timeout_seconds": 0}})
    assert edge_check.settings({}) == ("report", 0.0)  # a state written before the check: report, one look


def test_the_reference_is_the_wanted_certificate_once_issued_else_the_one_still_bound():
    outs = {"bound_certificate_arn": ARN, "certificate_status": "ISSUED"}
    assert edge_check.wanted_arn(outs, {"certificate_arn": ARN + "-new"}) == ARN + "-new"  # swapped: a mismatch
    # A replacement still pending: the old certificate keeps serving by design, and that is what is checked.
    assert edge_check.wanted_arn({**outs, "certificate_status": "PENDING_VALIDATION"},
                                 {"certificate_arn": ARN + "-new"}) == ARN


def test_config_takes_the_section_default_and_a_distribution_override():
    fleet = load_fleet({"aws": {"edgeCheck": "require", "edgeCheckTimeoutSeconds": 30,
                                "certificates": {"shop": {"domain": "shop.example.com"}},
                                "distributions": {"a": {"template": "E195R1W5GIVPF5", "certificate": "shop"},
                                                  "b": {"template": "E195R1W5GIVPF5", "certificate": "shop",
                                                        "aliases": [], "edgeCheck": "off"}}}})
    from components.aws.cloudfront import distribution_inputs
    got = {spec.name: distribution_inputs(spec, fleet.aws, f"p/s/{spec.name}", {}, "arn", "ISSUED")["edge_check"]
           for spec in fleet.aws.distributions}
    assert got == {"a": {"mode": "require", "timeout_seconds": 30}, "b": {"mode": "off", "timeout_seconds": 30}}
    default = load_fleet({"aws": {"certificates": {"shop": {"domain": "shop.example.com"}}}}).aws
    assert (default.edge_check, default.edge_check_timeout_seconds) == ("report", 120)


@pytest.mark.parametrize("aws, path", [
    ({"edgeCheck": "always"}, "certfleet:aws.edgeCheck"),
    ({"edgeCheckTimeoutSeconds": -1}, "certfleet:aws.edgeCheckTimeoutSeconds"),
    ({"distributions": {"a": {"template": "E195R1W5GIVPF5", "certificate": "shop", "edgeCheck": True}}},
     "certfleet:aws.distributions.a.edgeCheck"),
])
def test_a_bad_edge_check_setting_fails_naming_its_path(aws, path):
    with pytest.raises(ConfigError) as raised:
        load_fleet({"aws": {"certificates": {"shop": {"domain": "shop.example.com"}}, **aws}})
    assert any(problem.startswith(path) and ("must be one of report, require, off" in problem
                                             or "whole number of seconds" in problem)
               for problem in raised.value.problems), raised.value.problems


def test_the_report_shows_each_failing_alias_and_one_line_when_all_pass():
    ok = {"ok": True, "fingerprint": "ab", "not_after": "2031-01-01T00:00:00+00:00", "problem": ""}
    bad = {"ok": False, "fingerprint": "cd", "not_after": "2031-01-01T00:00:00+00:00",
           "problem": "serves SHA-256 cd…, but ACM holds ab…"}
    assert report.edge_lines({"edge": {"a.example.com": ok, "b.example.com": ok}}) == [
        "    edge: serves the bound certificate (2 of 2 aliases checked)"]
    assert report.edge_lines({"edge": {"a.example.com": ok, "b.example.com": bad}}) == [
        "    edge FAILED for b.example.com: serves SHA-256 cd…, but ACM holds ab…"]
    assert report.edge_lines({"edge": {}}) == [] and report.edge_lines({}) == []
