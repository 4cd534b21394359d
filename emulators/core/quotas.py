"""Request-rate quotas: calls over an operation's rate are answered as the vendor throttles (off by default).

A rule names an operation (as the API reports it, e.g. "ListUserCertificateOrder") or "*", and a rate in
requests per second. Each caller (the access key a request was signed with: CAS and SCM meter per user) gets
one token bucket per rule and operation; a "*" rule gets one bucket per caller for all operations together
(Huawei's gateway: "policy user over ratelimit ... time:1 second"). A call takes a token from each rule that
matches it, in order; the first rule without one throttles the call (the API's `throttle_error`: CAS
Throttling.User 400, SCM 429 APIGW.0308), counted on the rule and at /_emulator/calls as "throttled". Burst
sizes are not published: a bucket holds one second's worth (at least 1), so a client spacing its calls at or
under the rate never meets a refusal.

Rules come from `--throttle` at start-up (an API's published table, "published", and/or OPERATION=RATE) and from
the control API (GET|POST|DELETE /_emulator/throttles, POST /_emulator/throttles/published). A reset goes back
to the start-up rules with full buckets.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, fields, replace
from typing import Mapping

from emulators.core.faults import FaultInjector

ANY_OPERATION = "*"
PUBLISHED = "published"   # --throttle published: the API's own table (ApiEmulator.published_rates)


class TokenBucket:
    """`rate` tokens a second up to `burst`; a call takes one now or is refused (never queues: a server)."""

    def __init__(self, rate: float, burst: float):
        self.rate, self.burst = rate, burst
        self.tokens, self.updated = burst, time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


@dataclass
class RateRule:
    operation: str = ANY_OPERATION
    rate: float = 1.0                 # requests per second, per caller
    burst: float | None = None        # bucket size; default max(1, rate)
    retry_after: float | None = None  # seconds the answer asks to wait (Alibaba: x-acs-retry-after); None: no header
    label: str = ""                   # "published": from the API's table
    id: int = 0
    throttled: int = 0                # calls this rule refused so far
    _buckets: dict = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, data: Mapping) -> "RateRule":
        known = {f.name for f in fields(cls)} - {"id", "throttled", "_buckets"}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown throttle fields: {sorted(unknown)} (known: {sorted(known)})")
        rule = cls(**data)
        if not isinstance(rule.operation, str) or not rule.operation:
            raise ValueError("operation must be an operation name or *")
        for name in ("rate", "burst", "retry_after"):
            value = getattr(rule, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
                raise ValueError(f"{name} must be a number")
        if not rule.rate > 0:
            raise ValueError("rate must be > 0 (requests per second)")
        if rule.burst is not None and not rule.burst >= 1:
            raise ValueError("burst must be >= 1")
        if rule.retry_after is not None and not rule.retry_after > 0:
            raise ValueError("retry_after must be > 0 seconds")
        return rule

    def matches(self, operation: str) -> bool:
        return self.operation in (ANY_OPERATION, operation)

    def admits(self, caller: str, operation: str) -> bool:
        """Take a token of this caller's bucket (one per operation; one for all under "*")."""
        key = (caller, ANY_OPERATION if self.operation == ANY_OPERATION else operation)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(self.rate, self.burst or max(1.0, self.rate))
        return bucket.take()

    def to_json(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "_buckets"}


def parse_throttle(text: str, published: Mapping[str, float]) -> list[RateRule]:
    """One --throttle value: "published" (the API's table) or OPERATION=RATE (OPERATION may be *), several
    comma-separated."""
    rules = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        if part == PUBLISHED:
            if not published:
                raise ValueError("this API publishes no request rates: give OPERATION=RATE (e.g. *=5)")
            rules += published_rules(published)
            continue
        operation, equals, rate = part.partition("=")
        if not equals:
            raise ValueError(f"--throttle {part!r}: want OPERATION=RATE or {PUBLISHED}")
        try:
            rules.append(RateRule.from_json({"operation": operation.strip(), "rate": float(rate)}))
        except ValueError as error:
            raise ValueError(f"--throttle {part!r}: want OPERATION=RATE or {PUBLISHED} ({error})") from None
    return rules


def published_rules(published: Mapping[str, float]) -> list[RateRule]:
    return [RateRule(operation=operation, rate=rate, label=PUBLISHED) for operation, rate in published.items()]


class RateQuotas(FaultInjector):
    """The fault injector's ordered, numbered rule list (add, clear, rules), of rate rules; the `start_up` ones
    come back (with full buckets) on reset."""

    def __init__(self, start_up: list[RateRule] | None = None) -> None:
        super().__init__()
        self._start_up = list(start_up or ())
        self.reset()

    def reset(self) -> None:
        self.clear()
        for rule in self._start_up:
            self.add(replace(rule, id=0, throttled=0, _buckets={}))   # fresh counts, full buckets

    def refusal(self, caller: str, operation: str) -> RateRule | None:
        """The rule that throttles this call (counted on it), or None: the call goes on."""
        with self._lock:
            for rule in self._rules:
                if rule.matches(operation) and not rule.admits(caller, operation):
                    rule.throttled += 1
                    return rule
        return None
