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

from components import names
from components.errors import ConfigError

NAMESPACE = "certfleet"

# ACM limits (ACM user guide, "Quotas"): 100 names is the hard maximum per certificate; 10 is the
# default account quota, which an account must ask AWS to raise.
ACM_MAX_NAMES = 100
ACM_DEFAULT_NAME_QUOTA = 10
ACM_KEY_ALGORITHMS = ("RSA_2048", "EC_prime256v1", "EC_secp384r1")  # what RequestCertificate accepts
AWS_REGION_PATTERN = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$")
# certfleet adds its own tags (resource identity, request hash); the rest of ACM's 50 is the user's.
AWS_MAX_USER_TAGS = 48
RESOURCE_NAME_PATTERN = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


@dataclass(frozen=True)
class AcmCertificateSpec:
    """One ACM certificate requested with DNS validation (seed 000, acm_op=create)."""

    name: str                      # the key under certfleet:aws.certificates
    domain: str                    # lower-case; ACM's DomainName (certificate CN)
    sans: tuple[str, ...]          # sorted, de-duplicated, always includes `domain`
    key_algorithm: str
    tags: tuple[tuple[str, str], ...]  # sorted (key, value) pairs: aws.tags merged with the certificate's


@dataclass(frozen=True)
class AwsSpec:
    region: str
    validation_record_timeout_seconds: int
    issued_timeout_seconds: int
    delete_in_use_timeout_seconds: int
    certificates: tuple[AcmCertificateSpec, ...]


@dataclass(frozen=True)
class FleetSpec:
    aws: AwsSpec | None
    warnings: tuple[str, ...] = field(default=())


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


def _aws_tags(p: _Problems, path: str, value: Any) -> dict[str, str]:
    tags = _object(p, path, value)
    if tags is None:
        return {}
    out: dict[str, str] = {}
    for key, tag_value in tags.items():
        tag_path = f"{path}.{key}"
        problem = names.aws_tag_problem(key, tag_value)
        if problem:
            p.error(tag_path, problem)
        else:
            out[key] = tag_value
    return out


# --- certfleet:aws ---------------------------------------------------------------------------------------

_AWS_KEYS = ("region", "tags", "validationRecordTimeoutSeconds", "issuedTimeoutSeconds",
             "deleteInUseTimeoutSeconds", "certificates")
_ACM_CERT_KEYS = ("domain", "sans", "keyAlgorithm", "tags")


def _acm_certificate(p: _Problems, path: str, name: str, raw: Any,
                     default_tags: Mapping[str, str]) -> AcmCertificateSpec | None:
    if not RESOURCE_NAME_PATTERN.match(name):
        p.error(path, "certificate names must be 1-63 lower-case letters, digits or '-', "
                      "starting and ending with a letter or digit")
    obj = _object(p, path, raw)
    if obj is None:
        return None
    _check_keys(p, path, obj, _ACM_CERT_KEYS)
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

    sans: list[str] = []
    raw_sans = obj.get("sans", [])
    if not isinstance(raw_sans, list):
        p.error(f"{path}.sans", f"must be a list of DNS names, got {_type_name(raw_sans)}")
    else:
        for i, raw_san in enumerate(raw_sans):
            san = _string(p, f"{path}.sans[{i}]", raw_san)
            if san is None:
                continue
            san = names.normalise(san)
            problem = names.dns_name_problem(san)
            if problem:
                p.error(f"{path}.sans[{i}]", problem)
            sans.append(san)

    key_algorithm = _choice(p, f"{path}.keyAlgorithm", obj.get("keyAlgorithm", "RSA_2048"),
                            ACM_KEY_ALGORITHMS)
    tags = dict(default_tags)
    if "tags" in obj:
        tags.update(_aws_tags(p, f"{path}.tags", obj["tags"]))
    if len(tags) > AWS_MAX_USER_TAGS:
        p.error(f"{path}.tags", f"at most {AWS_MAX_USER_TAGS} tags per certificate (aws.tags included; "
                                f"ACM allows 50 and certfleet uses 2), got {len(tags)}")

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
                              tags=tuple(sorted(tags.items())))


def _aws(p: _Problems, path: str, raw: Any) -> AwsSpec | None:
    obj = _object(p, path, raw)
    if obj is None:
        return None
    _check_keys(p, path, obj, _AWS_KEYS)
    region = _string(p, f"{path}.region", obj.get("region", "us-east-1")) or "us-east-1"
    if not AWS_REGION_PATTERN.match(region):
        p.error(f"{path}.region", f"must be an AWS region name such as us-east-1, got {region!r}")
    default_tags = _aws_tags(p, f"{path}.tags", obj["tags"]) if "tags" in obj else {}

    certificates: list[AcmCertificateSpec] = []
    raw_certs = obj.get("certificates", {})
    cert_map = _object(p, f"{path}.certificates", raw_certs) or {}
    claimed: dict[str, str] = {}  # DNS name -> config path of the certificate that claims it
    for name in sorted(cert_map):
        cert_path = f"{path}.certificates.{name}"
        spec = _acm_certificate(p, cert_path, name, cert_map[name], default_tags)
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


# --- entry points ----------------------------------------------------------------------------------------

_SECTIONS: dict[str, Callable[[_Problems, str, Any], Any]] = {"aws": _aws}


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
    return FleetSpec(aws=sections.get("aws"), warnings=tuple(p.warnings))


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
