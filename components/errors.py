"""certfleet's errors: one root, a shallow tree. SDK exceptions are converted at the client boundary."""

from __future__ import annotations


class CertfleetError(Exception):
    """Root of every error certfleet raises on purpose."""


class ConfigError(CertfleetError):
    """Stack config breaks one or more rules. Raised before any cloud call; lists every problem found."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"certfleet config has {len(self.problems)} problem(s):\n{lines}")


class CloudError(CertfleetError):
    """A cloud API call failed. The text names the resource, the call and the cloud's own error code."""

    def __init__(self, cloud: str, call: str, resource: str, code: str, message: str):
        self.cloud, self.call, self.resource, self.code = cloud, call, resource, code
        super().__init__(f"{cloud}: {call} for {resource} failed: {code}: {message}")


class WaitTimeout(CertfleetError):
    """A bounded wait ran out. The resource is left as it is; the next run (or refresh) continues."""
