"""`adopt` and `replaceAdopted` on the paid sections (CAS orders, SCM certificates): the config rules, the
entry-level destroy flags, and the purchase journal's exemption of entries that buy nothing."""

from __future__ import annotations

import pytest

from components.config import load_fleet
from components.errors import ConfigError
from components.fleet import buys

CONTACT = {"name": "Tom Zhang", "email": "tom.zhang@example.com", "phone": "13000000000"}
APPLICANT = {"name": "Zhang.San", "phone": "13800000000", "email": "ops@example.com"}


def cas_order(**fields):
    return {"productCode": "digicert-free-1-free", "domains": ["blog.example.cn"], **fields}


def scm_cert(**fields):
    return {"brand": "GEOTRUST", "type": "DV_SSL_CERT", "domainType": "SINGLE_DOMAIN",
            "domains": ["api.example.com"], "applicant": APPLICANT, **fields}


def cas(orders: dict, **section):
    return load_fleet({"alicloud": {"contact": CONTACT, **section, "orders": orders}}).alicloud


def scm(certificates: dict):
    return load_fleet({"huaweicloud": {"certificates": certificates}}).huaweicloud


def problems(load, *args, **kwargs) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        load(*args, **kwargs)
    return raised.value.problems


# --- CAS ---

def test_cas_adopt_takes_an_order_id_as_text():
    spec = cas({"blog": cas_order(adopt="20512345678")}).orders[0]
    assert (spec.adopt, spec.replace_adopted) == ("20512345678", False)
    assert cas({"blog": cas_order()}).orders[0].adopt is None


@pytest.mark.parametrize("bad", ["abc", "0123", "12 34", "", 20512345678, True])
def test_cas_adopt_must_be_digits_written_as_text(bad):
    [problem] = problems(cas, {"blog": cas_order(adopt=bad)})
    assert problem.startswith("certfleet:alicloud.orders.blog.adopt: ")


def test_cas_replace_adopted_needs_adopt_and_a_boolean():
    assert cas({"blog": cas_order(adopt="1", replaceAdopted=True)}).orders[0].replace_adopted is True
    [problem] = problems(cas, {"blog": cas_order(replaceAdopted=True)})
    assert problem == "certfleet:alicloud.orders.blog.replaceAdopted: applies only with adopt"
    [problem] = problems(cas, {"blog": cas_order(adopt="1", replaceAdopted="yes")})
    assert "replaceAdopted: must be true or false" in problem


def test_cas_one_order_is_adopted_by_one_entry():
    [problem] = problems(cas, {"a": cas_order(adopt="7"), "b": cas_order(adopt="7", domains=["b.example.cn"])})
    assert problem.startswith("certfleet:alicloud.orders.b.adopt: ") and "'a'" in problem


def test_cas_the_section_revoke_default_never_reaches_an_adopted_order():
    section = {"revokeOnDelete": True}
    adopted = cas({"blog": cas_order(adopt="7")}, **section).orders[0]
    assert (adopted.revoke_on_delete, adopted.entry_revoke_on_delete) == (False, False)
    own = cas({"blog": cas_order()}, **section).orders[0]
    assert (own.revoke_on_delete, own.entry_revoke_on_delete) == (True, False)
    explicit = cas({"blog": cas_order(adopt="7", revokeOnDelete=True)}, **section).orders[0]
    assert (explicit.revoke_on_delete, explicit.entry_revoke_on_delete) == (True, True)


# --- SCM ---

def test_scm_adopt_takes_a_certificate_id():
    spec = scm({"api": scm_cert(adopt="scs1554192131150", replaceAdopted=True)}).certificates[0]
    assert (spec.adopt, spec.replace_adopted, spec.on_destroy) == ("scs1554192131150", True, "keep")


@pytest.mark.parametrize("bad", ["scs123", "SCS1554192131150", "abc1554192131150", "scs15541921311501", 5])
def test_scm_adopt_must_have_the_id_shape(bad):
    [problem] = problems(scm, {"api": scm_cert(adopt=bad)})
    assert problem.startswith("certfleet:huaweicloud.certificates.api.adopt: ")


def test_scm_replace_adopted_needs_adopt():
    [problem] = problems(scm, {"api": scm_cert(replaceAdopted=True)})
    assert problem == "certfleet:huaweicloud.certificates.api.replaceAdopted: applies only with adopt"


def test_scm_one_certificate_is_adopted_by_one_entry():
    same = "scs1554192131150"
    [problem] = problems(scm, {"a": scm_cert(adopt=same), "b": scm_cert(adopt=same)})
    assert problem.startswith("certfleet:huaweicloud.certificates.b.adopt: ") and "'a'" in problem


# --- the purchase journal ---

def test_an_adopt_entry_is_no_purchase_unless_it_may_replace():
    orders = cas({"own": cas_order(domains=["own.example.cn"]), "kept": cas_order(adopt="7"),
                  "maybe": cas_order(adopt="8", replaceAdopted=True, domains=["m.example.cn"])}).orders
    assert {o.name: buys(o) for o in orders} == {"own": True, "kept": False, "maybe": True}
    certificates = scm({"own": scm_cert(), "kept": scm_cert(adopt="scs1554192131150")}).certificates
    assert {c.name: buys(c) for c in certificates} == {"own": True, "kept": False}


def test_an_adopt_entry_never_counts_as_buying_again_what_a_removed_entry_bought():
    from components.journal import rename_problems
    olds = {"entries": {"blog": "f1"}}
    news = {"entries": {"blog-adopted": "f1"}, "previous": {}}
    assert rename_problems("alicloud.orders", olds, news)  # an ordinary entry would buy it again
    # Adopting buys nothing, but may take over blog's own order, which blog's delete would revoke (review 14).
    [problem] = rename_problems("alicloud.orders", olds, {**news, "adopting": ["blog-adopted"]})
    assert "buys the same certificate" not in problem and "adopts an existing object by id" in problem
