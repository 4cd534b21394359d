"""The certfleet policies as pure functions on plain data: each takes (resource type, inputs, config, stack name)
and returns the violations as messages (empty: compliant); the paid-orders ceiling takes the stack's resources.

`RULES` is the ordered tuple the pack serves (pack.py adapts each to pulumi-policy); each rule carries its
defaults and the JSON schema of its config (`--policy-pack-config`). Messages start with the config path of the
entry (`certfleet:aws.certificates.shop`) and end with the config key that allows it, so a reviewer knows what
to change. Config numbers arrive as floats (JSON): compare numerically, print with int().
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from .resources import (ACM_IMPORT, CAS_INSTANCE_CERTIFICATE, CAS_ORDER, CERTIFICATES, DISTRIBUTION, PAID,
                        PURCHASE_JOURNAL, SCM_CERTIFICATE, UNKNOWN, StackResource, config_path, entry_name,
                        imported_validity_days, key_of, known, names_of)
from .state import PriorState, id_text

# A resource rule's check: (resource type, props, config, stack name) -> messages; the stack rule's:
# (resources, config, update start) -> messages.
Check = Callable[..., list[str]]

_LIST_OF_STRINGS = {"type": "array", "items": {"type": "string"}}
_OPTIONAL_LIST = {"type": ["array", "null"], "items": {"type": "string"}}


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    types: tuple[str, ...]
    check: Check
    defaults: Mapping[str, Any]
    schema: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


def with_defaults(rule: Rule, config: Mapping[str, Any] | None) -> dict[str, Any]:
    """The rule's config: its defaults, overridden by what the policy config file says (unknown keys ignored)."""
    given = {k: v for k, v in (config or {}).items() if k in rule.defaults}
    return {**rule.defaults, **given}


# --- key-algorithm ---------------------------------------------------------------------------------------------

def key_algorithm(resource_type: str, props: Mapping[str, Any], config: Mapping[str, Any], stack: str) -> list[str]:
    key = key_of(resource_type, props)
    if key is None:
        return []
    where = config_path(resource_type, props)
    allowed = list(config["allowed"])
    if key.family not in allowed:
        return [f"{where}: key {key.label} ({key.family}) is not an allowed key type; allowed: "
                f"{', '.join(allowed)} (key-algorithm: allowed)"]
    minimum = (config.get("minimumBits") or {}).get(key.family)
    if minimum is not None and key.bits < float(minimum):
        return [f"{where}: key {key.label} has {key.bits} bits, below the minimum of {int(minimum)} for "
                f"{key.family} keys (key-algorithm: minimumBits.{key.family})"]
    return []


# --- allowed-issuers -------------------------------------------------------------------------------------------

def cas_brand(product_code: str) -> str:
    """`geotrust-dv-1-starter` -> `geotrust` (CAS product codes are <brand>-<level>-<names>-<plan>)."""
    return product_code.split("-", 1)[0]


def _not_in(where: str, what: str, value: str, allowed: Sequence[str] | None, key: str) -> list[str]:
    if allowed is None or value in allowed:
        return []
    listed = ", ".join(allowed) if allowed else "none"
    return [f"{where}: {what} {value} is not allowed; allowed: {listed} (allowed-issuers: {key})"]


def allowed_issuers(resource_type: str, props: Mapping[str, Any], config: Mapping[str, Any], stack: str) -> list[str]:
    """CAS orders: brand (from productCode) and plan; SCM: brand and type. A null list allows any."""
    where = config_path(resource_type, props)
    if resource_type == CAS_ORDER:
        code = props.get("product_code")
        if not known(code):
            return []
        return (_not_in(where, "CA brand", cas_brand(str(code)), config["casBrands"], "casBrands")
                + _not_in(where, "CAS plan (productCode)", str(code), config["casProductCodes"], "casProductCodes"))
    brand, cert_type = props.get("brand"), props.get("type")
    problems = []
    if known(brand):
        problems += _not_in(where, "SCM brand", str(brand), config["scmBrands"], "scmBrands")
    if known(cert_type):
        problems += _not_in(where, "SCM certificate type", str(cert_type), config["scmTypes"], "scmTypes")
    return problems


# --- max-validity ----------------------------------------------------------------------------------------------

def max_validity(resource_type: str, props: Mapping[str, Any], config: Mapping[str, Any], stack: str) -> list[str]:
    """SCM sells 1-3 years (`years`); ACM and CAS plans are 1 year, nothing to check. Imports: the certificate's
    own validity period, when `maximumImportedDays` is set."""
    where = config_path(resource_type, props)
    if resource_type == SCM_CERTIFICATE:
        years, maximum = props.get("years"), config["maximumYears"]
        if known(years) and float(years) > float(maximum):
            return [f"{where}: years {int(years)} is longer than the maximum validity of {int(maximum)} "
                    f"year(s) (max-validity: maximumYears)"]
        return []
    maximum_days = config.get("maximumImportedDays")
    days = imported_validity_days(props) if maximum_days is not None else None
    if days is not None and days > float(maximum_days):
        return [f"{where}: the imported certificate is valid for {int(days)} days, longer than the maximum of "
                f"{int(maximum_days)} (max-validity: maximumImportedDays)"]
    return []


# --- wildcard-approval -----------------------------------------------------------------------------------------

def wildcard_approval(resource_type: str, props: Mapping[str, Any], config: Mapping[str, Any],
                      stack: str) -> list[str]:
    wildcards = [n for n in names_of(resource_type, props) if n.startswith("*.")]
    if resource_type == SCM_CERTIFICATE and props.get("domain_type") == "WILDCARD" and not wildcards:
        wildcards = ["(domainType WILDCARD)"]
    if not wildcards:
        return []
    tag_key = str(config["tagKey"])
    tags = props.get("tags")
    approval = tags.get(tag_key) if isinstance(tags, Mapping) else None
    if approval is UNKNOWN or (isinstance(approval, str) and approval.strip()):
        return []
    return [f"{config_path(resource_type, props)}: wildcard certificate ({', '.join(wildcards)}) without an "
            f"approval: add the tag '{tag_key}' naming who approved it (wildcard-approval: tagKey)"]


# --- no-revoke-on-protected-stacks -----------------------------------------------------------------------------

def is_protected(stack: str, config: Mapping[str, Any]) -> bool:
    return bool(config.get("protected")) or stack in (config.get("protectedStacks") or [])


def no_revoke_on_protected_stacks(resource_type: str, props: Mapping[str, Any], config: Mapping[str, Any],
                                  stack: str) -> list[str]:
    """On a protected stack, destroy must leave every certificate alone: no revokeOnDelete (CAS), no
    onDestroy: delete (SCM, and AWS entries that say it)."""
    if not is_protected(stack, config):
        return []
    where = config_path(resource_type, props)
    if resource_type in (CAS_ORDER, CAS_INSTANCE_CERTIFICATE) and props.get("revoke_on_delete") is True:
        return [f"{where}: revokeOnDelete: true (or alicloud.revokeOnDelete) is not allowed on the protected "
                f"stack '{stack}': a destroy would revoke an issued certificate (no-revoke-on-protected-stacks)"]
    if props.get("on_destroy") == "delete":
        return [f"{where}: onDestroy: delete is not allowed on the protected stack '{stack}': a destroy would "
                f"delete the certificate (no-revoke-on-protected-stacks)"]
    return []


# --- cloudfront-min-tls ----------------------------------------------------------------------------------------

def tls_rank(version: str) -> tuple[int, int, int] | None:
    """CloudFront's MinimumProtocolVersion as (major, minor, policy year): TLSv1 < TLSv1_2016 < TLSv1.1_2016 <
    TLSv1.2_2018 < ... < TLSv1.2_2025 < TLSv1.3_2025. SSLv3 ranks lowest. None: not a version we know."""
    if version == "SSLv3":
        return (0, 0, 0)
    match = re.fullmatch(r"TLSv(\d)(?:\.(\d))?(?:_(\d{4}))?", version)
    if not match:
        return None
    return (int(match.group(1)), int(match.group(2) or 0), int(match.group(3) or 0))


def cloudfront_min_tls(resource_type: str, props: Mapping[str, Any], config: Mapping[str, Any],
                       stack: str) -> list[str]:
    version, minimum = props.get("minimum_protocol_version"), str(config["minimum"])
    if not known(version):
        return []
    where = config_path(resource_type, props)
    rank, floor = tls_rank(str(version)), tls_rank(minimum)
    if rank is None or floor is None or rank < floor:
        return [f"{where}: minimumProtocolVersion {version} is below the minimum {minimum} "
                f"(cloudfront-min-tls: minimum)"]
    return []


# --- paid-orders-ceiling (a stack policy) ----------------------------------------------------------------------

# Statuses the provider's diff replaces with a new purchase even when the config did not change. Copies of
# components/alicloud/status.DEAD_STATES and components/huaweicloud/scm_model.DEAD (the pack does not import
# components/: a copy of the pack runs with its own venv); tests/unit/test_policy_ceiling.py keeps them equal.
CAS_DEAD_STATES = ("verify_fail", "payed")
SCM_DEAD_STATUSES = ("EXPIRED", "REVOKING", "REVOKED")
_DEAD = {CAS_ORDER: CAS_DEAD_STATES, SCM_CERTIFICATE: SCM_DEAD_STATUSES}


def buys(resource_type: str, props: Mapping[str, Any]) -> bool:
    """Does this entry spend money when it is created? CAS orders with a plan and SCM purchases, unless they
    adopt an existing object (without replaceAdopted, which may buy). Instance certificates use a plan bought
    already, ACM is free."""
    if resource_type not in PAID or props.get("adopted") is True:
        return False
    if resource_type == CAS_ORDER and not props.get("product_code"):
        return False
    return not (known(props.get("adopt_id")) and props.get("replace_adopted") is not True)


def planned_journals(resources: Sequence[StackResource]) -> dict[str, Mapping[str, Any]]:
    """section -> the purchase journal's props as this update leaves it (preview: its new inputs when it
    changes - entries {name: purchase fingerprint}, previous names - or its outputs, stamps too, when not)."""
    return {str(r.props.get("section")): r.props for r in resources if r.type == PURCHASE_JOURNAL}


def _prior_of(resource: StackResource, values: Mapping[str, str]) -> str | None:
    """The value the resource had before this update, under its URN or a previous one (an alias)."""
    return next((values[u] for u in (resource.urn, *resource.aliases) if u in values), None)


def _bought_by_id(resource: StackResource, journal: Mapping[str, Any], update_started_at: float,
                  state: PriorState | None) -> bool:
    """A paid resource showing its id (after `up`'s steps; in preview, an unchanged one): new when its id is not
    the one it had before the update (created, or replaced for any reason: config, dead status, `--replace`).
    Without the prior state: when the purchase journal stamped it after the update started (a fallback: a
    replacement whose purchase fingerprint did not change keeps its old stamp)."""
    if state is not None:
        return _prior_of(resource, state.ids) != id_text(resource.props[PAID[resource.type].id_output])
    name = entry_name(resource.type, resource.props)
    stamp = (journal.get("stamps") or {}).get(name) or resource.props.get("journal")
    at = stamp.get("at") if isinstance(stamp, Mapping) else None
    return known(at) and float(at) >= update_started_at


def _bought_in_preview(resource: StackResource, journal: Mapping[str, Any], state: PriorState | None) -> bool:
    """A paid resource without its id in preview: created, replaced or updated in place (the engine does not say
    which). Not in the prior state (by URN or alias) = created; a `--replace` target, or dead in the prior state
    (the provider's diff replaces it: a new purchase), or a changed purchase fingerprint = replaced; else
    updated in place. State unreadable or fingerprint unknown: counted (the ceiling errs on the side of money)."""
    if state is None or not ({resource.urn, *resource.aliases} & state.urns):
        return True
    if {resource.urn, *resource.aliases} & state.replacing:
        return True
    if _prior_of(resource, state.statuses) in _DEAD[resource.type]:
        return True
    section, name = PAID[resource.type].journal_section, entry_name(resource.type, resource.props)
    fingerprint = (journal.get("entries") or {}).get(name)
    if not known(fingerprint):
        return True
    names = [name, *((journal.get("previous") or {}).get(name) or [])]
    return not any((state.stamps.get((section, n)) or {}).get("fingerprint") == fingerprint for n in names)


def new_in_this_update(resource: StackResource, journal: Mapping[str, Any], update_started_at: float,
                       prior: Callable[[], PriorState | None]) -> bool:
    """Is this paid resource's purchase one this update makes? `prior`: the state before the update's first paid
    step (pack.py reads it at the first paid resource's Analyze), with the CLI's `--replace` targets."""
    if known(resource.props.get(PAID[resource.type].id_output)):
        return _bought_by_id(resource, journal, update_started_at, prior())
    return _bought_in_preview(resource, journal, prior())


def paid_orders_ceiling(resources: Sequence[StackResource], config: Mapping[str, Any], update_started_at: float,
                        prior: Callable[[], PriorState | None]) -> list[str]:
    """resources: the stack's resources as the update leaves them (preview: as planned). `prior`: the state
    before the update's first paid step (state.read_prior_state; pack.py reads it at the first paid resource's
    Analyze), asked for only when a paid resource that buys is there."""
    journals = planned_journals(resources)
    new = sorted(config_path(r.type, r.props) for r in resources
                 if buys(r.type, r.props)
                 and new_in_this_update(r, journals.get(PAID[r.type].journal_section) or {}, update_started_at,
                                        prior))
    maximum = config["maximum"]
    if len(new) <= float(maximum):
        return []
    return [f"this update places {len(new)} new paid orders, more than the maximum of {int(maximum)} per update "
            f"(paid-orders-ceiling: maximum): {', '.join(new)}. Split the change over several updates, or raise "
            f"the maximum in this stack's policy config"]


RULES: tuple[Rule, ...] = (
    Rule("key-algorithm", "Certificate keys are of an allowed type and at least the minimum size.",
         CERTIFICATES, key_algorithm,
         {"allowed": ["RSA", "EC"], "minimumBits": {"RSA": 2048, "EC": 256, "SM2": 256}},
         {"allowed": _LIST_OF_STRINGS,
          "minimumBits": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 1}}}),
    Rule("allowed-issuers", "Paid certificates come from an allowed CA brand and plan (CAS productCode, SCM brand "
         "and type).", (CAS_ORDER, SCM_CERTIFICATE), allowed_issuers,
         {"casBrands": None, "casProductCodes": None, "scmBrands": None, "scmTypes": None},
         {"casBrands": _OPTIONAL_LIST, "casProductCodes": _OPTIONAL_LIST, "scmBrands": _OPTIONAL_LIST,
          "scmTypes": _OPTIONAL_LIST}),
    Rule("max-validity", "Certificates are not bought (or imported) for longer than the maximum validity.",
         (SCM_CERTIFICATE, ACM_IMPORT), max_validity,
         {"maximumYears": 1, "maximumImportedDays": None},
         {"maximumYears": {"type": "integer", "minimum": 1},
          "maximumImportedDays": {"type": ["integer", "null"], "minimum": 1}}),
    Rule("wildcard-approval", "Wildcard certificates carry an approval tag.",
         CERTIFICATES, wildcard_approval,
         {"tagKey": "wildcard-approved-by"},
         {"tagKey": {"type": "string", "minLength": 1}}),
    Rule("no-revoke-on-protected-stacks", "On protected stacks, destroy never revokes or deletes a certificate "
         "(no revokeOnDelete, no onDestroy: delete).",
         (*CERTIFICATES, DISTRIBUTION), no_revoke_on_protected_stacks,
         {"protectedStacks": ["prod", "production"], "protected": False},
         {"protectedStacks": _LIST_OF_STRINGS, "protected": {"type": "boolean"}}),
    Rule("cloudfront-min-tls", "CloudFront distributions require at least the minimum TLS version.",
         (DISTRIBUTION,), cloudfront_min_tls,
         {"minimum": "TLSv1.2_2021"},
         {"minimum": {"type": "string"}}),
)

STACK_RULE = Rule("paid-orders-ceiling", "One update places at most the maximum number of new paid orders.",
                  (*PAID, PURCHASE_JOURNAL), paid_orders_ceiling, {"maximum": 2},
                  {"maximum": {"type": "integer", "minimum": 0}})

