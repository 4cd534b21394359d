"""Huawei Cloud SCM SDK plumbing: credentials and endpoint from the environment, one lazily built client per
process, bounded retries, and SDK exceptions turned into CloudError. components/dns/huaweidns.py reuses the
HTTP settings, retries and errors for Huawei Cloud DNS (its own credentials type and endpoint).

Environment (read in the provider process, never stored in state):
  HUAWEICLOUD_SDK_AK / HUAWEICLOUD_SDK_SK    access key pair (required; SCM needs GlobalCredentials)
  HUAWEICLOUD_SDK_DOMAIN_ID                 account (domain) id; set it, or the SDK first asks IAM for it
  HUAWEICLOUD_SDK_SECURITY_TOKEN            optional, for temporary credentials
  CERTFLEET_HUAWEICLOUD_SCM_ENDPOINT        endpoint override (the local default points it at the emulator);
                                            default https://scm.<region>.myhuaweicloud.com

Retries (reference/huawei-scm.md §9): throttling (HTTP 429 whatever the error code: for GET/PUT/DELETE
urllib3 swallows the body and the SDK reports error_code "429"; for POST it is APIGW.0308), SCM.0016
("order exception", seen right after a purchase) and 5xx are retried with exponential backoff and full
jitter: throttling at most THROTTLED_MAX_ATTEMPTS times, the others at most MAX_ATTEMPTS times. A call that
must not run twice (buy) is retried only on 429, which the gateway answers before the request reaches SCM.

Pacing at the rate the gateway states: Huawei publishes no SCM request rate (reference/huawei-scm.md §11), but
its throttling answer says it ("policy user over ratelimit,limit:10,time:1 second", APIGW.0308 on a POST; a GET's
429 arrives without a body). From the first such answer on, every call of the service in this process waits for
a token of one bucket refilled at PACE (90%) of that rate (components/pacing.py), so a run meets the gateway's
limit once instead of on most calls. One bucket per service: the gateway counts per user, and a provider process
has one account. Until then, and for what still comes back throttled, throttling's longer retry budget carries a
run through (docs/scale.md, "Against CAS's and SCM's request rates": with 5 attempts, `up` of 300 certificates
failed at 10 requests a second).
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, TypeVar

from components.dynamic import MAX_ATTEMPTS, Clock, with_retries
from components.errors import CertfleetError, CloudError
from components.pacing import PACE, Buckets  # noqa: F401 (PACE: tests read it here)

ENV_AK = "HUAWEICLOUD_SDK_AK"
ENV_SK = "HUAWEICLOUD_SDK_SK"
ENV_DOMAIN_ID = "HUAWEICLOUD_SDK_DOMAIN_ID"
ENV_SECURITY_TOKEN = "HUAWEICLOUD_SDK_SECURITY_TOKEN"
ENV_ENDPOINT = "CERTFLEET_HUAWEICLOUD_SCM_ENDPOINT"

THROTTLED_CODES = ("APIGW.0308",)
TRANSIENT_CODES = ("SCM.0016",)
# Attempts of a throttled call (the gateway is there and asks for patience; a 5xx five times is an answer): with
# the backoff's 8 s cap, about 24 s of waiting expected over the nine retries (as the AWS clients' 10).
THROTTLED_MAX_ATTEMPTS = 10

T = TypeVar("T")


@dataclass(frozen=True)
class Config:
    ak: str
    sk: str = field(repr=False)  # secrets never in a repr (tracebacks, logs)
    domain_id: str | None
    security_token: str | None = field(repr=False)
    endpoint: str

    @classmethod
    def from_env(cls, region: str) -> "Config":
        ak, sk = os.environ.get(ENV_AK, ""), os.environ.get(ENV_SK, "")
        if not ak or not sk:
            # Empty keys would make the SDK query ECS metadata; say what is missing instead.
            raise CertfleetError(f"huaweicloud: set {ENV_AK} and {ENV_SK} (SCM needs an access key pair)")
        return cls(ak=ak, sk=sk, domain_id=os.environ.get(ENV_DOMAIN_ID) or None,
                   security_token=os.environ.get(ENV_SECURITY_TOKEN) or None,
                   endpoint=os.environ.get(ENV_ENDPOINT) or f"https://scm.{region}.myhuaweicloud.com")


def owner(region: str) -> dict[str, str]:
    """Which account, at which endpoint, these credentials act as: recorded with every certificate, so that a
    "not found" from another account is never taken for "gone". The account is the domain id when set, else a
    short hash of the access key (never the key itself: this goes into the state)."""
    config = Config.from_env(region)
    account = config.domain_id or hashlib.sha256(config.ak.encode()).hexdigest()[:12]
    return {"endpoint": config.endpoint, "account": account}


_clients: dict[Config, Any] = {}
_clients_lock = threading.Lock()


def scm_client(region: str) -> Any:
    """The process's ScmClient for this region's configuration (SDK clients cannot be pickled into state)."""
    config = Config.from_env(region)
    with _clients_lock:
        if config not in _clients:
            _clients[config] = _build(config)
        return _clients[config]


def _build(config: Config) -> Any:
    from huaweicloudsdkcore.auth.credentials import GlobalCredentials
    from huaweicloudsdkscm.v3 import ScmClient

    credentials = GlobalCredentials(config.ak, config.sk, config.domain_id)
    if config.security_token:
        credentials = credentials.with_security_token(config.security_token)
    return ScmClient.new_builder().with_http_config(http_config()).with_credentials(credentials) \
        .with_endpoint(config.endpoint).build()


V2_PURCHASE_PATH = "/v2/{project_id}/scm/cert/purchase"


def purchase_v2(client: Any, project_id: str, body: dict[str, Any]) -> Any:
    """Seed 003's v2 purchase, which the SDK has no operation for, through the SDK's own signed transport (the
    same signature, endpoint, HTTP settings and exceptions as every other call). Its answer has the v3 buy's
    shape (`order_id`, `cert[].cert_id`), so it is read as a SubscribeCertificateResponse. X-Project-Id: the
    v2 API is project-scoped (the project is in the path as well)."""
    return client.do_http_request(
        method="POST", resource_path=V2_PURCHASE_PATH, path_params={"project_id": project_id},
        header_params={"Content-Type": "application/json", "X-Project-Id": project_id}, body=body,
        response_type="SubscribeCertificateResponse", request_type="PurchaseCertificateV2Request")


def http_config() -> Any:
    """The SDK's HTTP settings for certfleet's clients: no SDK retries, bounded timeouts."""
    from huaweicloudsdkcore.http.http_config import HttpConfig

    config = HttpConfig.get_default_config()
    config.retry_times = 0  # retries happen in `call`, where every attempt is counted and bounded
    config.timeout = (10, 60)
    return config


# --- calls ----------------------------------------------------------------------------------------------

def error_code(err: Exception) -> str:
    return str(getattr(err, "error_code", None) or type(err).__name__)


def is_throttled(err: Exception) -> bool:
    return getattr(err, "status_code", None) == 429 or error_code(err) in THROTTLED_CODES


def is_transient(err: Exception, transient_codes: tuple[str, ...] = TRANSIENT_CODES) -> bool:
    from huaweicloudsdkcore.exceptions.exceptions import ConnectionException, RequestTimeoutException

    status = getattr(err, "status_code", None) or 0
    return (is_throttled(err) or error_code(err) in transient_codes or status >= 500
            or isinstance(err, (ConnectionException, RequestTimeoutException)))


def error_message(err: Exception) -> str:
    """The SDK error's message, with the request id for support tickets."""
    message = str(getattr(err, "error_msg", None) or err)
    request_id = getattr(err, "request_id", None)
    return f"{message} (request id {request_id})" if request_id else message


def to_cloud_error(operation: str, resource: str, err: Exception, service: str = "scm") -> CloudError:
    """Names the call, the resource and the service's own code; keeps the request id for support tickets."""
    return CloudError("huaweicloud", f"{service}.{operation}", resource, error_code(err), error_message(err))


# The gateway's own statement of its rate in a throttling answer (APIGW.0308's message).
# Only the per-user policy's: another policy's limit (one API's, say) must not slow every call down.
STATED_LIMIT = re.compile(r"policy user over ratelimit,\s*limit:\s*(\d+(?:\.\d+)?)\s*,\s*time:\s*"
                          r"(\d+(?:\.\d+)?)\s*second")
STATED = Buckets()   # service -> the bucket of the rate its gateway stated


def stated_rate(err: Exception) -> float | None:
    """Requests a second that a throttling answer states, or None (a GET's 429 has no body to say it)."""
    match = STATED_LIMIT.search(error_message(err))
    if not match or float(match.group(2)) <= 0 or float(match.group(1)) <= 0:
        return None
    return float(match.group(1)) / float(match.group(2))


def learn_rate(service: str, err: Exception, clock: type[Clock] = Clock) -> None:
    """After a throttling answer that states the gateway's rate: pace the service at PACE of it from now on (a
    lower rate stated later replaces it)."""
    rate = stated_rate(err)
    if rate is not None:
        STATED.lower(service, rate, clock)


def stated_rate_of(service: str) -> float | None:
    """The rate the service is paced at (requests a second), once its gateway stated one."""
    bucket = STATED.get(service)
    return bucket.rate if bucket is not None else None


def forget_stated_rates() -> None:
    """No rate learnt yet (a new run; tests)."""
    STATED.clear()


def call(operation: str, resource: str, send: Callable[[], T], *, may_repeat: bool = True,
         clock: type[Clock] = Clock, service: str = "scm", transient_codes: tuple[str, ...] = TRANSIENT_CODES,
         to_error: Callable[[Exception], Exception] | None = None) -> T:
    """Run one SDK call. Retries what is worth retrying (see the module docstring); raises CloudError.

    `may_repeat=False` for calls that must not run twice: those are retried only when throttled.
    `transient_codes`: the service's own "try again" codes (SCM: SCM.0016); `to_error` replaces
    `to_cloud_error` for services that say more about a failure (DNS names the missing permission).
    """
    # Not only SdkException: the SDK also raises ApiValueError (a ValueError) and lets other client-side
    # errors (TypeError, requests/urllib3 errors) through; each becomes a CloudError naming the call.
    other_failures = 0

    def retryable(err: Exception) -> bool:
        nonlocal other_failures
        if is_throttled(err):
            learn_rate(service, err, clock)
            return True   # up to THROTTLED_MAX_ATTEMPTS
        other_failures += 1
        return may_repeat and other_failures < MAX_ATTEMPTS and is_transient(err, transient_codes)

    def paced_send() -> T:
        bucket = STATED.get(service)
        if bucket is not None:
            bucket.take()
        return send()

    return with_retries(paced_send, errors=(Exception,), retryable=retryable, attempts=THROTTLED_MAX_ATTEMPTS,
                        to_error=to_error or (lambda err: to_cloud_error(operation, resource, err, service)),
                        clock=clock)
