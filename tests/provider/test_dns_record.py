"""DnsRecordProvider (components/dns/record.py) against real DNS APIs on loopback.

Alibaba Cloud DNS and Huawei Cloud DNS emulators feed an authoritative DNS server in the test process
(emulators.dns), so the provider's propagation check resolves what it wrote for real. Route 53 (the AWS
emulator) has no feed here: its records are checked through the API, their propagation reported as not served.
"""

from __future__ import annotations

import pytest

from components.dns import api as dns_apis
from components.dns import record as record_module
from components.dns.record import DnsRecordProvider
from components.dynamic import DECLARED, note_declared
from components.errors import CertfleetError
from emulators.core import EmulatorServer
from emulators.dns import DnsServer, ZoneStore
from tests.provider.dns_fixtures import (ALIDNS_KEY_ID, ALIDNS_SECRET, HUAWEI_AK, HUAWEI_SK, ZONES, _alidns,
                                         _huaweidns, route53_cloud)  # noqa: F401 (fixture)

OWNER = "certfleet/test"


@pytest.fixture
def dns_server(monkeypatch):
    store = ZoneStore()
    with DnsServer(store) as server:
        host, port = server.address
        monkeypatch.setenv("CERTFLEET_DNS_RESOLVERS", f"{host}:{port}")
        monkeypatch.setenv("CERTFLEET_DNS_NAMESERVER_PORT", str(port))
        yield store


@pytest.fixture(autouse=True)
def fresh_provider_caches():
    DnsRecordProvider._zone_checked.clear()
    yield
    DnsRecordProvider._zone_checked.clear()


@pytest.fixture(params=["alidns", "huaweicloud"])
def fed_cloud(request, dns_server, monkeypatch):
    """Alidns or Huawei DNS, feeding the DNS server the provider's propagation check asks."""
    if request.param == "alidns":
        from emulators.alidns import AlidnsApi as Emulator
        emulator = Emulator({ALIDNS_KEY_ID: ALIDNS_SECRET}, feed=dns_server, seed_domains=ZONES)
        with EmulatorServer(emulator) as server:
            yield _alidns(server, monkeypatch)
    else:
        from emulators.huaweidns import HuaweiDnsApi as Emulator
        emulator = Emulator({HUAWEI_AK: HUAWEI_SK}, feed=dns_server, seed_zones=tuple(f"{z}." for z in ZONES))
        with EmulatorServer(emulator) as server:
            yield _huaweidns(server, monkeypatch)


def props(cloud, name="_dnsauth.docs.example.com", values=("token-1",), rtype="TXT", **extra):
    return {"provider": cloud.provider, "zone_ref": None, "region": cloud.region, "domain": "docs.example.com",
            "record_name": "docs.example.com", "name": name, "type": rtype, "values": list(values), "ttl": 60,
            "owner": OWNER, "propagation_timeout_seconds": 10, **extra}


def destroy(provider, outs):
    """`pulumi destroy`: a run that declares nothing (the create above was another run)."""
    DECLARED.clear()
    provider.delete("id", outs)


def current(cloud, name="_dnsauth.docs.example.com", rtype="TXT"):
    api = dns_apis.dns_api(cloud.provider, cloud.region)
    return api.read(api.find_zone(None, name, "test"), name, rtype, "test")


def served(store, name, rtype="TXT"):
    zone = max((z for z in ZONES if name.endswith("." + z)), key=len)
    return sorted(v.strip('"') for rrset in store.get_zone(zone)["rrsets"]
                  if rrset["name"].rstrip(".") == name and rrset["type"] == rtype for v in rrset["values"])


def test_create_writes_the_record_and_its_owner_then_waits_until_served(fed_cloud, dns_server):
    outs = DnsRecordProvider().create(props(fed_cloud, values=["token-2", "token-1"])).outs
    assert outs["owned"] is True and outs["served"] is True, outs["status_message"]
    assert outs["zone_name"] == "example.com" and outs["zone_id"] == fed_cloud.zone_id("example.com")
    assert served(dns_server, "_dnsauth.docs.example.com") == ["token-1", "token-2"]
    assert served(dns_server, "_certfleet-owner._dnsauth.docs.example.com") == [f"certfleet-owner={OWNER}"]
    assert "served by every name server" in outs["status_message"]


def test_the_longest_zone_is_found(fed_cloud, dns_server):
    outs = DnsRecordProvider().create(props(fed_cloud, name="_dnsauth.a.sub.example.com",
                                            domain="a.sub.example.com")).outs
    assert outs["zone_name"] == "sub.example.com" and outs["served"] is True


def test_a_record_someone_else_wrote_with_other_values_is_never_overwritten(fed_cloud):
    fed_cloud.raw_put("_dnsauth.docs.example.com", "TXT", ["theirs"])
    with pytest.raises(CertfleetError, match="certfleet never overwrites a record it did not write"):
        DnsRecordProvider().create(props(fed_cloud))
    assert current(fed_cloud).values == ("theirs",) and current(fed_cloud).owner is None


def test_a_record_another_stack_wrote_is_refused_naming_that_stack(fed_cloud):
    DnsRecordProvider().create(props(fed_cloud, owner="certfleet/other"))
    with pytest.raises(CertfleetError, match="certfleet stack certfleet/other wrote it"):
        DnsRecordProvider().create(props(fed_cloud, values=["mine"]))
    assert current(fed_cloud).values == ("token-1",)


def test_an_identical_record_is_used_never_owned_and_destroy_keeps_it(fed_cloud):
    fed_cloud.raw_put("_dnsauth.docs.example.com", "TXT", ["token-1"])
    provider = DnsRecordProvider()
    outs = provider.create(props(fed_cloud)).outs
    assert outs["owned"] is False and outs["served"] is True
    destroy(provider, outs)
    assert current(fed_cloud).values == ("token-1",)


def test_drift_seen_by_refresh_is_repaired_by_the_next_update(fed_cloud, dns_server):
    provider = DnsRecordProvider()
    outs = provider.create(props(fed_cloud)).outs
    api = dns_apis.dns_api(fed_cloud.provider, fed_cloud.region)
    zone = api.find_zone(None, "_dnsauth.docs.example.com", "test")
    api.write(zone, dns_apis.record_set("_dnsauth.docs.example.com", "TXT", 60, ["changed"], None), OWNER, "x",
              current(fed_cloud))  # out of band, keeping the owner record
    refreshed = provider.read("id", outs).outs
    assert refreshed["served_values"] == ["changed"]
    diff = provider.diff("id", refreshed, props(fed_cloud))
    assert diff.changes is True
    repaired = provider.update("id", refreshed, props(fed_cloud)).outs
    # certfleet's value is back; the one found instead stays (certfleet cannot tell it is not someone else's)
    assert repaired["served"] is True and served(dns_server, "_dnsauth.docs.example.com") == ["changed", "token-1"]
    assert provider.diff("id", provider.read("id", repaired).outs, props(fed_cloud)).changes is False


def test_a_record_deleted_out_of_band_is_written_again(fed_cloud, dns_server):
    provider = DnsRecordProvider()
    outs = provider.create(props(fed_cloud)).outs
    api = dns_apis.dns_api(fed_cloud.provider, fed_cloud.region)
    zone = api.find_zone(None, "_dnsauth.docs.example.com", "test")
    api.delete(zone, current(fed_cloud), "x")
    refreshed = provider.read("id", outs).outs
    assert refreshed["served_values"] == [] and refreshed["served"] is False
    assert provider.diff("id", refreshed, props(fed_cloud)).changes is True
    provider.update("id", refreshed, props(fed_cloud))
    assert served(dns_server, "_dnsauth.docs.example.com") == ["token-1"]


def test_no_values_any_more_removes_the_record_and_its_owner(fed_cloud, dns_server):
    """A CAS/SCM certificate was issued: its challenge is gone from the outputs, so the TXT record goes."""
    provider = DnsRecordProvider()
    outs = provider.create(props(fed_cloud)).outs
    news = {**props(fed_cloud, values=()), "name": None, "type": None}
    checked = provider.check(outs, news).inputs
    assert checked["name"] == "_dnsauth.docs.example.com"  # the same record, now to be removed
    assert provider.diff("id", outs, checked).replaces == []
    after = provider.update("id", outs, checked).outs
    assert current(fed_cloud) is None and after["owned"] is False
    assert served(dns_server, "_certfleet-owner._dnsauth.docs.example.com") == []


def test_destroy_removes_only_certfleets_records(fed_cloud, dns_server):
    fed_cloud.raw_put("_other.docs.example.com", "TXT", ["keep-me"])
    provider = DnsRecordProvider()
    outs = provider.create(props(fed_cloud)).outs
    destroy(provider, outs)
    assert current(fed_cloud) is None
    assert served(dns_server, "_certfleet-owner._dnsauth.docs.example.com") == []
    assert current(fed_cloud, "_other.docs.example.com").values == ("keep-me",)


def test_the_zone_written_out_where_it_was_found_is_an_update_not_a_replacement(fed_cloud):
    provider = DnsRecordProvider()
    outs = provider.create(props(fed_cloud)).outs
    diff = provider.diff("id", outs, props(fed_cloud, zone_ref=fed_cloud.zone_id("example.com")))
    assert diff.replaces == [] and diff.changes is True
    moved = provider.diff("id", outs, props(fed_cloud, zone_ref=fed_cloud.zone_id("sub.example.com")))
    assert moved.replaces == ["zone_ref"]  # another zone: a new record first, then this one's values go


def test_values_someone_else_added_stay_through_repair_cleanup_and_destroy(fed_cloud):
    provider = DnsRecordProvider()
    outs = provider.create(props(fed_cloud)).outs
    fed_cloud.raw_put("_dnsauth.docs.example.com", "TXT", ["token-1", "theirs"])  # e.g. a CAS order made by hand
    repaired = provider.update("id", provider.read("id", outs).outs, props(fed_cloud, values=["token-2"])).outs
    assert current(fed_cloud).values == ("theirs", "token-2") and repaired["written_values"] == ["token-2"]
    issued = provider.update("id", repaired, {**props(fed_cloud, values=[])}).outs  # the CA asks for nothing more
    assert current(fed_cloud).values == ("theirs",) and issued["owned"] is False
    again = provider.update("id", issued, props(fed_cloud, values=["token-3"]))  # a renewal asks again
    destroy(provider, again.outs)
    assert current(fed_cloud).values == ("theirs",)


def test_two_resources_of_the_stack_share_one_name(fed_cloud):
    """A CAS order and an SCM certificate for one name, both published in the same zone."""
    cas, scm = DnsRecordProvider(), DnsRecordProvider()
    cas_outs = cas.create(props(fed_cloud, values=["cas-token"])).outs
    scm_outs = scm.create(props(fed_cloud, values=["scm-token"])).outs
    assert current(fed_cloud).values == ("cas-token", "scm-token")
    cas.update("id", cas_outs, props(fed_cloud, values=[]))
    assert current(fed_cloud).values == ("scm-token",) and current(fed_cloud).owner == OWNER
    destroy(scm, scm_outs)
    assert current(fed_cloud) is None
    assert current(fed_cloud, "_certfleet-owner._dnsauth.docs.example.com") is None


def test_an_acm_cname_stays_while_its_certificate_stays(fed_cloud, dns_server):
    provider = DnsRecordProvider()
    cname = props(fed_cloud, name="_x1.docs.example.com", rtype="CNAME", values=["y.acm-validations.example.net"],
                  used_by=["shop"])
    outs = provider.create(cname).outs
    DECLARED.clear()
    note_declared("aws:AcmCertificate/name", "docs.example.com")  # `dns: false`: a certificate still covers it
    provider.delete("id", outs)
    assert current(fed_cloud, "_x1.docs.example.com", "CNAME").values == ("y.acm-validations.example.net",)
    assert current(fed_cloud, "_x1.docs.example.com", "CNAME").owner is None  # no longer certfleet's
    kept = provider.create({**cname, "name": "_x2.docs.example.com", "keep_with_certificate": True}).outs
    destroy(provider, kept)  # destroy, but the certificate is kept (adopted, onDestroy: keep)
    assert current(fed_cloud, "_x2.docs.example.com", "CNAME") is not None
    gone = provider.create({**cname, "name": "_x3.docs.example.com"}).outs
    destroy(provider, gone)  # destroy with the certificate
    assert current(fed_cloud, "_x3.docs.example.com", "CNAME") is None


def test_name_servers_that_cannot_be_asked_leave_it_unverified_without_a_loop(fed_cloud, monkeypatch):
    import socket
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setenv("CERTFLEET_DNS_RESOLVERS", f"127.0.0.1:{port}")  # nothing listens there any more
    provider = DnsRecordProvider()
    outs = provider.create(props(fed_cloud, propagation_timeout_seconds=0)).outs
    assert outs["served"] is None and "unverified" in outs["status_message"]
    assert provider.diff("id", outs, props(fed_cloud, propagation_timeout_seconds=0)).changes is False


def test_a_zone_deleted_out_of_band_reads_as_gone(fed_cloud):
    provider = DnsRecordProvider()
    outs = provider.create(props(fed_cloud)).outs
    if fed_cloud.provider == "alidns":
        fed_cloud.control.call("DELETE", "alidns/domains/example.com")
    else:
        fed_cloud.control.call("DELETE", f"huaweidns/zones/{fed_cloud.zone_id('example.com')}")
    assert provider.read("id", outs).outs["served_values"] == []
    destroy(provider, outs)  # nothing to delete: no error


def test_destroy_keeps_a_record_another_stack_took_over(fed_cloud):
    provider = DnsRecordProvider()
    outs = provider.create(props(fed_cloud)).outs
    api = dns_apis.dns_api(fed_cloud.provider, fed_cloud.region)
    zone = api.find_zone(None, "_dnsauth.docs.example.com", "test")
    api.write(zone, dns_apis.record_set("_dnsauth.docs.example.com", "TXT", 60, ["token-1"], None),
              "certfleet/other", "x", current(fed_cloud))
    destroy(provider, outs)
    assert current(fed_cloud).owner == "certfleet/other"


def test_preview_names_the_missing_permission(fed_cloud):
    fed_cloud.deny_listing()
    result = DnsRecordProvider().check({}, props(fed_cloud))
    assert len(result.failures) == 1 and result.failures[0].property == "zone_ref"
    assert fed_cloud.list_permission in result.failures[0].reason
    assert fed_cloud.denied_code in result.failures[0].reason
    assert not any(secret in result.failures[0].reason for secret in fed_cloud.secrets)


def test_preview_fails_for_a_zone_that_does_not_exist(fed_cloud):
    result = DnsRecordProvider().check({}, props(fed_cloud, zone_ref=fed_cloud.missing_ref))
    assert result.failures and fed_cloud.missing_code in result.failures[0].reason


def test_a_cname_with_two_targets_fails_at_check(fed_cloud):
    result = DnsRecordProvider().check({}, props(fed_cloud, name="_x.docs.example.com", rtype="CNAME",
                                                 values=["a.example.net", "b.example.net"]))
    assert any(f.property == "values" and "one CNAME" in f.reason for f in result.failures)


def test_route53_writes_owns_and_deletes_a_cname(route53_cloud, dns_server, monkeypatch):  # noqa: F811
    monkeypatch.setattr(record_module, "POLL_SECONDS", 0.01)
    provider = DnsRecordProvider()
    target = "_c9edd76ee4a0e2a74388032f3861cc50.ykybfrwcxw.acm-validations.aws."
    outs = provider.create(props(route53_cloud, name="_d930b28b.docs.example.com", rtype="CNAME",
                                 values=[target], propagation_timeout_seconds=0)).outs
    assert outs["owned"] is True and outs["zone_id"] == route53_cloud.zone_id("example.com")
    # No DNS server serves this emulator's zones here: recorded as not served, with the reason.
    assert outs["served"] is False and "not yet served" in outs["status_message"]
    found = current(route53_cloud, "_d930b28b.docs.example.com", "CNAME")
    assert found.values == (target.rstrip("."),) and found.owner == OWNER
    assert provider.diff("id", outs, props(route53_cloud, name="_d930b28b.docs.example.com", rtype="CNAME",
                                          values=[target])).changes is True  # not served: the next up waits again
    destroy(provider, outs)
    assert current(route53_cloud, "_d930b28b.docs.example.com", "CNAME") is None


def test_preview_reads_each_zone_once_however_many_records(route53_cloud):  # noqa: F811
    from components.aws import clients
    clients.reset_api_counts()
    provider = DnsRecordProvider()
    for i in range(30):
        inputs = {**props(route53_cloud, domain=f"host{i}.example.com"), "name": None, "values": None}
        result = provider.check({}, inputs)  # a new stack's preview: the CA has not said what yet
        assert result.failures == []
    counts = clients.api_counts()
    assert counts[("route53", "ListHostedZones")].calls == 1
    assert counts[("route53", "ListResourceRecordSets")].calls == 1


def test_an_entry_removed_while_another_sections_record_shares_the_name_takes_its_value_only(fed_cloud):
    """A CAS order's and an SCM certificate's records write one set; the CAS entry leaves the config while the SCM
    one is still declared (its check ran in this run): only the CAS value goes."""
    cas, scm = DnsRecordProvider(), DnsRecordProvider()
    cas_outs = cas.create(props(fed_cloud, values=["cas-token"], section="alicloud")).outs
    scm.create(props(fed_cloud, values=["scm-token"], section="huaweicloud"))
    DECLARED.clear()
    scm.check({}, props(fed_cloud, values=["scm-token"], section="huaweicloud"))  # the program still declares it
    cas.delete("id", cas_outs)
    assert current(fed_cloud).values == ("scm-token",)


def test_a_forced_replacement_keeps_the_record_for_its_new_half(fed_cloud):
    provider = DnsRecordProvider()
    DECLARED.clear()
    old = provider.create(props(fed_cloud)).outs
    provider.check({}, props(fed_cloud))        # `pulumi up --replace`: the same record declared again ...
    provider.create(props(fed_cloud))           # ... created again ...
    provider.delete("id", old)                  # ... then the old half deleted
    assert current(fed_cloud).values == ("token-1",) and current(fed_cloud).owner == OWNER
