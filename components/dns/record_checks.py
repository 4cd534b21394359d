"""Whose record is it? The ordered checks of the DNS record provider (components/dns/record.py).

Two decisions, each an ordered list of small checks; the first opinion decides (components/dynamic.first_opinion):

- TAKE_CHECKS (create, update): may certfleet write its values at this name? WRITE, USE (the record already holds
  exactly these values and certfleet did not write it: used as it is, never changed or deleted) or REFUSE.
- RELEASE_CHECKS (delete, and a CAS/SCM record once issued): REMOVE certfleet's values, KEEP the record as it is,
  or LET_GO (keep the record, remove only the owner record: certfleet stops managing it).

Ownership is per value: certfleet removes only the values it wrote (`written_values` in state), so a value
someone else added to the set (another tool, or another resource of the stack validating the same name in
another cloud) stays.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from components.dns import api as dns_apis
from components.dynamic import declared_in_this_run

WRITE, USE, REFUSE = "write", "use", "refuse"
REMOVE, KEEP, LET_GO = "remove", "keep", "let go"
# What components/aws/acm.py's check() notes as declared in this run: each base name a declared ACM certificate
# still covers (its CNAME is still needed: ACM renews through it).
ACM_NAME_KIND = "aws:AcmCertificate/name"
# What the record provider's check() notes: the records the program declares in this run (provider, zone, name,
# type), so the old half of a forced replacement (`pulumi up --replace`) leaves the record to its new half.
RECORD_KIND = "dns:Record"
Verdict = tuple[str, str]


def record_identity(props: Mapping[str, Any], zone_id: str | None) -> str:
    """One DnsRecord resource's record: its section too, since a CAS order's and an SCM certificate's resources
    may write values into the same record set (each its own)."""
    return f"{props.get('section')}:{props['provider']}:{zone_id}:{props.get('name')}:{props.get('type')}"


# --- may certfleet write this name? ------------------------------------------------------------------------

def name_is_free(current: dns_apis.RecordSet | None, wanted: dns_apis.RecordSet, owner: str) -> Verdict | None:
    return (WRITE, "no record at this name yet") if current is None else None


def written_by_this_stack(current: dns_apis.RecordSet, wanted: dns_apis.RecordSet, owner: str) -> Verdict | None:
    return (WRITE, "certfleet wrote it for this stack") if current.owner == owner else None


def written_by_another_stack(current: dns_apis.RecordSet, wanted: dns_apis.RecordSet, owner: str) -> Verdict | None:
    if current.owner:
        return (REFUSE, f"certfleet stack {current.owner} wrote it (its owner record "
                        f"{dns_apis.owner_name(current.name)} says so); one record, one stack: remove it from that "
                        f"stack first")
    return None


def already_there(current: dns_apis.RecordSet, wanted: dns_apis.RecordSet, owner: str) -> Verdict | None:
    if current.type == wanted.type and set(current.values) == set(wanted.values):
        return (USE, "it already holds exactly these values, written by someone else: certfleet uses it as it is "
                     "and never changes or deletes it")
    return None


def someone_elses(current: dns_apis.RecordSet, wanted: dns_apis.RecordSet, owner: str) -> Verdict | None:
    return (REFUSE, f"it holds {list(current.values)} ({current.type}), not certfleet's {list(wanted.values)}, and "
                    f"certfleet did not write it (no owner record {dns_apis.owner_name(current.name)}): certfleet "
                    f"never overwrites a record it did not write. Delete it, or publish this entry by hand "
                    f"(`dns: false`)")


TAKE_CHECKS: tuple[Callable[..., Verdict | None], ...] = (
    name_is_free, written_by_this_stack, written_by_another_stack, already_there, someone_elses)


def values_to_write(current: dns_apis.RecordSet | None, wanted: dns_apis.RecordSet,
                    written_before: list[str]) -> tuple[str, ...]:
    """The whole set to write: certfleet's values now, and every value in the set that certfleet did not write
    (values of certfleet's earlier write go). A CNAME holds one value: certfleet's."""
    if current is None or wanted.type == "CNAME":
        return wanted.values
    others = set(current.values) - set(written_before)
    return tuple(sorted(others | set(wanted.values)))


# --- delete (or the CA asks for nothing any more): which of certfleet's values go? --------------------------

def never_written(props: Mapping[str, Any], current: dns_apis.RecordSet | None) -> Verdict | None:
    if not props.get("owned") or not props.get("written_values"):
        return (KEEP, "certfleet did not write it")
    return None


def declared_again(props: Mapping[str, Any], current: dns_apis.RecordSet | None) -> Verdict | None:
    """Delete only: the program still declares this very record in this run (a forced replacement's old half)."""
    identity = record_identity(props, props.get("zone_id"))
    if declared_in_this_run(RECORD_KIND, identity):
        return (KEEP, "the resource replacing it in this run writes the same record")
    return None


def already_gone(props: Mapping[str, Any], current: dns_apis.RecordSet | None) -> Verdict | None:
    return (REMOVE, "the record is gone already; its owner record goes too") if current is None else None


def taken_over(props: Mapping[str, Any], current: dns_apis.RecordSet) -> Verdict | None:
    if current.owner != props.get("owner"):
        return (KEEP, f"its owner record no longer names this stack ({current.owner or 'none'}): someone took it "
                      f"over")
    return None


def acm_renews_through_it(props: Mapping[str, Any], current: dns_apis.RecordSet) -> Verdict | None:
    """An ACM CNAME of a name a certificate still covers (declared in this run, e.g. its entry says `dns: false`
    now), or whose certificate is kept on destroy (adopted, `onDestroy: keep`): ACM renews through it, so it stays.
    A name no certificate covers any more (a SAN removed) loses its CNAME."""
    if props.get("type") != "CNAME":
        return None
    if props.get("keep_with_certificate"):
        return (LET_GO, "the certificate is kept on destroy and ACM renews through this CNAME")
    if declared_in_this_run(ACM_NAME_KIND, props.get("domain") or ""):
        return (LET_GO, "a certificate of the stack still covers this name and ACM renews through this CNAME")
    return None


def certfleets_values(props: Mapping[str, Any], current: dns_apis.RecordSet) -> Verdict | None:
    return (REMOVE, "certfleet wrote it")


# Delete (destroy, or a resource the program no longer declares, or a replacement's old half).
RELEASE_CHECKS: tuple[Callable[..., Verdict | None], ...] = (
    never_written, declared_again, already_gone, taken_over, acm_renews_through_it, certfleets_values)
# The CA asks for nothing any more (a CAS/SCM certificate issued), or the zone found moved: the record itself
# stays declared, so `declared_again` does not apply.
CLEANUP_CHECKS: tuple[Callable[..., Verdict | None], ...] = (
    never_written, already_gone, taken_over, acm_renews_through_it, certfleets_values)


def values_left(current: dns_apis.RecordSet, written: list[str]) -> tuple[str, ...]:
    """What stays in the set once certfleet's values are removed."""
    return tuple(sorted(set(current.values) - set(written)))
