"""certfleet:alicloud.orders entries with `instance:` (components/alicloud/instance_config.py): each rule names
its config path."""

from __future__ import annotations

import pytest

from components.config import load_fleet
from components.errors import ConfigError
from tests.emulators.cas_scaffolding import make_csr

PATH = "certfleet:alicloud.orders.web"
INSTANCE = "cas-cn-68n1mm16ab12"


def entry(**fields):
    return {"instance": INSTANCE, "domains": ["web.example.cn"], **fields}


def load(orders: dict, **alicloud):
    return load_fleet({"alicloud": {**alicloud, "orders": orders}}).alicloud


def problems(orders: dict, **alicloud) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        load(orders, **alicloud)
    return raised.value.problems


def test_minimal_instance_entry_defaults():
    alicloud = load({"web": entry()})
    [spec] = alicloud.instance_orders
    assert alicloud.orders == ()
    assert (spec.instance_id, spec.domains, spec.validation, spec.csr, spec.key_algorithm, spec.revoke_on_delete) \
        == (INSTANCE, ("web.example.cn",), "DNS", "cas", "RSA_2048", False)


def test_every_supported_field():
    spec = load({"web": entry(validation="FILE", csr="generate", keyAlgorithm="EC_P256", tags={"team": "web"},
                              revokeOnDelete=True, contactIds=[1, 2], companyId=7)},
                tags={"env": "prod"}).instance_orders[0]
    assert (spec.validation, spec.csr, spec.key_algorithm, spec.revoke_on_delete) == ("FILE", "generate", "EC_P256",
                                                                                      True)
    assert spec.tags == (("env", "prod"), ("team", "web")) and spec.contact_ids == (1, 2) and spec.company_id == 7


@pytest.mark.parametrize("instance_id", ["cas-cn-68n1mm16ab12", "cas_dv-cn-rp643r82d0i1", "cas-ivauto-hqito6"])
def test_documented_instance_id_shapes(instance_id):
    assert load({"web": entry(instance=instance_id)}).instance_orders[0].instance_id == instance_id


@pytest.mark.parametrize("instance_id", ["cas-upload-abc123", "i-abc", "CAS-CN-X", "cas-cn-", "12345", ""])
def test_bad_instance_ids(instance_id):
    [problem] = problems({"web": entry(instance=instance_id)})
    assert problem.startswith(f"{PATH}.instance:")


@pytest.mark.parametrize("key,value,rule", [
    ("productCode", "digicert-free-1-free", "carries the product it was bought as"),
    ("api", "withCsr", "applied for through the instance"),
    ("contact", {"name": "Tom"}, "`contactIds`"),
    ("companyName", "Example Ltd", "`companyId`"),
    ("adopt", "123", "naming the instance already says"),
    ("replaceAdopted", True, "goes with `adopt`"),
])
def test_order_keys_the_instance_path_refuses(key, value, rule):
    [problem] = problems({"web": entry(**{key: value})})
    assert problem.startswith(f"{PATH}.{key}: not allowed with `instance`") and rule in problem


def test_unknown_key_is_named():
    [problem] = problems({"web": entry(domain=["x.example.cn"])})
    assert problem.startswith(f"{PATH}.domain: unknown key")


def test_two_entries_may_not_name_the_same_instance():
    [problem] = problems({"a": entry(), "b": entry(domains=["other.example.cn"])})
    assert problem == (f"certfleet:alicloud.orders.b.instance: instance {INSTANCE} is named by 'a' already: one "
                       f"instance, one entry")


def test_a_name_belongs_to_one_entry_across_orders_and_instances():
    [problem] = problems({"web": entry(),
                          "plan": {"productCode": "digicert-free-1-free", "domains": ["web.example.cn"]}})
    assert "'web.example.cn' is already claimed by" in problem


def test_domains_required_without_csr_and_taken_from_a_csr():
    assert problems({"web": {"instance": INSTANCE}}) == [f"{PATH}.domains: is required (or give csr.pem, whose CN "
                                                         f"and SANs name the certificate)"]
    csr, _ = make_csr("a.example.cn", ["a.example.cn", "b.example.cn"])
    spec = load({"web": {"instance": INSTANCE, "csr": {"pem": csr}}}).instance_orders[0]
    assert spec.domains == ("a.example.cn", "b.example.cn") and spec.csr == "pem"


def test_key_algorithm_rules():
    [problem] = problems({"web": entry(keyAlgorithm="EC_P384")})
    assert problem.startswith(f"{PATH}.keyAlgorithm:")
    csr, _ = make_csr("web.example.cn")
    [problem] = problems({"web": {"instance": INSTANCE, "csr": {"pem": csr}, "keyAlgorithm": "RSA_2048"}})
    assert problem == f"{PATH}.keyAlgorithm: does not apply with csr.pem: the CSR's key decides"


def test_wildcards_need_dns_validation():
    assert problems({"web": entry(domains=["*.example.cn"], validation="FILE")}) == \
        [f"{PATH}.validation: wildcard names can only be validated by DNS"]


def test_instance_tag_rules():
    [problem] = problems({"web": entry(tags={"k" * 65: "v"})})
    assert problem.startswith(f"{PATH}.tags.{'k' * 65}: instance tags: keys 1-64")
    [problem] = problems({"web": entry(tags={"site": "http://example.cn"})})
    assert problem.startswith(f"{PATH}.tags.site: instance tags")
    [problem] = problems({"web": entry(tags={f"t{n}": "v" for n in range(18)})})
    assert problem.startswith(f"{PATH}.tags: at most 17 tags on an instance")


@pytest.mark.parametrize("value", [[], [0], ["1"], 5, [True]])
def test_contact_ids_are_positive_ids(value):
    [problem] = problems({"web": entry(contactIds=value)})
    assert problem.startswith(f"{PATH}.contactIds: must be a non-empty list of ids")


@pytest.mark.parametrize("value", [0, -1, "7", True])
def test_company_id_is_a_positive_id(value):
    [problem] = problems({"web": entry(companyId=value)})
    assert problem.startswith(f"{PATH}.companyId: must be the positive id")


def test_revoke_on_delete_is_a_flag_and_takes_the_section_default():
    [problem] = problems({"web": entry(revokeOnDelete="yes")})
    assert problem.startswith(f"{PATH}.revokeOnDelete: must be true or false")
    assert load({"web": entry()}, revokeOnDelete=True).instance_orders[0].revoke_on_delete


def test_previous_names_rename_an_instance_entry():
    spec = load({"site": entry(previousNames=["web"])}).instance_orders[0]
    assert spec.name == "site" and spec.previous_names == ("web",)
