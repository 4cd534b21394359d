"""The report's expiry section (scripts/report_expiry.py): days left and renewal state for every certificate of
every cloud, and `report.py --expiring-within DAYS` exiting with the expiry gate's codes for CI alerting."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest

from scripts import pipeline_expiry, report, report_expiry
from tests.conftest import ROOT
from tests.unit.test_output_schema import validate_strictly

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)


def acm(not_after, renewal_status=None, eligibility="ELIGIBLE", status="ISSUED"):
    return {"arn": "arn:aws:acm:us-east-1:123456789012:certificate/1", "status": status, "status_message": "",
            "domain": "shop.example.com", "sans": ["shop.example.com"], "validation_records": [],
            "not_after": not_after, "adopted": False, "renewal_status": renewal_status,
            "renewal_eligibility": eligibility}


OUTPUTS = {
    "aws": {
        "certificates": {"shop": acm("2027-01-20T12:00:00+00:00", "PENDING_VALIDATION"),
                         "blog": acm("2027-11-30T12:00:00+00:00"),
                         "idle": acm("2027-06-01T12:00:00+00:00", eligibility="INELIGIBLE"),
                         "fresh": acm(None, eligibility=None, status="PENDING_VALIDATION")},
        "imports": {"static": {"arn": "arn:aws:acm:us-east-1:123456789012:certificate/2", "status": "ISSUED",
                               "not_after": "2026-12-10T12:00:00+00:00"}},
        "distributions": {"shop": {"edge": {"shop.example.com": {"ok": False, "not_after": "", "fingerprint": "",
                                                                 "problem": "TLS handshake failed"}}}},
    },
    "alicloud": {"orders": {"docs": {"state": "certificate", "not_after": "2027-02-28T12:00:00+00:00",
                                     "renewal": {"state": "scheduled", "renew_at": "2027-01-29T12:00:00+00:00",
                                                 "not_after": "2027-02-28T12:00:00+00:00"},
                                     "deployments": {"acm": {"not_after": "2027-02-28T12:00:00+00:00"}}}}},
    "huaweicloud": {"certificates": {"api": {"status": "ISSUED", "not_after": "2026-12-20 12:00:00.0",
                                             "renewal": {"state": "not-declared", "not_after": "2026-12-20 12:00:00.0"}}}},
}


def rows_by_path(section):
    return {row["path"]: row for row in section["certificates"]}


def test_every_certificate_of_every_cloud_has_its_days_left_and_who_renews_it():
    section = report_expiry.expiry(OUTPUTS, NOW)
    rows = rows_by_path(section)
    assert list(rows) == ["aws.imports.static", "huaweicloud.certificates.api", "aws.certificates.shop",
                          "alicloud.orders.docs", "alicloud.orders.docs.deployments.acm", "aws.certificates.idle",
                          "aws.certificates.blog"]  # soonest first; `edge` and `renewal` objects are not certificates
    assert {path: row["days_left"] for path, row in rows.items()} == {
        "aws.imports.static": 10, "huaweicloud.certificates.api": 20, "aws.certificates.shop": 51,
        "alicloud.orders.docs": 90, "alicloud.orders.docs.deployments.acm": 90, "aws.certificates.idle": 183,
        "aws.certificates.blog": 365}
    assert {path: (row["renewal"]["by"], row["renewal"]["state"]) for path, row in rows.items()} == {
        "aws.imports.static": ("none", None), "huaweicloud.certificates.api": ("none", None),
        "aws.certificates.shop": ("acm", "PENDING_VALIDATION"), "alicloud.orders.docs": ("certfleet", "scheduled"),
        "alicloud.orders.docs.deployments.acm": ("deployment", None), "aws.certificates.idle": ("acm", "INELIGIBLE"),
        "aws.certificates.blog": ("acm", "ELIGIBLE")}
    assert section["not_issued"] == ["aws.certificates.fresh"] and section["unreadable"] == []
    assert not any(row["expiring"] for row in rows.values())  # no threshold given


def test_days_left_are_the_expiry_gates_own():
    found, _, _ = pipeline_expiry.collect(OUTPUTS)
    rows = rows_by_path(report_expiry.expiry(OUTPUTS, NOW))
    assert {e.path: e.days_left(NOW) for e in found} == {path: row["days_left"] for path, row in rows.items()}


@pytest.mark.parametrize("status, eligibility, message", [
    ("PENDING_VALIDATION", "ELIGIBLE", "ACM renews: PENDING_VALIDATION - act: the validation CNAME is gone"),
    ("SUCCESS", "ELIGIBLE", "ACM renews: SUCCESS - renewed in place (same ARN"),
    ("FAILED", "INELIGIBLE", "ACM renews: FAILED - act: not validated before expiry, request a new certificate"),
    ("PENDING_AUTO_RENEWAL", "ELIGIBLE", "ACM renews: PENDING_AUTO_RENEWAL - ACM is renewing it"),
    (None, "ELIGIBLE", "ACM renews: from 60 days before expiry (in use)"),
    (None, "INELIGIBLE", "ACM renews: only while in use, and nothing used it when last read"),
    (None, None, "ACM renews: not read yet (pulumi up --refresh reads it)"),
])
def test_acm_renewal_states_read_as_what_to_do(status, eligibility, message):
    renewal = report_expiry.renewal_of("aws.certificates.shop", acm("2027-01-01T00:00:00+00:00", status, eligibility))
    assert renewal["by"] == "acm" and renewal["message"].startswith(message)


def test_the_table_shows_the_expiry_section_and_the_acm_renewal_line():
    text = report.render(OUTPUTS, NOW, within=30)
    assert "Expiry (7 certificates; now 2026-11-30T12:00:00+00:00)" in text
    lines = text.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split() == ["CERTIFICATE", "EXPIRES", "DAYS", "RENEWAL"])
    assert lines[header + 1].split()[:3] == ["aws.imports.static", "2026-12-10T12:00:00+00:00", "10"]
    assert lines[header + 1].rstrip().endswith("nobody renews it: re-import a new one")
    assert "! " in lines[header + 2] and "!" not in lines[header + 3].split()[2]  # within 30 days: marked
    assert "    renewal: ACM renews: PENDING_VALIDATION - act: the validation CNAME is gone" in text
    assert "  not issued yet: aws.certificates.fresh" in text


def test_the_json_report_carries_the_expiry_section_and_validates():
    document = json.loads(json.dumps(report.report(OUTPUTS, NOW, within=15)))
    section = document["expiry"]
    assert section["within"] == 15 and section["now"] == NOW.isoformat()
    assert [row["path"] for row in section["certificates"] if row["expiring"]] == ["aws.imports.static"]
    validate_strictly(report.report({"aws": {"certificates": {"shop": OUTPUTS["aws"]["certificates"]["shop"]}}},
                                    NOW))


def run_report(tmp_path, outputs, *args, offset_days: float = 0) -> subprocess.CompletedProcess:
    """scripts/report.py as scripts/local.sh runs it, with a stand-in `pulumi` printing `outputs`."""
    (tmp_path / "outputs.json").write_text(json.dumps(outputs))
    fake = tmp_path / "pulumi"
    fake.write_text(f"#!/bin/sh\ncat {tmp_path}/outputs.json\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    env = {**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}",
           "CERTFLEET_CLOCK_OFFSET_SECONDS": str(offset_days * 86400),
           "AWS_ENDPOINT_URL": "http://127.0.0.1:9"}  # the offset is for local emulators only (components/clock.py)
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "report.py"), *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)


def in_days(days: float) -> str:
    return (datetime.now(timezone.utc) + timedelta(days=days)).isoformat()


def test_expiring_within_exits_12_naming_the_certificate_and_0_when_none_is(tmp_path):
    outputs = {"aws": {"certificates": {"shop": acm(in_days(40.5), eligibility="ELIGIBLE")}}}
    calm = run_report(tmp_path, outputs, "--expiring-within", "30")
    assert calm.returncode == 0, calm.stderr
    assert "expiry: OK - none of 1 issued certificate(s) expires within 30 days" in calm.stdout
    alarmed = run_report(tmp_path, outputs, "--expiring-within", "45")
    assert alarmed.returncode == pipeline_expiry.EXIT_EXPIRING == 12
    assert "expiry: FAILED - 1 certificate(s) expire within 45 days: aws.certificates.shop (40 days)" in alarmed.stdout
    assert run_report(tmp_path, outputs).returncode == 0  # no threshold: a report, never a gate


def test_expiring_within_follows_certfleets_clock(tmp_path):
    """CERTFLEET_CLOCK_OFFSET_SECONDS (scripts/local.sh clock advance) moves the report's now, as the providers'."""
    outputs = {"aws": {"certificates": {"shop": acm(in_days(100.5))}}}
    moved = run_report(tmp_path, outputs, "--json", "--expiring-within", "30", offset_days=80)
    assert moved.returncode == 12, moved.stderr
    row = json.loads(moved.stdout)["expiry"]["certificates"][0]
    assert row["days_left"] == 20 and row["expiring"] is True
    assert "expiry: FAILED" in moved.stderr  # stdout stays one JSON document


def test_expiring_within_exits_13_when_an_expiry_cannot_be_read(tmp_path):
    outputs = {"aws": {"certificates": {"shop": acm(in_days(100))}},
               "huaweicloud": {"certificates": {"api": {"status": "ISSUED", "not_after": "[secret]"}}}}
    unreadable = run_report(tmp_path, outputs, "--expiring-within", "30")
    assert unreadable.returncode == pipeline_expiry.EXIT_UNREADABLE_EXPIRY == 13
    assert "cannot read the expiry of huaweicloud.certificates.api: '[secret]'" in unreadable.stdout
