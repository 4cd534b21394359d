"""End to end: renewal before expiry of a CAS order and an SCM certificate, with the emulators' clocks moved
into the window and certfleet's clock (CERTFLEET_CLOCK_OFFSET_SECONDS) with them."""

from __future__ import annotations

import copy
import json

from components.clock import OFFSET_VARIABLE
from tests.e2e.conftest import EMULATOR_LISTING_LAG_SECONDS
from tests.e2e.test_cas_e2e import CONFIG as CAS_CONFIG
from tests.e2e.test_cas_e2e import cas_control, cas_emulator, cas_project, orders  # noqa: F401 - fixtures
from tests.e2e.test_scm_e2e import CONFIG as SCM_CONFIG
from tests.e2e.test_scm_e2e import certificates, scm_project  # noqa: F401 - fixture

DAY = 86400
# digicert-free-1-free lasts 90 days (CAS renews it in its last 30: WILLEXPIRED); SCM's certificates 365.
INTO_THE_WINDOW = 75 * DAY
CONFIG = {
    "alicloud": {**copy.deepcopy(CAS_CONFIG["alicloud"]),
                 "orders": {"blog": {**CAS_CONFIG["alicloud"]["orders"]["blog"], "renewBefore": 20}}},
    "huaweicloud": {"renewBefore": 300, "certificates": {"portal": SCM_CONFIG["huaweicloud"]["certificates"]["portal"]}},
}


def cas_orders(control) -> list[dict]:
    return control.state()["orders"]


def scm_certificates(control) -> list[dict]:
    return control.call("GET", "scm/certificates")["certificates"]


def issue_both(project, cas_control, scm_control, order_id: str, cert_id: str) -> None:
    cas_control.call("POST", f"cas/orders/{order_id}/publish")
    scm_control.call("POST", f"scm/certificates/{cert_id}/publish")
    project.run("up", "--yes", "--skip-preview", "--refresh")


def issued_stack(project, cas_control, scm_control, config: dict = CONFIG) -> dict:
    project.init()
    project.write_stack("e2e", config)
    project.run("up", "--yes", "--skip-preview")
    outputs = project.outputs()
    issue_both(project, cas_control, scm_control, orders(outputs)["blog"]["order_id"],
               certificates(outputs)["portal"]["certificate_id"])
    return project.outputs()


def into_the_window(project, cas_control, scm_control) -> None:
    cas_control.advance_clock(INTO_THE_WINDOW)
    scm_control.advance_clock(INTO_THE_WINDOW)
    project.env[OFFSET_VARIABLE] = str(INTO_THE_WINDOW)


def test_renewal_orders_one_successor_per_entry_and_then_nothing(cas_project, scm_project, cas_control,
                                                                 scm_control):
    project = cas_project  # the same project as scm_project: both fixtures configure it
    before = issued_stack(project, cas_control, scm_control)
    old_order, old_cert = orders(before)["blog"], certificates(before)["portal"]
    assert old_order["state"] == "certificate" and old_cert["status"] == "ISSUED"
    assert old_order["renewal"]["generation"] == 0 and old_order["renewal"]["state"] == "scheduled"
    assert old_cert["renewal"]["renewBefore"] == 300 and old_cert["renewal"]["not_before"]
    project.run("preview", "--expect-no-changes")

    into_the_window(project, cas_control, scm_control)
    preview = project.run("preview").stdout
    assert "renews alicloud.orders.blog: expires in 15 days (renewBefore 20)" in preview
    assert "renews huaweicloud.certificates.portal: expires in 290 days (renewBefore 300)" in preview
    assert len(cas_orders(cas_control)) == 1 and len(scm_certificates(scm_control)) == 1  # nothing bought

    output = project.run("up", "--yes", "--skip-preview").stdout
    [renewed] = [o for o in cas_orders(cas_control) if str(o["order_id"]) != old_order["order_id"]]
    assert renewed["renewed_from_order_id"] == int(old_order["order_id"])  # the plan's renewal, not a new Create
    [successor] = [c for c in scm_certificates(scm_control) if c["id"] != old_cert["certificate_id"]]
    assert "replaced by its renewal" in output
    renewing = project.outputs()
    assert orders(renewing)["blog"]["order_id"] == str(renewed["order_id"])
    assert orders(renewing)["blog"]["renewal"]["state"] == "renewing"
    assert orders(renewing)["blog"]["renewal"]["renews"]["id"] == old_order["order_id"]
    assert certificates(renewing)["portal"]["certificate_id"] == successor["id"]
    assert certificates(renewing)["portal"]["renewal"]["generation"] == 1
    # The predecessors are kept (never revoked, cancelled or deleted).
    by_id = {str(o["order_id"]): o for o in cas_orders(cas_control)}
    assert by_id[old_order["order_id"]]["state"] == "certificate"
    assert {c["id"]: c["status"] for c in scm_certificates(scm_control)}[old_cert["certificate_id"]] == "ISSUED"
    project.run("preview", "--expect-no-changes")  # a renewing entry is not renewed again

    # CAS places a renewal payed: the user applies for it in the console (the emulator's advance).
    cas_control.call("POST", f"cas/orders/{renewed['order_id']}/advance", {"to": "domain_verify"})
    issue_both(project, cas_control, scm_control, str(renewed["order_id"]), successor["id"])
    after = project.outputs()
    assert orders(after)["blog"]["renewal"]["generation"] == 1
    assert orders(after)["blog"]["renewal"]["state"] == "renewed"
    assert orders(after)["blog"]["not_after"] > old_order["not_after"]
    assert certificates(after)["portal"]["renewal"]["state"] == "renewed"
    assert certificates(after)["portal"]["not_after"] > old_cert["not_after"]
    project.run("up", "--yes", "--skip-preview")
    assert len(cas_orders(cas_control)) == 2 and len(scm_certificates(scm_control)) == 2
    project.run("preview", "--expect-no-changes")


def test_a_lost_buy_answer_during_the_renewal_still_buys_one_successor(cas_project, scm_project, cas_control,
                                                                      scm_control):
    project = cas_project
    issued_stack(project, cas_control, scm_control)
    into_the_window(project, cas_control, scm_control)
    cas_control.add_fault("RenewCertificateOrderForPackageRequest", drop_response=True, times=1)
    scm_control.add_fault("SubscribeCertificate", drop_response=True, times=1)
    project.run("up", "--yes", "--skip-preview", check=False)
    project.run("up", "--yes", "--skip-preview")
    assert len(cas_orders(cas_control)) == 2 and len(scm_certificates(scm_control)) == 2
    outputs = project.outputs()
    assert orders(outputs)["blog"]["renewal"]["generation"] == 1
    assert certificates(outputs)["portal"]["renewal"]["generation"] == 1
    project.run("preview", "--expect-no-changes")


def _stack_state(project) -> dict:
    return json.loads(project.run("stack", "export").stdout)


def _import_state(project, state: dict, tmp_path) -> None:
    path = tmp_path / "state.json"
    path.write_text(json.dumps(state))
    project.run("stack", "import", "--file", str(path))


def _urn(project, type_suffix: str, part: str = "") -> str:
    [urn] = [r["urn"] for r in project.resources() if r["type"].endswith(type_suffix) and part in r["urn"]]
    return urn


def test_a_targeted_renewal_then_a_crash_buys_one_successor(cas_project, scm_project, cas_control, scm_control,
                                                            tmp_path):
    """`pulumi up --target <CasOrder>` in the window leaves the journal out (its gen-0 stamp, aged as in reality:
    written at the first purchase). The renewal refuses under that stamp and buys nothing. Then a crash of such a
    run is simulated (the pre-run state minus the predecessor, which delete before replace removed): the next
    plain `up` buys exactly one successor."""
    project = cas_project
    issued_stack(project, cas_control, scm_control)
    into_the_window(project, cas_control, scm_control)
    state = _stack_state(project)
    resources = state["deployment"]["resources"]
    for resource in resources:
        if resource["type"].endswith("PurchaseJournal"):
            for stamp in (resource.get("outputs") or {}).get("stamps", {}).values():
                stamp["at"] -= 40 * DAY
    _import_state(project, state, tmp_path)
    order = _urn(project, "CasOrder")
    targeted = project.run("up", "--yes", "--skip-preview", "--target", order, check=False)
    assert targeted.returncode != 0 and "of another purchase" in targeted.stdout + targeted.stderr
    assert len(cas_orders(cas_control)) == 1  # nothing bought
    crashed = copy.deepcopy(state)
    crashed["deployment"]["resources"] = [r for r in resources if r["urn"] != order]
    for resource in crashed["deployment"]["resources"]:
        resource["dependencies"] = [d for d in resource.get("dependencies") or [] if d != order]
        for key, deps in list((resource.get("propertyDependencies") or {}).items()):
            resource["propertyDependencies"][key] = [d for d in deps if d != order]
    _import_state(project, crashed, tmp_path)
    project.run("up", "--yes", "--skip-preview")
    project.run("up", "--yes", "--skip-preview")
    assert len(cas_orders(cas_control)) == 2  # one successor, never a second


def test_a_targeted_run_exports_the_renewal_the_resources_hold(cas_project, scm_project, cas_control, scm_control):
    """A `--target` run that leaves the entries out exports their renewal from their state (generation 0, due),
    not from the plan (generation 1, renewing itself): the next plain `up` renews to generation 1, not 2."""
    project = cas_project
    # The renewal's creates follow the targeted run's journal stamps: they look for an order that run may have
    # placed: once here, as the emulators list a new order at once.
    looks_once = {section: {**CONFIG[section], "listingLagSeconds": EMULATOR_LISTING_LAG_SECONDS} for section in CONFIG}
    issued_stack(project, cas_control, scm_control, looks_once)
    into_the_window(project, cas_control, scm_control)
    project.run("up", "--yes", "--skip-preview", "--target", _urn(project, "PurchaseJournal", "alicloud"))
    outputs = project.outputs()
    for renewal in (orders(outputs)["blog"]["renewal"], certificates(outputs)["portal"]["renewal"]):
        assert renewal["generation"] == 0 and renewal["renews"] is None and renewal["state"] == "due"
    assert len(cas_orders(cas_control)) == 1 and len(scm_certificates(scm_control)) == 1
    project.run("up", "--yes", "--skip-preview")
    outputs = project.outputs()
    assert orders(outputs)["blog"]["renewal"]["generation"] == 1
    assert certificates(outputs)["portal"]["renewal"]["generation"] == 1
    assert len(cas_orders(cas_control)) == 2 and len(scm_certificates(scm_control)) == 2
