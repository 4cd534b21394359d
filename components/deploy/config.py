"""`deployTo`: the clouds a certificate entry is deployed to (issue 9, item 2), read for every section.

Each section's reader calls `deploy_targets` for its entries (alicloud orders and instance entries, huaweicloud
certificates, aws imports); the model is a tuple of DeployTarget on the entry's spec. The rules, in order:
- a target is an object with `cloud` (aws | alicloud | huaweicloud) and that cloud's keys only;
- not the entry's own cloud (the certificate is there already), and one target per cloud;
- the entry's private key must be known to certfleet: a certificate issued for the user's own CSR has a key that
  neither the CA nor certfleet holds, so there is nothing to upload (`key_problem` says why, per section);
- each cloud's own rules: ACM region and tags; CAS upload name; SCM import name and region.

`check_deployed_key_types` and `check_deployed_distributions` run once every section is read
(components/config.py): an `aws` target needs a key type certfleet imports into ACM (what CloudFront serves:
RSA 2048/3072/4096 or ECDSA P-256; not EC_P384, not SM2), and a distribution of certfleet:aws may be served by
a deployed copy (`certificate: alicloud.orders.docs`), which needs an `aws` target in us-east-1 on that entry,
a key CloudFront serves, and names covering the distribution's aliases.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any, Mapping

from components import names
from components.aws.limits import AWS_MAX_USER_TAGS, AWS_REGION_PATTERN
from components.aws.pem import ACM_IMPORT_KEY_ALGORITHMS, IMPORT_KEY_ALGORITHMS
from components.rules import _check_keys, _object, _Problems, _string, _tags, _text_field

CLOUDS = ("aws", "alicloud", "huaweicloud")
CLOUDFRONT_REGION = "us-east-1"
DEFAULT_ACM_REGION = CLOUDFRONT_REGION
# The uploaded copy's name is `<name>-<8 hex of the leaf's SHA-256>`: a renewed certificate is uploaded beside
# the previous copy before that one is deleted, and CAS names are unique per account. CAS allows 63 characters
# (UploadUserCertificate.Name), SCM 3 to 63 of [A-Za-z0-9_.-] (import_certificate.name).
COPY_SUFFIX_LENGTH = 9
MAX_COPY_NAME = 63 - COPY_SUFFIX_LENGTH
CAS_NAME_PATTERN = re.compile(r"[^\x00-\x1f\x7f]{1,%d}" % MAX_COPY_NAME)
SCM_NAME_PATTERN = re.compile(r"[A-Za-z0-9_.\-]{2,%d}" % MAX_COPY_NAME)
HUAWEI_REGION_PATTERN = re.compile(r"[a-z]{2}(-[a-z]+)+-\d+")  # as huaweicloud/config.py (which imports this one)
# A distribution names a deployed copy by its source entry: `<section path>.<entry>`.
DEPLOYED_REFERENCE = re.compile(r"(alicloud\.orders|huaweicloud\.certificates)\.([^.]+)")

# A source's keyAlgorithm (components/keys.py's names; SCM's adds SM2) as ACM names the key type.
ACM_KEY_NAMES = {"RSA_2048": "RSA_2048", "RSA_3072": "RSA_3072", "RSA_4096": "RSA_4096", "EC_P256": "EC_prime256v1",
                 "EC_P384": "EC_secp384r1"}
SERVED_KEYS = "RSA_2048, RSA_3072, RSA_4096 or EC_P256"

_KEYS = {"aws": ("cloud", "region", "tags"), "alicloud": ("cloud", "name"), "huaweicloud": ("cloud", "name", "region")}


@dataclass(frozen=True)
class DeployTarget:
    """One cloud a certificate entry is copied to."""

    cloud: str                                   # aws | alicloud | huaweicloud
    region: str | None = None                    # aws: the ACM region; huaweicloud: the SCM region (None: default)
    name: str | None = None                      # alicloud/huaweicloud: the copy's name before its suffix
    tags: tuple[tuple[str, str], ...] = ()       # aws: the ACM certificate's tags


# --- why an entry has no key to deploy (one check per kind of source) --------------------------------------

def cas_key_problem(spec: Any) -> str | None:
    """CAS orders and instance entries: with the user's CSR (csr.pem) only the user holds the key."""
    if getattr(spec, "csr", None) == "pem":
        return ("this entry's certificate is issued for your own CSR (csr.pem): neither CAS nor certfleet holds its "
                "private key, so there is nothing to deploy; use csr: generate (certfleet makes and keeps the key as "
                "a Pulumi secret) or let CAS make the key (leave csr out)")
    return None


def scm_key_problem(spec: Any) -> str | None:
    """SCM: for a certificate of the user's own CSR Huawei does not keep the key (export returns none)."""
    if getattr(spec, "csr", None) not in ("scm", "generate"):
        return ("this certificate is issued for your own CSR: Huawei does not keep its private key (SCM's export "
                "returns none) and certfleet never had it, so there is nothing to deploy; use csr: generate "
                "(certfleet makes and keeps the key as a Pulumi secret) or csr: scm")
    return None


# --- each cloud's keys ----------------------------------------------------------------------------------------

def _aws_target(p: _Problems, path: str, obj: Mapping[str, Any]) -> DeployTarget:
    region = _text_field(p, path, obj, "region", required=False, pattern=AWS_REGION_PATTERN,
                         rule="must be an AWS region name such as us-east-1")
    tags = _tags(p, f"{path}.tags", obj["tags"], names.aws_tag_problem) if "tags" in obj else {}
    if len(tags) > AWS_MAX_USER_TAGS:
        p.error(f"{path}.tags", f"at most {AWS_MAX_USER_TAGS} tags (ACM allows 50 and certfleet uses 3), "
                                f"got {len(tags)}")
    return DeployTarget("aws", region=region or DEFAULT_ACM_REGION, tags=tuple(sorted(tags.items())))


def _alicloud_target(p: _Problems, path: str, obj: Mapping[str, Any]) -> DeployTarget:
    name = _text_field(p, path, obj, "name", required=False, pattern=CAS_NAME_PATTERN,
                       rule=f"must be 1 to {MAX_COPY_NAME} characters: CAS allows 63 and certfleet appends "
                            f"'-<8 hex of the certificate's fingerprint>' so that a renewed copy can be uploaded "
                            f"beside the previous one (names are unique per account)")
    return DeployTarget("alicloud", name=name)


def _huaweicloud_target(p: _Problems, path: str, obj: Mapping[str, Any]) -> DeployTarget:
    name = _text_field(p, path, obj, "name", required=False, pattern=SCM_NAME_PATTERN,
                       rule=f"must be 2 to {MAX_COPY_NAME} letters, digits, '_', '.' or '-': SCM allows 3 to 63 "
                            f"and certfleet appends '-<8 hex of the certificate's fingerprint>'")
    region = _text_field(p, path, obj, "region", required=False, pattern=HUAWEI_REGION_PATTERN,
                         rule="must be a Huawei Cloud region name such as cn-north-4")
    return DeployTarget("huaweicloud", name=name, region=region)


_READERS = {"aws": _aws_target, "alicloud": _alicloud_target, "huaweicloud": _huaweicloud_target}


def deploy_targets(p: _Problems, path: str, entry: Mapping[str, Any], own_cloud: str,
                   key_problem: str | None = None) -> tuple[DeployTarget, ...]:
    """The entry's `deployTo` (entry path `path`, raw entry `entry`), checked; () when absent or broken."""
    if "deployTo" not in entry:
        return ()
    list_path = f"{path}.deployTo"
    raw = entry["deployTo"]
    if not isinstance(raw, list):
        p.error(list_path, f"must be a list of targets such as [{{cloud: aws}}], got {type(raw).__name__}")
        return ()
    if raw and key_problem:
        p.error(list_path, key_problem)
        return ()
    targets: list[DeployTarget] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(raw):
        item_path = f"{list_path}[{i}]"
        obj = _object(p, item_path, item)
        if obj is None:
            continue
        cloud = _string(p, f"{item_path}.cloud", obj["cloud"]) if "cloud" in obj else None
        if "cloud" not in obj:
            p.error(f"{item_path}.cloud", f"is required: one of {', '.join(CLOUDS)}")
        if cloud is None:
            continue
        if cloud not in CLOUDS:
            p.error(f"{item_path}.cloud", f"must be one of {', '.join(CLOUDS)}, got {cloud!r}")
            continue
        if cloud == own_cloud:
            p.error(f"{item_path}.cloud", f"the certificate is in {own_cloud} already: a target is another cloud")
            continue
        if cloud in seen:
            p.error(f"{item_path}.cloud", f"{cloud} is a target already ({list_path}[{seen[cloud]}]): one copy per "
                                          f"cloud")
            continue
        seen[cloud] = i
        _check_keys(p, item_path, obj, _KEYS[cloud])
        targets.append(_READERS[cloud](p, item_path, obj))
    return tuple(targets)


def target_of(spec: Any, cloud: str) -> DeployTarget | None:
    return next((t for t in getattr(spec, "deploy_to", ()) if t.cloud == cloud), None)


# --- the key type of an ACM copy --------------------------------------------------------------------------------

def acm_key_problem(spec: Any) -> str | None:
    """Why the entry's certificate cannot be copied into ACM for CloudFront (None: it can). The ACM copy is imported
    with the import rules (components/aws/pem.py: what ACM imports AND CloudFront serves)."""
    algorithm = getattr(spec, "key_algorithm", None) or "RSA_2048"
    acm_name = ACM_KEY_NAMES.get(algorithm, algorithm)
    if acm_name in IMPORT_KEY_ALGORITHMS:
        return None
    if acm_name in ACM_IMPORT_KEY_ALGORITHMS:
        return (f"its key is {algorithm} (keyAlgorithm), which ACM imports but CloudFront cannot "
                f"serve; certfleet copies into ACM only keys CloudFront serves: {SERVED_KEYS}")
    return (f"its key is {algorithm} (keyAlgorithm), which ACM cannot import; an ACM copy needs "
            f"{SERVED_KEYS}")


def check_deployed_key_types(p: _Problems, namespace: str, sections: Mapping[str, Any]) -> None:
    """Each `aws` target of a CAS or SCM entry: a key type the ACM copy can hold, at the target's path."""
    for source_path, spec in deployable_entries(sections).items():
        for i, target in enumerate(getattr(spec, "deploy_to", ())):
            problem = acm_key_problem(spec) if target.cloud == "aws" else None
            if problem:
                p.error(f"{namespace}:{source_path}.deployTo[{i}].cloud", problem)


# --- distributions served by a deployed copy ------------------------------------------------------------------

def deployable_entries(sections: Mapping[str, Any]) -> dict[str, Any]:
    """`alicloud.orders.<name>` / `huaweicloud.certificates.<name>` -> the entry's spec."""
    alicloud, huawei = sections.get("alicloud"), sections.get("huaweicloud")
    out: dict[str, Any] = {}
    for spec in ((*alicloud.orders, *alicloud.instance_orders) if alicloud else ()):
        out[f"alicloud.orders.{spec.name}"] = spec
    for spec in (huawei.certificates if huawei else ()):
        out[f"huaweicloud.certificates.{spec.name}"] = spec
    return out


def check_deployed_distributions(p: _Problems, namespace: str, sections: Mapping[str, Any],
                                 raw_aws: Mapping[str, Any] | None) -> Any:
    """The aws section with each distribution served by a deployed copy checked and its aliases filled in (they
    default to the source entry's names). Returns the section unchanged when there is nothing to do."""
    aws = sections.get("aws")
    if aws is None or not any(d.serving_kind == "deployed" for d in aws.distributions):
        return aws
    entries = deployable_entries(sections)
    raw_distributions = (raw_aws or {}).get("distributions") or {}
    resolved = []
    for dist in aws.distributions:
        if dist.serving_kind != "deployed":
            resolved.append(dist)
            continue
        path = f"{namespace}:aws.distributions.{dist.name}"
        source = entries.get(dist.certificate)
        if source is None:
            p.error(f"{path}.certificate", f"'{dist.certificate}' is not an entry of this stack (entries that can be "
                                           f"deployed: {', '.join(sorted(entries)) or 'there are none'})")
            continue
        target = target_of(source, "aws")
        source_path = f"{namespace}:{dist.certificate}"
        if target is None or target.region != CLOUDFRONT_REGION:
            p.error(f"{path}.certificate", f"{source_path} is not deployed to ACM in {CLOUDFRONT_REGION}: add "
                                           f"`deployTo: [{{cloud: aws}}]` to it (CloudFront serves certificates "
                                           f"from ACM in {CLOUDFRONT_REGION} only)")
            continue
        key_problem = acm_key_problem(source)
        if key_problem:
            p.error(f"{path}.certificate", f"{source_path} cannot serve this distribution: {key_problem}")
            continue
        raw_dist = raw_distributions.get(dist.name)
        written = raw_dist.get("aliases") if isinstance(raw_dist, Mapping) else None
        aliases = dist.aliases if written is not None else tuple(sorted(source.domains))
        # Indexed as written (dist.aliases is sorted); the aws reader checked each is a DNS name.
        problems = [(i, names.normalise(alias)) for i, alias in enumerate(written or [])
                    if isinstance(alias, str) and not any(names.covers(n, names.normalise(alias))
                                                          for n in source.domains)]
        for i, alias in problems:
            p.error(f"{path}.aliases[{i}]", f"'{alias}' is not covered by {source_path} (it names "
                                            f"{', '.join(source.domains)}): CloudFront refuses an alias its "
                                            f"certificate does not cover")
        resolved.append(replace(dist, aliases=aliases))
    return replace(aws, distributions=tuple(resolved))
