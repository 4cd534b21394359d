"""The shared emulator core, through a minimal counter API over real HTTP."""

from __future__ import annotations

import hashlib
import http.client
import json
import time
from datetime import datetime, timedelta, timezone

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from emulators.core import (
    ApiEmulator, EmulatorCA, EmulatorError, EmulatorServer, Route, describe_certificate, generate_key_and_csr,
    json_response, load_csr,
)
from emulators.core.ca import csr_names, private_key_matches, split_pem_bundle
from emulators.core.clock import Clock
from emulators.core.testing import ControlAPIError, ControlClient


class CounterBackend:
    def __init__(self):
        self.reset()

    def reset(self):
        self.count = 0

    def to_state(self):
        return {"count": self.count}

    def load_state(self, state):
        self.count = state["count"]


class CounterApi(ApiEmulator):
    """POST /increment (token "good" required), GET /count; control hook POST counter/set."""

    name = "counter"

    def __init__(self, clock=None, ca=None):
        super().__init__(clock, ca)
        self.backend = CounterBackend()

    def routes(self):
        return [
            Route("POST", r"/increment", self.increment, "Increment"),
            Route("GET", r"/count", self.get_count, "GetCount"),
            Route("POST", r"/explode", self.explode, "Explode"),
        ]

    def control_routes(self):
        return [Route("POST", r"set/(?P<value>\d+)", self.control_set)]

    def authenticate(self, request, route, match):
        if request.header("X-Token") != "good":
            raise EmulatorError(401, "Unauthorized", "bad token")

    def render_error(self, error, request):
        return json_response(error.status, {"error_code": error.code, "error_msg": error.message}, error.headers)

    def increment(self, request, match):
        self.backend.count += 1
        return json_response(200, {"count": self.backend.count, "query_length": len(request.raw_query)})

    def get_count(self, request, match):
        return json_response(200, {"count": self.backend.count})

    def explode(self, request, match):
        raise RuntimeError("emulator bug")

    def control_set(self, request, match):
        self.backend.count = int(match["value"])
        return {"count": self.backend.count}


def call(server, method="POST", path="/increment", token="good", connection=None):
    """(status, headers, JSON body) of one request."""
    connection = connection or http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    connection.request(method, path, headers={"X-Token": token})
    response = connection.getresponse()
    return response.status, dict(response.getheaders()), json.loads(response.read() or b"null")


@pytest.fixture
def server():
    with EmulatorServer(CounterApi()) as running:
        yield running


@pytest.fixture
def control(server):
    return ControlClient(server.url)


def test_server_listens_on_a_free_loopback_port(server):
    assert server.port > 0
    assert server.url == f"http://127.0.0.1:{server.port}"
    assert server.endpoint == f"127.0.0.1:{server.port}"
    assert call(server)[0] == 200


def test_routes_authentication_and_state(server):
    status, _, body = call(server)
    assert (status, body) == (200, {"count": 1, "query_length": 0})
    assert call(server, "GET", "/count")[2] == {"count": 1}
    assert call(server, token="bad")[0:3:2] == (401, {"error_code": "Unauthorized", "error_msg": "bad token"})
    assert call(server, "GET", "/count")[2] == {"count": 1}  # the rejected call changed nothing


def test_unknown_route_uses_the_api_error_shape(server):
    status, _, body = call(server, "GET", "/nowhere")
    assert status == 404
    assert body["error_code"] == "NotFound"


def test_handler_bug_is_answered_as_internal_error(server):
    status, _, body = call(server, "POST", "/explode")
    assert status == 500
    assert body["error_code"] == "InternalError"
    assert "emulator bug" in body["error_msg"]


def test_request_lines_far_beyond_64k_are_served(server):
    path = "/increment?pem=" + "A" * 300_000
    status, _, body = call(server, "POST", path)
    assert status == 200
    assert body["query_length"] == 300_004


def test_request_line_over_the_limit_is_refused(server):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    connection.putrequest("POST", "/increment?x=" + "A" * (1 << 20))
    connection.endheaders()
    assert connection.getresponse().status == 414


def test_keep_alive_connection_serves_several_requests(server):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    assert [call(server, connection=connection)[2]["count"] for _ in range(3)] == [1, 2, 3]


def test_health_and_reset(server, control):
    call(server)
    control.add_fault("Increment", status=503)
    assert control.health()["status"] == "ok"
    assert control.health()["api"] == "counter"
    control.reset()
    assert call(server, "GET", "/count")[2] == {"count": 0}
    assert control.faults() == []


def test_calls_are_counted_per_operation_and_outcome_until_cleared(server, control):
    call(server)
    call(server)
    call(server, "GET", "/count")
    call(server, token="bad")                      # refused by authentication: an error
    call(server, "GET", "/nowhere")                # no such route
    control.add_fault("Increment", drop_response=True)
    with pytest.raises(http.client.RemoteDisconnected):
        call(server)
    control.health()                               # control calls are not API calls
    assert control.call("GET", "calls") == {
        "operations": {"(no route)": {"error": 1}, "GetCount": {"ok": 1},
                       "Increment": {"dropped": 1, "error": 1, "ok": 2}},
        "totals": {"dropped": 1, "error": 2, "ok": 3}}
    assert control.call("DELETE", "calls") == {"operations": {}, "totals": {}}
    call(server)
    control.reset()
    assert control.call("GET", "calls")["totals"] == {}


def test_api_control_hooks_are_served_under_the_api_name(server, control):
    assert control.call("POST", "counter/set/41") == {"count": 41}
    assert call(server)[2]["count"] == 42
    with pytest.raises(ControlAPIError) as error:
        control.call("POST", "counter/unknown")
    assert error.value.status == 404


def test_fault_fails_the_next_n_calls_without_doing_them(server, control):
    rule = control.add_fault("Increment", status=503, code="Busy", message="try later", times=2)
    assert rule["times"] == 2
    for _ in range(2):
        status, _, body = call(server)
        assert (status, body) == (503, {"error_code": "Busy", "error_msg": "try later"})
    assert call(server, "GET", "/count")[2] == {"count": 0}
    assert control.faults() == []
    assert call(server)[2]["count"] == 1


def test_fault_only_matches_its_action(server, control):
    control.add_fault("GetCount", status=500)
    assert call(server)[0] == 200
    assert call(server, "GET", "/count")[0] == 500


def test_fault_with_unlimited_times_stays_until_cleared(server, control):
    control.add_fault("*", status=500, times=None)
    assert [call(server)[0] for _ in range(3)] == [500, 500, 500]
    control.clear_faults()
    assert call(server)[0] == 200


def test_fault_retry_after_default_header(server, control):
    control.add_fault("Increment", status=429, retry_after=1.5)
    status, headers, _ = call(server)
    assert status == 429
    assert headers["Retry-After"] == "2"


def test_fault_with_a_probability_hits_about_that_share_of_calls(server, control):
    control.add_fault("Increment", status=503, times=None, probability=0.25)
    statuses = [call(server)[0] for _ in range(400)]
    assert set(statuses) == {200, 503}
    assert 50 <= statuses.count(503) <= 150  # 100 expected; the bounds are > 5 sigma wide
    assert call(server, "GET", "/count")[2] == {"count": statuses.count(200)}  # a failed call did nothing
    [rule] = control.faults()
    assert (rule["probability"], rule["hits"]) == (0.25, statuses.count(503))


def test_spared_calls_are_not_counted_and_fall_through_to_the_next_rule(server, control):
    control.add_fault("Increment", status=500, times=1, probability=0.5)
    control.add_fault("Increment", status=429, times=2)

    class Dice:  # the injector's dice, loaded: spared, spared, hit
        rolls = [0.9, 0.9, 0.1]

        def random(self):
            return self.rolls.pop(0)

    server.faults._random = Dice()
    assert [call(server)[0] for _ in range(3)] == [429, 429, 500]
    assert control.faults() == []  # the first rule's one use went to the third call


def test_authentication_is_checked_before_faults(server, control):
    control.add_fault("Increment", status=503)
    assert call(server, token="bad")[0] == 401
    assert len(control.faults()) == 1  # not consumed by the unauthenticated call


def test_drop_response_performs_the_operation_then_closes(server, control):
    control.add_fault("Increment", drop_response=True)
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    connection.request("POST", "/increment", headers={"X-Token": "good"})
    with pytest.raises(http.client.RemoteDisconnected):
        connection.getresponse()
    assert call(server, "GET", "/count")[2] == {"count": 1}


def test_delay_fault_stalls_the_answer(server, control):
    control.add_fault("GetCount", delay=0.3)
    started = time.monotonic()
    assert call(server, "GET", "/count")[0] == 200
    assert time.monotonic() - started >= 0.3


def test_malformed_body_fault(server, control):
    control.add_fault("GetCount", status=502, malformed_body=True)
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    connection.request("GET", "/count", headers={"X-Token": "good"})
    response = connection.getresponse()
    assert response.status == 502
    with pytest.raises(ValueError):
        json.loads(response.read())


@pytest.mark.parametrize("fault", [
    {"action": "X"},  # nothing to inject
    {"action": "X", "status": 200},
    {"action": "X", "status": 500, "times": 0},
    {"action": "X", "status": 500, "colour": "red"},
    {"action": "X", "status": 500, "probability": 0},
    {"action": "X", "status": 500, "probability": 1.5},
    {"action": "X", "status": 500, "probability": "often"},
])
def test_bad_fault_specs_are_rejected(control, fault):
    with pytest.raises(ControlAPIError) as error:
        control.call("POST", "faults", fault)
    assert error.value.status == 400


def test_clock_advances_only_forward(server, control):
    before = server.api.clock.now()
    now = datetime.fromisoformat(control.advance_clock(86400))
    assert now - before >= timedelta(days=1)
    with pytest.raises(ControlAPIError):
        control.advance_clock(-1)
    control.reset()
    assert server.api.clock.now() - before < timedelta(hours=1)


def test_state_and_ca_endpoints(server, control):
    call(server)
    assert control.state() == {"count": 1}
    root = x509.load_pem_x509_certificate(control.ca_certificate_pem().encode())
    assert root.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_stop_closes_kept_alive_connections():
    server = EmulatorServer(CounterApi()).start()
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    assert call(server, connection=connection)[0] == 200
    server.stop()
    with pytest.raises((ConnectionError, http.client.HTTPException, OSError)):
        call(server, connection=connection)


def test_state_survives_a_restart(tmp_path):
    state_file = tmp_path / "counter.json"
    with EmulatorServer(CounterApi(), state_file=state_file) as first:
        call(first)
        call(first)
        ControlClient(first.url).advance_clock(3600)
        root_pem = first.api.ca.certificate_pem
    saved = json.loads(state_file.read_text())
    assert saved["backend"] == {"count": 2}
    with EmulatorServer(CounterApi(), state_file=state_file) as second:
        assert call(second, "GET", "/count")[2] == {"count": 2}
        assert second.api.ca.certificate_pem == root_pem
        assert second.api.clock.now() - datetime.now(timezone.utc) > timedelta(minutes=59)


def test_state_file_of_another_api_is_refused(tmp_path):
    state_file = tmp_path / "other.json"
    state_file.write_text(json.dumps({"format": 1, "api": "cas", "clock": {}, "ca": {}, "backend": {}}))
    with pytest.raises(ValueError, match="not a counter emulator state file"):
        EmulatorServer(CounterApi(), state_file=state_file)


# ----- emulator CA -----

def test_ca_issues_a_leaf_for_a_csr_chaining_to_its_root():
    clock = Clock()
    ca = EmulatorCA(clock)
    key_pem, csr_pem = generate_key_and_csr(["api.example.com", "www.api.example.com"])
    not_after = clock.now() + timedelta(days=90)
    issued = ca.issue(csr_pem, ["api.example.com", "www.api.example.com"], not_after=not_after)
    leaf = x509.load_pem_x509_certificate(issued.certificate_pem.encode())
    root = x509.load_pem_x509_certificate(issued.chain_pem.encode())
    leaf.verify_directly_issued_by(root)
    assert issued.chain_pem == ca.certificate_pem
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["api.example.com", "www.api.example.com"]
    assert abs(leaf.not_valid_after_utc - not_after) < timedelta(seconds=1)
    assert leaf.not_valid_before_utc < clock.now()
    assert not leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert private_key_matches(key_pem, issued.certificate_pem)
    assert key_pem.startswith("-----BEGIN RSA PRIVATE KEY-----")


def test_ca_issues_for_a_bare_public_key_and_ec_keys():
    ca = EmulatorCA(Clock())
    key_pem, csr_pem = generate_key_and_csr(["*.example.org"], key_type="EC", key_size=256)
    public_key = load_csr(csr_pem).public_key()
    issued = ca.issue(public_key, ["*.example.org"], not_after=datetime.now(timezone.utc) + timedelta(days=1))
    info = describe_certificate(issued.certificate_pem)
    assert (info.common_name, info.dns_names, info.key_algorithm) == ("*.example.org", ["*.example.org"], "EC")
    assert info.issuer_common_name == "certfleet emulator root CA"
    assert private_key_matches(key_pem, issued.certificate_pem)


def test_ca_root_is_created_once_and_restored_from_state():
    ca = EmulatorCA(Clock())
    assert ca.certificate_pem == ca.certificate_pem
    restored = EmulatorCA(Clock())
    restored.load_state(ca.to_state())
    assert restored.certificate_pem == ca.certificate_pem
    issued = restored.issue(generate_key_and_csr(["a.example.com"])[1], ["a.example.com"],
                            not_after=datetime.now(timezone.utc) + timedelta(days=1))
    root = x509.load_pem_x509_certificate(ca.certificate_pem.encode())
    x509.load_pem_x509_certificate(issued.certificate_pem.encode()).verify_directly_issued_by(root)


def test_pem_helpers():
    key_pem, csr_pem = generate_key_and_csr(["a.example.com", "b.example.com"])
    assert csr_names(load_csr(csr_pem)) == ("a.example.com", ["a.example.com", "b.example.com"])
    with pytest.raises(ValueError):
        load_csr("not a csr")
    ca = EmulatorCA(Clock())
    issued = ca.issue(csr_pem, ["a.example.com"], not_after=datetime.now(timezone.utc) + timedelta(days=1))
    bundle = issued.certificate_pem + issued.chain_pem
    assert split_pem_bundle(bundle) == [issued.certificate_pem, issued.chain_pem]
    other_key, _ = generate_key_and_csr(["a.example.com"], key_type="EC", key_size=256)
    assert not private_key_matches(other_key, issued.certificate_pem)
    der = x509.load_pem_x509_certificate(issued.certificate_pem.encode()).public_bytes(serialization.Encoding.DER)
    assert describe_certificate(bundle).sha1_fingerprint == hashlib.sha1(der).hexdigest().upper()


def test_a_clock_moved_forward_issues_certificates_in_effect_now_and_expiring_on_its_own_time():
    # moto's ImportCertificate and TLS clients check validity in real time; renewals run on a moved clock.
    clock = Clock()
    clock.advance(300 * 86400)
    ca = EmulatorCA(clock)
    key = ec.generate_private_key(ec.SECP256R1())
    issued = ca.issue(key.public_key(), ["renewed.example.com"], clock.now() + timedelta(days=90))
    real_now = datetime.now(timezone.utc)
    leaf = x509.load_pem_x509_certificate(issued.certificate_pem.encode())
    root = x509.load_pem_x509_certificate(ca.certificate_pem.encode())
    assert leaf.not_valid_before_utc <= real_now and root.not_valid_before_utc <= real_now
    assert leaf.not_valid_after_utc > real_now + timedelta(days=389)
