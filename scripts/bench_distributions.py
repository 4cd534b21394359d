"""Benchmark: N ACM certificates and N CloudFront distributions through certfleet's providers while the
server throttles at AWS's request quotas (issue 8: scale past CloudFront Extensions' 100-item cap).

    .venv/bin/python scripts/bench_distributions.py [N] [--short] [--up] [--deploy-seconds S] [--noise P]
        # default N = 300; --short = 20 (a CI-sized run, about a minute); --deploy-seconds: how long the
        # emulator keeps a created or updated distribution InProgress (default 2); --noise: the server also
        # throttles any call with probability P (default 0.1: other clients of the account spending the
        # same quotas, which no client-side pacing can see coming)

Starts the AWS emulator (`python -m emulators.aws`) with every API throttled at AWS's published rate (and
at certfleet's conservative choice where AWS publishes none: components/aws/clients.py and
emulators/aws/throttling.py), then drives the providers' methods the way one `pulumi up`, `pulumi refresh`
and `pulumi destroy` would: from a pool of 4 threads (the dynamic provider's gRPC server serves 4 calls at
once, components/dynamic.py WaitWindow), each phase a run of its own (fresh shared wait windows):
1. create N certificates (components/aws/acm.py), issued by the emulator a moment after the request;
2. create N distributions (components/aws/cloudfront.py) cloned from one template, each bound to its
   certificate and waited on until Deployed;
3. read (refresh) all of them;
4. delete the distributions (disable, wait Deployed, delete), then the certificates.
Per phase it prints the time, API calls per resource, retries, throttled answers (the client's count and
the server's) and errors, which must be 0. `run(n)` returns the figures (see `short_run` for CI).
With --up, the same through the real `pulumi` CLI instead: one `pulumi up` of the N + N, a preview that must
show no change, and `pulumi destroy`, with the server's call and throttle counts.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ENGINE_THREADS = 4          # calls the dynamic provider serves at once
SHORT_N = 20
REGION = "us-east-1"
STACK = "certfleet/bench"


@dataclass
class Phase:
    name: str
    resources: int
    seconds: float = 0.0
    calls: int = 0
    retries: int = 0
    throttled: int = 0          # throttled answers the client saw
    server_throttled: int = 0   # throttled answers the emulator sent (the same, counted at the other end)
    waited: float = 0.0         # seconds the client's own pacing waited, summed over threads
    paced_most: str = ""        # the operation whose rate the threads waited for longest
    calls_by_operation: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (f"{self.name:<28} {self.seconds:7.1f} s  {self.calls / self.resources:5.1f} calls each  "
                f"{self.retries:4d} retries  {self.throttled:4d} throttled (server {self.server_throttled})  "
                f"{len(self.errors)} errors; waited most for {self.paced_most}")


def start_emulator(deploy_seconds: float, validation_wait: float) -> tuple[subprocess.Popen, str]:
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "emulators.aws", "--port", str(port), "--quiet",
                               "--deploy-seconds", str(deploy_seconds), "--acm-validation-wait", str(validation_wait)],
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=1)
            return server, url
        except OSError:
            time.sleep(0.1)
    os.killpg(server.pid, signal.SIGTERM)
    raise RuntimeError(f"the AWS emulator did not answer at {url}")


def certificate_props(i: int) -> dict[str, Any]:
    name = f"site{i}.example.com"
    return {"cert_name": f"cert-{i}", "resource_tag": f"{STACK}/cert-{i}", "previous_resource_tags": [],
            "region": REGION, "domain": name, "sans": sorted([name, f"www.{name}"]), "key_algorithm": "RSA_2048",
            "tags": {"team": "bench"}, "validation_record_timeout_seconds": 300, "issued_timeout_seconds": 0,
            "delete_in_use_timeout_seconds": 600}


def distribution_props(i: int, template: tuple[str, dict], certificate: Any) -> dict[str, Any]:
    template_id, template_config = template
    return {"dist_name": f"dist-{i}", "resource_tag": f"{STACK}/dist-{i}", "previous_resource_tags": [],
            "template_id": template_id, "template_version": None, "template_config": template_config,
            "certificate_name": f"cert-{i}", "certificate_arn": certificate.id,
            "certificate_status": certificate.outs["status"], "aliases": certificate.outs["sans"],
            "enabled": True, "comment": f"certfleet {STACK}/dist-{i}", "minimum_protocol_version": "TLSv1.2_2021",
            "logging": None, "tags": {"team": "bench"}, "deployed_timeout_seconds": 600, "cname_check": True}


def make_template() -> tuple[str, dict]:
    """The distribution every clone is made from, as a user has one."""
    from components.aws.clients import client

    cloudfront = client("cloudfront", REGION)
    config = {"CallerReference": "bench-template", "Comment": "the template", "Enabled": True,
              "Origins": {"Quantity": 1, "Items": [{"Id": "app", "DomainName": "app.example.net", "CustomOriginConfig": {
                  "HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only"}}]},
              "DefaultCacheBehavior": {"TargetOriginId": "app", "ViewerProtocolPolicy": "redirect-to-https",
                                       "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"}}
    made = cloudfront.create_distribution(DistributionConfig=config)["Distribution"]["Id"]
    # As it arrives from Pulumi state: JSON, numbers as doubles.
    live = cloudfront.get_distribution_config(Id=made)["DistributionConfig"]
    return made, json.loads(json.dumps(live, default=str), parse_int=float)


def run_phase(name: str, items: list, work: Callable[[Any], Any], control: Any) -> tuple[Phase, list]:
    """`work` on every item from ENGINE_THREADS threads, as one run of the provider process."""
    from components import dynamic
    from components.aws import clients

    dynamic.RUN_WAITS.reset()
    clients.reset_api_counts()
    control.call("DELETE", "calls")
    phase = Phase(name, len(items))

    def guarded(item: Any) -> Any:
        try:
            return work(item)
        except Exception as err:  # noqa: BLE001 - every failure is a figure of the benchmark
            phase.errors.append(f"{type(err).__name__}: {err}")
            return None

    start = time.perf_counter()
    with ThreadPoolExecutor(ENGINE_THREADS) as pool:
        results = list(pool.map(guarded, items))
    phase.seconds = time.perf_counter() - start
    by_operation = clients.api_counts()
    counts = by_operation.values()
    phase.paced_most = max(by_operation, key=lambda op: by_operation[op].waited, default=("", "-"))[1]
    phase.calls_by_operation = {operation: c.calls for (_, operation), c in sorted(by_operation.items())}
    phase.calls = sum(c.calls for c in counts)
    phase.retries = sum(c.retries for c in counts)
    phase.throttled = sum(c.throttled for c in counts)
    phase.waited = sum(c.waited for c in counts)
    phase.server_throttled = control.calls().get("totals", {}).get("throttled", 0)
    return phase, results


def run(n: int, deploy_seconds: float = 2.0, noise: float = 0.1,
        report: Callable[[str], None] = lambda _: None) -> list[Phase]:
    """The whole benchmark against a fresh emulator; the phases' figures."""
    from components.aws import clients
    from components.aws.acm import AcmCertificateProvider
    from components.aws.cloudfront import DistributionProvider
    from emulators.aws.testing import AwsControl

    server, url = start_emulator(deploy_seconds, validation_wait=1)
    saved = {k: os.environ.get(k) for k in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                            "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_SESSION_TOKEN")}
    try:
        os.environ.update({"AWS_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                           "AWS_DEFAULT_REGION": REGION})
        for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
            os.environ.pop(key, None)
        clients._clients.clear()
        clients.reset_rate_limits()
        control = AwsControl(url)
        template = make_template()
        control.throttle_at_aws_quotas()
        if noise:
            control.throttle("*", "*", probability=noise)
        certificates, distributions = AcmCertificateProvider(), DistributionProvider()
        distributions.poll_seconds = max(0.5, deploy_seconds / 2)  # CloudFront's minutes, scaled to the emulator's
        phases: list[Phase] = []

        def phase(name: str, items: list, work: Callable[[Any], Any]) -> list:
            done, results = run_phase(name, items, work, control)
            phases.append(done)
            report(done.line())
            for error in done.errors[:5]:
                report(f"    {error[:300]}")
            return results

        made = phase(f"create {n} certificates", list(range(n)), lambda i: certificates.create(certificate_props(i)))
        time.sleep(1.5)  # the emulator issues a requested certificate 1 s after the request
        certs = [(i, c) for i, c in enumerate(made) if c is not None]
        dists = phase(f"create {n} distributions", certs,
                      lambda ic: distributions.create(distribution_props(ic[0], template, ic[1])))
        pairs = [(ic, d) for ic, d in zip(certs, dists) if d is not None]
        bound = sum(1 for _, d in pairs if d.outs.get("bound"))
        deployed = sum(1 for _, d in pairs if d.outs.get("status") == "Deployed")
        report(f"{'':<28} {bound} of {n} distributions bound, {deployed} Deployed when created")
        phase(f"read {n} + {n} (refresh)", [("c", c) for _, c in certs] + [("d", d) for _, d in pairs],
              lambda kr: (certificates.read(kr[1].id, kr[1].outs) if kr[0] == "c"
                          else distributions.read(kr[1].id, kr[1].outs)))
        phase(f"delete {n} distributions", [d for _, d in pairs], lambda d: distributions.delete(d.id, d.outs))
        phase(f"delete {n} certificates", [c for _, c in certs], lambda c: certificates.delete(c.id, c.outs))
        left = [d["Id"] for d in clients.client("cloudfront", REGION).list_distributions()["DistributionList"].get(
            "Items") or [] if d["Id"] != template[0]]
        left_certs = clients.client("acm", REGION).list_certificates()["CertificateSummaryList"]
        report(f"{'':<28} left on the server: {len(left)} distributions, {len(left_certs)} certificates")
        return phases
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=10)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        from components.aws import clients as _clients_module
        _clients_module._clients.clear()


def run_up(n: int, deploy_seconds: float = 2.0, noise: float = 0.1) -> int:
    """One real `pulumi up` of n certificates and n distributions bound to them (the `pulumi` CLI and the
    certfleet program, as a user runs it), then a preview that must show no change, then `pulumi destroy`,
    while the server throttles. Prints the figures; returns the number of failed commands."""
    import tempfile

    from emulators.aws.testing import SAMPLE_TEMPLATE, AwsControl
    from scripts.bench_fleet import temp_project

    server, url = start_emulator(deploy_seconds, validation_wait=2)
    failures = 0
    try:
        control = AwsControl(url)
        control.next_distribution_id("E1BENCHTEMPLATE"[:14])
        import boto3
        boto3.client("cloudfront", region_name=REGION, endpoint_url=url, aws_access_key_id="bench",
                     aws_secret_access_key="bench").create_distribution(
            DistributionConfig={**SAMPLE_TEMPLATE, "CallerReference": "bench-template"})
        control.throttle_at_aws_quotas()
        if noise:
            control.throttle(probability=noise)
        config = {"region": REGION, "tags": {"team": "bench"}, "issuedTimeoutSeconds": 300,
                  "certificates": {f"cert-{i}": {"domain": f"site{i}.example.com", "sans": [f"www.site{i}.example.com"]}
                                   for i in range(n)},
                  "distributions": {f"dist-{i}": {"template": "E1BENCHTEMPLAT", "certificate": f"cert-{i}"}
                                    for i in range(n)}}
        with tempfile.TemporaryDirectory() as tmp:
            work, env = temp_project(tmp, {"certfleet:aws": config})
            env.update({"AWS_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                        "AWS_DEFAULT_REGION": REGION})
            for label, argv in (("up", ["up", "--yes", "--skip-preview", "--suppress-outputs"]),
                                ("preview after up", ["preview", "--expect-no-changes"]),
                                ("destroy", ["destroy", "--yes", "--skip-preview"])):
                control.call("DELETE", "calls")
                start = time.perf_counter()
                result = subprocess.run(["pulumi", *argv, "--non-interactive"], cwd=work, env=env,
                                        capture_output=True, text=True)
                seconds = time.perf_counter() - start
                totals = control.calls().get("totals", {})
                calls = sum(v for v in totals.values() if isinstance(v, int))
                failures += result.returncode != 0
                print(f"pulumi {label:<17} {seconds:7.1f} s  exit {result.returncode}  {calls} calls "
                      f"({calls / (2 * n):.1f} per resource)  throttled by the server: {totals.get('throttled', 0)}")
                if result.returncode != 0:
                    print(result.stdout[-3000:])
            left = control.distributions()
            print(f"left on the server after destroy: {len(left) - 1} distributions (the template aside)")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
    return failures


def short_run() -> list[Phase]:
    """The CI-sized run (SHORT_N of each, about a minute, with the default noise): every phase must end with
    no error, e.g. `assert not any(phase.errors for phase in short_run())`."""
    return run(SHORT_N)


def main() -> None:
    args = sys.argv[1:]
    options = {"--deploy-seconds": 2.0, "--noise": 0.1}
    for option in options:
        if option in args:
            at = args.index(option)
            options[option] = float(args[at + 1])
            del args[at:at + 2]
    deploy_seconds, noise = options["--deploy-seconds"], options["--noise"]
    n = SHORT_N if "--short" in args else int(next((a for a in args if not a.startswith("--")), 300))
    if "--up" in args:
        print(f"one `pulumi up` of {n} certificates + {n} distributions (real CLI), server throttling at AWS's "
              f"quotas and {noise:.0%} of all calls at random, distributions InProgress {deploy_seconds:g} s")
        sys.exit(1 if run_up(n, deploy_seconds, noise) else 0)
    print(f"{n} certificates + {n} distributions, {ENGINE_THREADS} threads, server throttling at AWS's quotas "
          f"and {noise:.0%} of all calls at random, distributions InProgress {deploy_seconds:g} s")
    start = time.perf_counter()
    phases = run(n, deploy_seconds, noise, report=print)
    errors = sum(len(p.errors) for p in phases)
    print(f"{'total':<28} {time.perf_counter() - start:7.1f} s  {sum(p.calls for p in phases)} calls, "
          f"{sum(p.retries for p in phases)} retries, {sum(p.throttled for p in phases)} throttled, {errors} errors")
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
