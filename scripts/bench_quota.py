"""Throughput against the clouds' own request quotas (issue 11): `pulumi up` of N CAS orders / SCM certificates
with the emulators enforcing the request rates, against the least time those rates allow.

    .venv/bin/python scripts/bench_quota.py [-n 1000] [--kinds cas,scm] [--parallels 1,4,16] [--parallel-n 60]
                                            [--scm-rate 10] [--baseline] [--json FILE]
    .venv/bin/python scripts/bench_quota.py --short      # N = 20, --parallel 1/4/16 at N = 10 (tests/unit)

Each run is a fresh stack (the real CLI, a file backend, the entries in a fleet file) on fresh servers started by
scripts/bench_engine_stacks.py (`start_cas`, `start_scm`) with their quotas on: CAS at its published rates
(`--throttle published`: ListUserCertificateOrder 10/s ... per account, emulators/cas/responses.py), SCM at one
per-user rate for all operations (`--throttle '*=R'`: Huawei publishes none; R is this benchmark's choice). Printed
per run:

- quota-bound minimum: the least time the quotas allow for the calls the run made: for each rate rule, the calls
  it meters and let through (counted at the server; a throttled answer used no quota) / its rate; the largest
  (CAS: N x ListUserCertificateOrder calls per order / 10 per second);
- up: the wall time of `pulumi up --yes --skip-preview`, and the quota-bound minimum as a percentage of it (the
  percent of the quota-bound rate the run reached; 100% = as fast as the quotas allow);
- throttled: answers the server gave over a quota (counted at /_emulator/calls), which certfleet's client then
  retried; errors: `pulumi up`'s exit code and error diagnostics, and the server's other error answers.

With `--baseline`, the main N again with no quota enforced: the time the engine and the servers take on their
own, the floor under any quota-bound rate. Then `up` of a small N with `--parallel` 1, 4 and 16: how the engine's
parallelism and the client's pacing meet.
No figure is judged here: timings move with the machine's load (docs/scale.md has a full run's figures).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from emulators.cas.responses import PUBLISHED_RATES  # noqa: E402
from emulators.core.quotas import ANY_OPERATION, PUBLISHED  # noqa: E402
from scripts.bench_engine_measure import run_pulumi  # noqa: E402
from scripts.bench_engine_stacks import KINDS, certfleet_project  # noqa: E402

DEFAULT_N = 1000
SHORT_N, SHORT_PARALLEL_N = 20, 10
DEFAULT_PARALLEL_N = 60
PARALLELS = (1, 4, 16)
DEFAULT_SCM_RATE = 10.0   # requests per second per user: a choice (SCM publishes none)
QUOTA_KINDS = ("cas", "scm")


def quotas(kind: str, scm_rate: float) -> tuple[str, dict[str, float]]:
    """(the emulator's --throttle value, {operation or "*": requests per second}) for `kind`."""
    if kind == "cas":
        return PUBLISHED, dict(PUBLISHED_RATES)
    return f"{ANY_OPERATION}={scm_rate:g}", {ANY_OPERATION: scm_rate}


@contextlib.contextmanager
def throttled_start(kind: str, throttle: str):
    """start_cas / start_scm read EMU_<KIND>_THROTTLE from the environment they start the emulator with."""
    name = f"EMU_{kind.upper()}_THROTTLE"
    before = os.environ.get(name)
    os.environ[name] = throttle
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


def quota_bound_seconds(counted: dict, rates: dict[str, float]) -> tuple[float, str]:
    """(the least seconds the rates allow for the counted calls, the rule that binds)."""
    operations = counted.get("operations", {})
    bounds = []
    for rule, rate in rates.items():
        calls = sum(count for operation, outcomes in operations.items() if rule in (ANY_OPERATION, operation)
                    for outcome, count in outcomes.items() if outcome != "throttled")
        bounds.append((calls / rate, f"{rule}: {calls} calls at {rate:g}/s"))
    return max(bounds) if bounds else (0.0, "no rate")


def error_diagnostics(stdout: str) -> list[str]:
    """The error diagnostics' messages of `pulumi up --json`'s events (one JSON object per line)."""
    messages = []
    for line in stdout.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        diagnostic = event.get("diagnosticEvent") or {}
        if diagnostic.get("severity") == "error":
            messages.append(diagnostic.get("message", "").strip())
    return messages


def measure_up(kind: str, n: int, scm_rate: float, parallel: int | None = None, enforced: bool = True) -> dict:
    """One fresh stack of `kind` with n entries, `pulumi up` with the quotas on (`enforced`; off: what the run
    costs without them, the engine's and the servers' own time): its figures."""
    throttle, rates = quotas(kind, scm_rate)
    with tempfile.TemporaryDirectory(prefix=f"bench-quota-{kind}-") as tmp:
        with throttled_start(kind, throttle if enforced else ""):
            servers = KINDS[kind].start(n, tmp)
        try:
            work, env = certfleet_project(tmp, KINDS[kind], n)
            env.update(servers.env)
            servers.clear()
            argv = ["up", "--yes", "--skip-preview", "--suppress-outputs", "--json"]
            if parallel is not None:
                argv += ["--parallel", str(parallel)]
            up = run_pulumi(work, env, *argv)
            counted = servers.calls()
            errors = error_diagnostics(up.stdout)
        finally:
            servers.stop()
    bound, binding = quota_bound_seconds(counted, rates)
    totals = counted.get("totals", {})
    return {"kind": kind, "n": n, "parallel": parallel, "throttle": throttle if enforced else "",
            "up_seconds": round(up.seconds, 2),
            "quota_bound_seconds": round(bound, 2), "binding": binding,
            "percent_of_quota_bound_rate": round(100 * bound / up.seconds, 1) if up.seconds else None,
            "throttled": totals.get("throttled", 0), "server_errors": totals.get("error", 0),
            "calls": totals, "operations": counted.get("operations", {}),
            "up_exit": up.returncode, "error_diagnostics": len(errors),
            "failure": "\n".join(errors) or (up.stderr[-3000:] if up.returncode else "")}


def print_run(run: dict) -> None:
    parallel = "default" if run["parallel"] is None else run["parallel"]
    quotas_on = f"emulator --throttle {run['throttle']!r}" if run["throttle"] else "no quotas enforced (baseline)"
    print(f"-- {run['kind']} N = {run['n']}, --parallel {parallel}, {quotas_on}")
    print(f"  quota-bound minimum      {run['quota_bound_seconds']:8.1f} s   ({run['binding']})")
    print(f"  up                       {run['up_seconds']:8.1f} s")
    print(f"  of the quota-bound rate  {run['percent_of_quota_bound_rate']:8.1f} %")
    print(f"  throttled at the server  {run['throttled']:8d}")
    print(f"  errors                   up exit {run['up_exit']}, {run['error_diagnostics']} error diagnostics, "
          f"{run['server_errors']} other error answers at the server")
    calls = ", ".join(f"{op} {sum(outcomes.values())}" for op, outcomes in sorted(run["operations"].items()))
    print(f"  calls                    {calls}")
    if run["failure"]:
        print(f"  FAILED: {run['failure'][:3000]}")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=DEFAULT_N, help=f"entries in the main run (default {DEFAULT_N})")
    parser.add_argument("--kinds", default="cas,scm", help="cas, scm or both (default cas,scm)")
    parser.add_argument("--parallels", default=",".join(map(str, PARALLELS)),
                        help="--parallel values of the small runs (default 1,4,16; empty: none)")
    parser.add_argument("--parallel-n", type=int, default=DEFAULT_PARALLEL_N,
                        help=f"entries in each --parallel run (default {DEFAULT_PARALLEL_N})")
    parser.add_argument("--scm-rate", type=float, default=DEFAULT_SCM_RATE,
                        help=f"SCM's per-user rate the emulator enforces (default {DEFAULT_SCM_RATE:g}/s)")
    parser.add_argument("--short", action="store_true",
                        help=f"N = {SHORT_N}, --parallel runs at N = {SHORT_PARALLEL_N}")
    parser.add_argument("--baseline", action="store_true",
                        help="also run the main N with no quota enforced: the engine's and servers' own time")
    parser.add_argument("--json", help="also save every figure to this file")
    args = parser.parse_args(argv)
    if args.short:
        args.n, args.parallel_n = SHORT_N, SHORT_PARALLEL_N
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    if not set(kinds) <= set(QUOTA_KINDS):
        parser.error(f"--kinds: choose from {', '.join(QUOTA_KINDS)}")
    parallels = [int(p) for p in args.parallels.split(",") if p.strip()]

    runs = []
    for kind in kinds:
        print(f"== {kind}: up against the quotas ==", flush=True)
        runs.append(measure_up(kind, args.n, args.scm_rate))
        print_run(runs[-1])
        if args.baseline:
            runs.append(measure_up(kind, args.n, args.scm_rate, enforced=False))
            print_run(runs[-1])
        for parallel in parallels:
            runs.append(measure_up(kind, args.parallel_n, args.scm_rate, parallel))
            print_run(runs[-1])
    if args.json:
        Path(args.json).write_text(json.dumps({"runs": runs, "load_average": os.getloadavg()}, indent=2))
    failed = [run for run in runs if run["up_exit"] != 0]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
