"""certfleet's notion of "now" for expiry and renewal decisions.

Real UTC time, moved forward by CERTFLEET_CLOCK_OFFSET_SECONDS when set. The offset exists for the local
emulators, whose clocks tests and `scripts/local.sh clock` move forward (emulators/core/clock.py): a
certificate issued by an emulator expires on the emulator's clock, so certfleet must read the same time to
see it enter its renewal window. Unset in real use.
"""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta, timezone

OFFSET_VARIABLE = "CERTFLEET_CLOCK_OFFSET_SECONDS"


def offset() -> timedelta:
    raw = os.environ.get(OFFSET_VARIABLE, "").strip()
    if not raw:
        return timedelta(0)
    try:
        return timedelta(seconds=float(raw))
    except ValueError:
        raise ValueError(f"{OFFSET_VARIABLE} must be a number of seconds, not {raw!r}") from None


def now() -> datetime:
    """The current time (UTC, timezone-aware) as expiry and renewal decisions see it."""
    return datetime.now(timezone.utc) + offset()


def epoch() -> float:
    """now() as epoch seconds: what journal stamps record and what is compared with the clouds' order times
    (which the emulators give on their moved clocks)."""
    return time.time() + offset().total_seconds()
