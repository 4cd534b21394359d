"""The WSGI layer in front of moto: control API, throttling, crash-test faults, call counts.

Per AWS call: identify service and operation (operations.py), count it, maybe throttle it (answered
here, moto never sees it), maybe apply a fault (moto performs the call, then the answer is held or
dropped), else pass it straight to moto. The extra AWS behaviours themselves live in moto's backends
(acm.py, cloudfront.py), so moto serialises their errors like its own.
"""

from __future__ import annotations

import json
import re
import socket
import time

from moto.moto_api._internal import moto_api_backend

from emulators.aws import cloudfront
from emulators.aws.exceptions import throttling_response
from emulators.aws.models import AwsFault, EmulatorState
from emulators.aws.operations import identify
from emulators.aws.throttling import ThrottleRule, aws_quota_rules
from emulators.aws.urls import CONTROL_PATHS, CONTROL_PREFIX, MOTO_RESET_PATH

JSON_HEADERS = [("Content-Type", "application/json")]


class CertfleetMiddleware:
    def __init__(self, state: EmulatorState, moto_app):
        self.state = state
        self.moto_app = moto_app
        self.control = ControlApi(state)

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith(CONTROL_PREFIX):
            return self.control(environ, start_response)
        if path.startswith("/moto-api"):
            result = self.moto_app(environ, start_response)
            if path == MOTO_RESET_PATH and environ.get("REQUEST_METHOD") == "POST":
                self.state.reset()  # moto's reset is everybody's reset
            return result
        service, operation = identify(environ)
        counted = f"{service}:{operation}"
        if self.state.throttles.refuses(service, operation):
            self.state.calls.record(counted, "throttled")
            status, headers, body = throttling_response(service)
            start_response(status, headers)
            return [body]
        fault = self.state.faults.take(operation)
        if fault is None:
            statuses = []

            def counting_start_response(status, headers, exc_info=None):
                statuses.append(status)
                return start_response(status, headers, exc_info)

            result = self.moto_app(environ, counting_start_response)
            self.state.calls.record(counted, outcome(statuses))
            return result
        return self._with_fault(environ, start_response, fault, counted)

    def _with_fault(self, environ, start_response, fault: AwsFault, counted: str):
        """Perform the call in moto, then hold its answer or drop the connection."""
        answer = {}
        written = []

        def capture(status, headers, exc_info=None):
            answer.update(status=status, headers=headers)
            return written.append

        result = self.moto_app(environ, capture)
        try:
            body = b"".join(written) + b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        if fault.drop_response:
            self.state.calls.record(counted, "dropped")
            return DroppedResponse(environ)
        self.state.calls.record(counted, "delayed")
        time.sleep(fault.delay_after)
        start_response(answer["status"], answer["headers"])
        return [body]


def outcome(statuses: list[str]) -> str:
    return "ok" if statuses and statuses[0][:1] in ("1", "2", "3") else "error"


class DroppedResponse:
    """An answer that never comes: the socket is shut, and werkzeug treats the ConnectionAbortedError
    as a client that went away (no 500 page, no traceback)."""

    def __init__(self, environ):
        connection = environ.get("werkzeug.socket")
        if connection is not None:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def __iter__(self):
        raise ConnectionAbortedError("certfleet emulator: response dropped by an injected fault")


class ControlError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class ControlApi:
    """JSON in, JSON out, under /_certfleet/ (no authentication; the server listens on loopback)."""

    def __init__(self, state: EmulatorState):
        self.state = state
        self.routes = [(method, re.compile(pattern), getattr(self, name)) for method, pattern, name in CONTROL_PATHS]

    def __call__(self, environ, start_response):
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "")[len(CONTROL_PREFIX):]
        try:
            for route_method, pattern, handler in self.routes:
                match = pattern.fullmatch(path)
                if match and route_method == method:
                    status, payload = 200, handler(read_json(environ), **match.groupdict())
                    break
            else:
                raise ControlError(404, f"no control route {method} {CONTROL_PREFIX}{path}")
        except ControlError as error:
            status, payload = error.status, {"error": error.message}
        except (ValueError, TypeError) as error:
            status, payload = 400, {"error": f"bad control request: {error}"}
        body = json.dumps(payload).encode()
        start_response(f"{status} {'OK' if status == 200 else 'Error'}",
                       JSON_HEADERS + [("Content-Length", str(len(body)))])
        return [body]

    # --- lifecycle and settings ---

    def health(self, body):
        return {"status": "ok", "settings": self.state.settings.to_json()}

    def reset(self, body):
        moto_api_backend.reset()
        self.state.reset()
        return {"status": "reset"}

    def get_settings(self, body):
        return self.state.settings.to_json()

    def update_settings(self, body):
        return self.state.update_settings(body or {}).to_json()

    # --- throttling ---

    def list_throttles(self, body):
        return {"throttles": [rule.to_json() for rule in self.state.throttles.rules()]}

    def add_throttle(self, body):
        return self.state.throttles.add(ThrottleRule.from_json(body or {})).to_json()

    def add_aws_quota_throttles(self, body):
        added = [self.state.throttles.add(rule).to_json() for rule in aws_quota_rules()]
        return {"throttles": added}

    def clear_throttles(self, body):
        self.state.throttles.clear()
        return {"throttles": []}

    # --- faults ---

    def list_faults(self, body):
        return {"faults": [fault.to_json() for fault in self.state.faults.rules()]}

    def add_fault(self, body):
        return self.state.faults.add(AwsFault.from_json(body or {})).to_json()

    def clear_faults(self, body):
        self.state.faults.clear()
        return {"faults": []}

    # --- call counts ---

    def get_calls(self, body):
        return self.state.calls.to_json()

    def clear_calls(self, body):
        self.state.calls.clear()
        return self.state.calls.to_json()

    # --- the clock (the core emulators' API: GET clock, POST clock {"advance_seconds": N}) ---

    def get_clock(self, body):
        return {"now": self.state.clock.now().isoformat()}

    def advance_clock(self, body):
        seconds = (body or {}).get("advance_seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
            raise ControlError(400, "advance_seconds must be a number")
        return {"now": self.state.clock.advance(seconds).isoformat()}

    # --- CloudFront deployments ---

    def list_distributions(self, body):
        with self.state.lock:
            return {"distributions": [cloudfront.describe(dist) for backend in cloudfront.all_backends()
                                      for dist in backend.distributions.values()]}

    def finish_deployments(self, body):
        with self.state.lock:
            return {"deployed": cloudfront.finish_deployments()}

    def set_next_distribution_id(self, body):
        distribution_id = (body or {}).get("id", "")
        if not re.fullmatch(r"E[A-Z0-9]{12,13}", distribution_id):
            raise ControlError(400, "id must be 'E' and 12 or 13 upper-case letters or digits")
        cloudfront.set_next_id(distribution_id)
        return {"next": distribution_id}

    def edge_address(self, body):
        """Where the edge listener (edge.py) serves TLS: certfleet's CERTFLEET_EDGE_ENDPOINT for local runs."""
        address = getattr(self.state, "edge_address", None)
        if address is None:
            raise ControlError(404, "this emulator runs no edge listener")
        return {"host": address[0], "port": address[1], "endpoint": f"{address[0]}:{address[1]}"}

    def finish_deployment(self, body, distribution_id: str):
        with self.state.lock:
            if not any(distribution_id in backend.distributions for backend in cloudfront.all_backends()):
                raise ControlError(404, f"no distribution {distribution_id}")
            return {"deployed": cloudfront.finish_deployments(distribution_id)}


def read_json(environ) -> dict | None:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    raw = environ["wsgi.input"].read(length) if length else b""
    if not raw.strip():
        return None
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise ValueError("the body must be a JSON object")
    return data

