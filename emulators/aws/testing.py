"""A small client for the AWS emulator's control API (/_certfleet/), for tests, benchmarks and scripts."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from emulators.aws.urls import CONTROL_PREFIX

# Proxy environment variables must not send loopback calls elsewhere.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class AwsControlError(Exception):
    def __init__(self, status: int, payload: dict):
        super().__init__(f"{status}: {payload}")
        self.status = status
        self.payload = payload


class AwsControl:
    def __init__(self, base_url: str):
        self.base_url = base_url.rstrip("/")

    def call(self, method: str, path: str, body: dict | None = None):
        """`path` is relative to /_certfleet/, e.g. "reset" or "throttles"."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.base_url}{CONTROL_PREFIX}{path}", data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with _OPENER.open(request, timeout=10) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            raise AwsControlError(error.code, json.loads(error.read() or b"{}")) from None

    def reset(self) -> None:
        self.call("POST", "reset")

    def settings(self, **changes) -> dict:
        """deploy_seconds=..., acm_validation_wait=... (no arguments: read them)."""
        return self.call("POST", "settings", changes) if changes else self.call("GET", "settings")

    def throttle(self, service: str = "*", operation: str = "*", **rule) -> dict:
        """rate=..., burst=... (token bucket) or probability=...; see throttling.ThrottleRule."""
        return self.call("POST", "throttles", {"service": service, "operation": operation, **rule})

    def throttle_at_aws_quotas(self) -> list[dict]:
        return self.call("POST", "throttles/aws-quotas")["throttles"]

    def throttles(self) -> list[dict]:
        return self.call("GET", "throttles")["throttles"]

    def clear_throttles(self) -> None:
        self.call("DELETE", "throttles")

    def fault(self, action: str, **fields) -> dict:
        """delay_after=seconds or drop_response=True; times=N (default 1); see models.AwsFault."""
        return self.call("POST", "faults", {"action": action, **fields})

    def faults(self) -> list[dict]:
        return self.call("GET", "faults")["faults"]

    def clear_faults(self) -> None:
        self.call("DELETE", "faults")

    def calls(self) -> dict:
        """{"operations": {"acm:DescribeCertificate": {"ok": 3, "throttled": 1}, ...}, "totals": {...}}"""
        return self.call("GET", "calls")

    def distributions(self) -> list[dict]:
        return self.call("GET", "cloudfront/distributions")["distributions"]

    def finish_deployments(self, distribution_id: str | None = None) -> list[str]:
        path = f"cloudfront/distributions/{distribution_id}/deploy" if distribution_id else "cloudfront/deploy"
        return self.call("POST", path)["deployed"]
