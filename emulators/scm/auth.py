"""Authentication the way Huawei's API gateway does it for SCM.

Two schemes are accepted:

* ``SDK-HMAC-SHA256`` AK/SK signatures, as produced by ``huaweicloudsdkcore`` (verified independently of
  the SDK's signer: the canonical request is rebuilt from what arrived on the wire);
* a bare ``X-Auth-Token`` (documented for every SCM call, used by curl and by the v2 API), compared with
  the tokens the emulator was configured with.

A request carrying an ``Authorization`` header is always judged by its signature, even if it also has a
token (the SDK signs ``x-auth-token`` like any other header). Failures raise ``AuthenticationFailed``,
rendered as HTTP 401 ``APIGW.0301`` with the gateway's wording.
"""

import datetime
import hashlib
import hmac
import re
from dataclasses import dataclass, field
from typing import Callable, Mapping
from urllib.parse import parse_qsl, quote, unquote

from emulators.scm.exceptions import AuthenticationFailed

ALGORITHM = "SDK-HMAC-SHA256"
SDK_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
# The gateway rejects an X-Sdk-Date more than 15 minutes away from its own clock.
DEFAULT_MAX_CLOCK_SKEW = datetime.timedelta(minutes=15)
# The gateway gives one answer for every kind of bad signature (wrong SK, tampered request, bad header).
SIGNATURE_MISMATCH = "verify aksk signature fail"

_AUTHORIZATION = re.compile(
    r"^SDK-HMAC-SHA256\s+Access=(?P<access>[^,\s]+),\s*SignedHeaders=(?P<signed>[^,\s]+),"
    r"\s*Signature=(?P<signature>[0-9a-fA-F]+)$")


@dataclass
class Caller:
    """Who made a request: the access key, or ``None`` when a token was used."""

    access_key: str | None
    auth_token: str | None = None


@dataclass
class AkSkAuthenticator:
    """Checks SDK-HMAC-SHA256 signatures and X-Auth-Token values.

    ``credentials`` maps access keys to secret keys (any mapping: it is read on every request);
    ``auth_tokens`` are the accepted token values;
    ``now`` returns the current UTC time (injectable so tests can make a date stale).
    """

    credentials: Mapping[str, str]
    now: Callable[[], datetime.datetime]
    auth_tokens: set[str] = field(default_factory=set)
    max_clock_skew: datetime.timedelta = DEFAULT_MAX_CLOCK_SKEW

    def authenticate(self, method: str, raw_path: str, raw_query: str, headers: Mapping[str, str],
                     body: bytes) -> Caller:
        lower_headers = {name.lower(): value for name, value in headers.items()}
        authorization = lower_headers.get("authorization")
        if authorization is not None:
            access_key = self._verify_signature(method, raw_path, raw_query, lower_headers, body,
                                                authorization)
            return Caller(access_key=access_key, auth_token=lower_headers.get("x-auth-token"))
        token = lower_headers.get("x-auth-token")
        if token is None:
            raise AuthenticationFailed("x-auth-token not found")
        if not any(hmac.compare_digest(token, known) for known in self.auth_tokens):
            raise AuthenticationFailed("decrypt token fail")
        return Caller(access_key=None, auth_token=token)

    def _verify_signature(self, method, raw_path, raw_query, lower_headers, body, authorization) -> str:
        match = _AUTHORIZATION.match(authorization.strip())
        if match is None:
            raise AuthenticationFailed(SIGNATURE_MISMATCH)
        access_key = match["access"]
        secret_key = self.credentials.get(access_key)
        if secret_key is None:
            raise AuthenticationFailed(f"Get secretKey failed,ak:{access_key},err:ak not exist")

        signed_headers = match["signed"].split(";")
        # The date must be signed, or a captured request could be replayed forever.
        if "x-sdk-date" not in signed_headers or "x-sdk-date" not in lower_headers:
            raise AuthenticationFailed(SIGNATURE_MISMATCH)
        sdk_date = lower_headers["x-sdk-date"].strip()
        try:
            signed_at = datetime.datetime.strptime(sdk_date, SDK_DATE_FORMAT).replace(
                tzinfo=datetime.timezone.utc)
        except ValueError:
            raise AuthenticationFailed(SIGNATURE_MISMATCH) from None
        server_time = self.now()
        if abs(server_time - signed_at) > self.max_clock_skew:
            raise AuthenticationFailed(
                f"signature expired, signature time:{sdk_date},"
                f"server time:{server_time.strftime(SDK_DATE_FORMAT)}")

        if any(name not in lower_headers for name in signed_headers):
            raise AuthenticationFailed(SIGNATURE_MISMATCH)
        canonical = canonical_request(method, raw_path, raw_query, lower_headers, signed_headers, body)
        string_to_sign = "\n".join([ALGORITHM, sdk_date, _sha256_hex(canonical.encode("utf-8"))])
        expected = hmac.new(secret_key.encode("utf-8"), string_to_sign.encode("utf-8"),
                            hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, match["signature"].lower()):
            raise AuthenticationFailed(SIGNATURE_MISMATCH)
        return access_key


def access_key_of(headers: Mapping[str, str]) -> str | None:
    """The access key a request was signed with (call after ``authenticate``); None for a bare token."""
    authorization = {name.lower(): value for name, value in headers.items()}.get("authorization")
    match = _AUTHORIZATION.match(authorization.strip()) if authorization is not None else None
    return match["access"] if match else None


def canonical_request(method: str, raw_path: str, raw_query: str, lower_headers: Mapping[str, str],
                      signed_headers: list[str], body: bytes) -> str:
    """Rebuild the SDK's CanonicalRequest from the request as it arrived."""
    header_lines = "".join(f"{name}:{_wire_header_value(lower_headers[name]).strip()}\n"
                           for name in signed_headers)
    return "\n".join([method.upper(), canonical_uri(raw_path), canonical_query(raw_query),
                      header_lines, ";".join(signed_headers), _payload_hash(lower_headers, body)])


def canonical_uri(raw_path: str) -> str:
    # Decode first, then encode each segment: an encoded "%2F" in a path parameter becomes a real "/"
    # before signing, exactly as the SDK does it. The SDK always appends a trailing "/".
    segments = unquote(raw_path).split("/")
    path = "/".join(quote(segment, safe="~") for segment in segments)
    return path if path.endswith("/") else path + "/"


def canonical_query(raw_query: str) -> str:
    # The SDK's wire query is already canonical; rebuilding it also accepts other clients' key order.
    pairs = sorted(parse_qsl(raw_query, keep_blank_values=True))
    return "&".join(f"{quote(key, safe='~')}={quote(value, safe='~')}" for key, value in pairs)


def _payload_hash(lower_headers: Mapping[str, str], body: bytes) -> str:
    if not body:
        return _sha256_hex(b"")
    # Non-JSON uploads may declare the payload unsigned; the SDK then signs this header's value instead.
    declared = lower_headers.get("x-sdk-content-sha256")
    return declared if declared else _sha256_hex(body)


def _wire_header_value(value: str) -> str:
    # http.server decodes header bytes as ISO-8859-1; the SDK signed the UTF-8 text those bytes encode.
    try:
        return value.encode("iso-8859-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
