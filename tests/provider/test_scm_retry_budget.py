"""certfleet's SCM client against the gateway's throttling (components/huaweicloud/client.py `call`), through the
SDK over HTTP: a throttled call is retried up to THROTTLED_MAX_ATTEMPTS times (Huawei publishes no rate to pace
at), other transient failures up to MAX_ATTEMPTS, and a buy (must not run twice) only when throttled."""

from __future__ import annotations

import pytest
from huaweicloudsdkscm.v3 import ListCertificatesRequest, SubscribeCertificateRequest

from components.dynamic import MAX_ATTEMPTS
from components.errors import CloudError
from components.huaweicloud import client as scm_api
from tests.emulators.conftest_scm import make_scm_client
from tests.emulators.test_scm_emulator import buy_body


class NoSleep:
    slept: list[float] = []

    @staticmethod
    def now() -> float:
        return 0.0

    @staticmethod
    def sleep(seconds: float) -> None:
        NoSleep.slept.append(seconds)


@pytest.fixture
def client(scm_emulator):
    NoSleep.slept = []
    return make_scm_client(scm_emulator.url)


def attempts(scm_control, operation: str) -> int:
    return sum(scm_control.calls()["operations"].get(operation, {}).values())


def list_certificates(client):
    return scm_api.call("ListCertificates", "cert 'api'", lambda: client.list_certificates(ListCertificatesRequest()),
                        clock=NoSleep)


def test_throttling_gets_more_attempts_than_other_failures(client, scm_control):
    assert scm_api.THROTTLED_MAX_ATTEMPTS > MAX_ATTEMPTS
    scm_control.add_fault("ListCertificates", status=429, times=scm_api.THROTTLED_MAX_ATTEMPTS - 1)
    list_certificates(client)
    assert attempts(scm_control, "ListCertificates") == scm_api.THROTTLED_MAX_ATTEMPTS


def test_throttling_past_its_budget_is_a_cloud_error(client, scm_control):
    scm_control.add_fault("ListCertificates", status=429, times=None)
    with pytest.raises(CloudError):
        list_certificates(client)
    assert attempts(scm_control, "ListCertificates") == scm_api.THROTTLED_MAX_ATTEMPTS


def test_server_errors_keep_their_smaller_budget(client, scm_control):
    scm_control.add_fault("ListCertificates", status=500, times=None)
    with pytest.raises(CloudError) as raised:
        list_certificates(client)
    assert raised.value.code == "SCM.0016"
    assert attempts(scm_control, "ListCertificates") == MAX_ATTEMPTS


def buy(client):
    return scm_api.call("SubscribeCertificate", "cert 'api'", lambda: client.subscribe_certificate(
        SubscribeCertificateRequest(body=buy_body())), may_repeat=False, clock=NoSleep)


def test_a_throttled_buy_is_retried_and_buys_once(client, scm_control):
    scm_control.add_fault("SubscribeCertificate", status=429, times=2)   # APIGW.0308: nothing was bought
    buy(client)
    assert scm_control.calls()["operations"]["SubscribeCertificate"] == {"error": 2, "ok": 1}
    assert len(scm_control.call("GET", "scm/certificates")["certificates"]) == 1


def test_a_buy_over_the_gateways_rate_buys_nothing_and_a_failed_one_is_sent_once(client, scm_control):
    scm_control.throttle("*", 0.001)    # the gateway's per-user rate: one call, then 429 for a long while
    list_certificates(client)
    with pytest.raises(CloudError) as raised:
        buy(client)
    assert raised.value.code == "APIGW.0308"
    assert scm_control.calls()["operations"]["SubscribeCertificate"] == {"throttled": scm_api.THROTTLED_MAX_ATTEMPTS}
    scm_control.clear_throttles()
    scm_control.add_fault("SubscribeCertificate", status=500, times=1)
    with pytest.raises(CloudError) as raised:
        buy(client)                       # a server error: it may have bought, so it is sent once
    assert raised.value.code == "SCM.0016"
    assert scm_control.calls()["operations"]["SubscribeCertificate"]["error"] == 1
    assert scm_control.call("GET", "scm/certificates")["certificates"] == []


def test_the_rate_the_gateway_states_paces_every_later_call(client, scm_control):
    from components.dynamic import Clock
    scm_control.throttle("*", 5)   # 429 "policy user over ratelimit,limit:5,time:1 second" beyond 5 a second
    for _ in range(12):            # a POST: its 429 carries the statement (a GET's arrives without a body)
        scm_api.call("SubscribeCertificate", "cert 'api'", lambda: client.subscribe_certificate(
            SubscribeCertificateRequest(body=buy_body())), may_repeat=False, clock=Clock)   # the gateway's seconds
    assert scm_api.stated_rate_of("scm") == pytest.approx(5 * scm_api.PACE)
    counted = scm_control.calls()["operations"]["SubscribeCertificate"]
    # the burst meets the limit, the retry right after it may too (the client's new bucket starts with a token),
    # then every call waits for its turn (without the pacing, most of a burst is throttled and retried)
    assert counted["ok"] == 12 and 1 <= counted.get("throttled", 0) <= 2, counted
    assert len(scm_control.call("GET", "scm/certificates")["certificates"]) == 12
