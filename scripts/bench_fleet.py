"""Benchmark: what a fleet of N ACM certificates costs certfleet itself (not the cloud).

    .venv/bin/python scripts/bench_fleet.py [N]        # default 1000

Prints figures for:
1. config: validating N certificates (components/config.py);
2. program: registering N dynamic resources under Pulumi mocks: the cost of serialising the provider
   into each resource (pickling; without the `_batch_setitems` fix this hits a RecursionError), and the
   size of `__provider` per resource, which Pulumi stores twice per resource in state;
3. provider: create() + read() for N certificates against a moto server on loopback (calls per create).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def raw_fleet(n: int) -> dict:
    return {"aws": {"tags": {"team": "bench"}, "certificates": {
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


def bench_provider(fleet, n: int) -> None:
    import urllib.request

    from components.aws import acm
    from components.aws.acm import AcmCertificateProvider, certificate_inputs

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                              env={**os.environ, "MOTO_ACM_VALIDATION_WAIT": "3600"})
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(url + "/moto-api/", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
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


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    fleet = bench_config(n)
    bench_program(fleet)
    bench_provider(fleet, min(n, 200))


if __name__ == "__main__":
    main()
