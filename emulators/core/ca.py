"""The emulator CA: a self-signed root per emulator instance that issues real X.509 leaf certificates.

Also small X.509 helpers that every API emulator needs: generate a key + CSR for orders where the
vendor generates the key, load a CSR, and describe a certificate PEM (names, dates, fingerprints).
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from emulators.core.clock import Clock

ROOT_VALIDITY = timedelta(days=3650)
# Backdate so a certificate is valid on machines whose clock is slightly behind the emulator's.
BACKDATE = timedelta(minutes=5)


def valid_from(clock: Clock) -> datetime:
    """A new certificate's notBefore: the earlier of the emulator's time and the real time, backdated. A clock
    moved forward (tests, `scripts/local.sh clock`) must not make a certificate "not in effect yet" for whatever
    checks validity in real time (moto's ImportCertificate, TLS clients); its notAfter follows the emulator's clock."""
    return min(clock.now(), datetime.now(timezone.utc)) - BACKDATE


@dataclass(frozen=True)
class IssuedCertificate:
    certificate_pem: str  # the leaf only
    chain_pem: str  # issuer chain, leaf excluded (here: the emulator root)
    serial_number: int
    not_before: datetime
    not_after: datetime


@dataclass(frozen=True)
class CertificateInfo:
    common_name: str
    dns_names: list[str]  # subjectAltName DNS entries
    issuer_common_name: str
    not_before: datetime
    not_after: datetime
    serial_hex: str
    sha1_fingerprint: str  # upper-case hex, no separators
    sha256_fingerprint: str
    key_algorithm: str  # "RSA" | "EC" | other class name
    key_size: int


class EmulatorCA:
    """Root key and certificate are created lazily, once, and persisted with the emulator state."""

    def __init__(self, clock: Clock, common_name: str = "certfleet emulator root CA"):
        self._clock = clock
        self._common_name = common_name
        self._lock = threading.Lock()
        self._key = None
        self._certificate: x509.Certificate | None = None

    @property
    def certificate_pem(self) -> str:
        self._ensure_root()
        return self._certificate.public_bytes(serialization.Encoding.PEM).decode()

    def issue(
        self,
        subject: x509.CertificateSigningRequest | str | object,
        names: list[str],
        not_after: datetime,
        not_before: datetime | None = None,
    ) -> IssuedCertificate:
        """Sign a leaf for `names` (first = CN, all = DNS SANs).

        `subject` is a CSR (object or PEM string), whose public key is certified, or a public key.
        """
        if not names:
            raise ValueError("a certificate needs at least one name")
        public_key = _public_key_of(subject)
        self._ensure_root()
        not_before = not_before or valid_from(self._clock)
        serial_number = x509.random_serial_number()
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .issuer_name(self._certificate.subject)
            .public_key(public_key)
            .serial_number(serial_number)
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(_leaf_key_usage(public_key), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key()), critical=False
            )
        )
        leaf = builder.sign(self._key, hashes.SHA256())
        return IssuedCertificate(
            certificate_pem=leaf.public_bytes(serialization.Encoding.PEM).decode(),
            chain_pem=self.certificate_pem,
            serial_number=serial_number,
            not_before=leaf.not_valid_before_utc,
            not_after=leaf.not_valid_after_utc,
        )

    def to_state(self) -> dict:
        self._ensure_root()
        key_pem = self._key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        return {"key_pem": key_pem, "certificate_pem": self.certificate_pem}

    def load_state(self, state: dict) -> None:
        with self._lock:
            self._key = serialization.load_pem_private_key(state["key_pem"].encode(), password=None)
            self._certificate = x509.load_pem_x509_certificate(state["certificate_pem"].encode())

    def _ensure_root(self) -> None:
        with self._lock:
            if self._certificate is not None:
                return
            # P-256 keeps root creation fast (tests start many emulators).
            key = ec.generate_private_key(ec.SECP256R1())
            name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, self._common_name)])
            now = self._clock.now()
            self._certificate = (
                x509.CertificateBuilder()
                .subject_name(name)
                .issuer_name(name)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(valid_from(self._clock))
                .not_valid_after(now + ROOT_VALIDITY)
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(
                    x509.KeyUsage(
                        digital_signature=True, content_commitment=False, key_encipherment=False,
                        data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                        encipher_only=False, decipher_only=False,
                    ),
                    critical=True,
                )
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                .sign(key, hashes.SHA256())
            )
            self._key = key


def generate_key_and_csr(names: list[str], key_type: str = "RSA", key_size: int = 2048) -> tuple[str, str]:
    """A new private key (traditional OpenSSL PEM, e.g. `BEGIN RSA PRIVATE KEY`) and a CSR for `names`."""
    if key_type == "RSA":
        key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    elif key_type == "EC":
        key = ec.generate_private_key({256: ec.SECP256R1(), 384: ec.SECP384R1()}[key_size])
    else:
        raise ValueError(f"unsupported key type {key_type!r}")
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode()
    return key_pem, csr.public_bytes(serialization.Encoding.PEM).decode()


def load_csr(csr_pem: str) -> x509.CertificateSigningRequest:
    """Parse a PEM CSR; raises ValueError when it is not one or its self-signature is invalid."""
    csr = x509.load_pem_x509_csr(csr_pem.strip().encode())
    if not csr.is_signature_valid:
        raise ValueError("the CSR signature is invalid")
    return csr


def csr_names(csr: x509.CertificateSigningRequest) -> tuple[str | None, list[str]]:
    """(CN or None, subjectAltName DNS names) of a CSR."""
    common_names = csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    common_name = str(common_names[0].value) if common_names else None
    try:
        san = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns_names = san.get_values_for_type(x509.DNSName)
    except x509.ExtensionNotFound:
        dns_names = []
    return common_name, dns_names


def describe_certificate(certificate_pem: str) -> CertificateInfo:
    """Facts about the first certificate in a PEM bundle; raises ValueError if there is none."""
    certificate = x509.load_pem_x509_certificate(certificate_pem.strip().encode())
    der = certificate.public_bytes(serialization.Encoding.DER)
    common_names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    issuer_names = certificate.issuer.get_attributes_for_oid(NameOID.COMMON_NAME)
    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns_names = san.get_values_for_type(x509.DNSName)
    except x509.ExtensionNotFound:
        dns_names = []
    public_key = certificate.public_key()
    return CertificateInfo(
        common_name=str(common_names[0].value) if common_names else "",
        dns_names=dns_names,
        issuer_common_name=str(issuer_names[0].value) if issuer_names else "",
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
        serial_hex=format(certificate.serial_number, "x"),
        sha1_fingerprint=hashlib.sha1(der).hexdigest().upper(),
        sha256_fingerprint=hashlib.sha256(der).hexdigest().upper(),
        key_algorithm=key_algorithm_name(public_key),
        key_size=getattr(public_key, "key_size", 0),
    )


def split_pem_bundle(pem_bundle: str) -> list[str]:
    """The individual PEM blocks of a bundle (leaf + chain), in order."""
    end = "-----END CERTIFICATE-----"
    return [block.strip() + "\n" + end + "\n" for block in pem_bundle.split(end) if block.strip()]


def key_algorithm_name(public_key) -> str:
    if isinstance(public_key, rsa.RSAPublicKey):
        return "RSA"
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return "EC"
    return type(public_key).__name__


def private_key_matches(private_key_pem: str, certificate_pem: str) -> bool:
    """True when the PEM private key belongs to the certificate's public key."""
    key = serialization.load_pem_private_key(private_key_pem.strip().encode(), password=None)
    certificate = x509.load_pem_x509_certificate(certificate_pem.strip().encode())
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    return key.public_key().public_bytes(*spki) == certificate.public_key().public_bytes(*spki)


def _public_key_of(subject):
    if isinstance(subject, str):
        return load_csr(subject).public_key()
    if isinstance(subject, x509.CertificateSigningRequest):
        return subject.public_key()
    return subject


def _leaf_key_usage(public_key) -> x509.KeyUsage:
    # RSA keys may be used for key transport; EC keys only sign.
    return x509.KeyUsage(
        digital_signature=True, content_commitment=False,
        key_encipherment=isinstance(public_key, rsa.RSAPublicKey),
        data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
        encipher_only=False, decipher_only=False,
    )
