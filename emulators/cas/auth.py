"""Server-side verification of Alibaba Cloud request signatures.

ACS3-HMAC-SHA256 (the SDK default, `Authorization` header) and the legacy RPC HMAC-SHA1 style
(`Signature` query parameter, `Config(signature_algorithm='v2')`), recomputed exactly as the official
SDK computes them (shared/reference/alibaba-cas.md, section 4).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections import OrderedDict
from datetime import datetime, timezone
from urllib.parse import quote

from emulators.cas.exceptions import (
    IncompleteSignature, InvalidAccessKeyIdNotFound, InvalidTimeStampExpired, SignatureDoesNotMatch,
    SignatureNonceUsed,
)
from emulators.core.clock import Clock
from emulators.core.http import Request

V3_ALGORITHM = "ACS3-HMAC-SHA256"
# Headers whose absence from SignedHeaders would let a request be replayed or re-targeted.
V3_REQUIRED_SIGNED_HEADERS = {
    "host", "x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256",
}
V2_REQUIRED_PARAMS = ("AccessKeyId", "SignatureMethod", "SignatureNonce", "SignatureVersion", "Timestamp")
MAX_REMEMBERED_NONCES = 100_000


def access_key_id_of(request: Request) -> str:
    """The access key a request was signed with (call after SignatureVerifier.verify accepted it)."""
    authorization = request.header("Authorization") or ""
    if authorization.startswith("ACS3-"):
        return _authorization_fields(authorization.partition(" ")[2]).get("Credential", "")
    return request.params.get("AccessKeyId", "")


def _authorization_fields(fields_text: str) -> dict[str, str]:
    fields = {}
    for part in fields_text.split(","):
        name, separator, value = part.strip().partition("=")
        if separator:
            fields[name] = value
    return fields


def _encode(value: str) -> str:
    # RFC 3986 as the SDK does it: only unreserved characters and "~" stay literal.
    return quote(value, safe="~", encoding="utf-8")


class SignatureVerifier:
    """Checks a request against `credentials` ({access key id: secret}); returns the access key id.

    `check_nonce` rejects a reused signature nonce (replay); `max_skew_seconds` (None = off) bounds
    the distance between the signed date and the emulator clock, off by default because tests move
    the clock.
    """

    def __init__(self, credentials: dict[str, str], clock: Clock, check_nonce: bool = True,
                 max_skew_seconds: float | None = None):
        self.credentials = dict(credentials)
        self.clock = clock
        self.check_nonce = check_nonce
        self.max_skew_seconds = max_skew_seconds
        self._seen_nonces: OrderedDict[str, None] = OrderedDict()

    def verify(self, request: Request) -> str:
        authorization = request.header("Authorization") or ""
        if authorization.startswith("ACS3-"):
            return self._verify_v3(request, authorization)
        if "Signature" in request.params:
            return self._verify_v2(request)
        raise IncompleteSignature("No Authorization header and no Signature parameter.")

    def _verify_v3(self, request: Request, authorization: str) -> str:
        algorithm, _, fields_text = authorization.partition(" ")
        if algorithm != V3_ALGORITHM:
            raise IncompleteSignature(f"Unsupported signature algorithm {algorithm}.")
        fields = _authorization_fields(fields_text)
        access_key_id = fields.get("Credential")
        signed_headers_text = fields.get("SignedHeaders")
        signature = fields.get("Signature")
        if not access_key_id or not signed_headers_text or not signature:
            raise IncompleteSignature("Authorization needs Credential, SignedHeaders and Signature.")
        secret = self.credentials.get(access_key_id)
        if secret is None:
            raise InvalidAccessKeyIdNotFound()

        signed_headers = signed_headers_text.split(";")
        missing = V3_REQUIRED_SIGNED_HEADERS - set(signed_headers)
        if missing:
            raise IncompleteSignature(f"SignedHeaders must include {', '.join(sorted(missing))}.")
        canonical_headers = ""
        for name in signed_headers:
            values = request.headers.get_all(name)
            if not values:
                raise IncompleteSignature(f"Signed header {name} is not in the request.")
            canonical_headers += f"{name}:{','.join(sorted(v.strip() for v in values))}\n"

        hashed_payload = hashlib.sha256(request.body).hexdigest()
        if request.header("x-acs-content-sha256") != hashed_payload:
            raise SignatureDoesNotMatch()
        canonical_query = "&".join(
            f"{_encode(key)}={_encode(value)}" for key, value in sorted(request.query)
        )
        canonical_request = "\n".join([
            request.method, request.path, canonical_query, canonical_headers, signed_headers_text,
            hashed_payload,
        ])
        string_to_sign = f"{V3_ALGORITHM}\n{hashlib.sha256(canonical_request.encode()).hexdigest()}"
        expected = hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature.lower()):
            raise SignatureDoesNotMatch(string_to_sign)
        self._check_freshness(request.header("x-acs-date"), request.header("x-acs-signature-nonce"))
        return access_key_id

    def _verify_v2(self, request: Request) -> str:
        params = request.params
        for name in V2_REQUIRED_PARAMS:
            if not params.get(name):
                raise IncompleteSignature(f"Parameter {name} is required with a Signature.")
        if params["SignatureMethod"] != "HMAC-SHA1":
            raise IncompleteSignature(f"Unsupported SignatureMethod {params['SignatureMethod']}.")
        secret = self.credentials.get(params["AccessKeyId"])
        if secret is None:
            raise InvalidAccessKeyIdNotFound()
        canonical_query = "&".join(
            f"{_encode(key)}={_encode(value)}" for key, value in sorted(request.query) if key != "Signature"
        )
        string_to_sign = f"{request.method}&{_encode('/')}&{_encode(canonical_query)}"
        digest = hmac.new(f"{secret}&".encode(), string_to_sign.encode(), hashlib.sha1).digest()
        expected = base64.b64encode(digest).decode()
        if not hmac.compare_digest(expected, params["Signature"]):
            raise SignatureDoesNotMatch(string_to_sign)
        self._check_freshness(params["Timestamp"], params["SignatureNonce"])
        return params["AccessKeyId"]

    def _check_freshness(self, signed_date: str | None, nonce: str | None) -> None:
        if self.max_skew_seconds is not None:
            try:
                signed_at = datetime.strptime(signed_date or "", "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
            except ValueError:
                raise IncompleteSignature("The signed date is not in ISO 8601 UTC form.") from None
            if abs((self.clock.now() - signed_at).total_seconds()) > self.max_skew_seconds:
                raise InvalidTimeStampExpired()
        if self.check_nonce and nonce:
            if nonce in self._seen_nonces:
                raise SignatureNonceUsed()
            self._seen_nonces[nonce] = None
            if len(self._seen_nonces) > MAX_REMEMBERED_NONCES:
                self._seen_nonces.popitem(last=False)
