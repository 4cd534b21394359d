"""End to end, real CLI and moto: an ACM certificate's state is one JSON property (components/packing.py), and a
stack written before packing (flat properties) is rewritten once, by an update that calls no cloud API."""

from __future__ import annotations

import json

from components.packing import SPEC, unpacked
from emulators.aws.testing import AwsControl

ACM = "pulumi-python:dynamic/aws:AcmCertificate"
CONFIG = {"aws": {"certificates": {
    "shop": {"domain": "shop.example.com", "sans": ["www.shop.example.com"], "tags": {"team": "web"}},
    "docs": {"domain": "docs.example.com"},
}}}


def acm_resources(project) -> list[dict]:
    return [r for r in project.resources() if r["type"] == ACM]


def test_a_flat_state_from_before_packing_is_rewritten_once_without_a_cloud_call(project, aws, tmp_path):
    project.init()
    project.write_stack("e2e", CONFIG)
    project.run("up", "--yes", "--skip-preview")
    outputs_before = project.outputs()
    packed_resources = acm_resources(project)
    assert [set(r["outputs"]) - {"__provider"} for r in packed_resources] == [{SPEC}, {SPEC}]

    # The state as a certfleet before packing wrote it: every field a property of its own.
    exported = json.loads(project.run("stack", "export").stdout)
    for resource in exported["deployment"]["resources"]:
        if resource["type"] == ACM:
            resource["inputs"], resource["outputs"] = unpacked(resource["inputs"]), unpacked(resource["outputs"])
    flat = tmp_path / "flat.json"
    flat.write_text(json.dumps(exported))
    project.run("stack", "import", "--file", str(flat))
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
