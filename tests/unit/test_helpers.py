"""Pure helpers: wildcard coverage, record de-duplication, tokens, the report."""

from __future__ import annotations

import re

import pytest

from components import names
from components.aws import acm
from components.aws.fleet import merge_records
from scripts.report import render


@pytest.mark.parametrize("cert_name,host,covered", [
    ("example.com", "example.com", True),
    ("*.example.com", "www.example.com", True),
    ("*.example.com", "example.com", False),          # a wildcard does not cover its apex
    ("*.example.com", "a.b.example.com", False),      # exactly one label
    ("*.example.com", "*.example.com", True),
    ("www.example.com", "example.com", False),
])
def test_covers(cert_name, host, covered):
    assert names.covers(cert_name, host) is covered


def record(name, value="v"):
    return {"Name": name, "Type": "CNAME", "Value": value}


def test_validation_records_merge_apex_and_wildcard_and_list_missing_names():
    described = {"DomainValidationOptions": [
        {"DomainName": "*.Example.com", "ResourceRecord": record("_x.example.com.")},
        {"DomainName": "example.com", "ResourceRecord": record("_X.EXAMPLE.COM.")},
        {"DomainName": "www.other.com", "ResourceRecord": record("_y.www.other.com.")},
        {"DomainName": "late.other.com"},
    ]}
    records, missing = acm.validation_records(described)
    assert records == [
        {"name": "_x.example.com.", "type": "CNAME", "value": "v", "domains": ["*.example.com", "example.com"]},
        {"name": "_y.www.other.com.", "type": "CNAME", "value": "v", "domains": ["www.other.com"]},
    ]
    assert missing == ["late.other.com"]


def test_merge_records_across_certificates():
    r = {"name": "_a.example.com.", "type": "CNAME", "value": "v"}
    merged = merge_records([[("b", r)], [("a", r), ("a", {**r, "name": "_b.example.com."})]])
    assert merged == [{**r, "certificates": ["a", "b"]},
                      {"name": "_b.example.com.", "type": "CNAME", "value": "v", "certificates": ["a"]}]


def props(**over):
    base = {"domain": "a.example.com", "sans": ["a.example.com"], "key_algorithm": "RSA_2048",
            "region": "us-east-1", "resource_tag": "p/s/a", "tags": {"x": "1"}}
    return {**base, **over}


def test_idempotency_token_is_deterministic_valid_and_ignores_tags():
    token = acm.idempotency_token(props())
    assert re.fullmatch(r"\w{1,32}", token)
    assert token == acm.idempotency_token(props(tags={"other": "2"}))
    assert token != acm.idempotency_token(props(sans=["a.example.com", "b.example.com"]))
    assert token != acm.idempotency_token(props(), attempt=1)
    assert re.fullmatch(r"\w{1,32}", acm.idempotency_token(props(), attempt=1))


@pytest.mark.parametrize("status,missing,reason,expected", [
    ("ISSUED", [], None, "issued"),
    ("FAILED", [], "CAA_ERROR", "FAILED (CAA_ERROR): this certificate can no longer be issued"),
    ("PENDING_VALIDATION", ["a.example.com"], None, "not yet published validation records for a.example.com"),
    ("PENDING_VALIDATION", [], None, "publish validation_records in DNS"),
])
def test_status_message(status, missing, reason, expected):
    assert expected in acm.status_message(status, missing, reason)


def test_report_lists_pending_certificates_with_their_records():
    text = render({"aws": {
        "certificates": {"shop": {"status": "PENDING_VALIDATION", "arn": "arn:1", "sans": ["shop.example.com"],
                                  "status_message": "waiting", "not_after": "2030-01-01"}},
        "validationRecords": [{"name": "_a.shop.example.com.", "type": "CNAME", "value": "_b.acm.",
                               "certificates": ["shop"]}]}})
    assert "shop: PENDING_VALIDATION  arn:1" in text
    assert "waiting" in text and "expires" not in text
    assert "_a.shop.example.com. CNAME _b.acm." in text
    assert render({}) == "no certfleet outputs in this stack"


def test_report_says_when_a_cas_order_was_adopted():
    order = {"state": "certificate", "order_id": "9", "product_code": "digicert-free-1-free",
             "domains": ["docs.example.cn"], "status_message": "issued", "challenge": None}
    assert "adopted: an issued order" in render({"alicloud": {"orders": {"docs": {**order, "adopted": True}}}})
    assert "adopted" not in render({"alicloud": {"orders": {"docs": {**order, "adopted": None}}}})


def test_wait_for_starts_quick_and_slows_down_to_its_interval():
    from components.dynamic import wait_for
    from tests.provider.test_scm_provider import FakeClock

    FakeClock.t, FakeClock.sleeps = 0.0, []
    answers = iter([None] * 6 + ["done"])
    assert wait_for("x", lambda: next(answers), 100, 10, FakeClock, first_interval_seconds=1) == "done"
    assert FakeClock.sleeps == [1, 2, 4, 8, 10, 10]
