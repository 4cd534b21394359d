"""certfleet:aws.distributions and versionStore: their rules and frozen model (DistributionSpec, LoggingSpec,
VersionStoreSpec).

A distribution is a clone of a template distribution (seed 000's existing_cf_info.distribution_id, optionally
pinned to a CloudFront Extensions config version), served by one certificate entry of the stack (certificates or
imports) with the aliases it names. aws/config.py's `_aws` calls `_distributions` once the certificate entries
are known, because a distribution's aliases default to, and must be covered by, its certificate's names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

from components import names
from components.aws.aggregate import CertificateEntry
from components.deploy.config import DEPLOYED_REFERENCE
from components.aws.config_adopt import ADOPT_KEYS, _adoption
from components.aws.limits import (ACM_CERTFLEET_TAGS, AWS_MAX_USER_TAGS, AWS_REGION_PATTERN, CLOUDFRONT_MAX_ALIASES,
                                   CLOUDFRONT_MAX_COMMENT, CLOUDFRONT_MAX_TAGS, DEFAULT_MINIMUM_PROTOCOL_VERSION,
                                   DISTRIBUTION_ID_PATTERN, DYNAMODB_TABLE_PATTERN, LOGGING_BUCKET_PATTERN,
                                   MINIMUM_PROTOCOL_VERSIONS)
from components.rules import (_check_keys, _choice, _dns_names, _entries, _flag, _merged_tags, _named_object, _object,
                              _Problems, _string, _text_field)

_DISTRIBUTION_KEYS = ("template", "templateVersion", "certificate", "aliases", "enabled", "comment",
                      "minimumProtocolVersion", "logging", "tags", "previousNames", "edgeCheck", *ADOPT_KEYS)
_LOGGING_KEYS = ("bucket", "prefix", "includeCookies")
_VERSION_STORE_KEYS = ("table", "region")
# CloudFront Extensions' versionId: a DynamoDB number counted from 1, sent as text (reference §4.5). "" made
# CFE crash on int('') after it had already created the distribution (§8 defect 15).
TEMPLATE_VERSION_PATTERN = re.compile(r"[1-9][0-9]{0,18}")
DEPLOYED = "deployed"  # serving_kind of a distribution served by a copy deployed from CAS or SCM (deployTo)
# The post-deploy edge check (components/aws/edge_check.py MODES; this module imports no provider).
EDGE_CHECK_MODES = ("report", "require", "off")
_TAG_LIMIT = f"aws.tags included; CloudFront allows {CLOUDFRONT_MAX_TAGS} and certfleet uses {ACM_CERTFLEET_TAGS}"


@dataclass(frozen=True)
class LoggingSpec:
    """Standard (legacy) access logging of a distribution, to an S3 bucket."""

    bucket: str                    # the bucket's S3 domain name: <bucket>.s3.amazonaws.com
    prefix: str                    # "" for none
    include_cookies: bool


@dataclass(frozen=True)
class DistributionSpec:
    """One CloudFront distribution cloned from a template and served by a certificate of the stack."""

    name: str                      # the key under certfleet:aws.distributions
    template: str                  # the distribution id whose DistributionConfig is cloned
    template_version: str | None   # numeric text; None: follow the live template
    certificate: str               # the certificates/imports entry named in the config
    serving_certificate: str       # the entry whose certificate serves it (another one when aggregated)
    serving_kind: str              # "certificate" (certificates entry) | "import" (imports entry) | "deployed"
    aliases: tuple[str, ...]       # sorted, lower-case
    enabled: bool
    comment: str | None            # None: the provider's default, "certfleet <project>/<stack>/<name>"
    minimum_protocol_version: str
    logging: LoggingSpec | None    # None: logging off
    tags: tuple[tuple[str, str], ...]  # sorted (key, value) pairs: aws.tags merged with the distribution's
    previous_names: tuple[str, ...] = ()
    adopt: str | None = None           # an existing object's ARN/id (config_adopt.py); None: certfleet makes it
    replace_adopted: bool = False      # a replace-level difference from the adopted object makes a new one
    on_destroy: str | None = None      # "keep" | "delete"; None: keep an adopted object, delete one made
    edge_check: str | None = None      # report | require | off (edge_check.py); None: certfleet:aws.edgeCheck


@dataclass(frozen=True)
class VersionStoreSpec:
    """An existing CloudFront Extensions config-version store: its DynamoDB Version table (reference §4.5)."""

    table: str
    region: str


def _template_version(p: _Problems, path: str, value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # templateVersion: 3 in YAML; the id is text everywhere else
    if not isinstance(value, str) or not TEMPLATE_VERSION_PATTERN.fullmatch(value):
        p.error(path, f"must be a config version id, a whole number from 1 such as \"3\" (leave it out to follow "
                      f"the live template), got {value!r}")
        return None
    return value


def _comment(p: _Problems, path: str, value: Any) -> str | None:
    comment = _string(p, path, value)
    if comment is None:
        return None
    if not names.ONE_LINE.fullmatch(comment):
        p.error(path, f"must be one line of text without control characters, got {comment!r}")
    elif len(comment) > CLOUDFRONT_MAX_COMMENT:
        p.error(path, f"CloudFront allows at most {CLOUDFRONT_MAX_COMMENT} characters, got {len(comment)}")
    else:
        return comment
    return None


def _logging(p: _Problems, path: str, value: Any) -> LoggingSpec | None:
    obj = _object(p, path, value)
    if obj is None:
        return None
    _check_keys(p, path, obj, _LOGGING_KEYS)
    bucket = _text_field(p, path, obj, "bucket", required=True, pattern=LOGGING_BUCKET_PATTERN,
                         rule="must be the bucket's S3 domain name, <bucket>.s3.amazonaws.com")
    prefix = _string(p, f"{path}.prefix", obj.get("prefix", ""))
    if prefix is not None and (not names.ONE_LINE.fullmatch(prefix) or prefix.startswith("/")):
        p.error(f"{path}.prefix", f"must be one line of text not starting with '/', such as 'cdn/', got {prefix!r}")
        prefix = None
    include_cookies = _flag(p, path, obj, "includeCookies", False)
    if bucket is None or prefix is None:
        return None
    return LoggingSpec(bucket=bucket, prefix=prefix, include_cookies=include_cookies)


def _certificate(p: _Problems, path: str, obj: Mapping[str, Any],
                 entries: Mapping[str, CertificateEntry | None]) -> tuple[str | None, CertificateEntry | None]:
    """(the entry name, its entry): the entry is None when it is missing or broken (already reported)."""
    name = _text_field(p, path, obj, "certificate", required=True)
    if name is None:
        return None, None
    if DEPLOYED_REFERENCE.fullmatch(name):
        # A copy deployed to ACM from another section: components/deploy/config.py checks it (target, aliases)
        # once every section is read.
        return name, CertificateEntry(name=name, kind=DEPLOYED, names=())
    if name not in entries:
        available = ", ".join(sorted(entries)) or "there are none"
        p.error(f"{path}.certificate", f"'{name}' is not an entry of certfleet:aws.certificates or "
                                       f"certfleet:aws.imports (entries: {available}), nor a deployed copy "
                                       f"(alicloud.orders.<name> or huaweicloud.certificates.<name>)")
        return None, None
    return name, entries[name]


def _uncovered_alias(alias: str, entry: CertificateEntry) -> str:
    if entry.kind == "import":
        return (f"'{alias}' is not a name of the imported certificate certfleet:aws.imports.{entry.name} "
                f"(it names {', '.join(entry.names)}): CloudFront refuses an alias its certificate does not cover; "
                f"import a certificate that names it")
    return (f"'{alias}' is not covered by certificate certfleet:aws.certificates.{entry.name}: CloudFront refuses "
            f"an alias its certificate does not cover; add it to that certificate's sans")


def _aliases(p: _Problems, path: str, obj: Mapping[str, Any], entry: CertificateEntry | None) -> tuple[str, ...]:
    """The written aliases, each covered by the entry's names; absent: the entry's names."""
    if "aliases" not in obj:
        aliases = list(entry.names) if entry else []
    else:
        errors_before = len(p.errors)
        aliases = _dns_names(p, f"{path}.aliases", obj["aliases"], unique=True)
        well_formed = len(p.errors) == errors_before   # then aliases[i] is the config's item i
        # Against the entry as written, not the one serving after aggregation: then switching `aggregate`
        # never turns a valid config into an invalid one (the serving wildcard covers the entry's names).
        for i, alias in enumerate(aliases if entry and well_formed and entry.kind != DEPLOYED else []):
            if not any(names.covers(name, alias) for name in entry.names):
                p.error(f"{path}.aliases[{i}]", _uncovered_alias(alias, entry))
    if len(aliases) > CLOUDFRONT_MAX_ALIASES:
        source = "" if "aliases" in obj else f" (the names of {entry.kind} '{entry.name}', the default)"
        p.error(f"{path}.aliases", f"CloudFront allows at most {CLOUDFRONT_MAX_ALIASES} aliases per distribution "
                                   f"(its default quota), got {len(aliases)}{source}")
    return tuple(sorted(aliases))


def _distribution(p: _Problems, path: str, name: str, raw: Any, entries: Mapping[str, CertificateEntry | None],
                  served_by: Mapping[str, CertificateEntry], default_tags: Mapping[str, str],
                  previous_names: tuple[str, ...]) -> DistributionSpec | None:
    obj = _named_object(p, path, "distribution", name, raw, _DISTRIBUTION_KEYS)
    if obj is None:
        return None
    errors_before = len(p.errors)
    template = _text_field(p, path, obj, "template", required=True, pattern=DISTRIBUTION_ID_PATTERN,
                           rule="must be a CloudFront distribution id, 'E' and 12 or 13 upper-case letters or digits")
    version = _template_version(p, f"{path}.templateVersion", obj["templateVersion"]) \
        if "templateVersion" in obj else None
    certificate, entry = _certificate(p, path, obj, entries)
    aliases = _aliases(p, path, obj, entry)
    enabled = _flag(p, path, obj, "enabled", True)
    comment = _comment(p, f"{path}.comment", obj["comment"]) if "comment" in obj else None
    protocol = obj.get("minimumProtocolVersion", DEFAULT_MINIMUM_PROTOCOL_VERSION)
    if protocol == "SSLv3":
        p.error(f"{path}.minimumProtocolVersion", "CloudFront allows SSLv3 only with dedicated IP addresses; certfleet "
                                                  "binds with SNI (sni-only), which needs TLSv1 or later")
        protocol = None
    else:
        protocol = _choice(p, f"{path}.minimumProtocolVersion", protocol, MINIMUM_PROTOCOL_VERSIONS)
    logging = _logging(p, f"{path}.logging", obj["logging"]) if "logging" in obj else None
    tags = _merged_tags(p, path, obj, default_tags, names.aws_tag_problem, AWS_MAX_USER_TAGS, "distribution",
                        _TAG_LIMIT)
    adoption = _adoption(p, path, obj, "distribution")
    edge = _choice(p, f"{path}.edgeCheck", obj["edgeCheck"], EDGE_CHECK_MODES) if "edgeCheck" in obj else None
    if len(p.errors) > errors_before or template is None or certificate is None or entry is None or protocol is None:
        return None
    serving = served_by.get(certificate, entry)
    return DistributionSpec(name=name, template=template, template_version=version, certificate=certificate,
                            serving_certificate=serving.name, serving_kind=serving.kind, aliases=aliases,
                            enabled=enabled, comment=comment, minimum_protocol_version=protocol, logging=logging,
                            tags=tuple(sorted(tags.items())), previous_names=previous_names,
                            adopt=adoption.adopt, replace_adopted=adoption.replace_adopted,
                            on_destroy=adoption.on_destroy, edge_check=edge)


def _distributions(p: _Problems, path: str, raw: Any, entries: Mapping[str, CertificateEntry | None],
                   served_by: Mapping[str, CertificateEntry],
                   default_tags: Mapping[str, str]) -> tuple[DistributionSpec, ...]:
    """`path` is the distributions map (certfleet:aws.distributions). `entries`: every certificates and imports
    entry by name (None for one that broke a rule); `served_by`: the entries aggregation serves by another.

    An alias belongs to one distribution of the stack, with or without cnameCheck: CloudFront refuses the second
    (CNAMEAlreadyExists) whatever certfleet checks, so saying so at preview costs nothing.
    """
    distributions = _entries(
        p, path, "distribution", raw,
        lambda dist_path, name, raw_dist, previous: _distribution(p, dist_path, name, raw_dist, entries, served_by,
                                                                  default_tags, previous),
        lambda spec: spec.aliases, {}, "distribution")
    return tuple(spec for spec in distributions.values() if spec is not None)


def _version_store(p: _Problems, path: str, raw: Any) -> VersionStoreSpec | None:
    obj = _object(p, path, raw)
    if obj is None:
        return None
    _check_keys(p, path, obj, _VERSION_STORE_KEYS)
    table = _text_field(p, path, obj, "table", required=True, pattern=DYNAMODB_TABLE_PATTERN,
                        rule="must be a DynamoDB table name, 3 to 255 letters, digits, '_', '-' or '.'")
    region = _text_field(p, path, {"region": "us-east-1", **obj}, "region", required=True,
                         pattern=AWS_REGION_PATTERN, rule="must be an AWS region name such as us-east-1")
    if table is None or region is None:
        return None
    return VersionStoreSpec(table=table, region=region)
