"""The published JSON Schema agrees with the config model and accepts the local stack."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml

from components import config
from components.alicloud import config as alicloud_config
from components.aws import config as aws_config
from components.config import load_fleet, decode_config_values
from components.huaweicloud import config as huawei_config
from tests.conftest import ROOT

SCHEMA = json.loads((ROOT / "schema" / "certfleet.schema.json").read_text())


def local_stack_values() -> dict:
    stack = yaml.safe_load((ROOT / "stacks" / "Pulumi.local.yaml").read_text())
    return decode_config_values({k: json.dumps(v) for k, v in stack["config"].items()})


def test_schema_is_valid_draft_2020_12():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_local_stack_passes_schema_and_model():
    values = local_stack_values()
    jsonschema.validate(values, SCHEMA)
    fleet = load_fleet(values)
    assert len(fleet.aws.certificates) >= 2


def test_schema_lists_exactly_the_keys_the_model_accepts():
    aws = SCHEMA["properties"]["aws"]["properties"]
    assert tuple(sorted(aws)) == tuple(sorted(aws_config._AWS_KEYS))
    cert = SCHEMA["$defs"]["acmCertificate"]["properties"]
    assert tuple(sorted(cert)) == tuple(sorted(aws_config._ACM_CERT_KEYS))
    assert SCHEMA["$defs"]["acmCertificate"]["properties"]["keyAlgorithm"]["enum"] == \
        list(aws_config.ACM_KEY_ALGORITHMS)


@pytest.mark.parametrize("bad", [
    {"aws": {"regoin": "us-east-1"}},
    {"aws": {"certificates": {"x": {"sans": ["a.example.com"]}}}},
    {"aws": {"certificates": {"x": {"domain": "a..example.com"}}}},
    {"aws": {"certificates": {"x": {"domain": "a.example.com", "tags": {"aws:k": "v"}}}}},
])
def test_schema_and_model_both_refuse(bad):
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, SCHEMA)
    with pytest.raises(config.ConfigError):
        load_fleet(bad)


def test_schema_lists_exactly_the_huaweicloud_keys_the_model_accepts():
    huawei = SCHEMA["properties"]["huaweicloud"]["properties"]
    assert tuple(sorted(huawei)) == tuple(sorted(huawei_config._HUAWEI_KEYS))
    cert = SCHEMA["$defs"]["scmCertificate"]["properties"]
    assert tuple(sorted(cert)) == tuple(sorted(huawei_config._SCM_CERT_KEYS))
    assert tuple(sorted(cert["applicant"]["properties"])) == tuple(sorted(huawei_config._SCM_APPLICANT_KEYS))
    assert tuple(sorted(cert["company"]["properties"])) == tuple(sorted(huawei_config._SCM_COMPANY_KEYS))
    assert cert["brand"]["enum"] == list(huawei_config.SCM_BRANDS)
    assert cert["type"]["enum"] == list(huawei_config.SCM_TYPES)
    assert cert["keyAlgorithm"]["enum"] == list(huawei_config.SCM_KEY_ALGORITHMS)


def test_local_stack_has_huaweicloud_certificates():
    assert len(load_fleet(local_stack_values()).huaweicloud.certificates) >= 1


def test_schema_lists_exactly_the_alicloud_keys_the_model_accepts():
    alicloud = SCHEMA["properties"]["alicloud"]["properties"]
    assert tuple(sorted(alicloud)) == tuple(sorted(alicloud_config._ALICLOUD_KEYS))
    order = SCHEMA["$defs"]["casOrder"]["properties"]
    assert tuple(sorted(order)) == tuple(sorted(alicloud_config._CAS_ORDER_KEYS))
    assert tuple(sorted(SCHEMA["$defs"]["casContact"]["properties"])) == \
        tuple(sorted(alicloud_config._CAS_CONTACT_KEYS))
    assert order["productCode"]["enum"] == list(alicloud_config.CAS_PRODUCT_CODES)
    assert order["api"]["enum"] == list(alicloud_config.CAS_APIS)
    assert order["keyAlgorithm"]["enum"] == list(alicloud_config.keys.KEY_ALGORITHMS)


@pytest.mark.parametrize("bad", [
    {"alicloud": {"ordres": {}}},
    {"alicloud": {"orders": {"x": {"domains": ["a.example.cn"]}}}},
    {"alicloud": {"orders": {"x": {"productCode": "digicert-free-1-free",
                                   "domains": [f"n{i}.example.cn" for i in range(6)]}}}},
    {"alicloud": {"orders": {"x": {"productCode": "symantec-ov-1-personal", "api": "withCsr", "csr": "generate",
                                   "domains": ["a.example.cn"]}}}},
    {"alicloud": {"orders": {"x": {"productCode": "digicert-free-1-free", "domains": ["a.example.cn"],
                                   "csr": "make-one"}}}},
])
def test_schema_and_model_both_refuse_alicloud(bad):
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, SCHEMA)
    with pytest.raises(config.ConfigError):
        load_fleet(bad)


def test_local_stack_has_alicloud_orders():
    orders = load_fleet(local_stack_values()).alicloud.orders
    assert {o.csr for o in orders} >= {"cas", "generate"} and {o.api for o in orders} == {"forPackage", "withCsr"}


def test_schema_aws_tag_limit_is_the_models():
    assert SCHEMA["$defs"]["awsTags"]["maxProperties"] == aws_config.AWS_MAX_USER_TAGS == 47


DV_SCM = {"brand": "GEOTRUST", "type": "DV_SSL_CERT", "domainType": "SINGLE_DOMAIN", "domains": ["a.example.com"],
          "applicant": {"name": "Zhang.San", "phone": "13800000000", "email": "ops@example.com"}}
DV_CAS = {"productCode": "digicert-free-1-free", "domains": ["a.example.cn"]}


def test_schema_and_model_both_accept_previous_names_and_listing_lag():
    good = {"aws": {"certificates": {"x": {"domain": "a.example.com", "previousNames": ["old-x"]}}},
            "huaweicloud": {"listingLagSeconds": 300, "certificates": {"y": {**DV_SCM, "previousNames": ["old-y"]}}},
            "alicloud": {"listingLagSeconds": 0, "orders": {"z": {**DV_CAS, "previousNames": ["old-z"]}}}}
    jsonschema.validate(good, SCHEMA)
    fleet = load_fleet(good)
    assert fleet.aws.certificates[0].previous_names == ("old-x",)
    assert (fleet.huaweicloud.listing_lag_seconds, fleet.alicloud.listing_lag_seconds) == (300, 0)


@pytest.mark.parametrize("bad", [
    {"aws": {"region": "us-east-1\n"}},
    {"aws": {"certificates": {"x\n": {"domain": "a.example.com"}}}},
    {"aws": {"certificates": {"x": {"domain": "a.example.com\n"}}}},
    {"aws": {"certificates": {"x": {"domain": "a.example.com", "sans": ["b\n.example.com"]}}}},
    {"aws": {"certificates": {"x": {"domain": "a.example.com", "tags": {"k\t": "v"}}}}},
    {"aws": {"certificates": {"x": {"domain": "a.example.com", "tags": {"k": "v\n"}}}}},
    {"aws": {"certificates": {"x": {"domain": "a.example.com", "tags": {f"k{i}": "v" for i in range(48)}}}}},
    {"aws": {"certificates": {"x": {"domain": "a.example.com", "previousNames": ["Old"]}}}},
    {"aws": {"certificates": {"x": {"domain": "a.example.com", "previousNames": ["old", "old"]}}}},
    {"huaweicloud": {"listingLagSeconds": 3601}},
    {"huaweicloud": {"region": "cn-north-4\n"}},
    {"huaweicloud": {"certificates": {"y": {**DV_SCM, "domains": ["a.example.com\n"]}}}},
    {"huaweicloud": {"certificates": {"y": {**DV_SCM, "tags": {"env": "prod\n"}}}}},
    {"huaweicloud": {"certificates": {"y": {**DV_SCM, "previousNames": "old"}}}},
    {"alicloud": {"listingLagSeconds": -1}},
    {"alicloud": {"contact": {"name": "  "}}},
    {"alicloud": {"contact": {"email": "a@example.cn\n"}}},
    {"alicloud": {"orders": {"z": {**DV_CAS, "productCode": "geotrust-ov-1-personal", "companyName": ""}}}},
    {"alicloud": {"orders": {"z": {**DV_CAS, "tags": {"env\n": "prod"}}}}},
    {"alicloud": {"orders": {"z": {**DV_CAS, "previousNames": [5]}}}},
])
def test_schema_and_model_both_refuse_new_rules(bad):
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, SCHEMA)
    with pytest.raises(config.ConfigError):
        load_fleet(bad)


# --- certfleet:aws distributions, imports, aggregate, cnameCheck, deployedTimeoutSeconds, versionStore ------------

def test_schema_lists_exactly_the_distribution_and_import_keys_the_model_accepts():
    from components.aws import config_distributions, config_imports, limits
    defs = SCHEMA["$defs"]
    assert tuple(sorted(defs["distribution"]["properties"])) == tuple(sorted(config_distributions._DISTRIBUTION_KEYS))
    assert tuple(sorted(defs["distribution"]["properties"]["logging"]["properties"])) == \
        tuple(sorted(config_distributions._LOGGING_KEYS))
    assert tuple(sorted(defs["versionStore"]["properties"])) == tuple(sorted(config_distributions._VERSION_STORE_KEYS))
    assert tuple(sorted(defs["acmImport"]["properties"])) == tuple(sorted(config_imports._IMPORT_KEYS))
    dist = defs["distribution"]["properties"]
    assert dist["minimumProtocolVersion"]["enum"] == list(limits.MINIMUM_PROTOCOL_VERSIONS)
    assert dist["template"]["pattern"] == f"^{limits.DISTRIBUTION_ID_PATTERN.pattern}$"
    version_pattern = config_distributions.TEMPLATE_VERSION_PATTERN.pattern
    assert dist["templateVersion"]["oneOf"][0]["pattern"] == f"^{version_pattern}$"
    assert dist["aliases"]["maxItems"] == limits.CLOUDFRONT_MAX_ALIASES
    assert dist["comment"]["maxLength"] == limits.CLOUDFRONT_MAX_COMMENT
    assert dist["logging"]["properties"]["bucket"]["pattern"] == f"^{limits.LOGGING_BUCKET_PATTERN.pattern}$"
    assert defs["versionStore"]["properties"]["table"]["pattern"] == f"^{limits.DYNAMODB_TABLE_PATTERN.pattern}$"


def _cloudfront_stack() -> dict:
    from tests.pki import Pki
    pki = Pki.make()
    certificate, _ = pki.leaf(["shop.example.net"])
    return {"aws": {
        "region": "us-east-1", "aggregate": True, "cnameCheck": True, "deployedTimeoutSeconds": 900,
        "versionStore": {"table": "CloudFrontConfigVersionTable", "region": "us-east-1"},
        "certificates": {"wild": {"domain": "*.example.com"}, "api": {"domain": "api.example.com"}},
        "imports": {"shop": {"certificate": certificate, "chain": pki.chain_pem(),
                             "privateKey": {"secure": "v1:abc"}, "expiryMarginDays": 20}},
        "distributions": {
            "api": {"template": "E195R1W5GIVPF5", "templateVersion": "3", "certificate": "api"},
            "shop": {"template": "E195R1W5GIVPF5", "certificate": "shop", "aliases": ["shop.example.net"],
                     "enabled": True, "comment": "shop", "minimumProtocolVersion": "TLSv1.2_2021",
                     "logging": {"bucket": "logs.s3.amazonaws.com", "prefix": "cdn/", "includeCookies": False},
                     "tags": {"team": "web"}, "previousNames": ["old-shop"]}}}}


def test_schema_and_model_both_accept_distributions_imports_and_aggregate():
    from tests.pki import NOW
    good = _cloudfront_stack()
    jsonschema.validate(good, SCHEMA)
    aws = load_fleet(good, secret_paths=frozenset(), now=NOW).aws   # a {secure: ...} value is secret by itself
    assert aws.reuses == (("api", "wild"),) and [d.name for d in aws.distributions] == ["api", "shop"]


@pytest.mark.parametrize("path,value", [
    ("region", "eu-west-1"),
    ("cnameCheck", "true"),
    ("aggregate", 1),
    ("deployedTimeoutSeconds", 3601),
    ("versionStore", {"table": "ab"}),
    ("versionStore", {"region": "us-east-1"}),
    ("distributions.api.template", "X195R1W5GIVPF5"),
    ("distributions.api.templateVersion", ""),
    ("distributions.api.templateVersion", 0),
    ("distributions.api.certificate", "Api"),
    ("distributions.api.aliases", [f"n{i}.example.com" for i in range(101)]),
    ("distributions.api.comment", "x" * 129),
    ("distributions.api.minimumProtocolVersion", "SSLv3"),
    ("distributions.api.enabled", "yes"),
    ("distributions.api.logging", {"bucket": "logs"}),
    ("distributions.api.logging", {"bucket": "logs.s3.amazonaws.com", "prefix": "/cdn"}),
    ("distributions.api.tags", {f"k{i}": "v" for i in range(48)}),
    ("distributions.api.origin", "x"),
    ("imports.shop.expiryMarginDays", 366),
    ("imports.shop.chain", "not a pem"),
    ("imports.shop.privateKey", {"secure": 5}),
    ("imports.shop.certificate", None),
])
def test_schema_and_model_both_refuse_cloudfront_rules(path, value):
    from tests.pki import NOW
    bad = _cloudfront_stack()
    *parents, key = ["aws", *path.split(".")]
    target = bad
    for part in parents:
        target = target[part]
    if value is None:
        del target[key]
    else:
        target[key] = value
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, SCHEMA)
    with pytest.raises(config.ConfigError):
        load_fleet(bad, secret_paths=frozenset(), now=NOW)


def test_schema_and_model_both_refuse_a_plain_text_private_key():
    from tests.pki import NOW
    bad = _cloudfront_stack()
    bad["aws"]["imports"]["shop"]["privateKey"] = "-----BEGIN PRIVATE KEY-----\n..."
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, SCHEMA)
    with pytest.raises(config.ConfigError, match="in plain text"):
        load_fleet(bad, secret_paths=frozenset(), now=NOW)


ADOPTED_ARN = "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-4234-8234-123456789012"


def test_schema_and_model_both_accept_adopt_keys():
    values = {"aws": {"certificates": {"shop": {"domain": "shop.example.com", "adopt": ADOPTED_ARN,
                                                "replaceAdopted": True, "onDestroy": "delete"}},
                      "distributions": {"web": {"template": "E195R1W5GIVPF5", "certificate": "shop",
                                                "adopt": "E2QWRUHAPOMQZL", "onDestroy": "keep"}}}}
    jsonschema.validate(values, SCHEMA)
    assert load_fleet(values).aws.distributions[0].adopt == "E2QWRUHAPOMQZL"


@pytest.mark.parametrize("entry", [
    {"domain": "shop.example.com", "adopt": "E2QWRUHAPOMQZL"},
    {"domain": "shop.example.com", "adopt": ADOPTED_ARN, "onDestroy": "revoke"},
    {"domain": "shop.example.com", "adopt": ADOPTED_ARN, "replaceAdopted": "yes"},
])
def test_schema_and_model_both_refuse_bad_adopt_keys(entry):
    bad = {"aws": {"certificates": {"shop": entry}}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, SCHEMA)
    with pytest.raises(config.ConfigError):
        load_fleet(bad)


def test_schema_lists_exactly_the_keys_of_an_instance_entry():
    from components.alicloud import instance_config
    entry = SCHEMA["$defs"]["casInstanceEntry"]["properties"]
    assert tuple(sorted(entry)) == tuple(sorted(instance_config.INSTANCE_KEYS))
    assert entry["keyAlgorithm"]["enum"] == list(instance_config.INSTANCE_KEY_ALGORITHMS)


@pytest.mark.parametrize("bad", [
    {"alicloud": {"orders": {"x": {"instance": "cas-cn-abc123", "productCode": "digicert-free-1-free",
                                   "domains": ["a.example.cn"]}}}},
    {"alicloud": {"orders": {"x": {"instance": "cas-upload-abc123", "domains": ["a.example.cn"]}}}},
    {"alicloud": {"orders": {"x": {"instance": "cas-cn-abc123", "domains": ["a.example.cn"],
                                   "keyAlgorithm": "EC_P384"}}}},
])
def test_schema_and_model_both_refuse_instance_entries(bad):
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, SCHEMA)
    with pytest.raises(config.ConfigError):
        config.load_fleet(bad)


def test_schema_accepts_an_instance_entry():
    good = {"alicloud": {"orders": {"x": {"instance": "cas_dv-cn-rp643r82d0i1", "domains": ["a.example.cn"],
                                          "validation": "FILE", "contactIds": [1], "tags": {"team": "web"}}}}}
    jsonschema.validate(good, SCHEMA)
    assert config.load_fleet(good).alicloud.instance_orders
