"""The SCM emulator's state machine: how a purchased certificate moves from PAID through an application to
ISSUED (or UNPASSED, or back to PAID after a withdrawal), the rules an application must pass, and the control
hooks with which tests play the CA.

Transitions that the real CA makes on its own happen lazily, on the next read (moto's pattern), using the
injected clock: `_advance`. With the setting `dns_resolver` (`--dns-resolver HOST:PORT`) that read also asks
the DNS server for a DNS challenge's records (emulators/core/dns_check.py), so publishing them publishes it.
CertificateLifecycle is mixed into ScmBackend (models.py), which supplies `clock`, `ca`, `settings` and `get`.
"""

from __future__ import annotations

import datetime
import random
import string
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.x509.oid import SignatureAlgorithmOID

from emulators.core.ca import csr_names, describe_certificate, generate_key_and_csr, load_csr
from emulators.core.dns_check import txt_records_served
from emulators.scm import validation
from emulators.scm.exceptions import DomainsDoNotMatchPurchase, InvalidParameter, OperationNotAllowed

if TYPE_CHECKING:
    from emulators.scm.models import Certificate

# A purchased certificate may be refunded (unsubscribed) within 7 days of payment.
REFUND_WINDOW = datetime.timedelta(days=7)
# Multi-year orders are stacked one-year certificates; each issued certificate is valid for a year.
ISSUED_VALIDITY = datetime.timedelta(days=365)
DEPLOYABLE_STATUSES = ("ISSUED", "UPLOAD")
# The guide lists Expired, Hosted (UPLOAD) and Issued as deletable; REVOKED is not listed: refused.
DELETABLE_STATUSES = ("ISSUED", "UPLOAD", "EXPIRED")
# cancel-cert withdraws an application pending domain or organisation verification, or an addition of
# names under CA review (the guide's three states, mapped to statuses by inference; reference A4).
WITHDRAWABLE_STATUSES = ("CHECKING", "CHECKING_ORG", "SUPPLEMENTCHECKING")
# Refunds (CCM user guide): not applied for, or application withdrawn (both PAID), or revoked within
# the 7 days (revocation is not emulated). An issued certificate is never refunded.
REFUNDABLE_STATUSES = ("PAID", "REVOKED")
APPLICABLE_STATUSES = ("PAID", "UNPASSED")
# The real pre-PAID status is undocumented (Terraform polls until PAID); the emulator's default stand-in.
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


class CertificateLifecycle:
    """Transitions and application rules of ScmBackend (see the module docstring)."""

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
        certificate.processing_reads = 0  # a forced status is final until the next transition
        if status == "CANCELCHECKING" and not certificate.cancel_requested_at:
            certificate.cancel_requested_at = self._now_text()  # the review wait runs from now
        self._set_status(certificate, status)
        return certificate

    # --- transitions ----------------------------------------------------------------------------

    def _get_for_control(self, certificate_id: str, required_status: str) -> Certificate:
        certificate = self.get(certificate_id)
        if certificate.status != required_status:
            raise OperationNotAllowed(f"expected status {required_status}, found {certificate.status}")
        return certificate

    def _advance(self, certificate: Certificate) -> None:
        """Apply the transitions the CA would have made by now."""
        now = self.clock.now()
        if certificate.status == "CHECKING" and not certificate.challenge_published \
                and self._dns_challenge_served(certificate):
            certificate.challenge_published = True  # the CA saw every record, as after the control call publish
        if certificate.status == "CHECKING" and certificate.challenge_published and \
                now >= _parse(certificate.checking_since) + _seconds(self.settings.validation_wait_seconds):
            self._issue(certificate)
        elif certificate.status == "CANCELCHECKING" and \
                now >= _parse(certificate.cancel_requested_at) + _seconds(self.settings.cancel_review_seconds):
            if self.settings.refuse_withdrawals:
                # Withdrawal refused: the application stays under review where it was.
                self._set_status(certificate, certificate.withdrawn_from or "CHECKING")
            else:
                # Withdrawal approved: back to PAID, ready for a new application (e.g. another method).
                _clear_application(certificate)
                self._set_status(certificate, "PAID")
        if certificate.status in ("ISSUED", "UPLOAD") and certificate.not_after \
                and now > _parse(certificate.not_after):
            self._set_status(certificate, "EXPIRED")

    def _dns_challenge_served(self, certificate: Certificate) -> bool:
        """With the setting `dns_resolver`: every TXT record of a DNS application is served there (records of one
        name, e.g. of `*.example.com` and `example.com`, together). EMAIL still needs the control call."""
        records = [(r["record_name"], r["record_value"]) for r in certificate.authentification
                   if r.get("record_type") == "TXT"]
        return certificate.validation_method == "DNS" and txt_records_served(self.settings.dns_resolver, records)

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

    def _set_status(self, certificate: Certificate, status: str) -> None:
        certificate.status = status
        certificate.updated_at = self._now_text()

    def _now_text(self) -> str:
        return self.clock.now().isoformat()

    # --- application rules ----------------------------------------------------------------------

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


# --- module helpers -----------------------------------------------------------------------------

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


def _clear_application(certificate: Certificate) -> None:
    certificate.domain, certificate.sans, certificate.validation_method = "", [], ""
    certificate.application_info, certificate.authentification = {}, []
    certificate.csr_pem, certificate.key_algorithm = "", ""
    certificate.challenge_published = False
    certificate.checking_since = certificate.cancel_requested_at = None
    certificate.withdrawn_from = ""


def _signature_algorithm_name(certificate_pem: str) -> str:
    oid = x509.load_pem_x509_certificate(certificate_pem.encode()).signature_algorithm_oid
    return _SIGNATURE_ALGORITHM_NAMES.get(oid, oid.dotted_string)


def _unique(names: list[str]) -> list[str]:
    return list(dict.fromkeys(names))


def _parse(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text)


def _seconds(value: float) -> datetime.timedelta:
    return datetime.timedelta(seconds=value)
