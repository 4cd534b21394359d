"""The SCM emulator, driven by the official ``huaweicloudsdkscm`` SDK over HTTP (never mocked).

Sections follow the API: signatures, buy (seed 002), v2 purchase (seed 003), apply, the application
lifecycle, issuance, list, export, cancel, unsubscribe, delete, import, tags and "look before you buy",
faults (429 quirk, lost responses), persistence and the standalone command.
"""

import datetime
import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

# First: the fixture module keeps the SDK's import-time write out of the real HOME.
from tests.emulators.conftest_scm import SCM_AK, SCM_AUTH_TOKEN, SCM_PROJECT_ID, SCM_SK, WireLog, \
    make_scm_client, new_scm_api

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from huaweicloudsdkcore.auth.credentials import GlobalCredentials
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException, ConnectionException, \
    ServerResponseException
from huaweicloudsdkcore.retry.backoff_strategy import BackoffStrategies
from huaweicloudsdkscm.v3 import ScmClient
from huaweicloudsdkscm.v3 import model as scm
from huaweicloudsdkscm.v3.region.scm_region import ScmRegion

from emulators.core import EmulatorServer
from emulators.core.testing import ControlAPIError, ControlClient


REPO_ROOT = Path(__file__).resolve().parents[2]
SDK_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
LOOKUP_TAG = "certfleet-resource"  # the tag certfleet writes at purchase time to find it again


# --- builders --------------------------------------------------------------------------------------

def buy_body(**overrides) -> scm.PurchaseCertificateRequestBody:
    """A valid v3 buy; override a field with None to leave it out (the SDK drops None fields)."""
    fields = dict(cert_brand="GEOTRUST", cert_type="DV_SSL_CERT", domain_type="SINGLE_DOMAIN",
                  effective_time=1, domain_numbers=1, order_number=1, agree_privacy_protection=True)
    fields.update(overrides)
    return scm.PurchaseCertificateRequestBody(**fields)


def buy(client, **overrides) -> scm.SubscribeCertificateResponse:
    return client.subscribe_certificate(scm.SubscribeCertificateRequest(body=buy_body(**overrides)))


def buy_one(client, **overrides) -> str:
    return buy(client, **overrides).cert[0].cert_id


def apply_body(**overrides) -> scm.ApplyCertificateRequestBody:
    fields = dict(domain="api.example.com", applicant_name="Zhang_San", applicant_phone="13212345678",
                  applicant_email="pki@example.com", domain_method="DNS", agree_privacy_protection=True)
    fields.update(overrides)
    return scm.ApplyCertificateRequestBody(**fields)


OV_COMPANY = dict(company_name="Example Ltd", company_province="Guangdong", company_city="Shenzhen",
                  country="CN")


def apply(client, certificate_id: str, **overrides) -> scm.ApplyCertificateResponse:
    return client.apply_certificate(scm.ApplyCertificateRequest(certificate_id=certificate_id,
                                                                body=apply_body(**overrides)))


def show(client, certificate_id: str) -> scm.ShowCertificateResponse:
    return client.show_certificate(scm.ShowCertificateRequest(certificate_id=certificate_id))


def export(client, certificate_id: str) -> scm.ExportCertificateResponse:
    return client.export_certificate(scm.ExportCertificateRequest(certificate_id=certificate_id))


def list_certificates(client, **query) -> scm.ListCertificatesResponse:
    return client.list_certificates(scm.ListCertificatesRequest(**query))


def find_by_tags(client, **body) -> scm.ListCertificatesByTagResponse:
    body.setdefault("action", "filter")
    return client.list_certificates_by_tag(scm.ListCertificatesByTagRequest(
        resource_instances="resource_instances", body=scm.ListCertificatesByTagRequestBody(**body)))


def purchase_v2(client, body, project_id: str = SCM_PROJECT_ID):
    """The legacy v2 purchase: not in the SDK, sent with the SDK's generic, signed ``call_api``."""
    return client.call_api("/v2/{project_id}/scm/cert/purchase", "POST", path_params={"project_id": project_id},
                           header_params={"X-Auth-Token": SCM_AUTH_TOKEN, "Content-Type": "application/json"},
                           body=body, response_type="SubscribeCertificateResponse")


def v2_body(**overrides) -> dict:
    body = dict(cert_brand="GLOBALSIGN", cert_type="OV_SSL_CERT", domain_type="MULTI_DOMAIN",
                effective_time=1, domain_numbers=5, order_number=1, agree_privacy_protection=True)
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not None}


def issue(client, control: ControlClient, **apply_overrides) -> str:
    """Buy (matching the names), apply, publish the challenge; returns the issued certificate id."""
    names = [apply_overrides.get("domain", "api.example.com")]
    names += [n for n in (apply_overrides.get("sans") or "").split(";") if n]
    buy_fields = {"domain_type": "MULTI_DOMAIN", "domain_numbers": len(names)} if len(names) > 1 else {}
    certificate_id = buy_one(client, **buy_fields)
    apply(client, certificate_id, **apply_overrides)
    control.call("POST", f"scm/certificates/{certificate_id}/publish")
    return certificate_id


def expect_error(call, status: int, code: str, message_part: str = "", exception=ClientRequestException):
    with pytest.raises(exception) as caught:
        call()
    error = caught.value
    assert (error.status_code, error.error_code) == (status, code), error
    assert message_part in error.error_msg
    return error


def expect_invalid(call, message_part: str = ""):
    return expect_error(call, 400, "SCM.0005", message_part)


def expect_purchase_rule(client, purchase, accepted: bool, field: str, attribute: str, expected):
    """Accepted: the purchased certificate shows ``attribute == expected``; else 400 naming ``field``."""
    if accepted:
        assert getattr(show(client, purchase().cert[0].cert_id), attribute) == expected
    else:
        expect_invalid(purchase, field)


def rsa_key_and_csr(names: list[str]):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    csr = x509.CertificateSigningRequestBuilder() \
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])) \
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False) \
        .sign(key, hashes.SHA256())
    return key, csr.public_bytes(serialization.Encoding.PEM).decode()


def self_signed(names: list[str], key=None, issuer_key=None, issuer_name=None):
    key = key or ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = x509.CertificateBuilder().subject_name(subject).issuer_name(issuer_name or subject) \
        .public_key(key.public_key()).serial_number(x509.random_serial_number()) \
        .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=90)) \
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False) \
        .sign(issuer_key or key, hashes.SHA256())
    return key, certificate.public_bytes(serialization.Encoding.PEM).decode()


def key_pem(key) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def remove_header(name: str):
    def hook(request):
        for key in [k for k in request.header_params if k.lower() == name.lower()]:
            del request.header_params[key]
    return hook


# --- signatures and authentication ---------------------------------------------------------------

def test_signed_request_is_answered_with_a_request_id(scm_client, scm_wire):
    response = list_certificates(scm_client, limit=10)
    assert response.status_code == 200 and response.total_count == 0
    assert len(scm_wire.last_response.headers["X-Request-Id"]) == 32


def test_builder_with_endpoints_list_works_too(scm_emulator):
    client = ScmClient.new_builder().with_credentials(GlobalCredentials(SCM_AK, SCM_SK, "d0m41n1d")) \
        .with_endpoints([scm_emulator.url]).build()
    assert list_certificates(client).total_count == 0


def test_wrong_secret_key_gets_the_gateways_401(scm_emulator):
    wire = WireLog()
    client = make_scm_client(scm_emulator.url, sk="not-the-secret", wire_log=wire)
    error = expect_error(lambda: buy(client), 401, "APIGW.0301", "verify aksk signature fail")
    body = wire.last_response.json()
    assert set(body) == {"error_code", "error_msg", "request_id"}
    assert error.request_id == body["request_id"] == wire.last_response.headers["X-Request-Id"]


def test_unknown_access_key_is_named_in_the_401(scm_emulator):
    client = make_scm_client(scm_emulator.url, ak="NOSUCHAK")
    expect_error(lambda: list_certificates(client), 401, "APIGW.0301", "ak:NOSUCHAK,err:ak not exist")


@pytest.mark.parametrize("minutes_off", [-16, 16])
def test_sdk_date_more_than_15_minutes_off_is_rejected(scm_client, minutes_off):
    stale = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=minutes_off)
    invoker = scm_client.list_certificates_invoker(scm.ListCertificatesRequest()) \
        .add_header("X-Sdk-Date", stale.strftime(SDK_DATE_FORMAT))  # the SDK signs with a preset date
    expect_error(invoker.invoke, 401, "APIGW.0301", "signature expired")


def test_sdk_date_within_15_minutes_is_accepted(scm_client):
    recent = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=14)
    invoker = scm_client.list_certificates_invoker(scm.ListCertificatesRequest()) \
        .add_header("X-Sdk-Date", recent.strftime(SDK_DATE_FORMAT))
    assert invoker.invoke().total_count == 0


def test_body_changed_after_signing_is_rejected(scm_client, scm_wire, scm_control):
    scm_wire.request_hooks.append(lambda request: setattr(request, "body", request.body.replace(b'"order_number": 1',
                                                                                                 b'"order_number": 9')))
    expect_error(lambda: buy(scm_client), 401, "APIGW.0301", "verify aksk signature fail")
    assert scm_control.call("GET", "scm/certificates")["certificates"] == []


def test_query_changed_after_signing_is_rejected(scm_client, scm_wire):
    scm_wire.request_hooks.append(lambda request: setattr(request, "uri", request.uri.replace("limit=10",
                                                                                               "limit=50")))
    expect_error(lambda: list_certificates(scm_client, limit=10), 401, "APIGW.0301", "verify aksk signature fail")


def test_path_parameters_with_reserved_characters_verify(scm_client):
    # "a/b c" is sent as a%2Fb%20c and signed as /a/b%20c/: the verifier must canonicalise the same way.
    expect_error(lambda: show(scm_client, "a/b c"), 404, "SCM.0020", "a/b c")


def test_request_without_any_credentials_is_rejected(scm_client, scm_wire):
    scm_wire.request_hooks.append(remove_header("Authorization"))
    expect_error(lambda: list_certificates(scm_client), 401, "APIGW.0301", "x-auth-token not found")


def test_bare_x_auth_token_is_accepted(scm_client, scm_wire):
    scm_wire.request_hooks.append(remove_header("Authorization"))
    invoker = scm_client.list_certificates_invoker(scm.ListCertificatesRequest()) \
        .add_header("X-Auth-Token", SCM_AUTH_TOKEN)
    assert invoker.invoke().total_count == 0


def test_unknown_x_auth_token_is_rejected(scm_client, scm_wire):
    scm_wire.request_hooks.append(remove_header("Authorization"))
    invoker = scm_client.list_certificates_invoker(scm.ListCertificatesRequest()) \
        .add_header("X-Auth-Token", "MIIT-not-a-token")
    expect_error(invoker.invoke, 401, "APIGW.0301", "decrypt token fail")


def test_region_based_client_finds_its_account_through_iam(scm_emulator, monkeypatch):
    monkeypatch.setenv("HUAWEICLOUD_SDK_REGION_SCM_CN_NORTH_4", scm_emulator.url)
    monkeypatch.setenv("HUAWEICLOUD_SDK_IAM_ENDPOINT", scm_emulator.url)
    credentials = GlobalCredentials(SCM_AK, SCM_SK)  # no domain id: the SDK asks IAM for it
    client = ScmClient.new_builder().with_credentials(credentials) \
        .with_region(ScmRegion.value_of("cn-north-4")).build()
    assert credentials.domain_id == "d0m41n1d5cm"
    assert list_certificates(client).total_count == 0


def test_unknown_route_gets_the_gateways_404(scm_client):
    error = expect_error(lambda: scm_client.call_api("/v3/scm/no-such-api", "GET"), 404, "APIGW.0101")
    assert error.request_id


def test_non_json_body_is_a_bad_parameter(scm_client):
    expect_invalid(lambda: scm_client.call_api("/v3/scm/certificates/buy", "POST", body="not json",
                                               header_params={"Content-Type": "application/json"}), "JSON")


# --- buy (seed 002) ------------------------------------------------------------------------------

def test_buy_creates_paid_certificates_under_one_order(scm_client):
    response = buy(scm_client, order_number=3)
    assert response.status_code == 200
    assert len(response.order_id) == 17 and response.order_id.startswith("CS")
    ids = [cert.cert_id for cert in response.cert]
    assert len(set(ids)) == 3 and all(len(i) == 16 and i.startswith("scs") and i[3:].isdigit() for i in ids)
    for certificate_id in ids:
        details = show(scm_client, certificate_id)
        assert (details.status, details.order_id, details.brand, details.type) == \
               ("PAID", response.order_id, "GEOTRUST", "DV_SSL_CERT")
        assert details.validity_period == 12 and details.authentification == []


@pytest.mark.parametrize("missing", ["cert_brand", "cert_type", "domain_type", "effective_time",
                                     "domain_numbers", "order_number", "agree_privacy_protection"])
def test_buy_requires_every_mandatory_field(scm_client, scm_control, missing):
    expect_invalid(lambda: buy(scm_client, **{missing: None}), f"{missing} is required")
    assert scm_control.call("GET", "scm/certificates")["certificates"] == []


@pytest.mark.parametrize("brand", ["GEOTRUST", "GLOBALSIGN", "SYMANTEC", "CFCA", "TRUSTASIA", "VTRUS"])
def test_buy_accepts_every_documented_brand(scm_client, brand):
    assert show(scm_client, buy_one(scm_client, cert_brand=brand)).brand == brand


@pytest.mark.parametrize("cert_type", ["DV_SSL_CERT", "DV_SSL_CERT_BASIC", "EV_SSL_CERT", "EV_SSL_CERT_PRO",
                                       "OV_SSL_CERT", "OV_SSL_CERT_PRO"])
def test_buy_accepts_every_documented_type(scm_client, cert_type):
    assert show(scm_client, buy_one(scm_client, cert_type=cert_type)).type == cert_type


@pytest.mark.parametrize("field, value", [
    ("cert_brand", "DIGICERT"), ("cert_brand", "geotrust"), ("cert_type", "OV_SSL_CERT "),
    ("cert_type", "DV"), ("domain_type", "SINGLE"), ("cert_brand", "G" * 33),
])
def test_buy_rejects_values_outside_the_enumerations(scm_client, field, value):
    expect_invalid(lambda: buy(scm_client, **{field: value}), field)


@pytest.mark.parametrize("years, accepted", [(0, False), (1, True), (2, True), (3, True), (4, False)])
def test_buy_effective_time_is_1_to_3_years(scm_client, years, accepted):
    expect_purchase_rule(scm_client, lambda: buy(scm_client, effective_time=years), accepted, "effective_time",
                         "validity_period", 12 * years)


@pytest.mark.parametrize("domain_type, domain_numbers, accepted", [
    ("SINGLE_DOMAIN", 1, True), ("SINGLE_DOMAIN", 2, False), ("WILDCARD", 1, True), ("WILDCARD", 2, False),
    ("MULTI_DOMAIN", 1, False), ("MULTI_DOMAIN", 2, True), ("MULTI_DOMAIN", 100, True),
    ("MULTI_DOMAIN", 101, False), ("SINGLE_DOMAIN", 0, False),
])
def test_buy_domain_numbers_must_fit_the_domain_type(scm_client, domain_type, domain_numbers, accepted):
    expect_purchase_rule(scm_client, lambda: buy(scm_client, domain_type=domain_type, domain_numbers=domain_numbers),
                         accepted, "domain_numbers", "domain_count", domain_numbers)


@pytest.mark.parametrize("order_number, accepted", [(0, False), (1, True), (100, True), (101, False)])
def test_buy_order_number_is_1_to_100(scm_client, order_number, accepted):
    if accepted:
        assert len(buy(scm_client, order_number=order_number).cert) == order_number
    else:
        expect_invalid(lambda: buy(scm_client, order_number=order_number), "order_number")


@pytest.mark.parametrize("value", [False, "true", 1])
def test_buy_privacy_agreement_must_be_true(scm_client, value):
    expect_invalid(lambda: buy(scm_client, agree_privacy_protection=value), "agree_privacy_protection")


def test_buy_rejects_a_number_sent_as_a_string(scm_client):
    expect_invalid(lambda: buy(scm_client, effective_time="1"), "effective_time must be an integer")


@pytest.mark.parametrize("field", ["single_domain_number", "wildcard_domain_number"])
@pytest.mark.parametrize("value", [0, 101])
def test_buy_additional_name_counts_are_1_to_100(scm_client, field, value):
    expect_invalid(lambda: buy(scm_client, domain_type="MULTI_DOMAIN", domain_numbers=100, **{field: value}),
                   field)


@pytest.mark.parametrize("field, value", [("single_domain_number", 1), ("wildcard_domain_number", 1),
                                          ("primary_domain_type", "SINGLE_DOMAIN")])
def test_buy_multi_domain_fields_only_with_multi_domain(scm_client, field, value):
    expect_invalid(lambda: buy(scm_client, **{field: value}), "only allowed when domain_type is MULTI_DOMAIN")


def test_buy_additional_names_cannot_exceed_the_domain_count(scm_client):
    expect_invalid(lambda: buy(scm_client, domain_type="MULTI_DOMAIN", domain_numbers=3, single_domain_number=2,
                               wildcard_domain_number=1), "domain_numbers - 1")


def test_buy_multi_domain_with_a_wildcard_primary_reports_the_split(scm_client):
    certificate_id = buy_one(scm_client, domain_type="MULTI_DOMAIN", domain_numbers=4,
                             primary_domain_type="WILDCARD_DOMAIN", single_domain_number=2,
                             wildcard_domain_number=1)
    details = show(scm_client, certificate_id)
    assert (details.multi_domain_type, details.domain_count, details.wildcard_count) == \
           ("primary_wildcard", 4, 2)


@pytest.mark.parametrize("project", ["all", "0", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"])
def test_buy_accepts_documented_enterprise_projects(scm_client, project):
    assert show(scm_client, buy_one(scm_client, enterprise_project_id=project)).enterprise_project_id == project


@pytest.mark.parametrize("project", ["default", "0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0", "x" * 37])
def test_buy_rejects_other_enterprise_projects(scm_client, project):
    expect_invalid(lambda: buy(scm_client, enterprise_project_id=project), "enterprise_project_id")


def test_buy_keeps_a_combined_purchase_order_id(scm_client):
    assert buy(scm_client, order_id="CS2001011200COMBO").order_id == "CS2001011200COMBO"


def test_buy_accepts_up_to_10_tags(scm_client):
    tags = [scm.ScsResourceTag(key=f"k{i}", value=f"v{i}") for i in range(10)]
    certificate_id = buy_one(scm_client, tags=tags)
    listed = scm_client.list_tags_by_certificate(scm.ListTagsByCertificateRequest(resource_id=certificate_id))
    assert [(t.key, t.value) for t in listed.tags] == [(f"k{i}", f"v{i}") for i in range(10)]


def test_buy_rejects_11_tags(scm_client):
    tags = [scm.ScsResourceTag(key=f"k{i}", value="v") for i in range(11)]
    expect_invalid(lambda: buy(scm_client, tags=tags), "at most 10 tags")


def test_buy_rejects_repeated_tag_keys(scm_client):
    tags = [scm.ScsResourceTag(key="owner", value="a"), scm.ScsResourceTag(key="owner", value="b")]
    expect_error(lambda: buy(scm_client, tags=tags), 400, "SCM.0023", "duplicate key")


# --- legacy v2 purchase (seed 003) ---------------------------------------------------------------

def test_v2_purchase_creates_certificates_visible_in_v3(scm_client, scm_control):
    response = purchase_v2(scm_client, v2_body())
    assert response.status_code == 200 and response.order_id.startswith("CS")
    certificate_id = response.cert[0].cert_id
    details = show(scm_client, certificate_id)
    assert (details.status, details.type, details.domain_count) == ("PAID", "OV_SSL_CERT", 5)
    assert scm_control.call("GET", f"scm/certificates/{certificate_id}")["api_version"] == "v2"


def test_v2_purchase_with_only_a_token(scm_client, scm_wire):
    scm_wire.request_hooks.append(remove_header("Authorization"))
    assert len(purchase_v2(scm_client, v2_body(order_number=2)).cert) == 2


def test_v2_purchase_in_another_project_is_forbidden(scm_client):
    expect_error(lambda: purchase_v2(scm_client, v2_body(), project_id="ffffffffffffffffffffffffffffffff"),
                 403, "SCM.0003")


@pytest.mark.parametrize("cert_type, accepted", [("OV_SSL_CERT", True), ("EV_SSL_CERT", True),
                                                 ("DV_SSL_CERT", False), ("OV_SSL_CERT_PRO", False),
                                                 ("OV_SSL_CERT ", False)])
def test_v2_purchase_sells_only_ov_and_ev(scm_client, cert_type, accepted):
    expect_purchase_rule(scm_client, lambda: purchase_v2(scm_client, v2_body(cert_type=cert_type)), accepted,
                         "cert_type", "type", cert_type)


@pytest.mark.parametrize("years, accepted", [(1, True), (2, True), (3, False), (0, False)])
def test_v2_purchase_effective_time_is_1_or_2(scm_client, years, accepted):
    expect_purchase_rule(scm_client, lambda: purchase_v2(scm_client, v2_body(effective_time=years)), accepted,
                         "effective_time", "validity_period", 12 * years)


@pytest.mark.parametrize("order_number, accepted", [(101, True), (1000, True), (1001, False), (0, False)])
def test_v2_purchase_order_number_is_1_to_1000(scm_client, order_number, accepted):
    call = lambda: purchase_v2(scm_client, v2_body(order_number=order_number))  # noqa: E731
    if accepted:
        assert len(call().cert) == order_number
    else:
        expect_invalid(call, "order_number")


@pytest.mark.parametrize("domain_type, domain_numbers", [("SINGLE_DOMAIN", 2), ("WILDCARD", 3),
                                                         ("MULTI_DOMAIN", 1), ("MULTI_DOMAIN", 101)])
def test_v2_purchase_domain_numbers_must_fit_the_domain_type(scm_client, domain_type, domain_numbers):
    expect_invalid(lambda: purchase_v2(scm_client, v2_body(domain_type=domain_type, domain_numbers=domain_numbers)),
                   "domain_numbers")


def test_v2_purchase_takes_any_brand_text_but_requires_one(scm_client):
    assert show(scm_client, purchase_v2(scm_client, v2_body(cert_brand="ACME")).cert[0].cert_id).brand == "ACME"
    expect_invalid(lambda: purchase_v2(scm_client, v2_body(cert_brand=None)), "cert_brand is required")


@pytest.mark.parametrize("missing", ["cert_type", "domain_type", "effective_time", "domain_numbers",
                                     "order_number", "agree_privacy_protection"])
def test_v2_purchase_requires_every_mandatory_field(scm_client, missing):
    expect_invalid(lambda: purchase_v2(scm_client, v2_body(**{missing: None})), f"{missing} is required")


def test_v2_purchase_privacy_agreement_must_be_true(scm_client):
    expect_invalid(lambda: purchase_v2(scm_client, v2_body(agree_privacy_protection=False)),
                   "agree_privacy_protection must be true")


# --- apply -----------------------------------------------------------------------------------------

def test_apply_starts_the_review_and_publishes_dns_records(scm_client):
    certificate_id = buy_one(scm_client)
    response = apply(scm_client, certificate_id, contact_name="Li Si", contact_email="ops@example.com")
    assert response.request_info == "success"
    details = show(scm_client, certificate_id)
    assert (details.status, details.validation_method, details.domain) == ("CHECKING", "DNS", "api.example.com")
    [record] = details.authentification
    assert (record.record_name, record.record_type, record.domain) == \
           ("_dnsauth.api.example.com", "TXT", "api.example.com")
    assert len(record.record_value) == 32
    assert details.application_info.applicant_email == "pki@example.com"
    assert details.application_info.contact_email == "ops@example.com"


def test_apply_multi_domain_gets_one_record_per_name(scm_client):
    certificate_id = buy_one(scm_client, domain_type="MULTI_DOMAIN", domain_numbers=3)
    apply(scm_client, certificate_id, domain="example.com", sans="www.example.com;*.cdn.example.com")
    details = show(scm_client, certificate_id)
    assert details.sans == "www.example.com;*.cdn.example.com"
    assert [r.record_name for r in details.authentification] == \
           ["_dnsauth.example.com", "_dnsauth.www.example.com", "_dnsauth.cdn.example.com"]
    assert details.authentification[2].domain == "*.cdn.example.com"


def test_apply_twice_is_not_allowed(scm_client):
    certificate_id = buy_one(scm_client)
    apply(scm_client, certificate_id)
    expect_error(lambda: apply(scm_client, certificate_id), 400, "SCM.0010", "CHECKING")


@pytest.mark.parametrize("missing", ["domain", "applicant_name", "applicant_phone", "applicant_email",
                                     "domain_method", "agree_privacy_protection"])
def test_apply_requires_every_mandatory_field(scm_client, missing):
    certificate_id = buy_one(scm_client)
    expect_invalid(lambda: apply(scm_client, certificate_id, **{missing: None}), f"{missing} is required")
    assert show(scm_client, certificate_id).status == "PAID"


@pytest.mark.parametrize("missing", ["company_name", "company_province", "company_city", "country"])
@pytest.mark.parametrize("cert_type", ["OV_SSL_CERT", "EV_SSL_CERT_PRO"])
def test_apply_ov_and_ev_require_company_fields(scm_client, cert_type, missing):
    certificate_id = buy_one(scm_client, cert_brand="GLOBALSIGN", cert_type=cert_type)
    expect_invalid(lambda: apply(scm_client, certificate_id, **{**OV_COMPANY, missing: None}),
                   f"{missing} is required")


def test_apply_ov_with_company_fields_is_accepted(scm_client):
    certificate_id = buy_one(scm_client, cert_brand="GLOBALSIGN", cert_type="OV_SSL_CERT")
    apply(scm_client, certificate_id, company_unit="PKI", **OV_COMPANY)
    info = show(scm_client, certificate_id).application_info
    assert (info.company_name, info.company_city, info.country) == ("Example Ltd", "Shenzhen", "CN")


@pytest.mark.parametrize("field, value, message", [
    ("country", "CHN", "country"), ("applicant_name", "Li", "applicant_name"),
    ("applicant_name", "Zhang San", "applicant_name"), ("applicant_email", "not-an-email", "applicant_email"),
    ("applicant_phone", "call me", "applicant_phone"), ("company_name", "x" * 64, "company_name"),
    ("domain_method", "HTTP", "domain_method"), ("key_algorithm", "RSA_1024", "key_algorithm"),
])
def test_apply_field_formats(scm_client, field, value, message):
    certificate_id = buy_one(scm_client, cert_brand="GLOBALSIGN", cert_type="OV_SSL_CERT")
    expect_invalid(lambda: apply(scm_client, certificate_id, **{**OV_COMPANY, field: value}), message)


def test_apply_geotrust_ov_needs_a_hash_algorithm(scm_client):
    certificate_id = buy_one(scm_client, cert_brand="GEOTRUST", cert_type="OV_SSL_CERT")
    expect_invalid(lambda: apply(scm_client, certificate_id, **OV_COMPANY), "ca_hash_algorithm")
    assert apply(scm_client, certificate_id, ca_hash_algorithm="SHA-256", **OV_COMPANY).request_info == "success"


@pytest.mark.parametrize("buy_fields, apply_fields, message", [
    ({}, {"sans": "www.example.com"}, "takes no sans"),
    ({}, {"domain": "*.example.com"}, "cannot hold a wildcard"),
    ({"domain_type": "WILDCARD"}, {"domain": "www.example.com"}, "needs a name like"),
    ({"domain_type": "MULTI_DOMAIN", "domain_numbers": 2}, {"sans": "a.example.com;b.example.com"},
     "3 names for 2"),
    ({"domain_type": "MULTI_DOMAIN", "domain_numbers": 3, "primary_domain_type": "WILDCARD_DOMAIN"},
     {"domain": "example.com"}, "bought as a wildcard"),
    ({"domain_type": "MULTI_DOMAIN", "domain_numbers": 3, "single_domain_number": 2},
     {"sans": "*.a.example.com"}, "additional wildcard names"),
    ({"domain_type": "MULTI_DOMAIN", "domain_numbers": 3, "wildcard_domain_number": 1},
     {"sans": "a.example.com"}, "additional single names"),
])
def test_apply_names_must_match_the_purchase(scm_client, buy_fields, apply_fields, message):
    certificate_id = buy_one(scm_client, **buy_fields)
    expect_error(lambda: apply(scm_client, certificate_id, **apply_fields), 400, "SCM.0015", message)


@pytest.mark.parametrize("domain", ["not a domain", "example", "-bad.example.com"])
def test_apply_rejects_malformed_domains(scm_client, domain):
    expect_invalid(lambda: apply(scm_client, buy_one(scm_client), domain=domain), "not a valid domain name")


def test_apply_file_validation_is_only_for_ip_certificates(scm_client):
    expect_invalid(lambda: apply(scm_client, buy_one(scm_client), domain_method="FILE"), "FILE")


def test_apply_email_validation_has_no_records_to_publish(scm_client):
    certificate_id = buy_one(scm_client, cert_brand="GLOBALSIGN", cert_type="OV_SSL_CERT")
    apply(scm_client, certificate_id, domain_method="EMAIL", **OV_COMPANY)
    details = show(scm_client, certificate_id)
    assert (details.validation_method, details.authentification) == ("EMAIL", [])


def test_apply_with_a_csr_for_other_names_is_rejected(scm_client):
    _, csr = rsa_key_and_csr(["other.example.com"])
    expect_invalid(lambda: apply(scm_client, buy_one(scm_client), csr=csr), "does not match the domain")


def test_apply_with_garbage_csr_is_rejected(scm_client):
    expect_invalid(lambda: apply(scm_client, buy_one(scm_client), csr="-----BEGIN CERTIFICATE REQUEST-----\nxx"),
                   "csr cannot be parsed")


def test_apply_sm2_keys_are_not_emulated(scm_client):
    expect_invalid(lambda: apply(scm_client, buy_one(scm_client), key_algorithm="SM2"), "not emulated")


def test_auto_dns_auth_publishes_the_records_itself(scm_client):
    certificate_id = buy_one(scm_client)
    apply(scm_client, certificate_id, auto_dns_auth=True)
    assert show(scm_client, certificate_id).status == "ISSUED"


def test_auto_dns_auth_is_only_for_dv(scm_client):
    certificate_id = buy_one(scm_client, cert_brand="GLOBALSIGN", cert_type="OV_SSL_CERT")
    expect_invalid(lambda: apply(scm_client, certificate_id, auto_dns_auth=True, **OV_COMPANY), "auto_dns_auth")


def test_apply_unknown_certificate_is_404(scm_client):
    expect_error(lambda: apply(scm_client, "scs0000000000000"), 404, "SCM.0020", "scs0000000000000")


# --- application lifecycle through the control API -----------------------------------------------

def test_publishing_the_challenge_issues_the_certificate(scm_client, scm_control):
    certificate_id = buy_one(scm_client)
    apply(scm_client, certificate_id)
    assert show(scm_client, certificate_id).status == "CHECKING"
    published = scm_control.call("POST", f"scm/certificates/{certificate_id}/publish")
    assert published["status"] == "ISSUED" and published["has_private_key"] is True
    details = show(scm_client, certificate_id)
    assert details.status == "ISSUED" and details.not_after and details.issue_time


def test_issuance_waits_for_the_validation_delay(scm_client, scm_control):
    scm_control.call("POST", "scm/settings", {"validation_wait_seconds": 3600})
    certificate_id = buy_one(scm_client)
    apply(scm_client, certificate_id)
    scm_control.call("POST", f"scm/certificates/{certificate_id}/publish")
    assert show(scm_client, certificate_id).status == "CHECKING"
    scm_control.advance_clock(3599)
    assert show(scm_client, certificate_id).status == "CHECKING"
    scm_control.advance_clock(2)
    assert show(scm_client, certificate_id).status == "ISSUED"


def test_without_a_published_challenge_the_review_never_ends(scm_client, scm_control):
    certificate_id = buy_one(scm_client)
    apply(scm_client, certificate_id)
    scm_control.advance_clock(30 * 86400)
    assert show(scm_client, certificate_id).status == "CHECKING"


def test_approve_issues_without_a_challenge(scm_client, scm_control):
    certificate_id = buy_one(scm_client)
    apply(scm_client, certificate_id)
    assert scm_control.call("POST", f"scm/certificates/{certificate_id}/approve")["status"] == "ISSUED"


def test_rejected_application_is_unpassed_and_can_be_reapplied(scm_client, scm_control):
    certificate_id = buy_one(scm_client)
    apply(scm_client, certificate_id)
    rejected = scm_control.call("POST", f"scm/certificates/{certificate_id}/reject", {"reason": "no org"})
    assert (rejected["status"], rejected["fail_reason"]) == ("UNPASSED", "no org")
    assert show(scm_client, certificate_id).status == "UNPASSED"
    apply(scm_client, certificate_id, domain="www.example.com")
    details = show(scm_client, certificate_id)
    assert (details.status, details.domain) == ("CHECKING", "www.example.com")


def test_control_hooks_refuse_a_certificate_not_under_review(scm_client, scm_control):
    certificate_id = buy_one(scm_client)
    with pytest.raises(ControlAPIError) as caught:
        scm_control.call("POST", f"scm/certificates/{certificate_id}/publish")
    assert caught.value.status == 400 and caught.value.payload["code"] == "SCM.0010"


def test_issued_certificate_expires_after_a_year(scm_client, scm_control):
    certificate_id = issue(scm_client, scm_control)
    scm_control.advance_clock(366 * 86400)  # signatures still use real time, so the SDK keeps working
    assert show(scm_client, certificate_id).status == "EXPIRED"


# --- issuance: a real X.509 certificate from the emulator CA -------------------------------------

def test_issued_certificate_is_valid_for_the_names_and_the_generated_key(scm_client, scm_control):
    certificate_id = issue(scm_client, scm_control, domain="example.com", sans="www.example.com;*.example.com")
    exported = export(scm_client, certificate_id)
    leaf = x509.load_pem_x509_certificate(exported.certificate.encode())
    ca = x509.load_pem_x509_certificate(scm_control.ca_certificate_pem().encode())

    leaf.verify_directly_issued_by(ca)  # raises if the signature or the issuer name is wrong
    assert exported.certificate_chain == scm_control.ca_certificate_pem()
    assert exported.entire_certificate == exported.certificate + exported.certificate_chain
    sans = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["example.com", "www.example.com", "*.example.com"]
    assert leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "example.com"
    private_key = serialization.load_pem_private_key(exported.private_key.encode(), password=None)
    assert isinstance(private_key, rsa.RSAPrivateKey) and private_key.key_size == 2048
    assert private_key.public_key().public_numbers() == leaf.public_key().public_numbers()

    details = show(scm_client, certificate_id)
    assert details.fingerprint == leaf.fingerprint(hashes.SHA1()).hex().upper()
    assert details.not_after == leaf.not_valid_after_utc.strftime("%Y-%m-%d %H:%M:%S.0")
    lifetime = leaf.not_valid_after_utc - leaf.not_valid_before_utc
    assert datetime.timedelta(days=364) < lifetime < datetime.timedelta(days=366)


def test_issued_certificate_uses_the_key_of_a_supplied_csr(scm_client, scm_control):
    key, csr = rsa_key_and_csr(["api.example.com"])
    certificate_id = issue(scm_client, scm_control, csr=csr)
    exported = export(scm_client, certificate_id)
    leaf = x509.load_pem_x509_certificate(exported.certificate.encode())
    assert leaf.public_key().public_numbers() == key.public_key().public_numbers()
    assert exported.private_key == ""  # the customer kept the key


def test_issued_certificate_honours_the_key_algorithm(scm_client, scm_control):
    certificate_id = issue(scm_client, scm_control, key_algorithm="EC_P384")
    private_key = serialization.load_pem_private_key(export(scm_client, certificate_id).private_key.encode(), None)
    assert isinstance(private_key, ec.EllipticCurvePrivateKey) and private_key.curve.name == "secp384r1"


# --- list ----------------------------------------------------------------------------------------

def test_list_pages_with_limit_and_offset(scm_client):
    ids = [c.cert_id for c in buy(scm_client, order_number=25).cert]
    first = list_certificates(scm_client, limit=10, offset=0, sort_dir="ASC")
    third = list_certificates(scm_client, limit=10, offset=20, sort_dir="ASC")
    assert first.total_count == third.total_count == 25
    assert len(first.certificates) == 10 and len(third.certificates) == 5
    listed = {c.id for page in (first, list_certificates(scm_client, limit=10, offset=10, sort_dir="ASC"), third)
              for c in page.certificates}
    assert listed == set(ids)


def test_list_filters_by_status_and_content(scm_client, scm_control):
    issued_id = issue(scm_client, scm_control, domain="shop.example.org")
    paid_id = buy_one(scm_client)
    assert [c.id for c in list_certificates(scm_client, status="ISSUED").certificates] == [issued_id]
    assert [c.id for c in list_certificates(scm_client, status="PAID").certificates] == [paid_id]
    assert [c.id for c in list_certificates(scm_client, content="SHOP.example").certificates] == [issued_id]
    assert [c.id for c in list_certificates(scm_client, content=paid_id[:10]).certificates] == [paid_id]
    assert [c.id for c in list_certificates(scm_client, deploy_support=True).certificates] == [issued_id]
    assert list_certificates(scm_client, status="ALL").total_count == 2


def test_list_filters_by_enterprise_project(scm_client):
    project = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
    in_project = buy_one(scm_client, enterprise_project_id=project)
    buy_one(scm_client)
    assert [c.id for c in list_certificates(scm_client, enterprise_project_id=project).certificates] == [in_project]
    assert list_certificates(scm_client, enterprise_project_id="all").total_count == 2


def test_list_expired_days_since_hides_long_expired_certificates(scm_client, scm_control):
    expired_id = issue(scm_client, scm_control)
    scm_control.advance_clock(400 * 86400)  # expired 35 days ago
    fresh_id = buy_one(scm_client)
    assert {c.id for c in list_certificates(scm_client, expired_days_since=30).certificates} == {fresh_id}
    assert {c.id for c in list_certificates(scm_client, expired_days_since=40).certificates} == {fresh_id, expired_id}


def test_list_sorts_by_expiry(scm_client, scm_control):
    older = issue(scm_client, scm_control)
    scm_control.advance_clock(86400)
    newer = issue(scm_client, scm_control)
    ascending = list_certificates(scm_client, sort_key="certExpiredTime", sort_dir="ASC").certificates
    descending = list_certificates(scm_client, sort_key="certExpiredTime", sort_dir="DESC").certificates
    assert [c.id for c in ascending] == [older, newer] and [c.id for c in descending] == [newer, older]
    assert ascending[0].expire_time < ascending[1].expire_time


@pytest.mark.parametrize("query, message", [
    ({"limit": 15}, "limit"), ({"status": "PENDING"}, "status"), ({"sort_key": "name"}, "sort_key"),
    ({"sort_dir": "UP"}, "sort_dir"), ({"offset": -1}, "offset"), ({"enterprise_project_id": "x"}, "enterprise"),
])
def test_list_rejects_bad_query_values(scm_client, query, message):
    expect_invalid(lambda: list_certificates(scm_client, **query), message)


# --- export ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("state", ["PAID", "CHECKING"])
def test_export_before_issuance_is_not_allowed(scm_client, state):
    certificate_id = buy_one(scm_client)
    if state == "CHECKING":
        apply(scm_client, certificate_id)
    expect_error(lambda: export(scm_client, certificate_id), 400, "SCM.0010", state)


# --- cancel-cert -----------------------------------------------------------------------------------

def test_cancel_withdraws_the_application_back_to_paid(scm_client, scm_control):
    scm_control.call("POST", "scm/settings", {"cancel_review_seconds": 600})
    certificate_id = buy_one(scm_client)
    apply(scm_client, certificate_id)
    response = scm_client.cancel_certificate_request(
        scm.CancelCertificateRequestRequest(certificate_id=certificate_id))
    assert (response.cert_id, response.message) == (certificate_id, "success")
    assert show(scm_client, certificate_id).status == "CANCELCHECKING"
    scm_control.advance_clock(600)
    details = show(scm_client, certificate_id)
    assert (details.status, details.domain, details.authentification) == ("PAID", "", [])
    apply(scm_client, certificate_id, domain_method="DNS")  # re-apply after withdrawal
    assert show(scm_client, certificate_id).status == "CHECKING"


def test_cancel_without_an_application_is_not_allowed(scm_client):
    certificate_id = buy_one(scm_client)
    expect_error(lambda: scm_client.cancel_certificate_request(
        scm.CancelCertificateRequestRequest(certificate_id=certificate_id)), 400, "SCM.0010")


# --- unsubscribe -----------------------------------------------------------------------------------

def unsubscribe(client, certificate_id):
    return client.unsubscribe_certificate(scm.UnsubscribeCertificateRequest(cert_id=certificate_id))


def test_unsubscribe_refunds_and_removes_the_certificate(scm_client):
    certificate_id = buy_one(scm_client)
    assert unsubscribe(scm_client, certificate_id).unsubscribe_results == "SUCCESS"
    expect_error(lambda: show(scm_client, certificate_id), 404, "SCM.0020")


def test_unsubscribe_after_the_7_day_refund_window_is_not_allowed(scm_client, scm_control):
    certificate_id = buy_one(scm_client)
    scm_control.advance_clock(7 * 86400 + 1)
    expect_error(lambda: unsubscribe(scm_client, certificate_id), 400, "SCM.0010", "7-day")


def test_unsubscribe_during_review_is_not_allowed(scm_client):
    certificate_id = buy_one(scm_client)
    apply(scm_client, certificate_id)
    expect_error(lambda: unsubscribe(scm_client, certificate_id), 400, "SCM.0010", "CHECKING")


def test_unsubscribe_an_issued_certificate_is_not_allowed(scm_client, scm_control):
    certificate_id = issue(scm_client, scm_control)
    expect_error(lambda: unsubscribe(scm_client, certificate_id), 400, "SCM.0010", "ISSUED")
    assert show(scm_client, certificate_id).status == "ISSUED"


# --- delete ----------------------------------------------------------------------------------------

def delete(client, certificate_id):
    return client.delete_certificate(scm.DeleteCertificateRequest(certificate_id=certificate_id))


def test_delete_an_issued_certificate_then_it_is_404(scm_client, scm_control):
    certificate_id = issue(scm_client, scm_control)
    assert delete(scm_client, certificate_id).status_code == 204
    expect_error(lambda: show(scm_client, certificate_id), 404, "SCM.0020")


def test_delete_a_paid_certificate_is_refused(scm_client):
    certificate_id = buy_one(scm_client)
    expect_error(lambda: delete(scm_client, certificate_id), 400, "SCM.0010", "unsubscribe")


def test_delete_unknown_certificate_is_404(scm_client):
    expect_error(lambda: delete(scm_client, "scs0000000000000"), 404, "SCM.0020")


# --- import ----------------------------------------------------------------------------------------

def import_certificate(client, **fields):
    body = scm.ImportCertificateRequestBody(**{"name": "shop-cert", **fields})
    return client.import_certificate(scm.ImportCertificateRequest(body=body))


@pytest.fixture
def own_certificate():
    """(leaf PEM, chain PEM, key PEM) of a small private CA, for imports."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    _, ca_pem = self_signed(["Test Root"], key=ca_key)
    ca_name = x509.load_pem_x509_certificate(ca_pem.encode()).subject
    leaf_key, leaf_pem = self_signed(["shop.example.com", "www.shop.example.com"], issuer_key=ca_key,
                                     issuer_name=ca_name)
    return leaf_pem, ca_pem, key_pem(leaf_key)


def test_import_keeps_the_certificate_as_uploaded(scm_client, own_certificate):
    leaf_pem, chain_pem, private_key = own_certificate
    certificate_id = import_certificate(scm_client, certificate=leaf_pem, certificate_chain=chain_pem,
                                        private_key=private_key).certificate_id
    details = show(scm_client, certificate_id)
    assert (details.status, details.name, details.domain, details.sans) == \
           ("UPLOAD", "shop-cert", "shop.example.com", "www.shop.example.com")
    exported = export(scm_client, certificate_id)
    assert (exported.certificate, exported.certificate_chain) == (leaf_pem, chain_pem)
    assert exported.private_key.strip() == private_key.strip()


def test_import_splits_a_bundle_into_leaf_and_chain(scm_client, own_certificate):
    leaf_pem, chain_pem, private_key = own_certificate
    certificate_id = import_certificate(scm_client, certificate=leaf_pem + chain_pem,
                                        private_key=private_key).certificate_id
    exported = export(scm_client, certificate_id)
    assert (exported.certificate, exported.certificate_chain) == (leaf_pem, chain_pem)


@pytest.mark.parametrize("name", ["ab", "x" * 64, "has space", "ünï"])
def test_import_name_rules(scm_client, own_certificate, name):
    leaf_pem, _, private_key = own_certificate
    expect_error(lambda: import_certificate(scm_client, name=name, certificate=leaf_pem, private_key=private_key),
                 400, "SCM.0032")


def test_import_parse_errors_have_their_own_codes(scm_client, own_certificate):
    leaf_pem, chain_pem, private_key = own_certificate
    other_key = key_pem(ec.generate_private_key(ec.SECP256R1()))
    broken_pem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
    cases = [
        (dict(certificate="MIIB...", private_key=private_key), "SCM.0053"),
        (dict(certificate=broken_pem, private_key=private_key), "SCM.0006"),
        (dict(certificate=leaf_pem, certificate_chain=broken_pem, private_key=private_key), "SCM.0013"),
        (dict(certificate=leaf_pem, private_key="-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"),
         "SCM.0012"),
        (dict(certificate=leaf_pem, private_key=other_key), "SCM.0014"),
    ]
    for fields, code in cases:
        expect_error(lambda: import_certificate(scm_client, **fields), 400, code)
    assert list_certificates(scm_client).total_count == 0


def test_import_duplicate_check(scm_client, own_certificate):
    leaf_pem, _, private_key = own_certificate
    import_certificate(scm_client, certificate=leaf_pem, private_key=private_key)
    import_certificate(scm_client, certificate=leaf_pem, private_key=private_key, duplicate_check=False)
    expect_invalid(lambda: import_certificate(scm_client, certificate=leaf_pem, private_key=private_key,
                                              duplicate_check=True), "identical certificate")
    assert list_certificates(scm_client).total_count == 2


def test_imported_certificate_cannot_be_unsubscribed_but_can_be_deleted(scm_client, own_certificate):
    leaf_pem, _, private_key = own_certificate
    certificate_id = import_certificate(scm_client, certificate=leaf_pem, private_key=private_key).certificate_id
    expect_error(lambda: unsubscribe(scm_client, certificate_id), 400, "SCM.0010", "purchased")
    assert delete(scm_client, certificate_id).status_code == 204


# --- tags and "look before you buy" --------------------------------------------------------------

def test_find_the_purchase_by_the_tag_written_at_buy_time(scm_client):
    mine = buy_one(scm_client, tags=[scm.ScsResourceTag(key=LOOKUP_TAG, value="urn-hash-1")])
    buy_one(scm_client, tags=[scm.ScsResourceTag(key=LOOKUP_TAG, value="urn-hash-2")])
    buy_one(scm_client)
    found = find_by_tags(scm_client, tags=[scm.ScsTag(key=LOOKUP_TAG, values=["urn-hash-1"])])
    assert found.total_count == 1
    [resource] = found.resources
    assert resource.resource_id == mine
    assert resource.resource_detail.order_status == "PAID"
    assert resource.resource_detail.partner_order_id == show(scm_client, mine).order_id
    assert [(t.key, t.value) for t in resource.tags] == [(LOOKUP_TAG, "urn-hash-1")]


def test_lost_buy_response_is_found_by_tag_instead_of_buying_twice(scm_client, scm_control):
    scm_control.add_fault("SubscribeCertificate", drop_response=True)
    tags = [scm.ScsResourceTag(key=LOOKUP_TAG, value="urn-hash-lost")]
    with pytest.raises(ConnectionException):
        buy(scm_client, tags=tags)
    found = find_by_tags(scm_client, tags=[scm.ScsTag(key=LOOKUP_TAG, values=["urn-hash-lost"])])
    assert found.total_count == 1  # the purchase happened; the client adopts it
    assert list_certificates(scm_client).total_count == 1


def test_tag_filters_combine_as_documented(scm_client):
    a = buy_one(scm_client, tags=[scm.ScsResourceTag(key="env", value="prod"),
                                  scm.ScsResourceTag(key="team", value="web")])
    b = buy_one(scm_client, tags=[scm.ScsResourceTag(key="env", value="test")])
    c = buy_one(scm_client)

    def ids(**body):
        return {r.resource_id for r in find_by_tags(scm_client, **body).resources}

    assert ids(tags=[scm.ScsTag(key="env", values=["prod", "test"])]) == {a, b}
    assert ids(tags=[scm.ScsTag(key="env", values=[]), scm.ScsTag(key="team", values=[])]) == {a}
    assert ids(tags_any=[scm.ScsTag(key="team", values=["web"]), scm.ScsTag(key="env", values=["test"])]) == {a, b}
    assert ids(not_tags=[scm.ScsTag(key="env", values=["prod"])]) == {b, c}
    assert ids(without_any_tag=True) == {c}
    assert ids(matches=[scm.ScsMatch(key="resource_name", value=a[:12])]) == {a}
    count = find_by_tags(scm_client, action="count", tags=[scm.ScsTag(key="env", values=[])])
    assert count.total_count == 2 and count.resources is None


def test_list_by_tag_validates_its_body(scm_client):
    expect_invalid(lambda: find_by_tags(scm_client, action="sum"), "action")
    expect_invalid(lambda: find_by_tags(scm_client, tags=[scm.ScsTag(key="env")]), "values")
    expect_invalid(lambda: find_by_tags(scm_client, matches=[scm.ScsMatch(key="domain", value="x")]),
                   "resource_name")
    expect_invalid(lambda: find_by_tags(scm_client, limit=7), "limit")


def test_list_by_tag_only_exists_for_resource_instances(scm_client):
    request = scm.ListCertificatesByTagRequest(resource_instances="other",
                                               body=scm.ListCertificatesByTagRequestBody(action="filter"))
    expect_error(lambda: scm_client.list_certificates_by_tag(request), 404, "APIGW.0101")


def test_tags_can_be_added_changed_and_deleted(scm_client):
    certificate_id = buy_one(scm_client)
    tag_request = scm.CreateCertificateTagRequest(resource_id=certificate_id, body=scm.CreateCertificateTagRequestBody(
        tag=scm.ScsResourceTag(key="owner", value="web")))
    assert scm_client.create_certificate_tag(tag_request).status_code == 204
    scm_client.batch_create_or_delete_tags(scm.BatchCreateOrDeleteTagsRequest(
        resource_id=certificate_id, body=scm.BatchCreateOrDeleteTagsRequestBody(action="create", tags=[
            scm.ScsResourceTag(key="owner", value="platform"), scm.ScsResourceTag(key="env", value="prod")])))

    def tags():
        listed = scm_client.list_tags_by_certificate(scm.ListTagsByCertificateRequest(resource_id=certificate_id))
        return {t.key: t.value for t in listed.tags}

    assert tags() == {"owner": "platform", "env": "prod"}
    scm_client.batch_create_or_delete_tags(scm.BatchCreateOrDeleteTagsRequest(
        resource_id=certificate_id, body=scm.BatchCreateOrDeleteTagsRequestBody(action="delete", tags=[
            scm.ScsResourceTag(key="env", value="prod"), scm.ScsResourceTag(key="owner", value="wrong")])))
    assert tags() == {"owner": "platform"}
    all_tags = scm_client.list_all_tags(scm.ListAllTagsRequest())
    assert [(t.key, t.values) for t in all_tags.tags] == [("owner", ["platform"])]


def test_tag_key_and_value_formats(scm_client):
    certificate_id = buy_one(scm_client)

    def add(key, value):
        return scm_client.create_certificate_tag(scm.CreateCertificateTagRequest(
            resource_id=certificate_id, body=scm.CreateCertificateTagRequestBody(tag=scm.ScsResourceTag(key=key,
                                                                                                       value=value))))
    expect_error(lambda: add("", "v"), 400, "SCM.0023")
    expect_error(lambda: add("bad/key", "v"), 400, "SCM.0023")
    expect_error(lambda: add("k", "x" * 256), 400, "SCM.0024")
    assert add("k:8=+-@ ü", "a/b").status_code == 204


def test_a_certificate_holds_at_most_10_tags(scm_client):
    certificate_id = buy_one(scm_client, tags=[scm.ScsResourceTag(key=f"k{i}", value="v") for i in range(10)])
    expect_invalid(lambda: scm_client.create_certificate_tag(scm.CreateCertificateTagRequest(
        resource_id=certificate_id, body=scm.CreateCertificateTagRequestBody(
            tag=scm.ScsResourceTag(key="eleventh", value="v")))), "at most 10 tags")


# --- faults: 429 quirk, injected errors ------------------------------------------------------------

def test_throttled_get_loses_its_body_in_the_sdk(scm_client, scm_control, scm_wire):
    # urllib3 turns a 429 to GET into a RetryError before the body is read: code "429", no request id.
    scm_control.add_fault("ListCertificates", status=429)
    error = expect_error(lambda: list_certificates(scm_client), 429, "429", "too many 429 error responses")
    assert error.request_id == ""
    assert scm_control.faults() == []  # the emulator did answer it


def test_throttled_post_carries_the_gateways_body(scm_client, scm_control, scm_wire):
    scm_control.add_fault("SubscribeCertificate", status=429)
    error = expect_error(lambda: buy(scm_client), 429, "APIGW.0308", "throttling threshold has been reached")
    assert error.request_id == scm_wire.last_response.headers["X-Request-Id"]
    assert "Retry-After" not in scm_wire.last_response.headers  # the real gateway sends none
    assert list_certificates(scm_client).total_count == 0


def test_sdk_transport_retries_a_throttled_get(scm_emulator, scm_control):
    client = make_scm_client(scm_emulator.url, retry_times=2)
    scm_control.add_fault("ListCertificates", status=429, times=2, retry_after=0)
    assert list_certificates(client).total_count == 0  # third attempt answered
    scm_control.add_fault("ListCertificates", status=429, times=3, retry_after=0)
    expect_error(lambda: list_certificates(client), 429, "429")


def test_application_retry_of_a_throttled_buy_buys_once(scm_client, scm_control):
    scm_control.add_fault("SubscribeCertificate", status=429, times=2)
    invoker = scm_client.subscribe_certificate_invoker(scm.SubscribeCertificateRequest(body=buy_body())) \
        .with_retry(lambda response, error: error is not None and error.status_code == 429, 3,
                    BackoffStrategies.NONE)
    assert len(invoker.invoke().cert) == 1
    assert list_certificates(scm_client).total_count == 1


def test_injected_retry_after_is_sent_as_a_header(scm_client, scm_control, scm_wire):
    scm_control.add_fault("SubscribeCertificate", status=429, retry_after=2.5)
    expect_error(lambda: buy(scm_client), 429, "APIGW.0308")
    assert scm_wire.last_response.headers["Retry-After"] == "3"


@pytest.mark.parametrize("status, code, exception", [(403, "SCM.0003", ClientRequestException),
                                                     (500, "SCM.0016", ServerResponseException)])
def test_injected_errors_use_the_scm_shape(scm_client, scm_control, scm_wire, status, code, exception):
    scm_control.add_fault("SubscribeCertificate", status=status)
    error = expect_error(lambda: buy(scm_client), status, code, exception=exception)
    assert set(scm_wire.last_response.json()) == {"error_code", "error_msg", "request_id"}
    assert error.request_id == scm_wire.last_response.headers["X-Request-Id"]


def test_injected_order_exception_with_custom_code(scm_client, scm_control):
    scm_control.add_fault("UnsubscribeCertificate", status=500, code="SCM.0016", message="订单异常")
    certificate_id = buy_one(scm_client)
    expect_error(lambda: unsubscribe(scm_client, certificate_id), 500, "SCM.0016", "订单异常",
                 exception=ServerResponseException)
    assert unsubscribe(scm_client, certificate_id).unsubscribe_results == "SUCCESS"  # the retry succeeds


# --- persistence and the standalone command ------------------------------------------------------

def test_state_survives_a_restart(tmp_path):
    state_file = tmp_path / "scm-state.json"
    with EmulatorServer(new_scm_api(), state_file=state_file) as server:
        client = make_scm_client(server.url)
        certificate_id = issue(client, ControlClient(server.url))
        paid_id = buy_one(client, tags=[scm.ScsResourceTag(key=LOOKUP_TAG, value="kept")])
        first_export = export(client, certificate_id)
        ca_pem = ControlClient(server.url).ca_certificate_pem()
    with EmulatorServer(new_scm_api(), state_file=state_file) as restarted:
        client = make_scm_client(restarted.url)
        assert show(client, certificate_id).status == "ISSUED"
        assert export(client, certificate_id).certificate == first_export.certificate
        assert ControlClient(restarted.url).ca_certificate_pem() == ca_pem
        found = find_by_tags(client, tags=[scm.ScsTag(key=LOOKUP_TAG, values=["kept"])])
        assert [r.resource_id for r in found.resources] == [paid_id]


def test_standalone_command_prints_its_url_and_serves():
    process = subprocess.Popen(
        [sys.executable, "-m", "emulators.scm", "--port", "0", "--ak", SCM_AK, "--sk", SCM_SK, "--quiet"],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True)
    try:
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(f"{url}/_emulator/health", timeout=5) as response:
            assert json.load(response)["api"] == "scm"
        assert list_certificates(make_scm_client(url)).total_count == 0
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0  # SIGTERM is a clean shutdown


# --- fault settings for certfleet's provider tests --------------------------------------------------

def test_forced_status_is_what_show_reports(scm_client, scm_control):
    certificate_id = buy_one(scm_client)
    scm_control.call("POST", f"scm/certificates/{certificate_id}/status", {"status": "SUPPLEMENTCHECKING"})
    assert show(scm_client, certificate_id).status == "SUPPLEMENTCHECKING"


def test_order_processing_reads_delay_paid(scm_client, scm_control):
    scm_control.call("POST", "scm/settings", {"order_processing_reads": 2})
    certificate_id = buy_one(scm_client)
    assert [show(scm_client, certificate_id).status for _ in range(3)] == [
        "ORDER_PROCESSING", "ORDER_PROCESSING", "PAID"]


def test_tag_index_lag_hides_a_new_order_from_tag_searches(scm_client, scm_control):
    scm_control.call("POST", "scm/settings", {"tag_index_lag_reads": 1})
    certificate_id = buy_one(scm_client, tags=[scm.ScsResourceTag(key="owner", value="lag-test")])
    search = dict(tags=[scm.ScsTag(key="owner", values=["lag-test"])])
    first = find_by_tags(scm_client, **search).resources or []
    second = find_by_tags(scm_client, **search).resources or []
    assert first == [] and [r.resource_id for r in second] == [certificate_id]


def test_refused_withdrawal_goes_back_to_checking(scm_client, scm_control):
    scm_control.call("POST", "scm/settings", {"cancel_review_seconds": 60, "refuse_withdrawals": 1})
    certificate_id = buy_one(scm_client)
    apply(scm_client, certificate_id)
    scm_client.cancel_certificate_request(scm.CancelCertificateRequestRequest(certificate_id=certificate_id))
    assert show(scm_client, certificate_id).status == "CANCELCHECKING"
    scm_control.advance_clock(60)
    assert show(scm_client, certificate_id).status == "CHECKING"


# --- issue 13: refunds, deletion, withdrawal and the first reads of a new order, as documented ---------------

def revoked(client, control) -> str:
    certificate_id = issue(client, control)
    control.call("POST", f"scm/certificates/{certificate_id}/status", {"status": "REVOKED"})
    return certificate_id


def test_unsubscribe_a_rejected_certificate_is_not_allowed(scm_client, scm_control):
    certificate_id = buy_one(scm_client)
    apply(scm_client, certificate_id)
    scm_control.call("POST", f"scm/certificates/{certificate_id}/reject")
    expect_error(lambda: unsubscribe(scm_client, certificate_id), 400, "SCM.0010", "UNPASSED")
    assert show(scm_client, certificate_id).status == "UNPASSED"


def test_unsubscribe_a_revoked_certificate_within_7_days_refunds_it(scm_client, scm_control):
    certificate_id = revoked(scm_client, scm_control)
    assert unsubscribe(scm_client, certificate_id).unsubscribe_results == "SUCCESS"
    expect_error(lambda: show(scm_client, certificate_id), 404, "SCM.0020")


def test_unsubscribe_a_revoked_certificate_after_7_days_is_not_allowed(scm_client, scm_control):
    certificate_id = revoked(scm_client, scm_control)
    scm_control.advance_clock(7 * 86400 + 1)
    expect_error(lambda: unsubscribe(scm_client, certificate_id), 400, "SCM.0010", "7-day")


@pytest.mark.parametrize("status", ["REVOKED", "PAID", "CHECKING", "UNPASSED"])
def test_delete_is_refused_outside_issued_hosted_and_expired(scm_client, scm_control, status):
    certificate_id = buy_one(scm_client)
    if status != "PAID":
        scm_control.call("POST", f"scm/certificates/{certificate_id}/status", {"status": status})
    expect_error(lambda: delete(scm_client, certificate_id), 400, "SCM.0010", status)
    assert show(scm_client, certificate_id).status == status


def test_delete_an_expired_certificate_is_allowed(scm_client, scm_control):
    certificate_id = issue(scm_client, scm_control)
    scm_control.advance_clock(366 * 86400)
    assert show(scm_client, certificate_id).status == "EXPIRED"
    assert delete(scm_client, certificate_id).status_code == 204


@pytest.mark.parametrize("status", ["CHECKING_ORG", "SUPPLEMENTCHECKING"])
def test_cancel_withdraws_from_every_documented_review_state(scm_client, scm_control, status):
    scm_control.call("POST", "scm/settings", {"cancel_review_seconds": 60})
    certificate_id = buy_one(scm_client)
    apply(scm_client, certificate_id)
    scm_control.call("POST", f"scm/certificates/{certificate_id}/status", {"status": status})
    response = scm_client.cancel_certificate_request(
        scm.CancelCertificateRequestRequest(certificate_id=certificate_id))
    assert response.message == "success" and show(scm_client, certificate_id).status == "CANCELCHECKING"
    scm_control.advance_clock(60)
    assert show(scm_client, certificate_id).status == "PAID"


@pytest.mark.parametrize("status", ["ISSUING", "ISSUED", "UNPASSED", "EXPIRED"])
def test_cancel_is_refused_outside_the_review_states(scm_client, scm_control, status):
    certificate_id = buy_one(scm_client)
    scm_control.call("POST", f"scm/certificates/{certificate_id}/status", {"status": status})
    expect_error(lambda: scm_client.cancel_certificate_request(
        scm.CancelCertificateRequestRequest(certificate_id=certificate_id)), 400, "SCM.0010", status)


def test_refused_withdrawal_goes_back_to_the_state_it_was_asked_in(scm_client, scm_control):
    scm_control.call("POST", "scm/settings", {"cancel_review_seconds": 60, "refuse_withdrawals": 1})
    certificate_id = buy_one(scm_client)
    apply(scm_client, certificate_id)
    scm_control.call("POST", f"scm/certificates/{certificate_id}/status", {"status": "CHECKING_ORG"})
    scm_client.cancel_certificate_request(scm.CancelCertificateRequestRequest(certificate_id=certificate_id))
    scm_control.advance_clock(60)
    assert show(scm_client, certificate_id).status == "CHECKING_ORG"


@pytest.mark.parametrize("pre_paid", ["", "WAIT_PAY", "PAYING"])
def test_a_new_order_shows_an_undocumented_status_before_paid(scm_client, scm_control, pre_paid):
    scm_control.call("POST", "scm/settings", {"order_processing_reads": 2, "order_processing_status": pre_paid})
    certificate_id = buy_one(scm_client)
    assert [show(scm_client, certificate_id).status for _ in range(3)] == [pre_paid, pre_paid, "PAID"]


def test_a_new_order_may_be_404_at_first(scm_client, scm_control):
    scm_control.call("POST", "scm/settings", {"order_not_found_reads": 2, "order_processing_reads": 1})
    certificate_id = buy_one(scm_client)
    expect_error(lambda: show(scm_client, certificate_id), 404, "SCM.0020")
    expect_error(lambda: show(scm_client, certificate_id), 404, "SCM.0020")
    assert [show(scm_client, certificate_id).status for _ in range(2)] == ["ORDER_PROCESSING", "PAID"]


def test_string_and_number_settings_are_type_checked(scm_control):
    for bad in ({"order_processing_status": 3}, {"order_not_found_reads": "many"}):
        with pytest.raises(ControlAPIError):
            scm_control.call("POST", "scm/settings", bad)


def test_paid_sweep_lists_a_new_order_while_its_tags_lag(scm_client, scm_control):
    """The tag index and the certificate's own tags lag; the PAID listing (GET /v3/scm/certificates with the
    status filter) still shows the order, with its brand, type and domain type, and no domain yet."""
    scm_control.call("POST", "scm/settings", {"tag_index_lag_reads": 5, "purchase_tags_lag_reads": 1})
    tag = scm.ScsResourceTag(key=LOOKUP_TAG, value="urn-lag")
    certificate_id = buy_one(scm_client, tags=[tag])
    assert (find_by_tags(scm_client, tags=[scm.ScsTag(key=LOOKUP_TAG, values=["urn-lag"])]).resources or []) == []
    listed = scm_client.list_certificates(scm.ListCertificatesRequest(status="PAID", limit=50, offset=0))
    [paid] = listed.certificates
    assert (paid.id, paid.brand, paid.type, paid.domain_type, paid.domain) == (
        certificate_id, "GEOTRUST", "DV_SSL_CERT", "SINGLE_DOMAIN", "")
    tags_of = lambda: scm_client.list_tags_by_certificate(  # noqa: E731
        scm.ListTagsByCertificateRequest(resource_id=certificate_id)).tags or []
    assert tags_of() == [] and [(t.key, t.value) for t in tags_of()] == [(LOOKUP_TAG, "urn-lag")]


# --- accounts: a key pair decides the account, certificates belong to one account ---------------------

OTHER_AK, OTHER_SK, OTHER_DOMAIN_ID = "FAKEAK789OTHERACCOUNT", "FAKESK000otherAccountSecret", "0th3rd0m41n"


def client_for(url: str, ak=OTHER_AK, domain_id=OTHER_DOMAIN_ID) -> ScmClient:
    config = HttpConfig.get_default_config()
    config.retry_times, config.timeout = 0, (5, 10)
    return ScmClient.new_builder().with_http_config(config) \
        .with_credentials(GlobalCredentials(ak, OTHER_SK, domain_id)).with_endpoint(url).build()


def other_account_client(emulator, control: ControlClient, ak=OTHER_AK, domain_id=OTHER_DOMAIN_ID):
    """Registers a key pair of `domain_id` through the control API; a client signing with it."""
    control.call("POST", "scm/accounts", {"ak": ak, "sk": OTHER_SK, "domain_id": domain_id})
    return client_for(emulator.url, ak, domain_id)


def test_another_accounts_certificate_does_not_exist_for_a_caller(scm_emulator, scm_client, scm_control):
    mine = buy_one(scm_client, tags=[scm.ScsResourceTag(key=LOOKUP_TAG, value="urn-1")])
    other = other_account_client(scm_emulator, scm_control)
    expect_error(lambda: show(other, mine), 404, "SCM.0020")
    expect_error(lambda: other.list_tags_by_certificate(scm.ListTagsByCertificateRequest(resource_id=mine)),
                 404, "SCM.0020")
    expect_error(lambda: other.unsubscribe_certificate(scm.UnsubscribeCertificateRequest(cert_id=mine)),
                 404, "SCM.0020")
    expect_error(lambda: apply(other, mine), 404, "SCM.0020")
    assert list_certificates(other).total_count == 0
    assert find_by_tags(other, tags=[scm.ScsTag(key=LOOKUP_TAG, values=["urn-1"])]).total_count == 0
    theirs = buy_one(other)
    assert [c.id for c in list_certificates(scm_client).certificates] == [mine]
    assert [(c.id, c.domain_id) for c in list_certificates(other).certificates] == [(theirs, OTHER_DOMAIN_ID)]
    accounts = {c["id"]: c["account"] for c in scm_control.call("GET", "scm/certificates")["certificates"]}
    assert accounts == {mine: "d0m41n1d5cm", theirs: OTHER_DOMAIN_ID}  # the control API sees every account
    assert show(scm_client, mine).status == "PAID"  # untouched by the other account's calls


def test_a_second_key_of_the_same_account_sees_its_certificates(scm_emulator, scm_client, scm_control):
    mine = buy_one(scm_client)
    second_key = other_account_client(scm_emulator, scm_control, domain_id="d0m41n1d5cm")
    assert show(second_key, mine).status == "PAID"


def test_iam_answers_the_account_of_the_signing_key(scm_emulator, scm_control, monkeypatch):
    scm_control.call("POST", "scm/accounts", {"ak": OTHER_AK, "sk": OTHER_SK, "domain_id": OTHER_DOMAIN_ID})
    monkeypatch.setenv("HUAWEICLOUD_SDK_REGION_SCM_CN_NORTH_4", scm_emulator.url)
    monkeypatch.setenv("HUAWEICLOUD_SDK_IAM_ENDPOINT", scm_emulator.url)
    credentials = GlobalCredentials(OTHER_AK, OTHER_SK)  # no domain id: the SDK asks IAM for it
    ScmClient.new_builder().with_credentials(credentials).with_region(ScmRegion.value_of("cn-north-4")).build()
    assert credentials.domain_id == OTHER_DOMAIN_ID


def test_added_key_pairs_are_validated_and_cleared_by_reset(scm_emulator, scm_control):
    with pytest.raises(ControlAPIError) as refused:
        scm_control.call("POST", "scm/accounts", {"ak": OTHER_AK, "sk": OTHER_SK})
    assert refused.value.status == 400 and "domain_id" in refused.value.payload["error"]
    other = other_account_client(scm_emulator, scm_control)
    assert list_certificates(other).total_count == 0
    scm_control.reset()
    expect_error(lambda: list_certificates(other), 401, "APIGW.0301", "ak not exist")


def test_accounts_survive_a_restart(tmp_path):
    state_file = tmp_path / "scm-state.json"
    with EmulatorServer(new_scm_api(), state_file=state_file) as server:
        other = other_account_client(server, ControlClient(server.url))
        theirs = buy_one(other)
    with EmulatorServer(new_scm_api(), state_file=state_file) as restarted:
        other = client_for(restarted.url)  # the added key pair is part of the state
        assert show(other, theirs).status == "PAID"
        expect_error(lambda: show(make_scm_client(restarted.url), theirs), 404, "SCM.0020")
