"""Private keys and CSRs: generated locally, or read from a user's PEM. Shared by every cloud module.

A generated private key is returned once, as PEM text, for the caller to keep as a Pulumi secret; it is
never logged and never part of an error message.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from components import names

MIN_RSA_BITS = 2048
# name -> (kind, size or curve): what `keyAlgorithm` accepts where certfleet generates the key.
KEY_ALGORITHMS = {"RSA_2048": ("RSA", 2048), "RSA_3072": ("RSA", 3072), "RSA_4096": ("RSA", 4096),
                  "EC_P256": ("EC", ec.SECP256R1()), "EC_P384": ("EC", ec.SECP384R1())}


@dataclass(frozen=True)
class CsrInfo:
    common_name: str | None
    names: tuple[str, ...]   # CN first (lower-case), then the DNS SANs that differ from it, in CSR order
    key_problem: str | None  # None when the key is RSA >= 2048 bits or ECC


def generate_key_and_csr(names: list[str], key_algorithm: str = "RSA_2048") -> tuple[str, str]:
    """A new private key (PKCS#8 PEM) and a CSR with CN = names[0] and every name as a DNS SAN."""
    kind, parameter = KEY_ALGORITHMS[key_algorithm]
    if kind == "RSA":
        key = rsa.generate_private_key(public_exponent=65537, key_size=parameter)
    else:
        key = ec.generate_private_key(parameter)
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
           .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
           .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return key_pem, csr.public_bytes(serialization.Encoding.PEM).decode()


def read_csr(pem: str) -> CsrInfo:
    """Parse a PEM CSR. Raises ValueError (without the PEM in the text) when it is not a valid CSR."""
    try:
        csr = x509.load_pem_x509_csr(pem.strip().encode())
    except ValueError:
        raise ValueError("is not a PEM certificate signing request (-----BEGIN CERTIFICATE REQUEST-----)") from None
    if not csr.is_signature_valid:
        raise ValueError("has an invalid self-signature")
    cn_attributes = csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    common_name = str(cn_attributes[0].value).lower() if cn_attributes else None
    try:
        sans = [n.lower() for n in csr.extensions.get_extension_for_class(x509.SubjectAlternativeName)
                .value.get_values_for_type(x509.DNSName)]
    except x509.ExtensionNotFound:
        sans = []
    names = ([common_name] if common_name else []) + [n for n in sans if n != common_name]
    public_key = csr.public_key()
    key_problem = None
    if isinstance(public_key, rsa.RSAPublicKey):
        if public_key.key_size < MIN_RSA_BITS:
            key_problem = f"has a {public_key.key_size}-bit RSA key; at least {MIN_RSA_BITS} bits are required"
    elif not isinstance(public_key, ec.EllipticCurvePublicKey):
        key_problem = f"has a {type(public_key).__name__} key; only RSA (>= {MIN_RSA_BITS} bits) or ECC keys"
    return CsrInfo(common_name=common_name, names=tuple(dict.fromkeys(names)), key_problem=key_problem)


def certificate_matches_key(certificate_pem: str, public_key_source_pem: str) -> bool:
    """Does the (first) certificate in `certificate_pem` carry the public key of a CSR or private key PEM?"""
    certificate = x509.load_pem_x509_certificate(certificate_pem.encode())
    if "PRIVATE KEY" in public_key_source_pem:
        public_key = serialization.load_pem_private_key(public_key_source_pem.encode(), password=None).public_key()
    else:
        public_key = x509.load_pem_x509_csr(public_key_source_pem.encode()).public_key()
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    return (certificate.public_key().public_bytes(serialization.Encoding.DER, spki)
            == public_key.public_bytes(serialization.Encoding.DER, spki))


def dns_names_of(certificate: x509.Certificate) -> tuple[str | None, list[str]]:
    """(lower-case CN or None, lower-case DNS SANs in certificate order) of a parsed certificate."""
    cns = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    common_name = names.normalise(str(cns[0].value)) if cns else None
    try:
        sans = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns = [names.normalise(n) for n in sans.get_values_for_type(x509.DNSName)]
    except x509.ExtensionNotFound:
        dns = []
    return common_name or None, dns


def certificate_names(certificate_pem: str) -> tuple[str | None, list[str]]:
    """The (first) certificate's CN (None without one) and all its names (CN, then DNS SANs), lower-case."""
    common_name, sans = dns_names_of(x509.load_pem_x509_certificate(certificate_pem.encode()))
    return common_name, list(dict.fromkeys(([common_name] if common_name else []) + sans))


def certificate_not_after(certificate_pem: str) -> str:
    """The first certificate's expiry as ISO 8601 UTC."""
    certificate = x509.load_pem_x509_certificate(certificate_pem.encode())
    return certificate.not_valid_after_utc.isoformat()
