"""The rules SCM applies to request bodies and query parameters, before any state is touched.

Sources: seed 002 (v3 buy), seed 003 (legacy v2 purchase), the SDK model docstrings (Huawei's API docs)
and the reference notes. Rules marked "inference" are not published by Huawei and are kept lenient.
Every violation raises ``InvalidParameter`` (HTTP 400 ``SCM.0005``) unless a more specific code exists.
"""

import ipaddress
import re

from emulators.scm.exceptions import InvalidParameter, InvalidTagKey, InvalidTagValue

CERT_BRANDS = ("GEOTRUST", "GLOBALSIGN", "SYMANTEC", "CFCA", "TRUSTASIA", "VTRUS")
CERT_TYPES = ("DV_SSL_CERT", "DV_SSL_CERT_BASIC", "EV_SSL_CERT", "EV_SSL_CERT_PRO", "OV_SSL_CERT",
              "OV_SSL_CERT_PRO")
DV_CERT_TYPES = ("DV_SSL_CERT", "DV_SSL_CERT_BASIC")
V2_CERT_TYPES = ("OV_SSL_CERT", "EV_SSL_CERT")  # seed 003 lists only these two
DOMAIN_TYPES = ("SINGLE_DOMAIN", "MULTI_DOMAIN", "WILDCARD")
PRIMARY_DOMAIN_TYPES = ("SINGLE_DOMAIN", "WILDCARD_DOMAIN")
DOMAIN_METHODS = ("DNS", "FILE", "EMAIL")
KEY_ALGORITHMS = ("RSA_2048", "RSA_3072", "RSA_4096", "EC_P256", "EC_P384", "SM2")
CA_HASH_ALGORITHMS = ("DEFAULT", "SHA-256")
LIST_STATUSES = ("ALL", "PAID", "ISSUED", "CHECKING", "CANCELCHECKING", "UNPASSED", "EXPIRED", "REVOKING",
                 "REVOKED", "UPLOAD", "CHECKING_ORG", "ISSUING", "SUPPLEMENTCHECKING")
LIST_SORT_KEYS = ("certExpiredTime", "certStatus", "certUpdateTime")
SORT_DIRECTIONS = ("ASC", "DESC")
PAGE_SIZES = (10, 20, 50)
MAX_TAGS_PER_CERTIFICATE = 10

_ENTERPRISE_PROJECT_ID = re.compile(r"^(all|0|[0-9a-z]{8}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{12})$")
_HOSTNAME_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_COUNTRY = re.compile(r"^[A-Za-z]{2}$")
# applicant_name: Chinese or English letters, "_", "-", "," and "." (no spaces), 4-100 bytes.
_APPLICANT_NAME = re.compile(r"^[A-Za-z\u4e00-\u9fff_\-,.]+$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9][0-9-]{4,19}$")  # inference: Huawei only gives an example
_TAG_KEY = re.compile(r"^[\w .:=+\-@]{1,128}$")
_TAG_VALUE = re.compile(r"^[\w .:/=+\-@]{0,255}$")
_IMPORT_NAME = re.compile(r"^[A-Za-z0-9_.\-]{3,63}$")


# --- field helpers -------------------------------------------------------------------------------

def require(body: dict, name: str):
    if body.get(name) is None:
        raise InvalidParameter(f"{name} is required")
    return body[name]


def string_field(body: dict, name: str, *, required: bool = False, max_length: int | None = None,
                 choices: tuple[str, ...] | None = None) -> str | None:
    value = require(body, name) if required else body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidParameter(f"{name} must be a string")
    if max_length is not None and len(value) > max_length:
        raise InvalidParameter(f"{name} must be at most {max_length} characters")
    if choices is not None and value not in choices:
        raise InvalidParameter(f"{name} must be one of {', '.join(choices)}; got {value!r}")
    return value


def integer_field(body: dict, name: str, *, required: bool = False, minimum: int | None = None,
                  maximum: int | None = None) -> int | None:
    value = require(body, name) if required else body.get(name)
    if value is None:
        return None
    # JSON true/false are not numbers, even though Python's bool is an int.
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidParameter(f"{name} must be an integer")
    if minimum is not None and value < minimum or maximum is not None and value > maximum:
        raise InvalidParameter(f"{name} must be between {minimum} and {maximum}; got {value}")
    return value


def boolean_field(body: dict, name: str, *, required: bool = False) -> bool | None:
    value = require(body, name) if required else body.get(name)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise InvalidParameter(f"{name} must be a boolean")
    return value


def require_privacy_agreement(body: dict) -> None:
    if boolean_field(body, "agree_privacy_protection", required=True) is not True:
        raise InvalidParameter("agree_privacy_protection must be true")


def enterprise_project_id_field(body: dict) -> str | None:
    value = string_field(body, "enterprise_project_id", max_length=36)
    if value is not None and not _ENTERPRISE_PROJECT_ID.match(value):
        raise InvalidParameter("enterprise_project_id must be 'all', '0' or a UUID")
    return value


# --- buy (v3) and purchase (v2) ------------------------------------------------------------------

def validate_buy_v3(body: dict) -> dict:
    """Seed 002: ``POST /v3/scm/certificates/buy``. Returns the normalised order fields."""
    order = _validate_common_purchase(body, cert_brands=CERT_BRANDS, cert_types=CERT_TYPES,
                                      max_effective_time=3, max_order_number=100)
    order["primary_domain_type"] = string_field(body, "primary_domain_type", max_length=63,
                                                choices=PRIMARY_DOMAIN_TYPES)
    order["single_domain_number"] = integer_field(body, "single_domain_number", minimum=1, maximum=100)
    order["wildcard_domain_number"] = integer_field(body, "wildcard_domain_number", minimum=1, maximum=100)
    order["is_auto_pay"] = boolean_field(body, "is_auto_pay")
    order["enterprise_project_id"] = enterprise_project_id_field(body)
    order["order_id"] = string_field(body, "order_id", max_length=63)
    order["tags"] = tags_field(body, "tags", max_items=MAX_TAGS_PER_CERTIFICATE)

    is_multi = order["domain_type"] == "MULTI_DOMAIN"
    # Inference: a primary-domain type and additional names only exist for multi-domain certificates.
    for name in ("primary_domain_type", "single_domain_number", "wildcard_domain_number"):
        if order[name] is not None and not is_multi:
            raise InvalidParameter(f"{name} is only allowed when domain_type is MULTI_DOMAIN")
    # Inference: the primary name takes one of the purchased domain_numbers.
    additional = (order["single_domain_number"] or 0) + (order["wildcard_domain_number"] or 0)
    if is_multi and additional > order["domain_numbers"] - 1:
        raise InvalidParameter("single_domain_number + wildcard_domain_number must not exceed "
                               f"domain_numbers - 1 (the primary domain) = {order['domain_numbers'] - 1}")
    return order


def validate_purchase_v2(body: dict) -> dict:
    """Seed 003: ``POST /v2/{project_id}/scm/cert/purchase``: OV/EV only, 1-2 years, up to 1000 certificates.

    v3-only fields are ignored, as an older API ignores fields it does not know.
    """
    order = _validate_common_purchase(body, cert_brands=None, cert_types=V2_CERT_TYPES,
                                      max_effective_time=2, max_order_number=1000)
    order.update(primary_domain_type=None, single_domain_number=None, wildcard_domain_number=None,
                 is_auto_pay=None, enterprise_project_id=None, order_id=None, tags={})
    return order


def _validate_common_purchase(body: dict, *, cert_brands, cert_types, max_effective_time: int,
                              max_order_number: int) -> dict:
    # v2 documents cert_brand as free text ("e.g. GLOBALSIGN"); v3 as an enumeration.
    cert_brand = string_field(body, "cert_brand", required=True, max_length=32, choices=cert_brands)
    if not cert_brand:
        raise InvalidParameter("cert_brand is required")
    cert_type = string_field(body, "cert_type", required=True, max_length=32, choices=cert_types)
    domain_type = string_field(body, "domain_type", required=True, max_length=32, choices=DOMAIN_TYPES)
    effective_time = integer_field(body, "effective_time", required=True, minimum=1,
                                   maximum=max_effective_time)
    domain_numbers = integer_field(body, "domain_numbers", required=True, minimum=1, maximum=100)
    if domain_type in ("SINGLE_DOMAIN", "WILDCARD") and domain_numbers != 1:
        raise InvalidParameter(f"domain_numbers must be 1 when domain_type is {domain_type}")
    if domain_type == "MULTI_DOMAIN" and domain_numbers < 2:
        raise InvalidParameter("domain_numbers must be between 2 and 100 when domain_type is MULTI_DOMAIN")
    order_number = integer_field(body, "order_number", required=True, minimum=1, maximum=max_order_number)
    require_privacy_agreement(body)
    return {"cert_brand": cert_brand, "cert_type": cert_type, "domain_type": domain_type,
            "effective_time": effective_time, "domain_numbers": domain_numbers, "order_number": order_number}


# --- tags ----------------------------------------------------------------------------------------

def tags_field(body: dict, name: str, *, max_items: int) -> dict[str, str]:
    """A list of ``{key, value}`` objects -> an ordered dict; keys must be unique."""
    items = body.get(name)
    if items is None:
        return {}
    if not isinstance(items, list):
        raise InvalidParameter(f"{name} must be a list")
    if len(items) > max_items:
        raise InvalidParameter(f"{name} may hold at most {max_items} tags")
    tags: dict[str, str] = {}
    for item in items:
        key, value = tag_pair(item)
        if key in tags:
            raise InvalidTagKey(f"duplicate key {key!r}")
        tags[key] = value
    return tags


def tag_pair(item) -> tuple[str, str]:
    if not isinstance(item, dict):
        raise InvalidParameter("a tag must be an object with key and value")
    key, value = item.get("key"), item.get("value", "")
    if not isinstance(key, str) or not _TAG_KEY.match(key):
        raise InvalidTagKey(f"{key!r}: 1-128 letters, digits, spaces or _ . : = + - @")
    if value is None:
        value = ""
    if not isinstance(value, str) or not _TAG_VALUE.match(value):
        raise InvalidTagValue(f"{value!r}: 0-255 letters, digits, spaces or _ . : / = + - @")
    return key, value


def tag_filters_field(body: dict, name: str) -> list[tuple[str, list[str]]]:
    """``[{key, values:[...]}]`` filters of list-by-tag: at most 20 keys, 20 values each, no repeats."""
    filters = body.get(name)
    if filters is None:
        return []
    if not isinstance(filters, list) or len(filters) > 20:
        raise InvalidParameter(f"{name} must be a list of at most 20 tag filters")
    seen_keys: set[str] = set()
    result = []
    for item in filters:
        if not isinstance(item, dict) or not isinstance(item.get("key"), str):
            raise InvalidParameter(f"{name}: every filter needs a key")
        values = item.get("values")
        # "values may be an empty list, but it may not be missing"
        if not isinstance(values, list) or len(values) > 20 or not all(isinstance(v, str) for v in values):
            raise InvalidParameter(f"{name}: values of {item['key']!r} must be a list of at most 20 strings")
        if item["key"] in seen_keys or len(set(values)) != len(values):
            raise InvalidParameter(f"{name}: keys and the values of one key must not repeat")
        seen_keys.add(item["key"])
        result.append((item["key"], values))
    return result


# --- apply ---------------------------------------------------------------------------------------

def validate_apply_form(body: dict, cert_type: str, cert_brand: str) -> dict:
    """Field-level rules of ``POST /v3/scm/certificates/{id}/apply``; name rules need the order (models)."""
    require_privacy_agreement(body)
    form = {
        "domain": string_field(body, "domain", required=True, max_length=255),
        "sans": string_field(body, "sans", max_length=4096),
        "csr": string_field(body, "csr", max_length=5120),
        "domain_method": string_field(body, "domain_method", required=True, choices=DOMAIN_METHODS),
        "key_algorithm": string_field(body, "key_algorithm", choices=KEY_ALGORITHMS) or "RSA_2048",
        "ca_hash_algorithm": string_field(body, "ca_hash_algorithm", choices=CA_HASH_ALGORITHMS),
        "auto_dns_auth": bool(boolean_field(body, "auto_dns_auth")),
    }
    is_organisation_validated = cert_type not in DV_CERT_TYPES
    applicant = {
        "applicant_name": string_field(body, "applicant_name", required=True),
        "applicant_phone": string_field(body, "applicant_phone", required=True),
        "applicant_email": string_field(body, "applicant_email", required=True, max_length=256),
        "contact_name": string_field(body, "contact_name", max_length=63),
        "contact_phone": string_field(body, "contact_phone"),
        "contact_email": string_field(body, "contact_email", max_length=256),
        "company_name": string_field(body, "company_name", required=is_organisation_validated, max_length=63),
        "company_unit": string_field(body, "company_unit", max_length=63),
        "company_province": string_field(body, "company_province", required=is_organisation_validated,
                                         max_length=63),
        "company_city": string_field(body, "company_city", required=is_organisation_validated,
                                     max_length=63),
        "country": string_field(body, "country", required=is_organisation_validated),
    }
    name_bytes = len(applicant["applicant_name"].encode("utf-8"))
    if not 4 <= name_bytes <= 100 or not _APPLICANT_NAME.match(applicant["applicant_name"]):
        raise InvalidParameter("applicant_name must be 4-100 bytes of Chinese or English letters, _ - , .")
    for field_name in ("applicant_phone", "contact_phone"):
        if applicant[field_name] is not None and not _PHONE.match(applicant[field_name]):
            raise InvalidParameter(f"{field_name} is not a phone number")
    for field_name in ("applicant_email", "contact_email"):
        if applicant[field_name] is not None and not _EMAIL.match(applicant[field_name]):
            raise InvalidParameter(f"{field_name} is not an email address")
    if applicant["country"] is not None and not _COUNTRY.match(applicant["country"]):
        raise InvalidParameter("country must be a two-letter code ([A-Za-z]{2})")
    if cert_brand == "GEOTRUST" and cert_type in ("OV_SSL_CERT", "OV_SSL_CERT_PRO") \
            and form["ca_hash_algorithm"] is None:
        raise InvalidParameter("ca_hash_algorithm is required for GeoTrust OV certificates")
    if form["auto_dns_auth"] and (is_organisation_validated or form["domain_method"] != "DNS"):
        raise InvalidParameter("auto_dns_auth is only available for DV certificates validated by DNS")
    form["application_info"] = applicant
    return form


def split_sans(sans: str | None) -> list[str]:
    """``"a.example.com;b.example.com"`` -> names, without blanks."""
    if not sans:
        return []
    return [name.strip() for name in sans.split(";") if name.strip()]


def is_ip_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def is_wildcard(name: str) -> bool:
    return name.startswith("*.")


def check_domain_name(name: str, field_name: str) -> None:
    """A DNS name, optionally with one leading ``*.`` label, or an IP address."""
    if is_ip_address(name):
        return
    labels = (name[2:] if is_wildcard(name) else name).rstrip(".").split(".")
    if len(name) > 255 or len(labels) < 2 or not all(_HOSTNAME_LABEL.match(label) for label in labels):
        raise InvalidParameter(f"{field_name}: {name!r} is not a valid domain name")


# --- import --------------------------------------------------------------------------------------

def validate_import_form(body: dict) -> dict:
    form = {
        "name": string_field(body, "name", required=True),
        "certificate": string_field(body, "certificate", required=True),
        "certificate_chain": string_field(body, "certificate_chain"),
        "private_key": string_field(body, "private_key", required=True),
        "duplicate_check": bool(boolean_field(body, "duplicate_check")),
        "enterprise_project_id": enterprise_project_id_field(body),
    }
    for unsupported in ("enc_certificate", "enc_private_key"):
        if body.get(unsupported):
            raise InvalidParameter(f"{unsupported}: SM2 (guomi) certificates are not emulated")
    return form


def is_valid_import_name(name: str) -> bool:
    return bool(_IMPORT_NAME.match(name))


# --- list ----------------------------------------------------------------------------------------

def validate_list_query(params: dict[str, str]) -> dict:
    """Query of ``GET /v3/scm/certificates``; values arrive as strings (booleans as ``true``/``false``)."""
    query = {
        "limit": _query_int(params, "limit", default=10),
        "offset": _query_int(params, "offset", default=0),
        "sort_dir": params.get("sort_dir", "DESC"),
        "sort_key": params.get("sort_key"),
        "status": params.get("status", "ALL"),
        "enterprise_project_id": params.get("enterprise_project_id"),
        "deploy_support": _query_bool(params, "deploy_support"),
        "owned_by_self": _query_bool(params, "owned_by_self"),
        "expired_days_since": _query_int(params, "expired_days_since", default=None),
        "content": params.get("content"),
    }
    if query["limit"] not in PAGE_SIZES:
        raise InvalidParameter("limit must be 10, 20 or 50")
    if query["offset"] < 0:
        raise InvalidParameter("offset must not be negative")
    if query["sort_dir"] not in SORT_DIRECTIONS:
        raise InvalidParameter("sort_dir must be ASC or DESC")
    if query["sort_key"] is not None and query["sort_key"] not in LIST_SORT_KEYS:
        raise InvalidParameter(f"sort_key must be one of {', '.join(LIST_SORT_KEYS)}")
    if query["status"] not in LIST_STATUSES:
        raise InvalidParameter(f"status must be one of {', '.join(LIST_STATUSES)}")
    if query["enterprise_project_id"] is not None \
            and not _ENTERPRISE_PROJECT_ID.match(query["enterprise_project_id"]):
        raise InvalidParameter("enterprise_project_id must be 'all', '0' or a UUID")
    if query["expired_days_since"] is not None and query["expired_days_since"] < 0:
        raise InvalidParameter("expired_days_since must not be negative")
    return query


def validate_page(body: dict, *, default_limit: int = 10) -> tuple[int, int]:
    """``limit``/``offset`` of a JSON body (list-by-tag uses the same page sizes as list)."""
    limit = integer_field(body, "limit") or default_limit
    offset = integer_field(body, "offset", minimum=0, maximum=10**9) or 0
    if limit not in PAGE_SIZES:
        raise InvalidParameter("limit must be 10, 20 or 50")
    return limit, offset


def _query_int(params: dict[str, str], name: str, default):
    if name not in params:
        return default
    try:
        return int(params[name])
    except ValueError:
        raise InvalidParameter(f"{name} must be an integer") from None


def _query_bool(params: dict[str, str], name: str) -> bool | None:
    if name not in params:
        return None
    if params[name] not in ("true", "false"):
        raise InvalidParameter(f"{name} must be true or false")
    return params[name] == "true"
