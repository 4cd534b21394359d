"""CAS order states and what certfleet tells the user about them: the provider's output texts.

Apart from cas.py because they are pure: the DescribeCertificateState types certfleet acts on (pending, dead,
key_mismatch, names_mismatch: unusable_certificate), the challenge to publish (challenge_of), the
`status_message` output for each state (status_message) and how an order's recorded owner reads in a message
(owner_text). No SDK call here; the lifecycle that picks a state is in cas.py's docstring.
"""

from __future__ import annotations

from typing import Any, Mapping

from components import keys
from components.alicloud.candidates import certificate_covers_names

PENDING_STATES = ("domain_verify", "process")
# Orders that can never be issued any more: the next `pulumi up` replaces them. Not `unknow`: such an order
# may be alive, so certfleet neither replaces nor deletes it.
DEAD_STATES = ("verify_fail", "payed")
# The issued certificate does not carry the configured CSR's key: nothing recorded (see cas._outputs).
KEY_MISMATCH = "key_mismatch"
# An adopted order's certificate is not for every entry name with the primary name as CN: nothing recorded.
NAMES_MISMATCH = "names_mismatch"


def unusable_certificate(certificate: str, props: Mapping[str, Any]) -> str | None:
    """KEY_MISMATCH when an issued certificate does not carry the configured CSR's key; NAMES_MISMATCH when the
    order was adopted (found in the list by its primary name, or by id) and the certificate does not cover the
    entry's names with the primary name as CN (extra names are fine: CAS may add a free one); else None.
    Raises ValueError for a certificate that does not parse."""
    if props.get("csr_pem") and not keys.certificate_matches_key(certificate, props["csr_pem"]):
        return KEY_MISMATCH
    if props.get("adopted") and not certificate_covers_names(certificate, list(props["domains"])):
        return NAMES_MISMATCH
    return None


def issued_of(state: Any | None) -> tuple[str | None, str | None]:
    """(certificate, CAS's key) from a DescribeCertificateState body: both once issued (`certificate`: the leaf
    followed by its chain; the key only when CAS made it), else (None, None). Also what the DNS validation
    (components/dns/validation.py) outputs, from the same call."""
    if state is None or (state.type or "").lower() != "certificate" or not state.certificate:
        return None, None
    return state.certificate, state.private_key or None


def challenge_of(state: Any, domains: list[str]) -> dict[str, Any] | None:
    """The DNS record or file to publish, from a DescribeCertificateState body in domain_verify."""
    if (state.type or "").lower() != "domain_verify":
        return None
    base = domains[0].removeprefix("*.")
    if (state.validate_type or "").upper() == "FILE" or state.uri:
        if not (state.uri and state.content):
            return None  # CAS has not published the challenge yet (it may lag the order)
        domain = state.domain or base
        return {"type": "FILE", "domain": domain, "uri": state.uri, "content": state.content,
                "url": f"http://{domain}{state.uri}"}
    if not state.record_value:
        return None  # CAS has not published the challenge yet
    # RecordDomain comes as a full name (`_dnsauth.example.cn`) or a short one (`_dnsauth`): the same record.
    record = (state.record_domain or "_dnsauth").rstrip(".").lower()
    name = record if record == base or record.endswith("." + base) else f"{record}.{base}"
    return {"type": "DNS", "record_type": state.record_type or "TXT", "name": name, "value": state.record_value}


def status_message(state: str, challenge: Mapping[str, Any] | None, revoke_on_delete: bool,
                   not_after: str | None, adopted: bool = False, by_id: bool = False) -> str:
    if by_id and state in (KEY_MISMATCH, NAMES_MISMATCH):
        return _state_message(state, challenge, revoke_on_delete, not_after, False)  # never revoked: no flag
    if by_id:  # revoke_on_delete: the entry's own flag (entry_revoke_on_delete) for an order adopted by id
        message = _state_message(state, challenge, revoke_on_delete, not_after, False)
        if state == "payed":
            message = ("bought, not applied for (payed): apply for the certificate of this order in the CAS "
                       "console; `pulumi up --refresh` then follows it (certfleet never buys a new order for it)")
        if state == "certificate":
            return message  # revoke_on_delete is the entry's own for an order adopted by id (config)
        return message + ("; adopted by id: destroy keeps this order unless the entry says revokeOnDelete: true"
                          if not revoke_on_delete else "; adopted by id, and the entry says revokeOnDelete: true")
    message = _state_message(state, challenge, revoke_on_delete, not_after, adopted)
    if adopted and state != "certificate":
        message += ("; adopted after an interrupted run: certfleet cannot prove it placed this order, so destroy "
                    "never cancels, deletes or revokes it")
    return message


def _state_message(state: str, challenge: Mapping[str, Any] | None, revoke_on_delete: bool,
                   not_after: str | None, adopted: bool) -> str:
    if state == "certificate":
        keep = ("destroy keeps it (an adopted order is never revoked, whatever revokeOnDelete says)" if adopted
                else "destroy revokes it (revokeOnDelete: true)" if revoke_on_delete
                else "destroy keeps it (set revokeOnDelete: true to revoke it instead)")
        return f"issued, expires {not_after}; {keep}"
    if state == "domain_verify":
        if not challenge:
            return "CAS has not published the validation challenge yet; run `pulumi up --refresh`"
        where = (f"DNS {challenge['record_type']} record {challenge['name']} = {challenge['value']}"
                 if challenge["type"] == "DNS" else f"the file {challenge['url']} with the given content")
        return f"waiting for domain validation: publish {where}, then `pulumi up --refresh`"
    if state == "process":
        return "validated; the CA is reviewing the order; `pulumi up --refresh` picks up the certificate"
    if state == "verify_fail":
        return ("the CA rejected the order (verify_fail): the next `pulumi up` deletes it (the plan unit comes "
                "back) and places a new one")
    if state == "payed":
        return ("CAS shows the order as bought, not applied for (payed): it was cancelled outside certfleet, or "
                "CAS has not taken the application yet (`pulumi up --refresh` reads it again); the next `pulumi "
                "up` replaces it while it stays payed")
    if state == KEY_MISMATCH:
        return ("CAS issued a certificate that does not carry the key of the configured CSR, so certfleet "
                "recorded nothing (and never revokes it): the order is probably someone else's, placed with "
                "another CSR. Look at the order in the CAS console; `pulumi up --replace` on this resource "
                "orders a certificate for your CSR and keeps this one")
    if state == NAMES_MISMATCH:
        return ("CAS issued this adopted order's certificate for names that do not cover the entry's names (or "
                "whose CN is not the primary name), so certfleet recorded nothing and never revokes it: the order, "
                "found by its primary name, is probably someone else's. Look at the order in the CAS console; "
                "`pulumi up --replace` on this resource orders a certificate for the entry and keeps this one "
                "(for an order adopted by id, set `replaceAdopted: true` first)")
    if state == "unknow":
        return ("CAS reports the order's state as unknown (unknow): it may still be alive, so certfleet neither "
                "replaces nor deletes it; look at the order in the CAS console (if it was revoked, "
                "`pulumi state delete` this resource and `pulumi up` orders again)")
    return state


def owner_text(owner: Mapping[str, Any] | None) -> str:
    if not isinstance(owner, Mapping):
        return "credentials this state does not record (it was written by an older certfleet)"
    return f"endpoint {owner.get('endpoint')} with access key fingerprint {owner.get('key')}"
