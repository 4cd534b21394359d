"""The DistributionTemplate provider's methods, called directly against a real server over HTTP.

A CloudFront Extensions version store is built the way CFE's cf_config_version_exporter writes it: a DynamoDB
Version table (PK distributionId S, SK versionId N) whose row names an S3 object holding the DistributionConfig
as JSON (reference/aws-cloudfront-extensions.md §4.5).
"""

from __future__ import annotations

import json

import boto3
import pytest

from components.aws import clients, templates
from components.aws.clients import client
from components.aws.templates import DistributionTemplateProvider, MissingSource, template_inputs
from components.errors import CloudError
from tests.provider.test_cname_check import DENY_CLOUDFRONT, deny, fast_pacing, make_distribution  # noqa: F401

TABLE = "CloudFrontConfigVersionStack-CloudFrontConfigVersionTable6E23F7F5"
BUCKET = "cloudfrontconfigversions-bucket"
STORE = {"table": TABLE, "region": "us-east-1"}
NOWHERE = "E0000000000000"   # no such distribution


@pytest.fixture
def provider(fast_pacing):
    return DistributionTemplateProvider()


def cloudfront():
    return client("cloudfront", "us-east-1")


def edit_template(template_id, comment):
    """An edit of the template in the console, after the stack took its snapshot."""
    answer = cloudfront().get_distribution_config(Id=template_id)
    config = {**answer["DistributionConfig"], "Comment": comment}
    cloudfront().update_distribution(Id=template_id, IfMatch=answer["ETag"], DistributionConfig=config)


def version_store():
    """An empty CFE store: the Version table and the config bucket, as CFE's CDK stack creates them."""
    client("dynamodb", "us-east-1").create_table(
        TableName=TABLE, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "distributionId", "KeyType": "HASH"},
                   {"AttributeName": "versionId", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "distributionId", "AttributeType": "S"},
                              {"AttributeName": "versionId", "AttributeType": "N"}])
    client("s3", "us-east-1").create_bucket(Bucket=BUCKET)


def export_version(template_id, version, when="2024-05-01-10-00-00", config=None, write_object=True):
    """What CFE's exporter does on a CloudFront event: the config JSON to S3, then the Version row."""
    config = config or cloudfront().get_distribution_config(Id=template_id)["DistributionConfig"]
    year, month, day = when.split("-")[:3]
    key = f"{template_id}/{year}/{month}/{day}/{template_id}_{when}.json"
    if write_object:
        client("s3", "us-east-1").put_object(Bucket=BUCKET, Key=key, Body=json.dumps(config, indent=4).encode())
    boto3.resource("dynamodb", region_name="us-east-1").Table(TABLE).put_item(Item={
        "distributionId": template_id, "versionId": version, "id": version, "dateTime": when, "note": "",
        "config_link": f"s3://{BUCKET}/{key}", "s3_bucket": BUCKET, "s3_key": key})
    return key


def checked(provider, news, olds=None):
    result = provider.check(olds or {}, news)
    return result.inputs, [(f.property, f.reason) for f in result.failures]


# --- create and read: the version model --------------------------------------------------------------------

def test_unpinned_create_snapshots_the_live_template(provider):
    template = make_distribution(comment="template v1")
    result = provider.create(template_inputs(template, None, None))
    assert result.id == f"{template}:live"
    assert result.outs["config"] == cloudfront().get_distribution_config(Id=template)["DistributionConfig"]
    assert result.outs["source"] == f"live template {template} at {result.outs['taken_at']}"
    assert result.outs["template_id"] == template and result.outs["version"] is None


def test_a_pinned_version_without_a_store_is_a_frozen_snapshot_of_the_live_template(provider):
    template = make_distribution(comment="template v1")
    created = provider.create(template_inputs(template, "3", None))
    assert created.id == f"{template}:3"
    edit_template(template, "template v2")
    read = provider.read(created.id, created.outs)
    assert read.outs == created.outs          # the edit does not reach the clones
    assert read.outs["config"]["Comment"] == "template v1"
    assert read.inputs == {"template_id": template, "version": "3", "store": None}


def test_unpinned_read_follows_the_live_template(provider):
    template = make_distribution(comment="template v1")
    created = provider.create(template_inputs(template, None, None))
    assert provider.read(created.id, created.outs).outs == created.outs  # unchanged: same snapshot, same time
    edit_template(template, "template v2")
    read = provider.read(created.id, created.outs)
    assert read.outs["config"]["Comment"] == "template v2"
    assert read.outs["source"].startswith(f"live template {template} at ")
    assert read.inputs == {"template_id": template, "version": None, "store": None}


def test_unpinned_read_of_a_deleted_template_keeps_the_last_snapshot(provider):
    template = make_distribution()
    created = provider.create(template_inputs(template, None, None))
    gone = {**created.outs, "template_id": NOWHERE}
    assert provider.read(created.id, gone).outs == gone


def test_a_cfe_store_version_is_read_from_dynamodb_and_s3(provider):
    template = make_distribution(comment="template v1")
    version_store()
    export_version(template, 1, "2024-05-01-10-00-00")
    edit_template(template, "template v2")
    key = export_version(template, 2, "2024-05-02-11-30-00")
    edit_template(template, "template v3")   # live now differs from both versions
    created = provider.create(template_inputs(template, "2", STORE))
    assert created.outs["config"]["Comment"] == "template v2"
    assert created.outs["source"] == f"s3://{BUCKET}/{key} (CFE version 2, exported 2024-05-02-11-30-00)"
    assert provider.create(template_inputs(template, "1", STORE)).outs["config"]["Comment"] == "template v1"
    assert provider.read(created.id, created.outs).outs == created.outs  # frozen, like every pinned version


def test_a_stored_whole_get_distribution_config_answer_is_accepted(provider):
    template = make_distribution(comment="template v1")
    version_store()
    export_version(template, 1, config={"ETag": "E1", "DistributionConfig":
                                        cloudfront().get_distribution_config(Id=template)["DistributionConfig"]})
    assert provider.create(template_inputs(template, "1", STORE)).outs["config"]["Comment"] == "template v1"


def test_create_names_a_template_that_disappeared_after_preview(provider):
    with pytest.raises(MissingSource, match=f"template distribution {NOWHERE} does not exist"):
        provider.create(template_inputs(NOWHERE, "3", None))


def test_delete_leaves_the_template_alone(provider):
    template = make_distribution()
    created = provider.create(template_inputs(template, None, None))
    provider.delete(created.id, created.outs)
    assert cloudfront().get_distribution(Id=template)["Distribution"]["Id"] == template


# --- check: at preview, before anything is created ----------------------------------------------------------

def test_check_accepts_an_existing_template_and_fills_in_the_store_region(provider):
    template = make_distribution()
    inputs, failures = checked(provider, template_inputs(template, None, {"table": TABLE}))
    assert failures == []
    assert inputs["store"] == {"table": TABLE, "region": "us-east-1"}


def test_check_names_a_missing_template(provider):
    assert checked(provider, template_inputs(NOWHERE, None, None))[1] == [
        ("template_id", f"template distribution {NOWHERE} does not exist in this account "
                        f"(CloudFront: NoSuchDistribution)")]
    assert checked(provider, template_inputs(NOWHERE, "3", None))[1][0][0] == "template_id"


def test_check_names_a_missing_version_row(provider):
    template = make_distribution()
    version_store()
    export_version(template, 1)
    assert checked(provider, template_inputs(template, "1", STORE))[1] == []
    assert checked(provider, template_inputs(template, "7", STORE))[1] == [
        ("version", f"template {template} has no version 7 in CloudFront Extensions version table {TABLE} "
                    f"(us-east-1)")]


def test_check_names_a_missing_s3_object_and_a_missing_table(provider):
    template = make_distribution()
    version_store()
    key = export_version(template, 4, write_object=False)
    assert checked(provider, template_inputs(template, "4", STORE))[1] == [
        ("version", f"s3://{BUCKET}/{key}, the config of template {template} version 4, does not exist "
                    f"(S3: NoSuchKey)")]
    failures = checked(provider, template_inputs(template, "4", {"table": "NoSuchTable", "region": "us-east-1"}))[1]
    assert failures[0][0] == "store" and "NoSuchTable" in failures[0][1] and "version 4" in failures[0][1]


@pytest.mark.parametrize("version", ["", "v3", "03", "0", "3.0", 3])
def test_check_wants_numeric_text_like_cfe(provider, version):
    failures = checked(provider, template_inputs(NOWHERE, version, None))[1]
    assert [f[0] for f in failures] == ["version"]  # refused before any look at the cloud
    assert "whole number from 1" in failures[0][1]


def test_check_does_not_look_again_at_a_pinned_snapshot_already_in_state(provider):
    news = template_inputs(NOWHERE, "3", None)  # the template is gone, but the stack keeps its snapshot
    assert checked(provider, news, olds=dict(news))[1] == []
    assert checked(provider, {**news, "version": "4"}, olds=dict(news))[1][0][0] == "template_id"


def test_check_skips_the_look_without_credentials(provider, monkeypatch, tmp_path):
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    clients._clients.clear()
    assert checked(provider, template_inputs(NOWHERE, None, None))[1] == []
    assert checked(provider, template_inputs(NOWHERE, "3", STORE))[1] == []


def test_check_skips_the_look_when_access_is_denied(provider):
    deny(*DENY_CLOUDFRONT)
    assert checked(provider, template_inputs(NOWHERE, None, None))[1] == []


def test_check_with_unknown_inputs_does_not_look(provider):
    class Unknown:  # pulumi's sentinel for a value computed during preview
        pass
    assert checked(provider, {"template_id": Unknown(), "version": "3", "store": None})[1] == []


# --- diff ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("change, replaced", [
    ({"version": "4"}, ["version"]),
    ({"version": None}, ["version"]),
    ({"template_id": "E2OTHERTEMPLATE"}, ["template_id"]),
    ({"store": STORE}, ["store"]),
])
def test_a_new_template_version_or_store_replaces_the_snapshot(provider, change, replaced):
    olds = {**template_inputs("E1TEMPLATE", "3", None), "config": {"Comment": "x"}, "source": "s", "taken_at": "t"}
    result = provider.diff("E1TEMPLATE:3", olds, {**template_inputs("E1TEMPLATE", "3", None), **change})
    assert result.replaces == replaced
    assert result.changes is None and result.delete_before_replace is False


def test_nothing_changed_is_no_diff(provider):
    olds = {**template_inputs("E1TEMPLATE", "3", STORE), "config": {"Comment": "x"}}
    assert provider.diff("E1TEMPLATE:3", olds, template_inputs("E1TEMPLATE", "3", STORE)).changes is False


def test_template_inputs_take_the_config_models_version_store():
    class VersionStoreSpec:  # components/aws/config_distributions.py's shape
        table, region = TABLE, "eu-west-1"
    assert template_inputs("E1", "2", VersionStoreSpec()) == {
        "template_id": "E1", "version": "2", "store": {"table": TABLE, "region": "eu-west-1"}}
    assert templates.template_resource_name("E1", "2") == "template-E1-v2"
    assert templates.template_resource_name("E1", None) == "template-E1-live"


def test_other_cloud_errors_fail_loudly_naming_the_template_and_version(provider):
    template = make_distribution()
    version_store()
    export_version(template, 1)
    deny(("dynamodb", "before-send.dynamodb"), 400, "application/x-amz-json-1.0",
         json.dumps({"__type": "com.amazon.coral.validate#ValidationException", "message": "bad key"}).encode())
    with pytest.raises(CloudError) as err:
        provider.check({}, template_inputs(template, "1", STORE))
    assert f"template {template} version 1" in str(err.value) and "ValidationException" in str(err.value)
    with pytest.raises(CloudError):
        provider.create(template_inputs(template, "1", STORE))
