"""A small client for the control API, for tests and scripts (stdlib only, never uses proxies)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

# Proxy environment variables must not send loopback calls elsewhere.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class ControlAPIError(Exception):
    def __init__(self, status: int, payload: dict):
        super().__init__(f"{status}: {payload}")
        self.status = status
        self.payload = payload


class ControlClient:
    def __init__(self, base_url: str):
        self.base_url = base_url.rstrip("/")

    def call(self, method: str, path: str, body: dict | None = None):
        """`path` is relative to /_emulator/, e.g. "reset" or "cas/orders/5/publish"."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.base_url}/_emulator/{path}", data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with _OPENER.open(request, timeout=10) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            raise ControlAPIError(error.code, json.loads(error.read() or b"{}")) from None

    def health(self) -> dict:
        return self.call("GET", "health")

    def reset(self) -> None:
        self.call("POST", "reset")

    def add_fault(self, action: str = "*", **fields) -> dict:
        """See FaultRule for fields: status, code, message, times, retry_after, drop_response, delay."""
        return self.call("POST", "faults", {"action": action, **fields})

    def faults(self) -> list[dict]:
        return self.call("GET", "faults")["faults"]

    def clear_faults(self) -> None:
        self.call("DELETE", "faults")

    def throttle(self, operation: str = "*", rate: float = 1.0, **fields) -> dict:
        """A rate quota (emulators/core/quotas.py RateRule): `operation` ("*" = all together) at `rate` per second
        per caller; fields: burst, retry_after."""
        return self.call("POST", "throttles", {"operation": operation, "rate": rate, **fields})

    def throttle_at_published_rates(self) -> list[dict]:
        return self.call("POST", "throttles/published")["throttles"]

    def throttles(self) -> list[dict]:
        return self.call("GET", "throttles")["throttles"]

    def clear_throttles(self) -> None:
        self.call("DELETE", "throttles")

    def calls(self) -> dict:
        """{"operations": {operation: {outcome: n}}, "totals": {outcome: n}} since the last reset or clear."""
        return self.call("GET", "calls")

    def advance_clock(self, seconds: float) -> str:
        return self.call("POST", "clock", {"advance_seconds": seconds})["now"]

    def ca_certificate_pem(self) -> str:
        return self.call("GET", "ca")["certificate_pem"]

    def state(self) -> dict:
        return self.call("GET", "state")
