"""components/aws/tag_index.py with the ACM provider against moto: a run that touches many certificates lists
certfleet's tagged certificates once instead of asking per certificate, and stays as safe as asking."""

from __future__ import annotations

import json

import botocore.awsrequest
import pytest

from components.aws import acm, clients
from components.aws.acm import AcmCertificateProvider
from components.aws import tag_index

INDEX_AFTER = 3   # the tests' threshold (the module's is 10): fewer certificates, the same sequence of calls
from tests.provider.test_acm_provider import FakeClock, _RawBody, acm_client, inputs


@pytest.fixture
def provider(aws, monkeypatch):
    monkeypatch.setattr(tag_index, "INDEX_AFTER", INDEX_AFTER)
    p = AcmCertificateProvider()
    p.clock = FakeClock
    clients.reset_api_counts()
    return p


def calls(service: str, operation: str) -> int:
    counts = clients.api_counts().get((service, operation))
    return counts.calls if counts else 0


def entry(i: int, **extra):
    return inputs(name=f"c{i}", domain=f"c{i}.example.com", sans=(), **extra)


def test_a_run_creating_many_certificates_lists_them_once_and_reads_each_answer_once(provider):
    n = INDEX_AFTER + 5
    for i in range(n):
        provider.create(entry(i))
    # INDEX_AFTER looks of their own, then one listing (one page) for the rest
    assert calls("resourcegroupstaggingapi", "GetResources") == INDEX_AFTER + 1
    assert calls("acm", "RequestCertificate") == n
    # the request's answer is described and its tags read once (the records were there at the first look)
    assert calls("acm", "DescribeCertificate") == n
    assert calls("acm", "ListTagsForCertificate") == n


def test_the_listing_finds_what_an_interrupted_create_requested(provider):
    first = provider.create(inputs())                  # its result never reached the state (a crash)
    for i in range(INDEX_AFTER):
        provider.create(entry(i))                      # the last of these lists the index, `shop` in it
    again = provider.create(inputs())                  # the rerun's create looks in the listing
    assert again.id == first.id
    assert calls("acm", "RequestCertificate") == INDEX_AFTER + 1
    # INDEX_AFTER looks of their own, one listing page, and none for the rerun's look: the listing answered it
    assert calls("resourcegroupstaggingapi", "GetResources") == INDEX_AFTER + 1
    assert len(acm_client().list_certificates()["CertificateSummaryList"]) == INDEX_AFTER + 1


def test_a_refresh_of_many_takes_tags_from_the_listing_and_confirms_what_differs(provider):
    made = [provider.create(entry(i, tags={"team": "a"})) for i in range(INDEX_AFTER + 5)]
    acm.CERTIFICATES.reset()                           # the refresh is a new run
    changed = made[-1]
    acm_client().add_tags_to_certificate(CertificateArn=changed.id, Tags=[{"Key": "team", "Value": "b"}])
    clients.reset_api_counts()
    reads = [provider.read(m.id, m.outs) for m in made]
    assert [r.outs["tags"] for r in reads] == [{"team": "a"}] * (len(made) - 1) + [{"team": "b"}]
    assert reads[-1].inputs["tags"] == {"team": "b"}   # drift shows in the next preview
    assert calls("acm", "DescribeCertificate") == len(made)
    assert calls("resourcegroupstaggingapi", "GetResources") == 1
    # the first INDEX_AFTER reads ask ACM; after the listing, only the one whose tags differ from the state
    assert calls("acm", "ListTagsForCertificate") == INDEX_AFTER + 1


def test_tags_certfleet_changed_after_the_listing_are_read_from_acm(provider):
    made = [provider.create(entry(i, tags={"team": "a"})) for i in range(INDEX_AFTER + 1)]  # listed: team a
    updated = provider.update(made[0].id, made[0].outs, {**made[0].outs, "tags": {"team": "c"}})
    assert updated.outs["tags"] == {"team": "c"}
    assert provider.read(made[0].id, updated.outs).outs["tags"] == {"team": "c"}   # not the listing's "a"


def test_a_listing_older_than_a_minute_is_taken_again(provider, monkeypatch):
    monkeypatch.setattr(tag_index, "MAX_AGE_SECONDS", 0.0)   # every use finds it too old
    for i in range(INDEX_AFTER + 3):
        provider.create(entry(i))
    assert calls("resourcegroupstaggingapi", "GetResources") == INDEX_AFTER + 3   # then one listing per look


def test_a_listing_that_fails_leaves_every_read_asking_acm(provider):
    made = [provider.create(entry(i, tags={"team": "a"})) for i in range(INDEX_AFTER + 3)]
    acm.CERTIFICATES.reset()
    tagging = clients.client("resourcegroupstaggingapi", "us-east-1")
    refused = {"n": 0}

    def refuse(request, **_):   # the tagging API unreachable for this run (any error, not just AccessDenied)
        refused["n"] += 1
        body = json.dumps({"__type": "InvalidParameterException", "Message": "refused by the test"}).encode()
        return botocore.awsrequest.AWSResponse(request.url, 400, {"Content-Type": "application/x-amz-json-1.1"},
                                               _RawBody(body))

    tagging.meta.events.register_first("before-send.resource-groups-tagging-api.GetResources", refuse)
    try:
        clients.reset_api_counts()
        reads = [provider.read(m.id, m.outs) for m in made]
    finally:
        tagging.meta.events.unregister("before-send.resource-groups-tagging-api.GetResources", refuse)
    assert refused["n"] == 1                            # tried once, then not again within the minute
    assert [r.outs["tags"] for r in reads] == [{"team": "a"}] * len(made)
    assert calls("acm", "ListTagsForCertificate") == len(made)


def test_the_listing_finds_a_renamed_entrys_certificate_under_its_former_name(provider):
    old = inputs()
    first = provider.create(old)                       # requested under the old name; the run crashed
    for i in range(INDEX_AFTER):
        provider.create(entry(i))                      # the last of these lists the index
    renamed = {**old, "cert_name": "shop-eu", "resource_tag": "certfleet/test/shop-eu",
               "previous_resource_tags": ["certfleet/test/shop"]}
    assert provider.create(renamed).id == first.id     # found in the listing under the former identity
    assert calls("acm", "RequestCertificate") == INDEX_AFTER + 1
    assert calls("resourcegroupstaggingapi", "GetResources") == INDEX_AFTER + 1   # the listing answered it


def test_a_replacement_that_takes_the_listed_certificate_leaves_it_to_the_new_resource(provider):
    for i in range(INDEX_AFTER):
        provider.create(entry(i))
    old = provider.create(inputs())                    # listed from here on
    new = provider.create(inputs())                    # the replacement's create finds it in the listing
    assert new.id == old.id
    provider.delete(old.id, old.outs)                  # the replaced resource's delete: not its own any more
    assert acm_client().describe_certificate(CertificateArn=new.id)["Certificate"]["Status"] == "PENDING_VALIDATION"


def test_the_listing_is_paged_by_certificates_not_by_tags(provider):
    # GetResources also cuts a page at TagsPerPage tags (100 unless asked, in AWS and moto): 40 certificates of
    # 4 or more tags would be 2 pages or more. The listing asks for the most allowed, so one page holds them.
    made = [provider.create(entry(i, tags={"team": "a", "env": "prod"})) for i in range(40)]
    assert min(len(acm_client().list_tags_for_certificate(CertificateArn=m.id)["Tags"]) for m in made) >= 4
    acm.CERTIFICATES.reset()                           # the refresh is a new run
    clients.reset_api_counts()
    for m in made:
        provider.read(m.id, m.outs)
    assert calls("resourcegroupstaggingapi", "GetResources") == 1
