"""The ACM provider reports ACM's own renewal of a requested certificate: `renewal_status`, `renewal_eligibility`
and the new `not_after`, read at create and refresh from the AWS emulator, whose clock is moved into the renewal
window through its control API. These are outputs, never inputs: a renewal is no drift, and the diff of an
unchanged entry stays quiet."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import boto3

from emulators.aws.testing import AwsControl
from tests.conftest import TEST_AWS_KEY, TEST_AWS_SECRET
from tests.emulators.test_aws_emulator import create as create_distribution
from tests.provider.test_acm_provider import inputs, provider  # noqa: F401 (fixture)

DAY = 86400


def publish_validation_cnames(outs: dict, moto_url: str) -> None:
    """What certfleet's dns block does: the certificate's validation CNAMEs in a Route 53 hosted zone."""
    route53 = boto3.client("route53", region_name="us-east-1", endpoint_url=moto_url,
                           aws_access_key_id=TEST_AWS_KEY, aws_secret_access_key=TEST_AWS_SECRET)
    zone_id = route53.create_hosted_zone(Name="shop.example.com", CallerReference="renewal")["HostedZone"]["Id"]
    route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": [
        {"Action": "CREATE", "ResourceRecordSet": {"Name": r["name"], "Type": r["type"], "TTL": 300,
                                                    "ResourceRecords": [{"Value": r["value"]}]}}
        for r in outs["validation_records"]]})


def test_refresh_reads_acms_renewal_of_a_certificate_in_use(provider, aws):  # noqa: F811
    control = AwsControl(aws)
    control.settings(acm_validation_wait=0)
    created = provider.create(inputs())
    assert created.outs["status"] == "ISSUED"
    assert created.outs["renewal_status"] is None and created.outs["renewal_eligibility"] == "INELIGIBLE"
    publish_validation_cnames(created.outs, aws)
    cloudfront = boto3.client("cloudfront", region_name="us-east-1", endpoint_url=aws,
                              aws_access_key_id=TEST_AWS_KEY, aws_secret_access_key=TEST_AWS_SECRET)
    create_distribution(cloudfront, "shop", ["shop.example.com"], created.id)

    in_use = provider.read(created.id, created.outs)
    assert in_use.outs["renewal_eligibility"] == "ELIGIBLE" and in_use.outs["renewal_status"] is None

    old_expiry = datetime.fromisoformat(created.outs["not_after"])
    control.advance_clock((old_expiry - datetime.now(timezone.utc)).total_seconds() - 30 * DAY)
    renewed = provider.read(created.id, in_use.outs)
    assert renewed.id == created.id and renewed.outs["status"] == "ISSUED"
    assert renewed.outs["renewal_status"] == "SUCCESS"
    assert datetime.fromisoformat(renewed.outs["not_after"]) > old_expiry + timedelta(days=100)
    # Outputs only: nothing of the renewal is an input, so the next preview of an unchanged entry stays quiet.
    assert not {"renewal_status", "renewal_eligibility", "not_after"} & set(renewed.inputs)
    assert provider.diff(created.id, renewed.outs, inputs()).changes is False


def test_a_renewal_waiting_for_its_cname_is_read_as_pending_validation(provider, aws):  # noqa: F811
    control = AwsControl(aws)
    control.settings(acm_validation_wait=0)
    created = provider.create(inputs())
    cloudfront = boto3.client("cloudfront", region_name="us-east-1", endpoint_url=aws,
                              aws_access_key_id=TEST_AWS_KEY, aws_secret_access_key=TEST_AWS_SECRET)
    create_distribution(cloudfront, "shop", ["shop.example.com"], created.id)
    expiry = datetime.fromisoformat(created.outs["not_after"])
    control.advance_clock((expiry - datetime.now(timezone.utc)).total_seconds() - 20 * DAY)
    pending = provider.read(created.id, created.outs).outs
    assert pending["renewal_status"] == "PENDING_VALIDATION" and pending["not_after"] == created.outs["not_after"]
