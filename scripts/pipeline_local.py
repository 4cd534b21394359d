"""The pipeline end to end against the local servers, with the stack's state on S3 (docs/pipelines.md).

    scripts/pipeline_local.sh [--keep] [--result FILE]     (sets up .venv and the CLI, then runs this)

What a CI runner with a shared S3 backend does, here on loopback and in a fresh temp dir:
1. copies the project as a checkout would be (no .local, no state) and starts the AWS emulator (moto, which
   also serves S3), the CAS and the SCM emulator on free ports;
2. creates the state bucket (versioned, as docs/pipelines.md asks for real S3) and logs in as a user would:
   `pulumi login 's3://certfleet-state?endpoint=127.0.0.1:PORT&disableSSL=true&s3ForcePathStyle=true&...'`,
   secrets under a passphrase;
3. `scripts/pipeline.sh all --stack pipeline`: preview -> summary -> policy check -> up -> drift check;
4. after a config change that buys one ACM and one SCM certificate, an `up`, and once its lock object is in the
   bucket a second `up`: the first proceeds, the second is refused by the S3 lock (exit 75) and buys nothing,
   counted at the servers. Not exercised: two updates starting at the same instant (docs/pipelines.md,
   "The lock", says what this does and does not prove).
Exit 0 only when all of that held; the servers and the temp dir go at the end (--keep keeps the dir).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from scripts.campaign.processes import http_json, wait_until_healthy
from scripts.campaign.servers import Servers

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
COPIED = ("Pulumi.yaml", "__main__.py", "requirements.txt", "requirements-dev.txt", "components", "scripts",
          "policy", "schema")
STACK = "pipeline"
BUCKET = "certfleet-state"
PASSPHRASE = "certfleet-pipeline-local"    # local demo only; real pipelines take it from a CI secret
EXIT_LOCKED = 75
LOCK_PREFIX = ".pulumi/locks/"

# Fake credentials for these servers only.
AWS_KEY, AWS_SECRET = "PIPELINELOCALAWSKEY01", "pipeline-local-aws-secret"
ALIBABA_KEY_ID, ALIBABA_SECRET = "LTAI5tPIPELINELOCAL01", "pipeline-local-alibaba-secret"
HUAWEI_AK, HUAWEI_SK, HUAWEI_DOMAIN_ID = "PIPELINELOCALHUAWEI1", "pipeline-local-huawei-secret", "pipelinedomain01"

APPLICANT = {"name": "Zhang.San", "phone": "13800000000", "email": "ops@example.com"}
SCM_DV = {"brand": "GEOTRUST", "type": "DV_SSL_CERT", "domainType": "SINGLE_DOMAIN", "applicant": APPLICANT}
# The stack the pipeline deploys: one ACM certificate (issued within the update: the emulator validates in
# 2 s), one free CAS order and one paid SCM certificate (both stay pending until their DNS challenge is
# published, which a drift check must see as no change).
STACK_CONFIG = {
    "certfleet:aws": {"region": "us-east-1", "issuedTimeoutSeconds": 60,
                      "certificates": {"shop": {"domain": "shop.example.com", "sans": ["www.shop.example.com"]}}},
    "certfleet:alicloud": {"contact": {"name": "Tom Zhang", "email": "tom.zhang@example.com", "phone": "13000000000"},
                           "orders": {"blog": {"productCode": "digicert-free-1-free", "domains": ["blog.example.cn"]}}},
    "certfleet:huaweicloud": {"certificates": {"portal": {**SCM_DV, "domains": ["portal.example.cn"]}}},
}
ACM_VALIDATION_WAIT = "2"


def log(message: str) -> None:
    print(f"[pipeline-local] {message}", flush=True)


class LocalPipeline:
    """A temp checkout, the three local servers and an S3 bucket on the AWS emulator; stop() ends them all."""

    def __init__(self, workdir: Path | None = None):
        self.base = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="certfleet-pipeline-"))
        self.checkout = self.base / "checkout"
        self.logs = self.base / "logs"
        self.servers: dict[str, subprocess.Popen] = {}
        self.urls: dict[str, str] = {}
        self.env: dict[str, str] = {}

    # --- setting up ---

    def start(self) -> None:
        self.copy_project()
        self.logs.mkdir(parents=True, exist_ok=True)
        self._server("aws", [PYTHON, "-m", "emulators.aws", "--port", "0", "--quiet", "--deploy-seconds", "1",
                             "--acm-validation-wait", ACM_VALIDATION_WAIT], {}, "/moto-api/")
        self._server("cas", [PYTHON, "-m", "emulators.cas", "--port", "0", "--quiet"],
                     {"EMU_CAS_ACCESS_KEY_ID": ALIBABA_KEY_ID, "EMU_CAS_ACCESS_KEY_SECRET": ALIBABA_SECRET},
                     "/_emulator/health")
        self._server("scm", [PYTHON, "-m", "emulators.scm", "--port", "0", "--quiet", "--domain-id", HUAWEI_DOMAIN_ID],
                     {"EMU_SCM_AK": HUAWEI_AK, "EMU_SCM_SK": HUAWEI_SK}, "/_emulator/health")
        self.env = self.pulumi_env()
        self.create_bucket()
        log(f"servers: {', '.join(f'{k} {v}' for k, v in self.urls.items())}; state bucket s3://{BUCKET} (versioned)")
        self.pulumi("login", self.backend_url())
        self.write_config(STACK_CONFIG)

    def copy_project(self) -> None:
        self.checkout.mkdir(parents=True)
        for name in COPIED:
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(source, self.checkout / name,
                                ignore=shutil.ignore_patterns("__pycache__", ".local", "venv"))
            elif source.exists():
                shutil.copy2(source, self.checkout / name)
        (self.checkout / "stacks").mkdir()
        # The policy pack's settings for this demo stack: its own file when the repo has one, else the local
        # stack's (a team adds policy/config/<stack>.json for each stack; docs/policy.md).
        config_dir = self.checkout / "policy" / "config"
        if (config_dir / "local.json").exists() and not (config_dir / f"{STACK}.json").exists():
            shutil.copy2(config_dir / "local.json", config_dir / f"{STACK}.json")
            log(f"policy/config/{STACK}.json: none in the repo; the demo checkout uses policy/config/local.json's")
        (self.checkout / ".venv").symlink_to(ROOT / ".venv")

    def _server(self, name: str, argv: list[str], env: dict[str, str], health: str) -> None:
        stderr = open(self.logs / f"{name}.log", "ab")
        process = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=stderr, start_new_session=True,
                                   env={**clean_environ(), **env})
        self.servers[name] = process
        url = process.stdout.readline().decode().strip()  # every emulator prints its URL first
        process.stdout.close()
        if not url.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"the {name} server did not start; see {self.logs / (name + '.log')}")
        try:
            wait_until_healthy(url + health, process, seconds=30)
        except RuntimeError as err:
            raise RuntimeError(f"the {name} server is not healthy ({err}); see {self.logs / (name + '.log')}") from None
        self.urls[name] = url

    def pulumi_env(self) -> dict[str, str]:
        bin_dir = os.environ.get("CERTFLEET_PULUMI_BIN", "")
        return {
            **clean_environ(),
            "PATH": os.pathsep.join(p for p in (bin_dir, str(ROOT / ".venv" / "bin"), os.environ["PATH"]) if p),
            "HOME": str(self.base),  # the Huawei SDK writes ~/.huaweicloud
            "PULUMI_HOME": str(self.base / "pulumi-home"),
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "CERTFLEET_PIPELINE_OUT": str(self.base / "pipeline-out"),
            "AWS_ENDPOINT_URL": self.urls["aws"], "AWS_ACCESS_KEY_ID": AWS_KEY, "AWS_SECRET_ACCESS_KEY": AWS_SECRET,
            "AWS_DEFAULT_REGION": "us-east-1",
            "CERTFLEET_EDGE_ENDPOINT": http_json("GET", self.urls["aws"] + "/_certfleet/cloudfront/edge")["endpoint"],
            "CERTFLEET_ALICLOUD_CAS_ENDPOINT": self.urls["cas"].removeprefix("http://"),
            "CERTFLEET_ALICLOUD_CAS_PROTOCOL": "http",
            "ALIBABA_CLOUD_ACCESS_KEY_ID": ALIBABA_KEY_ID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": ALIBABA_SECRET,
            "CERTFLEET_HUAWEICLOUD_SCM_ENDPOINT": self.urls["scm"], "HUAWEICLOUD_SDK_AK": HUAWEI_AK,
            "HUAWEICLOUD_SDK_SK": HUAWEI_SK, "HUAWEICLOUD_SDK_DOMAIN_ID": HUAWEI_DOMAIN_ID,
        }

    def backend_url(self) -> str:
        # As a user writes it for any S3-compatible store (docs/pipelines.md): host:port endpoint, plain HTTP,
        # path-style addressing. The checksum parameter quiets the SDK's warning about moto's responses.
        host = self.urls["aws"].removeprefix("http://")
        return (f"s3://{BUCKET}?endpoint={host}&disableSSL=true&s3ForcePathStyle=true&region=us-east-1"
                f"&response_checksum_validation=when_required")

    def s3(self):
        import boto3
        return boto3.client("s3", endpoint_url=self.urls["aws"], region_name="us-east-1",
                            aws_access_key_id=AWS_KEY, aws_secret_access_key=AWS_SECRET)

    def create_bucket(self) -> None:
        s3 = self.s3()
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})

    def write_config(self, config: dict) -> None:
        """stacks/Pulumi.pipeline.yaml's config, keeping what Pulumi added (the passphrase salt)."""
        path = self.checkout / "stacks" / f"Pulumi.{STACK}.yaml"
        existing = (yaml.safe_load(path.read_text()) if path.exists() else None) or {}
        existing["config"] = config
        path.write_text(yaml.safe_dump(existing, sort_keys=True))

    # --- running ---

    def pulumi(self, *args: str) -> subprocess.CompletedProcess:
        result = subprocess.run(["pulumi", *args, "--non-interactive"], cwd=self.checkout, env=self.env,
                                capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"pulumi {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        print(result.stdout.strip(), flush=True)
        return result

    def pipeline(self, step: str, extra_env: dict[str, str] | None = None, output=None) -> subprocess.Popen:
        return subprocess.Popen(["bash", "scripts/pipeline.sh", step, "--stack", STACK], cwd=self.checkout,
                                env={**self.env, **(extra_env or {})}, stdout=output or sys.stdout,
                                stderr=subprocess.STDOUT, text=True)

    def run_pipeline(self, step: str, extra_env: dict[str, str] | None = None) -> tuple[int, str]:
        """Runs one step; its output goes to this process's stdout and is returned."""
        path = self.base / f"{step}-{time.monotonic_ns()}.log"
        started = time.monotonic()
        with open(path, "w") as output:
            code = self.pipeline(step, extra_env, output).wait(timeout=300)
        text = path.read_text()
        print(text, end="", flush=True)
        log(f"scripts/pipeline.sh {step}: exit {code} after {time.monotonic() - started:.1f} s")
        return code, text

    def held(self) -> dict[str, int]:
        """What the servers hold: ACM certificates, CAS orders, SCM certificates (asked directly)."""
        import boto3

        from components.aws.acm import ALL_KEY_TYPES  # loads Pulumi: only when asked
        acm = boto3.client("acm", endpoint_url=self.urls["aws"], region_name="us-east-1",
                           aws_access_key_id=AWS_KEY, aws_secret_access_key=AWS_SECRET)
        certificates = acm.list_certificates(Includes={"keyTypes": ALL_KEY_TYPES})["CertificateSummaryList"]
        return {"acm_certificates": len(certificates),
                "cas_orders": len(http_json("GET", self.urls["cas"] + "/_emulator/state")["orders"]),
                "scm_certificates": len(http_json("GET", self.urls["scm"] + "/_emulator/scm/certificates")["certificates"])}

    def locks(self) -> list[str]:
        listed = self.s3().list_objects_v2(Bucket=BUCKET, Prefix=LOCK_PREFIX)
        return [o["Key"] for o in listed.get("Contents", [])]

    def concurrent_up(self) -> dict:
        """Two `up` of one stack after a change that buys 1 ACM + 1 SCM certificate, the second started once the
        first holds the lock: the first proceeds, the second is refused by the lock and buys nothing. Returns
        what happened, counted at the servers. (Not a same-instant race: see docs/pipelines.md, "The lock".)"""
        before = self.held()
        self.write_config(config_buying_docs())
        # The first up holds the lock for its whole run; SCM taking a few polls to show the new order as PAID
        # keeps that run going for ~10 s after its purchase, so the second up meets the lock even on a
        # loaded machine (where starting a CLI takes seconds).
        http_json("POST", self.urls["scm"] + "/_emulator/scm/settings", {"order_processing_reads": 5})
        first_log = open(self.base / "up-first.log", "w")
        first = self.pipeline("up", output=first_log)
        deadline = time.monotonic() + 60
        while not self.locks():
            if first.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the first up never held the stack's lock:\n" + (self.base / "up-first.log").read_text())
            time.sleep(0.05)
        lock = self.locks()[0]
        log(f"the first up holds the lock s3://{BUCKET}/{lock}; starting a second up of the same stack")
        started = time.monotonic()
        second_code, second_text = self.run_pipeline("up")
        second_seconds = round(time.monotonic() - started, 1)
        first_code = first.wait(timeout=300)
        first_log.close()
        http_json("POST", self.urls["scm"] + "/_emulator/scm/settings", {"order_processing_reads": 0})
        log(f"the first up exited {first_code}; its output:")
        print((self.base / "up-first.log").read_text(), end="", flush=True)
        after = self.held()
        return {"before": before, "after": after, "first_exit": first_code, "second_exit": second_code,
                "second_seconds": second_seconds, "second_output": second_text, "lock_object": lock,
                "locks_left": self.locks()}

    def stop(self, keep: bool = False) -> None:
        # The campaign's stop: SIGTERM to each server's process group, SIGKILL what is left after 10 s.
        Servers(campaign_id="pipeline-local", logs=self.logs, seed=0, processes=self.servers).stop()
        if not keep:
            shutil.rmtree(self.base, ignore_errors=True)


def config_buying_docs() -> dict:
    """STACK_CONFIG plus one ACM and one paid SCM certificate for docs.: what the concurrent updates apply."""
    config = json.loads(json.dumps(STACK_CONFIG))
    config["certfleet:aws"]["certificates"]["docs"] = {"domain": "docs.example.com"}
    config["certfleet:huaweicloud"]["certificates"]["docs"] = {**SCM_DV, "domains": ["docs.example.cn"]}
    return config


def clean_environ() -> dict[str, str]:
    """This environment without cloud credentials or Pulumi settings of the user's own."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("AWS_", "PULUMI_", "ALIBABA_CLOUD_", "HUAWEICLOUD_", "CERTFLEET_", "GITHUB_"))}


def check_concurrent_up(outcome: dict) -> list[str]:
    """What must hold after concurrent_up(); the problems found (empty = all held)."""
    before, after = outcome["before"], outcome["after"]
    problems = []
    if outcome["first_exit"] != 0:
        problems.append(f"the first up exited {outcome['first_exit']}")
    if outcome["second_exit"] != EXIT_LOCKED or "the stack is currently locked" not in outcome["second_output"]:
        problems.append(f"the second up was not refused by the lock (exit {outcome['second_exit']})")
    expected = {**before, "acm_certificates": before["acm_certificates"] + 1,
                "scm_certificates": before["scm_certificates"] + 1}
    if after != expected:
        problems.append(f"the servers hold {after}, expected {expected} (one purchase each, by the first up only)")
    if outcome["locks_left"]:
        problems.append(f"locks left behind: {outcome['locks_left']}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (checkout, logs, step files)")
    parser.add_argument("--result", help="write what happened as JSON to this file")
    args = parser.parse_args(argv)
    run = LocalPipeline()
    result: dict = {"workdir": str(run.base)}
    try:
        run.start()
        log(f"checkout {run.checkout}; running scripts/pipeline.sh all --stack {STACK}")
        result["all_exit"], _ = run.run_pipeline("all")
        if result["all_exit"] != 0:
            log(f"FAILED: scripts/pipeline.sh all exited {result['all_exit']}")
            return 1
        log("two concurrent `up` of the stack after a change that buys 1 ACM and 1 SCM certificate:")
        outcome = run.concurrent_up()
        result["concurrent_up"] = {k: v for k, v in outcome.items() if k != "second_output"}
        problems = check_concurrent_up(outcome)
        log(f"servers before {outcome['before']}, after {outcome['after']}; the second up was refused in "
            f"{outcome['second_seconds']} s with exit {outcome['second_exit']}")
        if problems:
            log("FAILED: " + "; ".join(problems))
            return 1
        log("OK: preview -> summary -> policy check -> up on S3 -> drift check clean; a concurrent up was "
            "refused by the lock and bought nothing")
        return 0
    finally:
        if args.result:
            Path(args.result).write_text(json.dumps(result, indent=2, sort_keys=True))
        run.stop(keep=args.keep)
        if args.keep:
            log(f"kept {run.base}")


if __name__ == "__main__":
    sys.exit(main())
