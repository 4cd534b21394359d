"""Pacing and retries of components/aws/clients.py against the AWS emulator (fixture `aws`), which throttles
on demand: a throttled call is retried and succeeds, a validation error or a hard quota is sent once, and
the client's own pace keeps under AWS's published rates."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import botocore.exceptions
import pytest

from components.aws import clients
from emulators.aws.testing import AwsControl


@pytest.fixture
def acm(aws):
    clients.reset_api_counts()
    clients.reset_rate_limits()
    yield clients.client("acm", "us-east-1")
    clients.reset_api_counts()
    clients.reset_rate_limits()


def counts(operation: str) -> clients.OperationCounts:
    return clients.api_counts().get(("acm", operation), clients.OperationCounts())


def request(acm, name: str = "shop.example.com", sans: list[str] | None = None) -> str:
    return acm.request_certificate(DomainName=name, ValidationMethod="DNS",
                                   SubjectAlternativeNames=sans or [name])["CertificateArn"]


def test_a_throttled_call_is_retried_and_succeeds(aws, acm):
    arn = request(acm)
    # The server allows 2 DescribeCertificate a second, one at a time; the client paces at ACM's 10/s.
    AwsControl(aws).throttle("acm", "DescribeCertificate", rate=2, burst=1)
    for _ in range(3):
        assert acm.describe_certificate(CertificateArn=arn)["Certificate"]["CertificateArn"] == arn
    seen = counts("DescribeCertificate")
    assert seen.calls == 3 and seen.throttled >= 1 and seen.retries == seen.throttled
    server = AwsControl(aws).calls()["operations"]["acm:DescribeCertificate"]
    assert server["throttled"] == seen.throttled and server["ok"] == 3


def test_a_validation_error_is_sent_once(acm):
    arn = request(acm)
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        acm.add_tags_to_certificate(CertificateArn=arn, Tags=[{"Key": "aws:reserved", "Value": "x"}])
    assert clients.error_code(raised.value) == "ValidationException"
    seen = counts("AddTagsToCertificate")
    assert (seen.calls, seen.attempts, seen.throttled) == (1, 1, 0)


def test_a_hard_acm_quota_is_sent_once(acm):
    """botocore's standard mode counts LimitExceededException as throttling; at ACM it is a quota (here: more
    names than a certificate may have), so waiting cannot help."""
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        request(acm, sans=[f"n{i}.example.com" for i in range(11)])
    assert clients.error_code(raised.value) == "LimitExceededException"
    assert (counts("RequestCertificate").calls, counts("RequestCertificate").attempts) == (1, 1)


@pytest.mark.serial  # pacing is measured against the server's clock: no other test's load beside it
def test_the_client_keeps_under_aws_quotas_from_several_threads(aws, acm):
    """At AWS's published rates on the server, 4 threads calling as fast as they can are never throttled:
    ListCertificates (1/s) x 3 takes over 2 s, DescribeCertificate (10/s) x 20 about 2 s (the client paces at
    clients.PACE of the quota)."""
    arn = request(acm)
    AwsControl(aws).throttle_at_aws_quotas()
    start = time.monotonic()
    with ThreadPoolExecutor(4) as pool:
        listed = list(pool.map(lambda _: acm.list_certificates(), range(3)))
        described = list(pool.map(lambda _: acm.describe_certificate(CertificateArn=arn), range(20)))
    elapsed = time.monotonic() - start
    assert len(listed) == 3 and len(described) == 20
    assert elapsed >= (2 / 1 + 19 / 10) / clients.PACE - 0.1
    assert counts("ListCertificates").throttled == 0 and counts("DescribeCertificate").throttled == 0
    assert counts("DescribeCertificate").waited > 1.5   # the client, not the server, did the waiting
    totals = AwsControl(aws).calls()["operations"]
    assert totals["acm:ListCertificates"].get("throttled", 0) == 0
    assert totals["acm:DescribeCertificate"].get("throttled", 0) == 0
