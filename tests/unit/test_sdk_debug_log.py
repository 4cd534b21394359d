"""components/sdk_debug_log.py: the SDK's debug messages are not sent to the engine unless asked for."""

import pulumi.log
import pytest
from pulumi.runtime import resource

from components import sdk_debug_log


class Engine:
    def __init__(self):
        self.sent = []

    def Log(self, request):   # the engine's gRPC method, as the SDK calls it
        self.sent.append((request.severity, request.message))


@pytest.fixture
def engine(monkeypatch):
    fake = Engine()
    monkeypatch.setattr(pulumi.log, "get_engine", lambda: fake)
    monkeypatch.setattr(pulumi.log, "debug", pulumi.log.debug)   # restored after the test
    return fake


def test_debug_messages_are_dropped_and_others_still_sent(engine, monkeypatch):
    monkeypatch.delenv(sdk_debug_log.ENV, raising=False)
    assert sdk_debug_log.install()
    resource.log.debug("resource registration prepared: ty=t, name=n")   # as the SDK's own modules call it
    pulumi.log.warn("a warning")
    assert [message for _, message in engine.sent] == ["a warning"]


def test_certfleet_sdk_debug_keeps_them(engine, monkeypatch):
    monkeypatch.setenv(sdk_debug_log.ENV, "1")
    assert not sdk_debug_log.install()
    resource.log.debug("resource registration prepared: ty=t, name=n")
    assert [message for _, message in engine.sent] == ["resource registration prepared: ty=t, name=n"]
