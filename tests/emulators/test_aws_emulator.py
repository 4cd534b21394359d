"""The AWS emulator (emulators/aws) through boto3 against the running server: each behaviour AWS has and
moto lacks, asserted by its exact error code and status."""

from __future__ import annotations

import time
import urllib.request
from datetime import datetime, timedelta, timezone

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from emulators.aws.testing import AwsControl
from emulators.core.ca import EmulatorCA, generate_key_and_csr
from emulators.core.clock import Clock
from emulators.core.testing import ControlAPIError
from tests.conftest import TEST_AWS_KEY, TEST_AWS_SECRET

ONE_ATTEMPT = Config(retries={"total_max_attempts": 1, "mode": "standard"}, read_timeout=20)
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"


# --- fixtures and helpers ---------------------------------------------------------------------------

@pytest.fixture
def control(aws) -> AwsControl:
    control = AwsControl(aws)
    control.settings(acm_validation_wait=0)  # requested certificates are ISSUED at once unless a test says
    return control


def client(url: str, service: str, region: str = "us-east-1"):
    return boto3.client(service, region_name=region, endpoint_url=url, aws_access_key_id=TEST_AWS_KEY,
                        aws_secret_access_key=TEST_AWS_SECRET, config=ONE_ATTEMPT)


@pytest.fixture
def acm(aws, control):
    return client(aws, "acm")


@pytest.fixture
def cloudfront(aws, control):
    return client(aws, "cloudfront")


def error_of(call, *args, **kwargs) -> tuple[str, int, str]:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        call(*args, **kwargs)
    response = caught.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Message"]


def request_issued(acm, domain: str = "example.com", sans: tuple[str, ...] = ("*.example.com",)) -> str:
    return acm.request_certificate(DomainName=domain, SubjectAlternativeNames=[domain, *sans],
                                   ValidationMethod="DNS")["CertificateArn"]


def distribution_config(reference: str, aliases: list[str], certificate_arn: str | None = None,
                        enabled: bool = True) -> dict:
    config = {
        "CallerReference": reference, "Comment": "test", "Enabled": enabled,
        "Origins": {"Quantity": 1, "Items": [{
            "Id": "origin", "DomainName": "origin.example.org",
            "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only",
                                   "OriginSslProtocols": {"Quantity": 1, "Items": ["TLSv1.2"]}},
            "CustomHeaders": {"Quantity": 1, "Items": [{"HeaderName": "X-Origin", "HeaderValue": "1"}]}}]},
        "DefaultCacheBehavior": {
            "TargetOriginId": "origin", "ViewerProtocolPolicy": "redirect-to-https", "CachePolicyId": CACHING_OPTIMIZED,
            "AllowedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"],
                               "CachedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]}}},
        "Aliases": {"Quantity": len(aliases), "Items": aliases},
    }
    if certificate_arn:
        config["ViewerCertificate"] = {"ACMCertificateArn": certificate_arn, "SSLSupportMethod": "sni-only",
                                       "MinimumProtocolVersion": "TLSv1.2_2021", "CloudFrontDefaultCertificate": False}
    return config


def create(cloudfront, reference: str, aliases: list[str], certificate_arn: str | None = None, **kwargs) -> dict:
    return cloudfront.create_distribution_with_tags(DistributionConfigWithTags={
        "DistributionConfig": distribution_config(reference, aliases, certificate_arn, **kwargs),
        "Tags": {"Items": [{"Key": "certfleet:resource", "Value": f"test/{reference}"}]}})


def update(cloudfront, distribution_id: str, change) -> dict:
    current = cloudfront.get_distribution_config(Id=distribution_id)
    config = current["DistributionConfig"]
    change(config)
    return cloudfront.update_distribution(Id=distribution_id, IfMatch=current["ETag"], DistributionConfig=config)


def set_aliases(aliases: list[str]):
    def change(config):
        config["Aliases"] = {"Quantity": len(aliases), "Items": aliases}
    return change


def disable(config):
    config["Enabled"] = False


# --- health, reset ----------------------------------------------------------------------------------

def test_moto_api_health_and_certfleet_health(aws):
    with urllib.request.urlopen(aws + "/moto-api/", timeout=5) as response:
        assert response.status == 200
    assert AwsControl(aws).call("GET", "health")["status"] == "ok"


def test_both_resets_clear_moto_and_the_emulator_state(aws, control, acm):
    for reset in (control.reset, lambda: urllib.request.urlopen(
            urllib.request.Request(aws + "/moto-api/reset", method="POST"), timeout=10)):
        request_issued(acm)
        control.settings(deploy_seconds=42)
        control.throttle("acm", "DescribeCertificate", probability=1)
        control.fault("CreateDistribution", delay_after=5)
        reset()
        assert acm.list_certificates()["CertificateSummaryList"] == []
        assert control.settings()["deploy_seconds"] == 1  # the session server's start-up value
        assert control.throttles() == [] and control.faults() == []


def test_control_api_refuses_bad_requests(control):
    with pytest.raises(ControlAPIError) as caught:
        control.throttle("acm", rate=1, probability=0.5)
    assert caught.value.status == 400
    with pytest.raises(ControlAPIError) as caught:
        control.fault("CreateDistribution")  # neither delay_after nor drop_response
    assert caught.value.status == 400
    with pytest.raises(ControlAPIError) as caught:
        control.settings(deploy_seconds=-1)
    assert caught.value.status == 400


# --- 1. CNAMEAlreadyExists ----------------------------------------------------------------------------

def test_alias_on_another_distribution_is_refused_on_create_and_update(acm, cloudfront):
    certificate = request_issued(acm)
    first = create(cloudfront, "first", ["shop.example.com"], certificate)["Distribution"]
    assert error_of(create, cloudfront, "second", ["SHOP.example.com"], certificate)[:2] == ("CNAMEAlreadyExists", 409)
    second = create(cloudfront, "second", ["www.example.com"], certificate)["Distribution"]
    code, status, _ = error_of(update, cloudfront, second["Id"], set_aliases(["www.example.com", "shop.example.com"]))
    assert (code, status) == ("CNAMEAlreadyExists", 409)
    # Moving the alias: remove it from the first, then add it to the second.
    update(cloudfront, first["Id"], set_aliases(["other.example.com"]))
    update(cloudfront, second["Id"], set_aliases(["www.example.com", "shop.example.com"]))


def test_a_wildcard_alias_does_not_conflict_with_a_name_it_covers(acm, cloudfront):
    certificate = request_issued(acm)
    create(cloudfront, "wild", ["*.example.com"], certificate)
    create(cloudfront, "exact", ["shop.example.com"], certificate)  # AWS allows the more specific one


# --- 2. ETags and IfMatch ----------------------------------------------------------------------------

def test_every_change_gets_a_new_etag_and_a_stale_one_fails(acm, cloudfront):
    created = create(cloudfront, "etag", [])
    distribution_id, first_etag = created["Distribution"]["Id"], created["ETag"]
    assert cloudfront.get_distribution(Id=distribution_id)["ETag"] == first_etag
    updated = update(cloudfront, distribution_id, disable)
    assert updated["ETag"] != first_etag
    assert cloudfront.get_distribution_config(Id=distribution_id)["ETag"] == updated["ETag"]
    config = cloudfront.get_distribution_config(Id=distribution_id)["DistributionConfig"]
    assert error_of(cloudfront.update_distribution, Id=distribution_id, IfMatch=first_etag,
                    DistributionConfig=config)[:2] == ("PreconditionFailed", 412)
    assert error_of(cloudfront.update_distribution, Id=distribution_id,
                    DistributionConfig=config)[:2] == ("InvalidIfMatchVersion", 400)
    assert error_of(cloudfront.delete_distribution, Id=distribution_id, IfMatch=first_etag)[:2] == \
        ("PreconditionFailed", 412)
    assert error_of(cloudfront.delete_distribution, Id=distribution_id)[:2] == ("InvalidIfMatchVersion", 400)


# --- 3. InProgress -> Deployed ------------------------------------------------------------------------

def test_create_and_every_update_deploy_for_the_configured_time(control, cloudfront):
    control.settings(deploy_seconds=0.6)
    created = create(cloudfront, "deploy", [])
    distribution_id = created["Distribution"]["Id"]
    assert created["Distribution"]["Status"] == "InProgress"
    assert cloudfront.get_distribution(Id=distribution_id)["Distribution"]["Status"] == "InProgress"
    time.sleep(0.7)
    assert cloudfront.get_distribution(Id=distribution_id)["Distribution"]["Status"] == "Deployed"
    assert update(cloudfront, distribution_id, disable)["Distribution"]["Status"] == "InProgress"
    listed = cloudfront.list_distributions()["DistributionList"]["Items"]
    assert [item["Status"] for item in listed] == ["InProgress"]
    assert control.finish_deployments(distribution_id) == [distribution_id]
    assert cloudfront.get_distribution(Id=distribution_id)["Distribution"]["Status"] == "Deployed"
    assert control.distributions()[0]["status"] == "Deployed"


def test_waiter_sees_deployed(control, cloudfront):
    control.settings(deploy_seconds=0.3)
    distribution_id = create(cloudfront, "waiter", [])["Distribution"]["Id"]
    cloudfront.get_waiter("distribution_deployed").wait(Id=distribution_id, WaiterConfig={"Delay": 1})


# --- 4. DistributionNotDisabled -----------------------------------------------------------------------

def test_delete_needs_a_disabled_and_deployed_distribution(control, cloudfront):
    control.settings(deploy_seconds=0.4)
    created = create(cloudfront, "delete", [])
    distribution_id = created["Distribution"]["Id"]
    time.sleep(0.5)
    assert error_of(cloudfront.delete_distribution, Id=distribution_id, IfMatch=created["ETag"])[:2] == \
        ("DistributionNotDisabled", 409)
    disabled = update(cloudfront, distribution_id, disable)
    assert error_of(cloudfront.delete_distribution, Id=distribution_id, IfMatch=disabled["ETag"])[:2] == \
        ("DistributionNotDisabled", 409)  # disabled, but still InProgress
    time.sleep(0.5)
    cloudfront.delete_distribution(Id=distribution_id, IfMatch=disabled["ETag"])
    assert error_of(cloudfront.get_distribution, Id=distribution_id)[:2] == ("NoSuchDistribution", 404)


# --- 5. ResourceInUseException and InUseBy ------------------------------------------------------------

def test_describe_shows_the_serial_as_acm_writes_it(acm):
    arn = request_issued(acm)
    serial = acm.describe_certificate(CertificateArn=arn)["Certificate"]["Serial"]
    leaf = x509.load_pem_x509_certificate(acm.get_certificate(CertificateArn=arn)["Certificate"].encode())
    assert ":" in serial and serial == serial.lower()
    assert int(serial.replace(":", ""), 16) == leaf.serial_number


def test_a_certificate_in_use_cannot_be_deleted_and_names_its_users(control, acm, cloudfront):
    certificate = request_issued(acm)
    created = create(cloudfront, "user", ["shop.example.com"], certificate)
    distribution = created["Distribution"]
    code, status, message = error_of(acm.delete_certificate, CertificateArn=certificate)
    assert (code, status) == ("ResourceInUseException", 400) and certificate in message
    assert acm.describe_certificate(CertificateArn=certificate)["Certificate"]["InUseBy"] == [distribution["ARN"]]
    summaries = acm.list_certificates()["CertificateSummaryList"]
    assert [summary["InUse"] for summary in summaries] == [True]
    control.finish_deployments()
    disabled = update(cloudfront, distribution["Id"], disable)
    control.finish_deployments()
    cloudfront.delete_distribution(Id=distribution["Id"], IfMatch=disabled["ETag"])
    assert acm.describe_certificate(CertificateArn=certificate)["Certificate"]["InUseBy"] == []
    acm.delete_certificate(CertificateArn=certificate)


# --- 6. InvalidViewerCertificate ----------------------------------------------------------------------

def test_certificate_must_exist_be_issued_and_be_in_us_east_1(aws, control, acm, cloudfront):
    missing = request_issued(acm).replace("certificate/", "certificate/0000")
    assert error_of(create, cloudfront, "missing", ["shop.example.com"], missing)[:2] == \
        ("InvalidViewerCertificate", 400)
    elsewhere = request_issued(client(aws, "acm", region="eu-west-1"))
    assert error_of(create, cloudfront, "elsewhere", ["shop.example.com"], elsewhere)[:2] == \
        ("InvalidViewerCertificate", 400)
    control.settings(acm_validation_wait=600)
    pending = request_issued(acm, "pending.example.com", ())
    assert error_of(create, cloudfront, "pending", ["pending.example.com"], pending)[:2] == \
        ("InvalidViewerCertificate", 400)
    assert error_of(create, cloudfront, "garbage", ["shop.example.com"], "not-an-arn")[:2] == \
        ("InvalidViewerCertificate", 400)


def test_certificate_names_must_cover_every_alias(acm, cloudfront):
    certificate = request_issued(acm, "shop.example.com", ("*.api.example.com",))
    create(cloudfront, "covered", ["SHOP.example.com", "v1.API.example.com"], certificate)
    for reference, alias in (("apex", "api.example.com"), ("deep", "a.b.api.example.com"),
                             ("other", "www.example.com")):
        code, status, message = error_of(create, cloudfront, reference, [alias], certificate)
        assert (code, status) == ("InvalidViewerCertificate", 400) and "doesn't cover" in message


def test_aliases_need_a_certificate_and_updates_are_checked_too(acm, cloudfront):
    assert error_of(create, cloudfront, "default-cert", ["shop.example.com"])[:2] == ("InvalidViewerCertificate", 400)
    certificate = request_issued(acm)
    distribution_id = create(cloudfront, "update", ["shop.example.com"], certificate)["Distribution"]["Id"]
    code, status, _ = error_of(update, cloudfront, distribution_id, set_aliases(["shop.other.com"]))
    assert (code, status) == ("InvalidViewerCertificate", 400)


# --- 7. InconsistentQuantities, IllegalUpdate ---------------------------------------------------------

def test_quantities_must_match_items(cloudfront):
    config = distribution_config("quantities", ["shop.example.com"])
    config["Aliases"]["Quantity"] = 2
    assert error_of(cloudfront.create_distribution, DistributionConfig=config)[:2] == ("InconsistentQuantities", 400)
    config = distribution_config("origins", [])
    config["Origins"]["Quantity"] = 3
    assert error_of(cloudfront.create_distribution, DistributionConfig=config)[:2] == ("InconsistentQuantities", 400)


def test_caller_reference_cannot_change(cloudfront):
    distribution_id = create(cloudfront, "reference", [])["Distribution"]["Id"]

    def new_reference(config):
        config["CallerReference"] = "changed"
    assert error_of(update, cloudfront, distribution_id, new_reference)[:2] == ("IllegalUpdate", 400)


def test_read_then_update_round_trip_is_accepted(acm, cloudfront):
    certificate = request_issued(acm)
    distribution_id = create(cloudfront, "round-trip", ["shop.example.com"], certificate)["Distribution"]["Id"]
    update(cloudfront, distribution_id, lambda config: None)


# --- 8. ACM import ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def issued():
    """A leaf for example.com issued by an emulator CA, its key, and the CA (the chain)."""
    ca = EmulatorCA(Clock())
    key_pem, csr_pem = generate_key_and_csr(["example.com", "www.example.com"])
    leaf = ca.issue(csr_pem, ["example.com", "www.example.com"], datetime.now(timezone.utc) + timedelta(days=90))
    return {"certificate": leaf.certificate_pem, "chain": leaf.chain_pem, "key": key_pem}


def self_signed(name: str) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=5))
                   .not_valid_after(now + timedelta(days=30))
                   .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
                   .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return certificate.public_bytes(serialization.Encoding.PEM).decode(), key_pem


def test_import_refuses_a_key_that_is_not_the_certificates(acm, issued):
    other_key, _ = generate_key_and_csr(["example.com"])
    code, status, message = error_of(acm.import_certificate, Certificate=issued["certificate"], PrivateKey=other_key,
                                     CertificateChain=issued["chain"])
    assert (code, status) == ("ValidationException", 400) and "private key" in message
    assert "PRIVATE KEY" not in message


def test_import_refuses_a_chain_that_does_not_start_with_the_issuer(acm, issued):
    unrelated_ca = EmulatorCA(Clock(), common_name="another CA").certificate_pem
    assert error_of(acm.import_certificate, Certificate=issued["certificate"], PrivateKey=issued["key"],
                    CertificateChain=unrelated_ca)[:2] == ("ValidationException", 400)
    assert error_of(acm.import_certificate, Certificate=issued["certificate"], PrivateKey=issued["key"])[:2] == \
        ("ValidationException", 400)  # CA-issued leaf, no chain
    certificate, key = self_signed("self.example.com")
    assert acm.import_certificate(Certificate=certificate, PrivateKey=key)["CertificateArn"]


def test_reimport_keeps_tags_and_refuses_new_ones(acm, issued):
    arn = acm.import_certificate(Certificate=issued["certificate"], PrivateKey=issued["key"],
                                 CertificateChain=issued["chain"],
                                 Tags=[{"Key": "certfleet:resource", "Value": "p/s/shop"}])["CertificateArn"]
    again = acm.import_certificate(CertificateArn=arn, Certificate=issued["certificate"], PrivateKey=issued["key"],
                                   CertificateChain=issued["chain"])
    assert again["CertificateArn"] == arn
    assert acm.list_tags_for_certificate(CertificateArn=arn)["Tags"] == [{"Key": "certfleet:resource",
                                                                          "Value": "p/s/shop"}]
    assert error_of(acm.import_certificate, CertificateArn=arn, Certificate=issued["certificate"],
                    PrivateKey=issued["key"], CertificateChain=issued["chain"],
                    Tags=[{"Key": "x", "Value": "y"}])[:2] == ("ValidationException", 400)
    requested = request_issued(acm)
    assert error_of(acm.import_certificate, CertificateArn=requested, Certificate=issued["certificate"],
                    PrivateKey=issued["key"], CertificateChain=issued["chain"])[:2] == ("ValidationException", 400)


def test_an_imported_certificate_serves_a_distribution(acm, cloudfront, issued):
    arn = acm.import_certificate(Certificate=issued["certificate"], PrivateKey=issued["key"],
                                 CertificateChain=issued["chain"])["CertificateArn"]
    create(cloudfront, "imported", ["www.example.com"], arn)
    assert error_of(create, cloudfront, "not-covered", ["shop.example.com"], arn)[0] == "InvalidViewerCertificate"


# --- 9. get_certificate while pending -------------------------------------------------------------------

def test_get_certificate_waits_for_issuance(control, acm):
    control.settings(acm_validation_wait=600)
    arn = request_issued(acm, "pending.example.com", ())
    assert error_of(acm.get_certificate, CertificateArn=arn)[:2] == ("RequestInProgressException", 400)
    control.settings(acm_validation_wait=0)
    assert "BEGIN CERTIFICATE" in acm.get_certificate(CertificateArn=arn)["Certificate"]


# --- 10. throttling -------------------------------------------------------------------------------------

def test_token_bucket_throttles_per_operation_in_each_services_format(aws, control, acm, cloudfront):
    control.throttle("cloudfront", "ListDistributions", rate=0.001, burst=2)
    cloudfront.list_distributions()
    cloudfront.list_distributions()
    assert error_of(cloudfront.list_distributions) == ("Throttling", 400, "Rate exceeded")
    # other operations are not limited by that rule
    assert error_of(cloudfront.get_distribution, Id="E000")[0] == "NoSuchDistribution"
    control.throttle("acm", "*", rate=0.001, burst=1)
    acm.list_certificates()
    assert error_of(acm.list_certificates) == ("ThrottlingException", 400, "Rate exceeded")
    request_issued(acm)  # "*" keeps one bucket per operation
    tagging = client(aws, "resourcegroupstaggingapi")
    control.throttle("tagging", probability=1)
    assert error_of(tagging.get_resources)[:2] == ("ThrottledException", 400)
    calls = control.calls()["operations"]
    assert calls["cloudfront:ListDistributions"] == {"ok": 2, "throttled": 1}
    assert calls["tagging:GetResources"] == {"throttled": 1}


def test_aws_quota_mode_limits_each_api_at_its_published_rate(control, acm, issued):
    rules = control.throttle_at_aws_quotas()
    assert {"service": "acm", "operation": "ImportCertificate", "rate": 1} in [
        {key: rule[key] for key in ("service", "operation", "rate")} for rule in rules]
    acm.import_certificate(Certificate=issued["certificate"], PrivateKey=issued["key"], CertificateChain=issued["chain"])
    assert error_of(acm.import_certificate, Certificate=issued["certificate"], PrivateKey=issued["key"],
                    CertificateChain=issued["chain"])[0] == "ThrottlingException"
    time.sleep(1.05)
    acm.import_certificate(Certificate=issued["certificate"], PrivateKey=issued["key"], CertificateChain=issued["chain"])


def test_sdk_retries_converge_under_throttling(aws, control):
    control.throttle("acm", "ListCertificates", probability=0.5)
    patient = boto3.client("acm", region_name="us-east-1", endpoint_url=aws, aws_access_key_id=TEST_AWS_KEY,
                           aws_secret_access_key=TEST_AWS_SECRET,
                           config=Config(retries={"total_max_attempts": 30, "mode": "standard"}))
    for _ in range(5):
        patient.list_certificates()


# --- 11. crash-test faults --------------------------------------------------------------------------------

@pytest.mark.serial  # measures time
def test_delay_after_performs_the_call_then_holds_the_answer(control, cloudfront):
    control.fault("CreateDistributionWithTags", delay_after=1.0)
    started = time.monotonic()
    create(cloudfront, "slow", [])
    assert time.monotonic() - started >= 1.0
    started = time.monotonic()
    create(cloudfront, "fast", [])  # times=1: used up
    assert time.monotonic() - started < 1.0


def test_drop_response_performs_the_call_and_closes_the_connection(control, cloudfront):
    control.fault("CreateDistributionWithTags", drop_response=True, times=1)
    with pytest.raises(botocore.exceptions.ConnectionClosedError):
        create(cloudfront, "lost", [])
    items = cloudfront.list_distributions()["DistributionList"]["Items"]
    assert [item["Id"] for item in items] == [d["id"] for d in control.distributions()]
    assert len(items) == 1  # the call was performed although its answer was lost
    assert control.calls()["operations"]["cloudfront:CreateDistributionWithTags"] == {"dropped": 1}
