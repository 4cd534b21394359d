"""State and rules of the SCM emulator: certificates from purchase to issuance, imports and tags.

Lifecycle of a purchased certificate (statuses as the API reports them):

    buy -> PAID --apply--> CHECKING --(challenge published, validation wait over)--> ISSUED --> EXPIRED
                              |  `--control "reject"--> UNPASSED --apply--> CHECKING ...
                              `--cancel-cert--> CANCELCHECKING --(review wait over)--> PAID
    (cancel-cert also from CHECKING_ORG and SUPPLEMENTCHECKING, which only the control API reaches; a refused
    withdrawal goes back to the status it was asked in)

Refunds (unsubscribe) only for PAID or REVOKED within 7 days of payment; DELETE only for ISSUED, UPLOAD
(hosted) and EXPIRED, the states the CCM user guide lists (reference/huawei-scm.md A4); anything else is
400 SCM.0010.

Transitions that the real CA makes on its own happen lazily, on the next read (moto's pattern), using
the injected clock. Modules: this one holds the settings, the certificate record and the backend's
operations (purchase, apply, read, refund, delete, import); the state machine, the application's rules and
the control hooks that play the CA are in lifecycle.py; the listing, the tag index (and its lag) and the
views the answers are made of, in listings.py. ScmBackend inherits both.

Accounts: every access key belongs to an account (domain id); a certificate belongs to the account whose key
bought or imported it. Another account's certificate does not exist for a caller (404 SCM.0020, empty
listings), as on the real service, where the key pair decides the account. Key pairs of other (or the same)
accounts are added through the control API. Not emulated: the real pre-PAID order state (orders are paid at
once unless a setting makes a new order show a stand-in status, or 404, for a few reads), multi-year
re-issuance, revocation, push/deploy, CSR management, SM2 certificates, IP-address certificates,
organisation checks as a separate step (OV/EV are issued like DV once the challenge is published).
"""

import random
import string
from dataclasses import asdict, dataclass, field, fields

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from emulators.core.ca import EmulatorCA, describe_certificate, private_key_matches
from emulators.core.clock import Clock
from emulators.core.dns_check import parse_resolver
from emulators.scm import validation
from emulators.scm.exceptions import CertificateNotFound, CertificateParseFailed, ChainParseFailed, \
    InvalidCertificateName, InvalidParameter, KeyMismatch, NoPrivilege, NotPemCertificate, OperationNotAllowed, \
    PrivateKeyParseFailed
from emulators.scm.lifecycle import APPLICABLE_STATUSES, DELETABLE_STATUSES, DEPLOYABLE_STATUSES, \
    GENERATED_KEY_TYPES, ORDER_PROCESSING, REFUND_WINDOW, REFUNDABLE_STATUSES, WITHDRAWABLE_STATUSES, \
    CertificateLifecycle, _challenge_records, _parse, _signature_algorithm_name, _unique
from emulators.scm.listings import CertificateListings


@dataclass
class ScmSettings:
    """Knobs that tests turn through the control API."""

    validation_wait_seconds: float = 0.0  # after the challenge is published, until the CA issues
    cancel_review_seconds: float = 0.0  # CANCELCHECKING -> PAID
    refuse_withdrawals: float = 0.0  # 1: the review refuses withdrawals (CANCELCHECKING -> CHECKING)
    # A new order reports `order_processing_status` (stand-in for the undocumented pre-PAID status) in this
    # many ShowCertificate answers before it is PAID.
    order_processing_reads: float = 0.0
    order_processing_status: str = ORDER_PROCESSING  # e.g. "", "WAIT_PAY", "PAYING": none is documented
    # A new order answers 404 SCM.0020 to its first this many ShowCertificate calls (not registered yet).
    order_not_found_reads: float = 0.0
    # A new order is missing from this many ListCertificatesByTag answers (a lagging tag index).
    tag_index_lag_reads: float = 0.0
    # A new order's tags are missing from this many ListTagsByCertificate answers (tags sent with the buy not
    # visible anywhere yet; Terraform tags only after PAID, so nothing says when they appear).
    purchase_tags_lag_reads: float = 0.0
    # "HOST:PORT" of a DNS server (`--dns-resolver`): a DNS challenge counts as published once it serves every
    # TXT record of the application ("": only the control call publish). Configuration: a restart applies the flag.
    dns_resolver: str = ""


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
    processing_reads: int = 0  # ShowCertificate answers left in the pre-PAID stand-in status
    not_found_reads: int = 0  # ShowCertificate answers left that say 404
    tag_lag_reads: int = 0  # ListCertificatesByTag answers left that miss this certificate
    tags_lag_reads: int = 0  # ListTagsByCertificate answers left that show no tags
    withdrawn_from: str = ""  # the status cancel-cert was asked in (a refused withdrawal goes back to it)
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


class ScmBackend(CertificateLifecycle, CertificateListings):
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
        # The DNS server's address is the flag's, not the saved one: it may listen elsewhere after a restart.
        self.settings = ScmSettings(**{**state.get("settings", {}),
                                       "dns_resolver": self._default_settings.dns_resolver})
        self.access_keys.clear()
        self.access_keys.update({**{ak: dict(key) for ak, key in self._configured_keys.items()},
                                 **state.get("access_keys", {})})
        known = {f.name for f in fields(Certificate)}
        self.certificates = {}
        for data in state.get("certificates", []):
            certificate = Certificate(**{key: value for key, value in data.items() if key in known})
            self.certificates[certificate.id] = certificate

    # --- accounts -------------------------------------------------------------------------------

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

    # --- purchase -------------------------------------------------------------------------------

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
                not_found_reads=int(self.settings.order_not_found_reads),
                tag_lag_reads=int(self.settings.tag_index_lag_reads),
                tags_lag_reads=int(self.settings.purchase_tags_lag_reads), domain_id=account or self.domain_id)
            if certificate.processing_reads:
                certificate.status = self.settings.order_processing_status
            self.certificates[certificate_id] = certificate
            created.append({"cert_id": certificate_id})
        return {"order_id": order_id, "cert": created}

    def check_project(self, project_id: str) -> None:
        if project_id != self.project_id:
            raise NoPrivilege(f"tenant has no privilege on project {project_id}")

    # --- apply / cancel -------------------------------------------------------------------------

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
        if certificate.status not in WITHDRAWABLE_STATUSES:
            raise OperationNotAllowed(f"no application under review (status {certificate.status})")
        certificate.withdrawn_from = certificate.status
        certificate.cancel_requested_at = self._now_text()
        self._set_status(certificate, "CANCELCHECKING")
        return {"cert_id": certificate.id, "message": "success"}

    # --- read -----------------------------------------------------------------------------------

    def get(self, certificate_id: str) -> Certificate:
        certificate = self.certificates.get(certificate_id)
        if certificate is None:
            raise CertificateNotFound(certificate_id)
        self._advance(certificate)
        return certificate

    def show(self, certificate_id: str) -> dict:
        """ShowCertificate's view; counts down a new order's 404 answers, then its pre-PAID answers."""
        certificate = self.get(certificate_id)
        if certificate.not_found_reads > 0:
            certificate.not_found_reads -= 1
            raise CertificateNotFound(certificate_id)
        view = self.show_view(certificate)
        if certificate.processing_reads > 0:
            certificate.processing_reads -= 1
            if certificate.processing_reads <= 0:
                self._set_status(certificate, "PAID")
        return view

    def export(self, certificate_id: str) -> dict:
        certificate = self.get(certificate_id)
        if certificate.status not in DEPLOYABLE_STATUSES:
            raise OperationNotAllowed(f"only issued or uploaded certificates can be exported "
                                      f"(status {certificate.status})")
        return {"entire_certificate": certificate.certificate_pem + certificate.chain_pem,
                "certificate": certificate.certificate_pem,
                "certificate_chain": certificate.chain_pem,
                "private_key": certificate.private_key_pem}

    # --- refund and delete ----------------------------------------------------------------------

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
            raise OperationNotAllowed(f"cannot delete a certificate in status {certificate.status}: only issued, "
                                      "hosted or expired certificates can be deleted (unsubscribe a paid or "
                                      "revoked one within 7 days of payment instead)")
        del self.certificates[certificate.id]

    # --- import ---------------------------------------------------------------------------------

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

    # --- settings and ids -----------------------------------------------------------------------

    def update_settings(self, changes: dict) -> ScmSettings:
        for name, value in changes.items():
            if name not in ScmSettings.__dataclass_fields__:
                raise ValueError(f"unknown setting {name!r}")
            if isinstance(getattr(ScmSettings(), name), str):
                if not isinstance(value, str):
                    raise ValueError(f"{name} must be a string")
                if name == "dns_resolver":
                    parse_resolver(value)  # ValueError for a bad one
                setattr(self.settings, name, value)
                continue
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name} must be a number >= 0")
            setattr(self.settings, name, float(value))
        return self.settings

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


# --- module helpers -----------------------------------------------------------------------------

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


def _domain_type_of(names: list[str]) -> str:
    if len(names) > 1:
        return "MULTI_DOMAIN"
    return "WILDCARD" if names and validation.is_wildcard(names[0]) else "SINGLE_DOMAIN"
