"""The AWS emulator's HTTP server: moto's WSGI app, in this process, behind the certfleet middleware.

Served by werkzeug's threaded server with moto's own request handler (as `moto_server` does), so moto
sees requests exactly as in server mode. The backend wrappers are installed once per process.
"""

from __future__ import annotations

import sys
import threading

from moto.acm.models import acm_backends
from moto.cloudfront.models import cloudfront_backends
from moto.core import DEFAULT_ACCOUNT_ID
from moto.server import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

from emulators.aws import acm, acm_renewal, cloudfront, operations, route53
from emulators.aws.edge import EdgeListener
from emulators.aws.models import EmulatorState, Settings
from emulators.aws.responses import CertfleetMiddleware

DEFAULT_HOST = "127.0.0.1"
# moto backends certfleet calls, created at start-up rather than on the first request (~0.1 s each).
WARM_SERVICES = ("acm", "cloudfront", "resourcegroupstaggingapi", "route53")


class AwsEmulator:
    """`AwsEmulator(port=0).start()`; `.url`; `.stop()`. Or `serve_forever()` to block.

    `dns_feed`: the DNS emulator's URL (or a ZoneStore in-process) that Route 53 changes are pushed to.
    `edge_port`: CloudFront's edge, a TLS listener choosing each distribution's certificate by SNI (edge.py);
    `.edge_address` is (host, port), also told by the control API (GET /_certfleet/cloudfront/edge)."""

    def __init__(self, host: str = DEFAULT_HOST, port: int = 0, settings: Settings | None = None,
                 log_requests: bool = False, dns_feed=None, edge_port: int = 0):
        self.state = EmulatorState(settings or Settings())
        acm.install(self.state)
        acm_renewal.install(self.state)
        cloudfront.install(self.state)
        route53.install(self.state, dns_feed)
        dispatcher = DomainDispatcherApplication(create_backend_app)
        warm_up(dispatcher)
        self.app = CertfleetMiddleware(self.state, dispatcher)
        self._server = make_server(host, port, self.app, threaded=True, request_handler=_RequestHandler)
        self._server.log_requests = log_requests
        self._thread: threading.Thread | None = None
        self.edge = EdgeListener(self.state, host, edge_port).start()
        self.state.edge_address = self.edge.address

    @property
    def edge_address(self) -> tuple[str, int]:
        return self.edge.address

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "AwsEmulator":
        self._thread = threading.Thread(target=self._server.serve_forever, name="aws-emulator", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()
        self.edge.stop()

    def __enter__(self) -> "AwsEmulator":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


def warm_up(dispatcher: DomainDispatcherApplication) -> None:
    for service in WARM_SERVICES:
        dispatcher.app_instances.setdefault(service, create_backend_app(service))
    acm_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
    cloudfront_backends[DEFAULT_ACCOUNT_ID]["aws"]
    operations.warm_up()


class _RequestHandler(MotoRequestHandler):
    def log_request(self, code="-", size="-") -> None:
        if getattr(self.server, "log_requests", False):
            # Method and path only: nothing from query strings or bodies reaches the log.
            path = (self.path or "").split("?", 1)[0]
            sys.stderr.write(f"{self.command} {path} -> {code}\n")
