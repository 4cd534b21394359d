"""Client-side pacing: a token bucket per cloud operation, refilled a little below the cloud's request rate.

Shared by the AWS clients (components/aws/clients.py, per region, service and operation) and the CAS client
(components/alicloud/client.py, per operation): each attempt of a paced call, retries included, first waits for
a token of its operation's bucket, so a run never sends more than the cloud's quota whatever `--parallel` is.
"""

from __future__ import annotations

import threading
from typing import Hashable

from components.dynamic import Clock

# Clients pace at 90% of the rate: requests spaced exactly 1/rate apart on leaving can arrive closer than that
# (network jitter), and a server counting with a one-token bucket throttles the early one (seen with the AWS
# emulator at ListCertificates' 1/s). 10% headroom absorbs 100 ms of jitter at 1/s.
PACE = 0.9


class TokenBucket:
    """Thread-safe token bucket: at most `rate` requests a second, at most `burst` at once.

    A caller takes a token now or reserves the next one (the balance goes negative) and sleeps outside the
    lock, so waiting callers queue in arrival order and never wake together. Burst 1 (the default) sends
    evenly spaced requests: clouds do not say how they count a second, and even spacing stays under the rate
    whether they count in fixed windows, sliding windows or a bucket of their own.
    """

    def __init__(self, rate: float, burst: float = 1.0, clock: type[Clock] = Clock) -> None:
        self.rate, self.burst, self.clock = rate, burst, clock
        self._tokens, self._updated = burst, clock.now()
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Take a token; the seconds to wait before using it (0: go now)."""
        with self._lock:
            now = self.clock.now()
            self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            self._tokens -= 1
            return 0.0 if self._tokens >= 0 else -self._tokens / self.rate

    def take(self) -> float:
        """Wait for a token; the seconds waited."""
        delay = self.reserve()
        if delay > 0:
            self.clock.sleep(delay)
        return delay


class Buckets:
    """A process's pacing buckets by key (a client's operation), each made at its first use; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[Hashable, TokenBucket] = {}

    def of(self, key: Hashable, rate: float) -> TokenBucket:
        """The key's bucket, refilled at PACE x `rate` requests a second."""
        with self._lock:
            if key not in self._buckets:
                self._buckets[key] = TokenBucket(rate * PACE)
            return self._buckets[key]

    def get(self, key: Hashable) -> TokenBucket | None:
        """The key's bucket, if it has one (a rate learnt at run time, huaweicloud/client.py)."""
        with self._lock:
            return self._buckets.get(key)

    def lower(self, key: Hashable, rate: float, clock: type[Clock] = Clock) -> None:
        """Pace the key at PACE x `rate` from now on, unless it is paced slower already."""
        with self._lock:
            known = self._buckets.get(key)
            if known is None or rate * PACE < known.rate:
                self._buckets[key] = TokenBucket(rate * PACE, clock=clock)

    def clear(self) -> None:
        """Fresh, full buckets (tests)."""
        with self._lock:
            self._buckets.clear()
