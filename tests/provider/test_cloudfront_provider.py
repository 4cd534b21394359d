"""The Distribution dynamic provider's methods, called directly against the real AWS server over HTTP.

The template distribution and the certificates are made with boto3 in each test, as a user would have them.
Template configs travel through Pulumi state, where numbers are doubles: `as_state` does that to them.
"""

from __future__ import annotations

import functools
import json
import os
import time
from datetime import datetime, timedelta, timezone

import boto3
import botocore.awsrequest
import pytest

from components import dynamic
from components.aws import cloudfront, distribution_config as dc
from components.aws.clients import client as provider_client
from components.aws.cloudfront import RESOURCE_TAG, DistributionProvider
from components.errors import CloudError
from emulators.aws.testing import SAMPLE_TEMPLATE, AwsControl
from emulators.core.ca import EmulatorCA
from emulators.core.clock import Clock as EmulatorClock
from tests.provider.test_acm_provider import _RawBody

STACK = "certfleet/test"


@functools.cache
def _sdk(service, endpoint):
    return boto3.client(service, region_name="us-east-1", endpoint_url=endpoint)


def cf():
    """The test's own client (a user's console, another tool): not the provider's paced one."""
    return _sdk("cloudfront", os.environ["AWS_ENDPOINT_URL"])


def acm():
    return _sdk("acm", os.environ["AWS_ENDPOINT_URL"])


def as_state(value):
    """What a value looks like after a trip through Pulumi state (numbers are doubles)."""
    return json.loads(json.dumps(value, default=str), parse_int=float)


def template_distribution(aliases=("template.example.com",)):
    """A template as users have one: its own alias, certificate, logging and comment (never to be cloned)."""
    config = {
        **SAMPLE_TEMPLATE,  # an origin and a cache behaviour (the local stack's template)
        "CallerReference": f"template-{'-'.join(aliases)}", "Comment": "the template",
        "Aliases": {"Quantity": len(aliases), "Items": list(aliases)},
        "Logging": {"Enabled": True, "IncludeCookies": True, "Bucket": "template-logs.s3.amazonaws.com",
                    "Prefix": "template/"},
        "ViewerCertificate": dc.acm_certificate(imported_certificate(*aliases), "TLSv1.2_2019") if aliases
        else dc.DEFAULT_CERTIFICATE,
    }
    made = cf().create_distribution(DistributionConfig=config)["Distribution"]
    return made["Id"], as_state(cf().get_distribution_config(Id=made["Id"])["DistributionConfig"])


def requested_certificate(*names):
    """An ACM certificate that stays PENDING_VALIDATION until the test calls wait_issued (the server's wait is
    held long: on a loaded machine its two seconds can pass between the request and the provider's look)."""
    AwsControl(os.environ["AWS_ENDPOINT_URL"]).settings(acm_validation_wait=600)  # the next test's reset restores it
    return acm().request_certificate(DomainName=names[0], SubjectAlternativeNames=list(names),
                                     ValidationMethod="DNS")["CertificateArn"]


def imported_certificate(*names):
    """An ACM certificate that is ISSUED at once (imported from a throwaway CA)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    key = ec.generate_private_key(ec.SECP256R1())
    issued = EmulatorCA(EmulatorClock()).issue(key.public_key(), list(names),
                                               datetime.now(timezone.utc) + timedelta(days=90))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return acm().import_certificate(Certificate=issued.certificate_pem.encode(), PrivateKey=key_pem,
                                    CertificateChain=issued.chain_pem.encode())["CertificateArn"]


def wait_issued(arn, seconds=10):
    AwsControl(os.environ["AWS_ENDPOINT_URL"]).settings(acm_validation_wait=0)
    deadline = time.monotonic() + seconds
    while acm().describe_certificate(CertificateArn=arn)["Certificate"]["Status"] != "ISSUED":
        assert time.monotonic() < deadline, "the test server did not issue the certificate"
        time.sleep(0.2)


def inputs(template, arn, status, name="shop", aliases=("shop.example.com", "www.shop.example.com"), **extra):
    template_id, template_config = template
    return {"dist_name": name, "resource_tag": f"{STACK}/{name}", "previous_resource_tags": [],
            "template_id": template_id, "template_version": None, "template_config": template_config,
            "certificate_name": name, "certificate_arn": arn, "certificate_status": status,
            "aliases": sorted(aliases), "enabled": True, "comment": f"certfleet {STACK}/{name}",
            "minimum_protocol_version": "TLSv1.2_2021", "logging": None, "tags": {"team": "web"},
            "deployed_timeout_seconds": 5, "cname_check": True, **extra}


@pytest.fixture
def control(aws):
    """The emulator's control API; deployments finish at once unless a test asks for time."""
    control = AwsControl(aws)
    control.settings(deploy_seconds=0)
    return control


@pytest.fixture
def provider(control):
    p = DistributionProvider()
    p.poll_seconds = 0.05
    p.alias_move_timeout_seconds = 3
    return p


@pytest.fixture
def template(aws):
    return template_distribution()


def live(distribution_id):
    return cf().get_distribution(Id=distribution_id)["Distribution"]


def tags_of(arn):
    return {t["Key"]: t["Value"] for t in cf().list_tags_for_resource(Resource=arn)["Tags"]["Items"]}


def all_distribution_ids():
    return sorted(d["Id"] for d in cf().list_distributions()["DistributionList"].get("Items") or [])


# --- create ------------------------------------------------------------------------------------------------

def test_create_while_pending_clones_the_template_unbound(provider, template):
    arn = requested_certificate("shop.example.com", "www.shop.example.com")
    props = inputs(template, arn, "PENDING_VALIDATION")
    created = provider.create(props)
    config = live(created.id)["DistributionConfig"]

    assert not config["CallerReference"].startswith("template-")
    assert config["Aliases"]["Quantity"] == 0 and not config["Aliases"].get("Items")
    assert dc.certificate_facts(config["ViewerCertificate"]) == ("default",)
    assert config["Logging"] == dc.LOGGING_OFF
    assert config["Comment"] == "certfleet certfleet/test/shop" and config["Enabled"] is True
    assert dc.same_clone(config, template[1])
    assert tags_of(created.outs["arn"]) == {RESOURCE_TAG: "certfleet/test/shop", "team": "web"}
    outs = created.outs
    assert outs["stage"] == dc.WAITING and outs["domain_name"].endswith(".cloudfront.net")
    assert outs["bound"] is False and "pulumi up --refresh" in outs["status_message"]
    assert outs["certificate_status"] == "PENDING_VALIDATION"


def test_create_with_an_issued_certificate_binds_at_once(provider, template):
    arn = imported_certificate("shop.example.com", "www.shop.example.com")
    created = provider.create(inputs(template, arn, "ISSUED", logging={
        "bucket": "logs.s3.amazonaws.com", "prefix": "cdn/", "include_cookies": False}))
    config = live(created.id)["DistributionConfig"]

    assert config["Aliases"] == {"Quantity": 2, "Items": ["shop.example.com", "www.shop.example.com"]}
    viewer = config["ViewerCertificate"]
    assert (viewer["ACMCertificateArn"], viewer["SSLSupportMethod"], viewer["MinimumProtocolVersion"],
            viewer["CloudFrontDefaultCertificate"]) == (arn, "sni-only", "TLSv1.2_2021", False)
    assert config["Logging"] == {"Enabled": True, "IncludeCookies": False, "Bucket": "logs.s3.amazonaws.com",
                                 "Prefix": "cdn/"}
    assert created.outs["stage"] == dc.DEPLOYED and created.outs["bound"] is True
    assert created.outs["bound_aliases"] == ["shop.example.com", "www.shop.example.com"]


def test_a_fresh_clone_shows_no_drift(provider, template):
    arn = imported_certificate("shop.example.com", "www.shop.example.com")
    props = inputs(template, arn, "ISSUED")
    created = provider.create(props)
    read = provider.read(created.id, as_state(created.outs))
    assert read.inputs == as_state({k: created.outs[k] for k in cloudfront.INPUT_KEYS})
    assert provider.diff(created.id, read.outs, as_state(props)).changes is False


# --- binding -----------------------------------------------------------------------------------------------

def test_pending_binding_is_not_drift_and_issuance_binds_on_the_next_update(provider, template):
    arn = requested_certificate("shop.example.com", "www.shop.example.com")
    props = inputs(template, arn, "PENDING_VALIDATION")
    created = provider.create(props)

    read = provider.read(created.id, as_state(created.outs))  # `up --refresh` before issuance: nothing to do
    assert read.inputs["aliases"] == props["aliases"] and read.inputs["certificate_status"] == "PENDING_VALIDATION"
    assert provider.diff(created.id, read.outs, props).changes is False

    wait_issued(arn)  # the refreshed certificate now says ISSUED: that input change is the diff that binds
    news = {**props, "certificate_status": "ISSUED"}
    assert provider.diff(created.id, read.outs, news).changes is None
    updated = provider.update(created.id, read.outs, news).outs
    assert updated["stage"] == dc.DEPLOYED and updated["bound"] and updated["bound_certificate_arn"] == arn
    config = live(created.id)["DistributionConfig"]
    assert config["Aliases"]["Quantity"] == len(config["Aliases"]["Items"]) == 2


def test_a_replacement_certificate_is_bound_only_once_issued_the_old_one_serving_meanwhile(provider, template):
    old = imported_certificate("shop.example.com", "www.shop.example.com")
    props = inputs(template, old, "ISSUED")
    created = provider.create(props)
    new = requested_certificate("shop.example.com", "www.shop.example.com")
    news = {**props, "certificate_arn": new, "certificate_status": "PENDING_VALIDATION"}
    waiting = provider.update(created.id, created.outs, news).outs
    assert (waiting["stage"], waiting["bound_certificate_arn"]) == (dc.WAITING, old)
    assert "keeps serving its current certificate" in waiting["status_message"]
    read = provider.read(created.id, as_state(waiting))
    assert read.inputs["certificate_arn"] == new and provider.diff(created.id, read.outs, news).changes is False

    wait_issued(new)
    moved = provider.update(created.id, read.outs, {**news, "certificate_status": "ISSUED"}).outs
    assert (moved["stage"], moved["bound_certificate_arn"]) == (dc.DEPLOYED, new)


def test_the_certificate_status_is_asked_of_acm_not_taken_from_the_input(provider, template):
    arn = requested_certificate("shop.example.com", "www.shop.example.com")
    created = provider.create(inputs(template, arn, "ISSUED"))  # the input lies: ACM says pending
    assert created.outs["bound"] is False and created.outs["certificate_status"] == "PENDING_VALIDATION"


def test_a_certificate_that_does_not_cover_an_alias_is_named(provider, template):
    arn = imported_certificate("shop.example.com")
    with pytest.raises(CloudError) as caught:
        provider.create(inputs(template, arn, "ISSUED"))
    assert "www.shop.example.com" in str(caught.value) and "InvalidViewerCertificate" in str(caught.value)


# --- look before create ------------------------------------------------------------------------------------

def test_a_create_whose_state_was_lost_adopts_the_tagged_distribution(provider, template):
    arn = imported_certificate("shop.example.com", "www.shop.example.com")
    props = inputs(template, arn, "ISSUED")
    first = provider.create(props)
    again = provider.create(props)  # a crash between create and the state write: the next run creates again
    assert again.id == first.id
    assert all_distribution_ids() == sorted([template[0], first.id])


@pytest.mark.parametrize("index", ["lagging", "denied"])
def test_a_create_after_a_crash_finds_its_distribution_when_the_tag_index_cannot(provider, template, index):
    """A dead run created it while its certificate was pending (no aliases: nothing else refuses a second
    one); the tag index has not caught up yet, or the caller may not ask it: the comment listing finds it."""
    arn = requested_certificate("shop.example.com", "www.shop.example.com")
    props = inputs(template, arn, "PENDING_VALIDATION")
    first = provider.create(props)
    cloudfront.SUMMARIES.clear()  # the next run's provider process

    def tag_index(request, **_):
        body = {"lagging": {"ResourceTagMappingList": []},
                "denied": {"__type": "AccessDeniedException", "message": "not allowed"}}[index]
        return botocore.awsrequest.AWSResponse(request.url, 200 if index == "lagging" else 400,
                                               {"Content-Type": "application/x-amz-json-1.1"},
                                               _RawBody(json.dumps(body).encode()))
    provider_client("resourcegroupstaggingapi", "us-east-1").meta.events.register_first(
        "before-send.resource-groups-tagging-api", tag_index)
    again = provider.create(props)
    assert again.id == first.id
    assert all_distribution_ids() == sorted([template[0], first.id])


def test_a_renamed_entry_adopts_and_retags_its_distribution(provider, template):
    arn = imported_certificate("shop.example.com", "www.shop.example.com")
    first = provider.create(inputs(template, arn, "ISSUED"))
    renamed = inputs(template, arn, "ISSUED", name="store", previous_resource_tags=[f"{STACK}/shop"])
    again = provider.create(renamed)
    assert again.id == first.id
    assert tags_of(first.outs["arn"])[RESOURCE_TAG] == f"{STACK}/store"


# --- update ------------------------------------------------------------------------------------------------

def test_update_applies_a_new_template_and_keeps_the_owned_fields(provider, template):
    arn = imported_certificate("shop.example.com", "www.shop.example.com")
    props = inputs(template, arn, "ISSUED")
    created = provider.create(props)
    new_template = {**template[1], "DefaultRootObject": "home.html", "PriceClass": "PriceClass_All"}
    news = {**props, "template_config": new_template, "comment": "renamed", "tags": {"owner": "ops"}}
    assert provider.diff(created.id, created.outs, news).changes is None
    provider.update(created.id, created.outs, news)

    config = live(created.id)["DistributionConfig"]
    assert (config["DefaultRootObject"], config["PriceClass"], config["Comment"]) == ("home.html", "PriceClass_All",
                                                                                      "renamed")
    assert config["CallerReference"] == created.outs["caller_reference"]
    assert dc.certificate_facts(config["ViewerCertificate"])[1] == arn
    assert tags_of(created.outs["arn"]) == {RESOURCE_TAG: f"{STACK}/shop", "owner": "ops"}


def test_a_template_snapshot_that_differs_only_in_owned_fields_is_no_change(provider, template):
    arn = imported_certificate("shop.example.com", "www.shop.example.com")
    props = inputs(template, arn, "ISSUED")
    created = provider.create(props)
    retaken = {**template[1], "Comment": "edited on the template", "Aliases": {"Quantity": 0}}
    assert provider.diff(created.id, created.outs, {**props, "template_config": retaken}).changes is False


def test_drift_is_read_and_the_next_update_repairs_it(provider, template):
    arn = imported_certificate("shop.example.com", "www.shop.example.com")
    props = inputs(template, arn, "ISSUED")
    created = provider.create(props)
    other = imported_certificate("shop.example.com")
    answer = cf().get_distribution_config(Id=created.id)  # someone edits the distribution in the console
    changed = {**answer["DistributionConfig"], "Aliases": {"Quantity": 1, "Items": ["shop.example.com"]},
               "ViewerCertificate": dc.acm_certificate(other, "TLSv1.2_2019"), "Enabled": False,
               "PriceClass": "PriceClass_All"}
    cf().update_distribution(Id=created.id, IfMatch=answer["ETag"], DistributionConfig=changed)

    read = provider.read(created.id, as_state(created.outs))
    assert read.inputs["aliases"] == ["shop.example.com"] and read.inputs["certificate_arn"] == other
    assert read.inputs["minimum_protocol_version"] == "TLSv1.2_2019"
    assert read.inputs["enabled"] is False and read.inputs["template_config"]["PriceClass"] == "PriceClass_All"
    assert provider.diff(created.id, read.outs, props).changes is None

    repaired = provider.update(created.id, read.outs, props).outs
    assert repaired["bound_aliases"] == props["aliases"] and repaired["bound_certificate_arn"] == arn
    config = live(created.id)["DistributionConfig"]
    assert config["Enabled"] is True and config["PriceClass"] == "PriceClass_100"
    assert provider.diff(created.id, provider.read(created.id, repaired).outs, props).changes is False


def test_read_of_a_deleted_distribution_says_gone(provider, template):
    arn = imported_certificate("shop.example.com", "www.shop.example.com")
    created = provider.create(inputs(template, arn, "ISSUED"))
    provider.delete(created.id, created.outs)
    gone = provider.read(created.id, created.outs)
    assert (gone.id, gone.outs) == ("", {})


# --- delete ------------------------------------------------------------------------------------------------

def test_delete_disables_first_and_leaves_other_distributions(provider, template):
    arn = imported_certificate("shop.example.com", "www.shop.example.com")
    created = provider.create(inputs(template, arn, "ISSUED"))
    provider.delete(created.id, created.outs)
    assert all_distribution_ids() == [template[0]]
    provider.delete(created.id, created.outs)  # already gone: done

    # A distribution that is not tagged as this resource's (here: the template) is never deleted.
    provider.delete(template[0], {**created.outs, "distribution_id": template[0]})
    assert all_distribution_ids() == [template[0]]


# --- check -------------------------------------------------------------------------------------------------

def test_check_refuses_bad_inputs(provider, template):
    props = inputs(template, "arn:aws:acm:eu-west-1:123456789012:certificate/x", "ISSUED",
                   minimum_protocol_version="TLSv9", comment="c" * 129, cname_check=False,
                   aliases=[f"a{i}.example.com" for i in range(101)])
    failed = {f.property for f in provider.check({}, props).failures}
    assert failed == {"minimum_protocol_version", "comment", "certificate_arn", "aliases"}
    assert provider.check({}, inputs(template, "", "", cname_check=False)).failures == []


def test_check_names_an_alias_another_stack_serves(provider, template):
    from components.aws import cname_check
    cname_check.clear_cache()
    foreign_id, _ = template_distribution(aliases=("www.shop.example.com",))
    cf().tag_resource(Resource=live(foreign_id)["ARN"],
                      Tags={"Items": [{"Key": RESOURCE_TAG, "Value": "other/prod/shop"}]})
    failures = provider.check({}, inputs(template, "", "")).failures
    assert [f.property for f in failures] == ["aliases"]
    assert "www.shop.example.com" in failures[0].reason and foreign_id in failures[0].reason
    assert provider.check({}, inputs(template, "", "", cname_check=False)).failures == []
    cname_check.clear_cache()


def test_aliases_the_distribution_serves_already_are_not_asked_about_again(provider, template, control):
    from components.aws import cname_check
    cname_check.clear_cache()
    arn = imported_certificate("shop.example.com", "www.shop.example.com")
    had = inputs(template, arn, "ISSUED")   # the engine's check gets the distribution's old inputs
    provider.create(had)
    foreign_id, _ = template_distribution(aliases=("new.shop.example.com",))
    cf().tag_resource(Resource=live(foreign_id)["ARN"],
                      Tags={"Items": [{"Key": RESOURCE_TAG, "Value": "other/prod/shop"}]})
    cname_check.clear_cache()
    control.clear_calls()
    assert provider.check(had, inputs(template, arn, "ISSUED")).failures == []
    assert "cloudfront:ListDistributions" not in control.calls()["operations"]   # no preview-time listing
    added = inputs(template, arn, "ISSUED", aliases=("shop.example.com", "www.shop.example.com",
                                                     "new.shop.example.com"))
    failures = provider.check(had, added).failures
    assert [f.property for f in failures] == ["aliases"] and foreign_id in failures[0].reason
    assert "www.shop.example.com" not in failures[0].reason
    # while its certificate was pending the aliases were held back, on no distribution: looked up again
    pending = inputs(template, arn, "PENDING_VALIDATION", aliases=("new.shop.example.com",))
    assert [f.property for f in provider.check(pending, pending).failures] == ["aliases"]
    cname_check.clear_cache()


def test_a_refresh_of_many_takes_tags_from_the_listing_and_confirms_what_differs(provider, template, control,
                                                                                monkeypatch):
    from components.aws import tag_index
    monkeypatch.setattr(tag_index, "INDEX_AFTER", 2)
    made = [provider.create(inputs(template, "", "", name=f"d{i}", aliases=(), cname_check=False))
            for i in range(5)]
    cloudfront.DISTRIBUTIONS.reset()                  # the refresh is a new run
    cf().tag_resource(Resource=made[-1].outs["arn"], Tags={"Items": [{"Key": "team", "Value": "ops"}]})
    control.clear_calls()
    reads = [provider.read(m.id, as_state(m.outs)) for m in made]
    assert [r.outs["tags"] for r in reads] == [{"team": "web"}] * 4 + [{"team": "ops"}]
    operations = control.calls()["operations"]
    assert operations["cloudfront:GetDistribution"]["ok"] == 5 and operations["tagging:GetResources"]["ok"] == 1
    # the first 2 reads ask CloudFront; after the listing, only the one whose tags differ from the state
    assert operations["cloudfront:ListTagsForResource"]["ok"] == 2 + 1


# --- what AWS does and moto does not (the emulator) ----------------------------------------------------------

def test_a_stale_etag_is_read_again_and_decided_again(provider, template, control):
    arn = imported_certificate("shop.example.com", "www.shop.example.com")
    props = inputs(template, arn, "ISSUED")
    created = provider.create(props)
    edits = []

    def someone_edits_first(**_):  # between the provider's read and its update, the ETag changes
        if not edits:
            answer = cf().get_distribution_config(Id=created.id)
            edits.append(cf().update_distribution(Id=created.id, IfMatch=answer["ETag"], DistributionConfig={
                **answer["DistributionConfig"], "DefaultRootObject": "edited.html"}))

    provider_client("cloudfront", "us-east-1").meta.events.register(
        "before-call.cloudfront.UpdateDistribution", someone_edits_first)
    provider.update(created.id, created.outs, {**props, "comment": "new"})

    config = live(created.id)["DistributionConfig"]
    assert edits and config["Comment"] == "new" and config["DefaultRootObject"] == "index.html"
    assert control.calls()["operations"]["cloudfront:UpdateDistribution"] == {"ok": 2, "error": 1}


def test_an_alias_served_outside_the_stack_fails_naming_it_and_its_holder(provider, template):
    holder_id, _ = template_distribution(aliases=("www.shop.example.com",))
    arn = imported_certificate("shop.example.com", "www.shop.example.com")
    with pytest.raises(CloudError) as caught:
        provider.create(inputs(template, arn, "ISSUED"))
    text = str(caught.value)
    assert "cloudfront.CreateDistributionWithTags" in text and "CNAMEAlreadyExists" in text
    assert "'www.shop.example.com'" in text and holder_id in text and "distribution 'shop'" in text
    assert len(all_distribution_ids()) == 2  # nothing created


def test_an_alias_moving_inside_the_stack_is_taken_over_while_the_other_distribution_lets_go(provider, template):
    arn = imported_certificate("shop.example.com", "www.shop.example.com")
    old_props = inputs(template, arn, "ISSUED", name="old", aliases=("www.shop.example.com",))
    old = provider.create(old_props)
    released = []

    class ReleasingClock(dynamic.Clock):
        """Real time; while the new distribution waits, the old one (same stack) drops the alias."""

        @staticmethod
        def sleep(seconds):
            if not released:
                released.append(True)
                provider.update(old.id, old.outs, {**old_props, "aliases": []})
            time.sleep(seconds)

    provider.clock = ReleasingClock
    moved = provider.create(inputs(template, arn, "ISSUED"))
    assert moved.outs["bound_aliases"] == ["shop.example.com", "www.shop.example.com"]
    assert live(old.id)["DistributionConfig"]["Aliases"]["Quantity"] == 0


def test_create_waits_for_deployed_within_its_bound(provider, template, control):
    control.settings(deploy_seconds=1)
    arn = imported_certificate("shop.example.com", "www.shop.example.com")
    created = provider.create(inputs(template, arn, "ISSUED"))
    assert (created.outs["status"], created.outs["stage"]) == ("Deployed", dc.DEPLOYED)


def test_a_deployed_wait_that_runs_out_is_recorded_and_resumed_by_refresh(provider, template, control):
    control.settings(deploy_seconds=30)
    arn = imported_certificate("shop.example.com", "www.shop.example.com")
    created = provider.create(inputs(template, arn, "ISSUED", deployed_timeout_seconds=0))
    assert (created.outs["status"], created.outs["stage"]) == ("InProgress", dc.DEPLOYING)
    assert "pulumi up --refresh" in created.outs["status_message"]
    control.finish_deployments(created.id)
    assert provider.read(created.id, created.outs).outs["stage"] == dc.DEPLOYED


def test_delete_of_an_enabled_distribution_disables_waits_and_deletes(provider, template, control):
    control.settings(deploy_seconds=1)
    arn = imported_certificate("shop.example.com", "www.shop.example.com")
    created = provider.create(inputs(template, arn, "ISSUED"))
    provider.delete(created.id, created.outs)
    assert all_distribution_ids() == [template[0]]


def test_a_delete_whose_wait_runs_out_leaves_it_disabled_and_says_to_destroy_again(provider, template, control):
    arn = imported_certificate("shop.example.com", "www.shop.example.com")
    created = provider.create(inputs(template, arn, "ISSUED", deployed_timeout_seconds=0))
    control.settings(deploy_seconds=30)
    with pytest.raises(CloudError) as caught:
        provider.delete(created.id, created.outs)
    assert "pulumi destroy" in str(caught.value)
    assert live(created.id)["DistributionConfig"]["Enabled"] is False
    control.finish_deployments(created.id)
    provider.delete(created.id, created.outs)
    assert all_distribution_ids() == [template[0]]


def test_a_delete_after_the_run_s_deployment_window_still_waits_a_quick_deployment_out(provider, template,
                                                                                        control):
    """Late in a large destroy the run's window is over; a deployment of seconds must not fail the delete."""
    arn = imported_certificate("shop.example.com", "www.shop.example.com")
    created = provider.create(inputs(template, arn, "ISSUED", deployed_timeout_seconds=0))
    control.settings(deploy_seconds=1)
    provider.poll_seconds = 1.0  # a wait of its own of 2 polls after the window
    provider.delete(created.id, created.outs)
    assert all_distribution_ids() == [template[0]]


def test_a_lost_create_answer_is_retried_into_the_same_distribution(provider, template, control):
    control.fault("CreateDistributionWithTags", drop_response=True)  # created, but the answer never comes
    arn = imported_certificate("shop.example.com", "www.shop.example.com")
    created = provider.create(inputs(template, arn, "ISSUED"))
    assert all_distribution_ids() == sorted([template[0], created.id])
    # The SDK retried with the same request: refused as a duplicate, and the look by tag found it.
    assert control.calls()["operations"]["cloudfront:CreateDistributionWithTags"] == {"dropped": 1, "error": 1}  # DistributionAlreadyExists or CNAMEAlreadyExists


def test_a_crash_after_create_is_recovered_by_the_next_run_without_a_second_distribution(
        provider, template, control, monkeypatch):
    control.fault("CreateDistributionWithTags", delay_after=30)  # the run dies while waiting for the answer
    arn = imported_certificate("shop.example.com", "www.shop.example.com")
    props = inputs(template, arn, "ISSUED")
    crashing = botocore_client_with_read_timeout(1)
    with pytest.raises(Exception):
        crashing.create_distribution_with_tags(DistributionConfigWithTags={
            "DistributionConfig": dc.desired_config(props["template_config"], None, props,
                                                    cloudfront.caller_reference(props["resource_tag"]), True),
            "Tags": {"Items": [{"Key": RESOURCE_TAG, "Value": props["resource_tag"]}]}})
    monkeypatch.setattr(cloudfront, "RUN_ID", "the-next-run")  # a new process, a new CallerReference
    created = provider.create(props)
    assert all_distribution_ids() == sorted([template[0], created.id])


def botocore_client_with_read_timeout(seconds):
    import botocore.config
    return boto3.client("cloudfront", region_name="us-east-1", endpoint_url=os.environ["AWS_ENDPOINT_URL"],
                        config=botocore.config.Config(read_timeout=seconds, retries={"total_max_attempts": 1}))


def test_a_lifecycle_under_aws_request_quotas_sees_no_error(provider, template, control):
    control.throttle_at_aws_quotas()
    arn = imported_certificate("shop.example.com", "www.shop.example.com")
    props = inputs(template, arn, "ISSUED")
    created = provider.create(props)
    updated = provider.update(created.id, created.outs, {**props, "comment": "busy"}).outs
    provider.delete(created.id, updated)
    assert all_distribution_ids() == [template[0]]


def test_validation_errors_fail_at_once_naming_resource_call_and_code(provider, template, control):
    broken = {**template[1], "DefaultCacheBehavior": {**template[1]["DefaultCacheBehavior"],
                                                      "TargetOriginId": "no-such-origin"}}
    with pytest.raises(CloudError) as caught:
        provider.create(inputs((template[0], broken), "", ""))
    assert str(caught.value).startswith("aws: cloudfront.CreateDistributionWithTags for distribution 'shop' failed: "
                                        "NoSuchOrigin")
    assert control.calls()["operations"]["cloudfront:CreateDistributionWithTags"] == {"error": 1}


# --- from the config model ---------------------------------------------------------------------------------

def test_inputs_from_the_config_model_pass_check():
    from components.config import load_fleet
    fleet = load_fleet({"aws": {"certificates": {"shop": {"domain": "shop.example.com",
                                                          "sans": ["www.shop.example.com"]}},
                                "distributions": {"shop": {"template": "E195R1W5GIVPF5", "certificate": "shop",
                                                           "logging": {"bucket": "logs.s3.amazonaws.com"}}}}})
    props = cloudfront.distribution_inputs(fleet.aws.distributions[0], fleet.aws, f"{STACK}/shop", {"Comment": ""},
                                           "arn:aws:acm:us-east-1:123456789012:certificate/x", "PENDING_VALIDATION")
    assert props["aliases"] == ["shop.example.com", "www.shop.example.com"]
    assert props["comment"] == f"certfleet {STACK}/shop" and props["minimum_protocol_version"] == "TLSv1.2_2021"
    assert props["logging"] == {"bucket": "logs.s3.amazonaws.com", "prefix": "", "include_cookies": False}
    assert (props["deployed_timeout_seconds"], props["cname_check"], props["enabled"]) == (600, True, True)
    assert DistributionProvider().check({}, {**props, "cname_check": False}).failures == []


def test_an_alias_held_by_a_distribution_of_the_stack_that_is_being_deleted_is_taken_off_it(provider, template):
    """The holder lets go only at the end of the run (the engine deletes last): the taker removes it first."""
    arn = imported_certificate("shop.example.com", "www.shop.example.com")
    leaving = provider.create(inputs(template, arn, "ISSUED", name="leaving", aliases=("www.shop.example.com",)))

    class NoWaiting(dynamic.Clock):
        @staticmethod
        def sleep(seconds):
            raise AssertionError("the alias should be taken over without waiting for the holder")

    provider.clock = NoWaiting
    taker = provider.create(inputs(template, arn, "ISSUED"))
    assert taker.outs["bound_aliases"] == ["shop.example.com", "www.shop.example.com"]
    assert live(leaving.id)["DistributionConfig"]["Aliases"]["Quantity"] == 0
    provider.delete(leaving.id, leaving.outs)  # its own delete still works on what is left
    assert leaving.id not in all_distribution_ids()
