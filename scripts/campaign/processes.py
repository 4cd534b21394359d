"""The campaign's processes: the marker every one of them carries in its environment, finding and killing
them by it, a free loopback port for a server, and JSON over HTTP to the campaign's own servers."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))

PYTHON = str(ROOT / ".venv" / "bin" / "python")
MARKER = "CERTFLEET_CAMPAIGN"            # every process the campaign starts carries MARKER=<campaign id>
RUN_MARKER = "CERTFLEET_CAMPAIGN_RUN"    # every pulumi run (and its plugins) carries RUN_MARKER=<run id>


def _marked_pids(marker: str, prefix: bool = False) -> list[int]:
    """Pids of live processes whose environment carries `marker` (e.g. "CERTFLEET_CAMPAIGN_RUN=abc-7"); with
    `prefix`, any variable that starts with it (every run of a campaign: "CERTFLEET_CAMPAIGN_RUN=abc-")."""
    needle = marker.encode() + (b"" if prefix else b"\0")
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                environ = f.read() + b"\0"
        except OSError:
            continue
        if b"\0" + needle in b"\0" + environ:
            pids.append(int(entry))
    return pids


def kill_marked(marker: str, settle_seconds: float = 10.0, polite: bool = False, prefix: bool = False) -> int:
    """SIGKILL every process carrying `marker` (`prefix`: as _marked_pids) until none is left (children spawned
    meanwhile too); with `polite`, SIGTERM first and a second to go. Returns how many were signalled."""
    signalled: set[int] = set()
    if polite:
        for pid in _marked_pids(marker, prefix):
            try:
                os.kill(pid, signal.SIGTERM)
                signalled.add(pid)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 1.0
        while _marked_pids(marker, prefix) and time.monotonic() < deadline:
            time.sleep(0.05)
    deadline = time.monotonic() + settle_seconds
    quiet_rounds = 0
    while time.monotonic() < deadline and quiet_rounds < 3:
        pids = _marked_pids(marker, prefix)
        if not pids:
            quiet_rounds += 1
            time.sleep(0.05)
            continue
        quiet_rounds = 0
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
                signalled.add(pid)
            except ProcessLookupError:
                pass
        time.sleep(0.1)
    return len(signalled)


def clean_environ() -> dict[str, str]:
    """This process's environment without credentials, Pulumi settings or proxies (the SDKs ignore NO_PROXY)."""
    drop = ("AWS_", "PULUMI_", "ALIBABA_CLOUD_", "HUAWEICLOUD_", "CERTFLEET_", "EMU_")
    proxies = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}
    return {k: v for k, v in os.environ.items() if not k.startswith(drop) and k.lower() not in proxies}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_NO_PROXY_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_json(method: str, url: str, body: Any = None, timeout: float = 30) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with _NO_PROXY_OPENER.open(request, timeout=timeout) as response:
        return json.loads(response.read() or b"null")


def wait_until_healthy(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server for {url} exited with {process.returncode}")
        try:
            with _NO_PROXY_OPENER.open(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server at {url} did not answer within {seconds:g}s")
