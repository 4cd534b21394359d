"""The ACM dynamic provider's methods, called directly against a real moto server over HTTP.

What moto cannot produce (ResourceInUseException, validation records that appear late) is injected at the
wire: a botocore `before-send` handler answers one request with the HTTP response ACM would send, and the
SDK parses it as usual. Nothing replaces the SDK call itself.
"""

from __future__ import annotations

import json

import botocore.awsrequest
import pytest
from cryptography import x509

from components.aws import acm, acm_seen
from components.aws.acm import AcmCertificateProvider, certificate_inputs
from components.config import load_fleet
from components.errors import CloudError


RESOURCE_TAG = "certfleet/test/shop"


def inputs(name="shop", domain="shop.example.com", sans=("www.shop.example.com",), aws_extra=None, **cert):
    raw = {"aws": {**(aws_extra or {}), "certificates": {name: {"domain": domain, "sans": list(sans), **cert}}}}
    fleet = load_fleet(raw)
    return certificate_inputs(fleet.aws.certificates[0], fleet.aws, f"certfleet/test/{name}")


class FakeClock:
    """Time advances only when the provider sleeps: bounded waits run instantly."""

    t = 0.0

    @classmethod
    def now(cls):
        return cls.t

    @classmethod
    def sleep(cls, seconds):
        cls.t += seconds


@pytest.fixture
def provider(aws):
    p = AcmCertificateProvider()
    p.clock = FakeClock
    return p


def acm_client():
    return acm.client("acm", "us-east-1")


def tags_of(arn):
    return {t["Key"]: t.get("Value") for t in acm_client().list_tags_for_certificate(CertificateArn=arn)["Tags"]}


def inject(operation, status, code, message, times):
    """Answer the next `times` calls of `operation` with an ACM error response (JSON 1.1 protocol)."""
    left = {"n": times}

    def handler(request, **_):
        target = request.headers.get("X-Amz-Target", b"")
        target = target.decode() if isinstance(target, bytes) else target
        if target.endswith("." + operation) and left["n"] > 0:
            left["n"] -= 1
            body = json.dumps({"__type": code, "message": message}).encode()
            return botocore.awsrequest.AWSResponse(request.url, status, {"Content-Type": "application/x-amz-json-1.1"},
                                                   _RawBody(body))
        return None

    acm_client().meta.events.register_first("before-send.acm", handler)
    return left


class _RawBody:
    def __init__(self, body):
        self._body = body

    def stream(self, **_):
        yield self._body

    def read(self, *_):
        body, self._body = self._body, b""
        return body


# --- create ---------------------------------------------------------------------------------------------

def test_create_requests_with_dns_validation_and_returns_records(provider):
    props = inputs(domain="*.apps.example.com", sans=["apps.example.com", "api.example.com"],
                   tags={"team": "platform"})
    result = provider.create(props)
    outs = result.outs
    assert result.id.startswith("arn:aws:acm:us-east-1:")
    assert outs["arn"] == result.id
    assert outs["status"] == "PENDING_VALIDATION"
    assert outs["sans"] == ["*.apps.example.com", "api.example.com", "apps.example.com"]
    # *.apps.example.com and apps.example.com share one record: listed once, with both names.
    assert len(outs["validation_records"]) == 2
    shared = [r for r in outs["validation_records"] if len(r["domains"]) == 2][0]
    assert shared["domains"] == ["*.apps.example.com", "apps.example.com"]
    assert shared["type"] == "CNAME" and shared["name"].endswith(".apps.example.com.")
    assert "publish validation_records" in outs["status_message"]
    described = acm_client().describe_certificate(CertificateArn=result.id)["Certificate"]
    assert described["DomainName"] == "*.apps.example.com"
    tags = tags_of(result.id)
    assert tags["team"] == "platform"
    assert tags[acm.RESOURCE_TAG] == "certfleet/test/shop"
    assert tags[acm.REQUEST_TAG] == acm.request_hash(props)
    assert tags[acm.GENERATION_TAG] == outs["generation"]
    assert outs["tags"] == {"team": "platform"}


def test_a_retried_create_adopts_the_certificate_instead_of_requesting_again(provider):
    props = inputs()
    first = provider.create(props)
    second = provider.create(props)  # e.g. the run crashed before Pulumi saved the first result
    assert second.id == first.id
    assert len(moto_list_now()) == 1
    assert tags_of(first.id)[acm.GENERATION_TAG] == second.outs["generation"] != first.outs["generation"]


def moto_list_now():
    return acm_client().list_certificates()["CertificateSummaryList"]


def test_a_retried_create_without_tag_lookup_permission_relies_on_the_idempotency_token(provider):
    props = inputs()
    first = provider.create(props)

    def deny(request, **_):
        body = json.dumps({"__type": "AccessDeniedException", "message": "not allowed"}).encode()
        return botocore.awsrequest.AWSResponse(request.url, 400, {"Content-Type": "application/x-amz-json-1.1"},
                                               _RawBody(body))
    acm.client("resourcegroupstaggingapi", "us-east-1").meta.events.register_first(
        "before-send.resource-groups-tagging-api", deny)
    second = provider.create(props)
    assert second.id == first.id
    assert len(moto_list_now()) == 1


def test_create_after_an_out_of_band_delete_gets_a_new_certificate(provider):
    props = inputs()
    first = provider.create(props)
    acm_client().delete_certificate(CertificateArn=first.id)
    # ACM would answer the same idempotency token with the deleted certificate for an hour.
    second = provider.create(props)
    assert second.id != first.id
    assert [c["CertificateArn"] for c in moto_list_now()] == [second.id]


def test_create_waits_for_issued_when_asked(provider):
    provider.clock = acm.Clock  # real time: moto issues after MOTO_ACM_VALIDATION_WAIT seconds
    acm.POLL_SECONDS, saved = 0.5, acm.POLL_SECONDS
    try:
        outs = provider.create(inputs(aws_extra={"issuedTimeoutSeconds": 30})).outs
    finally:
        acm.POLL_SECONDS = saved
    assert outs["status"] == "ISSUED"
    assert outs["status_message"] == "issued"
    assert outs["not_after"]
    arn = outs["arn"]
    assert acm_seen.recent(arn) is None
    provider.read(arn, outs)   # a refresh notes what it read, for the distribution's edge check (acm_seen.py)
    leaf = x509.load_pem_x509_certificate(acm_client().get_certificate(CertificateArn=arn)["Certificate"].encode())
    assert acm_seen.recent(arn).serial == leaf.serial_number


def test_create_records_a_certificate_whose_records_are_late_and_says_so(provider):
    # ACM publishes validation records seconds after the request; strip them from the answers.
    def strip_records(parsed, **_):
        for option in parsed.get("Certificate", {}).get("DomainValidationOptions", []):
            option.pop("ResourceRecord", None)
    acm_client().meta.events.register("after-call.acm.DescribeCertificate", strip_records)
    outs = provider.create(inputs(aws_extra={"validationRecordTimeoutSeconds": 20})).outs
    acm_client().meta.events.unregister("after-call.acm.DescribeCertificate", strip_records)
    assert FakeClock.t >= 20  # it waited the whole budget, then gave up without failing
    assert outs["validation_records"] == []
    assert "not yet published validation records for shop.example.com, www.shop.example.com" in \
        outs["status_message"]


def test_cloud_errors_name_the_resource_the_call_and_the_code(provider):
    sans = [f"n{i}.example.com" for i in range(11)]  # above moto's (and ACM's default) quota
    with pytest.raises(CloudError) as err:
        provider.create(inputs(sans=sans))
    text = str(err.value)
    assert "certificate 'shop'" in text and "acm.RequestCertificate" in text and "LimitExceededException" in text
    assert err.value.code == "LimitExceededException"


# --- read / update / diff ---------------------------------------------------------------------------------

def test_read_reports_drift_and_returns_inputs(provider):
    created = provider.create(inputs(tags={"team": "platform"}))
    acm_client().add_tags_to_certificate(CertificateArn=created.id, Tags=[{"Key": "team", "Value": "other"}])
    result = provider.read(created.id, created.outs)
    assert result.id == created.id
    assert result.outs["tags"] == {"team": "other"}
    assert result.inputs["tags"] == {"team": "other"}
    assert set(result.inputs) == set(acm.INPUT_KEYS)
    assert result.outs["generation"] == created.outs["generation"]


def test_read_of_a_deleted_certificate_says_gone(provider):
    created = provider.create(inputs())
    acm_client().delete_certificate(CertificateArn=created.id)
    result = provider.read(created.id, created.outs)
    assert result.id == "" and result.outs == {}


def test_update_changes_tags_in_place(provider):
    created = provider.create(inputs(tags={"keep": "1", "change": "old", "drop": "x"}))
    news = inputs(tags={"keep": "1", "change": "new", "add": "y"})
    outs = provider.update(created.id, created.outs, news).outs
    assert outs["arn"] == created.id
    assert outs["tags"] == {"keep": "1", "change": "new", "add": "y"}
    tags = tags_of(created.id)
    assert "drop" not in tags and tags["change"] == "new"
    assert tags[acm.GENERATION_TAG] == created.outs["generation"] == outs["generation"]


def test_diff(provider):
    created = provider.create(inputs())
    olds = created.outs
    assert provider.diff(created.id, olds, inputs()).changes is False
    sans = provider.diff(created.id, olds, inputs(sans=["www.shop.example.com", "new.shop.example.com"]))
    assert sans.changes is None and sans.replaces == ["sans"] and sans.delete_before_replace is False
    key = provider.diff(created.id, olds, inputs(keyAlgorithm="EC_prime256v1"))
    assert key.replaces == ["key_algorithm"]
    tags = provider.diff(created.id, olds, inputs(tags={"a": "b"}))
    assert tags.changes is None and tags.replaces == []
    failed = provider.diff(created.id, {**olds, "status": "FAILED"}, inputs())
    assert failed.changes is True and failed.replaces == ["status"]


def test_check_repeats_the_config_rules():
    news = {"domain": "bad_name.example.com", "sans": ["x.example.com"], "key_algorithm": "RSA_9",
            "tags": {"aws:x": "y"}}
    failures = AcmCertificateProvider().check({}, news).failures
    assert {f.property for f in failures} == {"domain", "sans", "key_algorithm", "tags"}


# --- delete -----------------------------------------------------------------------------------------------

def test_delete_removes_the_certificate_and_treats_not_found_as_done(provider):
    created = provider.create(inputs())
    provider.delete(created.id, created.outs)
    assert moto_list_now() == []
    provider.delete(created.id, created.outs)  # already gone: no error


def test_delete_retries_while_the_certificate_is_in_use(provider):
    created = provider.create(inputs())
    left = inject("DeleteCertificate", 400, "ResourceInUseException", "Certificate is in use", times=3)
    provider.delete(created.id, created.outs)
    assert left["n"] == 0
    assert moto_list_now() == []


def test_delete_gives_up_after_its_deadline_naming_the_code(provider):
    created = provider.create(inputs(aws_extra={"deleteInUseTimeoutSeconds": 60}))
    inject("DeleteCertificate", 400, "ResourceInUseException", "Certificate is in use", times=1000)
    with pytest.raises(CloudError) as err:
        provider.delete(created.id, created.outs)
    assert "acm.DeleteCertificate" in str(err.value) and "ResourceInUseException" in str(err.value)
    assert 60 <= FakeClock.t
    assert len(moto_list_now()) == 1


def test_replacement_that_adopts_the_same_certificate_does_not_delete_it(provider):
    # Pulumi replaces create-before-delete. When the new create adopts the very certificate the old
    # resource holds (same request), the old resource's delete must leave it alone.
    old = provider.create(inputs())
    new = provider.create(inputs())
    assert new.id == old.id
    provider.delete(old.id, old.outs)
    assert [c["CertificateArn"] for c in moto_list_now()] == [new.id]
    provider.delete(new.id, new.outs)
    assert moto_list_now() == []


def test_errors_below_the_api_name_the_resource_and_the_step(provider, monkeypatch):
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/config")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # never ask an instance metadata service
    acm._clients.clear()
    with pytest.raises(CloudError) as err:
        provider.create(inputs())
    assert err.value.code == "NoCredentialsError"
    assert "certificate 'shop'" in str(err.value) and "acm (create)" in str(err.value)


def test_a_lost_answer_to_the_request_leaves_one_certificate(provider):
    # The request reaches ACM (moto) and is carried out, but every answer the client sees is HTTP 500.
    import urllib.request

    state = {"forwarded": False}

    def lose_answer(request, **_):
        target = request.headers.get("X-Amz-Target", b"")
        target = target.decode() if isinstance(target, bytes) else target
        if not target.endswith(".RequestCertificate"):
            return None
        if not state["forwarded"]:
            state["forwarded"] = True
            forwarded = urllib.request.Request(request.url, data=request.body, method="POST",
                                               headers={k: (v.decode() if isinstance(v, bytes) else v)
                                                        for k, v in request.headers.items()})
            urllib.request.urlopen(forwarded, timeout=10).read()
        body = json.dumps({"__type": "InternalFailure", "message": "lost"}).encode()
        return botocore.awsrequest.AWSResponse(request.url, 500, {"Content-Type": "application/x-amz-json-1.1"},
                                               _RawBody(body))

    acm_client().meta.events.register_first("before-send.acm", lose_answer)
    created = provider.create(inputs())
    acm_client().meta.events.unregister("before-send.acm", lose_answer)
    assert state["forwarded"]
    assert [c["CertificateArn"] for c in moto_list_now()] == [created.id]
    assert tags_of(created.id)[acm.GENERATION_TAG] == created.outs["generation"]


def test_certfleet_tags_travel_with_the_request_so_a_full_tag_set_never_half_creates(provider):
    """ACM allows 50 tags; certfleet adds 3. At 47 user tags the request carries all 50 (the create's own
    generation then overwrites an existing key); one more user tag is refused at the request itself (config
    refuses it at preview).
    Before, 48 user tags were requested with 2 of certfleet's and the 51st (generation) failed afterwards,
    on every rerun. (moto stores the certificate before it checks the tag count; ACM refuses first.)"""
    full = inputs(tags={f"t{i:02d}": "v" for i in range(47)})
    created = provider.create(full)
    tags = tags_of(created.id)
    assert len(tags) == 50 and tags[acm.GENERATION_TAG] == created.outs["generation"]
    assert provider.create(full).id == created.id  # a rerun adopts it: re-stamping adds no 51st tag
    acm_client().delete_certificate(CertificateArn=created.id)
    over = {**inputs(), "tags": {f"t{i:02d}": "v" for i in range(48)}}
    with pytest.raises(CloudError) as raised:
        provider.create(over)
    assert raised.value.call == "acm.RequestCertificate" and raised.value.code == "TooManyTagsException"


def test_a_renamed_entry_is_retagged_in_place_and_found_under_its_former_name(provider):
    old = inputs()
    created = provider.create(old)
    renamed = {**old, "cert_name": "shop-eu", "resource_tag": "certfleet/test/shop-eu",
               "previous_resource_tags": ["certfleet/test/shop"]}
    diff = provider.diff(created.id, created.outs, renamed)
    assert diff.replaces == []  # a rename (Pulumi alias) is an update, never a new certificate
    # A run that crashed after requesting under the old name: the renamed entry's create finds it.
    assert provider.create(renamed).id == created.id
    assert len(moto_list_now()) == 1
    outs = provider.update(created.id, created.outs, renamed).outs
    assert outs["arn"] == created.id and outs["resource_tag"] == "certfleet/test/shop-eu"
    tags = tags_of(created.id)
    assert tags[acm.RESOURCE_TAG] == "certfleet/test/shop-eu" and tags[acm.REQUEST_TAG] == acm.request_hash(renamed)


def test_a_rerun_after_a_crash_gets_the_same_certificate_while_the_tag_index_lags(provider):
    """Found by the crash campaign: killed after RequestCertificate, the rerun's tag look-up missed the new
    certificate (the index lags) and asked again with the same token but a fresh generation tag; moto (which
    compares tags) then made a second certificate. The request is now the same on every retry."""
    first = provider.create(inputs())  # the run dies before Pulumi saves this

    def lagging_index(request, **_):
        body = json.dumps({"ResourceTagMappingList": []}).encode()
        return botocore.awsrequest.AWSResponse(request.url, 200, {"Content-Type": "application/x-amz-json-1.1"},
                                               _RawBody(body))

    tagging = acm.client("resourcegroupstaggingapi", "us-east-1")
    tagging.meta.events.register_first("before-send.resource-groups-tagging-api.GetResources", lagging_index)
    try:
        second = provider.create(inputs())
    finally:
        tagging.meta.events.unregister("before-send.resource-groups-tagging-api.GetResources", lagging_index)
    assert second.id == first.id
    assert len(moto_list_now()) == 1
    assert tags_of(first.id)[acm.GENERATION_TAG] == second.outs["generation"]
