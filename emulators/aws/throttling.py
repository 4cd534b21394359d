"""Throttling on demand: token-bucket rates or a probability, per service and operation.

A rule matches a service signing name ("cloudfront", "acm", "tagging", "route53" or "*") and an operation ("*" =
any). A rate rule keeps one token bucket per operation it matches (AWS meters each API on its own): a
call takes a token or is throttled; tokens refill at `rate` per second up to `burst`. A probability rule
throttles each matching call with that chance. Every matching rule applies; the first that refuses
throttles the call. `aws_quota_rules()` is the "published quotas" mode (sources in COVERAGE.md).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, fields

from emulators.core.faults import FaultInjector
from emulators.core.quotas import TokenBucket  # a server's bucket: take a token or refuse

ANY = "*"
SERVICES = ("cloudfront", "acm", "tagging", "route53", ANY)

# AWS's per-API request rates (requests per second), AWS account and region.
# ACM: the "API rate quotas" table of the ACM user guide (acm-limits.html, "Requests-per-second quota for
# each ACM API operation"). Burst sizes are not published: a bucket holds one second's worth (min 1).
ACM_RATE_QUOTAS = {
    "AddTagsToCertificate": 5, "DeleteCertificate": 10, "DescribeCertificate": 10, "ExportCertificate": 5,
    "GetAccountConfiguration": 1, "GetCertificate": 10, "ImportCertificate": 1, "ListCertificates": 1,
    "ListTagsForCertificate": 10, "PutAccountConfiguration": 1, "RemoveTagsFromCertificate": 5,
    "RenewCertificate": 5, "RequestCertificate": 5, "ResendValidationEmail": 1, "UpdateCertificateOptions": 5,
}
# CloudFront publishes no control-plane API rates (its quotas page covers resources and viewer traffic).
# CreateInvalidation 0.5/s is an AWS engineer's statement (aws/aws-sdk-js#3983); the rest are our
# conservative choices, labelled as such in COVERAGE.md.
CLOUDFRONT_RATE_QUOTAS = {
    "CreateDistribution": 1, "CreateDistributionWithTags": 1, "UpdateDistribution": 1, "DeleteDistribution": 1,
    "GetDistribution": 5, "GetDistributionConfig": 5, "ListDistributions": 2, "TagResource": 1,
    "UntagResource": 1, "ListTagsForResource": 5, "CreateInvalidation": 0.5,
}
# Resource Groups Tagging API: no published rate either; our conservative choice.
TAGGING_RATE_QUOTAS = {"GetResources": 2}


@dataclass
class ThrottleRule:
    service: str = ANY
    operation: str = ANY
    rate: float | None = None          # requests per second (token refill)
    burst: float | None = None         # bucket size; default max(1, rate)
    probability: float | None = None   # 0 < p <= 1
    label: str = ""                    # "aws-quota" for the published-quotas mode
    id: int = 0
    throttled: int = 0                 # calls this rule refused so far
    _buckets: dict = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, data: dict) -> "ThrottleRule":
        known = {f.name for f in fields(cls)} - {"id", "throttled", "_buckets"}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown throttle fields: {sorted(unknown)} (known: {sorted(known)})")
        rule = cls(**data)
        if rule.service not in SERVICES:
            raise ValueError(f"service must be one of {list(SERVICES)}")
        if (rule.rate is None) == (rule.probability is None):
            raise ValueError("a throttle needs exactly one of rate (requests/second) or probability")
        if rule.rate is not None and not rule.rate > 0:
            raise ValueError("rate must be > 0")
        if rule.burst is not None and not rule.burst >= 1:
            raise ValueError("burst must be >= 1")
        if rule.probability is not None and not 0 < rule.probability <= 1:
            raise ValueError("probability must be in (0, 1]")
        return rule

    def matches(self, service: str, operation: str) -> bool:
        return self.service in (ANY, service) and self.operation in (ANY, operation)

    def refuses(self, service: str, operation: str, dice: random.Random) -> bool:
        if self.probability is not None:
            return dice.random() < self.probability
        bucket = self._buckets.get((service, operation))
        if bucket is None:
            bucket = self._buckets[(service, operation)] = TokenBucket(self.rate, self.burst or max(1.0, self.rate))
        return not bucket.take()

    def to_json(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "_buckets"}


def aws_quota_rules() -> list[ThrottleRule]:
    tables = (("acm", ACM_RATE_QUOTAS), ("cloudfront", CLOUDFRONT_RATE_QUOTAS), ("tagging", TAGGING_RATE_QUOTAS))
    return [ThrottleRule(service=service, operation=operation, rate=rate, label="aws-quota")
            for service, table in tables for operation, rate in table.items()]


class Throttler(FaultInjector):
    """The fault injector's ordered, numbered rule list (add, clear, rules); a call is checked against
    every rule that matches it rather than taking the first."""

    def refuses(self, service: str, operation: str) -> bool:
        """True if this call is throttled (and counts it on the rule that refused it)."""
        with self._lock:
            for rule in self._rules:
                if rule.matches(service, operation) and rule.refuses(service, operation, self._random):
                    rule.throttled += 1
                    return True
        return False
