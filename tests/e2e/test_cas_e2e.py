"""End to end: the real pulumi CLI, a temp file backend, and the CAS emulator on loopback."""

from __future__ import annotations

import pytest

from components.alicloud import client as cas_api
from emulators.cas import CasApi
from emulators.core import EmulatorServer
from emulators.core.testing import ControlClient
from tests.emulators.cas_scaffolding import ACCESS_KEY_ID, ACCESS_KEY_SECRET

PROXY_VARIABLES = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")
CONFIG = {"alicloud": {
    "contact": {"name": "Tom Zhang", "email": "tom.zhang@example.com", "phone": "13000000000"},
    "orders": {
        "blog": {"productCode": "digicert-free-1-free", "domains": ["blog.example.cn"]},
        "shop": {"productCode": "symantec-dv-1-starter", "api": "withCsr", "csr": "generate", "validation": "FILE",
                 "domains": ["shop.example.cn", "www.shop.example.cn"]},
    }}}


@pytest.fixture
def cas_emulator():
    # The default listing shape (ListUserCertificateOrder shows an order's primary name only), and challenges
    # that lag the order by two reads, as other tools see them: create polls until they are there.
    with EmulatorServer(CasApi({ACCESS_KEY_ID: ACCESS_KEY_SECRET}, challenge_lag_reads=2)) as server:
        yield server


@pytest.fixture
def cas_project(project, cas_emulator):
    for name in PROXY_VARIABLES:
        project.env.pop(name, None)  # the SDK ignores NO_PROXY
    project.env.update({cas_api.ENV_ACCESS_KEY_ID: ACCESS_KEY_ID, cas_api.ENV_ACCESS_KEY_SECRET: ACCESS_KEY_SECRET,
                        cas_api.ENV_ENDPOINT: cas_emulator.endpoint, cas_api.ENV_PROTOCOL: "http"})
    return project


@pytest.fixture
def cas_control(cas_emulator):
    return ControlClient(cas_emulator.url)


def orders(outputs: dict) -> dict:
    return outputs["alicloud"]["orders"]


def test_order_publish_refresh_destroy_keeps_issued(cas_project, cas_control):
    project, cli_output = cas_project, []
    project.init()
    project.write_stack("e2e", CONFIG)

    # up: both ordered, pending, with the challenge to publish.
    cli_output.append(project.run("up", "--yes", "--skip-preview").stdout)
    pending = orders(project.outputs())
    assert {o["state"] for o in pending.values()} == {"domain_verify"}
    assert pending["blog"]["challenge"]["name"] == "_dnsauth.blog.example.cn"
    assert pending["shop"]["challenge"]["uri"] == "/.well-known/pki-validation/fileauth.txt"
    emulated = cas_control.state()["orders"]
    assert sorted(str(o["order_id"]) for o in emulated) == sorted(o["order_id"] for o in pending.values())
    cli_output.append(project.run("preview", "--expect-no-changes").stdout)

    # The challenges are published; `up --refresh` picks up the issued certificates.
    for order in pending.values():
        cas_control.call("POST", f"cas/orders/{order['order_id']}/publish")
    cli_output.append(project.run("up", "--yes", "--skip-preview", "--refresh").stdout)
    issued = orders(project.outputs())
    assert {o["state"] for o in issued.values()} == {"certificate"}
    assert all(o["certificate_pem"].startswith("-----BEGIN CERTIFICATE-----") and o["not_after"]
               for o in issued.values())
    assert issued["shop"]["private_key"] == "[secret]"
    [shop] = [r for r in project.resources() if r["urn"].endswith("::shop")]
    assert shop["outputs"]["private_key"].get("4dabf18193072939515e22adb298388d") is not None  # a secret
    cli_output.append(project.run("preview", "--expect-no-changes").stdout)

    # destroy keeps the issued certificates (revokeOnDelete is false by default).
    cli_output.append(project.run("destroy", "--yes", "--skip-preview").stdout)
    assert "is kept; set revokeOnDelete: true to revoke it on destroy" in cli_output[-1]  # destroy says what it kept
    for order in issued.values():
        assert cas_control.call("GET", f"cas/orders/{order['order_id']}")["status"] == "ISSUED"
    assert project.resources() == []

    everything = "\n".join(cli_output) + project.state_text()
    assert "PRIVATE KEY" not in everything


def test_preview_fails_on_a_quota_shortfall_and_on_bad_config(cas_project, cas_control):
    project = cas_project
    project.init()
    cas_control.call("POST", "cas/packages", {"product_code": "digicert-free-1-free", "total_count": 0})
    project.write_stack("e2e", {"alicloud": {"orders": {"blog": CONFIG["alicloud"]["orders"]["blog"]}}})
    result = project.run("preview", check=False)
    assert result.returncode != 0
    assert "no unit left" in result.stdout + result.stderr

    bad = {"alicloud": {"orders": {"blog": {"productCode": "digicert-free-1-free",
                                            "domains": ["a.example.cn", "*.b.example.cn"]}}}}
    project.write_stack("e2e", bad)
    result = project.run("preview", check=False)
    assert result.returncode != 0
    assert "certfleet:alicloud.orders.blog.domains: CAS does not mix wildcard" in result.stdout + result.stderr
    assert cas_control.state()["orders"] == []
