"""A CAS order's inputs: which keys there are, which replace the order, and how they come from the config.

Apart from cas.py because components/fleet.py fingerprints an order's inputs (order_inputs, REPLACE_KEYS) for
the purchase journal without the provider, and because diff and check only compare and validate these
mappings: REPLACE_KEYS / PENDING_REPLACE_KEYS / PURCHASE_ONLY_KEYS and the stored and output keys,
replace_keys (which changes need a new order), check_inputs (the config's main rules again, for resources
built without components/config.py) and order_inputs (the provider's inputs for one CasOrderSpec).
"""

from __future__ import annotations

from typing import Any, Mapping

from pulumi.dynamic import CheckFailure

from components.alicloud.config import AlicloudSpec, CasOrderSpec
from components.alicloud.status import PENDING_STATES
from components.dynamic import changed_keys

# Inputs that shape the certificate: a change needs a new order.
# `renewal_generation` (components/renewal.py): the program's decision to order the successor, via
# RenewCertificateOrderForPackageRequest (absent for the first order, so older states show no change).
REPLACE_KEYS = ("product_code", "api", "domains", "csr_mode", "csr_pem", "key_algorithm", "renewal_generation")
# Replaces a pending order only (its challenge changes); once issued, a new order would spend a new unit.
PENDING_REPLACE_KEYS = ("validation",)
# Read by CAS only when the order is placed: stored in place, never a new order (a stack-wide contact or
# tag change must not buy a unit per order). `pulumi up --replace` applies them to a pending order.
PURCHASE_ONLY_KEYS = ("contact", "company_name", "tags")
INPUT_KEYS = (("order_name",) + REPLACE_KEYS + PENDING_REPLACE_KEYS + PURCHASE_ONLY_KEYS
              + ("revoke_on_delete", "issued_timeout_seconds", "entry_revoke_on_delete"))
# Stored with the order but never diffed: they steer a create's look-before-buy (the journal stamp, how long
# to look) and tell delete a replacement from a destroy (former names); changing them buys or changes nothing.
# `renews`: the predecessor a renewal's create renews ({id, not_after}), never taken for the successor.
QUIET_INPUT_KEYS = ("journal", "listing_lag_seconds", "previous_names", "renews")
STORED_INPUT_KEYS = INPUT_KEYS + QUIET_INPUT_KEYS
# `challenges`: the challenge as a list, never null ([] once issued): a null output is dropped by the engine and
# reads as unknown in every later preview, which would make the entry's DNS record show a change each time.
# `renewal_held`: the renewal the order holds, never null (components/renewal.py HELD_KEY).
OUTPUT_KEYS = ("order_id", "state", "status_message", "challenge", "challenges", "certificate_pem", "not_after",
               "cert_id", "private_key", "csr", "adopted", "owner", "adopted_by_id", "renewal_held")


def replace_keys(olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
    """The changed inputs that need a new order, given the old order's state."""
    keys = REPLACE_KEYS + (PENDING_REPLACE_KEYS if olds.get("state") in PENDING_STATES else ())
    return changed_keys(olds, news, keys)


def check_inputs(news: Mapping[str, Any]) -> list[CheckFailure]:
    """The config's main rules again, for resources built without components/config.py."""
    failures = []
    domains = news.get("domains")
    if isinstance(domains, list):
        if not 1 <= len(domains) <= 5:
            failures.append(CheckFailure("domains", f"an order has 1 to 5 names, got {len(domains)}"))
        wildcards = [str(d).startswith("*.") for d in domains]
        if any(wildcards) and not all(wildcards):
            failures.append(CheckFailure("domains", "CAS does not mix wildcard and single names in one order"))
    if news.get("api") == "withCsr" and news.get("csr_mode") == "cas":
        failures.append(CheckFailure("csr_mode", "CreateCertificateWithCsrRequest needs a CSR"))
    return failures


def order_inputs(spec: CasOrderSpec, alicloud: AlicloudSpec) -> dict[str, Any]:
    """The provider's inputs for one order of the config model."""
    return {
        "order_name": spec.name,
        "product_code": spec.product_code,
        "api": spec.api,
        "domains": list(spec.domains),
        "validation": spec.validation,
        "csr_mode": spec.csr,
        "csr_pem": spec.csr_pem,
        "key_algorithm": spec.key_algorithm,
        "contact": {"name": spec.contact.name, "email": spec.contact.email, "phone": spec.contact.phone},
        "company_name": spec.company_name,
        "tags": dict(spec.tags),
        "revoke_on_delete": spec.revoke_on_delete,
        "issued_timeout_seconds": alicloud.issued_timeout_seconds,
        "listing_lag_seconds": alicloud.listing_lag_seconds,
        "previous_names": list(spec.previous_names),
        # Steer create only (never diffed): which order to adopt, and whether a difference buys a new one.
        "adopt_id": spec.adopt,
        "replace_adopted": spec.replace_adopted,
        # Only when set, so that the states of orders from before this key show no change.
        **({"entry_revoke_on_delete": True} if spec.entry_revoke_on_delete else {}),
    }
