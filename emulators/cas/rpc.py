"""What every Alibaba Cloud RPC-style emulator shares (CAS here, and Alidns): the action a request names, the
signature check, injected faults and throttling as Alibaba's error codes, and Alibaba's error envelope.

AlibabaRpcHooks is a mixin of an ApiEmulator (emulators/core/api.py) whose `verifier` checks signatures
(emulators/cas/auth.py); each API sets `host_id`, `product` (the troubleshoot link's) and
`action_not_found` (its InvalidAction.NotFound error class).
"""

from __future__ import annotations

import math
import re
import uuid

from emulators.cas.auth import access_key_id_of
from emulators.core.api import Route
from emulators.core.http import EmulatorError, Request, Response, json_response
from emulators.core.quotas import RateRule

# Default codes and messages for injected faults, from Alibaba's common error list.
FAULT_CODES = {
    400: ("Throttling.User", "Request was denied due to user flow control."),
    429: ("Throttling.User", "Request was denied due to user flow control."),
    500: ("InternalError", "The request processing has failed due to some unknown error, exception or failure."),
    503: ("ServiceUnavailable", "The request has failed due to a temporary failure of the server."),
}


def action_of(request: Request) -> str:
    return request.header("x-acs-action") or request.params.get("Action") or ""


def request_id() -> str:
    return str(uuid.uuid4()).upper()


class AlibabaRpcHooks:
    host_id: str
    product: str
    action_not_found: type

    def authenticate(self, request: Request, route: Route, match: re.Match) -> None:
        self.verifier.verify(request)

    def operation_name(self, request: Request, route: Route, match: re.Match) -> str:
        return action_of(request)

    def route_not_found(self, request: Request) -> EmulatorError:
        return self.action_not_found(action_of(request) or request.path)

    def fault_error(self, status, code, message, retry_after) -> EmulatorError:
        default_code, default_message = FAULT_CODES.get(
            status, ("InternalError" if status >= 500 else "InvalidParameter", "Injected fault."))
        headers = {}
        if retry_after is not None:
            # The SDK reads x-acs-retry-after as a positive integer number of milliseconds.
            headers["x-acs-retry-after"] = str(max(1, math.ceil(retry_after * 1000)))
        return EmulatorError(status, code or default_code, message or default_message, headers)

    def caller_of(self, request: Request) -> str:
        return access_key_id_of(request)   # Alibaba meters "user flow control" per caller

    def throttle_error(self, rule: RateRule) -> EmulatorError:
        # Alibaba's common throttling answer (reference/alibaba-cas.md §7): 400 Throttling.User; the live gateway
        # may or may not send x-acs-retry-after (§8), so it is there only when the rule sets retry_after.
        return self.fault_error(400, "Throttling.User", None, rule.retry_after)

    def render_error(self, error: EmulatorError, request: Request) -> Response:
        rid = request_id()
        body = {
            "RequestId": rid, "HostId": self.host_id, "Code": error.code, "Message": error.message,
            "Recommend": f"https://api.aliyun.com/troubleshoot?q={error.code}&product={self.product}&requestId={rid}",
            **getattr(error, "extra", {}),
        }
        return json_response(error.status, body, {"x-acs-request-id": rid, **error.headers})
