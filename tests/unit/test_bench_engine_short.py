"""scripts/bench_engine.py --short: every kind and the floor at N = SHORT_N (12) with the real CLI and emulators; every
figure and ratio is printed and saved. Nothing is judged against time (the targets are for N = 1,000)."""

from __future__ import annotations

import pytest

import json
import re
import subprocess
import sys

from scripts.bench_engine import SHORT_N
from tests.conftest import ROOT

KINDS = ("acm", "cas", "scm", "distributions")
STEP_ROWS = ("preview, new stack (s)", "up --skip-preview (s)", "preview, no changes (s)",
             "refresh --skip-preview (s)", "state bytes per resource", "peak RSS program in up (MB)",
             "peak RSS provider in up (MB)", "peak RSS engine in up (MB)")
NUMBER = r"[0-9][0-9,]*(?:\.[0-9]+)?"


# About 25 pulumi runs on servers of its own (2 minutes): it runs beside the other tests (it asserts no time),
# not in the serial phase, to keep .ci/run within its budget.
@pytest.mark.long
def test_short_run_prints_every_figure_and_ratio(tmp_path, pulumi_bin):
    saved = tmp_path / "bench.json"
    result = subprocess.run([sys.executable, "scripts/bench_engine.py", "--short", "--json", str(saved)], cwd=ROOT,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout

    # Every kind's table has every figure with certfleet's value, the floor's and their ratio.
    for kind in KINDS:
        table = out.split(f"== {kind} against the floor ==", 1)[1].split("\n== ", 1)[0]
        assert f"-- N = {SHORT_N}:" in table
        for row in STEP_ROWS:
            assert re.search(rf"^{re.escape(row)}\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}x", table, re.M), (kind, row)
        for step in ("preview_new", "up", "preview_same", "refresh"):
            assert re.search(rf"^    {step}\s+{NUMBER}", table, re.M), (kind, step)
        assert re.search(rf"refresh: read calls per resource {NUMBER}\s+<= 1.1 \(judged at N=1000\)", table)
        assert re.search(rf"beyond one read per resource \(s\)\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}x .*"
                         rf"one read per resource: {NUMBER} s", table)
        assert re.search(rf"^  CPU s program\s+preview_new {NUMBER}, up {NUMBER}", table, re.M)
    startup = out.split("== provider start-up ==", 1)[1].split("\n\n", 1)[0]
    for kind in (*KINDS, "floor"):
        assert re.search(rf"^{kind}\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}x", startup, re.M), kind
        assert f"-X importtime, {kind} (" in startup

    # The saved figures: each certfleet stack made calls at its servers and has a ratio for every figure.
    figures = json.loads(saved.read_text())
    runs = {(r["kind"], r["n"]): r for r in figures["runs"]}
    assert set(runs) == {(k, SHORT_N) for k in KINDS} | {("floor", SHORT_N), ("floor", 2 * SHORT_N)}
    assert runs[("floor", 2 * SHORT_N)]["resources"] == 2 * SHORT_N
    for kind in KINDS:
        run = runs[(kind, SHORT_N)]
        assert run["resources"] >= SHORT_N and run["creates"] > run["resources"]
        assert sum(run["calls_per_resource"]["up"].values()) >= 1, run["calls_per_resource"]
        assert all(value and value > 0 for value in run["ratios"].values()), run["ratios"]
    tools = {"tool: pulumi stack output --json", "tool: report (scripts/report.py)", "tool: report --json",
             "tool: PR summary of the new-stack preview"}
    assert {t["figure"] for t in figures["targets"]} == {"preview_same", "preview_new", "refresh",
                                                        "state_bytes_per_resource", "refresh_calls_per_resource",
                                                        *tools}
    # every tool ran and exited 0 on every stack (a failing tool is judged as missing its target)
    assert all(t["value"] is not None for t in figures["targets"] if t["figure"] in tools), figures["targets"]
    assert not any(t["judged"] for t in figures["targets"])
