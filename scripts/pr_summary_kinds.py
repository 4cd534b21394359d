"""What the PR summary knows about certfleet's resource types: the config section of each, its input keys mapped
back to the config keys users write (camelCase), and plain names for CAS plans and SCM products.

The types, input names and rules are those of the providers (components/aws/acm.py, acm_import.py,
cloudfront.py, templates.py; components/alicloud/inputs.py, instance_checks.py; components/huaweicloud/
scm_model.py; components/journal.py) and of the config reference (README, docs/config-aws.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from scripts.pr_summary_digest import Change, is_secret, is_unknown


@dataclass(frozen=True)
class Kind:
    cloud: str
    section: str  # where the entries live in the config, e.g. "aws.certificates"
    noun: str
    section_keys: Mapping[str, str] = field(default_factory=dict)  # input key -> key of the cloud's section
    renamed: Mapping[str, str] = field(default_factory=dict)  # input key -> entry key, when not just camelCase
    internal: tuple[str, ...] = ()  # inputs that are no config (identity, journal stamps)
    state_reasons: Mapping[str, str] = field(default_factory=dict)  # input key -> why it changes, in words


_ENTRY_IDENTITY = ("cert_name", "order_name", "dist_name", "resource_tag", "journal", "claim", "previous_claims")
_ADOPT = {"adopt_id": "adopt", "previous_resource_tags": "previousNames"}
AWS_SECTION = {"region": "region", "validation_record_timeout_seconds": "validationRecordTimeoutSeconds",
               "issued_timeout_seconds": "issuedTimeoutSeconds", "delete_in_use_timeout_seconds":
               "deleteInUseTimeoutSeconds", "deployed_timeout_seconds": "deployedTimeoutSeconds",
               "cname_check": "cnameCheck"}
CAS_SECTION = {"issued_timeout_seconds": "issuedTimeoutSeconds", "listing_lag_seconds": "listingLagSeconds"}
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
                               "revokeOnDelete"}, _ENTRY_IDENTITY),
    "alicloud:CasInstanceCertificate": Kind("alicloud", "alicloud.orders", "CAS instance certificate", CAS_SECTION,
                                            {**_ADOPT, "instance_id": "instance", "csr_mode": "csr",
                                             "csr_pem": "csr"}, _ENTRY_IDENTITY),
    "huaweicloud:ScmCertificate": Kind("huaweicloud", "huaweicloud.certificates", "SCM certificate", SCM_SECTION,
                                       _ADOPT, _ENTRY_IDENTITY),
}
PAID_TYPES = ("alicloud:CasOrder", "alicloud:CasInstanceCertificate", "huaweicloud:ScmCertificate")
# What the summary calls the bookkeeping steps (no cloud object; scripts/pr_summary_other.py decides which are).
BOOKKEEPING = {"certfleet:PurchaseJournal": "purchase journal (state only, no cloud object)",
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
    """The entry's config path (`aws.certificates.shop`), or what the resource is for bookkeeping ones."""
    kind = KINDS.get(change.type)
    if kind:
        return f"{kind.section}.{change.name}"
    return f"{change.name} ({bookkeeping_noun(change)})"


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


def config_key(change: Change, key: str) -> str | None:
    """The config path an input key comes from (`aws.certificates.shop.sans`, `aws.region`); None for inputs
    that are no config (identity, journal stamp, state)."""
    kind = KINDS.get(change.type)
    if kind is None or key in kind.internal or key in kind.state_reasons or key == "__provider":
        return None
    if key in kind.section_keys:
        return f"{kind.cloud}.{kind.section_keys[key]}"
    return f"{kind.section}.{change.name}.{kind.renamed.get(key, camel(key))}"


def reasons(change: Change, keys: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """(config paths, other reasons in words) of the input keys that change."""
    kind = KINDS.get(change.type)
    paths = sorted({p for k in keys if (p := config_key(change, k))})
    words = sorted({kind.state_reasons[k] for k in keys if kind and k in kind.state_reasons})
    return paths, words


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
