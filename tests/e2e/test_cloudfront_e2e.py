"""Distributions end to end (issue 8): the real `pulumi` CLI, the certfleet program, the AWS emulator.

The emulator answers as AWS does where moto does not (emulators/aws): certificates stay PENDING_VALIDATION for
2 s, distributions stay InProgress for 1 s after each change, ETags change, CNAMEAlreadyExists,
InvalidViewerCertificate, ResourceInUseException and DistributionNotDisabled are real.
"""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import time
from datetime import datetime, timezone

import boto3
import pytest

from emulators.aws.testing import SAMPLE_TEMPLATE, AwsControl
from scripts.campaign.processes import RUN_MARKER, kill_marked
from tests.conftest import moto_list
from tests.pki import Pki

TEMPLATE_CONFIG = {**SAMPLE_TEMPLATE, "Comment": "the template", "Aliases": {"Quantity": 0, "Items": []}}


def sdk(service: str):
    return boto3.client(service, region_name="us-east-1", endpoint_url=os.environ["AWS_ENDPOINT_URL"])


def make_template() -> str:
    config = {**TEMPLATE_CONFIG, "CallerReference": f"template-{time.monotonic_ns()}"}
    return sdk("cloudfront").create_distribution(DistributionConfig=config)["Distribution"]["Id"]


def live_distributions() -> dict[str, dict]:
    """Every distribution on the server but templates: id -> its config."""
    cf = sdk("cloudfront")
    items = cf.list_distributions()["DistributionList"].get("Items") or []
    out = {}
    for item in items:
        config = cf.get_distribution_config(Id=item["Id"])["DistributionConfig"]
        if not config["CallerReference"].startswith("template-"):
            out[item["Id"]] = {**config, "Status": item["Status"]}
    return out


def aliases_of(config: dict) -> list[str]:
    return sorted(config["Aliases"].get("Items") or [])


def certificate_of(config: dict) -> str | None:
    return config["ViewerCertificate"].get("ACMCertificateArn")


def base_config(template: str) -> dict:
    return {"aws": {"region": "us-east-1", "issuedTimeoutSeconds": 30, "deployedTimeoutSeconds": 60,
                    "certificates": {"shop": {"domain": "shop.example.com", "sans": ["www.shop.example.com"]}},
                    "distributions": {"shop": {"template": template, "certificate": "shop"}}}}


@pytest.fixture
def control(aws) -> AwsControl:
    return AwsControl(aws)


def test_requested_certificate_distribution_deployed_then_replaced_with_a_wider_certificate(project, control):
    """Create path to Deployed; then an alias the old certificate does not cover: the certificate is replaced
    create-before-delete, the distribution re-pointed, the old certificate deleted only after."""
    template = make_template()
    config = base_config(template)
    project.init()
    project.write_stack("e2e", config)
    project.run("up", "--yes", "--skip-preview")
    out = project.outputs()["aws"]
    shop = out["distributions"]["shop"]
    assert shop["stage"] == "deployed", shop
    assert shop["domain_name"].endswith(".cloudfront.net")
    (dist_id, live), = live_distributions().items()
    old_arn = out["certificates"]["shop"]["arn"]
    assert aliases_of(live) == ["shop.example.com", "www.shop.example.com"]
    assert certificate_of(live) == old_arn and live["Status"] in ("InProgress", "Deployed")
    assert live["CallerReference"] != "template" and live["Comment"].startswith("certfleet ")
    # Its state is packed (components/packing.py) but the cloned config, a secret (origin headers), and the
    # serving certificate's outputs.
    [dist] = [r for r in project.resources() if r["type"].endswith("aws:Distribution")]
    for props in (dist["inputs"], dist["outputs"]):
        assert set(props) == {"__provider", "spec", "template_config", "certificate_arn", "certificate_status"}
        assert "ciphertext" in props["template_config"] and "Origins" not in json.dumps(props)
    assert json.loads(dist["outputs"]["spec"])["distribution_id"] == dist_id

    # A new alias: the certificate must name it, so it is replaced; the distribution follows.
    config["aws"]["certificates"]["shop"]["sans"].append("api.shop.example.com")
    project.write_stack("e2e", config)
    preview = project.run("preview", "--diff").stdout
    assert "+-" in preview or "replace" in preview, preview
    up = project.run("up", "--yes", "--skip-preview")
    out = project.outputs()["aws"]
    new_arn = out["certificates"]["shop"]["arn"]
    assert new_arn != old_arn
    live = live_distributions()[dist_id]
    assert certificate_of(live) == new_arn
    assert aliases_of(live) == ["api.shop.example.com", "shop.example.com", "www.shop.example.com"]
    arns = {c["CertificateArn"] for c in moto_list(os.environ["AWS_ENDPOINT_URL"])}
    assert old_arn not in arns and new_arn in arns, "the old certificate is deleted after the re-pointing"
    # The engine's order: create new certificate, update distribution, delete old certificate.
    steps = [line for line in up.stdout.splitlines() if "aws:AcmCertificate" in line or "aws:Distribution" in line]
    kinds = [("cert-create" if "creat" in s and "Acm" in s else "dist-update" if "updat" in s and "Distribution"
              in s else "cert-delete" if "delet" in s and "Acm" in s else None) for s in steps]
    kinds = [k for k in kinds if k]
    if kinds:  # the CLI's progress lines name each step; when present, their order is the proof
        assert kinds.index("cert-create") < kinds.index("dist-update") < kinds.index("cert-delete"), steps

    # Destroy in order: distribution disabled, deployed, deleted; then the certificate; the server is empty.
    project.run("destroy", "--yes", "--skip-preview")
    assert live_distributions() == {}
    assert moto_list(os.environ["AWS_ENDPOINT_URL"]) == []


def test_import_path_with_a_pinned_template_version_and_report(project, control, tmp_path):
    pki = Pki.make(now=datetime.now(timezone.utc))
    leaf, key = pki.leaf(["static.example.net", "www.static.example.net"])
    template = make_template()
    config = {"aws": {"region": "us-east-1", "deployedTimeoutSeconds": 60,
                      "imports": {"static": {"certificate": leaf, "chain": pki.chain_pem()}},
                      "distributions": {"static": {"template": template, "templateVersion": "1",
                                                   "certificate": "static"}}}}
    project.init()
    project.write_stack("e2e", config)
    # A plain-text key is refused at preview, with the command that stores it as a secret.
    config["aws"]["imports"]["static"]["privateKey"] = key
    project.write_stack("e2e", config)
    refused = project.run("preview", check=False)
    assert refused.returncode != 0
    assert "pulumi config set --secret --path 'certfleet:aws.imports.static.privateKey'" in refused.stdout + refused.stderr
    assert "BEGIN PRIVATE KEY" not in refused.stdout + refused.stderr
    assert live_distributions() == {}

    del config["aws"]["imports"]["static"]["privateKey"]
    project.write_stack("e2e", config)
    set_secret_key(project, key)
    project.run("up", "--yes", "--skip-preview")
    out = project.outputs()["aws"]
    assert out["imports"]["static"]["status"] == "ISSUED"
    assert out["distributions"]["static"]["stage"] == "deployed"
    (dist_id, live), = live_distributions().items()
    assert certificate_of(live) == out["imports"]["static"]["arn"]
    assert aliases_of(live) == ["static.example.net", "www.static.example.net"]
    assert "BEGIN PRIVATE KEY" not in project.state_text()

    # The template changes after the version was pinned: the clone does not follow, even after a refresh.
    cf = sdk("cloudfront")
    got = cf.get_distribution_config(Id=template)
    edited = {**got["DistributionConfig"], "DefaultRootObject": "changed.html"}
    cf.update_distribution(Id=template, IfMatch=got["ETag"], DistributionConfig=edited)
    project.run("up", "--yes", "--skip-preview", "--refresh")
    assert live_distributions()[dist_id]["DefaultRootObject"] == "index.html"

    # Bumping the version is a diff at preview (a new snapshot, the clone updated); a missing template fails
    # at preview, naming it, and nothing is created.
    config["aws"]["distributions"]["static"]["templateVersion"] = "2"
    project.write_stack("e2e", config)
    set_secret_key(project, key)
    bumped = project.preview_json()
    ops = {(step["urn"].rsplit("::", 1)[-1], step["op"]) for step in bumped["steps"]}
    assert (f"template-{template}-v2", "create") in ops and ("static", "update") in ops, ops
    config["aws"]["distributions"]["static"]["template"] = "E9NOSUCHTEMPLT"
    project.write_stack("e2e", config)
    set_secret_key(project, key)
    missing = project.run("preview", check=False)
    assert missing.returncode != 0 and "E9NOSUCHTEMPLT" in missing.stdout, missing.stdout
    config["aws"]["distributions"]["static"]["template"] = template
    config["aws"]["distributions"]["static"]["templateVersion"] = "1"
    project.write_stack("e2e", config)
    set_secret_key(project, key)

    report = subprocess.run([str(project.workdir / ".venv" / "bin" / "python"), str(ROOT_REPORT), "--stack", "e2e"],
                            cwd=project.workdir, env=project.env, capture_output=True, text=True, check=True).stdout
    assert "deployed" in report and "static" in report
    project.run("destroy", "--yes", "--skip-preview")
    assert live_distributions() == {} and moto_list(os.environ["AWS_ENDPOINT_URL"]) == []


def set_secret_key(project, key: str) -> None:
    """The import's key as secret config (after write_stack, which writes the config afresh)."""
    subprocess.run(["pulumi", "config", "set", "--secret", "--path", "certfleet:aws.imports.static.privateKey",
                    "--stack", "e2e", "--non-interactive"], input=key, text=True, check=True, cwd=project.workdir,
                   env=project.env, capture_output=True)


@pytest.mark.long
def test_alias_moves_between_distributions_and_out_of_band_changes_are_repaired(project, control):
    template = make_template()
    config = {"aws": {"region": "us-east-1", "issuedTimeoutSeconds": 30, "deployedTimeoutSeconds": 60,
                      "certificates": {"site": {"domain": "*.site.example.com", "sans": ["site.example.com"]}},
                      "distributions": {
                          "one": {"template": template, "certificate": "site",
                                  "aliases": ["a.site.example.com", "b.site.example.com"]},
                          "two": {"template": template, "certificate": "site", "aliases": ["c.site.example.com"]}}}}
    project.init()
    project.write_stack("e2e", config)
    project.run("up", "--yes", "--skip-preview")
    ids = {out["distribution_id"]: name for name, out in project.outputs()["aws"]["distributions"].items()}
    by_name = {name: dist_id for dist_id, name in ids.items()}

    # Move b from one to two in one `up`.
    config["aws"]["distributions"]["one"]["aliases"] = ["a.site.example.com"]
    config["aws"]["distributions"]["two"]["aliases"] = ["b.site.example.com", "c.site.example.com"]
    project.write_stack("e2e", config)
    project.run("up", "--yes", "--skip-preview")
    live = live_distributions()
    assert aliases_of(live[by_name["one"]]) == ["a.site.example.com"]
    assert aliases_of(live[by_name["two"]]) == ["b.site.example.com", "c.site.example.com"]

    # Someone changes distribution one by hand: an alias removed and the certificate swapped for another.
    cf = sdk("cloudfront")
    other = sdk("acm").request_certificate(DomainName="a.site.example.com", ValidationMethod="DNS")["CertificateArn"]
    time.sleep(2.5)  # the emulator issues after 2 s
    got = cf.get_distribution_config(Id=by_name["one"])
    changed = copy.deepcopy(got["DistributionConfig"])
    changed["ViewerCertificate"]["ACMCertificateArn"] = other
    changed["DefaultRootObject"] = "hand-edited.html"
    cf.update_distribution(Id=by_name["one"], IfMatch=got["ETag"], DistributionConfig=changed)
    refresh = project.run("refresh", "--yes", "--skip-preview")
    assert "updated" in refresh.stdout or "~" in refresh.stdout, refresh.stdout
    preview = project.run("preview", "--diff").stdout
    assert "certificate_arn" in preview, preview
    project.run("up", "--yes", "--skip-preview")
    repaired = live_distributions()[by_name["one"]]
    assert certificate_of(repaired) == project.outputs()["aws"]["certificates"]["site"]["arn"]
    assert repaired["DefaultRootObject"] == "index.html"
    assert "to update" not in project.run("preview").stdout

    # An alias another account holder serves (not this stack): refused at preview, naming both.
    foreign = {**TEMPLATE_CONFIG, "CallerReference": "foreign", "Aliases": {"Quantity": 1, "Items": ["d.site.example.com"]},
               "ViewerCertificate": {"ACMCertificateArn": other, "SSLSupportMethod": "sni-only",
                                     "MinimumProtocolVersion": "TLSv1.2_2021", "CloudFrontDefaultCertificate": False}}
    sdk("acm").request_certificate(DomainName="d.site.example.com", ValidationMethod="DNS")
    foreign["ViewerCertificate"]["ACMCertificateArn"] = sdk("acm").request_certificate(
        DomainName="d.site.example.com", ValidationMethod="DNS", IdempotencyToken="foreign")["CertificateArn"]
    time.sleep(2.5)
    foreign_id = cf.create_distribution(DistributionConfig=foreign)["Distribution"]["Id"]
    config["aws"]["distributions"]["two"]["aliases"].append("d.site.example.com")
    project.write_stack("e2e", config)
    refused = project.run("preview", check=False)
    assert refused.returncode != 0
    assert "d.site.example.com" in refused.stdout and foreign_id in refused.stdout, refused.stdout

    # Distribution one leaves the stack and its alias goes to two, in one `up` (the delete runs last).
    config["aws"]["distributions"]["two"]["aliases"] = ["a.site.example.com", "b.site.example.com",
                                                        "c.site.example.com"]
    del config["aws"]["distributions"]["one"]
    project.write_stack("e2e", config)
    project.run("up", "--yes", "--skip-preview")
    live = live_distributions()
    assert by_name["one"] not in live
    assert aliases_of(live[by_name["two"]]) == ["a.site.example.com", "b.site.example.com", "c.site.example.com"]


def test_a_crash_between_create_and_the_state_write_leaves_one_distribution(project, control):
    template = make_template()
    config = base_config(template)
    project.init()
    project.write_stack("e2e", config)
    # The server creates the distribution, then holds its answer: the run is killed meanwhile.
    control.fault("CreateDistributionWithTags", delay_after=30, times=1)
    marker = f"{RUN_MARKER}=crash-{os.getpid()}-{time.monotonic_ns()}"  # the run and its plugins carry it
    process = subprocess.Popen(["pulumi", "up", "--yes", "--skip-preview", "--stack", "e2e", "--non-interactive"],
                               cwd=project.workdir, env={**project.env, RUN_MARKER: marker.split("=", 1)[1]},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while not live_distributions() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert live_distributions(), "the create reached the server"
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    kill_marked(marker)  # the plugins the engine started live in groups of their own
    control.clear_faults()
    # The user's recovery after a killed run (README, "Operations"): the dead run's lock, its pending create.
    for lock in (project.workdir / ".state" / ".pulumi" / "locks").rglob("*.json"):
        lock.unlink()
    project.run("refresh", "--yes", "--skip-preview", "--clear-pending-creates")
    project.run("up", "--yes", "--skip-preview")
    assert len(live_distributions()) == 1
    assert project.outputs()["aws"]["distributions"]["shop"]["distribution_id"] in live_distributions()
    project.run("destroy", "--yes", "--skip-preview")
    assert live_distributions() == {}


ROOT_REPORT = __import__("tests.conftest", fromlist=["ROOT"]).ROOT / "scripts" / "report.py"


def test_a_pending_certificate_leaves_the_distribution_unbound_until_up_refresh_binds_it(project, control):
    """Item 3: while the certificate is pending the distribution exists without aliases and shows its
    *.cloudfront.net name; the first `up --refresh` after validation binds it, with no manual step."""
    template = make_template()
    config = base_config(template)
    config["aws"]["issuedTimeoutSeconds"] = 0
    project.init()
    project.write_stack("e2e", config)
    project.run("up", "--yes", "--skip-preview")
    shop = project.outputs()["aws"]["distributions"]["shop"]
    assert shop["stage"] == "waiting for certificate", shop
    assert shop["domain_name"].endswith(".cloudfront.net") and not shop["bound"]
    (dist_id, live), = live_distributions().items()
    assert aliases_of(live) == [] and not certificate_of(live)
    time.sleep(2.5)  # the emulator issues the certificate 2 s after the request
    project.run("up", "--yes", "--skip-preview", "--refresh")
    shop = project.outputs()["aws"]["distributions"]["shop"]
    assert shop["stage"] == "deployed" and shop["bound"], shop
    live = live_distributions()[dist_id]
    assert aliases_of(live) == ["shop.example.com", "www.shop.example.com"]
    assert certificate_of(live) == project.outputs()["aws"]["certificates"]["shop"]["arn"]


def test_a_replacement_certificate_still_pending_keeps_the_old_one_serving_until_up_refresh(project, control):
    """New names while the new certificate is not issued yet: the old one keeps serving, its delete says why
    at once (no 20-minute wait), and `up --refresh` after validation re-points and deletes it."""
    template = make_template()
    config = base_config(template)
    project.init()
    project.write_stack("e2e", config)
    project.run("up", "--yes", "--skip-preview")
    old_arn = project.outputs()["aws"]["certificates"]["shop"]["arn"]
    (dist_id, _), = live_distributions().items()

    config["aws"]["issuedTimeoutSeconds"] = 0
    config["aws"]["certificates"]["shop"]["sans"].append("api.shop.example.com")
    project.write_stack("e2e", config)
    started = time.monotonic()
    kept = project.run("up", "--yes", "--skip-preview", check=False)
    assert time.monotonic() - started < 120
    assert kept.returncode != 0 and "ResourceInUseException" in kept.stdout, kept.stdout
    assert "pulumi up --refresh" in kept.stdout
    assert certificate_of(live_distributions()[dist_id]) == old_arn  # never a moment without a certificate
    assert project.outputs()["aws"]["distributions"]["shop"]["stage"] == "waiting for certificate"

    time.sleep(2.5)  # the emulator issues the new certificate
    project.run("up", "--yes", "--skip-preview", "--refresh")
    new_arn = project.outputs()["aws"]["certificates"]["shop"]["arn"]
    live = live_distributions()[dist_id]
    assert new_arn != old_arn and certificate_of(live) == new_arn
    assert aliases_of(live) == ["api.shop.example.com", "shop.example.com", "www.shop.example.com"]
    assert old_arn not in {c["CertificateArn"] for c in moto_list(os.environ["AWS_ENDPOINT_URL"])}


def test_a_pull_request_preview_without_credentials_still_runs(project):
    """No AWS credentials at all (a PR pipeline): the account alias check and the template look-up are skipped,
    the preview lists what would be created."""
    config = base_config("E1NOTREACHABLE")
    project.init()
    project.write_stack("e2e", config)
    project.env = {k: v for k, v in project.env.items() if not k.startswith("AWS_")}
    project.env.update({"AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", "AWS_CONFIG_FILE": "/nonexistent",
                        "AWS_EC2_METADATA_DISABLED": "true"})
    preview = project.preview_json()
    ops = sorted(step["urn"].rsplit("::", 1)[-1] for step in preview["steps"] if step["op"] == "create")
    assert ops.count("shop") == 2 and "template-E1NOTREACHABLE-live" in ops, ops  # certificate + distribution
