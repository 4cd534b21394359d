"""Huawei Cloud SCM error shapes.

Every error is rendered as ``{"error_code", "error_msg", "request_id"}`` with the HTTP status Huawei uses
(the gateway puts ``request_id`` in the body too; the SDK reads it from the ``X-Request-Id`` header).
Codes and statuses follow the published SCM error table (HTTP 400 unless noted) and the API gateway's
documented replies; where Huawei publishes no code, the choice is marked "emulator choice".
"""

from emulators.core.http import EmulatorError


class ScmError(EmulatorError):
    """An SCM error. Subclasses fix the HTTP status and Huawei's code; the message is
    ``prefix + detail``, or ``prefix + default`` when no detail is given."""

    status = 400
    code = "SCM.0005"
    prefix = ""
    default = ""

    def __init__(self, detail: str = "", headers: dict[str, str] | None = None):
        super().__init__(type(self).status, type(self).code, self.prefix + (detail or self.default), headers)


def error_body(error: EmulatorError, request_id: str) -> dict:
    """Huawei's error envelope; the gateway repeats the request id in the body."""
    return {"error_code": error.code, "error_msg": error.message, "request_id": request_id}


class InjectedError(ScmError):
    """An error a test injected through the control API, with any status and code."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        EmulatorError.__init__(self, status, code, message, headers)


# --- API gateway (APIGW.*): authentication, throttling, unknown routes --------------------------

class AuthenticationFailed(ScmError):
    status = 401
    code = "APIGW.0301"
    prefix = "Incorrect IAM authentication information: "


class Throttled(ScmError):
    status = 429
    code = "APIGW.0308"

    def __init__(self, limit: int = 5, headers: dict[str, str] | None = None):
        super().__init__("The throttling threshold has been reached: "
                         f"policy user over ratelimit,limit:{limit},time:1 second", headers)


class ApiNotFound(ScmError):
    status = 404
    code = "APIGW.0101"
    default = "The API does not exist or has not been published in the environment"


# --- SCM.* ---------------------------------------------------------------------------------------

class NoPrivilege(ScmError):
    status = 403
    code = "SCM.0003"
    default = "tenant has no privilege"


class InvalidParameter(ScmError):
    code = "SCM.0005"
    prefix = "Incorrect request parameter: "


class CertificateParseFailed(ScmError):
    code = "SCM.0006"
    default = "Failed to parse the uploaded certificate"


class OperationNotAllowed(ScmError):
    code = "SCM.0010"
    prefix = "The operation is not allowed for this certificate: "


class PrivateKeyParseFailed(ScmError):
    code = "SCM.0012"
    default = "Failed to parse the uploaded private key"


class ChainParseFailed(ScmError):
    code = "SCM.0013"
    default = "Failed to parse the uploaded certificate chain"


class KeyMismatch(ScmError):
    code = "SCM.0014"
    default = "The certificate and the private key do not match"


class DomainsDoNotMatchPurchase(ScmError):
    code = "SCM.0015"
    prefix = "The number or format of the domain names does not match the purchase: "


class CertificateNotFound(ScmError):
    # Emulator choice: Huawei publishes no code for an unknown id; 404 after delete is confirmed.
    status = 404
    code = "SCM.0020"
    prefix = "Incorrect certificate ID: "


class InvalidTagKey(ScmError):
    code = "SCM.0023"
    prefix = "Tag key format error: "


class InvalidTagValue(ScmError):
    code = "SCM.0024"
    prefix = "Tag value format error: "


class InvalidCertificateName(ScmError):
    code = "SCM.0032"

    def __init__(self, name: str):
        super().__init__(f"Incorrect certificate name: {name!r} (3-63 characters: letters, digits, _ - .)")


class NotPemCertificate(ScmError):
    code = "SCM.0053"
    default = "The certificate must start with -----BEGIN CERTIFICATE-----"


class InternalError(ScmError):
    # Emulator choice: the docs show only "SCM.XXX" for 500; this code marks a bug in the emulator itself.
    status = 500
    code = "SCM.0500"
    default = "Internal server error"
