"""scripts/bench_quota.py --short: `pulumi up` of 20 CAS orders and 20 SCM certificates (and 10 each with
--parallel 1, 4, 16) with the emulators enforcing request rates; every figure is printed and saved. What is
asserted is what cannot depend on the machine's speed: no run failed, and CAS, which certfleet paces at its
published rates, met no throttled answer. Nothing is judged against time."""

from __future__ import annotations

import pytest

import json
import re
import subprocess
import sys

from tests.conftest import ROOT

NUMBER = r"[0-9][0-9,]*(?:\.[0-9]+)?"
FIGURES = ("quota-bound minimum", "up", "of the quota-bound rate", "throttled at the server")


@pytest.mark.long
def test_short_run_prints_every_figure(tmp_path, pulumi_bin):
    saved = tmp_path / "bench.json"
    result = subprocess.run([sys.executable, "scripts/bench_quota.py", "--short", "--json", str(saved)], cwd=ROOT,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout

    for kind in ("cas", "scm"):
        section = out.split(f"== {kind}: up against the quotas ==", 1)[1].split("\n== ", 1)[0]
        runs = section.split("-- ")[1:]
        assert [re.match(r"\w+ N = (\d+), --parallel (\w+)", run).groups() for run in runs] == \
            [("20", "default"), ("10", "1"), ("10", "4"), ("10", "16")]
        for run in runs:
            for figure in FIGURES:
                assert re.search(rf"^  {re.escape(figure)}\s+{NUMBER}", run, re.M), (kind, figure, run)
            assert re.search(r"errors\s+up exit 0, 0 error diagnostics", run), run
    assert "ListUserCertificateOrder: 20 calls at 10/s" in out   # CAS's binding quota, one listing per order

    figures = json.loads(saved.read_text())["runs"]
    assert [(r["kind"], r["n"], r["parallel"]) for r in figures] == [
        (kind, n, parallel) for kind in ("cas", "scm") for n, parallel in ((20, None), (10, 1), (10, 4), (10, 16))]
    for run in figures:
        assert run["up_exit"] == 0 and run["error_diagnostics"] == 0, run
        assert run["quota_bound_seconds"] > 0 and run["up_seconds"] > 0
    assert [run["throttled"] for run in figures if run["kind"] == "cas"] == [0, 0, 0, 0]
