"""ACM as AWS has it, around moto's AWSCertificateManagerBackend.

`install(state)` wraps moto (once per process):
  delete_certificate    ResourceInUseException while a CloudFront distribution's ViewerCertificate uses it
  describe/list         InUseBy / InUse name those distributions (moto only knows load balancers);
                        a listing broken by a concurrent request or delete is walked again
  get_certificate       RequestInProgressException until the certificate is ISSUED
  describe (Serial)     the serial as ACM writes it: hex bytes joined by colons ("0c:6d:..."), not moto's decimal
  import_certificate    the key must match the certificate; the chain must start with the leaf's issuer
                        (no chain: the leaf must be self-signed); re-import keeps the tags, refuses Tags
                        and refuses a certificate ACM issued
and answers CloudFront's question "which names does this usable certificate have?" (`issued_names`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from moto.acm import models as acm_models
from moto.acm.exceptions import CertificateNotFound
from moto.acm.responses import AWSCertificateManagerResponse
from moto.cloudfront import models as cloudfront_models

from emulators.aws.exceptions import RequestInProgressException, ResourceInUseException, ValidationException
from emulators.core.ca import private_key_matches

if TYPE_CHECKING:
    from emulators.aws.models import EmulatorState

AcmBackend = acm_models.AWSCertificateManagerBackend
CLOUDFRONT_CERTIFICATE_REGION = "us-east-1"
CLOUDFRONT_ARN_PREFIX = "arn:aws:cloudfront:"

# AWS wording where known (the ACM import troubleshooting page); see COVERAGE.md for the others.
KEY_MISMATCH = "The private key does not match the public key in the certificate."
CHAIN_MISMATCH = "Could not validate the certificate with the certificate chain."
NOT_SELF_SIGNED = ("Provided certificate is not a valid self signed. Please provide either a valid self-signed "
                   "certificate or certificate chain.")
TAGS_ON_REIMPORT = "Tags cannot be applied to a certificate while it is being reimported."
NOT_IMPORTED = "Certificate {arn} was not imported: only an imported certificate can be reimported."


def install(state: "EmulatorState") -> None:
    if getattr(AcmBackend, "_certfleet_installed", False):
        return
    original_delete = AcmBackend.delete_certificate
    original_describe = AcmBackend.describe_certificate
    original_list = AcmBackend.list_certificates
    original_import = AcmBackend.import_certificate
    original_get_response = AWSCertificateManagerResponse.get_certificate
    original_bundle_describe = acm_models.CertBundle.describe

    def delete_certificate(self, arn):
        with state.lock:
            users = distributions_using(self.account_id).get(arn)
            if users and arn in self._certificates:
                raise ResourceInUseException(arn, self.account_id)
            return original_delete(self, arn)

    def describe_certificate(self, arn):
        bundle = original_describe(self, arn)
        with state.lock:
            users = distributions_using(self.account_id)
        show_users(bundle, users)
        return bundle

    def list_certificates(self, statuses, includes):
        with state.lock:
            users = distributions_using(self.account_id)
        bundles = listed_while_others_write(lambda: list(original_list(self, statuses, includes)))
        for bundle in bundles:
            show_users(bundle, users)
        return bundles

    def import_certificate(self, certificate, private_key, chain, arn, tags):
        with state.lock:
            previous = self._certificates.get(arn) if arn else None
            if arn and tags:
                raise ValidationException(TAGS_ON_REIMPORT)
            if previous is not None and previous.type != "IMPORTED":
                raise ValidationException(NOT_IMPORTED.format(arn=arn))
            check_import(certificate, private_key, chain)
            new_arn = original_import(self, certificate, private_key, chain, arn, tags)
            if previous is not None:  # moto replaces the bundle and drops its tags; AWS keeps them
                self._certificates[new_arn].tags.update(previous.tags)
            return new_arn

    def get_certificate_response(self):
        arn = self._get_param("CertificateArn")
        if arn:
            bundle = self.acm_backend.describe_certificate(arn)
            if bundle.status == "PENDING_VALIDATION":
                raise RequestInProgressException(arn)
        return original_get_response(self)

    def bundle_describe(self):
        described = original_bundle_describe(self)
        certificate = described.get("Certificate", {})
        if str(certificate.get("Serial", "")).isdigit():
            certificate["Serial"] = aws_serial(int(certificate["Serial"]))
        return described

    acm_models.CertBundle.describe = bundle_describe
    AcmBackend.delete_certificate = delete_certificate
    AcmBackend.describe_certificate = describe_certificate
    AcmBackend.list_certificates = list_certificates
    AcmBackend.import_certificate = import_certificate
    AWSCertificateManagerResponse.get_certificate = get_certificate_response
    AcmBackend._certfleet_installed = True


def aws_serial(serial: int) -> str:
    """A serial number as DescribeCertificate shows it: lower-case hex bytes joined by colons."""
    raw = serial.to_bytes(max(1, (serial.bit_length() + 7) // 8), "big")
    return ":".join(f"{byte:02x}" for byte in raw)


def listed_while_others_write(listing, attempts: int = 5):
    """moto's ListCertificates walks its certificate dict unlocked; a certificate requested or deleted by
    another request meanwhile breaks the walk (RuntimeError, or a vanished ARN). Walk again."""
    for attempt in range(attempts):
        try:
            return listing()
        except (RuntimeError, CertificateNotFound):
            if attempt == attempts - 1:
                raise


# --- CloudFront's view of certificates -------------------------------------------------------------

def issued_names(account_id: str, arn: str) -> tuple[str, ...] | None:
    """The lower-cased names of an ISSUED us-east-1 certificate of this account; None if CloudFront
    cannot use it (malformed ARN, other region or account, missing, not issued, expired)."""
    parts = arn.split(":")
    if len(parts) != 6 or parts[2] != "acm" or parts[3] != CLOUDFRONT_CERTIFICATE_REGION or parts[4] != account_id:
        return None
    account = acm_models.acm_backends.get(account_id)
    backend = account.get(CLOUDFRONT_CERTIFICATE_REGION) if account is not None else None
    bundle = backend._certificates.get(arn) if backend is not None else None
    if bundle is None:
        return None
    bundle.check()  # moto moves PENDING_VALIDATION -> ISSUED and ISSUED -> EXPIRED here
    if bundle.status != "ISSUED":
        return None
    return tuple(sorted({name.lower() for name in [bundle.common_name, *bundle.sans] if name}))


def names_cover(names: tuple[str, ...], host: str) -> bool:
    """A certificate name covers a host if equal, or if it is `*.<rest>` and the host is exactly one
    non-empty label followed by `.<rest>` (the apex and deeper names are not covered)."""
    host = host.lower()
    label, _, rest = host.partition(".")
    return any(name == host or (name.startswith("*.") and label and rest and name[2:] == rest) for name in names)


def distributions_using(account_id: str) -> dict[str, list[str]]:
    """certificate ARN -> ARNs of this account's distributions whose ViewerCertificate names it."""
    users: dict[str, list[str]] = {}
    account = cloudfront_models.cloudfront_backends.get(account_id)
    for backend in (account.values() if account is not None else ()):
        for dist in backend.distributions.values():
            arn = dist.distribution_config.ViewerCertificate.acm_certificate_arn
            if arn:
                users.setdefault(arn, []).append(dist.arn)
    return users


def show_users(bundle, users: dict[str, list[str]]) -> None:
    others = [user for user in bundle.in_use_by if not user.startswith(CLOUDFRONT_ARN_PREFIX)]
    bundle.in_use_by = others + sorted(users.get(bundle.arn, []))


# --- import checks ---------------------------------------------------------------------------------

def check_import(certificate: bytes, private_key: bytes, chain: bytes | None) -> None:
    """The checks moto skips. Input moto itself refuses (not PEM, expired, ...) is left to moto, so
    its messages stay what they are; nothing here ever quotes the key."""
    try:
        leaf = x509.load_pem_x509_certificate(certificate)
        key_matches = private_key_matches(private_key.decode(), certificate.decode())
    except (ValueError, TypeError):  # UnicodeDecodeError is a ValueError
        return
    if not key_matches:
        raise ValidationException(KEY_MISMATCH)
    if chain:
        try:
            issuer = x509.load_pem_x509_certificates(chain)[0]
        except (ValueError, IndexError):
            return
        if not directly_issued_by(leaf, issuer):
            raise ValidationException(CHAIN_MISMATCH)
    elif not directly_issued_by(leaf, leaf):
        raise ValidationException(NOT_SELF_SIGNED)


def directly_issued_by(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        certificate.verify_directly_issued_by(issuer)
        return True
    except (ValueError, TypeError, InvalidSignature):
        return False

