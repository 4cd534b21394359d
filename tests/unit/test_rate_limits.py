"""The client-side rate limiter of components/aws/clients.py: bucket arithmetic on a fake clock (no sleeping),
the quota table, and the veto on retrying a hard quota."""

from __future__ import annotations

import threading

import pytest

from components.aws import clients
from components.aws.clients import TokenBucket


def fake_clock(start: float = 100.0):
    """A Clock (components/dynamic.py) whose sleep advances its own time instantly."""
    state = {"now": start, "slept": []}

    class FakeClock:
        @staticmethod
        def now() -> float:
            return state["now"]

        @staticmethod
        def sleep(seconds: float) -> None:
            state["slept"].append(seconds)
            state["now"] += seconds

    return FakeClock, state


def test_first_request_goes_at_once_then_requests_are_spaced_by_one_over_the_rate():
    clock, state = fake_clock()
    bucket = TokenBucket(5, clock=clock)
    assert bucket.reserve() == 0.0
    assert bucket.reserve() == pytest.approx(0.2)
    assert bucket.reserve() == pytest.approx(0.4)   # queued behind the second: reservations add up


def test_waiting_callers_queue_and_the_queue_drains_with_time():
    clock, state = fake_clock()
    bucket = TokenBucket(2, clock=clock)
    delays = [bucket.reserve() for _ in range(5)]
    assert delays == pytest.approx([0, 0.5, 1.0, 1.5, 2.0])
    state["now"] += 2.0                      # everyone reserved has gone
    assert bucket.reserve() == pytest.approx(0.5)
    state["now"] += 10.0                     # idle: refills, but never past the burst
    assert bucket.reserve() == 0.0
    assert bucket.reserve() == pytest.approx(0.5)


def test_take_sleeps_the_reserved_delay_on_the_injected_clock():
    clock, state = fake_clock()
    bucket = TokenBucket(1, clock=clock)
    assert [bucket.take() for _ in range(4)] == pytest.approx([0, 1, 1, 1])
    assert state["slept"] == pytest.approx([1, 1, 1])
    assert state["now"] == pytest.approx(103.0)   # 4 requests at 1/s: the last at t+3


def test_a_burst_lets_that_many_go_at_once():
    clock, _ = fake_clock()
    bucket = TokenBucket(10, burst=3, clock=clock)
    assert [bucket.reserve() for _ in range(4)] == pytest.approx([0, 0, 0, 0.1])


def test_sub_one_rates_space_requests_by_seconds():
    clock, _ = fake_clock()
    bucket = TokenBucket(0.5, clock=clock)
    assert [bucket.reserve() for _ in range(3)] == pytest.approx([0, 2, 4])


def test_the_rate_holds_under_threads():
    """N threads taking tokens: the reservations are N distinct slots 1/rate apart (no two share a slot)."""
    clock, _ = fake_clock()
    bucket = TokenBucket(10, clock=clock)
    delays: list[float] = []
    lock = threading.Lock()

    def worker():
        for _ in range(25):
            delay = bucket.reserve()
            with lock:
                delays.append(delay)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(round(d, 6) for d in delays) == [round(i / 10, 6) for i in range(200)]


def test_published_acm_quotas_and_certfleet_choices():
    rate = clients.requests_per_second
    assert rate("acm", "RequestCertificate") == 5
    assert rate("acm", "DescribeCertificate") == 10
    assert rate("acm", "ImportCertificate") == 1
    assert rate("acm", "ListCertificates") == 1          # the lower of the two published figures
    assert rate("cloudfront", "UpdateDistribution") == 1
    assert rate("resourcegroupstaggingapi", "GetResources") == 2
    assert rate("dynamodb", "Query") == clients.DEFAULT_REQUESTS_PER_SECOND
    assert all(0 < r <= 10 for r in clients.REQUESTS_PER_SECOND.values())


def test_buckets_are_per_region_and_operation():
    clients.reset_rate_limits()
    assert clients.bucket("acm", "us-east-1", "DescribeCertificate") is clients.bucket(
        "acm", "us-east-1", "DescribeCertificate")
    assert clients.bucket("acm", "us-east-1", "DescribeCertificate") is not clients.bucket(
        "acm", "eu-west-1", "DescribeCertificate")
    assert clients.bucket("acm", "us-east-1", "ImportCertificate").rate == pytest.approx(clients.PACE * 1)
    clients.reset_rate_limits()


def test_counts_report_retries_as_attempts_beyond_calls():
    counts = clients.OperationCounts(calls=3, attempts=5, throttled=2)
    assert counts.retries == 2


def test_a_hard_acm_quota_is_not_retried_but_throttling_is_left_to_botocore():
    *_, veto_retry = clients._pace("acm", "us-east-1")
    hard = (_Http(400), {"Error": {"Code": "LimitExceededException"}})
    slow = (_Http(400), {"Error": {"Code": "ThrottlingException"}})
    assert veto_retry(response=hard) is False
    assert veto_retry(response=slow) is None
    assert veto_retry(response=None, caught_exception=ConnectionError()) is None


class _Http:
    def __init__(self, status_code: int) -> None:
        self.status_code = status_code


def test_server_errors_keep_their_few_attempts_while_throttling_gets_the_full_budget():
    *_, veto_retry = clients._pace("cloudfront", "us-east-1")
    server_error = (_Http(500), {"Error": {"Code": "InternalFailure"}})
    throttled = (_Http(400), {"Error": {"Code": "Throttling"}})
    bare_429 = (_Http(429), {})
    assert veto_retry(response=server_error, attempts=clients.TRANSIENT_MAX_ATTEMPTS - 1) is None
    assert veto_retry(response=server_error, attempts=clients.TRANSIENT_MAX_ATTEMPTS) is False
    assert veto_retry(response=None, attempts=clients.TRANSIENT_MAX_ATTEMPTS) is False   # lost connection
    assert veto_retry(response=throttled, attempts=clients.MAX_ATTEMPTS - 1) is None
    assert veto_retry(response=bare_429, attempts=clients.MAX_ATTEMPTS - 1) is None


def test_the_client_never_paces_faster_than_the_emulator_enforces():
    """The emulator's "AWS quotas" mode (emulators/aws/throttling.py) models what AWS enforces; the client's
    table is what certfleet paces at. Where AWS publishes nothing both are certfleet's choice: they must agree
    that the client stays at or under the server's rate, or every run is throttled."""
    from emulators.aws import throttling

    tables = {"acm": throttling.ACM_RATE_QUOTAS, "cloudfront": throttling.CLOUDFRONT_RATE_QUOTAS,
              "resourcegroupstaggingapi": throttling.TAGGING_RATE_QUOTAS}
    for service, table in tables.items():
        for operation, enforced in table.items():
            assert clients.requests_per_second(service, operation) <= enforced, (service, operation)
    assert {op: rate for (service, op), rate in clients.REQUESTS_PER_SECOND.items() if service == "acm"} \
        == throttling.ACM_RATE_QUOTAS   # the published table, the same on both sides
