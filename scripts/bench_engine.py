"""Benchmark: certfleet against the engine's floor, side by side in one run (issue 11).

    .venv/bin/python scripts/bench_engine.py [--sizes 100,300,1000] [--kinds acm,cas,scm,distributions,floor]
                                            [--repeat R] [--json FILE] [--short]
    .venv/bin/python scripts/bench_engine.py --from-json FILE     # the tables of a saved run, run nothing
    .venv/bin/python scripts/bench_engine.py --profile [--kinds acm] [--sizes 300] [--profile-step preview_same]

The floor is a throwaway Pulumi Python project of N no-op dynamic resources whose inputs are as many bytes of
JSON as certfleet's ACM certificate inputs for the same names (scripts/bench_engine_stacks.py): what the engine
and the Python dynamic-provider machinery cost by themselves. certfleet's stacks run against their emulators on
loopback (ACM and distributions: `python -m emulators.aws`; CAS, SCM: `python -m emulators.cas`, `.scm`).

For each kind and N: wall time of `pulumi preview` of the new stack, `pulumi up --yes --skip-preview`, `pulumi
preview` with no changes (asserted: `--expect-no-changes` and a change summary of sames only) and `pulumi
refresh --yes --skip-preview --expect-no-changes` (one refresh, no preview pass: each resource read once); state
bytes per dynamic resource (`pulumi stack export`); cloud calls per resource by operation, counted at the
servers, and the servers' CPU seconds; peak memory (VmHWM) and CPU seconds of the program, dynamic-provider,
language-host and engine processes; the refresh beyond one read call per resource (`read_allowance`); the time
and memory of the tools a user runs on the stack (`TOOLS`); and, once per kind, the provider's start-up (its
modules imported in a fresh interpreter; a 1-resource preview). certfleet's entries are in a fleet file, as a
large fleet keeps them (docs/fleet-files.md).
Previews and refresh run R times (`--repeat`, default 1): the median is reported. The floor runs at the same
number of dynamic resources as the stack it is compared with (distributions: 2 per entry).
`--short`: N = 12, every kind, one repetition (a CI check that every figure prints; no figure is judged).
`--profile`: where the time goes for one kind and N (scripts/bench_engine_profile.py).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from components.aws.clients import PACE, requests_per_second  # noqa: E402
from scripts.bench_engine_measure import (  # noqa: E402
    ROLES, Command, calls_by_operation, exported_state, import_time, run_pulumi, timed_tool,
)
from scripts.bench_engine_stacks import (  # noqa: E402
    CERTFLEET_KINDS, FLOOR, KINDS, Servers, certfleet_project, floor_project,
)

SHORT_N = 12   # just over the tag listings' threshold (10), so a short run takes them too
STEPS = ("preview_new", "up", "preview_same", "refresh")
STEP_LABELS = {"preview_new": "preview, new stack (s)", "up": "up --skip-preview (s)",
               "preview_same": "preview, no changes (s)", "refresh": "refresh --skip-preview (s)"}
# Issue 11's targets, as ratios to the floor at N = 1,000.
TARGETS = {"preview_same": 1.2, "preview_new": 1.2, "refresh": 1.5, "state_bytes_per_resource": 1.5}
TARGET_N = 1000
ROLE_NAMES = tuple(role for role, _ in ROLES)   # program, provider, language host, engine
# "plus one read call per resource": one each, and what a run-wide listing adds spread over them (ACM: ten
# GetResources pages, the first ten reads' ListTagsForCertificate and those of the reads made while the listing
# is taken, about 50, for 1,000 certificates: components/aws/tag_index.py).
REFRESH_READS_TARGET = 1.1


class BenchFailure(Exception):
    pass


def pulumi_bin() -> str:
    return subprocess.run(["bash", str(ROOT / "scripts" / "bootstrap-pulumi.sh")], check=True, capture_output=True,
                          text=True).stdout.strip().splitlines()[-1]


def open_stack(kind: str, n: int, tmp: str, bin_dir: str) -> tuple[Path, dict, Servers]:
    """A fresh stack of `kind` with n entries (the floor: n resources) and its servers, started."""
    if kind == FLOOR:
        work, env = floor_project(tmp, n, bin_dir)
        return work, env, Servers()
    servers = KINDS[kind].start(n, tmp)
    try:
        work, env = certfleet_project(tmp, KINDS[kind], n)
    except BaseException:
        servers.stop()
        raise
    env.update(servers.env)
    return work, env, servers


def checked(command: Command) -> Command:
    if command.returncode != 0:
        raise BenchFailure(command.failure())
    return command


def change_summary(command: Command) -> dict:
    return json.loads(command.stdout).get("changeSummary") or {}


def timed_step(servers: Servers, repeat: int, run) -> tuple[list[Command], dict]:
    """`run()` `repeat` times; the commands and, per run, the calls counted at the servers and the servers'
    CPU seconds (counted["server_cpu_seconds"])."""
    servers.clear()
    cpu = servers.cpu_seconds()
    commands = [checked(run()) for _ in range(repeat)]
    counted = servers.calls()
    for outcomes in counted.get("operations", {}).values():
        for outcome in outcomes:
            outcomes[outcome] /= repeat
    counted["server_cpu_seconds"] = round((servers.cpu_seconds() - cpu) / repeat, 2)
    return commands, counted


def measure(kind: str, n: int, repeat: int, bin_dir: str, say=print) -> dict:
    """Every per-N figure of one stack (see the module docstring)."""
    with tempfile.TemporaryDirectory(prefix=f"bench-engine-{kind}-") as tmp:
        work, env, servers = open_stack(kind, n, tmp, bin_dir)
        try:
            figures: dict = {"kind": kind, "n": n, "seconds": {}, "peak_mb": {}, "cpu_seconds": {}, "calls": {},
                             "load_average": os.getloadavg()}

            def record(step: str, commands: list[Command], counted: dict) -> None:
                figures["seconds"][step] = statistics.median(c.seconds for c in commands)
                figures["peak_mb"][step] = {role: round(max(c.peak_mb.get(role, 0) for c in commands), 1)
                                            for role in ROLE_NAMES}
                figures["cpu_seconds"][step] = {
                    role: round(statistics.median(c.cpu_seconds.get(role, 0) for c in commands), 2)
                    for role in ROLE_NAMES}
                figures["calls"][step] = counted
                say(f"  {kind:<13} N={n:<5} {step:<13} {figures['seconds'][step]:8.2f} s")

            previews, counted = timed_step(servers, repeat, lambda: run_pulumi(work, env, "preview", "--json"))
            creates = change_summary(previews[0]).get("create", 0)
            (work / "bench-preview-new.json").write_text(previews[0].stdout)   # the PR summary's input, below
            record("preview_new", previews, counted)
            ups, counted = timed_step(servers, 1, lambda: run_pulumi(
                work, env, "up", "--yes", "--skip-preview", "--suppress-outputs"))
            record("up", ups, counted)
            sames, counted = timed_step(servers, repeat, lambda: run_pulumi(
                work, env, "preview", "--json", "--expect-no-changes"))
            summary = change_summary(sames[0])
            if set(summary) - {"same"}:
                raise BenchFailure(f"{kind} N={n}: the preview after up shows changes: {summary}")
            record("preview_same", sames, counted)
            refreshes, counted = timed_step(servers, repeat, lambda: run_pulumi(
                work, env, "refresh", "--yes", "--skip-preview", "--expect-no-changes", "--suppress-outputs"))
            record("refresh", refreshes, counted)
            figures["tools"] = measure_tools(work, env, repeat) if kind != FLOOR else {}
            state_bytes, dynamic = exported_state(work, env)
            # Calls per resource of the entries (a CAS or SCM stack's purchase journal, the distributions'
            # template snapshot: overhead of the stack, not resources of their own).
            own = n * (KINDS[kind].resources_per_entry if kind in KINDS else 1)
            figures["read_allowance_seconds"] = read_allowance(kind, n, figures["calls"]["refresh"])
            figures.update(creates=creates, resources=dynamic, state_bytes=state_bytes,
                           state_bytes_per_resource=round(state_bytes / max(dynamic, 1)),
                           calls_per_resource={step: calls_by_operation(figures["calls"][step], own)
                                               for step in STEPS})
            return figures
        finally:
            servers.stop()


# Issue 11: at 1,000 resources these stay under a second. (label, argv); run in the stack's directory.
TOOLS = (("pulumi stack output --json", ["pulumi", "stack", "output", "--json", "--non-interactive"]),
         ("report (scripts/report.py)", [sys.executable, "-m", "scripts.report"]),
         ("report --json", [sys.executable, "-m", "scripts.report", "--json"]),
         ("PR summary of the new-stack preview", [sys.executable, "-m", "scripts.pr_summary",
                                                  "bench-preview-new.json"]))
TOOLS_TARGET_SECONDS = 1.0


def measure_tools(work: Path, env: dict[str, str], repeat: int) -> dict:
    """{label: {seconds (median), peak_mb, exit}} of the tools a user runs on a large stack."""
    tool_env = {**env, "PYTHONPATH": str(ROOT)}
    measured = {}
    for label, argv in TOOLS:
        runs = [timed_tool(argv, work, tool_env) for _ in range(max(repeat, 2))]
        measured[label] = {"seconds": round(statistics.median(r[0] for r in runs), 3),
                           "peak_mb": round(max(r[1] for r in runs), 1),
                           "exit": next((r[2] for r in runs if r[2]), 0)}   # any run that failed fails it
    return measured


def read_allowance(kind: str, n: int, refresh_calls: dict) -> float:
    """Seconds that one read call per resource takes at least: issue 11 allows them beside 1.5x the floor's
    refresh. For reads certfleet's client paces at the cloud's quota (scripts/bench_engine_stacks.Kind
    .paced_reads; components/aws/clients.py), N calls at the paced rate of each such operation, added up: the
    engine asks for the reads in state order (every certificate before the distributions) and the dynamic
    provider serves 4 calls at a time, all of them waiting on the bucket of the operation in front, so two
    operations' reads do not overlap (measured: distributions, N = 100, 34.6 s against 11.1 s + 22.2 s); else
    the servers' CPU seconds during the refresh (their time answering)."""
    reads = KINDS[kind].paced_reads if kind in KINDS else ()   # the floor reads nothing
    paced = sum(n / (requests_per_second(service, operation) * PACE) for service, operation in reads)
    return round(max(paced, refresh_calls.get("server_cpu_seconds") or 0.0), 2)


def measure_startup(kind: str, bin_dir: str, repeat: int) -> dict:
    """The provider's start-up: its modules imported in a fresh interpreter, and a 1-resource preview."""
    with tempfile.TemporaryDirectory(prefix=f"bench-engine-{kind}-startup-") as tmp:
        work, env, servers = open_stack(kind, 1, tmp, bin_dir)
        try:
            modules = ("floor_provider",) if kind == FLOOR else KINDS[kind].provider_modules
            # The provider process runs in the project's directory, with the stack's environment.
            imported = import_time(modules, work, {**env, "HOME": tmp})
            previews = [checked(run_pulumi(work, env, "preview", "--json")) for _ in range(repeat)]
            return {"import_seconds": round(imported.seconds, 4),
                    "interpreter_and_import_seconds": round(imported.process_seconds, 4),
                    "importtime_top": imported.top, "modules": list(modules),
                    "preview_one_seconds": statistics.median(c.seconds for c in previews)}
        finally:
            servers.stop()


def machine() -> dict:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    memory_kb = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                         if line.startswith("MemTotal")))
    version = subprocess.run(["pulumi", "version"], capture_output=True, text=True,
                             env={**os.environ, "PATH": f"{pulumi_bin()}{os.pathsep}{os.environ['PATH']}"}).stdout
    return {"cpu": model, "cores": os.cpu_count(), "memory_gb": round(memory_kb / 1024 / 1024, 1),
            "python": platform.python_version(), "pulumi": version.strip(), "load_average": os.getloadavg()}


def run_all(sizes: list[int], kinds: list[str], repeat: int, say=print, save=lambda results: None) -> dict:
    """Every kind at every size (the floor first, at each size its kinds need); `save(results)` after each
    stack, so a long run that is stopped keeps what it measured. A stack that fails is recorded, not fatal."""
    bin_dir = pulumi_bin()
    results: dict = {"machine": machine(), "sizes": sizes, "kinds": kinds, "repeat": repeat,
                     "startup": {}, "runs": []}
    certfleet_kinds = [k for k in kinds if k != FLOOR]

    def attempt(measurement, kind: str, n: int):
        try:
            return measurement()
        except (BenchFailure, subprocess.CalledProcessError, RuntimeError) as failure:
            say(f"  {kind} N={n} FAILED: {str(failure)[-1500:]}")
            return {"kind": kind, "n": n, "error": str(failure)[-3000:]}

    for kind in kinds:
        say(f"start-up: {kind}")
        results["startup"][kind] = attempt(lambda: measure_startup(kind, bin_dir, repeat), kind, 1)
        save(results)
    for n in sizes:
        counts = sorted({n * KINDS[k].resources_per_entry for k in certfleet_kinds} | {n}) if FLOOR in kinds else []
        for kind, size in [(FLOOR, count) for count in counts] + [(kind, n) for kind in certfleet_kinds]:
            results["runs"].append(attempt(lambda: measure(kind, size, repeat, bin_dir, say), kind, size))
            save(results)
    return results


# --- the tables ----------------------------------------------------------------------------------------

def ratio(ours: float | None, floor: float | None) -> float | None:
    return ours / floor if ours is not None and floor else None


def fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def verdict(n: int, value: float | None, limit: float) -> str:
    if n != TARGET_N:
        return f"<= {limit:g} (judged at N={TARGET_N})"
    return f"<= {limit:g} {'PASS' if value is not None and value <= limit else 'FAIL'}"


def error_line(error: str, width: int = 240) -> str:
    """An error's first line, its middle cut if too long (the cause is often at the end)."""
    line = error.strip().splitlines()[0] if error.strip() else "(no output)"
    return line if len(line) <= width else f"{line[:width // 3]} ... {line[-(width * 2 // 3):]}"


def calls_text(per_operation: dict[str, float]) -> str:
    total = sum(per_operation.values())
    parts = ", ".join(f"{op} {count:g}" for op, count in per_operation.items())
    return f"{total:.2f}" + (f" ({parts})" if parts else "")


def floor_of(results: dict, run: dict) -> dict | None:
    """The floor run with as many resources as `run`'s entries have."""
    count = run["n"] * KINDS[run["kind"]].resources_per_entry
    return next((r for r in results["runs"] if r["kind"] == FLOOR and r["n"] == count and "error" not in r), None)


def add_ratios(results: dict) -> None:
    """Each certfleet run's ratios to its floor, and the issue's targets with their verdicts (at N = 1,000)."""
    results["targets"] = []
    for run in results["runs"]:
        if "error" in run and run["n"] == TARGET_N:   # a stack that cannot run misses every target
            results["targets"].append({"kind": run["kind"], "n": run["n"], "figure": "ran", "value": None,
                                       "limit": None, "judged": True, "pass": False, "error": run["error"]})
        if run["kind"] == FLOOR or "error" in run:
            continue
        floor = floor_of(results, run)
        ratios = {step: ratio(run["seconds"][step], floor["seconds"][step] if floor else None) for step in STEPS}
        # The refresh target: 1.5x the floor beside the time one read call per resource takes (read_allowance).
        run["refresh_beyond_seconds"] = max(0.0, run["seconds"]["refresh"] - run.get("read_allowance_seconds", 0.0))
        ratios["refresh_raw"] = ratios["refresh"]
        ratios["refresh"] = ratio(run["refresh_beyond_seconds"], floor["seconds"]["refresh"] if floor else None)
        ratios["state_bytes_per_resource"] = ratio(run["state_bytes_per_resource"],
                                                   floor["state_bytes_per_resource"] if floor else None)
        run["ratios"] = {k: round(v, 3) if v is not None else None for k, v in ratios.items()}
        checks = [(key, ratios[key], limit) for key, limit in TARGETS.items()]
        checks.append(("refresh_calls_per_resource", sum(run["calls_per_resource"]["refresh"].values()),
                       REFRESH_READS_TARGET))
        for label, tool in run.get("tools", {}).items():
            checks.append((f"tool: {label}", tool["seconds"] if tool["exit"] == 0 else None, TOOLS_TARGET_SECONDS))
        for key, value, limit in checks:
            results["targets"].append({"kind": run["kind"], "n": run["n"], "figure": key, "value": value,
                                       "limit": limit, "judged": run["n"] == TARGET_N,
                                       "pass": value is not None and value <= limit})


def kind_table(kind: str, results: dict) -> list[str]:
    lines = [f"== {kind} against the floor ==", f"{'figure':<34} {'certfleet':>10} {'floor':>10} {'ratio':>7}  target"]
    per = "resource (certificates and distributions)" if KINDS[kind].resources_per_entry == 2 else "resource"
    for run in (r for r in results["runs"] if r["kind"] == kind):
        if "error" in run:
            lines.append(f"-- N = {run['n']}: FAILED: {error_line(run['error'])}")
            continue
        n, floor, ratios = run["n"], floor_of(results, run), run["ratios"]
        lines.append(f"-- N = {n}: {run['resources']} dynamic resources; floor: "
                     f"{floor['resources'] if floor else '-'}; load average {run.get('load_average', [0])[0]:.2f} --")
        for step in STEPS:
            shown = ratios.get("refresh_raw", ratios[step]) if step == "refresh" else ratios[step]
            target = verdict(n, ratios[step], TARGETS[step]) if step in TARGETS and step != "refresh" else ""
            lines.append(f"{STEP_LABELS[step]:<34} {fmt(run['seconds'][step]):>10} "
                         f"{fmt(floor['seconds'][step] if floor else None):>10} {fmt(shown):>6}x  {target}")
        allowance = run.get("read_allowance_seconds", 0.0)
        lines.append(f"{'  beyond one read per resource (s)':<34} {fmt(run['refresh_beyond_seconds']):>10} "
                     f"{fmt(floor['seconds']['refresh'] if floor else None):>10} {fmt(ratios['refresh']):>6}x  "
                     f"{verdict(n, ratios['refresh'], TARGETS['refresh'])} (one read per resource: {fmt(allowance)} s)")
        server_cpu = ", ".join(f"{step} {fmt(run['calls'][step].get('server_cpu_seconds'), 1)}" for step in STEPS)
        lines.append(f"{'  of which servers CPU (s)':<34} {server_cpu}")
        for role in ("program", "provider", "engine"):
            ours = ", ".join(f"{step} {fmt(run.get('cpu_seconds', {}).get(step, {}).get(role), 1)}"
                             for step in STEPS)
            base = ", ".join(f"{fmt(floor.get('cpu_seconds', {}).get(step, {}).get(role), 1)}"
                             for step in STEPS) if floor else "-"
            lines.append(f"{'  CPU s ' + role:<34} {ours}  (floor: {base})")
        lines.append(f"{'state bytes per resource':<34} {run['state_bytes_per_resource']:>10,} "
                     f"{fmt(floor['state_bytes_per_resource'] if floor else None, 0):>10} "
                     f"{fmt(ratios['state_bytes_per_resource']):>6}x  "
                     f"{verdict(n, ratios['state_bytes_per_resource'], TARGETS['state_bytes_per_resource'])}")
        for role in ("program", "provider", "engine"):
            ours = run["peak_mb"]["up"].get(role)
            base = floor["peak_mb"]["up"].get(role) if floor else None
            lines.append(f"{'peak RSS ' + role + ' in up (MB)':<34} {fmt(ours, 0):>10} {fmt(base, 0):>10} "
                         f"{fmt(ratio(ours, base)):>6}x")
        lines.append(f"  cloud calls per {per}, counted at the servers (the floor makes none):")
        for step in STEPS:
            lines.append(f"    {step:<13} {calls_text(run['calls_per_resource'][step])}")
        for label, tool in run.get("tools", {}).items():
            failed = f" (exit {tool['exit']})" if tool["exit"] else ""
            peak = f"peak {fmt(tool['peak_mb'], 0)} MB"
            lines.append(f"  {label + ' (s)':<32} {fmt(tool['seconds']):>10} {peak:>18}"
                         f"  {verdict(n, tool['seconds'] if not failed else None, TOOLS_TARGET_SECONDS)}{failed}")
        reads = sum(run["calls_per_resource"]["refresh"].values())
        lines.append(f"  refresh: read calls per resource {reads:.2f}  {verdict(n, reads, REFRESH_READS_TARGET)}")
    return lines


def startup_table(results: dict) -> list[str]:
    floor = results["startup"].get(FLOOR, {})
    lines = ["== provider start-up ==",
             f"{'kind':<14} {'import (s)':>10} {'floor':>7} {'ratio':>6}  {'process (s)':>11} {'floor':>7}  "
             f"{'1-resource preview (s)':>22} {'floor':>7} {'ratio':>6}"]
    for kind, s in results["startup"].items():
        if "error" in s:
            lines.append(f"{kind:<14} FAILED: {error_line(s['error'])}")
            continue
        lines.append(f"{kind:<14} {s['import_seconds']:>10.3f} {fmt(floor.get('import_seconds'), 3):>7} "
                     f"{fmt(ratio(s['import_seconds'], floor.get('import_seconds'))):>5}x  "
                     f"{s['interpreter_and_import_seconds']:>11.3f} "
                     f"{fmt(floor.get('interpreter_and_import_seconds'), 3):>7}  "
                     f"{s['preview_one_seconds']:>22.2f} {fmt(floor.get('preview_one_seconds')):>7} "
                     f"{fmt(ratio(s['preview_one_seconds'], floor.get('preview_one_seconds'))):>5}x")
    for kind, s in results["startup"].items():
        if "error" in s:
            continue
        top = ", ".join(f"{name} {seconds * 1000:.0f} ms" for name, seconds in s["importtime_top"])
        lines.append(f"  -X importtime, {kind} ({' + '.join(s['modules'])}): {top}")
    return lines


def report(results: dict) -> str:
    m = results["machine"]
    lines = [f"machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB; Python {m['python']}, pulumi "
             f"{m['pulumi']}; load average at start {', '.join(f'{x:.2f}' for x in m['load_average'])}",
             f"repetitions of previews and refresh: {results['repeat']} (median)", ""]
    add_ratios(results)
    lines += startup_table(results)
    for kind in results["kinds"]:
        if kind != FLOOR:
            lines += [""] + kind_table(kind, results)
    judged = [t for t in results["targets"] if t["judged"]]
    if judged:
        lines += ["", f"== issue 11's targets at N = {TARGET_N} =="]
        lines += [f"{t['kind']:<14} {t['figure']:<27} {fmt(t['value'])} (<= {t['limit']:g})  "
                  f"{'PASS' if t['pass'] else 'FAIL'}" if "error" not in t else
                  f"{t['kind']:<14} {'ran':<27} FAIL: {error_line(t['error'])}" for t in judged]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,300,1000")
    parser.add_argument("--kinds", default=",".join((*CERTFLEET_KINDS, FLOOR)))
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--json", dest="json_file")
    parser.add_argument("--short", action="store_true", help=f"N={SHORT_N}, every kind, one repetition")
    parser.add_argument("--profile", action="store_true", help="where the time goes, for one kind and N")
    parser.add_argument("--profile-step", default="preview_same", choices=STEPS)
    parser.add_argument("--profile-dir", help="keep the profiles here (default: a new temp directory)")
    parser.add_argument("--from-json", help="print the tables of a run saved with --json; run nothing")
    args = parser.parse_args(argv)
    if args.from_json:
        print(report(json.loads(Path(args.from_json).read_text())))
        return 0
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    unknown = set(kinds) - {*CERTFLEET_KINDS, FLOOR}
    if unknown:
        parser.error(f"unknown kinds {sorted(unknown)}; known: {', '.join((*CERTFLEET_KINDS, FLOOR))}")
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    if args.profile:
        from scripts.bench_engine_profile import profile
        kind = kinds[0] if args.kinds != parser.get_default("kinds") else "acm"
        n = sizes[0] if args.sizes != parser.get_default("sizes") else 300
        print(profile(kind, n, args.profile_step, pulumi_bin(), args.profile_dir))
        return 0
    if args.short:
        sizes, kinds, args.repeat = [SHORT_N], [*CERTFLEET_KINDS, FLOOR], 1

    def save(results: dict) -> None:
        if args.json_file:
            Path(args.json_file).write_text(json.dumps(results, indent=1))

    results = run_all(sizes, kinds, args.repeat, save=save)
    print()
    print(report(results))
    save(results)   # with the ratios and verdicts
    failed = [r for r in [*results["runs"], *results["startup"].values()] if "error" in r]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
