"""Lint of the GitHub Actions workflows in .github/workflows: YAML, GitHub's workflow schema (the copy that
check-jsonschema vendors), and our own rules: actions pinned to a commit, least-privilege permissions, one
concurrency group per stack, secrets only from `secrets.`, and the steps they run exist in
scripts/pipeline.sh."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
PIPELINE = ROOT / "scripts" / "pipeline.sh"
EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.S)
SECRET_WORDS = {"PASSPHRASE", "SECRET", "TOKEN", "KEY", "AK", "SK", "PASSWORD"}  # parts of a variable's name
PINNED = re.compile(r"^\s*(-\s+)?uses:\s+[\w.-]+/[\w./-]+@[0-9a-f]{40}\s+#\s+v\d+\.\d+\.\d+\s*$")
# The only write permission any job may have, and where: the comment job, which runs no code of the pull
# request, comments on it. It needs nothing else (no checkout).
ALLOWED_WRITES = {("certfleet-preview.yml", "comment"): {"pull-requests"}}
NO_CONTENTS = {("certfleet-preview.yml", "comment")}
# The environment whose protection rules release each job's secrets (none at repository level: a pull request
# can edit a workflow, and a workflow run from its branch reads every repository secret).
ENVIRONMENTS = {("certfleet-preview.yml", "preview"): "certfleet-preview",
                ("certfleet-drift.yml", "drift"): "certfleet-drift",
                ("certfleet-deploy.yml", "up"): "${{ matrix.stack }}"}


def load(path: Path) -> dict:
    document = yaml.safe_load(path.read_text())
    if True in document:  # YAML 1.1 reads the key `on` as a boolean
        document["on"] = document.pop(True)
    return document


def by_name(name: str) -> dict:
    return load(ROOT / ".github" / "workflows" / name)


def steps(document: dict):
    for job_name, job in document["jobs"].items():
        for step in job.get("steps", []):
            yield job_name, job, step


def test_the_workflow_set_is_there():
    assert [p.name for p in WORKFLOWS] == ["certfleet-deploy.yml", "certfleet-drift.yml", "certfleet-preview.yml"]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_valid_against_githubs_workflow_schema(path):
    schema_text = resources.files("check_jsonschema.builtin_schemas.vendor").joinpath("github-workflows.json")
    schema = json.loads(schema_text.read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(load(path))]
    assert errors == []


def test_check_jsonschema_cli_accepts_them():
    # The same check as a CI system or pre-commit would run it.
    result = subprocess.run([str(Path(sys.executable).parent / "check-jsonschema"), "--builtin-schema",
                             "vendor.github-workflows", *map(str, WORKFLOWS)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_fails_on_a_broken_workflow():
    # The schema check can fail: a job without runs-on and a step with an unknown key are rejected.
    schema_text = resources.files("check_jsonschema.builtin_schemas.vendor").joinpath("github-workflows.json")
    schema = json.loads(schema_text.read_text())
    broken = by_name("certfleet-drift.yml")
    del broken["jobs"]["drift"]["runs-on"]
    broken["jobs"]["drift"]["steps"][0]["usess"] = "x"
    validator = jsonschema.validators.validator_for(schema)(schema)
    assert list(validator.iter_errors(broken))


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_commit_with_its_version(path):
    lines = [line for line in path.read_text().splitlines() if re.match(r"^\s*(-\s+)?uses:", line)]
    assert lines
    assert [line for line in lines if not PINNED.match(line)] == []


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_permissions_are_least_privilege(path):
    document = load(path)
    assert document["permissions"] == {}, "the workflow grants nothing; each job asks for what it needs"
    for job_name, job in document["jobs"].items():
        permissions = job.get("permissions")
        assert isinstance(permissions, dict), f"{job_name}: explicit permissions"
        assert permissions.get("contents") == (None if (path.name, job_name) in NO_CONTENTS else "read")
        writes = {scope for scope, level in permissions.items() if level == "write"}
        assert writes == ALLOWED_WRITES.get((path.name, job_name), set()), f"{job_name}: {permissions}"
        assert set(permissions.values()) <= {"read", "write", "none"}


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_one_concurrency_group_per_stack(path):
    for job_name, job in load(path)["jobs"].items():
        if (path.name, job_name) in NO_CONTENTS:
            continue  # the comment job runs no pulumi: one per pull request (test below)
        assert job["strategy"]["matrix"]["stack"], job_name
        group = job["concurrency"]["group"]
        assert "${{ matrix.stack }}" in group, f"{job_name}: {group}"


def test_deploy_and_drift_share_the_stacks_group_and_never_cancel_a_running_update():
    deploy = by_name("certfleet-deploy.yml")["jobs"]["up"]["concurrency"]
    drift = by_name("certfleet-drift.yml")["jobs"]["drift"]["concurrency"]
    assert deploy == drift == {"group": "certfleet-stack-${{ matrix.stack }}", "cancel-in-progress": False}
    preview = by_name("certfleet-preview.yml")["jobs"]["preview"]["concurrency"]
    assert "github.event.pull_request.number" in preview["group"] and preview["cancel-in-progress"] is True


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_secrets_come_only_from_the_secrets_context(path):
    document = load(path)
    for job_name, job, step in steps(document):
        for name, value in (step.get("env") or {}).items():
            if SECRET_WORDS & set(name.split("_")):
                assert re.fullmatch(r"\$\{\{ secrets\.[A-Z0-9_]+ \}\}", str(value)), f"{job_name}: {name}={value}"
    text = path.read_text()
    assert "github.token" not in text  # the job token too: secrets.GITHUB_TOKEN
    for expression in EXPRESSION.findall(text):
        assert not re.search(r"\b(env|vars|inputs|matrix)\.\w*(SECRET|PASSPHRASE|TOKEN)", expression.upper())


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_no_expression_inside_a_run_script(path):
    # Values reach scripts through env: (no script injection from a branch name, a title or an input).
    for job_name, _, step in steps(load(path)):
        if "run" in step:
            assert not EXPRESSION.search(step["run"]), f"{job_name}: {step.get('name')}"


def secrets_used(job: dict) -> set[str]:
    text = yaml.safe_dump(job)
    return {name for expression in EXPRESSION.findall(text) for name in re.findall(r"secrets\.(\w+)", expression)}


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_secret_but_the_job_token_comes_from_a_protected_environment(path):
    # Each job that runs the repository's code with secrets names its environment: the environment's rules
    # (required reviewers, deployment branches) decide whether the code of a branch gets them.
    for job_name, job in load(path)["jobs"].items():
        if secrets_used(job) - {"GITHUB_TOKEN"}:
            assert job.get("environment") == ENVIRONMENTS[(path.name, job_name)], job_name
        else:
            assert (path.name, job_name) not in ENVIRONMENTS, job_name


def test_preview_runs_pr_code_without_write_access_and_a_separate_job_comments():
    document = by_name("certfleet-preview.yml")
    assert set(document["on"]) == {"pull_request"}  # never pull_request_target: untrusted code with secrets
    preview = document["jobs"]["preview"]
    assert preview["environment"] == "certfleet-preview"  # required reviewers approve each run
    assert "github.event.pull_request.head.repo.full_name == github.repository" in preview["if"]  # no forks
    assert "GITHUB_TOKEN" not in secrets_used(preview)
    runs = [s["run"] for s in preview["steps"] if "run" in s]
    assert any(r.startswith("bash scripts/pipeline.sh preview") for r in runs)
    [upload] = [s for s in preview["steps"] if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert upload["if"] == "${{ !cancelled() }}"  # also after a failed preview: the violations are the point
    assert upload["with"]["name"] == "certfleet-summary-${{ matrix.stack }}"
    assert upload["with"]["path"].endswith("/summary.md")
    [out] = {s["env"]["CERTFLEET_PIPELINE_OUT"] for s in preview["steps"] if "pipeline.sh" in s.get("run", "")}
    assert upload["with"]["path"] == out + "/summary.md"

    comment = document["jobs"]["comment"]
    assert comment["needs"] == "preview" and "!cancelled()" in comment["if"]
    assert "environment" not in comment and secrets_used(comment) == {"GITHUB_TOKEN"}
    uses = [s["uses"].split("@")[0] for s in comment["steps"] if "uses" in s]
    assert uses == ["actions/download-artifact"]  # no checkout: none of the pull request's code runs here
    runs = [s["run"] for s in comment["steps"] if "run" in s]
    assert len(runs) == 1 and "gh api" in runs[0] and "bash " not in runs[0] and "python" not in runs[0]
    assert comment["concurrency"]["group"] == "certfleet-preview-comment-${{ github.event.pull_request.number }}"


def test_drift_gets_its_secrets_on_main_only():
    job = by_name("certfleet-drift.yml")["jobs"]["drift"]
    assert job["environment"] == "certfleet-drift"  # deployment branches: main (a dispatch on a branch: none)
    assert "refs/heads/main" in job["if"]


def test_deploy_runs_on_main_in_the_stacks_protected_environment():
    document = by_name("certfleet-deploy.yml")
    assert document["on"]["push"]["branches"] == ["main"]
    job = document["jobs"]["up"]
    assert job["environment"] == "${{ matrix.stack }}"
    assert "refs/heads/main" in job["if"]
    assert any(s.get("run", "").startswith("bash scripts/pipeline.sh all") for s in job["steps"])


def test_drift_is_scheduled_with_a_configurable_expiry_window():
    document = by_name("certfleet-drift.yml")
    assert document["on"]["schedule"][0]["cron"]
    assert document["on"]["workflow_dispatch"]["inputs"]["expiry-days"]["type"] == "number"
    [step] = [s for s in document["jobs"]["drift"]["steps"] if "pipeline.sh" in s.get("run", "")]
    assert step["run"].startswith("bash scripts/pipeline.sh drift")
    assert "inputs.expiry-days" in step["env"]["CERTFLEET_EXPIRY_DAYS"]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_the_pipeline_steps_they_run_exist(path):
    accepted = re.search(r"case \"\$step\" in ([\w|]+)\)", PIPELINE.read_text()).group(1).split("|")
    for _, _, step in steps(load(path)):
        for used in re.findall(r"scripts/pipeline\.sh (\w+)", step.get("run", "")):
            assert used in accepted


FAKE_GH = '''#!/usr/bin/env python3
import json, os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_GH_LOG"], "a") as log:
    log.write(json.dumps(args) + "\\n")
if "--jq" in args:  # the comment listing: print the ids whose body starts with the marker
    marker = args[args.index("--jq") + 1].split('startswith("')[1].split('")')[0]
    for comment in json.loads(os.environ["FAKE_GH_COMMENTS"]):
        if comment["body"].startswith(marker):
            print(comment["id"])
'''


def run_comment_step(tmp_path, comments: list[dict], summary: str | None) -> list[list[str]]:
    """The preview workflow's comment script, run with a stand-in `gh` that records its calls."""
    [step] = [s for s in by_name("certfleet-preview.yml")["jobs"]["comment"]["steps"] if "run" in s]
    [download] = [s for s in by_name("certfleet-preview.yml")["jobs"]["comment"]["steps"] if "uses" in s]
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "gh").write_text(FAKE_GH)
    (tmp_path / "bin" / "gh").chmod(0o755)
    if summary is not None:  # as download-artifact lays them out: <path>/<artifact name>/summary.md
        folder = tmp_path / download["with"]["path"] / "certfleet-summary-production"
        folder.mkdir(parents=True)
        (folder / "summary.md").write_text(summary)
    env = {"PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin", "PR_NUMBER": "42",
           "GITHUB_REPOSITORY": "acme/certs", "GH_TOKEN": "x", "FAKE_GH_LOG": str(tmp_path / "calls"),
           "FAKE_GH_COMMENTS": json.dumps(comments)}
    result = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    calls = tmp_path / "calls"
    return [json.loads(line) for line in calls.read_text().splitlines()] if calls.exists() else []


def test_the_comment_step_posts_once_then_edits_its_own_comment(tmp_path):
    calls = run_comment_step(tmp_path, [{"id": 7, "body": "someone else's"}], "## certfleet preview\n- buys 1")
    assert calls[-1][:4] == ["api", "--method", "POST", "repos/acme/certs/issues/42/comments"]
    assert calls[-1][-1] == "body=<!-- certfleet-preview:production -->\n## certfleet preview\n- buys 1"


def test_the_comment_step_edits_the_stacks_earlier_comment(tmp_path):
    comments = [{"id": 7, "body": "<!-- certfleet-preview:staging -->\nold"},
                {"id": 9, "body": "<!-- certfleet-preview:production -->\nold"}]
    calls = run_comment_step(tmp_path, comments, "new summary")
    assert calls[-1][:4] == ["api", "--method", "PATCH", "repos/acme/certs/issues/comments/9"]


def test_the_comment_step_posts_nothing_without_a_summary(tmp_path):
    assert run_comment_step(tmp_path, [], None) == []
