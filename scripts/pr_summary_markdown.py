"""The PR summary as GitHub-flavoured markdown, from the document scripts/pr_summary.summarise makes.

Order: a headline (blocked or not), config errors, errors and policy violations, then the totals (money,
changes, waits), the risks, every change (entries and certfleet's DNS validation records) with what it costs,
risks and waits on, the program's other resources (a composition's own distributions, records, ...) with their
operation; bookkeeping steps (journals, template snapshots, validation waits, components, providers) folded away
at the end.
"""

from __future__ import annotations

import re
from typing import Any

from scripts.pr_summary_kinds import plural

# `_` only where it could open or close emphasis (RSA_2048 stays as it is); brackets stay ("[secret]").
SPECIAL = re.compile(r"([\\*<>|]|(?<!\w)_|_(?!\w))")
BUCKETS = {"paid": ("new paid order", "new paid orders"), "free": ("free certificate", "free certificates"),
           "instance": ("certificate through a CAS instance bought already",
                        "certificates through CAS instances bought already")}


def text(value: Any) -> str:
    """Plain text for markdown: special characters escaped outside `code` spans, one line."""
    parts = str(value).replace("\r", " ").replace("\n", " ").split("`")
    return "`".join(part if i % 2 else SPECIAL.sub(r"\\\1", part) for i, part in enumerate(parts))


def code(value: Any) -> str:
    return f"`{str(value).replace('`', chr(39))}`"


def message(value: str) -> str:
    """A diagnostic or policy message: one line inline, several in an indented code block."""
    lines = value.strip().splitlines()
    if len(lines) <= 1:
        return text(value.strip())
    body = "\n".join(f"    {line.rstrip()}" for line in lines)
    return f"\n\n  ```\n{body}\n  ```\n"


def _where(resource: str | None) -> str:
    return f"{code(resource)}: " if resource else ""


def _headline(summary: dict) -> list[str]:
    stack = f"{summary['project'] or '?'}/{summary['stack'] or '?'}"
    totals = summary["totals"]
    lines = [f"## certfleet preview of {code(stack)}", ""]
    if summary["status"] == "blocked":
        mandatory = sum(1 for v in summary["policyViolations"] if v["enforcementLevel"] == "mandatory")
        blockers = [plural(totals["errors"], "error")] if totals["errors"] else []
        blockers += [plural(mandatory, "mandatory policy violation")] if mandatory else []
        lines.append(f"**Blocked**: {', '.join(blockers)}. `pulumi up` would fail; fix these first.")
    else:
        advisory = totals["policyViolations"]
        lines.append("**No errors, no mandatory policy violations**"
                     + (f" ({plural(advisory, 'advisory policy violation')})." if advisory else "."))
    return lines + [""]


def _problems(summary: dict) -> list[str]:
    lines = []
    config = [e for e in summary["errors"] if e["kind"] == "config"]
    other = [e for e in summary["errors"] if e["kind"] != "config"]
    if config:
        lines += ["### Config errors", ""] + [f"- {_config_error(e['message'])}" for e in config] + [""]
    if other:
        lines += ["### Errors", ""] + [f"- {_where(e['resource'])}{message(e['message'])}" for e in other] + [""]
    if summary["policyViolations"]:
        lines += ["### Policy violations", ""]
        for v in summary["policyViolations"]:
            pack = f"{v['policyPack']}@{v['policyPackVersion']}" if v["policyPackVersion"] else v["policyPack"]
            lines.append(f"- **{text(v['enforcementLevel'])}** {code(v['policy'])} ({text(pack)}) on "
                         f"{code(v['resource']) if v['resource'] else 'the stack'}: {message(v['message'])}")
        lines.append("")
    if summary["warnings"]:
        lines += ["### Warnings", ""] + [f"- {_where(w['resource'])}{message(w['message'])}"
                                         for w in summary["warnings"]] + [""]
    return lines


def _config_error(value: str) -> str:
    """`certfleet:aws.certificates.blog.domain: rule` with the path as code."""
    path, sep, rule = value.partition(": ")
    return f"{code(path)}: {message(rule)}" if sep and " " not in path else message(value)


def _totals(summary: dict) -> list[str]:
    totals = summary["totals"]
    lines = ["### Totals", ""]
    maybe = [o for o in totals["orders"] if o["bucket"] == "maybePaid"]
    for bucket in ("paid", "free", "instance"):
        orders = [o for o in totals["orders"] if o["bucket"] == bucket]
        count = sum(o["count"] for o in orders)
        if bucket == "paid" and maybe:  # adopting with replaceAdopted buys only if the certificate differs
            more = sum(o["count"] for o in maybe)
            lines.append(f"- **{count} {BUCKETS[bucket][count != 1]}, up to {more} more**" + _detail(orders)
                         + ("; and" if orders else "") + " if an adopted certificate differs from its entry "
                         "(`replaceAdopted`)" + _detail(maybe))
        elif orders or bucket == "paid":
            lines.append(f"- **{count} {BUCKETS[bucket][count != 1]}**" + _detail(orders))
    changed = f"{totals['creates']} to create, {totals['updates']} to update"
    others = totals.get("otherResources")
    lines.append(f"- **{plural(totals['replacements'], 'replacement')}**, **{plural(totals['deletes'], 'delete')}**, "
                 f"{changed}" + (f" (with {plural(others, 'other resource')})" if others else ""))
    waits = totals["waits"]
    lines.append(f"- {waits} {'entry waits' if waits == 1 else 'entries wait'} on validation or a certificate")
    return lines + [""]


def _detail(orders: list[dict]) -> str:
    return (": " + "; ".join(f"{o['cloud']}: {o['count']} x {text(o['kind'])}" for o in orders)) if orders else ""


def _risks(summary: dict) -> list[str]:
    risks = [f"- {code(c['resource'])}: {text(r)}" for c in summary["changes"] for r in c["risks"]]
    risks += [f"- {code(o['resource'])} ({text(o['type'])}): {text(r)}" for o in summary["otherResources"]
              for r in o["risks"]]
    return (["### Risks", ""] + risks + [""]) if risks else []


def short_path(entry: str, path: str) -> str:
    """A config path relative to the entry when it is the entry's own key (`sans`), else whole (`aws.region`)."""
    prefix = entry + "."
    return path[len(prefix):] if path.startswith(prefix) else path


def _alternatives(paths: list[str]) -> str:
    """A DNS record's paths: each key may be set in the section's `dns` block or an entry's (`a` or `b`)."""
    by_key: dict[str, list[str]] = {}
    for path in paths:
        by_key.setdefault(path.rsplit(".", 1)[-1], []).append(path)
    return ", ".join(" or ".join(code(p) for p in group) for group in by_key.values())


def _why(change: dict) -> str:
    why = change["why"]
    if change["op"] in ("create", "delete"):
        return ""
    short = lambda paths: ", ".join(code(short_path(change["resource"], p)) for p in paths)  # noqa: E731
    if change["type"] == "dns:Record":
        short = _alternatives
    replaced_by = [p for p in why["replacedBy"] if p in why["config"]]
    if change["op"] == "replace" and (replaced_by or why["replacedBy"]):
        words = [text(w) for w in why["replacedBy"] if w not in why["config"]]
        parts = ([f"{short(replaced_by)} changed"] if replaced_by else []) + words
        also = [p for p in why["config"] if p not in replaced_by]
        return f", because {' and '.join(parts)}" + (f" (also changes {short(also)})" if also else "")
    parts = ([f"{short(why['config'])} changed"] if why["config"] else []) + [text(w) for w in why["other"]]
    return f", because {' and '.join(parts)}" if parts else ""


def _changes(summary: dict) -> list[str]:
    if not summary["changes"]:
        return ["### Changes", "", "No certificate, order, distribution or DNS record changes.", ""]
    lines = ["### Changes", ""]
    for change in summary["changes"]:
        what = f"**{change['op']}**" + (f" ({change['replaceMode']})" if change["replaceMode"] else "")
        lines.append(f"- {code(change['resource'])} ({text(change['kind'])}): {what}{_why(change)}")
        for key, word in (("money", "money"), ("risks", "risk"), ("waits", "waits"), ("notes", "note")):
            lines += [f"  - {word}: {text(item)}" for item in change[key]]
    return lines + [""]


def _other_resources(summary: dict) -> list[str]:
    if not summary["otherResources"]:
        return []
    lines = ["### Other resources", "", "Not certfleet's (the program's own): what a delete or replacement does in the "
             "cloud is their provider's.", ""]
    for other in summary["otherResources"]:
        mode = f" ({other['replaceMode']})" if other["replaceMode"] else ""
        why = f", because {', '.join(code(k) for k in other['replacedBy'])} changed" if other["replacedBy"] else ""
        lines.append(f"- {code(other['resource'])} ({text(other['type'])}): **{text(other['op'])}**{mode}{why}")
    return lines + [""]


def _bookkeeping(summary: dict) -> list[str]:
    steps = summary["bookkeeping"]
    if not steps:
        return []
    lines = ["<details><summary>" + plural(len(steps), "bookkeeping step") + " (components, purchase journals, "
             "template snapshots, validation waits, providers: no cloud object bought or deleted)</summary>", ""]
    lines += [f"- {code(b['resource'])} ({text(b['what'])}): {b['op']}" for b in steps]
    return lines + ["", "</details>", ""]


def render(summary: dict) -> str:
    lines = (_headline(summary) + _problems(summary) + _totals(summary) + _risks(summary) + _changes(summary)
             + _other_resources(summary) + _bookkeeping(summary))
    return "\n".join(lines).rstrip() + "\n"
