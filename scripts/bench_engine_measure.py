"""How scripts/bench_engine.py measures: one `pulumi` command's wall time, the peak memory and CPU seconds of its
process tree, a stack's exported state, the calls counted at the servers, provider modules' import time.

Peak memory is each process's VmHWM (the kernel's high-water mark of its resident set) read from /proc every
0.1 s while the command runs, for the whole `pulumi` process tree; the last reading of a process is its peak
(a process that lives less than 0.1 s can be missed). Processes are told apart by their command line.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

SAMPLE_SECONDS = 0.1
ROLES = (("program", "pulumi-language-python-exec"), ("provider", "pulumi.dynamic"),
         ("language host", "pulumi-language-python"), ("engine", "pulumi"))


@dataclass
class Command:
    argv: list[str]
    seconds: float
    returncode: int
    stdout: str
    stderr: str
    peak_mb: dict[str, float] = field(default_factory=dict)   # role -> max VmHWM in MB
    cpu_seconds: dict[str, float] = field(default_factory=dict)   # role -> user + system CPU seconds

    def failure(self) -> str:
        """What went wrong: the error diagnostics of a `--json` run, else the output's last lines."""
        try:
            errors = [d["message"].strip() for d in json.loads(self.stdout).get("diagnostics") or []
                      if d.get("severity") == "error"]
        except (ValueError, AttributeError, KeyError, TypeError):
            errors = []
        detail = "\n".join(errors)[-3000:] if errors else (self.stdout + self.stderr)[-3000:]
        return f"pulumi {' '.join(self.argv)} exited {self.returncode}: {detail}"


def role_of(cmdline: list[str]) -> str | None:
    text = " ".join(cmdline)
    for role, marker in ROLES:
        if role == "engine":
            if cmdline and os.path.basename(cmdline[0]) == "pulumi":
                return role
        elif marker in text:
            return role
    return None


def _process_table() -> dict[int, int]:
    """pid -> parent pid, for every process."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    return parents


def _descendants(root: int) -> list[int]:
    parents = _process_table()
    found, frontier = [root], [root]
    while frontier:
        frontier = [pid for pid, parent in parents.items() if parent in frontier]
        found.extend(frontier)
    return found


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _sample(pid: int) -> tuple[str | None, int, float]:
    """(role, VmHWM in kB, user + system CPU seconds so far) of one process."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
        status = Path(f"/proc/{pid}/status").read_text()
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None, 0, 0.0
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
    cpu = (int(stat[11]) + int(stat[12])) / CLOCK_TICKS   # utime, stime (fields 14, 15 of /proc/<pid>/stat)
    return role_of([part for part in cmdline if part]), int(match.group(1)) if match else 0, cpu


class ProcessSampler:
    """Peak VmHWM and CPU seconds per role in the process tree of `pid` until stopped. CPU is each process's
    last reading, so up to 0.1 s of a process's final work can be missed."""

    def __init__(self, pid: int):
        self.pid = pid
        self.readings: dict[int, tuple[str, int, float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            for pid in _descendants(self.pid):
                role, kb, cpu = _sample(pid)
                if role and kb:
                    seen = self.readings.get(pid, (role, 0, 0.0))
                    self.readings[pid] = (role, max(kb, seen[1]), max(cpu, seen[2]))
            self._stop.wait(SAMPLE_SECONDS)

    def stop(self) -> tuple[dict[str, float], dict[str, float]]:
        """({role: peak MB}, {role: CPU seconds, summed over the role's processes})."""
        self._stop.set()
        self._thread.join()
        peaks: dict[str, float] = {}
        cpu: dict[str, float] = {}
        for role, kb, seconds in self.readings.values():
            peaks[role] = max(peaks.get(role, 0.0), kb / 1024)
            cpu[role] = cpu.get(role, 0.0) + seconds
        return peaks, cpu


def run_pulumi(work: Path, env: dict[str, str], *argv: str, timeout: float = 7200) -> Command:
    """`pulumi <argv> --non-interactive` in `work`: wall time, exit code, output and peak memory by role."""
    full = ["pulumi", *argv, "--non-interactive"]
    start = time.perf_counter()
    process = subprocess.Popen(full, cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sampler = ProcessSampler(process.pid)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
    seconds = time.perf_counter() - start
    peaks, cpu = sampler.stop()
    return Command(list(argv), seconds, process.returncode, stdout, stderr, peaks, cpu)


def timed_tool(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, int]:
    """(wall seconds, peak RSS in MB of the process and what it waited for, exit code) of one command."""
    start = time.perf_counter()
    process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)   # reaped here: Popen must not wait for it again
    # ru_maxrss of wait4 is the largest of the process and the children it waited for (kB on Linux)
    return time.perf_counter() - start, usage.ru_maxrss / 1024, process.returncode


def exported_state(work: Path, env: dict[str, str]) -> tuple[int, int]:
    """(bytes of `pulumi stack export`, dynamic resources in it)."""
    result = subprocess.run(["pulumi", "stack", "export", "--non-interactive"], cwd=work, env=env,
                            capture_output=True, text=True, check=True)
    resources = json.loads(result.stdout)["deployment"].get("resources") or []
    dynamic = sum(1 for r in resources if r["type"].startswith("pulumi-python:dynamic"))
    return len(result.stdout.encode()), dynamic


def calls_by_operation(counted: dict, resources: int) -> dict[str, float]:
    """{operation: calls per resource} from the servers' counts (every outcome counts as a call)."""
    return {operation: round(sum(outcomes.values()) / resources, 3)
            for operation, outcomes in sorted(counted.get("operations", {}).items())}


@dataclass
class ImportTime:
    module: str
    seconds: float                 # the import alone (perf_counter around it)
    process_seconds: float         # the whole fresh interpreter: start-up + import + exit
    top: list[tuple[str, float]]   # -X importtime: (package, cumulative seconds), largest first


def import_time(modules: tuple[str, ...], cwd: Path, env: dict[str, str], repeat: int = 3,
                top: int = 8) -> ImportTime:
    """Import `modules` in a fresh interpreter (the provider process's start-up cost): the best of `repeat`
    plain runs, and the largest cumulative entries of one `-X importtime` run (which adds its own overhead)."""
    module = ", ".join(modules)
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    subprocess.run([sys.executable, "-c", f"import {module}"], cwd=cwd, env=env, check=True,
                   capture_output=True)   # warm: byte-compiled files on disk, as on a user's second run
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True,
                                check=True)
        runs.append((float(result.stdout.strip().splitlines()[-1]), time.perf_counter() - start))
    traced = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {module}"], cwd=cwd, env=env,
                            capture_output=True, text=True, check=True)
    entries = []
    for line in traced.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|\s*(\S+)", line)
        if match:
            entries.append((match.group(3), int(match.group(2)) / 1e6))
    seconds, process_seconds = min(runs)
    return ImportTime(module, seconds, process_seconds, sorted(entries, key=lambda e: -e[1])[:top])
