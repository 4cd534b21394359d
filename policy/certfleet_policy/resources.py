"""What the policies read from certfleet's resources: type tokens, and facts (key, names, config path) taken from
the inputs a policy sees.

Policies see a resource's inputs (and, in a stack policy, its outputs once known; reference
pulumi-pipelines.md §1.4): never the provider's pickled `__provider`, no key whose value is None, integers as
floats. During preview a value computed from another resource is unknown; `plain` turns the SDK's proxy into
plain data with UNKNOWN in its place, so that one unknown field never hides a whole resource from a policy.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

# Type tokens: pulumi-python:dynamic/<module>:<name> of the classes in components/ (CertfleetResource subclasses).
ACM_CERTIFICATE = "pulumi-python:dynamic/aws:AcmCertificate"
ACM_IMPORT = "pulumi-python:dynamic/aws:AcmImport"
DISTRIBUTION = "pulumi-python:dynamic/aws:Distribution"
CAS_ORDER = "pulumi-python:dynamic/alicloud:CasOrder"
CAS_INSTANCE_CERTIFICATE = "pulumi-python:dynamic/alicloud:CasInstanceCertificate"
SCM_CERTIFICATE = "pulumi-python:dynamic/huaweicloud:ScmCertificate"
PURCHASE_JOURNAL = "pulumi-python:dynamic/certfleet:PurchaseJournal"  # components/journal.py
CERTIFICATES = (ACM_CERTIFICATE, ACM_IMPORT, CAS_ORDER, CAS_INSTANCE_CERTIFICATE, SCM_CERTIFICATE)


class PaidKind(NamedTuple):
    """What the paid-orders ceiling reads of a paid kind: the outputs with its cloud id and its status, and the
    section of its purchase journal (components/fleet.py)."""
    id_output: str
    status_output: str
    journal_section: str


# The kinds that spend money (CAS orders with a plan, SCM purchases): the ones the paid-orders ceiling counts.
PAID = {CAS_ORDER: PaidKind("order_id", "state", "alicloud.orders"),
        SCM_CERTIFICATE: PaidKind("certificate_id", "status", "huaweicloud.certificates")}

# Where each kind lives in the stack config (the config path a reviewer fixes), and its entry-name input.
_CONFIG_PATHS = {
    ACM_CERTIFICATE: ("aws.certificates", "cert_name"),
    ACM_IMPORT: ("aws.imports", "cert_name"),
    DISTRIBUTION: ("aws.distributions", "dist_name"),
    CAS_ORDER: ("alicloud.orders", "order_name"),
    CAS_INSTANCE_CERTIFICATE: ("alicloud.orders", "order_name"),
    SCM_CERTIFICATE: ("huaweicloud.certificates", "cert_name"),
}


class StackResource(NamedTuple):
    """A resource as a stack policy sees it (plain data)."""
    type: str
    urn: str
    props: Mapping[str, Any]
    aliases: tuple[str, ...] = ()   # the URNs it had before a rename (previousNames)


class _Unknown:
    """A value not known until the update runs (preview only)."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()


def plain(value: Any) -> Any:
    """The SDK's unknown-checking proxy (or plain data) as dicts and lists, each unknown value as UNKNOWN."""
    from pulumi_policy.proxy import UnknownValueError  # the pack's venv has it; unit tests pass plain dicts
    if isinstance(value, Mapping):
        out = {}
        for key in value:
            try:
                out[key] = plain(value[key])
            except UnknownValueError:
                out[key] = UNKNOWN
        return out
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        items = []
        for index in range(len(value)):
            try:
                items.append(plain(value[index]))
            except UnknownValueError:
                items.append(UNKNOWN)
        return items
    return value


# components/packing.py: a packed resource's fields are one JSON string under `spec` (the pack runs in its own
# environment, without certfleet's modules, hence this copy of the reading half).
SPEC = "spec"


def unpacked(props: Mapping[str, Any]) -> dict[str, Any]:
    """A resource's fields, a packed resource's `spec` decoded; a flat resource's as they are."""
    props = dict(props)
    if isinstance(props.get(SPEC), str):
        return {**json.loads(props.pop(SPEC), parse_int=float), **props}   # numbers as floats, as the engine's
    return props


def fields(props: Any) -> dict[str, Any]:
    """What a policy reads of a resource: `plain` data, unpacked."""
    return unpacked(plain(props))


def known(value: Any) -> bool:
    return value is not None and value is not UNKNOWN


def stack_of(urn: str) -> str:
    """`urn:pulumi:<stack>::<project>::<type>::<name>` -> <stack> (policies get no stack name otherwise)."""
    parts = urn.split("::")
    return parts[0].rsplit(":", 1)[-1] if parts and parts[0].startswith("urn:pulumi:") else ""


def entry_name(resource_type: str, props: Mapping[str, Any]) -> str:
    """The entry's name in its config section (`shop`); "?" when not known."""
    name = props.get(_CONFIG_PATHS.get(resource_type, ("?", "name"))[1])
    return str(name) if known(name) else "?"


def config_path(resource_type: str, props: Mapping[str, Any]) -> str:
    """`certfleet:aws.certificates.shop`: the entry a reviewer edits."""
    return f"certfleet:{_CONFIG_PATHS.get(resource_type, ('?',))[0]}.{entry_name(resource_type, props)}"


# --- keys ------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Key:
    label: str     # as config says it (RSA_2048, EC_prime256v1, ...) or "RSA 4096 (from the certificate)"
    family: str    # RSA, EC or SM2
    bits: int


_EC_BITS = {"prime256v1": 256, "secp384r1": 384, "secp521r1": 521, "P256": 256, "P384": 384, "P521": 521}


def key_from_algorithm(name: str) -> Key | None:
    """ACM (RSA_2048, EC_prime256v1, EC_secp384r1), SCM and certfleet (EC_P256, EC_P384, SM2) names."""
    rsa = re.fullmatch(r"RSA_(\d+)", name)
    if rsa:
        return Key(name, "RSA", int(rsa.group(1)))
    if name.startswith("EC_") and name[3:] in _EC_BITS:
        return Key(name, "EC", _EC_BITS[name[3:]])
    if name == "SM2":
        return Key(name, "SM2", 256)
    return None


def _key_from_public_key(public_key: Any, source: str) -> Key | None:
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    if isinstance(public_key, rsa.RSAPublicKey):
        return Key(f"RSA {public_key.key_size} (from the {source})", "RSA", public_key.key_size)
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        # SM2 keys load as an EC key on the SM2 curve where cryptography supports it; their size is 256 too.
        family = "SM2" if public_key.curve.name.lower() == "sm2" else "EC"
        return Key(f"EC {public_key.curve.name} (from the {source})", family, public_key.curve.key_size)
    return None


def key_of(resource_type: str, props: Mapping[str, Any]) -> Key | None:
    """The key a certificate entry gets: from the user's CSR or imported certificate when there is one, else
    the keyAlgorithm config names (also when the CA makes the key: it makes that kind). None: cannot tell."""
    from cryptography import x509
    pem = None
    if resource_type == ACM_IMPORT:
        pem, load, source = props.get("certificate_pem"), x509.load_pem_x509_certificate, "certificate"
    elif resource_type in (CAS_ORDER, CAS_INSTANCE_CERTIFICATE) and props.get("csr_mode") == "pem":
        pem, load, source = props.get("csr_pem"), x509.load_pem_x509_csr, "CSR"
    elif resource_type == SCM_CERTIFICATE and str(props.get("csr") or "").startswith("-----BEGIN"):
        pem, load, source = props.get("csr"), x509.load_pem_x509_csr, "CSR"
    if pem is not None:
        if not known(pem):
            return None
        try:
            return _key_from_public_key(load(str(pem).encode()).public_key(), source)
        except ValueError:
            return None
    algorithm = props.get("key_algorithm")
    return key_from_algorithm(str(algorithm)) if known(algorithm) else None


# --- names, validity -------------------------------------------------------------------------------------------

def _certificate(props: Mapping[str, Any]) -> Any:
    from cryptography import x509
    pem = props.get("certificate_pem")
    if not known(pem):
        return None
    try:
        return x509.load_pem_x509_certificate(str(pem).encode())
    except ValueError:
        return None


def names_of(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """The DNS names a certificate entry is for (imports: the certificate's CN and SANs). Unknown ones left out."""
    if resource_type == ACM_CERTIFICATE:
        values = [props.get("domain"), *(props.get("sans") or [])]
    elif resource_type in (CAS_ORDER, CAS_INSTANCE_CERTIFICATE, SCM_CERTIFICATE):
        values = list(props.get("domains") or [])
    elif resource_type == ACM_IMPORT:
        values = imported_names(props)
    else:
        values = []
    return sorted({str(v).lower() for v in values if known(v)})


def imported_names(props: Mapping[str, Any]) -> list[str]:
    from cryptography import x509
    from cryptography.x509.oid import NameOID
    certificate = _certificate(props)
    if certificate is None:
        return []
    names = [str(a.value) for a in certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    try:
        sans = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names += sans.get_values_for_type(x509.DNSName)
    except x509.ExtensionNotFound:
        pass
    return names


def imported_validity_days(props: Mapping[str, Any]) -> float | None:
    """An imported certificate's whole validity period (notBefore to notAfter), in days."""
    certificate = _certificate(props)
    if certificate is None:
        return None
    return (certificate.not_valid_after_utc - certificate.not_valid_before_utc).total_seconds() / 86400
