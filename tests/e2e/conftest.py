"""A throwaway copy of the certfleet project driven by the real `pulumi` CLI with a temp file backend."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, aws_env

PROJECT_FILES = ("Pulumi.yaml", "__main__.py", "requirements.txt", "components")
# The emulators list a new order/certificate at once: a replacing create (an earlier purchase of the entry was
# journalled minutes ago) needs one look before it buys, not the real clouds' 60 s (CAS) / 120 s (SCM) of polling.
EMULATOR_LISTING_LAG_SECONDS = 0


class PulumiProject:
    def __init__(self, workdir: Path, env: dict[str, str]):
        self.workdir = workdir
        self.env = env

    def write_stack(self, stack: str, config: dict) -> None:
        """Write stacks/Pulumi.<stack>.yaml (keeping the passphrase salt Pulumi added)."""
        path = self.workdir / "stacks" / f"Pulumi.{stack}.yaml"
        existing = yaml.safe_load(path.read_text()) if path.exists() else {}
        existing = existing or {}
        existing["config"] = {f"certfleet:{k}": v for k, v in config.items()}
        path.write_text(yaml.safe_dump(existing))

    def run(self, *args: str, stack: str = "e2e", check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(["pulumi", *args, "--stack", stack, "--non-interactive"], cwd=self.workdir,
                                env=self.env, capture_output=True, text=True, timeout=600)
        if check and result.returncode != 0:
            raise AssertionError(f"pulumi {' '.join(args)} failed ({result.returncode}):\n"
                                 f"{result.stdout}\n{result.stderr}")
        return result

    def init(self, stack: str = "e2e") -> None:
        subprocess.run(["pulumi", "stack", "init", stack, "--non-interactive"], cwd=self.workdir, env=self.env,
                       check=True, capture_output=True, text=True)

    def outputs(self, stack: str = "e2e") -> dict:
        return json.loads(self.run("stack", "output", "--json", stack=stack).stdout)

    def preview_json(self, stack: str = "e2e") -> dict:
        return json.loads(self.run("preview", "--json", stack=stack).stdout)

    def resources(self, stack: str = "e2e") -> list[dict]:
        exported = json.loads(self.run("stack", "export", stack=stack).stdout)
        return exported["deployment"].get("resources") or []

    def state_text(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in (self.workdir / ".state").rglob("*") if p.is_file())


@pytest.fixture
def project(tmp_path, pulumi_bin, aws) -> PulumiProject:
    workdir = tmp_path / "certfleet"
    workdir.mkdir()
    for name in PROJECT_FILES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, workdir / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, workdir / name)
    (workdir / "stacks").mkdir()
    (workdir / ".venv").symlink_to(ROOT / ".venv")
    (workdir / ".state").mkdir()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PULUMI_"))},
        **aws_env(aws),
        "PATH": f"{pulumi_bin}{os.pathsep}{os.environ['PATH']}",
        "PULUMI_HOME": str(tmp_path / "pulumi-home"),
        "PULUMI_BACKEND_URL": f"file://{workdir / '.state'}",
        "PULUMI_CONFIG_PASSPHRASE": "e2e-passphrase",
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
    }
    return PulumiProject(workdir, env)


# --- zero-touch validation: the DNS APIs of the local default, feeding the session's DNS server ------------

@pytest.fixture
def dns_clouds(aws, dns_emulator):
    """Route 53 (the session's AWS emulator), Alibaba Cloud DNS and Huawei Cloud DNS with the local default's
    zones (scripts/local_servers.py), all feeding the session's DNS server (tests/conftest.py dns_emulator).
    Yields the environment a Pulumi run needs for them; the zones leave the DNS server afterwards."""
    from emulators.alidns import AlidnsApi
    from emulators.core import EmulatorServer
    from emulators.core.testing import ControlClient
    from emulators.dns import DnsFeed
    from emulators.huaweidns import HuaweiDnsApi
    from scripts import local_servers
    from tests.emulators.cas_scaffolding import ACCESS_KEY_ID, ACCESS_KEY_SECRET
    from tests.emulators.conftest_scm import SCM_AK, SCM_SK

    local_servers.seed_route53_zones(aws)
    feed = DnsFeed(dns_emulator["url"])
    alidns_zones, huawei_zones = (local_servers.LOCAL_ALIDNS_DOMAIN,), local_servers.LOCAL_HUAWEI_ZONES
    with EmulatorServer(AlidnsApi({ACCESS_KEY_ID: ACCESS_KEY_SECRET}, feed=feed, seed_domains=alidns_zones)) as alidns, \
            EmulatorServer(HuaweiDnsApi({SCM_AK: SCM_SK}, project_id=local_servers.LOCAL_HUAWEI_PROJECT_ID, feed=feed,
                                        seed_zones=tuple(f"{z}." for z in huawei_zones))) as huawei:
        resolver = f"{dns_emulator['host']}:{dns_emulator['port']}"
        yield {"env": {"CERTFLEET_DNS_RESOLVERS": resolver, "CERTFLEET_DNS_NAMESERVER_PORT": str(dns_emulator["port"]),
                       "CERTFLEET_ALIDNS_ENDPOINT": alidns.endpoint, "CERTFLEET_ALIDNS_PROTOCOL": "http",
                       "CERTFLEET_HUAWEICLOUD_DNS_ENDPOINT": huawei.url,
                       "HUAWEICLOUD_SDK_PROJECT_ID": local_servers.LOCAL_HUAWEI_PROJECT_ID},
               "resolver": resolver, "alidns": alidns, "huawei": huawei}
    control = ControlClient(dns_emulator["url"])
    for zone in (*alidns_zones, *huawei_zones):
        control.call("DELETE", f"dns/zones/{zone}")
