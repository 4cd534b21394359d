"""Issue 14: every example request of seed 000, converted, previews cleanly with the real CLI."""

from __future__ import annotations

import io
import json
import os
import re
import shlex
import subprocess

import boto3
import pytest
import yaml

from emulators.aws.testing import SAMPLE_TEMPLATE
from scripts import cfe_examples
from scripts.convert_cfe import run as convert


@pytest.mark.parametrize("example", sorted(cfe_examples.requests()))
def test_a_converted_seed_request_previews_cleanly(project, tmp_path, example):
    cloudfront = boto3.client("cloudfront", region_name="us-east-1", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
    template = cloudfront.create_distribution(DistributionConfig={
        **SAMPLE_TEMPLATE, "CallerReference": f"template-{example}"})["Distribution"]["Id"]
    request = tmp_path / "request.json"
    request.write_text(json.dumps(cfe_examples.requests()[example]))
    out, err = io.StringIO(), io.StringIO()
    code = convert([str(request), "--stack", "e2e", "--write-keys", str(tmp_path / "keys"),
                    "--template-map", f"{cfe_examples.TEMPLATE}={template}",
                    "--template-map", f"{cfe_examples.IMPORT_TEMPLATE}={template}"], out, err)
    assert code == 0, err.getvalue()
    assert "PRIVATE KEY" not in out.getvalue()
    project.init()
    project.write_stack("e2e", {k.split(":", 1)[1]: v for k, v in yaml.safe_load(out.getvalue())["config"].items()})
    for command in re.findall(r"^\s*(pulumi config set .*)$", err.getvalue(), re.M):
        argv, key_file = command.split(" < ")
        with open(key_file) as key:
            subprocess.run(shlex.split(argv) + ["--non-interactive"], stdin=key, check=True, cwd=project.workdir,
                           env=project.env, capture_output=True)
    preview = project.preview_json()
    creates = [step for step in preview["steps"] if step["op"] == "create"]
    assert any(step["urn"].endswith("aws:Distribution::" + step["urn"].rsplit("::", 1)[-1]) for step in creates)
    assert "PRIVATE KEY" not in project.state_text()
