"""The CAS emulator driven by the official alibabacloud-cas20200407 SDK over HTTP."""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from alibabacloud_cas20200407 import models as cas_models
from alibabacloud_tea_openapi import utils_models as open_api_models
from alibabacloud_tea_openapi.exceptions import ClientException, ServerException, ThrottlingException
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from darabonba.exceptions import UnretryableException
from darabonba.runtime import RuntimeOptions

from emulators.cas import CasApi
from emulators.core import ApiEmulator, EmulatorServer, Route, json_response
from emulators.core.ca import EmulatorCA, generate_key_and_csr
from emulators.core.clock import Clock
from emulators.core.testing import ControlAPIError, ControlClient
from tests.emulators.cas_scaffolding import (
    ACCESS_KEY_ID, ACCESS_KEY_SECRET, CONTACT, describe, issue, list_orders, make_cas_client, make_csr, make_key,
    order_for_package, package_state,
)

ERROR_BODY_KEYS = {"RequestId", "HostId", "Code", "Message", "Recommend", "statusCode"}
REPO_ROOT = Path(__file__).resolve().parents[2]


def error_of(call, *args, expected=ClientException):
    with pytest.raises(expected) as raised:
        call(*args)
    return raised.value


def spki(public_key) -> bytes:
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


# ----- signatures -----

class RecorderApi(ApiEmulator):
    """Accepts anything and keeps the last request, to replay an SDK-signed request by hand."""

    name = "recorder"

    def __init__(self):
        super().__init__()
        self.backend = None
        self.requests = []

    def routes(self):
        return [Route("POST", r"/", self.record)]

    def authenticate(self, request, route, match):
        pass

    def render_error(self, error, request):
        return json_response(error.status, {"Code": error.code})

    def record(self, request, match):
        self.requests.append(request)
        return json_response(200, {"RequestId": "RECORDED"})


def signed_request(**config):
    """An SDK-signed DescribeCertificateState request for the test credentials, captured, not sent."""
    recorder = RecorderApi()
    with EmulatorServer(recorder) as server:
        client = make_cas_client(server, **config)
        client.describe_certificate_state(cas_models.DescribeCertificateStateRequest(order_id=42))
    return recorder.requests[-1]


def replay(server, request, target=None, headers=None):
    """Send a captured request (optionally altered) to `server`; (status, JSON body)."""
    all_headers = {name: value for name, value in request.headers.items()}
    all_headers.update(headers or {})
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    connection.request(request.method, target or request.target, body=request.body, headers=all_headers)
    response = connection.getresponse()
    return response.status, json.loads(response.read())


def test_acs3_signed_request_is_accepted(cas_client):
    state = package_state(cas_client)
    assert (state.total_count, state.used_count, state.issued_count) == (20, 0, 0)
    assert len(state.request_id) == 36 and state.request_id == state.request_id.upper()


def test_v2_hmac_sha1_signed_request_is_accepted(cas_server):
    client = make_cas_client(cas_server, signature_algorithm="v2")
    order_id = order_for_package(client, "v2.example.com")
    assert describe(client, order_id).type == "domain_verify"


def test_sts_token_request_is_accepted(cas_server):
    client = make_cas_client(cas_server, security_token="sts-token-value")
    assert package_state(client).total_count == 20


def test_async_client_is_accepted(cas_server):
    client = make_cas_client(cas_server)
    request = cas_models.DescribePackageStateRequest(product_code="digicert-free-1-free")
    response = asyncio.run(client.describe_package_state_async(request))
    assert response.body.total_count == 20


@pytest.mark.parametrize("signature_algorithm", [None, "v2"])
def test_wrong_secret_is_signature_does_not_match(cas_server, signature_algorithm):
    config = {"signature_algorithm": signature_algorithm} if signature_algorithm else {}
    client = make_cas_client(cas_server, access_key_secret="not-the-secret", **config)
    error = error_of(package_state, client)
    assert (error.status_code, error.code) == (400, "SignatureDoesNotMatch")
    assert set(error.data) == ERROR_BODY_KEYS
    assert error.data["HostId"] == "cas.aliyuncs.com"
    assert error.data["Message"].startswith("Specified signature is not matched with our calculation.")
    assert error.data["Recommend"].startswith("https://api.aliyun.com/troubleshoot?q=SignatureDoesNotMatch")
    assert error.request_id == error.data["RequestId"]


@pytest.mark.parametrize("signature_algorithm", [None, "v2"])
def test_unknown_access_key_is_not_found(cas_server, signature_algorithm):
    config = {"signature_algorithm": signature_algorithm} if signature_algorithm else {}
    client = make_cas_client(cas_server, access_key_id="LTAI5tUNKNOWN", **config)
    error = error_of(package_state, client)
    assert (error.status_code, error.code) == (404, "InvalidAccessKeyId.NotFound")
    assert error.data["Message"] == "Specified access key is not found."


def test_unmodified_replay_is_accepted_once_then_rejected_as_nonce_reuse(cas_server):
    request = signed_request()
    status, body = replay(cas_server, request)
    assert (status, body["Code"]) == (404, "NotFound")  # signature fine; order 42 does not exist
    status, body = replay(cas_server, request)
    assert (status, body["Code"]) == (400, "SignatureNonceUsed")


def test_tampered_query_parameter_is_rejected(cas_server):
    request = signed_request()
    status, body = replay(cas_server, request, target=request.target.replace("OrderId=42", "OrderId=43"))
    assert (status, body["Code"]) == (400, "SignatureDoesNotMatch")
    assert set(body) == ERROR_BODY_KEYS - {"statusCode"}


def test_tampered_signed_header_is_rejected(cas_server):
    request = signed_request()
    status, body = replay(cas_server, request, headers={"x-acs-action": "DeleteCertificateRequest"})
    assert (status, body["Code"]) == (400, "SignatureDoesNotMatch")


def test_tampered_v2_parameter_is_rejected(cas_server):
    request = signed_request(signature_algorithm="v2")
    assert "Signature=" in request.target
    status, body = replay(cas_server, request, target=request.target.replace("OrderId=42", "OrderId=43"))
    assert (status, body["Code"]) == (400, "SignatureDoesNotMatch")


def test_unsigned_request_is_incomplete_signature(cas_server):
    connection = http.client.HTTPConnection("127.0.0.1", cas_server.port, timeout=5)
    connection.request("POST", "/?OrderId=1", headers={"x-acs-action": "DescribeCertificateState"})
    response = connection.getresponse()
    body = json.loads(response.read())
    assert (response.status, body["Code"]) == (400, "IncompleteSignature")


def test_signature_without_required_signed_headers_is_incomplete(cas_server):
    request = signed_request()
    authorization = request.header("Authorization").replace("x-acs-signature-nonce;", "")
    status, body = replay(cas_server, request, headers={"Authorization": authorization})
    assert (status, body["Code"]) == (400, "IncompleteSignature")
    assert "x-acs-signature-nonce" in body["Message"]


def test_clock_skew_check_when_enabled():
    clock = Clock()
    api = CasApi({ACCESS_KEY_ID: ACCESS_KEY_SECRET}, clock=clock, max_clock_skew=900)
    with EmulatorServer(api) as server:
        client = make_cas_client(server)
        assert package_state(client).total_count == 20
        clock.advance(3600)
        error = error_of(package_state, client)
        assert error.code == "InvalidTimeStamp.Expired"


def test_action_and_version_travel_only_in_signed_headers():
    request = signed_request()
    assert (request.header("x-acs-action"), request.header("x-acs-version")) == (
        "DescribeCertificateState", "2020-04-07")
    assert "Action=" not in request.target and "x-acs-action" in request.header("Authorization")


def test_unknown_action_and_wrong_version(cas_client):
    # The SDK's generic call_api signs any action and version, as a future SDK would.
    params = open_api_models.Params(action="NoSuchAction", version="2020-04-07", protocol="HTTP", pathname="/",
                                    method="POST", auth_type="AK", style="RPC", req_body_type="formData",
                                    body_type="json")
    api_request = open_api_models.OpenApiRequest(query={})
    error = error_of(cas_client.call_api, params, api_request, RuntimeOptions())
    assert (error.status_code, error.code) == (404, "InvalidAction.NotFound")
    params.action, params.version = "DescribePackageState", "2019-01-01"
    error = error_of(cas_client.call_api, params, api_request, RuntimeOptions())
    assert (error.status_code, error.code) == (400, "InvalidVersion")


# ----- CreateCertificateForPackageRequest -----

def test_order_for_package_with_domains_gets_a_dns_challenge(cas_client):
    order_id = order_for_package(cas_client, "www.example.com,shop.example.com", validate_type="DNS")
    assert isinstance(order_id, int) and order_id > 2**53
    state = describe(cas_client, order_id)
    assert (state.type, state.validate_type, state.record_type, state.record_domain) == (
        "domain_verify", "DNS", "TXT", "_dnsauth")
    assert len(state.record_value) == 64
    assert state.uri is None and state.certificate is None


def test_order_ids_are_distinct_and_exact_beyond_float_precision(cas_client):
    first, second = order_for_package(cas_client, "a.example.com"), order_for_package(cas_client, "b.example.com")
    assert second == first + 1  # adjacent above 2**53: equal if anything went through a float
    assert describe(cas_client, second).type == "domain_verify"


def test_order_for_package_file_challenge(cas_client):
    order_id = order_for_package(cas_client, "*.files.example.com", validate_type="FILE",
                                 product_code="geotrust-dv-w-starter")
    state = describe(cas_client, order_id)
    assert (state.type, state.validate_type, state.domain, state.uri) == (
        "domain_verify", "FILE", "files.example.com", "/.well-known/pki-validation/fileauth.txt")
    assert state.content and state.record_value is None


def test_fqdn_record_domain_style(cas_client, cas_control):
    cas_control.call("POST", "cas/settings", {"record_domain_style": "fqdn"})
    order_id = order_for_package(cas_client, "*.zone.example.com")
    assert describe(cas_client, order_id).record_domain == "_dnsauth.zone.example.com"


def test_order_for_package_defaults(cas_client, cas_control):
    order_id = order_for_package(cas_client, "defaults.example.com")  # no contact, type or code
    order = cas_control.call("GET", f"cas/orders/{order_id}")
    assert order["describe"]["ValidateType"] == "DNS"
    assert package_state(cas_client, "digicert-free-1-free").used_count == 1


def test_csr_common_name_wins_over_domain(cas_client, cas_control):
    csr_pem, key = make_csr("csr.example.com", sans=["csr.example.com", "alt.example.com"])
    order_id = order_for_package(cas_client, "ignored.example.com", csr=csr_pem)
    state = issue(cas_client, cas_control, order_id)
    leaf = x509.load_pem_x509_certificate(state.certificate.encode())
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["csr.example.com", "alt.example.com"]
    assert spki(leaf.public_key()) == spki(key.public_key())
    assert state.private_key is None  # the key never left the customer


def test_ecc_csr_is_accepted(cas_client, cas_control):
    csr_pem, key = make_csr("ecc.example.com", key=make_key("EC"))
    state = issue(cas_client, cas_control, order_for_package(cas_client, None, csr=csr_pem))
    leaf = x509.load_pem_x509_certificate(state.certificate.encode())
    assert spki(leaf.public_key()) == spki(key.public_key())


@pytest.mark.parametrize("fields, code", [
    ({"domain": "a.example.com", "product_code": "nosuch-dv-1-free"}, "InvalidParameter.ProductCode"),
    ({"domain": ",".join(f"d{i}.example.com" for i in range(6))}, "InvalidParameter.Domain"),
    ({"domain": "*.example.com,www.example.com"}, "InvalidParameter.Domain"),
    ({"domain": "bad_domain!.example.com"}, "InvalidParameter.Domain"),
    ({"domain": "a.example.com,a.example.com"}, "InvalidParameter.Domain"),
    ({"domain": None}, "MissingParameter"),
    ({"domain": "a.example.com", "validate_type": "EMAIL"}, "InvalidParameter.ValidateType"),
    ({"domain": "a.example.com", "email": "not-an-address"}, "InvalidParameter.Email"),
    ({"domain": None, "csr": "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----"},
     "InvalidParameter.Csr"),
])
def test_order_for_package_input_rules(cas_client, fields, code):
    request = cas_models.CreateCertificateForPackageRequestRequest(**fields)
    error = error_of(cas_client.create_certificate_for_package_request, request)
    assert (error.status_code, error.code) == (400, code)
    assert package_state(cas_client).used_count == 0  # rejected orders use no quota


def test_five_domains_all_wildcard_are_accepted(cas_client):
    domains = ",".join(f"*.z{i}.example.com" for i in range(5))
    order_id = order_for_package(cas_client, domains, product_code="globalsign-dv-w-advanced")
    assert list_orders(cas_client).certificate_order_list[0].domain_type == "M_WILDCARD"
    assert describe(cas_client, order_id).type == "domain_verify"


@pytest.mark.parametrize("common_name, key, message", [
    ("small.example.com", make_key("RSA", 1024), "at least 2048 bits"),
    (None, None, "no CN"),
])
def test_csr_rules(cas_client, common_name, key, message):
    csr_pem, _ = make_csr(common_name, sans=["x.example.com"], key=key)
    request = cas_models.CreateCertificateForPackageRequestRequest(csr=csr_pem)
    error = error_of(cas_client.create_certificate_for_package_request, request)
    assert error.code == "InvalidParameter.Csr"
    assert message in error.data["Message"]


@pytest.mark.parametrize("tags, valid", [
    ([("env", "prod")], True),
    ([("aliyun-owned", "x")], False),
    ([("acs:thing", "x")], False),
    ([("k" * 129, "x")], False),
    ([(f"k{i}", "v") for i in range(21)], False),
])
def test_tag_rules(cas_client, tags, valid):
    request = cas_models.CreateCertificateForPackageRequestRequest(
        domain="tags.example.com",
        tags=[cas_models.CreateCertificateForPackageRequestRequestTags(key=k, value=v) for k, v in tags])
    if valid:
        assert cas_client.create_certificate_for_package_request(request).body.order_id
    else:
        assert error_of(cas_client.create_certificate_for_package_request, request).code == "InvalidParameter.Tags"


# ----- CreateCertificateWithCsrRequest and CreateCertificateRequest -----

def with_csr_request(csr_pem, **overrides):
    fields = {"csr": csr_pem, "product_code": "symantec-free-1-free", "validate_type": "DNS", **CONTACT}
    fields.update(overrides)
    return cas_models.CreateCertificateWithCsrRequestRequest(**fields)


def test_order_with_csr_binds_the_csr_common_name(cas_client, cas_control):
    csr_pem, key = make_csr("withcsr.example.com")
    order_id = cas_client.create_certificate_with_csr_request(with_csr_request(csr_pem)).body.order_id
    assert list_orders(cas_client, keyword="withcsr").certificate_order_list[0].order_id == order_id
    state = issue(cas_client, cas_control, order_id)
    leaf = x509.load_pem_x509_certificate(state.certificate.encode())
    assert leaf.subject.rfc4514_string() == "CN=withcsr.example.com"
    assert spki(leaf.public_key()) == spki(key.public_key())
    assert package_state(cas_client, "symantec-free-1-free").issued_count == 1


@pytest.mark.parametrize("overrides, code", [
    ({"product_code": "symantec-ov-1-personal"}, "InvalidParameter.ProductCode"),
    ({"username": ""}, "MissingParameter"),
    ({"phone": None}, "MissingParameter"),
    ({"email": None}, "MissingParameter"),
    ({"validate_type": None}, "MissingParameter"),
    ({"csr": None}, "MissingParameter"),
])
def test_order_with_csr_rules(cas_client, overrides, code):
    csr_pem, _ = make_csr("rules.example.com")
    error = error_of(cas_client.create_certificate_with_csr_request, with_csr_request(csr_pem, **overrides))
    assert (error.status_code, error.code) == (400, code)


def test_missing_parameter_message_names_the_parameter(cas_client):
    csr_pem, _ = make_csr("rules.example.com")
    error = error_of(cas_client.create_certificate_with_csr_request, with_csr_request(csr_pem, phone=None))
    assert error.data["Message"] == (
        'The input parameter "Phone" that is mandatory for processing this request is not supplied.')


def create_request(domain, **overrides):
    fields = {"domain": domain, "product_code": "geotrust-dv-1-starter", **CONTACT, **overrides}
    return cas_models.CreateCertificateRequestRequest(**fields)


def test_create_certificate_request_generates_the_key(cas_client, cas_control):
    order_id = cas_client.create_certificate_request(create_request("gen.example.com")).body.order_id
    state = issue(cas_client, cas_control, order_id)
    assert state.private_key.startswith("-----BEGIN RSA PRIVATE KEY-----")
    key = serialization.load_pem_private_key(state.private_key.encode(), password=None)
    leaf = x509.load_pem_x509_certificate(state.certificate.encode())
    assert spki(leaf.public_key()) == spki(key.public_key())


@pytest.mark.parametrize("domain, overrides, code", [
    ("a.example.com,b.example.com", {}, "InvalidParameter.Domain"),
    ("*.example.com", {}, "InvalidParameter.Domain"),  # wildcard name on a single-domain plan
    ("www.example.com", {"product_code": "geotrust-dv-w-starter"}, "InvalidParameter.Domain"),
    ("www.example.com", {"product_code": "geotrust-ov-1-personal"}, "InvalidParameter.ProductCode"),
    (None, {}, "MissingParameter"),
    ("www.example.com", {"username": None}, "MissingParameter"),
])
def test_create_certificate_request_rules(cas_client, domain, overrides, code):
    error = error_of(cas_client.create_certificate_request, create_request(domain, **overrides))
    assert error.code == code


def test_wildcard_domain_on_wildcard_dv_plan(cas_client):
    request = create_request("*.wild.example.com", product_code="geotrust-dv-w-starter")
    assert cas_client.create_certificate_request(request).body.order_id > 0


# ----- lifecycle via the control API -----

def test_issued_certificate_is_real_and_chains_to_the_emulator_ca(cas_client, cas_control):
    order_id = order_for_package(cas_client, "www.example.com,example.com")
    state = issue(cas_client, cas_control, order_id)
    certificates = x509.load_pem_x509_certificates(state.certificate.encode())
    leaf = certificates[0]
    root = x509.load_pem_x509_certificate(cas_control.ca_certificate_pem().encode())
    leaf.verify_directly_issued_by(root)
    assert certificates[-1] == root
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["www.example.com", "example.com"]
    lifetime = leaf.not_valid_after_utc - datetime.now(timezone.utc)
    assert timedelta(days=89) < lifetime <= timedelta(days=90)  # digicert-free-1-free: 3 months
    assert isinstance(state.cert_id, str) and int(state.cert_id) > 0


def test_lazy_validation_and_review_follow_the_emulator_clock(cas_client, cas_control):
    cas_control.call("POST", "cas/settings", {"validation_wait": 60, "review_wait": 3600})
    order_id = order_for_package(cas_client, "slow.example.com")
    cas_control.call("POST", f"cas/orders/{order_id}/publish")
    assert describe(cas_client, order_id).type == "domain_verify"
    cas_control.advance_clock(61)
    assert describe(cas_client, order_id).type == "process"
    assert list_orders(cas_client).certificate_order_list[0].status == "CHECKING"
    cas_control.advance_clock(3600)
    assert describe(cas_client, order_id).type == "certificate"
    assert list_orders(cas_client).certificate_order_list[0].status == "ISSUED"


def test_unpublished_challenge_never_validates(cas_client, cas_control):
    order_id = order_for_package(cas_client, "waiting.example.com")
    cas_control.advance_clock(30 * 86400)
    assert describe(cas_client, order_id).type == "domain_verify"


def test_control_advance_steps_and_targets(cas_client, cas_control):
    cas_control.call("POST", "cas/settings", {"review_wait": 3600})  # otherwise review ends at once
    order_id = order_for_package(cas_client, "advance.example.com")
    assert cas_control.call("POST", f"cas/orders/{order_id}/advance")["state"] == "process"
    assert describe(cas_client, order_id).type == "process"
    snapshot = cas_control.call("POST", f"cas/orders/{order_id}/advance", {"to": "certificate"})
    assert snapshot["state"] == "certificate" and snapshot["describe"]["CertId"]
    with pytest.raises(ControlAPIError) as error:
        cas_control.call("POST", f"cas/orders/{order_id}/advance")
    assert error.value.status == 400


@pytest.mark.parametrize("settings", [{"review_wait": -1}, {"record_domain_style": "dotted"}, {"colour": 1},
                                      {"order_domain_style": "sans"}, {"challenge_lag_reads": -1},
                                      {"challenge_lag_reads": 1.5}, {"free_extra_name": "yes"}])
def test_control_rejects_bad_settings(cas_control, settings):
    with pytest.raises(ControlAPIError) as error:
        cas_control.call("POST", "cas/settings", settings)
    assert error.value.status == 400
    assert cas_control.call("GET", "cas/settings")["review_wait"] == 0


def test_control_errors_for_unknown_orders(cas_control):
    with pytest.raises(ControlAPIError) as error:
        cas_control.call("POST", "cas/orders/1/publish")
    assert error.value.status == 404 and error.value.payload["code"] == "NotFound"


def test_failed_review_then_delete_returns_the_quota(cas_client, cas_control):
    order_id = order_for_package(cas_client, "fail.example.com")
    assert package_state(cas_client).used_count == 1
    assert cas_control.call("POST", f"cas/orders/{order_id}/fail")["state"] == "verify_fail"
    assert describe(cas_client, order_id).type == "verify_fail"
    assert list_orders(cas_client).certificate_order_list[0].status == "CHECKED_FAIL"
    cas_client.delete_certificate_request(cas_models.DeleteCertificateRequestRequest(order_id=order_id))
    assert package_state(cas_client).used_count == 0
    error = error_of(describe, cas_client, order_id)
    assert (error.status_code, error.code) == (404, "NotFound")


def test_cancel_order_goes_back_to_payed_keeping_the_quota_until_deleted(cas_client, cas_control):
    order_id = order_for_package(cas_client, "cancel.example.com")
    cas_client.cancel_order_request(cas_models.CancelOrderRequestRequest(order_id=order_id))
    assert describe(cas_client, order_id).type == "payed"
    assert list_orders(cas_client, status="PAYED").total_count == 1
    assert package_state(cas_client).used_count == 1
    error = error_of(cas_client.cancel_order_request, cas_models.CancelOrderRequestRequest(order_id=order_id))
    assert error.code == "OperationDenied.StatusNotSupport"
    cas_client.delete_certificate_request(cas_models.DeleteCertificateRequestRequest(order_id=order_id))
    assert package_state(cas_client).used_count == 0


def test_payed_order_can_be_applied_for_again_with_a_new_challenge(cas_client, cas_control):
    order_id = order_for_package(cas_client, "again.example.com")
    first_token = describe(cas_client, order_id).record_value
    cas_client.cancel_order_request(cas_models.CancelOrderRequestRequest(order_id=order_id))
    cas_control.call("POST", f"cas/orders/{order_id}/advance")  # the console "apply" step
    state = describe(cas_client, order_id)
    assert state.type == "domain_verify" and state.record_value != first_token


def test_delete_is_refused_while_validating_or_issued(cas_client, cas_control):
    order_id = order_for_package(cas_client, "busy.example.com")
    request = cas_models.DeleteCertificateRequestRequest(order_id=order_id)
    assert error_of(cas_client.delete_certificate_request, request).code == "OperationDenied.StatusNotSupport"
    issue(cas_client, cas_control, order_id)
    assert error_of(cas_client.delete_certificate_request, request).code == "OperationDenied.StatusNotSupport"
    assert package_state(cas_client).used_count == 1


def test_unknown_order_is_not_found(cas_client):
    error = error_of(describe, cas_client, 123)
    assert (error.status_code, error.code) == (404, "NotFound")
    assert set(error.data) == ERROR_BODY_KEYS


def test_revoke_within_30_days_returns_the_quota(cas_client, cas_control):
    order_id = order_for_package(cas_client, "revoke.example.com")
    state = issue(cas_client, cas_control, order_id)
    request = cas_models.CancelCertificateForPackageRequestRequest(order_id=order_id)
    cas_client.cancel_certificate_for_package_request(request)
    assert package_state(cas_client).used_count == 0
    assert describe(cas_client, order_id).type == "unknow"
    assert list_orders(cas_client, status="REVOKED").certificate_order_list[0].order_id == order_id
    assert list_orders(cas_client, order_type="CERT").total_count == 0  # no longer a valid certificate
    detail = cas_client.get_user_certificate_detail(
        cas_models.GetUserCertificateDetailRequest(cert_id=int(state.cert_id))).body
    assert detail.id == int(state.cert_id)
    assert error_of(cas_client.cancel_certificate_for_package_request, request).code == \
        "OperationDenied.StatusNotSupport"


def test_revoke_after_30_days_keeps_the_quota_used(cas_client, cas_control):
    order_id = order_for_package(cas_client, "late.example.com")
    issue(cas_client, cas_control, order_id)
    cas_control.advance_clock(31 * 86400)
    cas_client.cancel_certificate_for_package_request(
        cas_models.CancelCertificateForPackageRequestRequest(order_id=order_id))
    assert package_state(cas_client).used_count == 1


def test_revoke_is_refused_before_issuance(cas_client):
    order_id = order_for_package(cas_client, "early.example.com")
    request = cas_models.CancelCertificateForPackageRequestRequest(order_id=order_id)
    assert error_of(cas_client.cancel_certificate_for_package_request, request).code == \
        "OperationDenied.StatusNotSupport"


def test_renew_only_when_about_to_expire_and_creates_a_payed_order(cas_client, cas_control):
    order_id = order_for_package(cas_client, "renew.example.com")
    issue(cas_client, cas_control, order_id)
    renew = cas_models.RenewCertificateOrderForPackageRequestRequest(order_id=order_id)
    assert error_of(cas_client.renew_certificate_order_for_package_request, renew).code == \
        "OperationDenied.StatusNotSupport"
    cas_control.advance_clock(65 * 86400)  # 90-day certificate, 30-day warning window
    assert list_orders(cas_client, keyword="renew").certificate_order_list[0].status == "WILLEXPIRED"
    csr_pem, key = make_csr("renew.example.com")
    renew.csr = csr_pem
    new_order_id = cas_client.renew_certificate_order_for_package_request(renew).body.order_id
    assert new_order_id != order_id
    assert describe(cas_client, new_order_id).type == "payed"
    assert package_state(cas_client).used_count == 2
    cas_control.call("POST", f"cas/orders/{new_order_id}/advance")
    state = issue(cas_client, cas_control, new_order_id)
    leaf = x509.load_pem_x509_certificate(state.certificate.encode())
    assert spki(leaf.public_key()) == spki(key.public_key())


def test_renew_of_expired_certificate_is_refused(cas_client, cas_control):
    order_id = order_for_package(cas_client, "expired.example.com")
    issue(cas_client, cas_control, order_id)
    cas_control.advance_clock(91 * 86400)
    assert list_orders(cas_client).certificate_order_list[0].status == "EXPIRED"
    renew = cas_models.RenewCertificateOrderForPackageRequestRequest(order_id=order_id)
    assert error_of(cas_client.renew_certificate_order_for_package_request, renew).code == \
        "OperationDenied.StatusNotSupport"


# ----- packages and quota -----

def test_quota_consumed_on_submission_and_counted_at_issuance(cas_client, cas_control):
    first = order_for_package(cas_client, "q1.example.com")
    order_for_package(cas_client, "q2.example.com")
    issue(cas_client, cas_control, first)
    state = package_state(cas_client)
    assert (state.product_code, state.total_count, state.used_count, state.issued_count) == (
        "digicert-free-1-free", 20, 2, 1)
    assert isinstance(state.total_count, int) and isinstance(state.used_count, int)


def test_exhausted_plan_is_not_remain_count(cas_client, cas_control):
    cas_control.call("POST", "cas/packages", {"product_code": "geotrust-dv-1-starter", "total_count": 1})
    order_for_package(cas_client, "one.example.com", product_code="geotrust-dv-1-starter")
    request = cas_models.CreateCertificateForPackageRequestRequest(domain="two.example.com",
                                                                   product_code="geotrust-dv-1-starter")
    error = error_of(cas_client.create_certificate_for_package_request, request)
    assert (error.status_code, error.code) == (404, "NotRemainCount")


def test_missing_plan_is_not_found_package(cas_client, cas_control):
    cas_control.call("POST", "cas/packages", {"product_code": "cfca-ov-1-personal", "total_count": None})
    error = error_of(package_state, cas_client, "cfca-ov-1-personal")
    assert (error.status_code, error.code) == (404, "NotFoundPackage")
    request = cas_models.CreateCertificateForPackageRequestRequest(domain="ov.example.com",
                                                                   product_code="cfca-ov-1-personal")
    assert error_of(cas_client.create_certificate_for_package_request, request).code == "NotFoundPackage"


def test_package_state_for_unknown_product_code(cas_client):
    assert error_of(package_state, cas_client, "nosuch").code == "InvalidParameter.ProductCode"


# ----- ListUserCertificateOrder -----

def test_list_orders_finds_an_earlier_order_by_domain_keyword(cas_client):
    mine = order_for_package(cas_client, "blog.certfleet-test.example.cn")
    order_for_package(cas_client, "other.example.com")
    page = list_orders(cas_client, keyword="blog.certfleet-test.example.cn", order_type="CPACK")
    assert [o.order_id for o in page.certificate_order_list] == [mine]
    item = page.certificate_order_list[0]
    assert (item.domain, item.product_code, item.status, item.source_type) == (
        "blog.certfleet-test.example.cn", "digicert-free-1-free", "CHECKING", "cpack")
    assert isinstance(item.buy_date, int) and isinstance(item.domain_count, int)
    by_instance = list_orders(cas_client, keyword=item.instance_id)
    assert [o.order_id for o in by_instance.certificate_order_list] == [mine]


def test_list_orders_paging_and_defaults(cas_client):
    order_ids = [order_for_package(cas_client, f"p{i}.example.com") for i in range(5)]
    page = list_orders(cas_client)
    assert (page.current_page, page.show_size, page.total_count) == (1, 50, 5)
    assert [o.order_id for o in page.certificate_order_list] == order_ids[::-1]  # newest first
    page = list_orders(cas_client, current_page=2, show_size=2)
    assert [o.order_id for o in page.certificate_order_list] == order_ids[::-1][2:4]
    assert page.total_count == 5
    assert list_orders(cas_client, order_type="BUY").total_count == 0


def test_list_orders_answers_a_page_larger_than_the_default(cas_client, cas_control):
    # No maximum is documented for ShowSize: the emulator answers what is asked (certfleet asks 50).
    cas_control.call("POST", "cas/packages", {"product_code": "digicert-free-1-free", "total_count": 60})
    order_ids = [order_for_package(cas_client, f"big{i}.example.com") for i in range(51)]
    page = list_orders(cas_client, show_size=100)
    assert (page.show_size, page.total_count, len(page.certificate_order_list)) == (100, 51, 51)
    assert len(list_orders(cas_client).certificate_order_list) == 50
    assert {o.order_id for o in page.certificate_order_list} == set(order_ids)


def test_listed_domain_is_the_primary_name_by_default(cas_client, cas_control):
    multi = order_for_package(cas_client, "www.example.com,shop.example.com")
    csr_pem, _key = make_csr("csr.example.com", sans=["alt.example.com"])
    with_csr = order_for_package(cas_client, None, csr=csr_pem)
    items = {o.order_id: o for o in list_orders(cas_client).certificate_order_list}
    assert (items[multi].domain, items[multi].domain_count, items[multi].domain_type) == (
        "www.example.com", 2, "MULTIPLE")
    assert (items[with_csr].domain, items[with_csr].domain_count) == ("csr.example.com", 2)  # the CSR's CN
    # Keyword still finds an order by any of its names (a substring of a domain, as documented).
    assert [o.order_id for o in list_orders(cas_client, keyword="shop.example").certificate_order_list] == [multi]
    assert cas_control.call("GET", "cas/settings")["order_domain_style"] == "primary"


def test_all_order_domain_style_lists_every_name_cn_first(cas_client, cas_control):
    cas_control.call("POST", "cas/settings", {"order_domain_style": "all"})
    multi = order_for_package(cas_client, "www.example.com,shop.example.com")
    csr_pem, _key = make_csr("csr.example.com", sans=["alt.example.com", "csr.example.com"])
    with_csr = order_for_package(cas_client, "ignored.example.com", csr=csr_pem)
    items = {o.order_id: o for o in list_orders(cas_client).certificate_order_list}
    assert items[multi].domain == "www.example.com,shop.example.com"
    assert items[with_csr].domain == "csr.example.com,alt.example.com"


@pytest.mark.parametrize("validate_type, fields", [("DNS", ("record_type", "record_domain", "record_value")),
                                                    ("FILE", ("domain", "uri", "content"))])
def test_challenge_lag_reads_show_empty_record_fields_first(cas_client, cas_control, validate_type, fields):
    cas_control.call("POST", "cas/settings", {"challenge_lag_reads": 2})
    order_id = order_for_package(cas_client, "lag.example.com", validate_type=validate_type)
    for _ in range(2):
        state = describe(cas_client, order_id)
        assert (state.type, state.validate_type) == ("domain_verify", validate_type)
        assert [getattr(state, f) for f in fields] == ["", "", ""]
    state = describe(cas_client, order_id)
    assert all(getattr(state, f) for f in fields)
    # The control API's view does not count as a read, and the challenge stays once shown.
    assert cas_control.call("GET", f"cas/orders/{order_id}")["describe"]
    assert describe(cas_client, order_id).content or describe(cas_client, order_id).record_value


@pytest.mark.parametrize("names, extra", [("free.example.com", ["www.free.example.com"]),
                                          ("www.free.example.com", ["free.example.com"]),
                                          ("free.example.com,www.free.example.com", []),
                                          ("free.example.com|symantec-ov-1-personal", [])])
def test_free_extra_name_adds_a_name_to_a_one_name_dv_certificate(cas_client, cas_control, names, extra):
    """As CAS reportedly does for free DV certificates; the order (list, DomainCount) keeps its own names."""
    assert cas_control.call("GET", "cas/settings")["free_extra_name"] is False
    cas_control.call("POST", "cas/settings", {"free_extra_name": True})
    names, _, plan = names.partition("|")
    order_id = order_for_package(cas_client, names, product_code=plan or "symantec-dv-1-starter")
    certificate = x509.load_pem_x509_certificate(issue(cas_client, cas_control, order_id).certificate.encode())
    sans = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == names.split(",") + extra
    assert certificate.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == names.split(",")[0]
    listed = next(o for o in list_orders(cas_client).certificate_order_list if o.order_id == order_id)
    assert (listed.domain, listed.domain_count) == (names.split(",")[0], len(names.split(",")))


def test_list_orders_rejects_an_unknown_order_type(cas_client):
    error = error_of(lambda: list_orders(cas_client, order_type="EVERYTHING"))
    assert error.code == "InvalidParameter.OrderType"


def test_list_cert_and_upload_types(cas_client, cas_control, uploaded):
    order_id = order_for_package(cas_client, "issued.example.com")
    state = issue(cas_client, cas_control, order_id)
    certificates = list_orders(cas_client, order_type="CERT").certificate_order_list
    assert {c.certificate_id for c in certificates} == {int(state.cert_id), uploaded}
    issued_item = next(c for c in certificates if c.certificate_id == int(state.cert_id))
    assert (issued_item.common_name, issued_item.upload, issued_item.expired) == ("issued.example.com", False, False)
    assert issued_item.issuer == "certfleet emulator root CA"
    uploads = list_orders(cas_client, order_type="UPLOAD").certificate_order_list
    assert [c.certificate_id for c in uploads] == [uploaded]
    cas_control.advance_clock(400 * 86400)  # both expired: hidden unless asked for
    assert list_orders(cas_client, order_type="CERT").total_count == 0
    assert list_orders(cas_client, order_type="CERT", status="EXPIRED").total_count == 2


# ----- uploaded certificates -----

@pytest.fixture
def upload_material():
    ca = EmulatorCA(Clock(), common_name="Some Other CA")
    key_pem, csr_pem = generate_key_and_csr(["upload.example.com", "www.upload.example.com"])
    issued = ca.issue(csr_pem, ["upload.example.com", "www.upload.example.com"],
                      not_after=datetime.now(timezone.utc) + timedelta(days=365))
    return issued.certificate_pem + issued.chain_pem, key_pem


def upload(client, material, name="uploaded-cert", **fields):
    certificate_pem, key_pem = material
    request = cas_models.UploadUserCertificateRequest(name=name, cert=certificate_pem, key=key_pem, **fields)
    return client.upload_user_certificate(request).body


@pytest.fixture
def uploaded(cas_client, upload_material):
    return upload(cas_client, upload_material).cert_id


def test_upload_and_get_detail(cas_client, upload_material):
    body = upload(cas_client, upload_material, resource_group_id="rg-1",
                  tags=[cas_models.UploadUserCertificateRequestTags(key="owner", value="certfleet")])
    assert isinstance(body.cert_id, int) and body.resource_id.startswith("cas-upload-")
    detail = cas_client.get_user_certificate_detail(
        cas_models.GetUserCertificateDetailRequest(cert_id=body.cert_id)).body
    assert (detail.id, detail.name, detail.common, detail.sans) == (
        body.cert_id, "uploaded-cert", "upload.example.com", "upload.example.com,www.upload.example.com")
    assert detail.cert == upload_material[0] and detail.key == upload_material[1]
    assert detail.cert_identifier == f"{body.cert_id}-cn-hangzhou"
    assert (detail.issuer, detail.algorithm, detail.buy_in_aliyun, detail.expired) == (
        "Some Other CA", "RSA", False, False)
    assert isinstance(detail.not_after, int) and isinstance(detail.not_before, int)
    assert detail.end_date == datetime.fromtimestamp(detail.not_after / 1000, timezone.utc).strftime("%Y-%m-%d")
    assert [c.common_name for c in detail.cert_chain] == ["upload.example.com", "Some Other CA"]
    assert [(t.tag_key, t.tag_value) for t in detail.tags] == [("owner", "certfleet")]
    assert detail.resource_group_id == "rg-1"
    assert list_orders(cas_client, order_type="UPLOAD", resource_group_id="rg-2").total_count == 0


def test_upload_with_a_long_query_string(cas_client):
    # A long chain puts a request line far beyond 12 KB (http.server's stock limit is 64 KiB).
    key_pem, csr_pem = generate_key_and_csr(["big.example.com"])
    ca = EmulatorCA(Clock())
    issued = ca.issue(csr_pem, ["big.example.com"], not_after=datetime.now(timezone.utc) + timedelta(days=30))
    chain = issued.certificate_pem + "".join(EmulatorCA(Clock(), f"CA {i}").certificate_pem for i in range(130))
    assert len(chain) > 65_536
    body = upload(cas_client, (chain, key_pem), name="big")
    detail = cas_client.get_user_certificate_detail(cas_models.GetUserCertificateDetailRequest(cert_id=body.cert_id))
    assert detail.body.cert == chain


def test_cert_filter_hides_pem_content(cas_client, uploaded):
    detail = cas_client.get_user_certificate_detail(
        cas_models.GetUserCertificateDetailRequest(cert_id=uploaded, cert_filter=True)).body
    assert detail.cert is None and detail.key is None and detail.common == "upload.example.com"


def test_upload_rules(cas_client, upload_material, uploaded):
    assert error_of(upload, cas_client, upload_material).code == "InvalidParameter.NameExists"
    assert error_of(upload, cas_client, upload_material).data["Message"] == "The certificate name already exists."
    assert error_of(upload, cas_client, upload_material, "n" * 64).code == "InvalidParameter.Name"
    assert error_of(upload, cas_client, upload_material, "").code == "MissingParameter"
    other_key, _ = generate_key_and_csr(["upload.example.com"])
    assert error_of(upload, cas_client, (upload_material[0], other_key), "x").code == "InvalidParameter.Key"
    assert error_of(upload, cas_client, ("garbage", upload_material[1]), "y").code == "InvalidParameter.Cert"


def test_upload_client_token_is_idempotent(cas_client, upload_material):
    first = upload(cas_client, upload_material, name="tokened", client_token="token-1")
    again = upload(cas_client, upload_material, name="tokened", client_token="token-1")
    assert first.cert_id == again.cert_id
    assert list_orders(cas_client, order_type="UPLOAD").total_count == 1


def test_delete_user_certificate(cas_client, cas_control, uploaded):
    cas_client.delete_user_certificate(cas_models.DeleteUserCertificateRequest(cert_id=uploaded))
    request = cas_models.GetUserCertificateDetailRequest(cert_id=uploaded)
    error = error_of(cas_client.get_user_certificate_detail, request)
    assert (error.status_code, error.code) == (404, "NotFound")
    delete_again = cas_models.DeleteUserCertificateRequest(cert_id=uploaded)
    assert error_of(cas_client.delete_user_certificate, delete_again).code == "NotFound"


def test_delete_user_certificate_refuses_a_valid_issued_certificate(cas_client, cas_control):
    state = issue(cas_client, cas_control, order_for_package(cas_client, "keep.example.com"))
    request = cas_models.DeleteUserCertificateRequest(cert_id=int(state.cert_id))
    assert error_of(cas_client.delete_user_certificate, request).code == "OperationDenied.StatusNotSupport"
    cas_control.advance_clock(91 * 86400)
    cas_client.delete_user_certificate(request)
    assert list_orders(cas_client, order_type="CERT", status="EXPIRED").total_count == 0


def test_issued_certificate_detail_links_the_order(cas_client, cas_control):
    order_id = order_for_package(cas_client, "linked.example.com")
    state = issue(cas_client, cas_control, order_id)
    detail = cas_client.get_user_certificate_detail(
        cas_models.GetUserCertificateDetailRequest(cert_id=int(state.cert_id))).body
    assert (detail.order_id, detail.buy_in_aliyun, detail.cert) == (order_id, True, state.certificate)
    assert detail.key == state.private_key


# ----- fault injection -----

def test_throttling_with_retry_after(cas_client, cas_control):
    cas_control.add_fault("DescribePackageState", status=400, code="Throttling.User", retry_after=0.25)
    error = error_of(package_state, cas_client, expected=ThrottlingException)
    assert (error.status_code, error.code, error.retry_after) == (400, "Throttling.User", 250)
    assert set(error.data) == ERROR_BODY_KEYS
    assert package_state(cas_client).total_count == 20  # one time only


def test_throttling_without_retry_after_is_a_client_error(cas_client, cas_control):
    cas_control.add_fault("DescribePackageState", status=429)
    error = error_of(package_state, cas_client)
    assert not isinstance(error, ThrottlingException)
    assert (error.status_code, error.code) == (429, "Throttling.User")


@pytest.mark.parametrize("status, code", [(500, "InternalError"), (503, "ServiceUnavailable")])
def test_server_errors(cas_client, cas_control, status, code):
    cas_control.add_fault("CreateCertificateForPackageRequest", status=status, times=2)
    for _ in range(2):
        error = error_of(order_for_package, cas_client, "flaky.example.com", expected=ServerException)
        assert (error.status_code, error.code) == (status, code)
    assert list_orders(cas_client).total_count == 0  # failed calls placed nothing
    assert order_for_package(cas_client, "flaky.example.com") > 0


def test_lost_response_after_the_order_was_placed(cas_client, cas_control):
    cas_control.add_fault("CreateCertificateForPackageRequest", drop_response=True)
    with pytest.raises(UnretryableException):
        order_for_package(cas_client, "lost.example.com")
    # The order exists: a careful client finds it instead of buying again.
    found = list_orders(cas_client, keyword="lost.example.com").certificate_order_list
    assert len(found) == 1 and found[0].status == "CHECKING"
    assert package_state(cas_client).used_count == 1


def test_malformed_body_is_unretryable(cas_client, cas_control):
    cas_control.add_fault("DescribePackageState", status=502, malformed_body=True)
    with pytest.raises(UnretryableException):
        package_state(cas_client)


# ----- persistence and standalone run -----

def test_state_survives_a_restart(tmp_path):
    state_file = tmp_path / "cas.json"
    with EmulatorServer(CasApi({ACCESS_KEY_ID: ACCESS_KEY_SECRET}), state_file=state_file) as first:
        client, control = make_cas_client(first), ControlClient(first.url)
        issued_order = order_for_package(client, "persist.example.com")
        state = issue(client, control, issued_order)
        pending_order = order_for_package(client, "pending.example.com", validate_type="FILE")
        challenge = describe(client, pending_order).content
    with EmulatorServer(CasApi({ACCESS_KEY_ID: ACCESS_KEY_SECRET}), state_file=state_file) as second:
        client, control = make_cas_client(second), ControlClient(second.url)
        assert describe(client, issued_order).certificate == state.certificate
        assert describe(client, pending_order).content == challenge
        assert package_state(client).used_count == 2
        root = x509.load_pem_x509_certificate(control.ca_certificate_pem().encode())
        x509.load_pem_x509_certificate(state.certificate.encode()).verify_directly_issued_by(root)
        issue(client, control, pending_order)
        assert order_for_package(client, "next.example.com") == pending_order + 1


def test_standalone_command(tmp_path):
    url_file = tmp_path / "url"
    environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "EMU_CAS_ACCESS_KEY_ID": ACCESS_KEY_ID,
                   "EMU_CAS_ACCESS_KEY_SECRET": ACCESS_KEY_SECRET, "EMU_CAS_ORDER_DOMAIN_STYLE": "all"}
    process = subprocess.Popen(
        [sys.executable, "-m", "emulators.cas", "--port", "0", "--state", str(tmp_path / "state.json"),
         "--url-file", str(url_file), "--quiet", "--challenge-lag-reads", "3"],
        stdout=subprocess.PIPE, text=True, env=environment, cwd=tmp_path,
    )
    try:
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        assert url_file.read_text().strip() == url
        assert ControlClient(url).health()["api"] == "cas"
        settings = ControlClient(url).call("GET", "cas/settings")
        assert (settings["order_domain_style"], settings["challenge_lag_reads"]) == ("all", 3)

        class Endpoint:
            endpoint = url.removeprefix("http://")

        client = make_cas_client(Endpoint)
        order_for_package(client, "standalone.example.com")
        assert (tmp_path / "state.json").exists()
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0


def test_list_lag_keeps_a_new_order_out_of_the_list_for_a_while(cas_client, cas_control):
    cas_control.call("POST", "cas/settings", {"list_lag": 30})
    order_id = order_for_package(cas_client, product_code="digicert-free-1-free", username="Tom",
                                 phone="13000000000", email="pki@example.com")
    assert (list_orders(cas_client, order_type="CPACK").certificate_order_list or []) == []
    cas_control.advance_clock(31)
    assert [o.order_id for o in list_orders(cas_client, order_type="CPACK").certificate_order_list] == [order_id]


# ----- accounts: every access key sees only what it placed -----

OTHER_KEY_ID, OTHER_KEY_SECRET = "LTAI5tEMULATORTEST02", "other-account-secret"


@pytest.fixture
def two_accounts():
    with EmulatorServer(CasApi({ACCESS_KEY_ID: ACCESS_KEY_SECRET, OTHER_KEY_ID: OTHER_KEY_SECRET})) as server:
        yield (server, make_cas_client(server), make_cas_client(server, OTHER_KEY_ID, OTHER_KEY_SECRET),
               ControlClient(server.url))


@pytest.mark.parametrize("signature_algorithm", [None, "v2"])
def test_another_access_key_does_not_see_an_accounts_orders(two_accounts, signature_algorithm):
    server, owner, _, control = two_accounts
    config = {"signature_algorithm": signature_algorithm} if signature_algorithm else {}
    other = make_cas_client(server, OTHER_KEY_ID, OTHER_KEY_SECRET, **config)
    issued_order = order_for_package(owner, "accounts.example.com")
    cert_id = int(issue(owner, control, issued_order).cert_id)
    pending_order = order_for_package(owner, "accounts.example.com")
    for order_id in (issued_order, pending_order):
        assert (error_of(describe, other, order_id).status_code, error_of(describe, other, order_id).code) == (
            404, "NotFound")
    request = cas_models.CancelOrderRequestRequest(order_id=pending_order)
    assert error_of(other.cancel_order_request, request).code == "NotFound"
    revoke = cas_models.CancelCertificateForPackageRequestRequest(order_id=issued_order)
    assert error_of(other.cancel_certificate_for_package_request, revoke).code == "NotFound"
    detail = cas_models.GetUserCertificateDetailRequest(cert_id=cert_id)
    assert error_of(other.get_user_certificate_detail, detail).code == "NotFound"
    assert (list_orders(other, keyword="accounts.example.com").certificate_order_list or []) == []
    assert (list_orders(other, order_type="CERT").certificate_order_list or []) == []
    # The owner still sees both, untouched, and so does the control API.
    assert describe(owner, pending_order).type == "domain_verify"
    assert [o.order_id for o in list_orders(owner, keyword="accounts.example.com").certificate_order_list] == [
        pending_order, issued_order]
    assert control.call("GET", f"cas/orders/{issued_order}")["status"] == "ISSUED"


def test_each_access_key_places_and_lists_its_own_orders(two_accounts):
    _, owner, other, _ = two_accounts
    mine = order_for_package(owner, "accounts.example.com")
    theirs = order_for_package(other, "accounts.example.com")
    assert [o.order_id for o in list_orders(owner).certificate_order_list] == [mine]
    assert [o.order_id for o in list_orders(other).certificate_order_list] == [theirs]
    assert describe(other, theirs).type == "domain_verify"


def test_uploaded_certificate_names_are_unique_per_access_key(two_accounts, upload_material):
    _, owner, other, _ = two_accounts
    first = upload(owner, upload_material, name="same-name").cert_id
    second = upload(other, upload_material, name="same-name").cert_id
    assert first != second
    assert [c.certificate_id for c in list_orders(other, order_type="UPLOAD").certificate_order_list] == [second]


def test_orders_in_a_state_file_from_before_accounts_are_seen_by_every_key(tmp_path):
    state_file = tmp_path / "cas.json"
    with EmulatorServer(CasApi({ACCESS_KEY_ID: ACCESS_KEY_SECRET}), state_file=state_file) as first:
        order_id = order_for_package(make_cas_client(first), "legacy.example.com")
    state = json.loads(state_file.read_text())
    for order in state["backend"]["orders"]:
        del order["owner"]
    state_file.write_text(json.dumps(state))
    with EmulatorServer(CasApi({ACCESS_KEY_ID: ACCESS_KEY_SECRET, OTHER_KEY_ID: OTHER_KEY_SECRET}),
                        state_file=state_file) as second:
        assert describe(make_cas_client(second, OTHER_KEY_ID, OTHER_KEY_SECRET), order_id).type == "domain_verify"
        assert describe(make_cas_client(second), order_id).type == "domain_verify"
