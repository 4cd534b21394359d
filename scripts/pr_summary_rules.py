"""What each change means for money, risk and waiting, in plain words: ordered tuples of small named checks.

Every check takes one change and the preview's context (scripts/pr_summary_context.py) and returns its findings
(often none); all checks run, in order, on every change (MONEY_CHECKS, RISK_CHECKS, WAIT_CHECKS, then the DNS
validation records' DNS_CHECKS in scripts/pr_summary_dns.py). A finding that counts towards the totals
carries its bucket: ("paid" | "maybePaid" | "free" | "instance", cloud, estimated kind); "maybePaid" is an entry
that adopts with `replaceAdopted`, which buys only if the adopted certificate differs from the entry.

What destroy does to each kind of certificate follows the providers' delete (components/aws/adopt.py
kept_on_destroy; components/alicloud/cas.py and instance.py; components/huaweicloud/scm.py and scm_destroy.py):
a replacement never revokes or deletes an issued paid certificate; a real delete revokes (CAS `revokeOnDelete`)
or deletes (SCM/AWS `onDestroy: delete`) only what the entry says, and cancels or withdraws pending orders.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from scripts.pr_summary_context import Context, Finding
from scripts.pr_summary_digest import Change, is_unknown
from scripts.pr_summary_dns import DNS_CHECKS, seconds
from scripts.pr_summary_kinds import (BRANDS, KINDS, PAID_TYPES, SCM_DOMAIN_TYPES, SCM_TYPES, cas_plan, label,
                                      names_of, plural, reasons, shown)

# Copies of the providers' constants (importing those modules would load Pulumi); tests/unit/test_pr_summary.py
# checks that they still equal the providers'.
CAS_PENDING = ("domain_verify", "process", "verify_fail", "payed")  # status.PENDING_STATES + DEAD_STATES: cancelled
SCM_WITHDRAWABLE = ("CHECKING", "CHECKING_ORG")  # scm_model.WITHDRAWABLE: withdrawn, then refunded if SCM still may
SCM_REFUNDABLE = ("PAID", "REVOKED")  # scm_model.REFUNDABLE: refunded within 7 days of payment (REVOKED: onDestroy)
SCM_ISSUED = ("ISSUED", "EXPIRED", "REVOKED", "UPLOAD")  # scm_model.ON_DESTROY_DECIDES: onDestroy decides
SCM_DELETABLE = ("ISSUED", "EXPIRED", "UPLOAD")  # scm_model.DELETABLE: what onDestroy: delete deletes
SCM_WITHDRAWING = "CANCELCHECKING"  # a withdrawal under review: destroy waits for it, then refunds if SCM still may
SCM_REFUND_TERMS = "if SCM still refunds it (7 days after payment; otherwise it is kept)"
WHERE_RECORDS_SHOW = {
    "aws:AcmCertificate": "`pulumi stack output aws` (`validationRecords`)",
    "huaweicloud:ScmCertificate": "`pulumi stack output huaweicloud` (`certificates.{name}.validation_records`)",
    "alicloud:CasOrder": "`pulumi stack output alicloud` (`orders.{name}.challenge`)",
    "alicloud:CasInstanceCertificate": "`pulumi stack output alicloud` (`orders.{name}.challenge`)",
}


def _new_certificate(change: Change, *types: str) -> bool:
    """A certificate made in this update: created (not adopted) or replaced."""
    adopting = change.op == "create" and change.new.get("adopt_id")
    return change.type in types and change.op in ("create", "replace") and not adopting


def _acm_names(inputs: Mapping[str, Any]) -> list[str]:
    """An ACM certificate's names: its domain, then its SANs, each once."""
    return list(dict.fromkeys([shown(inputs.get("domain"))] + names_of(inputs, "sans")))


def _kept_on_destroy(change: Change) -> bool:
    """AWS: kept with onDestroy: keep, or adopted without onDestroy: delete (components/aws/adopt.py)."""
    on_destroy = change.old.get("on_destroy")
    return on_destroy == "keep" or bool(change.old_outputs.get("adopted") and on_destroy != "delete")


def _names_text(names: list[str]) -> str:
    if names == ["[secret]"]:
        return "names [secret]"  # a secret list: not even its length is shown
    return plural(len(names), "name") if names else "the names in its CSR"


# --- money ---------------------------------------------------------------------------------------------------

def cas_order_purchase(change: Change, ctx: Context) -> list[Finding]:
    return [_cas_order_buys(change)] if _new_certificate(change, "alicloud:CasOrder") else []


def _cas_order_buys(change: Change) -> Finding:
    code, names = shown(change.new.get("product_code")), names_of(change.new)
    plan = cas_plan(code)
    if plan is None:
        return Finding("money", f"buys 1 CAS certificate on plan `{code}`, {_names_text(names)}",
                       ("paid", "alicloud", f"CAS plan {code}"))
    if plan.free:
        return Finding("money", f"orders 1 free {plan.brand} DV certificate, 1 year, {_names_text(names)} "
                                f"({plan.scope} plan `{code}`: one free plan unit)",
                       ("free", "alicloud", f"{plan.brand} DV {plan.scope} (free plan)"))
    return Finding("money", f"buys 1 {plan.brand} {plan.level} certificate, 1 year, {_names_text(names)} "
                            f"({plan.scope} plan `{code}`: one plan unit)",
                   ("paid", "alicloud", f"{plan.brand} {plan.level} {plan.scope}, 1 year"))


def cas_instance_application(change: Change, ctx: Context) -> list[Finding]:
    if not _new_certificate(change, "alicloud:CasInstanceCertificate"):
        return []
    instance = shown(change.new.get("instance_id"))
    return [Finding("money", f"applies for a certificate through CAS instance `{instance}`, "
                             f"{_names_text(names_of(change.new))}: no new purchase (it uses an instance bought "
                             f"already)", ("instance", "alicloud", "certificate through an instance bought already"))]


def scm_purchase(change: Change, ctx: Context) -> list[Finding]:
    return [_scm_buys(change)] if _new_certificate(change, "huaweicloud:ScmCertificate") else []


def _scm_buys(change: Change) -> Finding:
    new = change.new
    brand = BRANDS.get(str(new.get("brand", "")).lower(), shown(new.get("brand")))
    kind = SCM_TYPES.get(str(new.get("type")), shown(new.get("type")))
    scope = SCM_DOMAIN_TYPES.get(str(new.get("domain_type")), shown(new.get("domain_type")))
    years = new.get("years") if isinstance(new.get("years"), (int, float)) else 1
    names = _names_text(names_of(new))
    if new.get("domain_type") == "MULTI_DOMAIN" and isinstance(new.get("domain_numbers"), (int, float)):
        names = plural(int(new["domain_numbers"]), "name")  # bought, whether listed yet or not
    extra = [f"{int(new[k])} {w}" for k, w in (("single_domain_number", "extra single"),
                                               ("wildcard_domain_number", "extra wildcard"))
             if new.get("domain_type") == "MULTI_DOMAIN" and isinstance(new.get(k), (int, float))]
    paid_for = ", ".join([names] + extra)
    return Finding("money", f"buys 1 {brand} {kind} certificate, {plural(int(years), 'year')}, {paid_for} "
                            f"({shown(new.get('type'))}, {scope})",
                   ("paid", "huaweicloud", f"{brand} {kind} {scope}, {plural(int(years), 'year')}"))


def acm_request(change: Change, ctx: Context) -> list[Finding]:
    if not _new_certificate(change, "aws:AcmCertificate"):
        return []
    names = _acm_names(change.new)
    return [Finding("money", f"requests 1 ACM certificate (free) for {', '.join(names)} "
                             f"({shown(change.new.get('key_algorithm'))})", ("free", "aws", "ACM certificate"))]


def acm_import(change: Change, ctx: Context) -> list[Finding]:
    if _new_certificate(change, "aws:AcmImport"):
        return [Finding("money", "imports 1 certificate into ACM (free)", ("free", "aws", "ACM import"))]
    pems = {"certificate_pem", "chain_pem", "private_key_pem"}
    if change.type == "aws:AcmImport" and change.op == "update" and pems & set(change.diff_keys):
        return [Finding("note", "re-imports the certificate in place (same ARN, tags kept)")]
    return []


def adoption(change: Change, ctx: Context) -> list[Finding]:
    if change.op != "create" or not change.new.get("adopt_id") or change.type not in KINDS:
        return []
    text = f"adopts `{shown(change.new['adopt_id'])}`: nothing bought, requested or created"
    if not change.new.get("replace_adopted"):
        return [Finding("money", text)]
    buys = {"alicloud:CasOrder": _cas_order_buys, "huaweicloud:ScmCertificate": _scm_buys}.get(change.type)
    purchase = buys(change) if buys else None
    if purchase and purchase.bucket and purchase.bucket[0] == "paid":  # counted apart: it may buy, or not
        return [Finding("money", f"{text}, unless it differs from the entry: `replaceAdopted` then "
                                 f"{purchase.text}", ("maybePaid",) + purchase.bucket[1:])]
    return [Finding("money", text + " (unless it differs from the entry: `replaceAdopted` then makes a new one)")]


MONEY_CHECKS: tuple[Callable[[Change, Context], list[Finding]], ...] = (
    cas_order_purchase, cas_instance_application, scm_purchase, acm_request, acm_import, adoption)


# --- risk ----------------------------------------------------------------------------------------------------

def replaces_aws_certificate(change: Change, ctx: Context) -> list[Finding]:
    if change.op != "replace" or change.type not in ("aws:AcmCertificate", "aws:AcmImport"):
        return []
    serving = sorted(ctx.served_by.get(change.name, ()))
    old = ("kept (onDestroy: keep)" if change.old.get("on_destroy") == "keep"
           else "kept (it was adopted)" if change.old_outputs.get("adopted") else "deleted once nothing uses it")
    if serving:
        return [Finding("risk", f"replaces the certificate serving {', '.join(serving)} ({change.mode}): "
                                f"{'they keep' if len(serving) > 1 else 'it keeps'} the old one until the new one "
                                f"is issued and bound; the old one is then {old}")]
    return [Finding("risk", f"replaces the certificate ({change.mode}); the old one is {old}")]


def replaces_paid_certificate(change: Change, ctx: Context) -> list[Finding]:
    if change.op != "replace" or change.type not in WHERE_RECORDS_SHOW or change.type == "aws:AcmCertificate":
        return []
    state = change.old_outputs.get("status") or change.old_outputs.get("state")
    if change.type == "alicloud:CasOrder":
        fate = ("the old pending order is cancelled (its plan unit comes back)" if state in CAS_PENDING
                else "the old, issued certificate is kept, not revoked")
    elif change.type == "alicloud:CasInstanceCertificate":
        fate = ("the old pending application is withdrawn" if state == "pending"
                else "the old, issued certificate is kept, not revoked")
    else:
        fate = _scm_replaced_fate(state)
    return [Finding("risk", f"replaces the certificate ({change.mode}): a new one is bought or applied for; {fate}")]


def _scm_replaced_fate(status: Any) -> str:
    """scm.delete on the old half of a replacement: withdraws/refunds what is under review or paid, keeps the rest."""
    if status in SCM_WITHDRAWABLE + (SCM_WITHDRAWING,):
        return "the old order is withdrawn and refunded if SCM still refunds it (7 days after payment)"
    if status == "PAID":
        return "the old order is refunded if SCM still refunds it (7 days after payment)"
    if status == "UNPASSED":
        return "the old, rejected order is kept in SCM (SCM refunds no rejected certificate)"
    return "the old, issued certificate is kept in SCM, not deleted"


def deletes_aws_certificate(change: Change, ctx: Context) -> list[Finding]:
    if change.op != "delete" or change.type not in ("aws:AcmCertificate", "aws:AcmImport"):
        return []
    old, status = change.old, shown(change.old_outputs.get("status"))
    if _kept_on_destroy(change):
        why = "onDestroy: keep" if old.get("on_destroy") == "keep" else "it was adopted"
        return [Finding("note", f"leaves the stack; the certificate stays in ACM ({why})")]
    serving = sorted(ctx.served_by.get(change.name, ()))
    issued = "an issued" if status == "ISSUED" else f"a {status}"
    text = f"deletes {issued} ACM certificate ({shown(old.get('domain') or change.old_outputs.get('domain'))})"
    if serving:
        text += f" that serves {', '.join(serving)} (delete retries while it is in use)"
    return [Finding("risk", text)]


def deletes_cas_order(change: Change, ctx: Context) -> list[Finding]:
    if change.op != "delete" or change.type != "alicloud:CasOrder":
        return []
    out, old = change.old_outputs, change.old
    order = shown(out.get("order_id"))
    own_revoke = bool(old.get("entry_revoke_on_delete"))
    if out.get("adopted") and not (out.get("adopted_by_id") and own_revoke):
        return [Finding("note", f"leaves the stack; CAS order {order} is kept (it was adopted)")]
    revokes = bool(old.get("revoke_on_delete")) or (out.get("adopted") and own_revoke)
    if out.get("state") in CAS_PENDING:
        text = f"cancels the pending CAS order {order} (its plan unit comes back)"
        if revokes:
            text += "; if it is issued by then, revokes it on destroy (revokeOnDelete: true)"
        return [Finding("risk", text)]
    if revokes:
        return [Finding("risk", f"revokes the issued certificate of CAS order {order} on destroy "
                                f"(revokeOnDelete: true)")]
    return [Finding("note", f"leaves the stack; the issued certificate of CAS order {order} is kept "
                            f"(revokeOnDelete is not set)")]


def deletes_cas_instance_certificate(change: Change, ctx: Context) -> list[Finding]:
    if change.op != "delete" or change.type != "alicloud:CasInstanceCertificate":
        return []
    out, instance = change.old_outputs, shown(change.old.get("instance_id"))
    if out.get("state") == "pending":
        return [Finding("risk", f"withdraws the pending application on CAS instance {instance} (the instance can "
                                f"be used again; it is never refunded or deleted)")]
    if change.old.get("revoke_on_delete"):
        return [Finding("risk", f"revokes the issued certificate on CAS instance {instance} on destroy "
                                f"(revokeOnDelete: true)")]
    return [Finding("note", f"leaves the stack; the certificate on CAS instance {instance} is kept")]


def deletes_scm_certificate(change: Change, ctx: Context) -> list[Finding]:
    if change.op != "delete" or change.type != "huaweicloud:ScmCertificate":
        return []
    out, old = change.old_outputs, change.old
    cert, status = shown(out.get("certificate_id")), out.get("status")
    if out.get("adopted") and old.get("on_destroy") != "delete":
        return [Finding("note", f"leaves the stack; SCM certificate {cert} is kept (it was adopted)")]
    if status in SCM_ISSUED:
        if old.get("on_destroy") != "delete":
            return [Finding("note", f"leaves the stack; the {status} SCM certificate {cert} is kept (onDestroy: keep)")]
        if status in SCM_DELETABLE:
            return [Finding("risk", f"deletes the {status} SCM certificate {cert} on destroy (onDestroy: delete)")]
        # SCM deletes no revoked certificate; destroy refunds it instead (unsubscribe: SCM then deletes it).
        return [Finding("risk", f"refunds the {status} SCM certificate {cert} on destroy (onDestroy: delete) "
                                f"{SCM_REFUND_TERMS}")]
    if status in SCM_WITHDRAWABLE:
        return [Finding("risk", f"withdraws the {status} SCM certificate {cert} and refunds it {SCM_REFUND_TERMS}")]
    if status == SCM_WITHDRAWING:
        return [Finding("risk", f"waits for the withdrawal of the {status} SCM certificate {cert} under review, "
                                f"then refunds it {SCM_REFUND_TERMS}")]
    if status in SCM_REFUNDABLE:
        return [Finding("risk", f"refunds the {status} SCM certificate {cert} {SCM_REFUND_TERMS}")]
    if status == "UNPASSED":
        return [Finding("note", f"leaves the stack; the {status} SCM certificate {cert} is kept, paid for (it was "
                                f"rejected, and SCM refunds no rejected certificate)")]
    return [Finding("note", f"leaves the stack; the {shown(status)} SCM certificate {cert} is kept")]


def deletes_distribution(change: Change, ctx: Context) -> list[Finding]:
    if change.op != "delete" or change.type != "aws:Distribution":
        return []
    out = change.old_outputs
    if _kept_on_destroy(change):
        return [Finding("note", "leaves the stack; the distribution stays in CloudFront")]
    aliases = sorted(ctx.old_aliases.get(change.name, set()) - _held_elsewhere(change.name, ctx))
    stops = f": stops serving {', '.join(aliases)}" if aliases else ""
    return [Finding("risk", f"disables and deletes CloudFront distribution "
                            f"{shown(out.get('distribution_id') or change.name)}{stops}")]


def _held_elsewhere(name: str, ctx: Context) -> set[str]:
    return set().union(*(v for k, v in ctx.new_aliases.items() if k != name))


def moves_aliases(change: Change, ctx: Context) -> list[Finding]:
    if change.type != "aws:Distribution" or change.op not in ("create", "update", "replace"):
        return []
    old, new = ctx.old_aliases.get(change.name, set()), ctx.new_aliases.get(change.name, set())
    findings = []
    for alias in sorted(new - old):
        holders = sorted(k for k, v in ctx.old_aliases.items() if k != change.name and alias in v)
        if holders:
            findings.append(Finding("risk", f"moves alias {alias} from {', '.join(holders)} to {change.name}"))
    lost = sorted(old - new - _held_elsewhere(change.name, ctx))
    if lost:
        findings.append(Finding("risk", f"stops serving {', '.join(lost)}"))
    return findings


def disables_distribution(change: Change, ctx: Context) -> list[Finding]:
    if change.type != "aws:Distribution" or change.new.get("enabled") is not False:
        return []
    if change.op == "create":
        return [Finding("risk", "creates the distribution disabled (it serves nothing)")]
    if change.old.get("enabled") is not False and change.op in ("update", "replace"):
        return [Finding("risk", "disables the distribution: it stops serving its aliases")]
    return []


def switches_certificate(change: Change, ctx: Context) -> list[Finding]:
    if change.type != "aws:Distribution" or change.op != "update":
        return []
    before, after = change.old.get("certificate_name"), change.new.get("certificate_name")
    if before and after and before != after:
        return [Finding("risk", f"switches to certificate {shown(after)} (from {shown(before)})")]
    return []


def changes_tls_policy(change: Change, ctx: Context) -> list[Finding]:
    key = "minimum_protocol_version"
    if change.type == "aws:Distribution" and change.op == "update" and key in change.diff_keys:
        return [Finding("risk", f"changes the minimum TLS version from {shown(change.old.get(key))} to "
                                f"{shown(change.new.get(key))}")]
    return []


def destroy_setting_turned_on(change: Change, ctx: Context) -> list[Finding]:
    """A paid entry that now says revokeOnDelete / onDestroy: delete: a later destroy revokes or deletes it (AWS
    entries delete by default: free, and no news)."""
    if change.op not in ("create", "update", "replace") or change.type not in PAID_TYPES:
        return []
    if change.new.get("revoke_on_delete") and not change.old.get("revoke_on_delete"):
        return [Finding("risk", "from now on, destroy (or removing the entry) revokes the issued certificate "
                                "(revokeOnDelete: true)")]
    if change.new.get("on_destroy") == "delete" and change.old.get("on_destroy") != "delete":
        return [Finding("risk", "from now on, destroy (or removing the entry) deletes the issued certificate "
                                "(onDestroy: delete)")]
    return []


RISK_CHECKS: tuple[Callable[[Change, Context], list[Finding]], ...] = (
    replaces_aws_certificate, replaces_paid_certificate, deletes_aws_certificate, deletes_cas_order,
    deletes_cas_instance_certificate, deletes_scm_certificate, deletes_distribution, moves_aliases,
    disables_distribution, switches_certificate, changes_tls_policy, destroy_setting_turned_on)


# --- waits ---------------------------------------------------------------------------------------------------

def _where(change: Change) -> str:
    return WHERE_RECORDS_SHOW[change.type].format(name=change.name) + " and the report (`scripts/report.py`)"


def dns_validation(change: Change, ctx: Context) -> list[Finding]:
    if not _new_certificate(change, *WHERE_RECORDS_SHOW):
        return []
    validation = change.new.get("validation", "DNS")
    written = ctx.dns_records.get(label(change))
    if written and validation == "DNS":  # zero-touch: the entry has a `dns` block (docs/dns-validation.md)
        timeout = seconds(ctx.validation_timeouts.get(label(change)), "dns.validationTimeoutSeconds")
        return [Finding("wait", f"waits on DNS validation, no manual step: certfleet writes its records "
                                f"({', '.join(sorted(written))}), waits until the zone's name servers serve them, "
                                f"then for the CA ({timeout}); if it has not issued by then, `pulumi up --refresh` "
                                f"picks it up")]
    if change.type == "aws:AcmCertificate":
        names = _acm_names(change.new)
        fresh = sorted(set(names) - {shown(change.old.get("domain"))} - set(names_of(change.old, "sans")))
        scope = f" (new names: {', '.join(fresh)})" if change.old and fresh else ""
        return [Finding("wait", f"waits on DNS validation: publish these records, one CNAME per name{scope}; "
                                f"they are known only after `pulumi up`: see {_where(change)}")]
    names = ", ".join(names_of(change.new)) or "the names in its CSR"
    if validation == "FILE":
        return [Finding("wait", f"waits on file validation: serve the validation file on {names}; its path and "
                                f"content are known only after `pulumi up`: see {_where(change)}")]
    if validation == "EMAIL":
        return [Finding("wait", f"waits on e-mail validation of {names} (the domains' admin addresses)")]
    return [Finding("wait", f"waits on DNS validation: publish these records (TXT) for {names}; they are known "
                            f"only after `pulumi up`: see {_where(change)}")]


def organisation_validation(change: Change, ctx: Context) -> list[Finding]:
    if not _new_certificate(change, "alicloud:CasOrder", "huaweicloud:ScmCertificate"):
        return []
    plan = cas_plan(change.new.get("product_code")) if change.type == "alicloud:CasOrder" else None
    level = plan.level if plan else SCM_TYPES.get(str(change.new.get("type")), "")[:2]
    if level in ("OV", "EV"):
        return [Finding("wait", f"waits on the CA's {level} organisation check (days, not minutes)")]
    return []


def distribution_waits_for_certificate(change: Change, ctx: Context) -> list[Finding]:
    if change.type != "aws:Distribution" or change.op not in ("create", "update", "replace"):
        return []
    if not is_unknown(change.new.get("certificate_arn")):
        return []
    certificate = shown(change.new.get("certificate_name"))
    if change.op == "create":
        return [Finding("wait", f"serves only its *.cloudfront.net name until certificate {certificate} is issued; "
                                f"then `pulumi up --refresh` binds the aliases")]
    return [Finding("wait", f"keeps its current certificate until the new certificate {certificate} is issued; "
                            f"then `pulumi up --refresh` re-points it")]


WAIT_CHECKS: tuple[Callable[[Change, Context], list[Finding]], ...] = (
    dns_validation, organisation_validation, distribution_waits_for_certificate)
ALL_CHECKS = MONEY_CHECKS + RISK_CHECKS + WAIT_CHECKS + DNS_CHECKS


def findings_of(change: Change, ctx: Context) -> list[Finding]:
    return [finding for check in ALL_CHECKS for finding in check(change, ctx)]


def why(change: Change) -> dict[str, Any]:
    """Why the change happens: the config keys (and other reasons) behind a replacement or update."""
    if change.op == "delete":
        return {"config": [], "other": [KINDS[change.type].deleted], "replacedBy": []}
    if change.op == "create":
        return {"config": [], "other": [KINDS[change.type].created], "replacedBy": []}
    replace_paths, replace_words = reasons(change, change.replace_keys)
    paths, words = reasons(change, change.diff_keys)
    return {"config": paths, "other": words, "replacedBy": replace_paths + replace_words}

