"""End to end, the money rules that only the engine can exercise: renames (Pulumi aliases and the purchase
journal's preview check) and replacements that must not destroy the serving certificate."""

from __future__ import annotations

import copy

from tests.e2e.test_cas_e2e import CONFIG as CAS_CONFIG
from tests.e2e.test_cas_e2e import cas_control, cas_emulator, cas_project, orders  # noqa: F401 - fixtures
from tests.e2e.test_scm_e2e import CONFIG as SCM_CONFIG
from tests.e2e.test_scm_e2e import certificates, scm_project  # noqa: F401 - fixture

from tests.e2e.conftest import EMULATOR_LISTING_LAG_SECONDS  # a replacement looks once

PORTAL = SCM_CONFIG["huaweicloud"]["certificates"]["portal"]


def scm_certificates(scm_control) -> list[dict]:
    return scm_control.call("GET", "scm/certificates")["certificates"]


def publish_and_refresh(project, control, path: str) -> None:
    """Play the DNS operator for one pending order, then `up --refresh` picks up the issued certificate."""
    control.call("POST", f"{path}/publish")
    project.run("up", "--yes", "--skip-preview", "--refresh")


def test_a_rename_is_refused_at_preview_unless_declared_and_then_buys_nothing(scm_project, scm_control):
    project = scm_project
    project.init()
    project.write_stack("e2e", {"huaweicloud": {"certificates": {"portal": PORTAL}}})
    project.run("up", "--yes", "--skip-preview")
    [bought] = scm_certificates(scm_control)

    # Renamed without saying so: preview fails, naming the entry, the old name and the fix; nothing changes.
    project.write_stack("e2e", {"huaweicloud": {"certificates": {"portal-eu": PORTAL}}})
    for command in (("preview",), ("up", "--yes", "--skip-preview")):
        result = project.run(*command, check=False)
        assert result.returncode != 0
        text = result.stdout + result.stderr
        assert "certfleet:huaweicloud.certificates.portal-eu: buys the same certificate" in text
        assert "previousNames: [portal]" in text
    assert [c["id"] for c in scm_certificates(scm_control)] == [bought["id"]]

    # Declared: the same resource under its new name; nothing bought, replaced or deleted.
    project.write_stack("e2e", {"huaweicloud": {"certificates": {"portal-eu": {**PORTAL,
                                                                               "previousNames": ["portal"]}}}})
    steps = project.preview_json()["changeSummary"]
    assert not steps.get("create") and not steps.get("delete") and not steps.get("replace"), steps
    project.run("up", "--yes", "--skip-preview")
    [after] = scm_certificates(scm_control)
    assert after["id"] == bought["id"]
    assert certificates(project.outputs())["portal-eu"]["certificate_id"] == bought["id"]
    assert after["tags"]["certfleet-resource"].endswith("/portal-eu")
    project.run("preview", "--expect-no-changes")


def test_scm_replacement_keeps_the_serving_certificate_and_destroy_honours_on_destroy(scm_project, scm_control):
    project = scm_project
    project.init()
    config = {"huaweicloud": {"listingLagSeconds": EMULATOR_LISTING_LAG_SECONDS,
                              "certificates": {"portal": {**PORTAL, "onDestroy": "delete"}}}}
    project.write_stack("e2e", config)
    project.run("up", "--yes", "--skip-preview")
    [serving] = scm_certificates(scm_control)
    publish_and_refresh(project, scm_control, f"scm/certificates/{serving['id']}")
    assert certificates(project.outputs())["portal"]["status"] == "ISSUED"

    # A change that needs a new purchase: the successor is bought; the serving one is kept, not deleted.
    replaced = copy.deepcopy(config)
    replaced["huaweicloud"]["certificates"]["portal"]["type"] = "DV_SSL_CERT_BASIC"
    project.write_stack("e2e", replaced)
    output = project.run("up", "--yes", "--skip-preview").stdout
    by_id = {c["id"]: c for c in scm_certificates(scm_control)}
    assert by_id[serving["id"]]["status"] == "ISSUED"  # still there, still serving
    [successor] = [i for i in by_id if i != serving["id"]]
    assert certificates(project.outputs())["portal"]["certificate_id"] == successor
    assert "replaced" in output

    # A real destroy honours onDestroy: delete for the certificate the stack holds now.
    publish_and_refresh(project, scm_control, f"scm/certificates/{successor}")
    project.run("destroy", "--yes", "--skip-preview")
    left = {c["id"] for c in scm_certificates(scm_control)}
    assert successor not in left and serving["id"] in left


def test_cas_replacement_never_revokes_the_issued_order(cas_project, cas_control):
    project = cas_project
    project.init()
    blog = {**CAS_CONFIG["alicloud"]["orders"]["blog"], "revokeOnDelete": True}
    config = {"alicloud": {"contact": CAS_CONFIG["alicloud"]["contact"],
                           "listingLagSeconds": EMULATOR_LISTING_LAG_SECONDS, "orders": {"blog": blog}}}
    project.write_stack("e2e", config)
    project.run("up", "--yes", "--skip-preview")
    first = orders(project.outputs())["blog"]["order_id"]
    publish_and_refresh(project, cas_control, f"cas/orders/{first}")
    assert orders(project.outputs())["blog"]["state"] == "certificate"

    # Another key algorithm needs a new order (delete before replace): the issued one is kept, not revoked.
    replaced = copy.deepcopy(config)
    replaced["alicloud"]["orders"]["blog"]["csr"] = "generate"
    project.write_stack("e2e", replaced)
    project.run("up", "--yes", "--skip-preview")
    second = orders(project.outputs())["blog"]["order_id"]
    assert second != first
    assert cas_control.call("GET", f"cas/orders/{first}")["status"] == "ISSUED"

    # A real destroy honours revokeOnDelete for the order the stack holds now, once issued.
    publish_and_refresh(project, cas_control, f"cas/orders/{second}")
    project.run("destroy", "--yes", "--skip-preview")
    assert cas_control.call("GET", f"cas/orders/{second}")["status"] == "REVOKED"
    assert cas_control.call("GET", f"cas/orders/{first}")["status"] == "ISSUED"
