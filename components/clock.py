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


# The endpoint overrides of the three clouds' APIs (components/aws/clients.py, alicloud/client.py,
# huaweicloud/client.py): an offset is accepted only while every one that is set points at this machine.
ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL", "CERTFLEET_ALICLOUD_CAS_ENDPOINT", "CERTFLEET_HUAWEICLOUD_SCM_ENDPOINT")
LOOPBACK_HOSTS = ("localhost", "::1", "[::1]")


def _is_loopback(endpoint: str) -> bool:
    host = endpoint.split("://", 1)[-1].split("/", 1)[0].rsplit("@", 1)[-1]
    host = host if host.startswith("[") else host.split(":", 1)[0]
    return host in LOOPBACK_HOSTS or host.startswith("127.") or host.startswith("[::1]")


def offset() -> timedelta:
    raw = os.environ.get(OFFSET_VARIABLE, "").strip()
    if not raw:
        return timedelta(0)
    try:
        seconds = float(raw)
    except ValueError:
        raise ValueError(f"{OFFSET_VARIABLE} must be a number of seconds, not {raw!r}") from None
    # Journal stamps and purchase windows are compared with the clouds' own times: a moved clock against a real
    # cloud would make an interrupted run's order look older than its stamp.
    endpoints = [os.environ[v] for v in ENDPOINT_VARIABLES if os.environ.get(v)]
    if seconds and (not endpoints or not all(_is_loopback(e) for e in endpoints)):
        raise ValueError(f"{OFFSET_VARIABLE} moves certfleet's clock for the local emulators only: it needs "
                         f"{', '.join(ENDPOINT_VARIABLES)} (those set) pointing at this machine; unset it")
    return timedelta(seconds=seconds)


def now() -> datetime:
    """The current time (UTC, timezone-aware) as expiry and renewal decisions see it."""
    return datetime.now(timezone.utc) + offset()


def epoch() -> float:
    """now() as epoch seconds: what journal stamps record and what is compared with the clouds' order times
    (which the emulators give on their moved clocks)."""
    return time.time() + offset().total_seconds()
