"""The contract between the shared server and one vendor API emulator (see emulators/core/__init__.py)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Protocol

from emulators.core.ca import EmulatorCA
from emulators.core.clock import Clock
from emulators.core.http import EmulatorError, Request, Response

if TYPE_CHECKING:
    from emulators.core.quotas import RateRule


@dataclass(frozen=True)
class Route:
    """`method` + full-match `pattern` (regex over the path, named groups) -> `handler(request, match)`.

    API routes return a `Response`; control routes (relative to `/_emulator/<api name>/`) return a
    JSON-able value. `name` is the operation name used by fault injection and error messages.
    """

    method: str
    pattern: str
    handler: Callable
    name: str = ""

    def match(self, method: str, path: str) -> re.Match | None:
        if method != self.method:
            return None
        return re.fullmatch(self.pattern, path)


class Backend(Protocol):
    """What the server needs from an API's models: reset and JSON (de)serialisation for persistence."""

    def reset(self) -> None: ...

    def to_state(self) -> dict: ...

    def load_state(self, state: dict) -> None: ...


class ApiEmulator:
    """Base class for one vendor API. Subclasses set `name` and `backend` and override the hooks.

    The server owns threading, persistence, faults and the control API; it serialises all calls into
    the API with one lock, so backends need no locking of their own.
    """

    name = "api"  # control hooks are served under /_emulator/<name>/...
    # The vendor's published request rates (requests/second per caller, by operation), enforced with
    # `--throttle published` or POST /_emulator/throttles/published (emulators/core/quotas.py); {} = none published.
    published_rates: dict[str, float] = {}

    def __init__(self, clock: Clock | None = None, ca: EmulatorCA | None = None):
        self.clock = clock or Clock()
        self.ca = ca or EmulatorCA(self.clock)
        self.backend: Backend

    def routes(self) -> list[Route]:
        raise NotImplementedError

    def control_routes(self) -> list[Route]:
        return []

    def authenticate(self, request: Request, route: Route, match: re.Match) -> None:
        """Raise EmulatorError when the request's signature or credentials are not acceptable."""
        raise NotImplementedError

    def render_error(self, error: EmulatorError, request: Request) -> Response:
        """The vendor's error envelope for `error` (status, body and headers)."""
        raise NotImplementedError

    def operation_name(self, request: Request, route: Route, match: re.Match) -> str:
        """Name matched against fault rules' `action`; RPC APIs read it from the request."""
        return route.name

    def route_not_found(self, request: Request) -> EmulatorError:
        return EmulatorError(404, "NotFound", f"No route for {request.method} {request.path}")

    def fault_error(self, status: int, code: str | None, message: str | None,
                    retry_after: float | None) -> EmulatorError:
        """The error an injected fault answers with; APIs override to use their codes and headers."""
        headers = {"Retry-After": str(math.ceil(retry_after))} if retry_after is not None else {}
        return EmulatorError(status, code or f"Injected{status}", message or "Injected fault", headers)

    def caller_of(self, request: Request) -> str:
        """Who a request's rate quotas are counted for (called after `authenticate`): the signing access key."""
        return ""

    def throttle_error(self, rule: "RateRule") -> EmulatorError:
        """The answer to a call over its rate quota; APIs override with the vendor's throttling answer."""
        return self.fault_error(429, "Throttling", "Rate exceeded", rule.retry_after)
