"""Turn `pulumi preview --json` into a summary a reviewer reads in ten seconds: what costs money, what risks a
serving certificate, what waits on DNS, and the config errors and policy violations at the top.

    .venv/bin/python -m scripts.pr_summary PREVIEW.json [--events EVENTS.jsonl] [--json] [--output FILE]

PREVIEW.json is the output of `pulumi preview --json`; EVENTS.jsonl (optional) the file that
`PULUMI_DEBUG_COMMANDS=true pulumi preview --event-log EVENTS.jsonl` writes: the --json digest carries no policy
results, so policy violations come from it (and error diagnostics from both). Markdown on stdout (or FILE);
`--json` prints the same summary for machines (schemaVersion 1, docs/pr-summary.md).
Exit 0 when it could summarise, violations and errors included; 2 when an input cannot be read.

Deterministic: the same preview gives the same bytes, whatever order the engine or the config listed entries
in (everything is sorted; no timestamps, durations, source positions or local paths are read). Secrets stay
"[secret]"; values known only after `up` are said to be so. The rules per resource are in
scripts/pr_summary_rules.py (DNS validation records: scripts/pr_summary_dns.py; what they share across a preview:
scripts/pr_summary_context.py), the resource types and config keys in scripts/pr_summary_kinds.py, what is
bookkeeping and what a composition program's other resources are in scripts/pr_summary_other.py, the reading in
scripts/pr_summary_digest.py, the markdown in scripts/pr_summary_markdown.py.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from scripts.pr_summary_context import context_of
from scripts.pr_summary_digest import Preview, Unreadable, read_events, read_preview, significant_diagnostics
from scripts.pr_summary_kinds import KINDS, bookkeeping_noun, cloud_of, label
from scripts.pr_summary_other import COUNTED_OPS, is_bookkeeping, other_resource
from scripts.pr_summary_rules import findings_of, why

SCHEMA_VERSION = 1
LEVEL_ORDER = {"mandatory": 0, "remediate": 1, "advisory": 2, "disabled": 3}
CONFIG_ERROR = re.compile(r"^certfleet config has \d+ problem\(s\):\n")
# The digest's only trace of a mandatory policy violation (policy results are in the event log only).
BARE_FAILURE = ("preview failed", "the preview failed without a reason in the --json digest; a mandatory policy "
                "violation does that: pass the `pulumi preview --event-log` file with --events to see it")
CATEGORY_KEYS = {"money": "money", "risk": "risks", "wait": "waits", "note": "notes"}


def _labels(preview: Preview) -> dict[str, str]:
    """urn -> the label of its change (the first change with that urn, as the preview lists them)."""
    labels: dict[str, str] = {}
    for change in preview.changes:
        labels.setdefault(change.urn, label(change))
    return labels


def _resource_label(urn: str | None, labels: dict[str, str]) -> str | None:
    if not urn:
        return None
    return labels.get(urn, urn.split("::")[-1])


def _errors(preview: Preview, labels: dict[str, str]) -> tuple[list[dict], list[dict]]:
    """(errors, warnings): a certfleet config error message becomes one error per problem."""
    errors, warnings = [], []
    for diagnostic in significant_diagnostics(preview):
        resource = _resource_label(diagnostic.urn, labels)
        if diagnostic.severity == "warning":
            warnings.append({"resource": resource, "message": diagnostic.message})
        elif CONFIG_ERROR.match(diagnostic.message):
            for line in CONFIG_ERROR.sub("", diagnostic.message).splitlines():
                if line.strip():
                    errors.append({"kind": "config", "resource": resource, "message": line.strip().removeprefix("- ")})
        else:
            text = BARE_FAILURE[1] if diagnostic.message == BARE_FAILURE[0] else diagnostic.message
            errors.append({"kind": "error", "resource": resource, "message": text})
    key = lambda e: (e.get("kind", ""), e["resource"] or "", e["message"])  # noqa: E731
    return sorted(_unique(errors), key=key), sorted(_unique(warnings), key=key)


def _unique(items: list[dict]) -> list[dict]:
    return list({json.dumps(i, sort_keys=True): i for i in items}.values())


def _violations(preview: Preview, labels: dict[str, str]) -> list[dict]:
    found = [{"policyPack": v.pack, "policyPackVersion": v.version, "policy": v.policy, "enforcementLevel": v.level,
              "resource": _resource_label(v.urn, labels), "description": v.description, "message": v.message}
             for v in preview.violations]
    return sorted(_unique(found), key=lambda v: (LEVEL_ORDER.get(v["enforcementLevel"], 9), v["resource"] or "",
                                                 v["policyPack"], v["policy"], v["message"]))


def summarise(preview: Preview) -> dict[str, Any]:
    """The summary as one JSON-able document (what --json prints, and what the markdown is made from)."""
    ctx = context_of(preview)
    changes, bookkeeping, others, buckets = [], [], [], Counter()
    for change in preview.changes:
        if change.op in ("same", "refresh"):  # nothing happens to it (a refresh alone changes no cloud object)
            continue
        if is_bookkeeping(change):
            bookkeeping.append({"resource": change.name, "what": bookkeeping_noun(change), "op": change.op})
            continue
        if change.type not in KINDS:  # a composition program's own resource
            others.append(other_resource(change))
            continue
        entry = {"resource": label(change), "cloud": cloud_of(change), "kind": KINDS[change.type].noun,
                 "type": change.type, "name": change.name, "op": change.op, "replaceMode": change.mode,
                 "why": why(change), "money": [], "risks": [], "waits": [], "notes": []}
        for finding in findings_of(change, ctx):
            entry[CATEGORY_KEYS[finding.category]].append(finding.text)
            if finding.bucket:
                buckets[finding.bucket] += 1
        changes.append(entry)
    changes.sort(key=lambda c: (c["resource"], c["op"]))
    bookkeeping = sorted(_unique(bookkeeping), key=lambda b: (b["resource"], b["what"], b["op"]))
    others.sort(key=lambda o: (o["resource"], o["type"], o["op"], o["urn"]))
    labels = _labels(preview)
    errors, warnings = _errors(preview, labels)
    violations = _violations(preview, labels)
    ops = Counter(c["op"] for c in changes + others if c["op"] in COUNTED_OPS)
    blocked = bool(errors) or any(v["enforcementLevel"] == "mandatory" for v in violations)
    return {
        "schemaVersion": SCHEMA_VERSION,
        "project": preview.project, "stack": preview.stack,
        "status": "blocked" if blocked else "ok",
        "errors": errors, "policyViolations": violations, "warnings": warnings,
        "totals": {
            "orders": [{"bucket": b, "cloud": c, "kind": k, "count": n} for (b, c, k), n in sorted(buckets.items())],
            "creates": ops["create"], "updates": ops["update"], "replacements": ops["replace"],
            "deletes": ops["delete"], "waits": sum(1 for c in changes if c["waits"]),
            "risks": sum(len(c["risks"]) for c in changes + others),
            "otherResources": len(others),
            "errors": len(errors), "policyViolations": len(violations),
        },
        "changes": changes,
        "otherResources": others,
        "bookkeeping": bookkeeping,
        "changeSummary": dict(preview.change_summary),
    }


def _read(path: str, what: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise Unreadable(f"cannot read {what} {path}: {err.__class__.__name__}") from None


def main(argv: list[str] | None = None) -> int:
    from scripts.pr_summary_markdown import render

    parser = argparse.ArgumentParser(prog="python -m scripts.pr_summary", description=__doc__.split("\n\n")[0])
    parser.add_argument("preview", metavar="PREVIEW.json", help="the output of `pulumi preview --json`")
    parser.add_argument("--events", metavar="EVENTS.jsonl", help="the file of `pulumi preview --event-log FILE`")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON (schemaVersion 1)")
    parser.add_argument("--output", metavar="FILE", help="write the summary to FILE instead of stdout")
    args = parser.parse_args(argv)
    try:
        preview = read_preview(_read(args.preview, "preview"))
        if args.events:
            read_events(_read(args.events, "event log"), preview)
    except Unreadable as err:
        print(f"pr_summary: {err}", file=sys.stderr)
        return 2
    summary = summarise(preview)
    text = json.dumps(summary, indent=2, sort_keys=True, ensure_ascii=False) + "\n" if args.json else render(summary)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
