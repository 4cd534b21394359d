"""Adopt by id (issue 14): the AWS providers' check/create/update/read/delete called directly against the AWS
emulator. The objects to adopt are made out of band with the test's own boto3 clients, as a console would."""

from __future__ import annotations

import functools
import os

import boto3
import pytest

from components import dynamic
from components.aws import acm
from components.aws.acm import GENERATION_TAG, RESOURCE_TAG, AcmCertificateProvider
from components.errors import CloudError
from tests.provider.test_acm_provider import FakeClock, inputs, tags_of


@functools.cache
def _sdk(service, endpoint):
    return boto3.client(service, region_name="us-east-1", endpoint_url=endpoint)


def user_acm():
    return _sdk("acm", os.environ["AWS_ENDPOINT_URL"])


def requested_out_of_band(domain="shop.example.com", sans=("www.shop.example.com",), tags=None):
    tagged = {"Tags": [{"Key": k, "Value": v} for k, v in tags.items()]} if tags else {}
    return user_acm().request_certificate(
        DomainName=domain, SubjectAlternativeNames=[domain, *sans], ValidationMethod="DNS", **tagged)["CertificateArn"]


def certificates_in_acm():
    return [c["CertificateArn"] for c in user_acm().list_certificates(
        Includes={"keyTypes": acm.ALL_KEY_TYPES})["CertificateSummaryList"]]


def fresh(provider_class):
    """A provider as a new run's provider process has it: nothing declared or replaced yet, time instant."""
    p = provider_class()
    p.clock = FakeClock
    dynamic.DECLARED.clear()
    dynamic.REPLACED.clear()
    return p


@pytest.fixture
def provider(aws):
    return fresh(AcmCertificateProvider)


def failures(result):
    return [(f.property, f.reason) for f in result.failures]


# --- ACM requested certificates --------------------------------------------------------------------------------

def test_a_certificate_is_adopted_without_a_request_and_tagged_as_ours(provider):
    arn = requested_out_of_band(tags={"team": "web", "old": "x"})
    props = inputs(adopt=arn, tags={"team": "platform"})
    assert failures(provider.check({}, props)) == []
    created = provider.create(props)
    assert created.id == arn and created.outs["adopted"] is True and created.outs["adopt_id"] == arn
    assert certificates_in_acm() == [arn]  # nothing requested
    tags = tags_of(arn)
    assert tags[RESOURCE_TAG] == "certfleet/test/shop" and GENERATION_TAG in tags
    assert acm.user_tags(tags) == {"team": "platform"}  # tags are in-place: brought to the entry


def test_a_missing_certificate_fails_check_naming_it(provider):
    arn = requested_out_of_band()
    user_acm().delete_certificate(CertificateArn=arn)
    [(prop, reason)] = failures(provider.check({}, inputs(adopt=arn)))
    assert prop == "adopt_id" and arn in reason and "does not exist" in reason


def test_a_certificate_owned_by_another_resource_is_refused_naming_the_owner(provider):
    arn = requested_out_of_band(tags={RESOURCE_TAG: "other/prod/api"})
    [(prop, reason)] = failures(provider.check({}, inputs(adopt=arn)))
    assert "other/prod/api" in reason and arn in reason


def test_a_name_difference_is_refused_without_replace_adopted(provider):
    arn = requested_out_of_band(sans=("api.shop.example.com",))
    [(prop, reason)] = failures(provider.check({}, inputs(adopt=arn)))
    assert prop == "adopt_id" and "names (object: ['api.shop.example.com', 'shop.example.com']" in reason
    assert "replaceAdopted" in reason
    with pytest.raises(CloudError, match="AdoptRefused"):
        provider.create(inputs(adopt=arn))


def test_replace_adopted_requests_a_new_certificate_and_keeps_the_adopted_one(provider):
    arn = requested_out_of_band(sans=("api.shop.example.com",))
    props = inputs(adopt=arn, replaceAdopted=True)
    assert failures(provider.check({}, props)) == []
    created = provider.create(props)
    assert created.id != arn and created.outs["adopted"] is False
    assert sorted(certificates_in_acm()) == sorted([arn, created.id])
    assert RESOURCE_TAG not in tags_of(arn)  # never touched


def test_removing_adopt_changes_nothing_and_adopted_stays(provider):
    arn = requested_out_of_band()
    created = provider.create(inputs(adopt=arn))
    olds = {**inputs(adopt=arn), **created.outs}
    assert provider.diff(arn, olds, inputs()).changes is False
    read = provider.read(arn, olds)
    assert read.outs["adopted"] is True


def test_destroy_keeps_an_adopted_certificate_and_removes_only_certfleet_tags(provider):
    arn = requested_out_of_band(tags={"team": "web"})
    props = inputs(adopt=arn, tags={"team": "web"})
    created = provider.create(props)
    provider.delete(arn, {**props, **created.outs})
    assert arn in certificates_in_acm()
    assert tags_of(arn) == {"team": "web"}


def test_on_destroy_delete_deletes_an_adopted_certificate(provider):
    arn = requested_out_of_band()
    props = inputs(adopt=arn, onDestroy="delete")
    created = provider.create(props)
    provider.delete(arn, {**props, **created.outs})
    assert certificates_in_acm() == []


def test_on_destroy_keep_keeps_a_certificate_certfleet_requested(provider):
    props = inputs(onDestroy="keep")
    created = provider.create(props)
    provider.delete(created.id, {**props, **created.outs})
    assert certificates_in_acm() == [created.id]


def test_the_old_half_of_a_replacement_keeps_an_adopted_certificate_even_with_on_destroy_delete(provider):
    arn = requested_out_of_band()
    props = inputs(adopt=arn, onDestroy="delete")
    created = provider.create(props)
    provider.check({}, props)  # the program declares the entry in this run: this delete is a replacement's
    provider.delete(arn, {**props, **created.outs})
    assert arn in certificates_in_acm()


def test_without_credentials_check_skips_the_look(provider, monkeypatch):
    arn = requested_out_of_band()
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    acm._clients.clear()
    assert failures(provider.check({}, inputs(adopt=arn.replace(arn[-4:], "0000")))) == []


# --- ACM imported certificates -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def pki():
    from datetime import datetime, timezone

    from tests.pki import Pki
    return Pki.make(slot=6, now=datetime.now(timezone.utc))


@pytest.fixture
def importer(aws):
    from components.aws.acm_import import AcmImportProvider
    return fresh(AcmImportProvider)


def imported_out_of_band(pki, kind="RSA_2048", slot=0):
    certificate_pem, key = pki.leaf(["legacy.example.org"], kind=kind, slot=slot)
    return user_acm().import_certificate(Certificate=certificate_pem.encode(), PrivateKey=key.encode(),
                                         CertificateChain=pki.chain_pem().encode())["CertificateArn"]


def import_inputs(pki, arn, kind="RSA_2048", slot=0, **extra):
    from tests.provider.test_acm_import_provider import inputs as base
    return base(pki, names=["legacy.example.org"], kind=kind, slot=slot, name="legacy", adopt_id=arn,
                replace_adopted=False, on_destroy=None, **extra)


def leaf_in_acm(arn):
    return user_acm().get_certificate(CertificateArn=arn)["Certificate"]


def test_an_imported_certificate_with_the_same_leaf_is_adopted_without_a_re_import(importer, pki):
    props = import_inputs(pki, None)
    arn = user_acm().import_certificate(Certificate=props["certificate_pem"].encode(),
                                        PrivateKey=props["private_key_pem"].encode(),
                                        CertificateChain=props["chain_pem"].encode())["CertificateArn"]
    before = leaf_in_acm(arn)
    props["adopt_id"] = arn
    assert failures(importer.check({}, props)) == []
    created = importer.create(props)
    assert created.id == arn and created.outs["adopted"] is True
    assert certificates_in_acm() == [arn] and leaf_in_acm(arn) == before
    assert tags_of(arn) == {"team": "web", RESOURCE_TAG: "certfleet/test/legacy"}


def test_an_imported_certificate_with_another_leaf_is_re_imported_in_place(importer, pki):
    arn = imported_out_of_band(pki, slot=0)
    props = import_inputs(pki, arn, slot=1)  # the same names and key type, a new leaf (a rotation)
    assert failures(importer.check({}, props)) == []
    created = importer.create(props)
    assert created.id == arn and certificates_in_acm() == [arn]
    assert leaf_in_acm(arn).strip() == props["certificate_pem"].strip()


def test_a_requested_certificate_is_not_adopted_as_an_import(importer, pki):
    arn = requested_out_of_band()
    [(prop, reason)] = failures(importer.check({}, import_inputs(pki, arn)))
    assert "is not an imported certificate" in reason and arn in reason


def test_another_key_type_needs_replace_adopted_and_keeps_the_adopted_one(importer, pki):
    arn = imported_out_of_band(pki, kind="RSA_2048")
    props = import_inputs(pki, arn, kind="EC_prime256v1")
    [(prop, reason)] = failures(importer.check({}, props))
    assert "key_algorithm (object: 'RSA_2048', entry: 'EC_prime256v1')" in reason
    props = {**props, "replace_adopted": True}
    assert failures(importer.check({}, props)) == []
    created = importer.create(props)
    assert created.id != arn and created.outs["adopted"] is False
    assert sorted(certificates_in_acm()) == sorted([arn, created.id])


def test_destroy_keeps_an_adopted_import_and_on_destroy_delete_deletes_it(importer, pki):
    arn = imported_out_of_band(pki)
    props = import_inputs(pki, arn)
    created = importer.create(props)
    importer.delete(arn, {**props, **created.outs})
    assert arn in certificates_in_acm() and RESOURCE_TAG not in tags_of(arn)
    props = {**props, "on_destroy": "delete"}
    created = importer.create(props)
    importer.delete(arn, {**props, **created.outs})
    assert certificates_in_acm() == []


# --- CloudFront distributions -------------------------------------------------------------------------------------

@pytest.fixture
def distributions(aws):
    from components.aws import cloudfront, cname_check
    from components.aws.cloudfront import DistributionProvider
    from emulators.aws.testing import AwsControl
    AwsControl(aws).settings(deploy_seconds=0)
    cname_check.clear_cache()
    cloudfront.SUMMARIES.clear()
    dynamic.DECLARED.clear()
    p = DistributionProvider()
    p.poll_seconds = 0.05
    p.alias_move_timeout_seconds = 3
    return p


def distribution_out_of_band(aliases=("shop.example.com",), comment="made by hand", tags=None):
    """A distribution as a console makes one: the template's config, aliases bound to an issued certificate."""
    from components.aws import distribution_config as dc
    from emulators.aws.testing import SAMPLE_TEMPLATE
    from tests.provider import test_cloudfront_provider as cfp
    certificate = cfp.imported_certificate(*aliases)
    config = {**SAMPLE_TEMPLATE, "CallerReference": f"hand-{comment}", "Comment": comment, "Enabled": True,
              "Aliases": {"Quantity": len(aliases), "Items": list(aliases)},
              "ViewerCertificate": dc.acm_certificate(certificate, "TLSv1.2_2019")}
    made = cfp.cf().create_distribution_with_tags(DistributionConfigWithTags={
        "DistributionConfig": config,
        "Tags": {"Items": [{"Key": k, "Value": v} for k, v in (tags or {"made": "by-hand"}).items()]}})
    return made["Distribution"]["Id"], certificate


def distribution_inputs(distribution_id, certificate, **extra):
    from tests.provider import test_cloudfront_provider as cfp
    template = cfp.template_distribution(aliases=())
    props = cfp.inputs(template, certificate, "ISSUED", aliases=("shop.example.com",), adopt_id=distribution_id,
                       replace_adopted=False, on_destroy=None, **extra)
    return props


def test_a_distribution_is_adopted_in_place_without_a_create(distributions):
    from tests.provider import test_cloudfront_provider as cfp
    distribution_id, certificate = distribution_out_of_band()
    props = distribution_inputs(distribution_id, certificate, minimum_protocol_version="TLSv1.2_2021")
    assert failures(distributions.check({}, props)) == []  # its own aliases are no cnameCheck conflict
    before = cfp.all_distribution_ids()
    created = distributions.create(props)
    assert created.id == distribution_id and created.outs["adopted"] is True
    assert cfp.all_distribution_ids() == before  # the template and the adopted one: nothing created
    live = cfp.live(distribution_id)
    assert live["DistributionConfig"]["Comment"] == "certfleet certfleet/test/shop"
    assert live["DistributionConfig"]["ViewerCertificate"]["MinimumProtocolVersion"] == "TLSv1.2_2021"
    assert cfp.tags_of(live["ARN"]) == {"team": "web", RESOURCE_TAG: "certfleet/test/shop"}


def test_a_missing_distribution_fails_check_naming_it(distributions):
    _, certificate = distribution_out_of_band()
    [(prop, reason)] = failures(distributions.check({}, distribution_inputs("E0000000000000", certificate)))
    assert prop == "adopt_id" and "E0000000000000 does not exist" in reason


def test_a_distribution_owned_by_another_resource_is_refused(distributions):
    distribution_id, certificate = distribution_out_of_band(tags={RESOURCE_TAG: "other/prod/www"})
    [(prop, reason)] = failures(distributions.check({}, distribution_inputs(distribution_id, certificate)))
    assert "other/prod/www" in reason and distribution_id in reason


def test_destroy_keeps_an_adopted_distribution_and_on_destroy_delete_deletes_it(distributions):
    from tests.provider import test_cloudfront_provider as cfp
    distribution_id, certificate = distribution_out_of_band()
    props = distribution_inputs(distribution_id, certificate)
    created = distributions.create(props)
    distributions.delete(distribution_id, {**props, **created.outs})
    live = cfp.live(distribution_id)
    assert live["DistributionConfig"]["Enabled"] and RESOURCE_TAG not in cfp.tags_of(live["ARN"])
    props = {**props, "on_destroy": "delete"}
    created = distributions.create(props)
    distributions.delete(distribution_id, {**props, **created.outs})
    assert distribution_id not in cfp.all_distribution_ids()


def test_removing_adopt_from_a_distribution_changes_nothing(distributions):
    distribution_id, certificate = distribution_out_of_band()
    props = distribution_inputs(distribution_id, certificate)
    created = distributions.create(props)
    olds = {**props, **created.outs}
    assert distributions.diff(distribution_id, olds, {**props, "adopt_id": None}).changes is False
    assert distributions.read(distribution_id, olds).outs["adopted"] is True


def test_a_rename_with_a_replacement_in_one_up_keeps_the_adopted_certificate(aws):
    """The engine hands the old half's delete the old name: that name is declared too (previousNames)."""
    arn = requested_out_of_band()
    entry = dict(adopt=arn, onDestroy="delete", replaceAdopted=True)
    olds_in = inputs(name="shop", **entry)
    created = fresh(AcmCertificateProvider).create(olds_in)
    olds = {**olds_in, **created.outs}
    provider = fresh(AcmCertificateProvider)  # the next run: renamed shop -> web and a name added
    news = {**inputs(name="web", sans=("www.shop.example.com", "api.shop.example.com"), **entry),
            "previous_resource_tags": ["certfleet/test/shop"]}
    provider.check(olds, news)
    assert provider.diff(arn, olds, news).replaces
    assert provider.create(news).id != arn
    provider.delete(arn, olds)  # the replacement's old half, under the old name
    assert arn in certificates_in_acm()
