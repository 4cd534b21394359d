"""The published JSON Schema agrees with the config model and accepts the local stack."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml

from components import config
from components.config import load_fleet, decode_config_values
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
    assert tuple(sorted(aws)) == tuple(sorted(config._AWS_KEYS))
    cert = SCHEMA["$defs"]["acmCertificate"]["properties"]
    assert tuple(sorted(cert)) == tuple(sorted(config._ACM_CERT_KEYS))
    assert SCHEMA["$defs"]["acmCertificate"]["properties"]["keyAlgorithm"]["enum"] == list(config.ACM_KEY_ALGORITHMS)


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
