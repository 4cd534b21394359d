"""The stack's state before this update, for the paid-orders ceiling during preview.

Why: a stack policy sees each resource's outputs, but in preview only for unchanged resources; a paid resource
that preview updates in place (tags) or replaces (a new purchase) shows its new inputs only, without its id,
just like one being created. Telling them apart needs the state the update starts from: `pulumi stack export`
(read-only, takes no lock) run by the same CLI, with the same environment and working directory (the engine
starts the pack in the project directory with the CLI's environment).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass, field
from typing import Any, Mapping

from .resources import PURCHASE_JOURNAL

EXPORT_TIMEOUT_SECONDS = 120


@dataclass(frozen=True)
class PriorState:
    urns: frozenset[str] = frozenset()
    # (journal section, entry) -> the stamp {fingerprint, run, at} of the entry's purchase before this update
    stamps: Mapping[tuple[str, str], Mapping[str, Any]] = field(default_factory=dict)


def prior_state_of(deployment: Mapping[str, Any]) -> PriorState:
    """What the ceiling needs from `pulumi stack export` output."""
    resources = (deployment.get("deployment") or {}).get("resources") or []
    stamps = {}
    for resource in resources:
        if resource.get("type") == PURCHASE_JOURNAL:
            outputs = resource.get("outputs") or {}
            for entry, stamp in (outputs.get("stamps") or {}).items():
                stamps[(str(outputs.get("section")), entry)] = stamp
    return PriorState(frozenset(r["urn"] for r in resources if "urn" in r), stamps)


def read_prior_state(stack: str) -> PriorState | None:
    """The stack's current state, or None when it cannot be read (the caller then assumes the worst)."""
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
        return prior_state_of(json.loads(result.stdout))
    except (ValueError, AttributeError, TypeError):
        return None
