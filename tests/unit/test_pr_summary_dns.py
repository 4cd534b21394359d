"""scripts/pr_summary_dns.py and the DNS parts of the PR summary: each record check on a hand-made digest, the
validation waits as bookkeeping, zero-touch waits of new certificates, and the previews the real CLI made of a
stack with all three DNS providers (tests/data/previews/dns-*.json, see its README)."""

from __future__ import annotations

from scripts import pr_summary
from scripts import pr_summary_dns as dns
from scripts import pr_summary_rules as rules
from scripts.pr_summary_context import context_of
from scripts.pr_summary_digest import UNKNOWN, read_preview
from scripts.pr_summary_kinds import DNS_KEYS, DNS_PROVIDERS, DNS_ZONE_KEYS, KINDS, SECTION_OF_PARENT, label
from scripts.pr_summary_markdown import render
from tests.unit.test_pr_summary import ACM, PARENTS, PREVIEWS, digest, step

CNAME = "_d930b28be6c5927595552b219965053e.shop.example.com"
TARGET = "_c9edd76ee4a0e2a74388032f3861cc50.acm-validations.aws."
RECORD = {"provider": "route53", "domain": "shop.example.com", "record_name": "shop.example.com", "used_by": ["shop"],
          "name": CNAME, "type": "CNAME", "values": [TARGET], "ttl": 60, "owner": "certfleet/pr",
          "propagation_timeout_seconds": 120}
WRITTEN = {**RECORD, "zone_id": "Z0123456789ABCDEFGHIJ", "zone_name": "example.com", "owned": True, "served": True,
           "written_values": [TARGET], "served_values": [TARGET.rstrip(".")]}
TXT = {"provider": "alidns", "zone_ref": "example.cn", "domain": "docs.example.cn", "record_name": "docs.example.cn",
       "used_by": ["docs"], "name": "_dnsauth.docs.example.cn", "type": "TXT", "values": ["2026abc"], "ttl": 600,
       "owner": "certfleet/pr", "propagation_timeout_seconds": 120}
TXT_WRITTEN = {**TXT, "zone_id": "example.cn", "zone_name": "example.cn", "owned": True, "served": True,
               "written_values": ["2026abc"], "served_values": ["2026abc"]}


def dns_step(op: str, type_: str, name: str, section: str = "aws", **kwargs) -> dict:
    """A step of a DNS resource: a child of its section's component, as components/dns/fleet.py declares it."""
    raw = step(op, type_, name, **kwargs)
    raw["urn"] = f"urn:pulumi:pr::certfleet::{PARENTS[section]}$pulumi-python:dynamic/{type_}::{name}"
    return raw


def record(op: str, name: str = "route53-shop.example.com", section: str = "aws", **kwargs) -> dict:
    return dns_step(op, "dns:Record", name, section, **kwargs)


def found(check, *steps: dict, name: str) -> list[tuple[str, str]]:
    preview = read_preview(digest(*steps))
    ctx = context_of(preview)
    [change] = [c for c in preview.changes if c.name == name]
    return [(f.category, f.text) for f in check(change, ctx)]


# --- create ----------------------------------------------------------------------------------------------------

def test_a_new_record_says_where_it_goes_and_for_which_entries():
    new = {**RECORD, "name": UNKNOWN, "type": UNKNOWN, "values": UNKNOWN, "used_by": ["apex", "shop"]}
    [(_, where), (_, wait)] = found(dns.record_created, record("create", new=new), name="route53-shop.example.com")
    assert where == ("writes the validation record for shop.example.com in Route 53, zone found automatically (for "
                     "aws.certificates.apex, aws.certificates.shop); name and value come from the CA once the "
                     "certificate exists")
    assert wait.startswith("then waits until every name server of the zone serves it (up to 120 s, "
                           "`dns.propagationTimeoutSeconds`); a record certfleet did not write is never overwritten")
    # The certificate exists already (`dns` turned on for an entry): what it writes is known.
    [(_, known), _] = found(dns.record_created, record("create", "alidns-docs.example.cn", "alicloud", new=TXT),
                            name="alidns-docs.example.cn")
    assert known == ("writes the validation record for docs.example.cn in Alibaba Cloud DNS zone example.cn (for "
                     "alicloud.orders.docs); _dnsauth.docs.example.cn (TXT) = 2026abc")
    huawei = {**TXT, "provider": "huaweicloud", "zone_ref": None, "region": "cn-north-4", "values": []}
    [(_, issued), _] = found(dns.record_created, record("create", "huaweicloud-docs", "huaweicloud", new=huawei),
                             name="huaweicloud-docs")
    assert "in Huawei Cloud DNS (cn-north-4), zone found automatically (for huaweicloud.certificates.docs); " \
           "nothing to write now: the CA asks for no record (the certificate is issued)" in issued


def test_a_record_is_labelled_by_its_section_and_counted_as_a_change():
    summary = pr_summary.summarise(read_preview(digest(record("create", new=RECORD))))
    [change] = summary["changes"]
    assert (change["resource"], change["cloud"], change["kind"], change["type"]) == (
        "aws.certificates/route53-shop.example.com", "aws", "DNS validation record", "dns:Record")
    assert change["why"]["other"] == ["an entry validated through `dns` needs it"]
    assert summary["totals"]["creates"] == 1 and summary["otherResources"] == []


# --- update ----------------------------------------------------------------------------------------------------

def test_an_update_names_the_dns_config_paths_of_the_section_and_the_entries():
    longer = record("update", old={**RECORD, "used_by": ["apex", "shop"]},
                    new={**RECORD, "used_by": ["apex", "shop"], "ttl": 300}, outputs=WRITTEN)
    assert found(dns.record_updated, longer, name="route53-shop.example.com") == [
        ("note", f"rewrites {CNAME} (CNAME) with TTL 300 s (was 60 s)")]
    summary = pr_summary.summarise(read_preview(digest(longer)))
    assert summary["changes"][0]["why"]["config"] == [
        "aws.certificates.apex.dns.ttl", "aws.certificates.shop.dns.ttl", "aws.dns.ttl"]
    assert ("**update**, because `aws.certificates.apex.dns.ttl` or `aws.certificates.shop.dns.ttl` or "
            "`aws.dns.ttl` changed\n") in render(summary)


def test_an_update_says_what_the_ca_asks_for():
    def update(new_values, outputs=WRITTEN):
        return found(dns.record_updated, record("update", old=RECORD, new={**RECORD, "values": new_values},
                                                outputs=outputs), name="route53-shop.example.com")

    assert update(["other.acm-validations.aws."]) == [
        ("note", f"the CA asks for new values: rewrites {CNAME} (CNAME) with other.acm-validations.aws. "
                 f"(was {TARGET})")]
    assert update([]) == [("note", f"the certificate is issued and the CA needs no record any more: removes {CNAME} "
                                   f"(CNAME) only if certfleet wrote it (its owner record names this stack)")]
    assert update(UNKNOWN) == [("note", "its values come from the CA, known only after `up` (rewritten if they "
                                        "differ)")]
    # A record certfleet found in place and used as it is: other values are refused (record.py someone_elses).
    [(category, text)] = update(["other."], {**WRITTEN, "owned": False})
    assert category == "risk" and text.endswith("it never overwrites it, so `up` fails until that record is "
                                                "changed or removed by hand")


def test_drift_a_refresh_saw_is_repaired_or_waited_for():
    def update(outputs):
        return found(dns.record_updated, record("update", old=RECORD, new=RECORD, outputs=outputs),
                     name="route53-shop.example.com")

    assert update({**WRITTEN, "served": False, "served_values": ["elsewhere.example.net"]}) == [
        ("note", f"repairs drift: the zone holds elsewhere.example.net at {CNAME}, not what certfleet wrote (changed "
                 f"or deleted out of band): `up` writes it again")]
    assert update({**WRITTEN, "served_values": []})[0][1].startswith("repairs drift: the zone holds nothing at")
    assert update({**WRITTEN, "served": False}) == [
        ("note", "not yet served by every name server of the zone: `up` waits again")]
    assert update(WRITTEN) == []  # the trailing dot and TXT quotes are how the zone spells the same values
    assert update({**WRITTEN, "served_values": [TARGET, "theirs.example.net"]}) == []  # others' values may stay
    assert update({**WRITTEN, "served": None}) == []  # the name servers could not be asked: unverified
    assert update({**WRITTEN, "owned": False, "served_values": ["x"]}) == []  # not certfleet's: never repaired


def test_a_zone_written_out_where_the_record_is_moves_nothing():
    named = record("update", old=RECORD, new={**RECORD, "zone_ref": "Z0123456789ABCDEFGHIJ"}, outputs=WRITTEN)
    assert found(dns.record_updated, named, name="route53-shop.example.com") == [
        ("note", "the zone is now named in the config (Z0123456789ABCDEFGHIJ): the one the record is in already "
                 "(example.com), nothing moves")]
    summary = pr_summary.summarise(read_preview(digest(named)))
    assert summary["changes"][0]["why"]["config"] == ["aws.certificates.shop.dns.zone", "aws.dns.zone"]


# --- replace ---------------------------------------------------------------------------------------------------

def test_a_replacement_writes_the_new_record_first():
    def replace(new, keys):
        return found(dns.record_replaced, record("replace", old=RECORD, new=new, outputs=WRITTEN, replace=keys),
                     name="route53-shop.example.com")

    [(_, moved)] = replace({**RECORD, "zone_ref": "Z999"}, ("zone_ref",))
    assert moved == ("moves the record from Route 53 zone example.com (Z0123456789ABCDEFGHIJ) to Route 53 zone Z999: "
                     "the new one is written first, then the old one is removed only if certfleet wrote it (its "
                     "owner record names this stack)")
    [(_, later)] = replace({**RECORD, "name": UNKNOWN, "type": UNKNOWN, "values": UNKNOWN}, ("name", "type"))
    assert later.startswith(f"its record is known only after `up` (name and value come from the CA once the "
                            f"certificate exists): written then; the old one, {CNAME} (CNAME), is removed after it")
    [(_, other)] = replace({**RECORD, "name": "_new.shop.example.com"}, ("name",))
    assert other.startswith(f"the CA asks for another record: writes _new.shop.example.com (CNAME), then removes "
                            f"{CNAME} (CNAME)")
    summary = pr_summary.summarise(read_preview(digest(
        record("replace", old=RECORD, new={**RECORD, "zone_ref": "Z999"}, outputs=WRITTEN, replace=("zone_ref",)))))
    assert summary["changes"][0]["why"]["replacedBy"] == ["aws.certificates.shop.dns.zone", "aws.dns.zone"]


# --- delete ----------------------------------------------------------------------------------------------------

def test_a_delete_removes_only_what_certfleet_wrote():
    txt = record("delete", "alidns-docs.example.cn", "alicloud", old=TXT, outputs=TXT_WRITTEN)
    assert found(dns.record_deleted, txt, name="alidns-docs.example.cn") == [
        ("note", "removes _dnsauth.docs.example.cn (TXT) from Alibaba Cloud DNS zone example.cn only if certfleet "
                 "wrote it (its owner record names this stack): the values it wrote; values others added stay")]
    for outputs in ({**TXT_WRITTEN, "owned": False}, {**TXT_WRITTEN, "written_values": []}):
        kept = record("delete", "alidns-docs.example.cn", "alicloud", old=TXT, outputs=outputs)
        assert found(dns.record_deleted, kept, name="alidns-docs.example.cn") == [
            ("note", "leaves the stack; _dnsauth.docs.example.cn (TXT) stays in Alibaba Cloud DNS zone example.cn: "
                     "certfleet did not write it")]
    never = record("delete", old={**RECORD, "name": None}, outputs={**WRITTEN, "name": None})
    assert found(dns.record_deleted, never, name="route53-shop.example.com") == [
        ("note", "leaves the stack; nothing was written (the CA had asked for no record)")]
    issued = record("delete", "alidns-docs.example.cn", "alicloud", old={**TXT, "values": []},
                    outputs={**TXT_WRITTEN, "values": [], "owned": False, "written_values": []})
    assert found(dns.record_deleted, issued, name="alidns-docs.example.cn") == [
        ("note", "leaves the stack; nothing left to remove (certfleet's values went when the certificate was "
                 "issued)")]


def test_an_acm_cname_whose_certificate_stays_is_kept():
    """record_checks.acm_renews_through_it: `dns: false` (the entry's certificate still declared) or a certificate
    destroy keeps: ACM renews through the CNAME, so only the owner record goes."""
    gone = record("delete", old=RECORD, outputs=WRITTEN)
    assert found(dns.record_deleted, gone, name="route53-shop.example.com") == [
        ("note", f"keeps {CNAME} (CNAME) in Route 53 zone example.com (Z0123456789ABCDEFGHIJ): ACM renews through "
                 f"it and aws.certificates.shop stays; only its owner record goes (certfleet stops managing it)")]
    with_certificate = step("delete", "aws:AcmCertificate", "shop", ACM, outputs={"status": "ISSUED"})
    [(_, removed)] = found(dns.record_deleted, gone, with_certificate, name="route53-shop.example.com")
    assert removed.startswith(f"removes {CNAME} (CNAME) from Route 53 zone example.com")
    kept_on_destroy = record("delete", old={**RECORD, "keep_with_certificate": True}, outputs=WRITTEN)
    [(_, kept)] = found(dns.record_deleted, kept_on_destroy, with_certificate, name="route53-shop.example.com")
    assert kept.startswith(f"keeps {CNAME} (CNAME)") and "destroy keeps the certificate" in kept


# --- validation waits, and the certificates they wait for -------------------------------------------------------

def test_validation_waits_are_bookkeeping_and_serve_no_certificate():
    arn = "arn:aws:acm:us-east-1:123456789012:certificate/0ld"
    wait = dns_step("delete", "dns:Validation", "shop-validation",
                    old={"entry": "shop", "cloud": "acm", "certificate_id": arn, "validation_timeout_seconds": 60})
    certificate = step("delete", "aws:AcmCertificate", "shop", ACM, outputs={"status": "ISSUED", "arn": arn})
    summary = pr_summary.summarise(read_preview(digest(wait, certificate)))
    assert summary["bookkeeping"] == [{"resource": "shop-validation", "op": "delete",
                                       "what": "waits for the CA after the records are served; no cloud object"}]
    assert summary["otherResources"] == []
    assert summary["changes"][0]["risks"] == ["deletes an issued ACM certificate (shop.example.com)"]  # no "serves"


def test_a_new_certificate_with_dns_waits_without_a_manual_step():
    certificate = step("create", "aws:AcmCertificate", "shop", new=ACM)
    records = (record("create", new={**RECORD, "values": UNKNOWN}),
               record("create", "route53-www.shop.example.com", new={**RECORD, "domain": "www.shop.example.com"}))
    wait = dns_step("create", "dns:Validation", "shop-validation",
                    new={"entry": "shop", "cloud": "acm", "certificate_id": UNKNOWN, "validation_timeout_seconds": 90})
    [(_, text)] = found(rules.dns_validation, certificate, *records, wait, name="shop")
    assert text == ("waits on DNS validation, no manual step: certfleet writes its records (aws.certificates/"
                    "route53-shop.example.com, aws.certificates/route53-www.shop.example.com), waits until the "
                    "zone's name servers serve them, then for the CA (up to 90 s, `dns.validationTimeoutSeconds`); "
                    "if it has not issued by then, `pulumi up --refresh` picks it up")
    [(_, by_hand)] = found(rules.dns_validation, certificate, name="shop")
    assert by_hand.startswith("waits on DNS validation: publish these records, one CNAME per name")


# --- previews the real CLI made ---------------------------------------------------------------------------------

def summary_of(name: str) -> dict:
    return pr_summary.summarise(read_preview((PREVIEWS / name).read_text()))


def test_captured_dns_previews():
    new = summary_of("dns-new.json")
    records = [c for c in new["changes"] if c["type"] == "dns:Record"]
    assert [c["resource"] for c in records] == [
        "alicloud.orders/alidns-docs.example.cn", "aws.certificates/route53-blog.example.org",
        "aws.certificates/route53-shop.example.com", "aws.certificates/route53-www.shop.example.com",
        "huaweicloud.certificates/huaweicloud-portal.example.cn"]
    assert all(c["notes"][0].endswith("name and value come from the CA once the certificate exists") for c in records)
    assert (new["totals"]["creates"], new["totals"]["waits"], new["otherResources"]) == (10, 5, [])
    assert sorted(b["resource"] for b in new["bookkeeping"] if b["what"].startswith("waits for the CA")) == [
        "blog-validation", "docs-validation", "portal-validation", "shop-validation"]

    change = {c["resource"]: c for c in summary_of("dns-change.json")["changes"]}
    assert change["aws.certificates/route53-www.shop.example.com"]["why"]["config"] == [
        "aws.certificates.shop.dns.ttl", "aws.dns.ttl"]
    assert change["aws.certificates/route53-blog.example.org"]["notes"][0].startswith(
        "repairs drift: the zone holds elsewhere.example.net at")
    assert change["aws.certificates/route53-apps.example.com"]["notes"][0].startswith(
        "writes the validation record for apps.example.com in Route 53, zone found automatically (for "
        "aws.certificates.apps); _d930b28be6c5927595552b219965053e.apps.example.com (CNAME) = _")
    portal = change["huaweicloud.certificates/huaweicloud-portal.example.cn"]
    assert (portal["op"], portal["why"]["config"]) == (
        "update", ["huaweicloud.certificates.portal.dns.zone", "huaweicloud.dns.zone"])
    assert portal["notes"][0].endswith("the one the record is in already (portal.example.cn), nothing moves")

    delete = {c["resource"]: c for c in summary_of("dns-delete.json")["changes"]}
    assert delete["aws.certificates/route53-shop.example.com"]["notes"][0].endswith(
        "ACM renews through it and aws.certificates.shop stays; only its owner record goes (certfleet stops managing "
        "it)")
    assert delete["aws.certificates/route53-blog.example.org"]["notes"][0].startswith(
        "removes _d930b28be6c5927595552b219965053e.blog.example.org (CNAME) from Route 53 zone example.org")
    assert [r for r, c in delete.items() if c["risks"]] == ["aws.certificates.blog"]  # not "serves blog-validation"


def test_copies_of_the_dns_providers_facts_stay_equal():
    """pr_summary_kinds keeps copies (the provider modules load Pulumi): every input key of a DNS record is mapped
    (config key, internal, or a reason in words); the zone keys, providers and parents are the components'."""
    from components.dns import config, record

    kind = KINDS["dns:Record"]
    for key in (*record.IDENTITY_KEYS, *record.UPDATE_KEYS):
        assert key in DNS_KEYS or key in kind.internal or key in kind.state_reasons, key
    assert DNS_ZONE_KEYS == record.ZONE_KEYS
    assert tuple(DNS_PROVIDERS) == config.DNS_PROVIDERS
    assert set(DNS_KEYS.values()) <= set(config.DNS_KEYS)
    source = "".join(p.read_text() for p in (PREVIEWS.parents[2] / "components").rglob("fleet.py"))
    assert all(f'"{parent}"' in source for parent in SECTION_OF_PARENT)
    preview = read_preview((PREVIEWS / "dns-new.json").read_text())
    assert {label(c).split("/")[0] for c in preview.changes if c.type == "dns:Record"} == set(
        SECTION_OF_PARENT.values())
