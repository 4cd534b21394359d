"""Real X.509 material for the ACM import tests: a root, an intermediate and leaves, built with `cryptography`.

Keys are made once per process and reused (RSA generation is the slow part); certificates are cheap.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

NOW = datetime(2030, 6, 1, tzinfo=timezone.utc)  # the tests' "now"; certificates are dated around it


def key(kind: str = "RSA_2048", slot: int = 0):
    """A private key per (kind, slot): the same object on every call, so tests stay fast."""
    return _key(kind, slot)


@functools.cache
def _key(kind: str, slot: int):
    if kind.startswith("RSA_"):
        return rsa.generate_private_key(public_exponent=65537, key_size=int(kind[4:]))
    return ec.generate_private_key({"EC_prime256v1": ec.SECP256R1(), "EC_secp384r1": ec.SECP384R1()}[kind])


def name(common_name: str | None) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)] if common_name else [])


def certificate(subject: str | None, issuer: str | x509.Name | None, public_key, signing_key, *, ca: bool = False,
                sans: list[str] | None = None, not_before: datetime | None = None,
                not_after: datetime | None = None, eku: list | None = None, now: datetime = NOW) -> x509.Certificate:
    builder = (x509.CertificateBuilder()
               .subject_name(name(subject))
               .issuer_name(issuer if isinstance(issuer, x509.Name) else name(issuer))
               .public_key(public_key).serial_number(x509.random_serial_number())
               .not_valid_before(not_before or now - timedelta(days=1))
               .not_valid_after(not_after or now + timedelta(days=365))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in sans]), critical=False)
    if eku is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
    return builder.sign(signing_key, hashes.SHA256())


def pem(*certificates: x509.Certificate) -> str:
    return "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in certificates)


def key_pem(private_key, password: bytes | None = None, traditional: bool = False) -> str:
    encryption = (serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption())
    fmt = serialization.PrivateFormat.TraditionalOpenSSL if traditional else serialization.PrivateFormat.PKCS8
    return private_key.private_bytes(serialization.Encoding.PEM, fmt, encryption).decode()


@dataclass
class Pki:
    """A root CA, an intermediate it signed, and a way to issue leaves from the intermediate, dated around `now`
    (NOW for pure checks; the real time for a server that checks dates itself)."""

    root: x509.Certificate
    intermediate: x509.Certificate
    intermediate_key: object
    now: datetime = NOW

    @classmethod
    def make(cls, slot: int = 0, root_cn: str = "Test Root CA", intermediate_cn: str = "Test Intermediate CA",
             now: datetime = NOW) -> Pki:
        root_key, intermediate_key = key("EC_prime256v1", 100 + slot), key("EC_prime256v1", 200 + slot)
        root = certificate(root_cn, root_cn, root_key.public_key(), root_key, ca=True,
                           not_before=now - timedelta(days=3000), not_after=now + timedelta(days=3000))
        intermediate = certificate(intermediate_cn, root_cn, intermediate_key.public_key(), root_key, ca=True,
                                   not_before=now - timedelta(days=1000), not_after=now + timedelta(days=1000))
        return cls(root, intermediate, intermediate_key, now)

    def chain_pem(self) -> str:
        return pem(self.intermediate, self.root)

    def leaf(self, names: list[str], kind: str = "RSA_2048", slot: int = 0, **kwargs) -> tuple[str, str]:
        """(leaf PEM, its private key PEM) for `names` (first = CN)."""
        leaf_key = key(kind, slot)
        kwargs.setdefault("eku", [ExtendedKeyUsageOID.SERVER_AUTH])
        leaf = certificate(names[0], self.intermediate.subject, leaf_key.public_key(),
                           self.intermediate_key, sans=names, now=self.now, **kwargs)
        return pem(leaf), key_pem(leaf_key)


def self_signed(names: list[str], kind: str = "RSA_2048", slot: int = 0, **kwargs) -> tuple[str, str]:
    """(self-signed certificate PEM, its private key PEM); kwargs as `certificate` (now=, not_after=, ...)."""
    leaf_key = key(kind, slot)
    leaf = certificate(names[0], names[0], leaf_key.public_key(), leaf_key, sans=names, **kwargs)
    return pem(leaf), key_pem(leaf_key)
