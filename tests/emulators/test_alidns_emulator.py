"""The Alidns emulator driven by the official alibabacloud-alidns20150109 SDK (4.6.1) over HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dns.flags
import dns.message
import dns.query
import pytest
from alibabacloud_alidns20150109 import models as alidns_models
from alibabacloud_alidns20150109.client import Client
from alibabacloud_tea_openapi import utils_models as open_api_models
from alibabacloud_tea_openapi.exceptions import ClientException, ThrottlingException

from emulators.alidns import AlidnsApi
from emulators.core import EmulatorServer
from emulators.core.testing import ControlClient
from emulators.dns import DnsApi, DnsServer, ZoneStore
from tests.emulators.dns_scaffolding import FeedRecorder

REPO_ROOT = Path(__file__).resolve().parents[2]
KEY_ID, KEY_SECRET = "LTAI5tALIDNSEMULATOR1", "alidns-emulator-secret"
SAME_ACCOUNT_KEY_ID, SAME_ACCOUNT_SECRET = "LTAI5tALIDNSRAMUSER02", "ram-user-secret"
OTHER_KEY_ID, OTHER_KEY_SECRET = "LTAI5tALIDNSOTHER0003", "other-account-secret"
DOMAIN = "example.com"


def make_client(endpoint: str, key_id: str = KEY_ID, secret: str = KEY_SECRET, **config) -> Client:
    return Client(open_api_models.Config(access_key_id=key_id, access_key_secret=secret, endpoint=endpoint,
                                         protocol="http", **config))


@pytest.fixture
def feed():
    return FeedRecorder()


@pytest.fixture
def server(feed):
    with EmulatorServer(AlidnsApi({KEY_ID: KEY_SECRET}, feed=feed, seed_domains=(DOMAIN,))) as server:
        yield server


@pytest.fixture
def control(server) -> ControlClient:
    control = ControlClient(server.url)
    control.call("POST", "alidns/accounts", {"access_key_id": SAME_ACCOUNT_KEY_ID,
                                            "access_key_secret": SAME_ACCOUNT_SECRET,
                                            "account_id": "1234567890123456"})
    control.call("POST", "alidns/accounts", {"access_key_id": OTHER_KEY_ID, "access_key_secret": OTHER_KEY_SECRET,
                                            "account_id": "99999"})
    return control


@pytest.fixture
def client(server, control) -> Client:
    return make_client(server.endpoint)


@pytest.fixture
def other_client(server, control) -> Client:
    return make_client(server.endpoint, OTHER_KEY_ID, OTHER_KEY_SECRET)


def add(client, rr="_dnsauth", value="token-1", type_="TXT", domain=DOMAIN, **fields) -> str:
    request = alidns_models.AddDomainRecordRequest(domain_name=domain, rr=rr, type=type_, value=value, **fields)
    return client.add_domain_record(request).body.record_id


def records(client, domain=DOMAIN, **filters):
    request = alidns_models.DescribeDomainRecordsRequest(domain_name=domain, **filters)
    return client.describe_domain_records(request).body


def error_of(call, *args, expected=ClientException):
    with pytest.raises(expected) as raised:
        call(*args)
    return raised.value


# ----- AddDomainRecord -----

def test_add_domain_record_lists_it_with_the_sdk_types(client):
    record_id = add(client, rr="_DNSAuth.WWW", value="abc def*~+/\"q\"", ttl=300)
    body = records(client)
    assert body.total_count == 1
    record = body.domain_records.record[0]
    assert isinstance(record_id, str) and record.record_id == record_id
    assert (record.rr, record.type, record.value, record.ttl, record.line) == \
        ("_dnsauth.www", "TXT", "abc def*~+/\"q\"", 300, "default")  # RR comes back lower-case, value raw
    assert record.status.upper() == "ENABLE" and record.locked is False and record.domain_name == DOMAIN


def test_two_values_at_one_name_are_two_records(client):
    first, second = add(client, value="one"), add(client, value="two")
    assert first != second
    assert {r.value for r in records(client).domain_records.record} == {"one", "two"}


def test_add_identical_record_is_domain_record_duplicate(client):
    add(client)
    assert error_of(add, client).code == "DomainRecordDuplicate"


def test_cname_next_to_another_type_is_domain_record_conflict(client):
    add(client, rr="www", type_="CNAME", value="target.example.net")
    error = error_of(add, client, "www", "text")
    assert (error.code, error.status_code) == ("DomainRecordConflict", 400)


def test_unknown_domain_is_invalid_domain_name_no_exist(client):
    assert error_of(add, client, "_dnsauth", "v", "TXT", "nowhere.org").code == "InvalidDomainName.NoExist"


def test_malformed_domain_is_invalid_domain_name_format(client):
    assert error_of(add, client, "_dnsauth", "v", "TXT", "bad_domain..com").code == "InvalidDomainName.Format"


def test_malformed_rr_is_invalid_rr_format(client):
    assert error_of(add, client, "bad rr!").code == "InvalidRR.Format"


@pytest.mark.parametrize("field, kwargs", [
    ("TTL", {"rr": "a", "value": "v", "ttl": 0}),
    ("Type", {"rr": "a", "value": "v", "type_": "BOGUS"}),
    ("Value", {"rr": "a", "value": "not-an-ip", "type_": "A"}),
])
def test_invalid_values_are_invalid_parameter(client, field, kwargs):
    error = error_of(lambda: add(client, **kwargs))
    assert error.code == "InvalidParameter" and field in error.message


def test_missing_value_is_missing_parameter(client):
    request = alidns_models.AddDomainRecordRequest(domain_name=DOMAIN, rr="x", type="TXT")
    assert error_of(client.add_domain_record, request).code == "MissingParameter"


# ----- UpdateDomainRecord / DeleteDomainRecord -----

def update(client, record_id, rr="_dnsauth", value="token-2", type_="TXT", **fields):
    request = alidns_models.UpdateDomainRecordRequest(record_id=record_id, rr=rr, type=type_, value=value, **fields)
    return client.update_domain_record(request).body.record_id


def delete(client, record_id):
    return client.delete_domain_record(alidns_models.DeleteDomainRecordRequest(record_id=record_id)).body.record_id


def test_update_domain_record_replaces_the_value(client):
    record_id = add(client)
    assert update(client, record_id, value="token-2", ttl=120) == record_id
    record = records(client).domain_records.record[0]
    assert (record.value, record.ttl) == ("token-2", 120)


def test_update_to_identical_values_is_domain_record_duplicate(client):
    record_id = add(client, ttl=600)
    assert error_of(update, client, record_id, "_dnsauth", "token-1").code == "DomainRecordDuplicate"


def test_update_of_another_accounts_record_is_not_belong_to_user(client, other_client):
    record_id = add(client)
    assert error_of(update, other_client, record_id).code == "DomainRecordNotBelongToUser"
    assert error_of(delete, other_client, record_id).code == "DomainRecordNotBelongToUser"
    assert records(client).total_count == 1


def test_locked_record_is_forbidden_record_locked(client, control):
    record_id = add(client)
    control.call("POST", f"alidns/records/{record_id}/lock", {"locked": True})
    assert error_of(update, client, record_id).code == "Forbidden.RecordLocked"
    assert error_of(delete, client, record_id).code == "Forbidden.RecordLocked"


def test_delete_domain_record_then_again_is_not_belong_to_user(client):
    record_id = add(client)
    assert delete(client, record_id) == record_id
    assert records(client).total_count == 0
    assert error_of(delete, client, record_id).code == "DomainRecordNotBelongToUser"


# ----- DescribeDomainRecords -----

def test_describe_domain_records_pages(client):
    ids = [add(client, rr=f"r{i}") for i in range(5)]
    pages = [records(client, page_number=n, page_size=2) for n in (1, 2, 3)]
    assert [p.total_count for p in pages] == [5, 5, 5]
    assert [(p.page_number, p.page_size) for p in pages] == [(1, 2), (2, 2), (3, 2)]
    listed = [r.record_id for p in pages for r in p.domain_records.record]
    assert listed == list(reversed(ids))  # newest first (Direction DESC by default)
    ascending = records(client, page_size=500, direction="ASC").domain_records.record
    assert [r.record_id for r in ascending] == ids
    assert error_of(lambda: records(client, page_size=501)).code == "InvalidParameter"


def test_describe_domain_records_filters(client):
    add(client, rr="_dnsauth", value="Alpha-Token")
    add(client, rr="_dnsauth.shop", value="beta")
    add(client, rr="www", type_="A", value="192.0.2.1")

    def rrs(**filters):
        return sorted(r.rr for r in records(client, **filters).domain_records.record)

    assert rrs(rrkey_word="DNSAUTH") == ["_dnsauth", "_dnsauth.shop"]  # fuzzy, case-insensitive
    assert rrs(type_key_word="txt") == ["_dnsauth", "_dnsauth.shop"]  # exact type
    assert rrs(type_key_word="TX") == []
    assert rrs(value_key_word="alpha") == ["_dnsauth"]
    assert rrs(rrkey_word="_dnsauth", search_mode="COMBINATION") == ["_dnsauth"]  # exact
    assert rrs(key_word="www") == ["www"]  # LIKE on RR or Value
    assert rrs(key_word="192.0.2", search_mode="EXACT") == []
    assert rrs(type="A") == ["www"]


def test_describe_domain_records_of_another_accounts_domain_is_incorrect_domain_user(other_client):
    assert error_of(records, other_client).code == "IncorrectDomainUser"


# ----- DescribeDomains -----

def test_describe_domains_shows_only_the_accounts_domains(client, other_client, control):
    control.call("POST", "alidns/domains", {"domain_name": "shop.example.net"})
    control.call("POST", "alidns/domains", {"domain_name": "other.example.org", "account_id": "99999"})
    add(client)
    body = client.describe_domains(alidns_models.DescribeDomainsRequest()).body
    assert sorted(d.domain_name for d in body.domains.domain) == [DOMAIN, "shop.example.net"]
    assert body.total_count == 2
    example = next(d for d in body.domains.domain if d.domain_name == DOMAIN)
    assert example.record_count == 1 and example.dns_servers.dns_server
    exact = client.describe_domains(alidns_models.DescribeDomainsRequest(key_word="example.com", search_mode="EXACT"))
    assert [d.domain_name for d in exact.body.domains.domain] == [DOMAIN]
    theirs = other_client.describe_domains(alidns_models.DescribeDomainsRequest()).body
    assert [d.domain_name for d in theirs.domains.domain] == ["other.example.org"]


# ----- RAM denials, signatures, faults -----

def test_denied_action_names_the_missing_permission(client, control, server):
    control.call("POST", f"alidns/domains/{DOMAIN}/deny", {"action": "AddDomainRecord",
                                                          "access_key_id": SAME_ACCOUNT_KEY_ID})
    ram_user = make_client(server.endpoint, SAME_ACCOUNT_KEY_ID, SAME_ACCOUNT_SECRET)
    error = error_of(add, ram_user)
    assert (error.code, error.status_code) == ("Forbidden.RAM", 403)
    assert "alidns:AddDomainRecord" in error.message and DOMAIN in error.message
    assert error.access_denied_detail["AuthAction"] == "alidns:AddDomainRecord"
    assert records(ram_user).total_count == 0  # other actions still allowed
    add(client)  # the account's other key is not denied
    control.call("DELETE", f"alidns/domains/{DOMAIN}/deny")
    add(ram_user, value="after-allow")


def test_denial_applies_to_record_id_calls_through_the_records_domain(client, control):
    record_id = add(client)
    control.call("POST", f"alidns/domains/{DOMAIN}/deny", {"action": "DeleteDomainRecord"})
    error = error_of(delete, client, record_id)
    assert error.code == "Forbidden.RAM" and "alidns:DeleteDomainRecord" in error.message


def test_wrong_secret_and_unknown_key_are_rejected(server, control):
    assert error_of(records, make_client(server.endpoint, KEY_ID, "wrong")).code == "SignatureDoesNotMatch"
    assert error_of(records, make_client(server.endpoint, "LTAI5tUNKNOWN", "x")).code == \
        "InvalidAccessKeyId.NotFound"


def test_v2_signatures_are_accepted(server, control):
    v2_client = make_client(server.endpoint, signature_algorithm="v2")
    add(v2_client)
    assert records(v2_client).total_count == 1


def test_injected_throttling_uses_alibabas_shape(client, control):
    control.add_fault("AddDomainRecord", status=429, retry_after=1)
    error = error_of(add, client, expected=ThrottlingException)
    assert error.code == "Throttling.User"


# ----- the DNS feed and persistence -----

def test_every_change_is_pushed_as_the_whole_rrset(client, control, feed):
    assert ("put_zone", DOMAIN) in feed.calls
    first = add(client, value="one", ttl=300)
    add(client, value="two", ttl=600)
    assert feed.last_rrset("_dnsauth.example.com.", "TXT")[4:] == (300, ["one", "two"])
    update(client, first, rr="_dnsauth", value="uno", ttl=300)
    assert sorted(feed.last_rrset("_dnsauth.example.com.", "TXT")[5]) == ["two", "uno"]
    apex = add(client, rr="@", type_="A", value="192.0.2.7")
    assert feed.last_rrset("example.com.", "A")[5] == ["192.0.2.7"]
    delete(client, apex)
    assert feed.last_rrset("example.com.", "A")[5] == []
    control.reset()
    assert feed.calls[-2:] == [("delete_zone", DOMAIN), ("put_zone", DOMAIN)]  # seeded again after reset


def test_state_file_keeps_records_and_resyncs_the_feed(tmp_path):
    state = tmp_path / "alidns.json"
    with EmulatorServer(AlidnsApi({KEY_ID: KEY_SECRET}, seed_domains=(DOMAIN,)), state_file=state) as server:
        record_id = add(make_client(server.endpoint), value="kept")
    feed = FeedRecorder()
    with EmulatorServer(AlidnsApi({KEY_ID: KEY_SECRET}, feed=feed), state_file=state) as server:
        assert [r.record_id for r in records(make_client(server.endpoint)).domain_records.record] == [record_id]
    assert ("put_rrset", DOMAIN, "_dnsauth.example.com.", "TXT", 600, ["kept"]) in feed.calls


def test_standalone_command_feeds_a_real_dns_server(tmp_path):
    store = ZoneStore()
    with DnsServer(store) as dns_server, EmulatorServer(DnsApi(store, dns_server)) as dns_control:
        environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "EMU_ALIDNS_ACCESS_KEY_ID": KEY_ID,
                       "EMU_ALIDNS_ACCESS_KEY_SECRET": KEY_SECRET, "EMU_ALIDNS_DOMAINS": DOMAIN,
                       "EMU_ALIDNS_DNS_FEED": dns_control.url}
        process = subprocess.Popen([sys.executable, "-m", "emulators.alidns", "--port", "0", "--quiet"],
                                   stdout=subprocess.PIPE, text=True, env=environment, cwd=tmp_path)
        try:
            url = process.stdout.readline().strip()
            assert url.startswith("http://127.0.0.1:")
            assert ControlClient(url).health()["api"] == "alidns"
            token = "t" * 300  # longer than one TXT string: the server splits it, resolvers join it
            add(make_client(url.removeprefix("http://")), value=token)
            host, port = dns_server.address
            answer, _ = dns.query.udp_with_fallback(dns.message.make_query("_dnsauth.example.com.", "TXT"),
                                                    host, port=port, timeout=5)
            assert answer.flags & dns.flags.AA
            strings = [b"".join(rdata.strings) for rrset in answer.answer for rdata in rrset]
            assert strings == [token.encode()]
        finally:
            process.terminate()
            assert process.wait(timeout=10) == 0
