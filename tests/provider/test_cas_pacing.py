"""certfleet's CAS client under CAS's published request rates (emulator `throttles/published`): it paces each
documented operation at 0.9 x its rate, so a burst of calls from several threads meets no throttled answer,
where the same burst sent unpaced is throttled; and a paid call (Create*) is repeated only after a certain
throttling answer, never otherwise. Figures only: no test here times anything."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from components import dynamic
from components.alicloud import client as cas_api
from components.errors import CloudError
from emulators.cas import CasApi
from emulators.core.testing import ControlClient
from tests.emulators.cas_scaffolding import ACCESS_KEY_ID, ACCESS_KEY_SECRET, certfleet_cas

BURST = 24          # ListUserCertificateOrder calls: under 3 s at 0.9 x 10/s
UNPACED_BURST = 60  # the same operation unpaced: to stay under 10/s it would have to take over 5 s


@pytest.fixture
def emulator(monkeypatch):
    cas_api.reset_rate_limits()
    with certfleet_cas(monkeypatch, CasApi({ACCESS_KEY_ID: ACCESS_KEY_SECRET})) as server:
        control = ControlClient(server.url)
        control.throttle_at_published_rates()
        yield control
    cas_api.reset_rate_limits()


def list_orders(resource: str):
    request = cas_api.models().ListUserCertificateOrderRequest(order_type="CPACK", show_size=1)
    return cas_api.call("ListUserCertificateOrder", resource,
                        lambda: cas_api.cas_client().list_user_certificate_order(request))


def test_the_client_paces_documented_operations_below_cas_rates():
    assert cas_api.bucket("cas", "ListUserCertificateOrder").rate == pytest.approx(0.9 * 10)
    assert cas_api.bucket("cas", "GetUserCertificateDetail").rate == pytest.approx(0.9 * 100)
    assert cas_api.bucket("cas", "CreateCertificateForPackageRequest") is None   # no documented rate
    assert cas_api.bucket("alidns", "DescribeDomainRecords") is None
    from emulators.cas.responses import PUBLISHED_RATES
    assert {action: rate for (service, action), rate in cas_api.REQUESTS_PER_SECOND.items()} == PUBLISHED_RATES


def test_a_paced_burst_from_four_threads_is_never_throttled(emulator):
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda i: list_orders(f"order-{i}"), range(BURST)))
    assert len(answers) == BURST
    assert emulator.calls()["operations"]["ListUserCertificateOrder"] == {"ok": BURST}


def test_the_same_burst_unpaced_is_throttled(emulator):
    """The control: the emulator enforces 10/s, so the test above could fail."""
    client = cas_api.cas_client()
    request = cas_api.models().ListUserCertificateOrderRequest(order_type="CPACK", show_size=1)

    def unpaced(_):
        try:
            client.list_user_certificate_order(request)
        except Exception as err:  # noqa: BLE001 - the SDK's throttling error is what is counted
            return cas_api.error_code(err)
        return "ok"

    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(unpaced, range(UNPACED_BURST)))
    assert "Throttling.User" in outcomes
    assert emulator.calls()["operations"]["ListUserCertificateOrder"]["throttled"] == outcomes.count("Throttling.User")


def create(domain: str):
    request = cas_api.models().CreateCertificateForPackageRequestRequest(
        domain=domain, product_code="digicert-free-1-free", username="Tom Zhang", phone="13000000000",
        email="tom.zhang@example.com", validate_type="DNS")
    return cas_api.call("CreateCertificateForPackageRequest", domain,
                        lambda: cas_api.cas_client().create_certificate_for_package_request(request),
                        spends_money=True).body.order_id


def test_a_throttled_create_is_retried_and_places_one_order(emulator, monkeypatch):
    monkeypatch.setattr(dynamic.random, "uniform", lambda low, high: 0.05)   # short backoff
    emulator.add_fault("CreateCertificateForPackageRequest", status=400, code="Throttling.User", times=2)
    order_id = create("paid.example.cn")
    calls = emulator.calls()["operations"]["CreateCertificateForPackageRequest"]
    assert calls == {"error": 2, "ok": 1}   # two refusals (nothing done), then the one order
    assert order_id and emulator.call("GET", f"cas/orders/{order_id}")


def test_a_create_over_its_rate_quota_waits_and_places_one_order_each(emulator, monkeypatch):
    """CAS documents no rate for Create*, so the client does not pace it; if CAS throttles it anyway (here one
    every 2 s), the throttled attempts placed nothing and are retried until one goes through."""
    monkeypatch.setattr(dynamic.random, "uniform", lambda low, high: high)   # backoff 0.5, 1, 2 ... s
    emulator.throttle("CreateCertificateForPackageRequest", 0.5)
    orders = {create("first.example.cn"), create("second.example.cn")}
    calls = emulator.calls()["operations"]["CreateCertificateForPackageRequest"]
    assert calls["ok"] == 2 and calls["throttled"] >= 1 and set(calls) == {"ok", "throttled"}
    assert len(orders) == 2


@pytest.mark.parametrize("fault", [
    {"status": 500},                                             # a server error: the order may exist
    {"status": 503, "retry_after": 0.1},                         # retry-after on a 5xx: not proof of throttling
    {"status": 400, "code": "InvalidParameter.Domain"},          # refused for a reason of its own
])
def test_a_create_that_failed_otherwise_is_sent_once(emulator, fault):
    emulator.add_fault("CreateCertificateForPackageRequest", **fault, times=1)
    with pytest.raises(CloudError):
        create("paid.example.cn")
    calls = emulator.calls()["operations"]["CreateCertificateForPackageRequest"]
    assert sum(calls.values()) == 1
