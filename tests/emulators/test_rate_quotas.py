"""Request-rate quotas of the core emulators (emulators/core/quotas.py), through the official SDKs over HTTP: a
call over its operation's rate is answered as the cloud throttles (CAS 400 Throttling.User, SCM 429 APIGW.0308
without Retry-After) and counted as "throttled" at /_emulator/calls. Rates here are low (one call per two
seconds, burst 1), so the second of two back-to-back calls is always over the rate."""

from __future__ import annotations

import subprocess
import sys

import pytest
from alibabacloud_cas20200407 import models as cas_models
from alibabacloud_tea_openapi.exceptions import ClientException, ThrottlingException

from emulators.cas import CasApi
from emulators.cas.responses import PUBLISHED_RATES
from emulators.core import EmulatorServer
from emulators.core.quotas import PUBLISHED, RateRule, parse_throttle
from emulators.core.testing import ControlAPIError, ControlClient
from emulators.scm import ScmApi
from tests.emulators.cas_scaffolding import ACCESS_KEY_ID, ACCESS_KEY_SECRET, make_cas_client, package_state
from tests.emulators.conftest_scm import SCM_AK, SCM_DOMAIN_ID, SCM_PROJECT_ID, SCM_SK, WireLog, make_scm_client

SLOW = 0.5   # requests per second: back-to-back calls are 2 s early


def list_orders(client):
    return client.list_user_certificate_order(cas_models.ListUserCertificateOrderRequest(order_type="CPACK")).body


def test_cas_answers_a_call_over_its_operations_rate_with_throttling_user_and_counts_it(cas_client, cas_control):
    cas_control.throttle("ListUserCertificateOrder", SLOW)
    list_orders(cas_client)
    with pytest.raises(ClientException) as raised:
        list_orders(cas_client)
    assert (raised.value.status_code, raised.value.code) == (400, "Throttling.User")
    assert not isinstance(raised.value, ThrottlingException)   # no x-acs-retry-after unless asked for
    package_state(cas_client)   # another operation has a bucket of its own (none here)
    calls = cas_control.calls()["operations"]
    assert calls["ListUserCertificateOrder"] == {"ok": 1, "throttled": 1}
    assert calls["DescribePackageState"] == {"ok": 1}
    assert [rule["throttled"] for rule in cas_control.throttles()] == [1]


def test_cas_throttling_with_retry_after_is_the_sdks_throttling_exception(cas_client, cas_control):
    cas_control.throttle("ListUserCertificateOrder", SLOW, retry_after=0.25)
    list_orders(cas_client)
    with pytest.raises(ThrottlingException) as raised:
        list_orders(cas_client)
    assert (raised.value.status_code, raised.value.code, raised.value.retry_after) == (400, "Throttling.User", 250)


def test_each_access_key_has_buckets_of_its_own(cas_control):
    other_id, other_secret = "LTAI5tOTHERACCOUNT01", "other-secret"
    with EmulatorServer(CasApi({ACCESS_KEY_ID: ACCESS_KEY_SECRET, other_id: other_secret})) as server:
        control = ControlClient(server.url)
        control.throttle("*", SLOW)
        list_orders(make_cas_client(server))
        list_orders(make_cas_client(server, other_id, other_secret))   # another account: its own quota
        with pytest.raises(ClientException):
            package_state(make_cas_client(server))   # "*": every operation of the first key together
        assert control.calls()["totals"] == {"ok": 2, "throttled": 1}


def test_published_rates_are_cas_documented_table_and_reset_keeps_the_start_up_rules():
    start_up = [RateRule(operation="ListUserCertificateOrder", rate=SLOW)]
    with EmulatorServer(CasApi({ACCESS_KEY_ID: ACCESS_KEY_SECRET}), throttles=start_up) as server:
        control, client = ControlClient(server.url), make_cas_client(server)
        added = control.throttle_at_published_rates()
        assert {rule["operation"]: rule["rate"] for rule in added} == PUBLISHED_RATES
        assert PUBLISHED_RATES["ListUserCertificateOrder"] == 10
        list_orders(client)
        with pytest.raises(ClientException):
            list_orders(client)
        control.reset()
        rules = control.throttles()
        assert [(rule["operation"], rule["rate"], rule["throttled"]) for rule in rules] == \
            [("ListUserCertificateOrder", SLOW, 0)]
        list_orders(client)   # a full bucket again
        assert control.calls()["totals"] == {"ok": 1}


def test_scm_answers_a_user_over_the_rate_with_429_apigw_0308_and_no_retry_after(monkeypatch):
    from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
    from huaweicloudsdkscm.v3 import ListCertificatesRequest, SubscribeCertificateRequest

    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    api = ScmApi(credentials={SCM_AK: SCM_SK}, project_id=SCM_PROJECT_ID, domain_id=SCM_DOMAIN_ID)
    with EmulatorServer(api, throttles=parse_throttle("*=0.5", api.published_rates)) as server:
        wire = WireLog()
        client, control = make_scm_client(server.url, wire_log=wire), ControlClient(server.url)
        client.list_certificates(ListCertificatesRequest())
        with pytest.raises(ClientRequestException) as raised:   # a POST: the gateway's body is read
            client.subscribe_certificate(SubscribeCertificateRequest(body={}))
        assert (raised.value.status_code, raised.value.error_code) == (429, "APIGW.0308")
        assert "Retry-After" not in wire.last_response.headers
        assert "policy user over ratelimit,limit:1,time:1 second" in raised.value.error_msg
        with pytest.raises(ClientRequestException) as raised:   # a GET: urllib3 swallows the 429's body
            client.list_certificates(ListCertificatesRequest())
        assert raised.value.status_code == 429
        assert control.calls()["operations"] == {"ListCertificates": {"ok": 1, "throttled": 1},
                                                 "SubscribeCertificate": {"throttled": 1}}


def test_throttle_values_are_parsed_and_checked():
    rules = parse_throttle(f"{PUBLISHED}, DescribeCertificateState=2", PUBLISHED_RATES)
    assert {(r.operation, r.rate) for r in rules} == {*PUBLISHED_RATES.items(), ("DescribeCertificateState", 2.0)}
    assert [(r.operation, r.rate) for r in parse_throttle("*=5", {})] == [("*", 5.0)]
    for bad in ("published", "ListCertificates", "*=0", "*=fast", "=3"):
        with pytest.raises(ValueError):
            parse_throttle(bad, {})   # SCM publishes no rates
    with pytest.raises(ValueError):
        RateRule.from_json({"operation": "*", "rate": 1, "burst": 0.5})


def test_control_api_refuses_published_rates_of_an_api_that_has_none_and_bad_rules(monkeypatch):
    api = ScmApi(credentials={SCM_AK: SCM_SK}, project_id=SCM_PROJECT_ID, domain_id=SCM_DOMAIN_ID)
    with EmulatorServer(api) as server:
        control = ControlClient(server.url)
        with pytest.raises(ControlAPIError) as raised:
            control.throttle_at_published_rates()
        assert raised.value.status == 400
        with pytest.raises(ControlAPIError):
            control.throttle("*", -1)
        assert control.throttles() == []


def test_command_line_starts_with_the_published_rates(tmp_path):
    url_file = tmp_path / "url"
    process = subprocess.Popen(
        [sys.executable, "-m", "emulators.cas", "--access-key-id", ACCESS_KEY_ID, "--access-key-secret",
         ACCESS_KEY_SECRET, "--throttle", PUBLISHED, "--throttle", "DescribeCertificateState=3", "--quiet",
         "--url-file", str(url_file)], stdout=subprocess.PIPE, text=True)
    try:
        url = process.stdout.readline().strip()
        rules = ControlClient(url).throttles()
        assert {(rule["operation"], rule["rate"]) for rule in rules} == \
            {*PUBLISHED_RATES.items(), ("DescribeCertificateState", 3)}
    finally:
        process.terminate()
        process.wait(10)
    refused = subprocess.run([sys.executable, "-m", "emulators.scm", "--ak", SCM_AK, "--sk", SCM_SK,
                              "--throttle", PUBLISHED], capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0 and "publishes no request rates" in refused.stderr
