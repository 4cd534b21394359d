"""The pipeline's own pieces that need no server: the expiry check, the policy check read from an event log,
what the local run demands of two concurrent updates, and scripts/pipeline.sh's usage errors."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

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


def test_expiry_finds_every_not_after_and_skips_only_the_unissued_ones():
    found, skipped, unreadable = pipeline_expiry.collect(OUTPUTS)
    assert [e.path for e in found] == ["alicloud.orders.blog", "aws.certificates.shop", "aws.imports.static"]
    assert skipped == ["aws.certificates.blog"]
    assert unreadable == [("huaweicloud.certificates.portal", "[secret]")]


READABLE = {k: v for k, v in OUTPUTS.items() if k != "huaweicloud"}


@pytest.mark.parametrize("value", ["[secret]", 1827900000000, "", "next year", True])
def test_expiry_fails_on_a_not_after_it_cannot_read(tmp_path, value):
    # Nothing checked is no pass: a not_after that is there but no date (a secret, epoch ms) fails the gate.
    outputs = {**READABLE, "huaweicloud": {"certificates": {"portal": {"status": "ISSUED", "not_after": value}}}}
    code, out = run_expiry(tmp_path, 5, outputs)
    assert code == pipeline_expiry.EXIT_UNREADABLE_EXPIRY == 13
    assert f"expiry: FAILED - cannot read the expiry of 1 certificate(s): huaweicloud.certificates.portal " \
           f"({json.dumps(value)})" in out


def test_expiry_fails_on_an_output_hidden_as_a_secret(tmp_path):
    # `pulumi stack output --json` prints a secret output as "[secret]": the certificates in it are not seen.
    code, out = run_expiry(tmp_path, 5, {**READABLE, "huaweicloud": "[secret]"})
    assert code == 13
    assert 'cannot read the expiry of 1 certificate(s): huaweicloud ("[secret]")' in out


def test_expiry_passes_over_the_secret_private_keys_of_cas_orders(tmp_path):
    order = {"state": "certificate", "not_after": "2027-12-10T00:00:00Z", "private_key": "[secret]"}
    code, out = run_expiry(tmp_path, 30, {"alicloud": {"orders": {"blog": order, "wiki": {
        **order, "state": "domain_verify", "not_after": None}}}})
    assert code == 0, out
    assert "expiry: OK - none of 1 issued certificate(s)" in out and "not checked (not issued yet): " in out


def test_expiry_reads_the_scm_date_format(tmp_path):
    outputs = {"huaweicloud": {"certificates": {"portal": {"not_after": "2026-12-05 13:15:49.0"}}}}
    code, out = run_expiry(tmp_path, 30, outputs)
    assert code == 12 and "huaweicloud.certificates.portal (5 days)" in out


def test_expiry_fails_naming_the_certificates_within_the_window(tmp_path):
    code, out = run_expiry(tmp_path, 30)
    assert code == pipeline_expiry.EXIT_EXPIRING
    assert ("expiry: FAILED - 2 certificate(s) expire within 30 days: alicloud.orders.blog (9 days), "
            "aws.imports.static (19 days)") in out
    assert "aws.certificates.shop: expires 2027-11-30T10:00:00+00:00 (364 days left)" in out
    assert "expiry: FAILED" in (tmp_path / "summary.md").read_text()


def test_expiry_passes_when_nothing_expires_within_the_window(tmp_path):
    code, out = run_expiry(tmp_path, 5, READABLE)
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
              policy_event("mandatory", "paid-orders-ceiling", "",
                           "At most so many new paid orders per update.\n5 new paid orders, at most 4"), SUMMARY]
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


def test_policy_check_cannot_read_an_event_log_that_is_not_json(tmp_path, capsys):
    path = tmp_path / "events.jsonl"
    path.write_text('{"policyLoadEvent": {}}\nnot json\n')
    assert pipeline_policy.main(["x", str(path)]) == 2
    assert "line 2 of the event log is not JSON" in capsys.readouterr().err


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


# --- scripts/pipeline.sh's lock retry, with a stand-in `pulumi` (and `sleep`) that record their calls ---

FAKE_PULUMI = '''#!PYTHON
import json, os, sys
args = sys.argv[1:]
log = os.environ["FAKE_LOG"]
with open(log, "a") as calls:
    calls.write(json.dumps(["pulumi", *args]) + "\\n")
if args[0] == "preview":
    previews = sum(1 for line in open(log) if line.startswith('["pulumi", "preview"'))
    events = [{"policyLoadEvent": {}}, {"summaryEvent": {"PolicyPacks": {"certfleet-policies|local|p": "1.0.0"}}}]
    if previews >= int(os.environ.get("FAKE_VIOLATION_FROM_PREVIEW", "999")):
        events.insert(1, {"policyEvent": {"enforcementLevel": "mandatory", "policyName": "paid-orders-ceiling",
                                          "policyPackName": "certfleet-policies", "resourceUrn": "",
                                          "message": "2 new paid orders, at most 1"}})
    with open(args[args.index("--event-log") + 1], "w") as out:
        out.write("".join(json.dumps(e) + "\\n" for e in events))
    print(json.dumps({"steps": [], "changeSummary": {}}))
elif args[0] == "up":
    print("error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end")
    if os.environ.get("FAKE_OTHER_RUN_LOG"):  # the run holding the lock, on this checkout, writes its own log
        sys.stdout.flush()
        import time; time.sleep(0.3)  # this run's message has reached its log before the other run writes
        with open(os.environ["FAKE_OTHER_RUN_LOG"], "w") as other:
            other.write("Updating (s):\\n")
    sys.exit(255)
'''
FAKE_SLEEP = '''#!/bin/sh
echo "[\\"sleep\\", \\"$1\\"]" >> "$FAKE_LOG"
'''


def run_pipeline_sh(tmp_path, step: str, **env: str) -> tuple[int, str, list[list[str]]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "pulumi").write_text(FAKE_PULUMI.replace("PYTHON", str(ROOT / ".venv/bin/python"), 1))
    (bin_dir / "sleep").write_text(FAKE_SLEEP)
    for name in ("pulumi", "sleep"):
        (bin_dir / name).chmod(0o755)
    pack = tmp_path / "pack"
    pack.mkdir(exist_ok=True)
    (pack / "PulumiPolicy.yaml").write_text("runtime: python\n")
    proc = subprocess.run(["bash", str(ROOT / "scripts/pipeline.sh"), step, "--stack", "s"], cwd=tmp_path,
                          capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "CERTFLEET_PULUMI_BIN": str(bin_dir),
                               "CERTFLEET_POLICY_PACK": str(pack), "CERTFLEET_PIPELINE_OUT": str(tmp_path / "out"),
                               "FAKE_LOG": str(tmp_path / "calls"), **env})
    log = tmp_path / "calls"
    calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return proc.returncode, proc.stdout + proc.stderr, [c[:2] for c in calls if c[:2] != ["pulumi", "stack"]]


def test_a_lock_retry_previews_and_checks_the_policies_again_before_each_up(tmp_path):
    # The other update changed the stack: what this up does now is not what the first preview showed.
    code, out, calls = run_pipeline_sh(tmp_path, "up", CERTFLEET_LOCK_RETRIES="2", CERTFLEET_LOCK_WAIT_SECONDS="0")
    assert code == 75, out
    assert calls == [["pulumi", "up"], ["sleep", "0"], ["pulumi", "preview"], ["pulumi", "up"],
                     ["sleep", "0"], ["pulumi", "preview"], ["pulumi", "up"]]
    assert out.count("policy: OK - certfleet-policies@1.0.0") == 2
    assert "up: REFUSED - another update of stack 's' holds its lock" in out


def test_a_lock_retry_stops_when_the_new_preview_fails_its_policy_check(tmp_path):
    code, out, calls = run_pipeline_sh(tmp_path, "up", CERTFLEET_LOCK_RETRIES="3", CERTFLEET_LOCK_WAIT_SECONDS="0",
                                       FAKE_VIOLATION_FROM_PREVIEW="1")
    assert code == 1, out
    assert calls == [["pulumi", "up"], ["sleep", "0"], ["pulumi", "preview"]]
    assert "policy: FAILED - 1 mandatory violation(s)" in out and "preview: FAILED" in out


def test_the_lock_retry_wait_has_jitter(tmp_path):
    # Runners refused by one lock must not all come back at the same second (and collide again).
    code, out, calls = run_pipeline_sh(tmp_path, "up", CERTFLEET_LOCK_RETRIES="5", CERTFLEET_LOCK_WAIT_SECONDS="20")
    assert code == 75, out
    waits = [int(c[1]) for c in calls if c[0] == "sleep"]
    assert len(waits) == 5 and all(20 <= w <= 30 for w in waits), waits
    assert len(set(waits)) > 1, waits  # all five equal: chance 11**-4
    assert f"retry 1 of 5 in {waits[0]}s" in out


def test_a_lock_wait_that_is_not_a_number_is_a_usage_error(tmp_path):
    code, out, calls = run_pipeline_sh(tmp_path, "up", CERTFLEET_LOCK_WAIT_SECONDS="1m")
    assert code == 2 and "CERTFLEET_LOCK_WAIT_SECONDS" in out and calls == []


def test_a_run_refused_by_the_lock_is_not_confused_by_the_other_runs_log(tmp_path):
    # Two runs on one checkout share CERTFLEET_PIPELINE_OUT: the one holding the lock keeps writing up.log.
    code, out, calls = run_pipeline_sh(tmp_path, "up", FAKE_OTHER_RUN_LOG=str(tmp_path / "out" / "up.log"))
    assert code == 75, out
    assert "up: REFUSED - another update of stack 's' holds its lock" in out
    assert "the stack is currently locked" in (tmp_path / "out" / "up.log").read_text()  # this run's, at the end


def test_expiry_fails_when_it_read_no_certificate_at_all(tmp_path):
    # `{}` (the wrong stack, or one never brought up) checked nothing: that is no pass.
    code, out = run_expiry(tmp_path, 30, {})
    assert code == pipeline_expiry.EXIT_UNREADABLE_EXPIRY == 13
    assert "expiry: FAILED - the outputs name no certificate at all" in out
    code, out = run_expiry(tmp_path, 30, {"aws": {"certificates": {"blog": {"status": "PENDING_VALIDATION",
                                                                            "not_after": None}}}})
    assert code == 0, out  # certificates not issued yet were read: nothing to check yet is a pass


@pytest.mark.parametrize("section, entry", [
    ("aws.certificates.shop", {"status": "ISSUED", "not_after": None}),
    ("alicloud.orders.docs.deployments.aws", {"status": "DEPLOYED", "not_after": None}),
    ("alicloud.orders.blog", {"state": "certificate", "not_after": None}),
])
def test_expiry_fails_on_an_issued_certificate_without_a_date(tmp_path, section, entry):
    outputs: dict = {}
    node = outputs
    *parents, last = section.split(".")
    for key in parents:
        node = node.setdefault(key, {})
    node[last] = entry
    code, out = run_expiry(tmp_path, 30, {**outputs, "huaweicloud": {"certificates": {"portal": {
        "status": "ISSUED", "not_after": "2027-11-30T10:00:00+00:00"}}}})
    assert code == 13, out
    assert f"cannot read the expiry of 1 certificate(s): {section} (null)" in out
