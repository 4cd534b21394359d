"""The `dns` block of a section and of an entry (components/dns/config.py), read by each section's reader."""

from __future__ import annotations

import pytest

from components.config import load_fleet
from components.errors import ConfigError

ACM = {"shop": {"domain": "shop.example.com", "sans": ["*.shop.example.com"]},
       "blog": {"domain": "blog.example.org"}}
CAS_ORDER = {"productCode": "digicert-free-1-free", "domains": ["docs.example.cn"], "validation": "DNS"}
SCM_CERT = {"brand": "GEOTRUST", "type": "DV_SSL_CERT", "domainType": "SINGLE_DOMAIN", "years": 1,
            "domains": ["portal.example.cn"], "validation": "DNS",
            "applicant": {"name": "Li.Lei", "phone": "13800000000", "email": "pki@example.cn"}}


def problems(raw: dict) -> list[str]:
    with pytest.raises(ConfigError) as err:
        load_fleet(raw)
    return err.value.problems


def test_section_block_applies_to_every_entry_and_an_entry_replaces_keys_or_opts_out():
    fleet = load_fleet({"aws": {"dns": {"provider": "route53", "ttl": 120}, "certificates": {
        **ACM, "blog": {"domain": "blog.example.org", "dns": {"zone": "Z0123456789ABC"}},
        "manual": {"domain": "manual.example.com", "dns": False}}}})
    by_name = {c.name: c.dns for c in fleet.aws.certificates}
    assert by_name["shop"].provider == "route53" and by_name["shop"].zone is None and by_name["shop"].ttl == 120
    assert by_name["blog"].zone == "Z0123456789ABC" and by_name["blog"].ttl == 120  # the rest inherited
    assert by_name["manual"] is None
    assert by_name["shop"].propagation_timeout_seconds == 120 and by_name["shop"].validation_timeout_seconds == 300


def test_no_block_means_no_dns_as_before():
    fleet = load_fleet({"aws": {"certificates": ACM}})
    assert all(c.dns is None for c in fleet.aws.certificates)


def test_an_entry_naming_another_provider_inherits_nothing_of_the_section():
    fleet = load_fleet({"aws": {"dns": {"provider": "route53", "zone": "Z0123456789ABC", "ttl": 30},
                                "certificates": {"shop": {"domain": "shop.example.cn",
                                                          "dns": {"provider": "alidns"}}}}})
    spec = fleet.aws.certificates[0].dns
    assert (spec.provider, spec.zone, spec.ttl) == ("alidns", None, 600)


def test_provider_is_required_without_a_section_block():
    assert problems({"aws": {"certificates": {"shop": {"domain": "shop.example.com", "dns": {"zone": "Z1"}}}}}) == [
        "certfleet:aws.certificates.shop.dns.provider: is required (one of route53, alidns, huaweicloud): the "
        "section has no dns block to take it from"]


@pytest.mark.parametrize("block, path, rule", [
    ({"provider": "cloudflare"}, "certfleet:aws.dns.provider", "must be one of route53, alidns, huaweicloud"),
    ({"provider": "route53", "zone": "/hostedzone/Z1"}, "certfleet:aws.dns.zone", "hosted zone id"),
    ({"provider": "route53", "ttl": 0}, "certfleet:aws.dns.ttl", "from 1 to"),
    ({"provider": "route53", "region": "us-east-1"}, "certfleet:aws.dns.region", "only for provider huaweicloud"),
    ({"provider": "huaweicloud"}, "certfleet:aws.dns.region", "is required for provider huaweicloud"),
    ({"provider": "route53", "propagationTimeoutSeconds": 7200}, "certfleet:aws.dns.propagationTimeoutSeconds",
     "from 0 to 3600"),
    ({"provider": "route53", "zoen": "Z1"}, "certfleet:aws.dns.zoen", "did you mean 'zone'"),
    ({"provider": "alidns", "zone": "*.example.cn"}, "certfleet:aws.dns.zone", "domain name"),
    ("route53", "certfleet:aws.dns", "must be an object"),
    (False, "certfleet:aws.dns", "`dns: false` is for an entry only"),
])
def test_bad_blocks_name_their_path_and_rule(block, path, rule):
    found = problems({"aws": {"dns": block, "certificates": ACM}})
    assert any(p.startswith(path + ":") and rule in p for p in found), found


def test_an_alidns_zone_must_contain_the_entry_names():
    found = problems({"aws": {"dns": {"provider": "alidns", "zone": "example.cn"}, "certificates": ACM}})
    assert "certfleet:aws.certificates.blog (the section's dns.zone): 'blog.example.org' is not inside the " \
           "Alibaba Cloud DNS domain 'example.cn'" in found


def test_file_validated_entries_take_no_block_and_ignore_the_sections():
    fleet = load_fleet({"alicloud": {"dns": {"provider": "alidns"}, "orders": {
        "docs": CAS_ORDER, "shop": {**CAS_ORDER, "domains": ["shop.example.cn"], "validation": "FILE"}}}})
    assert {o.name: o.dns and o.dns.provider for o in fleet.alicloud.orders} == {"docs": "alidns", "shop": None}
    found = problems({"alicloud": {"orders": {
        "shop": {**CAS_ORDER, "validation": "FILE", "dns": {"provider": "alidns"}}}}})
    assert found == ["certfleet:alicloud.orders.shop.dns: only for entries validated through DNS (validation: DNS); "
                     "remove it, or use `dns: false`"]


def test_cas_instance_entries_and_scm_certificates_take_the_block():
    fleet = load_fleet({
        "alicloud": {"dns": {"provider": "alidns", "zone": "example.cn"}, "orders": {
            "login": {"instance": "cas-cn-abc123", "domains": ["login.example.cn"]}}},
        "huaweicloud": {"region": "cn-east-3", "dns": {"provider": "huaweicloud"}, "certificates": {
            "portal": SCM_CERT, "mail": {**SCM_CERT, "domains": ["mail.example.cn"], "validation": "EMAIL"}}}})
    assert fleet.alicloud.instance_orders[0].dns.zone == "example.cn"
    scm = {c.name: c.dns for c in fleet.huaweicloud.certificates}
    assert scm["portal"].region == "cn-east-3"  # Huawei DNS in the section's own region by default
    assert scm["mail"] is None                  # e-mail validation: nothing to publish


def test_entries_sharing_a_record_must_write_it_in_one_place():
    found = problems({"aws": {"dns": {"provider": "route53"}, "certificates": {
        "apex": {"domain": "shop.example.com"},
        "wild": {"domain": "*.shop.example.com", "dns": {"zone": "Z0123456789ABC"}}}}})
    assert found == ["certfleet:aws.certificates.wild.dns: 'shop.example.com' shares its validation record with "
                     "certfleet:aws.certificates.apex, which writes it with dns route53 zone (found automatically) "
                     "(ttl 60): entries sharing a record must give it the same provider, zone, region and ttl"]
    fleet = load_fleet({"aws": {"dns": {"provider": "route53"}, "certificates": {
        "apex": {"domain": "shop.example.com"}, "wild": {"domain": "*.shop.example.com"}}}})
    assert len(fleet.aws.certificates) == 2


def test_a_name_validated_in_two_sections_is_written_in_one_place():
    found = problems({
        "alicloud": {"dns": {"provider": "alidns", "zone": "example.cn"}, "orders": {"docs": CAS_ORDER}},
        "huaweicloud": {"dns": {"provider": "huaweicloud"}, "certificates": {
            "docs": {**SCM_CERT, "domains": ["docs.example.cn"]}}}})
    assert len(found) == 1 and found[0].startswith("certfleet:huaweicloud.certificates.docs.dns: 'docs.example.cn' "
                                                   "shares its validation record with certfleet:alicloud.orders.docs")
