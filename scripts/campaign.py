"""Money safety, proven by a crash-and-fault campaign against local servers (docs/campaign.md).

    .venv/bin/python scripts/campaign.py [--kills 20] [--fault-rate 0.2] [--seed N] [--short] [--json FILE]
        [--keep DIR] [--ref REF] [--list-lag S] [--tag-lag-reads N] [--max-converge-runs N] [--pulumi-bin DIR]

On its own servers (moto behind scripts/fault_proxy.py, the CAS and SCM emulators; free loopback ports) and
its own temp project and file backend, it:

1. runs two `pulumi up` of a fresh stack at once: the second must fail on the stack lock and buy nothing;
2. kill phase: `pulumi up` killed with SIGKILL (the whole process tree) at a random moment, --kills times,
   with faults at --fault-rate of all cloud calls (lost answers after the server acted, 5xx, throttling) and
   lagging listings; after each kill `pulumi cancel` (the dead run's lock). A run that finished before its
   kill time leaves nothing to interrupt, so the stack is then destroyed and the next generation of the
   config (the same entries under new names) is created by the next, killed, run;
3. converge: faults off, `pulumi refresh --clear-pending-creates` (v3.259 keeps a killed run's pending
   creates otherwise), then `pulumi up` until it exits 0 and `pulumi preview --expect-no-changes` exits 0;
4. counts at the servers (control APIs and SDK list calls): orders/certificates per config entry
   (exactly 1 each), objects absent from the exported state (orphans: 0), and plaintext private keys or
   test secrets in the state backend, the captured pulumi output and the server logs (0).

Prints a short block ending with `duplicates N, orphans N`; exits 1 if a figure breaks its bound, 2 if the
campaign itself could not run. Leaves no process or server behind (also on Ctrl-C).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PYTHON = str(ROOT / ".venv" / "bin" / "python")
PROJECT_FILES = ("Pulumi.yaml", "__main__.py", "requirements.txt", "components")
PROJECT, STACK = "certfleet", "campaign"
MARKER = "CERTFLEET_CAMPAIGN"            # every process the campaign starts carries MARKER=<campaign id>
RUN_MARKER = "CERTFLEET_CAMPAIGN_RUN"    # every pulumi run (and its plugins) carries RUN_MARKER=<run id>

# Fake credentials for the campaign's own servers. Distinctive, so the plaintext scan can look for them.
AWS_KEY, AWS_SECRET = "CAMPAIGNAWSKEY0000001", "campaign-aws-secret-Qx7Rb2Lm"
ALIBABA_KEY_ID, ALIBABA_SECRET = "LTAI5tCAMPAIGN000001", "campaign-alibaba-secret-Vd3Kp9Wn"
HUAWEI_AK, HUAWEI_SK, HUAWEI_DOMAIN_ID = "CAMPAIGNHUAWEIAK0001", "campaign-huawei-secret-Tz5Hc8Jf", "campaigndomain01"
PASSPHRASE = "campaign-passphrase-Gm4Ns6Yv"
SECRETS = {"aws secret key": AWS_SECRET, "alibaba secret key": ALIBABA_SECRET, "huawei secret key": HUAWEI_SK,
           "state passphrase": PASSPHRASE}
PRIVATE_KEY_NEEDLE = "PRIVATE KEY"

ACM_TYPE = "pulumi-python:dynamic/aws:AcmCertificate"
CAS_TYPE = "pulumi-python:dynamic/alicloud:CasOrder"
SCM_TYPE = "pulumi-python:dynamic/huaweicloud:ScmCertificate"
ACM_RESOURCE_TAG, SCM_RESOURCE_TAG = "certfleet:resource", "certfleet-resource"
ALL_KEY_TYPES = ["RSA_1024", "RSA_2048", "RSA_3072", "RSA_4096", "EC_prime256v1", "EC_secp384r1", "EC_secp521r1"]
MOTO_ACM_VALIDATION_WAIT = "20"

# What the CLI says when the stack is locked by another run (DIY backend) and when it is left with
# operations a killed run never finished.
LOCK_PATTERNS = ("currently locked", "stack is locked", "locked by")
PENDING_PATTERN = "pending operation"
# The two cases where certfleet asks the user to cancel and delete a CAS order in the console (the campaign
# plays that operator): a killed run's `csr: generate` order, whose key died with the run (create refuses to
# buy again), and an order adopted after an interrupted run, which destroy never cancels.
OPERATOR_PATTERNS = (
    (re.compile(r"cancel and delete order (\d+)"), "csr: generate, its key lost with a killed run; create refused"),
    (re.compile(r"CAS order (\d+) \([^)]*\) is kept: certfleet adopted it"),
     "adopted after a killed run, so destroy kept it"),
)
UP_TIMEOUT_SECONDS = 900
# The line the CLI prints when it starts a step on a certfleet resource: the run's work has begun.
WORK_STEP = re.compile(rb"pulumi-python:dynamic/\S+ \S+ (creating|updating|deleting|replacing|refreshing)")


# --- processes ------------------------------------------------------------------------------------------

def _marked_pids(marker: str) -> list[int]:
    """Pids of live processes whose environment carries `marker` (e.g. "CERTFLEET_CAMPAIGN_RUN=abc-7")."""
    needle = marker.encode() + b"\0"
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                environ = f.read() + b"\0"
        except OSError:
            continue
        if b"\0" + needle in b"\0" + environ:
            pids.append(int(entry))
    return pids


def kill_marked(marker: str, settle_seconds: float = 10.0, polite: bool = False) -> int:
    """SIGKILL every process carrying `marker` until none is left (children spawned meanwhile too); with
    `polite`, SIGTERM first and a second to go. Returns how many distinct processes were signalled."""
    signalled: set[int] = set()
    if polite:
        for pid in _marked_pids(marker):
            try:
                os.kill(pid, signal.SIGTERM)
                signalled.add(pid)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 1.0
        while _marked_pids(marker) and time.monotonic() < deadline:
            time.sleep(0.05)
    deadline = time.monotonic() + settle_seconds
    quiet_rounds = 0
    while time.monotonic() < deadline and quiet_rounds < 3:
        pids = _marked_pids(marker)
        if not pids:
            quiet_rounds += 1
            time.sleep(0.05)
            continue
        quiet_rounds = 0
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
                signalled.add(pid)
            except ProcessLookupError:
                pass
        time.sleep(0.1)
    return len(signalled)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_NO_PROXY_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_json(method: str, url: str, body: Any = None, timeout: float = 30) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with _NO_PROXY_OPENER.open(request, timeout=timeout) as response:
        return json.loads(response.read() or b"null")


def wait_until_healthy(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server for {url} exited with {process.returncode}")
        try:
            with _NO_PROXY_OPENER.open(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server at {url} did not answer within {seconds:g}s")


@dataclass
class Servers:
    """moto (+ the fault proxy in front of it), the CAS and the SCM emulator: subprocesses with logs."""

    campaign_id: str
    logs: Path
    seed: int
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)

    def _start(self, name: str, argv: list[str], env: dict[str, str], health: str, url: str | None = None) -> str:
        log = open(self.logs / f"server-{name}.log", "ab")
        process = subprocess.Popen(argv, stdout=subprocess.PIPE if url is None else log, stderr=log, cwd=ROOT,
                                   env={**_clean_environ(), **env, MARKER: self.campaign_id},
                                   start_new_session=True)
        self.processes[name] = process
        if url is None:  # the server prints its URL first
            url = process.stdout.readline().decode().strip()
            if not url.startswith("http://127.0.0.1:"):
                raise RuntimeError(f"{name} did not print its URL (see {self.logs / f'server-{name}.log'})")
        wait_until_healthy(url + health, process)
        self.urls[name] = url
        return url

    def start(self) -> None:
        port = free_port()
        self._start("moto", [PYTHON, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                    {"MOTO_ACM_VALIDATION_WAIT": MOTO_ACM_VALIDATION_WAIT}, "/moto-api/", f"http://127.0.0.1:{port}")
        self._start("aws-proxy", [PYTHON, str(ROOT / "scripts" / "fault_proxy.py"), "--upstream", self.urls["moto"],
                                  "--seed", str(self.seed)], {}, "/_proxy/stats")
        self._start("cas", [PYTHON, "-m", "emulators.cas", "--port", "0", "--package-total", "1000"],
                    {"EMU_CAS_ACCESS_KEY_ID": ALIBABA_KEY_ID, "EMU_CAS_ACCESS_KEY_SECRET": ALIBABA_SECRET},
                    "/_emulator/health")
        self._start("scm", [PYTHON, "-m", "emulators.scm", "--port", "0", "--domain-id", HUAWEI_DOMAIN_ID],
                    {"EMU_SCM_AK": HUAWEI_AK, "EMU_SCM_SK": HUAWEI_SK}, "/_emulator/health")
        for process in self.processes.values():
            if process.stdout is not None:  # drain what follows the URL line into nothing
                process.stdout.close()

    def stop(self) -> None:
        for process in self.processes.values():
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 10
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait(timeout=5)

    def pulumi_env(self) -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL": self.urls["aws-proxy"], "AWS_ACCESS_KEY_ID": AWS_KEY,
            "AWS_SECRET_ACCESS_KEY": AWS_SECRET, "AWS_DEFAULT_REGION": "us-east-1",
            "CERTFLEET_ALICLOUD_CAS_ENDPOINT": self.urls["cas"].removeprefix("http://"),
            "CERTFLEET_ALICLOUD_CAS_PROTOCOL": "http",
            "ALIBABA_CLOUD_ACCESS_KEY_ID": ALIBABA_KEY_ID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": ALIBABA_SECRET,
            "CERTFLEET_HUAWEICLOUD_SCM_ENDPOINT": self.urls["scm"], "HUAWEICLOUD_SDK_AK": HUAWEI_AK,
            "HUAWEICLOUD_SDK_SK": HUAWEI_SK, "HUAWEICLOUD_SDK_DOMAIN_ID": HUAWEI_DOMAIN_ID,
        }

    # --- faults ---

    def faults_on(self, rate: float, list_lag_seconds: float, tag_lag_reads: int) -> None:
        """`rate` of all cloud calls hit by one fault, evenly a lost answer, a 5xx or throttling."""
        http_json("POST", self.urls["aws-proxy"] + "/_proxy/config",
                  {"rate": rate, "kinds": ["drop", "500", "throttle"], "list_lag": list_lag_seconds})
        kinds = [{"drop_response": True}, {"status": 500}, {"status": 429}]
        for name in ("cas", "scm"):
            http_json("DELETE", self.urls[name] + "/_emulator/faults")
            share = rate / len(kinds)
            for i, kind in enumerate(kinds):  # rules are tried in order: conditional chances add up to `rate`
                chance = share / (1 - i * share)
                if chance > 0:
                    http_json("POST", self.urls[name] + "/_emulator/faults",
                              {"action": "*", "times": None, "probability": min(1.0, chance), **kind})
        http_json("POST", self.urls["cas"] + "/_emulator/cas/settings", {"list_lag": list_lag_seconds})
        http_json("POST", self.urls["scm"] + "/_emulator/scm/settings", {"tag_index_lag_reads": tag_lag_reads})

    def faults_off(self) -> dict[str, dict[str, int]]:
        """Stops injecting; returns how many calls each kind of fault hit, per server."""
        hit: dict[str, dict[str, int]] = {"aws": self.aws_fault_stats()}
        http_json("POST", self.urls["aws-proxy"] + "/_proxy/config", {"rate": 0, "list_lag": 0})
        for name in ("cas", "scm"):
            counts = hit.setdefault(name, {})
            for rule in http_json("GET", self.urls[name] + "/_emulator/faults")["faults"]:
                kind = "drop" if rule.get("drop_response") else str(rule.get("status"))
                counts[kind] = counts.get(kind, 0) + rule.get("hits", 0)
            http_json("DELETE", self.urls[name] + "/_emulator/faults")
        http_json("POST", self.urls["cas"] + "/_emulator/cas/settings", {"list_lag": 0})
        http_json("POST", self.urls["scm"] + "/_emulator/scm/settings", {"tag_index_lag_reads": 0})
        return hit

    def aws_fault_stats(self) -> dict[str, int]:
        stats = http_json("GET", self.urls["aws-proxy"] + "/_proxy/stats")["stats"]
        totals: dict[str, int] = {}
        for counts in stats.values():
            for key, value in counts.items():
                totals[key] = totals.get(key, 0) + value
        return totals

    # --- what the servers hold ---

    def acm_certificates(self) -> list[dict]:
        """Every ACM certificate at moto (asked directly, not through the fault proxy), with its tags."""
        import boto3
        acm = boto3.client("acm", region_name="us-east-1", endpoint_url=self.urls["moto"],
                           aws_access_key_id=AWS_KEY, aws_secret_access_key=AWS_SECRET)
        result = []
        for page in acm.get_paginator("list_certificates").paginate(Includes={"keyTypes": ALL_KEY_TYPES}):
            for summary in page["CertificateSummaryList"]:
                arn = summary["CertificateArn"]
                tags = {t["Key"]: t.get("Value", "") for t in
                        acm.list_tags_for_certificate(CertificateArn=arn).get("Tags", [])}
                result.append({"kind": "acm", "id": arn, "domain": (summary.get("DomainName") or "").lower(),
                               "tags": tags, "status": summary.get("Status"),
                               "entry": tags.get(ACM_RESOURCE_TAG, "").rpartition("/")[2]})
        return result

    def cas_orders(self) -> list[dict]:
        state = http_json("GET", self.urls["cas"] + "/_emulator/state")
        return [{"kind": "cas", "id": str(o["order_id"]), "domains": [d.lower() for d in o["domains"]],
                 "domain": ",".join(o["domains"]).lower(), "product_code": o["product_code"], "status": o["state"],
                 "csr": bool(o.get("csr"))} for o in state["orders"]]

    def scm_certificates(self) -> list[dict]:
        listed = http_json("GET", self.urls["scm"] + "/_emulator/scm/certificates")["certificates"]
        return [{"kind": "scm", "id": c["id"], "status": c.get("status"), "tags": c.get("tags") or {},
                 "domain": (c.get("domain") or "").lower(),
                 "entry": (c.get("tags") or {}).get(SCM_RESOURCE_TAG, "").rpartition("/")[2]} for c in listed]

    def inventory(self) -> dict[tuple[str, str], dict]:
        """Everything the three servers hold, by (kind, id)."""
        return {(o["kind"], o["id"]): o
                for o in self.acm_certificates() + self.cas_orders() + self.scm_certificates()}

    def requests_held(self) -> dict[tuple[str, str], str]:
        """(kind, id) -> the CSR the server holds for a CAS order or SCM certificate ("" when none). Read from
        the emulators' saved state, which also holds keys: kept in memory, never written anywhere."""
        held = {("cas", str(o["order_id"])): (o.get("csr") or "").strip()
                for o in http_json("GET", self.urls["cas"] + "/_emulator/state")["orders"]}
        held.update({("scm", c["id"]): (c.get("csr_pem") or "").strip()
                     for c in http_json("GET", self.urls["scm"] + "/_emulator/state")["certificates"]})
        return held


def _clean_environ() -> dict[str, str]:
    """This process's environment without credentials, Pulumi settings or proxies (the SDKs ignore NO_PROXY)."""
    drop = ("AWS_", "PULUMI_", "ALIBABA_CLOUD_", "HUAWEICLOUD_", "CERTFLEET_", "EMU_")
    proxies = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}
    return {k: v for k, v in os.environ.items() if not k.startswith(drop) and k.lower() not in proxies}


# --- the stack ------------------------------------------------------------------------------------------

APPLICANT = {"name": "Campaign.Tester", "phone": "13800000000", "email": "pki@campaign.example.cn"}
COMPANY = {"name": "Campaign Ltd", "province": "Beijing", "city": "Beijing", "country": "CN"}


def _csr_for(names: list[str]) -> str:
    """A CSR of the user's own (its key is thrown away at once: only the request matters here)."""
    from components.keys import generate_key_and_csr
    _key, csr = generate_key_and_csr(names)
    return csr


def stack_config(generation: int, short: bool, listing_lag_seconds: int) -> dict[str, Any]:
    """The campaign's config. Every generation names the same entries with new DNS names, so that the
    next create of an entry cannot be answered by an earlier generation's idempotency token or order.
    `listing_lag_seconds`: how long a create after an interrupted run keeps looking in the CAS/SCM listings
    (`listingLagSeconds`), set above the lag the campaign injects."""
    g = f"g{generation}"
    acm = {
        "web": {"domain": f"web.{g}.campaign.example.com", "sans": [f"www.{g}.campaign.example.com"]},
        "wild": {"domain": f"*.apps.{g}.campaign.example.com", "sans": [f"apps.{g}.campaign.example.com"],
                 "keyAlgorithm": "EC_prime256v1"},
        "blog": {"domain": f"blog.{g}.campaign.example.org"},
    }
    cas = {
        # CreateCertificateWithCsrRequest with a key and CSR certfleet generates (the key is a secret)
        "gen": {"productCode": "symantec-dv-1-starter", "api": "withCsr", "csr": "generate", "validation": "FILE",
                "domains": [f"gen.{g}.campaign.example.cn", f"www.gen.{g}.campaign.example.cn"]},
        # CreateCertificateForPackageRequest with the user's own CSR
        "own": {"productCode": "geotrust-dv-1-starter",
                "csr": {"pem": _csr_for([f"own.{g}.campaign.example.cn"])}},
        # CreateCertificateForPackageRequest without a CSR: CAS makes the key
        "docs": {"productCode": "digicert-free-1-free", "domains": [f"docs.{g}.campaign.example.cn"]},
    }
    scm = {
        # SCM makes the key
        "portal": {"brand": "GEOTRUST", "type": "DV_SSL_CERT", "domainType": "SINGLE_DOMAIN",
                   "domains": [f"portal.{g}.campaign.example.cn"], "applicant": APPLICANT},
        # certfleet generates the key and CSR (a secret)
        "api": {"brand": "GLOBALSIGN", "type": "OV_SSL_CERT", "domainType": "MULTI_DOMAIN",
                "domains": [f"api.{g}.campaign.example.cn", f"www.api.{g}.campaign.example.cn"], "csr": "generate",
                "applicant": APPLICANT, "company": COMPANY},
        # the user's own CSR
        "shop": {"brand": "GEOTRUST", "type": "DV_SSL_CERT", "domainType": "SINGLE_DOMAIN",
                 "domains": [f"shop.{g}.campaign.example.cn"], "csr": _csr_for([f"shop.{g}.campaign.example.cn"]),
                 "applicant": APPLICANT},
    }
    if short:  # CI: two of each, still one of every kind of key that can be lost in a crash
        acm.pop("blog")
        cas.pop("own")
        scm.pop("shop")
    return {
        "aws": {"region": "us-east-1", "tags": {"team": "campaign"}, "certificates": acm},
        "alicloud": {"contact": {"name": "Tom Zhang", "email": "pki@campaign.example.cn", "phone": "13000000000"},
                     "listingLagSeconds": listing_lag_seconds, "orders": cas},
        "huaweicloud": {"region": "cn-north-4", "tags": {"team": "campaign"},
                        "listingLagSeconds": listing_lag_seconds, "certificates": scm},
    }


def cas_entry_names(config: dict[str, Any]) -> dict[str, tuple[str, tuple[str, ...]]]:
    """entry -> (product code, names CN first) as CAS records the order."""
    from components.keys import read_csr
    result = {}
    for name, order in config["alicloud"]["orders"].items():
        if isinstance(order.get("csr"), dict):
            names = tuple(read_csr(order["csr"]["pem"]).names)
        else:
            names = tuple(d.lower() for d in order["domains"])
        result[name] = (order["productCode"], names)
    return result


@dataclass
class Run:
    number: int
    label: str
    args: list[str]
    log: Path
    marker: str                       # RUN_MARKER=<id>: carried by the CLI and every process it starts
    started: float                    # time.monotonic() at start
    returncode: int | None = None
    killed: bool = False
    seconds: float = 0.0
    delay: float | None = None        # the planned kill: seconds after the first resource step
    work_start: float | None = None   # seconds from start to the first resource step (None: there was none)

    @property
    def output(self) -> str:
        return self.log.read_text(errors="replace")


class Project:
    """A throwaway copy of the certfleet project, with a file backend, driven by the real `pulumi` CLI."""

    def __init__(self, base: Path, pulumi_bin: str, servers: Servers, campaign_id: str,
                 ref: str | None = None) -> None:
        self.workdir = base / "project"
        self.state_dir = self.workdir / ".state"
        self.logs = base / "logs"
        self.campaign_id = campaign_id
        self.pulumi = str(Path(pulumi_bin) / "pulumi")
        self.runs: list[Run] = []
        self.workdir.mkdir()
        if ref:  # the project as committed at `ref` (e.g. HEAD), not the work tree
            archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", ref, *PROJECT_FILES],
                                     check=True, capture_output=True).stdout
            subprocess.run(["tar", "-x", "-C", str(self.workdir)], input=archive, check=True)
        else:
            for name in PROJECT_FILES:
                source = ROOT / name
                if source.is_dir():
                    shutil.copytree(source, self.workdir / name, ignore=shutil.ignore_patterns("__pycache__"))
                else:
                    shutil.copy2(source, self.workdir / name)
        (self.workdir / "stacks").mkdir()
        (self.workdir / ".venv").symlink_to(ROOT / ".venv")
        self.state_dir.mkdir()
        (base / "home").mkdir()
        self.env = {
            **_clean_environ(), **servers.pulumi_env(),
            "PATH": f"{pulumi_bin}{os.pathsep}{os.environ.get('PATH', '')}",
            "HOME": str(base / "home"),  # the Huawei SDK writes ~/.huaweicloud
            "PULUMI_HOME": str(base / "pulumi-home"),
            "PULUMI_BACKEND_URL": f"file://{self.state_dir}",
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            MARKER: campaign_id,
        }

    def write_config(self, config: dict[str, Any]) -> None:
        import yaml
        path = self.workdir / "stacks" / f"Pulumi.{STACK}.yaml"
        existing = (yaml.safe_load(path.read_text()) if path.exists() else None) or {}
        existing["config"] = {f"certfleet:{k}": v for k, v in config.items()}
        path.write_text(yaml.safe_dump(existing))

    def start(self, label: str, *args: str, stack: bool = True) -> tuple[subprocess.Popen, Run]:
        number = len(self.runs) + 1
        log = self.logs / f"{number:03d}-{label}.log"
        argv = [self.pulumi, *args, *(("--stack", STACK) if stack else ()), "--non-interactive"]
        marker = f"{self.campaign_id}-{number}"
        with open(log, "wb") as out:
            out.write(f"$ pulumi {' '.join(argv[1:])}\n".encode())
            out.flush()
            process = subprocess.Popen(argv, cwd=self.workdir, env={**self.env, RUN_MARKER: marker},
                                       stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        run = Run(number, label, list(args), log, f"{RUN_MARKER}={marker}", time.monotonic())
        self.runs.append(run)
        return process, run

    def finish(self, process: subprocess.Popen, run: Run, kill_after: float | None = None,
               timeout: float = UP_TIMEOUT_SECONDS) -> Run:
        """Wait for the run; with `kill_after`, SIGKILL its whole process tree that many seconds after its
        first resource step (the CLI prints a line per step as it starts) unless it has finished by then."""
        kill_at = None
        read = 0
        with open(run.log, "rb") as follow:
            while process.poll() is None:
                now = time.monotonic()
                if run.work_start is None:
                    follow.seek(read)
                    chunk = follow.read()
                    newline = chunk.rfind(b"\n")
                    if newline >= 0:
                        if WORK_STEP.search(chunk[:newline + 1]):
                            run.work_start = now - run.started
                            if kill_after is not None:
                                kill_at = now + kill_after
                        read += newline + 1
                if (kill_at is not None and now >= kill_at) or now - run.started > timeout:
                    run.killed = True
                    kill_marked(run.marker)
                    break
                time.sleep(0.02)
        run.returncode = process.wait()
        # Plugins of a finished run exit by themselves; make sure of it (no run outlives its turn).
        kill_marked(run.marker, settle_seconds=1)
        run.seconds = time.monotonic() - run.started
        run.delay = kill_after
        with open(run.log, "ab") as out:
            out.write(f"\n[campaign] exit {run.returncode}{' (killed)' if run.killed else ''} after "
                      f"{run.seconds:.1f}s\n".encode())
        if kill_at is None and run.killed:
            raise RuntimeError(f"pulumi {' '.join(run.args)} did not finish within {timeout}s (see {run.log})")
        return run

    def run(self, label: str, *args: str, kill_after: float | None = None, stack: bool = True) -> Run:
        process, run = self.start(label, *args, stack=stack)
        return self.finish(process, run, kill_after)

    def export(self) -> dict[str, Any]:
        run = self.run("export", "stack", "export", "--show-secrets=false")
        text = run.output
        start = text.index("{")
        end = text.rindex("}") + 1
        return json.loads(text[start:end])

    def lock_files(self) -> list[Path]:
        return [p for p in (self.state_dir / ".pulumi" / "locks").rglob("*.json")] \
            if (self.state_dir / ".pulumi" / "locks").exists() else []


# --- the campaign ---------------------------------------------------------------------------------------

@dataclass
class Figures:
    seed: int
    kills_requested: int
    fault_rate: float
    short: bool
    kills: list[dict] = field(default_factory=list)
    recoveries: dict[str, int] = field(default_factory=dict)
    operator_actions: list[str] = field(default_factory=list)
    destroys: int = 0
    concurrent: dict[str, Any] = field(default_factory=dict)
    runs_to_converge: int | None = None
    converged: bool = False
    per_entry: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0
    duplicate_details: list[str] = field(default_factory=list)
    orphans: int = 0
    orphan_details: list[str] = field(default_factory=list)
    plaintext: int = 0
    plaintext_details: list[str] = field(default_factory=list)
    faults: dict[str, Any] = field(default_factory=dict)
    pending_operations_seen: int = 0
    pending_operations_cleared: int = 0
    pending_operations_left: int = 0
    destroy_retries: int = 0
    destroy_failures: list[str] = field(default_factory=list)
    kill_window_seconds: float = 0.0
    settings: dict[str, Any] = field(default_factory=dict)
    lost_keys: int = 0
    lost_key_details: list[str] = field(default_factory=list)
    state_origins: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def recovery(self, what: str) -> None:
        self.recoveries[what] = self.recoveries.get(what, 0) + 1


GENERATION_LABEL = re.compile(r"^g(\d+)$")


def generation_of(domain: str) -> int | None:
    """The generation a campaign DNS name belongs to (`web.g3.campaign.example.com` -> 3)."""
    for label in (domain or "").split(",")[0].split("."):
        match = GENERATION_LABEL.match(label)
        if match:
            return int(match.group(1))
    return None


class Campaign:
    def __init__(self, args: argparse.Namespace, base: Path, pulumi_bin: str) -> None:
        self.args = args
        self.rng = random.Random(args.seed)
        self.base = base
        self.campaign_id = f"cf{os.getpid()}x{args.seed}"
        (base / "logs").mkdir()
        self.servers = Servers(self.campaign_id, base / "logs", args.seed)
        self.pulumi_bin = pulumi_bin
        self.project: Project | None = None
        self.figures = Figures(args.seed, args.kills, args.fault_rate, args.short)
        self.figures.settings = {"list_lag_seconds": args.list_lag, "scm_tag_lag_reads": args.tag_lag_reads,
                                 "listingLagSeconds": args.listing_lag_seconds, "ref": args.ref or "work tree"}
        self.generation = 0
        self.config: dict[str, Any] = {}
        self.first_up_work_seconds = 0.0
        self.faults_active = False
        # Forensics: which run first showed each object at the servers, and what hit each run.
        self.known: dict[tuple[str, str], dict] = {}
        self.run_notes: dict[int, dict] = {}

    def say(self, message: str) -> None:
        print(f"[campaign {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    # --- running pulumi, with a trace of what each run bought and which faults hit it ---

    def fault_counters(self) -> dict[str, dict[str, int]]:
        counters = {"aws": {k: v for k, v in self.servers.aws_fault_stats().items() if k != "calls"}}
        for name in ("cas", "scm"):
            counts = counters.setdefault(name, {})
            for rule in http_json("GET", self.servers.urls[name] + "/_emulator/faults")["faults"]:
                kind = "drop" if rule.get("drop_response") else str(rule.get("status"))
                counts[kind] = counts.get(kind, 0) + rule.get("hits", 0)
        return counters

    def pulumi(self, label: str, *args: str, kill_after: float | None = None) -> Run:
        before = self.fault_counters() if self.faults_active else None
        run = self.project.run(label, *args, kill_after=kill_after)
        self.after_run(run, before)
        return run

    def after_run(self, run: Run, faults_before: dict | None) -> None:
        note: dict[str, Any] = {"label": run.label, "generation": self.generation, "killed": run.killed,
                                "delay": run.delay, "exit": run.returncode, "log": run.log.name}
        if faults_before is not None:
            after = self.fault_counters()
            note["faults"] = {server: {k: v - faults_before.get(server, {}).get(k, 0) for k, v in counts.items()
                                       if v - faults_before.get(server, {}).get(k, 0)}
                              for server, counts in after.items()}
        self.run_notes[run.number] = note
        for key, obj in self.servers.inventory().items():
            if key not in self.known:
                self.known[key] = {**obj, "first_seen_run": run.number}

    def describe_run(self, number: int | None) -> str:
        note = self.run_notes.get(number or -1)
        if not note:
            return "before any run"
        if note["killed"]:
            how = f"killed {note['delay']:.2f}s after its first step"
        elif note["delay"] is not None:
            how = f"exit {note['exit']} before its kill ({note['delay']:.2f}s after its first step)"
        else:
            how = f"exit {note['exit']}"
        faults = "; ".join(f"{server} " + ", ".join(f"{k} x{v}" for k, v in counts.items())
                           for server, counts in (note.get("faults") or {}).items() if counts)
        return f"run {number} {note['label']} (generation {note['generation']}, {how}" \
               f"{', faults: ' + faults if faults else ''}; {note['log']})"

    # --- steps ---

    def setup(self) -> None:
        self.servers.start()
        self.project = Project(self.base, self.pulumi_bin, self.servers, self.campaign_id, self.args.ref)
        init = self.project.run("init", "stack", "init", STACK, stack=False)
        if init.returncode != 0:
            raise RuntimeError(f"pulumi stack init failed:\n{init.output}")
        self.new_generation()

    def new_generation(self) -> None:
        self.config = stack_config(self.generation, self.args.short, self.args.listing_lag_seconds)
        self.project.write_config(self.config)

    def cancel_dead_lock(self) -> None:
        """After a killed `pulumi up`: the DIY backend still holds the dead run's lock; `pulumi cancel` removes
        it (without it every later command fails with "the stack is currently locked")."""
        if self.project.lock_files():
            cancel = self.pulumi("cancel", "cancel", "--yes")
            self.figures.recovery(f"pulumi cancel (exit {cancel.returncode})")
            if self.project.lock_files():
                raise RuntimeError(f"the lock of the killed run is still there after `pulumi cancel`: {cancel.log}")

    def clear_pending_creates(self) -> None:
        """v3.259 keeps a killed run's unfinished creates as pending operations: `pulumi up` only warns
        (and creates the resources again), and a non-interactive `pulumi refresh` keeps them;
        `pulumi refresh --clear-pending-creates` drops them (certfleet's creates find what they had bought)."""
        pending = (self.project.export().get("deployment") or {}).get("pending_operations") or []
        if pending:
            self.figures.pending_operations_cleared += len(pending)
            refresh = self.pulumi("refresh", "refresh", "--yes", "--skip-preview", "--clear-pending-creates")
            self.figures.recovery(f"pulumi refresh --clear-pending-creates (exit {refresh.returncode})")

    def up(self, label: str, kill_after: float | None = None) -> Run:
        run = self.pulumi(label, "up", "--yes", "--skip-preview", kill_after=kill_after)
        if PENDING_PATTERN in run.output:
            self.figures.pending_operations_seen += 1
        return run

    def operator_fixes(self, run: Run) -> bool:
        """The documented manual step: cancel and delete a CAS order when certfleet's message asks the user to
        (OPERATOR_PATTERNS); every order on the campaign's CAS server is the campaign's own."""
        output, done = run.output, set()
        for pattern, why in OPERATOR_PATTERNS:
            for order_id in pattern.findall(output):
                if order_id in done or ("cas", order_id) not in self.servers.inventory():
                    continue
                done.add(order_id)
                self.cas_cancel_and_delete(order_id)
                self.figures.operator_actions.append(
                    f"CAS order {order_id} ({why}) cancelled and deleted, as run {run.number} ({run.log.name}) asks")
        return bool(done)

    def cas_cancel_and_delete(self, order_id: str) -> None:
        from alibabacloud_cas20200407 import models
        from alibabacloud_cas20200407.client import Client
        from alibabacloud_tea_openapi.models import Config
        client = Client(Config(access_key_id=ALIBABA_KEY_ID, access_key_secret=ALIBABA_SECRET,
                               endpoint=self.servers.urls["cas"].removeprefix("http://"), protocol="http"))
        try:
            client.cancel_order_request(models.CancelOrderRequestRequest(order_id=int(order_id)))
        except Exception as err:  # noqa: BLE001 - already cancelled is fine; the delete decides
            self.say(f"cancel of CAS order {order_id}: {err}")
        client.delete_certificate_request(models.DeleteCertificateRequestRequest(order_id=int(order_id)))

    def concurrent_ups(self) -> None:
        """Two `pulumi up` of the same (new, empty) stack at once: the second must fail on the lock and buy
        nothing: afterwards every entry has exactly one object, bought by the first."""
        before = self.servers.inventory()
        first_process, first = self.project.start("concurrent-first", "up", "--yes", "--skip-preview")
        deadline = time.monotonic() + 60
        while not self.project.lock_files() and first_process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        locked = bool(self.project.lock_files())
        second = self.project.run("concurrent-second", "up", "--yes", "--skip-preview")
        first = self.project.finish(first_process, first)
        self.after_run(second, None)
        self.after_run(first, None)
        after = self.servers.inventory()
        output = second.output.lower()
        failed_on_lock = second.returncode != 0 and any(p in output for p in LOCK_PATTERNS)
        entries = self.entry_counts(self.project.export())
        self.figures.concurrent = {
            "first_held_lock_when_second_started": locked,
            "first_exit": first.returncode, "first_seconds": round(first.seconds, 1),
            "second_exit": second.returncode, "second_seconds": round(second.seconds, 1),
            "second_failed_on_lock": failed_on_lock,
            "objects_before": len(before), "objects_after": len(after), "entries": len(entries),
            "per_entry": entries, "bought_by_second": max(0, len(after) - len(before) - len(entries)),
            "second_output_tail": second.output.strip().splitlines()[-3:],
        }
        self.first_up_work_seconds = first.seconds - (first.work_start or 0.0)
        if first.returncode != 0:
            self.say(f"the first of the concurrent ups failed ({first.returncode}); see {first.log}")

    def kill_phase(self) -> None:
        figures, args = self.figures, self.args
        self.servers.faults_on(args.fault_rate, args.list_lag, args.tag_lag_reads)
        self.faults_active = True
        # Kill moments, counted from each run's first resource step, uniform over what the run can take (a
        # quarter more, so that some runs finish first): the time the first up spent on its resources; after
        # a kill, plus the `listingLagSeconds` a create may keep looking for what the killed run bought.
        fresh_window = max(1.0, self.first_up_work_seconds * 1.25)
        after_kill_window = max(1.0, (self.first_up_work_seconds + self.args.listing_lag_seconds) * 1.25)
        figures.kill_window_seconds = round(after_kill_window, 2)
        converged = self.figures.concurrent.get("first_exit") == 0
        interrupted = False
        for k in range(args.kills):
            if converged:  # nothing left to interrupt: destroy, and let the next generation be created
                self.destroy()
                self.generation += 1
                self.new_generation()
                interrupted = False
            delay = round(self.rng.uniform(0.0, after_kill_window if interrupted else fresh_window), 2)
            run = self.up(f"kill{k + 1:02d}", kill_after=delay)
            outcome = "killed" if run.killed else f"finished first (exit {run.returncode})"
            self.say(f"kill {k + 1}/{args.kills}: generation {self.generation}, {delay:.2f}s into the work: {outcome}")
            figures.kills.append({"n": k + 1, "run": run.number, "generation": self.generation, "delay": delay,
                                  "killed": run.killed, "exit": run.returncode})
            if run.killed:
                self.cancel_dead_lock()
                interrupted = True
            elif run.returncode != 0:
                self.operator_fixes(run)
            converged = not run.killed and run.returncode == 0
        figures.faults = self.fault_counters()
        self.servers.faults_off()
        self.faults_active = False

    def destroy(self) -> None:
        for attempt in range(5):
            run = self.pulumi("destroy", "destroy", "--yes", "--skip-preview")
            self.operator_fixes(run)
            if run.returncode == 0:
                self.figures.destroys += 1
                return
            self.figures.destroy_retries += 1
            self.figures.destroy_failures.extend(
                sorted({line.strip()[:300] for line in run.output.splitlines() if "deleting failed" in line}))
        raise RuntimeError(f"pulumi destroy failed 5 times (see {run.log})")

    def converge(self) -> None:
        """Faults off. The recovery a user does after the last kill, then `pulumi up` until it exits 0 and a
        preview shows no changes. Runs to converge = the number of `pulumi up` runs."""
        self.cancel_dead_lock()
        self.clear_pending_creates()
        for attempt in range(1, self.args.max_converge_runs + 1):
            run = self.up(f"converge{attempt}")
            self.figures.runs_to_converge = attempt
            if run.returncode == 0:
                preview = self.pulumi("preview", "preview", "--expect-no-changes")
                if preview.returncode == 0:
                    self.figures.converged = True
                    return
                self.say(f"converge run {attempt}: up exited 0 but the preview shows changes ({preview.log.name})")
            else:
                self.say(f"converge run {attempt}: exit {run.returncode} ({run.log.name})")
                self.operator_fixes(run)

    # --- counting ---

    def attribute(self, obj: dict, in_state: dict[str, str], request_generations: dict[str, int]) -> tuple[str, int | None]:
        """(entry, generation) of an object at a server."""
        if obj["kind"] == "cas":
            return obj["domain"].split(".")[0], generation_of(obj["domain"])
        generation = generation_of(obj["domain"])
        if generation is None and obj["kind"] == "scm":  # bought, not applied for: no name yet
            generation = request_generations.get(obj["tags"].get("certfleet-request", ""))
            if generation is None and obj["id"] in in_state:
                generation = self.generation
        return obj["entry"], generation

    def entry_counts(self, exported: dict) -> dict[str, int]:
        """Objects at the servers per entry of the current config and generation. ACM and SCM objects carry
        their entry in a tag; CAS orders carry nothing but their names and plan (names include the entry)."""
        in_state = self.state_ids(exported)
        objects = list(self.servers.inventory().values())
        request_generations = {o["tags"].get("certfleet-request", ""): generation_of(o["domain"])
                               for o in objects if o["kind"] == "scm" and generation_of(o["domain"]) is not None}
        counts = {f"acm/{n}": 0 for n in self.config["aws"]["certificates"]}
        counts.update({f"cas/{n}": 0 for n in self.config["alicloud"]["orders"]})
        counts.update({f"scm/{n}": 0 for n in self.config["huaweicloud"]["certificates"]})
        cas_names = cas_entry_names(self.config)
        for obj in objects:
            entry, generation = self.attribute(obj, in_state, request_generations)
            key = f"{obj['kind']}/{entry}"
            if key not in counts or generation != self.generation:
                continue
            if obj["kind"] == "cas":
                product, names = cas_names[entry]
                if obj["product_code"] != product or obj["domains"][:1] != list(names[:1]) \
                        or set(obj["domains"]) != set(names):
                    continue
            counts[key] += 1
        return counts

    @staticmethod
    def state_ids(exported: dict) -> dict[str, str]:
        """id -> resource name of every certfleet resource in the exported state."""
        resources = (exported.get("deployment") or {}).get("resources") or []
        return {r["id"]: r["urn"].rpartition("::")[2] for r in resources
                if r.get("id") and r.get("type") in (ACM_TYPE, CAS_TYPE, SCM_TYPE)}

    def count(self) -> None:
        figures = self.figures
        exported = self.project.export()
        in_state = self.state_ids(exported)
        pending = (exported.get("deployment") or {}).get("pending_operations") or []
        figures.pending_operations_left = len(pending)
        figures.per_entry = self.entry_counts(exported)
        objects = self.servers.inventory()
        for entry, n in sorted(figures.per_entry.items()):
            if n != 1:
                figures.duplicates += max(0, n - 1)
                figures.duplicate_details.append(f"{entry} (generation {self.generation}): {n} at the server")
        # Orphans: the servers are the campaign's own, so everything they hold must be in the state.
        for key, obj in sorted(objects.items()):
            if obj["id"] in in_state:
                continue
            figures.orphans += 1
            figures.orphan_details.append(self.explain_orphan(key, obj))
        self.check_keys(exported)
        # Where each object in the state came from (for reading orphans and duplicates against).
        for key, obj in sorted(objects.items()):
            if obj["id"] in in_state:
                first = self.known.get(key, {}).get("first_seen_run")
                figures.state_origins.append(f"{obj['kind']}/{in_state[obj['id']]} {obj['id']}: first seen after "
                                             f"{self.describe_run(first)}")
        self.scan_plaintext()

    def check_keys(self, exported: dict) -> None:
        """Entries whose key certfleet generates (`csr: generate`): the order at the server must be for the CSR
        the state holds, and the state must hold the (encrypted) key. Otherwise the key died with a killed
        run and the paid order can never be used."""
        held = self.servers.requests_held()
        generated = {("cas", n) for n, o in self.config["alicloud"]["orders"].items() if o.get("csr") == "generate"}
        generated |= {("scm", n) for n, c in self.config["huaweicloud"]["certificates"].items()
                      if c.get("csr") == "generate"}
        for resource in (exported.get("deployment") or {}).get("resources") or []:
            kind = {CAS_TYPE: "cas", SCM_TYPE: "scm"}.get(resource.get("type"))
            name = resource["urn"].rpartition("::")[2]
            if (kind, name) not in generated or not resource.get("id"):
                continue
            outputs = resource.get("outputs") or {}
            csr = (outputs.get("csr") if kind == "cas" else outputs.get("csr_pem")) or ""
            key = outputs.get("private_key") if kind == "cas" else outputs.get("private_key_pem")
            at_server = held.get((kind, str(resource["id"])), "")
            comparable = isinstance(csr, str)  # a secret CSR (ciphertext) cannot be compared here
            if not key or (comparable and csr.strip() != at_server):
                self.figures.lost_keys += 1
                self.figures.lost_key_details.append(
                    f"{kind}/{name} {resource['id']}: the server holds {'a different CSR' if at_server else 'no CSR'}"
                    f" than the state, or the state has no key (key in state: {bool(key)}): its generated key "
                    f"is lost and the paid {'order' if kind == 'cas' else 'certificate'} cannot be used")

    def explain_orphan(self, key: tuple[str, str], obj: dict) -> str:
        """Which run bought it, what hit that run, and which later run bought the entry again."""
        entry = obj["entry"] if obj["kind"] != "cas" else obj["domain"].split(".")[0]
        generation = generation_of(obj["domain"])
        first = self.known.get(key, {}).get("first_seen_run")
        text = (f"{obj['kind']}/{entry} {obj['id']} ({obj['domain'] or 'no name yet'}, generation "
                f"{generation if generation is not None else '?'}, {obj['status']}): created in "
                f"{self.describe_run(first)}")
        again = sorted((known["first_seen_run"], known["id"]) for other, known in self.known.items()
                       if other != key and other[0] == key[0] and known["first_seen_run"] > (first or 0)
                       and (known.get("entry") if key[0] != "cas" else known["domain"].split(".")[0]) == entry
                       and generation_of(known.get("domain", "")) in (generation, None))
        if again:
            number, other_id = again[0]
            note = self.run_notes.get(first or -1, {})
            why = ("it was killed before the engine recorded the create, so the state never learnt of it"
                   if note.get("killed") else "it did not record it in the state")
            text += (f"; {why}, and {self.describe_run(number)} created {other_id} for the same entry instead of "
                     f"finding it (look-before-you-buy missed it: new objects stay out of the listings for a "
                     f"while, see the lag settings)")
        for run in self.project.runs:  # what a destroy said about it, if anything
            if run.label == "destroy":
                said = [line.strip() for line in run.output.splitlines() if obj["id"] in line]
                if said:
                    text += f"; run {run.number} destroy said: {said[0][:300]}"
                    break
        return text

    def scan_plaintext(self) -> None:
        """Private keys in plain text and the test credentials, in the state backend, the captured pulumi
        output and the server logs."""
        needles = {"private key": PRIVATE_KEY_NEEDLE, **SECRETS}
        places = [("state", p) for p in self.project.state_dir.rglob("*") if p.is_file()]
        places += [("pulumi output", p) for p in (self.base / "logs").glob("[0-9]*.log")]
        places += [("server log", p) for p in (self.base / "logs").glob("server-*.log")]
        places += [("pulumi log", p) for p in (self.base / "pulumi-home").rglob("*.log")] \
            if (self.base / "pulumi-home").exists() else []
        for where, path in places:
            text = path.read_text(errors="replace")
            for what, needle in needles.items():
                hits = text.count(needle)
                if hits:
                    self.figures.plaintext += hits
                    self.figures.plaintext_details.append(f"{what} x{hits} in {where} {path.relative_to(self.base)}")

    # --- all of it ---

    def run(self) -> Figures:
        started = time.monotonic()
        self.setup()
        self.say(f"seed {self.args.seed}; servers {self.servers.urls}; work dir {self.base}")
        self.concurrent_ups()
        c = self.figures.concurrent
        self.say(f"concurrent ups: first exit {c['first_exit']} ({c['first_seconds']}s), second exit "
                 f"{c['second_exit']} (failed on the lock: {c['second_failed_on_lock']})")
        self.kill_phase()
        self.converge()
        self.count()
        self.figures.seconds = round(time.monotonic() - started, 1)
        return self.figures


def violations(figures: Figures, max_runs: int) -> list[str]:
    found = []
    if figures.duplicates:
        found.append(f"duplicates {figures.duplicates} (bound 0)")
    if figures.orphans:
        found.append(f"orphans {figures.orphans} (bound 0)")
    missing = sorted(entry for entry, n in figures.per_entry.items() if n < 1)
    if missing:
        found.append(f"nothing at the server for {', '.join(missing)} (bound: exactly 1 per entry)")
    if not figures.converged:
        found.append(f"did not converge within {figures.runs_to_converge} runs")
    elif figures.runs_to_converge is None or figures.runs_to_converge > max_runs:
        found.append(f"runs to converge {figures.runs_to_converge} (bound {max_runs})")
    if figures.pending_operations_left:
        found.append(f"{figures.pending_operations_left} pending operations left in the state (bound 0)")
    if figures.plaintext:
        found.append(f"plaintext {figures.plaintext} (bound 0)")
    if figures.lost_keys:
        found.append(f"lost keys {figures.lost_keys} (bound 0): paid objects whose generated key is gone")
    c = figures.concurrent
    if not c.get("second_failed_on_lock"):
        found.append("the concurrent second up did not fail on the lock")
    if c.get("bought_by_second") or any(n != 1 for n in (c.get("per_entry") or {}).values()):
        found.append(f"the concurrent ups left {c.get('per_entry')} (bound: exactly 1 per entry)")
    return found


def report(figures: Figures, found: list[str]) -> str:
    killed = sum(1 for k in figures.kills if k["killed"])
    c = figures.concurrent
    faults = "; ".join(f"{server} " + ", ".join(f"{kind} {n}" for kind, n in sorted(counts.items()))
                       for server, counts in figures.faults.items())
    lines = [
        f"campaign seed {figures.seed}{' (--short)' if figures.short else ''}: {len(figures.kills)} kills of "
        f"`pulumi up` ({killed} during the run, {len(figures.kills) - killed} after it had finished), "
        f"{figures.destroys} destroys between generations ({figures.destroy_retries} failed under faults and were "
        f"run again), {figures.seconds:g}s",
        f"faults at rate {figures.fault_rate:g} in the kill phase: {faults or 'none'}; listings lag: CAS order list "
        f"and AWS tag index {figures.settings.get('list_lag_seconds'):g}s, SCM tag index "
        f"{figures.settings.get('scm_tag_lag_reads')} searches (listingLagSeconds "
        f"{figures.settings.get('listingLagSeconds')}); kills up to {figures.kill_window_seconds:g}s into a run",
        f"concurrent up: the second exited {c.get('second_exit')}, failed on the lock: "
        f"{c.get('second_failed_on_lock')}; objects before {c.get('objects_before')}, after {c.get('objects_after')} "
        f"for {c.get('entries')} entries (bought by the second: {c.get('bought_by_second')})",
        "recovery: " + (", ".join(f"{k} x{v}" for k, v in sorted(figures.recoveries.items())) or "none")
        + f"; pending operations cleared: {figures.pending_operations_cleared}, left: {figures.pending_operations_left}",
        f"operator actions: {len(figures.operator_actions)}" + "".join(f"\n  {a}" for a in figures.operator_actions),
        f"runs to converge: {figures.runs_to_converge} (bound 3; converged: {figures.converged})",
        "per entry at the servers: " + ", ".join(f"{k} {v}" for k, v in sorted(figures.per_entry.items())),
        f"plaintext: {figures.plaintext}" + "".join(f"\n  {d}" for d in figures.plaintext_details),
        f"lost keys (csr: generate entries whose order is not for the key in state): {figures.lost_keys}"
        + "".join(f"\n  {d}" for d in figures.lost_key_details),
    ]
    if figures.duplicates or figures.orphans:
        lines += [f"duplicate: {d}" for d in figures.duplicate_details]
        lines += [f"orphan: {d}" for d in figures.orphan_details]
        lines += [f"in state: {d}" for d in figures.state_origins]
    lines += [f"note: {n}" for n in figures.notes]
    lines += [f"VIOLATION: {v}" for v in found]
    lines.append(f"duplicates {figures.duplicates}, orphans {figures.orphans}")
    return "\n".join(lines)


def pulumi_bin_dir(explicit: str | None) -> str:
    if explicit:
        return explicit
    if os.environ.get("CERTFLEET_PULUMI_BIN"):
        return os.environ["CERTFLEET_PULUMI_BIN"]
    result = subprocess.run(["bash", str(ROOT / "scripts" / "setup.sh")], check=True, capture_output=True, text=True)
    return result.stdout.strip().splitlines()[-1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=None, help="kills of `pulumi up` (default 20; --short: 4)")
    parser.add_argument("--fault-rate", type=float, default=0.2, help="share of cloud calls hit by a fault")
    parser.add_argument("--seed", type=int, default=None, help="seed of the kill moments (default: random, printed)")
    parser.add_argument("--short", action="store_true", help="CI size: 4 kills, two entries per cloud")
    parser.add_argument("--json", type=Path, default=None, help="write the figures as JSON to this file")
    parser.add_argument("--keep", type=Path, default=None,
                        help="work in this (new) directory and keep it: project, state, logs")
    parser.add_argument("--ref", default=None,
                        help="run the project as committed at this git ref (e.g. HEAD) instead of the work tree")
    parser.add_argument("--pulumi-bin", default=None, help="directory of the pulumi CLI (default: scripts/setup.sh)")
    parser.add_argument("--list-lag", type=float, default=None,
                        help="seconds a new CAS order / ACM certificate is missing from the CAS order list / AWS "
                             "tag index in the kill phase (default 10; --short: 5)")
    parser.add_argument("--tag-lag-reads", type=int, default=2,
                        help="SCM tag searches a new certificate is missing from in the kill phase")
    parser.add_argument("--max-converge-runs", type=int, default=6, help="give up converging after this many ups")
    args = parser.parse_args(argv)
    if args.kills is None:
        args.kills = 4 if args.short else 20
    if args.list_lag is None:
        args.list_lag = 5.0 if args.short else 10.0
    # The stacks's `listingLagSeconds` (CAS and SCM): twice the injected lag.
    args.listing_lag_seconds = max(1, round(2 * args.list_lag))
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(1, 10 ** 6)
    if not 0 <= args.fault_rate <= 1:
        parser.error("--fault-rate must be in [0, 1]")
    print(f"campaign seed {args.seed} (rerun with --seed {args.seed})", flush=True)
    for name in [k for k in os.environ if k.lower() in ("http_proxy", "https_proxy", "all_proxy")]:
        del os.environ[name]  # the campaign's own SDK calls go to loopback (the Alibaba SDK ignores NO_PROXY)

    pulumi_bin = pulumi_bin_dir(args.pulumi_bin)
    if args.keep:
        args.keep.mkdir(parents=True)
        base = args.keep.resolve()
    else:
        base = Path(tempfile.mkdtemp(prefix="certfleet-campaign-"))

    def interrupted(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    # Also SIGINT: a shell starts background jobs with it ignored, and Ctrl-C must still clean up.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, interrupted)
    campaign = Campaign(args, base, pulumi_bin)
    figures: Figures | None = None
    code = 2
    try:
        figures = campaign.run()
        found = violations(figures, 3)
        print(report(figures, found), flush=True)
        code = 1 if found else 0
        if args.json:
            args.json.write_text(json.dumps({
                **{k: v for k, v in figures.__dict__.items()}, "violations": found, "ok": not found,
                "campaign_id": campaign.campaign_id, "work_dir": str(base) if args.keep else None},
                indent=2, default=str))
    except KeyboardInterrupt:
        print("[campaign] interrupted: stopping every process it started", file=sys.stderr)
        code = 130
    except Exception as err:  # noqa: BLE001 - report, clean up, exit 2
        print(f"[campaign] could not complete: {err}", file=sys.stderr)
        if args.json:
            args.json.write_text(json.dumps({"ok": False, "error": str(err), "seed": args.seed}, indent=2))
        if not args.keep:
            print(f"[campaign] logs kept in {base}", file=sys.stderr)
            args.keep = base  # keep the evidence
        code = 2
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)  # cleaning up: a second Ctrl-C must not cut it short
        for run in (campaign.project.runs if campaign.project else []):
            kill_marked(run.marker, settle_seconds=0.3)
        campaign.servers.stop()
        # Anything else the campaign started (it all carries the campaign's marker).
        left = kill_marked(f"{MARKER}={campaign.campaign_id}", settle_seconds=5, polite=True)
        if left:
            print(f"[campaign] stopped {left} leftover processes", file=sys.stderr)
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
