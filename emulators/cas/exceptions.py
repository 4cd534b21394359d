"""Alibaba Cloud error codes the CAS emulator answers with.

Codes and statuses marked "documented" come from Alibaba's common error list or the CAS pages; the
others are our choices where Alibaba documents nothing (see shared/reference/alibaba-cas.md, section 7).
Rendered by `responses.render_error` as {"RequestId","HostId","Code","Message","Recommend"}.
"""

from __future__ import annotations

from emulators.core.http import EmulatorError


class CasError(EmulatorError):
    STATUS = 400
    CODE = "InvalidParameter"

    def __init__(self, message: str, code: str | None = None, headers: dict[str, str] | None = None):
        super().__init__(self.STATUS, code or self.CODE, message, headers)


# --- authentication (documented common errors) ---

class IncompleteSignature(CasError):
    CODE = "IncompleteSignature"

    def __init__(self, detail: str = ""):
        message = "The request signature does not conform to Aliyun standards."
        super().__init__(f"{message} {detail}".strip())


class InvalidAccessKeyIdNotFound(CasError):
    STATUS = 404
    CODE = "InvalidAccessKeyId.NotFound"

    def __init__(self):
        super().__init__("Specified access key is not found.")


class SignatureDoesNotMatch(CasError):
    CODE = "SignatureDoesNotMatch"

    def __init__(self, string_to_sign: str = ""):
        message = "Specified signature is not matched with our calculation."
        if string_to_sign:
            message += f" server string to sign is:{string_to_sign}"
        super().__init__(message)


class SignatureNonceUsed(CasError):
    CODE = "SignatureNonceUsed"

    def __init__(self):
        super().__init__("Specified signature nonce was used already.")


class InvalidTimeStampExpired(CasError):
    CODE = "InvalidTimeStamp.Expired"

    def __init__(self):
        super().__init__("Specified time stamp or date value is expired.")


# --- request shape ---

class MissingParameter(CasError):
    CODE = "MissingParameter"

    def __init__(self, name: str):
        super().__init__(
            f'The input parameter "{name}" that is mandatory for processing this request is not supplied.'
        )


class InvalidParameter(CasError):
    """`InvalidParameter.<Field>` (invented suffixes, documented prefix)."""

    def __init__(self, field: str, message: str):
        super().__init__(message, code=f"InvalidParameter.{field}" if field else "InvalidParameter")


class InvalidActionNotFound(CasError):
    STATUS = 404
    CODE = "InvalidAction.NotFound"

    def __init__(self, action: str):
        super().__init__(f"Specified api is not found, please check your url and method. Action: {action}")


class InvalidVersion(CasError):
    CODE = "InvalidVersion"

    def __init__(self, version: str):
        super().__init__(f"Specified parameter Version is not valid: {version}")


# --- business errors ---

class NotFound(CasError):
    STATUS = 404
    CODE = "NotFound"  # as Terraform observed for a missing certificate


class OperationDeniedStatusNotSupport(CasError):
    CODE = "OperationDenied.StatusNotSupport"


class NotFoundPackage(CasError):
    STATUS = 404
    CODE = "NotFoundPackage"  # documented

    def __init__(self, product_code: str):
        super().__init__(f"No certificate resource plan of specification {product_code} has been purchased.")


class NotRemainCount(CasError):
    STATUS = 404
    CODE = "NotRemainCount"  # documented

    def __init__(self, product_code: str):
        super().__init__(f"The certificate resource plan {product_code} has no remaining quota.")
