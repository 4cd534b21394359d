"""The stack under test: the campaign's config (one generation of it: the same entries under new DNS names),
and a throwaway copy of the certfleet project with its own file backend, driven by the real `pulumi` CLI
one run at a time (each run's output in its own log, its process tree killable by its marker)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from scripts.campaign.processes import MARKER, ROOT, RUN_MARKER, clean_environ, kill_marked
from scripts.campaign.servers import HUAWEI_PROJECT_ID, Servers

PROJECT_FILES = ("Pulumi.yaml", "__main__.py", "requirements.txt", "components")
PROJECT, STACK = "certfleet", "campaign"
PASSPHRASE = "campaign-passphrase-Gm4Ns6Yv"  # the state's; distinctive, so the plaintext scan can look for it
UP_TIMEOUT_SECONDS = 900
KILL_WHEN_POLL_SECONDS = 0.05
# The line the CLI prints when it starts a step on a certfleet resource: the run's work has begun.
WORK_STEP = re.compile(rb"pulumi-python:dynamic/\S+ \S+ (creating|updating|deleting|replacing|refreshing)")

# --- the config -----------------------------------------------------------------------------------------

APPLICANT = {"name": "Campaign.Tester", "phone": "13800000000", "email": "pki@campaign.example.cn"}
COMPANY = {"name": "Campaign Ltd", "province": "Beijing", "city": "Beijing", "country": "CN"}
GENERATION_LABEL = re.compile(r"^g(\d+)$")


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
        # CreateCertificateForPackageRequest with the user's own CSR (two names: CAS may list the CN only)
        "own": {"productCode": "geotrust-dv-1-starter",
                "csr": {"pem": _csr_for([f"own.{g}.campaign.example.cn", f"www.own.{g}.campaign.example.cn"])}},
        # CreateCertificateForPackageRequest without a CSR, two names: CAS makes the key
        "docs": {"productCode": "digicert-free-1-free",
                 "domains": [f"docs.{g}.campaign.example.cn", f"www.docs.{g}.campaign.example.cn"]},
    }
    scm = {
        # SCM makes the key
        "portal": {"brand": "GEOTRUST", "type": "DV_SSL_CERT", "domainType": "SINGLE_DOMAIN",
                   "domains": [f"portal.{g}.campaign.example.cn"], "applicant": APPLICANT},
        # certfleet generates the key and CSR (a secret)
        "api": {"brand": "GLOBALSIGN", "type": "OV_SSL_CERT", "domainType": "MULTI_DOMAIN",
                "domains": [f"api.{g}.campaign.example.cn", f"www.api.{g}.campaign.example.cn"], "csr": "generate",
                "applicant": APPLICANT, "company": COMPANY},
        # bought through the older API's v2 purchase (seed 003): no tags with the order (docs/scm-v2.md)
        "legacy": {"api": "v2", "brand": "GLOBALSIGN", "type": "EV_SSL_CERT", "domainType": "MULTI_DOMAIN",
                   "domains": [f"legacy.{g}.campaign.example.cn", f"www.legacy.{g}.campaign.example.cn"],
                   "applicant": APPLICANT, "company": COMPANY},
        # the user's own CSR
        "shop": {"brand": "GEOTRUST", "type": "DV_SSL_CERT", "domainType": "SINGLE_DOMAIN",
                 "domains": [f"shop.{g}.campaign.example.cn"], "csr": _csr_for([f"shop.{g}.campaign.example.cn"]),
                 "applicant": APPLICANT},
    }
    if short:  # CI: two of each (SCM: and the v2 purchase), still one of every kind of key a crash can lose
        acm.pop("blog")
        cas.pop("own")
        scm.pop("shop")
    return {
        "aws": {"region": "us-east-1", "tags": {"team": "campaign"}, "certificates": acm},
        "alicloud": {"contact": {"name": "Tom Zhang", "email": "pki@campaign.example.cn", "phone": "13000000000"},
                     "listingLagSeconds": listing_lag_seconds, "orders": cas},
        "huaweicloud": {"region": "cn-north-4", "tags": {"team": "campaign"}, "projectId": HUAWEI_PROJECT_ID,
                        "listingLagSeconds": listing_lag_seconds, "certificates": scm},
    }


def v2_only_config(generation: int, listing_lag_seconds: int) -> dict[str, Any]:
    """The config of a v2 step kill (scripts/campaign/v2_steps.py): the v2 SCM entry alone, so that every SCM
    call the kill waits for is that entry's."""
    full = stack_config(generation, True, listing_lag_seconds)
    full["aws"]["certificates"], full["alicloud"]["orders"] = {}, {}
    full["huaweicloud"]["certificates"] = {"legacy": full["huaweicloud"]["certificates"]["legacy"]}
    return full


def generation_of(domain: str) -> int | None:
    """The generation a campaign DNS name belongs to (`web.g3.campaign.example.com` -> 3)."""
    for label in (domain or "").split(",")[0].split("."):
        match = GENERATION_LABEL.match(label)
        if match:
            return int(match.group(1))
    return None


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


# --- the project and its pulumi runs --------------------------------------------------------------------

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

    def why_failed(self, limit: int = 3, width: int = 400) -> str:
        """The run's first error lines, for the campaign's own output: a CI log keeps that, not the run's log."""
        lines = [line.strip() for line in self.output.splitlines() if "error" in line.lower()]
        return " | ".join(line[:width] for line in lines[:limit]) or "no error line"


def lock_holders(locks: list[Path]) -> str:
    """Each lock file's name, the pid it names and that process's command line if it lives, for a message
    (the DIY backend writes {"pid", "username", "hostname", "timestamp"} in a stack's lock)."""
    held = []
    for lock in locks:
        try:
            pid = int(json.loads(lock.read_text())["pid"])
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            held.append(f"{lock.name} (pid {pid}, alive: {command.strip()[:200]})")
        except (OSError, ValueError, KeyError, TypeError) as err:
            held.append(f"{lock.name} ({type(err).__name__}: {err})")
    return "; ".join(held) or "nobody"


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
            **clean_environ(), **servers.pulumi_env(),
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
               timeout: float = UP_TIMEOUT_SECONDS, kill_when: Callable[[], bool] | None = None) -> Run:
        """Wait for the run; with `kill_after`, SIGKILL its whole process tree that many seconds after its
        first resource step (the CLI prints a line per step as it starts) unless it has finished by then;
        with `kill_when`, as soon as it says so (asked every KILL_WHEN_POLL_SECONDS)."""
        kill_at = None
        read = 0
        asked = 0.0
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
                if kill_when is not None and now - asked >= KILL_WHEN_POLL_SECONDS:
                    asked = now
                    if kill_when():
                        kill_at = now
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

    def run(self, label: str, *args: str, kill_after: float | None = None, stack: bool = True,
            kill_when: Callable[[], bool] | None = None) -> Run:
        process, run = self.start(label, *args, stack=stack)
        return self.finish(process, run, kill_after, kill_when=kill_when)

    def export(self) -> dict[str, Any]:
        run = self.run("export", "stack", "export", "--show-secrets=false")
        text = run.output
        start = text.index("{")
        end = text.rindex("}") + 1
        return json.loads(text[start:end])

    def lock_holders(self) -> str:
        return lock_holders(self.lock_files())

    def empty_sidecars(self) -> list[Path]:
        """Empty `.attrs` sidecars of the file backend's blobs: a run killed between writing a checkpoint's sidecar
        and renaming the checkpoint into place leaves one, and every command then fails "failed to load
        checkpoint: EOF" (docs/pipelines.md, "Stale locks after a crash")."""
        return [p for p in (self.state_dir / ".pulumi").rglob("*.attrs") if p.stat().st_size == 0]

    def lock_files(self) -> list[Path]:
        return [p for p in (self.state_dir / ".pulumi" / "locks").rglob("*.json")] \
            if (self.state_dir / ".pulumi" / "locks").exists() else []
