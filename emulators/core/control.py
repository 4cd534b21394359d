"""The control API every emulator serves under /_emulator/ (JSON in, JSON out, no authentication)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from emulators.core.api import Route
from emulators.core.faults import FaultRule
from emulators.core.http import ControlError
from emulators.core.quotas import RateRule, published_rules

if TYPE_CHECKING:
    from emulators.core.server import EmulatorServer


def core_control_routes(server: "EmulatorServer") -> list[Route]:
    api = server.api

    def health(request, match):
        return {"status": "ok", "api": api.name, "now": api.clock.now().isoformat()}

    def reset(request, match):
        server.reset()
        return {"status": "reset"}

    def list_faults(request, match):
        return {"faults": [rule.to_json() for rule in server.faults.rules()]}

    def add_fault(request, match):
        rule = server.faults.add(FaultRule.from_json(request.json()))
        return rule.to_json()

    def clear_faults(request, match):
        server.faults.clear()
        return {"faults": []}

    def list_throttles(request, match):
        return {"throttles": [rule.to_json() for rule in server.quotas.rules()]}

    def add_throttle(request, match):
        return server.quotas.add(RateRule.from_json(request.json())).to_json()

    def add_published_throttles(request, match):
        if not api.published_rates:
            raise ControlError(400, f"{api.name} publishes no request rates: POST throttles with a rate instead")
        return {"throttles": [server.quotas.add(rule).to_json() for rule in published_rules(api.published_rates)]}

    def clear_throttles(request, match):
        server.quotas.clear()
        return {"throttles": []}

    def get_clock(request, match):
        return {"now": api.clock.now().isoformat()}

    def advance_clock(request, match):
        seconds = request.json().get("advance_seconds")
        if not isinstance(seconds, (int, float)) or seconds < 0:
            raise ControlError(400, "advance_seconds must be a number >= 0")
        return {"now": api.clock.advance(seconds).isoformat()}

    def ca_certificate(request, match):
        return {"certificate_pem": api.ca.certificate_pem}

    def state(request, match):
        return server.state()["backend"]

    return [
        Route("GET", "health", health),
        Route("POST", "reset", reset),
        Route("GET", "faults", list_faults),
        Route("POST", "faults", add_fault),
        Route("DELETE", "faults", clear_faults),
        Route("GET", "throttles", list_throttles),
        Route("POST", "throttles", add_throttle),
        Route("POST", "throttles/published", add_published_throttles),
        Route("DELETE", "throttles", clear_throttles),
        Route("GET", "clock", get_clock),
        Route("POST", "clock", advance_clock),
        Route("GET", "ca", ca_certificate),
        Route("GET", "state", state),
    ]
