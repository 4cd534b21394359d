"""Alibaba Cloud CAS SDK plumbing (`alibabacloud-cas20200407`): credentials and endpoint from the
environment, one lazily built client per process, bounded retries, SDK exceptions turned into CloudError.
components/dns/alidns.py reuses the credentials, retries and errors for Alibaba Cloud DNS (its own endpoint).

Environment (read in the provider process, never stored in state):
  ALIBABA_CLOUD_ACCESS_KEY_ID / ALIBABA_CLOUD_ACCESS_KEY_SECRET   access key pair (required)
  ALIBABA_CLOUD_SECURITY_TOKEN            optional, for STS credentials
  CERTFLEET_ALICLOUD_CAS_ENDPOINT         endpoint override as host:port (the local default points it at the
                                          CAS emulator); default cas.aliyuncs.com
  CERTFLEET_ALICLOUD_CAS_PROTOCOL         https (default) or http (the emulator)

The SDK sends every call through HTTP(S)_PROXY and ignores NO_PROXY (reference/alibaba-cas.md §1.1):
unset those variables when the endpoint is on loopback (the tests do).

Owner: every order records which endpoint and which access key placed it (`Config.owner()`), so a refresh
with another account's keys, or against the other CAS endpoint, can tell "CAS does not show it to me" from
"it is gone". The state holds only the first OWNER_KEY_DIGITS hex digits of the SHA-256 of the AccessKeyId,
never the id itself.

Pacing (reference/alibaba-cas.md §8): CAS publishes request rates per account for some operations
(ListUserCertificateOrder 10/s, GetUserCertificateDetail 100/s ..., REQUESTS_PER_SECOND); every attempt of such a
call first waits for a token of its operation's bucket, refilled at PACE (90%) of the rate (components/pacing.py),
so no `--parallel` sends more than CAS allows. The buckets are per process: a provider process has one account,
its environment's. Operations with no documented rate (Create*, DescribeCertificateState, DescribePackageState)
are not paced; if CAS throttles them, the retries below apply.

Retries (reference/alibaba-cas.md §5, §8): the SDK's own retries are off. Throttling (`Throttling*`, or a
`ThrottlingException` carrying `x-acs-retry-after` in ms) and 5xx / transport errors are retried with
exponential backoff and full jitter, waiting at least the server's retry-after, at most MAX_ATTEMPTS times.
A call that spends money (Create*) is retried only on real throttling (status 400/429 with a `Throttling*`
code), which is answered before anything is done. The SDK raises ThrottlingException for ANY 4xx/5xx that
carries x-acs-retry-after, so that class alone is not proof; any other failure of such a call is left to
the caller, who must look before buying again. Create calls also get a longer read timeout
(CREATE_READ_TIMEOUT_MS) than the SDK's default 10 s, so a slow answer is less often lost.
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, TypeVar

from components.dynamic import Clock, with_retries
from components.errors import CertfleetError, CloudError
from components.key_text import cut_url_queries
from components.pacing import Buckets, TokenBucket

ENV_ACCESS_KEY_ID = "ALIBABA_CLOUD_ACCESS_KEY_ID"
ENV_ACCESS_KEY_SECRET = "ALIBABA_CLOUD_ACCESS_KEY_SECRET"
ENV_SECURITY_TOKEN = "ALIBABA_CLOUD_SECURITY_TOKEN"
ENV_ENDPOINT = "CERTFLEET_ALICLOUD_CAS_ENDPOINT"
ENV_PROTOCOL = "CERTFLEET_ALICLOUD_CAS_PROTOCOL"
DEFAULT_ENDPOINT = "cas.aliyuncs.com"

THROTTLED_CODE_PREFIXES = ("Throttling", "Rejected.Throttling")
SERVER_CODES = ("ServiceUnavailable", "InternalError", "InternalFailure")
THROTTLED_STATUSES = (400, 429)
# Read timeout (ms) for calls that spend money: a timed-out Create may still have placed the order.
CREATE_READ_TIMEOUT_MS = 60_000
# Hex digits of sha256(AccessKeyId) recorded as an order's owner key: enough to tell keys apart, and no
# credential in the state (the state is searched for credentials).
OWNER_KEY_DIGITS = 12

# Requests per second per account, by (service, action): CAS's, as documented in the SDK 2.0.4 doc comments
# (reference/alibaba-cas.md §8; the same figures the emulator enforces with `--throttle published`).
REQUESTS_PER_SECOND: dict[tuple[str, str], float] = {
    ("cas", "ListUserCertificateOrder"): 10, ("cas", "CancelCertificateForPackageRequest"): 10,
    ("cas", "CancelOrderRequest"): 100, ("cas", "GetUserCertificateDetail"): 100,
    ("cas", "UploadUserCertificate"): 100, ("cas", "DeleteUserCertificate"): 100,
}

T = TypeVar("T")


@dataclass(frozen=True)
class Config:
    access_key_id: str
    access_key_secret: str = field(repr=False)  # never in logs or tracebacks
    security_token: str | None = field(repr=False)
    endpoint: str
    protocol: str

    @classmethod
    def from_env(cls, endpoint_env: str = ENV_ENDPOINT, protocol_env: str = ENV_PROTOCOL,
                 default_endpoint: str = DEFAULT_ENDPOINT, product: str = "CAS") -> "Config":
        """The access key and the endpoint of one product (CAS by default; Alidns has its own endpoint variables)."""
        key_id, secret = os.environ.get(ENV_ACCESS_KEY_ID, ""), os.environ.get(ENV_ACCESS_KEY_SECRET, "")
        if not key_id or not secret:
            raise CertfleetError(f"alicloud: set {ENV_ACCESS_KEY_ID} and {ENV_ACCESS_KEY_SECRET} "
                                 f"({product} needs an access key pair)")
        protocol = os.environ.get(protocol_env, "https").lower()
        if protocol not in ("http", "https"):
            raise CertfleetError(f"alicloud: {protocol_env} must be http or https, got {protocol!r}")
        return cls(access_key_id=key_id, access_key_secret=secret,
                   security_token=os.environ.get(ENV_SECURITY_TOKEN) or None,
                   endpoint=os.environ.get(endpoint_env) or default_endpoint, protocol=protocol)

    def owner(self) -> dict[str, str]:
        """Who places and sees orders with this config: {"endpoint": host[:port], "key": key fingerprint}."""
        return {"endpoint": self.endpoint.lower(),
                "key": hashlib.sha256(self.access_key_id.encode()).hexdigest()[:OWNER_KEY_DIGITS]}

    @staticmethod
    def available() -> bool:
        """Are credentials set? (PR previews run without them: then nothing calls CAS at preview.)"""
        return bool(os.environ.get(ENV_ACCESS_KEY_ID) and os.environ.get(ENV_ACCESS_KEY_SECRET))


_clients: dict[Config, Any] = {}
_clients_lock = threading.Lock()


def cas_client() -> Any:
    """The process's CAS client for the current environment (SDK clients cannot be pickled into state)."""
    config = Config.from_env()
    with _clients_lock:
        if config not in _clients:
            _clients[config] = _build(config)
        return _clients[config]


def current_owner() -> dict[str, str]:
    """The owner (Config.owner) of the environment's credentials and endpoint."""
    return Config.from_env().owner()


def models() -> Any:
    """The CAS SDK's request models (imported on first use; cas.py, purchase.py and adopt.py build requests)."""
    from alibabacloud_cas20200407 import models
    return models


def _build(config: Config) -> Any:
    from alibabacloud_cas20200407.client import Client
    from alibabacloud_tea_openapi.models import Config as SdkConfig

    return Client(SdkConfig(access_key_id=config.access_key_id, access_key_secret=config.access_key_secret,
                            security_token=config.security_token, endpoint=config.endpoint,
                            protocol=config.protocol))


# --- calls ---------------------------------------------------------------------------------------------

def error_code(err: Exception) -> str:
    return str(getattr(err, "code", None) or type(err).__name__)


def _status(err: Exception) -> int:
    return int(getattr(err, "status_code", 0) or 0)


def is_throttled(err: Exception) -> bool:
    from alibabacloud_tea_openapi.exceptions import ThrottlingException
    return isinstance(err, ThrottlingException) or error_code(err).startswith(THROTTLED_CODE_PREFIXES)


def is_certainly_throttled(err: Exception) -> bool:
    """Throttling that proves nothing was done: a 400/429 with a `Throttling*` code (not just retry-after)."""
    return _status(err) in THROTTLED_STATUSES and error_code(err).startswith(THROTTLED_CODE_PREFIXES)


def create_runtime() -> Any:
    """RuntimeOptions for Create* calls (the longer read timeout, see the module docstring)."""
    from darabonba.runtime import RuntimeOptions
    return RuntimeOptions(read_timeout=CREATE_READ_TIMEOUT_MS)


def is_transient(err: Exception) -> bool:
    """A server error or a transport failure: the call may or may not have been carried out."""
    from darabonba.exceptions import UnretryableException
    return (_status(err) >= 500 or error_code(err) in SERVER_CODES
            or isinstance(err, (UnretryableException, ConnectionError, TimeoutError)))


BUCKETS = Buckets()   # by (service, action)


def bucket(service: str, action: str) -> TokenBucket | None:
    """The pacing bucket of an operation with a documented rate; None for the others (not paced)."""
    rate = REQUESTS_PER_SECOND.get((service, action))
    return None if rate is None else BUCKETS.of((service, action), rate)


def reset_rate_limits() -> None:
    """Fresh, full buckets (tests)."""
    BUCKETS.clear()


def paced(service: str, action: str, send: Callable[[], T]) -> Callable[[], T]:
    """`send`, waiting for a token of the operation's bucket before each attempt (if it has a rate)."""
    limit = bucket(service, action)
    if limit is None:
        return send

    def paced_send() -> T:
        limit.take()
        return send()
    return paced_send


def call(action: str, resource: str, send: Callable[[], T], *, spends_money: bool = False,
         clock: type[Clock] = Clock, service: str = "cas", also_retried: tuple[str, ...] = (),
         to_error: Callable[[Exception], Exception] | None = None) -> T:
    """Run one SDK call (`send`), paced and with retries; raise CloudError("alicloud", "<service>.<action>",
    resource, ...).

    `also_retried`: the product's own "try again" codes (Alidns: LastOperationNotFinished); `to_error` replaces
    `to_cloud_error` for products that say more about a failure (Alidns names the missing permission).
    """
    from Tea.exceptions import TeaException

    def retryable(err: Exception) -> bool:
        if spends_money:
            return is_certainly_throttled(err)
        return is_throttled(err) or is_transient(err) or error_code(err) in also_retried

    return with_retries(
        paced(service, action, send), errors=(TeaException, ConnectionError, TimeoutError), retryable=retryable,
        wait_at_least=lambda err: (getattr(err, "retry_after", None) or 0) / 1000,  # x-acs-retry-after, ms
        to_error=to_error or (lambda err: to_cloud_error(action, resource, err, service)), clock=clock)


def error_message(err: Exception) -> str:
    """The SDK error's message, with the transport failure behind it when there is no API error code. Without any
    URL query: CAS is RPC-style, every parameter travels in the query (UploadUserCertificate's Key among them, the
    AccessKeyId and Signature always), and requests prints the URL in a transport error ("...with url: /?...")."""
    message = getattr(err, "message", None) or str(err)
    inner = getattr(err, "inner_exception", None)
    if inner is not None and not getattr(err, "code", None):
        message = f"{message} ({inner})"
    return cut_url_queries(str(message))


def to_cloud_error(action: str, resource: str, err: Exception, service: str = "cas") -> CloudError:
    message = error_message(err)
    if service == "cas" and error_code(err) == INSUFFICIENT_QUOTA:
        message = f"{message}. {V2_ACCOUNT_HINT}"
    return CloudError("alicloud", f"{service}.{action}", resource, error_code(err), message)


# A V1.0 Create* on an account that holds only V2.0 certificate instances (reference/alibaba-cas.md, addendum).
INSUFFICIENT_QUOTA = "InsufficientQuota"
V2_ACCOUNT_HINT = ("CAS answered InsufficientQuota: this account has no V1.0 resource plan to order from (new "
                   "purchases are V2.0 certificate instances). Buy an instance in the CAS console and name it on "
                   "the entry with `instance: <instance id>` instead of `productCode` (docs/cas-instances.md)")
