"""Fixtures for the Huawei Cloud SCM emulator, driven through the official SDK over HTTP.

Loaded for every test by tests/conftest.py (`pytest_plugins`). One emulator per test session (per
xdist worker), reset before every test that asks for ``scm_emulator``.
"""

import os
import shutil
import tempfile
from dataclasses import dataclass, field

import pytest


def _import_sdk_with_private_home() -> None:
    # Importing the SDK core writes ~/.huaweicloud/application_id; point HOME elsewhere while it does.
    # The id is read once, at import, so the temporary home can go right after.
    saved_home = os.environ.get("HOME")
    temporary_home = tempfile.mkdtemp(prefix="scm-sdk-home-")
    os.environ["HOME"] = temporary_home
    try:
        import huaweicloudsdkcore.http.user_agent  # noqa: F401
    finally:
        if saved_home is None:
            os.environ.pop("HOME", None)
        else:
            os.environ["HOME"] = saved_home
        shutil.rmtree(temporary_home, ignore_errors=True)


_import_sdk_with_private_home()

from huaweicloudsdkcore.auth.credentials import GlobalCredentials  # noqa: E402
from huaweicloudsdkcore.http.http_config import HttpConfig  # noqa: E402
from huaweicloudsdkcore.http.http_handler import HttpHandler  # noqa: E402
from huaweicloudsdkscm.v3 import ScmClient  # noqa: E402

from emulators.core import EmulatorServer  # noqa: E402
from emulators.core.testing import ControlClient  # noqa: E402
from emulators.scm import ScmApi  # noqa: E402

SCM_AK = "FAKEAK123SCMEMULATOR"
SCM_SK = "FAKESK456scmEmulatorSecret"
SCM_PROJECT_ID = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
SCM_DOMAIN_ID = "d0m41n1d5cm"
SCM_AUTH_TOKEN = "MIIT" + "x" * 60  # the value of an X-Auth-Token the emulator accepts


def new_scm_api() -> ScmApi:
    return ScmApi(credentials={SCM_AK: SCM_SK}, project_id=SCM_PROJECT_ID, domain_id=SCM_DOMAIN_ID,
                  auth_tokens=(SCM_AUTH_TOKEN,))


@dataclass
class WireLog:
    """What the SDK sent and received, captured with the SDK's own HttpHandler hooks."""

    responses: list = field(default_factory=list)  # requests.Response objects
    request_hooks: list = field(default_factory=list)  # callables(SdkRequest), run after signing

    @property
    def last_response(self):
        return self.responses[-1]

    def handler(self) -> HttpHandler:
        handler = HttpHandler()
        handler.add_request_handler(lambda **kwargs: [hook(kwargs["request"]) for hook in self.request_hooks])
        handler.add_response_handler(lambda **kwargs: self.responses.append(kwargs["response"]))
        return handler


def make_scm_client(url: str, ak: str = SCM_AK, sk: str = SCM_SK, retry_times: int = 0,
                    wire_log: WireLog | None = None) -> ScmClient:
    """The client certfleet builds: GlobalCredentials (with a domain id, so no IAM lookup) + endpoint."""
    config = HttpConfig.get_default_config()
    config.retry_times = retry_times  # urllib3 retries of 429 answers to GET/PUT/DELETE
    config.timeout = (5, 10)
    builder = ScmClient.new_builder() \
        .with_http_config(config) \
        .with_credentials(GlobalCredentials(ak, sk, SCM_DOMAIN_ID)) \
        .with_endpoint(url)
    if wire_log is not None:
        builder = builder.with_http_handler(wire_log.handler())
    return builder.build()


@pytest.fixture(scope="session")
def scm_server():
    with EmulatorServer(new_scm_api()) as server:
        yield server


@pytest.fixture
def scm_emulator(scm_server, monkeypatch):
    """A running SCM emulator with empty state, default settings and no faults."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")  # never send loopback calls to a proxy
    ControlClient(scm_server.url).reset()
    return scm_server


@pytest.fixture
def scm_control(scm_emulator) -> ControlClient:
    return ControlClient(scm_emulator.url)


@pytest.fixture
def scm_wire() -> WireLog:
    return WireLog()


@pytest.fixture
def scm_client(scm_emulator, scm_wire) -> ScmClient:
    return make_scm_client(scm_emulator.url, wire_log=scm_wire)
