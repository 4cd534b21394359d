"""certfleet:huaweicloud: the section's rules and its frozen model (HuaweiSpec, ScmCertificateSpec, ScmApplicant).

It stands beside the SCM provider (scm.py, scm_model.py), which takes its model and SCM_RESERVED_TAG_PREFIX
from here. Only components/config.py reads the stack's config: it hands this section to `_huaweicloud` and puts
the result in FleetSpec. The shared rules come from components/rules.py, which imports no cloud, so the imports
run one way (config.py -> huaweicloud/config.py -> rules.py) and never in a circle.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any, Mapping

from components import keys
from components.deploy.config import DeployTarget, deploy_targets, scm_key_problem
from components.dns.config import DnsSpec, entry_dns, section_dns
from components.renewal import RenewBefore, entry_renew_before, section_renew_before
from components.rules import (_check_keys, _choice, _dns_names, _named_object, _object, _previous_names, _Problems,
                              _seconds, _string, _tags, _text_field)

# Seed 002 (POST /v3/scm/certificates/buy) and the apply body (reference/huawei-scm.md §3).
SCM_BRANDS = ("GEOTRUST", "GLOBALSIGN", "SYMANTEC", "CFCA", "TRUSTASIA", "VTRUS")
SCM_TYPES = ("DV_SSL_CERT", "DV_SSL_CERT_BASIC", "OV_SSL_CERT", "OV_SSL_CERT_PRO", "EV_SSL_CERT",
             "EV_SSL_CERT_PRO")
SCM_DV_TYPES = ("DV_SSL_CERT", "DV_SSL_CERT_BASIC")
SCM_DOMAIN_TYPES = ("SINGLE_DOMAIN", "MULTI_DOMAIN", "WILDCARD")
SCM_MAX_YEARS = 3
SCM_MAX_DOMAIN_NUMBERS = 100
# FILE validation exists only for IP-address certificates, which certfleet does not handle.
SCM_VALIDATION_METHODS = ("DNS", "EMAIL")
SCM_KEY_ALGORITHMS = ("RSA_2048", "RSA_3072", "RSA_4096", "EC_P256", "EC_P384", "SM2")
SCM_LOCAL_KEY_ALGORITHMS = tuple(keys.KEY_ALGORITHMS)  # csr: generate (components/keys.py makes the key)
SCM_CA_HASH_ALGORITHMS = ("DEFAULT", "SHA-256")
SCM_ON_DESTROY = ("keep", "delete")
SCM_MAX_TAGS = 10
SCM_CERTFLEET_TAGS = 3  # resource, request hash, generation (components/huaweicloud/scm_model.py)
SCM_RESERVED_TAG_PREFIX = "certfleet-"
SCM_TAG_KEY_PATTERN = re.compile(r"[\w .:=+\-@]{1,128}")
SCM_TAG_VALUE_PATTERN = re.compile(r"[\w .:/=+\-@]{0,255}")
SCM_APPLICANT_NAME_PATTERN = re.compile(r"[A-Za-z\u4e00-\u9fff_\-,.]+")  # 4-100 bytes, no spaces
SCM_PHONE_PATTERN = re.compile(r"\+?[0-9][0-9-]{4,19}")
SCM_EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
SCM_COUNTRY_PATTERN = re.compile(r"[A-Za-z]{2}")
SCM_ENTERPRISE_PROJECT_PATTERN = re.compile(r"(0|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})")
HUAWEI_REGION_PATTERN = re.compile(r"[a-z]{2}(-[a-z]+)+-\d+")
SCM_COMPANY_FIELD_MAX = 63
# "scs" + 13 digits, 16 characters (reference/huawei-scm.md; the API's path ids are exactly 16 characters)
SCM_CERTIFICATE_ID_PATTERN = re.compile(r"scs[0-9]{13}")
# The purchase call (docs/scm-v2.md): v3 buy (seed 002), or the older API's v2 purchase (seed 003), which sells
# OV and EV certificates for 1 or 2 years only and has no fields for extra names, enterprise project or tags.
SCM_APIS = ("v3", "v2")
SCM_V2_TYPES = ("OV_SSL_CERT", "EV_SSL_CERT")
SCM_V2_MAX_YEARS = 2
SCM_V2_ONLY_V3_KEYS = ("singleDomainNumber", "wildcardDomainNumber")
HUAWEI_PROJECT_ID_PATTERN = re.compile(r"[0-9a-f]{32}")  # the v2 path's /v2/{project_id}/

_HUAWEI_KEYS = ("region", "enterpriseProjectId", "tags", "validationRecordTimeoutSeconds", "issuedTimeoutSeconds",
                "deleteTimeoutSeconds", "listingLagSeconds", "certificates", "dns", "api", "projectId",
                "renewBefore")
_SCM_CERT_KEYS = ("brand", "type", "domainType", "years", "domains", "domainNumbers", "singleDomainNumber",
                  "wildcardDomainNumber", "validation", "csr",
                  "keyAlgorithm", "caHashAlgorithm", "applicant", "company", "tags", "onDestroy", "previousNames", "adopt",
                  "replaceAdopted", "dns", "deployTo", "api", "renewBefore")
_SCM_APPLICANT_KEYS = ("name", "phone", "email", "contactName", "contactPhone", "contactEmail")
_SCM_COMPANY_KEYS = ("name", "unit", "province", "city", "country")



@dataclass(frozen=True)
class ScmApplicant:
    """Who applies for an SCM certificate (apply body); company fields are required for OV and EV."""

    name: str
    phone: str
    email: str
    contact_name: str | None = None
    contact_phone: str | None = None
    contact_email: str | None = None
    company_name: str | None = None
    company_unit: str | None = None
    company_province: str | None = None
    company_city: str | None = None
    country: str | None = None


@dataclass(frozen=True)
class ScmCertificateSpec:
    """One purchased SCM certificate (seed 002, v3 buy) and its application."""

    name: str                      # the key under certfleet:huaweicloud.certificates
    brand: str
    type: str
    domain_type: str
    years: int                     # effective_time
    domains: tuple[str, ...]       # lower-case, in config order; the first is the primary domain
    domain_numbers: int
    # MULTI_DOMAIN only: how many of the extra names (beyond the primary) are single / wildcard names
    single_domain_number: int | None
    wildcard_domain_number: int | None
    validation: str                # domain_method: DNS or EMAIL
    csr: str                       # "scm" (SCM makes the key), "generate" (certfleet makes it) or a CSR PEM
    key_algorithm: str
    ca_hash_algorithm: str | None
    applicant: ScmApplicant
    tags: tuple[tuple[str, str], ...]
    on_destroy: str                # "keep" or "delete" (an issued certificate; see README)
    previous_names: tuple[str, ...] = ()  # earlier keys of this certificate (Pulumi aliases)
    adopt: str | None = None       # the SCM certificate id this entry stands for (bought outside certfleet)
    api: str = "v3"                # the purchase call: "v3" buy or "v2" purchase (SCM_APIS)
    replace_adopted: bool = False  # a replace-level difference from the adopted certificate buys a new one
    dns: DnsSpec | None = None     # where certfleet writes the validation records (None: the user publishes)
    renew_before: RenewBefore | None = None  # buy the successor this long before expiry (components/renewal.py)
    deploy_to: tuple[DeployTarget, ...] = ()  # other clouds the certificate is copied to (components/deploy/)


@dataclass(frozen=True)
class HuaweiSpec:
    region: str
    enterprise_project_id: str | None
    validation_record_timeout_seconds: int
    issued_timeout_seconds: int
    delete_timeout_seconds: int
    certificates: tuple[ScmCertificateSpec, ...]
    listing_lag_seconds: int = 120  # how long a create after an interrupted run searches the listing before buying
    project_id: str | None = None  # the project of v2 purchases (/v2/{project_id}/scm/cert/purchase)


def _scm_tag_problem(key: str, value: Any) -> str | None:
    if str(key).lower().startswith(SCM_RESERVED_TAG_PREFIX):
        return f"tag keys starting with '{SCM_RESERVED_TAG_PREFIX}' are certfleet's own"
    if not SCM_TAG_KEY_PATTERN.fullmatch(key):
        return "SCM tag keys are 1-128 letters, digits, spaces or _ . : = + - @"
    if not isinstance(value, str) or not SCM_TAG_VALUE_PATTERN.fullmatch(value):
        return "SCM tag values are strings of 0-255 letters, digits, spaces or _ . : / = + - @"
    return None


def _scm_tags(p: _Problems, path: str, value: Any) -> dict[str, str]:
    return _tags(p, path, value, _scm_tag_problem)

def _scm_applicant(p: _Problems, path: str, raw: Any, company_raw: Any, organisation: bool) -> ScmApplicant | None:
    obj = _object(p, f"{path}.applicant", raw)
    if obj is None:
        return None
    applicant_path = f"{path}.applicant"
    _check_keys(p, applicant_path, obj, _SCM_APPLICANT_KEYS)
    name = _text_field(p, applicant_path, obj, "name", required=True, pattern=SCM_APPLICANT_NAME_PATTERN,
                       rule="must be Chinese or English letters, '_', '-', ',' or '.' (no spaces)")
    if name is not None and not 4 <= len(name.encode()) <= 100:
        p.error(f"{applicant_path}.name", f"must be 4-100 bytes, got {len(name.encode())}")
    phone_rule = "must be a phone number: digits and '-', optionally starting with '+'"
    email_rule = "must be an email address"
    fields: dict[str, Any] = {
        "name": name,
        "phone": _text_field(p, applicant_path, obj, "phone", required=True, pattern=SCM_PHONE_PATTERN,
                             rule=phone_rule),
        "email": _text_field(p, applicant_path, obj, "email", required=True, pattern=SCM_EMAIL_PATTERN,
                             max_length=256, rule=email_rule),
        "contact_name": _text_field(p, applicant_path, obj, "contactName", required=False,
                                    max_length=SCM_COMPANY_FIELD_MAX),
        "contact_phone": _text_field(p, applicant_path, obj, "contactPhone", required=False,
                                     pattern=SCM_PHONE_PATTERN, rule=phone_rule),
        "contact_email": _text_field(p, applicant_path, obj, "contactEmail", required=False,
                                     pattern=SCM_EMAIL_PATTERN, max_length=256, rule=email_rule),
    }
    company_path = f"{path}.company"
    if company_raw is None:
        if organisation:
            p.error(company_path, "is required for OV and EV certificates (name, province, city, country)")
    else:
        company = _object(p, company_path, company_raw) or {}
        _check_keys(p, company_path, company, _SCM_COMPANY_KEYS)
        for key in ("name", "unit", "province", "city"):
            fields[f"company_{key}"] = _text_field(p, company_path, company, key,
                                                   required=organisation and key != "unit",
                                                   max_length=SCM_COMPANY_FIELD_MAX)
        fields["country"] = _text_field(p, company_path, company, "country", required=organisation,
                                        pattern=SCM_COUNTRY_PATTERN, rule="must be a two-letter country code")
        if fields["country"]:
            fields["country"] = fields["country"].upper()
    if None in (fields["name"], fields["phone"], fields["email"]):
        return None
    return ScmApplicant(**fields)


def _scm_domains(p: _Problems, path: str, raw: Any, domain_type: str | None) -> list[str]:
    if isinstance(raw, list) and not raw:
        p.error(path, "must be a non-empty list of DNS names (the first is the primary domain)")
        return []
    domains = _dns_names(p, path, raw, unique=True)
    if not isinstance(raw, list):
        return []
    if domain_type in ("SINGLE_DOMAIN", "WILDCARD") and len(raw) != 1:
        p.error(path, f"a {domain_type} certificate has exactly one name, got {len(raw)}; "
                      f"use domainType MULTI_DOMAIN for more")
    elif domain_type == "MULTI_DOMAIN" and not 2 <= len(raw) <= SCM_MAX_DOMAIN_NUMBERS:
        p.error(path, f"a MULTI_DOMAIN certificate has 2 to {SCM_MAX_DOMAIN_NUMBERS} names, got {len(raw)}")
    if domains and domain_type == "SINGLE_DOMAIN" and domains[0].startswith("*."):
        p.error(f"{path}[0]", "a SINGLE_DOMAIN certificate cannot hold a wildcard name; use domainType WILDCARD")
    if domains and domain_type == "WILDCARD" and not domains[0].startswith("*."):
        p.error(f"{path}[0]", "a WILDCARD certificate needs a name like *.example.com")
    return domains


def _scm_csr(p: _Problems, path: str, value: Any, primary: str | None) -> str | None:
    csr = _string(p, path, value)
    if csr is None or csr in ("scm", "generate"):
        return csr
    try:
        csr_names = keys.read_csr(csr).names
    except ValueError:
        p.error(path, "must be 'scm' (SCM makes the key), 'generate' (certfleet makes it) or a PEM "
                      "certificate signing request")
        return None
    if primary and primary not in csr_names:
        p.error(path, f"the CSR does not name the primary domain '{primary}' (CN or subjectAltName)")
    return csr


def _scm_certificate(p: _Problems, path: str, name: str, raw: Any, default_tags: Mapping[str, str],
                     previous_names: tuple[str, ...], default_api: str = "v3") -> ScmCertificateSpec | None:
    obj = _named_object(p, path, "certificate", name, raw, _SCM_CERT_KEYS)
    if obj is None:
        return None
    errors_before = len(p.errors)
    for key in ("brand", "type", "domainType", "domains", "applicant"):
        if key not in obj:
            p.error(f"{path}.{key}", "is required")
    brand = _choice(p, f"{path}.brand", obj["brand"], SCM_BRANDS) if "brand" in obj else None
    cert_type = _choice(p, f"{path}.type", obj["type"], SCM_TYPES) if "type" in obj else None
    domain_type = _choice(p, f"{path}.domainType", obj["domainType"], SCM_DOMAIN_TYPES) \
        if "domainType" in obj else None
    years = obj.get("years", 1)
    if isinstance(years, bool) or not isinstance(years, int) or not 1 <= years <= SCM_MAX_YEARS:
        p.error(f"{path}.years", f"must be 1 to {SCM_MAX_YEARS} (effective_time), got {years!r}")
    domains = _scm_domains(p, f"{path}.domains", obj["domains"], domain_type) if "domains" in obj else []

    domain_numbers = obj.get("domainNumbers", max(len(domains), 2) if domain_type == "MULTI_DOMAIN" else 1)
    if isinstance(domain_numbers, bool) or not isinstance(domain_numbers, int):
        p.error(f"{path}.domainNumbers", f"must be a whole number, got {domain_numbers!r}")
    elif domain_type in ("SINGLE_DOMAIN", "WILDCARD") and domain_numbers != 1:
        p.error(f"{path}.domainNumbers", f"must be 1 for a {domain_type} certificate, got {domain_numbers}")
    elif domain_type == "MULTI_DOMAIN" and not max(2, len(domains)) <= domain_numbers <= SCM_MAX_DOMAIN_NUMBERS:
        p.error(f"{path}.domainNumbers", f"must be from {max(2, len(domains))} (the names listed) to "
                                         f"{SCM_MAX_DOMAIN_NUMBERS} for a MULTI_DOMAIN certificate, "
                                         f"got {domain_numbers}")

    single_number, wildcard_number = _scm_extra_name_numbers(p, path, obj, domain_type, domains, domain_numbers)
    api = _choice(p, f"{path}.api", obj.get("api", default_api), SCM_APIS)
    if api == "v2":
        _scm_v2_rules(p, path, obj, cert_type, years)
        single_number = wildcard_number = None  # v2 buys domain_numbers names, with no split

    validation = obj.get("validation", "DNS")
    if validation == "FILE":
        p.error(f"{path}.validation", "FILE validation is only for IP-address certificates; use DNS or EMAIL")
    else:
        _choice(p, f"{path}.validation", validation, SCM_VALIDATION_METHODS)
    csr = _scm_csr(p, f"{path}.csr", obj.get("csr", "scm"), domains[0] if domains else None)
    key_algorithm = _choice(p, f"{path}.keyAlgorithm", obj.get("keyAlgorithm", "RSA_2048"), SCM_KEY_ALGORITHMS)
    if csr == "generate" and key_algorithm and key_algorithm not in SCM_LOCAL_KEY_ALGORITHMS:
        p.error(f"{path}.keyAlgorithm", f"with csr: generate, one of {', '.join(SCM_LOCAL_KEY_ALGORITHMS)}")
    ca_hash = obj.get("caHashAlgorithm")
    if ca_hash is not None:
        _choice(p, f"{path}.caHashAlgorithm", ca_hash, SCM_CA_HASH_ALGORITHMS)
    elif brand == "GEOTRUST" and cert_type in ("OV_SSL_CERT", "OV_SSL_CERT_PRO"):
        p.error(f"{path}.caHashAlgorithm", "is required for GeoTrust OV certificates (DEFAULT or SHA-256)")
    organisation = cert_type is not None and cert_type not in SCM_DV_TYPES
    applicant = _scm_applicant(p, path, obj["applicant"], obj.get("company"), organisation) \
        if "applicant" in obj else None
    tags = dict(default_tags)
    if "tags" in obj:
        tags.update(_scm_tags(p, f"{path}.tags", obj["tags"]))
    if len(tags) > SCM_MAX_TAGS - SCM_CERTFLEET_TAGS:
        p.error(f"{path}.tags", f"at most {SCM_MAX_TAGS - SCM_CERTFLEET_TAGS} tags per certificate "
                                f"(huaweicloud.tags included; SCM allows {SCM_MAX_TAGS} and certfleet uses "
                                f"{SCM_CERTFLEET_TAGS}), got {len(tags)}")
    on_destroy = _choice(p, f"{path}.onDestroy", obj.get("onDestroy", "keep"), SCM_ON_DESTROY)
    adopt = _text_field(p, path, obj, "adopt", required=False, pattern=SCM_CERTIFICATE_ID_PATTERN,
                        rule="must be an SCM certificate id: 'scs' and 13 digits")
    replace_adopted = obj.get("replaceAdopted", False)
    if not isinstance(replace_adopted, bool):
        p.error(f"{path}.replaceAdopted", f"must be true or false, got {replace_adopted!r}")
    elif replace_adopted and "adopt" not in obj:
        p.error(f"{path}.replaceAdopted", "applies only with adopt")

    if len(p.errors) > errors_before or applicant is None:
        return None
    return ScmCertificateSpec(
        name=name, brand=brand, type=cert_type, domain_type=domain_type, years=years, domains=tuple(domains),
        domain_numbers=domain_numbers, single_domain_number=single_number, wildcard_domain_number=wildcard_number,
        validation=validation, csr=csr, key_algorithm=key_algorithm,
        ca_hash_algorithm=ca_hash, applicant=applicant, tags=tuple(sorted(tags.items())), on_destroy=on_destroy,
        previous_names=previous_names, adopt=adopt, replace_adopted=replace_adopted, api=api)


def _scm_v2_rules(p: _Problems, path: str, obj: Mapping[str, Any], cert_type: str | None, years: Any) -> None:
    """What seed 003's v2 purchase cannot buy: only OV and EV, 1 or 2 years, no split of the extra names."""
    where = "SCM's v2 purchase (api: v2)"
    if cert_type is not None and cert_type not in SCM_V2_TYPES:
        p.error(f"{path}.type", f"{where} sells {' and '.join(SCM_V2_TYPES)} only, got {cert_type!r}; "
                                f"use api: v3 for it")
    if isinstance(years, int) and not isinstance(years, bool) and years > SCM_V2_MAX_YEARS:
        p.error(f"{path}.years", f"{where} buys 1 or {SCM_V2_MAX_YEARS} years (effective_time), got {years}")
    for key in SCM_V2_ONLY_V3_KEYS:
        if key in obj:
            p.error(f"{path}.{key}", f"{where} has no such field (it buys domainNumbers names of any kind); "
                                     f"remove it or use api: v3")


def _scm_extra_name_numbers(p: _Problems, path: str, obj: Mapping[str, Any], domain_type: str | None,
                            domains: list[str], domain_numbers: Any) -> tuple[int | None, int | None]:
    """Seed 002's single_domain_number / wildcard_domain_number: the extra names a MULTI_DOMAIN buy pays for.

    By default exactly what `domains` lists beyond the primary; set higher to buy room for names added later.
    """
    extra = domains[1:]
    needed = {"singleDomainNumber": sum(not n.startswith("*.") for n in extra),
              "wildcardDomainNumber": sum(n.startswith("*.") for n in extra)}
    numbers: dict[str, int | None] = {}
    for key, listed in needed.items():
        if key in obj and domain_type != "MULTI_DOMAIN":
            p.error(f"{path}.{key}", "is only for domainType MULTI_DOMAIN")
        value = obj.get(key, listed or None)
        if value is None:
            numbers[key] = None
        elif isinstance(value, bool) or not isinstance(value, int) or not max(1, listed) <= value <= 100:
            p.error(f"{path}.{key}", f"must be a whole number from {max(1, listed)} (the names listed) to 100, "
                                     f"got {value!r}")
            numbers[key] = None
        else:
            numbers[key] = value
    extra_paid = sum(v or 0 for v in numbers.values())
    if domain_type == "MULTI_DOMAIN" and isinstance(domain_numbers, int) and extra_paid > domain_numbers - 1:
        p.error(path, f"singleDomainNumber + wildcardDomainNumber ({extra_paid}) must not exceed "
                      f"domainNumbers - 1 ({domain_numbers - 1}): the primary domain takes one")
    if domain_type != "MULTI_DOMAIN":
        return None, None
    return numbers["singleDomainNumber"], numbers["wildcardDomainNumber"]


def _huaweicloud(p: _Problems, path: str, raw: Any) -> HuaweiSpec | None:
    obj = _object(p, path, raw)
    if obj is None:
        return None
    _check_keys(p, path, obj, _HUAWEI_KEYS)
    region = _string(p, f"{path}.region", obj.get("region", "cn-north-4")) or "cn-north-4"
    if not HUAWEI_REGION_PATTERN.fullmatch(region):
        p.error(f"{path}.region", f"must be a Huawei Cloud region name such as cn-north-4, got {region!r}")
    enterprise_project_id = _text_field(p, path, obj, "enterpriseProjectId", required=False,
                                        pattern=SCM_ENTERPRISE_PROJECT_PATTERN,
                                        rule="must be '0' (the default project) or a UUID")
    default_tags = _scm_tags(p, f"{path}.tags", obj["tags"]) if "tags" in obj else {}
    default_api = _choice(p, f"{path}.api", obj.get("api", "v3"), SCM_APIS) or "v3"
    project_id = _text_field(p, path, obj, "projectId", required=False, pattern=HUAWEI_PROJECT_ID_PATTERN,
                             rule="must be a Huawei Cloud project id (32 lower-case hex digits)")
    cert_map = _object(p, f"{path}.certificates", obj.get("certificates", {})) or {}
    renames = _previous_names(p, f"{path}.certificates", "certificate", cert_map)
    certificates = [spec for name in sorted(cert_map)
                    if (spec := _scm_certificate(p, f"{path}.certificates.{name}", name, cert_map[name],
                                                 default_tags, renames.get(name, ()), default_api)) is not None]
    dns = section_dns(p, path, obj, region)
    renew_before = section_renew_before(p, path, obj)
    certificates = [replace(spec, dns=entry_dns(p, f"{path}.certificates.{spec.name}", cert_map[spec.name], dns,
                                                spec.validation == "DNS", spec.domains, region),
                            renew_before=entry_renew_before(p, f"{path}.certificates.{spec.name}",
                                                            cert_map[spec.name], renew_before))
                    for spec in certificates]
    certificates = [replace(spec, deploy_to=deploy_targets(p, f"{path}.certificates.{spec.name}", cert_map[spec.name],
                                                           "huaweicloud", scm_key_problem(spec)))
                    for spec in certificates]
    _scm_v2_section_rules(p, path, obj, [s.name for s in certificates if s.api == "v2"], project_id,
                          enterprise_project_id)
    adopted: dict[str, str] = {}  # certificate id -> the entry adopting it: one certificate, one entry
    for spec in certificates:
        if spec.adopt and spec.adopt in adopted:
            p.error(f"{path}.certificates.{spec.name}.adopt", f"SCM certificate {spec.adopt} is adopted by "
                                                               f"'{adopted[spec.adopt]}' already: one certificate, "
                                                               f"one entry")
        elif spec.adopt:
            adopted[spec.adopt] = spec.name
    return HuaweiSpec(
        region=region,
        enterprise_project_id=enterprise_project_id,
        validation_record_timeout_seconds=_seconds(p, path, obj, "validationRecordTimeoutSeconds", 300, 3600),
        issued_timeout_seconds=_seconds(p, path, obj, "issuedTimeoutSeconds", 0, 3600),
        delete_timeout_seconds=_seconds(p, path, obj, "deleteTimeoutSeconds", 300, 3600),
        certificates=tuple(certificates),
        listing_lag_seconds=_seconds(p, path, obj, "listingLagSeconds", 120, 3600),
        project_id=project_id,
    )


def _scm_v2_section_rules(p: _Problems, path: str, obj: Mapping[str, Any], v2_entries: list[str],
                          project_id: str | None, enterprise_project_id: str | None) -> None:
    """v2 purchases need the project of their path, and land in the default enterprise project: the look
    before a purchase lists the section's enterprise project, so it would never see them there."""
    if not v2_entries:
        return
    names = ", ".join(f"'{n}'" for n in v2_entries)
    if project_id is None and "projectId" not in obj:
        p.error(f"{path}.projectId", f"is required when a certificate buys through api: v2 "
                                     f"(POST /v2/{{project_id}}/scm/cert/purchase): {names}")
    if enterprise_project_id not in (None, "0"):
        p.error(f"{path}.enterpriseProjectId", f"a v2 purchase (api: v2: {names}) cannot choose an enterprise "
                                               f"project; remove it, or use api: v3")

