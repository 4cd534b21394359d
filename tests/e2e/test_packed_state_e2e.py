"""End to end, real CLI, moto and the CAS emulator: a certificate's state is one JSON property
(components/packing.py), and a stack written before packing (flat properties) is rewritten once, by an update
that calls no cloud API (for CAS: no look, no order)."""

from __future__ import annotations

import json

from components.packing import SPEC, unpacked
from emulators.aws.testing import AwsControl
from tests.e2e.test_cas_e2e import CONFIG as CAS_CONFIG
from tests.e2e.test_cas_e2e import cas_control, cas_emulator, cas_project  # noqa: F401 (fixtures)

ACM = "pulumi-python:dynamic/aws:AcmCertificate"
SECRET_SIG = "4dabf18193072939515e22adb298388d"   # how the state marks a secret value
CONFIG = {"aws": {"certificates": {
    "shop": {"domain": "shop.example.com", "sans": ["www.shop.example.com"], "tags": {"team": "web"}},
    "docs": {"domain": "docs.example.com"},
}}}


def acm_resources(project) -> list[dict]:
    return [r for r in project.resources() if r["type"] == ACM]


def as_before_packing(project, resource_type: str, tmp_path) -> None:
    """The stack's resources of `resource_type` as a certfleet before packing stored them: every field a property
    of its own (`pulumi stack export`, unpacked, `pulumi stack import`). Their pickled provider stays the new
    one: the engine takes the provider of the new inputs for diff and update, the path an upgrade takes."""
    exported = json.loads(project.run("stack", "export").stdout)
    for resource in exported["deployment"]["resources"]:
        if resource["type"] == resource_type:
            resource["inputs"], resource["outputs"] = unpacked(resource["inputs"]), unpacked(resource["outputs"])
    flat = tmp_path / "flat.json"
    flat.write_text(json.dumps(exported))
    project.run("stack", "import", "--file", str(flat))


def test_a_flat_state_from_before_packing_is_rewritten_once_without_a_cloud_call(project, aws, tmp_path):
    project.init()
    project.write_stack("e2e", CONFIG)
    project.run("up", "--yes", "--skip-preview")
    outputs_before = project.outputs()
    packed_resources = acm_resources(project)
    assert [set(r["outputs"]) - {"__provider"} for r in packed_resources] == [{SPEC}, {SPEC}]
    # The pickled provider holds names only (tests/unit/test_packed_outputs.py): plain, not a secret.
    assert all(isinstance(r[props]["__provider"], str) for r in packed_resources for props in ("inputs", "outputs"))

    # The state as a certfleet before packing wrote it: every field a property of its own.
    as_before_packing(project, ACM, tmp_path)
    assert all("domain" in r["outputs"] and SPEC not in r["outputs"] for r in acm_resources(project))

    # The preview shows the rewrite as an update of each certificate, never a replacement.
    steps = [s for s in project.preview_json()["steps"] if f"{ACM}::" in s["urn"]]
    assert sorted(s["op"] for s in steps) == ["update", "update"]
    assert not any(s.get("replaceReasons") for s in steps)

    control = AwsControl(aws)
    control.clear_calls()
    project.run("up", "--yes", "--skip-preview")
    acm_calls = {op: n for op, n in control.calls()["operations"].items() if op.startswith("acm:")}
    assert acm_calls == {}, acm_calls      # the state's shape only: ACM is not asked anything

    assert [set(r["outputs"]) - {"__provider"} for r in acm_resources(project)] == [{SPEC}, {SPEC}]
    assert project.outputs() == outputs_before
    project.run("preview", "--expect-no-changes")


CAS = "pulumi-python:dynamic/alicloud:CasOrder"


def test_a_flat_cas_state_is_rewritten_without_a_cas_call_and_its_key_stays_a_secret(cas_project, cas_control,
                                                                                       tmp_path):
    project = cas_project
    project.init()
    project.write_stack("e2e", CAS_CONFIG)
    project.run("up", "--yes", "--skip-preview")
    orders_before = cas_control.state()["orders"]
    outputs_before = project.outputs()
    shop = [r for r in project.resources() if r["type"] == CAS and r["urn"].endswith("::shop")][0]
    assert set(shop["outputs"]) - {"__provider"} == {SPEC, "private_key", "journal"}
    assert shop["outputs"]["private_key"].get(SECRET_SIG) is not None         # the key: a secret of its own

    as_before_packing(project, CAS, tmp_path)

    steps = [s for s in project.preview_json()["steps"] if f"{CAS}::" in s["urn"]]
    assert sorted(s["op"] for s in steps) == ["update", "update"] and not any(s.get("replaceReasons") for s in steps)
    cas_control.call("DELETE", "calls")
    project.run("up", "--yes", "--skip-preview")
    assert cas_control.calls()["operations"] == {}                             # not a look, not a buy
    assert cas_control.state()["orders"] == orders_before
    assert project.outputs() == outputs_before
    shop = [r for r in project.resources() if r["type"] == CAS and r["urn"].endswith("::shop")][0]
    assert SPEC in shop["outputs"] and shop["outputs"]["private_key"].get(SECRET_SIG) is not None
    assert "PRIVATE KEY" not in project.state_text()
    project.run("preview", "--expect-no-changes")


DISTRIBUTION = "pulumi-python:dynamic/aws:Distribution"


def test_a_flat_distribution_state_is_rewritten_without_a_cloudfront_call(project, aws, tmp_path):
    from tests.e2e.test_cloudfront_e2e import base_config, make_template
    project.init()
    project.write_stack("e2e", base_config(make_template()))
    project.run("up", "--yes", "--skip-preview")
    outputs_before = project.outputs()
    as_before_packing(project, DISTRIBUTION, tmp_path)

    steps = [s for s in project.preview_json()["steps"] if f"{DISTRIBUTION}::" in s["urn"]]
    assert [s["op"] for s in steps] == ["update"] and not steps[0].get("replaceReasons")
    control = AwsControl(aws)

    def cloudfront_calls_of_an_up() -> dict:
        control.clear_calls()
        project.run("up", "--yes", "--skip-preview")
        return {op: n for op, n in control.calls()["operations"].items() if op.startswith("cloudfront:")}
    rewrite = cloudfront_calls_of_an_up()
    # The state's shape only: no more than an up with nothing to do (the template's look at its source).
    assert rewrite == cloudfront_calls_of_an_up() == {"cloudfront:GetDistributionConfig": {"ok": 1}}, rewrite

    [dist] = [r for r in project.resources() if r["type"] == DISTRIBUTION]
    assert SPEC in dist["outputs"] and SECRET_SIG in dist["outputs"]["template_config"]
    assert isinstance(dist["outputs"]["__provider"], str)
    assert project.outputs() == outputs_before
    project.run("preview", "--expect-no-changes")
