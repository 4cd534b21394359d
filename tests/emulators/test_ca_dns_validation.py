"""The CA emulators validate a DNS challenge by resolving it (`--dns-resolver`): a real emulators.dns server
in-process, the CAS and SCM emulators driven through their official SDKs. The record is put into the DNS
server directly, as a DNS-API emulator's feed would."""

from __future__ import annotations

# First: the fixture module keeps the SDK's import-time write out of the real HOME.
from tests.emulators.conftest_scm import SCM_AK, SCM_DOMAIN_ID, SCM_PROJECT_ID, SCM_SK

import pytest
from alibabacloud_cas20200407 import models as cas_models
from huaweicloudsdkscm.v3 import model as scm

from emulators.cas import CasApi
from emulators.core import EmulatorServer
from emulators.core import dns_check
from emulators.core.dns_check import parse_resolver, served, txt_records_served
from emulators.core.testing import ControlAPIError, ControlClient
from emulators.dns import DnsServer, ZoneStore
from emulators.scm import ScmApi
from emulators.scm.__main__ import parse_arguments
from emulators.scm.models import ScmSettings
from tests.emulators.cas_scaffolding import ACCESS_KEY_ID, ACCESS_KEY_SECRET, describe, make_cas_client, \
    order_for_package

ZONE = "example.cn"


@pytest.fixture
def zones() -> ZoneStore:
    store = ZoneStore()
    store.put_zone(ZONE)
    return store


@pytest.fixture
def resolver(zones) -> str:
    with DnsServer(zones) as server:
        yield f"127.0.0.1:{server.port}"


def publish_txt(zones: ZoneStore, name: str, *values: str) -> None:
    zones.put_rrset(ZONE, name, "TXT", 60, list(values))


# --- the shared lookup ------------------------------------------------------------------------------------

def test_served_needs_every_value_and_tolerates_others(zones, resolver):
    publish_txt(zones, "_dnsauth.www.example.cn", "token-a", "someone-else", "x" * 300)
    assert served(resolver, "_dnsauth.www.example.cn", "TXT", ["token-a", "x" * 300])
    assert not served(resolver, "_dnsauth.www.example.cn", "TXT", ["token-a", "token-b"])
    assert not served(resolver, "_dnsauth.api.example.cn", "TXT", ["token-a"])  # NXDOMAIN
    assert not served(resolver, "_dnsauth.example.org", "TXT", ["token-a"])  # REFUSED: no such zone
    assert txt_records_served(resolver, [("_dnsauth.www.example.cn", "token-a"),
                                         ("_dnsauth.www.example.cn", "someone-else")])
    assert not txt_records_served(resolver, [])


def test_a_resolver_that_does_not_answer_is_a_miss_and_left_alone_a_while(zones, monkeypatch):
    monkeypatch.setattr(dns_check, "_quiet_until", {})  # this test's pauses end with it
    publish_txt(zones, "_dnsauth.www.example.cn", "token")
    with DnsServer(zones) as server:
        port = server.port
    assert not served(f"127.0.0.1:{port}", "_dnsauth.www.example.cn", "TXT", ["token"])
    with DnsServer(zones, port=port):  # back on the same port, but not asked during the pause
        assert not served(f"127.0.0.1:{port}", "_dnsauth.www.example.cn", "TXT", ["token"])
        dns_check._quiet_until.clear()
        assert served(f"127.0.0.1:{port}", "_dnsauth.www.example.cn", "TXT", ["token"])


@pytest.mark.parametrize("text", ["localhost:53", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:http"])
def test_bad_resolver_is_refused(text):
    with pytest.raises(ValueError):
        parse_resolver(text)


def test_resolver_forms():
    assert parse_resolver("127.0.0.1:5353") == ("127.0.0.1", 5353)
    assert parse_resolver("[::1]:53") == ("::1", 53)
    assert parse_resolver("") is None


# --- CAS V1.0 orders --------------------------------------------------------------------------------------

@pytest.fixture
def cas(resolver):
    api = CasApi({ACCESS_KEY_ID: ACCESS_KEY_SECRET}, dns_resolver=resolver, validation_wait=30, review_wait=60)
    with EmulatorServer(api) as server:
        yield make_cas_client(server), ControlClient(server.url)


def test_cas_order_issues_once_its_txt_record_is_served(cas, zones):
    client, control = cas
    order_id = order_for_package(client, domain="www.example.cn")
    token = describe(client, order_id).record_value
    control.advance_clock(100)  # time before the record exists does not count
    assert describe(client, order_id).type == "domain_verify"
    publish_txt(zones, "_dnsauth.www.example.cn", token)
    assert describe(client, order_id).type == "domain_verify"  # seen now; the validation wait starts
    control.advance_clock(30)
    assert describe(client, order_id).type == "process"
    control.advance_clock(60)
    issued = describe(client, order_id)
    assert issued.type == "certificate" and issued.certificate


def test_cas_order_with_a_wrong_value_stays_in_domain_verify(cas, zones):
    client, control = cas
    order_id = order_for_package(client, domain="www.example.cn")
    publish_txt(zones, "_dnsauth.www.example.cn", "not-the-token")
    control.advance_clock(1000)
    assert describe(client, order_id).type == "domain_verify"
    assert control.call("GET", f"cas/orders/{order_id}")["state"] == "domain_verify"


def test_cas_file_validation_still_needs_the_control_call(cas, zones):
    client, control = cas
    order_id = order_for_package(client, domain="www.example.cn", validate_type="FILE")
    publish_txt(zones, "_dnsauth.www.example.cn", describe(client, order_id).content)
    control.advance_clock(1000)
    assert describe(client, order_id).type == "domain_verify"
    control.call("POST", f"cas/orders/{order_id}/publish")
    control.advance_clock(90)
    assert describe(client, order_id).type == "certificate"


def test_cas_dns_resolver_is_a_setting(resolver, zones):
    with EmulatorServer(CasApi({ACCESS_KEY_ID: ACCESS_KEY_SECRET})) as server:
        client, control = make_cas_client(server), ControlClient(server.url)
        order_id = order_for_package(client, domain="www.example.cn")
        publish_txt(zones, "_dnsauth.www.example.cn", describe(client, order_id).record_value)
        assert describe(client, order_id).type == "domain_verify"  # no resolver: only publish counts
        assert control.call("POST", "cas/settings", {"dns_resolver": resolver})["dns_resolver"] == resolver
        assert describe(client, order_id).type == "certificate"
        with pytest.raises(ControlAPIError) as refused:
            control.call("POST", "cas/settings", {"dns_resolver": "dns.example.cn:53"})
        assert refused.value.status == 400


# --- CAS V2.0 instances -----------------------------------------------------------------------------------

def test_cas_instance_application_issues_once_its_txt_record_is_served(resolver, zones):
    with EmulatorServer(CasApi({ACCESS_KEY_ID: ACCESS_KEY_SECRET}, dns_resolver=resolver)) as server:
        client, control = make_cas_client(server), ControlClient(server.url)
        instance_id = control.call("POST", "cas/instances", {"product_code": "digicert-free-1-free"})["instance_id"]
        client.update_instance(cas_models.UpdateInstanceRequest(instance_id=instance_id, domain="docs.example.cn",
                                                                validation_method="DNS"))
        client.apply_certificate(cas_models.ApplyCertificateRequest(instance_id=instance_id))

        def detail():
            return client.get_instance_detail(cas_models.GetInstanceDetailRequest(instance_id=instance_id)).body

        [record] = detail().domain_validation_list
        assert (record.validation_type, record.validation_key) == ("TXT", "_dnsauth.docs.example.cn")
        publish_txt(zones, record.validation_key, "stale-token")
        assert detail().status == "pending"
        publish_txt(zones, record.validation_key, record.validation_value)
        issued = detail()
        assert (issued.status, issued.certificate_status) == ("normal", "issued")


# --- SCM certificates -------------------------------------------------------------------------------------

@pytest.fixture
def scm_with_resolver(scm_client, scm_control, resolver):
    assert scm_control.call("POST", "scm/settings", {"dns_resolver": resolver})["dns_resolver"] == resolver
    return scm_client, scm_control


def scm_apply(client, names: list[str], method: str = "DNS", **fields) -> str:
    purchase = scm.PurchaseCertificateRequestBody(
        cert_brand="GEOTRUST", cert_type="DV_SSL_CERT", domain_type="MULTI_DOMAIN" if len(names) > 1 else
        "SINGLE_DOMAIN", effective_time=1, domain_numbers=len(names), order_number=1, agree_privacy_protection=True)
    certificate_id = client.subscribe_certificate(scm.SubscribeCertificateRequest(body=purchase)).cert[0].cert_id
    body = scm.ApplyCertificateRequestBody(
        domain=names[0], sans=";".join(names[1:]) or None, applicant_name="Zhang_San", applicant_phone="13212345678",
        applicant_email="pki@example.com", domain_method=method, agree_privacy_protection=True, **fields)
    client.apply_certificate(scm.ApplyCertificateRequest(certificate_id=certificate_id, body=body))
    return certificate_id


def scm_show(client, certificate_id: str):
    return client.show_certificate(scm.ShowCertificateRequest(certificate_id=certificate_id))


def test_scm_certificate_needs_every_domains_record(scm_with_resolver, zones):
    client, control = scm_with_resolver
    certificate_id = scm_apply(client, ["example.cn", "*.example.cn", "www.example.cn"])
    records = scm_show(client, certificate_id).authentification
    assert sorted(r.record_name for r in records) == \
        ["_dnsauth.example.cn", "_dnsauth.example.cn", "_dnsauth.www.example.cn"]
    apex_tokens = [r.record_value for r in records if r.record_name == "_dnsauth.example.cn"]
    [www_token] = [r.record_value for r in records if r.record_name == "_dnsauth.www.example.cn"]
    publish_txt(zones, "_dnsauth.www.example.cn", www_token)
    publish_txt(zones, "_dnsauth.example.cn", apex_tokens[0])  # the wildcard's token is still missing
    assert scm_show(client, certificate_id).status == "CHECKING"
    publish_txt(zones, "_dnsauth.example.cn", *apex_tokens)
    assert scm_show(client, certificate_id).status == "ISSUED"


def test_scm_wrong_value_stays_checking(scm_with_resolver, zones):
    client, control = scm_with_resolver
    certificate_id = scm_apply(client, ["api.example.cn"])
    publish_txt(zones, "_dnsauth.api.example.cn", "not-the-token")
    control.advance_clock(3600)
    assert scm_show(client, certificate_id).status == "CHECKING"
    assert control.call("GET", f"scm/certificates/{certificate_id}")["challenge_published"] is False


def test_scm_validation_wait_runs_as_today(scm_with_resolver, zones):
    client, control = scm_with_resolver
    control.call("POST", "scm/settings", {"validation_wait_seconds": 600})
    certificate_id = scm_apply(client, ["api.example.cn"])
    [record] = scm_show(client, certificate_id).authentification
    publish_txt(zones, record.record_name, record.record_value)
    assert scm_show(client, certificate_id).status == "CHECKING"
    assert control.call("GET", f"scm/certificates/{certificate_id}")["challenge_published"] is True
    control.advance_clock(600)
    assert scm_show(client, certificate_id).status == "ISSUED"


def test_scm_email_validation_still_needs_the_control_call(scm_with_resolver):
    client, control = scm_with_resolver
    certificate_id = scm_apply(client, ["api.example.cn"], method="EMAIL")
    assert scm_show(client, certificate_id).status == "CHECKING"
    control.call("POST", f"scm/certificates/{certificate_id}/publish")
    assert scm_show(client, certificate_id).status == "ISSUED"


def test_scm_bad_resolver_setting_is_refused(scm_control):
    with pytest.raises(ControlAPIError) as refused:
        scm_control.call("POST", "scm/settings", {"dns_resolver": "nameserver"})
    assert refused.value.status == 400


def test_scm_restart_takes_the_resolver_from_the_flag(tmp_path):
    state_file = tmp_path / "scm.json"

    def api(resolver: str) -> ScmApi:
        return ScmApi(credentials={SCM_AK: SCM_SK}, project_id=SCM_PROJECT_ID, domain_id=SCM_DOMAIN_ID,
                      settings=ScmSettings(dns_resolver=resolver, validation_wait_seconds=5))

    with EmulatorServer(api("127.0.0.1:5301"), state_file=state_file) as server:
        ControlClient(server.url).call("POST", "scm/settings", {"validation_wait_seconds": 7})
    with EmulatorServer(api("127.0.0.1:5302"), state_file=state_file) as restarted:
        settings = ControlClient(restarted.url).call("GET", "scm/settings")
    assert (settings["dns_resolver"], settings["validation_wait_seconds"]) == ("127.0.0.1:5302", 7)


def test_scm_flag_and_environment(monkeypatch):
    args = parse_arguments(["--ak", "a", "--sk", "b", "--dns-resolver", "127.0.0.1:5353"])
    assert args.dns_resolver == "127.0.0.1:5353"
    monkeypatch.setenv("EMU_SCM_DNS_RESOLVER", "127.0.0.1:5354")
    assert parse_arguments(["--ak", "a", "--sk", "b"]).dns_resolver == "127.0.0.1:5354"
    with pytest.raises(SystemExit):
        parse_arguments(["--ak", "a", "--sk", "b", "--dns-resolver", "dns.example.cn"])
