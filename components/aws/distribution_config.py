"""A distribution's DistributionConfig and inputs, built, compared and checked without the cloud (for
components/aws/cloudfront.py).

A clone is the template's config with the fields certfleet owns replaced (reference/aws-cloudfront-extensions.md
§5 and §8 defect 5: CloudFront Extensions copied the template's aliases, certificate, comment and enabled state
verbatim). Comparisons go through `normalised`, because CloudFront (and moto, reference/aws-moto.md §3.2) reads a
config back with defaults filled in, quantities recomputed and integers that came through Pulumi as floats: a
fresh clone must show no drift.
"""

from __future__ import annotations

from typing import Any, Mapping

from components import names
from components.aws.limits import (ACM_CERTFLEET_TAGS, AWS_MAX_USER_TAGS, CLOUDFRONT_CERTIFICATE_REGION as REGION,
                                   CLOUDFRONT_MAX_ALIASES, CLOUDFRONT_MAX_COMMENT, CLOUDFRONT_MAX_TAGS,
                                   MINIMUM_PROTOCOL_VERSIONS)
from components.dynamic import is_unknown

# Fields of DistributionConfig that are the distribution's own, never the template's.
OWNED_FIELDS = ("CallerReference", "Aliases", "ViewerCertificate", "Enabled", "Comment", "Logging")
# A template's continuous-deployment pairing (a staging distribution and its policy) belongs to the template:
# a clone that copied it would point at the template's policy. Cleared when the template has them.
NOT_CLONED = {"ContinuousDeploymentPolicyId": "", "Staging": False}
# Served on *.cloudfront.net only; CloudFront fixes its security policy at TLSv1 whatever is sent.
DEFAULT_CERTIFICATE = {"CloudFrontDefaultCertificate": True, "MinimumProtocolVersion": "TLSv1"}
LOGGING_OFF = {"Enabled": False, "IncludeCookies": False, "Bucket": "", "Prefix": ""}

# Stages (the status report shows them; contract: outputs.stage)
WAITING, DEPLOYING, DEPLOYED, FAILED = "waiting for certificate", "deploying", "deployed", "failed"


def integral(value: Any) -> Any:
    """Pulumi carries numbers as doubles; CloudFront's integers (Quantity, TTLs, ports) must go back as ints."""
    if isinstance(value, dict):
        return {k: integral(v) for k, v in value.items()}
    if isinstance(value, list):
        return [integral(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def normalised(value: Any) -> Any:
    """A config as comparable facts: zero values dropped (None, "", 0, False, empty lists and structures, which
    CloudFront treats as absent), `Quantity` dropped (it only repeats len(Items)), integral floats as ints."""
    if isinstance(value, dict):
        kept = {k: normalised(v) for k, v in value.items() if k != "Quantity"}
        return {k: v for k, v in kept.items() if v not in (None, "", 0, False, [], {})}
    if isinstance(value, list):
        return [normalised(v) for v in value]
    return integral(value)


def cloned_part(config: Mapping[str, Any]) -> dict[str, Any]:
    """What a clone takes from its template: everything but the owned and never-cloned fields."""
    return {k: v for k, v in config.items() if k not in OWNED_FIELDS and k not in NOT_CLONED}


def same_clone(config: Mapping[str, Any], template_config: Mapping[str, Any]) -> bool:
    """Does `config` carry the template's cloned fields (no drift)?"""
    return normalised(cloned_part(config)) == normalised(cloned_part(template_config))


# --- owned fields ------------------------------------------------------------------------------------------

def aliases_block(aliases: list[str]) -> dict[str, Any]:
    items = list(aliases)
    return {"Quantity": len(items), "Items": items}  # Quantity always len(Items) (InconsistentQuantities)


def acm_certificate(arn: str, minimum_protocol_version: str) -> dict[str, Any]:
    """An ACM certificate served with SNI. CloudFrontDefaultCertificate is sent as False explicitly: moto (and
    a template's leftovers) would otherwise read back `true` next to the ARN."""
    return {"ACMCertificateArn": arn, "SSLSupportMethod": "sni-only",
            "MinimumProtocolVersion": minimum_protocol_version, "CloudFrontDefaultCertificate": False}


def logging_block(logging: Mapping[str, Any] | None) -> dict[str, Any]:
    if not logging:
        return dict(LOGGING_OFF)  # off unless configured: a clone never logs into the template's bucket
    return {"Enabled": True, "IncludeCookies": bool(logging.get("include_cookies", False)),
            "Bucket": logging["bucket"], "Prefix": logging.get("prefix", "")}


def logging_input(block: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A live Logging block in the provider's input shape (None: off)."""
    if not block or not block.get("Enabled"):
        return None
    return {"bucket": block.get("Bucket", ""), "prefix": block.get("Prefix", ""),
            "include_cookies": bool(block.get("IncludeCookies", False))}


def live_certificate_arn(config: Mapping[str, Any]) -> str:
    return (config.get("ViewerCertificate") or {}).get("ACMCertificateArn") or ""


def live_aliases(config: Mapping[str, Any]) -> list[str]:
    return sorted({a.lower() for a in (config.get("Aliases") or {}).get("Items") or []})


def certificate_facts(viewer_certificate: Mapping[str, Any] | None) -> tuple[str, ...]:
    """What a ViewerCertificate means, whatever the read-back noise (moto: CloudFrontDefaultCertificate true next
    to an ARN, CertificateSource "cloudfront", Certificate ""; AWS: the deprecated fields filled in)."""
    vc = viewer_certificate or {}
    if vc.get("ACMCertificateArn"):
        return ("acm", vc["ACMCertificateArn"], vc.get("SSLSupportMethod") or "sni-only",
                vc.get("MinimumProtocolVersion") or "")
    if vc.get("IAMCertificateId"):
        return ("iam", vc["IAMCertificateId"], vc.get("SSLSupportMethod") or "", vc.get("MinimumProtocolVersion") or "")
    return ("default",)


def kept_binding(live: Mapping[str, Any]) -> dict[str, Any]:
    """The live Aliases and ViewerCertificate, cleaned of read-back noise: while a new certificate is pending,
    the one that serves now keeps serving (never a moment without a certificate)."""
    facts = certificate_facts(live.get("ViewerCertificate"))
    if facts[0] != "acm":
        return {"Aliases": aliases_block([]), "ViewerCertificate": dict(DEFAULT_CERTIFICATE)}
    return {"Aliases": aliases_block((live.get("Aliases") or {}).get("Items") or []),
            "ViewerCertificate": acm_certificate(facts[1], facts[3])}


def desired_config(template_config: Mapping[str, Any], live: Mapping[str, Any] | None, props: Mapping[str, Any],
                   caller_reference: str, bind: bool) -> dict[str, Any]:
    """The config to send: the template's cloned fields, then the owned ones.

    `bind`: the certificate is ISSUED, so the aliases and the certificate go on. Otherwise a distribution
    that serves a certificate keeps its current binding, and one that does not stays on the default.
    """
    template = integral(dict(template_config))
    config = cloned_part(template)
    config.update({k: v for k, v in NOT_CLONED.items() if k in template})
    config["CallerReference"] = caller_reference  # never changed after create (IllegalUpdate)
    config["Enabled"] = bool(props["enabled"])
    config["Comment"] = props["comment"]
    config["Logging"] = logging_block(props.get("logging"))
    if bind:
        config["Aliases"] = aliases_block(props["aliases"])
        config["ViewerCertificate"] = acm_certificate(props["certificate_arn"], props["minimum_protocol_version"])
    else:
        config.update(kept_binding(live or {}))
    return config


def same_config(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Would sending `a` over `b` change nothing? (Then no update, and no new deployment.)"""
    def facts(c: Mapping[str, Any]) -> tuple[Any, ...]:
        return (normalised(cloned_part(c)), c.get("CallerReference"), live_aliases(c),
                certificate_facts(c.get("ViewerCertificate")), bool(c.get("Enabled")), c.get("Comment") or "",
                logging_input(c.get("Logging")),
                *(normalised(c.get(k)) for k in NOT_CLONED))
    return facts(a) == facts(b)


def stage_of(status: str, bound_as_wanted: bool, certificate_status: str, dead_statuses: tuple[str, ...]) -> str:
    """Where the distribution stands. Not bound to the wanted certificate and aliases: that certificate is
    pending (waiting) or can never be issued (failed); otherwise the deployment state decides."""
    if not bound_as_wanted and certificate_status in dead_statuses:
        return FAILED
    if not bound_as_wanted and certificate_status != "ISSUED":
        return WAITING
    return DEPLOYED if status == "Deployed" else DEPLOYING


def stage_message(stage: str, certificate_name: str, certificate_status: str, domain_name: str,
                  bound: bool) -> str:
    certificate = f"certificate '{certificate_name}' is {certificate_status or 'not issued yet'}"
    serving = ("keeps serving its current certificate and aliases" if bound else
               f"serves {domain_name} with CloudFront's default certificate and no aliases")
    if stage == FAILED:
        return (f"{certificate} and can never be issued: the distribution {serving} until the certificate is "
                f"replaced (the next `pulumi up` replaces it)")
    if stage == WAITING and certificate_status.startswith("ISSUED"):  # cloudfront.NOT_COVERING
        return (f"certificate '{certificate_name}' does not cover the distribution's aliases yet (its source's names "
                f"changed and the certificate for the new names is not deployed yet): the distribution {serving}; "
                f"the `pulumi up` that deploys that certificate binds them")
    if stage == WAITING:
        return f"{certificate}: the distribution {serving}; once it is ISSUED, `pulumi up --refresh` binds it"
    if stage == DEPLOYING:
        return "changes are deploying (InProgress); `pulumi up --refresh` continues waiting for Deployed"
    return "deployed"


# --- the provider's inputs, checked ------------------------------------------------------------------------

def arn_region(arn: str) -> str:
    """The region of an ACM certificate ARN ("" for anything else)."""
    parts = arn.split(":")
    return parts[3] if len(parts) > 5 and parts[2] == "acm" else ""


def _known(value: Any) -> bool:
    return not is_unknown(value)


def input_problems(news: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(input, reason) for each problem: types and CloudFront's limits, for resources built without the config
    model (the config checks the same at preview). Unknown values (preview) are skipped."""
    failures: list[tuple[str, str]] = []

    def fail(key: str, reason: str) -> None:
        failures.append((key, reason))

    aliases = news.get("aliases")
    if _known(aliases):
        if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
            fail("aliases", "must be a list of DNS names")
        else:
            if len(aliases) > CLOUDFRONT_MAX_ALIASES:
                fail("aliases", f"CloudFront allows {CLOUDFRONT_MAX_ALIASES} aliases per distribution (default quota), "
                                f"got {len(aliases)}")
            if len({names.normalise(a) for a in aliases}) != len(aliases):
                fail("aliases", "has duplicates (names compare case-insensitively)")
            failures += [("aliases", p) for p in map(names.dns_name_problem, map(names.normalise, aliases)) if p]
    for key, kind in (("enabled", bool), ("cname_check", bool), ("comment", str), ("template_config", dict),
                      ("deployed_timeout_seconds", (int, float))):
        if _known(news.get(key)) and not isinstance(news.get(key), kind):
            fail(key, f"must be {getattr(kind, '__name__', 'a number')}")
    if isinstance(news.get("comment"), str) and len(news["comment"]) > CLOUDFRONT_MAX_COMMENT:
        fail("comment", f"CloudFront allows {CLOUDFRONT_MAX_COMMENT} characters, got {len(news['comment'])}")
    tls = news.get("minimum_protocol_version")
    if _known(tls) and tls not in MINIMUM_PROTOCOL_VERSIONS:
        fail("minimum_protocol_version", f"must be one of {', '.join(MINIMUM_PROTOCOL_VERSIONS)}, got {tls!r}")
    arn = news.get("certificate_arn")
    if _known(arn) and arn and arn_region(arn) != REGION:
        fail("certificate_arn", f"CloudFront serves ACM certificates from {REGION} only, got {arn!r}")
    logging = news.get("logging")
    if _known(logging) and logging is not None and not (
            isinstance(logging, dict) and isinstance(logging.get("bucket"), str) and logging["bucket"]
            and isinstance(logging.get("prefix", ""), str) and isinstance(logging.get("include_cookies", False), bool)):
        fail("logging", "must be null or {bucket: non-empty text, prefix: text, include_cookies: bool}")
    tags = news.get("tags")
    if _known(tags):
        if not isinstance(tags, dict) or len(tags) > AWS_MAX_USER_TAGS:
            fail("tags", f"must be a map of at most {AWS_MAX_USER_TAGS} tags (CloudFront allows {CLOUDFRONT_MAX_TAGS}, "
                         f"certfleet keeps {ACM_CERTFLEET_TAGS})")
        else:
            failures += [("tags", p) for p in (names.aws_tag_problem(k, v) for k, v in tags.items()) if p]
    return failures
