"""Benchmark: what a fleet of N ACM certificates costs certfleet itself (not the cloud).

    .venv/bin/python scripts/bench_fleet.py [N] [--up] [--waits SECONDS]
        # default 1000; --up also runs `pulumi up` on moto; --waits sets issuedTimeoutSeconds for that up
        # (moto never issues during the run), to show that a large stack with long waits still completes

Prints figures for:
1. config: validating N certificates (components/config.py);
2. program: registering N dynamic resources under Pulumi mocks: the cost of serialising the provider
   into each resource (pickling; without the `_batch_setitems` fix this hits a RecursionError), and the
   size of `__provider` per resource, which Pulumi stores twice per resource in state;
3. provider: create() + read() for N certificates against a moto server on loopback (calls per create);
4. engine: `pulumi preview` of a stack with N certificates with the real CLI (no cloud calls: preview
   runs only check/diff), i.e. what a reviewer's pull-request preview of a large fleet costs; with --up,
   also `pulumi up` of the N certificates against a moto server, then a preview that must show no change.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def raw_fleet(n: int, waits: int = 0) -> dict:
    return {"aws": {"tags": {"team": "bench"}, "issuedTimeoutSeconds": waits, "certificates": {
        f"cert-{i}": {"domain": f"site{i}.example.com", "sans": [f"www.site{i}.example.com"]} for i in range(n)}}}


def bench_config(n: int):
    from components.config import load_fleet
    start = time.perf_counter()
    fleet = load_fleet(raw_fleet(n))
    seconds = time.perf_counter() - start
    print(f"config   validate {n} certificates: {seconds * 1000:.1f} ms ({seconds / n * 1e6:.1f} us each)")
    return fleet


def bench_program(fleet) -> None:
    import pulumi

    class Mocks(pulumi.runtime.Mocks):
        def new_resource(self, args):
            return args.name + "-id", args.inputs

        def call(self, args):
            return {}

    mocks = Mocks()
    pulumi.runtime.set_mocks(mocks, project="certfleet", stack="bench", preview=False)
    from components.fleet import AwsCertificates

    start = time.perf_counter()

    @pulumi.runtime.test
    def register():
        component = AwsCertificates("aws", fleet.aws)
        return component.certificates[fleet.aws.certificates[-1].name].arn.apply(lambda _: None)

    register()
    seconds = time.perf_counter() - start
    n = len(fleet.aws.certificates)
    from pulumi.dynamic.dynamic import serialize_provider

    from components.aws.acm import AcmCertificateProvider
    size = len(serialize_provider(AcmCertificateProvider()))
    print(f"program  register {n} dynamic resources: {seconds:.2f} s ({seconds / n * 1000:.2f} ms each); "
          f"__provider is {size} bytes per resource (stored twice in state)")


def start_moto() -> tuple[subprocess.Popen, str]:
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                              env={**os.environ, "MOTO_ACM_VALIDATION_WAIT": "3600"})
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    return server, url


def bench_provider(fleet, n: int) -> None:
    from components.aws import acm
    from components.aws.acm import AcmCertificateProvider, certificate_inputs

    server, url = start_moto()
    try:
        os.environ.update({"AWS_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                           "AWS_DEFAULT_REGION": "us-east-1"})
        calls = {"n": 0}

        def count(**_):
            calls["n"] += 1
        provider = AcmCertificateProvider()
        specs = fleet.aws.certificates[:n]
        for service in ("acm", "resourcegroupstaggingapi"):
            acm.client(service, "us-east-1").meta.events.register("before-send", count)
        start = time.perf_counter()
        created = [provider.create(certificate_inputs(spec, fleet.aws, f"certfleet/bench/{spec.name}"))
                   for spec in specs]
        create_seconds = time.perf_counter() - start
        create_calls = calls["n"]
        start = time.perf_counter()
        for result in created:
            provider.read(result.id, result.outs)
        read_seconds = time.perf_counter() - start
        print(f"provider create {n} certificates against moto: {create_seconds:.1f} s "
              f"({create_seconds / n * 1000:.0f} ms and {create_calls / n:.1f} API calls each)")
        print(f"provider read (refresh) {n} certificates: {read_seconds:.1f} s "
              f"({read_seconds / n * 1000:.0f} ms and {(calls['n'] - create_calls) / n:.1f} API calls each)")
    finally:
        os.killpg(server.pid, signal.SIGTERM)


def temp_project(tmp: str, config: dict) -> tuple[Path, dict]:
    """A copy of the program in `tmp` with stack `bench` (file backend) holding `config`: (workdir, env)."""
    pulumi_bin = subprocess.run(["bash", str(ROOT / "scripts" / "bootstrap-pulumi.sh")], check=True,
                                capture_output=True, text=True).stdout.strip().splitlines()[-1]
    work = Path(tmp) / "certfleet"
    work.mkdir()
    for name in ("Pulumi.yaml", "__main__.py", "requirements.txt"):
        shutil.copy2(ROOT / name, work / name)
    shutil.copytree(ROOT / "components", work / "components", ignore=shutil.ignore_patterns("__pycache__"))
    (work / ".venv").symlink_to(ROOT / ".venv")
    (work / "stacks").mkdir()
    (work / "stacks" / "Pulumi.bench.yaml").write_text(json.dumps({"config": config}))  # JSON is YAML
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PULUMI_"))},
           "PATH": f"{pulumi_bin}{os.pathsep}{os.environ['PATH']}", "PULUMI_HOME": f"{tmp}/home",
           "PULUMI_BACKEND_URL": f"file://{tmp}/state", "PULUMI_CONFIG_PASSPHRASE": "bench",
           "PULUMI_SKIP_UPDATE_CHECK": "true", "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
           # an engine knob to compare with, e.g. PULUMI_SKIP_CHECKPOINTS=true
           **{k: os.environ[k] for k in ("PULUMI_SKIP_CHECKPOINTS",) if k in os.environ}}
    os.makedirs(f"{tmp}/state")
    subprocess.run(["pulumi", "stack", "init", "bench", "--non-interactive"], cwd=work, env=env, check=True,
                   capture_output=True)
    return work, env


def bench_engine(n: int, up: bool, waits: int = 0) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        work, env = temp_project(tmp, {"certfleet:aws": raw_fleet(n, waits)["aws"]})
        start = time.perf_counter()
        result = subprocess.run(["pulumi", "preview", "--non-interactive", "--json"], cwd=work, env=env,
                                capture_output=True, text=True)
        seconds = time.perf_counter() - start
        if result.returncode != 0:
            print(f"engine   preview of {n} certificates FAILED:\n{result.stderr[-2000:]}")
            return
        creates = json.loads(result.stdout)["changeSummary"].get("create", 0)
        print(f"engine   pulumi preview of {n} certificates (real CLI): {seconds:.1f} s, {creates} resources "
              f"to create ({seconds / n * 1000:.1f} ms each)")
        if not up:
            return
        server, url = start_moto()
        try:
            env.update({"AWS_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                        "AWS_DEFAULT_REGION": "us-east-1"})
            start = time.perf_counter()
            subprocess.run(["pulumi", "up", "--yes", "--skip-preview", "--non-interactive", "--suppress-outputs"],
                           cwd=work, env=env, check=True, capture_output=True)
            seconds = time.perf_counter() - start
            print(f"engine   pulumi up of {n} certificates against moto: {seconds:.1f} s "
                  f"({seconds / n * 1000:.0f} ms each, 4 provider calls at a time)")
            if waits:
                # The dynamic provider serves 4 calls at once: per-resource waits would queue.
                print(f"engine   ... with issuedTimeoutSeconds {waits} and nothing issued during the run: "
                      f"per-resource waits would take at least {-(-n // 4) * waits} s ({-(-n // 4)} rounds of "
                      f"{waits} s); the run's shared wait window bounds them to about {waits} s in all")
            state = Path(tmp, "state", ".pulumi", "stacks", "certfleet", "bench.json")
            print(f"engine   state file: {state.stat().st_size / 1e6:.1f} MB ({state.stat().st_size / n / 1000:.1f} kB "
                  f"per certificate)")
            start = time.perf_counter()
            again = subprocess.run(["pulumi", "preview", "--non-interactive", "--expect-no-changes"], cwd=work,
                                   env=env, capture_output=True, text=True)
            print(f"engine   preview after up: {time.perf_counter() - start:.1f} s, "
                  f"{'no changes' if again.returncode == 0 else 'CHANGES (unexpected)'}")
        finally:
            os.killpg(server.pid, signal.SIGTERM)


def main() -> None:
    args = [a for a in sys.argv[1:] if a != "--up"]
    waits = 0
    if "--waits" in args:
        at = args.index("--waits")
        waits = int(args[at + 1])
        del args[at:at + 2]
    n = int(args[0]) if args else 1000
    fleet = bench_config(n)
    if not waits:  # with --waits only the engine figure matters
        bench_program(fleet)
        bench_provider(fleet, min(n, 200))
    bench_engine(n, up="--up" in sys.argv or bool(waits), waits=waits)


if __name__ == "__main__":
    main()
