"""Adopting a CAS order by id (`certfleet:alicloud.orders.<n>.adopt`): the provider's methods against the CAS
emulator through the official SDK. Orders are placed out of band with the SDK, as in the console; purchases
by certfleet are counted at the emulator (a fault rule on the Create calls that would fail any purchase and
counts its hits), and so are the plan's used units."""

from __future__ import annotations

import pytest

from components import dynamic
from components.alicloud import cas
from components.errors import CertfleetError
from components.journal import PurchaseJournalProvider, fingerprint
from tests.emulators.cas_scaffolding import describe, issue, make_csr, order_for_package, package_state
from tests.provider.test_cas_provider import (BOTH_LISTING_SHAPES, PLAN, FakeClock, clock, control,  # noqa: F401
                                              emulator, inputs, provider, publish, sdk, told)

DOMAIN = "blog.example.cn"


@pytest.fixture(autouse=True)
def fresh_run():
    dynamic.DECLARED.clear()
    yield
    dynamic.DECLARED.clear()


def count_purchases(control):
    """From here on any Create call fails and is counted at the emulator."""
    rules = [control.add_fault(action, status=500, times=None)
             for action in ("CreateCertificateForPackageRequest", "CreateCertificateWithCsrRequest")]

    def count() -> int:
        ids = {r["id"] for r in rules}
        return sum(f["hits"] for f in control.faults() if f["id"] in ids)
    return count


def adopt_inputs(order_id, **entry):
    props = inputs(adopt=str(order_id), **entry)
    return {**props, "journal": None}  # an adopt entry is not in the purchase journal (fleet.buys)


def test_adopting_a_pending_order_buys_nothing_and_shows_its_challenge(provider, control, sdk):
    order_id = order_for_package(sdk, DOMAIN, product_code=PLAN)
    used = package_state(sdk).used_count
    purchases = count_purchases(control)
    props = adopt_inputs(order_id)
    assert provider.check({}, props).failures == []
    created = provider.create(props)
    assert created.id == str(order_id)
    assert created.outs["adopted"] is True and created.outs["adopted_by_id"] is True
    assert created.outs["state"] == "domain_verify" and created.outs["challenge"]["type"] == "DNS"
    assert "adopted by id" in created.outs["status_message"]
    assert purchases() == 0 and package_state(sdk).used_count == used
    publish(control, order_id)
    read = provider.read(created.id, created.outs)
    assert read.outs["state"] == "certificate" and read.outs["private_key"]  # CAS made the key


def test_a_missing_order_fails_at_preview_naming_it(provider):
    [failure] = provider.check({}, adopt_inputs(987654321)).failures
    assert "987654321" in failure.reason and "does not exist" in failure.reason


def test_differences_are_refused_without_replace_adopted(provider, control, sdk):
    order_id = order_for_package(sdk, "www.example.cn", product_code="symantec-free-1-free")
    purchases = count_purchases(control)
    [failure] = provider.check({}, adopt_inputs(order_id)).failures
    assert str(order_id) in failure.reason and "order 'blog'" in failure.reason
    assert "productCode is 'symantec-free-1-free' in CAS" in failure.reason
    assert "domains is ['www.example.cn'] in CAS" in failure.reason
    with pytest.raises(CertfleetError, match="replaceAdopted"):
        provider.create(adopt_inputs(order_id))
    assert purchases() == 0


def test_an_issued_certificate_for_another_key_is_a_difference(provider, sdk, control):
    csr, _ = make_csr(DOMAIN)
    order_id = order_for_package(sdk, DOMAIN, product_code=PLAN, csr=csr)
    issue(sdk, control, order_id)
    [failure] = provider.check({}, adopt_inputs(order_id)).failures  # csr left out: CAS must hold the key
    assert "csr is" in failure.reason


def test_replace_adopted_buys_a_new_order_and_leaves_the_adopted_one(provider, control, sdk):
    order_id = order_for_package(sdk, DOMAIN, product_code="symantec-free-1-free")
    props = inputs(adopt=str(order_id), replaceAdopted=True)  # journalled: replaceAdopted may buy
    assert provider.check({}, props).failures == []
    created = provider.create(props)
    assert created.id != str(order_id) and created.outs["adopted"] is False
    assert describe(sdk, order_id).type == "domain_verify"


def test_destroy_keeps_an_adopted_order_pending_or_issued(provider, control, sdk, told):
    order_id = order_for_package(sdk, DOMAIN, product_code=PLAN)
    created = provider.create(adopt_inputs(order_id, revokeOnDelete=False))
    provider.delete(created.id, created.outs)  # certfleet's own pending order would be cancelled
    assert describe(sdk, order_id).type == "domain_verify"
    publish(control, order_id)
    issued = provider.read(created.id, created.outs).outs
    provider.delete(created.id, issued)
    assert describe(sdk, order_id).type == "certificate"
    assert "adopted it by id" in told[-1]


def test_the_section_default_never_revokes_an_adopted_order(provider, control, sdk):
    order_id = order_for_package(sdk, DOMAIN, product_code=PLAN)
    props = adopt_inputs(order_id, alicloud_extra={"revokeOnDelete": True})
    assert props["revoke_on_delete"] is False and "entry_revoke_on_delete" not in props
    created = provider.create(props)
    publish(control, order_id)
    issued = provider.read(created.id, created.outs).outs
    provider.delete(created.id, issued)
    assert describe(sdk, order_id).type == "certificate"


def test_the_entrys_revoke_on_delete_revokes_an_adopted_order(provider, control, sdk):
    order_id = order_for_package(sdk, DOMAIN, product_code=PLAN)
    props = adopt_inputs(order_id, revokeOnDelete=True)
    created = provider.create(props)
    publish(control, order_id)
    issued = provider.read(created.id, created.outs).outs
    provider.check({}, props)  # still declared: the old half of a replacement keeps it
    provider.delete(created.id, issued)
    assert describe(sdk, order_id).type == "certificate"
    dynamic.DECLARED.clear()  # a real destroy
    provider.delete(created.id, issued)
    assert describe(sdk, order_id).type != "certificate"


def test_removing_the_adopt_line_changes_nothing(provider, sdk):
    order_id = order_for_package(sdk, DOMAIN, product_code=PLAN)
    created = provider.create(adopt_inputs(order_id))
    without = {**inputs(), "journal": None}
    assert provider.diff(created.id, created.outs, without).changes is False
    updated = provider.update(created.id, created.outs, {**without, "issued_timeout_seconds": 5})
    assert updated.outs["adopted"] is True and updated.outs["adopted_by_id"] is True


def test_a_replacement_of_an_adopted_order_needs_replace_adopted(provider, sdk):
    order_id = order_for_package(sdk, DOMAIN, product_code=PLAN)
    created = provider.create(adopt_inputs(order_id))
    with pytest.raises(CertfleetError, match="replaceAdopted"):
        provider.diff(created.id, created.outs, adopt_inputs(order_id, productCode="symantec-free-1-free"))
    changed = adopt_inputs(order_id, productCode="symantec-free-1-free", replaceAdopted=True)
    assert provider.diff(created.id, created.outs, changed).replaces == ["product_code"]


def _journal_check(olds: dict, news: dict, previous=None) -> list[str]:
    """The orders journal's preview, built as components/fleet.AlicloudOrders builds it."""
    def props(entries: dict) -> dict:
        return {"section": "alicloud.orders", "previous": previous or {},
                "entries": {n: fingerprint(p, cas.REPLACE_KEYS) for n, p in entries.items()},
                "adopting": sorted(n for n, p in entries.items() if p.get("adopt_id") and not p.get("replace_adopted"))}
    return [f.reason for f in PurchaseJournalProvider().check(props(olds) if olds else {}, props(news)).failures]


def test_adopting_a_removed_entrys_own_order_fails_at_preview(provider, control, sdk):
    """Review 14: remove 'blog' (an order certfleet bought, revokeOnDelete) and add 'site' adopting blog's
    order by id, without previousNames: preview must refuse, or blog's delete revokes what 'site' stands for."""
    blog = inputs(name="blog", revokeOnDelete=True)
    created = provider.create(blog)
    publish(control, int(created.id))
    assert provider.read(created.id, {**blog, **created.outs}).outs["state"] == "certificate"
    dynamic.DECLARED.clear()  # the next run
    site = adopt_inputs(created.id, name="site")
    assert provider.check({}, site).failures == []  # CAS cannot tell: the order matches the entry
    [reason] = _journal_check({"blog": blog}, {"site": site})
    assert "alicloud.orders.site" in reason and "'blog'" in reason
    assert "previousNames: [blog]" in reason and "remove 'blog' in one `pulumi up`" in reason
    # The declared rename passes (blog's resource becomes site's: no delete runs).
    assert _journal_check({"blog": blog}, {"site": site}, previous={"site": ["blog"]}) == []


def test_remove_then_adopt_in_two_updates_keeps_the_order(provider, control, sdk):
    """The refusal's other fix: remove 'blog' (revokeOnDelete false) in one update, adopt in the next."""
    blog = inputs(name="blog")
    created = provider.create(blog)
    publish(control, int(created.id))
    issued = provider.read(created.id, {**blog, **created.outs}).outs
    other = inputs(name="other", domains=["other.example.cn"])
    assert _journal_check({"blog": blog, "other": other}, {"other": other}) == []  # update 1: remove
    dynamic.DECLARED.clear()
    provider.delete(created.id, issued)
    assert describe(sdk, int(created.id)).type == "certificate"
    dynamic.DECLARED.clear()
    site = adopt_inputs(created.id, name="site")
    assert _journal_check({"other": other}, {"other": other, "site": site}) == []  # update 2: adopt
    adopted = provider.create(site)
    assert adopted.id == created.id and adopted.outs["adopted_by_id"] is True


# --- what the order list shows: the primary name only (default) or every name; PAYED is live ---

ORDER_NAMES = (DOMAIN, "www.blog.example.cn")


@BOTH_LISTING_SHAPES
def test_an_issued_order_is_compared_by_its_certificates_names(provider, control, sdk):
    other = order_for_package(sdk, f"{DOMAIN},api.blog.example.cn", product_code=PLAN)  # same primary and count
    issue(sdk, control, other)
    [failure] = provider.check({}, adopt_inputs(other, domains=ORDER_NAMES)).failures
    assert "domains is ['blog.example.cn', 'api.blog.example.cn'] in CAS" in failure.reason
    same = order_for_package(sdk, ",".join(ORDER_NAMES), product_code=PLAN)
    issue(sdk, control, same)
    assert provider.check({}, adopt_inputs(same, domains=ORDER_NAMES)).failures == []


@BOTH_LISTING_SHAPES
def test_a_pending_order_is_compared_as_listed(provider, sdk, emulator):
    other = order_for_package(sdk, f"{DOMAIN},api.blog.example.cn", product_code=PLAN)
    failures = provider.check({}, adopt_inputs(other, domains=ORDER_NAMES)).failures
    if emulator.api.backend.settings["order_domain_style"] == "primary":
        assert failures == []  # listed as blog.example.cn (2 names): its SANs show once it is issued
    else:
        assert "api.blog.example.cn" in failures[0].reason
    three = order_for_package(sdk, f"{DOMAIN},a.blog.example.cn,b.blog.example.cn", product_code=PLAN)
    [failure] = provider.check({}, adopt_inputs(three, domains=ORDER_NAMES)).failures
    assert "domains is" in failure.reason  # DomainCount 3 (or the three names) differs in both shapes


def test_an_order_adopted_by_id_issued_for_other_names_is_recorded_as_names_mismatch(provider, control, sdk,
                                                                                    told):
    """Pending, it is compared on its primary name and DomainCount only; its certificate shows the rest: not
    the entry's names, so nothing is recorded, and even the entry's own revokeOnDelete never revokes it."""
    other = order_for_package(sdk, f"{DOMAIN},api.blog.example.cn", product_code=PLAN)  # listed as DOMAIN, 2
    created = provider.create(adopt_inputs(other, domains=ORDER_NAMES, revokeOnDelete=True))
    assert created.id == str(other) and created.outs["adopted_by_id"] is True
    publish(control, other)
    read = provider.read(created.id, created.outs).outs
    assert read["state"] == "names_mismatch" and read["certificate_pem"] is None and read["cert_id"] is None
    assert "never revokes it" in read["status_message"] and "replaceAdopted" in read["status_message"]
    provider.delete(created.id, read)  # a real destroy, the entry's own revokeOnDelete: true
    assert describe(sdk, other).type == "certificate"
    assert "not for the entry's names" in told[-1]


def test_an_issued_order_with_a_free_extra_name_is_no_difference(provider, control, sdk):
    control.call("POST", "cas/settings", {"free_extra_name": True})  # CAS adds www.blog.example.cn
    order_id = order_for_package(sdk, DOMAIN, product_code=PLAN)
    issue(sdk, control, order_id)
    assert provider.check({}, adopt_inputs(order_id)).failures == []
    created = provider.create(adopt_inputs(order_id))
    assert created.outs["state"] == "certificate" and created.outs["certificate_pem"]


def test_adopting_a_payed_order_waits_for_the_user_to_apply_for_it(provider, control, sdk):
    order_id = order_for_package(sdk, DOMAIN, product_code=PLAN)
    sdk.cancel_order_request(cas._models().CancelOrderRequestRequest(order_id=order_id))  # bought, not applied
    purchases = count_purchases(control)
    props = adopt_inputs(order_id)
    assert provider.check({}, props).failures == []  # PAYED is live: it holds a plan unit
    created = provider.create(props)
    assert created.id == str(order_id) and created.outs["state"] == "payed"
    assert "apply for the certificate of this order in the CAS console" in created.outs["status_message"]
    assert provider.diff(created.id, created.outs, props).changes is False  # never a new order for it
    control.call("POST", f"cas/orders/{order_id}/advance", {"to": "domain_verify"})  # the console step
    read = provider.read(created.id, created.outs).outs
    assert read["state"] == "domain_verify" and read["challenge"]["type"] == "DNS"
    assert purchases() == 0
