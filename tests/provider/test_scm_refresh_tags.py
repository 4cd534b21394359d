"""A refresh of many SCM certificates takes their tags from one listing (components/huaweicloud/scm_tag_index.py),
against the SCM emulator through the official SDK: the same tags reported, about one call per certificate."""

from __future__ import annotations

import pytest

from components.huaweicloud import scm
from components.huaweicloud.scm_tag_index import INDEX_AFTER
from tests.provider.test_scm_provider import count_calls, inputs, provider  # noqa: F401 - the provider fixture

MANY = INDEX_AFTER + 3


@pytest.fixture(autouse=True)
def fresh_index():
    scm.REFRESH_TAGS.reset()  # each test is a run of its own
    yield
    scm.REFRESH_TAGS.reset()


def created(provider, n=MANY, tags=None):
    """n certificates bought and applied for, as `up` leaves them: [(id, outputs)]."""
    made = []
    for i in range(n):
        result = provider.create(inputs(name=f"cert-{i}", domains=[f"site{i}.example.com"],
                                        tags=tags or {"team": "edge"}))
        made.append((result.id, result.outs))
    return made


def set_console_tags(scm_client, cert_id, tags):
    from huaweicloudsdkscm.v3 import BatchCreateOrDeleteTagsRequest, BatchCreateOrDeleteTagsRequestBody, ScsResourceTag

    scm_client.batch_create_or_delete_tags(BatchCreateOrDeleteTagsRequest(
        resource_id=cert_id, body=BatchCreateOrDeleteTagsRequestBody(
            action="create", tags=[ScsResourceTag(key=k, value=v) for k, v in tags.items()])))


def test_a_refresh_of_many_certificates_lists_their_tags_once(provider, scm_control):
    made = created(provider)
    tag_calls = count_calls(scm_control, "ListTagsByCertificate")
    listings = count_calls(scm_control, "ListCertificatesByTag")
    shows = count_calls(scm_control, "ShowCertificate")
    for cert_id, outs in made:
        read = provider.read(cert_id, outs)
        assert read.id == cert_id and read.outs["tags"] == read.inputs["tags"] == {"team": "edge"}
        assert read.inputs == {k: outs[k] for k in scm.INPUT_KEYS}  # nothing drifted
    # The first INDEX_AFTER reads ask per certificate; the rest come from one listing (one page of 50).
    assert (shows(), tag_calls(), listings()) == (MANY, INDEX_AFTER, 1)


def test_tags_changed_in_the_console_are_reported_from_scm_not_the_listing(provider, scm_control, scm_client):
    made = created(provider)
    changed_id, changed_outs = made[-1]
    set_console_tags(scm_client, changed_id, {"team": "console"})
    tag_calls = count_calls(scm_control, "ListTagsByCertificate")
    reads = {cert_id: provider.read(cert_id, outs) for cert_id, outs in made}
    assert reads[changed_id].inputs["tags"] == reads[changed_id].outs["tags"] == {"team": "console"}
    assert all(r.inputs["tags"] == {"team": "edge"} for i, r in reads.items() if i != changed_id)
    # The listing shows other tags than the state: SCM's own answer for that certificate confirms them.
    assert tag_calls() == INDEX_AFTER + 1
    # A change made after this run's listing was taken is seen by the next refresh (a new listing).
    set_console_tags(scm_client, made[-2][0], {"team": "late"})
    scm.REFRESH_TAGS.reset()
    later = [provider.read(cert_id, outs) for cert_id, outs in made]
    assert later[-2].outs["tags"] == {"team": "late"}


@pytest.mark.parametrize("listing", ["fails", "lags"])
def test_without_a_usable_listing_every_read_asks_scm(provider, scm_control, listing):
    if listing == "lags":
        scm_control.call("POST", "scm/settings", {"tag_index_lag_reads": 10_000})  # the index never shows them
    made = created(provider)
    if listing == "fails":  # e.g. no scm:cert:listCertificatesByTag permission
        scm_control.add_fault("ListCertificatesByTag", status=403, code="SCM.0403", times=None)
    tag_calls = count_calls(scm_control, "ListTagsByCertificate")
    for cert_id, outs in made:
        assert provider.read(cert_id, outs).outs["tags"] == {"team": "edge"}
    assert tag_calls() == MANY


def test_a_certificate_gone_under_its_owner_is_still_dropped(provider, scm_control, scm_client):
    from huaweicloudsdkscm.v3 import UnsubscribeCertificateRequest

    made = created(provider, MANY - 1)
    scm_control.add_fault("ApplyCertificate", status=400, code="SCM.0015", times=1)  # left PAID: refundable
    gone = provider.create(inputs(name="refunded", domains=["refunded.example.com"], tags={"team": "edge"}))
    assert gone.outs["status"] == "PAID"
    for cert_id, outs in made:
        provider.read(cert_id, outs)  # the listing is taken
    gone_id, gone_outs = gone.id, gone.outs
    scm_client.unsubscribe_certificate(UnsubscribeCertificateRequest(cert_id=gone_id))  # refunded in the console
    assert provider.read(gone_id, gone_outs).id == ""
