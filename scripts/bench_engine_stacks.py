"""The stacks scripts/bench_engine.py measures: certfleet's (ACM, CAS, SCM, distributions) on servers of their
own on loopback, and the floor (a throwaway Pulumi project of no-op dynamic resources, inputs of ACM's size).

Each kind gives its stack config for N entries, the provider modules its dynamic provider imports, and starts
its servers (`Servers`: the variables a Pulumi run needs, and the calls counted at the servers).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.bench_fleet import raw_fleet  # noqa: E402

STACK = "bench"
REGION = "us-east-1"
PROXY_VARIABLES = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")
# Fake credentials for the servers this benchmark starts; never real ones.
AWS_KEY, AWS_SECRET = "bench-key", "bench-secret"
ALIBABA_KEY_ID, ALIBABA_KEY_SECRET = "LTAI5tBENCHENGINE", "bench-alibaba-secret"
HUAWEI_AK, HUAWEI_SK, HUAWEI_DOMAIN_ID = "BENCHENGINEAK", "bench-huawei-secret", "benchdomain"
TEMPLATE_ID = "E1BENCHTEMPLAT"   # the distribution every bench distribution is cloned from
CONTACT = {"name": "Tom Zhang", "email": "tom.zhang@example.com", "phone": "13000000000"}
APPLICANT = {"name": "Zhang.San", "phone": "13800000000", "email": "ops@example.com"}


@dataclass
class Servers:
    """The running servers of one stack: `env` for the Pulumi run; `calls()` and `clear()` read and reset
    the calls counted at the servers ({"operations": {op: {outcome: n}}, "totals": {...}})."""

    env: dict[str, str] = field(default_factory=dict)
    calls: Callable[[], dict] = lambda: {"operations": {}, "totals": {}}
    clear: Callable[[], None] = lambda: None
    processes: list[subprocess.Popen] = field(default_factory=list)

    def cpu_seconds(self) -> float:
        """CPU time the servers have used so far (user + system): how much of a step was the emulators' work."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for process in self.processes:
            try:
                fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / ticks   # utime, stime
            except (OSError, IndexError, ValueError):
                continue
        return total

    def stop(self) -> None:
        for process in self.processes:
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(process.pid, signal.SIGKILL)


@dataclass(frozen=True)
class Kind:
    name: str
    provider_modules: tuple[str, ...]        # what its dynamic provider imports (SDKs it imports lazily too)
    config: Callable[[int], dict]            # N -> the stack's config
    start: Callable[[int, str], Servers]     # (N, temp dir) -> its servers
    resources_per_entry: int = 1             # dynamic resources per entry (the floor's size to compare with)
    # The one read call per resource that issue 11's refresh target allows beside 1.5x the floor: (service,
    # operation) of each resource's read that certfleet's client paces at the cloud's quota (none for CAS and
    # SCM: no client pacing; their allowance is the server's own time, see scripts/bench_engine.py).
    paced_reads: tuple[tuple[str, str], ...] = ()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(argv: list[str], health: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, *argv, "--port", str(port), "--quiet"], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                               env={**os.environ, **(env or {})})
    url = f"http://127.0.0.1:{port}"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    for _ in range(600):
        if process.poll() is not None:
            raise RuntimeError(f"{' '.join(argv)} exited with {process.returncode}")
        try:
            opener.open(url + health, timeout=1).close()
            return process, url
        except OSError:
            time.sleep(0.1)
    os.killpg(process.pid, signal.SIGTERM)
    raise RuntimeError(f"{' '.join(argv)} did not answer at {url}")


# --- the AWS emulator: ACM certificates, and distributions bound to them ---------------------------------

def start_aws(validation_wait: int, template: bool) -> Servers:
    from emulators.aws.testing import AwsControl

    process, url = start_server(["-m", "emulators.aws", "--deploy-seconds", "0",
                                 "--acm-validation-wait", str(validation_wait)], "/moto-api/")
    control = AwsControl(url)
    if template:
        from emulators.aws.testing import SAMPLE_TEMPLATE
        import boto3

        control.next_distribution_id(TEMPLATE_ID)
        boto3.client("cloudfront", region_name=REGION, endpoint_url=url, aws_access_key_id=AWS_KEY,
                     aws_secret_access_key=AWS_SECRET).create_distribution(
            DistributionConfig={**SAMPLE_TEMPLATE, "CallerReference": "bench-template"})
    return Servers(env={"AWS_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": AWS_KEY, "AWS_SECRET_ACCESS_KEY": AWS_SECRET,
                        "AWS_DEFAULT_REGION": REGION, "CERTFLEET_EDGE_ENDPOINT": control.edge_endpoint()},
                   calls=control.calls, clear=lambda: control.call("DELETE", "calls"), processes=[process])


def acm_config(n: int) -> dict:
    return {"certfleet:aws": raw_fleet(n)["aws"]}


def distributions_config(n: int) -> dict:
    aws = raw_fleet(n)["aws"]
    aws["issuedTimeoutSeconds"] = 120   # issued at once (validation wait 0): a distribution binds it in the run
    aws["distributions"] = {f"dist-{i}": {"template": TEMPLATE_ID, "certificate": f"cert-{i}"} for i in range(n)}
    return {"certfleet:aws": aws}


# --- the core emulators: CAS and SCM ----------------------------------------------------------------------

def core_servers(process: subprocess.Popen, url: str, env: dict[str, str]) -> Servers:
    from emulators.core.testing import ControlClient

    control = ControlClient(url)
    return Servers(env=env, calls=lambda: control.call("GET", "calls"),
                   clear=lambda: control.call("DELETE", "calls"), processes=[process])


def start_cas(n: int, tmp: str) -> Servers:
    process, url = start_server(["-m", "emulators.cas", "--access-key-id", ALIBABA_KEY_ID,
                                 "--access-key-secret", ALIBABA_KEY_SECRET, "--package-total", str(n + 10)],
                                "/_emulator/health")
    return core_servers(process, url, {"ALIBABA_CLOUD_ACCESS_KEY_ID": ALIBABA_KEY_ID,
                                       "ALIBABA_CLOUD_ACCESS_KEY_SECRET": ALIBABA_KEY_SECRET,
                                       "CERTFLEET_ALICLOUD_CAS_ENDPOINT": url.removeprefix("http://"),
                                       "CERTFLEET_ALICLOUD_CAS_PROTOCOL": "http"})


def cas_config(n: int) -> dict:
    return {"certfleet:alicloud": {"contact": CONTACT, "orders": {
        f"order-{i}": {"productCode": "digicert-free-1-free", "domains": [f"site{i}.example.cn"]} for i in range(n)}}}


def start_scm(n: int, tmp: str) -> Servers:
    home = Path(tmp, "scm-home")   # the SDK writes ~/.huaweicloud/application_id
    home.mkdir(exist_ok=True)
    process, url = start_server(["-m", "emulators.scm", "--ak", HUAWEI_AK, "--sk", HUAWEI_SK,
                                 "--domain-id", HUAWEI_DOMAIN_ID], "/_emulator/health", {"HOME": str(home)})
    return core_servers(process, url, {"CERTFLEET_HUAWEICLOUD_SCM_ENDPOINT": url, "HUAWEICLOUD_SDK_AK": HUAWEI_AK,
                                       "HUAWEICLOUD_SDK_SK": HUAWEI_SK, "HUAWEICLOUD_SDK_DOMAIN_ID": HUAWEI_DOMAIN_ID,
                                       "HOME": str(home)})


def scm_config(n: int) -> dict:
    return {"certfleet:huaweicloud": {"tags": {"team": "bench"}, "certificates": {
        f"cert-{i}": {"brand": "GEOTRUST", "type": "DV_SSL_CERT", "domainType": "SINGLE_DOMAIN",
                      "domains": [f"site{i}.example.cn"], "applicant": APPLICANT} for i in range(n)}}}


KINDS = {
    "acm": Kind("acm", ("components.aws.acm",), acm_config,
                # Pending for an hour, as bench_fleet.py: nothing changes between up, preview and refresh.
                lambda n, tmp: start_aws(validation_wait=3600, template=False),
                paced_reads=(("acm", "DescribeCertificate"),)),
    "cas": Kind("cas", ("components.alicloud.cas", "alibabacloud_cas20200407.client"), cas_config, start_cas),
    "scm": Kind("scm", ("components.huaweicloud.scm", "huaweicloudsdkscm.v3"), scm_config, start_scm),
    "distributions": Kind("distributions", ("components.aws.acm", "components.aws.cloudfront"), distributions_config,
                          lambda n, tmp: start_aws(validation_wait=0, template=True), resources_per_entry=2,
                          paced_reads=(("acm", "DescribeCertificate"), ("cloudfront", "GetDistribution"))),
}
CERTFLEET_KINDS = tuple(KINDS)
FLOOR = "floor"


# --- the floor ---------------------------------------------------------------------------------------------

FLOOR_PROVIDER = '''"""No-op dynamic provider: what the engine itself costs per resource (scripts/bench_engine.py)."""

import pickle
import uuid

from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, ResourceProvider

# pulumi's serialize_provider wraps pickle's _batch_setitems again on every resource and never restores it
# (a RecursionError after a few hundred resources); certfleet restores it first, so the floor does too.
_ORIGINAL_BATCH_SETITEMS = pickle._Pickler._batch_setitems


class NoopProvider(ResourceProvider):
    def create(self, props):
        return CreateResult(str(uuid.uuid4()), dict(props))

    def diff(self, id, olds, news):
        changed = [k for k in set(olds) | set(news) if k != "__provider" and olds.get(k) != news.get(k)]
        return DiffResult(changes=bool(changed), replaces=[], delete_before_replace=False)

    def read(self, id, props):
        return ReadResult(id, props)

    def delete(self, id, props):
        pass


class NoopResource(Resource):
    def __init__(self, name, props, opts=None):
        pickle._Pickler._batch_setitems = _ORIGINAL_BATCH_SETITEMS
        super().__init__(NoopProvider(), name, props, opts)
'''

FLOOR_MAIN = '''"""N no-op dynamic resources, each with inputs as many JSON bytes as certfleet's ACM certificate's."""

import json
from pathlib import Path

from floor_provider import NoopResource

for name, pad in json.loads(Path(__file__).with_name("floor.json").read_text()):
    NoopResource(name, {"name": name, "pad": "x" * pad})
'''


def acm_input_sizes(n: int) -> list[tuple[str, int]]:
    """(name, bytes of JSON) of certfleet's ACM certificate inputs for the bench fleet's N entries."""
    from components.aws.acm import certificate_inputs
    from components.config import load_fleet

    fleet = load_fleet(raw_fleet(n))
    return [(spec.name, len(json.dumps(certificate_inputs(spec, fleet.aws, f"certfleet/{STACK}/{spec.name}"))))
            for spec in fleet.aws.certificates]


def floor_entries(n: int) -> list[tuple[str, int]]:
    """The floor's N resources: (name, padding) so that each one's inputs are as big as an ACM certificate's."""
    return [(name, max(0, size - len(json.dumps({"name": name, "pad": ""})))) for name, size in acm_input_sizes(n)]


def floor_project(tmp: str, n: int, pulumi_bin: str) -> tuple[Path, dict]:
    """The floor as a Pulumi project in `tmp` with stack `bench` (file backend): (workdir, env)."""
    work = Path(tmp) / "floor"
    work.mkdir()
    (work / "Pulumi.yaml").write_text(json.dumps({"name": "floor", "runtime": {
        "name": "python", "options": {"toolchain": "pip", "virtualenv": ".venv"}}}))
    (work / "floor_provider.py").write_text(FLOOR_PROVIDER)   # importable: pickled by reference
    (work / "__main__.py").write_text(FLOOR_MAIN)
    (work / "floor.json").write_text(json.dumps(floor_entries(n)))
    (work / ".venv").symlink_to(ROOT / ".venv")
    env = pulumi_env(tmp, pulumi_bin)
    subprocess.run(["pulumi", "stack", "init", STACK, "--non-interactive"], cwd=work, env=env, check=True,
                   capture_output=True)
    return work, env


def pulumi_env(tmp: str, pulumi_bin: str) -> dict[str, str]:
    """As scripts/bench_fleet.py temp_project: a file backend in `tmp`, no cloud variables of the caller."""
    os.makedirs(f"{tmp}/state", exist_ok=True)
    # PULUMI_SKIP_CHECKPOINTS, an engine knob to compare with, passes (as there).
    inherited = {k: v for k, v in os.environ.items() if k not in PROXY_VARIABLES
                 and (not k.startswith(("AWS_", "PULUMI_")) or k == "PULUMI_SKIP_CHECKPOINTS")}
    return {**inherited,
            "PATH": f"{pulumi_bin}{os.pathsep}{os.environ['PATH']}", "PULUMI_HOME": f"{tmp}/home",
            "PULUMI_BACKEND_URL": f"file://{tmp}/state", "PULUMI_CONFIG_PASSPHRASE": "bench",
            "PULUMI_SKIP_UPDATE_CHECK": "true", "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true"}


ENTRY_MAPS = ("certificates", "orders", "distributions")
FLEET_FILE = "fleet/entries.yaml"


def in_fleet_file(config: dict) -> tuple[dict, dict]:
    """(stack config, fleet file): each section's entries moved to FLEET_FILE (components/fleet_files.py), as a
    large fleet keeps them: Pulumi hands the program its stack config in one environment variable, which Linux
    caps at 128 KiB (1,000 SCM entries do not fit)."""
    stack: dict = {"certfleet:fleetFiles": [FLEET_FILE]}
    entries: dict = {}
    for key, section in config.items():
        stack[key] = {k: v for k, v in section.items() if k not in ENTRY_MAPS}
        entries[key] = {k: v for k, v in section.items() if k in ENTRY_MAPS}
    return stack, entries


def certfleet_project(tmp: str, kind: Kind, n: int) -> tuple[Path, dict]:
    from scripts.bench_fleet import temp_project

    stack, entries = in_fleet_file(kind.config(n))
    work, env = temp_project(tmp, stack)
    (work / FLEET_FILE).parent.mkdir()
    (work / FLEET_FILE).write_text(json.dumps(entries))   # JSON is YAML
    for name in PROXY_VARIABLES:
        env.pop(name, None)   # Alibaba's SDK ignores NO_PROXY
    return work, env

