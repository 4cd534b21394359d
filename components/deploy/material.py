"""What every deployment target shares: the source certificate's material, and what a target does without it.

Inputs of each target resource (acm_target.py, cas_upload.py, scm_import.py):
  source                 the source entry's config path without the namespace, e.g. `alicloud.orders.docs`
  certificate_pem        the source's certificate: a leaf, or a leaf followed by its chain (CAS gives both in one)
  chain_pem              the chain, when the source keeps it apart (SCM, ACM imports); "" otherwise
  private_key_pem        the key, a Pulumi secret ("" while the source has none yet)

While the source has no certificate (pending; a renewal's successor not issued yet) its outputs are "" (the
component never feeds null: the engine drops null outputs and a preview would read them as unknown). `check`
then keeps the material the target deployed last (`keep_deployed`), so the diff sees no change and the copy in
the other cloud stays. A target created before its source was ever issued holds no copy yet (`id` PENDING_ID):
its diff replaces it as soon as material arrives, which creates the copy (nothing to delete on the old side).
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from cryptography import x509

from components.aws.acm_import import fingerprint_of, leaf_of

MATERIAL_KEYS = ("certificate_pem", "chain_pem", "private_key_pem")
PENDING_PREFIX = "pending:"   # the id of a target that has deployed nothing yet
WAITING = "WAITING_FOR_SOURCE"
_CERTIFICATE = re.compile(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", re.S)


def pending_id(resource_tag: str) -> str:
    return PENDING_PREFIX + resource_tag


def holds_copy(id_: str | None) -> bool:
    return bool(id_) and not str(id_).startswith(PENDING_PREFIX)


def has_material(props: Mapping[str, Any]) -> bool:
    """A certificate and a key to deploy (unknown values, at preview, count as material: they will be)."""
    return all(props.get(k) not in (None, "") for k in ("certificate_pem", "private_key_pem"))


def keep_deployed(olds: Mapping[str, Any], news: dict[str, Any]) -> dict[str, Any]:
    """`news` with the last deployed material when the source has none now (pending): nothing changes then."""
    if has_material(news) or not has_material(olds):
        return news
    return {**news, **{k: olds.get(k) for k in MATERIAL_KEYS}, "source_pending": True}


def split_bundle(certificate_pem: str, chain_pem: str = "") -> tuple[str, str]:
    """(the leaf, the chain without it), from a leaf + chain bundle (CAS's `Certificate`) and/or a chain."""
    blocks = _CERTIFICATE.findall(certificate_pem or "") + _CERTIFICATE.findall(chain_pem or "")
    if not blocks:
        return "", ""
    leaf, chain = blocks[0] + "\n", "".join(b + "\n" for b in blocks[1:] if b != blocks[0])
    return leaf, chain


def leaf_certificate(certificate_pem: str) -> x509.Certificate | None:
    leaf, _ = split_bundle(certificate_pem)
    return leaf_of(leaf) if leaf else None


def fingerprint(certificate_pem: str) -> str | None:
    """SHA-256 of the leaf's DER, hex: computed from the PEM, never taken from a vendor's field."""
    leaf, _ = split_bundle(certificate_pem)
    return fingerprint_of(leaf) if leaf else None


def not_after(certificate_pem: str) -> str | None:
    leaf = leaf_certificate(certificate_pem)
    return leaf.not_valid_after_utc.isoformat() if leaf else None


def copy_name(base: str, certificate_pem: str) -> str:
    """The copy's name in CAS or SCM: `<base>-<8 hex of the leaf's fingerprint>` (config.py: MAX_COPY_NAME),
    so the renewed copy can be uploaded beside the previous one, and a rerun finds the copy it made."""
    return f"{base}-{(fingerprint(certificate_pem) or '0' * 8)[:8]}"


def default_copy_name(stack: str, source: str) -> str:
    """`<stack>-<section>-<entry>` in the characters both CAS and SCM accept, cut to fit with its suffix."""
    from components.deploy.config import MAX_COPY_NAME
    text = re.sub(r"[^A-Za-z0-9_.\-]+", "-", f"{stack}-{source.replace('.orders.', '-').replace('.certificates.', '-')}")
    return text[:MAX_COPY_NAME].strip("-.") or "certfleet"
