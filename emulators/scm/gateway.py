"""What the Huawei Cloud API-gateway emulators share (SCM here, and Huawei DNS): routes named after their
handlers (the operation names faults and throttles match), the gateway's answer for an API it does not
know, and its answer to a user over the rate (per access key: "policy user over ratelimit"). HuaweiGatewayRoutes
is a mixin of an ApiEmulator (emulators/core/api.py); `paths` is the API's urls module (url_paths,
control_paths)."""

from __future__ import annotations

import math
from types import ModuleType

from emulators.core.api import Route
from emulators.core.http import EmulatorError, Request
from emulators.core.quotas import RateRule
from emulators.scm.auth import access_key_of
from emulators.scm.exceptions import ApiNotFound, Throttled


def operation_name(handler: str) -> str:
    return "".join(part.capitalize() for part in handler.split("_"))


class HuaweiGatewayRoutes:
    paths: ModuleType

    def routes(self) -> list[Route]:
        return [Route(method, pattern, getattr(self, handler), operation_name(handler))
                for method, pattern, handler in self.paths.url_paths]

    def control_routes(self) -> list[Route]:
        return [Route(method, pattern, getattr(self, handler), handler)
                for method, pattern, handler in self.paths.control_paths]

    def route_not_found(self, request: Request) -> EmulatorError:
        return ApiNotFound()

    def caller_of(self, request: Request) -> str:
        return access_key_of(request.headers) or ""   # "" = an X-Auth-Token caller

    def throttle_error(self, rule: RateRule) -> EmulatorError:
        # 429 APIGW.0308 naming the limit, without Retry-After (reference/huawei-scm.md §9.2, §11) unless the
        # rule asks for one.
        headers = {"Retry-After": str(math.ceil(rule.retry_after))} if rule.retry_after is not None else {}
        return Throttled(limit=max(1, math.ceil(rule.rate)), headers=headers)
