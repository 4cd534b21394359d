"""SCM v2 purchase, a kill at every step (docs/scm-v2.md, docs/campaign.md "v2 step kills").

The v2 purchase carries no tags, so what a killed run leaves depends on where it died: an answer never read,
a certificate never tagged, one tagged but never applied for, one applied for but never recorded. Random kill
moments rarely land in those few milliseconds, so this phase aims at each: the SCM emulator holds the step's
call (a fault rule with a delay, one request) and the run is SIGKILLed while the call is held; the call then
goes through, or fails, as the step says. The next `pulumi up` (no faults) must end with exactly one
certificate for the entry, and every later count (duplicates, orphans) includes these generations.

Each step uses a config with the v2 entry alone (stack.v2_only_config), so that the held call is that entry's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from components.packing import unpacked
from scripts.campaign.processes import http_json
from scripts.campaign.stack import v2_only_config

if TYPE_CHECKING:
    from scripts.campaign.campaign import Campaign

HOLD_SECONDS = 2.0  # how long the emulator holds the step's call: the kill lands meanwhile
ENTRY = "scm/legacy"


@dataclass(frozen=True)
class Step:
    left: str        # what the killed run leaves behind
    operation: str   # the SCM call held while the run is killed
    lands: bool      # the held call goes through after the kill (else it fails: 500)


V2_STEPS = (
    Step("v2 purchase sent, its answer never read: bought, untagged, unrecorded", "PurchaseCertificateV2", True),
    Step("bought, killed in the tag call: never tagged", "BatchCreateOrDeleteTags", False),
    Step("bought and tagged, never applied for", "ApplyCertificate", False),
    Step("applied for, never recorded in the state", "ApplyCertificate", True),
)


def _hold(scm_url: str, step: Step) -> int:
    http_json("DELETE", scm_url + "/_emulator/faults")
    rule = {"action": step.operation, "delay": HOLD_SECONDS, "times": 1, **({} if step.lands else {"status": 500})}
    return http_json("POST", scm_url + "/_emulator/faults", rule)["id"]


def _held(scm_url: str, rule_id: int) -> bool:
    """The rule has taken its one request (a used-up rule leaves the list): the call is being held now."""
    rules = http_json("GET", scm_url + "/_emulator/faults")["faults"]
    return all(r["id"] != rule_id for r in rules)


def v2_step_kills(c: "Campaign") -> None:
    """After the concurrent ups: destroy, then per step a fresh generation of the v2-only config, killed in
    the step, and the `pulumi up` that must find what it left; then the full config again."""
    scm_url = c.servers.urls["scm"]
    for n, step in enumerate(V2_STEPS, 1):
        c.destroy()
        c.generation += 1
        c.config = v2_only_config(c.generation, c.args.listing_lag_seconds)
        c.project.write_config(c.config)
        rule_id = _hold(scm_url, step)
        run = c.up(f"v2step{n}", kill_when=lambda: _held(scm_url, rule_id))
        time.sleep(HOLD_SECONDS + 0.5)  # the held call ends (goes through or fails) before anyone looks
        http_json("DELETE", scm_url + "/_emulator/faults")
        if run.killed:
            c.cancel_dead_lock()
            c.clear_pending_creates()
        recovered = c.up(f"v2step{n}-up")
        if recovered.returncode != 0:
            c.operator_fixes(recovered)
            recovered = c.up(f"v2step{n}-up-again")
        exported = c.project.export()
        found = c.server_count().entry_counts(exported).get(ENTRY, 0)
        adopted = [unpacked(r.get("outputs")).get("adopted") for r in exported["deployment"].get("resources") or []
                   if r["urn"].endswith("::legacy")]
        c.figures.v2_steps.append({"step": step.left, "operation": step.operation, "killed": run.killed,
                                   "kill_run": run.number, "up_exit": recovered.returncode, "at_server": found,
                                   "adopted": bool(adopted and adopted[0])})
        c.say(f"v2 step {n}/{len(V2_STEPS)} ({step.left}): killed {run.killed}, then up exit "
              f"{recovered.returncode}, {found} at the server")
        if found > 1:
            c.figures.duplicates += found - 1
            c.figures.duplicate_details.append(f"{ENTRY} (generation {c.generation}, v2 step '{step.left}'): "
                                               f"{found} at the server")
    c.destroy()
    c.generation += 1
    c.new_generation()
