"""certfleet:aws: the section's rules and its frozen model (AwsSpec, AcmCertificateSpec).

It stands beside the ACM provider (acm.py), which takes its model and ACM_KEY_ALGORITHMS from here. Only
components/config.py reads the stack's config: it hands this section to `_aws` and puts the result in FleetSpec.
The shared rules come from components/rules.py, which imports no cloud, so the imports run one way
(config.py -> aws/config.py -> rules.py) and never in a circle.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

from components import names
from components.rules import (_check_keys, _choice, _claim_names, _dns_names, _named_object, _object,
                              _previous_names, _Problems, _seconds, _string, _tags)

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

_AWS_KEYS = ("region", "tags", "validationRecordTimeoutSeconds", "issuedTimeoutSeconds",
             "deleteInUseTimeoutSeconds", "certificates")
_ACM_CERT_KEYS = ("domain", "sans", "keyAlgorithm", "tags", "previousNames")


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


def _aws_tags(p: _Problems, path: str, value: Any) -> dict[str, str]:
    return _tags(p, path, value, names.aws_tag_problem)


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
        _claim_names(p, claimed, cert_path, spec.sans, "certificate")
        certificates.append(spec)
    return AwsSpec(
        region=region,
        validation_record_timeout_seconds=_seconds(p, path, obj, "validationRecordTimeoutSeconds", 300, 3600),
        issued_timeout_seconds=_seconds(p, path, obj, "issuedTimeoutSeconds", 0, 3600),
        delete_in_use_timeout_seconds=_seconds(p, path, obj, "deleteInUseTimeoutSeconds", 1200, 7200),
        certificates=tuple(certificates),
    )
