"""What the PR summary knows about certfleet's resource types: the config section of each, its input keys mapped
back to the config keys users write (camelCase), and plain names for CAS plans and SCM products.

The types, input names and rules are those of the providers (components/aws/acm.py, acm_import.py,
cloudfront.py, templates.py; components/alicloud/inputs.py, instance_checks.py; components/huaweicloud/
scm_model.py; components/journal.py; components/dns/record.py, validation.py, fleet.py) and of the config
reference (README, docs/config-aws.md, docs/dns-validation.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from scripts.pr_summary_digest import Change, is_secret, is_unknown


@dataclass(frozen=True)
class Kind:
    cloud: str  # "": the cloud of its section
    section: str  # where the entries live in the config, e.g. "aws.certificates"; "": its parent's section
    noun: str
    section_keys: Mapping[str, str] = field(default_factory=dict)  # input key -> key of the cloud's section
    renamed: Mapping[str, str] = field(default_factory=dict)  # input key -> entry key, when not just camelCase
    internal: tuple[str, ...] = ()  # inputs that are no config (identity, journal stamps)
    state_reasons: Mapping[str, str] = field(default_factory=dict)  # input key -> why it changes, in words
    created: str = "new entry"  # why a create happens
    deleted: str = "not in the config any more"  # why a delete happens


_ENTRY_IDENTITY = ("cert_name", "order_name", "dist_name", "resource_tag", "journal", "claim", "previous_claims",
                   "renews")
# A replacement whose renewal generation changed is a renewal before expiry (docs/renewal.md): named as such.
RENEWAL = {"renewal_generation": "renewal before expiry (renewBefore): the successor of the current certificate"}
_ADOPT = {"adopt_id": "adopt", "previous_resource_tags": "previousNames"}
AWS_SECTION = {"region": "region", "validation_record_timeout_seconds": "validationRecordTimeoutSeconds",
               "issued_timeout_seconds": "issuedTimeoutSeconds", "delete_in_use_timeout_seconds":
               "deleteInUseTimeoutSeconds", "deployed_timeout_seconds": "deployedTimeoutSeconds",
               "cname_check": "cnameCheck"}
CAS_SECTION = {"issued_timeout_seconds": "issuedTimeoutSeconds", "listing_lag_seconds": "listingLagSeconds"}
# A DNS validation record (components/dns/fleet.py): a child of its section's component, named
# `<provider>-<base name>`, serving the entries in `used_by`; its keys come from the `dns` block of the section or
# of the entry (docs/dns-validation.md), its name, type and values from the CA.
DNS_RECORD, DNS_VALIDATION, DNS_OWNER = "dns:Record", "dns:Validation", "dns:Owner"
SECTION_OF_PARENT = {"certfleet:aws:Certificates": "aws.certificates", "certfleet:alicloud:Orders": "alicloud.orders",
                     "certfleet:huaweicloud:Certificates": "huaweicloud.certificates"}
DNS_KEYS = {"provider": "provider", "zone_ref": "zone", "region": "region", "ttl": "ttl",
            "propagation_timeout_seconds": "propagationTimeoutSeconds"}
DNS_ZONE_KEYS = ("provider", "zone_ref", "region")
DNS_PROVIDERS = {"route53": "Route 53", "alidns": "Alibaba Cloud DNS", "huaweicloud": "Huawei Cloud DNS"}
_FROM_THE_CA = "the CA asks for another record, or its record is known only after `up`"
SCM_SECTION = {"region": "region", "enterprise_project_id": "enterpriseProjectId",
               "validation_record_timeout_seconds": "validationRecordTimeoutSeconds",
               "issued_timeout_seconds": "issuedTimeoutSeconds", "delete_timeout_seconds": "deleteTimeoutSeconds",
               "listing_lag_seconds": "listingLagSeconds"}

KINDS: dict[str, Kind] = {
    "aws:AcmCertificate": Kind("aws", "aws.certificates", "ACM certificate", AWS_SECTION, _ADOPT, _ENTRY_IDENTITY,
                               {"status": "ACM reports the old certificate as failed, revoked, expired or "
                                          "timed out: it is requested again"}),
    "aws:AcmImport": Kind("aws", "aws.imports", "ACM import", AWS_SECTION,
                          {**_ADOPT, "certificate_pem": "certificate", "chain_pem": "chain",
                           "private_key_pem": "privateKey"}, _ENTRY_IDENTITY),
    "aws:Distribution": Kind("aws", "aws.distributions", "CloudFront distribution", AWS_SECTION,
                             {**_ADOPT, "template_id": "template", "certificate_name": "certificate"},
                             _ENTRY_IDENTITY,
                             {"certificate_arn": "it follows its certificate (new ARN or status)",
                              "certificate_status": "it follows its certificate (new ARN or status)",
                              "template_config": "the template's recorded config changed"}),
    "alicloud:CasOrder": Kind("alicloud", "alicloud.orders", "CAS order", CAS_SECTION,
                              {**_ADOPT, "csr_mode": "csr", "csr_pem": "csr", "entry_revoke_on_delete":
                               "revokeOnDelete"}, _ENTRY_IDENTITY, RENEWAL),
    "alicloud:CasInstanceCertificate": Kind("alicloud", "alicloud.orders", "CAS instance certificate", CAS_SECTION,
                                            {**_ADOPT, "instance_id": "instance", "csr_mode": "csr",
                                             "csr_pem": "csr"}, _ENTRY_IDENTITY),
    "huaweicloud:ScmCertificate": Kind("huaweicloud", "huaweicloud.certificates", "SCM certificate", SCM_SECTION,
                                       _ADOPT, _ENTRY_IDENTITY, RENEWAL),
    DNS_RECORD: Kind("", "", "DNS validation record", internal=("domain", "record_name", "used_by"),
                     state_reasons={"name": _FROM_THE_CA, "type": _FROM_THE_CA,
                                    "values": "the CA asks for other values (none once the certificate is issued)",
                                    "owner": "the stack's identity in its owner records changes",
                                    "keep_with_certificate": "whether destroy keeps the certificate (adopted, "
                                                             "`onDestroy: keep`), and its CNAME with it, changed"},
                     created="an entry validated through `dns` needs it",
                     deleted="no entry's `dns` needs it any more"),
}
PAID_TYPES = ("alicloud:CasOrder", "alicloud:CasInstanceCertificate", "huaweicloud:ScmCertificate")
# What the summary calls the bookkeeping steps (no cloud object; scripts/pr_summary_other.py decides which are).
BOOKKEEPING = {"certfleet:PurchaseJournal": "purchase journal (state only, no cloud object)",
               DNS_VALIDATION: "waits for the CA after the records are served; no cloud object",
               DNS_OWNER: "the stack's identity in its DNS owner records (state only, no cloud object)",
               "aws:DistributionTemplate": "template snapshot (state only)",
               "pulumi:pulumi:Stack": "the stack", "pulumi:providers:pulumi-python": "dynamic provider",
               "pulumi:providers:": "provider"}

BRANDS = {"digicert": "DigiCert", "symantec": "Symantec", "geotrust": "GeoTrust", "globalsign": "GlobalSign",
          "cfca": "CFCA", "trustasia": "TrustAsia", "vtrus": "vTrus"}
SCM_TYPES = {"DV_SSL_CERT": "DV", "DV_SSL_CERT_BASIC": "DV basic", "OV_SSL_CERT": "OV", "OV_SSL_CERT_PRO": "OV Pro",
             "EV_SSL_CERT": "EV", "EV_SSL_CERT_PRO": "EV Pro"}
SCM_DOMAIN_TYPES = {"SINGLE_DOMAIN": "single-domain", "MULTI_DOMAIN": "multi-domain", "WILDCARD": "wildcard"}


def camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def label(change: Change) -> str:
    """The entry's config path (`aws.certificates.shop`); a DNS record's section and name
    (`aws.certificates/route53-shop.example.com`); what the resource is for bookkeeping ones."""
    kind = KINDS.get(change.type)
    if kind:
        return f"{kind.section}.{change.name}" if kind.section else f"{section_of(change)}/{change.name}"
    return f"{change.name} ({bookkeeping_noun(change)})"


def section_of(change: Change) -> str:
    """The config section of the change's entry; for a DNS resource the section whose component is its parent."""
    kind = KINDS.get(change.type)
    if kind and kind.section:
        return kind.section
    chain = change.urn.split("::")[2].split("$") if change.urn.count("::") >= 3 else []
    return SECTION_OF_PARENT.get(chain[-2] if len(chain) > 1 else "", "?")


def cloud_of(change: Change) -> str:
    return KINDS[change.type].cloud or section_of(change).split(".")[0]


def users_of(change: Change) -> list[str]:
    """The entries a DNS record validates (`used_by`, as the change leaves it)."""
    users = change.new.get("used_by") if change.new else change.old.get("used_by")
    return sorted(str(u) for u in users) if isinstance(users, list) else []


def is_certfleet_component(change: Change) -> bool:
    """One of certfleet's own component groups (`certfleet:aws:Certificates`: two colons)."""
    return change.type.startswith("certfleet:") and change.type.count(":") == 2


def bookkeeping_noun(change: Change) -> str:
    for prefix, noun in BOOKKEEPING.items():
        if change.type.startswith(prefix):
            return noun
    if change.component or is_certfleet_component(change):
        return "component"
    return change.type


def config_keys(change: Change, key: str) -> list[str]:
    """The config path an input key comes from (`aws.certificates.shop.sans`, `aws.region`); none for inputs
    that are no config (identity, journal stamp, state). A DNS record's key may be set in the section's `dns`
    block or in the block of an entry it serves (`aws.dns.ttl`, `aws.certificates.shop.dns.ttl`): all of them."""
    kind = KINDS.get(change.type)
    if kind is None or key in kind.internal or key in kind.state_reasons or key == "__provider":
        return []
    if change.type == DNS_RECORD:
        if key not in DNS_KEYS:
            return []
        section = section_of(change)
        return [f"{section.split('.')[0]}.dns.{DNS_KEYS[key]}",
                *(f"{section}.{user}.dns.{DNS_KEYS[key]}" for user in users_of(change))]
    if key in kind.section_keys:
        return [f"{kind.cloud}.{kind.section_keys[key]}"]
    return [f"{kind.section}.{change.name}.{kind.renamed.get(key, camel(key))}"]


def reasons(change: Change, keys: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """(config paths, other reasons in words) of the input keys that change."""
    kind = KINDS.get(change.type)
    paths = sorted({p for k in keys for p in config_keys(change, k)})
    words = sorted({renewal_words(change) if k in RENEWAL else kind.state_reasons[k]
                    for k in keys if kind and k in kind.state_reasons})
    return paths, words


def renewal_words(change: Change) -> str:
    """A renewal, with the days left of the certificate it renews when the old state shows its not_after."""
    from datetime import datetime, timezone
    new = change.new.get("renewal_generation")
    text = f"renewal before expiry (renewBefore): generation {shown(new)} succeeds the current certificate"
    try:
        not_after = datetime.fromisoformat(str(change.old_outputs.get("not_after")).replace("Z", "+00:00"))
    except ValueError:
        return text
    not_after = not_after if not_after.tzinfo else not_after.replace(tzinfo=timezone.utc)
    from components import clock
    return f"{text}, which expires in {(not_after - clock.now()).days} days"


@dataclass(frozen=True)
class Plan:
    brand: str
    level: str  # DV, OV, EV
    scope: str  # single-domain, wildcard
    free: bool


def cas_plan(product_code: Any) -> Plan | None:
    """`geotrust-ov-1-personal` -> GeoTrust OV single-domain (CAS product codes: brand-level-scope-edition)."""
    parts = str(product_code or "").split("-")
    if len(parts) != 4:
        return None
    brand, level, scope, edition = parts
    free = level == "free" or edition == "free"
    return Plan(BRANDS.get(brand, brand), "DV" if level == "free" else level.upper(),
                "wildcard" if scope == "w" else "single-domain", free)


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def shown(value: Any) -> str:
    """A value as the summary prints it: never a secret, never Pulumi's unknown sentinel."""
    if is_secret(value):
        return "[secret]"
    if is_unknown(value):
        return "(known after up)"
    return str(value)


def names_of(inputs: Mapping[str, Any], key: str = "domains") -> list[str]:
    value = inputs.get(key)
    if is_secret(value) or is_unknown(value):
        return [shown(value)]
    return [shown(v) for v in value] if isinstance(value, list) else []
