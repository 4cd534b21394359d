"""End to end: the real pulumi CLI, a temp file backend, and moto server on loopback."""

from __future__ import annotations

import json

import boto3
import yaml

from tests.conftest import TEST_AWS_KEY, TEST_AWS_SECRET, moto_list

CONFIG = {"aws": {"tags": {"team": "platform"}, "certificates": {
    "shop": {"domain": "shop.example.com", "sans": ["www.shop.example.com", "api.shop.example.com"]},
    "wildcard": {"domain": "*.apps.example.com", "sans": ["apps.example.com"]},
}}}


def certificates(outputs: dict) -> dict:
    return outputs["aws"]["certificates"]


def test_lifecycle(project, aws):
    project.init()
    project.write_stack("e2e", CONFIG)

    # up: both certificates requested, pending, with their DNS records (apex and wildcard share one).
    project.run("up", "--yes", "--skip-preview")
    certs = certificates(project.outputs())
    assert set(certs) == {"shop", "wildcard"}
    assert {c["status"] for c in certs.values()} == {"PENDING_VALIDATION"}
    assert sorted(c["CertificateArn"] for c in moto_list(aws)) == sorted(c["arn"] for c in certs.values())
    records = project.outputs()["aws"]["validationRecords"]
    assert len(records) == 4  # shop: 3 names; wildcard + apex: 1 shared record
    assert any(r["certificates"] == ["wildcard"] for r in records)

    # preview right after up: no changes.
    project.run("preview", "--expect-no-changes")

    # change SANs: shop is replaced (create-before-delete); the old certificate is gone from ACM.
    old_shop = certs["shop"]["arn"]
    changed = {"aws": {**CONFIG["aws"], "certificates": {**CONFIG["aws"]["certificates"], "shop": {
        "domain": "shop.example.com", "sans": ["www.shop.example.com", "checkout.shop.example.com"]}}}}
    project.write_stack("e2e", changed)
    steps = {s["urn"].rsplit("::", 1)[-1]: s for s in project.preview_json()["steps"]}
    assert steps["shop"]["op"] == "replace"
    assert "sans" in steps["shop"].get("replaceReasons", [])
    assert steps.get("wildcard", {"op": "same"})["op"] == "same"  # unchanged resources may be omitted
    project.run("up", "--yes", "--skip-preview")
    certs = certificates(project.outputs())
    assert certs["shop"]["arn"] != old_shop
    assert certs["shop"]["sans"] == ["checkout.shop.example.com", "shop.example.com", "www.shop.example.com"]
    arns = {c["CertificateArn"] for c in moto_list(aws)}
    assert old_shop not in arns and certs["shop"]["arn"] in arns

    # delete the wildcard certificate out of band: refresh drops it, up recreates it.
    acm = boto3.client("acm", region_name="us-east-1", endpoint_url=aws,
                       aws_access_key_id=TEST_AWS_KEY, aws_secret_access_key=TEST_AWS_SECRET)
    acm.delete_certificate(CertificateArn=certs["wildcard"]["arn"])
    project.run("refresh", "--yes", "--skip-preview")
    resources = project.resources()
    assert "wildcard" not in {r["urn"].rsplit("::", 1)[-1] for r in resources}
    # The state keeps the project's own frames, and a resource's position is the line that declared it
    # (components/source_positions.py), not the interpreter's frames or certfleet's base class.
    shop = next(r for r in resources if r["urn"].endswith("::shop"))
    assert shop["sourcePosition"].startswith("project:///components/aws/fleet.py#")
    positions = [f.get("sourcePosition", "") for r in resources if r["type"] != "pulumi:pulumi:Stack"
                 for f in r.get("stackTrace") or []]   # (the SDK registers the stack before the program runs)
    assert positions and all(p.startswith("project:///") and "/.venv/" not in p and "../" not in p
                             for p in positions)
    project.run("up", "--yes", "--skip-preview")
    recreated = certificates(project.outputs())["wildcard"]["arn"]
    assert recreated != certs["wildcard"]["arn"]
    assert recreated in {c["CertificateArn"] for c in moto_list(aws)}
    project.run("preview", "--expect-no-changes")

    # refresh after moto issued the certificates (MOTO_ACM_VALIDATION_WAIT): status follows, no diff.
    project.run("refresh", "--yes", "--skip-preview")
    project.run("preview", "--expect-no-changes")

    # destroy: nothing left in moto.
    project.run("destroy", "--yes", "--skip-preview")
    assert moto_list(aws) == []
    assert "PRIVATE KEY" not in project.state_text()
    assert TEST_AWS_SECRET not in project.state_text()


def test_bad_config_fails_at_preview_naming_the_path_and_creates_nothing(project, aws):
    project.init("bad")
    project.write_stack("bad", {"aws": {"certificates": {
        "shop": {"domain": "shop.example.com", "sans": ["not a name", "www.shop.example.com"]},
        "other": {"domain": "www.shop.example.com", "keyAlgorthm": "RSA_2048"}}}})
    result = project.run("preview", stack="bad", check=False)
    text = result.stdout + result.stderr
    assert result.returncode != 0
    assert "certfleet:aws.certificates.shop.sans[0]: 'not a name': label 'not a name' must be letters" in text
    assert "certfleet:aws.certificates.other.keyAlgorthm: unknown key; did you mean 'keyAlgorithm'?" in text
    assert "Traceback" not in text
    up = project.run("up", "--yes", stack="bad", check=False)
    assert up.returncode != 0
    assert moto_list(aws) == []
    assert [r for r in project.resources("bad") if r["type"].startswith("pulumi-python:dynamic")] == []


def test_names_above_the_default_quota_warn_at_preview(project, aws):
    project.init("quota")
    sans = [f"n{i}.example.com" for i in range(11)]
    project.write_stack("quota", {"aws": {"certificates": {"big": {"domain": "big.example.com", "sans": sans}}}})
    result = project.run("preview", stack="quota")
    assert "certfleet:aws.certificates.big.sans: 12 names is above ACM's default quota of 10" in result.stdout
    assert moto_list(aws) == []


def test_fleet_files_continue_the_stack_config_and_name_themselves_in_errors(project, aws):
    project.init("files")
    fleet = project.workdir / "fleet"
    fleet.mkdir()
    more = fleet / "more.yaml"
    more.write_text(yaml.safe_dump({"certfleet:aws": {"certificates": {"more": {"domain": "more.example.com"}}}}))
    project.write_stack("files", {"fleetFiles": ["fleet/*.yaml"],
                                  "aws": {"certificates": {"shop": {"domain": "shop.example.com"}}}})
    steps = json.loads(project.run("preview", "--json", stack="files").stdout)["steps"]
    assert {"shop", "more"} <= {s["urn"].rsplit("::", 1)[-1] for s in steps if s["op"] == "create"}

    # A broken entry in the file fails the preview naming the path, the file and the rule; nothing is created.
    more.write_text(yaml.safe_dump({"certfleet:aws": {"certificates": {"more": {"domain": "not a name"}}}}))
    result = project.run("up", "--yes", stack="files", check=False)
    assert result.returncode != 0
    assert "certfleet:aws.certificates.more.domain (in fleet/more.yaml): 'not a name'" in result.stdout + result.stderr
    assert moto_list(aws) == []
