"""Fixtures that run the emulators on free loopback ports for the emulator tests."""

from __future__ import annotations

import pytest

from emulators.cas import CasApi
from emulators.core import EmulatorServer
from emulators.core.testing import ControlClient
from tests.emulators.cas_scaffolding import ACCESS_KEY_ID, ACCESS_KEY_SECRET, make_cas_client

PROXY_VARIABLES = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    # Alibaba's SDK sends even loopback calls through a proxy variable and ignores NO_PROXY.
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def cas_server():
    with EmulatorServer(CasApi({ACCESS_KEY_ID: ACCESS_KEY_SECRET})) as server:
        yield server


@pytest.fixture
def cas_client(cas_server):
    return make_cas_client(cas_server)


@pytest.fixture
def cas_control(cas_server) -> ControlClient:
    return ControlClient(cas_server.url)
