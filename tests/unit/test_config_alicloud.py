"""certfleet:alicloud config rules (seeds 001 and 004): every error names its config path."""

from __future__ import annotations

import pytest

from components.config import load_fleet
from components.errors import ConfigError
from tests.emulators.cas_scaffolding import make_csr, make_key

CONTACT = {"name": "Tom Zhang", "email": "tom.zhang@example.com", "phone": "13000000000"}
PATH = "certfleet:alicloud.orders.blog"


def load(order: dict, **alicloud):
    return load_fleet({"alicloud": {**alicloud, "orders": {"blog": order}}}).alicloud


def problems(order: dict, **alicloud) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        load(order, **alicloud)
    return raised.value.problems


def order(**fields):
    return {"productCode": "digicert-free-1-free", "domains": ["blog.example.cn"], **fields}


def test_minimal_order_defaults():
    spec = load(order()).orders[0]
    assert (spec.api, spec.validation, spec.csr, spec.revoke_on_delete) == ("forPackage", "DNS", "cas", False)
    assert spec.domains == ("blog.example.cn",)


def test_seed_004_fields_are_all_accepted():
    spec = load(order(productCode="geotrust-ov-1-personal", domains=["Shop.Example.cn", "www.shop.example.cn"],
                      validation="FILE", contact=CONTACT, companyName="Example Ltd", tags={"env": "prod"})).orders[0]
    assert spec.domains == ("shop.example.cn", "www.shop.example.cn")
    assert spec.company_name == "Example Ltd" and spec.tags == (("env", "prod"),)
    assert spec.contact.email == "tom.zhang@example.com"


def test_seed_001_fields_with_an_own_csr():
    csr_pem, _ = make_csr("shop.example.cn", ["www.shop.example.cn"])
    spec = load({"productCode": "symantec-dv-1-starter", "api": "withCsr", "csr": {"pem": csr_pem},
                 "validation": "DNS", "contact": CONTACT, "tags": {"team": "web"}}).orders[0]
    assert spec.csr == "pem" and spec.csr_pem == csr_pem
    assert spec.domains == ("shop.example.cn", "www.shop.example.cn")  # from the CSR, CN first


def test_product_code_is_required_and_checked():
    assert problems({"domains": ["blog.example.cn"]}) == [f"{PATH}.productCode: is required (Alibaba's sources "
                                                          f"disagree on the default plan)"]
    assert problems(order(productCode="letsencrypt"))[0].startswith(f"{PATH}.productCode: must be one of")


def test_with_csr_accepts_dv_plans_only():
    [problem] = problems(order(productCode="globalsign-ov-1-personal", api="withCsr", csr="generate"),
                         contact=CONTACT)
    assert problem.startswith(f"{PATH}.productCode: must be one of digicert-free-1-free")


def test_with_csr_needs_a_csr_and_a_full_contact():
    found = problems(order(api="withCsr", contact={"name": "Tom"}))
    assert f"{PATH}.csr: CreateCertificateWithCsrRequest needs a CSR: 'generate' or {{pem: ...}}" in found
    assert any(p.startswith(f"{PATH}.contact.email: is required") for p in found)
    assert any(p.startswith(f"{PATH}.contact.phone: is required") for p in found)


def test_contact_defaults_come_from_the_section():
    spec = load(order(api="withCsr", csr="generate", contact={"phone": "+86 139 0000 0000"}), contact=CONTACT)
    assert spec.orders[0].contact.name == "Tom Zhang" and spec.orders[0].contact.phone == "+86 139 0000 0000"


def test_at_most_five_names():
    [problem] = problems(order(domains=[f"n{i}.example.cn" for i in range(6)]))
    assert problem == f"{PATH}.domains: an order has 1 to 5 names, got 6"


def test_wildcard_and_single_names_never_mix():
    [problem] = problems(order(domains=["*.example.cn", "example.cn"]))
    assert problem == f"{PATH}.domains: CAS does not mix wildcard and single names in one order: make them all one kind"


def test_each_name_is_a_dns_name_with_its_index():
    assert problems(order(domains=["ok.example.cn", "bad..example.cn"]))[0].startswith(f"{PATH}.domains[1]:")


def test_wildcards_need_dns_validation():
    assert problems(order(domains=["*.example.cn"], productCode="geotrust-dv-w-starter", validation="FILE")) == [
        f"{PATH}.validation: wildcard names can only be validated by DNS"]


def test_domains_required_without_a_csr_pem():
    assert problems({"productCode": "digicert-free-1-free"})[0].startswith(f"{PATH}.domains: is required")


def test_csr_rules():
    small, _ = make_csr("a.example.cn", key=make_key("RSA", 1024))
    assert problems(order(domains=None, csr={"pem": small})) == [
        f"{PATH}.csr.pem: has a 1024-bit RSA key; at least 2048 bits are required"]
    no_cn, _ = make_csr(None, ["a.example.cn"])
    assert any("has no CN" in p for p in problems(order(domains=None, csr={"pem": no_cn})))
    assert problems(order(csr={"pem": "-----BEGIN CERTIFICATE REQUEST-----\nnope\n"}))[0].startswith(
        f"{PATH}.csr.pem: is not a PEM certificate signing request")
    assert problems(order(csr="make-one"))[0].startswith(f"{PATH}.csr: must be 'generate' or {{pem")


def test_ecc_csr_is_accepted_and_domains_must_match_it():
    ecc, _ = make_csr("a.example.cn", key=make_key("EC"))
    assert load(order(domains=None, csr={"pem": ecc})).orders[0].domains == ("a.example.cn",)
    assert problems(order(domains=["b.example.cn"], csr={"pem": ecc}))[0].startswith(
        f"{PATH}.domains: CAS takes the names from the CSR (a.example.cn)")


def test_key_algorithm_only_with_generate():
    assert problems(order(keyAlgorithm="EC_P256")) == [f"{PATH}.keyAlgorithm: applies only with csr: generate"]
    assert load(order(csr="generate", keyAlgorithm="EC_P384")).orders[0].key_algorithm == "EC_P384"


def test_company_name_only_for_ov_plans():
    assert problems(order(companyName="Example Ltd")) == [
        f"{PATH}.companyName: applies only to OV/EV product codes ordered with api: forPackage"]


def test_contact_formats():
    found = problems(order(contact={"email": "not-an-email", "phone": "call me"}))
    assert [p.split(": ")[0] for p in found] == [f"{PATH}.contact.email", f"{PATH}.contact.phone"]


def test_tags_rules():
    assert problems(order(tags={"aliyun-x": "v"}))[0].startswith(f"{PATH}.tags.aliyun-x: tag keys")
    assert problems(order(tags={f"k{i}": "v" for i in range(21)}))[0].startswith(f"{PATH}.tags: at most 20")


def test_revoke_on_delete_default_and_override():
    assert load(order(), revokeOnDelete=True).orders[0].revoke_on_delete is True
    assert load(order(revokeOnDelete=False), revokeOnDelete=True).orders[0].revoke_on_delete is False
    assert problems(order(revokeOnDelete="yes")) == [f"{PATH}.revokeOnDelete: must be true or false, got 'yes'"]


def test_a_name_belongs_to_one_order():
    with pytest.raises(ConfigError) as raised:
        load_fleet({"alicloud": {"orders": {"a": order(), "b": order()}}})
    assert raised.value.problems == ["certfleet:alicloud.orders.b: 'blog.example.cn' is already claimed by "
                                     "certfleet:alicloud.orders.a; a name belongs to one order"]


def test_unknown_keys_and_bad_names():
    found = problems(order(domain=["x.example.cn"]))
    assert found[0].startswith(f"{PATH}.domain: unknown key; did you mean 'domains'?")
    with pytest.raises(ConfigError, match="order names must be"):
        load_fleet({"alicloud": {"orders": {"Blog": order()}}})


def test_wildcard_on_a_single_name_plan_warns():
    fleet = load_fleet({"alicloud": {"orders": {"blog": order(domains=["*.example.cn"])}}})
    assert fleet.warnings and "-w- plan" in fleet.warnings[0]


# --- full matches and blank text --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["blog.example.cn\n", "blog\n.example.cn", "blog.example.cn\t"])
def test_domains_with_control_characters_are_refused(name):
    [problem] = problems(order(domains=["ok.example.cn", name]))
    assert problem.startswith(f"{PATH}.domains[1]: ") and "control characters" in problem


@pytest.mark.parametrize("tags,path,rule", [
    ({"env\n": "prod"}, "tags.env\n", "tag keys"),
    ({"env\t": "prod"}, "tags.env\t", "tag keys"),
    ({"env": "prod\n"}, "tags.env", "tag values"),
    ({"env": "pr\tod"}, "tags.env", "tag values"),
])
def test_tags_refuse_control_characters(tags, path, rule):
    [problem] = problems(order(tags=tags))
    assert problem.startswith(f"{PATH}.{path}: {rule} ") and "without control characters (tab, newline)" in problem
    with pytest.raises(ConfigError, match=r"certfleet:alicloud\.tags\."):
        load(order(), tags=tags)


@pytest.mark.parametrize("contact,key,rule", [
    ({"name": ""}, "name", "must not be empty or blank, got ''"),
    ({"name": "   "}, "name", "must not be empty or blank, got '   '"),
    ({"name": "Tom\nZhang"}, "name", "must be one line of text without control characters"),
    ({"email": "tom@example.cn\n"}, "email", "must be one line of text"),
    ({"email": "tom@example.cn "}, "email", "must be an email address, got 'tom@example.cn '"),
    ({"phone": "13000000000\n"}, "phone", "must be one line of text"),
    ({"phone": "+86 139 0000 0000x"}, "phone", "must be a phone number"),
])
def test_contact_fields_must_be_whole_values(contact, key, rule):
    for found, path in ((problems(order(contact=contact)), f"{PATH}.contact"),
                        (problems(order(), contact=contact), "certfleet:alicloud.contact")):
        assert len(found) == 1 and found[0].startswith(f"{path}.{key}: {rule}"), found


def test_a_bad_contact_field_is_not_also_reported_missing():
    found = problems(order(api="withCsr", csr="generate", contact={**CONTACT, "email": "tom\n@example.cn"}))
    assert [p.split(": ")[0] for p in found] == [f"{PATH}.contact.email"]


@pytest.mark.parametrize("company,rule", [
    ("", "must not be empty or blank"),
    (" \t ", "must not be empty or blank"),
    ("Example Ltd\n", "must be one line of text"),
])
def test_company_name_must_not_be_blank(company, rule):
    assert problems(order(productCode="geotrust-ov-1-personal", companyName=company))[0].startswith(
        f"{PATH}.companyName: {rule}")


# --- listingLagSeconds and previousNames ---------------------------------------------------------------------

def test_listing_lag_seconds_default_and_range():
    assert load(order()).listing_lag_seconds == 60
    assert load(order(), listingLagSeconds=0).listing_lag_seconds == 0
    assert load(order(), listingLagSeconds=3600).listing_lag_seconds == 3600
    for bad in (3601, -1, "60", True, 1.5):
        assert problems(order(), listingLagSeconds=bad) == [
            f"certfleet:alicloud.listingLagSeconds: must be a whole number of seconds from 0 to 3600, got {bad!r}"]


def test_previous_names_of_orders():
    assert load(order(previousNames=["blog-old", "weblog"])).orders[0].previous_names == ("blog-old", "weblog")
    assert load(order()).orders[0].previous_names == ()
    assert problems(order(previousNames=["blog"])) == [f"{PATH}.previousNames[0]: 'blog' is this order's own name"]
    assert problems(order(previousNames=["Blog"]))[0].startswith(f"{PATH}.previousNames[0]: order names must be")


def test_a_previous_name_belongs_to_one_order_and_is_no_current_order():
    second = order(domains=["shop.example.cn"])
    with pytest.raises(ConfigError) as raised:
        load_fleet({"alicloud": {"orders": {"a": order(previousNames=["old"]),
                                            "b": {**second, "previousNames": ["old", "a"]}}}})
    assert raised.value.problems == [
        "certfleet:alicloud.orders.b.previousNames[0]: 'old' is already claimed by certfleet:alicloud.orders.a; "
        "a previous name belongs to one order",
        "certfleet:alicloud.orders.b.previousNames[1]: 'a' is the name of a current order, certfleet:alicloud.orders.a"]
