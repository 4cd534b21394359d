"""End to end, ACM's managed renewal as certfleet reports it: the real pulumi CLI, a requested certificate whose
validation CNAME certfleet writes in Route 53 (`dns`), a CloudFront distribution serving it. The AWS emulator's
clock is moved 30 days before the certificate's expiry (as `scripts/local.sh clock advance` does), with certfleet's
CERTFLEET_CLOCK_OFFSET_SECONDS to match: `up --refresh` reads ACM's renewal (same ARN, new expiry), the report
shows it with the days left, `--expiring-within` passes, and a preview after it stays quiet."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timezone

from emulators.aws.testing import AwsControl
from scripts import local_servers
from tests.conftest import ROOT

CONFIG = {"aws": {"issuedTimeoutSeconds": 60, "deployedTimeoutSeconds": 60,
                  "dns": {"provider": "route53", "validationTimeoutSeconds": 60},
                  "certificates": {"shop": {"domain": "shop.example.com", "sans": ["www.shop.example.com"]}},
                  "distributions": {"shop": {"template": local_servers.LOCAL_TEMPLATE_ID, "certificate": "shop"}}}}


def report(project, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "report.py"), "--stack", "e2e", *args],
                          cwd=project.workdir, env=project.env, capture_output=True, text=True, timeout=120)


def test_refresh_reports_acms_renewal_and_the_report_shows_it(project, aws, dns_clouds):
    local_servers.seed_template(aws)
    project.env.update(dns_clouds["env"])
    project.init()
    project.write_stack("e2e", CONFIG)
    project.run("up", "--yes", "--skip-preview")
    issued = project.outputs()["aws"]["certificates"]["shop"]
    assert issued["status"] == "ISSUED" and issued["renewal_status"] is None
    assert project.outputs()["aws"]["distributions"]["shop"]["bound"] is True

    offset = (datetime.fromisoformat(issued["not_after"]) - datetime.now(timezone.utc)).total_seconds() - 30 * 86400
    AwsControl(aws).advance_clock(offset)
    project.env["CERTFLEET_CLOCK_OFFSET_SECONDS"] = str(offset)
    project.run("up", "--yes", "--skip-preview", "--refresh")
    renewed = project.outputs()["aws"]["certificates"]["shop"]
    assert renewed["arn"] == issued["arn"]
    assert (renewed["renewal_status"], renewed["renewal_eligibility"]) == ("SUCCESS", "ELIGIBLE")
    assert renewed["not_after"] > issued["not_after"]

    text = report(project, "--expiring-within", "60")
    assert text.returncode == 0, text.stdout + text.stderr
    assert "    renewal: ACM renews: SUCCESS - renewed in place" in text.stdout
    assert "expiry: OK - none of 1 issued certificate(s) expires within 60 days" in text.stdout
    document = json.loads(report(project, "--json").stdout)
    row = document["expiry"]["certificates"][0]
    assert row["path"] == "aws.certificates.shop" and row["renewal"]["state"] == "SUCCESS"
    assert 190 <= row["days_left"] <= 198  # ACM's renewed certificate, counted on the moved clock

    preview = project.run("preview", "--expect-no-changes", check=False)
    assert preview.returncode == 0, preview.stdout + preview.stderr
