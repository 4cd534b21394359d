"""Route 53 on the AWS emulator, through boto3: what a validation-record provider meets (real-service
semantics moto lacks) and the feed that makes the DNS emulator answer what ChangeResourceRecordSets wrote.

The AWS emulator runs as `python -m emulators.aws --dns-feed URL`, the DNS emulator in this process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import boto3
import botocore.config
import botocore.exceptions
import dns.flags
import dns.message
import dns.query
import dns.rcode
import pytest

from emulators.aws.testing import AwsControl
from emulators.core import EmulatorServer
from emulators.dns import DnsApi, DnsServer, ZoneStore
from tests.conftest import ROOT, TEST_AWS_KEY, TEST_AWS_SECRET, free_port, wait_healthy

NO_RETRIES = botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"})


@pytest.fixture(scope="module")
def dns_emulator():
    store = ZoneStore()
    with DnsServer(store) as dns_server, EmulatorServer(DnsApi(store, dns_server)) as control:
        yield store, dns_server, control


@pytest.fixture(scope="module")
def aws_url(dns_emulator):
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "emulators.aws", "--port", str(port), "--quiet",
                                "--dns-feed", dns_emulator[2].url], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url + "/moto-api/", process)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)


@pytest.fixture
def control(aws_url, dns_emulator) -> AwsControl:
    control = AwsControl(aws_url)
    control.reset()  # also takes the zones fed so far off the DNS server
    assert dns_emulator[0].zones() == []
    return control


@pytest.fixture
def route53(aws_url, control):
    return boto3.client("route53", region_name="us-east-1", endpoint_url=aws_url, aws_access_key_id=TEST_AWS_KEY,
                        aws_secret_access_key=TEST_AWS_SECRET, config=NO_RETRIES)


@pytest.fixture
def zone_id(route53) -> str:
    return route53.create_hosted_zone(Name="Example.com", CallerReference="ref-1")["HostedZone"]["Id"]


@pytest.fixture
def ask(dns_emulator):
    host, port = dns_emulator[1].address

    def ask(name: str, rdtype: str = "TXT") -> dns.message.Message:
        return dns.query.udp(dns.message.make_query(name, rdtype, use_edns=0), host, port=port, timeout=3)
    return ask


def change(route53, zone_id: str, *changes: tuple) -> dict:
    """changes: (action, name, type, ttl, [values])"""
    batch = [{"Action": action, "ResourceRecordSet": {"Name": name, "Type": rdtype, "TTL": ttl,
                                                      "ResourceRecords": [{"Value": v} for v in values]}}
             for action, name, rdtype, ttl, values in changes]
    return route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": batch})["ChangeInfo"]


def error_of(call, *args, **kwargs) -> tuple[str, str, int]:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        call(*args, **kwargs)
    response = caught.value.response
    return response["Error"]["Code"], response["Error"]["Message"], response["ResponseMetadata"]["HTTPStatusCode"]


def txt(response: dns.message.Message) -> list[bytes]:
    return sorted(b"".join(rdata.strings) for rrset in response.answer for rdata in rrset if rrset.rdtype == 16)


# --- the feed --------------------------------------------------------------------------------------

def test_created_hosted_zone_is_served_with_the_dns_servers_soa(route53, zone_id, ask, dns_emulator):
    assert dns_emulator[0].zones() == ["example.com."]  # stored lower-case, as AWS does
    response = ask("example.com", "SOA")
    assert response.rcode() == dns.rcode.NOERROR and response.flags & dns.flags.AA
    assert response.answer[0][0].mname.to_text() == "ns1.example.com."


def test_upserted_record_is_answered_and_a_delete_removes_it(route53, zone_id, ask):
    change(route53, zone_id, ("UPSERT", "_dnsauth.example.com", "TXT", 60, ['"token-1"', '"token-2"']))
    assert txt(ask("_dnsauth.example.com")) == [b"token-1", b"token-2"]
    change(route53, zone_id, ("UPSERT", "_dnsauth.example.com.", "TXT", 60, ['"token-2"']))  # replaces the set
    assert txt(ask("_dnsauth.example.com")) == [b"token-2"]
    change(route53, zone_id, ("DELETE", "_dnsauth.example.com", "TXT", 60, ['"token-2"']))
    assert ask("_dnsauth.example.com").rcode() == dns.rcode.NXDOMAIN


def test_acm_validation_cname_is_answered(route53, zone_id, ask):
    change(route53, zone_id, ("UPSERT", "_abc.example.com", "CNAME", 300, ["_def.acm-validations.aws."]))
    response = ask("_abc.example.com", "CNAME")
    assert [rrset[0].target.to_text() for rrset in response.answer] == ["_def.acm-validations.aws."]


def test_long_txt_in_several_quoted_strings_resolves_whole(route53, zone_id, ask):
    token = "a" * 255 + "b" * 45
    change(route53, zone_id, ("UPSERT", "_long.example.com", "TXT", 60, [f'"{token[:255]}" "{token[255:]}"']))
    assert txt(ask("_long.example.com")) == [token.encode()]


def test_deleted_hosted_zone_is_refused(route53, zone_id, ask):
    change(route53, zone_id, ("UPSERT", "_dnsauth.example.com", "TXT", 60, ['"t"']))
    change(route53, zone_id, ("DELETE", "_dnsauth.example.com", "TXT", 60, ['"t"']))
    route53.delete_hosted_zone(Id=zone_id)
    assert ask("_dnsauth.example.com").rcode() == dns.rcode.REFUSED


def test_reset_takes_the_zones_off_the_dns_server(route53, zone_id, control, ask, dns_emulator):
    control.reset()
    assert dns_emulator[0].zones() == []
    assert ask("example.com", "SOA").rcode() == dns.rcode.REFUSED


# --- ChangeResourceRecordSets as Route 53 has it -----------------------------------------------------

def test_delete_with_other_values_is_refused_and_the_record_stays(route53, zone_id, ask):
    change(route53, zone_id, ("UPSERT", "_dnsauth.example.com", "TXT", 60, ['"old"']))
    change(route53, zone_id, ("UPSERT", "_dnsauth.example.com", "TXT", 60, ['"new"']))
    code, message, status = error_of(change, route53, zone_id, ("DELETE", "_dnsauth.example.com", "TXT", 60, ['"old"']))
    assert (code, status) == ("InvalidChangeBatch", 400)
    assert "but the values provided do not match the current values" in message
    code, _, _ = error_of(change, route53, zone_id, ("DELETE", "_dnsauth.example.com", "TXT", 300, ['"new"']))
    assert code == "InvalidChangeBatch"  # the TTL must match too
    assert txt(ask("_dnsauth.example.com")) == [b"new"]


def test_delete_of_a_missing_record_is_not_found(route53, zone_id):
    code, message, _ = error_of(change, route53, zone_id, ("DELETE", "_gone.example.com", "TXT", 60, ['"t"']))
    assert code == "InvalidChangeBatch"
    assert message == "[Tried to delete resource record set [name='_gone.example.com.', type='TXT'] but it was not found]"


def test_create_of_an_existing_set_is_refused_even_with_other_values(route53, zone_id):
    change(route53, zone_id, ("CREATE", "_dnsauth.example.com", "TXT", 60, ['"one"']))
    code, message, _ = error_of(change, route53, zone_id, ("CREATE", "_dnsauth.example.com", "TXT", 60, ['"two"']))
    assert code == "InvalidChangeBatch" and "but it already exists" in message
    sets = route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    assert [s["ResourceRecords"] for s in sets if s["Type"] == "TXT"] == [[{"Value": '"one"'}]]


def test_a_batch_is_applied_all_or_nothing(route53, zone_id, ask):
    code, _, _ = error_of(change, route53, zone_id, ("UPSERT", "_a.example.com", "TXT", 60, ['"a"']),
                          ("DELETE", "_missing.example.com", "TXT", 60, ['"m"']))
    assert code == "InvalidChangeBatch"
    names = [s["Name"] for s in route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]]
    assert "_a.example.com." not in names
    assert ask("_a.example.com").rcode() == dns.rcode.NXDOMAIN
    # delete-then-create of one set in a batch is how Route 53 replaces a set: accepted
    change(route53, zone_id, ("CREATE", "_a.example.com", "TXT", 60, ['"1"']))
    change(route53, zone_id, ("DELETE", "_a.example.com", "TXT", 60, ['"1"']),
           ("CREATE", "_a.example.com", "TXT", 60, ['"2"']))
    assert txt(ask("_a.example.com")) == [b"2"]


@pytest.mark.parametrize("value, problem", [
    ("unquoted", "InvalidCharacterString"),
    ('"' + "x" * 256 + '"', "CharacterStringTooLong"),
])
def test_txt_values_must_be_quoted_strings_of_at_most_255(route53, zone_id, value, problem):
    code, message, _ = error_of(change, route53, zone_id, ("UPSERT", "_t.example.com", "TXT", 60, [value]))
    assert code == "InvalidChangeBatch" and problem in message


def test_cname_rules(route53, zone_id):
    code, message, _ = error_of(change, route53, zone_id, ("UPSERT", "example.com", "CNAME", 60, ["x.example.net."]))
    assert code == "InvalidChangeBatch" and "not permitted at apex" in message
    change(route53, zone_id, ("UPSERT", "_c.example.com", "TXT", 60, ['"t"']))
    code, message, _ = error_of(change, route53, zone_id, ("UPSERT", "_c.example.com", "CNAME", 60, ["x.example.net."]))
    assert code == "InvalidChangeBatch" and "conflicting RRSet of type TXT" in message


def test_names_are_case_insensitive_and_stored_lower_case(route53, zone_id, ask):
    change(route53, zone_id, ("UPSERT", "_UP.Example.COM", "TXT", 60, ['"u"']))
    sets = route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    assert "_up.example.com." in [s["Name"] for s in sets]
    change(route53, zone_id, ("DELETE", "_up.example.com", "TXT", 60, ['"u"']))
    assert ask("_up.example.com").rcode() == dns.rcode.NXDOMAIN


def test_change_without_ttl_and_records_is_invalid_input(route53, zone_id):
    batch = [{"Action": "DELETE", "ResourceRecordSet": {"Name": "_a.example.com", "Type": "TXT"}}]
    code, message, _ = error_of(route53.change_resource_record_sets, HostedZoneId=zone_id,
                                ChangeBatch={"Changes": batch})
    assert code == "InvalidInput" and "Action=DELETE" in message


def test_record_outside_the_zone_is_refused(route53, zone_id):
    code, _, _ = error_of(change, route53, zone_id, ("UPSERT", "_x.example.org", "TXT", 60, ['"t"']))
    assert code == "InvalidChangeBatch"


# --- GetChange, ListHostedZonesByName, throttling ----------------------------------------------------

def test_change_is_pending_then_insync_with_its_own_id(route53, zone_id, control):
    control.settings(route53_sync_seconds=0.5)
    first = change(route53, zone_id, ("UPSERT", "_a.example.com", "TXT", 60, ['"a"']))
    second = change(route53, zone_id, ("UPSERT", "_b.example.com", "TXT", 60, ['"b"']))
    assert first["Status"] == "PENDING" and first["Id"] != second["Id"]
    assert route53.get_change(Id=first["Id"])["ChangeInfo"]["Status"] == "PENDING"
    time.sleep(0.6)
    assert route53.get_change(Id=first["Id"])["ChangeInfo"]["Status"] == "INSYNC"
    route53.get_waiter("resource_record_sets_changed").wait(Id=second["Id"], WaiterConfig={"Delay": 1})


def test_get_change_of_an_unknown_id_is_no_such_change(route53):
    code, _, status = error_of(route53.get_change, Id="/change/CNOSUCHCHANGE0000")
    assert (code, status) == ("NoSuchChange", 404)


def test_list_hosted_zones_by_name_starts_at_the_name_and_pages(route53):
    for name in ("b.example.com", "example.com", "a.org", "example.net"):
        route53.create_hosted_zone(Name=name, CallerReference=name)
    page = route53.list_hosted_zones_by_name(DNSName="example.com", MaxItems="2")
    assert [zone["Name"] for zone in page["HostedZones"]] == ["example.com.", "b.example.com."]
    assert page["IsTruncated"] is True and page["MaxItems"] == "2"
    rest = route53.list_hosted_zones_by_name(DNSName=page["NextDNSName"], HostedZoneId=page["NextHostedZoneId"])
    assert [zone["Name"] for zone in rest["HostedZones"]] == ["example.net.", "a.org."]
    assert rest["IsTruncated"] is False


def test_route53_throttling_answers_throttling(route53, zone_id, control):
    control.throttle("route53", "ChangeResourceRecordSets", probability=1)
    code, message, status = error_of(change, route53, zone_id, ("UPSERT", "_a.example.com", "TXT", 60, ['"a"']))
    assert (code, message, status) == ("Throttling", "Rate exceeded", 400)
    assert route53.list_hosted_zones_by_name()["HostedZones"]  # other operations pass
