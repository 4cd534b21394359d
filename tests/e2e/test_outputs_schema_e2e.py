"""End to end: the local default's real outputs follow schema/outputs.v1.schema.json (docs/outputs.md).

The `local` stack (stacks/Pulumi.local.yaml as it is, its secret under the local passphrase) runs with the real
CLI against the test servers, seeded as scripts/local_servers.py seeds the local ones (the template distribution
and the CAS V2.0 instance). After `up` (ACM issued, distributions bound, CAS and SCM pending with their challenges)
and again after the challenges are published and `up --refresh` (everything issued), both
`pulumi stack output --json` and `scripts/report.py --json` must validate, strictly: every key they carry is one
the schema documents, so a new output cannot slip out undocumented.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from components.alicloud import client as cas_api
from emulators.cas import CasApi
from emulators.core import EmulatorServer
from emulators.core.testing import ControlClient
from scripts import local_servers
from tests.conftest import ROOT
from tests.e2e.test_cas_e2e import PROXY_VARIABLES
from tests.emulators.cas_scaffolding import ACCESS_KEY_ID, ACCESS_KEY_SECRET
from tests.emulators.conftest_scm import SCM_AK, SCM_DOMAIN_ID, SCM_SK
from tests.unit.test_output_schema import validate_strictly

LOCAL_PASSPHRASE = "certfleet-local"  # scripts/local.sh's: the local stack's secret is encrypted with it


@pytest.fixture
def cas_server():
    with EmulatorServer(CasApi({ACCESS_KEY_ID: ACCESS_KEY_SECRET})) as server:
        yield server


@pytest.fixture
def local_project(project, aws, dns_clouds, cas_server, scm_emulator, scm_control, tmp_path):
    local_servers.seed_template(aws)
    local_servers.seed_cas_instance(cas_server.url)
    # The local default validates through DNS (its dns blocks): the DNS APIs feed a real DNS server, and the
    # CAS and SCM emulators look the challenges up there, as scripts/local_servers.py starts them.
    ControlClient(cas_server.url).call("POST", "cas/settings", {"dns_resolver": dns_clouds["resolver"]})
    scm_control.call("POST", "scm/settings", {"dns_resolver": dns_clouds["resolver"]})
    project.env.update(dns_clouds["env"])
    shutil.copy2(ROOT / "stacks" / "Pulumi.local.yaml", project.workdir / "stacks" / "Pulumi.local.yaml")
    for name in PROXY_VARIABLES:
        project.env.pop(name, None)  # the CAS SDK ignores NO_PROXY
    project.env.update({cas_api.ENV_ACCESS_KEY_ID: ACCESS_KEY_ID, cas_api.ENV_ACCESS_KEY_SECRET: ACCESS_KEY_SECRET,
                        cas_api.ENV_ENDPOINT: cas_server.endpoint, cas_api.ENV_PROTOCOL: "http",
                        "CERTFLEET_HUAWEICLOUD_SCM_ENDPOINT": scm_emulator.url, "HUAWEICLOUD_SDK_AK": SCM_AK,
                        "HUAWEICLOUD_SDK_SK": SCM_SK, "HUAWEICLOUD_SDK_DOMAIN_ID": SCM_DOMAIN_ID,
                        "HOME": str(tmp_path), "PULUMI_CONFIG_PASSPHRASE": LOCAL_PASSPHRASE})
    project.init("local")
    return project


def report_json(project) -> dict:
    """scripts/report.py --json as a pipeline runs it (it calls `pulumi stack output --json` itself)."""
    completed = subprocess.run([sys.executable, str(ROOT / "scripts" / "report.py"), "--json", "--stack", "local"],
                               cwd=project.workdir, env=project.env, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


def test_local_stack_outputs_and_report_follow_the_v1_schema(local_project, cas_server, scm_emulator):
    project = local_project
    project.run("up", "--yes", "--skip-preview", stack="local")
    pending = project.outputs("local")
    validate_strictly(pending)
    assert pending["schemaVersion"] == 1 and {"aws", "huaweicloud", "alicloud"} <= set(pending)
    # Every DNS challenge was written and validated in this `up`; only the FILE one of `shop` waits.
    assert {n: o["state"] for n, o in pending["alicloud"]["orders"].items()} == {
        "docs": "certificate", "login": "issued", "shop": "domain_verify", "cdn": "certificate"}
    assert {c["status"] for c in pending["huaweicloud"]["certificates"].values()} == {"ISSUED"}
    pending_report = report_json(project)
    validate_strictly(pending_report)
    # Six distributions deployed, `cdn` and `portal` among them: served by the ACM copies of DNS-validated CAS and
    # SCM certificates issued in this same `up` (components/dns/fleet.issued_view).
    assert pending_report["schemaVersion"] == 1 and pending_report["totals"]["deployed"] == 6

    # The FILE challenge is published by hand; `up --refresh` picks up every certificate and removes the TXT
    # records of the issued CAS and SCM certificates.
    published = local_servers.publish_challenges(pending, {"cas": {"url": cas_server.url},
                                                           "scm": {"url": scm_emulator.url}})
    assert published == ["CAS order shop"], published
    project.run("up", "--yes", "--skip-preview", "--refresh", stack="local")
    issued = project.outputs("local")
    validate_strictly(issued)
    assert {o["state"] for o in issued["alicloud"]["orders"].values()} == {"certificate", "issued"}  # order, instance
    assert issued["alicloud"]["orders"]["shop"]["private_key"] == "[secret]"  # x-secret in the schema
    assert {c["status"] for c in issued["huaweicloud"]["certificates"].values()} == {"ISSUED"}
    validate_strictly(report_json(project))
