"""What the PR summary's checks share: a finding, and the facts across the changes of one preview (which
distributions serve which certificate, who holds which alias, which entries certfleet validates through DNS)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from scripts.pr_summary_digest import Change, Preview
from scripts.pr_summary_kinds import DNS_RECORD, DNS_VALIDATION, label, names_of, section_of, users_of
from scripts.pr_summary_other import arn_users


@dataclass(frozen=True)
class Finding:
    category: str  # money, risk, wait, note
    text: str
    bucket: tuple[str, str, str] | None = None  # ("paid" | "maybePaid" | "free" | "instance", cloud, kind)


@dataclass
class Context:
    """Facts across changes: which distributions serve which certificate, who holds which alias, and where
    certfleet writes the validation records of an entry (zero-touch validation, docs/dns-validation.md)."""

    # certificate name -> certfleet distributions, and other resources whose inputs carry its ARN (arn_users)
    served_by: dict[str, set[str]] = field(default_factory=dict)
    old_aliases: dict[str, set[str]] = field(default_factory=dict)
    new_aliases: dict[str, set[str]] = field(default_factory=dict)
    # entry (`aws.certificates.shop`) -> the labels of the DNS records certfleet keeps writing for it
    dns_records: dict[str, list[str]] = field(default_factory=dict)
    validation_timeouts: dict[str, Any] = field(default_factory=dict)  # entry -> dns.validationTimeoutSeconds
    deleted: set[str] = field(default_factory=set)  # labels of the changes that delete


def context_of(preview: Preview) -> Context:
    ctx = Context(served_by=arn_users(preview))
    aws = preview.stack_outputs.get("aws")
    distributions = aws.get("distributions") if isinstance(aws, dict) else None
    for name, out in (distributions if isinstance(distributions, dict) else {}).items():
        if isinstance(out, dict):
            if isinstance(out.get("certificate"), str):
                ctx.served_by.setdefault(out["certificate"], set()).add(name)
            ctx.old_aliases[name] = set(names_of(out, "aliases"))
    ctx.new_aliases = {k: set(v) for k, v in ctx.old_aliases.items()}
    for change in preview.changes:
        if change.op == "delete":
            ctx.deleted.add(label(change))
        if change.type in (DNS_RECORD, DNS_VALIDATION) and change.op != "delete":
            _dns_facts(ctx, change)
        if change.type != "aws:Distribution":
            continue
        if change.old:
            ctx.old_aliases[change.name] = set(names_of(change.old, "aliases"))
            ctx.new_aliases.setdefault(change.name, set(names_of(change.old, "aliases")))
        for inputs in (change.old, change.new):
            if isinstance(inputs.get("certificate_name"), str):
                ctx.served_by.setdefault(inputs["certificate_name"], set()).add(change.name)
        if change.op == "delete":
            ctx.new_aliases[change.name] = set()
        elif change.new:
            ctx.new_aliases[change.name] = set(names_of(change.new, "aliases"))
    return ctx


def _dns_facts(ctx: Context, change: Change) -> None:
    section, inputs = section_of(change), change.new or change.old
    if change.type == DNS_VALIDATION:
        ctx.validation_timeouts[f"{section}.{inputs.get('entry')}"] = inputs.get("validation_timeout_seconds")
        return
    for user in users_of(change):
        ctx.dns_records.setdefault(f"{section}.{user}", []).append(label(change))
