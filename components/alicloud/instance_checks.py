"""The pure parts of the CAS instance provider (components/alicloud/instance.py): its inputs, the ordered
ownership checks create runs on the instance it finds, the preview's capacity checks, the challenge and the
status message. No SDK call here.

Ownership: CAS records no applicant on an instance, so certfleet writes its claim into the instance's tags
with the same UpdateInstance that records the application, before ApplyCertificate: CLAIM_ENTRY_TAG = the
entry (`<project>/<stack>/<entry>`), CLAIM_STAMP_TAG = the run that journalled the purchase (the purchase
journal's stamp, components/journal.py), CLAIM_APPLICATION_TAG = a digest of the application itself (names,
validation method, and the CSR or, when CAS makes the key, the key algorithm: `application_digest`).
GetInstanceDetail returns the tags and the application, so a create after an interrupted run can tell its own
application from anyone else's, and an application withdrawn and made again in the console (the tags stay)
is no longer certfleet's: the instance's application no longer matches the digest. An empty tag value counts
as no claim. The same application made again outside certfleet (same names, validation and key algorithm,
CAS making the key) cannot be told apart (inference: nothing on the instance says who applied). The state
records the claim it wrote (`claim_written`), so a rename whose previousNames are later dropped stays this
entry's. With an uploaded CSR the names are read from the CSR the instance shows, not from its `Domain`
(UpdateInstance's doc: with a Csr "the CN is used as the domain name", so Domain may show the CN only).

A pending instance that holds a certificate is being reissued (the console or AutoReissue: "the latest
certificate is committed for review"): state REISSUING. Its certificate still serves; certfleet never
withdraws the reissue, never takes the instance for a new application, and refuses a same-instance
replacement while it holds a certificate. Once CAS issues the reissue (a new CertificateId, the claim and the
application unchanged) it is certfleet's application's certificate: recorded when it carries the key certfleet
configured or generated (with CAS's key, CAS's new key), else `foreign`.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, Mapping

from pulumi.dynamic import CheckFailure

from components import keys
from components.alicloud.candidates import listed_names
from components.alicloud.instance_config import INSTANCE_KEY_ALGORITHMS, CasInstanceSpec
from components.dynamic import REFUSE, Verdict, changed_keys, first_opinion
from components.journal import earlier_stamps

CLAIM_ENTRY_TAG = "certfleet-entry"
CLAIM_STAMP_TAG = "certfleet-stamp"
CLAIM_APPLICATION_TAG = "certfleet-application"
CLAIM_TAGS = (CLAIM_ENTRY_TAG, CLAIM_STAMP_TAG, CLAIM_APPLICATION_TAG)
# What create does with the instance (the checks' verdicts, with dynamic.REFUSE).
APPLY, RESUME, WITHDRAW_THEN_APPLY = "apply", "resume", "withdraw then apply"

PENDING, ISSUED, REISSUING = "pending", "issued", "reissuing"
HOLDING = ("pending", "normal", "willExpire")       # instance statuses with an application or a certificate
UNUSABLE = ("expired", "refund", "closed")          # an instance that can carry no new certificate
KEY_MISMATCH = "key_mismatch"
FOREIGN = "foreign"   # the instance now holds an application or certificate certfleet did not make

REPLACE_KEYS = ("instance_id", "domains", "csr_mode", "csr_pem", "key_algorithm")
PENDING_REPLACE_KEYS = ("validation",)   # a pending application's challenge changes; an issued one is kept
INPUT_KEYS = (("order_name",) + REPLACE_KEYS + PENDING_REPLACE_KEYS
              + ("tags", "contact_ids", "company_id", "revoke_on_delete", "issued_timeout_seconds"))
QUIET_INPUT_KEYS = ("journal", "claim", "previous_claims", "previous_names")   # stored, never diffed
STORED_INPUT_KEYS = INPUT_KEYS + QUIET_INPUT_KEYS
OUTPUT_KEYS = ("order_id", "state", "status_message", "challenge", "challenges", "certificate_pem", "not_after",
               "cert_id", "private_key", "csr", "adopted", "adopted_by_id", "owner", "product_code",
               "applied_by_certfleet", "application", "claim_written")


def instance_inputs(spec: CasInstanceSpec, issued_timeout_seconds: int, claim: str,
                    previous_claims: list[str]) -> dict[str, Any]:
    """The provider's inputs for one `instance:` entry. `claim`: dynamic.resource_identity of the entry."""
    return {"order_name": spec.name, "instance_id": spec.instance_id, "domains": list(spec.domains),
            "validation": spec.validation, "csr_mode": spec.csr, "csr_pem": spec.csr_pem,
            "key_algorithm": spec.key_algorithm, "tags": dict(spec.tags), "contact_ids": list(spec.contact_ids),
            "company_id": spec.company_id, "revoke_on_delete": spec.revoke_on_delete,
            "issued_timeout_seconds": issued_timeout_seconds, "previous_names": list(spec.previous_names),
            "claim": claim, "previous_claims": previous_claims}


def replace_keys(olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
    keys = REPLACE_KEYS + (PENDING_REPLACE_KEYS if olds.get("state") == PENDING else ())
    return changed_keys(olds, news, keys)


def label(props: Mapping[str, Any]) -> str:
    return f"alicloud.orders.{props.get('order_name')} (instance {props.get('instance_id')})"


def names_of(detail: Any) -> list[str]:
    """The names of the instance's application: an uploaded CSR's (CN, then SANs), else its Domain list. With a
    Csr, Domain may show the CN only (UpdateInstance doc), so it cannot say which names are applied for."""
    csr = uploaded_csr(detail)
    if csr:
        try:
            return list(keys.read_csr(csr).names)
        except ValueError:
            pass  # not a CSR certfleet can read: the Domain list is all there is
    return listed_names(detail.domain)


def uploaded_csr(detail: Any) -> str | None:
    return detail.csr if (detail.generate_csr_method or "").lower() == "upload" and detail.csr else None


def tags_of(detail: Any) -> dict[str, str]:
    return {t.tag_key: t.tag_value or "" for t in (detail.tags or [])}


def claim_of(detail: Any) -> str | None:
    """The entry that claims the instance (an empty tag is no claim)."""
    return tags_of(detail).get(CLAIM_ENTRY_TAG) or None


def claims_of(props: Mapping[str, Any]) -> list[str]:
    """The claims this entry wrote: the one its state records (`claim_written`, kept after a rename's
    previousNames are dropped), under its name, or under a previous one."""
    return [c for c in (props.get("claim_written"), props.get("claim"), *(props.get("previous_claims") or [])) if c]


# --- the application: what UpdateInstance recorded, and its digest (the third claim tag) ----------------------

def _csr_body(csr: str) -> str:
    """A CSR PEM's base64 body without whitespace: the same CSR whatever its line breaks."""
    return "".join(line.strip() for line in csr.strip().splitlines() if not line.startswith("-----"))


def _key_part(csr: str | None, key_algorithm: str | None) -> str:
    if csr:
        return "csr:" + hashlib.sha256(_csr_body(csr).encode()).hexdigest()
    return f"key:{key_algorithm or ''}"


def application_of_detail(detail: Any) -> tuple[tuple[str, ...], str, str]:
    """(names, validation, CSR digest or key algorithm) of the application the instance shows."""
    csr = uploaded_csr(detail)
    return (tuple(sorted(names_of(detail))), (detail.validation_method or "DNS").upper(),
            _key_part(csr, detail.key_algorithm))


def application_of_entry(props: Mapping[str, Any], csr: str | None = None) -> tuple[tuple[str, ...], str, str] | None:
    """What UpdateInstance records for the entry; `csr`: the CSR sent (a generated one). None with
    `csr: generate` and no CSR yet: a new key, so no application shown anywhere can be this one."""
    csr = csr or props.get("csr_pem")
    if props["csr_mode"] == "generate" and not csr:
        return None
    return (tuple(sorted(d.lower() for d in props["domains"])), wire_validation(props["validation"]),
            _key_part(csr, None if csr else wire_key_algorithm(props["key_algorithm"])))


def application_digest(application: tuple[tuple[str, ...], str, str]) -> str:
    names, validation, key = application
    return hashlib.sha256("|".join((",".join(names), validation, key)).encode()).hexdigest()[:32]


def shows_certfleets_application(detail: Any) -> bool:
    """The instance's application is the one certfleet wrote its claim with (the digest tag matches it)."""
    return tags_of(detail).get(CLAIM_APPLICATION_TAG) == application_digest(application_of_detail(detail))


def is_certfleets(detail: Any, props: Mapping[str, Any]) -> bool:
    """The instance holds what the state `props` records: this entry's claim, and the application whose
    digest certfleet recorded (`application`), shown as it was written."""
    recorded = props.get("application")
    return bool(recorded) and claim_of(detail) in claims_of(props) and shows_certfleets_application(detail) \
        and tags_of(detail).get(CLAIM_APPLICATION_TAG) == recorded


def is_foreign(detail: Any, props: Mapping[str, Any]) -> bool:
    """The instance holds an application or certificate other than the one the state `props` records: never
    recorded over certfleet's, never withdrawn or revoked. A new CertificateId is a reissue of certfleet's
    application only while the instance still shows that application (read then checks the key)."""
    if detail.status in HOLDING and props.get("application") and not is_certfleets(detail, props):
        return True
    return shows_another_certificate(detail, props) and not is_certfleets(detail, props)


def shows_another_certificate(detail: Any, props: Mapping[str, Any]) -> bool:
    """A CertificateId other than the one the state records (reissued, or applied for again)."""
    recorded = props.get("cert_id")
    return bool(recorded and detail.certificate_id and str(detail.certificate_id) != str(recorded))


def holds_certificate(detail: Any) -> bool:
    """Issued, or pending with a certificate (a reissue under review: the certificate still serves)."""
    return bool(detail.certificate_id)


def region_of(endpoint: str) -> str:
    """The RegionId a region-scoped call (UntagResources) needs: `cas.<region>.aliyuncs.com`, else the default
    endpoint's region (cas.aliyuncs.com serves cn-hangzhou; inference from Alibaba's endpoint list)."""
    found = re.fullmatch(r"cas\.([a-z0-9-]+)\.aliyuncs\.com(:\d+)?", endpoint.lower())
    return found[1] if found else "cn-hangzhou"


def wire_validation(validation: str) -> str:
    return "HTTP" if validation == "FILE" else "DNS"


def wire_key_algorithm(key_algorithm: str) -> str:
    return INSTANCE_KEY_ALGORITHMS[key_algorithm]


# --- preview: can this instance carry the entry? -----------------------------------------------------------

def capacity_failures(detail: Any, props: Mapping[str, Any]) -> list[CheckFailure]:
    """The instance's status and size against the entry (GetInstanceDetail at preview)."""
    instance, domains = props["instance_id"], list(props["domains"])
    if detail.status in UNUSABLE:
        return [CheckFailure("instance_id", f"instance {instance} is {detail.status}: it can carry no new "
                                            f"certificate; name another instance bought in the console")]
    wildcards = sum(d.startswith("*.") for d in domains)
    failures = []
    for count, allowed, kind in ((len(domains) - wildcards, detail.full_domain_count, "exact"),
                                 (wildcards, detail.wildcard_domain_count, "wildcard")):
        if allowed is not None and count > allowed:
            failures.append(CheckFailure("domains", f"instance {instance} ({detail.spec or 'its product'}) carries "
                                                    f"{allowed} {kind} name(s); the entry has {count}"))
    names = names_of(detail)
    if detail.status in HOLDING and names and set(names) != set(domains):
        what = "an application" if detail.status == "pending" else "a certificate"
        failures.append(CheckFailure("instance_id", f"instance {instance} already holds {what} for "
                                                    f"{', '.join(names)}: an instance carries one certificate; name "
                                                    f"another instance, or remove the entry that uses this one"))
    return failures


def one_certificate(detail: Any, instance: str) -> str:
    return (f"instance {instance} holds certificate {detail.certificate_id} for {detail.domain or 'no names'}: "
            f"an instance carries one certificate: name another instance")


def replacement_failures(detail: Any, olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[CheckFailure]:
    """A change that replaces the certificate on the same instance: refused while it holds a certificate (the
    new application has nowhere to go, and a delete first would drop the state and a generated key)."""
    changed = changed_keys(olds, news, REPLACE_KEYS)
    if not changed or not holds_certificate(detail):
        return []
    return [CheckFailure(changed[0], f"{one_certificate(detail, news['instance_id'])} (changing "
                                     f"{', '.join(changed)} replaces the certificate; the current one is kept)")]


# --- create: whose is what the instance holds? (the first check with an opinion decides) ----------------------

def _unusable(detail: Any, props: Mapping[str, Any]) -> Verdict | None:
    if detail.status in UNUSABLE:
        return REFUSE, f"instance {props['instance_id']} is {detail.status}: it can carry no new certificate"
    return None


def _reissuing(detail: Any, props: Mapping[str, Any]) -> Verdict | None:
    """Pending with a certificate: a reissue under review. Never withdrawn, never taken while it changes."""
    if detail.status != "pending" or not detail.certificate_id:
        return None
    return REFUSE, (f"instance {props['instance_id']} is reissuing certificate {detail.certificate_id} for "
                    f"{detail.domain or 'no names'} (a reissue under review, started in the console or by "
                    f"AutoReissue): certfleet neither withdraws a reissue nor takes an instance while its "
                    f"certificate changes. Wait until CAS issues it (or withdraw the reissue in the CAS console), "
                    f"then run `pulumi up`; or name another instance")


def _claimed_by_another_entry(detail: Any, props: Mapping[str, Any]) -> Verdict | None:
    """An application or certificate, or a claim another entry wrote, is not this entry's to take."""
    entry = claim_of(detail)
    ours = claims_of(props)
    if detail.status == "inactive" and entry in (None, *ours):
        return None
    if detail.status == "inactive":
        # Unused, but another entry's claim: that entry uses it, or a failed or withdrawn application left it.
        return REFUSE, (f"instance {props['instance_id']} holds no application but carries the claim of certfleet "
                        f"entry {entry} (tags {', '.join(CLAIM_TAGS)}): certfleet never takes an instance another "
                        f"entry claims. If no entry uses this instance any more (its application failed or was "
                        f"withdrawn outside certfleet), remove the certfleet-* tags from the instance in the CAS "
                        f"console, then run `pulumi up`; else name another instance")
    if entry not in ours:
        holds = (f"an application for {detail.domain or 'no names'} (pending)" if detail.status == "pending"
                 else f"a certificate for {detail.domain or 'no names'} ({detail.status})")
        who = f"certfleet entry {entry}" if entry else "someone outside certfleet (the console, another tool)"
        return REFUSE, (f"instance {props['instance_id']} already holds {holds} made by {who}, not by this entry: "
                        f"certfleet never takes over an instance it cannot prove it applied for. Name another "
                        f"instance, or withdraw the application in the CAS console if it is yours")
    return None


def _claimed_before_the_stamp(detail: Any, props: Mapping[str, Any]) -> Verdict | None:
    """This entry's claim, but written under a journal stamp the entry does not carry: not this purchase's."""
    if detail.status == "inactive":
        return None
    stamp = props.get("journal") or {}
    runs = {stamp.get("run"), *(h.get("run") for h in earlier_stamps(props))}
    written = tags_of(detail).get(CLAIM_STAMP_TAG)
    if written not in runs:
        return REFUSE, (f"instance {props['instance_id']} holds an application for {detail.domain} that names this "
                        f"entry but was made under purchase journal stamp {written or '(none)'}, which this entry's "
                        f"journal does not hold (applied before the entry's stamp): certfleet cannot prove it is "
                        f"this purchase's. Withdraw it in the CAS console if it is yours, then run `pulumi up`")
    return None


def _changed_outside_certfleet(detail: Any, props: Mapping[str, Any]) -> Verdict | None:
    """This entry's claim, but the instance shows another application than the one certfleet wrote it with:
    withdrawn and made again in the console (the tags stay). Not certfleet's to withdraw or take."""
    if detail.status == "inactive" or shows_certfleets_application(detail):
        return None
    holds = "an application" if detail.status == "pending" else "a certificate"
    return REFUSE, (f"instance {props['instance_id']} holds {holds} for {detail.domain or 'no names'} that is not "
                    f"the one certfleet applied for (the instance shows another application than certfleet's claim "
                    f"records: withdrawn and applied for again outside certfleet?): certfleet never withdraws or "
                    f"takes it. Name another instance, or withdraw it in the CAS console if it is yours")


def _free(detail: Any, props: Mapping[str, Any]) -> Verdict | None:
    if detail.status == "inactive":
        return APPLY, "the instance is unused"
    return None


def _pending_otherwise(detail: Any, props: Mapping[str, Any]) -> Verdict | None:
    """This entry's own pending application for other names, validation, key algorithm or CSR: withdraw it,
    apply anew. With `csr: generate` always: the key of the application shown is not this create's."""
    if detail.status != "pending":
        return None
    if application_of_entry(props) != application_of_detail(detail):
        return WITHDRAW_THEN_APPLY, "this entry's own application differs from the entry or lost its key"
    return None


def _issued_otherwise(detail: Any, props: Mapping[str, Any]) -> Verdict | None:
    if set(names_of(detail)) != set(props["domains"]):
        return REFUSE, (f"instance {props['instance_id']} holds certfleet's issued certificate for {detail.domain} "
                        f"(kept by an earlier replacement or destroy): an instance carries one certificate; name "
                        f"another instance for {', '.join(props['domains'])}")
    if props["csr_mode"] == "generate":
        return REFUSE, (f"instance {props['instance_id']} holds this entry's certificate, applied for with a key "
                        f"certfleet generated: a new resource cannot take it (the key is in the state of the "
                        f"resource that applied, or lost with an interrupted run). "
                        f"{one_certificate(detail, props['instance_id'])} (revoke this certificate in the CAS "
                        f"console if nothing uses it)")
    _, _, shown_key = application_of_detail(detail)
    entry = application_of_entry(props)
    if entry is not None and entry[2] != shown_key:
        wanted = "the configured CSR" if props.get("csr_pem") else f"keyAlgorithm {props['key_algorithm']}"
        shown = "another CSR" if shown_key.startswith("csr:") else f"key algorithm {detail.key_algorithm}"
        return REFUSE, (f"instance {props['instance_id']} holds this entry's certificate, made with {shown}, not "
                        f"{wanted}: {one_certificate(detail, props['instance_id'])}")
    return None


def _resume(detail: Any, props: Mapping[str, Any]) -> Verdict:
    return RESUME, "this entry's own application (an interrupted run): no second application"


INSTANCE_CHECKS = (_unusable, _reissuing, _claimed_by_another_entry, _claimed_before_the_stamp,
                   _changed_outside_certfleet, _free, _pending_otherwise, _issued_otherwise, _resume)


# --- outputs -------------------------------------------------------------------------------------------------

def state_of(detail: Any) -> str:
    if detail.status == "pending":
        return REISSUING if detail.certificate_id else PENDING
    if detail.status in ("normal", "willExpire") and detail.certificate_id:
        return {"revoked": "revoked", "expired": "expired"}.get(detail.certificate_status or "", ISSUED)
    return detail.status or "unknown"


def challenges_of(detail: Any) -> list[dict[str, Any]]:
    """DomainValidationList as certfleet's challenge shape (the same as CasOrder's)."""
    found = []
    for record in detail.domain_validation_list or []:
        if not record.validation_value:
            continue
        domain = (record.domain or "").removeprefix("*.").lower()
        key = (record.validation_key or "").rstrip(".")
        if (record.validation_type or "").upper() == "HTTP":
            url = key if key.startswith(("http://", "https://")) else f"http://{domain}{key}"
            found.append({"type": "FILE", "domain": domain, "uri": url.split(domain, 1)[-1], "url": url,
                          "content": record.validation_value})
            continue
        # A full name, or a host record relative to the zone (RootDomain) - other tools see both forms.
        zone = (record.root_domain or domain).lower()
        name = key.lower() if key.lower().endswith(("." + zone, "." + domain)) or key.lower() in (zone, domain) \
            else f"{key.lower()}.{zone}"
        found.append({"type": "DNS", "record_type": record.validation_type or "TXT", "name": name,
                      "value": record.validation_value})
    return found


def status_message(state: str, props: Mapping[str, Any], challenges: list[dict[str, Any]],
                   not_after: str | None) -> str:
    instance = props["instance_id"]
    kept = f"certfleet never deletes or refunds instance {instance} itself: you bought it"
    if state == ISSUED:
        keep = ("destroy revokes it (revokeOnDelete: true)" if props.get("revoke_on_delete")
                else "destroy keeps it (set revokeOnDelete: true to revoke it instead)")
        return f"issued, expires {not_after}; {keep}; {kept}"
    if state == PENDING:
        if not challenges:
            return (f"applied through instance {instance}; CAS has not published the validation records yet: run "
                    f"`pulumi up --refresh`")
        where = "; ".join(f"DNS {c['record_type']} record {c['name']} = {c['value']}" if c["type"] == "DNS"
                          else f"the file {c['url']} with the given content" for c in challenges)
        return (f"waiting for domain validation: publish {where}, then `pulumi up --refresh`; destroy withdraws "
                f"the application; {kept}")
    if state == REISSUING:
        return (f"instance {instance} is reissuing its certificate (a reissue under review, started in the console "
                f"or by AutoReissue): the certificate certfleet recorded ({props.get('cert_id') or 'none yet'}) "
                f"still serves and stays in the state; certfleet records no reissued certificate (it did not apply "
                f"for it), and destroy neither withdraws the reissue nor revokes; {kept}")
    if state == KEY_MISMATCH:
        return (f"instance {instance} holds a certificate that does not carry the key of the configured CSR (or "
                f"the key certfleet generated), so "
                f"certfleet recorded nothing and never revokes it; look at the instance in the CAS console")
    if state == "inactive":
        return (f"instance {instance} shows no application (withdrawn outside certfleet?): `pulumi up --replace` "
                f"on this resource applies again")
    return f"instance {instance}: {state}; look at it in the CAS console; {kept}"


def foreign_message(detail: Any, props: Mapping[str, Any]) -> str:
    """State FOREIGN: what the instance holds now is not what certfleet applied for and recorded."""
    instance, recorded = props["instance_id"], props.get("cert_id")
    if detail.status == "pending":
        holds = (f"an application for {detail.domain or 'no names'} that certfleet did not make (applied for "
                 f"outside certfleet)")
    elif is_certfleets(detail, props):
        holds = (f"certificate {detail.certificate_id} for {detail.domain or 'no names'}, reissued from certfleet's "
                 f"application but without the key of the configured CSR (or of the key certfleet generated)")
    else:
        holds = (f"certificate {detail.certificate_id} for {detail.domain or 'no names'}, which certfleet did not "
                 f"make (applied for, or reissued, outside certfleet)")
    record = (f"the state keeps certificate {recorded}, the one certfleet recorded" if recorded
              else "certfleet records nothing of it")
    return (f"instance {instance} now holds {holds}: {record}; destroy never withdraws or revokes it; "
            f"{foreign_way_out(detail, props)}")


def foreign_way_out(detail: Any, props: Mapping[str, Any]) -> str:
    """What the user can do about FOREIGN. With CAS's key a new resource may take this entry's application
    (create's checks say whether); with a configured CSR or a generated key no new resource can prove the
    certificate carries its key, so only another instance gives a new certificate."""
    own_key = bool(props.get("csr_pem")) or props.get("csr_mode") == "generate"
    if not own_key and first_opinion(INSTANCE_CHECKS, detail, props)[0] != REFUSE:
        return ("to record what the instance holds, run `pulumi up --replace <this resource's URN>`: the new "
                "resource takes this entry's application or certificate on the instance, withdrawing and revoking "
                "nothing")
    return (f"certfleet cannot take it over: for a certificate certfleet records, buy another instance in the CAS "
            f"console and name it in the entry (`instance: <its id>` instead of {props['instance_id']}); `pulumi "
            f"up` applies there first, and this resource's certificate is kept, never revoked")
