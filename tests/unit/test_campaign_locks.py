"""The campaign's recovery after a killed run: who holds a lock that outlived `pulumi cancel`, and ending
every process of the campaign's runs by their marker's prefix (scripts/campaign)."""

import json
import os
import subprocess
import sys
import time

from scripts.campaign.processes import RUN_MARKER, kill_marked
from scripts.campaign.stack import lock_holders


def test_lock_holders_names_the_live_process_the_lock_names_and_a_dead_one(tmp_path):
    live = tmp_path / "a.json"
    live.write_text(json.dumps({"pid": os.getpid(), "username": "u", "hostname": "h"}))
    dead = tmp_path / "b.json"
    dead.write_text(json.dumps({"pid": 2**22 + 7, "username": "u", "hostname": "h"}))
    broken = tmp_path / "c.json"
    broken.write_text("{")
    said = lock_holders([live, dead, broken])
    assert f"a.json (pid {os.getpid()}, alive: " in said and "python" in said
    assert f"b.json (FileNotFoundError" in said
    assert "c.json (JSONDecodeError" in said
    assert lock_holders([]) == "nobody"


def test_kill_marked_by_prefix_ends_every_run_of_the_campaign_and_nothing_else():
    def sleeper(marker: str) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                                env={**os.environ, RUN_MARKER: marker})

    runs = [sleeper("cf1x2-3"), sleeper("cf1x2-14")]
    other = sleeper("cf1x27-1")  # another campaign whose id starts alike
    try:
        time.sleep(0.3)
        assert kill_marked(f"{RUN_MARKER}=cf1x2-", settle_seconds=2, prefix=True) == 2
        assert [p.wait(timeout=5) for p in runs] == [-9, -9]
        assert other.poll() is None
    finally:
        for process in (*runs, other):
            process.kill()
            process.wait()
