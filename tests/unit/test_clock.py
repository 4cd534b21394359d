"""components/clock.py: certfleet's now, moved only for the local emulators."""

from __future__ import annotations

from datetime import timedelta

import pytest

from components import clock


@pytest.fixture
def no_endpoints(monkeypatch):
    for variable in (clock.OFFSET_VARIABLE, *clock.ENDPOINT_VARIABLES):
        monkeypatch.delenv(variable, raising=False)
    return monkeypatch


def test_no_offset_is_the_real_time(no_endpoints):
    assert clock.offset() == timedelta(0)


def test_an_offset_against_local_emulators_moves_now_and_epoch(no_endpoints):
    no_endpoints.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    no_endpoints.setenv("CERTFLEET_ALICLOUD_CAS_ENDPOINT", "localhost:8080")
    no_endpoints.setenv(clock.OFFSET_VARIABLE, str(340 * 86400))
    assert clock.offset() == timedelta(days=340)
    assert clock.epoch() - clock.now().timestamp() < 1


@pytest.mark.parametrize("endpoints", [{}, {"AWS_ENDPOINT_URL": "https://acm.us-east-1.amazonaws.com"},
                                       {"AWS_ENDPOINT_URL": "http://127.0.0.1:4566",
                                        "CERTFLEET_HUAWEICLOUD_SCM_ENDPOINT": "https://scm.cn-north-4.myhuaweicloud.com"}])
def test_an_offset_against_a_real_cloud_is_refused(no_endpoints, endpoints):
    # Journal stamps are compared with the cloud's order times: a moved clock there could buy twice.
    for variable, value in endpoints.items():
        no_endpoints.setenv(variable, value)
    no_endpoints.setenv(clock.OFFSET_VARIABLE, "86400")
    with pytest.raises(ValueError, match="local emulators only"):
        clock.now()


def test_a_bad_offset_names_the_variable(no_endpoints):
    no_endpoints.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    no_endpoints.setenv(clock.OFFSET_VARIABLE, "a year")
    with pytest.raises(ValueError, match=clock.OFFSET_VARIABLE):
        clock.offset()
