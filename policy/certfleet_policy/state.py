"""The stack's state before this update, for the paid-orders ceiling.

Why: a stack policy sees each resource's outputs, but in preview only for unchanged resources; a paid resource
that preview updates in place (tags) or replaces (a new purchase) shows its new inputs only, without its id,
just like one being created. Telling them apart needs the state the update starts from: `pulumi stack export`
(read-only, takes no lock) run by the same CLI, with the same environment and working directory (the engine
starts the pack in the project directory with the CLI's environment). After `up`'s steps the state holds the
new ids already, so the pack reads it before the first step (pack.py): a paid resource whose id differs from
the one it had then was bought by this update.

The engine tells a policy nothing about the step (create, update, replace; reference pulumi-pipelines.md
§1.4), so `pulumi up --replace <urn>` is read from the CLI's own command line (replace_targets).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field, replace
from typing import Any, Mapping

from .resources import PAID, PURCHASE_JOURNAL, unpacked

EXPORT_TIMEOUT_SECONDS = 120


def id_text(value: Any) -> str:
    """A cloud id as text: the engine hands policies integers as floats (CAS order 9 arrives as 9.0)."""
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


@dataclass(frozen=True)
class PriorState:
    urns: frozenset[str] = frozenset()
    # (journal section, entry) -> the stamp {fingerprint, run, at} of the entry's purchase before this update
    stamps: Mapping[tuple[str, str], Mapping[str, Any]] = field(default_factory=dict)
    ids: Mapping[str, str] = field(default_factory=dict)        # paid resource URN -> order_id / certificate_id
    statuses: Mapping[str, str] = field(default_factory=dict)   # paid resource URN -> CAS state / SCM status
    replacing: frozenset[str] = frozenset()                      # URNs given to `--replace` / `--target-replace`


def prior_state_of(deployment: Mapping[str, Any]) -> PriorState:
    """What the ceiling needs from `pulumi stack export` output."""
    resources = (deployment.get("deployment") or {}).get("resources") or []
    stamps, ids, statuses = {}, {}, {}
    for resource in resources:
        outputs = unpacked(resource.get("outputs") or {})
        if resource.get("type") == PURCHASE_JOURNAL:
            for entry, stamp in (outputs.get("stamps") or {}).items():
                stamps[(str(outputs.get("section")), entry)] = stamp
        if resource.get("type") in PAID and "urn" in resource:
            paid = PAID[resource["type"]]
            if outputs.get(paid.id_output) is not None:
                ids[resource["urn"]] = id_text(outputs[paid.id_output])
            if isinstance(outputs.get(paid.status_output), str):
                statuses[resource["urn"]] = outputs[paid.status_output]
    return PriorState(frozenset(r["urn"] for r in resources if "urn" in r), stamps, ids, statuses)


def read_prior_state(stack: str) -> PriorState | None:
    """The stack's current state (with the CLI's `--replace` targets), or None when it cannot be read (the caller
    then assumes the worst)."""
    pulumi = shutil.which("pulumi")
    if pulumi is None or not stack:
        return None
    try:
        result = subprocess.run([pulumi, "stack", "export", "--stack", stack, "--non-interactive"],
                                capture_output=True, text=True, timeout=EXPORT_TIMEOUT_SECONDS,
                                stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if result.returncode != 0:
        return None
    try:
        return replace(prior_state_of(json.loads(result.stdout)), replacing=replace_targets())
    except (ValueError, AttributeError, TypeError):
        return None


REPLACE_FLAGS = ("--replace", "--target-replace")


def replace_targets_in(argv: list[str]) -> frozenset[str]:
    """The URNs a `pulumi preview|up` command line asks to replace (`--replace URN`, `--replace=URN`)."""
    targets = set()
    for index, arg in enumerate(argv):
        flag, equals, value = arg.partition("=")
        if flag in REPLACE_FLAGS:
            if equals:
                targets.add(value)
            elif index + 1 < len(argv):
                targets.add(argv[index + 1])
    return frozenset(targets)


def _cmdline_and_parent(pid: int, proc: str) -> tuple[list[str], int]:
    with open(f"{proc}/{pid}/cmdline", "rb") as f:
        argv = [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
    with open(f"{proc}/{pid}/stat") as f:
        parent = int(f.read().rsplit(")", 1)[1].split()[1])  # the field after the state, past "(name)"
    return argv, parent


def replace_targets(proc: str = "/proc", pid: int | None = None) -> frozenset[str]:
    """`--replace` targets of the `pulumi` command that started this pack (the nearest ancestor process named
    pulumi: the pack runs under the language host, under the CLI). Empty where /proc cannot be read (not
    Linux): then a `--replace` of an unchanged paid resource is not counted in preview (docs/policy.md)."""
    pid = os.getppid() if pid is None else pid
    for _ in range(8):
        if pid <= 1:
            break
        try:
            argv, parent = _cmdline_and_parent(pid, proc)
        except (OSError, ValueError, IndexError):
            break
        if argv and os.path.basename(argv[0]) == "pulumi":
            return replace_targets_in(argv)
        pid = parent
    return frozenset()
