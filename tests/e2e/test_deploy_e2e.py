"""Deployment targets end to end (issue 9, item 2): the real `pulumi` CLI against the AWS, CAS and SCM emulators.

A CAS order deployed to ACM and SCM; an SCM certificate deployed to ACM and CAS and serving a CloudFront
distribution; an ACM import deployed to SCM. Then every source certificate changes (the CAS order and the SCM
certificate are replaced, as a renewal replaces them; the import gets a new PEM in config): while the new ones
are pending the copies stay, once issued the copies are updated in place (the same ACM ARNs), the distribution
is untouched, and each previous CAS/SCM copy is gone. Destroy removes the copies and nothing else.
"""

from __future__ import annotations

import copy
from datetime import datetime, timezone

import pytest

from components.alicloud import client as cas_api
from components.clock import OFFSET_VARIABLE
from emulators.cas import CasApi
from emulators.core import EmulatorServer
from emulators.core.testing import ControlClient
from tests.conftest import moto_list
from tests.e2e.conftest import EMULATOR_LISTING_LAG_SECONDS
from tests.e2e.test_cloudfront_e2e import certificate_of, live_distributions, make_template, set_secret_key
from tests.emulators.cas_scaffolding import ACCESS_KEY_ID, ACCESS_KEY_SECRET
from tests.emulators.conftest_scm import SCM_AK, SCM_DOMAIN_ID, SCM_SK
from tests.pki import Pki
from tests.unit.test_output_schema import validate_strictly

PROXY_VARIABLES = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")
APPLICANT = {"name": "Zhang.San", "phone": "13800000000", "email": "ops@example.com"}
CONTACT = {"name": "Tom Zhang", "email": "tom.zhang@example.com", "phone": "13000000000"}




def stack_config(template: str, static_pem: str, chain_pem: str) -> dict:
    return {
        "alicloud": {"contact": CONTACT, "listingLagSeconds": EMULATOR_LISTING_LAG_SECONDS, "orders": {"docs": {
            "productCode": "digicert-free-1-free", "domains": ["docs.example.cn"], "csr": "generate",
            "deployTo": [{"cloud": "aws"}, {"cloud": "huaweicloud", "name": "docs-copy"}]}}},
        "huaweicloud": {"listingLagSeconds": EMULATOR_LISTING_LAG_SECONDS, "certificates": {"portal": {
            "brand": "GEOTRUST", "type": "DV_SSL_CERT", "domainType": "SINGLE_DOMAIN",
            "domains": ["portal.example.com"], "applicant": APPLICANT,
            "deployTo": [{"cloud": "aws", "tags": {"team": "portal"}}, {"cloud": "alicloud"}]}}},
        "aws": {"region": "us-east-1", "deployedTimeoutSeconds": 60,
                "imports": {"static": {"certificate": static_pem, "chain": chain_pem,
                                       "deployTo": [{"cloud": "huaweicloud"}]}},
                "distributions": {"portal": {"template": template,
                                             "certificate": "huaweicloud.certificates.portal"}}},
    }


@pytest.fixture
def clouds(project, scm_emulator, tmp_path):
    for name in PROXY_VARIABLES:
        project.env.pop(name, None)  # the CAS SDK ignores NO_PROXY
    with EmulatorServer(CasApi({ACCESS_KEY_ID: ACCESS_KEY_SECRET})) as cas:
        project.env.update({cas_api.ENV_ACCESS_KEY_ID: ACCESS_KEY_ID, cas_api.ENV_ACCESS_KEY_SECRET: ACCESS_KEY_SECRET,
                            cas_api.ENV_ENDPOINT: cas.endpoint, cas_api.ENV_PROTOCOL: "http",
                            "CERTFLEET_HUAWEICLOUD_SCM_ENDPOINT": scm_emulator.url, "HUAWEICLOUD_SDK_AK": SCM_AK,
                            "HUAWEICLOUD_SDK_SK": SCM_SK, "HUAWEICLOUD_SDK_DOMAIN_ID": SCM_DOMAIN_ID,
                            "HOME": str(tmp_path)})
        yield project, ControlClient(cas.url), ControlClient(scm_emulator.url)


def scm_certificates(scm) -> dict[str, dict]:
    return {c["id"]: c for c in scm.call("GET", "scm/certificates")["certificates"]}


def cas_uploads(cas) -> set[str]:
    return {str(c["cert_id"]) for c in cas.state()["certificates"] if c.get("upload")}


def publish(project, cas, scm) -> None:
    outputs = project.outputs()
    order = outputs["alicloud"]["orders"]["docs"]
    if order["state"] != "certificate":
        cas.call("POST", f"cas/orders/{order['order_id']}/publish")
    cert = outputs["huaweicloud"]["certificates"]["portal"]
    if cert["status"] != "ISSUED":
        scm.call("POST", f"scm/certificates/{cert['certificate_id']}/publish")


def deployments(outputs: dict) -> dict[str, dict]:
    return {"docs": outputs["alicloud"]["orders"]["docs"].get("deployments"),
            "portal": outputs["huaweicloud"]["certificates"]["portal"].get("deployments"),
            "static": outputs["aws"].get("imports", {}).get("static", {}).get("deployments")}


def start_stack(project) -> tuple[Pki, dict, str]:
    """The stack of stack_config written with a fresh PKI's `static` certificate and its key as secret config:
    (the PKI, the config, the key)."""
    pki = Pki.make(slot=9, now=datetime.now(timezone.utc))
    static_pem, static_key = pki.leaf(["static.example.com"])
    config = stack_config(make_template(), static_pem, pki.chain_pem())
    project.init()
    project.write_stack("e2e", config)
    set_secret_key(project, static_key)
    return pki, config, static_key


def test_one_certificate_every_cloud_updated_in_place(clouds):
    project, cas, scm = clouds
    pki, config, static_key = start_stack(project)
    cli = [project.run("up", "--yes", "--skip-preview").stdout]

    # The orders are pending: their copies wait; the import's copy is in SCM already; the distribution is unbound.
    validate_strictly(project.outputs())  # schema/outputs.v1.schema.json documents `deployments`
    out = deployments(project.outputs())
    assert out["docs"]["aws"]["status"] == out["portal"]["alicloud"]["status"] == "WAITING_FOR_SOURCE"
    assert out["static"]["huaweicloud"]["status"] == "DEPLOYED"
    static_copy = out["static"]["huaweicloud"]["id"]
    assert static_copy in scm_certificates(scm)

    # Issued: `up --refresh` deploys every copy and binds the distribution to the SCM certificate's ACM copy.
    publish(project, cas, scm)
    cli.append(project.run("up", "--yes", "--skip-preview", "--refresh").stdout)
    outputs = project.outputs()
    validate_strictly(outputs)
    out = deployments(outputs)
    assert {t["status"] for d in out.values() for t in d.values()} <= {"DEPLOYED", "ISSUED"}, out
    docs_arn, portal_arn = out["docs"]["aws"]["id"], out["portal"]["aws"]["id"]
    assert {docs_arn, portal_arn} <= {c["CertificateArn"] for c in moto_list(project.env["AWS_ENDPOINT_URL"])}
    assert out["portal"]["aws"]["fingerprint"] and out["portal"]["aws"]["not_after"]
    docs_scm, portal_cas = out["docs"]["huaweicloud"]["id"], out["portal"]["alicloud"]["id"]
    assert {docs_scm, static_copy} <= set(scm_certificates(scm)) and cas_uploads(cas) == {portal_cas}
    assert scm_certificates(scm)[docs_scm]["name"].startswith("docs-copy-")
    [(dist_id, live)] = live_distributions().items()
    assert certificate_of(live) == portal_arn and sorted(live["Aliases"]["Items"]) == ["portal.example.com"]
    etag_before = live  # the whole config: compared after the renewal
    project.run("preview", "--expect-no-changes")

    # Every source changes: the CAS order and the SCM certificate are replaced (as a renewal replaces them), the
    # import gets a new PEM. While the new orders are pending, their copies stay as they are.
    # (SCM: `--replace` adopts the certificate it replaces back, never buying twice; a new key (csr: generate)
    # buys a successor with the same names, the same key type.)
    static_pem, static_key = pki.leaf(["static.example.com"])
    config["aws"]["imports"]["static"]["certificate"] = static_pem
    config["huaweicloud"]["certificates"]["portal"]["csr"] = "generate"
    project.write_stack("e2e", config)
    set_secret_key(project, static_key)
    [docs_urn] = [r["urn"] for r in project.resources() if r["type"].endswith("alicloud:CasOrder")]
    cli.append(project.run("up", "--yes", "--skip-preview", "--replace", docs_urn).stdout)
    pending = deployments(project.outputs())
    assert pending["docs"]["aws"]["fingerprint"] == out["docs"]["aws"]["fingerprint"]
    assert "kept while alicloud.orders.docs has no new certificate yet" in pending["docs"]["aws"]["status_message"]
    assert pending["portal"]["alicloud"]["id"] == portal_cas
    new_static = pending["static"]["huaweicloud"]["id"]
    assert new_static != static_copy and static_copy not in scm_certificates(scm)  # the import's copy renewed

    # The successors are issued: the copies follow in place.
    publish(project, cas, scm)
    cli.append(project.run("up", "--yes", "--skip-preview", "--refresh").stdout)
    renewed = deployments(project.outputs())
    assert renewed["docs"]["aws"]["id"] == docs_arn and renewed["portal"]["aws"]["id"] == portal_arn
    assert renewed["docs"]["aws"]["fingerprint"] != out["docs"]["aws"]["fingerprint"]
    assert renewed["portal"]["aws"]["fingerprint"] != out["portal"]["aws"]["fingerprint"]
    assert renewed["portal"]["alicloud"]["id"] != portal_cas and cas_uploads(cas) == {renewed["portal"]["alicloud"]["id"]}
    assert renewed["docs"]["huaweicloud"]["id"] != docs_scm and docs_scm not in scm_certificates(scm)
    live_after = live_distributions()[dist_id]
    assert certificate_of(live_after) == portal_arn
    assert {k: v for k, v in live_after.items() if k != "Status"} == \
        {k: v for k, v in etag_before.items() if k != "Status"}  # the distribution was not touched
    project.run("preview", "--expect-no-changes")

    # Destroy: every copy goes; the sources are kept (their defaults), the CAS/SCM copies by tag only.
    kept_scm = {i for i, c in scm_certificates(scm).items() if c.get("source") != "import"}
    cli.append(project.run("destroy", "--yes", "--skip-preview").stdout)
    assert cas_uploads(cas) == set()
    assert set(scm_certificates(scm)) == kept_scm
    assert moto_list(project.env["AWS_ENDPOINT_URL"]) == []

    # The private keys never appear in plain text: not in the state, not in the CLI output.
    assert "PRIVATE KEY" not in project.state_text()
    assert not any("PRIVATE KEY" in text for text in cli)


def test_a_source_without_a_key_fails_at_preview_at_its_path(clouds):
    project, _, _ = clouds
    from tests.emulators.cas_scaffolding import make_csr
    csr_pem, _ = make_csr("docs.example.cn")
    config = {"alicloud": {"contact": CONTACT, "orders": {"docs": {
        "productCode": "digicert-free-1-free", "csr": {"pem": csr_pem}, "deployTo": [{"cloud": "aws"}]}}}}
    project.init()
    project.write_stack("e2e", copy.deepcopy(config))
    preview = project.run("preview", check=False)
    assert preview.returncode != 0
    assert "certfleet:alicloud.orders.docs.deployTo: this entry's certificate is issued for your own CSR" in \
        preview.stdout + preview.stderr


def test_dns_validated_sources_are_issued_deployed_and_bound_in_one_up(clouds, dns_clouds):
    """With `dns`, the validation sees the certificate issued during the `up`: the certificate as issued
    (components/dns/fleet.issued_view) reaches the ACM copies and the distribution served by one in that same
    run, and the outputs carry not_after; after `up --refresh` the certificates' own outputs are the same
    material, so a preview shows nothing to do."""
    project, cas, scm = clouds
    cas.call("POST", "cas/settings", {"dns_resolver": dns_clouds["resolver"]})
    scm.call("POST", "scm/settings", {"dns_resolver": dns_clouds["resolver"]})
    project.env.update(dns_clouds["env"])
    config = {
        "alicloud": {"contact": CONTACT,
                     "dns": {"provider": "alidns", "zone": "example.cn", "validationTimeoutSeconds": 60},
                     "orders": {"docs": {"productCode": "digicert-free-1-free", "domains": ["docs.example.cn"],
                                         "csr": "generate", "deployTo": [{"cloud": "aws"}]}}},
        "huaweicloud": {"dns": {"provider": "huaweicloud", "validationTimeoutSeconds": 60},
                        "certificates": {"portal": {"brand": "GEOTRUST", "type": "DV_SSL_CERT",
                                                    "domainType": "SINGLE_DOMAIN", "domains": ["portal.example.cn"],
                                                    "applicant": APPLICANT, "deployTo": [{"cloud": "aws"}],
                                                    "renewBefore": 300}}},
        "aws": {"region": "us-east-1", "deployedTimeoutSeconds": 60,
                "distributions": {"docs": {"template": make_template(), "certificate": "alicloud.orders.docs"}}},
    }
    project.init()
    project.write_stack("e2e", config)
    cli = [project.run("up", "--yes", "--skip-preview").stdout]

    outputs = project.outputs()
    validate_strictly(outputs)
    docs, portal = outputs["alicloud"]["orders"]["docs"], outputs["huaweicloud"]["certificates"]["portal"]
    assert (docs["state"], portal["status"]) == ("certificate", "ISSUED")
    # The certificates' own outputs are still the pending ones; the exported entries are the issued certificate.
    assert docs["not_after"] and portal["not_after"] and docs["certificate_pem"].startswith("-----BEGIN")
    assert docs["renewal"]["not_after"] == docs["not_after"] and docs["renewal"]["not_before"]
    out = deployments(outputs)
    assert out["docs"]["aws"]["status"] == out["portal"]["aws"]["status"] == "ISSUED", out  # not WAITING_FOR_SOURCE
    assert out["docs"]["aws"]["fingerprint"] and out["portal"]["aws"]["not_after"]
    [(dist_id, live)] = live_distributions().items()
    assert certificate_of(live) == out["docs"]["aws"]["id"] and live["Aliases"]["Items"] == ["docs.example.cn"]

    # The next refresh: the certificates learn of the issuance; the same material, so nothing to do after it.
    cli.append(project.run("up", "--yes", "--skip-preview", "--refresh").stdout)
    refreshed = project.outputs()
    assert deployments(refreshed) == out
    assert refreshed["alicloud"]["orders"]["docs"]["not_after"] == docs["not_after"]
    assert refreshed["huaweicloud"]["certificates"]["portal"]["not_after"] == portal["not_after"]
    project.run("preview", "--expect-no-changes")
    assert certificate_of(live_distributions()[dist_id]) == out["docs"]["aws"]["id"]

    # Renewal (SCM certificates last 365 days): the successor is bought, validated and issued in one `up`, and
    # its ACM copy is re-imported in place (the same ARN) in that same run.
    scm.advance_clock(75 * 86400)
    project.env[OFFSET_VARIABLE] = str(75 * 86400)
    cli.append(project.run("up", "--yes", "--skip-preview").stdout)
    renewed = project.outputs()
    successor = renewed["huaweicloud"]["certificates"]["portal"]
    assert successor["certificate_id"] != portal["certificate_id"] and successor["status"] == "ISSUED"
    assert successor["renewal"]["generation"] == 1 and successor["renewal"]["state"] == "renewed"
    assert successor["not_after"] > portal["not_after"]
    portal_copy = deployments(renewed)["portal"]["aws"]
    assert portal_copy["id"] == out["portal"]["aws"]["id"] and portal_copy["status"] == "ISSUED"
    assert portal_copy["fingerprint"] != out["portal"]["aws"]["fingerprint"]

    # The keys (certfleet's for the order, SCM's through its validation) never appear in plain text.
    assert "PRIVATE KEY" not in project.state_text()
    assert not any("PRIVATE KEY" in text for text in cli)
