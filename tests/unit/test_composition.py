"""examples/composition: a team's own program composing certfleet's components with pulumi_aws and pulumi_alicloud,
run as it is (its Pulumi.example.yaml config) under Pulumi's mocks (docs/composition.md).

The mocks play the clouds: certfleet's ACM certificate comes back with an ARN and ACM-style validation records,
its CAS order with a DNS challenge (or none, once issued), every other resource with its inputs. The tests then
check what the program asked pulumi_aws and pulumi_alicloud for: the Route 53 records carry certfleet's records,
the distribution serves certfleet's ARN (through CertificateValidation), Alibaba Cloud DNS gets the challenge.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import runpy
from typing import Any

import pulumi
import pytest
import yaml

from components.packing import packed, unpacked
from tests.conftest import ROOT
from tests.unit.test_output_schema import errors_of

EXAMPLE = ROOT / "examples" / "composition"
ARN = "arn:aws:acm:us-east-1:123456789012:certificate/0b3c1f2e-web-shop"
# pulumi_alicloud.dns warns about its own deprecated resources when imported: not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
CHALLENGE = {"type": "DNS", "record_type": "TXT", "name": "_dnsauth.docs.example.cn",
             "value": "20261130000000abcdef"}


def acm_records(names: list[str]) -> list[dict[str, Any]]:
    """What certfleet's AcmCertificate outputs: one record per name, a wildcard sharing its apex's."""
    by_base: dict[str, list[str]] = {}
    for name in names:
        by_base.setdefault(name.removeprefix("*."), []).append(name)
    return [{"name": f"_{hashlib.md5(base.encode()).hexdigest()}.{base}.", "type": "CNAME",
             "value": f"_{hashlib.sha1(base.encode()).hexdigest()[:32]}.acm-validations.aws.",
             "domains": sorted(domains)} for base, domains in sorted(by_base.items())]


class CloudMocks(pulumi.runtime.Mocks):
    def __init__(self, cas_challenge: dict[str, Any] | None):
        self.cas_challenge = cas_challenge
        self.registered: dict[tuple[str, str], dict[str, Any]] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        outputs = dict(args.inputs)
        if args.typ == "pulumi-python:dynamic/aws:AcmCertificate":   # its state is one JSON property
            spec = unpacked(args.inputs)
            outputs = packed({**spec, "arn": ARN, "status": "PENDING_VALIDATION",
                              "validation_records": acm_records(spec["sans"]),
                              "status_message": "waiting for validation", "adopted": False})
        elif args.typ == "pulumi-python:dynamic/alicloud:CasOrder":
            outputs = packed({**unpacked(args.inputs), "order_id": "98987582437920969", "challenge": self.cas_challenge,
                              "state": "domain_verify" if self.cas_challenge else "certificate",
                              "status_message": "waiting for domain validation", "adopted": False,
                              "adopted_by_id": False}, set(args.inputs) - {"spec"})
        elif args.typ == "aws:route53/record:Record":
            outputs["fqdn"] = args.inputs["name"].rstrip(".")
        elif args.typ == "aws:cloudfront/distribution:Distribution":
            outputs["domainName"] = "d111111abcdef8.cloudfront.net"
        self.registered[(args.typ, args.name)] = json.loads(json.dumps(unpacked(args.inputs), default=str))
        return f"{args.name}-id", outputs

    def call(self, args: pulumi.runtime.MockCallArgs):
        return {}

    def of_type(self, typ: str) -> dict[str, dict[str, Any]]:
        return {name: inputs for (t, name), inputs in self.registered.items() if t == typ}


def example_config() -> dict[str, str]:
    """Pulumi.example.yaml's config as the engine hands it to a program (objects as JSON text)."""
    config = yaml.safe_load((EXAMPLE / "Pulumi.example.yaml").read_text())["config"]
    return {key: value if isinstance(value, str) else json.dumps(value) for key, value in config.items()}


def run_example(cas_challenge: dict[str, Any] | None = CHALLENGE) -> tuple[CloudMocks, dict[str, Any]]:
    mocks = CloudMocks(cas_challenge)
    asyncio.set_event_loop(asyncio.new_event_loop())  # earlier tests may have closed the current one
    pulumi.runtime.set_mocks(mocks, project="web-shop", stack="example", preview=False)
    pulumi.runtime.set_all_config(example_config())
    program: dict[str, Any] = {}

    @pulumi.runtime.test
    def run():
        program.update(runpy.run_path(str(EXAMPLE / "__main__.py"), run_name="__main__"))
        # The stack outputs as `pulumi stack output --json` would show them (secrets unmasked).
        exported = pulumi.Output.from_input(pulumi.runtime.get_root_resource().outputs).apply(
            lambda values: program.update(stack_outputs=json.loads(json.dumps(values))))
        # Wait for the outputs the program's pulumi_aws and pulumi_alicloud resources were built from.
        return pulumi.Output.all(*program["challenge_records"].values(),
                                 *[r.fqdn for r in program["validation_records"]],
                                 program["distribution"].domain_name, exported)

    try:
        run()
    finally:
        pulumi.runtime.set_all_config({})
    return mocks, program


@pytest.fixture(scope="module")
def pending():
    return run_example()


def test_route53_publishes_certfleets_acm_validation_records(pending):
    mocks, _ = pending
    [certificate] = mocks.of_type("pulumi-python:dynamic/aws:AcmCertificate").values()
    assert certificate["domain"] == "shop.example.com"
    assert sorted(certificate["sans"]) == ["shop.example.com", "www.shop.example.com"]
    expected = {r["domains"][0]: r for r in acm_records(certificate["sans"])}
    records = mocks.of_type("aws:route53/record:Record")
    validation = {name: inputs for name, inputs in records.items() if name.startswith("acm-validation-")}
    assert sorted(validation) == ["acm-validation-shop.example.com", "acm-validation-www.shop.example.com"]
    for name, inputs in validation.items():
        record = expected[name.removeprefix("acm-validation-")]
        assert (inputs["name"], inputs["type"], inputs["records"]) == (record["name"], "CNAME", [record["value"]])
        assert inputs["zoneId"] == "Z0123456789EXAMPLE" and inputs["allowOverwrite"] is True


def test_the_distribution_serves_certfleets_certificate_once_validated(pending):
    mocks, _ = pending
    [validation] = mocks.of_type("aws:acm/certificateValidation:CertificateValidation").values()
    assert validation["certificateArn"] == ARN and validation["region"] == "us-east-1"
    assert sorted(validation["validationRecordFqdns"]) == sorted(
        r["name"].rstrip(".") for r in acm_records(["shop.example.com", "www.shop.example.com"]))
    [distribution] = mocks.of_type("aws:cloudfront/distribution:Distribution").values()
    assert distribution["viewerCertificate"]["acmCertificateArn"] == ARN
    assert distribution["viewerCertificate"]["sslSupportMethod"] == "sni-only"
    assert sorted(distribution["aliases"]) == ["shop.example.com", "www.shop.example.com"]
    assert distribution["origins"][0]["domainName"] == "origin.shop.example.com"
    aliases = {name: inputs for name, inputs in mocks.of_type("aws:route53/record:Record").items()
               if name.startswith("site-")}
    assert {inputs["name"] for inputs in aliases.values()} == {"shop.example.com", "www.shop.example.com"}
    assert all(inputs["aliases"][0]["name"] == "d111111abcdef8.cloudfront.net" for inputs in aliases.values())


def test_alibaba_cloud_dns_gets_the_cas_challenge_relative_to_its_domain(pending):
    mocks, _ = pending
    [order] = mocks.of_type("pulumi-python:dynamic/alicloud:CasOrder").values()
    assert order["domains"] == ["docs.example.cn"] and order["validation"] == "DNS"
    records = mocks.of_type("alicloud:dns/alidnsRecord:AlidnsRecord")
    assert records == {"cas-challenge-docs": {"domainName": "example.cn", "rr": "_dnsauth.docs", "type": "TXT",
                                              "value": CHALLENGE["value"], "ttl": 600}}


def test_once_cas_issued_the_program_no_longer_declares_the_challenge_record():
    mocks, _ = run_example(cas_challenge=None)
    assert mocks.of_type("alicloud:dns/alidnsRecord:AlidnsRecord") == {}
    assert len(mocks.of_type("aws:route53/record:Record")) == 4  # the AWS side is unchanged


def test_the_programs_outputs_follow_certfleets_v1_schema_with_its_own_beside_them(pending):
    _, program = pending
    outputs = program["stack_outputs"]
    assert errors_of(outputs, strict=False) == []  # the published schema: open to keys it does not know
    assert outputs["schemaVersion"] == 1 and outputs["siteCertificateArn"] == ARN
    assert outputs["aws"]["certificates"]["site"]["arn"] == ARN
    assert outputs["alicloud"]["orders"]["docs"]["challenge"] == CHALLENGE
    assert outputs["casChallengeRecords"] == {"docs": "_dnsauth.docs.example.cn"}
    # Strictly, only the team's own keys are unknown to the schema.
    assert {problem.split(":")[0] for problem in errors_of(outputs)} == {"(top)"}


def test_the_helpers_pick_the_right_record_and_name(pending):
    _, program = pending
    assert program["validation_names"](("*.shop.example.com", "shop.example.com", "www.shop.example.com")) == [
        "shop.example.com", "www.shop.example.com"]
    wildcard = acm_records(["*.shop.example.com", "shop.example.com"])
    assert program["record_for"](wildcard, "shop.example.com") == wildcard[0]
    with pytest.raises(ValueError, match="has not published the validation record for api.example.com"):
        program["record_for"](wildcard, "api.example.com")
    assert program["relative_name"]("_dnsauth.docs.example.cn.", "Example.CN") == "_dnsauth.docs"
    assert program["relative_name"]("example.cn", "example.cn") == "@"
    with pytest.raises(ValueError, match="not in the Alibaba Cloud DNS domain example.cn"):
        program["relative_name"]("_dnsauth.docs.example.com", "example.cn")
