"""The emulator's own state beside moto's: timing settings, throttling rules, faults and call counts.

moto keeps the AWS objects (certificates, distributions); what the emulator adds to a distribution (its
deployment deadline) lives on moto's objects, so a moto reset wipes it with them. Everything here is
reset together with moto (`EmulatorState.reset`), the clock too, by `/_certfleet/reset` and by `/moto-api/reset`.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, fields, replace

from moto import settings as moto_settings

from emulators.aws.throttling import Throttler
from emulators.core.clock import Clock
from emulators.core.faults import ANY_ACTION, FaultInjector
from emulators.core.server import CallCounts


@dataclass
class Settings:
    """Timing knobs, settable at start-up (flags) and at runtime (control API); reset restores start-up."""

    deploy_seconds: float = 5.0        # a created or updated distribution is InProgress this long
    acm_validation_wait: float = 60.0  # a requested certificate is PENDING_VALIDATION this long (moto's knob)
    route53_sync_seconds: float = 0.0  # a Route 53 change is PENDING this long, then INSYNC (route53.py)

    def apply(self) -> None:
        # moto reads it on every status check (CertBundle.check), so a runtime change takes effect at once.
        moto_settings.ACM_VALIDATION_WAIT = self.acm_validation_wait

    def updated(self, changes: dict) -> "Settings":
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"unknown settings: {sorted(unknown)} (known: {sorted(known)})")
        for name, value in changes.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"{name} must be a number >= 0")
        return replace(self, **{name: float(value) for name, value in changes.items()})

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class AwsFault:
    """A crash-test fault on one operation (or "*"): the operation is performed, then its answer is
    held `delay_after` seconds (so a test can kill the client mid-call) or never sent (`drop_response`:
    the connection closes with no answer). Used `times` times (None = until cleared)."""

    action: str = ANY_ACTION           # operation name as boto3 spells it, e.g. "CreateDistributionWithTags"
    delay_after: float = 0.0
    drop_response: bool = False
    times: int | None = 1
    probability: float | None = None   # hit each matching call with this chance (not counted when spared)
    id: int = 0
    hits: int = 0

    @classmethod
    def from_json(cls, data: dict) -> "AwsFault":
        known = {f.name for f in fields(cls)} - {"id", "hits"}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)} (known: {sorted(known)})")
        fault = cls(**data)
        if not fault.drop_response and not fault.delay_after:
            raise ValueError("a fault needs delay_after > 0 or drop_response")
        if fault.times is not None and (not isinstance(fault.times, int) or fault.times < 1):
            raise ValueError("times must be an integer >= 1 (or null for unlimited)")
        if fault.probability is not None and not 0 < fault.probability <= 1:
            raise ValueError("probability must be in (0, 1]")
        return fault

    def to_json(self) -> dict:
        return asdict(self)


class EmulatorState:
    def __init__(self, settings: Settings):
        self.startup_settings = settings
        self.settings = settings
        settings.apply()
        # Held by the backend wrappers around check-then-act steps (an alias is free -> create), so two
        # concurrent calls can never both pass a check the first one's change would have failed.
        self.lock = threading.RLock()
        self.throttles = Throttler()
        self.faults = FaultInjector()
        self.calls = CallCounts()
        # The core emulators' clock: ACM expiry and managed renewal follow it (acm_renewal.py).
        self.clock = Clock()
        self.reset_hooks: list = []  # called by reset(), e.g. Route 53's feed takes its zones off the DNS server

    def update_settings(self, changes: dict) -> Settings:
        self.settings = self.settings.updated(changes)
        self.settings.apply()
        return self.settings

    def reset(self) -> None:
        """Back to start-up: settings, no throttling, no faults, no counts (moto is reset by the caller)."""
        self.settings = self.startup_settings
        self.settings.apply()
        self.throttles.clear()
        self.faults.clear()
        self.calls.clear()
        self.clock.reset()
        for hook in self.reset_hooks:
            hook()
