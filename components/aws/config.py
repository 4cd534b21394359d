"""certfleet:aws: the section's rules and its frozen model (AwsSpec, AcmCertificateSpec).

It stands beside the ACM provider (acm.py), which takes its model and ACM_KEY_ALGORITHMS from here. Only
components/config.py reads the stack's config: it hands this section to `_aws` and puts the result in FleetSpec.
The shared rules come from components/rules.py, which imports no cloud, so the imports run one way
(config.py -> aws/config.py -> rules.py) and never in a circle. The other entry kinds of the section have their
rules beside this module: config_imports.py (ACM imports), config_distributions.py (CloudFront distributions
and the version store), aggregate.py (which certificates a wildcard certificate serves); the limits they all
check against are in limits.py.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any, Collection, Mapping

from components import names
from components.aws import aggregate
from components.aws.aggregate import CertificateEntry
from components.aws.config_distributions import (EDGE_CHECK_MODES, DistributionSpec, LoggingSpec,  # noqa: F401
                                                 VersionStoreSpec, _distributions, _version_store)
from components.aws.config_adopt import ADOPT_KEYS, _adoption, check_adopted_ids
from components.aws.config_imports import AcmImportSpec, _acm_import
from components.aws.limits import (ACM_CERTFLEET_TAGS, ACM_DEFAULT_NAME_QUOTA, ACM_KEY_ALGORITHMS,  # noqa: F401
                                   ACM_MAX_NAMES, ACM_MAX_TAGS, AWS_MAX_USER_TAGS, AWS_REGION_PATTERN,
                                   CLOUDFRONT_CERTIFICATE_REGION, CLOUDFRONT_KEY_ALGORITHMS)
from components.dns.config import DnsSpec, entry_dns, section_dns
from components.renewal import RenewBefore, entry_renew_before, section_renew_before
from components.rules import (_check_keys, _choice, _dns_names, _entries, _flag, _merged_tags, _named_object, _object,
                              _Problems, _required_string, _seconds, _string, _tags)

_AWS_KEYS = ("region", "tags", "validationRecordTimeoutSeconds", "issuedTimeoutSeconds",
             "deleteInUseTimeoutSeconds", "deployedTimeoutSeconds", "cnameCheck", "aggregate", "versionStore",
             "certificates", "imports", "distributions", "dns", "edgeCheck", "edgeCheckTimeoutSeconds", "renewBefore")
_ACM_CERT_KEYS = ("domain", "sans", "keyAlgorithm", "tags", "previousNames", "dns", "renewBefore", *ADOPT_KEYS)
_TAG_LIMIT = f"aws.tags included; ACM allows {ACM_MAX_TAGS} and certfleet uses {ACM_CERTFLEET_TAGS}"


@dataclass(frozen=True)
class AcmCertificateSpec:
    """One ACM certificate requested with DNS validation (seed 000, acm_op=create)."""

    name: str                      # the key under certfleet:aws.certificates
    domain: str                    # lower-case; ACM's DomainName (certificate CN)
    sans: tuple[str, ...]          # sorted, de-duplicated, always includes `domain`
    key_algorithm: str
    tags: tuple[tuple[str, str], ...]  # sorted (key, value) pairs: aws.tags merged with the certificate's
    previous_names: tuple[str, ...] = ()  # earlier keys of this certificate (Pulumi aliases)
    adopt: str | None = None           # an existing object's ARN/id (config_adopt.py); None: certfleet makes it
    replace_adopted: bool = False      # a replace-level difference from the adopted object makes a new one
    on_destroy: str | None = None      # "keep" | "delete"; None: keep an adopted object, delete one certfleet made
    dns: DnsSpec | None = None         # where certfleet writes its validation CNAMEs (None: the user publishes)
    renew_before: RenewBefore | None = None  # shown in the report only: ACM renews requested certificates itself


@dataclass(frozen=True)
class AwsSpec:
    region: str
    validation_record_timeout_seconds: int
    issued_timeout_seconds: int
    delete_in_use_timeout_seconds: int
    certificates: tuple[AcmCertificateSpec, ...]   # the certificates to request (an aggregated entry is not)
    imports: tuple[AcmImportSpec, ...] = ()
    distributions: tuple[DistributionSpec, ...] = ()
    aggregate: bool = False
    cname_check: bool = True                  # the provider also refuses aliases served outside the stack
    deployed_timeout_seconds: int = 600       # bounded wait for Deployed after a distribution's create/update
    version_store: VersionStoreSpec | None = None
    reuses: tuple[tuple[str, str], ...] = ()  # (certificates entry not requested, the entry whose certificate it uses)
    edge_check: str = "report"                # distributions' post-deploy edge check: report | require | off
    edge_check_timeout_seconds: int = 120     # how long a failing edge check is retried after Deployed
    renew_before: RenewBefore | None = None   # the section's renewBefore (report only: components/renewal.py)


def _aws_tags(p: _Problems, path: str, value: Any) -> dict[str, str]:
    return _tags(p, path, value, names.aws_tag_problem)


def _acm_certificate(p: _Problems, path: str, name: str, raw: Any, default_tags: Mapping[str, str],
                     previous_names: tuple[str, ...], dns: DnsSpec | None = None) -> AcmCertificateSpec | None:
    obj = _named_object(p, path, "certificate", name, raw, _ACM_CERT_KEYS)
    if obj is None:
        return None
    errors_before = len(p.errors)

    domain = _required_string(p, path, obj, "domain")
    if domain is not None:
        domain = names.normalise(domain)
        problem = names.dns_name_problem(domain) or names.acm_domain_problem(domain)
        if problem:
            p.error(f"{path}.domain", problem)

    sans = _dns_names(p, f"{path}.sans", obj.get("sans", []))

    key_algorithm = _choice(p, f"{path}.keyAlgorithm", obj.get("keyAlgorithm", "RSA_2048"),
                            ACM_KEY_ALGORITHMS)
    tags = _merged_tags(p, path, obj, default_tags, names.aws_tag_problem, AWS_MAX_USER_TAGS, "certificate",
                        _TAG_LIMIT)
    adoption = _adoption(p, path, obj, "certificate")
    entry_dns_spec = entry_dns(p, path, obj, dns, True, [domain or "", *sans])

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
                              tags=tuple(sorted(tags.items())), previous_names=previous_names,
                              adopt=adoption.adopt, replace_adopted=adoption.replace_adopted,
                              on_destroy=adoption.on_destroy, dns=entry_dns_spec)


def _certificate_entries(p: _Problems, path: str, obj: Mapping[str, Any], default_tags: Mapping[str, str],
                         secret_paths: Collection[str] | None, now: datetime, dns: DnsSpec | None = None,
                         ) -> tuple[list[AcmCertificateSpec], list[AcmImportSpec], dict[str, CertificateEntry | None]]:
    """The certificates and imports entries, and every entry by name (None for a broken one) for distributions.

    A DNS name belongs to one entry of the two sections; an import may not take a certificate's entry name,
    since a distribution names its certificate by entry name alone.
    """
    claimed: dict[str, str] = {}  # DNS name -> config path of the entry that claims it
    certificates = _entries(
        p, f"{path}.certificates", "certificate", obj.get("certificates", {}),
        lambda entry_path, name, raw, previous: _acm_certificate(p, entry_path, name, raw, default_tags, previous, dns),
        lambda spec: spec.sans, claimed, "certificate")
    cert_names = obj["certificates"] if isinstance(obj.get("certificates"), dict) else {}

    def read_import(entry_path: str, name: str, raw: Any, previous: tuple[str, ...]) -> AcmImportSpec | None:
        if name in cert_names:
            p.error(entry_path, f"'{name}' is also the name of {path}.certificates.{name}; a distribution names its "
                                f"certificate by entry name, so an import and a certificate cannot share one")
            return None
        return _acm_import(p, entry_path, name, raw, default_tags, previous, secret_paths, now)

    imports = _entries(p, f"{path}.imports", "import", obj.get("imports", {}), read_import, lambda spec: spec.names,
                       claimed, "certificate")
    entries: dict[str, CertificateEntry | None] = {
        **{n: spec and CertificateEntry(n, aggregate.REQUESTED, spec.sans) for n, spec in certificates.items()},
        **{n: spec and CertificateEntry(n, aggregate.IMPORTED, spec.names) for n, spec in imports.items()
           if n not in cert_names}}
    return ([s for s in certificates.values() if s is not None], [s for s in imports.values() if s is not None],
            entries)


def _servable_key_algorithms(p: _Problems, path: str, distributions: tuple[DistributionSpec, ...],
                             certificates: list[AcmCertificateSpec]) -> None:
    """ACM issues EC_secp384r1 certificates, but CloudFront serves only RSA and ECDSA P-256 (limits.py)."""
    requested = {c.name: c for c in certificates}
    for dist in distributions:
        serving = requested.get(dist.serving_certificate) if dist.serving_kind == "certificate" else None
        if serving is not None and serving.key_algorithm not in CLOUDFRONT_KEY_ALGORITHMS:
            p.error(f"{path}.certificates.{serving.name}.keyAlgorithm",
                    f"{serving.key_algorithm} cannot serve distribution {path}.distributions.{dist.name}: CloudFront "
                    f"serves {', '.join(CLOUDFRONT_KEY_ALGORITHMS)} certificates only")


def _aws(p: _Problems, path: str, raw: Any, secret_paths: Collection[str] | None = None,
         now: datetime | None = None) -> AwsSpec | None:
    """`secret_paths`: the config paths known to hold Pulumi secrets (None: not read from a stack, unknown)."""
    obj = _object(p, path, raw)
    if obj is None:
        return None
    _check_keys(p, path, obj, _AWS_KEYS)
    region = _string(p, f"{path}.region", obj.get("region", "us-east-1")) or "us-east-1"
    if not AWS_REGION_PATTERN.fullmatch(region):
        p.error(f"{path}.region", f"must be an AWS region name such as us-east-1, got {region!r}")
    default_tags = _aws_tags(p, f"{path}.tags", obj["tags"]) if "tags" in obj else {}
    certificates, imports, entries = _certificate_entries(p, path, obj, default_tags, secret_paths,
                                                          now or datetime.now(timezone.utc), section_dns(p, path, obj))

    aggregate_on = _flag(p, path, obj, "aggregate", False)
    reuses: tuple[aggregate.Reuse, ...] = ()
    if aggregate_on:
        reuses = aggregate.reuses(e for e in entries.values() if e is not None)
        for reuse in reuses:
            p.warn(f"{path}.certificates.{reuse.entry}",
                   f"reuses certificate {reuse.certificate} (aggregate: its names are covered by "
                   f"{', '.join(reuse.wildcards)}); it is not requested")
    reused = {r.entry: r.certificate for r in reuses}
    for certificate in certificates:
        if certificate.adopt and certificate.name in reused:
            p.error(f"{path}.certificates.{certificate.name}.adopt",
                    f"with aggregate this entry reuses certificate {reused[certificate.name]} and is not requested, "
                    f"so it cannot stand for {certificate.adopt}: turn aggregate off, or remove adopt")

    distributions: tuple[DistributionSpec, ...] = ()
    if "distributions" in obj:
        served_by = {entry: entries[certificate] for entry, certificate in reused.items()}
        distributions = _distributions(p, f"{path}.distributions", obj["distributions"], entries, served_by,
                                       default_tags)
        _servable_key_algorithms(p, path, distributions, certificates)
        if obj["distributions"] and region != CLOUDFRONT_CERTIFICATE_REGION:
            p.error(f"{path}.region", f"must be {CLOUDFRONT_CERTIFICATE_REGION} when {path}.distributions has "
                                      f"entries: CloudFront uses ACM certificates from {CLOUDFRONT_CERTIFICATE_REGION} "
                                      f"only, got {region!r}")
    # renewBefore: parsed and shown (the report), never an order: ACM renews what it issued itself.
    renew_before = section_renew_before(p, path, obj)
    certificates = [replace(c, renew_before=entry_renew_before(p, f"{path}.certificates.{c.name}",
                                                               (obj.get("certificates") or {}).get(c.name),
                                                               renew_before)) for c in certificates]
    imports = [replace(i, renew_before=entry_renew_before(p, f"{path}.imports.{i.name}",
                                                          (obj.get("imports") or {}).get(i.name), renew_before))
               for i in imports]
    check_adopted_ids(p, path, region, [*(("certificates", c.name, c) for c in certificates),
                                        *(("imports", i.name, i) for i in imports),
                                        *(("distributions", d.name, d) for d in distributions)])
    return AwsSpec(
        renew_before=renew_before,
        region=region,
        validation_record_timeout_seconds=_seconds(p, path, obj, "validationRecordTimeoutSeconds", 300, 3600),
        issued_timeout_seconds=_seconds(p, path, obj, "issuedTimeoutSeconds", 0, 3600),
        delete_in_use_timeout_seconds=_seconds(p, path, obj, "deleteInUseTimeoutSeconds", 1200, 7200),
        certificates=tuple(c for c in certificates if c.name not in reused),
        imports=tuple(imports),
        distributions=distributions,
        aggregate=aggregate_on,
        cname_check=_flag(p, path, obj, "cnameCheck", True),
        deployed_timeout_seconds=_seconds(p, path, obj, "deployedTimeoutSeconds", 600, 3600),
        version_store=_version_store(p, f"{path}.versionStore", obj["versionStore"]) if "versionStore" in obj else None,
        reuses=tuple((r.entry, r.certificate) for r in reuses),
        edge_check=_choice(p, f"{path}.edgeCheck", obj.get("edgeCheck", "report"), EDGE_CHECK_MODES) or "report",
        edge_check_timeout_seconds=_seconds(p, path, obj, "edgeCheckTimeoutSeconds", 120, 3600),
    )
