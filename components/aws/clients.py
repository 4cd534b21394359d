"""boto3 clients and AWS errors, shared by the AWS providers (acm.py, acm_import.py, cloudfront.py, templates.py).

Clients are process-wide and built lazily: SDK clients cannot be pickled into state, and the engine sends one
provider process every call of a run from several threads.

Every client also paces itself (issue 8: one `pulumi up` of hundreds of certificates and distributions must
converge while AWS throttles), through botocore's event system, so no provider has to do anything:
- `before-send` (every HTTP attempt, retries included) waits for a token of the operation's bucket, which
  refills a little below AWS's published request rate for that operation (REQUESTS_PER_SECOND x PACE);
- botocore's standard retry mode retries throttling and transient errors only (its lists: Throttling,
  ThrottlingException, ThrottledException, TooManyRequestsException, RequestLimitExceeded, bare 429, 5xx,
  connection errors...) with capped exponential backoff and full jitter (1 s base for throttling, 20 s cap);
  never a validation error. Its list also holds LimitExceededException, which for ACM is a hard quota (too
  many certificates), not a rate: NOT_RETRIED vetoes that;
- `before-call`, `before-send` and `response-received` count calls, attempts and throttled answers per
  operation (api_counts()), for the benchmark and for tests.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import boto3
import botocore.config
import botocore.exceptions

from components.errors import CloudError
from components.pacing import PACE, Buckets, TokenBucket  # noqa: F401 (TokenBucket: moved to components/pacing.py)

_clients: dict[tuple[str, str], Any] = {}
_clients_lock = threading.Lock()
# 10 attempts: with the 20 s backoff cap that is about a minute of backing off under sustained throttling
# (the expected sum of the nine delays), long enough to ride out a burst from other clients of the account.
MAX_ATTEMPTS = 10
_BOTO_CONFIG = botocore.config.Config(retries={"mode": "standard", "max_attempts": MAX_ATTEMPTS},
                                      connect_timeout=10, read_timeout=60)

# --- AWS's request rates ------------------------------------------------------------------------------------
# Requests per second per account and region, by (client service name, operation).
ACM_RATES_SOURCE = "https://docs.aws.amazon.com/acm/latest/userguide/acm-limits.html#api-rate-limits"
# ^ "API rate quotas" (AWS Certificate Manager User Guide), read through a verbatim quote of the current table
#   (stackoverflow.com/questions/70744470); an older copy of the page said ListCertificates 5/s: the lower wins.
CLOUDFRONT_RATES_SOURCE = "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cloudfront-limits.html"
# ^ lists resource and viewer-traffic quotas only: AWS publishes no request rate for CloudFront's API. The
#   figures below are certfleet's choice, low because what is known is low: "Rate exceeded" when ~130
#   distributions were updated at once (github.com/aws/aws-cdk/issues/29183), a distribution updated 2-3 times
#   a minute throttled, not raisable (github.com/ansible-collections/community.aws/issues/296), and AWS
#   support quoting 0.5/s for CreateInvalidation (github.com/aws/aws-sdk-js/issues/3983).
TAGGING_RATES_SOURCE = "https://docs.aws.amazon.com/resourcegroupstagging/latest/APIReference/API_GetResources.html"
# ^ documents ThrottledException but no rate: certfleet's choice.
ROUTE53_RATES_SOURCE = "https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/DNSLimitations.html"
# ^ "Quotas on API requests": the older page (and AWS's knowledge-center article on Route 53 throttling) says 5
#   requests per second per account, all operations together; the current one a per-account bucket refilling at
#   10/s (reference/dns-apis.md §1.4): the lower wins. The buckets here are per operation, so the five operations
#   components/dns/route53.py calls share the 5/s, 1/s each.
REQUESTS_PER_SECOND: dict[tuple[str, str], float] = {
    # ACM: published (ACM_RATES_SOURCE)
    ("acm", "AddTagsToCertificate"): 5, ("acm", "DeleteCertificate"): 10, ("acm", "DescribeCertificate"): 10,
    ("acm", "ExportCertificate"): 5, ("acm", "GetAccountConfiguration"): 1, ("acm", "GetCertificate"): 10,
    ("acm", "ImportCertificate"): 1, ("acm", "ListCertificates"): 1, ("acm", "ListTagsForCertificate"): 10,
    ("acm", "PutAccountConfiguration"): 1, ("acm", "RemoveTagsFromCertificate"): 5, ("acm", "RenewCertificate"): 5,
    ("acm", "RequestCertificate"): 5, ("acm", "ResendValidationEmail"): 1, ("acm", "UpdateCertificateOptions"): 5,
    # CloudFront: not published, certfleet's choice (CLOUDFRONT_RATES_SOURCE)
    ("cloudfront", "CreateDistribution"): 1, ("cloudfront", "CreateDistributionWithTags"): 1,
    ("cloudfront", "UpdateDistribution"): 1, ("cloudfront", "DeleteDistribution"): 1,
    ("cloudfront", "TagResource"): 1, ("cloudfront", "UntagResource"): 1, ("cloudfront", "ListDistributions"): 1,
    ("cloudfront", "GetDistribution"): 5, ("cloudfront", "GetDistributionConfig"): 5,
    ("cloudfront", "ListTagsForResource"): 5, ("cloudfront", "CreateInvalidation"): 0.5,
    # Resource Groups Tagging API: not published, certfleet's choice (TAGGING_RATES_SOURCE)
    ("resourcegroupstaggingapi", "GetResources"): 2,
    # Route 53: 5/s per account shared by the operations certfleet calls (ROUTE53_RATES_SOURCE)
    ("route53", "ChangeResourceRecordSets"): 1, ("route53", "GetChange"): 1, ("route53", "GetHostedZone"): 1,
    ("route53", "ListHostedZones"): 1, ("route53", "ListResourceRecordSets"): 1,
}
DEFAULT_REQUESTS_PER_SECOND = 1.0  # certfleet's choice for any operation not above (e.g. DynamoDB, S3 reads)
# AWS's "slow down" answers (botocore's throttling list without LimitExceededException, a quota at ACM).
THROTTLING_CODES = frozenset({"Throttling", "ThrottlingException", "ThrottledException", "TooManyRequestsException",
                              "RequestLimitExceeded", "RequestThrottled", "RequestThrottledException", "SlowDown",
                              # Route 53: another change to the zone is still being applied; many records
                              # written into one zone at once meet it, and it asks for patience like a throttle
                              "PriorRequestNotComplete"})
# Server errors and lost connections get the attempts they had before pacing (MAX_ATTEMPTS is for throttling:
# the server is there and asks for patience; a 500 repeated five times is an answer).
TRANSIENT_MAX_ATTEMPTS = 5
# Codes botocore's standard mode retries that are not worth retrying here.
NOT_RETRIED = frozenset({("acm", "LimitExceededException")})  # a hard ACM quota: retrying cannot help


@dataclass
class OperationCounts:
    calls: int = 0         # API calls made by the providers
    attempts: int = 0      # HTTP requests sent (calls + retries)
    throttled: int = 0     # answers that said "slow down"
    waited: float = 0.0    # seconds spent waiting for a token of this client's bucket

    @property
    def retries(self) -> int:
        return self.attempts - self.calls


BUCKETS = Buckets()   # by (region, service, operation): ACM quotas are regional
_counts: dict[tuple[str, str], OperationCounts] = {}     # (service, operation)
_state_lock = threading.Lock()


def requests_per_second(service: str, operation: str) -> float:
    return REQUESTS_PER_SECOND.get((service, operation), DEFAULT_REQUESTS_PER_SECOND)


def bucket(service: str, region: str, operation: str) -> TokenBucket:
    return BUCKETS.of((region, service, operation), requests_per_second(service, operation))


def _counted(service: str, operation: str) -> OperationCounts:
    # Callers hold _state_lock.
    return _counts.setdefault((service, operation), OperationCounts())


def api_counts() -> dict[tuple[str, str], OperationCounts]:
    """(service, operation) -> counts, since the process started or reset_api_counts()."""
    with _state_lock:
        return {key: OperationCounts(**vars(counts)) for key, counts in _counts.items()}


def reset_api_counts() -> None:
    with _state_lock:
        _counts.clear()


def reset_rate_limits() -> None:
    """Fresh, full buckets (tests)."""
    BUCKETS.clear()


def _operation(event_name: str) -> str:
    return event_name.rsplit(".", 1)[-1]   # "before-send.acm.DescribeCertificate"


def _pace(service: str, region: str) -> Any:
    def on_call(event_name: str, **_: Any) -> None:
        with _state_lock:
            _counted(service, _operation(event_name)).calls += 1

    def on_send(event_name: str, **_: Any) -> None:
        operation = _operation(event_name)
        waited = bucket(service, region, operation).take()
        with _state_lock:
            counts = _counted(service, operation)
            counts.attempts += 1
            counts.waited += waited
        # None: botocore sends the request itself

    def on_response(event_name: str, parsed_response: Any = None, response_dict: Any = None, **_: Any) -> None:
        code = ((parsed_response or {}).get("Error") or {}).get("Code")
        if code in THROTTLING_CODES or (response_dict or {}).get("status_code") == 429:
            with _state_lock:
                _counted(service, _operation(event_name)).throttled += 1

    def veto_retry(response: Any = None, attempts: int = 1, **_: Any) -> bool | None:
        # First needs-retry handler: False stops botocore's retry; None lets botocore decide.
        code, status = None, None
        if response is not None:
            code, status = (response[1].get("Error") or {}).get("Code"), response[0].status_code
        if (service, code) in NOT_RETRIED:
            return False
        if code not in THROTTLING_CODES and status != 429 and attempts >= TRANSIENT_MAX_ATTEMPTS:
            return False  # a server error or a lost connection: a few tries, not the throttling budget
        return None

    return on_call, on_send, on_response, veto_retry


def _paced(sdk_client: Any, service: str, region: str) -> Any:
    events, event_id = sdk_client.meta.events, sdk_client.meta.service_model.service_id.hyphenize()
    on_call, on_send, on_response, veto_retry = _pace(service, region)
    events.register(f"before-call.{event_id}", on_call)
    events.register(f"before-send.{event_id}", on_send)
    events.register(f"response-received.{event_id}", on_response)
    events.register_first(f"needs-retry.{event_id}", veto_retry)
    return sdk_client


def client(service: str, region: str) -> Any:
    """A boto3 client per (service, region), shared by the provider process's worker threads."""
    with _clients_lock:
        if (service, region) not in _clients:
            _clients[(service, region)] = _paced(boto3.session.Session().client(
                service, region_name=region, config=_BOTO_CONFIG), service, region)
        return _clients[(service, region)]


def error_code(err: botocore.exceptions.ClientError) -> str:
    return err.response.get("Error", {}).get("Code", "Unknown")


def cloud_error(service: str, call: str, resource: str, err: botocore.exceptions.ClientError) -> CloudError:
    """A cloud error naming the resource, the call (`<service>.<Call>`) and AWS's error code."""
    return CloudError("aws", f"{service}.{call}", resource, error_code(err),
                      err.response.get("Error", {}).get("Message", str(err)))


class TransportErrors:
    """Errors below the API (no endpoint, timeouts, no credentials) as CloudErrors naming the step."""

    def __init__(self, service: str, step: str, resource: str) -> None:
        self.service, self.step, self.resource = service, step, resource

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, err: Any, _tb: Any) -> bool:
        if isinstance(err, botocore.exceptions.BotoCoreError) and not isinstance(err, botocore.exceptions.ClientError):
            raise CloudError("aws", f"{self.service} ({self.step})", self.resource, type(err).__name__,
                             str(err)) from err
        return False
