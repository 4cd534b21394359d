"""The PR summary of previews the real CLI makes (scripts/pr_summary.py): a new stack buying on three clouds, the
same stack with its entries in another order, a change that replaces (with a policy pack's violations from the
event log), one that deletes, and a config error; then a stack whose validation records certfleet writes in
Route 53, Alibaba Cloud DNS and Huawei Cloud DNS: new, changed (TTL, zone, drift, `dns` turned on) and deleted.

CERTFLEET_CAPTURE_PREVIEWS=DIR also writes the previews there, stripped of source positions and timestamps
(that is how tests/data/previews/ was made).
"""

from __future__ import annotations

import copy
import json
import os
import shutil
from pathlib import Path

import boto3
import yaml

from scripts import pr_summary
from tests.conftest import ROOT
from tests.e2e.test_cas_e2e import cas_emulator, cas_project  # noqa: F401 - fixtures
from tests.e2e.test_cloudfront_e2e import make_template
from tests.e2e.test_dns_e2e import CONFIG as DNS_CONFIG
from tests.e2e.test_dns_e2e import cas_server, dns_project  # noqa: F401 - fixtures
from tests.e2e.test_scm_e2e import scm_project  # noqa: F401 - fixture

APPLICANT = {"name": "Zhang.San", "phone": "13800000000", "email": "ops@example.com"}
CONTACT = {"name": "Tom Zhang", "email": "tom.zhang@example.com", "phone": "13000000000"}
PACK = '''
import json

from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy

def no_ov(args, report_violation):
    # A CAS order's fields are one JSON property, `spec` (docs/policy.md: your own packs).
    fields = json.loads(args.props["spec"]) if isinstance(args.props.get("spec"), str) else args.props
    if args.resource_type.endswith("CasOrder") and "-ov-" in str(fields.get("product_code")):
        report_violation("OV plans need the security team's approval: " + str(fields.get("product_code")))

def scm_budget(args, report_violation):
    if args.resource_type.endswith("ScmCertificate"):
        report_violation("an SCM purchase needs a budget tag")

PolicyPack("review-pack", enforcement_level=EnforcementLevel.MANDATORY, policies=[
    ResourceValidationPolicy(name="no-ov", description="OV plans need approval", validate=no_ov),
    ResourceValidationPolicy(name="scm-budget", description="SCM purchases carry a budget tag", validate=scm_budget,
                             enforcement_level=EnforcementLevel.ADVISORY),
])
'''


def stack_config(template: str) -> dict:
    return {
        "aws": {"region": "us-east-1", "issuedTimeoutSeconds": 0, "deployedTimeoutSeconds": 30,
                "certificates": {"shop": {"domain": "shop.example.com", "sans": ["www.shop.example.com"]},
                                 "blog": {"domain": "blog.example.com"}},
                "distributions": {"shop-cdn": {"template": template, "certificate": "shop"}}},
        "alicloud": {"contact": CONTACT, "orders": {
            "docs": {"productCode": "digicert-free-1-free", "domains": ["docs.example.cn"]},
            "api": {"productCode": "geotrust-ov-1-personal", "domains": ["api.example.cn"],
                    "companyName": "Example Ltd", "revokeOnDelete": True}}},
        "huaweicloud": {"certificates": {
            "portal": {"brand": "GEOTRUST", "type": "DV_SSL_CERT", "domainType": "SINGLE_DOMAIN",
                       "domains": ["portal.example.cn"], "applicant": APPLICANT, "onDestroy": "delete"}}},
    }


def reordered(value):
    """The same config with every map's entries, and the order of `sans`, reversed."""
    if isinstance(value, dict):
        return {k: (list(reversed(v)) if k == "sans" else reordered(v)) for k, v in reversed(list(value.items()))}
    return value


def write_unsorted(project, config: dict) -> None:
    """Like PulumiProject.write_stack, but keeping the config's own key order (safe_dump sorts by default)."""
    path = project.workdir / "stacks" / "Pulumi.e2e.yaml"
    existing = yaml.safe_load(path.read_text()) or {}
    existing["config"] = {f"certfleet:{k}": v for k, v in config.items()}
    path.write_text(yaml.safe_dump(existing, sort_keys=False))


def strip(value):
    """What tests/data/previews keeps: no source positions, stack traces or timestamps."""
    if isinstance(value, dict):
        return {k: strip(v) for k, v in value.items()
                if k not in ("sourcePosition", "stackTrace", "created", "modified", "timestamp", "duration")}
    if isinstance(value, list):
        return [strip(v) for v in value]
    return value


class Previews:
    def __init__(self, project, tmp_path: Path):
        self.project, self.dir = project, tmp_path / "previews"
        self.dir.mkdir()
        self.capture = os.environ.get("CERTFLEET_CAPTURE_PREVIEWS")

    def preview(self, name: str, *extra: str, events: bool = False) -> tuple[Path, Path | None]:
        """`pulumi preview --json` (and its event log) into files; the preview may fail (policy, config)."""
        digest, log = self.dir / f"{name}.json", (self.dir / f"{name}.events.jsonl" if events else None)
        args = ("preview", "--json", *extra) + (("--event-log", str(log)) if log else ())
        result = self.project.run(*args, check=False)
        digest.write_text(result.stdout)
        if self.capture:
            Path(self.capture, digest.name).write_text(json.dumps(strip(json.loads(result.stdout)), indent=1) + "\n")
            if log:
                events = [json.loads(line) for line in log.read_text().splitlines()]
                kept = [strip(e) for e in events if "policyEvent" in e
                        or e.get("diagnosticEvent", {}).get("severity") in ("error", "warning")]
                Path(self.capture, log.name).write_text("".join(json.dumps(e) + "\n" for e in kept))
        return digest, log

    def summary(self, digest: Path, log: Path | None = None, as_json: bool = False) -> str:
        out = digest.with_suffix(".json.out" if as_json else ".md")
        argv = [str(digest), "--output", str(out)] + (["--events", str(log)] if log else []) + (
            ["--json"] if as_json else [])
        assert pr_summary.main(argv) == 0
        return out.read_text()


def test_summaries_of_real_previews_new_reordered_replace_with_policy_delete_and_config_error(
        cas_project, scm_project, tmp_path):
    project = scm_project
    project.env["PULUMI_DEBUG_COMMANDS"] = "true"  # unhides `preview --event-log`
    previews = Previews(project, tmp_path)
    project.init()
    config = stack_config(make_template())

    # A new stack: what is bought where, what is free, what waits on DNS.
    project.write_stack("e2e", config)
    new, _ = previews.preview("new")
    text = previews.summary(new)
    assert "**No errors, no mandatory policy violations**." in text
    assert "- **2 new paid orders**: alicloud: 1 x GeoTrust OV single-domain, 1 year; huaweicloud: 1 x GeoTrust DV " \
           "single-domain, 1 year" in text
    assert "buys 1 GeoTrust OV certificate, 1 year, 1 name (single-domain plan `geotrust-ov-1-personal`" in text
    assert "buys 1 GeoTrust DV certificate, 1 year, 1 name (DV_SSL_CERT, single-domain)" in text
    assert "orders 1 free DigiCert DV certificate, 1 year, 1 name (single-domain plan" in text
    assert "requests 1 ACM certificate (free) for shop.example.com, www.shop.example.com (RSA_2048)" in text
    assert "waits on DNS validation: publish these records, one CNAME per name; they are known only after " \
           "`pulumi up`: see `pulumi stack output aws` (`validationRecords`)" in text
    assert "from now on, destroy (or removing the entry) revokes the issued certificate (revokeOnDelete: true)" in text
    assert "[secret]" not in text and str(tmp_path) not in text

    # The same stack with every entry in another order: the same bytes, markdown and JSON.
    write_unsorted(project, reordered(config))
    again, _ = previews.preview("new-reordered")
    assert previews.summary(again) == text
    assert previews.summary(again, as_json=True) == previews.summary(new, as_json=True)

    # Bought (all pending validation), then changed.
    project.write_stack("e2e", config)
    project.run("up", "--yes", "--skip-preview")

    # A change that replaces all three kinds, checked by a policy pack: violations at the top.
    replaced = copy.deepcopy(config)
    replaced["aws"]["certificates"]["shop"]["sans"].append("api.shop.example.com")
    replaced["aws"]["distributions"]["shop-cdn"]["aliases"] = ["shop.example.com", "www.shop.example.com",
                                                               "api.shop.example.com"]
    replaced["huaweicloud"]["certificates"]["portal"]["type"] = "DV_SSL_CERT_BASIC"
    replaced["alicloud"]["orders"]["api"]["csr"] = "generate"
    project.write_stack("e2e", replaced)
    pack = project.workdir / "review-pack"
    pack.mkdir()
    (pack / "PulumiPolicy.yaml").write_text("runtime:\n  name: python\n  options:\n    virtualenv: ../.venv\n"
                                            "version: 1.0.0\n")
    (pack / "__main__.py").write_text(PACK)
    replace, log = previews.preview("replace", "--policy-pack", str(pack), events=True)
    text = previews.summary(replace, log)
    assert text.index("### Policy violations") < text.index("### Totals") < text.index("### Changes")
    assert "**Blocked**: 1 mandatory policy violation." in text
    assert "- **mandatory** `no-ov` (review-pack@1.0.0) on `alicloud.orders.api`: OV plans need the security " \
           "team's approval: geotrust-ov-1-personal" in text
    assert "- **advisory** `scm-budget` (review-pack@1.0.0) on `huaweicloud.certificates.portal`" in text
    assert "- `aws.certificates.shop` (ACM certificate): **replace** (create-before-delete), because `sans` changed" \
           in text
    assert "replaces the certificate serving shop-cdn (create-before-delete)" in text
    assert "(new names: api.shop.example.com)" in text
    assert "- `alicloud.orders.api` (CAS order): **replace** (delete-before-replace), because `csr` changed" in text
    assert "the old pending order is cancelled (its plan unit comes back)" in text
    assert "- `huaweicloud.certificates.portal` (SCM certificate): **replace** (create-before-delete), because " \
           "`type` changed" in text
    assert "buys 1 GeoTrust DV basic certificate, 1 year, 1 name (DV_SSL_CERT_BASIC, single-domain)" in text
    assert "- **3 replacements**, **0 deletes**" in text
    without_events = previews.summary(replace)
    assert "Policy violations" not in without_events and "**Blocked**: 1 error." in without_events
    assert "the preview failed without a reason in the --json digest" in without_events
    document = json.loads(previews.summary(replace, log, as_json=True))
    assert document["schemaVersion"] == 1 and document["status"] == "blocked"
    assert [(v["policy"], v["enforcementLevel"]) for v in document["policyViolations"]] == [
        ("no-ov", "mandatory"), ("scm-budget", "advisory")]
    shop = next(c for c in document["changes"] if c["resource"] == "aws.certificates.shop")
    assert shop["why"]["replacedBy"] == ["aws.certificates.shop.sans"] and shop["replaceMode"] == "create-before-delete"

    # A change that deletes: the pending CAS order is cancelled (revoked if issued by then), the SCM one withdrawn.
    deleted = copy.deepcopy(config)
    del deleted["aws"]["certificates"]["blog"], deleted["alicloud"]["orders"]["api"], deleted["huaweicloud"]
    project.write_stack("e2e", deleted)
    delete, _ = previews.preview("delete")
    text = previews.summary(delete)
    assert "cancels the pending CAS order" in text
    assert "if it is issued by then, revokes it on destroy (revokeOnDelete: true)" in text
    assert "withdraws the CHECKING SCM certificate scs" in text
    assert "deletes a PENDING_VALIDATION ACM certificate (blog.example.com)" in text
    assert "- **0 replacements**, **3 deletes**" in text

    # A config error: at the top, with its config path.
    broken = copy.deepcopy(config)
    broken["aws"]["certificates"]["blog"]["domain"] = "a..b.com"
    project.write_stack("e2e", broken)
    failed, log = previews.preview("config-error", events=True)
    text = previews.summary(failed, log)
    assert "**Blocked**: 1 error." in text
    assert "### Config errors\n\n- `certfleet:aws.certificates.blog.domain`: 'a..b.com' has an empty label" in text
    assert "program exited with non-zero exit code" not in text




# --- zero-touch DNS validation: the records certfleet writes, as a reviewer sees them ---------------------------

def test_summaries_of_dns_validation_previews_new_change_and_delete(dns_project, tmp_path):
    """The stack of tests/e2e/test_dns_e2e.py (Route 53, Alibaba Cloud DNS, Huawei Cloud DNS), `apps` published by
    hand at first; after `up`: a TTL, a zone written out, `dns` turned on for `apps`, drift; then entries removed
    and `dns: false`."""
    project, previews = dns_project, Previews(dns_project, tmp_path)
    config = copy.deepcopy(DNS_CONFIG)
    config["aws"]["certificates"]["apps"]["dns"] = False
    project.write_stack("e2e", config)

    # A new stack: each record says where it goes and for which entry; its name and value are not known yet.
    new, _ = previews.preview("dns-new")
    text = previews.summary(new)
    assert "- `aws.certificates/route53-shop.example.com` (DNS validation record): **create**\n  - note: writes the " \
           "validation record for shop.example.com in Route 53, zone found automatically (for " \
           "aws.certificates.shop); name and value come from the CA once the certificate exists" in text
    assert "writes the validation record for docs.example.cn in Alibaba Cloud DNS zone example.cn (for " \
           "alicloud.orders.docs)" in text
    assert "in Huawei Cloud DNS (cn-north-4), zone found automatically (for huaweicloud.certificates.portal)" in text
    assert "waits on DNS validation, no manual step: certfleet writes its records (aws.certificates/route53-shop." \
           "example.com, aws.certificates/route53-www.shop.example.com)" in text
    assert "then for the CA (up to 60 s, `dns.validationTimeoutSeconds`)" in text
    assert "- `aws.certificates.apps` (ACM certificate): **create**" in text  # by hand: publish these records
    assert "waits on DNS validation: publish these records, one CNAME per name" in text
    assert "- `shop-validation` (waits for the CA after the records are served; no cloud object): create" in text
    assert "Other resources" not in text and "- **0 replacements**, **0 deletes**, 10 to create" in text
    document = json.loads(previews.summary(new, as_json=True))
    shop = next(c for c in document["changes"] if c["name"] == "route53-shop.example.com")
    assert (shop["cloud"], shop["kind"], shop["type"]) == ("aws", "DNS validation record", "dns:Record")

    # The policy pack with production's config (the wildcard's approval advisory): no policy is about the records
    # or the validation waits.
    shutil.copytree(ROOT / "policy", project.workdir / "policy", ignore=shutil.ignore_patterns("__pycache__"))
    policy = {**json.loads((ROOT / "policy/config/prod.json").read_text()), "wildcard-approval": "advisory"}
    (project.workdir / "policy-config.json").write_text(json.dumps(policy))
    project.env["PULUMI_DEBUG_COMMANDS"] = "true"  # unhides `preview --event-log`
    project.run("preview", "--policy-pack", "policy", "--policy-pack-config", "policy-config.json",
                "--event-log", str(tmp_path / "policy.events.jsonl"))
    events = [json.loads(line) for line in (tmp_path / "policy.events.jsonl").read_text().splitlines()]
    assert [(e["policyEvent"]["policyName"], e["policyEvent"]["resourceUrn"].rsplit("::", 1)[-1])
            for e in events if "policyEvent" in e] == [("wildcard-approval", "apps")]

    # Issued in one `up`; then someone points blog's CNAME elsewhere, and a refresh reads it back.
    project.run("up", "--yes", "--skip-preview")
    outputs = project.outputs()
    written = {r["name"]: r for section, key in (("aws", "certificates"), ("huaweicloud", "certificates"))
               for entry in outputs[section][key].values() for r in entry.get("validation", {}).get("records", [])}
    blog = "_d930b28be6c5927595552b219965053e.blog.example.org"
    boto3.client("route53", region_name="us-east-1").change_resource_record_sets(
        HostedZoneId=written[blog]["zone_id"], ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": {
            "Name": blog, "Type": "CNAME", "TTL": 60, "ResourceRecords": [{"Value": "elsewhere.example.net"}]}}]})
    project.run("refresh", "--yes", "--skip-preview")

    # A TTL (config paths of the section's and the entry's block), a zone written out where it was found, `dns`
    # turned on for an entry whose certificate exists (its record known), the drift repaired.
    changed = copy.deepcopy(DNS_CONFIG)
    changed["aws"]["certificates"]["shop"]["dns"] = {"ttl": 120}
    portal_zone = written["_dnsauth.portal.example.cn"]["zone_id"]
    changed["huaweicloud"]["certificates"]["portal"]["dns"] = {"zone": portal_zone}
    project.write_stack("e2e", changed)
    change, _ = previews.preview("dns-change")
    text = previews.summary(change)
    assert "- `aws.certificates/route53-shop.example.com` (DNS validation record): **update**, because " \
           "`aws.certificates.shop.dns.ttl` or `aws.dns.ttl` changed\n  - note: rewrites " \
           "\\_d930b28be6c5927595552b219965053e.shop.example.com (CNAME) with TTL 120 s (was 60 s)" in text
    assert "repairs drift: the zone holds elsewhere.example.net at \\_d930b28be6c5927595552b219965053e.blog." \
           "example.org, not what certfleet wrote" in text
    assert "writes the validation record for apps.example.com in Route 53, zone found automatically (for " \
           "aws.certificates.apps); \\_d930b28be6c5927595552b219965053e.apps.example.com (CNAME) = " in text
    assert "- `huaweicloud.certificates/huaweicloud-portal.example.cn` (DNS validation record): **update**, because " \
           "`huaweicloud.certificates.portal.dns.zone` or `huaweicloud.dns.zone` changed" in text
    assert f"  - note: the zone is now named in the config ({portal_zone}): the one the record is in already " \
           f"(portal.example.cn), nothing moves\n" in text

    # Entries removed and `dns: false`: a record goes only if certfleet wrote it; ACM's CNAME of a certificate
    # that stays is kept (ACM renews through it).
    deleted = copy.deepcopy(DNS_CONFIG)
    del deleted["aws"]["certificates"]["blog"], deleted["huaweicloud"]
    deleted["aws"]["certificates"]["shop"]["dns"] = False
    project.write_stack("e2e", deleted)
    delete, _ = previews.preview("dns-delete")
    text = previews.summary(delete)
    assert "- `aws.certificates/route53-blog.example.org` (DNS validation record): **delete**\n  - note: removes " \
           "\\_d930b28be6c5927595552b219965053e.blog.example.org (CNAME) from Route 53 zone example.org (" in text
    assert "only if certfleet wrote it (its owner record names this stack): the values it wrote; values others " \
           "added stay" in text
    assert "- `aws.certificates/route53-shop.example.com` (DNS validation record): **delete**\n  - note: keeps " \
           "\\_d930b28be6c5927595552b219965053e.shop.example.com (CNAME) in Route 53 zone example.com (" in text
    assert "ACM renews through it and aws.certificates.shop stays; only its owner record goes" in text
    assert "removes \\_dnsauth.portal.example.cn (TXT) from Huawei Cloud DNS (cn-north-4) zone portal.example.cn" \
           in text
