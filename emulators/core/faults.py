"""Fault injection: rules that make the next N calls of an operation fail, stall or lose their answer."""

from __future__ import annotations

import itertools
import random
import threading
from dataclasses import asdict, dataclass

ANY_ACTION = "*"


@dataclass
class FaultRule:
    """One injected fault.

    action         operation name the API reports for a request (e.g. "DescribeCertificateState"), or "*"
    status         HTTP status of the injected error (e.g. 500, 503, 429); ignored with drop_response
    code, message  vendor error code/message; defaults come from the API for the status
    times          how many matching requests it applies to; None = until cleared
    retry_after    seconds; the API turns it into its own header (Alibaba: x-acs-retry-after in ms)
    drop_response  perform the operation, then close the connection without answering
    delay          seconds to stall before answering (to exercise client read timeouts)
    malformed_body answer `status` with a body that is not JSON
    probability    0 < p <= 1: each matching request is hit with this chance (a rate, e.g. 0.2); a request the
                   dice spare is not counted in `times` and goes on to the next rule. None = every request
    """

    action: str = ANY_ACTION
    status: int | None = None
    code: str | None = None
    message: str | None = None
    times: int | None = 1
    retry_after: float | None = None
    drop_response: bool = False
    delay: float = 0.0
    malformed_body: bool = False
    probability: float | None = None
    id: int = 0
    hits: int = 0  # requests it has hit so far (reported by GET faults)

    @classmethod
    def from_json(cls, data: dict) -> "FaultRule":
        known = {name for name in cls.__dataclass_fields__ if name not in ("id", "hits")}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        rule = cls(**data)
        if rule.status is None and not rule.drop_response and not rule.delay:
            raise ValueError("a fault needs a status, drop_response or delay")
        if rule.status is not None and not 400 <= int(rule.status) <= 599:
            raise ValueError("status must be an HTTP error status (400-599)")
        if rule.times is not None and int(rule.times) < 1:
            raise ValueError("times must be >= 1 (or null for unlimited)")
        if rule.probability is not None and (isinstance(rule.probability, bool)
                                             or not isinstance(rule.probability, (int, float))
                                             or not 0 < rule.probability <= 1):
            raise ValueError("probability must be a number in (0, 1] (or null for every request)")
        return rule

    def to_json(self) -> dict:
        return asdict(self)


class FaultInjector:
    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._random = random.Random()

    def add(self, rule: FaultRule) -> FaultRule:
        with self._lock:
            rule.id = next(self._ids)
            self._rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    def take(self, action: str) -> FaultRule | None:
        """The first rule matching `action`, counting one use of it (rules are used in order added)."""
        with self._lock:
            for rule in self._rules:
                if rule.action in (ANY_ACTION, action):
                    if rule.probability is not None and self._random.random() >= rule.probability:
                        continue  # spared by the dice: not counted, the next rule may still apply
                    rule.hits += 1
                    if rule.times is not None:
                        rule.times -= 1
                        if rule.times <= 0:
                            self._rules.remove(rule)
                    return rule
        return None
