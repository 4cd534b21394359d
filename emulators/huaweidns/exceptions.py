"""Huawei Cloud DNS error codes the emulator answers with.

DNS errors are rendered as {"code": "DNS.xxxx", "message": ...} with an X-Request-Id header (the SDK reads
`code`/`message` into `error_code`/`error_msg`); codes and statuses from Huawei's DNS error table
(shared/reference/dns-apis.md, section 3.5); messages quoted from real answers where one was seen
(DNS.0302, DNS.0312, DNS.0313), otherwise ours. Gateway errors (APIGW.0301 bad signature) are the shared
ones of emulators/scm (raised by scm/auth.py) in the gateway's {"error_code","error_msg"} envelope.
"""

from __future__ import annotations

from emulators.core.http import EmulatorError


class DnsError(EmulatorError):
    status = 400
    code = "DNS.0001"

    def __init__(self, message: str, headers: dict[str, str] | None = None):
        super().__init__(type(self).status, type(self).code, message, headers)


class InjectedError(DnsError):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        EmulatorError.__init__(self, status, code, message, headers)


class BadRequest(DnsError):
    code = "DNS.0303"  # emulator choice for a body that is not a JSON object


class ZoneNotFound(DnsError):
    status = 404
    code = "DNS.0302"

    def __init__(self, zone_id: str):
        super().__init__(f"This Zone '{zone_id}' does not exist.")


class InvalidRecordSetName(DnsError):
    code = "DNS.0304"


class InvalidRecordSetType(DnsError):
    code = "DNS.0307"


class InvalidRecordSetValue(DnsError):
    code = "DNS.0308"


class RecordSetConflict(DnsError):
    code = "DNS.0312"

    def __init__(self, name: str, record_type: str):
        super().__init__(f"Attribute 'name' conflicts with Record Set '{name}' type '{record_type}'.")


class RecordSetNotFound(DnsError):
    status = 404
    code = "DNS.0313"

    def __init__(self):
        super().__init__("This record set does not exist.")


class RecordSetNotSteady(DnsError):
    code = "DNS.0314"

    def __init__(self, status: str):
        super().__init__(f"The record set is not in a steady state ({status}); try again later.")


class DefaultRecordSetDelete(DnsError):
    code = "DNS.0317"

    def __init__(self):
        super().__init__("The default record set of the zone cannot be deleted.")


class DefaultRecordSetUpdate(DnsError):
    code = "DNS.0318"

    def __init__(self):
        super().__init__("The default record set of the zone cannot be updated.")


class InvalidTtl(DnsError):
    code = "DNS.0319"

    def __init__(self, ttl):
        super().__init__(f"Invalid TTL {ttl!r}: 1 to 2147483647.")


class InvalidQuery(DnsError):
    code = "DNS.0303"  # emulator choice for a bad list parameter


class PermissionDenied(DnsError):
    """An IAM denial injected with the control API; names the missing permission."""

    status = 403
    code = "DNS.0013"

    def __init__(self, iam_action: str, zone_name: str):
        super().__init__(f"Policy doesn't allow {iam_action} to be performed on zone {zone_name}.")
