"""Fixtures shared by the provider and end-to-end layers: a real moto server on loopback, fake AWS
credentials, and the Pulumi CLI built by scripts/bootstrap-pulumi.sh."""

from __future__ import annotations

import functools
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

# The SCM emulator's fixtures serve the emulator, provider and e2e layers alike.
pytest_plugins = ["tests.emulators.conftest_scm"]

ROOT = Path(__file__).resolve().parent.parent
TEST_AWS_KEY = "certfleet-test-key-AKIA0000"
TEST_AWS_SECRET = "certfleet-test-secret-0000"
MOTO_ACM_VALIDATION_WAIT = 2  # seconds a certificate stays PENDING_VALIDATION in the test moto server
EMULATOR_DEPLOY_SECONDS = 1  # seconds a created or updated distribution stays InProgress



@pytest.hookimpl(trylast=True)   # after `-m` and `-k` deselected: the shares are of what runs
def pytest_collection_modifyitems(config, items):
    """Under xdist's worksteal, each worker is first handed an equal run of the collected tests, in order; a
    worker holding several tests marked `long` (a minute or more) then finishes long after the others. So each
    worker's run starts with its share of them, dealt in turn. Without workers (`-n 0`) the order stays."""
    workers = getattr(config, "workerinput", {}).get("workercount")
    long = [item for item in items if item.get_closest_marker("long")]
    if not workers or workers < 2 or not long:
        return
    rest = [item for item in items if not item.get_closest_marker("long")]
    ordered, left = [], len(items)
    for worker in range(workers):
        size = left // (workers - worker)   # what worksteal hands this worker (xdist's check_schedule)
        left -= size
        share = long[worker::workers]
        taken = max(0, size - len(share))
        ordered += share + rest[:taken]
        rest = rest[taken:]
    items[:] = ordered + rest

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, process: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server at {url} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server at {url} did not answer within {seconds}s")


@pytest.fixture(scope="session")
def dns_emulator():
    """The authoritative DNS server on loopback (`python -m emulators.dns`) for the whole session:
    {"url": control API, "host", "port": the DNS address}. The session's AWS emulator feeds it Route 53."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "emulators.dns", "--port", str(port), "--dns-port", "0",
                                "--quiet"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url + "/_emulator/health", process)
        with urllib.request.urlopen(url + "/_emulator/dns/address", timeout=5) as response:
            address = json.loads(response.read())
        yield {"url": url, "host": address["host"], "port": address["port"]}
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def moto_url(dns_emulator):
    """The AWS emulator (`python -m emulators.aws`: moto in-process plus what AWS does and moto lacks) as a
    real HTTP server on a free loopback port, for the whole session; its Route 53 feeds `dns_emulator`."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "emulators.aws", "--port", str(port), "--quiet",
                                "--deploy-seconds", str(EMULATOR_DEPLOY_SECONDS),
                                "--acm-validation-wait", str(MOTO_ACM_VALIDATION_WAIT),
                                "--dns-feed", dns_emulator["url"]],
                               cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url + "/moto-api/", process)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)


def aws_env(moto_url: str) -> dict[str, str]:
    return {"AWS_ENDPOINT_URL": moto_url, "AWS_ACCESS_KEY_ID": TEST_AWS_KEY,
            "AWS_SECRET_ACCESS_KEY": TEST_AWS_SECRET, "AWS_DEFAULT_REGION": "us-east-1",
            "CERTFLEET_EDGE_ENDPOINT": edge_endpoint(moto_url)}


@functools.cache
def edge_endpoint(moto_url: str) -> str:
    """The emulator's CloudFront edge (TLS, certificate by SNI): where certfleet's edge check connects."""
    from emulators.aws.testing import AwsControl
    return AwsControl(moto_url).edge_endpoint()


@pytest.fixture
def aws(moto_url, monkeypatch):
    """A clean AWS emulator (moto and the emulator's settings, throttles, faults) and this process's AWS
    environment pointed at it."""
    urllib.request.urlopen(urllib.request.Request(moto_url + "/moto-api/reset", method="POST"), timeout=10)
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    for key, value in aws_env(moto_url).items():
        monkeypatch.setenv(key, value)
    from components.aws import acm
    acm._clients.clear()  # clients read the endpoint when built
    yield moto_url
    acm._clients.clear()


@pytest.fixture(scope="session")
def pulumi_bin() -> str:
    """The directory of a compatible `pulumi` (built once per machine and cached; see README)."""
    if os.environ.get("CERTFLEET_PULUMI_BIN"):
        return os.environ["CERTFLEET_PULUMI_BIN"]  # scripts/test.sh already ran the bootstrap
    result = subprocess.run(["bash", str(ROOT / "scripts" / "bootstrap-pulumi.sh")], check=True,
                            capture_output=True, text=True)
    return result.stdout.strip().splitlines()[-1]


def moto_list(moto_url: str) -> list[dict]:
    """Every ACM certificate moto holds in us-east-1 (through boto3, all key types)."""
    import boto3
    acm = boto3.client("acm", region_name="us-east-1", endpoint_url=moto_url,
                       aws_access_key_id=TEST_AWS_KEY, aws_secret_access_key=TEST_AWS_SECRET)
    return acm.list_certificates(Includes={"keyTypes": ["RSA_1024", "RSA_2048", "RSA_3072", "RSA_4096",
                                                        "EC_prime256v1", "EC_secp384r1", "EC_secp521r1"]}
                                 )["CertificateSummaryList"]


def dump(obj) -> str:
    return json.dumps(obj, indent=2, default=str)


@pytest.fixture(autouse=True)
def one_run_per_test():
    """Each test is one run of the provider process: its own shared wait window (components/dynamic.py)."""
    from components import dynamic
    from components.alicloud import candidates, purchase
    from components.aws import acm, acm_seen, cloudfront, cname_check
    dynamic.RUN_WAITS.reset()
    purchase.PLAN_UNITS.reset()  # each plan asked again, no order counted yet
    from components.huaweicloud import client as huawei_client
    huawei_client.forget_stated_rates()  # no gateway rate learnt yet
    cloudfront.SUMMARIES.clear()  # the account listings a provider process takes once
    acm.CERTIFICATES.reset()
    cloudfront.DISTRIBUTIONS.reset()
    acm_seen.reset()
    cname_check.clear_cache()
    for facts in (dynamic.DECLARED, dynamic.REPLACED, candidates.KEPT_BY_REPLACEMENT):
        facts.clear()  # nothing declared (checked), replaced (diffed) or kept yet
    yield
