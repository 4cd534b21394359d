"""schema/outputs.v1.schema.json: the stack outputs and the report's --json as one versioned schema (docs/outputs.md).

The published schema is open (consumers must ignore keys they do not know: additive changes keep v1). The tests
validate strictly (`validate_strictly`: every object that lists its properties allows no others), so a key the
program or the report starts to emit fails here until the schema and docs/outputs.md document it.
The local default's real outputs are validated the same way in tests/e2e/test_outputs_schema_e2e.py.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import jsonschema
import pytest

from scripts import report
from tests.conftest import ROOT
from tests.unit.test_report import OUTPUTS as REPORT_OUTPUTS

SCHEMA_PATH = ROOT / "schema" / "outputs.v1.schema.json"
DOCS_PATH = ROOT / "docs" / "outputs.md"


def load_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text())


def closed(node: Any) -> Any:
    """The schema with `additionalProperties: false` wherever an object lists its properties."""
    if isinstance(node, dict):
        out = {key: closed(value) for key, value in node.items()}
        if "properties" in out and "additionalProperties" not in out:
            out["additionalProperties"] = False
        return out
    if isinstance(node, list):
        return [closed(item) for item in node]
    return node


def errors_of(document: Any, strict: bool = True) -> list[str]:
    schema = load_schema()
    validator = jsonschema.Draft202012Validator(closed(schema) if strict else schema)
    return [f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
            for e in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))]


def validate_strictly(document: Any) -> None:
    """Fails naming every path that breaks the schema (or carries a key it does not document)."""
    problems = errors_of(document)
    assert not problems, "\n".join(problems)


# A stack's outputs as `pulumi stack output --json` prints them (shapes taken from the local stack's real run).
RECORD = {"name": "_d9.shop.example.com.", "type": "CNAME", "value": "_c9.acm-validations.aws.",
          "domains": ["shop.example.com"]}
ARN = "arn:aws:acm:us-east-1:123456789012:certificate/5e99519e"
STACK_OUTPUTS = {
    "schemaVersion": 1,
    "aws": {
        "certificates": {"shop": {"arn": ARN, "status": "PENDING_VALIDATION", "status_message": "waiting",
                                  "domain": "shop.example.com", "sans": ["shop.example.com"],
                                  "validation_records": [RECORD], "not_after": None, "adopted": False,
                                  "renewal_status": None, "renewal_eligibility": "INELIGIBLE",
                                  "reused_by": ["api"]}},
        "imports": {"static": {"arn": ARN + "1", "status": "ISSUED", "status_message": "imported",
                               "domain": "static.example.net", "sans": ["static.example.net"],
                               "not_after": "2036-11-26T09:56:31+00:00", "adopted": False}},
        "distributions": {"shop": {"distribution_id": "EBE7UDID2TB27T", "domain_name": "wog6.cloudfront.net",
                                   "status": "InProgress", "stage": "waiting for certificate",
                                   "status_message": "waiting", "aliases": [], "certificate_arn": None,
                                   "bound": False, "adopted": False, "certificate": "shop",
                                   "template": "E1CERTFLEETTPL", "template_version": None,
                                   "edge": {"shop.example.com": {"ok": False, "fingerprint": "", "not_after": "",
                                                                 "problem": "TLS handshake failed"}}}},
        "aggregated": {"api": "shop"},
        "validationRecords": [{**{k: RECORD[k] for k in ("name", "type", "value")}, "certificates": ["shop"]}],
    },
    "huaweicloud": {"certificates": {"portal": {
        "certificate_id": "scs3490223482563", "order_id": "CS2611301315MI1K5", "status": "ISSUED",
        "status_message": "issued", "domains": ["portal.example.cn"], "not_after": "2027-11-30 13:15:49.0",
        "validation_records": [{"domain": "portal.example.cn", "name": "_dnsauth.portal.example.cn", "type": "TXT",
                                "value": "e1f8"}], "adopted": False}}},
    "alicloud": {"orders": {
        "docs": {"order_id": "98987582437920969", "state": "domain_verify", "status_message": "waiting",
                 "product_code": "digicert-free-1-free", "domains": ["docs.example.cn"],
                 "challenge": {"type": "DNS", "record_type": "TXT", "name": "_dnsauth.docs.example.cn",
                               "value": "2026"},
                 "not_after": None, "cert_id": None, "certificate_pem": None, "private_key": None,
                 "adopted": False, "adopted_by_id": False},
        "shop": {"order_id": "98987582437920968", "state": "certificate", "status_message": "issued",
                 "product_code": "symantec-dv-1-starter", "domains": ["shop.example.cn"], "challenge": None,
                 "not_after": "2027-02-28T13:15:49+00:00", "cert_id": "12000001",
                 "certificate_pem": "-----BEGIN CERTIFICATE-----\n", "private_key": "[secret]",
                 "adopted": False, "adopted_by_id": False},
        "login": {"order_id": None, "instance_id": "cas-cn-certfleetlocal1", "state": "pending",
                  "status_message": "waiting", "product_code": "digicert-free-1-free",
                  "domains": ["login.example.cn"],
                  "challenge": {"type": "FILE", "domain": "login.example.cn", "uri": "/.well-known/x.txt",
                                "content": "2026", "url": "http://login.example.cn/.well-known/x.txt"},
                  "not_after": None, "cert_id": None, "certificate_pem": None, "private_key": None,
                  "adopted": False, "adopted_by_id": False}}},
}


def test_the_schema_is_a_valid_draft_2020_12_schema_with_version_1():
    schema = load_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator.check_schema(closed(schema))
    assert schema["$defs"]["schemaVersion"] == {"description": schema["$defs"]["schemaVersion"]["description"],
                                                "const": 1}


def test_the_program_and_the_report_write_the_schema_version_the_schema_names():
    program = (ROOT / "__main__.py").read_text()
    assert re.search(r"^OUTPUTS_SCHEMA_VERSION = 1$", program, re.MULTILINE)
    assert 'pulumi.export("schemaVersion", OUTPUTS_SCHEMA_VERSION)' in program
    assert report.SCHEMA_VERSION == load_schema()["$defs"]["schemaVersion"]["const"]
    assert report.report({})["schemaVersion"] == 1


def test_stack_outputs_of_every_section_validate():
    validate_strictly(STACK_OUTPUTS)
    validate_strictly({"schemaVersion": 1})  # a stack without sections


def test_the_report_of_every_stage_validates():
    document = json.loads(json.dumps(report.report({**REPORT_OUTPUTS, **{
        k: v for k, v in STACK_OUTPUTS.items() if k in ("huaweicloud", "alicloud")}})))
    assert {row["stage"] for row in document["resources"]} == set(report.STAGES)
    assert {row["kind"] for row in document["resources"]} == {"certificate", "import", "aggregated", "distribution"}
    validate_strictly(document)
    validate_strictly(json.loads(json.dumps(report.report(STACK_OUTPUTS))))


@pytest.mark.parametrize("change, where", [
    (lambda d: d.update(schemaVersion=2), "schemaVersion"),
    (lambda d: d.pop("schemaVersion"), "(top)"),
    (lambda d: d["aws"]["certificates"]["shop"].update(expires="2027"), "aws/certificates/shop"),
    (lambda d: d["aws"]["certificates"]["shop"].pop("arn"), "aws/certificates/shop"),
    (lambda d: d["aws"]["distributions"]["shop"].update(stage="ready"), "aws/distributions/shop/stage"),
    (lambda d: d["aws"]["certificates"]["shop"].update(not_after="30/11/2027"),
     "aws/certificates/shop/not_after"),
    (lambda d: d["alicloud"]["orders"]["docs"]["challenge"].pop("value"), "alicloud/orders/docs/challenge"),
    (lambda d: d["huaweicloud"]["certificates"]["portal"].update(status=None),
     "huaweicloud/certificates/portal/status"),
])
def test_a_broken_or_undocumented_stack_output_is_refused_at_its_path(change, where):
    document = copy.deepcopy(STACK_OUTPUTS)
    change(document)
    problems = errors_of(document)
    assert problems and all(p.startswith(where) for p in problems), problems


def test_a_report_with_an_unknown_stage_or_kind_is_refused():
    document = json.loads(json.dumps(report.report(REPORT_OUTPUTS)))
    document["totals"]["expired"] = 0
    document["resources"][0]["stage"] = "expired"
    problems = errors_of(document)
    assert any(p.startswith("totals:") for p in problems) and any(p.startswith("resources/0") for p in problems)


def test_the_published_schema_accepts_additive_changes_the_strict_one_does_not():
    document = copy.deepcopy(STACK_OUTPUTS)
    document["gcp"] = {"certificates": {}}
    document["aws"]["certificates"]["shop"]["key_algorithm"] = "RSA_2048"
    assert errors_of(document, strict=False) == []
    assert len(errors_of(document)) == 2


def test_each_resource_definition_lists_exactly_what_the_components_export():
    from components.aws.fleet import ACM_OUTPUTS, DISTRIBUTION_OUTPUTS, IMPORT_OUTPUTS
    from components.fleet import CAS_OUTPUTS, SCM_OUTPUTS
    defs = load_schema()["$defs"]
    expected = {
        "acmCertificate": (ACM_OUTPUTS, {"reused_by", "validation"}),
        "acmImport": (IMPORT_OUTPUTS, {"reused_by", "deployments"}),  # deployments: with deployTo (additive)
        "distribution": (DISTRIBUTION_OUTPUTS, {"certificate", "template", "template_version",
                                                "certificate_fingerprint"}),  # added in v1 (additive)
        "scmCertificate": (SCM_OUTPUTS, {"validation", "renewal", "deployments"}),  # renewal: added in v1 (additive)
        "casOrder": (CAS_OUTPUTS, {"instance_id", "validation", "renewal", "deployments"}),  # no renewal: instances
    }
    for name, (always, sometimes) in expected.items():
        assert set(defs[name]["properties"]) == set(always) | sometimes, name
        assert set(defs[name]["required"]) == set(always) - sometimes | (
            {"certificate", "template", "template_version"} if name == "distribution" else set()), name
    secret = {f"{name}.{field}" for name, definition in defs.items()
              for field, spec in (definition.get("properties") or {}).items()
              if spec.get("x-secret") or spec.get("$ref") == "#/$defs/secretString"}
    assert secret == {"casOrder.private_key"}


def test_docs_outputs_md_names_every_field_and_the_promise():
    docs = DOCS_PATH.read_text()
    fields = {field for definition in load_schema()["$defs"].values()
              for field in (definition.get("properties") or {})}
    missing = sorted(field for field in fields if f"`{field}`" not in docs)
    assert not missing, f"docs/outputs.md does not name: {missing}"
    assert "schema/outputs.v1.schema.json" in docs and "additive changes keep v1" in docs.lower()
    assert "[secret]" in docs
