"""certfleet:alicloud.orders entries with `instance:`: a certificate applied for through a V2.0 instance.

A V2.0 account buys certificate instances in the console (`cas-cn-...`); an entry that names one orders through
it (UpdateInstance, ApplyCertificate) instead of a resource plan (docs/cas-instances.md). The entry lives in
the same `orders` map as plan orders, so names, renames and the purchase journal are shared; this module holds
the rules that differ. components/alicloud/config.py calls `instance_entry` for an entry that has `instance`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

from components.dns.config import DnsSpec
from components.rules import _choice, _dns_names, _flag, _Problems, _text_field

# Instance ids in Alibaba's pages: cas-cn-68n1mm16****, cas_dv-cn-rp643r82d0i1, cas-ivauto-hqito6. Uploaded
# certificates (cas-upload-*) are no instances to order through.
INSTANCE_ID_PATTERN = re.compile(r"cas(_[a-z0-9]+)?-(?!upload-)[a-z0-9]+(-[a-z0-9]+)*")
INSTANCE_ID_MAX = 64
# config keyAlgorithm -> UpdateInstance KeyAlgorithm (SDK doc comment: RSA_2048|RSA_3072|RSA_4096|ECC_256|SM2)
INSTANCE_KEY_ALGORITHMS = {"RSA_2048": "RSA_2048", "RSA_3072": "RSA_3072", "RSA_4096": "RSA_4096",
                           "EC_P256": "ECC_256"}
# certfleet's own tags on the instance (its claim, components/alicloud/instance.py) count against the 20.
CLAIM_TAG_COUNT = 3   # certfleet-entry, certfleet-stamp, certfleet-application
MAX_INSTANCE_TAGS = 20 - CLAIM_TAG_COUNT
INSTANCE_KEYS = ("instance", "domains", "validation", "csr", "keyAlgorithm", "tags", "revokeOnDelete",
                 "previousNames", "contactIds", "companyId", "dns", "deployTo")
# Order keys an instance entry refuses, and why (the instance API has no such input, or the instance has it).
REFUSED_KEYS = {
    "productCode": "not allowed with `instance`: the instance carries the product it was bought as",
    "api": "not allowed with `instance`: the certificate is applied for through the instance "
           "(UpdateInstance, ApplyCertificate), not a Create* call",
    "contact": "not allowed with `instance`: the instance API takes ids of contacts saved in the CAS console "
               "(`contactIds`), not a name, email and phone",
    "companyName": "not allowed with `instance`: the instance API takes the id of a company saved in the CAS "
                   "console (`companyId`)",
    "adopt": "not allowed with `instance`: naming the instance already says which one this entry uses",
    "replaceAdopted": "not allowed with `instance` (it goes with `adopt`)",
}


@dataclass(frozen=True)
class CasInstanceSpec:
    """One certificate applied for through a V2.0 instance the account bought."""

    name: str                      # the key under certfleet:alicloud.orders
    instance_id: str
    domains: tuple[str, ...]       # lower-case, CN first
    validation: str                # DNS | FILE (ValidationMethod DNS | HTTP)
    csr: str                       # "cas" (GenerateCsrMethod online), "generate" or "pem" (upload)
    csr_pem: str | None
    key_algorithm: str             # config name (INSTANCE_KEY_ALGORITHMS)
    tags: tuple[tuple[str, str], ...]
    revoke_on_delete: bool         # destroy revokes an issued certificate (RevokeCertificate)
    previous_names: tuple[str, ...] = ()
    contact_ids: tuple[int, ...] = ()
    company_id: int | None = None
    dns: DnsSpec | None = None     # where certfleet writes the DNS challenge (alicloud/config.py reads it)
    deploy_to: tuple = ()          # DeployTarget: other clouds the certificate is copied to (alicloud/config.py)


def instance_tag_problem(key: str, value: Any) -> str | None:
    """UpdateInstance's tag rules (SDK doc comment): key 1-64, value up to 128, neither starting with
    'aliyun'/'acs:' nor containing http:// or https://."""
    if not isinstance(value, str):
        return "tag values are strings"
    for text, limit in ((key, 64), (value, 128)):
        if len(text) > limit or text.lower().startswith(("aliyun", "acs:")) or "://" in text:
            return ("instance tags: keys 1-64 and values up to 128 characters, not starting with 'aliyun' or "
                    "'acs:' and without http:// or https://")
    return None if key else "tag keys must not be empty"


def instance_entry(p: _Problems, path: str, name: str, obj: Mapping[str, Any], default_tags: Mapping[str, str],
                   default_revoke: bool, previous_names: tuple[str, ...]) -> CasInstanceSpec | None:
    """The entry at `path` (an object with `instance`, its keys checked against ENTRY_KEYS), or None after
    reporting its problems."""
    from components.alicloud.config import _cas_csr, _cas_domains_problem, _cas_tags  # the order rules
    errors_before = len(p.errors)
    for key, why in REFUSED_KEYS.items():
        if key in obj:
            p.error(f"{path}.{key}", why)
    instance_id = _text_field(p, path, obj, "instance", required=True, pattern=INSTANCE_ID_PATTERN,
                              max_length=INSTANCE_ID_MAX,
                              rule="must be the id of a CAS certificate instance, e.g. cas-cn-68n1mm16xxxx (the "
                                   "console's instance list; uploaded certificates, cas-upload-*, are no instances)")
    validation = _choice(p, f"{path}.validation", obj.get("validation", "DNS"), ("DNS", "FILE"))
    csr_mode, csr_pem, csr_names = _cas_csr(p, f"{path}.csr", obj.get("csr"))
    key_algorithm = _choice(p, f"{path}.keyAlgorithm", obj.get("keyAlgorithm", "RSA_2048"),
                            tuple(INSTANCE_KEY_ALGORITHMS))
    if "keyAlgorithm" in obj and csr_mode == "pem":
        p.error(f"{path}.keyAlgorithm", "does not apply with csr.pem: the CSR's key decides")
    domains: list[str] = []
    if "domains" in obj:
        domains = _dns_names(p, f"{path}.domains", obj["domains"])
        problem = isinstance(obj["domains"], list) and _cas_domains_problem(domains)
        if problem:
            p.error(f"{path}.domains", problem)
    if csr_mode == "pem" and csr_names:
        if domains and (domains[0] != csr_names[0] or set(domains) != set(csr_names)):
            p.error(f"{path}.domains", f"CAS takes the names from the CSR ({', '.join(csr_names)}): list the "
                                       f"same names, CN first, or leave domains out")
        domains = list(csr_names)
    elif csr_mode != "pem" and "domains" not in obj:
        p.error(f"{path}.domains", "is required (or give csr.pem, whose CN and SANs name the certificate)")
    if validation == "FILE" and any(d.startswith("*.") for d in domains):
        p.error(f"{path}.validation", "wildcard names can only be validated by DNS")
    tags = dict(default_tags)
    if "tags" in obj:
        tags.update(_cas_tags(p, f"{path}.tags", obj["tags"]))
    for key, value in tags.items():
        problem = instance_tag_problem(key, value)
        if problem:
            p.error(f"{path}.tags.{key}", problem)
    if len(tags) > MAX_INSTANCE_TAGS:
        p.error(f"{path}.tags", f"at most {MAX_INSTANCE_TAGS} tags on an instance (alicloud.tags included; "
                                f"certfleet adds {CLAIM_TAG_COUNT} of its own), got {len(tags)}")
    contact_ids = _positive_ids(p, f"{path}.contactIds", obj["contactIds"]) if "contactIds" in obj else ()
    company_id = None
    if "companyId" in obj:
        company_id = obj["companyId"]
        if not isinstance(company_id, int) or isinstance(company_id, bool) or company_id < 1:
            p.error(f"{path}.companyId", f"must be the positive id of a company saved in the CAS console, "
                                         f"got {company_id!r}")
            company_id = None
    revoke = _flag(p, path, obj, "revokeOnDelete", default_revoke)
    if len(p.errors) > errors_before or not instance_id or not domains:
        return None
    return CasInstanceSpec(name=name, instance_id=instance_id, domains=tuple(domains), validation=validation,
                           csr=csr_mode, csr_pem=csr_pem, key_algorithm=key_algorithm,
                           tags=tuple(sorted(tags.items())), revoke_on_delete=revoke, previous_names=previous_names,
                           contact_ids=contact_ids, company_id=company_id)


def _positive_ids(p: _Problems, path: str, raw: Any) -> tuple[int, ...]:
    if not isinstance(raw, list) or not raw or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0
                                                       for v in raw):
        p.error(path, f"must be a non-empty list of ids of contacts saved in the CAS console (positive whole "
                      f"numbers), got {raw!r}")
        return ()
    return tuple(raw)


def claim_instance(p: _Problems, claimed: dict[str, str], path: str, spec: CasInstanceSpec) -> None:
    """An instance carries one certificate: two entries may not name the same one."""
    if spec.instance_id in claimed:
        p.error(f"{path}.instance", f"instance {spec.instance_id} is named by '{claimed[spec.instance_id]}' "
                                    f"already: one instance, one entry")
    else:
        claimed[spec.instance_id] = spec.name


ENTRY_KEYS = INSTANCE_KEYS + tuple(REFUSED_KEYS)  # refused keys get their own message, not "unknown key"
