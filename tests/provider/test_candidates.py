"""`python -m scripts.candidates`: what exists in each account, with its owner, and the config that adopts the rest,
against the AWS, CAS and SCM emulators (objects made with the official SDKs, as someone would in a console)."""

from __future__ import annotations

import io
from datetime import datetime, timezone

import pytest
import yaml

from components import keys
from components.aws.acm import RESOURCE_TAG
from components.config import load_fleet
from components.huaweicloud.scm import RESOURCE_TAG as SCM_RESOURCE_TAG
from emulators.aws.testing import SAMPLE_TEMPLATE
from emulators.core.testing import ControlClient
from scripts import candidates
from scripts.candidates import run
from tests import pki
from tests.emulators.cas_scaffolding import order_for_package
from tests.emulators.conftest_scm import SCM_SK
from tests.provider.test_adopt_scm import buy_out_of_band
from tests.provider.test_cas_provider import ACCESS_KEY_SECRET, PLAN, emulator, sdk  # noqa: F401
from tests.provider.test_cloudfront_provider import acm, cf, wait_issued
from tests.provider.test_scm_provider import provider  # noqa: F401

PKI = pki.Pki.make(slot=9, now=datetime.now(timezone.utc))
CLOUD_ENV = ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "HUAWEICLOUD_SDK_AK",
             "HUAWEICLOUD_SDK_SK")


def listed(*argv: str) -> tuple[str, list[str], dict]:
    out, err = io.StringIO(), io.StringIO()
    assert run(list(argv), out, err) == 0
    return out.getvalue(), err.getvalue().splitlines(), (yaml.safe_load(out.getvalue()) or {}).get("config", {})


def line_of(text: str, object_id: str) -> str:
    return next(line for line in text.splitlines() if object_id in line and "owner:" in line)


@pytest.fixture
def aws_only(aws, monkeypatch):
    for name in CLOUD_ENV:
        monkeypatch.delenv(name, raising=False)
    return aws


def test_aws_certificates_and_distributions_with_owners_and_adopt_entries(aws_only):
    # by hand: a requested certificate, an import and a distribution bound to the import
    ec = acm().request_certificate(DomainName="ec.example.com", ValidationMethod="DNS")["CertificateArn"]
    cert, key = PKI.leaf(["www.legacy.example.com", "legacy.example.com"], slot=2)
    imported = acm().import_certificate(Certificate=cert.encode(), PrivateKey=key.encode(),
                                        CertificateChain=PKI.chain_pem().encode())["CertificateArn"]
    made = cf().create_distribution(DistributionConfig={
        **SAMPLE_TEMPLATE, "CallerReference": "by-hand", "Aliases": {"Quantity": 1, "Items": ["www.legacy.example.com"]},
        "ViewerCertificate": {"ACMCertificateArn": imported, "SSLSupportMethod": "sni-only",
                              "MinimumProtocolVersion": "TLSv1.2_2021"}})["Distribution"]
    # and one certfleet owns
    owned = acm().request_certificate(DomainName="shop.example.com", ValidationMethod="DNS",
                                      Tags=[{"Key": RESOURCE_TAG, "Value": "certfleet/prod/shop"}])["CertificateArn"]
    wait_issued(ec)
    text, notes, config = listed("--cloud", "aws")
    assert "# aws: 4 found, 3 not owned by certfleet" in text
    assert "owner: certfleet/prod/shop" in line_of(text, owned)
    assert "names: ec.example.com  status: ISSUED" in line_of(text, ec) and "owner: none" in line_of(text, ec)
    assert "expires: 20" in line_of(text, imported)
    aws = config["certfleet:aws"]
    assert aws["certificates"] == {"ec-example-com": {"domain": "ec.example.com", "adopt": ec}}
    assert aws["imports"]["legacy-example-com"]["adopt"] == imported
    assert aws["imports"]["legacy-example-com"]["certificate"].strip() == cert.strip()
    assert aws["distributions"] == {"www-legacy-example-com": {
        "template": made["Id"], "aliases": ["www.legacy.example.com"], "certificate": "legacy-example-com",
        "adopt": made["Id"]}}
    assert "PRIVATE KEY" not in text and "certfleet-test-secret" not in text
    assert ("#   certfleet:aws.imports.legacy-example-com: privateKey: pulumi config set --secret --path "
            "'certfleet:aws.imports.legacy-example-com.privateKey' < key.pem") in text
    # moto's GetCertificate appends its own CA to an imported chain (real ACM returns the chain as imported)
    assert aws["imports"]["legacy-example-com"]["chain"].startswith(PKI.chain_pem().strip())
    aws["imports"]["legacy-example-com"]["chain"] = PKI.chain_pem()
    # ready to paste: with the key set as a secret, the section loads
    aws["imports"]["legacy-example-com"]["privateKey"] = key
    fleet = load_fleet({"aws": {"region": "us-east-1", **aws}},
                       secret_paths=["certfleet:aws.imports.legacy-example-com.privateKey"])
    assert {d.adopt for d in fleet.aws.distributions} == {made["Id"]}
    assert notes == []


def test_stack_outputs_name_owners(aws_only, monkeypatch):
    arn = acm().request_certificate(DomainName="api.example.com", ValidationMethod="DNS")["CertificateArn"]
    monkeypatch.setattr(candidates, "stack_owners", lambda stack: candidates.owners_from_outputs(
        stack, {"aws": {"certificates": {"api": {"arn": arn, "status": "ISSUED"}}}}))
    text, _, config = listed("--cloud", "aws", "--stack", "dev")
    assert "owner: dev: aws.certificates.api" in line_of(text, arn)
    assert config == {}


def test_a_cloud_without_credentials_is_skipped_with_a_note(aws_only):
    text, notes, config = listed("--cloud", "alicloud", "--cloud", "huaweicloud")
    assert any(n.startswith("alicloud: skipped: no ALIBABA_CLOUD_ACCESS_KEY_ID") for n in notes)
    assert any(n.startswith("huaweicloud: skipped: huaweicloud: set HUAWEICLOUD_SDK_AK") for n in notes)


def test_cas_orders_are_listed_with_adopt_entries(emulator, sdk, monkeypatch):  # noqa: F811
    order_id = order_for_package(sdk, "blog.example.cn", product_code=PLAN)
    text, notes, config = listed("--cloud", "alicloud")
    assert f"alicloud     orders        {order_id}  names: blog.example.cn" in text
    assert "owner: none known (CAS orders carry no owner mark: --stack NAME)" in line_of(text, str(order_id))
    assert config["certfleet:alicloud"]["orders"] == {
        "blog-example-cn": {"productCode": PLAN, "domains": ["blog.example.cn"], "adopt": str(order_id)}}
    assert ACCESS_KEY_SECRET not in text
    fleet = load_fleet({"alicloud": config["certfleet:alicloud"]})
    assert fleet.alicloud.orders[0].adopt == str(order_id)


def test_cas_orders_listed_by_their_primary_name_get_every_name(emulator, sdk):  # noqa: F811
    """CAS may list an order's primary name only: an issued order's names come from its certificate, and a
    pending one says how many names the entry still needs."""
    assert emulator.api.backend.settings["order_domain_style"] == "primary"
    names = "shop.example.cn,www.shop.example.cn"
    issued = order_for_package(sdk, names, product_code=PLAN)
    pending = order_for_package(sdk, "api.example.cn,www.api.example.cn", product_code=PLAN)
    ControlClient(emulator.url).call("POST", f"cas/orders/{issued}/publish")
    text, notes, config = listed("--cloud", "alicloud")
    orders = config["certfleet:alicloud"]["orders"]
    assert orders["shop-example-cn"]["domains"] == names.split(",")
    assert orders["api-example-cn"]["domains"] == ["api.example.cn"]
    assert ("#   certfleet:alicloud.orders.api-example-cn: CAS lists 1 of its 2 names: add the others to `domains`"
            in text)


def test_a_cas_certificate_that_does_not_parse_keeps_the_listed_names_with_a_note(emulator, sdk,  # noqa: F811
                                                                                   monkeypatch):
    broken = order_for_package(sdk, "bad.example.cn,www.bad.example.cn", product_code=PLAN)
    fine = order_for_package(sdk, "good.example.cn", product_code=PLAN)
    control = ControlClient(emulator.url)
    for order_id in (broken, fine):
        control.call("POST", f"cas/orders/{order_id}/publish")
    # CAS answers a certificate certfleet cannot parse (the emulator serves only well-formed ones).
    backend = emulator.api.backend
    unparsable = backend.certificates[backend.orders[broken].cert_id].certificate_pem
    real_names = keys.certificate_names

    def certificate_names(pem):
        if pem == unparsable:
            raise ValueError("error parsing asn1 value")
        return real_names(pem)
    monkeypatch.setattr(keys, "certificate_names", certificate_names)
    text, notes, config = listed("--cloud", "alicloud")
    orders = config["certfleet:alicloud"]["orders"]
    assert orders["bad-example-cn"]["domains"] == ["bad.example.cn"]  # as listed: the rest is unknown
    assert orders["good-example-cn"]["adopt"] == str(fine)  # the listing went on
    assert "#   certfleet:alicloud.orders.bad-example-cn: its certificate does not parse" in text


@pytest.fixture
def scm(provider, scm_emulator):  # noqa: F811 (test_scm_provider's fixture points the SCM environment at it)
    return scm_emulator


def test_scm_certificates_with_their_tag_owner(scm):
    mine = buy_out_of_band(scm, apply_for="api.example.com")
    owned = buy_out_of_band(scm, tags={SCM_RESOURCE_TAG: "certfleet-prod-web"})
    text, notes, config = listed("--cloud", "huaweicloud")
    assert "# huaweicloud: 2 found, 1 not owned by certfleet" in text
    assert "owner: certfleet-prod-web" in line_of(text, owned)
    assert "names: api.example.com" in line_of(text, mine) and "owner: none" in line_of(text, mine)
    entry = config["certfleet:huaweicloud"]["certificates"]["api-example-com"]
    assert entry == {"brand": "GEOTRUST", "type": "DV_SSL_CERT", "domainType": "SINGLE_DOMAIN",
                     "domains": ["api.example.com"], "adopt": mine}
    assert SCM_SK not in text
