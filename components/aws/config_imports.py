"""certfleet:aws.imports (seed 000's acm_op=import, pemList): the rules and frozen model (AcmImportSpec).

Every check ACM or CloudFront would make runs here, at preview, through pem.py: the PEMs parse, the key
matches the certificate, the chain links in order, the certificate is valid now and beyond the expiry margin,
the key type is one both serve. The names come from the certificate (apex and wildcard kept).

The private key is accepted only as Pulumi secret config. A Pulumi program receives config decrypted, so
whether the key was a secret is told by `secret_paths` (components/config.py reads it from the stack's config
file: `secret_config_paths` there). No message and no repr ever holds the key's text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Collection, Mapping

from components import names
from components.aws import pem
from components.aws.config_adopt import ADOPT_KEYS, _adoption
from components.deploy.config import DeployTarget, deploy_targets
from components.aws.limits import ACM_CERTFLEET_TAGS, ACM_MAX_TAGS, AWS_MAX_USER_TAGS
from components.rules import (_merged_tags, _named_object, _Problems, _required_string, _string, _type_name,
                              _whole_number)

_IMPORT_KEYS = ("certificate", "chain", "privateKey", "expiryMarginDays", "tags", "previousNames", "deployTo",
                "renewBefore",
                *ADOPT_KEYS)
MAX_EXPIRY_MARGIN_DAYS = 365
DEFAULT_EXPIRY_MARGIN_DAYS = 30
_TAG_LIMIT = f"aws.tags included; ACM allows {ACM_MAX_TAGS} and certfleet uses {ACM_CERTFLEET_TAGS}"
# pem.import_problems_by_input names AcmImport's inputs; a problem is reported at the config key they come from.
_INPUT_KEYS = {"certificate_pem": "certificate", "chain_pem": "chain", "private_key_pem": "privateKey",
               "expiry_margin_days": "expiryMarginDays"}


@dataclass(frozen=True)
class AcmImportSpec:
    """One certificate imported into ACM from PEM (seed 000, acm_op=import)."""

    name: str                          # the key under certfleet:aws.imports
    certificate_pem: str               # the leaf
    chain_pem: str                     # intermediates, the leaf's issuer first; "" for a self-signed leaf
    private_key_pem: str | None = field(repr=False)  # None: config read without decryption (a {secure: ...})
    domain: str                        # the certificate's CN, or its first DNS name (ACM's DomainName)
    names: tuple[str, ...]             # read from the certificate: sorted, lower-case, apex and wildcard kept
    not_after: datetime                # aware, UTC
    key_algorithm: str                 # ACM's name: RSA_2048, EC_prime256v1, ...
    expiry_margin_days: int            # refuse a certificate expiring within this many days
    tags: tuple[tuple[str, str], ...]  # sorted (key, value) pairs: aws.tags merged with the import's
    previous_names: tuple[str, ...] = ()
    adopt: str | None = None           # an existing object's ARN/id (config_adopt.py); None: certfleet makes it
    replace_adopted: bool = False      # a replace-level difference from the adopted object makes a new one
    on_destroy: str | None = None      # "keep" | "delete"; None: keep an adopted object, delete one certfleet made
    deploy_to: tuple[DeployTarget, ...] = ()  # other clouds the certificate is copied to (components/deploy/)
    renew_before: Any = None           # a renewal.RenewBefore, shown in the report (re-import is the source's job)


def is_secret(path: str, secret_paths: Collection[str]) -> bool:
    """Is the value at `path` secret? A secret object holds secrets all the way down."""
    return any(path == s or path.startswith(s + ".") or path.startswith(s + "[") for s in secret_paths)


def secret_command(path: str) -> str:
    return f"pulumi config set --secret --path '{path}' < key.pem"


def _private_key(p: _Problems, path: str, obj: Mapping[str, Any],
                 secret_paths: Collection[str] | None) -> tuple[bool, str | None]:
    """(usable, the key's text): text None when the config holds it encrypted ({secure: ...}, not decrypted)."""
    key_path = f"{path}.privateKey"
    if "privateKey" not in obj:
        p.error(key_path, f"is required, as a Pulumi secret: {secret_command(key_path)}")
        return False, None
    value = obj["privateKey"]
    if isinstance(value, dict) and set(value) == {"secure"} and isinstance(value["secure"], str):
        return True, None   # the stack file's ciphertext: secret by construction, checked without the key
    if not isinstance(value, str):
        p.error(key_path, f"must be the private key's PEM text, set as a Pulumi secret ({secret_command(key_path)}), "
                          f"got {_type_name(value)}")
        return False, None
    if secret_paths is not None and not is_secret(key_path, secret_paths):
        p.error(key_path, f"the private key is in plain text in the stack config; keep it only as a Pulumi secret: "
                          f"{secret_command(key_path)} (treat a key that was ever committed in plain text as exposed, "
                          f"and replace it)")
        return False, value
    return True, value


def _acm_import(p: _Problems, path: str, name: str, raw: Any, default_tags: Mapping[str, str],
                previous_names: tuple[str, ...], secret_paths: Collection[str] | None,
                now: datetime) -> AcmImportSpec | None:
    obj = _named_object(p, path, "import", name, raw, _IMPORT_KEYS)
    if obj is None:
        return None
    errors_before = len(p.errors)
    certificate = _required_string(p, path, obj, "certificate",
                                   "the leaf certificate's PEM (-----BEGIN CERTIFICATE-----)")
    chain = _string(p, f"{path}.chain", obj["chain"]) if "chain" in obj else ""
    key_usable, key = _private_key(p, path, obj, secret_paths)
    margin = _whole_number(p, path, obj, "expiryMarginDays", DEFAULT_EXPIRY_MARGIN_DAYS, 0, MAX_EXPIRY_MARGIN_DAYS,
                           "days")
    tags = _merged_tags(p, path, obj, default_tags, names.aws_tag_problem, AWS_MAX_USER_TAGS, "imported certificate",
                        _TAG_LIMIT)
    adoption = _adoption(p, path, obj, "import")
    deploy_to = deploy_targets(p, path, obj, "aws")
    if certificate is None or chain is None:
        return None
    # The key's own checks run even on a plain-text key: its problems name no key material either.
    for source, problem in pem.import_problems_by_input(certificate, chain, key, margin, now):
        p.error(f"{path}.{_INPUT_KEYS.get(source, 'certificate')}", problem)
    if len(p.errors) > errors_before or not key_usable:
        return None
    facts = pem.certificate_facts(certificate)
    return AcmImportSpec(name=name, certificate_pem=certificate, chain_pem=chain, private_key_pem=key,
                         domain=facts.domain, names=facts.names, not_after=facts.not_after,
                         key_algorithm=facts.key_algorithm, expiry_margin_days=margin,
                         tags=tuple(sorted(tags.items())), previous_names=previous_names,
                         adopt=adoption.adopt, replace_adopted=adoption.replace_adopted,
                         on_destroy=adoption.on_destroy, deploy_to=deploy_to)
