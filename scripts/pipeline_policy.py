"""The pipeline's policy gate: the policy results of one `pulumi preview`, read from its event log.

    python -m scripts.pipeline_policy EVENTS.jsonl

EVENTS.jsonl is the file of `pulumi preview --event-log FILE` (a debug flag on our CLI build: it exists
only with PULUMI_DEBUG_COMMANDS=true; scripts/pipeline.sh sets it). The `--json` digest of a preview does
not carry policy results, so the gate reads the events (with scripts/pr_summary_digest.read_events): one
line per violation (level, policy, resource, the violation's own message), then `policy: OK ...` (exit 0:
no mandatory violation) or `policy: FAILED ...` (exit 1). Exit 2 when the file cannot be read.
Advisory violations are shown and do not fail the gate, as in Pulumi.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from scripts.pr_summary_digest import PolicyViolation, Preview, Unreadable, read_events

BLOCKING_LEVELS = ("mandatory",)
DEFAULT_LEVEL = "advisory"  # a policy event without an enforcement level


def _resource(violation: PolicyViolation) -> str:
    """The resource's name (last URN part), or "stack" for stack policies."""
    return violation.urn.rsplit("::", 1)[-1] if violation.urn else "stack"


def line(violation: PolicyViolation) -> str:
    """One line: the violation's own message (not the policy's description), its first line if it has several."""
    message = (violation.message.splitlines() or [""])[0]
    level = violation.level or DEFAULT_LEVEL
    return f"  [{level}] {violation.pack}/{violation.policy} ({_resource(violation)}): {message}"


def violations(text: str) -> list[PolicyViolation]:
    """The event log's policy violations, each once, mandatory first. Raises Unreadable."""
    preview = Preview()
    read_events(text, preview)
    return sorted(set(preview.violations), key=lambda v: ((v.level or DEFAULT_LEVEL) != "mandatory", v.pack,
                                                         v.policy, _resource(v), v.message))


def read_lines(text: str) -> list[dict]:
    """The events of a log read_events has accepted (every line a JSON object)."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


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
        text = Path(argv[1]).read_text(encoding="utf-8")
        found, events = violations(text), read_lines(text)
    except (OSError, UnicodeDecodeError, Unreadable) as error:
        print(f"policy: cannot read the event log {argv[1]}: {error}", file=sys.stderr)
        return 2
    packs = packs_run(events)
    for violation in found:
        print(line(violation))
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
