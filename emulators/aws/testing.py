"""A small client for the AWS emulator's control API (/_certfleet/), for tests, benchmarks and scripts.

Plain `http.client` (never a proxy); errors raise the core emulators' `ControlAPIError` (status, payload).
"""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

from emulators.aws.urls import CONTROL_PREFIX
from emulators.core.testing import ControlAPIError


# A template distribution as users keep one for cloning: an origin and a cache behaviour, no aliases
# (scripts/local_servers.py starts the local emulator with it; the end-to-end tests make their own from it).
SAMPLE_TEMPLATE = {
    "Comment": "template", "Enabled": True,
    "DefaultRootObject": "index.html", "PriceClass": "PriceClass_100", "HttpVersion": "http2",
    "Origins": {"Quantity": 1, "Items": [{
        "Id": "app", "DomainName": "app.example.net",
        "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only"}}]},
    "DefaultCacheBehavior": {"TargetOriginId": "app", "ViewerProtocolPolicy": "redirect-to-https",
                             "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"},
}


class AwsControl:
    def __init__(self, base_url: str):
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port or 80

    def call(self, method: str, path: str, body: dict | None = None):
        """`path` is relative to /_certfleet/, e.g. "reset" or "throttles"."""
        connection = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            connection.request(method, CONTROL_PREFIX + path, json.dumps(body) if body is not None else None,
                               {"Content-Type": "application/json"})
            response = connection.getresponse()
            payload = json.loads(response.read() or b"null")
        finally:
            connection.close()
        if response.status >= 400:
            raise ControlAPIError(response.status, payload)
        return payload

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

    def clear_calls(self) -> None:
        self.call("DELETE", "calls")

    def now(self) -> str:
        """The emulator's clock (ISO 8601): ACM expiry and managed renewal follow it."""
        return self.call("GET", "clock")["now"]

    def advance_clock(self, seconds: float) -> str:
        return self.call("POST", "clock", {"advance_seconds": seconds})["now"]

    def distributions(self) -> list[dict]:
        return self.call("GET", "cloudfront/distributions")["distributions"]

    def next_distribution_id(self, distribution_id: str) -> None:
        """The next distribution created gets this id (scripts/local_servers.py's fixed template)."""
        self.call("POST", "cloudfront/next-id", {"id": distribution_id})

    def edge_endpoint(self) -> str:
        """"host:port" of the emulator's CloudFront edge (TLS, certificate by SNI): CERTFLEET_EDGE_ENDPOINT."""
        return self.call("GET", "cloudfront/edge")["endpoint"]

    def finish_deployments(self, distribution_id: str | None = None) -> list[str]:
        path = f"cloudfront/distributions/{distribution_id}/deploy" if distribution_id else "cloudfront/deploy"
        return self.call("POST", path)["deployed"]
