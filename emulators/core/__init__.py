"""Shared core of the certfleet API emulators (stdlib HTTP server + `cryptography`).

How an API emulator plugs in
----------------------------
Subclass `ApiEmulator` (emulators/core/api.py) in `emulators/<api>/responses.py` or similar:

    class MyApi(ApiEmulator):
        name = "scm"                                   # control hooks live under /_emulator/scm/...
        def __init__(self, credentials, clock=None, ca=None):
            super().__init__(clock, ca)                # gives self.clock (Clock) and self.ca (EmulatorCA)
            self.backend = MyBackend(self.clock, self.ca)   # reset(), to_state() -> dict, load_state(dict)
        def routes(self):          return [Route("POST", r"/v3/scm/certificates/buy", self.buy, "BuyCertificate")]
        def control_routes(self):  return [Route("POST", r"orders/(?P<id>[^/]+)/advance", self.advance)]
        def authenticate(self, request, route, match):  ...   # raise EmulatorError on a bad signature
        def render_error(self, error, request):  return json_response(error.status, {...vendor shape...})
        # optional: operation_name(request, route, match) (fault matching; default route.name),
        #           route_not_found(request), fault_error(status, code, message, retry_after),
        #           caller_of(request), throttle_error(rule), published_rates (rate quotas: quotas.py)

    server = EmulatorServer(MyApi(...), port=0, state_file=None).start()   # or `with ... as server:`
    server.url / server.endpoint ("127.0.0.1:PORT");  server.stop()

Route handlers get `(Request, re.Match)`; API routes return a `Response` (use `json_response`) or raise
`EmulatorError(status, code, message, headers)`; control routes return any JSON-able value (raise
`ControlError` for a bad call). The server serialises all calls into the API with one lock, checks
authentication before faults, saves the state file after every request that changed the state, and
serves the core control API: GET health, POST reset, GET|POST|DELETE faults, GET|POST|DELETE throttles and
POST throttles/published (request-rate quotas, emulators/core/quotas.py; also `--throttle` at start-up), GET|POST
clock, GET ca, GET state, GET|DELETE calls (API calls by operation, for benchmarks), all under /_emulator/.
`emulators.core.cli` gives `python -m` entry points their common flags;
`emulators.core.testing.ControlClient` drives the control API from tests; `emulators.core.auth.LiveSecretKeys` hands an authenticator the backend's access keys, read live.
"""

from emulators.core.api import ApiEmulator, Backend, Route
from emulators.core.ca import EmulatorCA, IssuedCertificate, describe_certificate, generate_key_and_csr, load_csr
from emulators.core.clock import Clock
from emulators.core.faults import FaultRule
from emulators.core.http import ControlError, EmulatorError, Request, Response, json_response
from emulators.core.server import EmulatorServer

__all__ = [
    "ApiEmulator", "Backend", "Clock", "ControlError", "EmulatorCA", "EmulatorError", "EmulatorServer",
    "FaultRule", "IssuedCertificate", "Request", "Response", "Route", "describe_certificate",
    "generate_key_and_csr", "json_response", "load_csr",
]
