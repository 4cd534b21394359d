"""The pipeline's expiry gate: which issued certificates in a stack's outputs expire within N days.

    pulumi stack output --json | python -m scripts.pipeline_expiry --days 30 [--markdown FILE]

Reads `pulumi stack output --json` (stdin, or --outputs FILE) and looks at every object that has a
`not_after` (ACM certificates and imports, CAS orders and instances, SCM certificates: all certfleet outputs
name a certificate's expiry so). Prints one line per certificate with its days left, then either
`expiry: OK ...` (exit 0) or `expiry: FAILED ...` naming each certificate that expires within --days
(exit 12, the pipeline's "expiring" code). Only certificates not issued yet (`not_after` null, and no status
that says issued) are skipped; a `not_after` that is not a date (`[secret]`, epoch milliseconds, anything
else), an issued certificate (status ISSUED or DEPLOYED, CAS state `certificate`) whose `not_after` is null,
and an output hidden whole as `[secret]` fail the gate with exit 13, naming each; so do outputs that name no
certificate at all (`{}`, the wrong stack), since a gate that read nothing must not pass (12 wins when both
apply). `edge` objects (what a CDN served at the last edge check, the edge check's to judge) and
`renewal` objects (a copy of their entry's not_after) are not certificates: not read. "Now" is certfleet's (components/clock.py: the real time, moved by
CERTFLEET_CLOCK_OFFSET_SECONDS for the local emulators). scripts/report.py shows the same days left beside each
certificate's renewal state, and `report.py --expiring-within DAYS` applies this gate with these exit codes.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a file too (scripts/report.py)
from components import clock  # noqa: E402

EXIT_EXPIRING = 12
EXIT_UNREADABLE_EXPIRY = 13  # a not_after (or a whole output) is not a date, or no certificate at all was read
EXIT_UNREADABLE = 2          # the outputs file itself
SECRET = "[secret]"          # how `pulumi stack output --json` prints a secret value
SECRET_FIELDS = {"private_key"}  # the outputs' secret leaves (docs/outputs.md, "Secrets"): never a certificate
# Objects with a not_after that are not certificates of their own: what a CDN served at the last edge check
# (components/aws/edge_check.py), and an entry's `renewal` object (components/renewal.py: its entry's not_after).
NOT_CERTIFICATES = {"edge", "renewal"}
# What says a certificate is issued (so its not_after must be a date): ACM, SCM and deployed copies' `status`,
# CAS orders' and instance entries' `state`.
ISSUED_STATUSES = {"ISSUED", "DEPLOYED"}
ISSUED_STATES = {"certificate"}


@dataclass(frozen=True)
class Expiry:
    path: str               # where in the outputs, e.g. "aws.certificates.shop"
    not_after: datetime     # aware, UTC
    entry: dict = field(default_factory=dict, compare=False, repr=False)  # the object whose not_after it is

    def days_left(self, now: datetime) -> int:
        return (self.not_after - now) // timedelta(days=1)


def parse_instant(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def walk(node: Any, path: str = "") -> Iterator[tuple[str, Any, dict]]:
    """(path, not_after, the object) for every object in the outputs that has a `not_after` key, in sorted
    order, and (path, "[secret]", {}) for every value hidden as a secret: it may hold certificates."""
    if node == SECRET:
        yield path, node, {}
    elif isinstance(node, dict):
        if "not_after" in node:
            yield path, node["not_after"], node
        for key in sorted(node):
            hidden = node[key] == SECRET and key not in SECRET_FIELDS and key != "not_after"
            if (isinstance(node[key], (dict, list)) or hidden) and key not in NOT_CERTIFICATES:
                yield from walk(node[key], f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from walk(item, f"{path}[{index}]")


def issued(entry: dict) -> bool:
    return entry.get("status") in ISSUED_STATUSES or entry.get("state") in ISSUED_STATES


def collect(outputs: dict) -> tuple[list[Expiry], list[str], list[tuple[str, Any]]]:
    """The certificates with a readable expiry, the paths of those not issued yet (not_after null), and
    (path, value) of every not_after that is not a date (null on an issued certificate included) and every
    output hidden as a secret."""
    found, skipped, unreadable = [], [], []
    for path, value, entry in walk(outputs):
        instant = parse_instant(value) if isinstance(value, str) and value != SECRET else None
        if value is None and issued(entry):
            unreadable.append((path, value))
        elif value is None:
            skipped.append(path)
        elif instant is None:
            unreadable.append((path, value))
        else:
            found.append(Expiry(path, instant.astimezone(timezone.utc), entry))
    return found, skipped, unreadable


def expiring(found: list[Expiry], now: datetime, days: int) -> list[Expiry]:
    return [e for e in found if e.not_after < now + timedelta(days=days)]


def render(found: list[Expiry], skipped: list[str], unreadable: list[tuple[str, Any]], now: datetime,
           days: int) -> list[str]:
    lines = [f"  {e.path}: expires {e.not_after.isoformat()} ({e.days_left(now)} days left)" for e in found]
    if skipped:
        lines.append(f"  not checked (not issued yet): {', '.join(skipped)}")
    return lines + verdict(found, unreadable, now, days, skipped)


def read_nothing(found: list[Expiry], unreadable: list[tuple[str, Any]], skipped: list[str]) -> bool:
    """The outputs name no certificate at all, issued or not: nothing was checked."""
    return not found and not unreadable and not skipped


def verdict(found: list[Expiry], unreadable: list[tuple[str, Any]], now: datetime, days: int,
            skipped: list[str]) -> list[str]:
    """The gate's `expiry: OK ...` or `expiry: FAILED ...` lines."""
    if read_nothing(found, unreadable, skipped):
        return ["expiry: FAILED - the outputs name no certificate at all, so nothing was checked (the wrong "
                "stack, or one never brought up)"]
    lines = []
    soon = expiring(found, now, days)
    if soon:
        lines.append(f"expiry: FAILED - {len(soon)} certificate(s) expire within {days} days: "
                     + ", ".join(f"{e.path} ({e.days_left(now)} days)" for e in soon))
    if unreadable:
        lines.append(f"expiry: FAILED - cannot read the expiry of {len(unreadable)} certificate(s): "
                     + ", ".join(f"{path or '(outputs)'} ({json.dumps(value)})" for path, value in unreadable)
                     + "; a secret output hides its certificates, a not_after must be an ISO 8601 date, and an "
                       "issued certificate must have one")
    if not soon and not unreadable:
        lines.append(f"expiry: OK - none of {len(found)} issued certificate(s) expires within {days} days")
    return lines


def exit_code(found: list[Expiry], unreadable: list[tuple[str, Any]], now: datetime, days: int,
              skipped: list[str]) -> int:
    if expiring(found, now, days):
        return EXIT_EXPIRING
    return EXIT_UNREADABLE_EXPIRY if unreadable or read_nothing(found, unreadable, skipped) else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="fail when a certificate in the stack outputs expires soon")
    parser.add_argument("--days", type=int, required=True, help="fail when a certificate expires within DAYS")
    parser.add_argument("--outputs", help="`pulumi stack output --json` saved to a file (default: stdin)")
    parser.add_argument("--markdown", help="also append the result to this markdown file (a job summary)")
    parser.add_argument("--now", help=argparse.SUPPRESS)  # tests: a fixed instant
    args = parser.parse_args(argv)
    try:
        text = open(args.outputs).read() if args.outputs else sys.stdin.read()
        outputs = json.loads(text)
    except (OSError, ValueError) as error:
        print(f"expiry: cannot read the stack outputs: {error}", file=sys.stderr)
        return EXIT_UNREADABLE
    if not isinstance(outputs, dict):
        print("expiry: the stack outputs are not a JSON object", file=sys.stderr)
        return EXIT_UNREADABLE
    now = parse_instant(args.now) if args.now else clock.now()
    found, skipped, unreadable = collect(outputs)
    lines = render(found, skipped, unreadable, now, args.days)
    print("\n".join(lines))
    if args.markdown:
        with open(args.markdown, "a") as summary:
            summary.write("### Certificate expiry\n\n```\n" + "\n".join(lines) + "\n```\n")
    return exit_code(found, unreadable, now, args.days, skipped)


if __name__ == "__main__":
    sys.exit(main())
