"""End to end: adopting a CAS order and an SCM certificate bought out of band (through the emulators' APIs,
with the official SDKs, as in the consoles) with the real pulumi CLI and a temp file backend."""

from __future__ import annotations

import pytest

from components.alicloud import client as cas_api
from tests.e2e.test_cas_e2e import PROXY_VARIABLES, cas_control, cas_emulator  # noqa: F401
from tests.emulators.cas_scaffolding import ACCESS_KEY_ID, ACCESS_KEY_SECRET, make_cas_client, order_for_package
from tests.emulators.conftest_scm import SCM_AK, SCM_DOMAIN_ID, SCM_SK
from tests.provider.test_adopt_scm import buy_out_of_band

APPLICANT = {"name": "Zhang.San", "phone": "13800000000", "email": "ops@example.com"}


def config(order_id: str, cert_id: str | None, years: int = 1, **adopt_flags) -> dict:
    adopt_cas = {"adopt": order_id} if order_id else {}
    adopt_scm = {"adopt": cert_id} if cert_id else {}
    return {
        "alicloud": {"revokeOnDelete": True, "orders": {
            "blog": {"productCode": "digicert-free-1-free", "domains": ["blog.example.cn"], **adopt_cas}}},
        "huaweicloud": {"certificates": {
            "portal": {"brand": "GEOTRUST", "type": "DV_SSL_CERT", "domainType": "SINGLE_DOMAIN", "years": years,
                       "domains": ["portal.example.cn"], "applicant": APPLICANT, **adopt_scm, **adopt_flags}}},
    }


@pytest.fixture
def paid_project(project, cas_emulator, scm_emulator, tmp_path):  # noqa: F811
    for name in PROXY_VARIABLES:
        project.env.pop(name, None)  # the CAS SDK ignores NO_PROXY
    project.env.update({cas_api.ENV_ACCESS_KEY_ID: ACCESS_KEY_ID, cas_api.ENV_ACCESS_KEY_SECRET: ACCESS_KEY_SECRET,
                        cas_api.ENV_ENDPOINT: cas_emulator.endpoint, cas_api.ENV_PROTOCOL: "http",
                        "CERTFLEET_HUAWEICLOUD_SCM_ENDPOINT": scm_emulator.url, "HUAWEICLOUD_SDK_AK": SCM_AK,
                        "HUAWEICLOUD_SDK_SK": SCM_SK, "HUAWEICLOUD_SDK_DOMAIN_ID": SCM_DOMAIN_ID,
                        "HOME": str(tmp_path)})
    return project


def test_adopt_out_of_band_purchases_preview_clean_destroy_keeps(paid_project, cas_emulator, cas_control,  # noqa: F811
                                                                 scm_emulator, scm_control):
    project = paid_project
    order_id = str(order_for_package(make_cas_client(cas_emulator), "blog.example.cn",
                                     product_code="digicert-free-1-free"))
    cert_id = buy_out_of_band(scm_emulator, years=2)
    project.init()

    # A difference only a purchase could change is refused at preview, naming the entry, the id and the field.
    project.write_stack("e2e", config(order_id, cert_id))
    refused = project.run("preview", check=False)
    assert refused.returncode != 0
    assert cert_id in refused.stdout and "years is 2 in SCM, 1 in the entry" in refused.stdout

    # Matching entries adopt: nothing is bought, the outputs say adopted.
    project.write_stack("e2e", config(order_id, cert_id, years=2))
    project.run("up", "--yes")
    outputs = project.outputs()
    order = outputs["alicloud"]["orders"]["blog"]
    cert = outputs["huaweicloud"]["certificates"]["portal"]
    assert (order["order_id"], order["adopted"], order["state"]) == (order_id, True, "domain_verify")
    assert (cert["certificate_id"], cert["adopted"], cert["status"]) == (cert_id, True, "CHECKING")
    assert [str(o["order_id"]) for o in cas_control.state()["orders"]] == [order_id]
    assert [c["id"] for c in scm_control.call("GET", "scm/certificates")["certificates"]] == [cert_id]
    project.run("preview", "--expect-no-changes")

    # Removing the adopt lines changes nothing.
    project.write_stack("e2e", config("", None, years=2))
    project.run("preview", "--expect-no-changes")

    # Issued, then destroyed: both kept (the section's revokeOnDelete never reaches an adopted order).
    cas_control.call("POST", f"cas/orders/{order_id}/publish")
    scm_control.call("POST", f"scm/certificates/{cert_id}/publish")
    project.run("up", "--yes", "--refresh")
    destroyed = project.run("destroy", "--yes", "--skip-preview").stdout
    assert "adopted it by id" in destroyed and "certfleet adopted it" in destroyed
    assert cas_control.call("GET", f"cas/orders/{order_id}")["status"] == "ISSUED"
    assert [c["status"] for c in scm_control.call("GET", "scm/certificates")["certificates"]] == ["ISSUED"]
    assert project.resources() == []
