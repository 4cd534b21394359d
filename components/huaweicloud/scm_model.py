"""What an SCM certificate is to certfleet: its tags, SCM's statuses, the input keys and the request hash, the
provider's inputs (certificate_inputs), the bodies of the buy and apply requests, and how SCM's answers read
(names, validation records, status message).

Apart from the provider (scm.py) so that it and the look-before-buy and adopt checks (scm_candidates.py) share
one vocabulary without importing each other; every name here is also importable from scm.py.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import re
import time
from typing import Any, Mapping

from components.dynamic import resource_identity
from components import clock
from components.huaweicloud.config import SCM_RESERVED_TAG_PREFIX, HuaweiSpec, ScmCertificateSpec

RESOURCE_TAG = "certfleet-resource"   # "<project>/<stack>/<certificate name>" (SCM tag keys allow no '/')
REQUEST_TAG = "certfleet-request"     # hash of the purchase: tells a retry from an earlier purchase
GENERATION_TAG = "certfleet-generation"  # re-stamped by a create that adopts (see components/aws/acm.py)
RENEWAL_TAG = "certfleet-renewal"     # the renewal generation of a successor (components/renewal.py), when set
KIND = "huaweicloud:ScmCertificate"   # for note_declared / declared_in_this_run, by entry name
IDENTITY_KIND = KIND + "/resource_tag"  # ... and by resource identity (a renamed entry keeps its old one)
APPLICABLE = ("PAID", "UNPASSED")     # bought, no application under review
# An application under review. SUPPLEMENTCHECKING is not here: that is an issued certificate getting extra names.
UNDER_REVIEW = ("CHECKING", "CHECKING_ORG", "ISSUING")
# What destroy withdraws (cancel-cert): SCM withdraws from CHECKING, CHECKING_ORG and SUPPLEMENTCHECKING
# (reference A4); not ISSUING (approved already), and never SUPPLEMENTCHECKING, names being added to an issued
# certificate, which certfleet never asks for: withdrawing would undo the user's own request.
WITHDRAWABLE = ("CHECKING", "CHECKING_ORG")
# What SCM refunds (unsubscribe): never applied for or withdrawn (PAID), or revoked, within 7 days of payment.
# A rejected (UNPASSED) certificate is not refundable (reference A4).
REFUNDABLE = ("PAID", "REVOKED")
REFUND_WINDOW_SECONDS = 7 * 24 * 3600
DEAD = ("EXPIRED", "REVOKING", "REVOKED")  # can never be issued (again): the next `up` replaces it
DELETABLE = ("ISSUED", "EXPIRED", "UPLOAD")  # what SCM deletes (the guide's list; reference A4)
ISSUED_LIKE = ("ISSUED", "SUPPLEMENTCHECKING", "CANCELSUPPLEMENTING", "CANCLEREVOKING", "UPLOAD")
ON_DESTROY_DECIDES = ("ISSUED", "EXPIRED", "REVOKED", "UPLOAD")  # kept, or deleted by a real destroy
# Every status whose meaning certfleet knows; anything else (e.g. the undocumented status of an order still
# being processed, or UNKNOWN after an error) makes diff ask update to look again.
KNOWN_STATUSES = APPLICABLE + UNDER_REVIEW + DEAD + ISSUED_LIKE + ("CANCELCHECKING",)
UNKNOWN = "UNKNOWN"                   # recorded when an error after the purchase hid the status
GONE = "GONE"                         # recorded by update when SCM answers 404: refresh drops it from state
# What a purchase is: SCM v3 is global (region only picks the endpoint) and the resource tag is re-tagged in
# place, so neither is here; changing them must not buy again.
PURCHASE_KEYS = ("brand", "type", "domain_type", "years", "domains", "domain_numbers", "single_domain_number",
                 "wildcard_domain_number", "enterprise_project_id")
# `renewal_generation` (components/renewal.py): the successor a renewal buys; absent for the first purchase.
REPLACE_KEYS = PURCHASE_KEYS + ("csr", "key_algorithm", "renewal_generation")
# In the request hash too: only a certificate bought with this very request is ever adopted.
HASH_KEYS = REPLACE_KEYS
APPLY_KEYS = ("validation", "ca_hash_algorithm", "applicant")
INPUT_KEYS = REPLACE_KEYS + APPLY_KEYS + ("region", "resource_tag", "cert_name", "tags", "on_destroy",
                                          "validation_record_timeout_seconds", "issued_timeout_seconds",
                                          "delete_timeout_seconds")
SECRET_OUTPUTS = ["private_key_pem"]
POLL_SECONDS = 2.0
ORDER_TIMEOUT_SECONDS = 600.0  # a new order until PAID (Terraform waits 10 minutes)
LOOKUP_TIMEOUT_SECONDS = 120.0  # after a lost buy answer, until the tag index shows the order
LISTING_LAG_SECONDS = 120.0  # default `listing_lag_seconds`: after an interrupted run, until its order shows
# How far an order id's minute-precision time (and SCM's clock) may be behind ours.
CLOCK_SLACK_SECONDS = 10 * 60
WITHDRAWAL = "withdrawal"  # destroy's wait for a withdrawal's review: one window per run (dynamic.WaitWindow)
MAX_TAG_VALUES = 20  # values of one key in a ListCertificatesByTag filter
V2 = "v2"  # `api` of an entry that buys through seed 003's POST /v2/{project_id}/scm/cert/purchase (docs/scm-v2.md)


def _whole(number: Any) -> int | None:
    """Pulumi hands numbers to providers as floats; SCM wants integers."""
    return None if number is None else int(number)


# Order ids read like CS1803192259ROA8U: "CS", the order's yymmddHHMM, five characters (reference §12: an
# example, and the emulator's inference; the time zone is not documented). Read as UTC, which for a clock at
# or east of UTC (SCM's Chinese clock is UTC+8) is never more than the minute's truncation earlier than the
# order: with a slack of a few minutes, no order is taken for older than it is.
_ORDER_ID = re.compile(r"^CS(\d{10})[A-Z0-9]*$")


def order_time(order_id: str | None) -> float | None:
    """When the order was placed (epoch seconds, minute precision), from its id; None when the id does not tell."""
    match = _ORDER_ID.match(order_id or "")
    if not match:
        return None
    try:
        placed = time.strptime(match.group(1), "%y%m%d%H%M")
    except ValueError:
        return None
    return float(calendar.timegm(placed))


def refund_problem(status: str | None, order_id: str | None, now: float | None = None) -> str | None:
    """Why SCM will not refund (unsubscribe) this certificate, or None when it may (SCM decides in the end)."""
    if status == "UNPASSED":
        return ("it was rejected (UNPASSED), and SCM refunds only a certificate that was never applied for or "
                "whose application was withdrawn (PAID), or a revoked one, within 7 days of payment")
    if status not in REFUNDABLE:
        return f"it is {status or 'of unknown status'}, and SCM refunds only PAID or REVOKED certificates"
    placed = order_time(order_id)
    if placed is not None and (clock.epoch() if now is None else now) > placed + REFUND_WINDOW_SECONDS:
        return f"it was paid more than 7 days ago (order {order_id}), and SCM refunds only within 7 days"
    return None


def undo_advice(status: str | None, order_id: str | None) -> str:
    """How the user gets rid of an unwanted duplicate: its refund if SCM still gives one, else why not."""
    window = refund_problem("PAID", order_id)  # None: still inside the 7 days (or the order id does not tell)
    if window is None and (status not in KNOWN_STATUSES or status == "CANCELCHECKING"):
        # An order still being processed (undocumented status), or a withdrawal under review: PAID next.
        return ("once it is PAID, unsubscribe it in the SCM console (a refund: SCM refunds a PAID certificate "
                "within 7 days of payment)")
    if status in WITHDRAWABLE and window is None:
        return ("withdraw its application in the SCM console (it returns to PAID), then unsubscribe it (a refund: "
                "SCM refunds a PAID certificate within 7 days of payment)")
    problem = window if status in WITHDRAWABLE else refund_problem(status, order_id)
    if problem is None:
        return "unsubscribe it in the SCM console (a refund: SCM refunds a PAID certificate within 7 days of payment)"
    return f"it can no longer be refunded ({problem}): keep it, or use it through an entry's `adopt`"


def ordered_within(order_id: str | None, seconds: float, now: float | None = None) -> bool:
    """Was the order placed less than `seconds` ago (by its id, with CLOCK_SLACK_SECONDS)? False when the id
    does not tell."""
    placed = order_time(order_id)
    return placed is not None and placed >= (clock.epoch() if now is None else now) - seconds - CLOCK_SLACK_SECONDS


def request_hash(props: Mapping[str, Any]) -> str:
    """The purchase's hash. The renewal generation is in it once set (a successor's hash is never its
    predecessor's); absent, the hashes of certificates bought before renewals existed stay the same."""
    bought = {k: props.get(k) for k in HASH_KEYS if k != "renewal_generation"}
    if props.get("renewal_generation"):
        bought["renewal_generation"] = int(props["renewal_generation"])  # the engine hands numbers as floats
    body = json.dumps(bought, sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()[:32]


def validation_records(shown: Any) -> list[dict[str, Any]]:
    return sorted(({"name": r.record_name, "type": r.record_type, "value": r.record_value, "domain": r.domain}
                   for r in shown.authentification or []), key=lambda r: (r["name"], r["domain"]))


def status_message(status: str, props: Mapping[str, Any], records: list, note: str = "") -> str:
    if status == "ISSUED":
        kept = ("destroy deletes it from SCM (a replacement keeps it)" if props.get("on_destroy") == "delete"
                else "destroy keeps it in SCM (onDestroy: keep)")
        return f"issued; {kept}"
    if status in UNDER_REVIEW and props.get("validation") == "DNS":
        text = "waiting for validation: publish validation_records in DNS, then `pulumi up --refresh`" if records else \
            "SCM has not published validation records yet; run `pulumi up --refresh` to pick them up"
    elif status in UNDER_REVIEW:
        text = "waiting for the CA's e-mail validation; `pulumi up --refresh` picks up the issued certificate"
    elif status in APPLICABLE:
        text = "bought, not applied for yet: the next `pulumi up` applies"
    elif status == "CANCELCHECKING":
        text = "application withdrawal under review"
    elif status in DEAD:
        text = "this certificate can no longer be issued; the next `pulumi up` replaces it"
    else:
        text = status
    return f"{status}: {text}{f' ({note})' if note else ''}"


def scm_names(domain: str | None, sans: str | None) -> list[str]:
    """An application's names as SCM reports them (domain, sans "a;b"), lower-case; [] before any application."""
    if not domain:
        return []
    return list(dict.fromkeys([domain.strip().lower(), *(s.strip().lower() for s in (sans or "").split(";")
                                                         if s.strip())]))


def same_names(names: list[str], configured: list[str]) -> bool:
    """The same primary name and the same set of names (the order of the others is no difference)."""
    return bool(names) and bool(configured) and names[0] == configured[0] and set(names) == set(configured)


def names_in_scm(shown: Any, configured: list[str]) -> list[str]:
    """The names SCM holds, for read. Before an application (PAID, UNPASSED) SCM has none for certfleet: the
    configured ones stay. The same names in another order are reported in config order (no drift)."""
    names = scm_names(shown.domain, shown.sans)
    if shown.status in APPLICABLE or not names or same_names(names, configured):
        return list(configured)
    return names


def user_tags(tags: Mapping[str, str]) -> dict[str, str]:
    """The tags the user manages: all but certfleet's own (`certfleet-*`, reserved by the config rules)."""
    return {k: v for k, v in tags.items() if not k.lower().startswith(SCM_RESERVED_TAG_PREFIX)}


def declared_keys(props: Mapping[str, Any]) -> list[tuple[str, str]]:
    """How `check` notes this certificate as declared: its entry name and its identities, current and former
    (so the old half of a replacement that also renames the entry is recognised under its old identity)."""
    keys = [(KIND, props.get("cert_name"))] + [
        (IDENTITY_KIND, t) for t in [props.get("resource_tag"), *(props.get("previous_resource_tags") or [])]]
    return [(kind, name) for kind, name in keys if isinstance(name, str)]


def purchase_tags(props: Mapping[str, Any], generation: str) -> dict[str, str]:
    """The tags of one purchase (v3: sent with the buy; v2: set right after it): the user's, this resource's
    identity, request hash, `generation` and, for a renewal's successor, its renewal generation."""
    return {**(props.get("tags") or {}), RESOURCE_TAG: props["resource_tag"],
            REQUEST_TAG: request_hash(props), GENERATION_TAG: generation,
            **({RENEWAL_TAG: str(int(props["renewal_generation"]))} if props.get("renewal_generation") else {})}


def purchase_body(props: Mapping[str, Any], generation: str) -> Any:
    """The SubscribeCertificate body of one purchase, tagged with purchase_tags (the tags are stored with the
    order, so a later look finds it)."""
    from huaweicloudsdkscm.v3 import PurchaseCertificateRequestBody, ScsResourceTag

    tags = purchase_tags(props, generation)
    multi = props["domain_type"] == "MULTI_DOMAIN"
    return PurchaseCertificateRequestBody(
        cert_brand=props["brand"], cert_type=props["type"], domain_type=props["domain_type"],
        # Pulumi hands numbers to providers as floats; SCM wants integers.
        effective_time=int(props["years"]), domain_numbers=int(props["domain_numbers"]), order_number=1,
        agree_privacy_protection=True, is_auto_pay=True,
        primary_domain_type=("WILDCARD_DOMAIN" if props["domains"][0].startswith("*.") else "SINGLE_DOMAIN")
        if multi else None,
        single_domain_number=_whole(props.get("single_domain_number")),
        wildcard_domain_number=_whole(props.get("wildcard_domain_number")),
        enterprise_project_id=props.get("enterprise_project_id"),
        tags=[ScsResourceTag(key=k, value=v) for k, v in sorted(tags.items())])


def purchase_body_v2(props: Mapping[str, Any]) -> dict[str, Any]:
    """The v2 purchase body (seed 003), every field of it: one certificate of this entry's product. It carries
    no tags, nor anything else certfleet chooses: the marker is the journal stamp (docs/scm-v2.md)."""
    return {"cert_brand": props["brand"], "cert_type": props["type"], "domain_type": props["domain_type"],
            "effective_time": int(props["years"]), "domain_numbers": int(props["domain_numbers"]),
            "order_number": 1,  # one resource, one certificate
            "agree_privacy_protection": True}  # SCM buys only when it is true


def apply_body(props: Mapping[str, Any], csr: str) -> Any:
    """The ApplyCertificate body: the entry's names, applicant and validation method; `csr` is "scm" (SCM
    makes the key pair) or the PEM of the CSR to apply with."""
    from huaweicloudsdkscm.v3 import ApplyCertificateRequestBody

    applicant = props["applicant"]
    return ApplyCertificateRequestBody(
        domain=props["domains"][0], sans=";".join(props["domains"][1:]) or None,
        csr=None if csr == "scm" else csr,
        key_algorithm=props["key_algorithm"] if csr == "scm" else None,
        domain_method=props["validation"], ca_hash_algorithm=props.get("ca_hash_algorithm"),
        agree_privacy_protection=True,
        applicant_name=applicant["name"], applicant_phone=applicant["phone"], applicant_email=applicant["email"],
        contact_name=applicant.get("contact_name"), contact_phone=applicant.get("contact_phone"),
        contact_email=applicant.get("contact_email"), company_name=applicant.get("company_name"),
        company_unit=applicant.get("company_unit"), company_province=applicant.get("company_province"),
        company_city=applicant.get("company_city"), country=applicant.get("country"))


def certificate_inputs(spec: ScmCertificateSpec, huawei: HuaweiSpec, resource_tag: str) -> dict[str, Any]:
    """The provider's inputs for one certificate of the config model (fleet.py adds `journal`).

    `previous_resource_tags` and `listing_lag_seconds` (like `journal`) only steer the look before a purchase:
    not in INPUT_KEYS, so changing them is never a diff."""
    applicant = {k: v for k, v in vars(spec.applicant).items() if v is not None}
    return {
        "cert_name": spec.name,
        "resource_tag": resource_tag,
        "previous_resource_tags": [resource_identity(n) for n in spec.previous_names],
        "listing_lag_seconds": huawei.listing_lag_seconds,
        # Steer the purchase call only (not INPUT_KEYS): switching an existing certificate's api buys nothing.
        "api": spec.api,
        "project_id": huawei.project_id if spec.api == V2 else None,
        "region": huawei.region,
        "enterprise_project_id": huawei.enterprise_project_id,
        "brand": spec.brand,
        "type": spec.type,
        "domain_type": spec.domain_type,
        "years": spec.years,
        "domains": list(spec.domains),
        "domain_numbers": spec.domain_numbers,
        "single_domain_number": spec.single_domain_number,
        "wildcard_domain_number": spec.wildcard_domain_number,
        "validation": spec.validation,
        "csr": spec.csr,
        "key_algorithm": spec.key_algorithm,
        "ca_hash_algorithm": spec.ca_hash_algorithm,
        "applicant": applicant,
        "tags": dict(spec.tags),
        "on_destroy": spec.on_destroy,
        "validation_record_timeout_seconds": huawei.validation_record_timeout_seconds,
        "issued_timeout_seconds": huawei.issued_timeout_seconds,
        "delete_timeout_seconds": huawei.delete_timeout_seconds,
        "adopt_id": spec.adopt,
        "replace_adopted": spec.replace_adopted,
    }
