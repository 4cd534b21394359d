"""The report's expiry section: days left and renewal state of every certificate in every cloud.

Every object of the stack outputs with a `not_after` is a certificate (ACM requested and imported, CAS orders and
instance entries, SCM certificates, deployed copies under `deployments`): scripts/pipeline_expiry.py finds them
and computes the days left, so the report and the pipeline's expiry gate never disagree, and
`report.py --expiring-within DAYS` exits with the gate's codes (12 expiring, 13 an expiry it cannot read). "Now"
is certfleet's (components/clock.py: the real time plus CERTFLEET_CLOCK_OFFSET_SECONDS, which
`scripts/local.sh clock advance` sets for the local emulators).

Who renews each certificate, decided by the first of RENEWAL_STATES that knows the entry:
  acm          a requested ACM certificate: ACM renews it itself (renewal_status / renewal_eligibility)
  certfleet    an entry with a `renewal` object (renewBefore: components/renewal.py orders the successor)
  deployment   a deployed copy: redeployed when the certificate it copies renews
  none         nobody: it expires unless someone acts
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from scripts import pipeline_expiry

# What ACM's RenewalSummary.RenewalStatus means for the operator (shared/reference/lifecycle-apis.md §1.2).
ACM_RENEWAL = {
    "SUCCESS": "renewed in place (same ARN, CloudFront serves the new one)",
    "PENDING_AUTO_RENEWAL": "ACM is renewing it, nothing to do",
    "PENDING_VALIDATION": "act: the validation CNAME is gone (or nothing uses the certificate any more)",
    "FAILED": "act: not validated before expiry, request a new certificate",
}
ACM_NOT_STARTED = {
    "ELIGIBLE": "from 60 days before expiry (in use)",
    # Read when last created or refreshed: a certificate bound after its create reads INELIGIBLE until a refresh.
    "INELIGIBLE": "only while in use, and nothing used it when last read (pulumi up --refresh reads it again)",
}


def acm_managed(path: str, entry: dict[str, Any]) -> dict[str, Any] | None:
    if not path.startswith("aws.certificates.") or path.count(".") != 2:
        return None
    status, eligibility = entry.get("renewal_status"), entry.get("renewal_eligibility")
    if status:
        return {"by": "acm", "state": status, "message": f"ACM renews: {status} - {ACM_RENEWAL.get(status, '')}"
                .rstrip(" -")}
    told = ACM_NOT_STARTED.get(eligibility or "", "not read yet (pulumi up --refresh reads it)")
    return {"by": "acm", "state": eligibility, "message": f"ACM renews: {told}"}


def certfleet_renewal(path: str, entry: dict[str, Any]) -> dict[str, Any] | None:
    renewal = entry.get("renewal")
    if not isinstance(renewal, dict) or renewal.get("state") in (None, "not-declared"):
        return None
    state, renew_at = renewal.get("state"), renewal.get("renew_at")
    when = f", renews from {renew_at}" if renew_at else ""
    return {"by": "certfleet", "state": state, "message": f"certfleet renews: {state or 'unknown'}{when}"}


def deployed_copy(path: str, entry: dict[str, Any]) -> dict[str, Any] | None:
    if ".deployments" not in path:
        return None
    return {"by": "deployment", "state": None, "message": "a deployed copy: redeployed when its certificate renews"}


def not_renewed(path: str, entry: dict[str, Any]) -> dict[str, Any] | None:
    hint = "re-import a new one" if path.startswith("aws.imports.") else "declare renewBefore"
    return {"by": "none", "state": None, "message": f"nobody renews it: {hint}"}


RENEWAL_STATES: tuple[Callable[[str, dict[str, Any]], dict[str, Any] | None], ...] = (
    acm_managed, certfleet_renewal, deployed_copy, not_renewed)


def renewal_of(path: str, entry: dict[str, Any]) -> dict[str, Any]:
    return next(state for check in RENEWAL_STATES if (state := check(path, entry)) is not None)


def expiry(outputs: dict[str, Any], now: datetime, within: int | None = None) -> dict[str, Any]:
    """The section as data (the report's `expiry` key): every certificate with its days left and renewal state,
    soonest first; `expiring` says it is within `within` days (false without a threshold)."""
    found, skipped, unreadable = pipeline_expiry.collect(outputs)
    soon = {e.path for e in pipeline_expiry.expiring(found, now, within)} if within is not None else set()
    rows = [{"path": e.path, "not_after": e.not_after.isoformat(), "days_left": e.days_left(now),
             "renewal": renewal_of(e.path, e.entry), "expiring": e.path in soon}
            for e in sorted(found, key=lambda e: (e.not_after, e.path))]
    return {"now": now.isoformat(), "within": within, "certificates": rows, "not_issued": skipped,
            "unreadable": [{"path": path, "value": value} for path, value in unreadable]}


def render(section: dict[str, Any]) -> list[str]:
    rows = section["certificates"]
    if not rows and not section["unreadable"]:
        return []
    lines = [f"Expiry ({len(rows)} certificates; now {section['now']})"]
    table = [("CERTIFICATE", "EXPIRES", "DAYS", "RENEWAL")] + [
        (row["path"], row["not_after"], str(row["days_left"]) + (" !" if row["expiring"] else ""),
         row["renewal"]["message"]) for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(3)]
    lines += ["  " + "  ".join(cell.ljust(width) for cell, width in zip(line[:3], widths)) + "  " + line[3]
              for line in table]
    if section["not_issued"]:
        lines.append(f"  not issued yet: {', '.join(section['not_issued'])}")
    for item in section["unreadable"]:
        lines.append(f"  cannot read the expiry of {item['path'] or '(outputs)'}: {item['value']!r}")
    return lines


def gate(outputs: dict[str, Any], now: datetime, days: int) -> tuple[int, list[str]]:
    """`--expiring-within DAYS`: the pipeline gate's exit code and verdict lines."""
    found, skipped, unreadable = pipeline_expiry.collect(outputs)
    return (pipeline_expiry.exit_code(found, unreadable, now, days, skipped),
            pipeline_expiry.verdict(found, unreadable, now, days, skipped))
