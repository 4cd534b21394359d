"""The shared HTTP server: one API emulator behind a stdlib threaded server on a loopback port."""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
import time
import traceback
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from emulators.core.api import ApiEmulator, Route
from emulators.core.control import core_control_routes
from emulators.core.faults import FaultInjector
from emulators.core.http import ControlError, EmulatorError, Request, Response, json_response
from emulators.core.quotas import RateQuotas, RateRule

HOST = "127.0.0.1"  # never listen beyond loopback
# http.server refuses request lines over 64 KiB; Alibaba's SDK puts certificate chains and keys in the
# query string, so allow far more.
MAX_REQUEST_LINE = 1 << 20
CONTROL_PREFIX = "/_emulator/"
STATE_FORMAT = 1
# How often serve_forever checks for shutdown; stop() waits up to this long.
SHUTDOWN_POLL_SECONDS = 0.02
NO_ROUTE = "(no route)"  # the operation a request that matched no API route is counted under


class CallCounts:
    """API calls per operation and how they ended ("ok", "error", "dropped", "throttled" (over a rate quota); the
    AWS emulator also "delayed"), counted at the server for benchmarks (calls per resource by operation). Served at
    /_emulator/calls here and at /_certfleet/calls by the AWS emulator, which uses this class too."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, str]] = Counter()

    def record(self, operation: str, outcome: str) -> None:
        with self._lock:
            self._counts[(operation, outcome)] += 1

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()

    def to_json(self) -> dict:
        with self._lock:
            items = sorted(self._counts.items())
        by_operation: dict[str, dict[str, int]] = {}
        totals: Counter[str] = Counter()
        for (operation, outcome), count in items:
            by_operation.setdefault(operation, {})[outcome] = count
            totals[outcome] += count
        return {"operations": by_operation, "totals": dict(totals)}


def outcome_of(response: "Response | None") -> str:
    """How a call ended, for CallCounts: no response (a fault dropped it), or the HTTP status's class."""
    return "dropped" if response is None else "ok" if response.status < 400 else "error"


class EmulatorServer:
    """Serve `api` on 127.0.0.1:`port` (0 = a free port) with the control API and optional persistence.

    Use `start()`/`stop()` (or `with EmulatorServer(...) as server:`) to run it in a background thread,
    or `serve_forever()` to block. With `state_file`, state is loaded at construction and saved (JSON,
    atomically) after every request that changed it. `throttles`: rate quotas from the start (quotas.py).
    """

    def __init__(self, api: ApiEmulator, port: int = 0, state_file: str | os.PathLike | None = None,
                 log_requests: bool = False, throttles: list[RateRule] | None = None):
        self.api = api
        self.faults = FaultInjector()
        self.quotas = RateQuotas(throttles)
        self.calls = CallCounts()
        self.log_requests = log_requests
        self.state_file = Path(state_file) if state_file else None
        # One lock around everything that touches emulator state keeps backends free of locking.
        self.lock = threading.RLock()
        self._api_routes = api.routes()
        self._control_routes = core_control_routes(self) + [
            Route("GET", "calls", lambda request, match: self.calls.to_json()),
            Route("DELETE", "calls", lambda request, match: self.calls.clear() or self.calls.to_json()),
        ] + [
            Route(r.method, f"{api.name}/{r.pattern}", r.handler, r.name) for r in api.control_routes()
        ]
        self._last_saved_state: str | None = None
        if self.state_file and self.state_file.exists() and self.state_file.stat().st_size:
            self._load_state()
        self._httpd = _HTTPServer((HOST, port), _RequestHandler)
        self._httpd.emulator = self
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def endpoint(self) -> str:
        """host:port, the form SDK `endpoint` settings expect."""
        return f"{HOST}:{self.port}"

    def start(self) -> "EmulatorServer":
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(SHUTDOWN_POLL_SECONDS,),
                                        name=f"{self.api.name}-emulator", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._httpd.serve_forever(SHUTDOWN_POLL_SECONDS)

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.close_all_connections()
        self._httpd.server_close()

    def __enter__(self) -> "EmulatorServer":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def reset(self) -> None:
        """Empty the backend, clear faults and call counts, reset the clock and the rate quotas to the start-up
        ones; the CA root is kept."""
        with self.lock:
            self.api.backend.reset()
            self.api.clock.reset()
            self.faults.clear()
            self.quotas.reset()
            self.calls.clear()
            self._save_state_if_changed()

    def state(self) -> dict:
        with self.lock:
            return {
                "format": STATE_FORMAT,
                "api": self.api.name,
                "clock": self.api.clock.to_state(),
                "ca": self.api.ca.to_state(),
                "backend": self.api.backend.to_state(),
            }

    def handle(self, request: Request) -> Response | None:
        """Answer one request; None means: close the connection without answering."""
        if request.path.startswith(CONTROL_PREFIX):
            return self._handle_control(request)
        route, match = _find_route(self._api_routes, request.method, request.path)
        if route is None:
            response = self.api.render_error(self.api.route_not_found(request), request)
            self.calls.record(NO_ROUTE, outcome_of(response))
            return response
        response, throttled = self._handle_api(request, route, match)
        try:
            operation = self.api.operation_name(request, route, match) or route.name or NO_ROUTE
        except Exception:  # noqa: BLE001 - a request too malformed to name is still counted
            operation = route.name or NO_ROUTE
        self.calls.record(operation, "throttled" if throttled else outcome_of(response))
        return response

    def _handle_api(self, request: Request, route: Route, match) -> tuple[Response | None, bool]:
        """Authentication, rate quotas, faults, then the route's handler: (the answer, None to drop the
        connection unanswered; whether it was throttled over a rate quota)."""
        rule = None
        try:
            with self.lock:
                self.api.authenticate(request, route, match)
                operation = self.api.operation_name(request, route, match)
                # The gateway meters a caller before the service sees the call: a throttled call is not a fault's.
                over_quota = self.quotas.refusal(self.api.caller_of(request), operation)
                if over_quota is not None:
                    return self.api.render_error(self.api.throttle_error(over_quota), request), True
                rule = self.faults.take(operation)
            if rule is not None:
                if rule.delay:
                    time.sleep(rule.delay)
                if rule.status is not None and not rule.drop_response:
                    if rule.malformed_body:
                        body = b"<html>injected fault</html>"
                        return Response(rule.status, body, {"Content-Type": "text/html"}), False
                    raise self.api.fault_error(rule.status, rule.code, rule.message, rule.retry_after)
            response = self._run_handler(route, request, match)
        except EmulatorError as error:
            response = self.api.render_error(error, request)
        except Exception as error:  # a bug in the emulator: answer like the vendor's internal error
            traceback.print_exc(file=sys.stderr)
            response = self.api.render_error(EmulatorError(500, "InternalError", repr(error)), request)
        if rule is not None and rule.drop_response:
            return None, False
        return response, False

    def _handle_control(self, request: Request) -> Response:
        path = request.path[len(CONTROL_PREFIX):]
        route, match = _find_route(self._control_routes, request.method, path)
        if route is None:
            return json_response(404, {"error": f"no control route {request.method} {request.path}"})
        try:
            result = self._run_handler(route, request, match)
        except ControlError as error:
            return json_response(error.status, {"error": error.message})
        except EmulatorError as error:
            return json_response(error.status, {"error": error.message, "code": error.code})
        except (ValueError, TypeError, KeyError) as error:
            return json_response(400, {"error": f"bad control request: {error}"})
        return json_response(200, result)

    def _run_handler(self, route: Route, request: Request, match):
        with self.lock:
            try:
                return route.handler(request, match)
            finally:
                self._save_state_if_changed()  # also after a failed call: it may have changed state

    def _load_state(self) -> None:
        text = self.state_file.read_text()
        state = json.loads(text)
        if state.get("format") != STATE_FORMAT or state.get("api") != self.api.name:
            raise ValueError(f"{self.state_file} is not a {self.api.name} emulator state file")
        self.api.clock.load_state(state["clock"])
        self.api.ca.load_state(state["ca"])
        self.api.backend.load_state(state["backend"])
        self._last_saved_state = json.dumps(state, sort_keys=True)

    def _save_state_if_changed(self) -> None:
        if self.state_file is None:
            return
        text = json.dumps(self.state(), sort_keys=True)
        if text == self._last_saved_state:
            return
        temporary = self.state_file.with_name(self.state_file.name + ".tmp")
        temporary.write_text(text)
        os.replace(temporary, self.state_file)  # atomic: a crash never leaves half a file
        self._last_saved_state = text


def _find_route(routes: list[Route], method: str, path: str):
    for route in routes:
        match = route.match(method, path)
        if match is not None:
            return route, match
    return None, None


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    emulator: EmulatorServer

    def __init__(self, *args, **kwargs):
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def track(self, connection: socket.socket, open_: bool) -> None:
        with self._connections_lock:
            (self._connections.add if open_ else self._connections.discard)(connection)

    def close_all_connections(self) -> None:
        # Keep-alive connections would otherwise go on being served by a stopped emulator.
        with self._connections_lock:
            for connection in self._connections:
                try:
                    connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self._connections.clear()


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # SDKs reuse connections; every answer carries Content-Length
    server_version = "certfleet-emulator"
    # Headers and body go out in separate writes; with Nagle on, keep-alive clients wait ~40 ms each.
    disable_nagle_algorithm = True
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, True)

    def finish(self) -> None:
        self.server.track(self.connection, False)
        super().finish()

    def handle_one_request(self) -> None:
        # Same steps as the stdlib's, with a larger request-line limit.
        try:
            self.raw_requestline = self.rfile.readline(MAX_REQUEST_LINE + 1)
            if len(self.raw_requestline) > MAX_REQUEST_LINE:
                self.requestline = self.request_version = self.command = ""
                self.send_error(414)
                return
            if not self.raw_requestline:
                self.close_connection = True
                return
            if not self.parse_request():
                return
            self._serve()
            self.wfile.flush()
        except (TimeoutError, ConnectionError, OSError):
            self.close_connection = True

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request(self.command, self.path, self.headers, body)
        response = self.server.emulator.handle(request)
        if response is None:  # injected "lost response": the work is done, the answer never arrives
            self.close_connection = True
            return
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def log_request(self, code="-", size="-") -> None:
        if self.server.emulator.log_requests:
            # Method and path only: query strings carry PEMs and private keys.
            path = (self.path or "").split("?", 1)[0]
            sys.stderr.write(f"{self.command} {path} -> {code}\n")

    def log_message(self, format: str, *args) -> None:
        if self.server.emulator.log_requests:
            sys.stderr.write((format % args).split("?", 1)[0] + "\n")
