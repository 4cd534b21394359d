"""Checks on a certificate, its chain and its private key before ACM ImportCertificate (seed 000, acm_op=import).

Pure: no cloud. Used twice: by the config (at preview, so a bad PEM fails before any call) and by the
AcmImport provider's check(). Every problem is one sentence that names what is wrong and how to fix it.
No message ever contains key material: a key is described only by its type, its size and its PEM label.

What ACM's ImportCertificate requires (boto3 `import_certificate` and the ACM user guide, "Prerequisites for
importing ACM certificates", https://docs.aws.amazon.com/acm/latest/userguide/import-certificate-prerequisites.html):
an X.509 v3 certificate with a non-empty issuer, valid now; an unencrypted private key of at most 5 KB
(5,120 bytes) that matches it; a PEM chain in which every certificate certifies the one before it. moto checks
almost none of this (../shared/reference/aws-moto.md §2), real ACM refuses it with one terse error per call,
and CloudFront refuses some keys ACM imports: so certfleet checks all of it itself, and all at once.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

from components import keys, names

# Key types ACM imports (API names; ACM user guide, import prerequisites, URL above): RSA 1024/2048/3072/4096,
# ECDSA P-256/P-384/P-521.
ACM_IMPORT_KEY_ALGORITHMS = ("RSA_1024", "RSA_2048", "RSA_3072", "RSA_4096",
                             "EC_prime256v1", "EC_secp384r1", "EC_secp521r1")
# Key types certfleet imports: what ACM imports AND CloudFront serves. The same ACM page says "CloudFront only
# supports 1024-bit RSA, 2048-bit RSA, 3072-bit RSA, 4096-bit RSA, and Elliptic Prime Curve 256-bit keys";
# the CloudFront developer guide caps RSA at 4096 bits ("Determine the size of the public key in an SSL/TLS
# RSA certificate",
# https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cnames-and-https-size-of-public-key.html).
# RSA 1024 is refused although both accept it: it is below the CA/Browser Forum minimum of 2048 bits that no
# public CA goes under any more, and below certfleet's own floor (components/keys.py MIN_RSA_BITS).
IMPORT_KEY_ALGORITHMS = ("RSA_2048", "RSA_3072", "RSA_4096", "EC_prime256v1")
MAX_PRIVATE_KEY_BYTES = 5120   # "must not exceed 5 KB (5,120 bytes)" (import prerequisites, URL above)

_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.S)
_CURVES = {"secp256r1": "EC_prime256v1", "secp384r1": "EC_secp384r1", "secp521r1": "EC_secp521r1"}
_ANY_EXTENDED_KEY_USAGE = x509.ObjectIdentifier("2.5.29.37.0")


@dataclass(frozen=True)
class PemFacts:
    """What certfleet reads from a leaf certificate (all public data)."""

    domain: str                 # ACM's DomainName: the CN, or the first DNS SAN when there is no CN; lower-case
    names: tuple[str, ...]      # DNS SANs + CN, lower-case, sorted, de-duplicated; apex and wildcard kept
    not_before: datetime        # aware, UTC
    not_after: datetime         # aware, UTC
    key_algorithm: str          # ACM's name: RSA_2048, EC_prime256v1, ... (another type: its own name)
    fingerprint: str            # sha256 hex of the DER certificate


# --- reading ----------------------------------------------------------------------------------------------

def _blocks(text: str) -> list[tuple[str, str]]:
    """(label, whole block) of every PEM block in the text, in order."""
    return [(m.group(1), m.group(0)) for m in _BLOCK.finditer(text)]


def _read_certificate(pem: Any) -> tuple[x509.Certificate | None, str | None]:
    if not isinstance(pem, str) or not pem.strip():
        return None, "the certificate is empty: give the leaf certificate as PEM (-----BEGIN CERTIFICATE-----)"
    blocks = _blocks(pem)
    if not blocks:
        return None, ("the certificate is not PEM: it must start with -----BEGIN CERTIFICATE----- "
                      "(convert DER with `openssl x509 -inform der -in cert.der`)")
    others = sorted({label for label, _ in blocks if label != "CERTIFICATE"})
    if others:
        return None, (f"the certificate holds a {' and a '.join(others)} block; it must hold only the leaf "
                      f"certificate (the private key goes in the secret privateKey)")
    if len(blocks) > 1:
        return None, (f"the certificate holds {len(blocks)} certificates; it must hold only the leaf: "
                      f"put the intermediates in chain")
    try:
        return x509.load_pem_x509_certificate(blocks[0][1].encode()), None
    except ValueError:
        return None, "the certificate is not a valid PEM X.509 certificate (its base64 content does not parse)"


def _read_chain(pem: Any) -> tuple[list[x509.Certificate] | None, str | None]:
    if pem is None or (isinstance(pem, str) and not pem.strip()):
        return [], None
    if not isinstance(pem, str):
        return None, "the chain must be PEM text"
    blocks = _blocks(pem)
    if not blocks:
        return None, "the chain is not PEM: it must be -----BEGIN CERTIFICATE----- blocks, the leaf's issuer first"
    others = sorted({label for label, _ in blocks if label != "CERTIFICATE"})
    if others:
        return None, f"the chain holds a {' and a '.join(others)} block; it must hold only certificates"
    chain = []
    for number, (_, block) in enumerate(blocks, 1):
        try:
            chain.append(x509.load_pem_x509_certificate(block.encode()))
        except ValueError:
            return None, f"certificate {number} of the chain is not a valid PEM X.509 certificate"
    return chain, None


def _read_private_key(pem: Any) -> tuple[Any, str | None]:
    """(key, None) or (None, problem). Nothing from the key's text goes into a problem, only its labels."""
    if not isinstance(pem, str) or not pem.strip():
        return None, "the private key is empty: set it with `pulumi config set --secret --path ...`"
    size = len(pem.encode())
    if size > MAX_PRIVATE_KEY_BYTES:
        return None, (f"the private key is {size} bytes; ACM imports keys of at most {MAX_PRIVATE_KEY_BYTES} "
                      f"bytes (5 KB)")
    blocks = [(label, block) for label, block in _blocks(pem) if label != "EC PARAMETERS"]
    if not blocks:
        return None, "the private key is not PEM: it must be one -----BEGIN ... PRIVATE KEY----- block"
    labels = [label for label, _ in blocks]
    if len(blocks) > 1 or not labels[0].endswith("PRIVATE KEY"):
        return None, (f"the private key must be exactly one PRIVATE KEY block, got {', '.join(labels)} "
                      f"(are the certificate and the key swapped?)")
    label, block = blocks[0]
    encrypted = ("the private key is encrypted (it has a passphrase); ACM imports only unencrypted keys: "
                 "decrypt it with `openssl pkey -in key.pem -out key-plain.pem` and store that as the secret")
    # PKCS#8 says so in its label, the traditional format in a "Proc-Type: 4,ENCRYPTED" header (no base64 has ':').
    if label == "ENCRYPTED PRIVATE KEY" or "Proc-Type: 4,ENCRYPTED" in block:
        return None, encrypted
    try:
        key = serialization.load_pem_private_key(block.encode(), password=None)
    except TypeError:
        return None, encrypted
    except (ValueError, UnsupportedAlgorithm):
        return None, f"the private key is not a valid PEM private key (its {label} block does not parse)"
    if not isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
        return None, f"the private key is a {_key_kind(key)} key; ACM imports only RSA and ECDSA keys"
    return key, None


def _key_kind(key: Any) -> str:
    return type(key).__name__.removeprefix("_").replace("PrivateKey", "").replace("PublicKey", "") or "unknown"


def key_algorithm(public_key: Any) -> str:
    """ACM's name for a key type and size (RSA_2048, EC_prime256v1, ...); another type gets its own name."""
    if isinstance(public_key, rsa.RSAPublicKey):
        return f"RSA_{public_key.key_size}"
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return _CURVES.get(public_key.curve.name, f"EC_{public_key.curve.name}")
    return _key_kind(public_key)


def _facts(certificate: x509.Certificate) -> PemFacts:
    common_name, sans = keys.dns_names_of(certificate)
    # A CN such as "Example Corp" is not a host name: it is ACM's DomainName but no name to serve.
    cn_is_host = common_name is not None and (common_name in sans or names.dns_name_problem(common_name) is None)
    all_names = tuple(sorted({*sans, *([common_name] if cn_is_host else [])}))
    return PemFacts(
        domain=common_name or (sans[0] if sans else ""),
        names=all_names,
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
        key_algorithm=key_algorithm(certificate.public_key()),
        fingerprint=hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest(),
    )


def certificate_facts(certificate_pem: str) -> PemFacts:
    """Facts of the leaf. Raises ValueError (a sentence, as import_problems says it) when it does not parse."""
    certificate, problem = _read_certificate(certificate_pem)
    if certificate is None:
        raise ValueError(problem)
    return _facts(certificate)


# --- the checks -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Material:
    """What the checks look at: only what parsed (a part that did not parse has already been reported)."""

    leaf: x509.Certificate
    chain: list[x509.Certificate] | None   # None: the chain did not parse
    key: Any                               # None: no key given (preview without the secret) or unparsable
    margin_days: int
    now: datetime


def _describe(certificate: x509.Certificate, where: str) -> str:
    return f"{where} ({certificate.subject.rfc4514_string() or 'empty subject'})"


def _signed_by(child: x509.Certificate, parent: x509.Certificate) -> bool:
    try:
        child.verify_directly_issued_by(parent)
        return True
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False


def _self_signed(certificate: x509.Certificate) -> bool:
    return certificate.issuer == certificate.subject and _signed_by(certificate, certificate)


def leaf_is_x509_v3(m: _Material) -> list[str]:
    if m.leaf.version != x509.Version.v3:
        return [f"the certificate is X.509 {m.leaf.version.name}; ACM imports only X.509 v3 certificates"]
    return []


def leaf_names_an_issuer(m: _Material) -> list[str]:
    if not m.leaf.issuer.rdns:
        return ["the certificate has an empty Issuer; ACM refuses it"]
    return []


def leaf_names_a_host(m: _Material) -> list[str]:
    if not _facts(m.leaf).names:
        return ["the certificate names no DNS host (no DNS subjectAltName and no host name as CN); "
                "CloudFront has nothing to serve with it"]
    return []


def key_type_served_by_cloudfront(m: _Material) -> list[str]:
    algorithm = key_algorithm(m.leaf.public_key())
    if algorithm in IMPORT_KEY_ALGORITHMS:
        return []
    allowed = "RSA 2048, 3072 or 4096 bits, or ECDSA P-256"
    if algorithm == "RSA_1024":
        return [f"the certificate has a 1024-bit RSA key, too weak to import; use {allowed}"]
    if algorithm in ACM_IMPORT_KEY_ALGORITHMS:
        return [f"the certificate has an {algorithm} key, which ACM imports but CloudFront cannot serve; use {allowed}"]
    return [f"the certificate has an {algorithm} key, which ACM does not import; use {allowed}"]


def key_matches_leaf(m: _Material) -> list[str]:
    if m.key is None:
        return []
    spki = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if m.key.public_key().public_bytes(*spki) != m.leaf.public_key().public_bytes(*spki):
        return [f"the private key ({key_algorithm(m.key.public_key())}) does not belong to the certificate "
                f"({m.leaf.subject.rfc4514_string()}, key {key_algorithm(m.leaf.public_key())}); give the key "
                f"the certificate was issued for"]
    return []


def chain_present_unless_self_signed(m: _Material) -> list[str]:
    if m.chain == [] and not _self_signed(m.leaf):
        return [f"the chain is missing: the certificate was issued by {m.leaf.issuer.rfc4514_string()}, so give the "
                f"intermediate certificates in chain, that issuer's first (only a self-signed certificate may "
                f"go without)"]
    return []


def chain_links_in_order(m: _Material) -> list[str]:
    """Leaf -> chain[0] -> chain[1] ...: each one's issuer is the next one's subject, and the next one signed it."""
    if not m.chain:
        return []
    if _self_signed(m.leaf):
        return ["the certificate is self-signed, so it has no issuer to chain to: leave chain empty"]
    certificates = [m.leaf, *m.chain]
    for index, (child, parent) in enumerate(zip(certificates, m.chain)):
        child_where = "the certificate" if index == 0 else f"chain certificate {index}"
        parent_where = f"chain certificate {index + 1}"
        if parent.public_bytes(serialization.Encoding.DER) == m.leaf.public_bytes(serialization.Encoding.DER):
            return ["the chain holds the certificate itself; chain holds only its issuers, the leaf's issuer first"]
        if child.issuer != parent.subject:
            later = [n for n, c in enumerate(m.chain, 1) if c.subject == child.issuer and n > index + 1]
            hint = (f"its issuer is chain certificate {later[0]}: order the chain from the leaf's issuer up"
                    if later else "no certificate in the chain is its issuer: this chain does not belong to it")
            return [f"the chain does not link: {child_where} was issued by {child.issuer.rfc4514_string()}, but "
                    f"{_describe(parent, parent_where)} comes next; {hint}"]
        if not _signed_by(child, parent):
            return [f"the chain does not link: {_describe(parent, parent_where)} has the right name but did not sign "
                    f"{child_where} (its signature does not verify with that certificate's key)"]
    return []


def certificates_in_validity(m: _Material) -> list[str]:
    problems = []
    for where, certificate in [("the certificate", m.leaf),
                               *((f"chain certificate {n}", c) for n, c in enumerate(m.chain or [], 1))]:
        if m.now < certificate.not_valid_before_utc:
            problems.append(f"{where} is not valid until {certificate.not_valid_before_utc.isoformat()}; "
                            f"ACM refuses a certificate before its validity starts")
        elif m.now > certificate.not_valid_after_utc:
            problems.append(f"{where} expired on {certificate.not_valid_after_utc.isoformat()}; "
                            f"{'renew it' if where == 'the certificate' else 'get the current chain from the CA'}")
    return problems


def leaf_outlives_margin(m: _Material) -> list[str]:
    not_after = m.leaf.not_valid_after_utc
    if m.now <= not_after < m.now + timedelta(days=m.margin_days):
        days = (not_after - m.now).days
        return [f"the certificate expires on {not_after.isoformat()}, in {days} day{'s' if days != 1 else ''}, "
                f"within the {m.margin_days}-day expiry margin: renew it first (or lower expiryMarginDays)"]
    return []


def leaf_serves_tls_servers(m: _Material) -> list[str]:
    try:
        usages = m.leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return []  # no EKU extension: any use
    if ExtendedKeyUsageOID.SERVER_AUTH in usages or _ANY_EXTENDED_KEY_USAGE in usages:
        return []
    return ["the certificate's extended key usage lacks serverAuth (TLS Web Server Authentication), so browsers "
            "refuse it for a web site; get a TLS server certificate"]


# In order; each gets only what parsed.
CHECKS: tuple[Callable[[_Material], list[str]], ...] = (
    leaf_is_x509_v3, leaf_names_an_issuer, leaf_names_a_host, key_type_served_by_cloudfront, key_matches_leaf,
    chain_present_unless_self_signed, chain_links_in_order, certificates_in_validity, leaf_outlives_margin,
    leaf_serves_tls_servers,
)
# Which input a check's problems are about (for a provider's CheckFailure).
_CHECK_INPUT = {key_matches_leaf: "private_key_pem", chain_present_unless_self_signed: "chain_pem",
                chain_links_in_order: "chain_pem", leaf_outlives_margin: "expiry_margin_days"}


def import_problems_by_input(certificate_pem: str, chain_pem: str, private_key_pem: str | None,
                             margin_days: int, now: datetime) -> list[tuple[str, str]]:
    """(input name, problem) pairs; input names are AcmImport's: certificate_pem, chain_pem, private_key_pem,
    expiry_margin_days. `private_key_pem` None: the key is not known here (its checks are skipped)."""
    now = now if now.tzinfo else now.replace(tzinfo=timezone.utc)
    margin = margin_days if isinstance(margin_days, int) and margin_days > 0 else 0
    found: list[tuple[str, str]] = []
    leaf, problem = _read_certificate(certificate_pem)
    if problem:
        found.append(("certificate_pem", problem))
    chain, problem = _read_chain(chain_pem)
    if problem:
        found.append(("chain_pem", problem))
    key = None
    if private_key_pem is not None:
        key, problem = _read_private_key(private_key_pem)
        if problem:
            found.append(("private_key_pem", problem))
    if leaf is None:
        return found
    material = _Material(leaf=leaf, chain=chain, key=key, margin_days=margin, now=now)
    for check in CHECKS:
        found += [(_CHECK_INPUT.get(check, "certificate_pem"), p) for p in check(material)]
    return found


def import_problems(certificate_pem: str, chain_pem: str, private_key_pem: str | None, margin_days: int,
                    now: datetime) -> list[str]:
    """Every reason ACM or CloudFront would refuse this import, each a sentence; [] when it is fine.

    Raises nothing for bad input. No sentence contains key material.
    """
    return [p for _, p in import_problems_by_input(certificate_pem, chain_pem, private_key_pem, margin_days, now)]
