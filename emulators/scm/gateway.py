"""What the Huawei Cloud API-gateway emulators share (SCM here, and Huawei DNS): routes named after their
handlers (the operation names faults and throttles match), and the gateway's answer for an API it does not
know. HuaweiGatewayRoutes is a mixin of an ApiEmulator (emulators/core/api.py); `paths` is the API's urls
module (url_paths, control_paths)."""

from __future__ import annotations

from types import ModuleType

from emulators.core.api import Route
from emulators.core.http import EmulatorError, Request
from emulators.scm.exceptions import ApiNotFound


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
