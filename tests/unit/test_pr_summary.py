"""scripts/pr_summary*.py: each rule on a small hand-made digest, then the whole summary on previews the real CLI
made (tests/data/previews, see its README): determinism, reordering, secrets, errors and policy at the top."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from scripts import pr_summary
from scripts import pr_summary_rules as rules
from scripts.pr_summary_context import context_of
from scripts.pr_summary_digest import UNKNOWN, Unreadable, read_events, read_preview, top_key, urn_parts
from scripts.pr_summary_markdown import render, text

PREVIEWS = Path(__file__).resolve().parent.parent / "data" / "previews"
PARENTS = {"aws": "certfleet:aws:Certificates", "alicloud": "certfleet:alicloud:Orders",
           "huaweicloud": "certfleet:huaweicloud:Certificates"}
STACK_URN = "urn:pulumi:pr::certfleet::pulumi:pulumi:Stack::certfleet-pr"


def urn(type_: str, name: str) -> str:
    cloud = type_.split(":")[0]
    return f"urn:pulumi:pr::certfleet::{PARENTS.get(cloud, 'x')}$pulumi-python:dynamic/{type_}::{name}"


def step(op: str, type_: str, name: str, old: dict | None = None, new: dict | None = None,
         outputs: dict | None = None, replace: tuple = (), diffs: tuple = (), dbr: bool = False) -> dict:
    raw = {"op": op, "urn": urn(type_, name), "detailedDiff": None}
    if old is not None or outputs is not None:
        raw["oldState"] = {"inputs": {"__provider": "[secret]", **(old or {})}, "outputs": outputs or {},
                           **({"pendingReplacement": True} if dbr else {"delete": op == "replace"}),
                           "sourcePosition": "project:///../../root/secret/place.py#3",
                           "stackTrace": [{"sourcePosition": "project:///../../root/secret/place.py#3"}]}
    if new is not None:
        raw["newState"] = {"inputs": {"__provider": "[secret]", **new}}
    if replace:
        raw["replaceReasons"] = list(replace)
    if diffs or replace:
        raw["diffReasons"] = sorted(set(diffs) | set(replace))
    return raw


def digest(*steps: dict, diagnostics: tuple = (), stack_outputs: dict | None = None) -> str:
    root = {"op": "same", "urn": STACK_URN, "oldState": {"outputs": stack_outputs or {}}}
    return json.dumps({"steps": [root, *steps], "diagnostics": list(diagnostics), "duration": 123,
                       "changeSummary": {"same": 1}})


def changes(*steps: dict, stack_outputs: dict | None = None):
    preview = read_preview(digest(*steps, stack_outputs=stack_outputs))
    return preview, context_of(preview), {c.name: c for c in preview.changes}


def texts(check, *steps: dict, name: str, stack_outputs: dict | None = None) -> list[str]:
    _, ctx, by_name = changes(*steps, stack_outputs=stack_outputs)
    return [f.text for f in check(by_name[name], ctx)]


CAS_OV = {"order_name": "api", "product_code": "geotrust-ov-1-personal", "domains": ["api.example.cn"],
          "validation": "DNS", "revoke_on_delete": True}
SCM_DV = {"cert_name": "portal", "brand": "GEOTRUST", "type": "DV_SSL_CERT", "domain_type": "SINGLE_DOMAIN",
          "years": 1, "domains": ["portal.example.cn"], "validation": "DNS", "on_destroy": "keep"}
ACM = {"cert_name": "shop", "domain": "shop.example.com", "sans": ["shop.example.com", "www.shop.example.com"],
       "key_algorithm": "RSA_2048", "region": "us-east-1"}
DIST = {"dist_name": "shop-cdn", "certificate_name": "shop", "aliases": ["shop.example.com"], "enabled": True,
        "minimum_protocol_version": "TLSv1.2_2021", "certificate_arn": "arn:old"}


# --- reading ---------------------------------------------------------------------------------------------------

def test_urn_parts_and_property_paths():
    assert urn_parts(urn("aws:AcmCertificate", "shop")) == ("pr", "certfleet", "aws:AcmCertificate", "shop")
    assert urn_parts(STACK_URN)[2] == "pulumi:pulumi:Stack"
    assert [top_key(k) for k in ("sans[2]", "tags.team", '["a.b"].c', "domain")] == ["sans", "tags", "a.b", "domain"]


def test_replacement_mode_comes_from_the_old_state():
    _, _, by_name = changes(step("replace", "alicloud:CasOrder", "api", CAS_OV, CAS_OV, replace=("csr_mode",),
                                 dbr=True),
                            step("replace", "aws:AcmCertificate", "shop", ACM, ACM, replace=("sans",)))
    assert by_name["api"].mode == "delete-before-replace"
    assert by_name["shop"].mode == "create-before-delete"


def test_replacement_steps_fold_into_one_change_with_their_order():
    shown = [dict(step("delete-replaced", "alicloud:CasOrder", "api", CAS_OV)),
             step("replace", "alicloud:CasOrder", "api", CAS_OV, CAS_OV, replace=("domains",)),
             step("create-replacement", "alicloud:CasOrder", "api", CAS_OV, CAS_OV)]
    preview = read_preview(digest(*shown))
    [api] = [c for c in preview.changes if c.name == "api"]
    assert api.op == "replace" and api.mode == "delete-before-replace"


def test_without_diff_reasons_the_changed_inputs_are_compared():
    _, _, by_name = changes(step("update", "huaweicloud:ScmCertificate", "portal", SCM_DV,
                                 {**SCM_DV, "tags": {"team": "a"}}))
    assert by_name["portal"].diff_keys == ("tags",)


@pytest.mark.parametrize("bad", ["", "not json", "[1, 2]", '{"steps": 3}'])
def test_what_is_no_preview_is_unreadable(bad):
    with pytest.raises(Unreadable):
        read_preview(bad)


def test_an_event_log_line_that_is_not_json_is_unreadable():
    with pytest.raises(Unreadable, match="line 2"):
        read_events('{"sequence": 0}\n{oops\n', read_preview(digest()))


# --- money -----------------------------------------------------------------------------------------------------

def test_cas_order_buys_a_plan_unit_named_by_brand_level_scope_and_names():
    [found] = texts(rules.cas_order_purchase, step("create", "alicloud:CasOrder", "api", new=CAS_OV), name="api")
    assert found == ("buys 1 GeoTrust OV certificate, 1 year, 1 name "
                     "(single-domain plan `geotrust-ov-1-personal`: one plan unit)")
    wildcard = {**CAS_OV, "product_code": "globalsign-dv-w-advanced", "domains": ["*.a.cn", "*.b.cn"]}
    _, ctx, by_name = changes(step("replace", "alicloud:CasOrder", "api", CAS_OV, wildcard, replace=("domains",)))
    [finding] = rules.cas_order_purchase(by_name["api"], ctx)
    assert finding.text.startswith("buys 1 GlobalSign DV certificate, 1 year, 2 names (wildcard plan")
    assert finding.bucket == ("paid", "alicloud", "GlobalSign DV wildcard, 1 year")


def test_a_free_cas_plan_is_counted_as_free():
    _, ctx, by_name = changes(step("create", "alicloud:CasOrder", "docs", new={
        "order_name": "docs", "product_code": "digicert-free-1-free", "domains": ["docs.example.cn"]}))
    [finding] = rules.cas_order_purchase(by_name["docs"], ctx)
    assert finding.text.startswith("orders 1 free DigiCert DV certificate, 1 year, 1 name (single-domain plan")
    assert finding.bucket == ("free", "alicloud", "DigiCert DV single-domain (free plan)")


def test_an_entry_that_adopts_buys_nothing():
    adopting = {**CAS_OV, "adopt_id": "98987582437920968"}
    assert texts(rules.cas_order_purchase, step("create", "alicloud:CasOrder", "api", new=adopting), name="api") == []
    [found] = texts(rules.adoption, step("create", "alicloud:CasOrder", "api", new=adopting), name="api")
    assert found == "adopts `98987582437920968`: nothing bought, requested or created"


def test_an_instance_entry_uses_an_instance_bought_already():
    new = {"order_name": "login", "instance_id": "cas-cn-68n1mm16ab12", "domains": ["login.example.cn"]}
    _, ctx, by_name = changes(step("create", "alicloud:CasInstanceCertificate", "login", new=new))
    [finding] = rules.cas_instance_application(by_name["login"], ctx)
    assert "through CAS instance `cas-cn-68n1mm16ab12`, 1 name: no new purchase" in finding.text
    assert finding.bucket[0] == "instance"


def test_scm_purchase_names_brand_type_domain_type_years_and_names_bought():
    [single] = texts(rules.scm_purchase, step("create", "huaweicloud:ScmCertificate", "portal", new=SCM_DV),
                     name="portal")
    assert single == "buys 1 GeoTrust DV certificate, 1 year, 1 name (DV_SSL_CERT, single-domain)"
    multi = {**SCM_DV, "brand": "GLOBALSIGN", "type": "OV_SSL_CERT", "domain_type": "MULTI_DOMAIN", "years": 2,
             "domains": ["a.example.cn", "b.example.cn"], "domain_numbers": 5, "wildcard_domain_number": 1}
    [found] = texts(rules.scm_purchase, step("create", "huaweicloud:ScmCertificate", "portal", new=multi),
                    name="portal")
    assert found == "buys 1 GlobalSign OV certificate, 2 years, 5 names, 1 extra wildcard (OV_SSL_CERT, multi-domain)"


def test_a_packed_resource_is_read_field_by_field():
    # An ACM certificate's state is one JSON property (components/packing.py): the engine reports `spec`.
    from components.packing import packed
    old, new = packed(ACM), packed({**ACM, "tags": {"team": "web"}})
    _, _, by_name = changes(step("update", "aws:AcmCertificate", "shop", old, new, diffs=("spec",)))
    assert by_name["shop"].diff_keys == ("tags",) and by_name["shop"].new["domain"] == ACM["domain"]
    [request] = texts(rules.acm_request, step("create", "aws:AcmCertificate", "shop", new=packed(ACM)), name="shop")
    assert request == "requests 1 ACM certificate (free) for shop.example.com, www.shop.example.com (RSA_2048)"
    [found] = texts(rules.replaces_aws_certificate, step("replace", "aws:AcmCertificate", "shop", old, old,
                                                         replace=("sans",)), name="shop")
    assert found.startswith("replaces the certificate (create-before-delete)")


def test_acm_requests_and_imports_are_free():
    [request] = texts(rules.acm_request, step("create", "aws:AcmCertificate", "shop", new=ACM), name="shop")
    assert request == "requests 1 ACM certificate (free) for shop.example.com, www.shop.example.com (RSA_2048)"
    [imported] = texts(rules.acm_import, step("create", "aws:AcmImport", "legacy", new={"cert_name": "legacy"}),
                       name="legacy")
    assert imported == "imports 1 certificate into ACM (free)"
    [again] = texts(rules.acm_import, step("update", "aws:AcmImport", "legacy", {"certificate_pem": "a"},
                                           {"certificate_pem": "b"}, diffs=("certificate_pem",)), name="legacy")
    assert again.startswith("re-imports the certificate in place")


# --- risk ------------------------------------------------------------------------------------------------------

def test_replacing_a_certificate_names_the_distributions_it_serves():
    served = {"aws": {"distributions": {"shop-cdn": {"certificate": "shop", "aliases": ["shop.example.com"]}}}}
    [found] = texts(rules.replaces_aws_certificate, step("replace", "aws:AcmCertificate", "shop", ACM, ACM,
                                                         replace=("sans",)), name="shop", stack_outputs=served)
    assert found.startswith("replaces the certificate serving shop-cdn (create-before-delete)")
    [alone] = texts(rules.replaces_aws_certificate, step("replace", "aws:AcmCertificate", "shop", ACM, ACM,
                                                         replace=("sans",)), name="shop")
    assert alone == "replaces the certificate (create-before-delete); the old one is deleted once nothing uses it"


@pytest.mark.parametrize("type_,state,fate", [
    ("alicloud:CasOrder", {"state": "domain_verify"}, "the old pending order is cancelled"),
    ("alicloud:CasOrder", {"state": "certificate"}, "the old, issued certificate is kept, not revoked"),
    ("alicloud:CasInstanceCertificate", {"state": "pending"}, "the old pending application is withdrawn"),
    ("huaweicloud:ScmCertificate", {"status": "CHECKING"}, "the old order is withdrawn and refunded if SCM"),
    ("huaweicloud:ScmCertificate", {"status": "ISSUED"}, "the old, issued certificate is kept in SCM, not deleted"),
    ("huaweicloud:ScmCertificate", {"status": "PAID"},
     "the old order is refunded if SCM still refunds it (7 days after payment)"),
    ("huaweicloud:ScmCertificate", {"status": "UNPASSED"},
     "the old, rejected order is kept in SCM (SCM refunds no rejected certificate)"),
])
def test_replacing_a_paid_certificate_says_what_happens_to_the_old_one(type_, state, fate):
    [found] = texts(rules.replaces_paid_certificate, step("replace", type_, "x", {"a": 1}, {"a": 2}, outputs=state,
                                                          replace=("a",)), name="x")
    assert fate in found


@pytest.mark.parametrize("old,outputs,expected", [
    ({**CAS_OV}, {"state": "certificate", "order_id": "7"},
     ("risk", "revokes the issued certificate of CAS order 7 on destroy (revokeOnDelete: true)")),
    ({**CAS_OV, "revoke_on_delete": False}, {"state": "certificate", "order_id": "7"},
     ("note", "leaves the stack; the issued certificate of CAS order 7 is kept (revokeOnDelete is not set)")),
    ({**CAS_OV, "revoke_on_delete": False}, {"state": "domain_verify", "order_id": "7"},
     ("risk", "cancels the pending CAS order 7 (its plan unit comes back)")),
    ({**CAS_OV}, {"state": "certificate", "order_id": "7", "adopted": True},
     ("note", "leaves the stack; CAS order 7 is kept (it was adopted)")),
    ({**CAS_OV, "revoke_on_delete": False, "entry_revoke_on_delete": True},
     {"state": "certificate", "order_id": "7", "adopted": True, "adopted_by_id": True},
     ("risk", "revokes the issued certificate of CAS order 7 on destroy (revokeOnDelete: true)")),
])
def test_deleting_a_cas_order_revokes_only_what_the_entry_says(old, outputs, expected):
    _, ctx, by_name = changes(step("delete", "alicloud:CasOrder", "api", old, outputs=outputs))
    [finding] = rules.deletes_cas_order(by_name["api"], ctx)
    assert (finding.category, finding.text) == expected


@pytest.mark.parametrize("old,outputs,expected", [
    ({**SCM_DV, "on_destroy": "delete"}, {"status": "ISSUED", "certificate_id": "scs1"},
     ("risk", "deletes the ISSUED SCM certificate scs1 on destroy (onDestroy: delete)")),
    (SCM_DV, {"status": "ISSUED", "certificate_id": "scs1"},
     ("note", "leaves the stack; the ISSUED SCM certificate scs1 is kept (onDestroy: keep)")),
    # PAID: nothing to withdraw; destroy refunds it (unsubscribe) within SCM's 7 days.
    (SCM_DV, {"status": "PAID", "certificate_id": "scs1"},
     ("risk", "refunds the PAID SCM certificate scs1 if SCM still refunds it (7 days after "
              "payment; otherwise it is kept)")),
    (SCM_DV, {"status": "CHECKING_ORG", "certificate_id": "scs1"},
     ("risk", "withdraws the CHECKING_ORG SCM certificate scs1 and refunds it if SCM still refunds it (7 days after "
              "payment; otherwise it is kept)")),
    (SCM_DV, {"status": "CANCELCHECKING", "certificate_id": "scs1"},
     ("risk", "waits for the withdrawal of the CANCELCHECKING SCM certificate scs1 under review, then refunds it if "
              "SCM still refunds it (7 days after payment; otherwise it is kept)")),
    # UNPASSED: SCM refunds no rejected certificate (scm_model.refund_problem): kept.
    (SCM_DV, {"status": "UNPASSED", "certificate_id": "scs1"},
     ("note", "leaves the stack; the UNPASSED SCM certificate scs1 is kept, paid for (it was rejected, and SCM "
              "refunds no rejected certificate)")),
    # REVOKED with onDestroy: delete: SCM deletes no revoked certificate; destroy refunds it (scm_destroy).
    ({**SCM_DV, "on_destroy": "delete"}, {"status": "REVOKED", "certificate_id": "scs1"},
     ("risk", "refunds the REVOKED SCM certificate scs1 on destroy (onDestroy: delete) if SCM still refunds it "
              "(7 days after payment; otherwise it is kept)")),
    (SCM_DV, {"status": "REVOKED", "certificate_id": "scs1"},
     ("note", "leaves the stack; the REVOKED SCM certificate scs1 is kept (onDestroy: keep)")),
    (SCM_DV, {"status": "CHECKING", "certificate_id": "scs1", "adopted": True},
     ("note", "leaves the stack; SCM certificate scs1 is kept (it was adopted)")),
])
def test_deleting_an_scm_certificate_follows_on_destroy_and_its_status(old, outputs, expected):
    _, ctx, by_name = changes(step("delete", "huaweicloud:ScmCertificate", "portal", old, outputs=outputs))
    [finding] = rules.deletes_scm_certificate(by_name["portal"], ctx)
    assert (finding.category, finding.text) == expected


def test_deleting_an_instance_certificate_withdraws_or_revokes():
    old = {"instance_id": "cas-cn-1", "revoke_on_delete": True}
    [pending] = texts(rules.deletes_cas_instance_certificate, step(
        "delete", "alicloud:CasInstanceCertificate", "login", old, outputs={"state": "pending"}), name="login")
    assert pending.startswith("withdraws the pending application on CAS instance cas-cn-1")
    [issued] = texts(rules.deletes_cas_instance_certificate, step(
        "delete", "alicloud:CasInstanceCertificate", "login", old, outputs={"state": "issued"}), name="login")
    assert issued.startswith("revokes the issued certificate on CAS instance cas-cn-1 on destroy")


def test_deleting_an_acm_certificate_says_issued_and_serving_unless_kept():
    served = {"aws": {"distributions": {"shop-cdn": {"certificate": "shop"}}}}
    [found] = texts(rules.deletes_aws_certificate, step("delete", "aws:AcmCertificate", "shop", ACM,
                                                        outputs={"status": "ISSUED"}), name="shop",
                    stack_outputs=served)
    assert found == ("deletes an issued ACM certificate (shop.example.com) that serves shop-cdn (delete retries "
                     "while it is in use)")
    [kept] = texts(rules.deletes_aws_certificate, step("delete", "aws:AcmCertificate", "shop",
                                                       {**ACM, "on_destroy": "keep"}, outputs={"status": "ISSUED"}),
                   name="shop")
    assert kept == "leaves the stack; the certificate stays in ACM (onDestroy: keep)"


def test_deleting_a_distribution_stops_serving_its_aliases():
    [found] = texts(rules.deletes_distribution, step("delete", "aws:Distribution", "shop-cdn", DIST,
                                                     outputs={"distribution_id": "E1"}), name="shop-cdn")
    assert found == "disables and deletes CloudFront distribution E1: stops serving shop.example.com"


def test_an_alias_moving_between_distributions_is_named():
    api_old = {**DIST, "dist_name": "api-cdn", "aliases": ["api.example.com", "shop.example.com"]}
    api_new = {**api_old, "aliases": ["api.example.com"]}
    shop_new = {**DIST, "aliases": ["shop.example.com", "www.example.com"]}
    shop_old = {**DIST, "aliases": ["www.example.com"]}
    steps = (step("update", "aws:Distribution", "api-cdn", api_old, api_new, diffs=("aliases",)),
             step("update", "aws:Distribution", "shop-cdn", shop_old, shop_new, diffs=("aliases",)))
    assert texts(rules.moves_aliases, *steps, name="shop-cdn") == [
        "moves alias shop.example.com from api-cdn to shop-cdn"]
    assert texts(rules.moves_aliases, *steps, name="api-cdn") == []  # handed over, still served
    dropped = step("update", "aws:Distribution", "api-cdn", api_old, api_new, diffs=("aliases",))
    assert texts(rules.moves_aliases, dropped, name="api-cdn") == ["stops serving shop.example.com"]


def test_disabling_switching_and_tls_changes_of_a_distribution():
    disabled = step("update", "aws:Distribution", "shop-cdn", DIST, {**DIST, "enabled": False}, diffs=("enabled",))
    assert texts(rules.disables_distribution, disabled, name="shop-cdn") == [
        "disables the distribution: it stops serving its aliases"]
    switched = step("update", "aws:Distribution", "shop-cdn", DIST, {**DIST, "certificate_name": "wild"},
                    diffs=("certificate_name",))
    assert texts(rules.switches_certificate, switched, name="shop-cdn") == [
        "switches to certificate wild (from shop)"]
    tls = step("update", "aws:Distribution", "shop-cdn", DIST, {**DIST, "minimum_protocol_version": "TLSv1"},
               diffs=("minimum_protocol_version",))
    assert texts(rules.changes_tls_policy, tls, name="shop-cdn") == [
        "changes the minimum TLS version from TLSv1.2_2021 to TLSv1"]


def test_turning_on_revoke_or_delete_on_destroy_is_a_risk():
    turned = step("update", "alicloud:CasOrder", "api", {**CAS_OV, "revoke_on_delete": False}, CAS_OV,
                  diffs=("revoke_on_delete",))
    assert texts(rules.destroy_setting_turned_on, turned, name="api") == [
        "from now on, destroy (or removing the entry) revokes the issued certificate (revokeOnDelete: true)"]
    scm = step("update", "huaweicloud:ScmCertificate", "portal", SCM_DV, {**SCM_DV, "on_destroy": "delete"},
               diffs=("on_destroy",))
    assert "(onDestroy: delete)" in texts(rules.destroy_setting_turned_on, scm, name="portal")[0]
    unchanged = step("update", "alicloud:CasOrder", "api", CAS_OV, {**CAS_OV, "tags": {"a": "b"}}, diffs=("tags",))
    assert texts(rules.destroy_setting_turned_on, unchanged, name="api") == []


# --- waits -----------------------------------------------------------------------------------------------------

def test_new_certificates_wait_on_dns_validation_and_say_where_the_records_show():
    [acm] = texts(rules.dns_validation, step("replace", "aws:AcmCertificate", "shop", ACM,
                                             {**ACM, "sans": ACM["sans"] + ["api.shop.example.com"]},
                                             replace=("sans",)), name="shop")
    assert acm.startswith("waits on DNS validation: publish these records, one CNAME per name (new names: "
                          "api.shop.example.com); they are known only after `pulumi up`: see `pulumi stack output "
                          "aws` (`validationRecords`)")
    [scm] = texts(rules.dns_validation, step("create", "huaweicloud:ScmCertificate", "portal", new=SCM_DV),
                  name="portal")
    assert "(`certificates.portal.validation_records`)" in scm
    [cas_file] = texts(rules.dns_validation, step("create", "alicloud:CasOrder", "api",
                                                  new={**CAS_OV, "validation": "FILE"}), name="api")
    assert cas_file.startswith("waits on file validation: serve the validation file on api.example.cn")
    [email] = texts(rules.dns_validation, step("create", "huaweicloud:ScmCertificate", "portal",
                                               new={**SCM_DV, "validation": "EMAIL"}), name="portal")
    assert email.startswith("waits on e-mail validation")
    assert texts(rules.dns_validation, step("update", "aws:AcmCertificate", "shop", ACM, {**ACM, "tags": {"a": "b"}},
                                            diffs=("tags",)), name="shop") == []


def test_ov_and_ev_wait_on_the_organisation_check():
    [ov] = texts(rules.organisation_validation, step("create", "alicloud:CasOrder", "api", new=CAS_OV), name="api")
    assert ov == "waits on the CA's OV organisation check (days, not minutes)"
    assert texts(rules.organisation_validation, step("create", "huaweicloud:ScmCertificate", "portal", new=SCM_DV),
                 name="portal") == []


def test_a_distribution_waits_for_a_certificate_known_only_after_up():
    created = step("create", "aws:Distribution", "shop-cdn", new={**DIST, "certificate_arn": UNKNOWN})
    assert texts(rules.distribution_waits_for_certificate, created, name="shop-cdn")[0].startswith(
        "serves only its *.cloudfront.net name until certificate shop is issued")
    known = step("update", "aws:Distribution", "shop-cdn", DIST, {**DIST, "aliases": []}, diffs=("aliases",))
    assert texts(rules.distribution_waits_for_certificate, known, name="shop-cdn") == []


# --- why -------------------------------------------------------------------------------------------------------

def test_why_maps_input_keys_back_to_the_config_keys_users_write():
    _, _, by_name = changes(
        step("replace", "alicloud:CasOrder", "api", CAS_OV, CAS_OV, replace=("csr_mode",), diffs=("journal",)),
        step("replace", "huaweicloud:ScmCertificate", "portal", SCM_DV, SCM_DV, replace=("domain_type",),
             diffs=("region",)),
        step("replace", "aws:AcmCertificate", "shop", ACM, ACM, replace=("status",)))
    assert rules.why(by_name["api"]) == {"config": ["alicloud.orders.api.csr"], "other": [],
                                         "replacedBy": ["alicloud.orders.api.csr"]}
    assert rules.why(by_name["portal"])["config"] == ["huaweicloud.certificates.portal.domainType",
                                                      "huaweicloud.region"]
    assert rules.why(by_name["shop"])["other"] == [
        "ACM reports the old certificate as failed, revoked, expired or timed out: it is requested again"]


# --- the whole summary -----------------------------------------------------------------------------------------

def summary_of(preview_text: str, events_text: str | None = None) -> dict:
    preview = read_preview(preview_text)
    if events_text is not None:
        read_events(events_text, preview)
    return pr_summary.summarise(preview)


def test_config_errors_come_one_per_problem_and_engine_follow_ups_are_dropped():
    diagnostics = ({"message": "error: certfleet config has 2 problem(s):\n  - certfleet:aws.certificates.a.domain: "
                               "bad\n  - certfleet:aws.region: worse\n", "severity": "error"},
                   {"message": "error: an unhandled error occurred: program exited with non-zero exit code: 1\n",
                    "severity": "error"},
                   {"message": "warning: a wildcard on a -1- plan\n", "severity": "warning"},
                   {"message": "hello from the program\n", "severity": "info"})
    summary = pr_summary.summarise(read_preview(digest(diagnostics=diagnostics)))
    assert summary["status"] == "blocked"
    assert [e["message"] for e in summary["errors"]] == ["certfleet:aws.certificates.a.domain: bad",
                                                         "certfleet:aws.region: worse"]
    assert [w["message"] for w in summary["warnings"]] == ["a wildcard on a -1- plan"]
    markdown = render(summary)
    assert "- `certfleet:aws.region`: worse" in markdown and "hello from the program" not in markdown


def test_policy_violations_come_from_the_event_log_mandatory_first():
    events = (PREVIEWS / "replace.events.jsonl").read_text()
    summary = summary_of((PREVIEWS / "replace.json").read_text(), events)
    assert [(v["enforcementLevel"], v["policy"], v["resource"]) for v in summary["policyViolations"]] == [
        ("mandatory", "no-ov", "alicloud.orders.api"), ("advisory", "scm-budget", "huaweicloud.certificates.portal")]
    assert summary["status"] == "blocked" and summary["errors"] == []  # "preview failed" explained by the policy
    markdown = render(summary)
    assert markdown.index("### Policy violations") < markdown.index("### Totals")
    alone = summary_of((PREVIEWS / "replace.json").read_text())
    assert alone["errors"][0]["message"].startswith("the preview failed without a reason in the --json digest")


def test_captured_previews_give_the_totals():
    totals = summary_of((PREVIEWS / "new.json").read_text())["totals"]
    assert totals["orders"] == [
        {"bucket": "free", "cloud": "alicloud", "count": 1, "kind": "DigiCert DV single-domain (free plan)"},
        {"bucket": "free", "cloud": "aws", "count": 2, "kind": "ACM certificate"},
        {"bucket": "paid", "cloud": "alicloud", "count": 1, "kind": "GeoTrust OV single-domain, 1 year"},
        {"bucket": "paid", "cloud": "huaweicloud", "count": 1, "kind": "GeoTrust DV single-domain, 1 year"}]
    assert (totals["creates"], totals["replacements"], totals["deletes"]) == (6, 0, 0)
    deleted = summary_of((PREVIEWS / "delete.json").read_text())["totals"]
    assert (deleted["deletes"], deleted["orders"]) == (3, [])
    broken = summary_of((PREVIEWS / "config-error.json").read_text(),
                        (PREVIEWS / "config-error.events.jsonl").read_text())
    assert [e["message"] for e in broken["errors"]] == [
        "certfleet:aws.certificates.blog.domain: 'a..b.com' has an empty label (two dots in a row)"]


def shuffled(value, rng: random.Random):
    """The same document with every list of steps and every object's keys in another order."""
    if isinstance(value, dict):
        items = [(k, shuffled(v, rng)) for k, v in value.items()]
        rng.shuffle(items)
        return dict(items)
    if isinstance(value, list) and value and all(isinstance(v, dict) and "op" in v for v in value):
        items = [shuffled(v, rng) for v in value]
        rng.shuffle(items)
        return items
    return value


@pytest.mark.parametrize("name", ["new.json", "replace.json", "delete.json", "dns-new.json", "dns-change.json",
                                  "dns-delete.json"])
def test_same_preview_in_any_order_gives_the_same_bytes(name, tmp_path):
    original = (PREVIEWS / name).read_text()
    reordered = json.dumps(shuffled(json.loads(original), random.Random(7)))
    assert reordered != original
    for as_json in ([], ["--json"]):
        outputs = []
        for i, document in enumerate((original, original, reordered)):
            source, out = tmp_path / f"in{i}.json", tmp_path / f"out{i}"
            source.write_text(document)
            assert pr_summary.main([str(source), "--output", str(out), *as_json]) == 0
            outputs.append(out.read_bytes())
        assert outputs[0] == outputs[1] == outputs[2]


def test_secrets_unknowns_and_local_paths_never_show():
    secret_names = {**CAS_OV, "domains": "[secret]", "company_name": "[secret]"}
    events = json.dumps({"diagnosticEvent": {"severity": "warning", "message": "w\n",
                                             "urn": urn("alicloud:CasOrder", "api")}})
    summary = summary_of(digest(step("create", "alicloud:CasOrder", "api", new=secret_names),
                                step("create", "aws:Distribution", "shop-cdn",
                                     new={**DIST, "certificate_arn": UNKNOWN}),
                                step("delete", "aws:AcmCertificate", "old", ACM, outputs={"status": "ISSUED"})),
                         events)
    for output in (render(summary), json.dumps(summary)):
        assert "[secret]" in output and UNKNOWN not in output
        assert "/root/secret/place.py" not in output and "sourcePosition" not in output
    assert summary["warnings"] == [{"resource": "alicloud.orders.api", "message": "w"}]
    assert "1 year, names [secret] (single-domain plan" in render(summary)


def test_markdown_escapes_what_would_format_but_keeps_names_readable():
    assert text("*.example.com and RSA_2048 and _x_") == r"\*.example.com and RSA_2048 and \_x\_"
    assert text("`*.kept` *") == r"`*.kept` \*"


def test_command_line_exit_codes(tmp_path, capsys):
    assert pr_summary.main([str(tmp_path / "missing.json")]) == 2
    (tmp_path / "bad.json").write_text("{")
    assert pr_summary.main([str(tmp_path / "bad.json")]) == 2
    good = tmp_path / "good.json"
    good.write_text(digest(step("create", "alicloud:CasOrder", "api", new=CAS_OV)))
    (tmp_path / "bad.jsonl").write_text("nope\n")
    assert pr_summary.main([str(good), "--events", str(tmp_path / "bad.jsonl")]) == 2
    assert "pr_summary:" in capsys.readouterr().err
    assert pr_summary.main([str(good), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["schemaVersion"] == 1 and document["changes"][0]["money"][0].startswith("buys 1 GeoTrust OV")


# --- composition programs: resources that are not certfleet's ------------------------------------------------

CDN_URN = "urn:pulumi:pr::shop::aws:cloudfront/distribution:Distribution::shop-cdn"
OLD_ARN = "arn:aws:acm:us-east-1:123456789012:certificate/0ld"


def own_step(op: str, urn_: str, old: dict | None = None, new: dict | None = None, custom: bool = True,
             replace: tuple = ()) -> dict:
    raw = {"op": op, "urn": urn_}
    if old is not None:
        raw["oldState"] = {"custom": custom, "inputs": old, "outputs": {}, "delete": op == "replace"}
    if new is not None:
        raw["newState"] = {"custom": custom, "inputs": new}
    if replace:
        raw["replaceReasons"] = list(replace)
    return raw


def test_other_resources_are_listed_and_their_deletes_and_replaces_counted():
    steps = (own_step("delete", CDN_URN, {"aliases": ["shop.example.com"]}),
             own_step("replace", "urn:pulumi:pr::shop::aws:route53/record:Record::shop-alias", {"name": "a"},
                      {"name": "b"}, replace=("name",)),
             own_step("create", "urn:pulumi:pr::shop::shop:web:Site::site", new={}, custom=False),
             own_step("update", "urn:pulumi:pr::shop::certfleet:aws:Certificates::certfleet-aws", {}, {}, False),
             step("update", "certfleet:PurchaseJournal", "alicloud-journal", {"a": 1}, {"a": 2}))
    summary = pr_summary.summarise(read_preview(digest(*steps)))
    assert [(b["resource"], b["op"]) for b in summary["bookkeeping"]] == [
        ("alicloud-journal", "update"), ("certfleet-aws", "update"), ("site", "create")]
    assert [(o["resource"], o["type"], o["op"]) for o in summary["otherResources"]] == [
        ("shop-alias", "aws:route53/record:Record", "replace"),
        ("shop-cdn", "aws:cloudfront/distribution:Distribution", "delete")]
    assert summary["otherResources"][0]["replacedBy"] == ["name"]
    totals = summary["totals"]
    assert (totals["deletes"], totals["replacements"], totals["creates"], totals["updates"]) == (1, 1, 0, 0)
    markdown = render(summary)
    assert "**1 replacement**, **1 delete**, 0 to create, 0 to update" in markdown
    assert "- `shop-cdn` (aws:cloudfront/distribution:Distribution): deletes it" in markdown
    assert "### Other resources" in markdown and "- `shop-alias` (aws:route53/record:Record): **replace**" in markdown
    captured = summary_of((PREVIEWS / "new.json").read_text())
    assert captured["otherResources"] == [] and ("certfleet-e2e", "the stack") in [
        (b["resource"], b["what"]) for b in captured["bookkeeping"]]


def test_a_certificate_serves_whatever_has_its_old_arn_in_its_inputs():
    acm = step("replace", "aws:AcmCertificate", "shop", ACM, {**ACM, "sans": ["x.example.com"]},
               outputs={"status": "ISSUED", "arn": OLD_ARN}, replace=("sans",))
    cdn = own_step("update", CDN_URN.replace("shop-cdn", "site"),
                   {"viewerCertificate": {"acmCertificateArn": OLD_ARN, "sslSupportMethod": "sni-only"}},
                   {"viewerCertificate": {"acmCertificateArn": UNKNOWN}})
    [found] = texts(rules.replaces_aws_certificate, acm, cdn, name="shop")
    assert found.startswith("replaces the certificate serving site (aws:cloudfront/distribution:Distribution) "
                            "(create-before-delete)")
    deleted = step("delete", "aws:AcmCertificate", "shop", ACM, outputs={"status": "ISSUED", "arn": OLD_ARN})
    [gone] = texts(rules.deletes_aws_certificate, deleted, cdn, name="shop")
    assert gone.endswith("that serves site (aws:cloudfront/distribution:Distribution) (delete retries while it "
                         "is in use)")
    assert texts(rules.replaces_aws_certificate, acm, name="shop") == [
        "replaces the certificate (create-before-delete); the old one is deleted once nothing uses it"]


@pytest.mark.parametrize("type_,new,kind", [
    ("huaweicloud:ScmCertificate", SCM_DV, ("maybePaid", "huaweicloud", "GeoTrust DV single-domain, 1 year")),
    ("alicloud:CasOrder", CAS_OV, ("maybePaid", "alicloud", "GeoTrust OV single-domain, 1 year")),
])
def test_an_adopting_entry_with_replace_adopted_may_buy(type_, new, kind):
    adopting = step("create", type_, "x", new={**new, "adopt_id": "id-1", "replace_adopted": True})
    _, ctx, by_name = changes(adopting)
    [finding] = rules.adoption(by_name["x"], ctx)
    assert finding.bucket == kind
    assert finding.text.startswith("adopts `id-1`: nothing bought, requested or created, unless it differs from the "
                                   "entry: `replaceAdopted` then buys 1 GeoTrust")
    summary = pr_summary.summarise(read_preview(digest(adopting)))
    assert summary["totals"]["orders"] == [{"bucket": kind[0], "cloud": kind[1], "kind": kind[2], "count": 1}]
    assert f"- **0 new paid orders, up to 1 more** if an adopted certificate differs from its entry " \
           f"(`replaceAdopted`): {kind[1]}: 1 x {kind[2]}\n" in render(summary)
    plain = step("create", type_, "x", new={**new, "adopt_id": "id-1"})
    assert [f.bucket for f in rules.adoption(changes(plain)[2]["x"], ctx)] == [None]


def test_copied_provider_states_equal_the_providers():
    """pr_summary_rules keeps copies (the provider modules load Pulumi): they must not drift."""
    from components.alicloud import status
    from components.huaweicloud import scm_model

    assert rules.CAS_PENDING == status.PENDING_STATES + status.DEAD_STATES
    assert rules.SCM_WITHDRAWABLE == scm_model.WITHDRAWABLE
    assert rules.SCM_REFUNDABLE == scm_model.REFUNDABLE
    assert rules.SCM_ISSUED == scm_model.ON_DESTROY_DECIDES
    assert rules.SCM_DELETABLE == scm_model.DELETABLE
    assert rules.SCM_WITHDRAWING in scm_model.KNOWN_STATUSES
