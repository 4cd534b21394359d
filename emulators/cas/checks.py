"""Alibaba's rules on CAS request parameters: DV plans, contact, domain names, CSRs, tags.

Apart from models.py because these checks only read what a request carries (no state); the orders
(models.CasBackend), the uploads (certificates.py) and the V2.0 instances (instances.py, through the backend)
use them. RequestChecks is a mixin of models.CasBackend.
"""

from __future__ import annotations

import re

from cryptography.hazmat.primitives.asymmetric import ec, rsa

from emulators.cas.exceptions import InvalidParameter, MissingParameter
from emulators.cas.records import DEFAULT_PRODUCT_CODE, DV_PRODUCT_CODES
from emulators.core.ca import csr_names, key_algorithm_name, load_csr

MAX_DOMAINS = 5
MIN_RSA_BITS = 2048
MAX_TAGS = 20
MAX_TAG_KEY_LENGTH = 128

_DOMAIN_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_DOMAIN_RE = re.compile(rf"(\*\.)?({_DOMAIN_LABEL}\.)+[a-z][a-z0-9-]{{0,62}}")


class RequestChecks:
    """Checks of request parameters (a mixin of models.CasBackend)."""

    def _check_dv_product(self, product_code: str) -> str:
        product_code = product_code or DEFAULT_PRODUCT_CODE
        if product_code not in DV_PRODUCT_CODES:
            raise InvalidParameter(
                "ProductCode", f"ProductCode {product_code} is not a DV specification; this API issues DV only."
            )
        return product_code

    @staticmethod
    def _require_contact(contact: dict) -> None:
        for name in ("Username", "Phone", "Email"):
            if not contact.get(name):
                raise MissingParameter(name)

    @staticmethod
    def _check_domains(domains: list[str]) -> list[str]:
        domains = [d.lower() for d in domains if d]
        if not domains:
            raise MissingParameter("Domain")
        if len(domains) > MAX_DOMAINS:
            raise InvalidParameter("Domain", f"At most {MAX_DOMAINS} domain names are allowed.")
        if len(set(domains)) != len(domains):
            raise InvalidParameter("Domain", "Domain names must not repeat.")
        for domain in domains:
            if len(domain) > 253 or not _DOMAIN_RE.fullmatch(domain):
                raise InvalidParameter("Domain", f"The domain name {domain} is not valid.")
        wildcards = [d.startswith("*.") for d in domains]
        if any(wildcards) and not all(wildcards):
            raise InvalidParameter(
                "Domain", "Domain names must be all single domain names or all wildcard domain names."
            )
        return domains

    def _names_from_csr(self, csr_pem: str) -> list[str]:
        """The CSR's CN first, then its DNS SANs; checked like Domain."""
        try:
            csr = load_csr(csr_pem)
        except ValueError:
            raise InvalidParameter("Csr", "The CSR is not a valid PEM certificate signing request.") from None
        public_key = csr.public_key()
        if isinstance(public_key, rsa.RSAPublicKey):
            if public_key.key_size < MIN_RSA_BITS:
                raise InvalidParameter("Csr", f"An RSA key in the CSR must be at least {MIN_RSA_BITS} bits.")
        elif not isinstance(public_key, ec.EllipticCurvePublicKey):
            raise InvalidParameter(
                "Csr", f"The CSR key algorithm must be RSA or ECC, not {key_algorithm_name(public_key)}."
            )
        common_name, dns_names = csr_names(csr)
        if not common_name:
            raise InvalidParameter("Csr", "The CSR has no CN (common name).")
        names = [common_name.lower()] + [n.lower() for n in dns_names if n.lower() != common_name.lower()]
        return self._check_domains(names)

    @staticmethod
    def _check_tags(tags: list[dict]) -> None:
        if len(tags) > MAX_TAGS:
            raise InvalidParameter("Tags", f"At most {MAX_TAGS} tags are allowed.")
        for tag in tags:
            key = tag.get("Key") or ""
            if not key:
                raise InvalidParameter("Tags", "A tag key must not be empty.")
            if len(key) > MAX_TAG_KEY_LENGTH:
                raise InvalidParameter("Tags", f"A tag key must be at most {MAX_TAG_KEY_LENGTH} characters.")
            if key.lower().startswith(("aliyun", "acs:")):
                raise InvalidParameter("Tags", f"The tag key {key} must not start with aliyun or acs:.")

