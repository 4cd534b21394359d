"""The pipeline's policy gate: the policy results of one `pulumi preview`, read from its event log.

    python -m scripts.pipeline_policy EVENTS.jsonl

EVENTS.jsonl is the file of `pulumi preview --event-log FILE` (a debug flag on our CLI build: it exists
only with PULUMI_DEBUG_COMMANDS=true; scripts/pipeline.sh sets it). The `--json` digest of a preview does
not carry policy results, so the gate reads the events: one line per violation (level, policy, resource,
message), then `policy: OK ...` (exit 0: no mandatory violation) or `policy: FAILED ...` (exit 1). Exit 2
when the file cannot be read. Advisory violations are shown and do not fail the gate, as in Pulumi.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass

BLOCKING_LEVELS = ("mandatory",)


@dataclass(frozen=True)
class Violation:
    level: str      # advisory | mandatory | remediate
    pack: str
    policy: str
    resource: str   # the resource's name (last URN part), or "stack" for stack policies
    message: str

    def line(self) -> str:
        first_line = self.message.strip().splitlines()[0] if self.message.strip() else ""
        return f"  [{self.level}] {self.pack}/{self.policy} ({self.resource}): {first_line}"


def read_events(path: str) -> list[dict]:
    events = []
    with open(path) as lines:
        for line in lines:
            if line.strip():
                events.append(json.loads(line))
    return events


def violations(events: list[dict]) -> list[Violation]:
    found = set()
    for event in events:
        policy = event.get("policyEvent")
        if policy:
            urn = policy.get("resourceUrn") or ""
            found.add(Violation(policy.get("enforcementLevel", "advisory"), policy.get("policyPackName", ""),
                                policy.get("policyName", ""), urn.rsplit("::", 1)[-1] if urn else "stack",
                                policy.get("message", "")))
    return sorted(found, key=lambda v: (v.level != "mandatory", v.pack, v.policy, v.resource, v.message))


def packs_run(events: list[dict]) -> list[str]:
    """The packs the preview ran, as `name@version` (from the summary event, else the load events)."""
    names, loaded = set(), False
    for event in events:
        summary = event.get("summaryEvent") or {}
        for key, version in (summary.get("PolicyPacks") or {}).items():
            names.add(f"{key.split('|')[0]}@{version}")
        loaded = loaded or "policyLoadEvent" in event
    return sorted(names) or (["a policy pack"] if loaded else [])


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        events = read_events(argv[1])
    except (OSError, ValueError) as error:
        print(f"policy: cannot read the event log {argv[1]}: {error}", file=sys.stderr)
        return 2
    packs, found = packs_run(events), violations(events)
    for violation in found:
        print(violation.line())
    blocking = [v for v in found if v.level in BLOCKING_LEVELS]
    if not packs:
        print("policy: no policy pack ran in this preview")
    elif blocking:
        print(f"policy: FAILED - {len(blocking)} mandatory violation(s) from {', '.join(packs)}")
        return 1
    else:
        print(f"policy: OK - {', '.join(packs)}: no mandatory violation ({len(found)} advisory)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
