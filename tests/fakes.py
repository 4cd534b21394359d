"""Test doubles shared by the test layers."""

from __future__ import annotations

from components.dynamic import Clock


class FakeClock(Clock):
    """Time moves only when a wait sleeps: bounded waits run instantly. Class-level, like Clock; a test that
    needs its own timeline subclasses it (`class MyClock(FakeClock): t = 0.0; sleeps = []`)."""

    t = 0.0
    sleeps: list[float] = []

    @classmethod
    def now(cls) -> float:
        return cls.t

    @classmethod
    def sleep(cls, seconds: float) -> None:
        cls.sleeps.append(seconds)
        cls.t += seconds
