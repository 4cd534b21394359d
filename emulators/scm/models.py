"""State and rules of the SCM emulator: certificates from purchase to issuance, imports and tags.

Lifecycle of a purchased certificate (statuses as the API reports them):

    buy -> PAID --apply--> CHECKING --(challenge published, validation wait over)--> ISSUED --> EXPIRED
                              |  `--control "reject"--> UNPASSED --apply--> CHECKING ...
                              `--cancel-cert--> CANCELCHECKING --(review wait over)--> PAID

Transitions that the real CA makes on its own happen lazily, on the next read (moto's pattern), using
the injected clock.

Accounts: every access key belongs to an account (domain id); a certificate belongs to the account whose key
bought or imported it. Another account's certificate does not exist for a caller (404 SCM.0020, empty
listings), as on the real service, where the key pair decides the account. Key pairs of other (or the same)
accounts are added through the control API. Not emulated: the pre-PAID order state (orders are paid at once), multi-year
re-issuance, revocation, push/deploy, CSR management, SM2 certificates, IP-address certificates,
organisation checks as a separate step (OV/EV are issued like DV once the challenge is published).
"""

import datetime
import random
import string
from dataclasses import asdict, dataclass, field, fields

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import SignatureAlgorithmOID

from emulators.core.ca import EmulatorCA, csr_names, describe_certificate, generate_key_and_csr, \
    load_csr, private_key_matches
from emulators.core.clock import Clock
from emulators.scm import validation
from emulators.scm.exceptions import CertificateNotFound, CertificateParseFailed, ChainParseFailed, \
    DomainsDoNotMatchPurchase, InvalidCertificateName, InvalidParameter, KeyMismatch, NoPrivilege, \
    NotPemCertificate, OperationNotAllowed, PrivateKeyParseFailed

# A purchased certificate may be refunded (unsubscribed) within 7 days of payment.
REFUND_WINDOW = datetime.timedelta(days=7)
# Multi-year orders are stacked one-year certificates; each issued certificate is valid for a year.
ISSUED_VALIDITY = datetime.timedelta(days=365)
# The date format of the list's `expire_time` example ("2021-05-27 16:46:25.0"), used for every date.
DATE_FORMAT = "%Y-%m-%d %H:%M:%S.0"
DEPLOYABLE_STATUSES = ("ISSUED", "UPLOAD")
DELETABLE_STATUSES = ("ISSUED", "UPLOAD", "EXPIRED", "REVOKED")
# Refunds (CCM user guide): not applied for, or application withdrawn (both PAID), or revoked within
# the 7 days (revocation is not emulated). An issued certificate is never refunded.
REFUNDABLE_STATUSES = ("PAID", "REVOKED")
APPLICABLE_STATUSES = ("PAID", "UNPASSED")
# The real pre-PAID status is undocumented (Terraform polls until PAID); the emulator's stand-in.
ORDER_PROCESSING = "ORDER_PROCESSING"
# Key algorithms the emulator can generate keys for (SM2 is accepted by the API but not emulated).
GENERATED_KEY_TYPES = {"RSA_2048": ("RSA", 2048), "RSA_3072": ("RSA", 3072), "RSA_4096": ("RSA", 4096),
                       "EC_P256": ("EC", 256), "EC_P384": ("EC", 384)}
_SIGNATURE_ALGORITHM_NAMES = {
    SignatureAlgorithmOID.RSA_WITH_SHA256: "SHA256WITHRSA",
    SignatureAlgorithmOID.RSA_WITH_SHA384: "SHA384WITHRSA",
    SignatureAlgorithmOID.ECDSA_WITH_SHA256: "SHA256WITHECDSA",
    SignatureAlgorithmOID.ECDSA_WITH_SHA384: "SHA384WITHECDSA",
}


@dataclass
class ScmSettings:
    """Knobs that tests turn through the control API."""

    validation_wait_seconds: float = 0.0  # after the challenge is published, until the CA issues
    cancel_review_seconds: float = 0.0  # CANCELCHECKING -> PAID
    refuse_withdrawals: float = 0.0  # 1: the review refuses withdrawals (CANCELCHECKING -> CHECKING)
    # A new order reports ORDER_PROCESSING (stand-in for the undocumented pre-PAID status) in this many
    # ShowCertificate answers before it is PAID.
    order_processing_reads: float = 0.0
    # A new order is missing from this many ListCertificatesByTag answers (a lagging tag index).
    tag_index_lag_reads: float = 0.0


@dataclass
class Certificate:
    id: str
    order_id: str
    status: str
    source: str  # "purchase" or "import"
    api_version: str  # "v3" or "v2" (the purchase call that created it)
    created_at: str  # every time is stored as ISO 8601 (emulator clock) and formatted in views
    updated_at: str
    name: str = ""
    cert_brand: str = ""
    cert_type: str = ""
    domain_type: str = ""
    effective_time: int = 0
    domain_numbers: int = 0
    primary_domain_type: str | None = None
    single_domain_number: int | None = None
    wildcard_domain_number: int | None = None
    enterprise_project_id: str = "0"
    project_id: str | None = None  # v2 purchases are project-scoped
    tags: dict[str, str] = field(default_factory=dict)
    # application
    domain: str = ""
    sans: list[str] = field(default_factory=list)
    validation_method: str = ""
    application_info: dict = field(default_factory=dict)
    key_algorithm: str = ""
    csr_pem: str = ""
    authentification: list[dict] = field(default_factory=list)
    challenge_published: bool = False
    checking_since: str | None = None
    cancel_requested_at: str | None = None
    fail_reason: str = ""
    processing_reads: int = 0  # ShowCertificate answers left in ORDER_PROCESSING
    tag_lag_reads: int = 0  # ListCertificatesByTag answers left that miss this certificate
    # issued or imported
    certificate_pem: str = ""
    chain_pem: str = ""
    private_key_pem: str = ""
    issue_time: str | None = None
    not_before: str | None = None
    not_after: str | None = None
    fingerprint: str = ""
    signature_algorithm: str = ""
    domain_id: str = ""  # the owning account; "" (state saved before accounts existed): the default account

    def names(self) -> list[str]:
        return _unique([self.domain, *self.sans]) if self.domain else []


class ScmBackend:
    """All SCM state of one account. The server serialises calls, so no locking here."""

    def __init__(self, clock: Clock, ca: EmulatorCA, domain_id: str, project_id: str,
                 settings: ScmSettings | None = None, credentials: dict[str, str] | None = None):
        self.clock = clock
        self.ca = ca
        self.domain_id = domain_id  # the default account: the configured keys' and the tokens'
        self.project_id = project_id
        self._default_settings = settings or ScmSettings()
        self.settings = ScmSettings(**asdict(self._default_settings))
        self.certificates: dict[str, Certificate] = {}
        # access key -> {"secret_key", "domain_id"}; the configured keys, plus those added by the control API
        self._configured_keys = {ak: {"secret_key": sk, "domain_id": domain_id}
                                 for ak, sk in (credentials or {}).items()}
        self.access_keys = {ak: dict(key) for ak, key in self._configured_keys.items()}

    # --- persistence (core Backend protocol) ----------------------------------------------------

    def reset(self) -> None:
        self.certificates.clear()
        self.settings = ScmSettings(**asdict(self._default_settings))
        self.access_keys.clear()
        self.access_keys.update({ak: dict(key) for ak, key in self._configured_keys.items()})

    def to_state(self) -> dict:
        return {"settings": asdict(self.settings),
                "certificates": [asdict(certificate) for certificate in self.certificates.values()],
                "access_keys": self.access_keys}

    def load_state(self, state: dict) -> None:
        self.settings = ScmSettings(**state.get("settings", {}))
        self.access_keys.clear()
        self.access_keys.update({**{ak: dict(key) for ak, key in self._configured_keys.items()},
                                 **state.get("access_keys", {})})
        known = {f.name for f in fields(Certificate)}
        self.certificates = {}
        for data in state.get("certificates", []):
            certificate = Certificate(**{key: value for key, value in data.items() if key in known})
            self.certificates[certificate.id] = certificate

    # --- accounts ------------------------------------------------------------------------------

    def add_access_key(self, access_key: str, secret_key: str, domain_id: str) -> None:
        """A key pair of another account (or another key of an existing one)."""
        for name, value in (("ak", access_key), ("sk", secret_key), ("domain_id", domain_id)):
            if not isinstance(value, str) or not value:
                raise ValueError(f"{name} must be a non-empty string")
        self.access_keys[access_key] = {"secret_key": secret_key, "domain_id": domain_id}

    def account_of(self, access_key: str | None) -> str:
        """The account a caller acts as: its key's, or the default account for a bare token."""
        return self.access_keys[access_key]["domain_id"] if access_key in self.access_keys else self.domain_id

    def owner(self, certificate: Certificate) -> str:
        return certificate.domain_id or self.domain_id

    def owned(self, certificate_id: str, account: str) -> Certificate:
        """`get`, for a caller of `account`: another account's certificate is not found."""
        certificate = self.certificates.get(certificate_id)
        if certificate is None or self.owner(certificate) != account:
            raise CertificateNotFound(certificate_id)
        return self.get(certificate_id)

    def _visible(self, account: str | None) -> list[Certificate]:
        """The certificates `account` sees (None: every account's, for the control API)."""
        return [c for c in self.certificates.values() if account is None or self.owner(c) == account]

    # --- purchase ------------------------------------------------------------------------------

    def buy(self, order: dict, api_version: str = "v3", project_id: str | None = None,
            account: str | None = None) -> dict:
        """Create `order_number` paid certificates under one order (validated by validation.py)."""
        now = self._now_text()
        order_id = order.get("order_id") or self._new_order_id()
        created = []
        for _ in range(order["order_number"]):
            certificate_id = self._new_certificate_id()
            certificate = Certificate(
                id=certificate_id, order_id=order_id, status="PAID", source="purchase",
                api_version=api_version, created_at=now, updated_at=now, name=certificate_id,
                cert_brand=order["cert_brand"], cert_type=order["cert_type"], domain_type=order["domain_type"],
                effective_time=order["effective_time"], domain_numbers=order["domain_numbers"],
                primary_domain_type=order["primary_domain_type"],
                single_domain_number=order["single_domain_number"],
                wildcard_domain_number=order["wildcard_domain_number"],
                enterprise_project_id=order["enterprise_project_id"] or "0", project_id=project_id,
                tags=dict(order["tags"]), processing_reads=int(self.settings.order_processing_reads),
                tag_lag_reads=int(self.settings.tag_index_lag_reads), domain_id=account or self.domain_id)
            if certificate.processing_reads:
                certificate.status = ORDER_PROCESSING
            self.certificates[certificate_id] = certificate
            created.append({"cert_id": certificate_id})
        return {"order_id": order_id, "cert": created}

    def check_project(self, project_id: str) -> None:
        if project_id != self.project_id:
            raise NoPrivilege(f"tenant has no privilege on project {project_id}")

    # --- apply / cancel --------------------------------------------------------------------------

    def apply(self, certificate_id: str, body: dict) -> dict:
        certificate = self.get(certificate_id)
        if certificate.source != "purchase" or certificate.status not in APPLICABLE_STATUSES:
            raise OperationNotAllowed(f"cannot apply for a certificate in status {certificate.status}")
        form = validation.validate_apply_form(body, certificate.cert_type, certificate.cert_brand)
        names = self._check_application_names(certificate, form["domain"], form["sans"])
        # "Only pure-IP certificates support file validation" (and IP certificates are not emulated).
        if form["domain_method"] == "FILE":
            raise InvalidParameter("domain_method FILE is only available for IP-address certificates")
        csr_pem = self._check_csr(form["csr"], form["domain"]) if form["csr"] else ""
        if not csr_pem and form["key_algorithm"] not in GENERATED_KEY_TYPES:
            raise InvalidParameter(f"key_algorithm {form['key_algorithm']} is not emulated")

        certificate.domain = names[0]
        certificate.sans = names[1:]
        certificate.validation_method = form["domain_method"]
        certificate.application_info = {k: v for k, v in form["application_info"].items() if v is not None}
        certificate.key_algorithm = form["key_algorithm"]
        certificate.csr_pem = csr_pem
        certificate.authentification = _challenge_records(names, form["domain_method"])
        # auto_dns_auth: Huawei writes the records into its own DNS, so they count as published.
        certificate.challenge_published = form["auto_dns_auth"]
        certificate.checking_since = self._now_text()
        certificate.fail_reason = ""
        self._set_status(certificate, "CHECKING")
        return {"request_info": "success"}

    def cancel_application(self, certificate_id: str) -> dict:
        certificate = self.get(certificate_id)
        if certificate.status != "CHECKING":
            raise OperationNotAllowed(f"no application under review (status {certificate.status})")
        certificate.cancel_requested_at = self._now_text()
        self._set_status(certificate, "CANCELCHECKING")
        return {"cert_id": certificate.id, "message": "success"}

    # --- read ----------------------------------------------------------------------------------

    def get(self, certificate_id: str) -> Certificate:
        certificate = self.certificates.get(certificate_id)
        if certificate is None:
            raise CertificateNotFound(certificate_id)
        self._advance(certificate)
        return certificate

    def show(self, certificate_id: str) -> dict:
        """ShowCertificate's view; counts down a new order's ORDER_PROCESSING answers."""
        certificate = self.get(certificate_id)
        view = self.show_view(certificate)
        if certificate.status == ORDER_PROCESSING:
            certificate.processing_reads -= 1
            if certificate.processing_reads <= 0:
                self._set_status(certificate, "PAID")
        return view

    def list_certificates(self, query: dict, account: str | None = None) -> dict:
        for certificate in self.certificates.values():
            self._advance(certificate)
        selected = [c for c in self._visible(account) if self._matches_list_query(c, query)]
        selected.sort(key=_list_sort_key(query["sort_key"]), reverse=query["sort_dir"] == "DESC")
        page = selected[query["offset"]:query["offset"] + query["limit"]]
        return {"certificates": [self.list_view(c) for c in page], "total_count": len(selected)}

    def export(self, certificate_id: str) -> dict:
        certificate = self.get(certificate_id)
        if certificate.status not in DEPLOYABLE_STATUSES:
            raise OperationNotAllowed(f"only issued or uploaded certificates can be exported "
                                      f"(status {certificate.status})")
        return {"entire_certificate": certificate.certificate_pem + certificate.chain_pem,
                "certificate": certificate.certificate_pem,
                "certificate_chain": certificate.chain_pem,
                "private_key": certificate.private_key_pem}

    # --- refund and delete ---------------------------------------------------------------------

    def unsubscribe(self, certificate_id: str) -> dict:
        certificate = self.get(certificate_id)
        if certificate.source != "purchase":
            raise OperationNotAllowed("only purchased certificates can be unsubscribed")
        if certificate.status not in REFUNDABLE_STATUSES:
            raise OperationNotAllowed(f"cannot unsubscribe a certificate in status {certificate.status}")
        if self.clock.now() - _parse(certificate.created_at) > REFUND_WINDOW:
            raise OperationNotAllowed("the 7-day refund period after payment is over")
        # After a refund the certificate is gone: GET answers 404 (Terraform waits for exactly that).
        del self.certificates[certificate.id]
        return {"unsubscribe_results": "SUCCESS"}

    def delete(self, certificate_id: str) -> None:
        certificate = self.get(certificate_id)
        if certificate.status not in DELETABLE_STATUSES:
            raise OperationNotAllowed(f"cannot delete a certificate in status {certificate.status}; "
                                      "unsubscribe a paid certificate instead")
        del self.certificates[certificate.id]

    # --- import --------------------------------------------------------------------------------

    def import_certificate(self, body: dict, account: str | None = None) -> dict:
        form = validation.validate_import_form(body)
        if not validation.is_valid_import_name(form["name"]):
            raise InvalidCertificateName(form["name"])
        leaf_pem, chain_pem = _split_certificate_bundle(form["certificate"], form["certificate_chain"])
        private_key_pem = form["private_key"].strip() + "\n"
        try:
            serialization.load_pem_private_key(private_key_pem.encode(), password=None)
        except (ValueError, TypeError):  # TypeError: the key is protected by a passphrase
            raise PrivateKeyParseFailed() from None
        if not private_key_matches(private_key_pem, leaf_pem):
            raise KeyMismatch()
        info = describe_certificate(leaf_pem)
        if form["duplicate_check"] and any(c.fingerprint == info.sha1_fingerprint
                                           for c in self._visible(account or self.domain_id)):
            # Emulator choice: Huawei publishes no code for a refused duplicate upload.
            raise InvalidParameter("an identical certificate has already been uploaded")

        names = _unique([n for n in [info.common_name, *info.dns_names] if n])
        now = self._now_text()
        certificate = Certificate(
            id=self._new_certificate_id(), order_id="", status="UPLOAD", source="import", api_version="v3",
            created_at=now, updated_at=now, name=form["name"],
            domain_type=_domain_type_of(names), domain_numbers=len(names),
            enterprise_project_id=form["enterprise_project_id"] or "0",
            domain=names[0] if names else "", sans=names[1:],
            certificate_pem=leaf_pem, chain_pem=chain_pem, private_key_pem=private_key_pem,
            issue_time=now, not_before=info.not_before.isoformat(), not_after=info.not_after.isoformat(),
            fingerprint=info.sha1_fingerprint, signature_algorithm=_signature_algorithm_name(leaf_pem),
            domain_id=account or self.domain_id)
        self.certificates[certificate.id] = certificate
        return {"certificate_id": certificate.id}

    # --- tags ----------------------------------------------------------------------------------

    def set_tags(self, certificate_id: str, tags: dict[str, str]) -> None:
        certificate = self.get(certificate_id)
        merged = {**certificate.tags, **tags}
        if len(merged) > validation.MAX_TAGS_PER_CERTIFICATE:
            raise InvalidParameter(f"a certificate may have at most {validation.MAX_TAGS_PER_CERTIFICATE} tags")
        certificate.tags = merged
        certificate.updated_at = self._now_text()

    def delete_tags(self, certificate_id: str, tags: dict[str, str]) -> None:
        certificate = self.get(certificate_id)
        for key, value in tags.items():
            # An empty value deletes the key whatever its value; otherwise key and value must match.
            if key in certificate.tags and (value == "" or certificate.tags[key] == value):
                del certificate.tags[key]
        certificate.updated_at = self._now_text()

    def all_tags(self, account: str | None = None) -> list[dict]:
        values_by_key: dict[str, list[str]] = {}
        for certificate in self._visible(account):
            for key, value in certificate.tags.items():
                values = values_by_key.setdefault(key, [])
                if value not in values:
                    values.append(value)
        return [{"key": key, "values": values} for key, values in values_by_key.items()]

    def find_by_tags(self, criteria: dict, account: str | None = None) -> list[Certificate]:
        """Certificates matching list-by-tag criteria, oldest first (stable paging)."""
        for certificate in self.certificates.values():
            self._advance(certificate)
        found = [c for c in self._visible(account) if _matches_tag_criteria(c, criteria)]
        lagging = [c for c in found if c.tag_lag_reads > 0]
        for certificate in lagging:
            certificate.tag_lag_reads -= 1
        found = [c for c in found if c not in lagging]
        found.sort(key=lambda c: (c.created_at, c.id))
        return found

    # --- views ---------------------------------------------------------------------------------

    def show_view(self, certificate: Certificate) -> dict:
        return {
            "id": certificate.id, "status": certificate.status, "order_id": certificate.order_id,
            "name": certificate.name, "type": certificate.cert_type, "brand": certificate.cert_brand,
            "push_support": "true" if certificate.status in DEPLOYABLE_STATUSES else "false",
            "revoke_reason": "", "signature_algorithm": certificate.signature_algorithm,
            "issue_time": _display(certificate.issue_time), "not_before": _display(certificate.not_before),
            "not_after": _display(certificate.not_after), "validity_period": certificate.effective_time * 12,
            "validation_method": certificate.validation_method, "domain_type": certificate.domain_type,
            "multi_domain_type": _multi_domain_type(certificate), "domain": certificate.domain,
            "sans": ";".join(certificate.sans), "domain_count": certificate.domain_numbers,
            "wildcard_count": _wildcard_count(certificate), "fingerprint": certificate.fingerprint,
            "shared": False, "application_info": certificate.application_info or None,
            "description": "", "enterprise_project_id": certificate.enterprise_project_id,
            "authentification": [_public_record(r) for r in certificate.authentification],
        }

    def list_view(self, certificate: Certificate) -> dict:
        return {
            "id": certificate.id, "name": certificate.name, "domain": certificate.domain,
            "sans": ";".join(certificate.sans), "signature_algorithm": certificate.signature_algorithm,
            "deploy_support": certificate.status in DEPLOYABLE_STATUSES, "type": certificate.cert_type,
            "brand": certificate.cert_brand, "expire_time": _display(certificate.not_after),
            "domain_type": certificate.domain_type, "validity_period": certificate.effective_time * 12,
            "status": certificate.status, "domain_count": certificate.domain_numbers,
            "wildcard_count": _wildcard_count(certificate), "description": "",
            "domain_id": self.owner(certificate), "enterprise_project_id": certificate.enterprise_project_id,
        }

    def tag_resource_view(self, certificate: Certificate) -> dict:
        return {
            "resource_id": certificate.id, "resource_name": certificate.name,
            "tags": [{"key": k, "value": v} for k, v in certificate.tags.items()],
            "resource_detail": {
                "cert_id": certificate.id, "cert_name": certificate.name, "domain": certificate.domain,
                "cert_type": certificate.cert_type, "cert_brand": certificate.cert_brand,
                "domain_type": certificate.domain_type, "purchase_period": certificate.effective_time,
                "expired_time": _milliseconds(certificate.not_after), "order_status": certificate.status,
                "domain_num": certificate.domain_numbers, "wildcard_number": _wildcard_count(certificate),
                "sans": ";".join(certificate.sans), "partner_order_id": certificate.order_id,
                "push_support": certificate.status in DEPLOYABLE_STATUSES,
                "cert_issued_time": _milliseconds(certificate.issue_time), "resource_id": certificate.id,
                "unsubscribe_support": certificate.source == "purchase"
                and certificate.status in REFUNDABLE_STATUSES,
                "enterprise_project_id": certificate.enterprise_project_id,
            },
        }

    # --- control hooks (tests drive the CA side) ------------------------------------------------

    def publish_challenge(self, certificate_id: str) -> Certificate:
        """The DNS/FILE record (or the approval e-mail) is now in place; the CA will see it."""
        certificate = self._get_for_control(certificate_id, "CHECKING")
        certificate.challenge_published = True
        self._advance(certificate)
        return certificate

    def approve(self, certificate_id: str) -> Certificate:
        """Issue now, whatever the challenge and the validation wait."""
        certificate = self._get_for_control(certificate_id, "CHECKING")
        self._issue(certificate)
        return certificate

    def reject(self, certificate_id: str, reason: str) -> Certificate:
        certificate = self._get_for_control(certificate_id, "CHECKING")
        certificate.fail_reason = reason
        certificate.checking_since = None
        self._set_status(certificate, "UNPASSED")
        return certificate

    def force_status(self, certificate_id: str, status: str) -> Certificate:
        """Put a certificate in a status the emulator never reaches itself (SUPPLEMENTCHECKING, ...)."""
        if not isinstance(status, str) or not status:
            raise ValueError("status must be a non-empty string")
        certificate = self.get(certificate_id)
        self._set_status(certificate, status)
        return certificate

    def control_view(self, certificate: Certificate) -> dict:
        """Everything the API shows plus what only the emulator knows (never the private key itself)."""
        return {**self.show_view(certificate), "tags": dict(certificate.tags), "source": certificate.source,
                "api_version": certificate.api_version, "challenge_published": certificate.challenge_published,
                "fail_reason": certificate.fail_reason, "has_private_key": bool(certificate.private_key_pem),
                "csr_supplied": bool(certificate.csr_pem), "domain_numbers": certificate.domain_numbers,
                "account": self.owner(certificate),
                "single_domain_number": certificate.single_domain_number,
                "wildcard_domain_number": certificate.wildcard_domain_number}

    def update_settings(self, changes: dict) -> ScmSettings:
        for name, value in changes.items():
            if name not in ScmSettings.__dataclass_fields__:
                raise ValueError(f"unknown setting {name!r}")
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name} must be a number >= 0")
            setattr(self.settings, name, float(value))
        return self.settings

    # --- internals -----------------------------------------------------------------------------

    def _get_for_control(self, certificate_id: str, required_status: str) -> Certificate:
        certificate = self.get(certificate_id)
        if certificate.status != required_status:
            raise OperationNotAllowed(f"expected status {required_status}, found {certificate.status}")
        return certificate

    def _advance(self, certificate: Certificate) -> None:
        """Apply the transitions the CA would have made by now."""
        now = self.clock.now()
        if certificate.status == "CHECKING" and certificate.challenge_published and \
                now >= _parse(certificate.checking_since) + _seconds(self.settings.validation_wait_seconds):
            self._issue(certificate)
        elif certificate.status == "CANCELCHECKING" and \
                now >= _parse(certificate.cancel_requested_at) + _seconds(self.settings.cancel_review_seconds):
            if self.settings.refuse_withdrawals:
                # Withdrawal refused: the application stays under review.
                self._set_status(certificate, "CHECKING")
            else:
                # Withdrawal approved: back to PAID, ready for a new application (e.g. another method).
                _clear_application(certificate)
                self._set_status(certificate, "PAID")
        if certificate.status in ("ISSUED", "UPLOAD") and certificate.not_after \
                and now > _parse(certificate.not_after):
            self._set_status(certificate, "EXPIRED")

    def _issue(self, certificate: Certificate) -> None:
        names = certificate.names()
        if certificate.csr_pem:
            subject, private_key_pem = certificate.csr_pem, ""  # the customer kept the key
        else:
            key_type, key_size = GENERATED_KEY_TYPES[certificate.key_algorithm]
            private_key_pem, subject = generate_key_and_csr(names, key_type, key_size)
        issued = self.ca.issue(subject, names, not_after=self.clock.now() + ISSUED_VALIDITY)
        certificate.certificate_pem = issued.certificate_pem
        certificate.chain_pem = issued.chain_pem
        certificate.private_key_pem = private_key_pem
        certificate.issue_time = self._now_text()
        certificate.not_before = issued.not_before.isoformat()
        certificate.not_after = issued.not_after.isoformat()
        certificate.fingerprint = describe_certificate(issued.certificate_pem).sha1_fingerprint
        certificate.signature_algorithm = _signature_algorithm_name(issued.certificate_pem)
        certificate.checking_since = None
        self._set_status(certificate, "ISSUED")

    def _check_application_names(self, certificate: Certificate, domain: str, sans_text: str | None) -> list[str]:
        sans = validation.split_sans(sans_text)
        for name in [domain, *sans]:
            validation.check_domain_name(name, "domain" if name == domain else "sans")
            if validation.is_ip_address(name):
                raise InvalidParameter(f"{name}: IP-address certificates are not emulated")
        names = _unique([domain, *sans])
        domain_type = certificate.domain_type
        if domain_type != "MULTI_DOMAIN" and sans:
            raise DomainsDoNotMatchPurchase(f"a {domain_type} certificate takes no sans")
        if domain_type == "SINGLE_DOMAIN" and validation.is_wildcard(domain):
            raise DomainsDoNotMatchPurchase("a SINGLE_DOMAIN certificate cannot hold a wildcard name")
        if domain_type == "WILDCARD" and not validation.is_wildcard(domain):
            raise DomainsDoNotMatchPurchase("a WILDCARD certificate needs a name like *.example.com")
        if domain_type == "MULTI_DOMAIN":
            self._check_multi_domain_names(certificate, names)
        return names

    @staticmethod
    def _check_multi_domain_names(certificate: Certificate, names: list[str]) -> None:
        if len(names) > certificate.domain_numbers:
            raise DomainsDoNotMatchPurchase(f"{len(names)} names for {certificate.domain_numbers} purchased")
        primary, additional = names[0], names[1:]
        if certificate.primary_domain_type == "SINGLE_DOMAIN" and validation.is_wildcard(primary):
            raise DomainsDoNotMatchPurchase("the primary domain was bought as a single (non-wildcard) name")
        if certificate.primary_domain_type == "WILDCARD_DOMAIN" and not validation.is_wildcard(primary):
            raise DomainsDoNotMatchPurchase("the primary domain was bought as a wildcard name")
        if certificate.single_domain_number is None and certificate.wildcard_domain_number is None:
            return  # no split bought: any mix of names up to domain_numbers
        wildcards = sum(1 for name in additional if validation.is_wildcard(name))
        if wildcards > (certificate.wildcard_domain_number or 0):
            raise DomainsDoNotMatchPurchase(f"{wildcards} additional wildcard names, "
                                            f"{certificate.wildcard_domain_number or 0} purchased")
        if len(additional) - wildcards > (certificate.single_domain_number or 0):
            raise DomainsDoNotMatchPurchase(f"{len(additional) - wildcards} additional single names, "
                                            f"{certificate.single_domain_number or 0} purchased")

    @staticmethod
    def _check_csr(csr_pem: str, domain: str) -> str:
        try:
            csr = load_csr(csr_pem)
        except ValueError as error:
            raise InvalidParameter(f"csr cannot be parsed: {error}") from None
        common_name, dns_names = csr_names(csr)
        if domain != common_name and domain not in dns_names:
            raise InvalidParameter(f"the csr does not match the domain {domain}")
        return csr_pem.strip() + "\n"

    def _matches_list_query(self, certificate: Certificate, query: dict) -> bool:
        if query["status"] != "ALL" and certificate.status != query["status"]:
            return False
        project = query["enterprise_project_id"]
        if project not in (None, "all") and certificate.enterprise_project_id != project:
            return False
        if query["deploy_support"] and certificate.status not in DEPLOYABLE_STATUSES:
            return False
        if query["content"]:
            keyword = query["content"].lower()
            if keyword not in certificate.name.lower() and keyword not in certificate.domain.lower():
                return False
        if query["expired_days_since"] is not None and certificate.not_after:
            oldest = self.clock.now() - datetime.timedelta(days=query["expired_days_since"])
            if _parse(certificate.not_after) < oldest:
                return False
        return True  # owned_by_self: the emulator has no shared certificates

    def _set_status(self, certificate: Certificate, status: str) -> None:
        certificate.status = status
        certificate.updated_at = self._now_text()

    def _now_text(self) -> str:
        return self.clock.now().isoformat()

    def _new_certificate_id(self) -> str:
        # "scs" + 13 digits, like scs1554192131150 (path parameters are exactly 16 characters).
        while True:
            candidate = "scs" + "".join(random.choices(string.digits, k=13))
            if candidate not in self.certificates:
                return candidate

    def _new_order_id(self) -> str:
        # Like CS1803192259ROA8U: "CS", yymmddHHMM, five upper-case letters or digits.
        stamp = self.clock.now().strftime("%y%m%d%H%M")
        return "CS" + stamp + "".join(random.choices(string.ascii_uppercase + string.digits, k=5))


# --- module helpers ------------------------------------------------------------------------------

def _challenge_records(names: list[str], method: str) -> list[dict]:
    """The `authentification` records the CA asks for; DNS: a TXT record per name (emulator format)."""
    records = []
    for name in names:
        base = name[2:] if validation.is_wildcard(name) else name
        token = "".join(random.choices(string.ascii_lowercase + string.digits, k=32))
        if method == "DNS":
            records.append({"record_name": f"_dnsauth.{base}", "record_type": "TXT", "record_value": token,
                            "domain": name})
        elif method == "FILE":
            records.append({"record_name": f"http://{base}/.well-known/pki-validation/fileauth.txt",
                            "record_type": "FILE", "record_value": token, "domain": name})
        # EMAIL: the CA mails the domain's administrator; there is no record to publish.
    return records


def _public_record(record: dict) -> dict:
    return {key: record[key] for key in ("record_name", "record_type", "record_value", "domain")}


def _clear_application(certificate: Certificate) -> None:
    certificate.domain, certificate.sans, certificate.validation_method = "", [], ""
    certificate.application_info, certificate.authentification = {}, []
    certificate.csr_pem, certificate.key_algorithm = "", ""
    certificate.challenge_published = False
    certificate.checking_since = certificate.cancel_requested_at = None


def _split_certificate_bundle(certificate_text: str, chain_text: str | None) -> tuple[str, str]:
    """(leaf PEM, chain PEM). With an explicit chain only the bundle's first certificate is used."""
    if not certificate_text.strip().startswith("-----BEGIN CERTIFICATE-----"):
        raise NotPemCertificate()
    try:
        bundle = x509.load_pem_x509_certificates(certificate_text.strip().encode())
    except ValueError:
        raise CertificateParseFailed() from None
    pem = serialization.Encoding.PEM
    leaf_pem = bundle[0].public_bytes(pem).decode()
    if chain_text:
        try:
            chain = x509.load_pem_x509_certificates(chain_text.strip().encode())
        except ValueError:
            raise ChainParseFailed() from None
    else:
        chain = bundle[1:]
    return leaf_pem, "".join(c.public_bytes(pem).decode() for c in chain)


def _signature_algorithm_name(certificate_pem: str) -> str:
    oid = x509.load_pem_x509_certificate(certificate_pem.encode()).signature_algorithm_oid
    return _SIGNATURE_ALGORITHM_NAMES.get(oid, oid.dotted_string)


def _domain_type_of(names: list[str]) -> str:
    if len(names) > 1:
        return "MULTI_DOMAIN"
    return "WILDCARD" if names and validation.is_wildcard(names[0]) else "SINGLE_DOMAIN"


def _multi_domain_type(certificate: Certificate) -> str:
    if certificate.domain_type != "MULTI_DOMAIN" or certificate.primary_domain_type is None:
        return ""
    return "primary_wildcard" if certificate.primary_domain_type == "WILDCARD_DOMAIN" else "primary_single"


def _wildcard_count(certificate: Certificate) -> int:
    primary_is_wildcard = certificate.domain_type == "WILDCARD" or \
        certificate.primary_domain_type == "WILDCARD_DOMAIN"
    return (certificate.wildcard_domain_number or 0) + (1 if primary_is_wildcard else 0)


def _matches_tag_criteria(certificate: Certificate, criteria: dict) -> bool:
    tags = certificate.tags
    if criteria["without_any_tag"]:
        return not tags

    def has(key: str, values: list[str]) -> bool:
        # An empty value list means "has the key, any value".
        return key in tags and (not values or tags[key] in values)

    if criteria["tags"] and not all(has(k, v) for k, v in criteria["tags"]):
        return False
    if criteria["tags_any"] and not any(has(k, v) for k, v in criteria["tags_any"]):
        return False
    if criteria["not_tags"] and all(has(k, v) for k, v in criteria["not_tags"]):
        return False
    if criteria["not_tags_any"] and any(has(k, v) for k, v in criteria["not_tags_any"]):
        return False
    for key, value in criteria["matches"]:
        if key == "resource_name" and value.lower() not in certificate.name.lower():
            return False
    return True


def _list_sort_key(sort_key: str | None):
    never = datetime.datetime.min.replace(tzinfo=datetime.timezone.utc)  # not issued yet: sorts first
    if sort_key == "certExpiredTime":
        return lambda c: (_parse(c.not_after) if c.not_after else never, c.id)
    if sort_key == "certStatus":
        return lambda c: (c.status, c.id)
    if sort_key == "certUpdateTime":
        return lambda c: (_parse(c.updated_at), c.id)
    return lambda c: (_parse(c.created_at), c.id)


def _unique(names: list[str]) -> list[str]:
    return list(dict.fromkeys(names))


def _parse(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text)


def _seconds(value: float) -> datetime.timedelta:
    return datetime.timedelta(seconds=value)


def _display(text: str | None) -> str:
    """Stored ISO time -> the API's display format (UTC); "" when unknown, as the API does."""
    if not text:
        return ""
    return _parse(text).astimezone(datetime.timezone.utc).strftime(DATE_FORMAT)


def _milliseconds(text: str | None) -> str:
    # Tag resources report times as millisecond timestamps in strings.
    if not text:
        return ""
    return str(int(_parse(text).timestamp() * 1000))
