"""CAS plans and the plain records the backend keeps: products (ProductCode), packages, orders, certificates.

Apart from models.py (CasBackend: the order state machine and its rules) so that the certificate store
(certificates.py), the request checks (checks.py) and the V2.0 instances (instances.py) share one vocabulary
without importing the backend. Also the small helpers they share: epoch milliseconds and account visibility.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from emulators.cas.exceptions import InvalidParameter
from emulators.core.clock import Clock

@dataclass(frozen=True)
class Product:
    name: str
    cert_type: str  # DV / OV / EV / FREE, as ListUserCertificateOrder reports it
    brand: str
    validity_days: int


# ProductCode values from the SDK 3.9.4 doc comments; "-w-" codes are wildcard plans.
PRODUCTS = {
    "digicert-free-1-free": Product("DigiCert DV single domain (free, 3 months)", "FREE", "DigiCert", 90),
    "symantec-free-1-free": Product("DigiCert DV single domain (free, 1 year)", "FREE", "DigiCert", 365),
    "symantec-dv-1-starter": Product("DigiCert DV single domain", "DV", "DigiCert", 365),
    "symantec-ov-1-personal": Product("DigiCert OV single domain", "OV", "DigiCert", 365),
    "symantec-ov-w-personal": Product("DigiCert OV wildcard", "OV", "DigiCert", 365),
    "geotrust-dv-1-starter": Product("GeoTrust DV single domain", "DV", "GeoTrust", 365),
    "geotrust-dv-w-starter": Product("GeoTrust DV wildcard", "DV", "GeoTrust", 365),
    "geotrust-ov-1-personal": Product("GeoTrust OV single domain", "OV", "GeoTrust", 365),
    "geotrust-ov-w-personal": Product("GeoTrust OV wildcard", "OV", "GeoTrust", 365),
    "globalsign-dv-1-personal": Product("GlobalSign DV single domain", "DV", "GlobalSign", 365),
    "globalsign-dv-w-advanced": Product("GlobalSign DV wildcard", "DV", "GlobalSign", 365),
    "globalsign-ov-1-personal": Product("GlobalSign OV single domain", "OV", "GlobalSign", 365),
    "globalsign-ov-w-advanced": Product("GlobalSign OV wildcard", "OV", "GlobalSign", 365),
    "cfca-ov-1-personal": Product("CFCA OV single domain", "OV", "CFCA", 365),
    "cfca-ev-w-advanced": Product("CFCA EV wildcard", "EV", "CFCA", 365),
}
# CreateCertificateRequest and CreateCertificateWithCsrRequest accept DV plans only.
DV_PRODUCT_CODES = (
    "digicert-free-1-free", "symantec-free-1-free", "symantec-dv-1-starter", "geotrust-dv-1-starter",
    "geotrust-dv-w-starter", "globalsign-dv-1-personal", "globalsign-dv-w-advanced",
)
DEFAULT_PRODUCT_CODE = "digicert-free-1-free"
CERT_IDENTIFIER_REGION = "cn-hangzhou"


def is_wildcard_product(product_code: str) -> bool:
    return "-w-" in product_code


def now_ms(clock: Clock) -> int:
    return int(clock.now().timestamp() * 1000)


def ms_to_datetime(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc)


def datetime_to_ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


@dataclass
class Package:
    product_code: str
    total_count: int
    used_count: int = 0
    issued_count: int = 0

    @property
    def remaining(self) -> int:
        return self.total_count - self.used_count


@dataclass
class Order:
    order_id: int
    instance_id: str
    product_code: str
    domains: list[str]
    validate_type: str  # DNS | FILE
    state: str
    buy_date_ms: int
    csr: str = ""  # empty: CAS generates the key at issuance
    contact: dict = field(default_factory=dict)
    company_name: str = ""
    tags: list[dict] = field(default_factory=list)  # [{"Key": ..., "Value": ...}]
    challenge_token: str = ""
    challenge_published_ms: int | None = None
    process_started_ms: int | None = None
    cert_id: int | None = None
    renewed_from_order_id: int | None = None
    owner: str = ""  # the access key that placed it ("": every key, as in state files from before accounts)
    challenge_reads: int = 0  # DescribeCertificateState reads in domain_verify (challenge_lag_reads)

    @property
    def validation_domain(self) -> str:
        return self.domains[0].removeprefix("*.")


@dataclass
class Certificate:
    cert_id: int
    name: str
    certificate_pem: str  # leaf first, then the chain
    private_key_pem: str  # empty when the key stayed with the customer
    upload: bool
    created_ms: int
    order_id: int | None = None
    instance_id: str = ""
    resource_group_id: str = ""
    tags: list[dict] = field(default_factory=list)
    client_token: str = ""
    issued_ms: int | None = None
    revoked: bool = False
    owner: str = ""  # the access key that uploaded it or placed its order ("": every key)


def _check_product_code(product_code: str) -> str:
    if product_code not in PRODUCTS:
        raise InvalidParameter("ProductCode", f"ProductCode {product_code} is not a valid specification.")
    return product_code


def _visible(owner: str, account: str | None) -> bool:
    """Does `account` (an access key; None: the control API) see an object placed by `owner`?"""
    return account is None or owner in ("", account)


def _keyword_matches(keyword: str, values: list[str]) -> bool:
    keyword = keyword.lower()
    return any(keyword in (value or "").lower() for value in values)
