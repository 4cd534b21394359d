"""`scripts/bench_engine.py --profile`: where the time of one `pulumi` command goes, for one kind and N.

Three processes, each profiled on its own:
- the program (`pulumi-language-python-exec` running __main__.py) and the dynamic provider (`python -m
  pulumi.dynamic`): neither has a profiling switch, so the project's `.venv` is swapped, for the profiled
  command only, for one whose `bin/python` runs those two command lines under cProfile (every thread: the
  provider serves calls from a pool of 4 gRPC threads) and execs the real interpreter for anything else;
  each writes `<role>-<pid>.prof` when it exits (the provider on the engine's SIGINT);
- the engine: `pulumi ... --profiling PREFIX` (Go's CPU profile), read with `go tool pprof -top -cum`.
The commands before the profiled one run unprofiled. cProfile slows Python down, so the profiled command's
wall time is longer than the benchmark's: read the shares, not the seconds.
"""

from __future__ import annotations

import os
import pstats
import shutil
import subprocess
import tempfile
from pathlib import Path

from scripts.bench_engine_measure import run_pulumi

TOP = 15
# Frames where a thread waits or is started: their cumulative time is a thread's lifetime, not work.
# (The program's wait for the engine's answers, grpc/_channel.py _blocking, is kept: it is the engine's time.)
IDLE = ("threading.py", "concurrent/futures/thread.py", "queue.py", "selectors.py", "_thread.lock",
        "_queue.SimpleQueue", "time.sleep", "of 'select.", "grpc/_server.py", "bench_profile_run.py")
# Frames that wrap everything below them (the event loop, runpy, the import machinery but its entry point):
# left out so that the top entries are the work itself.
WRAPPERS = ("asyncio/base_events.py", "asyncio/events.py", "<frozen runpy>", "_contextvars.Context",
            "builtins.exec", "pulumi-language-python-exec", "pulumi/dynamic/__main__.py:1(<module>)",
            "pulumi/dynamic/__main__.py:246(main)", "builtins.__import__", "_call_with_frames_removed",
            "_find_and_load_unlocked", "_load_unlocked", "exec_module", "_handle_fromlist")

RUNNER = '''"""Run a Python command line under cProfile (all threads) if it is the Pulumi program or the dynamic
provider; exec the real interpreter for anything else (scripts/bench_engine_profile.py)."""
import cProfile, os, pstats, runpy, signal, sys, threading

out_dir, args = sys.argv[1], sys.argv[2:]
flags = []
while args and args[0] in ("-u", "-B", "-E", "-s"):
    flags.append(args.pop(0))
if args[:2] == ["-m", "pulumi.dynamic"]:
    role = "provider"
elif args and args[0].endswith("pulumi-language-python-exec"):
    role = "program"
else:
    os.execv(sys.executable, [sys.executable, *flags, *args])

profiles = [cProfile.Profile()]


def profile_this_thread(frame, event, arg):
    sys.setprofile(None)
    profile = cProfile.Profile()
    profiles.append(profile)
    profile.enable()


def dump():
    profiles[0].disable()
    merged = None
    for profile in profiles:
        try:
            stats = pstats.Stats(profile)
        except TypeError:   # a thread that made no call
            continue
        merged = stats if merged is None else merged.add(stats)
    if merged is not None:
        merged.dump_stats(os.path.join(out_dir, f"{role}-{os.getpid()}.prof"))


signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
threading.setprofile(profile_this_thread)
profiles[0].enable()
try:
    # sys.path[0] as the plain command line would have it (this runner's directory is not it).
    if role == "provider":
        sys.path[0] = os.getcwd()   # `python -m`: the project's directory, where its provider modules are
        sys.argv = ["pulumi.dynamic", *args[2:]]
        runpy.run_module("pulumi.dynamic", run_name="__main__", alter_sys=True)
    else:
        sys.path[0] = os.path.dirname(os.path.abspath(args[0]))
        sys.argv = list(args)
        runpy.run_path(args[0], run_name="__main__")
finally:
    dump()
'''


def profiling_venv(tmp: Path, real_venv: Path, out_dir: Path) -> Path:
    """A virtualenv directory whose `bin/python` is the profiling runner over the real interpreter."""
    venv = tmp / "profiling-venv"
    (venv / "bin").mkdir(parents=True)
    for name in ("lib", "lib64", "include", "pyvenv.cfg"):
        if (real_venv / name).exists():
            (venv / name).symlink_to(real_venv / name)
    runner = venv / "bench_profile_run.py"
    runner.write_text(RUNNER)
    wrapper = venv / "bin" / "python"
    # -u: the dynamic provider announces its port on stdout without flushing.
    wrapper.write_text(f'#!/bin/sh\nexec "{real_venv}/bin/python" -u "{runner}" "{out_dir}" "$@"\n')
    wrapper.chmod(0o755)
    (venv / "bin" / "python3").symlink_to("python")
    return venv


def python_top(files: list[Path], title: str) -> list[str]:
    if not files:
        return [f"{title}: no profile written"]
    stats = pstats.Stats(*[str(f) for f in files])
    rows = []
    for (filename, line, function), (_, calls, own, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        where = f"{filename}:{line}({function})" if line else function
        if not any(marker in where for marker in (*IDLE, *WRAPPERS)):
            rows.append((cumulative, own, calls, where))
    lines = [f"{title}: top {TOP} by cumulative time (threads' waiting and start-up frames, the event loop and "
             "the import machinery's inner frames left out)",
             f"{'cumulative s':>12} {'own s':>8} {'calls':>9}  function"]
    lines += [f"{c:>12.3f} {o:>8.3f} {n:>9}  {short(w)}" for c, o, n, w in sorted(rows, reverse=True)[:TOP]]
    lines += ["  ... by own time: " + ", ".join(f"{short(w)} {o:.2f} s"
                                               for _, o, _, w in sorted(rows, key=lambda r: -r[1])[:8])]
    return lines


def short(where: str) -> str:
    for marker in ("site-packages/", "/work/", "lib/python3"):
        if marker in where:
            return where.split(marker, 1)[1]
    return where


def engine_top(prefix: Path) -> list[str]:
    files = sorted(prefix.parent.glob(prefix.name + ".*.cpu"))
    if not files:
        return ["engine: no CPU profile written"]
    go = shutil.which("go")
    if go is None:
        return [f"engine: CPU profile in {files[0]} (no `go` to read it: go tool pprof -top -cum FILE)"]
    result = subprocess.run([go, "tool", "pprof", "-top", "-cum", f"-nodecount={TOP}", str(files[0])],
                            capture_output=True, text=True, env={**os.environ, "GOTOOLCHAIN": "local"})
    body = [line for line in result.stdout.splitlines()
            if line.strip() and not line.startswith(("File:", "Build ID:", "Type:", "Time:"))]
    return [f"engine: top {TOP} by cumulative CPU time (go tool pprof -top -cum {files[0].name})", *body]


def profile(kind: str, n: int, step: str, bin_dir: str, keep_dir: str | None = None) -> str:
    from scripts.bench_engine import checked, open_stack

    out_dir = Path(keep_dir or tempfile.mkdtemp(prefix="bench-engine-profile-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    commands = {"preview_new": ("preview", "--json"), "up": ("up", "--yes", "--skip-preview", "--suppress-outputs"),
                "preview_same": ("preview", "--json", "--expect-no-changes"),
                "refresh": ("refresh", "--yes", "--skip-preview", "--expect-no-changes", "--suppress-outputs")}
    with tempfile.TemporaryDirectory(prefix=f"bench-engine-profile-{kind}-") as tmp:
        work, env, servers = open_stack(kind, n, tmp, bin_dir)
        try:
            if step in ("preview_same", "refresh"):
                checked(run_pulumi(work, env, *commands["up"]))
            # The same command unprofiled, for its wall time (not for up: a second up would find the stack made).
            plain = None if step == "up" else checked(run_pulumi(work, env, *commands[step]))
            real_venv = (work / ".venv").resolve()
            (work / ".venv").unlink()
            (work / ".venv").symlink_to(profiling_venv(Path(tmp), real_venv, out_dir))
            engine = out_dir / "engine"
            profiled = checked(run_pulumi(work, env, *commands[step], "--profiling", str(engine)))
        finally:
            servers.stop()
    unprofiled = f"{plain.seconds:.1f} s unprofiled, " if plain else ""
    lines = [f"profile of {kind}, N = {n}: pulumi {' '.join(commands[step])}: {unprofiled}"
             f"{profiled.seconds:.1f} s profiled; files in {out_dir}", ""]
    lines += python_top(sorted(out_dir.glob("program-*.prof")), "program") + [""]
    lines += python_top(sorted(out_dir.glob("provider-*.prof")), "provider") + [""]
    lines += engine_top(engine)
    return "\n".join(lines)
