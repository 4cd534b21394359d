"""The CAS order provider's methods, called directly against the CAS emulator over HTTP through the official
SDK. Faults (lost responses, throttling, server errors) are injected by the emulator's control API."""

from __future__ import annotations

import hashlib
import json
import time

import pytest

from components import dynamic, keys
from components.alicloud import adopt as cas_adopt, candidates, cas, client as cas_api, purchase as cas_purchase
from components.alicloud import release as cas_release
from components.alicloud.cas import REPLACE_KEYS, CasOrderProvider, order_inputs
from components.journal import fingerprint
from components.packing import SPEC, unpacked
from components.config import load_fleet
from components.errors import CertfleetError, CloudError
from emulators.cas import CasApi
from emulators.core import EmulatorServer
from emulators.core.testing import ControlClient
from tests.emulators.cas_scaffolding import (ACCESS_KEY_ID, ACCESS_KEY_SECRET, certfleet_cas, list_orders,
                                             make_cas_client, make_csr, order_for_package, package_state)

CONTACT = {"name": "Tom Zhang", "email": "tom.zhang@example.com", "phone": "13000000000"}
PLAN = "digicert-free-1-free"
OTHER_KEY_ID, OTHER_KEY_SECRET = "LTAI5tEMULATORTEST02", "other-account-secret"  # another account's key


class FakeClock:
    """Time advances only when the provider sleeps; every sleep is recorded."""

    def __init__(self):
        self.t = 0.0
        self.sleeps: list[float] = []
        self.on_sleep = None  # e.g. the emulator's advance_clock

    def now(self):
        return self.t

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.t += seconds
        if self.on_sleep:
            self.on_sleep(seconds)


def this_run(at=None):
    """The purchase journal's stamp of a purchase journalled in this run (components/journal.py)."""
    return {"fingerprint": "0" * 32, "run": dynamic.RUN_ID, "at": time.time() if at is None else at}


def interrupted_run(at=None):
    """The stamp of a purchase an earlier run journalled (and maybe placed) before it was interrupted."""
    return {"fingerprint": "0" * 32, "run": "an-interrupted-run", "at": time.time() if at is None else at}


def inputs(name="blog", domains=("blog.example.cn",), alicloud_extra=None, journal=None, **order):
    raw = {"alicloud": {"contact": CONTACT, **(alicloud_extra or {}),
                        "orders": {name: {"productCode": PLAN, **({"domains": list(domains)} if domains else {}),
                                          **order}}}}
    fleet = load_fleet(raw)
    # fleet.py adds the journal stamp; by default a purchase journalled in this run.
    return stamped({**order_inputs(fleet.alicloud.orders[0], fleet.alicloud), "journal": journal or this_run()})


def stamped(props):
    """`props` with a stamp that journalled this very purchase (journal.stamp_refusal): the fingerprint fleet.py
    computes for it. Call again after changing what the purchase buys (e.g. a renewal generation)."""
    stamp = props.get("journal")
    return {**props, "journal": {**stamp, "fingerprint": fingerprint(props, REPLACE_KEYS)} if stamp else stamp}


# ListUserCertificateOrder's `Domain`: the primary name only (the emulator's default, as every published sample
# shows) or every name, CN first. Tests of the look before buying run against both (indirect parameter).
ORDER_DOMAIN_STYLES = ("primary", "all")
BOTH_LISTING_SHAPES = pytest.mark.parametrize("emulator", ORDER_DOMAIN_STYLES, indirect=True)


@pytest.fixture
def emulator(monkeypatch, request):
    style = getattr(request, "param", "primary")
    monkeypatch.setattr(dynamic.random, "uniform", lambda low, high: high)  # deterministic backoff
    with certfleet_cas(monkeypatch, CasApi({ACCESS_KEY_ID: ACCESS_KEY_SECRET, OTHER_KEY_ID: OTHER_KEY_SECRET},
                                           order_domain_style=style)) as server:
        yield server


@pytest.fixture
def control(emulator):
    return ControlClient(emulator.url)


@pytest.fixture
def sdk(emulator):
    return make_cas_client(emulator)


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def provider(emulator, clock, monkeypatch):
    # Each test is a run of its own: nothing declared or kept yet, and a fresh shared wait window.
    monkeypatch.setattr(dynamic, "RUN_WAITS", dynamic.WaitWindow())
    p = CasOrderProvider()
    p.clock = clock
    return p


@pytest.fixture
def told(monkeypatch):
    """What the provider tells the user (pulumi.log.warn in a real run)."""
    messages: list[str] = []
    for module in (cas, cas_adopt, cas_purchase, cas_release):  # the provider's steps live in these modules
        monkeypatch.setattr(module, "tell_user", messages.append)
    return messages


def publish(control, order_id):
    control.call("POST", f"cas/orders/{order_id}/publish")


def shift_clocks(provider, control, seconds):
    """Time passes for CAS (the emulator's clock) and for the provider's wall clock alike."""
    control.advance_clock(seconds)
    base = provider.wall_clock
    provider.wall_clock = lambda: base() + seconds


# --- create / read ---

def test_domains_only_order_is_pending_with_its_dns_challenge(provider, control, sdk):
    created = provider.create(inputs())
    outs = created.outs
    assert outs["state"] == "domain_verify"
    emulated = control.call("GET", f"cas/orders/{created.id}")["describe"]
    assert outs["challenge"] == {"type": "DNS", "record_type": "TXT", "name": "_dnsauth.blog.example.cn",
                                 "value": emulated["RecordValue"]}
    assert "_dnsauth.blog.example.cn" in outs["status_message"]
    assert outs["certificate_pem"] is None and outs["private_key"] is None
    assert package_state(sdk, PLAN).used_count == 1

    publish(control, created.id)
    read = provider.read(created.id, outs)
    assert read.id == created.id and read.outs["state"] == "certificate"
    assert read.outs["certificate_pem"].startswith("-----BEGIN CERTIFICATE-----")
    assert read.outs["not_after"] and read.outs["cert_id"]
    # CAS made the key: it comes back once issued, and it matches the certificate.
    assert keys.certificate_matches_key(read.outs["certificate_pem"], read.outs["private_key"])
    assert "destroy keeps it" in read.outs["status_message"]
    assert read.inputs["domains"] == ["blog.example.cn"] and "private_key" not in read.inputs


def test_generated_csr_with_file_validation(provider, control):
    created = provider.create(inputs(csr="generate", validation="FILE", keyAlgorithm="EC_P256"))
    outs = created.outs
    assert outs["challenge"]["type"] == "FILE"
    assert outs["challenge"]["url"] == "http://blog.example.cn/.well-known/pki-validation/fileauth.txt"
    assert outs["challenge"]["content"]
    assert "PRIVATE KEY" in outs["private_key"] and "CERTIFICATE REQUEST" in outs["csr"]
    publish(control, created.id)
    issued = provider.read(created.id, outs).outs
    assert issued["private_key"] == outs["private_key"]  # certfleet's key, kept across reads
    assert keys.certificate_matches_key(issued["certificate_pem"], issued["private_key"])


def test_own_csr_with_the_with_csr_api(provider, control):
    csr_pem, key = make_csr("shop.example.cn", ["www.shop.example.cn"])
    # If the provider used ForPackage, this fault would fail the order.
    control.add_fault("CreateCertificateForPackageRequest", status=500, times=None)
    created = provider.create(inputs(name="shop", domains=None, api="withCsr", csr={"pem": csr_pem},
                                     productCode="symantec-dv-1-starter"))
    assert created.outs["domains"] == ["shop.example.cn", "www.shop.example.cn"]
    assert created.outs["private_key"] is None and created.outs["csr"] == csr_pem
    publish(control, created.id)
    issued = provider.read(created.id, created.outs).outs
    assert issued["state"] == "certificate" and issued["private_key"] is None
    from cryptography.hazmat.primitives import serialization
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    assert keys.certificate_matches_key(issued["certificate_pem"], key_pem)


def test_issued_timeout_waits_for_the_certificate(provider, control, sdk):
    control.call("POST", "cas/settings", {"validation_wait": 30, "review_wait": 30})
    created = provider.create(inputs(alicloud_extra={"issuedTimeoutSeconds": 10}))
    assert created.outs["state"] == "domain_verify"  # not published: the bounded wait ran out, no error
    publish(control, created.id)
    control.advance_clock(31)
    assert provider.read(created.id, created.outs).outs["state"] == "process"
    control.advance_clock(31)
    assert provider.read(created.id, created.outs).outs["state"] == "certificate"


def test_read_of_a_vanished_order_removes_it(provider, control, sdk):
    created = provider.create(inputs())
    provider.delete(created.id, created.outs)
    assert provider.read(created.id, created.outs).id == ""


# --- never a second order ---

@BOTH_LISTING_SHAPES
def test_lost_response_adopts_the_order_instead_of_buying_again(provider, control, sdk):
    control.add_fault("CreateCertificateForPackageRequest", drop_response=True)
    created = provider.create(inputs())
    orders = list_orders(sdk, keyword="blog.example.cn").certificate_order_list
    assert [o.order_id for o in orders] == [int(created.id)]
    assert package_state(sdk, PLAN).used_count == 1
    assert created.outs["state"] == "domain_verify" and created.outs["challenge"]["type"] == "DNS"
    # Found in a list, not answered: certfleet cannot prove it placed it, so destroy never cancels it.
    assert created.outs["adopted"] is True


@BOTH_LISTING_SHAPES
def test_lost_response_with_a_generated_key_keeps_that_key(provider, control, sdk):
    control.add_fault("CreateCertificateForPackageRequest", drop_response=True)
    created = provider.create(inputs(csr="generate"))
    publish(control, created.id)
    issued = provider.read(created.id, created.outs).outs
    assert keys.certificate_matches_key(issued["certificate_pem"], issued["private_key"])
    assert package_state(sdk, PLAN).used_count == 1


@BOTH_LISTING_SHAPES
def test_order_from_an_interrupted_run_is_adopted(provider, sdk):
    journal = interrupted_run()
    earlier = order_for_package(sdk, "blog.example.cn", product_code=PLAN)  # placed, then the run died
    created = provider.create(inputs(journal=journal))
    assert created.id == str(earlier) and created.outs["adopted"] is True
    assert package_state(sdk, PLAN).used_count == 1


@BOTH_LISTING_SHAPES
def test_orders_for_other_names_or_plans_are_not_adopted(provider, sdk):
    other_plan = order_for_package(sdk, "blog.example.cn", product_code="symantec-free-1-free")
    created = provider.create(inputs(journal=interrupted_run()))  # another plan: never this purchase's
    assert created.id != str(other_plan) and package_state(sdk, PLAN).used_count == 1
    # Other names (listed, or DomainCount 2) bought before the stamp. (Since the stamp, after an interrupted
    # run, they stop the purchase: test_cas_listing.py.)
    other_names = order_for_package(sdk, "blog.example.cn,www.blog.example.cn", product_code=PLAN)
    again = provider.create(inputs(journal=interrupted_run(at=time.time() + 10 * 60)))
    assert again.id not in (str(other_names), str(other_plan), created.id)
    assert package_state(sdk, PLAN).used_count == 3


@BOTH_LISTING_SHAPES
def test_failed_orders_are_not_adopted(provider, control, sdk):
    journal = interrupted_run()
    failed = order_for_package(sdk, "blog.example.cn", product_code=PLAN)
    control.call("POST", f"cas/orders/{failed}/fail")
    created = provider.create(inputs(journal=journal))
    assert created.id != str(failed)


@BOTH_LISTING_SHAPES
def test_order_issued_before_its_state_was_saved_is_adopted(provider, control, sdk):
    journal = interrupted_run()
    first = provider.create(inputs(journal=journal))  # the engine dies before saving this
    publish(control, first.id)  # the CA issues it meanwhile
    second = provider.create(inputs(journal=journal))  # the next run: the journal stamp is the first run's
    assert second.id == first.id and second.outs["state"] == "certificate"
    assert second.outs["adopted"] is True and "never revoked" in second.outs["status_message"]
    assert keys.certificate_matches_key(second.outs["certificate_pem"], second.outs["private_key"])
    assert package_state(sdk, PLAN).used_count == 1


def test_order_issued_while_create_waited_is_adopted(provider, control, sdk):
    # issuedTimeoutSeconds: the first create returns an issued order, and its state is then lost.
    journal = interrupted_run()
    first = provider.create(inputs(alicloud_extra={"issuedTimeoutSeconds": 60}, journal=journal))
    publish(control, first.id)
    assert provider.read(first.id, first.outs).outs["state"] == "certificate"
    second = provider.create(inputs(alicloud_extra={"issuedTimeoutSeconds": 60}, journal=journal))
    assert second.id == first.id and second.outs["adopted"] is True
    assert package_state(sdk, PLAN).used_count == 1


@BOTH_LISTING_SHAPES
def test_issued_order_with_a_lost_generated_key_refuses_to_buy_again(provider, control, sdk):
    journal = interrupted_run()
    first = provider.create(inputs(csr="generate", journal=journal))
    publish(control, first.id)
    with pytest.raises(CertfleetError, match=f"order {first.id} .*ISSUED") as raised:
        provider.create(inputs(csr="generate", journal=journal))
    message = str(raised.value)
    # Never tell the user to revoke (the certificate may be in production use); say what to do instead.
    assert "revoke" not in message.lower()
    assert "interrupted run" in message and "second paid order" in message and "console" in message
    assert "journalled" in message and "remove order 'blog'" in message and "add it back" in message
    assert "PRIVATE KEY" not in message
    assert package_state(sdk, PLAN).used_count == 1


def test_generated_key_replacing_an_issued_order_with_another_key_kind_buys_a_new_one(provider, control, sdk):
    journal = interrupted_run()
    first = provider.create(inputs(csr="generate", journal=journal))  # RSA_2048
    publish(control, first.id)
    outs = provider.read(first.id, first.outs).outs
    provider.delete(first.id, outs)  # keyAlgorithm replaces: the issued old order is kept
    cas_made = order_for_package(sdk, "blog.example.cn", product_code=PLAN)  # CAS makes its key: not a
    publish(control, cas_made)                                              # generate run's order either
    # The replacing create's run is interrupted: the next one looks at both, bought since the stamp.
    second = provider.create(inputs(csr="generate", keyAlgorithm="EC_P256", journal=journal))
    assert second.id not in (first.id, str(cas_made))
    publish(control, second.id)
    issued = provider.read(second.id, second.outs).outs
    assert keys.certificate_matches_key(issued["certificate_pem"], issued["private_key"])
    assert package_state(sdk, PLAN).used_count == 3


def test_generated_key_and_an_issued_order_bought_before_the_journal_buys_a_new_one(provider, control, sdk):
    first = provider.create(inputs(csr="generate"))
    publish(control, first.id)
    # The entry is removed, then added again a day later (journalled anew); that run is interrupted too.
    shift_clocks(provider, control, 24 * 3600)
    second = provider.create(inputs(csr="generate", journal=interrupted_run(at=provider.wall_clock())))
    assert second.id != first.id and second.outs["adopted"] is False
    assert package_state(sdk, PLAN).used_count == 2


@BOTH_LISTING_SHAPES
def test_interrupted_run_with_a_lost_generated_key_refuses_to_buy_again(provider, sdk):
    journal = interrupted_run()
    earlier = order_for_package(sdk, "blog.example.cn", product_code=PLAN)
    with pytest.raises(CertfleetError, match=f"order {earlier}") as raised:
        provider.create(inputs(csr="generate", journal=journal))
    assert "PRIVATE KEY" not in str(raised.value) and "revoke" not in str(raised.value).lower()
    # It may be another stack's order with the same primary name: the message hedges.
    assert "if it is yours, cancel and delete it" in str(raised.value) and "if it is not" in str(raised.value)
    assert package_state(sdk, PLAN).used_count == 1


@BOTH_LISTING_SHAPES
def test_lost_response_finds_the_order_even_when_the_order_list_lags(provider, control, clock, sdk):
    control.call("POST", "cas/settings", {"list_lag": 10})
    clock.on_sleep = control.advance_clock  # the emulator's time passes with the provider's waits
    control.add_fault("CreateCertificateForPackageRequest", drop_response=True)
    created = provider.create(inputs())
    assert [o.order_id for o in list_orders(sdk, keyword="blog.example.cn").certificate_order_list] == [
        int(created.id)]
    assert package_state(sdk, PLAN).used_count == 1


def test_lost_response_gives_up_after_a_bounded_look(provider, control, clock, sdk):
    control.call("POST", "cas/settings", {"list_lag": 3600})  # never listed within the look
    control.add_fault("CreateCertificateForPackageRequest", drop_response=True)
    with pytest.raises(CloudError, match="cas.CreateCertificateForPackageRequest"):
        provider.create(inputs())
    assert cas.LOOK_AGAIN_SECONDS <= clock.t <= cas.LOOK_AGAIN_SECONDS + cas.POLL_SECONDS
    assert package_state(sdk, PLAN).used_count == 1  # bought once, never twice


def test_slow_create_answer_is_waited_for(provider, control, sdk):
    # Longer than the SDK's default 10 s read timeout; the order list never shows the order, so only a
    # longer read timeout for Create gets its answer.
    control.call("POST", "cas/settings", {"list_lag": 3600})
    control.add_fault("CreateCertificateForPackageRequest", delay=10.5)
    created = provider.create(inputs())
    assert created.outs["state"] == "domain_verify"
    assert package_state(sdk, PLAN).used_count == 1


def test_server_error_on_create_without_an_order_fails_naming_the_call(provider, control, sdk):
    control.add_fault("CreateCertificateForPackageRequest", status=500, times=None)
    with pytest.raises(CloudError) as raised:
        provider.create(inputs())
    assert raised.value.code == "InternalError"
    assert "cas.CreateCertificateForPackageRequest" in str(raised.value) and "order 'blog'" in str(raised.value)
    assert package_state(sdk, PLAN).used_count == 0


def test_create_never_fails_once_the_order_exists(provider, control, sdk):
    control.add_fault("DescribeCertificateState", status=403, code="Forbidden.RAM", times=1)
    created = provider.create(inputs())
    assert created.outs["state"] == "unknown" and "Forbidden.RAM" in created.outs["status_message"]
    assert provider.read(created.id, created.outs).outs["state"] == "domain_verify"
    assert package_state(sdk, PLAN).used_count == 1


# --- retries ---

def test_throttling_honours_retry_after(provider, control, clock, sdk):
    control.add_fault("CreateCertificateForPackageRequest", status=400, retry_after=3, times=2)
    created = provider.create(inputs())
    assert created.outs["state"] == "domain_verify"
    assert clock.sleeps[:2] == [3.0, 3.0]  # the server's x-acs-retry-after (ms) beats the backoff
    assert package_state(sdk, PLAN).used_count == 1


def test_throttling_on_429_is_retried_for_create(provider, control, clock, sdk):
    control.add_fault("CreateCertificateForPackageRequest", status=429, times=1)
    assert provider.create(inputs()).outs["state"] == "domain_verify"
    assert package_state(sdk, PLAN).used_count == 1


def test_server_error_with_retry_after_is_not_resent_for_create(provider, control, clock, sdk):
    # The SDK raises ThrottlingException for any status with x-acs-retry-after: a 503 may have placed the
    # order, so Create is not sent again; the list is looked at instead (and shows nothing here).
    control.add_fault("CreateCertificateForPackageRequest", status=503, retry_after=1, times=1)
    with pytest.raises(CloudError, match="ServiceUnavailable"):
        provider.create(inputs())
    assert package_state(sdk, PLAN).used_count == 0


def test_server_errors_are_retried_for_reads_but_bounded(provider, control, clock):
    created = provider.create(inputs())
    control.add_fault("DescribeCertificateState", status=503, times=2)
    assert provider.read(created.id, created.outs).outs["state"] == "domain_verify"
    control.add_fault("DescribeCertificateState", status=503, times=None)
    with pytest.raises(CloudError, match="ServiceUnavailable"):
        provider.read(created.id, created.outs)
    assert len(clock.sleeps) == 2 + dynamic.MAX_ATTEMPTS - 1


# --- delete ---

def test_delete_cancels_a_pending_order_and_returns_the_unit(provider, control, sdk):
    created = provider.create(inputs())
    provider.delete(created.id, created.outs)
    assert provider.read(created.id, created.outs).id == ""  # cancelled, then deleted
    assert package_state(sdk, PLAN).used_count == 0


def test_delete_removes_a_failed_order(provider, control, sdk):
    created = provider.create(inputs())
    control.call("POST", f"cas/orders/{created.id}/fail")
    outs = provider.read(created.id, created.outs).outs
    assert outs["state"] == "verify_fail" and "places a new one" in outs["status_message"]
    provider.delete(created.id, outs)
    assert provider.read(created.id, outs).id == ""


def test_delete_keeps_an_issued_certificate_by_default(provider, control):
    created = provider.create(inputs())
    publish(control, created.id)
    outs = provider.read(created.id, created.outs).outs
    provider.delete(created.id, outs)
    assert control.call("GET", f"cas/orders/{created.id}")["status"] == "ISSUED"


def test_delete_revokes_when_asked(provider, control):
    created = provider.create(inputs(revokeOnDelete=True))
    publish(control, created.id)
    outs = provider.read(created.id, created.outs).outs
    assert "destroy revokes it" in outs["status_message"]
    provider.delete(created.id, outs)
    assert control.call("GET", f"cas/orders/{created.id}")["status"] == "REVOKED"


# --- check (preview) and diff ---

def next_run():
    """A new run's provider process: the plan is asked again."""
    cas_purchase.PLAN_UNITS.reset()


def test_quota_shortfall_fails_at_preview(provider, control, sdk):
    assert provider.check({}, inputs()).failures == []
    next_run()
    control.call("POST", "cas/packages", {"product_code": PLAN, "total_count": 0})
    failures = provider.check({}, inputs()).failures
    assert [f.property for f in failures] == ["product_code"] and "no unit left" in failures[0].reason
    next_run()
    control.call("POST", "cas/packages", {"product_code": PLAN, "total_count": None})
    assert "no resource plan" in provider.check({}, inputs()).failures[0].reason


def test_the_plan_is_asked_once_per_run_and_each_new_order_takes_a_unit(provider, control):
    control.call("POST", "cas/packages", {"product_code": PLAN, "total_count": 2})
    control.call("DELETE", "calls")
    first, second, third = (inputs(name=f"site-{i}", domains=[f"site{i}.example.com"]) for i in range(3))
    assert provider.check({}, first).failures == [] and provider.check({}, second).failures == []
    assert provider.check({}, first).failures == []      # checked again: takes no second unit
    failures = provider.check({}, third).failures
    assert [f.property for f in failures] == ["product_code"]
    assert "no unit left for this order (0 of 2 used; this run orders 3 of it)" in failures[0].reason
    assert control.call("GET", "calls")["operations"]["DescribePackageState"] == {"ok": 1}


def test_an_order_an_interrupted_run_journalled_takes_no_unit_at_preview(provider, control):
    control.call("POST", "cas/packages", {"product_code": PLAN, "total_count": 2})
    earlier = interrupted_run()   # it may have placed the order: then it is in the plan's `used` units
    maybe_placed = [inputs(name=f"site-{i}", domains=[f"site{i}.example.com"], journal=earlier) for i in range(3)]
    assert all(provider.check({}, props).failures == [] for props in maybe_placed)
    assert provider.check({}, inputs()).failures == []                  # a new one: 1 of 2 units


def test_quota_is_not_checked_for_an_existing_order(provider, control):
    created = provider.create(inputs())
    control.call("POST", "cas/packages", {"product_code": PLAN, "total_count": 1})
    assert provider.check(created.outs, inputs()).failures == []


def test_preview_without_credentials_skips_the_quota_check(provider, control, monkeypatch):
    control.call("POST", "cas/packages", {"product_code": PLAN, "total_count": 0})
    monkeypatch.delenv(cas_api.ENV_ACCESS_KEY_ID)
    assert provider.check({}, inputs()).failures == []


def test_diff_replaces_delete_first_and_replaces_dead_orders(provider):
    olds = {**inputs(), "state": "domain_verify"}
    assert provider.diff("1", olds, inputs()).changes is False
    changed = provider.diff("1", olds, inputs(validation="FILE"))
    assert changed.replaces == ["validation"] and changed.delete_before_replace is True
    in_place = provider.diff("1", olds, inputs(revokeOnDelete=True))
    assert in_place.replaces == [] and in_place.changes is None
    dead = provider.diff("1", {**olds, "state": "verify_fail"}, inputs())
    assert dead.changes is True and dead.replaces == ["state"]


def test_purchase_only_inputs_change_an_issued_order_in_place(provider, control, sdk):
    created = provider.create(inputs())
    publish(control, created.id)
    issued = provider.read(created.id, created.outs).outs
    news = {**inputs(alicloud_extra={"contact": {**CONTACT, "name": "Li Wei"}, "tags": {"team": "web"}},
                     validation="FILE"), "company_name": "Example Ltd"}
    changed = provider.diff(created.id, issued, news)
    assert changed.changes is None and changed.replaces == []
    control.call("POST", "cas/packages", {"product_code": PLAN, "total_count": 1})  # no unit left
    assert provider.check(issued, news).failures == []  # nothing is bought, so no quota check
    updated = provider.update(created.id, issued, news).outs
    assert updated["contact"]["name"] == "Li Wei" and updated["tags"] == {"team": "web"}
    assert updated["state"] == "certificate" and updated["private_key"] == issued["private_key"]
    assert package_state(sdk, PLAN).used_count == 1


def test_purchase_only_inputs_change_a_pending_order_in_place_but_validation_replaces(provider):
    olds = {**inputs(), "state": "domain_verify"}
    news = inputs(alicloud_extra={"contact": {**CONTACT, "name": "Li Wei"}, "tags": {"team": "web"}})
    assert provider.diff("1", olds, news).replaces == []
    assert provider.diff("1", olds, inputs(validation="FILE")).replaces == ["validation"]


def test_unknow_order_is_never_replaced_nor_touched(provider, control, sdk):
    created = provider.create(inputs(revokeOnDelete=True))
    publish(control, created.id)
    provider.delete(created.id, provider.read(created.id, created.outs).outs)  # revoked: CAS says "unknow"
    outs = provider.read(created.id, created.outs).outs
    assert outs["state"] == "unknow" and "console" in outs["status_message"]
    assert provider.diff(created.id, outs, inputs(revokeOnDelete=True)).changes is False
    assert provider.diff(created.id, outs, inputs(domains=["www.blog.example.cn"])).changes is False
    provider.delete(created.id, outs)  # kept, with a warning
    assert control.call("GET", f"cas/orders/{created.id}")["status"] == "REVOKED"


def test_revoke_on_delete_may_change_together_with_a_replacement(provider, control, told):
    # Defect: a revokeOnDelete change was refused with a replacement, as the old order's delete could revoke.
    # A replacement never revokes now, so the change goes through and the old certificate stays valid.
    created = provider.create(inputs(revokeOnDelete=True))
    publish(control, created.id)
    olds = provider.read(created.id, created.outs).outs
    news = inputs(revokeOnDelete=False, domains=["www.blog.example.cn"])
    provider.check(olds, news)
    changed = provider.diff(created.id, olds, news)
    assert changed.replaces == ["domains"] and changed.delete_before_replace is True
    provider.delete(created.id, olds)  # the engine deletes with the OLD props: revokeOnDelete true
    assert control.call("GET", f"cas/orders/{created.id}")["status"] == "ISSUED"
    # A dead order is replaced whatever revokeOnDelete says (its delete never revokes).
    dead = provider.diff("1", {**olds, "state": "verify_fail"}, inputs(revokeOnDelete=False))
    assert dead.replaces == ["state"]


def test_order_resources_always_delete_before_replacing(monkeypatch):
    # `pulumi up --replace` does not call diff: only the resource option makes it delete first.
    import pulumi
    from pulumi.dynamic import Resource
    captured = {}
    monkeypatch.setattr(Resource, "__init__", lambda self, provider, name, props, opts=None: captured.update(
        opts=opts, props=props))
    fleet = load_fleet({"alicloud": {"contact": CONTACT, "orders": {"blog": {"productCode": PLAN,
                                                                               "domains": ["blog.example.cn"]}}}})
    stamp = this_run()
    cas.CasOrder("blog", fleet.alicloud.orders[0], fleet.alicloud, stamp,
                 pulumi.ResourceOptions(delete_before_replace=False))
    assert captured["opts"].delete_before_replace is True
    assert captured["opts"].additional_secret_outputs == ["private_key"]
    # The journal stamp (from fleet.py), the look's length and former names travel with the order.
    props = unpacked(captured["props"])   # one JSON property (components/packing.py)
    assert props["journal"] == stamp and props["previous_names"] == []
    assert props["listing_lag_seconds"] == fleet.alicloud.listing_lag_seconds
    assert "private_key" in captured["props"] and SPEC in captured["props"]   # the key: top level, a secret
    assert hasattr(cas.CasOrder, "owner")   # an output the program reads (from `spec`)


def test_replacement_deletes_the_old_order_before_buying_the_new_one(provider, control, sdk):
    old = provider.create(inputs())
    provider.delete(old.id, old.outs)
    new = provider.create(inputs())
    assert new.id != old.id
    assert provider.read(old.id, old.outs).id == ""
    assert provider.read(new.id, new.outs).outs["state"] == "domain_verify"
    assert [o.order_id for o in list_orders(sdk, keyword="blog.example.cn").certificate_order_list] == [
        int(new.id)]
    assert package_state(sdk, PLAN).used_count == 1


def test_certificate_that_does_not_parse_never_fails_the_create(provider, control, clock, sdk, monkeypatch):
    def broken(pem):
        raise ValueError("unable to load certificate")
    monkeypatch.setattr(keys, "certificate_not_after", broken)
    published = []

    def publish_once(seconds):  # the DNS record appears while create waits for issuance
        if not published:
            published.append(list_orders(sdk, keyword="blog.example.cn").certificate_order_list[0].order_id)
            publish(control, published[0])
    clock.on_sleep = publish_once
    created = provider.create(inputs(alicloud_extra={"issuedTimeoutSeconds": 60}))
    assert created.id == str(published[0]) and created.outs["state"] == "unknown"
    assert "unable to load certificate" in created.outs["status_message"]
    assert package_state(sdk, PLAN).used_count == 1


def test_client_config_repr_hides_secrets():
    config = cas_api.Config(access_key_id="AKID", access_key_secret="s3cret", security_token="t0ken",
                            endpoint="cas.aliyuncs.com", protocol="https")
    assert "AKID" in repr(config) and "s3cret" not in repr(config) and "t0ken" not in repr(config)


def test_listed_orders_match_on_the_primary_name_plan_and_count():
    both = ["a.example.com", "b.example.com"]
    # Every name listed (CN first): the set must be the entry's, its primary first.
    assert cas.may_be_these_names("a.example.com,b.example.com", both)
    assert cas.may_be_these_names("A.example.com, b.example.com", both, 2)
    assert not cas.may_be_these_names("b.example.com,a.example.com", both)
    assert not cas.may_be_these_names("a.example.com,c.example.com", both)
    assert not cas.may_be_these_names("a.example.com,b.example.com,c.example.com", both)
    # The primary name only (every published sample): a candidate, unless DomainCount says otherwise.
    assert cas.may_be_these_names("a.example.com", both)
    assert cas.may_be_these_names("a.example.com", both, 2)
    assert not cas.may_be_these_names("a.example.com", both, 1)
    assert not cas.may_be_these_names("a.example.com,b.example.com", both, 3)
    assert not cas.may_be_these_names("b.example.com", both)
    assert not cas.may_be_these_names("", both) and not cas.may_be_these_names(None, both)


# --- adopting issued orders (look before you buy, but only what is this resource's) ---

def _fresh_csr(common_name="shop.example.cn", sans=("www.shop.example.cn",)):
    """A CSR with a key of its own (make_csr alone reuses one key per algorithm)."""
    from cryptography.hazmat.primitives.asymmetric import ec
    return make_csr(common_name, list(sans), key=ec.generate_private_key(ec.SECP256R1()))


def _own_csr_inputs(csr_pem, **extra):
    return inputs(name="shop", domains=None, api="withCsr", csr={"pem": csr_pem}, **extra)


@BOTH_LISTING_SHAPES
def test_rotating_the_csr_of_an_issued_order_buys_a_new_order_for_the_new_key(provider, control, sdk):
    csr_a, _ = _fresh_csr()
    csr_b, key_b = _fresh_csr()
    created = provider.create(_own_csr_inputs(csr_a))
    publish(control, created.id)
    outs = provider.read(created.id, created.outs).outs
    assert outs["state"] == "certificate"
    new = _own_csr_inputs(csr_b)
    assert provider.diff(created.id, outs, new).replaces == ["csr_pem"]
    provider.delete(created.id, outs)  # delete before replace: the issued old order is kept
    replacement = provider.create(new)
    assert replacement.id != created.id and replacement.outs["adopted"] is False
    publish(control, replacement.id)
    issued = provider.read(replacement.id, replacement.outs).outs
    assert keys.certificate_matches_key(issued["certificate_pem"], csr_b)
    assert not keys.certificate_matches_key(issued["certificate_pem"], csr_a)
    assert package_state(sdk, PLAN).used_count == 2


@BOTH_LISTING_SHAPES
def test_issued_order_with_a_foreign_key_is_not_adopted(provider, control, sdk):
    journal = interrupted_run()
    foreign_csr, _ = _fresh_csr()
    own_csr, _ = _fresh_csr()
    foreign = order_for_package(sdk, None, csr=foreign_csr, product_code=PLAN)  # e.g. another stack's
    publish(control, foreign)
    assert control.call("GET", f"cas/orders/{foreign}")["status"] == "ISSUED"
    created = provider.create(_own_csr_inputs(own_csr, journal=journal))
    assert created.id != str(foreign) and created.outs["adopted"] is False
    assert package_state(sdk, PLAN).used_count == 2


@BOTH_LISTING_SHAPES
def test_issued_order_with_the_same_key_is_adopted(provider, control, sdk):
    journal = interrupted_run()
    csr_pem, _ = _fresh_csr()
    first = provider.create(_own_csr_inputs(csr_pem, journal=journal))  # the engine dies before saving this
    publish(control, first.id)
    second = provider.create(_own_csr_inputs(csr_pem, journal=journal))
    assert second.id == first.id and second.outs["adopted"] is True
    assert keys.certificate_matches_key(second.outs["certificate_pem"], csr_pem)
    assert package_state(sdk, PLAN).used_count == 1


@BOTH_LISTING_SHAPES
def test_orders_bought_before_the_journal_stamp_are_never_adopted(provider, control, sdk, told):
    issued = order_for_package(sdk, "blog.example.cn", product_code=PLAN)  # bought in the console, say
    publish(control, issued)
    pending = order_for_package(sdk, "blog.example.cn", product_code=PLAN)
    assert control.call("GET", f"cas/orders/{issued}")["status"] == "ISSUED"
    shift_clocks(provider, control, 600)  # then this purchase is journalled, and its run interrupted
    created = provider.create(inputs(journal=interrupted_run(at=provider.wall_clock())))
    assert created.id not in (str(issued), str(pending)) and created.outs["adopted"] is False
    assert package_state(sdk, PLAN).used_count == 3
    assert control.call("GET", f"cas/orders/{pending}")["status"] == "CHECKING"  # never touched
    assert told and "bought before this entry's purchases were journalled" in told[0]


def test_issued_order_ordered_with_a_csr_is_not_adopted_without_one(provider, control, sdk):
    journal = interrupted_run()
    csr_pem, _ = _fresh_csr("blog.example.cn", ())
    with_csr = order_for_package(sdk, None, csr=csr_pem, product_code=PLAN)
    publish(control, with_csr)
    # CAS makes the key: an order whose key CAS does not hold is not ours
    created = provider.create(inputs(journal=journal))
    assert created.id != str(with_csr)
    assert package_state(sdk, PLAN).used_count == 2


def test_adopted_order_is_never_revoked_on_delete(provider, control, sdk, told):
    journal = interrupted_run()
    console = order_for_package(sdk, "blog.example.cn", product_code=PLAN)  # not certfleet's, maybe
    publish(control, console)
    created = provider.create(inputs(revokeOnDelete=True, journal=journal))
    assert created.id == str(console) and created.outs["adopted"] is True
    assert "never revoked" in created.outs["status_message"]
    outs = provider.read(created.id, created.outs).outs
    assert outs["adopted"] is True  # kept across refreshes
    provider.delete(created.id, outs)
    assert control.call("GET", f"cas/orders/{console}")["status"] == "ISSUED"
    assert told and f"CAS order {console}" in told[0] and "kept" in told[0] and "adopted" in told[0]
    assert "revokeOnDelete: true is ignored" in told[0]


def test_refresh_of_a_certificate_that_does_not_parse_names_the_order(provider, control, monkeypatch):
    created = provider.create(inputs())
    publish(control, created.id)

    def broken(pem):
        raise ValueError("unable to load certificate")
    monkeypatch.setattr(keys, "certificate_not_after", broken)
    with pytest.raises(CloudError) as raised:
        provider.read(created.id, created.outs)
    message = str(raised.value)
    assert "cas.DescribeCertificateState" in message and "order 'blog'" in message
    assert f"order {created.id}" in message and "unable to load certificate" in message


def test_purchase_only_change_of_a_pending_order_does_not_wait_for_issuance(provider, control, clock, sdk):
    created = provider.create(inputs())
    assert created.outs["state"] == "domain_verify"
    olds = {**created.outs}
    news = inputs(alicloud_extra={"issuedTimeoutSeconds": 600, "tags": {"team": "web"}})
    assert provider.diff(created.id, olds, news).replaces == []
    before = list(clock.sleeps)
    updated = provider.update(created.id, olds, news).outs
    assert clock.sleeps == before  # read once, no wait
    assert updated["state"] == "domain_verify" and updated["tags"] == {"team": "web"}
    assert updated["issued_timeout_seconds"] == 600 and updated["challenge"] == created.outs["challenge"]
    assert package_state(sdk, PLAN).used_count == 1


# --- look before you buy: the journal decides what may be this purchase's ---

@BOTH_LISTING_SHAPES
def test_purchase_journalled_in_this_run_never_takes_someone_elses_orders(provider, control, sdk, told):
    # Defect: a live order with the same names and plan (console, another stack) was adopted as certfleet's
    # own (adopted: false), so destroy cancelled it, or revoked it once issued with revokeOnDelete.
    pending = order_for_package(sdk, "blog.example.cn", product_code=PLAN)
    issued = order_for_package(sdk, "blog.example.cn", product_code=PLAN)
    publish(control, issued)
    created = provider.create(inputs(revokeOnDelete=True))  # journalled in this run
    assert created.id not in (str(pending), str(issued)) and created.outs["adopted"] is False
    assert package_state(sdk, PLAN).used_count == 3
    assert told and f"order {pending} (someone else's" in told[0] and f"order {issued} (someone else's" in told[0]
    provider.delete(created.id, created.outs)  # certfleet's own pending order: cancelled and deleted
    assert provider.read(created.id, created.outs).id == ""
    assert control.call("GET", f"cas/orders/{pending}")["status"] == "CHECKING"  # never touched
    assert control.call("GET", f"cas/orders/{issued}")["status"] == "ISSUED"


def test_after_an_interrupted_run_the_list_is_polled_for_the_listing_lag(provider, control, clock, sdk):
    # Defect: the list was looked at once, so an order of the interrupted run it did not show yet was bought
    # again.
    control.call("POST", "cas/settings", {"list_lag": 20})
    clock.on_sleep = control.advance_clock  # the emulator's time passes with the provider's waits
    journal = interrupted_run()
    earlier = order_for_package(sdk, "blog.example.cn", product_code=PLAN)  # placed, then the run died
    created = provider.create({**inputs(journal=journal), "listing_lag_seconds": 60})
    assert created.id == str(earlier) and created.outs["adopted"] is True
    assert package_state(sdk, PLAN).used_count == 1
    assert 20 <= clock.t < 60 and set(clock.sleeps) == {cas.POLL_SECONDS}


def test_after_an_interrupted_run_nothing_found_in_the_listing_lag_buys(provider, control, clock, sdk):
    created = provider.create({**inputs(journal=interrupted_run()), "listing_lag_seconds": 10})
    assert created.outs["adopted"] is False and package_state(sdk, PLAN).used_count == 1
    assert clock.t == 10 and set(clock.sleeps) == {cas.POLL_SECONDS}  # the full look, then the purchase


def test_adopted_pending_order_is_never_cancelled(provider, control, sdk, told):
    # Defect: a pending order adopted after an interrupted run was recorded as certfleet's, and destroy
    # cancelled and deleted it, though it may be someone else's.
    journal = interrupted_run()
    earlier = order_for_package(sdk, "blog.example.cn", product_code=PLAN)
    created = provider.create(inputs(journal=journal))
    assert created.id == str(earlier) and created.outs["adopted"] is True
    assert "destroy never cancels" in created.outs["status_message"]
    provider.delete(created.id, created.outs)
    assert control.call("GET", f"cas/orders/{earlier}")["status"] == "CHECKING"
    assert package_state(sdk, PLAN).used_count == 1
    assert told and f"CAS order {earlier} (domain_verify) is kept" in told[0]


def test_generated_key_refuses_only_for_orders_bought_since_the_journal(provider, control, sdk):
    # Defect: any pending order with these names and plan, however old, made a `csr: generate` create refuse.
    older = order_for_package(sdk, "blog.example.cn", product_code=PLAN)  # not this purchase's
    shift_clocks(provider, control, 600)
    created = provider.create(inputs(csr="generate", journal=interrupted_run(at=provider.wall_clock())))
    assert created.id != str(older) and created.outs["adopted"] is False
    assert control.call("GET", f"cas/orders/{older}")["status"] == "CHECKING"
    assert package_state(sdk, PLAN).used_count == 2


def test_issued_certificate_without_the_csr_key_is_never_recorded_nor_revoked(provider, control, sdk, told):
    # Defect: a pending order adopted for a user's CSR was recorded once issued, whatever key it carries.
    journal = interrupted_run()
    own_csr, _ = _fresh_csr()
    foreign_csr, _ = _fresh_csr()  # same names, another key: someone else's order
    foreign = order_for_package(sdk, None, csr=foreign_csr, product_code=PLAN)
    created = provider.create(_own_csr_inputs(own_csr, journal=journal, revokeOnDelete=True))
    assert created.id == str(foreign) and created.outs["adopted"] is True  # pending: CAS shows no CSR
    publish(control, foreign)
    outs = provider.read(created.id, created.outs).outs
    assert outs["state"] == cas.KEY_MISMATCH
    assert outs["certificate_pem"] is None and outs["not_after"] is None and outs["cert_id"] is None
    assert "does not carry the key of the configured CSR" in outs["status_message"]
    assert "recorded nothing" in outs["status_message"]
    provider.delete(created.id, outs)
    assert control.call("GET", f"cas/orders/{foreign}")["status"] == "ISSUED"


@BOTH_LISTING_SHAPES
def test_replace_of_an_issued_order_keeps_it_and_buys_a_new_one(provider, control, sdk, told):
    # `pulumi up --replace` with unchanged inputs: the journal stamp stays the interrupted first run's, and the
    # old order (kept) was bought since; the new create must not take it for its own.
    journal = interrupted_run()
    first = provider.create(inputs(journal=journal))
    publish(control, first.id)
    olds = provider.read(first.id, first.outs).outs
    provider.check(olds, inputs(journal=journal))
    provider.delete(first.id, olds)
    new = provider.create(inputs(journal=journal))
    assert new.id != first.id and new.outs["adopted"] is False
    assert control.call("GET", f"cas/orders/{first.id}")["status"] == "ISSUED"
    assert package_state(sdk, PLAN).used_count == 2
    assert "the old order this run's replacement kept" in told[-1]


@BOTH_LISTING_SHAPES
def test_lost_answer_never_takes_an_order_listed_before_the_purchase(provider, control, sdk, told):
    control.call("POST", "cas/settings", {"list_lag": 60})
    foreign = order_for_package(sdk, "blog.example.cn", product_code=PLAN)  # a minute before, by someone else
    control.advance_clock(61)  # listed by now; this create's own order will not be, within the look again
    control.add_fault("CreateCertificateForPackageRequest", drop_response=True)
    with pytest.raises(CloudError, match="cas.CreateCertificateForPackageRequest"):
        provider.create(inputs())
    assert package_state(sdk, PLAN).used_count == 2  # placed once (answer lost), never a third time
    assert control.call("GET", f"cas/orders/{foreign}")["status"] == "CHECKING"


def test_candidate_that_vanished_before_it_was_described_is_skipped():
    candidate = candidates.Candidate(1, int(time.time() * 1000), "ISSUED", "blog.example.cn", 1,
                                     describe=lambda: None)  # gone since listed
    purchase = candidates.purchase_of(inputs(journal=interrupted_run(at=time.time() - 60)))
    assert candidates.judge(purchase, candidate)[0] == candidates.SKIP


def test_candidate_checks_run_in_the_documented_order():
    assert [check.__name__ for check in candidates.CANDIDATE_CHECKS] == [
        "renewed_by_this_purchase", "bought_before_every_stamp", "kept_by_a_replacement",
        "pending_from_an_earlier_purchase", "listed_for_other_names",
        "journalled_in_this_run", "renewal_not_applied_for", "bought_not_applied_for", "pending_with_a_lost_generated_key", "pending_order",
        "not_issued", "issued_for_other_names", "issued_for_another_csr_key",
        "issued_for_another_kind_of_key", "issued_with_a_lost_generated_key", "issued_without_a_key_from_cas",
        "placed_by_an_interrupted_run"]


# --- replacement never revokes; a real destroy does when asked ---

def test_replacement_keeps_the_issued_certificate_whatever_revoke_on_delete_says(provider, control, sdk, told):
    # Defect: with revokeOnDelete, the delete half of a (delete-before-replace) replacement revoked the
    # certificate that was still serving, before its successor was even ordered.
    created = provider.create(inputs(revokeOnDelete=True))
    publish(control, created.id)
    olds = provider.read(created.id, created.outs).outs
    news = inputs(revokeOnDelete=True, validation="FILE", keyAlgorithm="EC_P256", csr="generate")
    provider.check(olds, news)  # the program still declares the order: this run replaces it
    assert provider.diff(created.id, olds, news).replaces
    provider.delete(created.id, olds)
    assert control.call("GET", f"cas/orders/{created.id}")["status"] == "ISSUED"
    assert told and "kept because the order is being replaced" in told[0] and "real destroy only" in told[0]
    new = provider.create(news)
    assert new.id != created.id and package_state(sdk, PLAN).used_count == 2


def test_replacement_of_a_renamed_order_keeps_the_issued_certificate(provider, control, told):
    created = provider.create(inputs(revokeOnDelete=True))
    publish(control, created.id)
    olds = provider.read(created.id, created.outs).outs
    news = {**inputs(name="blog-new", revokeOnDelete=True, domains=["www.blog.example.cn"]),
            "previous_names": ["blog"]}
    provider.check(olds, news)  # renamed (a Pulumi alias) and replaced in one update
    provider.delete(created.id, olds)  # runs with the old props: order_name 'blog'
    assert control.call("GET", f"cas/orders/{created.id}")["status"] == "ISSUED"


def test_replacement_still_cancels_and_deletes_a_pending_order(provider, control, sdk):
    created = provider.create(inputs(revokeOnDelete=True))
    provider.check(created.outs, inputs(revokeOnDelete=True, validation="FILE"))
    provider.delete(created.id, created.outs)
    assert provider.read(created.id, created.outs).id == ""
    assert package_state(sdk, PLAN).used_count == 0


def test_destroy_revokes_with_revoke_on_delete_even_after_another_order_was_checked(provider, control):
    created = provider.create(inputs(revokeOnDelete=True))
    publish(control, created.id)
    outs = provider.read(created.id, created.outs).outs
    provider.check({}, inputs(name="other", domains=["other.example.cn"]))  # another order of the stack
    provider.delete(created.id, outs)  # 'blog' is not declared any more: a real destroy
    assert control.call("GET", f"cas/orders/{created.id}")["status"] == "REVOKED"


# --- the owner: "not found" is "gone" only for the account and endpoint that placed the order ---

def _key_fingerprint(key_id):
    return hashlib.sha256(key_id.encode()).hexdigest()[:12]


def use_key(monkeypatch, key_id, secret):
    monkeypatch.setenv(cas_api.ENV_ACCESS_KEY_ID, key_id)
    monkeypatch.setenv(cas_api.ENV_ACCESS_KEY_SECRET, secret)


def test_owner_is_recorded_without_the_access_key_id(provider, emulator):
    outs = provider.create(inputs()).outs
    assert outs["owner"] == {"endpoint": emulator.endpoint, "key": _key_fingerprint(ACCESS_KEY_ID)}
    assert ACCESS_KEY_ID not in json.dumps(outs) and ACCESS_KEY_SECRET not in json.dumps(outs)


def test_refresh_with_another_accounts_keys_keeps_the_order(provider, control, sdk, monkeypatch):
    # Defect: CAS answers NotFound for another account's order, and read dropped it from the state: the next
    # `up` bought it again.
    created = provider.create(inputs(revokeOnDelete=True))
    publish(control, created.id)
    outs = provider.read(created.id, created.outs).outs
    use_key(monkeypatch, OTHER_KEY_ID, OTHER_KEY_SECRET)
    with pytest.raises(CloudError) as raised:
        provider.read(created.id, outs)
    message = str(raised.value)
    assert f"order {created.id}" in message and "order 'blog'" in message
    assert _key_fingerprint(ACCESS_KEY_ID) in message and _key_fingerprint(OTHER_KEY_ID) in message
    assert "credentials" in message and "pulumi state delete" in message
    assert OTHER_KEY_ID not in message and ACCESS_KEY_ID not in message
    with pytest.raises(CloudError, match=_key_fingerprint(OTHER_KEY_ID)):
        provider.update(created.id, outs, inputs(revokeOnDelete=True, alicloud_extra={"tags": {"a": "b"}}))
    with pytest.raises(CloudError, match=_key_fingerprint(OTHER_KEY_ID)):
        provider.delete(created.id, outs)
    use_key(monkeypatch, ACCESS_KEY_ID, ACCESS_KEY_SECRET)  # the right account again: all there
    assert provider.read(created.id, outs).outs["state"] == "certificate"
    assert control.call("GET", f"cas/orders/{created.id}")["status"] == "ISSUED"


def test_refresh_against_another_endpoint_keeps_the_order(provider, emulator, monkeypatch):
    created = provider.create(inputs())
    with EmulatorServer(CasApi({ACCESS_KEY_ID: ACCESS_KEY_SECRET})) as elsewhere:  # the other CAS site, say
        monkeypatch.setenv(cas_api.ENV_ENDPOINT, elsewhere.endpoint)
        with pytest.raises(CloudError) as raised:
            provider.read(created.id, created.outs)
    assert emulator.endpoint in str(raised.value) and elsewhere.endpoint in str(raised.value)


def test_state_without_an_owner_is_not_dropped_on_not_found(provider, control, sdk):
    created = provider.create(inputs())
    outs = {k: v for k, v in created.outs.items() if k != "owner"}  # written by an older certfleet
    provider.delete(created.id, created.outs)
    with pytest.raises(CloudError, match="does not record"):
        provider.read(created.id, outs)


def test_found_order_records_the_current_owner(provider, monkeypatch):
    created = provider.create(inputs())
    outs = {**created.outs, "owner": {"endpoint": "cas.aliyuncs.com", "key": "0" * 12}}  # an old key
    assert provider.read(created.id, outs).outs["owner"] == created.outs["owner"]


# --- waits ---

def test_challenge_and_issuance_waits_share_the_runs_wait_window(provider, clock, sdk):
    # Defect: every order waited its full issuedTimeoutSeconds, so a large stack waited for hours.
    first = provider.create(inputs(alicloud_extra={"issuedTimeoutSeconds": 600}))
    assert first.outs["state"] == "domain_verify" and clock.t == 600
    second = provider.create(inputs(name="shop", domains=["shop.example.cn"],
                                    alicloud_extra={"issuedTimeoutSeconds": 600}))
    assert second.outs["state"] == "domain_verify"
    assert clock.t == 600  # the window had closed: the second order is looked at once, not waited for


# --- purchases journalled under the entry's earlier settings (review findings) ---

@BOTH_LISTING_SHAPES
def test_a_pending_order_of_the_entrys_earlier_settings_stops_a_second_purchase(provider, control, sdk):
    """Run 1 bought under one CSR and was killed before the state was saved; the user then changed the CSR.
    The new purchase is stamped in this run, but the journal carries the earlier stamp: the earlier order,
    pending and recorded nowhere, stops the purchase instead of a second paid order being placed."""
    earlier_stamp = interrupted_run(at=time.time() - 120)
    orphan = order_for_package(sdk, "blog.example.cn", product_code=PLAN)  # run 1's order, never recorded
    changed = {**inputs(csr="generate", journal={**this_run(), "earlier": [earlier_stamp]}),
               "listing_lag_seconds": 0}
    with pytest.raises(CertfleetError) as refused:
        provider.create(changed)
    assert f"CAS order {orphan}" in str(refused.value) and "cancel and delete" in str(refused.value)
    assert "if it is yours" in str(refused.value) and "if it is not" in str(refused.value)
    assert package_state(sdk, PLAN).used_count == 1  # nothing bought
    # Cancelled only, it still holds a plan unit (PAYED is live): still refused.
    sdk.cancel_order_request(cas._models().CancelOrderRequestRequest(order_id=orphan))
    with pytest.raises(CertfleetError, match=f"CAS order {orphan} .*PAYED"):
        provider.create(changed)
    # Cancelled and deleted (the unit comes back), the next up buys.
    sdk.delete_certificate_request(cas._models().DeleteCertificateRequestRequest(order_id=orphan))
    assert provider.create(changed).outs["adopted"] is False


@BOTH_LISTING_SHAPES
def test_an_issued_certificate_of_the_entrys_earlier_settings_is_left_alone(provider, control, sdk):
    earlier_stamp = interrupted_run(at=time.time() - 120)
    kept = order_for_package(sdk, "blog.example.cn", product_code=PLAN)  # kept by an earlier replacement
    publish(control, kept)
    created = provider.create({**inputs(journal={**this_run(), "earlier": [earlier_stamp]}),
                               "listing_lag_seconds": 0})
    assert created.id != str(kept) and created.outs["adopted"] is False
    assert control.call("GET", f"cas/orders/{kept}")["status"] == "ISSUED"


def test_without_a_journal_stamp_create_buys_nothing(provider, sdk):
    with pytest.raises(CertfleetError) as refused:
        provider.create({**inputs(), "journal": None})
    assert "not in the purchase journal" in str(refused.value) and "--target" in str(refused.value)
    assert package_state(sdk, PLAN).used_count == 0


def test_the_pending_order_a_replacement_cancelled_is_never_taken_back_while_the_list_lags(provider, control,
                                                                                         sdk):
    """`pulumi up --replace` of a pending order: delete cancels it; the replacement never takes it back.
    (The emulator's list lag delays new orders, not status changes, so this guards the rule that cancelled
    orders join the run's kept set rather than reproducing a list that shows a cancelled order as live.)"""
    stamp = interrupted_run(at=time.time() - 60)
    created = provider.create(inputs(journal=stamp))
    provider.check({}, inputs(journal=stamp))  # the program still declares it: this delete is a replacement
    control.call("POST", "cas/settings", {"list_lag": 3600})  # the list goes on showing the order as it was
    provider.delete(created.id, created.outs)
    replacement = provider.create({**inputs(journal=stamp), "listing_lag_seconds": 4})
    assert replacement.id != created.id and replacement.outs["adopted"] is False


@pytest.mark.parametrize("action", ["CancelOrderRequest", "DeleteCertificateRequest"])
def test_delete_finishes_when_an_answer_was_lost(provider, control, sdk, action):
    """Found by the crash campaign: the cancel (or delete) went through, its answer was lost, and the retry
    was refused (the order is cancelled / gone already): destroy failed until run again."""
    created = provider.create(inputs())
    control.add_fault(action, drop_response=True)
    provider.delete(created.id, created.outs)
    assert package_state(sdk, PLAN).used_count == 0  # cancelled and deleted: the plan unit came back


def test_an_order_recorded_before_challenges_existed_is_updated_in_place_to_record_them(provider, control):
    """Stacks from before the `challenges` output: the next `up` reads the order once (no CAS write, no purchase)
    and records it, so the entry's DNS record (components/dns) is written in the same run."""
    created = provider.create(inputs())
    legacy = {k: v for k, v in created.outs.items() if k != "challenges"}
    diff = provider.diff(created.id, legacy, inputs())
    assert diff.changes is True and not diff.replaces
    used_before = control.call("GET", "state")["packages"]
    updated = provider.update(created.id, legacy, inputs()).outs
    assert updated["challenges"] == [updated["challenge"]] and updated["challenge"]["type"] == "DNS"
    assert control.call("GET", "state")["packages"] == used_before  # nothing bought
    assert provider.diff(created.id, updated, inputs()).changes is False
