"""End to end: the real pulumi CLI, a temp file backend, and the SCM emulator on loopback."""

from __future__ import annotations

import pytest

from components.packing import unpacked
from emulators.core.testing import ControlClient
from tests.emulators.conftest_scm import SCM_AK, SCM_DOMAIN_ID, SCM_SK


APPLICANT = {"name": "Zhang.San", "phone": "13800000000", "email": "ops@example.com"}
CONFIG = {"huaweicloud": {"tags": {"team": "platform"}, "certificates": {
    "portal": {"brand": "GEOTRUST", "type": "DV_SSL_CERT", "domainType": "SINGLE_DOMAIN",
               "domains": ["portal.example.cn"], "applicant": APPLICANT},
    "api": {"brand": "GLOBALSIGN", "type": "OV_SSL_CERT", "domainType": "MULTI_DOMAIN",
            "domains": ["api.example.cn", "www.api.example.cn"], "csr": "generate", "applicant": APPLICANT,
            "company": {"name": "Example Ltd", "province": "Beijing", "city": "Beijing", "country": "CN"}},
}}}


@pytest.fixture
def scm_project(project, scm_emulator, tmp_path):
    project.env.update({"CERTFLEET_HUAWEICLOUD_SCM_ENDPOINT": scm_emulator.url, "HUAWEICLOUD_SDK_AK": SCM_AK,
                        "HUAWEICLOUD_SDK_SK": SCM_SK, "HUAWEICLOUD_SDK_DOMAIN_ID": SCM_DOMAIN_ID,
                        "HOME": str(tmp_path)})  # the SDK writes ~/.huaweicloud/application_id
    return project


def certificates(outputs: dict) -> dict:
    return outputs["huaweicloud"]["certificates"]


def test_buy_apply_publish_refresh_destroy_keeps_issued(scm_project, scm_control):
    project, cli_output = scm_project, []
    project.init()
    project.write_stack("e2e", CONFIG)

    # up: both bought and applied for, pending with their DNS records.
    cli_output.append(project.run("up", "--yes", "--skip-preview").stdout)
    certs = certificates(project.outputs())
    assert {c["status"] for c in certs.values()} == {"CHECKING"}
    assert [r["domain"] for r in certs["api"]["validation_records"]] == ["api.example.cn", "www.api.example.cn"]
    emulated = {c["id"]: c for c in scm_control.call("GET", "scm/certificates")["certificates"]}
    assert set(emulated) == {c["certificate_id"] for c in certs.values()}
    project.run("preview", "--expect-no-changes")

    # The records are published; `up --refresh` picks up the issued certificates.
    for cert in certs.values():
        scm_control.call("POST", f"scm/certificates/{cert['certificate_id']}/publish")
    cli_output.append(project.run("up", "--yes", "--skip-preview", "--refresh").stdout)
    certs = certificates(project.outputs())
    assert {c["status"] for c in certs.values()} == {"ISSUED"}
    assert all(c["not_after"] for c in certs.values())
    [resource] = [r for r in project.resources() if r["urn"].endswith("::portal")]
    assert unpacked(resource["outputs"])["certificate_pem"].startswith("-----BEGIN CERTIFICATE-----")  # in `spec`
    assert resource["outputs"]["private_key_pem"].get("4dabf18193072939515e22adb298388d") is not None  # secret sig

    # destroy keeps the issued certificates in SCM (onDestroy: keep is the default).
    cli_output.append(project.run("destroy", "--yes", "--skip-preview").stdout)
    assert "is kept in SCM; set onDestroy: delete to delete it on destroy" in cli_output[-1]  # destroy says what it kept
    left = scm_control.call("GET", "scm/certificates")["certificates"]
    assert sorted(c["id"] for c in left) == sorted(c["certificate_id"] for c in certs.values())
    assert {c["status"] for c in left} == {"ISSUED"}

    # The private keys never appear in plain text: not in the state files, not in the CLI output.
    assert "PRIVATE KEY" not in project.state_text()
    assert not any("PRIVATE KEY" in text for text in cli_output)


def test_destroy_withdraws_and_refunds_pending_certificates(scm_project, scm_control):
    project = scm_project
    project.init()
    project.write_stack("e2e", {"huaweicloud": {"certificates": {"portal": CONFIG["huaweicloud"]["certificates"]
                                                                 ["portal"]}}})
    project.run("up", "--yes", "--skip-preview")
    assert len(scm_control.call("GET", "scm/certificates")["certificates"]) == 1
    project.run("destroy", "--yes", "--skip-preview")
    assert scm_control.call("GET", "scm/certificates")["certificates"] == []


def test_lost_buy_answer_with_a_lagging_tag_index_buys_once(scm_project, scm_control):
    """The buy's answer is lost and SCM's tag index never shows the order (reference A5): the provider's PAID
    sweep finds it (its own tags prove it this entry's) and takes it; one purchase, then a quiet preview."""
    project = scm_project
    project.init()
    project.write_stack("e2e", {"huaweicloud": {"certificates": {"portal": CONFIG["huaweicloud"]["certificates"]
                                                                 ["portal"]}}})
    scm_control.call("POST", "scm/settings", {"tag_index_lag_reads": 10_000})
    scm_control.add_fault("SubscribeCertificate", drop_response=True, times=1)
    project.run("up", "--yes", "--skip-preview")
    [bought] = scm_control.call("GET", "scm/certificates")["certificates"]
    portal = certificates(project.outputs())["portal"]
    assert portal["certificate_id"] == bought["id"] and portal["status"] == "CHECKING"
    project.run("preview", "--expect-no-changes")


def test_bad_config_fails_before_any_purchase(scm_project, scm_control):
    project = scm_project
    project.init()
    bad = {"huaweicloud": {"certificates": {"portal": {**CONFIG["huaweicloud"]["certificates"]["portal"],
                                                       "years": 5}}}}
    project.write_stack("e2e", bad)
    result = project.run("up", "--yes", "--skip-preview", check=False)
    assert result.returncode != 0
    assert "certfleet:huaweicloud.certificates.portal.years" in result.stdout + result.stderr
    assert scm_control.call("GET", "scm/certificates")["certificates"] == []


ControlClient  # re-exported type of scm_control, for readers
