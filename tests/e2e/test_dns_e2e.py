"""End to end, zero-touch validation: the real pulumi CLI; Route 53 (AWS emulator), Alibaba Cloud DNS and Huawei
Cloud DNS feeding a real DNS server on loopback; CAS and SCM emulators that validate by resolving it.

A stack with all three DNS providers goes from nothing to ISSUED in one `up` with no manual step; a record changed
out of band is repaired; `up --refresh` after issuance removes the CAS/SCM TXT records and keeps ACM's CNAMEs;
destroy removes only certfleet's records; a zone without permission fails at preview naming the permission.
"""

from __future__ import annotations

import re

import boto3
import dns.message
import dns.query
import pytest

from components.alicloud import client as cas_api
from emulators.cas import CasApi
from emulators.core import EmulatorServer
from emulators.core.testing import ControlClient
from tests.e2e.test_cas_e2e import PROXY_VARIABLES
from tests.emulators.cas_scaffolding import ACCESS_KEY_ID, ACCESS_KEY_SECRET
from tests.emulators.conftest_scm import SCM_AK, SCM_DOMAIN_ID, SCM_SK

APPLICANT = {"name": "Li.Lei", "phone": "13800000000", "email": "pki@example.cn"}
CONFIG = {
    "aws": {"dns": {"provider": "route53", "validationTimeoutSeconds": 60},
            "certificates": {"shop": {"domain": "shop.example.com", "sans": ["www.shop.example.com"]},
                             "apps": {"domain": "*.apps.example.com", "sans": ["apps.example.com"]},
                             "blog": {"domain": "blog.example.org"}}},
    "alicloud": {"contact": {"name": "Tom Zhang", "email": "pki@example.cn", "phone": "13000000000"},
                 "dns": {"provider": "alidns", "zone": "example.cn", "validationTimeoutSeconds": 60},
                 "orders": {"docs": {"productCode": "digicert-free-1-free", "domains": ["docs.example.cn"]}}},
    "huaweicloud": {"dns": {"provider": "huaweicloud", "validationTimeoutSeconds": 60},
                    "certificates": {"portal": {"brand": "GEOTRUST", "type": "DV_SSL_CERT",
                                                "domainType": "SINGLE_DOMAIN", "domains": ["portal.example.cn"],
                                                "applicant": APPLICANT}}},
}


@pytest.fixture
def cas_server():
    with EmulatorServer(CasApi({ACCESS_KEY_ID: ACCESS_KEY_SECRET})) as server:
        yield server


@pytest.fixture
def dns_project(project, dns_clouds, cas_server, scm_emulator, scm_control, tmp_path):
    ControlClient(cas_server.url).call("POST", "cas/settings", {"dns_resolver": dns_clouds["resolver"]})
    scm_control.call("POST", "scm/settings", {"dns_resolver": dns_clouds["resolver"]})
    for name in PROXY_VARIABLES:
        project.env.pop(name, None)  # Alibaba's SDKs ignore NO_PROXY
    project.env.update({**dns_clouds["env"],
                        cas_api.ENV_ACCESS_KEY_ID: ACCESS_KEY_ID, cas_api.ENV_ACCESS_KEY_SECRET: ACCESS_KEY_SECRET,
                        cas_api.ENV_ENDPOINT: cas_server.endpoint, cas_api.ENV_PROTOCOL: "http",
                        "CERTFLEET_HUAWEICLOUD_SCM_ENDPOINT": scm_emulator.url, "HUAWEICLOUD_SDK_AK": SCM_AK,
                        "HUAWEICLOUD_SDK_SK": SCM_SK, "HUAWEICLOUD_SDK_DOMAIN_ID": SCM_DOMAIN_ID,
                        "HOME": str(tmp_path)})
    project.init()
    project.write_stack("e2e", CONFIG)
    project.dns = dns_clouds
    project.cas_control = ControlClient(cas_server.url)
    return project


def ask(project, name: str, rtype: str) -> list[str]:
    host, port = project.dns["resolver"].split(":")
    answer = dns.query.udp(dns.message.make_query(name, rtype), host, port=int(port), timeout=3)
    return sorted(rdata.to_text().strip('"').rstrip(".") for rrset in answer.answer for rdata in rrset)


def statuses(outputs: dict) -> dict[str, str]:
    return {**{f"aws.{n}": c["status"] for n, c in outputs["aws"]["certificates"].items()},
            **{f"alicloud.{n}": o["state"] for n, o in outputs["alicloud"]["orders"].items()},
            **{f"huaweicloud.{n}": c["status"] for n, c in outputs["huaweicloud"]["certificates"].items()}}


def records(outputs: dict) -> dict[str, dict]:
    entries = [*outputs["aws"]["certificates"].values(), *outputs["alicloud"]["orders"].values(),
               *outputs["huaweicloud"]["certificates"].values()]
    return {r["name"]: r for entry in entries for r in entry["validation"]["records"]}


@pytest.mark.long
def test_nothing_to_issued_in_one_up_then_repair_cleanup_and_destroy(dns_project):
    project = dns_project
    project.run("up", "--yes", "--skip-preview")
    outputs = project.outputs()
    assert statuses(outputs) == {"aws.shop": "ISSUED", "aws.apps": "ISSUED", "aws.blog": "ISSUED",
                                 "alicloud.docs": "certificate", "huaweicloud.portal": "ISSUED"}
    written = records(outputs)
    # A wildcard and its apex share one record; every record is certfleet's and served.
    assert sorted(written) == sorted([
        "_d930b28be6c5927595552b219965053e.shop.example.com", "_d930b28be6c5927595552b219965053e.www.shop.example.com",
        "_d930b28be6c5927595552b219965053e.apps.example.com", "_d930b28be6c5927595552b219965053e.blog.example.org",
        "_dnsauth.docs.example.cn", "_dnsauth.portal.example.cn"])
    assert all(r["owned"] and r["served"] for r in written.values()), written
    assert {r["zone"] for r in written.values()} == {"example.com", "example.org", "example.cn", "portal.example.cn"}
    cname = "_d930b28be6c5927595552b219965053e.shop.example.com"
    target = ask(project, cname, "CNAME")
    assert target and target[0].endswith("acm-validations.aws")
    owner = ask(project, "_certfleet-owner." + cname, "TXT")
    assert len(owner) == 1 and re.fullmatch(r"certfleet-owner=certfleet/e2e/[0-9a-f]{12}", owner[0]), owner

    # Out of band, someone points the CNAME elsewhere (keeping certfleet's owner record): refresh sees it, up repairs it.
    route53 = boto3.client("route53", region_name="us-east-1")
    zone_id = written[cname]["zone_id"]
    route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": [{"Action": "UPSERT",
        "ResourceRecordSet": {"Name": cname, "Type": "CNAME", "TTL": 60,
                              "ResourceRecords": [{"Value": "elsewhere.example.net"}]}}]})
    assert ask(project, cname, "CNAME") == ["elsewhere.example.net"]
    project.run("up", "--yes", "--skip-preview", "--refresh")
    assert ask(project, cname, "CNAME") == target
    # The same `up --refresh` knows CAS and SCM issued: their TXT records (and owner records) are gone;
    # ACM renews through its CNAMEs, which stay.
    assert ask(project, "_dnsauth.docs.example.cn", "TXT") == []
    assert ask(project, "_certfleet-owner._dnsauth.portal.example.cn", "TXT") == []
    assert ask(project, "_d930b28be6c5927595552b219965053e.blog.example.org", "CNAME")
    unchanged = project.run("up", "--yes", "--skip-preview").stdout
    assert "updated" not in unchanged and "created" not in unchanged, unchanged
    # ... and a reviewer's preview of the issued stack shows nothing to do (no output reads as unknown).
    quiet = project.run("preview", "--diff").stdout
    assert "to update" not in quiet and "to replace" not in quiet and "to create" not in quiet, quiet

    # Destroy removes certfleet's records only.
    route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": [{"Action": "UPSERT",
        "ResourceRecordSet": {"Name": "_theirs.shop.example.com", "Type": "TXT", "TTL": 60,
                              "ResourceRecords": [{"Value": '"keep"'}]}}]})
    project.run("destroy", "--yes", "--skip-preview")
    for name in written:
        assert ask(project, name, "CNAME") == [] and ask(project, "_certfleet-owner." + name, "TXT") == []
    assert ask(project, "_theirs.shop.example.com", "TXT") == ["keep"]


def test_a_zone_without_permission_fails_at_preview_naming_it(dns_project):
    project = dns_project
    ControlClient(project.dns["alidns"].url).call(
        "POST", "alidns/domains/example.cn/deny", {"action": "DescribeDomainRecords"})
    result = project.run("preview", check=False)
    assert result.returncode != 0
    text = result.stdout + result.stderr
    assert "alidns:DescribeDomainRecords" in text and "Forbidden.RAM" in text
    assert ACCESS_KEY_SECRET not in text
    # Nothing was bought: a preview never calls a Create.
    assert all(p["used_count"] == 0 for p in project.cas_control.call("GET", "state")["packages"])
