"""Read what `pulumi preview --json` and `pulumi preview --event-log` wrote into plain records for the PR summary.

Only what the summary needs is kept: per step the operation, the resource's name and short type, old and new
inputs (no sourcePosition, stackTrace, timestamps or provider ids: nothing that differs between two runs of the
same preview), the root stack's outputs (which distribution serves which certificate), error and warning
diagnostics, and from the event log the policy violations and error diagnostics (the --json digest carries no
policy results). Steps come out sorted, so the order the engine happened to register resources in never shows.

Replacements: the digest shows one `replace` step; the old state says which way round it goes:
`pendingReplacement` (delete before replace) or `delete` (create before delete). With
`--show-replacement-steps` the create-replacement / delete-replaced steps are folded into that one change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Mapping

from components.packing import SPEC, unpacked

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # Pulumi's sentinel for a value known only after apply
SECRET_SIG = "4dabf18193072939515e22adb298388d"  # the key that marks a secret object in state and events
CREATE_BEFORE_DELETE = "create-before-delete"
DELETE_BEFORE_REPLACE = "delete-before-replace"
DYNAMIC_PREFIX = "pulumi-python:dynamic/"
# Engine chatter that follows a real error; shown only when nothing else explains the failure.
FOLLOW_UP_ERRORS = ("preview failed", "an unhandled error occurred: program exited with non-zero exit code")


class Unreadable(Exception):
    """The input is not a preview (or event log) this command can read."""


@dataclass(frozen=True)
class Change:
    """One resource's step: what the engine will do to it."""

    urn: str
    name: str
    type: str  # short: "aws:AcmCertificate", "alicloud:CasOrder", "certfleet:aws:Certificates", ...
    op: str  # create, update, replace, delete, same, read, ...
    mode: str | None  # replacements only: CREATE_BEFORE_DELETE or DELETE_BEFORE_REPLACE
    old: Mapping[str, Any]  # inputs before (empty for a create)
    new: Mapping[str, Any]  # inputs after (empty for a delete)
    old_outputs: Mapping[str, Any]
    replace_keys: tuple[str, ...]
    diff_keys: tuple[str, ...]  # top-level input keys that change (diffReasons, detailedDiff, or compared)
    component: bool = False  # a component resource (state `custom: false`): it holds no cloud object


@dataclass(frozen=True)
class Diagnostic:
    severity: str  # error, warning
    message: str
    urn: str | None = None


@dataclass(frozen=True)
class PolicyViolation:
    pack: str
    version: str
    policy: str
    level: str  # mandatory, advisory, remediate, disabled
    description: str
    message: str
    urn: str | None = None


@dataclass
class Preview:
    stack: str | None = None
    project: str | None = None
    changes: list[Change] = field(default_factory=list)
    stack_outputs: Mapping[str, Any] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    violations: list[PolicyViolation] = field(default_factory=list)
    change_summary: Mapping[str, int] = field(default_factory=dict)


def is_unknown(value: Any) -> bool:
    return value == UNKNOWN


def is_secret(value: Any) -> bool:
    return value == "[secret]" or (isinstance(value, Mapping) and SECRET_SIG in value)


def urn_parts(urn: str) -> tuple[str | None, str | None, str, str]:
    """(stack, project, short type, name) of `urn:pulumi:<stack>::<project>::<type chain>::<name>`."""
    parts = urn.split("::")
    if len(parts) < 4 or not parts[0].startswith("urn:pulumi:"):
        return None, None, "", urn
    type_token = parts[2].split("$")[-1]
    short = type_token[len(DYNAMIC_PREFIX):] if type_token.startswith(DYNAMIC_PREFIX) else type_token
    return parts[0][len("urn:pulumi:"):], parts[1], short, "::".join(parts[3:])


def top_key(path: str) -> str:
    """`sans[2]` -> `sans`, `tags.team` -> `tags`, `["a.b"]` -> `a.b` (detailedDiff property paths)."""
    if path.startswith('["'):
        return path[2:path.index('"]')] if '"]' in path else path[2:]
    for i, char in enumerate(path):
        if char in ".[":
            return path[:i]
    return path


def changed_keys(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[str, ...]:
    keys = (set(old) | set(new)) - {"__provider"}
    return tuple(sorted(k for k in keys if old.get(k) != new.get(k)))


def _inputs(state: Any) -> Mapping[str, Any]:
    return unpacked((state or {}).get("inputs"))


def _change(step: Mapping[str, Any], mode: str | None = None) -> Change:
    urn = step.get("urn") or ""
    _, _, short, name = urn_parts(urn)
    old_state, new_state = step.get("oldState") or {}, step.get("newState") or {}
    old, new = _inputs(old_state), _inputs(new_state)
    reported = set(step.get("diffReasons") or []) | {top_key(k) for k in (step.get("detailedDiff") or {})}
    reported |= set(step.get("replaceReasons") or [])
    if SPEC in reported:   # one JSON property holds the resource's fields (components/packing.py): which changed
        reported = (reported - {SPEC}) | set(changed_keys(old, new))
    diff_keys = tuple(sorted(top_key(k) for k in reported)) if reported else (
        changed_keys(old, new) if step.get("op") in ("update", "replace") else ())
    if mode is None and step.get("op") == "replace":
        mode = DELETE_BEFORE_REPLACE if old_state.get("pendingReplacement") else CREATE_BEFORE_DELETE
    return Change(urn=urn, name=name, type=short, op=step.get("op") or "", mode=mode, old=old, new=new,
                  old_outputs=unpacked(old_state.get("outputs")),
                  replace_keys=tuple(sorted({top_key(k) for k in step.get("replaceReasons") or []})),
                  diff_keys=diff_keys, component=(new_state or old_state).get("custom") is False)


def _fold_replacement_steps(steps: list[Mapping[str, Any]]) -> list[tuple[Mapping[str, Any], str | None]]:
    """With --show-replacement-steps: one change per replaced URN, its mode from the order of its steps."""
    seen: dict[str, list[str]] = {}
    for step in steps:
        seen.setdefault(step.get("urn") or "", []).append(step.get("op") or "")
    out = []
    for step in steps:
        ops = seen[step.get("urn") or ""]
        if step.get("op") in ("create-replacement", "delete-replaced"):
            continue
        mode = None
        if step.get("op") == "replace" and "create-replacement" in ops and "delete-replaced" in ops:
            mode = (DELETE_BEFORE_REPLACE if ops.index("delete-replaced") < ops.index("create-replacement")
                    else CREATE_BEFORE_DELETE)
        out.append((step, mode))
    return out


def _diagnostic(raw: Mapping[str, Any]) -> Diagnostic | None:
    severity = raw.get("severity")
    if severity not in ("error", "warning"):
        return None  # info (program prints), debug: not for reviewers
    message = str(raw.get("message") or "")
    for prefix in (raw.get("prefix") or "", f"{severity}: "):
        if prefix and message.startswith(prefix):
            message = message[len(prefix):]
    return Diagnostic(severity=severity, message=message.rstrip(), urn=raw.get("urn") or None)


def read_preview(text: str) -> Preview:
    """The preview of `pulumi preview --json` (one JSON document)."""
    try:
        document = json.loads(text)
    except ValueError as err:
        raise Unreadable(f"not JSON: {err}") from None
    if not isinstance(document, dict) or not isinstance(document.get("steps", []), list):
        raise Unreadable("not the output of `pulumi preview --json` (no `steps` list)")
    preview = Preview(change_summary=dict(sorted((document.get("changeSummary") or {}).items())))
    steps = [s for s in document.get("steps") or [] if isinstance(s, dict) and s.get("urn")]
    for step, mode in _fold_replacement_steps(steps):
        change = _change(step, mode)
        if change.type == "pulumi:pulumi:Stack":
            preview.stack, preview.project, _, _ = urn_parts(change.urn)
            preview.stack_outputs = (step.get("oldState") or step.get("newState") or {}).get("outputs") or {}
        preview.changes.append(change)
    preview.changes.sort(key=lambda c: (c.type, c.name, c.urn, c.op))
    for raw in document.get("diagnostics") or []:
        if isinstance(raw, dict) and (diagnostic := _diagnostic(raw)):
            preview.diagnostics.append(diagnostic)
    return preview


def read_events(text: str, preview: Preview) -> None:
    """Add the policy violations and error/warning diagnostics of an event log (`preview --event-log FILE`)."""
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except ValueError:
            raise Unreadable(f"line {number} of the event log is not JSON") from None
        if not isinstance(event, dict):
            raise Unreadable(f"line {number} of the event log is not an engine event")
        if isinstance(raw := event.get("policyEvent"), dict):
            preview.violations.append(_violation(raw))
        elif isinstance(raw := event.get("diagnosticEvent"), dict) and (diagnostic := _diagnostic(raw)):
            preview.diagnostics.append(diagnostic)


def _violation(raw: Mapping[str, Any]) -> PolicyViolation:
    # The engine writes the policy's description, then the violation's own message, one per line.
    description, _, message = str(raw.get("message") or "").strip().partition("\n")
    return PolicyViolation(pack=str(raw.get("policyPackName") or ""), version=str(raw.get("policyPackVersion") or ""),
                           policy=str(raw.get("policyName") or ""), level=str(raw.get("enforcementLevel") or ""),
                           description=description.strip(), message=message.strip() or description.strip(),
                           urn=raw.get("resourceUrn") or None)


def significant_diagnostics(preview: Preview) -> list[Diagnostic]:
    """Each diagnostic once, sorted; the engine's follow-up errors only when nothing else explains a failure."""
    unique = sorted(set(preview.diagnostics), key=lambda d: (d.severity, d.urn or "", d.message))
    real_errors = [d for d in unique if d.severity == "error" and not d.message.startswith(FOLLOW_UP_ERRORS)]
    if real_errors or preview.violations:
        unique = [d for d in unique if not (d.severity == "error" and d.message.startswith(FOLLOW_UP_ERRORS))]
    return unique
