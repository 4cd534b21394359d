"""The DNS validation's certificate as issued (components/dns/validation.py), per cloud, against the emulators
through the official SDKs: once the CA has issued, create and read output the certificate, its chain, the key
(only when the CA made it), not_after and not_before, equal to what the certificate resource itself outputs on
its next refresh; "" (never null) before, and always for ACM.
"""

from __future__ import annotations

import boto3
import pytest

from components import keys
from components.dns import validation
from components.dns.material_checks import RECORDED_KEYS
from components.dns.validation import MATERIAL_KEYS, ValidationProvider
from tests.provider import test_cas_instance as instance_tests
from tests.provider import test_cas_provider as order_tests
from tests.provider import test_scm_provider as scm_tests
# The CAS emulator (orders and instances) with this process's credentials pointed at it; the SCM provider's.
from tests.provider.test_cas_instance import control, server  # noqa: F401 - fixtures
from tests.provider.test_scm_provider import provider as scm_provider  # noqa: F401 - fixture

SERVED = [{"name": "_dnsauth.example", "asked": True, "served": "served", "status_message": "served"}]
NOTHING = dict.fromkeys(MATERIAL_KEYS, "")


def wait(cloud: str, certificate_id: str, region: str | None = None, timeout: int = 5,
         recorded: dict | None = None) -> dict:
    provider = ValidationProvider()
    provider.clock = scm_tests.FakeClock  # a wait that runs out runs out at once
    return provider.create({"entry": "docs", "cloud": cloud, "certificate_id": certificate_id, "region": region,
                            "records": SERVED, "validation_timeout_seconds": timeout,
                            "recorded": recorded or {}}).outs


def recorded(cloud: str, outs: dict) -> dict:
    """What the program gives the validation (material_checks.recorded_of): the certificate resource's record."""
    return {key: outs.get(key) if outs.get(key) is not None else "" for key in RECORDED_KEYS[cloud]}


def material(outs: dict) -> dict:
    return {k: outs[k] for k in MATERIAL_KEYS}


@pytest.mark.parametrize("csr", ["cas", "generate"])
def test_a_cas_order_the_validation_saw_issued_carries_its_certificate(control, csr):
    provider = order_tests.CasOrderProvider()
    provider.clock = order_tests.FakeClock()
    created = provider.create(order_tests.inputs(**({"csr": "generate"} if csr == "generate" else {}))).outs
    assert created["state"] == "domain_verify"
    assert material(wait("cas", created["order_id"], timeout=0)) == NOTHING  # pending: "" everywhere, never null

    control.call("POST", f"cas/orders/{created['order_id']}/publish")
    outs = wait("cas", created["order_id"], recorded=recorded("cas", created))
    assert outs["issued"] is True
    refreshed = provider.read(created["order_id"], created).outs  # the certificate resource's next refresh
    assert outs["certificate_pem"] == refreshed["certificate_pem"] and outs["not_after"] == refreshed["not_after"]
    assert outs["certificate_chain_pem"] == ""  # CAS's certificate is the leaf followed by its chain
    assert outs["not_before"] and outs["not_before"] < outs["not_after"]
    if csr == "cas":  # CAS made the key and gives it with the certificate
        assert outs["private_key"] == refreshed["private_key"]
        assert keys.certificate_matches_key(outs["certificate_pem"], outs["private_key"])
    else:  # certfleet's own key: the CA has none; the certificate resource's stays the one (issued_view)
        assert outs["private_key"] == "" and keys.certificate_matches_key(outs["certificate_pem"],
                                                                           refreshed["private_key"])
    assert ValidationProvider().read("cas:x", {**outs}).outs["certificate_pem"] == outs["certificate_pem"]  # refresh


def test_a_cas_instance_the_validation_saw_issued_carries_its_certificate(control):
    provider = instance_tests.CasInstanceProvider()
    provider.clock = order_tests.FakeClock()
    instance_id = instance_tests.buy(control)
    created = provider.create(instance_tests.props(instance_id)).outs
    assert created["state"] == "pending"
    assert material(wait("cas-instance", instance_id, timeout=0)) == NOTHING

    control.call("POST", f"cas/instances/{instance_id}/publish")
    outs = wait("cas-instance", instance_id, recorded=recorded("cas-instance", created))
    refreshed = provider.read(instance_id, created).outs
    assert outs["issued"] is True and refreshed["state"] == "issued"
    assert (outs["certificate_pem"], outs["private_key"], outs["not_after"]) == \
        (refreshed["certificate_pem"], refreshed["private_key"], refreshed["not_after"])
    assert keys.certificate_matches_key(outs["certificate_pem"], outs["private_key"])
    assert outs["not_before"]


def test_a_cas_instance_applied_for_again_in_the_console_gives_no_material(server, control):
    """certfleet's application is pending; someone withdraws it in the console and applies again for the same
    name with a key CAS makes: CAS issues that, but it is not certfleet's (the instance's refresh: foreign), so
    the validation gives nothing to deploy."""
    provider = instance_tests.CasInstanceProvider()
    provider.clock = order_tests.FakeClock()
    instance_id = instance_tests.buy(control)
    created = provider.create(instance_tests.props(instance_id, csr="generate")).outs
    client = instance_tests.make_cas_client(server)
    client.cancel_pending_certificate(instance_tests.cas_models.CancelPendingCertificateRequest(instance_id=instance_id))
    client.update_instance(instance_tests.cas_models.UpdateInstanceRequest(
        instance_id=instance_id, domain="web.example.cn", generate_csr_method="online"))  # CAS makes the key
    client.apply_certificate(instance_tests.cas_models.ApplyCertificateRequest(instance_id=instance_id))
    control.call("POST", f"cas/instances/{instance_id}/publish")

    outs = wait("cas-instance", instance_id, recorded=recorded("cas-instance", created))
    assert outs["issued"] is True and material(outs) == NOTHING
    assert "foreign" in outs["status_message"] and "`pulumi up --refresh` decides" in outs["status_message"]
    assert provider.read(instance_id, created).outs["state"] == "foreign"  # what the refresh then decides
    assert material(wait("cas-instance", instance_id)) == NOTHING  # no record given: nothing either


@pytest.mark.parametrize("change", ["adopted", "another key", "other names"])
def test_a_cas_order_certificate_that_fails_the_providers_checks_gives_no_material(control, change):
    provider = order_tests.CasOrderProvider()
    provider.clock = order_tests.FakeClock()
    created = provider.create(order_tests.inputs(csr="generate")).outs
    control.call("POST", f"cas/orders/{created['order_id']}/publish")
    record = recorded("cas", created)
    record.update({"adopted": {"adopted": True},
                   "another key": {"csr": keys.generate_key_and_csr(list(record["domains"]), "RSA_2048")[1]},
                   "other names": {"domains": ["other.example.cn", *record["domains"]]}}[change])
    outs = wait("cas", created["order_id"], recorded=record)
    assert outs["issued"] is True and material(outs) == NOTHING
    assert material(wait("cas", created["order_id"], recorded=recorded("cas", created)))["certificate_pem"]


def test_an_scm_certificate_the_validation_saw_issued_carries_its_certificate_chain_and_key(scm_provider, scm_control):
    provider, control = scm_provider, scm_control
    created = provider.create({**scm_tests.inputs(), "issued_timeout_seconds": 0}).outs
    cert_id = created["certificate_id"]
    assert material(wait("scm", cert_id, "cn-north-4", timeout=0)) == NOTHING

    control.call("POST", f"scm/certificates/{cert_id}/publish")
    outs = wait("scm", cert_id, "cn-north-4")
    refreshed = provider.read(cert_id, created).outs
    assert outs["issued"] is True and refreshed["status"] == "ISSUED"
    assert (outs["certificate_pem"], outs["certificate_chain_pem"], outs["private_key"], outs["not_after"]) == \
        (refreshed["certificate_pem"], refreshed["certificate_chain_pem"], refreshed["private_key_pem"],
         refreshed["not_after"])
    assert "PRIVATE KEY" in outs["private_key"]  # SCM made it (csr: scm)
    assert outs["certificate_chain_pem"].startswith("-----BEGIN CERTIFICATE-----") and outs["not_before"]
    # ... and nothing of it in what the validation says.
    assert "PRIVATE KEY" not in outs["status_message"] and "BEGIN" not in outs["status_message"]


def test_an_acm_certificate_gives_no_material(aws):
    acm = boto3.client("acm", region_name="us-east-1")
    arn = acm.request_certificate(DomainName="shop.example.com", ValidationMethod="DNS")["CertificateArn"]
    outs = wait("acm", arn, "us-east-1", timeout=0)
    assert material(outs) == NOTHING and outs["status"] == "PENDING_VALIDATION"
    issued = validation.Reading("ISSUED", validation.ISSUED)  # as acm_status reads an issued one
    assert validation._outputs({}, issued, None)["certificate_pem"] == "" and issued.material == NOTHING
