"""Adopt by id end to end (issue 14): the real `pulumi` CLI, the certfleet program, the AWS emulator.

A certificate and a distribution made out of band with boto3 (as a console or CloudFront Extensions would) are
adopted through config: the first `up` creates nothing, the next preview is clean, removing the `adopt` lines
changes nothing, and destroy keeps both on the server.
"""

from __future__ import annotations

import os
import time

import pytest

from emulators.aws.testing import AwsControl
from tests.conftest import moto_list
from tests.e2e.test_cloudfront_e2e import TEMPLATE_CONFIG, live_distributions, make_template, sdk


def made_by_hand() -> tuple[str, str]:
    """(certificate ARN, distribution id): an issued certificate and a distribution that serves it."""
    acm = sdk("acm")
    arn = acm.request_certificate(DomainName="shop.example.com", ValidationMethod="DNS",
                                  SubjectAlternativeNames=["shop.example.com", "www.shop.example.com"],
                                  Tags=[{"Key": "team", "Value": "web"}])["CertificateArn"]
    deadline = time.monotonic() + 20
    while acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"] != "ISSUED":
        assert time.monotonic() < deadline, "the emulator did not issue the certificate"
        time.sleep(0.3)
    aliases = ["shop.example.com", "www.shop.example.com"]
    config = {**TEMPLATE_CONFIG, "CallerReference": "by-hand", "Comment": "made by hand",
              "Aliases": {"Quantity": 2, "Items": aliases},
              "ViewerCertificate": {"ACMCertificateArn": arn, "SSLSupportMethod": "sni-only",
                                    "MinimumProtocolVersion": "TLSv1.2_2019"}}
    distribution_id = sdk("cloudfront").create_distribution(DistributionConfig=config)["Distribution"]["Id"]
    return arn, distribution_id


@pytest.fixture
def control(aws) -> AwsControl:
    return AwsControl(aws)


def test_adopt_a_certificate_and_a_distribution_then_forget_adopt_and_destroy_keeps_both(project, control):
    control.settings(deploy_seconds=0)
    template = make_template()
    arn, distribution_id = made_by_hand()
    config = {"aws": {"region": "us-east-1", "deployedTimeoutSeconds": 60, "tags": {"team": "web"},
                      "certificates": {"shop": {"domain": "shop.example.com", "sans": ["www.shop.example.com"],
                                                "adopt": arn}},
                      "distributions": {"shop": {"template": template, "certificate": "shop",
                                                 "adopt": distribution_id}}}}
    project.init()
    project.write_stack("e2e", config)
    project.run("up", "--yes", "--skip-preview")
    out = project.outputs()["aws"]
    assert out["certificates"]["shop"]["arn"] == arn and out["certificates"]["shop"]["adopted"] is True
    shop = out["distributions"]["shop"]
    assert shop["distribution_id"] == distribution_id and shop["adopted"] is True and shop["bound"]
    assert [c["CertificateArn"] for c in moto_list(os.environ["AWS_ENDPOINT_URL"])] == [arn]  # nothing requested
    assert list(live_distributions()) == [distribution_id]                                     # nothing created
    live = live_distributions()[distribution_id]
    assert live["ViewerCertificate"]["MinimumProtocolVersion"] == "TLSv1.2_2021"  # brought to the entry

    project.run("preview", "--expect-no-changes")
    for section in ("certificates", "distributions"):
        del config["aws"][section]["shop"]["adopt"]
    project.write_stack("e2e", config)
    project.run("preview", "--expect-no-changes")  # removing adopt changes nothing
    project.run("up", "--yes", "--skip-preview")
    assert project.outputs()["aws"]["distributions"]["shop"]["adopted"] is True

    destroy = project.run("destroy", "--yes", "--skip-preview")
    assert "kept" in destroy.stdout + destroy.stderr
    assert [c["CertificateArn"] for c in moto_list(os.environ["AWS_ENDPOINT_URL"])] == [arn]
    assert list(live_distributions()) == [distribution_id]
    assert live_distributions()[distribution_id]["Enabled"] is True
