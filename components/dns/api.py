"""One small interface over the three DNS APIs certfleet writes validation records into (issue 12).

route53.py (AWS Route 53), alidns.py (Alibaba Cloud DNS) and huaweidns.py (Huawei Cloud DNS) each implement
DnsApi; `dns_api(provider, region)` hands out one instance per process and region. The record provider
(record.py) works only with Zone and RecordSet, in one canonical form whatever the service stores:
names lower-case without the trailing dot, TXT values as their raw text, CNAME targets lower-case without
the trailing dot, values sorted.

Who wrote a record: beside every record set certfleet writes a TXT record `_certfleet-owner.<name>` holding
`certfleet-owner=<project>/<stack>`, so a later run (or another stack) can tell its own records from anyone
else's; `read` returns it as RecordSet.owner.

Writes are conditional: `write` changes the set only while it is still what the caller read (`current`), else
RecordChanged and nothing is written; Route 53 checks that itself (one change batch), Alidns and Huawei DNS
list the set just before changing it (they have no conditional write). Waits for a change to reach the
name servers share the run's PROPAGATION window; ZONE_GONE_CODES are the answers for a deleted zone.

The API objects hold no SDK clients and no credentials: each call takes the process's client for the current
environment from the service's client module (components/aws/clients.py, components/alicloud/client.py,
components/huaweicloud/client.py), which also retries throttling and transient errors. Every failure is a
CloudError naming the call, the resource and the service's own code; a denial names the missing permission,
and no message carries a credential.
"""

from __future__ import annotations

import re
import threading
import urllib.parse
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Protocol, TypeVar

from components.errors import CertfleetError, CloudError

T = TypeVar("T")

OWNER_PREFIX = "_certfleet-owner"
OWNER_TEXT_PREFIX = "certfleet-owner="
PROVIDERS = ("route53", "alidns", "huaweicloud")
CLOUDS = {"route53": "aws", "alidns": "alicloud", "huaweicloud": "huaweicloud"}  # CloudError's `cloud`
TXT_STRING_MAX = 255  # characters in one TXT character-string (RFC 1035 3.3)
# The kind of wait (components/dynamic.wait_for `shared`) for DNS changes to reach the name servers: Route 53's
# INSYNC, Huawei's PENDING_*, and the caller's propagation check share one window per run.
PROPAGATION = "dns propagation"
# What each API answers for a zone that does not exist (any more), whatever the call.
ZONE_GONE_CODES = (
    "NoSuchHostedZone",                                  # Route 53
    "InvalidDomainName.NoExist", "IncorrectDomainUser",  # Alidns: no such domain; another account's domain
    "DNS.0302",                                          # Huawei DNS
)


def owner_name(name: str) -> str:
    """The name of the owner record of the record set at `name`."""
    return f"{OWNER_PREFIX}.{normalise_name(name)}"


def owner_value(owner: str) -> str:
    """The owner record's text for `owner` ("<project>/<stack>")."""
    return f"{OWNER_TEXT_PREFIX}{owner}"


def owner_of(text: str | None) -> str | None:
    """The owner named by an owner record's text, None if the text is not one."""
    if not text or not text.startswith(OWNER_TEXT_PREFIX) or len(text) == len(OWNER_TEXT_PREFIX):
        return None
    return text[len(OWNER_TEXT_PREFIX):]


@dataclass(frozen=True)
class Zone:
    provider: str        # "route53" | "alidns" | "huaweicloud"
    zone_id: str         # Route 53 hosted zone id (no /hostedzone/ prefix), Alidns domain name, Huawei zone id
    name: str            # zone apex, lower-case, no trailing dot


@dataclass(frozen=True)
class RecordSet:
    name: str            # FQDN, lower-case, no trailing dot
    type: str            # "TXT" | "CNAME"
    ttl: int
    values: tuple[str, ...]   # canonical, sorted (canonical_values)
    owner: str | None = None  # from the owner record (owner_of), filled by read()


class DnsApi(Protocol):
    provider: str

    def find_zone(self, zone_ref: str | None, record_name: str, resource: str) -> Zone:
        """The zone `zone_ref` (ZoneMismatch if it does not hold `record_name`), or without one the longest zone
        of the account holding `record_name` (NoZoneForName if none). A missing zone: the cloud's code."""

    def check_access(self, zone: Zone, resource: str) -> None:
        """One cheap read of the zone's records; a denial's CloudError names the missing permission."""

    def read(self, zone: Zone, name: str, rtype: str, resource: str) -> RecordSet | None:
        """The record set at `name` of `rtype` (None if absent), its owner from the owner record."""

    def write(self, zone: Zone, record: RecordSet, owner: str, resource: str,
              current: RecordSet | None) -> None:
        """Make the set exactly `record` (values, TTL) and its owner record `owner_value(owner)`, only if the set
        is still `current` (values and TTL, as `same_set`; None: absent), else RecordChanged and no change."""

    def delete(self, zone: Zone, current: RecordSet, resource: str) -> None:
        """Remove `current`'s values (others added since stay), then the owner record; absent is fine."""

    def delete_owner(self, zone: Zone, name: str, resource: str, owner: str | None = None) -> None:
        """Remove only the owner record of `name` (left by an interrupted write); absent is fine. With `owner`:
        only if it names that owner (never another stack's)."""


_apis: dict[tuple[str, str | None], DnsApi] = {}
_apis_lock = threading.Lock()


def dns_api(provider: str, region: str | None = None) -> DnsApi:
    """The process's API object for `provider` (and `region`: Huawei DNS needs it, Route 53 ignores it)."""
    if provider not in PROVIDERS:
        raise CertfleetError(f"dns: unknown DNS provider {provider!r}; one of {', '.join(PROVIDERS)}")
    if provider == "huaweicloud" and not region:
        raise CertfleetError("dns: Huawei Cloud DNS needs a region (its endpoint is dns.<region>.myhuaweicloud.com)")
    key = (provider, None if provider == "route53" else region)
    with _apis_lock:
        if key not in _apis:
            _apis[key] = _build(provider, region)
        return _apis[key]


def _build(provider: str, region: str | None) -> DnsApi:
    # Imported here: each module imports its SDK, and a stack uses one or two of the three.
    if provider == "route53":
        from components.dns.route53 import Route53Api
        return Route53Api()
    if provider == "alidns":
        from components.dns.alidns import AlidnsApi
        return AlidnsApi(region)
    from components.dns.huaweidns import HuaweiDnsApi
    return HuaweiDnsApi(str(region))


# --- names and values -------------------------------------------------------------------------------------

def normalise_name(name: str) -> str:
    return name.strip().rstrip(".").lower()


def in_zone(zone_name: str, name: str) -> bool:
    return name == zone_name or name.endswith("." + zone_name)


def suffixes(name: str) -> list[str]:
    """`name` and every parent with at least two labels, longest first: the zones that may hold `name`."""
    labels = name.split(".")
    return [".".join(labels[i:]) for i in range(max(len(labels) - 1, 1))]


def longest_zone(zones: Iterable[Zone], name: str) -> Zone | None:
    holding = [zone for zone in zones if in_zone(zone.name, name)]
    return max(holding, key=lambda zone: len(zone.name), default=None)


def canonical_value(rtype: str, value: str) -> str:
    return normalise_name(value) if rtype == "CNAME" else value


def canonical_values(rtype: str, values: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted({canonical_value(rtype, value) for value in values}))


def record_set(name: str, rtype: str, ttl: int, values: Iterable[str], owner: str | None) -> RecordSet:
    return RecordSet(normalise_name(name), rtype, int(ttl), canonical_values(rtype, values), owner)


def same_set(found: RecordSet | None, expected: RecordSet | None) -> bool:
    """Is `found` the set `expected` describes: the same values (canonically) and TTL, or both absent? The owner
    record is not part of the set."""
    if found is None or expected is None:
        return found is None and expected is None
    return (found.type == expected.type and int(found.ttl) == int(expected.ttl)
            and canonical_values(found.type, found.values) == canonical_values(expected.type, expected.values))


def txt_presentation(text: str) -> str:
    """TXT text as Route 53 and Huawei DNS take it: double-quoted strings of at most 255 characters, `"` and
    `\\` escaped (CA tokens are printable ASCII, so characters and octets agree)."""
    chunks = [text[i:i + TXT_STRING_MAX] for i in range(0, len(text), TXT_STRING_MAX)] or [""]
    return " ".join('"' + chunk.replace("\\", "\\\\").replace('"', '\\"') + '"' for chunk in chunks)


_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
_ESCAPE = re.compile(r"\\(\d{3}|.)")


def txt_text(value: str, octal_escapes: bool = False) -> str:
    """The raw text of a TXT value in presentation form (strings unquoted, unescaped, concatenated). `\\DDD` is
    decimal (RFC 1035), octal at Route 53. A value without quotes is taken as it is."""
    strings = _QUOTED.findall(value)
    if not strings:
        return value

    def unescape(match: re.Match) -> str:
        escaped = match.group(1)
        return chr(int(escaped, 8 if octal_escapes else 10)) if escaped.isdigit() else escaped

    return "".join(_ESCAPE.sub(unescape, string) for string in strings)


# --- errors -------------------------------------------------------------------------------------------------

class RecordChanged(CertfleetError):
    """A conditional write found the record set other than the caller read it: nothing was written. `now` is
    the set as it is now (None: absent)."""

    def __init__(self, resource: str, name: str, rtype: str, expected: RecordSet | None, now: RecordSet | None):
        self.name, self.type, self.now = name, rtype, now
        super().__init__(f"{resource}: {name} ({rtype}) changed since it was read (it was {_described(expected)}, "
                         f"now {_described(now)}); certfleet wrote nothing")


def _described(found: RecordSet | None) -> str:
    if found is None:
        return "absent"
    owner = f", owner {found.owner}" if found.owner else ""
    return f"{list(found.values)} TTL {found.ttl}{owner}"


def explained(message: str, *, denied: bool, permission: str, secrets: Iterable[str | None]) -> str:
    """An error message as certfleet shows it: a denial names the missing permission; no credential appears,
    neither as it is nor percent-encoded once or twice (Alibaba's string-to-sign carries an STS token so)."""
    if denied and permission not in message:
        message = f"{message} (missing permission {permission})"
    forms = set()
    for secret in secrets:
        if secret:
            once = urllib.parse.quote(secret, safe="")
            forms |= {secret, once, urllib.parse.quote(once, safe="")}
    for form in sorted(forms, key=len, reverse=True):  # longest first: no form is left half-masked
        message = message.replace(form, "***")
    return message


def zone_mismatch(provider: str, call: str, resource: str, zone: Zone, name: str) -> CloudError:
    return CloudError(CLOUDS[provider], call, resource, "ZoneMismatch",
                      f"{name} is not in zone {zone.name} ({zone.zone_id}); name the zone that holds it")


def no_zone_for_name(provider: str, call: str, resource: str, name: str) -> CloudError:
    return CloudError(CLOUDS[provider], call, resource, "NoZoneForName",
                      f"no {provider} zone of this account holds {name}; create it, or name the zone")


def require_in_zone(zone: Zone, name: str, call: str, resource: str) -> str:
    """`name` normalised, if the zone holds it (else ZoneMismatch before any call)."""
    name = normalise_name(name)
    if not in_zone(zone.name, name):
        raise zone_mismatch(zone.provider, call, resource, zone, name)
    return name


class RunMemo:
    """What one run learns of the account's zones, kept for the run (the provider process): a thousand records
    in one zone find it with one listing, not a thousand. Failures are not kept."""

    def __init__(self) -> None:
        self._found: dict[Any, Any] = {}
        self._lock = threading.Lock()

    def get(self, key: Any, compute: Callable[[], T]) -> T:
        with self._lock:
            if key in self._found:
                return self._found[key]
        value = compute()
        with self._lock:
            return self._found.setdefault(key, value)
