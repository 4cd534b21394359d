"""The only place that reads certfleet's Pulumi stack config.

It turns the raw `certfleet:*` values into a frozen, validated model before any cloud is called. Every
problem is collected (not just the first) and names its config path, e.g.
`certfleet:aws.certificates.shop.sans[3]`, and the rule it breaks. The same checks run again inside the
dynamic providers' `check()` (see `names.py`), so a resource built outside this module is held to them too.

The shape is documented in README.md ("Config reference") and published as `schema/certfleet.schema.json`.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from components import keys, names
from components.errors import ConfigError

NAMESPACE = "certfleet"

# ACM limits (ACM user guide, "Quotas"): 100 names is the hard maximum per certificate; 10 is the
# default account quota, which an account must ask AWS to raise.
ACM_MAX_NAMES = 100
ACM_DEFAULT_NAME_QUOTA = 10
ACM_KEY_ALGORITHMS = ("RSA_2048", "EC_prime256v1", "EC_secp384r1")  # what RequestCertificate accepts
# Every pattern here is used with fullmatch(): match() and `$` would let a trailing newline through.
AWS_REGION_PATTERN = re.compile(r"[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d")
ACM_MAX_TAGS = 50
# certfleet:resource, certfleet:request and certfleet:generation (components/aws/acm.py); the rest is the user's.
ACM_CERTFLEET_TAGS = 3
AWS_MAX_USER_TAGS = ACM_MAX_TAGS - ACM_CERTFLEET_TAGS
RESOURCE_NAME_PATTERN = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
_NAME_RULE = "1-63 lower-case letters, digits or '-', starting and ending with a letter or digit"


@dataclass(frozen=True)
class AcmCertificateSpec:
    """One ACM certificate requested with DNS validation (seed 000, acm_op=create)."""

    name: str                      # the key under certfleet:aws.certificates
    domain: str                    # lower-case; ACM's DomainName (certificate CN)
    sans: tuple[str, ...]          # sorted, de-duplicated, always includes `domain`
    key_algorithm: str
    tags: tuple[tuple[str, str], ...]  # sorted (key, value) pairs: aws.tags merged with the certificate's
    previous_names: tuple[str, ...] = ()  # earlier keys of this certificate (Pulumi aliases)


@dataclass(frozen=True)
class AwsSpec:
    region: str
    validation_record_timeout_seconds: int
    issued_timeout_seconds: int
    delete_in_use_timeout_seconds: int
    certificates: tuple[AcmCertificateSpec, ...]


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


@dataclass(frozen=True)
class HuaweiSpec:
    region: str
    enterprise_project_id: str | None
    validation_record_timeout_seconds: int
    issued_timeout_seconds: int
    delete_timeout_seconds: int
    certificates: tuple[ScmCertificateSpec, ...]
    listing_lag_seconds: int = 120  # how long a create after an interrupted run searches the listing before buying


@dataclass(frozen=True)
class FleetSpec:
    aws: AwsSpec | None
    warnings: tuple[str, ...] = field(default=())
    huaweicloud: HuaweiSpec | None = None
    alicloud: AlicloudSpec | None = None


# --- reading helpers: each takes the config path it reports -------------------------------------------

class _Problems:
    """Collects problems and warnings while the raw config is walked."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.warnings: list[str] = []

    def error(self, path: str, rule: str) -> None:
        self.errors.append(f"{path}: {rule}")

    def warn(self, path: str, message: str) -> None:
        self.warnings.append(f"{path}: {message}")


def _type_name(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "a number",
            float: "a number", type(None): "null"}.get(type(value), type(value).__name__)


def _named_object(p: _Problems, path: str, what: str, name: str, raw: Any,
                  allowed: tuple[str, ...]) -> dict[str, Any] | None:
    """One named entry (a certificate, an order): its name doubles as the Pulumi resource name."""
    if not RESOURCE_NAME_PATTERN.fullmatch(name):
        p.error(path, f"{what} names must be {_NAME_RULE}, got {name!r}")
    obj = _object(p, path, raw)
    if obj is not None:
        _check_keys(p, path, obj, allowed)
    return obj


def _previous_names(p: _Problems, path: str, what: str, entries: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """Each entry's `previousNames` (the names it had before: Pulumi aliases), for one section's `entries`.

    `path` is the section's map, e.g. `certfleet:aws.certificates`. A previous name follows the entry-name rule,
    is not the name of a current entry, and belongs to one entry: two resources cannot inherit one identity.
    """
    claimed: dict[str, str] = {}  # previous name -> config path of the entry that claims it
    found: dict[str, tuple[str, ...]] = {}
    for name in sorted(entries):
        raw = entries[name]
        if not isinstance(raw, dict) or "previousNames" not in raw:
            continue  # a non-object entry is reported by _named_object
        list_path = f"{path}.{name}.previousNames"
        if not isinstance(raw["previousNames"], list):
            p.error(list_path, f"must be a list of earlier {what} names, got {_type_name(raw['previousNames'])}")
            continue
        previous: list[str] = []
        for i, raw_old in enumerate(raw["previousNames"]):
            item_path = f"{list_path}[{i}]"
            old = _string(p, item_path, raw_old)
            if old is None:
                continue
            if not RESOURCE_NAME_PATTERN.fullmatch(old):
                p.error(item_path, f"{what} names must be {_NAME_RULE}, got {old!r}")
            elif old == name:
                p.error(item_path, f"'{old}' is this {what}'s own name")
            elif old in entries:
                p.error(item_path, f"'{old}' is the name of a current {what}, {path}.{old}")
            elif old in previous:
                p.error(item_path, f"'{old}' is listed twice")
            elif old in claimed:
                p.error(item_path, f"'{old}' is already claimed by {claimed[old]}; "
                                   f"a previous name belongs to one {what}")
            else:
                previous.append(old)
                claimed[old] = f"{path}.{name}"
        found[name] = tuple(previous)
    return found


def _check_keys(p: _Problems, path: str, obj: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    """Unknown keys are errors: a typo must not silently fall back to a default."""
    for key in obj:
        if key not in allowed:
            hint = difflib.get_close_matches(str(key), allowed, n=1)
            suggestion = f"; did you mean '{hint[0]}'?" if hint else f"; allowed keys: {', '.join(allowed)}"
            p.error(f"{path}.{key}", f"unknown key{suggestion}")


def _object(p: _Problems, path: str, value: Any) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        p.error(path, f"must be an object, got {_type_name(value)}")
        return None
    return value


def _string(p: _Problems, path: str, value: Any) -> str | None:
    if not isinstance(value, str):
        p.error(path, f"must be a string, got {_type_name(value)}")
        return None
    return value


def _text_field(p: _Problems, path: str, obj: Mapping[str, Any], key: str, *, required: bool,
                pattern: re.Pattern[str] | None = None, max_length: int | None = None, rule: str = "") -> str | None:
    """A text value at `<path>.<key>`: one line, not blank, within `max_length`, matching `pattern` if given."""
    if key not in obj:
        if required:
            p.error(f"{path}.{key}", "is required")
        return None
    value = _string(p, f"{path}.{key}", obj[key])
    if value is None:
        return None
    if not value.strip():
        p.error(f"{path}.{key}", f"must not be empty or blank, got {value!r}")
        return None
    if not names.ONE_LINE.fullmatch(value):
        p.error(f"{path}.{key}", f"must be one line of text without control characters, got {value!r}")
        return None
    if max_length is not None and len(value) > max_length:
        p.error(f"{path}.{key}", f"at most {max_length} characters, got {len(value)}")
        return None
    if pattern is not None and not pattern.fullmatch(value):
        p.error(f"{path}.{key}", f"{rule}, got {value!r}")
        return None
    return value


def _seconds(p: _Problems, path: str, obj: Mapping[str, Any], key: str, default: int, maximum: int) -> int:
    value = obj.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
        p.error(f"{path}.{key}", f"must be a whole number of seconds from 0 to {maximum}, got {value!r}")
        return default
    return value


def _choice(p: _Problems, path: str, value: Any, choices: tuple[str, ...]) -> str | None:
    if value not in choices:
        p.error(path, f"must be one of {', '.join(choices)}, got {value!r}")
        return None
    return value


def _dns_names(p: _Problems, path: str, raw: Any, unique: bool = False) -> list[str]:
    """A list of DNS names, normalised; each bad item is reported with its index, e.g. `.sans[3]`.

    `unique`: where the order means something (SCM's first name is the primary), a repeat is an error.
    """
    if not isinstance(raw, list):
        p.error(path, f"must be a list of DNS names, got {_type_name(raw)}")
        return []
    out: list[str] = []
    for i, raw_name in enumerate(raw):
        name = _string(p, f"{path}[{i}]", raw_name)
        if name is None:
            continue
        name = names.normalise(name)
        problem = names.dns_name_problem(name)
        if problem:
            p.error(f"{path}[{i}]", problem)
        elif unique and name in out:
            p.error(f"{path}[{i}]", f"'{name}' is listed twice")
            continue
        out.append(name)
    return out


def _tags(p: _Problems, path: str, value: Any, problem: Callable[[str, Any], str | None]) -> dict[str, str]:
    """A map of tags; each bad one is reported at `<path>.<key>` with the cloud's rule (`problem`)."""
    tags = _object(p, path, value)
    if tags is None:
        return {}
    out: dict[str, str] = {}
    for key, tag_value in tags.items():
        found = problem(key, tag_value)
        if found:
            p.error(f"{path}.{key}", found)
        else:
            out[key] = tag_value
    return out


def _aws_tags(p: _Problems, path: str, value: Any) -> dict[str, str]:
    return _tags(p, path, value, names.aws_tag_problem)

# --- certfleet:aws ---------------------------------------------------------------------------------------

_AWS_KEYS = ("region", "tags", "validationRecordTimeoutSeconds", "issuedTimeoutSeconds",
             "deleteInUseTimeoutSeconds", "certificates")
_ACM_CERT_KEYS = ("domain", "sans", "keyAlgorithm", "tags", "previousNames")


def _acm_certificate(p: _Problems, path: str, name: str, raw: Any, default_tags: Mapping[str, str],
                     previous_names: tuple[str, ...]) -> AcmCertificateSpec | None:
    obj = _named_object(p, path, "certificate", name, raw, _ACM_CERT_KEYS)
    if obj is None:
        return None
    errors_before = len(p.errors)

    domain = None
    if "domain" not in obj:
        p.error(f"{path}.domain", "is required")
    else:
        domain = _string(p, f"{path}.domain", obj["domain"])
        if domain is not None:
            domain = names.normalise(domain)
            problem = names.dns_name_problem(domain) or names.acm_domain_problem(domain)
            if problem:
                p.error(f"{path}.domain", problem)

    sans = _dns_names(p, f"{path}.sans", obj.get("sans", []))

    key_algorithm = _choice(p, f"{path}.keyAlgorithm", obj.get("keyAlgorithm", "RSA_2048"),
                            ACM_KEY_ALGORITHMS)
    tags = dict(default_tags)
    if "tags" in obj:
        tags.update(_aws_tags(p, f"{path}.tags", obj["tags"]))
    if len(tags) > AWS_MAX_USER_TAGS:
        p.error(f"{path}.tags", f"at most {AWS_MAX_USER_TAGS} tags per certificate (aws.tags included; "
                                f"ACM allows {ACM_MAX_TAGS} and certfleet uses {ACM_CERTFLEET_TAGS}), "
                                f"got {len(tags)}")

    if len(p.errors) > errors_before or domain is None:
        return None
    all_names = names.name_set(domain, sans)
    if len(all_names) > ACM_MAX_NAMES:
        p.error(f"{path}.sans", f"ACM allows at most {ACM_MAX_NAMES} names per certificate "
                                f"(domain included), got {len(all_names)}")
        return None
    if len(all_names) > ACM_DEFAULT_NAME_QUOTA:
        p.warn(f"{path}.sans", f"{len(all_names)} names is above ACM's default quota of "
                               f"{ACM_DEFAULT_NAME_QUOTA} per certificate; the request fails unless the "
                               f"account's quota was raised (Service Quotas, ACM)")
    return AcmCertificateSpec(name=name, domain=domain, sans=all_names, key_algorithm=key_algorithm,
                              tags=tuple(sorted(tags.items())), previous_names=previous_names)


def _aws(p: _Problems, path: str, raw: Any) -> AwsSpec | None:
    obj = _object(p, path, raw)
    if obj is None:
        return None
    _check_keys(p, path, obj, _AWS_KEYS)
    region = _string(p, f"{path}.region", obj.get("region", "us-east-1")) or "us-east-1"
    if not AWS_REGION_PATTERN.fullmatch(region):
        p.error(f"{path}.region", f"must be an AWS region name such as us-east-1, got {region!r}")
    default_tags = _aws_tags(p, f"{path}.tags", obj["tags"]) if "tags" in obj else {}

    certificates: list[AcmCertificateSpec] = []
    raw_certs = obj.get("certificates", {})
    cert_map = _object(p, f"{path}.certificates", raw_certs) or {}
    renames = _previous_names(p, f"{path}.certificates", "certificate", cert_map)
    claimed: dict[str, str] = {}  # DNS name -> config path of the certificate that claims it
    for name in sorted(cert_map):
        cert_path = f"{path}.certificates.{name}"
        spec = _acm_certificate(p, cert_path, name, cert_map[name], default_tags, renames.get(name, ()))
        if spec is None:
            continue
        for dns_name in spec.sans:
            if dns_name in claimed:
                p.error(cert_path, f"'{dns_name}' is already claimed by {claimed[dns_name]}; "
                                   f"a name belongs to one certificate")
            else:
                claimed[dns_name] = cert_path
        certificates.append(spec)
    return AwsSpec(
        region=region,
        validation_record_timeout_seconds=_seconds(p, path, obj, "validationRecordTimeoutSeconds", 300, 3600),
        issued_timeout_seconds=_seconds(p, path, obj, "issuedTimeoutSeconds", 0, 3600),
        delete_in_use_timeout_seconds=_seconds(p, path, obj, "deleteInUseTimeoutSeconds", 1200, 7200),
        certificates=tuple(certificates),
    )


# --- certfleet:huaweicloud -------------------------------------------------------------------------------

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
SCM_CERTFLEET_TAGS = 3  # resource, request hash, generation (components/huaweicloud/scm.py)
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

_HUAWEI_KEYS = ("region", "enterpriseProjectId", "tags", "validationRecordTimeoutSeconds", "issuedTimeoutSeconds",
                "deleteTimeoutSeconds", "listingLagSeconds", "certificates")
_SCM_CERT_KEYS = ("brand", "type", "domainType", "years", "domains", "domainNumbers", "singleDomainNumber",
                  "wildcardDomainNumber", "validation", "csr",
                  "keyAlgorithm", "caHashAlgorithm", "applicant", "company", "tags", "onDestroy", "previousNames")
_SCM_APPLICANT_KEYS = ("name", "phone", "email", "contactName", "contactPhone", "contactEmail")
_SCM_COMPANY_KEYS = ("name", "unit", "province", "city", "country")


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
                     previous_names: tuple[str, ...]) -> ScmCertificateSpec | None:
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

    if len(p.errors) > errors_before or applicant is None:
        return None
    return ScmCertificateSpec(
        name=name, brand=brand, type=cert_type, domain_type=domain_type, years=years, domains=tuple(domains),
        domain_numbers=domain_numbers, single_domain_number=single_number, wildcard_domain_number=wildcard_number,
        validation=validation, csr=csr, key_algorithm=key_algorithm,
        ca_hash_algorithm=ca_hash, applicant=applicant, tags=tuple(sorted(tags.items())), on_destroy=on_destroy,
        previous_names=previous_names)


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
    cert_map = _object(p, f"{path}.certificates", obj.get("certificates", {})) or {}
    renames = _previous_names(p, f"{path}.certificates", "certificate", cert_map)
    certificates = [spec for name in sorted(cert_map)
                    if (spec := _scm_certificate(p, f"{path}.certificates.{name}", name, cert_map[name],
                                                 default_tags, renames.get(name, ()))) is not None]
    return HuaweiSpec(
        region=region,
        enterprise_project_id=enterprise_project_id,
        validation_record_timeout_seconds=_seconds(p, path, obj, "validationRecordTimeoutSeconds", 300, 3600),
        issued_timeout_seconds=_seconds(p, path, obj, "issuedTimeoutSeconds", 0, 3600),
        delete_timeout_seconds=_seconds(p, path, obj, "deleteTimeoutSeconds", 300, 3600),
        certificates=tuple(certificates),
        listing_lag_seconds=_seconds(p, path, obj, "listingLagSeconds", 120, 3600),
    )


# --- certfleet:alicloud ----------------------------------------------------------------------------------

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

_ALICLOUD_KEYS = ("contact", "tags", "issuedTimeoutSeconds", "listingLagSeconds", "revokeOnDelete", "orders")
_CAS_ORDER_KEYS = ("productCode", "api", "domains", "validation", "csr", "keyAlgorithm", "contact", "companyName",
                   "tags", "revokeOnDelete", "previousNames")
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


@dataclass(frozen=True)
class AlicloudSpec:
    issued_timeout_seconds: int
    orders: tuple[CasOrderSpec, ...]
    listing_lag_seconds: int = 60   # how long a create after an interrupted run searches the listing before buying


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
    revoke = obj.get("revokeOnDelete", default_revoke)
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
                        revoke_on_delete=revoke, previous_names=previous_names)


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
    for name in sorted(order_map):
        order_path = f"{path}.orders.{name}"
        spec = _cas_order(p, order_path, name, order_map[name], default_contact, default_tags, default_revoke,
                          renames.get(name, ()))
        if spec is None:
            continue
        for dns_name in spec.domains:
            if dns_name in claimed:
                p.error(order_path, f"'{dns_name}' is already claimed by {claimed[dns_name]}; "
                                    f"a name belongs to one order")
            else:
                claimed[dns_name] = order_path
        orders.append(spec)
    return AlicloudSpec(issued_timeout_seconds=_seconds(p, path, obj, "issuedTimeoutSeconds", 0, 3600),
                        orders=tuple(orders),
                        listing_lag_seconds=_seconds(p, path, obj, "listingLagSeconds", 60, 3600))


# --- entry points ----------------------------------------------------------------------------------------

_SECTIONS: dict[str, Callable[[_Problems, str, Any], Any]] = {"aws": _aws}
_SECTIONS["huaweicloud"] = _huaweicloud
_SECTIONS["alicloud"] = _alicloud


def load_fleet(raw: Mapping[str, Any]) -> FleetSpec:
    """Validate `raw` ({"aws": {...}, ...}: the `certfleet:` keys, namespace removed, values decoded).

    Raises ConfigError listing every problem; returns the frozen model with any warnings.
    """
    p = _Problems()
    _check_keys(p, NAMESPACE, raw, tuple(_SECTIONS))
    sections = {key: reader(p, f"{NAMESPACE}:{key}", raw[key])
                for key, reader in _SECTIONS.items() if key in raw}
    if p.errors:
        raise ConfigError(p.errors)
    return FleetSpec(aws=sections.get("aws"), warnings=tuple(p.warnings),
                     huaweicloud=sections.get("huaweicloud"), alicloud=sections.get("alicloud"))


def decode_config_values(config: Mapping[str, str]) -> dict[str, Any]:
    """`certfleet:<key>` -> decoded value. Pulumi hands structured config to programs as JSON text."""
    out: dict[str, Any] = {}
    prefix = NAMESPACE + ":"
    for key, text in config.items():
        if not key.startswith(prefix):
            continue
        try:
            out[key[len(prefix):]] = json.loads(text)
        except (TypeError, ValueError):
            out[key[len(prefix):]] = text
    return out


def load_from_pulumi() -> FleetSpec:
    """Read the running stack's config (inside a Pulumi program)."""
    from pulumi.runtime import config as runtime_config  # the program's config bag, secrets decrypted

    raw = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    return load_fleet(decode_config_values(raw))
