"""The three DNS APIs behind components/dns/ as real servers on loopback, one `DnsCloud` each.

- Route 53: the AWS emulator (moto plus AWS's change-batch rules; the session's `aws` fixture), its zones made
  with boto3 as the console would;
- Alidns: emulators.alidns in-process, domains seeded at start;
- Huawei DNS: emulators.huaweidns in-process, zones seeded at start.

Each has the zones example.com and sub.example.com, the environment components/dns reads pointed at it, and
helpers that act as another tool would (`raw_put`, straight through the SDK) or as an administrator would
(`deny_listing`, `add_zone`, `remove_zone`). Use the `dns_cloud` fixture (parametrised over the three) or one
of `route53_cloud`, `alidns_cloud`, `huaweidns_cloud`; import them into the test module.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from typing import Callable

import pytest

from components.aws import clients
from emulators.core import EmulatorServer
from emulators.core.testing import ControlClient

ZONES = ("example.com", "sub.example.com")
PROXY_VARIABLES = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")
ALIDNS_KEY_ID, ALIDNS_SECRET = "LTAI5tCERTFLEETDNS0001", "alidns-provider-test-secret"
HUAWEI_AK, HUAWEI_SK = "HWCERTFLEETDNSAK00001", "huawei-dns-provider-test-secret"
HUAWEI_REGION = "ap-southeast-1"


@dataclass
class DnsCloud:
    provider: str
    region: str | None
    zone_refs: dict[str, str]            # zone name -> what find_zone takes (Route 53 id, domain, Huawei id)
    missing_ref: str                     # a zone reference the account does not have
    missing_code: str                    # the cloud's code for it
    denied_code: str                     # the cloud's code for a missing permission (None: cannot be denied)
    list_permission: str                 # the permission check_access needs
    secrets: tuple[str, ...]             # credential texts that must never show
    raw_put: Callable[[str, str, list[str]], None]      # (name, type, values) as another tool writes it
    add_zone: Callable[[str], str]                      # a new zone of this name -> its reference
    remove_zone: Callable[[str], None]                  # delete the zone of this reference
    deny_listing: Callable[[], None] | None = None      # take away check_access's permission
    control: object = None
    extras: dict = field(default_factory=dict)

    def zone_id(self, name: str) -> str:
        return self.zone_refs[name]


# --- Route 53 -------------------------------------------------------------------------------------------

def fresh_apis(monkeypatch) -> None:
    """dns_api's objects keep what a run learnt of the zones (RunMemo), and waits share the run's windows
    (dynamic.RUN_WAITS): each test is a run of its own."""
    from components import dynamic
    from components.dns import api
    monkeypatch.setattr(api, "_apis", {})
    monkeypatch.setattr(dynamic, "RUN_WAITS", dynamic.WaitWindow())


def _route53(aws, monkeypatch) -> DnsCloud:
    fresh_apis(monkeypatch)
    # These tests are about answers, not pacing (tests/provider/test_throttling.py): at Route 53's 1 call/s per
    # operation each test would take seconds.
    monkeypatch.setattr(clients, "PACE", 100.0)
    clients.reset_rate_limits()
    r53 = clients.client("route53", "us-east-1")
    refs = {name: r53.create_hosted_zone(Name=name, CallerReference=uuid.uuid4().hex)["HostedZone"]["Id"]
            .rsplit("/", 1)[-1] for name in ZONES}

    def raw_put(name: str, rtype: str, values: list[str]) -> None:
        zone = max((z for z in ZONES if name == z or name.endswith("." + z)), key=len)
        wire = [f'"{v}"' if rtype == "TXT" else v for v in values]
        r53.change_resource_record_sets(HostedZoneId=refs[zone], ChangeBatch={"Changes": [{
            "Action": "UPSERT", "ResourceRecordSet": {"Name": name, "Type": rtype, "TTL": 300,
                                                      "ResourceRecords": [{"Value": v} for v in wire]}}]})

    def add_zone(name: str) -> str:
        return r53.create_hosted_zone(Name=name, CallerReference=uuid.uuid4().hex)["HostedZone"]["Id"] \
            .rsplit("/", 1)[-1]

    def remove_zone(ref: str) -> None:
        # Route 53 deletes only an empty zone (its own SOA and NS aside): the records go first.
        zone_name = r53.get_hosted_zone(Id=ref)["HostedZone"]["Name"]
        records = [{"Action": "DELETE", "ResourceRecordSet": found}
                   for found in r53.list_resource_record_sets(HostedZoneId=ref)["ResourceRecordSets"]
                   if not (found["Name"] == zone_name and found["Type"] in ("SOA", "NS"))]
        if records:
            r53.change_resource_record_sets(HostedZoneId=ref, ChangeBatch={"Changes": records})
        r53.delete_hosted_zone(Id=ref)

    return DnsCloud("route53", None, refs, "Z0000000000NOSUCHZONE", "NoSuchHostedZone", "AccessDenied",
                    "route53:ListResourceRecordSets",
                    (os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]), raw_put, add_zone,
                    remove_zone)


@pytest.fixture
def route53_cloud(aws, monkeypatch):
    yield _route53(aws, monkeypatch)
    clients.reset_rate_limits()


# --- Alidns ---------------------------------------------------------------------------------------------

def _alidns_server():
    from emulators.alidns import AlidnsApi as AlidnsEmulator
    return EmulatorServer(AlidnsEmulator({ALIDNS_KEY_ID: ALIDNS_SECRET}, seed_domains=ZONES))


def _alidns(server, monkeypatch) -> DnsCloud:
    fresh_apis(monkeypatch)
    from alibabacloud_alidns20150109 import models
    from alibabacloud_alidns20150109.client import Client
    from alibabacloud_tea_openapi.exceptions import ClientException
    from alibabacloud_tea_openapi.utils_models import Config

    for name in PROXY_VARIABLES:  # Alibaba's SDK sends loopback calls through a proxy and ignores NO_PROXY
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("ALIBABA_CLOUD_SECURITY_TOKEN", raising=False)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", ALIDNS_KEY_ID)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", ALIDNS_SECRET)
    monkeypatch.setenv("CERTFLEET_ALIDNS_ENDPOINT", server.endpoint)
    monkeypatch.setenv("CERTFLEET_ALIDNS_PROTOCOL", "http")
    sdk = Client(Config(access_key_id=ALIDNS_KEY_ID, access_key_secret=ALIDNS_SECRET, endpoint=server.endpoint,
                        protocol="http"))
    control = ControlClient(server.url)

    def raw_put(name: str, rtype: str, values: list[str]) -> None:
        zone = max((z for z in ZONES if name == z or name.endswith("." + z)), key=len)
        rr = "@" if name == zone else name[:-(len(zone) + 1)]
        for value in values:
            try:
                sdk.add_domain_record(models.AddDomainRecordRequest(domain_name=zone, rr=rr, type=rtype,
                                                                    value=value, ttl=300))
            except ClientException as err:
                if err.code != "DomainRecordDuplicate":
                    raise

    def deny_listing() -> None:
        for zone in ZONES:
            control.call("POST", f"alidns/domains/{zone}/deny", {"action": "DescribeDomainRecords"})

    def add_zone(name: str) -> str:
        return control.call("POST", "alidns/domains", {"domain_name": name})["domain_name"]

    return DnsCloud("alidns", None, {z: z for z in ZONES}, "nowhere.org", "InvalidDomainName.NoExist",
                    "Forbidden.RAM", "alidns:DescribeDomainRecords", (ALIDNS_KEY_ID, ALIDNS_SECRET), raw_put,
                    add_zone, lambda ref: control.call("DELETE", f"alidns/domains/{ref}"), deny_listing, control,
                    {"sdk": sdk})


@pytest.fixture
def alidns_cloud(monkeypatch):
    with _alidns_server() as server:
        yield _alidns(server, monkeypatch)


# --- Huawei DNS -----------------------------------------------------------------------------------------

def _huaweidns_server():
    from emulators.huaweidns import HuaweiDnsApi as HuaweiDnsEmulator
    return EmulatorServer(HuaweiDnsEmulator({HUAWEI_AK: HUAWEI_SK}, seed_zones=tuple(f"{z}." for z in ZONES)))


def _huaweidns(server, monkeypatch) -> DnsCloud:
    fresh_apis(monkeypatch)
    from huaweicloudsdkcore.auth.credentials import BasicCredentials
    from huaweicloudsdkdns.v2 import (
        CreateRecordSetRequest, CreateRecordSetRequestBody, DnsClient, ListRecordSetsByZoneRequest,
        UpdateRecordSetReq, UpdateRecordSetRequest,
    )

    from components.huaweicloud.client import http_config

    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    for name in ("HUAWEICLOUD_SDK_PROJECT_ID", "HUAWEICLOUD_SDK_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)  # no project id: the placeholder of an endpoint override
    monkeypatch.setenv("HUAWEICLOUD_SDK_AK", HUAWEI_AK)
    monkeypatch.setenv("HUAWEICLOUD_SDK_SK", HUAWEI_SK)
    monkeypatch.setenv("CERTFLEET_HUAWEICLOUD_DNS_ENDPOINT", server.url)
    control = ControlClient(server.url)
    refs = {z["name"].rstrip("."): z["id"] for z in control.call("GET", "huaweidns/zones")["zones"]}
    sdk = DnsClient.new_builder().with_http_config(http_config()) \
        .with_credentials(BasicCredentials(HUAWEI_AK, HUAWEI_SK, "p0j3ct1d")).with_endpoint(server.url).build()

    def raw_put(name: str, rtype: str, values: list[str]) -> None:
        zone = max((z for z in ZONES if name == z or name.endswith("." + z)), key=len)
        wire = [f'"{v}"' if rtype == "TXT" else v for v in values]
        listed = sdk.list_record_sets_by_zone(ListRecordSetsByZoneRequest(
            zone_id=refs[zone], name=f"{name}.", type=rtype, search_mode="equal")).recordsets
        if listed:
            sdk.update_record_set(UpdateRecordSetRequest(zone_id=refs[zone], recordset_id=listed[0].id,
                                                         body=UpdateRecordSetReq(records=wire)))
        else:
            sdk.create_record_set(CreateRecordSetRequest(zone_id=refs[zone], body=CreateRecordSetRequestBody(
                name=f"{name}.", type=rtype, records=wire, ttl=300)))

    def deny_listing() -> None:
        for zone_id in refs.values():
            control.call("POST", f"huaweidns/zones/{zone_id}/deny", {"operation": "ListRecordSetsByZone"})

    def add_zone(name: str) -> str:
        return control.call("POST", "huaweidns/zones", {"name": f"{name}."})["id"]

    return DnsCloud("huaweicloud", HUAWEI_REGION, refs, "ff80800000000000000000000000dead", "DNS.0302", "DNS.0013",
                    "dns:recordset:list", (HUAWEI_AK, HUAWEI_SK), raw_put, add_zone,
                    lambda ref: control.call("DELETE", f"huaweidns/zones/{ref}"), deny_listing, control,
                    {"sdk": sdk})


@pytest.fixture
def huaweidns_cloud(monkeypatch):
    with _huaweidns_server() as server:
        yield _huaweidns(server, monkeypatch)


# --- all three ------------------------------------------------------------------------------------------

@pytest.fixture(params=["route53", "alidns", "huaweicloud"])
def dns_cloud(request):
    """Each DNS API in turn (the fixtures above, by name)."""
    return request.getfixturevalue({"route53": "route53_cloud", "alidns": "alidns_cloud",
                                    "huaweicloud": "huaweidns_cloud"}[request.param])
