"""certfleet:alicloud: the section's rules and its frozen model (AlicloudSpec, CasOrderSpec, CasContact).

It stands beside the CAS provider (cas.py), which takes its model from here. Only components/config.py reads
the stack's config: it hands this section to `_alicloud` and puts the result in FleetSpec. The shared rules
come from components/rules.py, which imports no cloud, so the imports run one way
(config.py -> alicloud/config.py -> rules.py) and never in a circle.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any, Mapping

from components import keys, names
from components.deploy.config import DeployTarget, cas_key_problem, deploy_targets
from components.dns.config import DnsSpec, entry_dns, section_dns
from components.alicloud.instance_config import ENTRY_KEYS, CasInstanceSpec, claim_instance, instance_entry
from components.renewal import RenewBefore, entry_renew_before, section_renew_before
from components.rules import (_check_keys, _choice, _claim_names, _dns_names, _named_object, _object,
                              _previous_names, _Problems, _seconds, _string, _tags, _text_field)

# Seeds 001 (CreateCertificateWithCsrRequest) and 004 (CreateCertificateForPackageRequest); the rules are
# in reference/alibaba-cas.md §6.3-§6.4.
CAS_PRODUCT_CODES = (
    "digicert-free-1-free", "symantec-free-1-free", "symantec-dv-1-starter", "symantec-ov-1-personal",
    "symantec-ov-w-personal", "geotrust-dv-1-starter", "geotrust-dv-w-starter", "geotrust-ov-1-personal",
    "geotrust-ov-w-personal", "globalsign-dv-1-personal", "globalsign-dv-w-advanced", "globalsign-ov-1-personal",
    "globalsign-ov-w-advanced", "cfca-ov-1-personal", "cfca-ev-w-advanced")
CAS_DV_PRODUCT_CODES = ("digicert-free-1-free", "symantec-free-1-free", "symantec-dv-1-starter",
                        "geotrust-dv-1-starter", "geotrust-dv-w-starter", "globalsign-dv-1-personal",
                        "globalsign-dv-w-advanced")
CAS_APIS = ("forPackage", "withCsr")   # CreateCertificateForPackageRequest / CreateCertificateWithCsrRequest
CAS_VALIDATIONS = ("DNS", "FILE")
CAS_MAX_DOMAINS = 5
CAS_MAX_TAGS = 20
CAS_RESERVED_TAG_PREFIXES = ("aliyun", "acs:")
CAS_EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
CAS_PHONE_PATTERN = re.compile(r"\+?[0-9][0-9 -]{4,19}")
CAS_ORDER_ID_PATTERN = re.compile(r"[1-9][0-9]{0,18}")  # OrderId: a positive int64, written as text

_ALICLOUD_KEYS = ("contact", "tags", "issuedTimeoutSeconds", "listingLagSeconds", "revokeOnDelete", "orders", "dns",
                  "renewBefore")
_CAS_ORDER_KEYS = ("productCode", "api", "domains", "validation", "csr", "keyAlgorithm", "contact", "companyName",
                   "tags", "revokeOnDelete", "previousNames", "adopt", "replaceAdopted", "dns", "deployTo",
                   "renewBefore")
_CAS_CONTACT_KEYS = ("name", "email", "phone")


@dataclass(frozen=True)
class CasContact:
    name: str | None               # Username
    email: str | None              # Email
    phone: str | None              # Phone


@dataclass(frozen=True)
class CasOrderSpec:
    """One CAS certificate order from a resource plan (seeds 001 and 004)."""

    name: str                      # the key under certfleet:alicloud.orders
    product_code: str
    api: str                       # forPackage | withCsr
    domains: tuple[str, ...]       # the order's names as CAS records them: lower-case, CN first
    validation: str                # ValidateType: DNS | FILE
    csr: str                       # "cas" (CAS makes the key), "generate" (certfleet makes it) or "pem"
    csr_pem: str | None            # the user's own CSR (not secret)
    key_algorithm: str             # for csr "generate"
    contact: CasContact
    company_name: str | None       # CompanyName (OV/EV products only)
    tags: tuple[tuple[str, str], ...]
    revoke_on_delete: bool         # destroy revokes an issued certificate (CancelCertificateForPackageRequest)
    previous_names: tuple[str, ...] = ()  # earlier keys of this order (Pulumi aliases)
    adopt: str | None = None       # the CAS order id this entry stands for (bought outside certfleet)
    replace_adopted: bool = False  # a replace-level difference from the adopted order buys a new one
    # revokeOnDelete as the ENTRY says it (not the section default): the only thing that lets destroy touch an
    # order adopted by id, also after the `adopt` line is gone
    entry_revoke_on_delete: bool = False
    dns: DnsSpec | None = None     # where certfleet writes the DNS challenge (None: the user publishes it)
    renew_before: RenewBefore | None = None  # order the successor this long before expiry (components/renewal.py)
    deploy_to: tuple[DeployTarget, ...] = ()  # other clouds the certificate is copied to (components/deploy/)


@dataclass(frozen=True)
class AlicloudSpec:
    issued_timeout_seconds: int
    orders: tuple[CasOrderSpec, ...]
    listing_lag_seconds: int = 60   # how long a create after an interrupted run searches the listing before buying
    # entries with `instance:`: applied for through a V2.0 instance (instance_config.py, alicloud/instance.py)
    instance_orders: tuple[CasInstanceSpec, ...] = ()


def _cas_domains_problem(domains: list[str]) -> str | None:
    if not 1 <= len(domains) <= CAS_MAX_DOMAINS:
        return f"an order has 1 to {CAS_MAX_DOMAINS} names, got {len(domains)}"
    if len(set(domains)) != len(domains):
        return "names must not repeat"
    wildcards = [d.startswith("*.") for d in domains]
    if any(wildcards) and not all(wildcards):
        return "CAS does not mix wildcard and single names in one order: make them all one kind"
    return None


def _cas_tag_problem(key: str, value: Any) -> str | None:
    if not 1 <= len(key) <= 128 or key.lower().startswith(CAS_RESERVED_TAG_PREFIXES) \
            or not names.ONE_LINE.fullmatch(key):
        return ("tag keys are 1-128 characters without control characters (tab, newline) and must not start "
                "with 'aliyun' or 'acs:'")
    if not isinstance(value, str) or len(value) > 128 or not names.ONE_LINE.fullmatch(value):
        return "tag values are strings of at most 128 characters without control characters (tab, newline)"
    return None


def _cas_tags(p: _Problems, path: str, value: Any) -> dict[str, str]:
    return _tags(p, path, value, _cas_tag_problem)

def _cas_contact(p: _Problems, path: str, value: Any, default: CasContact) -> CasContact:
    obj = _object(p, path, value)
    if obj is None:
        return default
    _check_keys(p, path, obj, _CAS_CONTACT_KEYS)
    fields = {key: getattr(default, key) for key in _CAS_CONTACT_KEYS}
    for key, pattern, rule in (("name", None, ""),
                               ("email", CAS_EMAIL_PATTERN, "must be an email address"),
                               ("phone", CAS_PHONE_PATTERN, "must be a phone number (digits, optional leading +)")):
        if key in obj:
            # A bad value is reported here and stays set, so that api: withCsr does not also call it missing.
            fields[key] = _text_field(p, path, obj, key, required=False, pattern=pattern, rule=rule) or obj[key]
    return CasContact(**fields)


def _cas_csr(p: _Problems, path: str, raw: Any) -> tuple[str, str | None, tuple[str, ...]]:
    """(mode, pem, names from the CSR) for `csr`: absent -> CAS makes the key; "generate"; or {pem: ...}."""
    if raw is None:
        return "cas", None, ()
    if raw == "generate":
        return "generate", None, ()
    obj = _object(p, path, raw) if not isinstance(raw, str) else None
    if obj is None:
        if isinstance(raw, str):
            p.error(path, "must be 'generate' or {pem: <CSR PEM>} (leave it out to let CAS make the key)")
        return "cas", None, ()
    _check_keys(p, path, obj, ("pem",))
    pem = _string(p, f"{path}.pem", obj.get("pem"))
    if pem is None:
        return "pem", None, ()
    try:
        info = keys.read_csr(pem)
    except ValueError as err:
        p.error(f"{path}.pem", str(err))
        return "pem", None, ()
    if info.key_problem:
        p.error(f"{path}.pem", info.key_problem)
    if not info.common_name:
        p.error(f"{path}.pem", "has no CN (common name): CAS binds the certificate to the CSR's CN")
    for name in info.names:
        problem = names.dns_name_problem(name)
        if problem:
            p.error(f"{path}.pem", problem)
    problem = _cas_domains_problem(list(info.names)) if info.names else None
    if problem:
        p.error(f"{path}.pem", problem)
    return "pem", pem, info.names


def _cas_order(p: _Problems, path: str, name: str, raw: Any, default_contact: CasContact,
               default_tags: Mapping[str, str], default_revoke: bool,
               previous_names: tuple[str, ...]) -> CasOrderSpec | None:
    obj = _named_object(p, path, "order", name, raw, _CAS_ORDER_KEYS)
    if obj is None:
        return None
    errors_before = len(p.errors)

    api = _choice(p, f"{path}.api", obj.get("api", "forPackage"), CAS_APIS)
    product_code = None
    if "productCode" not in obj:
        p.error(f"{path}.productCode", "is required (Alibaba's sources disagree on the default plan)")
    else:
        allowed = CAS_DV_PRODUCT_CODES if api == "withCsr" else CAS_PRODUCT_CODES
        product_code = _choice(p, f"{path}.productCode", obj["productCode"], allowed)
    validation = _choice(p, f"{path}.validation", obj.get("validation", "DNS"), CAS_VALIDATIONS)
    csr_mode, csr_pem, csr_names = _cas_csr(p, f"{path}.csr", obj.get("csr"))
    key_algorithm = _choice(p, f"{path}.keyAlgorithm", obj.get("keyAlgorithm", "RSA_2048"),
                            tuple(keys.KEY_ALGORITHMS))
    if "keyAlgorithm" in obj and csr_mode != "generate":
        p.error(f"{path}.keyAlgorithm", "applies only with csr: generate")

    domains: list[str] = []
    raw_domains = obj.get("domains")
    if raw_domains is not None:
        domains = _dns_names(p, f"{path}.domains", raw_domains)
        problem = isinstance(raw_domains, list) and _cas_domains_problem(domains)
        if problem:
            p.error(f"{path}.domains", problem)
    if csr_mode == "pem" and csr_names:
        if domains and (domains[0] != csr_names[0] or set(domains) != set(csr_names)):
            p.error(f"{path}.domains", f"CAS takes the names from the CSR ({', '.join(csr_names)}): "
                                       f"list the same names, CN first, or leave domains out")
        domains = list(csr_names)
    elif csr_mode != "pem" and raw_domains is None:
        p.error(f"{path}.domains", "is required (or give csr.pem, whose CN and SANs name the certificate)")
    if api == "withCsr" and csr_mode == "cas":
        p.error(f"{path}.csr", "CreateCertificateWithCsrRequest needs a CSR: 'generate' or {pem: ...}")
    if validation == "FILE" and any(d.startswith("*.") for d in domains):
        p.error(f"{path}.validation", "wildcard names can only be validated by DNS")

    contact = _cas_contact(p, f"{path}.contact", obj["contact"], default_contact) if "contact" in obj \
        else default_contact
    if api == "withCsr":
        for key in _CAS_CONTACT_KEYS:
            if not getattr(contact, key):
                p.error(f"{path}.contact.{key}", "is required by CreateCertificateWithCsrRequest "
                                                 "(set it here or in certfleet:alicloud.contact)")
    company_name = _text_field(p, path, obj, "companyName", required=False)
    if company_name is not None and (api == "withCsr" or (product_code and "-ov-" not in product_code
                                                           and "-ev-" not in product_code)):
        p.error(f"{path}.companyName", "applies only to OV/EV product codes ordered with api: forPackage")
    tags = dict(default_tags)
    if "tags" in obj:
        tags.update(_cas_tags(p, f"{path}.tags", obj["tags"]))
    if len(tags) > CAS_MAX_TAGS:
        p.error(f"{path}.tags", f"at most {CAS_MAX_TAGS} tags per order (alicloud.tags included), got {len(tags)}")
    adopt, replace_adopted = _cas_adopt(p, path, obj)
    # The section's default never reaches an adopted order: only the entry may say to revoke what it adopted.
    revoke = obj.get("revokeOnDelete", False if adopt else default_revoke)
    if not isinstance(revoke, bool):
        p.error(f"{path}.revokeOnDelete", f"must be true or false, got {revoke!r}")

    if len(p.errors) > errors_before or product_code is None or not domains:
        return None
    if any(d.startswith("*.") for d in domains) and "-w-" not in product_code:
        p.warn(f"{path}.productCode", f"{product_code} is a single-name plan (-1-); wildcard names usually "
                                      f"need a -w- plan")
    return CasOrderSpec(name=name, product_code=product_code, api=api, domains=tuple(domains),
                        validation=validation, csr=csr_mode, csr_pem=csr_pem, key_algorithm=key_algorithm,
                        contact=contact, company_name=company_name, tags=tuple(sorted(tags.items())),
                        revoke_on_delete=revoke, previous_names=previous_names, adopt=adopt,
                        replace_adopted=replace_adopted, entry_revoke_on_delete=obj.get("revokeOnDelete") is True)


def _cas_adopt(p: _Problems, path: str, obj: Mapping[str, Any]) -> tuple[str | None, bool]:
    """(`adopt`: the order id as text, `replaceAdopted`)."""
    adopt = _text_field(p, path, obj, "adopt", required=False, pattern=CAS_ORDER_ID_PATTERN,
                        rule="must be a CAS order id: digits, written as text (quote it in YAML)")
    replace_adopted = obj.get("replaceAdopted", False)
    if not isinstance(replace_adopted, bool):
        p.error(f"{path}.replaceAdopted", f"must be true or false, got {replace_adopted!r}")
        replace_adopted = False
    elif replace_adopted and "adopt" not in obj:
        p.error(f"{path}.replaceAdopted", "applies only with adopt")
    return adopt, replace_adopted


def _alicloud(p: _Problems, path: str, raw: Any) -> AlicloudSpec | None:
    obj = _object(p, path, raw)
    if obj is None:
        return None
    _check_keys(p, path, obj, _ALICLOUD_KEYS)
    no_contact = CasContact(None, None, None)
    default_contact = _cas_contact(p, f"{path}.contact", obj["contact"], no_contact) if "contact" in obj \
        else no_contact
    default_tags = _cas_tags(p, f"{path}.tags", obj["tags"]) if "tags" in obj else {}
    default_revoke = obj.get("revokeOnDelete", False)
    if not isinstance(default_revoke, bool):
        p.error(f"{path}.revokeOnDelete", f"must be true or false, got {default_revoke!r}")
        default_revoke = False

    orders: list[CasOrderSpec] = []
    order_map = _object(p, f"{path}.orders", obj.get("orders", {})) or {}
    renames = _previous_names(p, f"{path}.orders", "order", order_map)
    # A name belongs to one order: that is what lets the provider recognise its own earlier order by name.
    claimed: dict[str, str] = {}
    adopted: dict[str, str] = {}  # order id -> the entry adopting it: one order, one entry
    instance_orders: list[CasInstanceSpec] = []
    named_instances: dict[str, str] = {}  # instance id -> the entry naming it: one instance, one entry
    dns = section_dns(p, path, obj)
    renew_before = section_renew_before(p, path, obj)  # orders only: instance entries take no renewBefore

    def with_dns(order_path: str, spec: Any) -> Any:
        return replace(spec, dns=entry_dns(p, order_path, order_map[spec.name], dns, spec.validation == "DNS",
                                           spec.domains))
    for name in sorted(order_map):
        order_path = f"{path}.orders.{name}"
        if isinstance(order_map[name], Mapping) and "instance" in order_map[name]:  # a V2.0 instance
            entry = _named_object(p, order_path, "order", name, order_map[name], ENTRY_KEYS)
            instance_spec = entry is not None and instance_entry(p, order_path, name, entry, default_tags,
                                                                 default_revoke, renames.get(name, ()))
            if instance_spec:
                instance_spec = with_dns(order_path, instance_spec)
                instance_spec = replace(instance_spec, deploy_to=deploy_targets(
                    p, order_path, order_map[name], "alicloud", cas_key_problem(instance_spec)))
                _claim_names(p, claimed, order_path, instance_spec.domains, "order")
                claim_instance(p, named_instances, order_path, instance_spec)
                instance_orders.append(instance_spec)
            continue
        spec = _cas_order(p, order_path, name, order_map[name], default_contact, default_tags, default_revoke,
                          renames.get(name, ()))
        if spec is None:
            continue
        spec = replace(with_dns(order_path, spec),
                       renew_before=entry_renew_before(p, order_path, order_map[name], renew_before))
        spec = replace(spec, deploy_to=deploy_targets(p, order_path, order_map[name], "alicloud",
                                                      cas_key_problem(spec)))
        _claim_names(p, claimed, order_path, spec.domains, "order")
        if spec.adopt and spec.adopt in adopted:
            p.error(f"{order_path}.adopt", f"CAS order {spec.adopt} is adopted by '{adopted[spec.adopt]}' "
                                           f"already: one order, one entry")
        elif spec.adopt:
            adopted[spec.adopt] = name
        orders.append(spec)
    return AlicloudSpec(issued_timeout_seconds=_seconds(p, path, obj, "issuedTimeoutSeconds", 0, 3600),
                        orders=tuple(orders), instance_orders=tuple(instance_orders),
                        listing_lag_seconds=_seconds(p, path, obj, "listingLagSeconds", 60, 3600))
