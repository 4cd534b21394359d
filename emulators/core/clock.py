"""An injectable clock: real time plus an offset that tests move forward instead of sleeping."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone


class Clock:
    def __init__(self) -> None:
        self._offset = timedelta(0)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The emulator's current time (UTC, timezone-aware)."""
        with self._lock:
            return datetime.now(timezone.utc) + self._offset

    def advance(self, seconds: float) -> datetime:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += timedelta(seconds=seconds)
        return self.now()

    def reset(self) -> None:
        with self._lock:
            self._offset = timedelta(0)

    # The offset is saved with the state so that a restarted emulator keeps the time tests set.
    def to_state(self) -> dict:
        return {"offset_seconds": self._offset.total_seconds()}

    def load_state(self, state: dict) -> None:
        with self._lock:
            self._offset = timedelta(seconds=float(state.get("offset_seconds", 0)))
