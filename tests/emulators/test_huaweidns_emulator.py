"""The Huawei DNS emulator driven by the official huaweicloudsdkdns SDK (3.1.219, v2 API) over HTTP.

The SDK core is imported with a private HOME by tests/emulators/conftest_scm.py (loaded for every test).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dns.message
import dns.query
import pytest
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkdns.v2 import (
    CreateRecordSetRequest, CreateRecordSetRequestBody, DeleteRecordSetRequest, DnsClient,
    ListPublicZonesRequest, ListRecordSetsByZoneRequest, ShowPublicZoneRequest, ShowRecordSetRequest,
    UpdateRecordSetReq, UpdateRecordSetRequest,
)

from emulators.core import EmulatorServer
from emulators.core.testing import ControlClient
from emulators.dns import DnsApi, DnsServer, ZoneStore
from emulators.huaweidns import HuaweiDnsApi
from tests.emulators.dns_scaffolding import FeedRecorder

REPO_ROOT = Path(__file__).resolve().parents[2]
AK, SK, PROJECT_ID, DOMAIN_ID = "HWDNSEMULATORAK00001", "hw-dns-emulator-secret", "p0j3ct1d", "d0m41n1dd45"
SECOND_AK, SECOND_SK = "HWDNSEMULATORAK00002", "same-account-secret"
OTHER_AK, OTHER_SK = "HWDNSEMULATORAK00003", "other-account-secret"
ZONE = "example.com."


def make_client(url: str, ak: str = AK, sk: str = SK) -> DnsClient:
    config = HttpConfig.get_default_config()
    config.retry_times = 0
    config.timeout = (5, 10)
    return DnsClient.new_builder().with_http_config(config) \
        .with_credentials(BasicCredentials(ak, sk, PROJECT_ID)).with_endpoint(url).build()


@pytest.fixture
def feed():
    return FeedRecorder()


@pytest.fixture
def server(feed, monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    api = HuaweiDnsApi({AK: SK}, domain_id=DOMAIN_ID, project_id=PROJECT_ID, feed=feed, seed_zones=(ZONE,))
    with EmulatorServer(api) as server:
        yield server


@pytest.fixture
def control(server) -> ControlClient:
    control = ControlClient(server.url)
    control.call("POST", "huaweidns/accounts", {"ak": SECOND_AK, "sk": SECOND_SK, "domain_id": DOMAIN_ID})
    control.call("POST", "huaweidns/accounts", {"ak": OTHER_AK, "sk": OTHER_SK, "domain_id": "0th3r"})
    return control


@pytest.fixture
def client(server, control) -> DnsClient:
    return make_client(server.url)


@pytest.fixture
def zone_id(control) -> str:
    return next(z["id"] for z in control.call("GET", "huaweidns/zones")["zones"] if z["name"] == ZONE)


def create(client, zone_id, name="_dnsauth.example.com.", type_="TXT", records=('"token-1"',), ttl=300):
    body = CreateRecordSetRequestBody(name=name, type=type_, records=list(records), ttl=ttl)
    return client.create_record_set(CreateRecordSetRequest(zone_id=zone_id, body=body))


def show(client, zone_id, recordset_id):
    return client.show_record_set(ShowRecordSetRequest(zone_id=zone_id, recordset_id=recordset_id))


def update(client, zone_id, recordset_id, **fields):
    return client.update_record_set(UpdateRecordSetRequest(zone_id=zone_id, recordset_id=recordset_id,
                                                           body=UpdateRecordSetReq(**fields)))


def delete(client, zone_id, recordset_id):
    return client.delete_record_set(DeleteRecordSetRequest(zone_id=zone_id, recordset_id=recordset_id))


def list_sets(client, zone_id, **query):
    return client.list_record_sets_by_zone(ListRecordSetsByZoneRequest(zone_id=zone_id, **query))


def error_of(call, *args, **kwargs) -> ClientRequestException:
    with pytest.raises(ClientRequestException) as raised:
        call(*args, **kwargs)
    return raised.value


def created_active(client, zone_id, **fields):
    record_set = create(client, zone_id, **fields)
    assert show(client, zone_id, record_set.id).status == "ACTIVE"
    return record_set


# ----- zones -----

def test_list_public_zones_filters_by_name_and_account(client, control, server):
    control.call("POST", "huaweidns/zones", {"name": "shop.example.net"})
    control.call("POST", "huaweidns/zones", {"name": "theirs.example.org", "domain_id": "0th3r"})
    zones = client.list_public_zones(ListPublicZonesRequest()).zones
    assert sorted(z.name for z in zones) == ["example.com.", "shop.example.net."]
    assert [z.name for z in client.list_public_zones(ListPublicZonesRequest(name="example")).zones] == \
        ["shop.example.net.", "example.com."]  # fuzzy by default, newest first
    exact = client.list_public_zones(ListPublicZonesRequest(name="example.com", search_mode="equal"))
    assert [(z.name, z.zone_type, z.status) for z in exact.zones] == [("example.com.", "public", "ACTIVE")]
    assert exact.metadata.total_count == 1
    assert client.list_public_zones(ListPublicZonesRequest(type="private")).zones == []
    theirs = make_client(server.url, OTHER_AK, OTHER_SK).list_public_zones(ListPublicZonesRequest()).zones
    assert [z.name for z in theirs] == ["theirs.example.org."]


def test_show_public_zone_and_unknown_or_foreign_zone_is_dns_0302(client, server, zone_id):
    zone = client.show_public_zone(ShowPublicZoneRequest(zone_id=zone_id))
    assert (zone.name, zone.record_num) == (ZONE, 2)  # its default SOA and NS sets
    error = error_of(client.show_public_zone, ShowPublicZoneRequest(zone_id="ff80800000000000000000000000dead"))
    assert (error.status_code, error.error_code) == (404, "DNS.0302")
    other = make_client(server.url, OTHER_AK, OTHER_SK)
    assert error_of(create, other, zone_id).error_code == "DNS.0302"


# ----- CreateRecordSet -----

def test_create_record_set_is_pending_then_active_on_a_later_read(client, zone_id):
    record_set = create(client, zone_id, name="_DNSAuth.Example.com.", records=['"abc def"', '"x" "y"'])
    assert (record_set.status, record_set.name, record_set.zone_name) == \
        ("PENDING_CREATE", "_dnsauth.example.com.", ZONE)  # names are stored lower-case
    assert record_set.records == ['"abc def"', '"x" "y"'] and record_set.ttl == 300
    shown = show(client, zone_id, record_set.id)
    assert (shown.status, shown.id, shown.default) == ("ACTIVE", record_set.id, False)


def test_pending_reads_setting_keeps_a_set_pending_longer(client, control, zone_id):
    control.call("POST", "huaweidns/settings", {"pending_reads": 2})
    record_set = create(client, zone_id)
    assert [show(client, zone_id, record_set.id).status for _ in range(3)] == \
        ["PENDING_CREATE", "PENDING_CREATE", "ACTIVE"]


def test_name_without_trailing_dot_or_outside_the_zone_is_dns_0304(client, zone_id):
    assert error_of(create, client, zone_id, name="_dnsauth.example.com").error_code == "DNS.0304"
    assert error_of(create, client, zone_id, name="_dnsauth.example.net.").error_code == "DNS.0304"
    assert error_of(create, client, zone_id, name="bad name.example.com.").error_code == "DNS.0304"


def test_unquoted_or_overlong_txt_is_dns_0308(client, zone_id):
    assert error_of(create, client, zone_id, records=["token"]).error_code == "DNS.0308"
    assert error_of(create, client, zone_id, records=['"' + "t" * 256 + '"']).error_code == "DNS.0308"
    assert error_of(create, client, zone_id, records=[]).error_code == "DNS.0308"
    create(client, zone_id, records=['"' + "t" * 255 + '" "' + "u" * 45 + '"'])  # a long token: several strings


def test_bad_type_is_dns_0307_and_bad_ttl_is_dns_0319(client, zone_id):
    assert error_of(create, client, zone_id, type_="BOGUS").error_code == "DNS.0307"
    assert error_of(create, client, zone_id, ttl=0).error_code == "DNS.0319"
    assert error_of(create, client, zone_id, name="www.example.com.", type_="A",
                    records=["not-an-ip"]).error_code == "DNS.0308"


def test_second_set_of_a_name_and_type_or_next_to_a_cname_is_dns_0312(client, zone_id):
    create(client, zone_id)
    error = error_of(create, client, zone_id, records=['"other"'])
    assert (error.status_code, error.error_code) == (400, "DNS.0312")
    assert "_dnsauth.example.com." in error.error_msg
    create(client, zone_id, name="www.example.com.", type_="CNAME", records=["target.example.net."])
    assert error_of(create, client, zone_id, name="www.example.com.").error_code == "DNS.0312"


# ----- ListRecordSetsByZone / ShowRecordSet -----

def test_list_record_sets_by_zone_filters_and_pages(client, zone_id):
    ids = [create(client, zone_id, name=f"r{i}.example.com.").id for i in range(3)]
    everything = list_sets(client, zone_id)
    assert everything.metadata.total_count == 5  # with the default SOA and NS
    assert {(s.type, s.default) for s in everything.recordsets if s.name == ZONE} == {("SOA", True), ("NS", True)}
    exact = list_sets(client, zone_id, name="r1.example.com.", type="TXT", search_mode="equal")
    assert [s.id for s in exact.recordsets] == [ids[1]]
    assert list_sets(client, zone_id, type="A").recordsets == []
    first = list_sets(client, zone_id, type="TXT", limit=2)
    assert [s.id for s in first.recordsets] == ids[:2] and "marker=" in first.links.next
    second = list_sets(client, zone_id, type="TXT", limit=2, marker=ids[1])
    assert [s.id for s in second.recordsets] == ids[2:] and second.links.next is None
    assert [s.id for s in list_sets(client, zone_id, type="TXT", offset=1, limit=1).recordsets] == [ids[1]]
    assert error_of(list_sets, client, zone_id, limit=501).error_code == "DNS.0303"


def test_show_unknown_record_set_is_dns_0313(client, zone_id):
    error = error_of(show, client, zone_id, "ff80800000000000000000000000beef")
    assert (error.status_code, error.error_code) == (404, "DNS.0313")


# ----- UpdateRecordSet -----

def test_update_record_set_replaces_records_and_goes_pending(client, zone_id):
    record_set = created_active(client, zone_id)
    updated = update(client, zone_id, record_set.id, records=['"token-2"', '"token-3"'], ttl=60)
    assert (updated.status, updated.records, updated.ttl) == ("PENDING_UPDATE", ['"token-2"', '"token-3"'], 60)
    assert error_of(update, client, zone_id, record_set.id, ttl=120).error_code == "DNS.0314"  # not steady
    assert show(client, zone_id, record_set.id).status == "ACTIVE"
    assert error_of(update, client, zone_id, record_set.id, type="A").error_code == "DNS.0307"
    assert error_of(update, client, zone_id, record_set.id, records=["bare"]).error_code == "DNS.0308"


def test_default_sets_cannot_change(client, zone_id):
    defaults = {s.type: s.id for s in list_sets(client, zone_id).recordsets if s.default}
    assert error_of(update, client, zone_id, defaults["SOA"], ttl=60).error_code == "DNS.0318"
    assert error_of(delete, client, zone_id, defaults["NS"]).error_code == "DNS.0317"


# ----- DeleteRecordSet -----

def test_delete_record_set(client, zone_id):
    record_set = created_active(client, zone_id)
    assert delete(client, zone_id, record_set.id).status == "PENDING_DELETE"
    assert error_of(show, client, zone_id, record_set.id).error_code == "DNS.0313"
    assert error_of(delete, client, zone_id, record_set.id).error_code == "DNS.0313"


def test_delete_while_pending_is_dns_0314(client, zone_id):
    record_set = create(client, zone_id)
    assert error_of(delete, client, zone_id, record_set.id).error_code == "DNS.0314"


# ----- IAM denials, signatures, faults -----

def test_denied_operation_names_the_missing_permission(client, control, server, zone_id):
    control.call("POST", f"huaweidns/zones/{zone_id}/deny", {"operation": "CreateRecordSet", "ak": SECOND_AK})
    second = make_client(server.url, SECOND_AK, SECOND_SK)
    error = error_of(create, second, zone_id)
    assert (error.status_code, error.error_code) == (403, "DNS.0013")
    assert "dns:recordset:create" in error.error_msg and ZONE in error.error_msg
    assert list_sets(second, zone_id).metadata.total_count == 2  # other operations allowed
    create(client, zone_id)  # the account's other key is not denied
    control.call("DELETE", f"huaweidns/zones/{zone_id}/deny")
    create(second, zone_id, name="after.example.com.")


def test_bad_signature_is_the_gateways_401(server, control):
    error = error_of(make_client(server.url, AK, "wrong").list_public_zones, ListPublicZonesRequest())
    assert (error.status_code, error.error_code) == (401, "APIGW.0301")


def test_injected_fault_uses_huaweis_shape(client, control, zone_id):
    control.add_fault("CreateRecordSet", status=400, code="DNS.0403", message="quota exhausted")
    error = error_of(create, client, zone_id)
    assert (error.error_code, error.error_msg) == ("DNS.0403", "quota exhausted") and error.request_id


# ----- the DNS feed and persistence -----

def test_every_change_is_pushed_to_the_feed(client, zone_id, feed, control):
    assert ("put_zone", ZONE) in feed.calls
    record_set = create(client, zone_id, records=['"a"', '"b"'])
    assert feed.calls[-1] == ("put_rrset", ZONE, "_dnsauth.example.com.", "TXT", 300, ['"a"', '"b"'])
    show(client, zone_id, record_set.id)
    update(client, zone_id, record_set.id, records=['"c"'])
    assert feed.calls[-1][5] == ['"c"']
    show(client, zone_id, record_set.id)
    delete(client, zone_id, record_set.id)
    assert feed.calls[-1] == ("put_rrset", ZONE, "_dnsauth.example.com.", "TXT", 300, [])
    control.reset()
    assert feed.calls[-2:] == [("delete_zone", ZONE), ("put_zone", ZONE)]


def test_state_file_keeps_record_sets_and_resyncs_the_feed(tmp_path, monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    state = tmp_path / "huaweidns.json"
    with EmulatorServer(HuaweiDnsApi({AK: SK}, seed_zones=(ZONE,)), state_file=state) as server:
        client = make_client(server.url)
        zone = client.list_public_zones(ListPublicZonesRequest()).zones[0]
        record_set = create(client, zone.id, records=['"kept"'])
    feed = FeedRecorder()
    with EmulatorServer(HuaweiDnsApi({AK: SK}, feed=feed), state_file=state) as server:
        assert show(make_client(server.url), zone.id, record_set.id).records == ['"kept"']
    assert ("put_rrset", ZONE, "_dnsauth.example.com.", "TXT", 300, ['"kept"']) in feed.calls


def test_standalone_command_feeds_a_real_dns_server(tmp_path):
    store = ZoneStore()
    with DnsServer(store) as dns_server, EmulatorServer(DnsApi(store, dns_server)) as dns_control:
        environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "HUAWEICLOUD_SDK_AK": AK,
                       "HUAWEICLOUD_SDK_SK": SK, "EMU_HUAWEIDNS_ZONES": "example.com",
                       "EMU_HUAWEIDNS_DNS_FEED": dns_control.url, "NO_PROXY": "127.0.0.1,localhost"}
        process = subprocess.Popen([sys.executable, "-m", "emulators.huaweidns", "--port", "0", "--quiet"],
                                   stdout=subprocess.PIPE, text=True, env=environment, cwd=tmp_path)
        try:
            url = process.stdout.readline().strip()
            assert url.startswith("http://127.0.0.1:")
            client = make_client(url)
            zone = client.list_public_zones(ListPublicZonesRequest(name=ZONE, search_mode="equal")).zones[0]
            create(client, zone.id, records=['"part-one" "part-two"'])
            host, port = dns_server.address
            answer, _ = dns.query.udp_with_fallback(dns.message.make_query("_dnsauth.example.com.", "TXT"),
                                                    host, port=port, timeout=5)
            strings = [b"".join(rdata.strings) for rrset in answer.answer for rdata in rrset]
            assert strings == [b"part-onepart-two"]
        finally:
            process.terminate()
            assert process.wait(timeout=10) == 0
