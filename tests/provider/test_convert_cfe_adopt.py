"""`python -m scripts.convert_cfe --adopt --job-id J`: what a CloudFront Extensions job made (a certificate and a
distribution tagged job_token=J, made here with boto3 as CFE makes them, reference §3.3, §5) is found on the AWS
emulator and each converted entry adopts the object with its names; another job's objects are left alone."""

from __future__ import annotations

import io
import json
from datetime import datetime, timezone

import pytest
import yaml

from components.config import load_fleet
from emulators.aws.testing import SAMPLE_TEMPLATE
from scripts import aws_inventory, cfe_request
from scripts.convert_cfe import run
from tests import pki
from tests.provider.test_cloudfront_provider import acm, cf, wait_issued

JOB = "21b370eb-6c6f-4f2a-8a84-e3cbfdc00318"   # the seed's response body
PKI = pki.Pki.make(slot=8, now=datetime.now(timezone.utc))


def template() -> str:
    return cf().create_distribution(DistributionConfig={**SAMPLE_TEMPLATE, "CallerReference": "cfe-template"}
                                    )["Distribution"]["Id"]


def cfe_creates(job: str, template_id: str, domain: str, sans: list[str]) -> tuple[str, str]:
    """One cnameList item of an auto_creation job: the certificate (tagged), the clone (tagged), then the bind."""
    arn = acm().request_certificate(DomainName=domain, SubjectAlternativeNames=sans, ValidationMethod="DNS",
                                    Tags=[{"Key": "issuer", "Value": domain}])["CertificateArn"]
    acm().add_tags_to_certificate(CertificateArn=arn, Tags=[{"Key": "job_token", "Value": job}])
    return arn, clone_and_bind(job, template_id, arn, sans)


def cfe_imports(job: str, template_id: str, cert: str, key: str, chain: str, aliases: list[str]) -> tuple[str, str]:
    arn = acm().import_certificate(Certificate=cert.encode(), PrivateKey=key.encode(), CertificateChain=chain.encode(),
                                   Tags=[{"Key": "job_token", "Value": job}])["CertificateArn"]
    return arn, clone_and_bind(job, template_id, arn, aliases)


def clone_and_bind(job: str, template_id: str, arn: str, aliases: list[str]) -> str:
    config = cf().get_distribution_config(Id=template_id)["DistributionConfig"]
    made = cf().create_distribution_with_tags(DistributionConfigWithTags={
        "DistributionConfig": {**config, "CallerReference": f"{job}-{arn[-12:]}"},
        "Tags": {"Items": [{"Key": "job_token", "Value": job}]}})["Distribution"]
    wait_issued(arn)
    answer = cf().get_distribution_config(Id=made["Id"])
    config = answer["DistributionConfig"]
    config["Aliases"] = {"Quantity": len(aliases), "Items": aliases}
    config["ViewerCertificate"] = {"ACMCertificateArn": arn, "SSLSupportMethod": "sni-only",
                                   "MinimumProtocolVersion": "TLSv1.2_2021"}
    cf().update_distribution(Id=made["Id"], IfMatch=answer["ETag"], DistributionConfig=config)
    return made["Id"]


def convert(tmp_path, body: dict, *args: str) -> tuple[int, dict, list[str]]:
    request = tmp_path / "request.json"
    request.write_text(json.dumps(body))
    out, err = io.StringIO(), io.StringIO()
    code = run([str(request), *args], out, err)
    return code, (yaml.safe_load(out.getvalue()) or {}).get("config", {}).get("certfleet:aws", {}), \
        err.getvalue().splitlines()


@pytest.fixture
def template_id(aws):
    return template()


def create_body(template_id: str) -> dict:
    return {"acm_op": "create", "auto_creation": "true", "cnameList": [
        {"domainName": "shop.example.com", "sanList": ["shop.example.com", "www.shop.example.com"],
         "existing_cf_info": {"distribution_id": template_id}},
        {"domainName": "api.example.com", "sanList": ["api.example.com"],
         "existing_cf_info": {"distribution_id": template_id}}]}


@pytest.mark.parametrize("tag_index", ["usable", "not allowed"])
def test_a_create_jobs_certificate_and_distribution_are_adopted(tmp_path, template_id, tag_index, monkeypatch):
    if tag_index == "not allowed":   # no tag:GetResources permission: ACM and CloudFront are listed instead
        monkeypatch.setattr(aws_inventory, "tagged_arns", lambda key, value: None)
    arn, distribution_id = cfe_creates(JOB, template_id, "shop.example.com",
                                       ["shop.example.com", "www.shop.example.com"])
    other_arn, other_id = cfe_creates("another-job", template_id, "api.example.com", ["api.example.com"])
    code, aws, report = convert(tmp_path, create_body(template_id), "--adopt", "--job-id", JOB)
    assert code == 0, report
    assert aws["certificates"]["shop-example-com"]["adopt"] == arn
    assert aws["distributions"]["shop-example-com"]["adopt"] == distribution_id
    assert "adopt" not in aws["certificates"]["api-example-com"]           # another job's: not adopted
    assert "adopt" not in aws["distributions"]["api-example-com"]
    assert other_arn not in json.dumps(aws) and other_id not in json.dumps(aws)
    assert "cnameList[1]: certificates.api-example-com: nothing of the job matches; it will be created" in report
    fleet = load_fleet({"aws": aws}, secret_paths=[])
    assert {c.name: c.adopt for c in fleet.aws.certificates}["shop-example-com"] == arn
    assert {d.name: d.adopt for d in fleet.aws.distributions}["shop-example-com"] == distribution_id


def test_an_import_jobs_certificate_is_adopted_and_strays_reported(tmp_path, template_id):
    cert, key = PKI.leaf(["www.legacy.example.com", "legacy.example.com"], slot=3)
    arn, distribution_id = cfe_imports(JOB, template_id, cert, key, PKI.chain_pem(),
                                       ["www.legacy.example.com"])   # a sanList narrower than the certificate
    stray = acm().request_certificate(DomainName="stray.example.com", ValidationMethod="DNS",
                                      Tags=[{"Key": "job_token", "Value": JOB}])["CertificateArn"]
    body = {"acm_op": "import", "auto_creation": "true", "cnameList": [], "pemList": [
        {"CertPem": cert, "PrivateKeyPem": key, "ChainPem": PKI.chain_pem(),
         "existing_cf_info": {"distribution_id": template_id}}]}
    code, aws, report = convert(tmp_path, body, "--adopt", "--job-id", JOB)
    assert code == 0, report
    assert aws["imports"]["www-legacy-example-com"]["adopt"] == arn
    # its aliases differ from the certificate's names, so it is found by the certificate it serves
    assert aws["distributions"]["www-legacy-example-com"]["adopt"] == distribution_id
    assert any(line.startswith(f"--job-id: {stray} (stray.example.com, AMAZON_ISSUED") and "matches no entry" in line
               for line in report)
    assert "PRIVATE KEY" not in json.dumps(aws)
    aws["imports"]["www-legacy-example-com"]["privateKey"] = key
    fleet = load_fleet({"aws": aws}, secret_paths=["certfleet:aws.imports.www-legacy-example-com.privateKey"])
    assert fleet.aws.imports[0].adopt == arn


def test_a_job_with_nothing_tagged_adopts_nothing(tmp_path, template_id):
    code, aws, report = convert(tmp_path, create_body(template_id), "--adopt", "--job-id", "no-such-job")
    assert code == 0 and "adopt" not in json.dumps(aws)
    assert any(line.startswith("--job-id: no ACM certificate or CloudFront distribution is tagged job_token=no-such-job")
               for line in report)


def test_adopt_needs_a_job_id(tmp_path):
    with pytest.raises(SystemExit):
        convert(tmp_path, create_body("E195R1W5GIVPF5"), "--adopt")


def test_entry_names_match_the_conversion():
    """The adopt look-up compares an entry's names with the object's: the same tuple shape on both sides."""
    conversion = cfe_request.convert(create_body("E195R1W5GIVPF5"))
    assert conversion.entry_names["shop-example-com"] == ("shop.example.com", "www.shop.example.com")
