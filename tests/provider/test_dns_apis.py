"""components/dns: Route 53, Alidns and Huawei DNS behind one interface, against real servers over HTTP through
the official SDKs (tests/provider/dns_fixtures.py). What is common runs once per API (`dns_cloud`); what only
one API has (Route 53's INSYNC, Huawei's PENDING_*, the services' retry codes) runs against that one."""

from __future__ import annotations

import pytest

from components.aws import clients
from components.dns import api as dns
from components.dns.alidns import AlidnsApi
from components.dns.huaweidns import HuaweiDnsApi
from components.dns.route53 import Route53Api
from components import dynamic
from components.dynamic import Clock
from components.errors import CertfleetError, CloudError
from emulators.aws.testing import AwsControl
from tests.fakes import FakeClock
from tests.provider.dns_fixtures import (  # noqa: F401 (fixtures)
    HUAWEI_REGION, alidns_cloud, dns_cloud, huaweidns_cloud, route53_cloud,
)

OWNER = "shop/prod"
LONG_TOKEN = "t0k" * 110  # 330 characters: two TXT strings at Route 53 and Huawei DNS
RESOURCE = "record 'shop-validation'"


class NoSleep(Clock):
    sleep = staticmethod(lambda seconds: None)


def api_of(cloud):
    return dns.dns_api(cloud.provider, cloud.region)


def zone_of(cloud, name="example.com"):
    return dns.Zone(cloud.provider, cloud.zone_id(name), name)


def txt(name, *values, ttl=300):
    return dns.RecordSet(name, "TXT", ttl, tuple(sorted(values)))


def error_of(call, *args) -> CloudError:
    with pytest.raises(CloudError) as raised:
        call(*args)
    return raised.value


# --- the owner record and TXT text: pure ---------------------------------------------------------------

def test_owner_record_name_and_text_round_trip():
    assert dns.owner_name("_dnsauth.Example.com.") == "_certfleet-owner._dnsauth.example.com"
    assert dns.owner_value(OWNER) == "certfleet-owner=shop/prod"
    assert dns.owner_of(dns.owner_value(OWNER)) == OWNER
    assert dns.owner_of("v=spf1 -all") is None and dns.owner_of(None) is None
    assert dns.owner_of("certfleet-owner=") is None


def test_txt_presentation_splits_escapes_and_reads_back():
    text = 'a "quoted" \\ token ' + "x" * 300
    presented = dns.txt_presentation(text)
    assert presented.count('" "') == 1  # two strings: 255 + the rest
    assert dns.txt_text(presented) == text
    assert dns.txt_text('"part-one" "part-two"') == "part-onepart-two"
    assert dns.txt_text('"a\\052b"', octal_escapes=True) == "a*b"  # Route 53's \NNN is octal
    assert dns.txt_text('"a\\042b"') == "a*b"  # RFC 1035's \DDD is decimal
    assert dns.txt_text("unquoted text") == "unquoted text"


def test_route53_rates_stay_within_the_published_five_per_second_per_account():
    route53 = [rate for (service, _), rate in clients.REQUESTS_PER_SECOND.items() if service == "route53"]
    assert len(route53) == 5 and sum(route53) <= 5


def test_the_factory_keeps_one_api_per_provider_and_region():
    assert dns.dns_api("route53") is dns.dns_api("route53", "eu-west-1")  # Route 53 is global
    assert isinstance(dns.dns_api("route53"), Route53Api)
    assert isinstance(dns.dns_api("alidns"), AlidnsApi)
    assert dns.dns_api("huaweicloud", "cn-north-4") is dns.dns_api("huaweicloud", "cn-north-4")
    assert dns.dns_api("huaweicloud", "cn-north-4") is not dns.dns_api("huaweicloud", "ap-southeast-1")
    with pytest.raises(CertfleetError, match="needs a region"):
        dns.dns_api("huaweicloud")
    with pytest.raises(CertfleetError, match="unknown DNS provider"):
        dns.dns_api("cloudflare")


# --- find_zone ----------------------------------------------------------------------------------------

def test_find_zone_by_reference(dns_cloud):
    zone = api_of(dns_cloud).find_zone(dns_cloud.zone_id("example.com"), "_DNSAuth.WWW.Example.com.", RESOURCE)
    assert zone == dns.Zone(dns_cloud.provider, dns_cloud.zone_id("example.com"), "example.com")


def test_find_zone_without_reference_picks_the_longest_zone_holding_the_name(dns_cloud):
    api = api_of(dns_cloud)
    assert api.find_zone(None, "_dnsauth.shop.sub.example.com", RESOURCE) == \
        dns.Zone(dns_cloud.provider, dns_cloud.zone_id("sub.example.com"), "sub.example.com")
    assert api.find_zone(None, "sub.example.com", RESOURCE).name == "sub.example.com"  # its apex
    assert api.find_zone(None, "_dnsauth.www.example.com", RESOURCE) == \
        dns.Zone(dns_cloud.provider, dns_cloud.zone_id("example.com"), "example.com")


def test_find_zone_refuses_a_zone_that_does_not_hold_the_name(dns_cloud):
    error = error_of(api_of(dns_cloud).find_zone, dns_cloud.zone_id("sub.example.com"), "_dnsauth.example.com",
                     RESOURCE)
    assert error.code == "ZoneMismatch" and "sub.example.com" in str(error) and RESOURCE in str(error)


def test_find_zone_of_a_missing_zone_and_of_a_name_in_no_zone(dns_cloud):
    api = api_of(dns_cloud)
    missing = error_of(api.find_zone, dns_cloud.missing_ref, "_dnsauth.example.com", RESOURCE)
    assert missing.code == dns_cloud.missing_code and dns_cloud.missing_code in str(missing)
    nowhere = error_of(api.find_zone, None, "_dnsauth.example.org", RESOURCE)
    assert nowhere.code == "NoZoneForName" and "_dnsauth.example.org" in str(nowhere)


# --- read and write -----------------------------------------------------------------------------------

def test_write_txt_reads_back_canonical_values_and_the_owner(dns_cloud):
    api, zone = api_of(dns_cloud), zone_of(dns_cloud)
    assert api.read(zone, "_dnsauth.example.com", "TXT", RESOURCE) is None
    api.write(zone, txt("_dnsauth.example.com", "token-b", LONG_TOKEN, ttl=120), OWNER, RESOURCE, None)
    read = api.read(zone, "_DNSAuth.example.com.", "TXT", RESOURCE)
    assert read == dns.RecordSet("_dnsauth.example.com", "TXT", 120, (LONG_TOKEN, "token-b"), OWNER)
    owner = api.read(zone, dns.owner_name("_dnsauth.example.com"), "TXT", RESOURCE)
    assert owner.values == ("certfleet-owner=shop/prod",) and owner.owner is None


def test_write_at_the_zone_apex(dns_cloud):
    api, zone = api_of(dns_cloud), zone_of(dns_cloud, "sub.example.com")
    api.write(zone, txt("sub.example.com", "apex-token"), OWNER, RESOURCE, None)
    assert api.read(zone, "sub.example.com", "TXT", RESOURCE).values == ("apex-token",)
    assert api.read(zone, "sub.example.com", "TXT", RESOURCE).owner == OWNER


def test_write_cname_keeps_the_target_canonical(dns_cloud):
    api, zone = api_of(dns_cloud), zone_of(dns_cloud)
    name = "_3639ac514e785e898d2646601fa951d5.www.example.com"
    # ACM's targets start with "_x..." labels; the Alidns emulator takes only host names (letters, digits, "-")
    record = dns.RecordSet(name, "CNAME", 300, ("Target-98d2646601.ABCDEFG.acm-validations.aws.",))
    api.write(zone, record, OWNER, RESOURCE, None)
    assert api.read(zone, name, "CNAME", RESOURCE) == \
        dns.RecordSet(name, "CNAME", 300, ("target-98d2646601.abcdefg.acm-validations.aws",), OWNER)
    changed = dns.RecordSet(name, "CNAME", 300, ("other.acm-validations.aws",))
    api.write(zone, changed, OWNER, RESOURCE, api.read(zone, name, "CNAME", RESOURCE))
    assert api.read(zone, name, "CNAME", RESOURCE).values == ("other.acm-validations.aws",)


def test_write_replaces_values_and_ttl(dns_cloud):
    api, zone = api_of(dns_cloud), zone_of(dns_cloud)
    api.write(zone, txt("_dnsauth.example.com", "one", "two"), OWNER, RESOURCE, None)
    current = api.read(zone, "_dnsauth.example.com", "TXT", RESOURCE)
    api.write(zone, txt("_dnsauth.example.com", "two", "three", ttl=60), "shop/staging", RESOURCE, current)
    assert api.read(zone, "_dnsauth.example.com", "TXT", RESOURCE) == \
        dns.RecordSet("_dnsauth.example.com", "TXT", 60, ("three", "two"), "shop/staging")


def test_a_name_outside_the_zone_is_refused_before_any_call(dns_cloud):
    api, zone = api_of(dns_cloud), zone_of(dns_cloud, "sub.example.com")
    error = error_of(api.write, zone, txt("_dnsauth.example.com", "v"), OWNER, RESOURCE, None)
    assert error.code == "ZoneMismatch"


# --- conditional writes: only over the set the caller read ----------------------------------------------

def test_a_write_over_a_set_changed_since_it_was_read_changes_nothing(dns_cloud):
    api, zone = api_of(dns_cloud), zone_of(dns_cloud)
    api.write(zone, txt("_dnsauth.example.com", "mine"), OWNER, RESOURCE, None)
    current = api.read(zone, "_dnsauth.example.com", "TXT", RESOURCE)
    dns_cloud.raw_put("_dnsauth.example.com", "TXT", ["theirs"])  # another tool, between our read and write
    changed = api.read(zone, "_dnsauth.example.com", "TXT", RESOURCE)  # Alidns adds a record, the others replace
    assert "theirs" in changed.values and changed.owner == OWNER
    with pytest.raises(dns.RecordChanged) as raised:
        api.write(zone, txt("_dnsauth.example.com", "new", ttl=60), "shop/staging", RESOURCE, current)
    assert "_dnsauth.example.com (TXT)" in str(raised.value) and "theirs" in str(raised.value)
    assert raised.value.now == changed
    assert api.read(zone, "_dnsauth.example.com", "TXT", RESOURCE) == changed  # the owner record untouched too


def test_a_create_over_a_set_written_since_it_was_read_changes_nothing(dns_cloud):
    api, zone = api_of(dns_cloud), zone_of(dns_cloud)
    dns_cloud.raw_put("_dnsauth.example.com", "TXT", ["by-hand"])
    with pytest.raises(dns.RecordChanged, match="it was absent, now \\['by-hand'\\]"):
        api.write(zone, txt("_dnsauth.example.com", "mine"), OWNER, RESOURCE, None)
    assert api.read(zone, "_dnsauth.example.com", "TXT", RESOURCE) == txt("_dnsauth.example.com", "by-hand")
    assert api.read(zone, dns.owner_name("_dnsauth.example.com"), "TXT", RESOURCE) is None


def test_a_write_over_a_set_deleted_since_it_was_read_changes_nothing(dns_cloud):
    api, zone = api_of(dns_cloud), zone_of(dns_cloud)
    api.write(zone, txt("_dnsauth.example.com", "mine"), OWNER, RESOURCE, None)
    current = api.read(zone, "_dnsauth.example.com", "TXT", RESOURCE)
    api.delete(zone, current, RESOURCE)
    with pytest.raises(dns.RecordChanged, match="now absent"):
        api.write(zone, txt("_dnsauth.example.com", "new"), OWNER, RESOURCE, current)
    assert api.read(zone, "_dnsauth.example.com", "TXT", RESOURCE) is None
    assert api.read(zone, dns.owner_name("_dnsauth.example.com"), "TXT", RESOURCE) is None


def test_a_write_with_the_current_set_succeeds_over_another_tools_record(dns_cloud):
    api, zone = api_of(dns_cloud), zone_of(dns_cloud)
    dns_cloud.raw_put("_dnsauth.example.com", "TXT", ["by-hand", "second"])
    current = api.read(zone, "_dnsauth.example.com", "TXT", RESOURCE)
    api.write(zone, txt("_dnsauth.example.com", "mine", ttl=60), OWNER, RESOURCE, current)
    assert api.read(zone, "_dnsauth.example.com", "TXT", RESOURCE) == \
        dns.RecordSet("_dnsauth.example.com", "TXT", 60, ("mine",), OWNER)


def test_same_set_compares_values_canonically_and_the_ttl_but_not_the_owner():
    cname = dns.RecordSet("_x.example.com", "CNAME", 300, ("Target.Example.NET.",))
    assert dns.same_set(cname, dns.RecordSet("_x.example.com", "CNAME", 300, ("target.example.net",), OWNER))
    assert not dns.same_set(cname, dns.RecordSet("_x.example.com", "CNAME", 60, ("target.example.net",)))
    assert not dns.same_set(txt("_x.example.com", "a"), txt("_x.example.com", "a", "b"))
    assert dns.same_set(None, None) and not dns.same_set(None, txt("_x.example.com", "a"))


# --- a zone deleted under the records -----------------------------------------------------------------

def test_every_call_on_a_deleted_zone_answers_a_zone_gone_code(dns_cloud):
    api = api_of(dns_cloud)
    ref = dns_cloud.add_zone("gone.example.net")
    zone = api.find_zone(ref, "_dnsauth.gone.example.net", RESOURCE)
    api.write(zone, txt("_dnsauth.gone.example.net", "token"), OWNER, RESOURCE, None)
    current = api.read(zone, "_dnsauth.gone.example.net", "TXT", RESOURCE)
    dns_cloud.remove_zone(ref)
    errors = [error_of(api.read, zone, "_dnsauth.gone.example.net", "TXT", RESOURCE),
              error_of(api.delete, zone, current, RESOURCE),
              error_of(api.delete_owner, zone, "_dnsauth.gone.example.net", RESOURCE)]
    assert {error.code for error in errors} == {dns_cloud.missing_code}
    assert all(error.code in dns.ZONE_GONE_CODES and RESOURCE in str(error) for error in errors)


def test_a_missing_zone_reference_is_a_zone_gone_code(dns_cloud):
    assert dns_cloud.missing_code in dns.ZONE_GONE_CODES


# --- delete -------------------------------------------------------------------------------------------

def test_delete_removes_the_record_and_its_owner_and_nothing_else(dns_cloud):
    api, zone = api_of(dns_cloud), zone_of(dns_cloud)
    api.write(zone, txt("_dnsauth.example.com", "mine-1", "mine-2"), OWNER, RESOURCE, None)
    dns_cloud.raw_put("_dnsauth.example.com", "A", ["192.0.2.10"])          # another type at the name
    dns_cloud.raw_put("_dnsauth.www.example.com", "TXT", ["neighbour"])     # another name
    api.delete(zone, api.read(zone, "_dnsauth.example.com", "TXT", RESOURCE), RESOURCE)
    assert api.read(zone, "_dnsauth.example.com", "TXT", RESOURCE) is None
    assert api.read(zone, dns.owner_name("_dnsauth.example.com"), "TXT", RESOURCE) is None
    assert api.read(zone, "_dnsauth.example.com", "A", RESOURCE).values == ("192.0.2.10",)
    assert api.read(zone, "_dnsauth.www.example.com", "TXT", RESOURCE).values == ("neighbour",)


def test_delete_keeps_values_someone_else_added_since(dns_cloud):
    api, zone = api_of(dns_cloud), zone_of(dns_cloud)
    api.write(zone, txt("_dnsauth.example.com", "mine"), OWNER, RESOURCE, None)
    current = api.read(zone, "_dnsauth.example.com", "TXT", RESOURCE)
    dns_cloud.raw_put("_dnsauth.example.com", "TXT", ["mine", "theirs"])  # Route 53: also a new TTL
    api.delete(zone, current, RESOURCE)
    left = api.read(zone, "_dnsauth.example.com", "TXT", RESOURCE)
    assert left.values == ("theirs",) and left.owner is None


def test_delete_of_what_is_already_gone_is_fine(dns_cloud):
    api, zone = api_of(dns_cloud), zone_of(dns_cloud)
    api.write(zone, txt("_dnsauth.example.com", "token"), OWNER, RESOURCE, None)
    current = api.read(zone, "_dnsauth.example.com", "TXT", RESOURCE)
    api.delete(zone, current, RESOURCE)
    api.delete(zone, current, RESOURCE)
    api.delete_owner(zone, "_dnsauth.example.com", RESOURCE)
    assert api.read(zone, "_dnsauth.example.com", "TXT", RESOURCE) is None


def test_delete_owner_removes_only_the_owner_record(dns_cloud):
    api, zone = api_of(dns_cloud), zone_of(dns_cloud)
    api.write(zone, txt("_dnsauth.example.com", "token"), OWNER, RESOURCE, None)
    api.delete_owner(zone, "_dnsauth.example.com", RESOURCE)
    assert api.read(zone, "_dnsauth.example.com", "TXT", RESOURCE) == txt("_dnsauth.example.com", "token")
    assert api.read(zone, dns.owner_name("_dnsauth.example.com"), "TXT", RESOURCE) is None


def test_a_record_written_by_someone_else_reads_without_an_owner(dns_cloud):
    api, zone = api_of(dns_cloud), zone_of(dns_cloud)
    dns_cloud.raw_put("_dnsauth.example.com", "TXT", ["by-hand"])
    assert api.read(zone, "_dnsauth.example.com", "TXT", RESOURCE) == txt("_dnsauth.example.com", "by-hand")


# --- access and errors --------------------------------------------------------------------------------

def test_check_access_reads_the_zone(dns_cloud):
    api_of(dns_cloud).check_access(zone_of(dns_cloud), RESOURCE)  # no error


def test_check_access_without_permission_names_it(dns_cloud):
    api, zone = api_of(dns_cloud), zone_of(dns_cloud)
    if dns_cloud.deny_listing is None:  # moto has no IAM: a zone that is not there instead
        error = error_of(api.check_access, dns.Zone("route53", dns_cloud.missing_ref, "example.com"), RESOURCE)
        assert error.code == "NoSuchHostedZone" and "route53.ListResourceRecordSets" in str(error)
        return
    dns_cloud.deny_listing()
    error = error_of(api.check_access, zone, RESOURCE)
    assert error.code == dns_cloud.denied_code
    assert dns_cloud.list_permission in str(error) and RESOURCE in str(error) and dns_cloud.denied_code in str(error)


def test_explained_masks_secrets_as_they_are_and_percent_encoded_once_and_twice():
    token = "CAIS/sts+Token=="  # an STS token, as Alibaba percent-encodes it into its string-to-sign
    message = ("server string to sign is:POST&%2F&SecurityToken%3DCAIS%252Fsts%252BToken%253D%253D "
               "token CAIS%2Fsts%2BToken%3D%3D raw CAIS/sts+Token== key AKID0001")
    shown = dns.explained(message, denied=False, permission="alidns:X", secrets=[token, "AKID0001", None, ""])
    assert "CAIS" not in shown and "AKID0001" not in shown
    assert shown == ("server string to sign is:POST&%2F&SecurityToken%3D*** token *** raw *** key ***")


@pytest.mark.parametrize("cloud_fixture, token_variable", [
    ("alidns_cloud", "ALIBABA_CLOUD_SECURITY_TOKEN"), ("huaweidns_cloud", "HUAWEICLOUD_SDK_SECURITY_TOKEN")])
def test_no_error_shows_a_security_token_even_percent_encoded(request, monkeypatch, cloud_fixture, token_variable):
    from urllib.parse import quote
    cloud = request.getfixturevalue(cloud_fixture)
    token = "STS.NUgYrLnoC/5eX+vT7q=="
    monkeypatch.setenv(token_variable, token)
    once = quote(token, safe="")
    action = {"alidns": "DescribeDomainRecords", "huaweicloud": "ListRecordSetsByZone"}[cloud.provider]
    cloud.control.add_fault(action, status=400, code="InvalidParameter",
                            message=f"string to sign: SecurityToken%3D{quote(once, safe='')} ({once}; {token})")
    error = error_of(api_of(cloud).check_access, zone_of(cloud), RESOURCE)
    assert error.code == "InvalidParameter" and "SecurityToken%3D***" in str(error)
    assert not any(form in str(error) for form in ("NUgYrLnoC", "vT7q", once)), str(error)


def test_no_error_shows_a_credential(dns_cloud, monkeypatch):
    api, zone = api_of(dns_cloud), zone_of(dns_cloud)
    errors = [error_of(api.find_zone, dns_cloud.missing_ref, "_dnsauth.example.com", RESOURCE),
              error_of(api.find_zone, None, "_dnsauth.example.org", RESOURCE)]
    if dns_cloud.deny_listing is not None:
        dns_cloud.deny_listing()
        errors.append(error_of(api.read, zone, "_dnsauth.example.com", "TXT", RESOURCE))
        secret_variable = {"alidns": "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "huaweicloud": "HUAWEICLOUD_SDK_SK"}
        monkeypatch.setenv(secret_variable[dns_cloud.provider], "wrong-secret-value")
        errors.append(error_of(api.check_access, zone, RESOURCE))  # a signature the server refuses
        assert errors[-1].code in ("SignatureDoesNotMatch", "APIGW.0301")
    for error in errors:
        assert not any(secret in str(error) for secret in (*dns_cloud.secrets, "wrong-secret-value")), str(error)


# --- Route 53 only ------------------------------------------------------------------------------------

def test_route53_write_waits_until_the_change_is_in_sync(route53_cloud, aws):
    AwsControl(aws).settings(route53_sync_seconds=1)
    clients.reset_api_counts()
    Route53Api(sync_timeout_seconds=60).write(zone_of(route53_cloud), txt("_dnsauth.example.com", "t"), OWNER,
                                              RESOURCE, None)
    polls = clients.api_counts()[("route53", "GetChange")].calls
    assert polls >= 2  # PENDING first, then polled until INSYNC
    clients.reset_api_counts()
    current = api_of(route53_cloud).read(zone_of(route53_cloud), "_dnsauth.example.com", "TXT", RESOURCE)
    Route53Api(sync_timeout_seconds=0).write(zone_of(route53_cloud), txt("_dnsauth.example.com", "u"), OWNER,
                                             RESOURCE, current)
    assert clients.api_counts()[("route53", "GetChange")].calls == 1  # looked once, left it to the caller
    assert api_of(route53_cloud).read(zone_of(route53_cloud), "_dnsauth.example.com", "TXT", RESOURCE).values == \
        ("u",)



def test_route53_writes_wait_for_insync_within_one_shared_window(route53_cloud, aws):
    AwsControl(aws).settings(route53_sync_seconds=3600)  # PENDING for the whole test
    FakeClock.t = 0.0
    api, zone = Route53Api(sync_timeout_seconds=120, clock=FakeClock), zone_of(route53_cloud)
    clients.reset_api_counts()
    api.write(zone, txt("_dnsauth.example.com", "first"), OWNER, RESOURCE, None)
    assert FakeClock.t == 120 and clients.api_counts()[("route53", "GetChange")].calls > 2
    clients.reset_api_counts()
    api.write(zone, txt("_dnsauth.www.example.com", "second"), OWNER, RESOURCE, None)
    assert FakeClock.t == 120  # the window has closed: one look, no wait
    assert clients.api_counts()[("route53", "GetChange")].calls == 1


def test_route53_write_compares_the_current_values_canonically(route53_cloud):
    api, zone = api_of(route53_cloud), zone_of(route53_cloud)
    name = "_3639ac514e785e898d2646601fa951d5.www.example.com"
    route53_cloud.raw_put(name, "CNAME", ["Target-98d2.ACM-Validations.aws"])  # no dot, upper case: not our spelling
    current = api.read(zone, name, "CNAME", RESOURCE)
    assert current.values == ("target-98d2.acm-validations.aws",)
    api.write(zone, dns.RecordSet(name, "CNAME", 300, ("other.acm-validations.aws",)), OWNER, RESOURCE, current)
    assert api.read(zone, name, "CNAME", RESOURCE) == \
        dns.RecordSet(name, "CNAME", 300, ("other.acm-validations.aws",), OWNER)


def test_route53_write_whose_answer_was_lost_is_not_a_change_by_someone_else(route53_cloud, aws):
    AwsControl(aws).fault("ChangeResourceRecordSets", drop_response=True)  # applied, then no answer: retried
    api, zone = api_of(route53_cloud), zone_of(route53_cloud)
    clients.reset_api_counts()
    api.write(zone, txt("_dnsauth.example.com", "token"), OWNER, RESOURCE, None)
    assert clients.api_counts()[("route53", "ChangeResourceRecordSets")].attempts == 2
    assert api.read(zone, "_dnsauth.example.com", "TXT", RESOURCE) == \
        dns.RecordSet("_dnsauth.example.com", "TXT", 300, ("token",), OWNER)


def test_route53_finds_public_zones_only_and_refuses_two_of_one_name(route53_cloud):
    import uuid
    r53 = clients.client("route53", "us-east-1")
    r53.create_hosted_zone(Name="internal.example.com", CallerReference=uuid.uuid4().hex,
                           HostedZoneConfig={"PrivateZone": True},
                           VPC={"VPCRegion": "us-east-1", "VPCId": "vpc-12345678"})
    api = api_of(route53_cloud)
    assert api.find_zone(None, "_x.internal.example.com", RESOURCE).name == "example.com"
    r53.create_hosted_zone(Name="sub.example.com", CallerReference=uuid.uuid4().hex)
    from components.dns.route53 import Route53Api
    error = error_of(Route53Api().find_zone, None, "_x.sub.example.com", RESOURCE)  # the next run
    assert error.code == "AmbiguousZone" and route53_cloud.zone_id("sub.example.com") in str(error)


def test_route53_zone_listing_pages(route53_cloud, monkeypatch):
    import uuid
    from components.dns import route53
    r53 = clients.client("route53", "us-east-1")
    for _ in range(2):  # private zones named like the public one, before it or after it in the listing
        r53.create_hosted_zone(Name="sub.example.com", CallerReference=uuid.uuid4().hex,
                               HostedZoneConfig={"PrivateZone": True},
                               VPC={"VPCRegion": "us-east-1", "VPCId": "vpc-12345678"})
    monkeypatch.setattr(route53, "ZONE_PAGE_SIZE", "1")
    clients.reset_api_counts()
    assert api_of(route53_cloud).find_zone(None, "_x.sub.example.com", RESOURCE).zone_id == \
        route53_cloud.zone_id("sub.example.com")
    assert clients.api_counts()[("route53", "ListHostedZones")].calls >= 3  # 4 zones, pages of 1


def test_one_run_lists_the_zones_once_for_many_records(route53_cloud):
    api = api_of(route53_cloud)
    clients.reset_api_counts()
    found = {api.find_zone(None, f"_x.host{i}.sub.example.com", RESOURCE).zone_id for i in range(30)}
    found |= {api.find_zone(None, f"_x.host{i}.example.com", RESOURCE).zone_id for i in range(30)}
    assert found == {route53_cloud.zone_id("sub.example.com"), route53_cloud.zone_id("example.com")}
    assert clients.api_counts()[("route53", "ListHostedZones")].calls == 1


# --- Alidns and Huawei DNS only -----------------------------------------------------------------------

def test_alidns_retries_last_operation_not_finished(alidns_cloud):
    alidns_cloud.control.add_fault("AddDomainRecord", status=400, code="LastOperationNotFinished", times=1)
    api = AlidnsApi(clock=NoSleep)
    api.write(zone_of(alidns_cloud), txt("_dnsauth.example.com", "token"), OWNER, RESOURCE, None)
    assert api.read(zone_of(alidns_cloud), "_dnsauth.example.com", "TXT", RESOURCE).owner == OWNER


def test_alidns_keeps_one_record_per_value_and_updates_in_place(alidns_cloud):
    from alibabacloud_alidns20150109 import models
    api, zone, sdk = api_of(alidns_cloud), zone_of(alidns_cloud), alidns_cloud.extras["sdk"]

    def records():
        body = sdk.describe_domain_records(models.DescribeDomainRecordsRequest(
            domain_name="example.com", rrkey_word="_dnsauth", search_mode="COMBINATION")).body
        return {r.value: (r.record_id, r.ttl) for r in body.domain_records.record}

    api.write(zone, txt("_dnsauth.example.com", "one", "two"), OWNER, RESOURCE, None)
    before = records()
    assert set(before) == {"one", "two"}  # raw values, one record each
    api.write(zone, txt("_dnsauth.example.com", "two", "three", ttl=60), OWNER, RESOURCE,
              api.read(zone, "_dnsauth.example.com", "TXT", RESOURCE))
    after = records()
    assert set(after) == {"two", "three"} and {ttl for _, ttl in after.values()} == {60}
    assert {record_id for record_id, _ in after.values()} == {record_id for record_id, _ in before.values()}


def test_huawei_waits_for_a_pending_set_before_changing_it(huaweidns_cloud):
    huaweidns_cloud.control.call("POST", "huaweidns/settings", {"pending_reads": 2})
    api, zone = HuaweiDnsApi(HUAWEI_REGION, clock=NoSleep), zone_of(huaweidns_cloud)
    api.write(zone, txt("_dnsauth.example.com", "first"), OWNER, RESOURCE, None)
    api.write(zone, txt("_dnsauth.example.com", "second"), OWNER, RESOURCE,  # DNS.0314 if not waited for
              txt("_dnsauth.example.com", "first"))
    assert api.read(zone, "_dnsauth.example.com", "TXT", RESOURCE).values == ("second",)


def test_huawei_waits_for_active_within_the_shared_window(huaweidns_cloud):
    huaweidns_cloud.control.call("POST", "huaweidns/settings", {"pending_reads": 3})
    FakeClock.t = 0.0
    dynamic.RUN_WAITS.deadline(dns.PROPAGATION, 120, FakeClock)  # the run's window opened at t=0 ...
    FakeClock.t = 121.0                                           # ... and closed
    api, zone = HuaweiDnsApi(HUAWEI_REGION, pending_timeout_seconds=60, clock=FakeClock), zone_of(huaweidns_cloud)
    api.write(zone, txt("_dnsauth.example.com", "token"), OWNER, RESOURCE, None)
    assert FakeClock.t == 121.0  # each set looked at once, none waited for
    assert api.read(zone, "_dnsauth.example.com", "TXT", RESOURCE).owner == OWNER


def test_huawei_create_refused_after_the_check_puts_the_owner_record_back(huaweidns_cloud):
    class Racing(HuaweiDnsApi):
        """Another tool creates the set after this write's check, before its create (the owner set comes first)."""

        def _put(self, zone, name, rtype, values, ttl, resource, found):
            if name == "_dnsauth.example.com":
                huaweidns_cloud.raw_put(name, rtype, ["theirs"])
            return super()._put(zone, name, rtype, values, ttl, resource, found)

    api, zone = Racing(HUAWEI_REGION, clock=NoSleep), zone_of(huaweidns_cloud)
    with pytest.raises(dns.RecordChanged, match="theirs"):
        api.write(zone, txt("_dnsauth.example.com", "mine"), OWNER, RESOURCE, None)
    assert api.read(zone, "_dnsauth.example.com", "TXT", RESOURCE) == txt("_dnsauth.example.com", "theirs")
    assert api.read(zone, dns.owner_name("_dnsauth.example.com"), "TXT", RESOURCE) is None


def test_alidns_domain_of_another_account_is_a_zone_gone_code(alidns_cloud):
    api = api_of(alidns_cloud)
    zone = api.find_zone(alidns_cloud.add_zone("moved.example.net"), "_dnsauth.moved.example.net", RESOURCE)
    alidns_cloud.remove_zone("moved.example.net")
    alidns_cloud.control.call("POST", "alidns/domains", {"domain_name": "moved.example.net", "account_id": "999"})
    error = error_of(api.read, zone, "_dnsauth.moved.example.net", "TXT", RESOURCE)
    assert error.code == "IncorrectDomainUser" and error.code in dns.ZONE_GONE_CODES


def test_huawei_retries_a_set_not_in_a_steady_state(huaweidns_cloud):
    huaweidns_cloud.control.add_fault("CreateRecordSet", status=400, code="DNS.0314", message="not steady",
                                      times=1)
    api, zone = HuaweiDnsApi(HUAWEI_REGION, clock=NoSleep), zone_of(huaweidns_cloud)
    api.write(zone, txt("_dnsauth.example.com", "token"), OWNER, RESOURCE, None)
    assert api.read(zone, "_dnsauth.example.com", "TXT", RESOURCE).owner == OWNER


def test_huawei_sends_fqdns_with_the_dot_and_quoted_txt(huaweidns_cloud):
    from huaweicloudsdkdns.v2 import ListRecordSetsByZoneRequest
    api, zone = api_of(huaweidns_cloud), zone_of(huaweidns_cloud)
    api.write(zone, txt("_dnsauth.example.com", LONG_TOKEN), OWNER, RESOURCE, None)
    sets = huaweidns_cloud.extras["sdk"].list_record_sets_by_zone(ListRecordSetsByZoneRequest(
        zone_id=zone.zone_id, type="TXT")).recordsets
    stored = {s.name: s.records for s in sets}
    assert stored["_dnsauth.example.com."] == [f'"{LONG_TOKEN[:255]}" "{LONG_TOKEN[255:]}"']
    assert stored["_certfleet-owner._dnsauth.example.com."] == ['"certfleet-owner=shop/prod"']
