"""Alibaba Cloud DNS (Alidns 2015-01-09) error codes the emulator answers with.

Codes come from Alidns' error table (shared/reference/dns-apis.md, section 2.4); messages are ours where
Alibaba publishes none. Every error is HTTP 400 unless noted and is rendered by `responses.AlidnsApi`
as {"RequestId","HostId","Code","Message","Recommend"} (plus "AccessDeniedDetail" for a RAM denial).
Signature errors are the shared Alibaba ones of emulators/cas/exceptions.py (raised by cas/auth.py).
"""

from __future__ import annotations

from emulators.core.http import EmulatorError


class AlidnsError(EmulatorError):
    STATUS = 400
    CODE = "InvalidParameter"

    def __init__(self, message: str, code: str | None = None, headers: dict[str, str] | None = None):
        super().__init__(self.STATUS, code or self.CODE, message, headers)
        self.extra: dict = {}  # more top-level fields of the error body


# --- request shape ---

class MissingParameter(AlidnsError):
    CODE = "MissingParameter"

    def __init__(self, name: str):
        super().__init__(
            f'The input parameter "{name}" that is mandatory for processing this request is not supplied.')


class InvalidParameter(AlidnsError):
    """A value out of range or of the wrong form (emulator choice of wording)."""

    def __init__(self, name: str, value: str, rule: str):
        super().__init__(f"The specified parameter {name} is not valid ({value!r}): {rule}.")


class InvalidActionNotFound(AlidnsError):
    STATUS = 404
    CODE = "InvalidAction.NotFound"

    def __init__(self, action: str):
        super().__init__(f"Specified api is not found, please check your url and method. Action: {action}")


class InvalidVersion(AlidnsError):
    CODE = "InvalidVersion"

    def __init__(self, version: str):
        super().__init__(f"Specified parameter Version is not valid: {version}")


# --- domains ---

class InvalidDomainNameNoExist(AlidnsError):
    CODE = "InvalidDomainName.NoExist"

    def __init__(self, domain: str):
        super().__init__(f"The specified domain name does not exist. Refresh the page and try again. ({domain})")


class InvalidDomainNameFormat(AlidnsError):
    CODE = "InvalidDomainName.Format"

    def __init__(self, domain: str):
        super().__init__(f"The domain name format is incorrect: {domain!r}")


class IncorrectDomainUser(AlidnsError):
    CODE = "IncorrectDomainUser"

    def __init__(self, domain: str):
        super().__init__(f"The domain name does not belong to you: {domain}")


# --- records ---

class InvalidRRFormat(AlidnsError):
    # Not seen in Alibaba's published tables (shared/reference/dns-apis.md, section 2.4): emulator choice.
    CODE = "InvalidRR.Format"

    def __init__(self, rr: str):
        super().__init__(f"The host record format is invalid: {rr!r}")


class DomainRecordDuplicate(AlidnsError):
    CODE = "DomainRecordDuplicate"

    def __init__(self):
        super().__init__("The DNS record already exists.")


class DomainRecordConflict(AlidnsError):
    CODE = "DomainRecordConflict"

    def __init__(self, detail: str):
        super().__init__(f"The DNS record conflicts with other records. {detail}")


class DomainRecordNotBelongToUser(AlidnsError):
    CODE = "DomainRecordNotBelongToUser"

    def __init__(self, record_id: str):
        super().__init__(f"The DNS record does not belong to you: {record_id}")


class RecordLocked(AlidnsError):
    CODE = "Forbidden.RecordLocked"

    def __init__(self, record_id: str):
        super().__init__(f"The DNS record is locked and cannot be changed: {record_id}")


class QuotaExceededRecord(AlidnsError):
    CODE = "QuotaExceeded.Record"

    def __init__(self, limit: int):
        super().__init__(f"The number of DNS records exceeds the upper limit ({limit}).")


# --- RAM ---

class PermissionDenied(AlidnsError):
    """A RAM denial injected with the control API; names the action, as Alibaba's AccessDeniedDetail does."""

    STATUS = 403
    CODE = "Forbidden.RAM"

    def __init__(self, action: str, domain: str, access_key_id: str, account_id: str, code: str | None = None):
        super().__init__(
            "User not authorized to operate on the specified resource, or this API doesn't support RAM. "
            f"Missing permission: alidns:{action} on domain {domain}", code=code)
        self.extra = {"AccessDeniedDetail": {
            "AuthAction": f"alidns:{action}",
            "AuthPrincipalType": "SubUser",
            "AuthPrincipalDisplayName": access_key_id,
            "AuthPrincipalOwnerId": account_id,
            "NoPermissionType": "ImplicitDeny",
            "PolicyType": "AccountLevelIdentityBasedPolicy",
            "EncodedDiagnosticMessage": "",
        }}
