"""scripts/report.py: stages per certificate, aggregated entry and distribution, totals, the table and --json."""

from __future__ import annotations

import json
import os
import stat

import pytest

from scripts import report

RECORD = {"name": "_a.shop.example.com.", "type": "CNAME", "value": "_b.acm-validations.aws.",
          "domains": ["shop.example.com"]}
WILD_ARN = "arn:aws:acm:us-east-1:123456789012:certificate/wild"
LEGACY_ARN = "arn:aws:acm:us-east-1:123456789012:certificate/legacy"


def cert(status, arn, names, **extra):
    return {"arn": arn, "status": status, "status_message": extra.pop("status_message", status.lower()),
            "domain": names[0], "sans": names, "validation_records": [], "not_after": None, "reused_by": [],
            **extra}


def dist(distribution_id, certificate, certificate_arn, bound, status, stage, **extra):
    return {"distribution_id": distribution_id, "domain_name": f"{distribution_id.lower()}.cloudfront.net",
            "status": status, "stage": stage, "status_message": extra.pop("status_message", stage),
            "aliases": extra.pop("aliases", []), "certificate": certificate, "certificate_arn": certificate_arn,
            "bound": bound, "template": "E195R1W5GIVPF5", "template_version": extra.pop("template_version", "3"),
            **extra}


# A stack in every stage at once.
OUTPUTS = {"aws": {
    "certificates": {
        "fresh": cert("PENDING_VALIDATION", "arn:fresh", ["fresh.example.com"],
                      status_message="ACM has not yet published validation records for fresh.example.com"),
        "shop": cert("PENDING_VALIDATION", "arn:shop", ["shop.example.com"], validation_records=[RECORD]),
        "api": cert("ISSUED", "arn:api", ["api.example.com"], not_after="2031-01-01T00:00:00+00:00"),
        "wild": cert("ISSUED", WILD_ARN, ["*.example.com"], reused_by=["blog"]),
        "old": cert("VALIDATION_TIMED_OUT", "arn:old", ["old.example.com"],
                    status_message="VALIDATION_TIMED_OUT: this certificate can no longer be issued"),
    },
    "imports": {
        "legacy": cert("ISSUED", LEGACY_ARN, ["legacy.example.com"], not_after="2031-06-01T00:00:00+00:00"),
        "expired": cert("EXPIRED", "arn:expired", ["gone.example.com"], status_message="expired"),
    },
    "aggregated": {"blog": "wild"},
    "distributions": {
        "shop-cdn": dist("E1SHOP", "shop", None, False, "Deployed", "waiting for certificate"),
        "wild-cdn": dist("E2WILD", "wild", WILD_ARN, True, "Deployed", "deployed", aliases=["*.example.com"]),
        "blog-cdn": dist("E3BLOG", "wild", WILD_ARN, True, "Deployed", "deployed", aliases=["blog.example.com"],
                         template_version=None),
        "legacy-cdn": dist("E4LEGACY", "legacy", LEGACY_ARN, True, "InProgress", "deploying",
                           aliases=["legacy.example.com"]),
        "broken-cdn": dist("E5BROKEN", "old", None, False, "Deployed", "failed",
                           status_message="certificate 'old' can never be issued"),
    },
    "validationRecords": [{"name": RECORD["name"], "type": "CNAME", "value": RECORD["value"],
                           "certificates": ["shop"]}],
}}


def stages(outputs=OUTPUTS):
    return {(row["kind"], row["name"]): row["stage"] for row in report.aws_rows(outputs["aws"])}


def test_every_stage_from_real_state():
    assert stages() == {
        ("certificate", "api"): "issued",
        ("certificate", "fresh"): "requested",
        ("certificate", "old"): "failed",
        ("certificate", "shop"): "pending validation",
        ("certificate", "wild"): "bound",
        ("import", "expired"): "failed",
        ("import", "legacy"): "bound",
        ("aggregated", "blog"): "bound",        # as far as the wildcard certificate it reuses
        ("distribution", "blog-cdn"): "deployed",
        ("distribution", "broken-cdn"): "failed",
        ("distribution", "legacy-cdn"): "deploying",
        ("distribution", "shop-cdn"): "waiting for certificate",
        ("distribution", "wild-cdn"): "deployed",
    }


def test_totals_count_every_stage_but_not_aggregated_entries():
    counted = report.totals(report.aws_rows(OUTPUTS["aws"]))
    assert list(counted) == list(report.STAGES)
    assert counted == {"requested": 1, "pending validation": 1, "issued": 1, "waiting for certificate": 1,
                       "bound": 2, "deploying": 1, "deployed": 2, "failed": 3}


@pytest.mark.parametrize("status", ["FAILED", "VALIDATION_TIMED_OUT", "REVOKED", "EXPIRED", "INACTIVE"])
def test_dead_statuses_are_failed(status):
    assert report.certificate_stage({"status": status}, [RECORD], served=True) == "failed"


def test_a_distribution_stage_falls_back_to_its_status():
    assert report.distribution_stage({"bound": True, "status": "InProgress"}) == "deploying"
    assert report.distribution_stage({"bound": True, "status": "Deployed"}) == "deployed"
    assert report.distribution_stage({"bound": True}) == "bound"
    assert report.distribution_stage({"bound": False, "status": "Deployed"}) == "waiting for certificate"


def test_records_come_from_the_stack_wide_list_when_the_certificate_has_none_of_its_own():
    outputs = {"aws": {"certificates": {"shop": cert("PENDING_VALIDATION", "arn:shop", ["shop.example.com"])},
                       "validationRecords": OUTPUTS["aws"]["validationRecords"]}}
    row = report.aws_rows(outputs["aws"])[0]
    assert row["stage"] == "pending validation"
    assert row["validation_records"][0]["name"] == RECORD["name"]


def test_the_table_shows_stages_details_and_totals():
    text = report.render(OUTPUTS)
    lines = text.splitlines()
    assert lines[0] == "AWS stages (13)"
    assert lines[1].split() == ["KIND", "NAME", "STAGE", "DETAIL"]
    row = {line.split()[1]: line for line in lines[2:15]}
    assert "pending validation" in row["shop"] and "1 DNS record(s) to publish" in row["shop"]
    assert "requested" in row["fresh"] and "not yet published validation records" in row["fresh"]
    assert "expires 2031-01-01" in row["api"]
    assert "bound" in row["wild"] and "serves blog-cdn, wild-cdn" in row["wild"]
    assert "reuses wild" in row["blog"]
    assert "waiting for certificate shop" in row["shop-cdn"] and "e1shop.cloudfront.net" in row["shop-cdn"]
    assert "certificate 'old' can never be issued" in row["broken-cdn"]
    assert lines[15] == ("  totals: requested 1, pending validation 1, issued 1, waiting for certificate 1, bound 2, "
                         "deploying 1, deployed 2, failed 3")
    # the details below the table
    assert "  shop: PENDING_VALIDATION  arn:shop" in text
    assert "    reused by: blog" in text
    assert "AWS ACM imported certificates (2)" in text
    assert "  legacy-cdn: InProgress  E4LEGACY  e4legacy.cloudfront.net" in text
    assert "    certificate: shop (not bound yet)" in text and "    aliases: (none yet)" in text
    assert "    template: E195R1W5GIVPF5 (live, unpinned)" in text and "template: E195R1W5GIVPF5 version 3" in text
    assert "_a.shop.example.com. CNAME _b.acm-validations.aws." in text


def test_json_has_one_entry_per_resource_the_totals_and_the_records():
    document = json.loads(json.dumps(report.report(OUTPUTS)))
    assert [(r["kind"], r["name"], r["stage"]) for r in document["resources"]][:2] == [
        ("certificate", "api", "issued"), ("certificate", "fresh", "requested")]
    shop = next(r for r in document["resources"] if r["name"] == "shop")
    assert shop["validation_records"] == [RECORD] and shop["arn"] == "arn:shop"
    blog = next(r for r in document["resources"] if r["kind"] == "aggregated")
    assert blog == {"kind": "aggregated", "name": "blog", "stage": "bound", "reuses": "wild"}
    cdn = next(r for r in document["resources"] if r["name"] == "legacy-cdn")
    assert cdn["distribution_id"] == "E4LEGACY" and cdn["aliases"] == ["legacy.example.com"]
    assert document["totals"]["failed"] == 3
    assert document["validation_records"][0]["certificates"] == ["shop"]


def test_other_clouds_stay_in_the_table_and_pass_through_json():
    order = {"state": "certificate", "order_id": "9", "product_code": "digicert-free-1-free",
             "domains": ["docs.example.cn"], "status_message": "issued", "challenge": None}
    outputs = {"alicloud": {"orders": {"docs": order}}}
    assert "Alibaba Cloud CAS orders (1)" in report.render(outputs)
    assert "AWS stages" not in report.render(outputs)
    assert report.report(outputs)["alicloud"] == outputs["alicloud"]
    assert report.report({})["resources"] == [] and report.render({}) == "no certfleet outputs in this stack"


def test_main_reads_the_stack_outputs_and_prints_json(tmp_path, monkeypatch, capsys):
    (tmp_path / "outputs.json").write_text(json.dumps(OUTPUTS))
    fake = tmp_path / "pulumi"  # stands in for the CLI: records its arguments, prints the outputs
    fake.write_text(f"#!/bin/sh\necho \"$@\" > {tmp_path}/args\ncat {tmp_path}/outputs.json\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    assert report.main(["--json", "--stack", "local"]) == 0
    assert json.loads(capsys.readouterr().out)["totals"]["deployed"] == 2
    assert (tmp_path / "args").read_text().split() == ["stack", "output", "--json", "--stack", "local"]
    assert report.main([]) == 0
    assert capsys.readouterr().out.startswith("AWS stages (13)")


def test_a_bound_distribution_waiting_for_its_replacement_certificate_says_so():
    from scripts.report import distribution_stage
    assert distribution_stage({"bound": True, "status": "Deployed", "stage": "waiting for certificate"}) \
        == "waiting for certificate"
    assert distribution_stage({"bound": True, "status": "Deployed", "stage": "deployed"}) == "deployed"


def test_adopted_objects_are_marked_in_the_table_and_in_json():
    outputs = {"aws": {"certificates": {"shop": cert("ISSUED", "arn:shop", ["shop.example.com"], adopted=True)},
                       "distributions": {"web": dist("E2QWRUHAPOMQZL", "shop", "arn:shop", True, "Deployed",
                                                     "deployed", adopted=True)}}}
    rows = {row["name"]: row for row in report.report(outputs)["resources"]}
    assert rows["shop"]["adopted"] is True and rows["web"]["adopted"] is True
    table = report.render(outputs)
    assert "adopted; serves web" in table and "adopted; E2QWRUHAPOMQZL" in table
    assert "arn:shop  (adopted)" in table
    plain = {"aws": {"certificates": {"api": cert("ISSUED", "arn:api", ["api.example.com"])}}}
    assert report.report(plain)["resources"][0]["adopted"] is False and "adopted" not in report.render(plain)


def test_a_cas_order_adopted_by_id_is_told_apart_from_one_found_after_a_crash():
    by_id = {"orders": {"docs": {"state": "certificate", "order_id": "1", "adopted": True, "adopted_by_id": True}}}
    found = {"orders": {"docs": {"state": "certificate", "order_id": "1", "adopted": True}}}
    assert "adopted by id" in "\n".join(report.render_alicloud(by_id))
    assert "found by name and plan" in "\n".join(report.render_alicloud(found))
