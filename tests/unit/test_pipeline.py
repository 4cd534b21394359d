"""The pipeline's own pieces that need no server: the expiry check, the policy check read from an event log,
what the local run demands of two concurrent updates, and scripts/pipeline.sh's usage errors."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from scripts import pipeline_expiry, pipeline_local, pipeline_policy

ROOT = Path(__file__).resolve().parents[2]
NOW = "2026-11-30T12:00:00+00:00"
OUTPUTS = {
    "aws": {"certificates": {"shop": {"status": "ISSUED", "not_after": "2027-11-30T10:00:00+00:00"},
                             "blog": {"status": "PENDING_VALIDATION", "not_after": None}},
            "imports": {"static": {"not_after": "2026-12-20T00:00:00+00:00"}}},
    "alicloud": {"orders": {"blog": {"state": "certificate", "not_after": "2026-12-10T00:00:00Z"}}},
    "huaweicloud": {"certificates": {"portal": {"status": "ISSUED", "not_after": "[secret]"}}},
}


def run_expiry(tmp_path, days: int, outputs=OUTPUTS) -> tuple[int, str]:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    summary = tmp_path / "summary.md"
    proc = subprocess.run([str(ROOT / ".venv/bin/python"), "-m", "scripts.pipeline_expiry", "--days", str(days),
                           "--outputs", str(path), "--now", NOW, "--markdown", str(summary)],
                          cwd=ROOT, capture_output=True, text=True)
    return proc.returncode, proc.stdout


def test_expiry_finds_every_not_after_and_skips_the_unissued_and_secret_ones():
    found, skipped = pipeline_expiry.collect(OUTPUTS)
    assert [e.path for e in found] == ["alicloud.orders.blog", "aws.certificates.shop", "aws.imports.static"]
    assert skipped == ["aws.certificates.blog", "huaweicloud.certificates.portal"]


def test_expiry_fails_naming_the_certificates_within_the_window(tmp_path):
    code, out = run_expiry(tmp_path, 30)
    assert code == pipeline_expiry.EXIT_EXPIRING
    assert ("expiry: FAILED - 2 certificate(s) expire within 30 days: alicloud.orders.blog (9 days), "
            "aws.imports.static (19 days)") in out
    assert "aws.certificates.shop: expires 2027-11-30T10:00:00+00:00 (364 days left)" in out
    assert "expiry: FAILED" in (tmp_path / "summary.md").read_text()


def test_expiry_passes_when_nothing_expires_within_the_window(tmp_path):
    code, out = run_expiry(tmp_path, 5)
    assert code == 0
    assert "expiry: OK - none of 3 issued certificate(s) expires within 5 days" in out


def test_expiry_of_an_unreadable_output_is_exit_2(tmp_path):
    (tmp_path / "bad.json").write_text("not json")
    assert pipeline_expiry.main(["--days", "1", "--outputs", str(tmp_path / "bad.json")]) == 2


def policy_event(level: str, policy: str, urn: str, message: str) -> dict:
    return {"policyEvent": {"enforcementLevel": level, "policyName": policy, "policyPackName": "certfleet-policies",
                            "policyPackVersion": "1.0.0", "resourceUrn": urn, "message": message}}


def write_events(tmp_path, events: list[dict]) -> str:
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    return str(path)


SUMMARY = {"summaryEvent": {"PolicyPacks": {"certfleet-policies|local|policy": "1.0.0"}}}
URN = "urn:pulumi:pipeline::certfleet::pulumi-python:dynamic/huaweicloud:ScmCertificate::portal"


def test_policy_check_fails_on_a_mandatory_violation_and_names_it(tmp_path, capsys):
    events = [{"policyLoadEvent": {}}, policy_event("advisory", "wildcard-approval", URN, "no approver tag"),
              policy_event("mandatory", "paid-orders-ceiling", "", "5 new paid orders, at most 4\nmore"), SUMMARY]
    assert pipeline_policy.main(["x", write_events(tmp_path, events)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out == ["  [mandatory] certfleet-policies/paid-orders-ceiling (stack): 5 new paid orders, at most 4",
                   "  [advisory] certfleet-policies/wildcard-approval (portal): no approver tag",
                   "policy: FAILED - 1 mandatory violation(s) from certfleet-policies@1.0.0"]


def test_policy_check_passes_with_advisory_violations_only(tmp_path, capsys):
    events = [{"policyLoadEvent": {}}, policy_event("advisory", "wildcard-approval", URN, "no approver tag"), SUMMARY]
    assert pipeline_policy.main(["x", write_events(tmp_path, events)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        "policy: OK - certfleet-policies@1.0.0: no mandatory violation (1 advisory)")


def test_policy_check_says_when_no_pack_ran(tmp_path, capsys):
    assert pipeline_policy.main(["x", write_events(tmp_path, [{"summaryEvent": {}}])]) == 0
    assert "policy: no policy pack ran" in capsys.readouterr().out
    assert pipeline_policy.main(["x", str(tmp_path / "missing.jsonl")]) == 2


def outcome(**changes) -> dict:
    held = {"acm_certificates": 1, "cas_orders": 1, "scm_certificates": 1}
    base = {"before": held, "after": {**held, "acm_certificates": 2, "scm_certificates": 2}, "first_exit": 0,
            "second_exit": 75, "second_output": "error: the stack is currently locked by 1 lock(s).",
            "locks_left": []}
    return {**base, **changes}


def test_the_local_run_demands_one_purchase_and_a_refusal_by_the_lock():
    assert pipeline_local.check_concurrent_up(outcome()) == []
    assert pipeline_local.check_concurrent_up(outcome(second_exit=0, second_output="")) == [
        "the second up was not refused by the lock (exit 0)"]
    bought_twice = outcome(after={"acm_certificates": 3, "cas_orders": 1, "scm_certificates": 3})
    assert "expected" in pipeline_local.check_concurrent_up(bought_twice)[0]
    assert pipeline_local.check_concurrent_up(outcome(locks_left=["x.json"])) == ["locks left behind: ['x.json']"]


def test_pipeline_sh_usage_errors_are_exit_2():
    for args in ([], ["deploy"], ["preview"], ["preview", "--stack"], ["up", "--stack", "s", "--bogus"]):
        proc = subprocess.run(["bash", str(ROOT / "scripts/pipeline.sh"), *args], capture_output=True, text=True,
                              env={"PATH": "/usr/bin:/bin"})
        assert proc.returncode == 2, (args, proc.stderr)
    proc = subprocess.run(["bash", str(ROOT / "scripts/pipeline.sh")], capture_output=True, text=True)
    assert "preview  pulumi preview" in proc.stderr and "all      preview -> summary" in proc.stderr
