"""State and rules of the Alidns emulator: accounts, domains, records, injected RAM denials, the DNS feed.

Every access key belongs to an account; a domain belongs to one account and only that account sees it and
its records (another account gets IncorrectDomainUser / DomainRecordNotBelongToUser). Records are one
value each, as in Alidns (two TXT values at `_dnsauth` = two RecordIds). Every accepted change is pushed to
the DNS feed (emulators/dns `DnsFeed`, or None) as the whole RRset of that name and type, so a real DNS
server on loopback answers what the API wrote.

Not emulated: lines other than `default` affecting answers (all lines feed one RRset), record groups,
weights, SetDomainRecordStatus (records are always ENABLE), the 2025 adaptive throttling (inject faults).
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from dataclasses import asdict, dataclass, field

from emulators.alidns.exceptions import (
    DomainRecordConflict, DomainRecordDuplicate, DomainRecordNotBelongToUser, IncorrectDomainUser,
    InvalidDomainNameFormat, InvalidDomainNameNoExist, InvalidParameter, InvalidRRFormat, PermissionDenied,
    QuotaExceededRecord, RecordLocked,
)
from emulators.core.clock import Clock
from emulators.dns.feed import push

DEFAULT_ACCOUNT_ID = "1234567890123456"
DNS_SERVERS = ["dns9.hichina.com", "dns10.hichina.com"]  # what a free-edition domain is given
RECORD_TYPES = ("A", "AAAA", "CNAME", "TXT", "MX", "NS", "CAA", "SRV")
MIN_TTL, MAX_TTL = 1, 86400
MAX_RECORDS_PER_DOMAIN = 10000
FIRST_RECORD_ID = 1000000000000000000
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_RR = re.compile(r"^(@|\*|(\*\.)?[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*)$")


@dataclass
class Record:
    record_id: str
    domain_name: str
    rr: str  # stored lower-case
    type: str
    value: str
    ttl: int
    line: str
    priority: int | None
    created_ms: int
    updated_ms: int
    status: str = "ENABLE"
    locked: bool = False

    def view(self) -> dict:
        """As DescribeDomainRecords lists it (JSON types of the SDK 4.6.1 models)."""
        view = {"RecordId": self.record_id, "DomainName": self.domain_name, "RR": self.rr, "Type": self.type,
                "Value": self.value, "TTL": self.ttl, "Line": self.line, "Status": self.status,
                "Locked": self.locked, "Weight": 1, "CreateTimestamp": self.created_ms,
                "UpdateTimestamp": self.updated_ms}
        if self.priority is not None:
            view["Priority"] = self.priority
        return view


@dataclass
class Denial:
    """`action` on `domain` fails with a RAM error for `access_key_id` (None = every key)."""

    domain: str
    action: str
    access_key_id: str | None = None
    code: str = "Forbidden.RAM"


@dataclass
class Change:
    """A record as Add/UpdateDomainRecord asked for it, checked by RECORD_CHECKS."""

    rr: str
    type: str
    value: str
    ttl: int
    line: str
    priority: int | None
    others: list[Record] = field(default_factory=list)  # the domain's other records


class AlidnsBackend:
    def __init__(self, clock: Clock, access_keys: dict[str, str], feed=None, seed_domains: tuple[str, ...] = ()):
        """`access_keys` {id: secret} belong to the default account; `seed_domains` are (re)created in it
        at start and after every reset; `feed` has put_zone / put_rrset / delete_zone (or is None)."""
        self.clock = clock
        self.feed = feed
        self.configured_keys = dict(access_keys)
        self.seed_domains = tuple(normalise_domain(d) for d in seed_domains)
        self.reset()

    # --- persistence (emulators.core.api.Backend) ---

    def reset(self) -> None:
        for domain in list(getattr(self, "domains", {})):
            self._feed("delete_zone", domain)
        self.access_keys = {key: {"secret": secret, "account_id": DEFAULT_ACCOUNT_ID}
                            for key, secret in self.configured_keys.items()}
        self.domains: dict[str, dict] = {}
        self.records: dict[str, Record] = {}
        self.denials: list[Denial] = []
        self.next_record_id = FIRST_RECORD_ID
        for domain in self.seed_domains:
            self.add_domain(domain, DEFAULT_ACCOUNT_ID)

    def to_state(self) -> dict:
        return {"access_keys": self.access_keys, "domains": self.domains,
                "records": [asdict(r) for r in self.records.values()],
                "denials": [asdict(d) for d in self.denials], "next_record_id": self.next_record_id}

    def load_state(self, state: dict) -> None:
        self.access_keys = state["access_keys"]
        self.domains = state["domains"]
        self.records = {r["record_id"]: Record(**r) for r in state["records"]}
        self.denials = [Denial(**d) for d in state["denials"]]
        self.next_record_id = state["next_record_id"]
        self.resync_feed()  # a DNS server started afresh learns what this state holds

    # --- accounts and domains (control API) ---

    def account_of(self, access_key_id: str) -> str:
        return self.access_keys[access_key_id]["account_id"]

    def add_access_key(self, access_key_id: str, secret: str, account_id: str) -> None:
        if not access_key_id or not secret or not account_id:
            raise ValueError("access_key_id, access_key_secret and account_id are required")
        self.access_keys[access_key_id] = {"secret": secret, "account_id": str(account_id)}

    def add_domain(self, domain_name: str, account_id: str) -> dict:
        domain_name = normalise_domain(domain_name)
        if not _DOMAIN.match(domain_name):
            raise ValueError(f"not a domain name: {domain_name!r}")
        existing = self.domains.get(domain_name)
        if existing is not None:
            if existing["account_id"] != account_id:
                raise ValueError(f"{domain_name} belongs to account {existing['account_id']}")
            return existing
        domain = {"domain_name": domain_name, "domain_id": str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{account_id}/{domain_name}")),
                  "account_id": account_id, "created_ms": self._now_ms()}
        self.domains[domain_name] = domain
        self._feed("put_zone", domain_name)
        return domain

    def delete_domain(self, domain_name: str) -> None:
        domain_name = normalise_domain(domain_name)
        if self.domains.pop(domain_name, None) is None:
            raise KeyError(domain_name)
        for record_id in [r.record_id for r in self.records.values() if r.domain_name == domain_name]:
            del self.records[record_id]
        self._feed("delete_zone", domain_name)

    def deny(self, denial: Denial) -> Denial:
        self.denials.append(denial)
        return denial

    # --- checks every operation makes ---

    def own_domain(self, domain_name: str, account_id: str) -> str:
        name = normalise_domain(domain_name)
        if not _DOMAIN.match(name):
            raise InvalidDomainNameFormat(domain_name)
        domain = self.domains.get(name)
        if domain is None:
            raise InvalidDomainNameNoExist(domain_name)
        if domain["account_id"] != account_id:
            raise IncorrectDomainUser(domain_name)
        return name

    def own_record(self, record_id: str, account_id: str) -> Record:
        record = self.records.get(record_id)
        if record is None or self.domains[record.domain_name]["account_id"] != account_id:
            raise DomainRecordNotBelongToUser(record_id)
        return record

    def check_permission(self, action: str, domain_name: str, access_key_id: str) -> None:
        for denial in self.denials:
            if denial.domain == domain_name and denial.action in (action, "*") \
                    and denial.access_key_id in (None, access_key_id):
                raise PermissionDenied(action, domain_name, access_key_id, self.account_of(access_key_id),
                                       code=denial.code)

    # --- operations ---

    def add_record(self, domain_name: str, change: Change) -> Record:
        change.others = self._records_of(domain_name)
        run_checks(change)
        if len(change.others) >= MAX_RECORDS_PER_DOMAIN:
            raise QuotaExceededRecord(MAX_RECORDS_PER_DOMAIN)
        now = self._now_ms()
        record = Record(str(self.next_record_id), domain_name, change.rr, change.type, change.value, change.ttl,
                        change.line, change.priority, now, now)
        self.next_record_id += 1
        self.records[record.record_id] = record
        self._push_rrset(domain_name, record.rr, record.type)
        return record

    def update_record(self, record: Record, change: Change) -> Record:
        if record.locked:
            raise RecordLocked(record.record_id)
        change.others = [r for r in self._records_of(record.domain_name) if r.record_id != record.record_id]
        if (change.rr, change.type, change.value, change.ttl, change.line) == \
                (record.rr, record.type, record.value, record.ttl, record.line):
            raise DomainRecordDuplicate()  # an update to identical values fails (godns #47)
        run_checks(change)
        before = (record.rr, record.type)
        record.rr, record.type, record.value, record.ttl = change.rr, change.type, change.value, change.ttl
        record.line, record.priority, record.updated_ms = change.line, change.priority, self._now_ms()
        self._push_rrset(record.domain_name, *before)
        if before != (record.rr, record.type):
            self._push_rrset(record.domain_name, record.rr, record.type)
        return record

    def delete_record(self, record: Record) -> None:
        if record.locked:
            raise RecordLocked(record.record_id)
        del self.records[record.record_id]
        self._push_rrset(record.domain_name, record.rr, record.type)

    def list_records(self, domain_name: str) -> list[Record]:
        return self._records_of(domain_name)

    def list_domains(self, account_id: str) -> list[dict]:
        return [d for d in self.domains.values() if d["account_id"] == account_id]

    def record_count(self, domain_name: str) -> int:
        return len(self._records_of(domain_name))

    # --- the DNS feed ---

    def resync_feed(self) -> None:
        for domain_name in self.domains:
            self._feed("put_zone", domain_name)
            for rr, type_ in sorted({(r.rr, r.type) for r in self._records_of(domain_name)}):
                self._push_rrset(domain_name, rr, type_)

    def _push_rrset(self, domain_name: str, rr: str, type_: str) -> None:
        records = [r for r in self._records_of(domain_name) if (r.rr, r.type) == (rr, type_)
                   and r.status == "ENABLE"]
        values = [_feed_value(r) for r in records]
        ttl = min((r.ttl for r in records), default=600)
        self._feed("put_rrset", domain_name, fqdn(rr, domain_name), type_, ttl, values)

    def _feed(self, method: str, *args) -> None:
        push(self.feed, "alidns", method, *args)

    def _records_of(self, domain_name: str) -> list[Record]:
        return [r for r in self.records.values() if r.domain_name == domain_name]

    def _now_ms(self) -> int:
        return int(self.clock.now().timestamp() * 1000)


# --- record rules: an ordered chain, the first failure is the answer ---

def check_rr(change: Change) -> None:
    if not _RR.match(change.rr):
        raise InvalidRRFormat(change.rr)


def check_type(change: Change) -> None:
    if change.type not in RECORD_TYPES:
        raise InvalidParameter("Type", change.type, f"one of {', '.join(RECORD_TYPES)}")


def check_value(change: Change) -> None:
    value = change.value
    try:
        if change.type == "A":
            ipaddress.IPv4Address(value)
        elif change.type == "AAAA":
            ipaddress.IPv6Address(value)
    except ValueError:
        raise InvalidParameter("Value", value, f"an {change.type} record needs an IP address") from None
    if change.type in ("CNAME", "NS", "MX") and not _DOMAIN.match(value.lower().rstrip(".")):
        raise InvalidParameter("Value", value, f"a {change.type} record needs a host name")
    if not value or len(value) > 4096:
        raise InvalidParameter("Value", value, "1 to 4096 characters")


def check_ttl(change: Change) -> None:
    if not MIN_TTL <= change.ttl <= MAX_TTL:
        raise InvalidParameter("TTL", str(change.ttl), f"{MIN_TTL} to {MAX_TTL}")


def check_duplicate(change: Change) -> None:
    for other in change.others:
        if (other.rr, other.type, other.value, other.line) == (change.rr, change.type, change.value, change.line):
            raise DomainRecordDuplicate()


def check_cname_conflict(change: Change) -> None:
    # A CNAME shares its name with nothing else (RFC 1034); Alidns answers DomainRecordConflict.
    for other in change.others:
        if other.rr == change.rr and other.line == change.line and "CNAME" in (other.type, change.type):
            raise DomainRecordConflict(f"{change.type} at {change.rr!r} conflicts with {other.type} record "
                                       f"{other.record_id}.")


RECORD_CHECKS = (check_rr, check_type, check_value, check_ttl, check_duplicate, check_cname_conflict)


def run_checks(change: Change) -> None:
    for check in RECORD_CHECKS:
        check(change)


def normalise_domain(name: str) -> str:
    return (name or "").strip().lower().rstrip(".")


def fqdn(rr: str, domain_name: str) -> str:
    return f"{domain_name}." if rr == "@" else f"{rr}.{domain_name}."


def _feed_value(record: Record) -> str:
    # The DNS server takes presentation-free values; MX carries its priority in front.
    if record.type == "MX":
        return f"{record.priority or 10} {record.value}"
    return record.value
