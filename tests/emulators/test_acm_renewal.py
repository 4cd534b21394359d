"""ACM managed renewal in the AWS emulator (emulators/aws/acm_renewal.py), driven by its clock through the
control API, read through boto3: an issued, in-use certificate whose validation CNAME is in Route 53 is renewed
in place when the clock enters the 60-day window; without the CNAME it waits in PENDING_VALIDATION; not in use it
is never renewed and expires on the clock."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from cryptography import x509

from emulators.aws.acm_renewal import RENEWED_VALIDITY
from emulators.core.testing import ControlAPIError
from tests.emulators.test_aws_emulator import acm, cloudfront, control  # noqa: F401 (fixtures)
from tests.emulators.test_aws_emulator import client, create, request_issued

DAY = 86400


@pytest.fixture
def route53(aws, control):
    return client(aws, "route53")


def publish_validation_cnames(acm, route53, arn: str) -> str:
    """The certificate's validation CNAMEs in a hosted zone, as certfleet's dns block writes them."""
    zone_id = route53.create_hosted_zone(Name="example.com", CallerReference=arn)["HostedZone"]["Id"]
    records = {(o["ResourceRecord"]["Name"], o["ResourceRecord"]["Value"])
               for o in acm.describe_certificate(CertificateArn=arn)["Certificate"]["DomainValidationOptions"]}
    route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": [
        {"Action": "CREATE", "ResourceRecordSet": {"Name": name, "Type": "CNAME", "TTL": 300,
                                                    "ResourceRecords": [{"Value": value}]}}
        for name, value in sorted(records)]})
    return zone_id


def described(acm, arn: str) -> dict:
    return acm.describe_certificate(CertificateArn=arn)["Certificate"]


def days_into_window(certificate: dict, days_before_expiry: float) -> float:
    """Seconds to advance the clock so that the certificate expires in `days_before_expiry` days."""
    return (certificate["NotAfter"] - datetime.now(timezone.utc)).total_seconds() - days_before_expiry * DAY


def test_the_clock_is_read_and_moved_through_the_control_api(control):
    before = datetime.fromisoformat(control.now())
    after = datetime.fromisoformat(control.advance_clock(10 * DAY))
    assert timedelta(days=10) <= after - before < timedelta(days=10, minutes=1)
    with pytest.raises(ControlAPIError) as refused:
        control.advance_clock(-1)
    assert refused.value.status == 400
    control.reset()
    assert datetime.fromisoformat(control.now()) - before < timedelta(minutes=1)


def test_an_in_use_certificate_with_its_cname_is_renewed_in_place_in_the_window(control, acm, cloudfront, route53):
    arn = request_issued(acm)
    publish_validation_cnames(acm, route53, arn)
    create(cloudfront, "renewed", ["www.example.com"], arn)
    first = described(acm, arn)
    assert first["RenewalEligibility"] == "ELIGIBLE" and "RenewalSummary" not in first

    control.advance_clock(days_into_window(first, 61))  # one day before the window: nothing yet
    assert "RenewalSummary" not in described(acm, arn) and described(acm, arn)["Serial"] == first["Serial"]

    now = datetime.fromisoformat(control.advance_clock(2 * DAY))  # 59 days left: ACM renews
    renewed = described(acm, arn)
    assert renewed["CertificateArn"] == arn and renewed["Status"] == "ISSUED"
    assert renewed["Serial"] != first["Serial"] and renewed["NotBefore"] > first["NotBefore"]
    assert abs(renewed["NotAfter"] - (now + RENEWED_VALIDITY)) < timedelta(minutes=1)
    summary = renewed["RenewalSummary"]
    assert summary["RenewalStatus"] == "SUCCESS"
    assert {o["ValidationStatus"] for o in summary["DomainValidationOptions"]} == {"SUCCESS"}
    assert {o["DomainName"] for o in summary["DomainValidationOptions"]} == {"example.com", "*.example.com"}
    assert abs(summary["UpdatedAt"] - now) < timedelta(minutes=1)
    # The served certificate is the renewed one, and a later read does not renew again.
    pem = acm.get_certificate(CertificateArn=arn)["Certificate"]
    assert x509.load_pem_x509_certificate(pem.encode()).serial_number == int(renewed["Serial"].replace(":", ""), 16)
    assert described(acm, arn)["Serial"] == renewed["Serial"]


def test_a_missing_cname_leaves_the_renewal_pending_validation_until_it_is_back(control, acm, cloudfront, route53):
    arn = request_issued(acm, "example.com", ())
    create(cloudfront, "pending", ["example.com"], arn)
    first = described(acm, arn)
    control.advance_clock(days_into_window(first, 30))
    pending = described(acm, arn)
    assert pending["Serial"] == first["Serial"]
    assert pending["RenewalSummary"]["RenewalStatus"] == "PENDING_VALIDATION"
    assert [o["ValidationStatus"] for o in pending["RenewalSummary"]["DomainValidationOptions"]] == \
        ["PENDING_VALIDATION"]
    publish_validation_cnames(acm, route53, arn)  # the CNAME is back: the next attempt succeeds
    assert described(acm, arn)["RenewalSummary"]["RenewalStatus"] == "SUCCESS"


def test_a_pending_renewal_fails_and_the_certificate_expires_on_the_clock(control, acm, cloudfront):
    arn = request_issued(acm, "example.com", ())
    create(cloudfront, "failing", ["example.com"], arn)
    first = described(acm, arn)
    control.advance_clock(days_into_window(first, 10))
    assert described(acm, arn)["RenewalSummary"]["RenewalStatus"] == "PENDING_VALIDATION"
    control.advance_clock(11 * DAY)
    expired = described(acm, arn)
    assert expired["Status"] == "EXPIRED" and expired["RenewalEligibility"] == "INELIGIBLE"
    assert expired["RenewalSummary"]["RenewalStatus"] == "FAILED"


def test_a_certificate_no_distribution_uses_is_ineligible_and_never_renewed(control, acm, route53):
    arn = request_issued(acm)
    publish_validation_cnames(acm, route53, arn)
    first = described(acm, arn)
    assert first["RenewalEligibility"] == "INELIGIBLE"
    control.advance_clock(days_into_window(first, 5))
    unused = described(acm, arn)
    assert unused["Serial"] == first["Serial"] and "RenewalSummary" not in unused
    assert acm.list_certificates()["CertificateSummaryList"][0]["Status"] == "ISSUED"
