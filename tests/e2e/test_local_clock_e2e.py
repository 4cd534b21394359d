"""`scripts/local.sh clock advance DAYS | clock show` against the local servers as scripts/local_servers.py starts
them (all six, on free ports): every emulator's clock moves together, the total is recorded so that later
scripts/local.sh commands export CERTFLEET_CLOCK_OFFSET_SECONDS for certfleet, and `stop` forgets it.

local.sh works in the checkout it lives in (.local/ beside it): it runs from a copy of scripts/ in a temporary
directory, so the developer's own .local/ is never touched; the servers themselves run from this checkout.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.request
from datetime import datetime, timedelta, timezone

import pytest

from scripts import local_servers
from tests.conftest import ROOT

DAY = timedelta(days=1)


@pytest.fixture
def local_checkout(tmp_path, monkeypatch):
    """A directory with scripts/local.sh and scripts/local_servers.py, and the local servers started for it."""
    (tmp_path / "scripts").mkdir()
    for name in ("local.sh", "local_servers.py"):
        shutil.copy2(ROOT / "scripts" / name, tmp_path / "scripts" / name)
    local = tmp_path / ".local"
    for name, path in (("LOCAL", local), ("REGISTRY", local / "servers.json"), ("STATE_DIR", local / "state"),
                       ("SCM_STATE", local / "scm.json"), ("CAS_STATE", local / "cas.json"),
                       ("CLOCK_FILE", local / "clock.json")):
        monkeypatch.setattr(local_servers, name, path)
    registry = local_servers.start()
    try:
        yield tmp_path, registry
    finally:
        local_servers.stop_all(local_servers.load_registry())


def local_sh(checkout, *args) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(checkout / "scripts" / "local.sh"), *args], capture_output=True, text=True,
                          timeout=60)


def clocks(registry) -> dict[str, datetime]:
    """Each server's clock, read from its own control API."""
    out = {}
    for server in local_servers.SERVERS:
        path = local_servers.CLOCK_PATHS.get(server.name, local_servers.CORE_CLOCK_PATH)
        with urllib.request.urlopen(registry[server.name]["url"] + path, timeout=10) as response:
            out[server.name] = datetime.fromisoformat(json.load(response)["now"])
    return out


def exported_offset() -> str | None:
    """What `scripts/local.sh` evals before every certfleet run (`local_servers.py start`)."""
    found = [line for line in local_servers.exports(local_servers.load_registry())
             if line.startswith("export CERTFLEET_CLOCK_OFFSET_SECONDS=")]
    return found[0].split("=", 1)[1].strip("'") if found else None


def test_clock_advance_moves_every_emulator_and_certfleet_follows_until_stop(local_checkout):
    checkout, registry = local_checkout
    assert {server.name for server in local_servers.SERVERS} == {"dns", "moto", "scm", "cas", "alidns", "huaweidns"}
    shown = local_sh(checkout, "clock", "show")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("offset   0 days") and exported_offset() is None

    before = datetime.now(timezone.utc)
    advanced = local_sh(checkout, "clock", "advance", "61")
    assert advanced.returncode == 0, advanced.stderr
    assert "CERTFLEET_CLOCK_OFFSET_SECONDS=5270400" in advanced.stderr
    for name, now in clocks(registry).items():
        assert 61 * DAY <= now - before < 61 * DAY + timedelta(minutes=2), name
    assert json.loads((checkout / ".local" / "clock.json").read_text()) == {"offset_seconds": 61 * 86400}
    assert exported_offset() == "5270400"

    assert local_sh(checkout, "clock", "advance", "0.5").returncode == 0  # offsets add up
    assert exported_offset() == "5313600"
    assert all(61.5 * DAY <= now - before for now in clocks(registry).values())
    shown = local_sh(checkout, "clock", "show")
    assert shown.stdout.startswith("offset   61.5 days") and "moto " in shown.stdout

    backwards = local_sh(checkout, "clock", "advance", "-1")
    assert backwards.returncode != 0 and "only move forward" in backwards.stderr
    assert local_sh(checkout, "clock", "advance", "soon").returncode != 0
    assert exported_offset() == "5313600"

    stopped = local_sh(checkout, "stop")
    assert stopped.returncode == 0, stopped.stderr
    assert not (checkout / ".local" / "clock.json").exists()
    after_stop = local_sh(checkout, "clock", "show")
    assert after_stop.returncode != 0 and "not all running" in after_stop.stderr
