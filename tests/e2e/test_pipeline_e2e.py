"""End to end, the pipeline script against the local servers with the state on S3 (the AWS emulator's): what
scripts/pipeline_local.sh runs (preview -> summary -> policy check -> up -> drift check clean; a concurrent up
refused by the lock, buying nothing), then the gates failing when they must: policy, expiry, drift, and a
stale lock left by a crashed runner. One test: the servers and the S3 stack are set up once (~40 s)."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from scripts import pipeline_local
from scripts.pipeline_local import BUCKET, EXIT_LOCKED, STACK, LocalPipeline

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def local_run(tmp_path, pulumi_bin, monkeypatch):
    monkeypatch.setenv("CERTFLEET_PULUMI_BIN", pulumi_bin)
    run = LocalPipeline(tmp_path / "pipeline")
    try:
        run.start()
        yield run
    finally:
        run.stop(keep=True)  # tmp_path goes with pytest; the logs stay for a failure


def bucket_keys(run: LocalPipeline) -> list[str]:
    return [o["Key"] for o in run.s3().list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def stack_state(run: LocalPipeline) -> dict:
    body = run.s3().get_object(Bucket=BUCKET, Key=f".pulumi/stacks/certfleet/{STACK}.json")["Body"].read()
    return json.loads(body)


@pytest.mark.long
def test_pipeline_on_s3_state_end_to_end(local_run):
    run = local_run

    # 1. The whole pipeline on a fresh S3 backend: every stage ran and passed.
    code, out = run.run_pipeline("all")
    assert code == 0, out
    for stage in ("== preview", "== summary", "== policy check", "== up", "== drift check", "== expiry check"):
        assert stage in out
    assert "policy: OK - certfleet-policies@" in out
    summary = (run.base / "pipeline-out" / "summary.md").read_text()
    assert "summary: SKIPPED" not in out and summary.strip() and summary in out
    assert "drift: OK" in out and "expiry: OK - none of 1 issued certificate(s)" in out
    state = stack_state(run)  # the state is in the bucket, its secrets under the passphrase
    assert state["checkpoint"]["latest"]["secrets_providers"]["type"] == "passphrase"
    assert run.held() == {"acm_certificates": 1, "cas_orders": 1, "scm_certificates": 1}
    assert not (run.checkout / ".pulumi").exists()
    assert any(k.startswith(f".pulumi/history/certfleet/{STACK}/") for k in bucket_keys(run))

    # 2. Two concurrent updates buying 1 ACM + 1 SCM certificate: one proceeds, the other is refused fast by
    # the S3 lock, names the lock and its holder, and buys nothing (counted at the servers).
    outcome = run.concurrent_up()
    assert pipeline_local.check_concurrent_up(outcome) == []
    assert outcome["second_seconds"] < 15
    second = outcome["second_output"]
    assert f"s3://{BUCKET}/{outcome['lock_object']}" in second and "created by" in second
    assert "up: REFUSED - another update of stack 'pipeline' holds its lock" in second
    assert outcome["after"] == {"acm_certificates": 2, "cas_orders": 1, "scm_certificates": 2}

    # 3. The expiry gate: the certificates the emulator issued expire in a year.
    code, out = run.run_pipeline("expiry", {"CERTFLEET_EXPIRY_DAYS": "400"})
    assert code == 12
    assert "expiry: FAILED - 2 certificate(s) expire within 400 days: aws.certificates.docs" in out

    # 4. The policy gate: five more paid certificates in one update pass the config checks but exceed the
    # pack's ceiling; preview fails naming the policy, the summary still shows it, nothing is bought.
    held = run.held()
    config = pipeline_local.config_buying_docs()
    for n in range(5):
        config["certfleet:huaweicloud"]["certificates"][f"extra{n}"] = {
            **pipeline_local.SCM_DV, "domains": [f"extra{n}.example.cn"]}
    run.write_config(config)
    code, out = run.run_pipeline("preview")
    assert code == 1, out
    assert "[mandatory] certfleet-policies/paid-orders-ceiling" in out
    assert "policy: FAILED - 1 mandatory violation(s)" in out
    assert "paid-orders-ceiling" in (run.base / "pipeline-out" / "summary.md").read_text()
    assert run.held() == held

    # 5. A runner that died mid-update leaves its lock: up is refused until `pulumi cancel` removes it.
    run.write_config(pipeline_local.config_buying_docs())
    run.s3().put_object(Bucket=BUCKET, Key=f".pulumi/locks/organization/certfleet/{STACK}/dead-runner.json",
                        Body=b'{"pid": 999999, "username": "ci", "hostname": "dead-runner", '
                             b'"timestamp": "2026-11-30T00:00:00Z"}')
    code, out = run.run_pipeline("up")
    assert code == EXIT_LOCKED and "created by ci@dead-runner (pid 999999)" in out
    run.pulumi("cancel", "--yes", "--stack", STACK)
    assert run.locks() == []  # an up now proceeds, as the first of the two concurrent ones did
    assert run.held() == held

    # 6. The drift gate: a certificate deleted behind certfleet's back.
    acm = boto3.client("acm", endpoint_url=run.urls["aws"], region_name="us-east-1",
                       aws_access_key_id=pipeline_local.AWS_KEY, aws_secret_access_key=pipeline_local.AWS_SECRET)
    aws_outputs = json.loads(run.pulumi("stack", "output", "aws", "--json", "--stack", STACK).stdout)
    acm.delete_certificate(CertificateArn=aws_outputs["certificates"]["docs"]["arn"])
    code, out = run.run_pipeline("drift")
    assert code == 7, out
    assert "drift: FAILED" in out and "+ 1 to create" in out
