"""Builders shared by the CAS emulator tests: SDK clients, CSRs, orders; the emulator as certfleet's CAS."""

from __future__ import annotations

import contextlib
from typing import Iterator

from alibabacloud_cas20200407 import models as cas_models
from alibabacloud_cas20200407.client import Client
from alibabacloud_tea_openapi.models import Config
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

PROXY_VARIABLES = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")
ACCESS_KEY_ID = "LTAI5tEMULATORTEST01"
ACCESS_KEY_SECRET = "emulator-test-secret"
CONTACT = {"username": "Tom Zhang", "phone": "13000000000", "email": "tom.zhang@example.com"}


def make_cas_client(server, access_key_id: str = ACCESS_KEY_ID, access_key_secret: str = ACCESS_KEY_SECRET,
                    **config) -> Client:
    return Client(Config(access_key_id=access_key_id, access_key_secret=access_key_secret,
                         endpoint=server.endpoint, protocol="http", **config))


@contextlib.contextmanager
def certfleet_cas(monkeypatch, api) -> Iterator:
    """The emulator serving `api` on loopback, and certfleet's CAS client (components/alicloud/client.py) pointed
    at it with the test key: yields the server. Alibaba's SDK ignores NO_PROXY, so the proxy variables go."""
    from components.alicloud import client as cas_api
    from emulators.core import EmulatorServer

    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    with EmulatorServer(api) as server:
        monkeypatch.setenv(cas_api.ENV_ACCESS_KEY_ID, ACCESS_KEY_ID)
        monkeypatch.setenv(cas_api.ENV_ACCESS_KEY_SECRET, ACCESS_KEY_SECRET)
        monkeypatch.setenv(cas_api.ENV_ENDPOINT, server.endpoint)
        monkeypatch.setenv(cas_api.ENV_PROTOCOL, "http")
        cas_api._clients.clear()
        try:
            yield server
        finally:
            cas_api._clients.clear()


_KEYS: dict = {}


def make_key(kind: str = "RSA", size: int = 2048):
    """A private key, reused per (kind, size): RSA generation dominates the suite's run time otherwise."""
    if (kind, size) not in _KEYS:
        if kind == "RSA":
            _KEYS[kind, size] = rsa.generate_private_key(public_exponent=65537, key_size=size)
        else:
            _KEYS[kind, size] = ec.generate_private_key(ec.SECP256R1())
    return _KEYS[kind, size]


def make_csr(common_name: str | None, sans: list[str] = (), key=None) -> tuple[str, object]:
    """(CSR PEM, private key); `common_name=None` leaves the CN out."""
    key = key or make_key()
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)] if common_name else []
    attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, "certfleet tests"))
    builder = x509.CertificateSigningRequestBuilder().subject_name(x509.Name(attributes))
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in sans]), critical=False)
    csr = builder.sign(key, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.PEM).decode(), key


def order_for_package(client: Client, domain: str | None = "www.example.com", **fields) -> int:
    request = cas_models.CreateCertificateForPackageRequestRequest(domain=domain, **fields)
    return client.create_certificate_for_package_request(request).body.order_id


def describe(client: Client, order_id: int):
    return client.describe_certificate_state(cas_models.DescribeCertificateStateRequest(order_id=order_id)).body


def package_state(client: Client, product_code: str = "digicert-free-1-free"):
    request = cas_models.DescribePackageStateRequest(product_code=product_code)
    return client.describe_package_state(request).body


def list_orders(client: Client, **fields):
    return client.list_user_certificate_order(cas_models.ListUserCertificateOrderRequest(**fields)).body


def issue(client: Client, control, order_id: int):
    """Publish the challenge of a fresh order and read it until issued (waits are 0 by default)."""
    control.call("POST", f"cas/orders/{order_id}/publish")
    state = describe(client, order_id)
    assert state.type == "certificate"
    return state
