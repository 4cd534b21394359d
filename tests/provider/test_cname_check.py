"""components/aws/cname_check.py against a real server over HTTP (the `aws` fixture).

Distributions are made with boto3 the way another stack, another tool or the console would make them. An
AccessDenied answer (a caller without the read permission) is injected at the wire: a botocore `before-send`
handler answers the request with the HTTP response AWS sends; the SDK parses it as usual.
"""

from __future__ import annotations

import io
import json
import uuid
from datetime import datetime, timezone

import botocore.awsrequest
import botocore.exceptions
import pytest
import urllib3

from components.aws import clients, cname_check
from components.aws.clients import client
from tests.pki import self_signed

STACK_TAG = "certfleet/test/shop"


def serving_certificate(aliases):
    """An issued us-east-1 certificate covering `aliases` (imported: requested ones take time to issue)."""
    certificate, key = self_signed(list(aliases), now=datetime.now(timezone.utc))
    return client("acm", "us-east-1").import_certificate(Certificate=certificate.encode(),
                                                         PrivateKey=key.encode())["CertificateArn"]


def distribution_config(aliases=(), comment="template", origin="origin.example.com"):
    """A small valid DistributionConfig (custom origin, managed CachingOptimized policy); with aliases, a
    certificate covering them (CloudFront refuses aliases without one)."""
    viewer = ({"ACMCertificateArn": serving_certificate(aliases), "SSLSupportMethod": "sni-only",
               "MinimumProtocolVersion": "TLSv1.2_2021", "CloudFrontDefaultCertificate": False}
              if aliases else {"CloudFrontDefaultCertificate": True})
    return {
        "CallerReference": uuid.uuid4().hex,
        "Comment": comment,
        "Enabled": True,
        "Aliases": {"Quantity": len(aliases), "Items": list(aliases)},
        "Origins": {"Quantity": 1, "Items": [{
            "Id": "origin", "DomainName": origin,
            "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only"}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "origin", "ViewerProtocolPolicy": "redirect-to-https",
                                 "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"},
        "ViewerCertificate": viewer,
        "PriceClass": "PriceClass_100",
    }


def make_distribution(aliases=(), resource_tag=None, comment="template"):
    """A distribution as another owner makes it; tagged `certfleet:resource` when `resource_tag` is given."""
    tags = [{"Key": cname_check.RESOURCE_TAG, "Value": resource_tag}] if resource_tag else []
    created = client("cloudfront", "us-east-1").create_distribution_with_tags(DistributionConfigWithTags={
        "DistributionConfig": distribution_config(aliases, comment), "Tags": {"Items": tags}})
    return created["Distribution"]["Id"]


def deny(service_event, status, content_type, body):
    """Answer every request of one client with an access-denied response."""
    def handler(request, **_):
        raw = urllib3.HTTPResponse(body=io.BytesIO(body), status=status, preload_content=False)
        return botocore.awsrequest.AWSResponse(request.url, status, {"Content-Type": content_type}, raw)
    service, event = service_event
    client(service, "us-east-1").meta.events.register_first(event, handler)


DENY_TAGGING = (("resourcegroupstaggingapi", "before-send.resource-groups-tagging-api"), 400,
                "application/x-amz-json-1.1",
                json.dumps({"__type": "AccessDeniedException", "message": "not authorized"}).encode())
DENY_CLOUDFRONT = (("cloudfront", "before-send.cloudfront"), 403, "text/xml",
                   b'<?xml version="1.0"?><ErrorResponse xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/">'
                   b"<Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User is not authorized to perform"
                   b" cloudfront:ListDistributions</Message></Error><RequestId>r</RequestId></ErrorResponse>")


@pytest.fixture
def fast_pacing(aws, monkeypatch):
    """These tests are about answers, not pacing (tests/provider/test_throttling.py): at CloudFront's 1 call/s
    each distribution a test sets up would cost a second."""
    monkeypatch.setattr(clients, "PACE", 100.0)
    clients.reset_rate_limits()
    yield
    clients.reset_rate_limits()


@pytest.fixture(autouse=True)
def fresh_listing(fast_pacing, monkeypatch):
    monkeypatch.setattr(cname_check, "PAGE_SIZE", 2)  # several pages with a handful of distributions
    cname_check.clear_cache()
    yield
    cname_check.clear_cache()


def test_an_alias_of_another_stack_names_the_distribution_and_its_owner():
    make_distribution(["other.example.com"])
    theirs = make_distribution(["shop.example.com", "www.shop.example.com"], "certfleet/prod/shop")
    make_distribution(["unrelated.example.com"], "certfleet/prod/blog")
    messages = cname_check.account_conflicts(["www.shop.example.com", "new.example.com"], STACK_TAG)
    assert messages == [f"alias 'www.shop.example.com' is already served by distribution {theirs} "
                        f"(certfleet:resource=certfleet/prod/shop)"]


def test_an_untagged_holder_is_named_as_not_managed_by_certfleet():
    theirs = make_distribution(["Shop.Example.com"])
    messages = cname_check.account_conflicts(["SHOP.example.COM"], STACK_TAG)  # names compare in lower case
    assert messages == [f"alias 'shop.example.com' is already served by distribution {theirs} "
                        f"(no certfleet:resource tag: not managed by certfleet)"]


def test_the_stacks_own_distributions_are_no_conflict_but_another_project_is():
    make_distribution(["a.example.com"], "certfleet/test/blog")        # same project and stack: ours
    other_project = make_distribution(["b.example.com"], "other/test/blog")
    assert cname_check.account_conflicts(["a.example.com"], STACK_TAG) == []
    assert cname_check.account_conflicts(["b.example.com"], STACK_TAG) == [
        f"alias 'b.example.com' is already served by distribution {other_project} "
        f"(certfleet:resource=other/test/blog)"]


def test_only_exact_names_clash_never_wildcard_overlap():
    make_distribution(["*.example.com"], "certfleet/prod/wild")
    assert cname_check.account_conflicts(["a.example.com"], STACK_TAG) == []
    assert len(cname_check.account_conflicts(["*.example.com"], STACK_TAG)) == 1


def test_every_page_of_the_listing_is_read():
    for i in range(5):
        make_distribution([f"d{i}.example.com"], f"certfleet/prod/d{i}")
    messages = cname_check.account_conflicts([f"d{i}.example.com" for i in range(5)], STACK_TAG)
    assert [m.split("'")[1] for m in messages] == [f"d{i}.example.com" for i in range(5)]
    assert all("certfleet:resource=certfleet/prod/d" in m for m in messages)


def test_the_account_is_listed_once_per_process_and_holder_of_looks_again():
    assert cname_check.account_conflicts(["late.example.com"], STACK_TAG) == []
    late = make_distribution(["late.example.com"], "certfleet/prod/late")
    assert cname_check.account_conflicts(["late.example.com"], STACK_TAG) == []  # the process's listing
    assert cname_check.holder_of("LATE.example.com") == (late, "certfleet/prod/late")
    assert cname_check.holder_of("nobody.example.com") is None
    assert len(cname_check.account_conflicts(["late.example.com"], STACK_TAG)) == 1  # holder_of relisted


def test_no_credentials_skip_the_check_silently(monkeypatch, tmp_path):
    make_distribution(["shop.example.com"], "certfleet/prod/shop")
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    clients._clients.clear()
    assert cname_check.account_conflicts(["shop.example.com"], STACK_TAG) == []
    assert cname_check.holder_of("shop.example.com") is None


@pytest.mark.parametrize("denied", [DENY_TAGGING, DENY_CLOUDFRONT], ids=["tag:GetResources", "ListDistributions"])
def test_access_denied_on_either_listing_skips_the_check_silently(denied):
    make_distribution(["shop.example.com"], "certfleet/prod/shop")
    deny(*denied)
    assert cname_check.account_conflicts(["shop.example.com"], STACK_TAG) == []


def test_what_counts_as_no_access_to_the_account():
    assert cname_check.no_account_access(botocore.exceptions.NoCredentialsError())
    assert cname_check.no_account_access(botocore.exceptions.EndpointConnectionError(endpoint_url="http://x"))
    assert cname_check.no_account_access(botocore.exceptions.ClientError(
        {"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "GetResources"))
    assert not cname_check.no_account_access(botocore.exceptions.ClientError(
        {"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "GetResources"))
