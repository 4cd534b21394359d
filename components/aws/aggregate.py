"""`aggregate` (seed 000's dist_aggregate): which requested certificates a wildcard certificate of the stack serves.

CloudFront Extensions walks its entries in order and matches SANs against `.*\\.<wildcard>` with re.match
(reference aws-cloudfront-extensions.md §4.3, §8 defect 1): a.b.example.com, a.example.com.evil.net and
a.exampleXcom all "match" *.example.com, and a wildcard entry listed after the entries it covers absorbs none.
Here coverage is names.covers (exact, one label, anchored, case-insensitive since names are lower-case; the apex
is not covered), and the result does not depend on the order of the config:

- only a `certificates` entry with no wildcard name of its own can reuse another (an entry that has one is
  itself a candidate to be reused, never a reuser; an import is never requested, so it never reuses);
- it reuses a certificates or imports entry with a wildcard name covering each of its names;
- when several cover it, the first by name, so the choice is the same for any order of the entries.

An entry with a wildcard name never reuses, so an entry that reuses is never reused: no chains.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from components import names

REQUESTED = "certificate"   # a certfleet:aws.certificates entry (ACM RequestCertificate)
IMPORTED = "import"         # a certfleet:aws.imports entry (ACM ImportCertificate)


@dataclass(frozen=True)
class CertificateEntry:
    """A certificate of the stack that a distribution can name, with every name it covers."""

    name: str
    kind: str                  # REQUESTED | IMPORTED
    names: tuple[str, ...]     # lower-case, apex and wildcard kept


@dataclass(frozen=True)
class Reuse:
    entry: str                      # the certificates entry that is not requested
    certificate: str                # the entry whose certificate serves it instead
    wildcards: tuple[str, ...]      # that entry's wildcard names that cover its names, sorted


def _wildcards(entry: CertificateEntry) -> tuple[str, ...]:
    return tuple(n for n in entry.names if n.startswith("*."))


def _covering_wildcards(names_to_cover: Iterable[str], wildcards: tuple[str, ...]) -> tuple[str, ...] | None:
    """The wildcards that cover the names, or None when one of the names is covered by none of them."""
    used: set[str] = set()
    for host in names_to_cover:
        covering = [w for w in wildcards if names.covers(w, host)]
        if not covering:
            return None
        used.add(covering[0])
    return tuple(sorted(used))


def reuses(entries: Iterable[CertificateEntry]) -> tuple[Reuse, ...]:
    """Every requested entry that a wildcard entry covers, sorted by entry name."""
    ordered = sorted(entries, key=lambda e: e.name)
    providers = [e for e in ordered if _wildcards(e)]
    found: list[Reuse] = []
    for entry in ordered:
        if entry.kind != REQUESTED or _wildcards(entry) or not entry.names:
            continue
        for provider in providers:
            covering = _covering_wildcards(entry.names, _wildcards(provider))
            if covering is not None:
                found.append(Reuse(entry.name, provider.name, covering))
                break
    return tuple(found)
