"""What the PR summary does with steps that are no certfleet config entry (a composition program's own resources,
docs/composition.md): bookkeeping is folded away, everything else is listed as an "other resource" with its
operation, and its deletes and replacements count in the totals.

Bookkeeping is only what holds no cloud object: component resources (state `custom: false`: certfleet's groups
and a program's own components), certfleet's purchase journals, template snapshots, validation waits and DNS
owner identity, the stack and providers.
A resource of any other type (`aws:cloudfront/distribution:Distribution`, `aws:route53/record:Record`, ...) is a
cloud object whose delete or replacement a reviewer must see; what it does in the cloud is its provider's, so the
summary says only what the engine will do to it.
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping

from scripts.pr_summary_digest import Change, Preview
from scripts.pr_summary_kinds import BOOKKEEPING, KINDS, is_certfleet_component

AWS_CERTIFICATES = ("aws:AcmCertificate", "aws:AcmImport")
COUNTED_OPS = ("create", "update", "replace", "delete")


def is_bookkeeping(change: Change) -> bool:
    if change.type in KINDS:
        return False
    return change.component or is_certfleet_component(change) or any(change.type.startswith(t) for t in BOOKKEEPING)


def other_resource(change: Change) -> dict[str, Any]:
    """A step that is neither a config entry nor bookkeeping, as the summary lists it."""
    risks = []
    if change.op == "delete":
        risks.append("deletes it")
    elif change.op == "replace":
        because = f", because {', '.join(change.replace_keys)} changed" if change.replace_keys else ""
        risks.append(f"replaces it ({change.mode}){because}")
    return {"resource": change.name, "type": change.type, "urn": change.urn, "op": change.op,
            "replaceMode": change.mode, "replacedBy": list(change.replace_keys), "risks": risks}


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def arn_users(preview: Preview) -> dict[str, set[str]]:
    """Certificate name -> the resources whose inputs carry the ARN it has now (a program's own distribution's
    `viewerCertificate.acmCertificateArn`): they serve it, whatever their type."""
    arns = {c.old_outputs["arn"]: c for c in preview.changes
            if c.type in AWS_CERTIFICATES and isinstance(c.old_outputs.get("arn"), str)
            and c.old_outputs["arn"].startswith("arn:")}
    users: dict[str, set[str]] = {}
    for change in preview.changes:
        if change.type in AWS_CERTIFICATES or is_bookkeeping(change):
            continue
        for arn in {s for s in _strings([change.old, change.new]) if s in arns}:
            who = change.name if change.type == "aws:Distribution" else f"{change.name} ({change.type})"
            users.setdefault(arns[arn].name, set()).add(who)
    return users
