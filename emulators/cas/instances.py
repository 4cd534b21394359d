"""CAS V2.0 certificate instances: what the account bought in the console, and the rules on them.

Sources (docs/cas-instances.md): the SDK 3.9.4 models (parameters, answer fields, status values), Alibaba's
API pages (CancelPendingCertificate withdraws an application; RefundInstance within 7 days), Terraform
v1.287 (ApplyCertificate then poll GetInstanceDetail; error codes `OperationDenied.StatusNotSupport`,
`InvalidStatus.UpdateProtection`, `InvalidStatus.DeleteProtection`). What no source says is our choice and
marked *invented* in COVERAGE.md ("V2.0 instances").

An instance is bought through the control API (`POST /_emulator/cas/instances`) or pre-seeded at start-up
(`--seed-instances N`); it belongs to the access key given (`account`) or, without one, to every key.
Instance status: inactive -> (UpdateInstance, ApplyCertificate) pending -> normal (issued), and back to
inactive by CancelPendingCertificate; UntagResources (ResourceType instance) removes tags. While pending,
`DomainValidationList` carries the challenge (after `challenge_lag` seconds); once the control API publishes
it, validation and review take the CAS emulator's `validation_wait` and `review_wait`, then the certificate is
issued by the emulator's CA and is readable with GetUserCertificateDetail (CertificateId). The account plan
(`account_plan`: v1 | v2 | both) decides which API the account may use: on "v2" the V1.0 Create* calls answer
`InsufficientQuota`; on "v1" there are no instances. A reissue (the console's, or AutoReissue's) is started by
the control API (`POST /_emulator/cas/instances/<id>/reissue`): the instance is pending again while its issued
certificate stays (CertificateId) until the reissued one replaces it. With a Csr, GetInstanceDetail's `Domain`
shows the CSR's CN only (UpdateInstance doc: "the CN is used as the domain name"); the setting
`csr_domain_shows: all` shows every name of the CSR instead (the shape is not verified). The setting
`withdrawal_lag` (seconds, default 0) makes CancelPendingCertificate asynchronous: accepted, the instance
still shows pending until the lag has passed (invented: whether CAS withdraws at once is not documented).
With the CAS setting `dns_resolver` (`--dns-resolver`), a DNS challenge also counts as published from the first
read at which that DNS server serves every TXT record of DomainValidationList.
The API actions on instances (parameters, answers, control routes) are in emulators/cas/instance_actions.py.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from emulators.cas.checks import MAX_TAGS
from emulators.cas.exceptions import CasError, InvalidParameter, MissingParameter, NotFound, \
    OperationDeniedStatusNotSupport
from emulators.cas.records import PRODUCTS, Certificate, _check_product_code, _keyword_matches, _visible, \
    is_wildcard_product, now_ms
from emulators.core.ca import generate_key_and_csr
from emulators.core.dns_check import txt_records_served

if TYPE_CHECKING:
    from emulators.cas.models import CasBackend

ACCOUNT_PLANS = ("v1", "v2", "both")
# The V1.0 calls that spend a resource-plan unit: a V2.0-only account has no plan to spend.
V1_CREATE_ACTIONS = ("CreateCertificateForPackageRequest", "CreateCertificateRequest",
                     "CreateCertificateWithCsrRequest", "RenewCertificateOrderForPackageRequest")
KEY_ALGORITHMS = ("RSA_2048", "RSA_3072", "RSA_4096", "ECC_256", "SM2")
VALIDATION_METHODS = ("DNS", "HTTP")
CSR_METHODS = ("online", "upload")
CSR_DOMAIN_SHAPES = ("cn", "all")   # GetInstanceDetail.Domain with an uploaded CSR: its CN, or every name
DNS_VALIDATION_KEY = "_dnsauth"
HTTP_VALIDATION_PATH = "/.well-known/pki-validation/fileauth.txt"
INSTANCE_TERM = timedelta(days=365)
DEFAULT_LIST_SIZE, MAX_LIST_SIZE = 10, 100   # ListInstances ShowSize (SDK doc comment)
_INSTANCE_ID = re.compile(r"cas(_[a-z0-9]+)?-[a-z0-9]+(-[a-z0-9]+)*")


class InsufficientQuota(CasError):
    """A V1.0 Create* on an account that holds only V2.0 instances (third-party runbook; message invented)."""
    CODE = "InsufficientQuota"

    def __init__(self, action: str):
        super().__init__(f"{action}: the account has no V1.0 certificate resource plan quota. V2.0 certificates "
                         f"are applied for through their instance (UpdateInstance, ApplyCertificate).")


class UpdateProtection(CasError):
    CODE = "InvalidStatus.UpdateProtection"   # Terraform


class DeleteProtection(CasError):
    CODE = "InvalidStatus.DeleteProtection"   # Terraform


@dataclass
class Instance:
    instance_id: str
    product_code: str
    owner: str                     # the access key that bought it ("": every key)
    order_start: int               # epoch seconds (purchase)
    order_end: int
    full_domain_count: int         # exact names the instance can carry
    wildcard_domain_count: int     # wildcard names it can carry
    status: str = "inactive"       # inactive | pending | normal | willExpire | expired | refund | closed
    domain: str = ""               # comma-joined, primary first
    csr: str = ""
    generate_csr_method: str = "online"
    key_algorithm: str = "RSA_2048"
    validation_method: str = "DNS"
    contact_ids: list[int] = field(default_factory=list)
    company_id: int | None = None
    certificate_name: str = ""
    tags: list[dict] = field(default_factory=list)   # [{"TagKey", "TagValue"}]
    challenge_token: str = ""
    applied_ms: int | None = None
    challenge_published_ms: int | None = None
    cert_id: int | None = None
    pending_result: str = ""
    withdrawn_ms: int | None = None   # CancelPendingCertificate accepted, applied after `withdrawal_lag`

    @property
    def domains(self) -> list[str]:
        return [d for d in self.domain.split(",") if d]


class InstanceBook:
    """The instances of the emulated accounts, beside the CasBackend whose clock, CA, certificates and waits
    they share. Created once by CasBackend; `reset` empties it (settings stay: they are configuration)."""

    def __init__(self, backend: "CasBackend") -> None:
        self.backend = backend
        self.settings = {"account_plan": "both", "challenge_lag": 0.0, "csr_domain_shows": "cn",
                         "withdrawal_lag": 0.0}
        self.instances: dict[str, Instance] = {}

    # ----- persistence (CasBackend.reset / to_state / load_state) -----

    def reset(self) -> None:
        self.instances = {}

    def to_state(self) -> list[dict]:
        return [asdict(i) for i in self.instances.values()]

    def load_state(self, state: list[dict]) -> None:
        self.instances = {i["instance_id"]: Instance(**i) for i in state}

    def update_settings(self, changes: dict) -> None:
        unknown = set(changes) - set(self.settings)
        if unknown:
            raise ValueError(f"unknown settings: {sorted(unknown)}")
        if changes.get("account_plan", "both") not in ACCOUNT_PLANS:
            raise ValueError(f"account_plan must be one of {', '.join(ACCOUNT_PLANS)}")
        if changes.get("csr_domain_shows", "cn") not in CSR_DOMAIN_SHAPES:
            raise ValueError(f"csr_domain_shows must be one of {', '.join(CSR_DOMAIN_SHAPES)}")
        for name in ("challenge_lag", "withdrawal_lag"):
            lag = changes.get(name, 0)
            if not isinstance(lag, (int, float)) or lag < 0:
                raise ValueError(f"{name} must be a number >= 0")
        self.settings.update(changes)

    # ----- the account plan -----

    def check_v1_call(self, action: str) -> None:
        if action in V1_CREATE_ACTIONS and self.settings["account_plan"] == "v2":
            raise InsufficientQuota(action)

    # ----- control: buying -----

    def buy(self, product_code: str, account: str | None = None, instance_id: str | None = None,
            full_domain_count: int | None = None, wildcard_domain_count: int | None = None) -> Instance:
        """An instance the account bought in the console. An existing `instance_id` is returned as it is."""
        _check_product_code(product_code)
        if instance_id and instance_id in self.instances:
            return self.instances[instance_id]
        if instance_id and not _INSTANCE_ID.fullmatch(instance_id):
            raise ValueError("instance_id must look like cas-cn-<hex>")
        wildcard = is_wildcard_product(product_code)
        now = int(self.backend.clock.now().timestamp())
        instance = Instance(
            instance_id=instance_id or f"cas-cn-{secrets.token_hex(6)}", product_code=product_code,
            owner=account or "", order_start=now, order_end=now + int(INSTANCE_TERM.total_seconds()),
            full_domain_count=full_domain_count if full_domain_count is not None else (0 if wildcard else 1),
            wildcard_domain_count=wildcard_domain_count if wildcard_domain_count is not None else int(wildcard))
        self.instances[instance.instance_id] = instance
        return instance

    def seed(self, per_product: int) -> list[Instance]:
        """`per_product` instances of every product, with ids that are the same on every start."""
        return [self.buy(code, instance_id=f"cas-cn-{hashlib.sha256(f'{code}/{n}'.encode()).hexdigest()[:12]}")
                for code in PRODUCTS for n in range(per_product)]

    # ----- the instance API -----

    def get(self, instance_id: str, account: str | None = None) -> Instance:
        if not instance_id:
            raise MissingParameter("InstanceId")
        instance = self.instances.get(instance_id)
        if instance is None or self.settings["account_plan"] == "v1" or not _visible(instance.owner, account):
            raise NotFound(f"The instance {instance_id} does not exist.")
        self._advance_lazily(instance)
        return instance

    def list(self, keyword: str, status: str, certificate_status: str, account: str | None) -> list[Instance]:
        if self.settings["account_plan"] == "v1":
            return []
        result = []
        for instance in sorted(self.instances.values(), key=lambda i: (-i.order_start, i.instance_id)):
            if not _visible(instance.owner, account):
                continue
            self._advance_lazily(instance)
            if status and instance.status != status:
                continue
            if certificate_status and self.certificate_status(instance) != certificate_status:
                continue
            haystack = [*instance.domains, instance.instance_id, instance.certificate_name]
            if keyword and not _keyword_matches(keyword, haystack):
                continue
            result.append(instance)
        return result

    def update(self, instance_id: str, account: str, fields: dict) -> Instance:
        """UpdateInstance: only the fields given change. Not while an application is pending."""
        instance = self.get(instance_id, account)
        if instance.status not in ("inactive", "normal", "willExpire"):
            raise UpdateProtection(f"The instance in status {instance.status} cannot be updated.")
        if fields.get("key_algorithm") and fields["key_algorithm"] not in KEY_ALGORITHMS:
            raise InvalidParameter("KeyAlgorithm", f"KeyAlgorithm must be one of {', '.join(KEY_ALGORITHMS)}.")
        if fields.get("validation_method") and fields["validation_method"] not in VALIDATION_METHODS:
            raise InvalidParameter("ValidationMethod", "ValidationMethod must be DNS or HTTP.")
        if fields.get("generate_csr_method") and fields["generate_csr_method"] not in CSR_METHODS:
            raise InvalidParameter("GenerateCsrMethod", "GenerateCsrMethod must be online or upload.")
        if fields.get("tags") is not None:
            self._check_tags(fields["tags"])
        if fields.get("csr"):
            # The CSR's CN (and SANs) name the certificate (UpdateInstance `Domain` doc comment).
            fields["domain"] = ",".join(self.backend._names_from_csr(fields["csr"]))
        elif fields.get("domain"):
            fields["domain"] = ",".join(self.backend._check_domains([d.strip() for d in fields["domain"].split(",")]))
        for name, value in fields.items():
            if value is not None and value != "":
                setattr(instance, name, value)
        return instance

    def apply(self, instance_id: str, account: str) -> Instance:
        """ApplyCertificate: submits what UpdateInstance recorded; the challenge follows (challenge_lag)."""
        instance = self.get(instance_id, account)
        if instance.status != "inactive":
            raise OperationDeniedStatusNotSupport(
                f"The instance in status {instance.status} cannot apply for a certificate.")
        if not instance.domains:
            raise MissingParameter("Domain")
        if instance.generate_csr_method == "upload" and not instance.csr:
            raise MissingParameter("Csr")
        wildcards = sum(d.startswith("*.") for d in instance.domains)
        if wildcards > instance.wildcard_domain_count or len(instance.domains) - wildcards > instance.full_domain_count:
            raise InvalidParameter("Domain", f"The instance carries {instance.full_domain_count} exact and "
                                             f"{instance.wildcard_domain_count} wildcard names; got "
                                             f"{instance.domain}.")
        if PRODUCTS[instance.product_code].cert_type in ("OV", "EV") and not instance.company_id:
            raise MissingParameter("CompanyId")
        instance.status = "pending"
        instance.applied_ms = self._now_ms()
        instance.challenge_token = self._token()
        instance.challenge_published_ms = None
        instance.pending_result = ""
        return instance

    def cancel_pending(self, instance_id: str, account: str) -> Instance:
        """CancelPendingCertificate: withdraws a pending application; the instance can be used again. A
        withdrawn reissue leaves the issued certificate serving (invented). With `withdrawal_lag` the answer
        comes at once and the instance shows pending until the lag has passed (invented)."""
        instance = self.get(instance_id, account)
        if instance.status != "pending":
            raise OperationDeniedStatusNotSupport(
                f"The instance in status {instance.status} has no pending application.")
        if self.settings["withdrawal_lag"] > 0:
            instance.withdrawn_ms = instance.withdrawn_ms or self._now_ms()
            return instance
        self._withdraw(instance)
        return instance

    def _withdraw(self, instance: Instance) -> None:
        instance.status = "inactive" if instance.cert_id is None else "normal"
        instance.withdrawn_ms = None
        instance.applied_ms = instance.challenge_published_ms = None
        instance.challenge_token = ""

    def revoke(self, instance_id: str, certificate_id: int | None, account: str) -> Instance:
        """RevokeCertificate: the instance's issued certificate (CertificateId, when given, must be it)."""
        instance = self.get(instance_id, account)
        if instance.cert_id is None or (certificate_id and certificate_id != instance.cert_id):
            raise NotFound(f"The instance {instance_id} holds no certificate {certificate_id or ''}".strip() + ".")
        certificate = self.backend.certificates[instance.cert_id]
        if certificate.revoked:
            raise OperationDeniedStatusNotSupport("The certificate is revoked already.")
        certificate.revoked = True
        return instance

    def delete(self, instance_id: str, account: str) -> None:
        """DeleteInstance (invented rule): not while pending or holding a valid certificate."""
        instance = self.get(instance_id, account)
        if instance.status == "pending" or self.certificate_status(instance) in ("issued", "willExpire"):
            raise DeleteProtection(f"The instance in status {instance.status} cannot be deleted.")
        del self.instances[instance_id]

    def untag(self, instance_ids: list[str], tag_keys: list[str], remove_all: bool, account: str) -> None:
        """UntagResources (ResourceType instance): the named tag keys, or with All every tag, of each instance.
        Every instance must be the account's (invented: NotFound, nothing changed)."""
        instances = [self.get(i, account) for i in instance_ids]
        for instance in instances:
            instance.tags = [t for t in instance.tags if not remove_all and t["TagKey"] not in tag_keys]

    def certificate_status(self, instance: Instance) -> str:
        if instance.cert_id is None:
            return ""
        status = self.backend.certificate_status(self.backend.certificates[instance.cert_id])
        return {"ISSUED": "issued", "WILLEXPIRED": "willExpire", "EXPIRED": "expired",
                "REVOKED": "revoked"}[status]

    def validation_list(self, instance: Instance) -> list[dict]:
        if instance.status != "pending" or not instance.challenge_token:
            return []
        if self._now_ms() < (instance.applied_ms or 0) + int(self.settings["challenge_lag"] * 1000):
            return []  # the CA has not answered yet (other tools poll until the list fills)
        seen, result = set(), []
        for name in instance.domains:
            base = name.removeprefix("*.")
            if base in seen:
                continue
            seen.add(base)
            root = ".".join(base.split(".")[-2:])
            if instance.validation_method == "HTTP":
                result.append({"Domain": base, "RootDomain": root, "ValidationType": "HTTP",
                               "ValidationKey": f"http://{base}{HTTP_VALIDATION_PATH}",
                               "ValidationValue": instance.challenge_token})
            else:
                result.append({"Domain": base, "RootDomain": root, "ValidationType": "TXT",
                               "ValidationKey": f"{DNS_VALIDATION_KEY}.{base}",
                               "ValidationValue": instance.challenge_token})
        return result

    def shown_domain(self, instance: Instance) -> str:
        """GetInstanceDetail's Domain: with an uploaded CSR its CN only, unless csr_domain_shows is `all`."""
        if instance.generate_csr_method == "upload" and instance.csr and \
                self.settings["csr_domain_shows"] == "cn":
            return instance.domains[0] if instance.domains else ""
        return instance.domain

    # ----- control: the customer published the challenge; a reissue started outside certfleet -----

    def reissue(self, instance_id: str) -> Instance:
        """A reissue of the issued certificate (the console's, or AutoReissue's): the same application is
        committed for review again; the instance is pending while its certificate keeps serving (invented)."""
        instance = self.get(instance_id)
        if instance.status not in ("normal", "willExpire") or instance.cert_id is None:
            raise OperationDeniedStatusNotSupport(f"The instance in status {instance.status} has no certificate to "
                                                  f"reissue.")
        instance.status = "pending"
        instance.applied_ms = self._now_ms()
        instance.challenge_token = self._token()
        instance.challenge_published_ms = None
        return instance

    def publish(self, instance_id: str) -> Instance:
        instance = self.get(instance_id)
        if instance.status != "pending":
            raise OperationDeniedStatusNotSupport(f"The instance in status {instance.status} has no open challenge.")
        instance.challenge_published_ms = self._now_ms()
        self._advance_lazily(instance)
        return instance

    # ----- internals -----

    def _advance_lazily(self, instance: Instance) -> None:
        if instance.status == "pending" and instance.withdrawn_ms is not None:
            # An accepted withdrawal: applied once the lag has passed; the application is never issued.
            if self._now_ms() >= instance.withdrawn_ms + int(self.settings["withdrawal_lag"] * 1000):
                self._withdraw(instance)
            return
        if instance.status == "pending" and instance.challenge_published_ms is None \
                and self._dns_challenge_served(instance):
            instance.challenge_published_ms = self._now_ms()  # the CA saw every record: published from now
        if instance.status != "pending" or instance.challenge_published_ms is None:
            return
        waits = int((self.backend.settings["validation_wait"] + self.backend.settings["review_wait"]) * 1000)
        if self._now_ms() >= instance.challenge_published_ms + waits:
            self._issue(instance)

    def _dns_challenge_served(self, instance: Instance) -> bool:
        """The TXT records the instance hands out (DomainValidationList) are all served by the CAS emulator's
        `dns_resolver`; none before the challenge is shown, and HTTP validation needs the control call."""
        if instance.validation_method != "DNS":
            return False
        records = [(r["ValidationKey"], r["ValidationValue"]) for r in self.validation_list(instance)]
        return txt_records_served(self.backend.settings["dns_resolver"], records)

    def _issue(self, instance: Instance) -> None:
        private_key_pem, csr = "", instance.csr
        if instance.generate_csr_method != "upload" or not csr:
            private_key_pem, csr = generate_key_and_csr(instance.domains)
        validity = timedelta(days=PRODUCTS[instance.product_code].validity_days)
        issued = self.backend.ca.issue(csr, instance.domains, not_after=self.backend.clock.now() + validity)
        cert_id = self.backend._new_cert_id()
        self.backend.certificates[cert_id] = Certificate(
            cert_id=cert_id,
            name=instance.certificate_name or f"cert-{instance.domains[0].removeprefix('*.')}-{cert_id}",
            certificate_pem=issued.certificate_pem + issued.chain_pem, private_key_pem=private_key_pem,
            upload=False, created_ms=self._now_ms(), instance_id=instance.instance_id,
            tags=[{"Key": t["TagKey"], "Value": t.get("TagValue", "")} for t in instance.tags],
            issued_ms=self._now_ms(), owner=instance.owner)
        instance.cert_id = cert_id
        instance.status = "normal"
        instance.challenge_token = ""

    def _now_ms(self) -> int:
        return now_ms(self.backend.clock)

    def _token(self) -> str:
        return self.backend.clock.now().strftime("%Y%m%d") + "000000" + secrets.token_hex(25)

    @staticmethod
    def _check_tags(tags: list[dict]) -> None:
        if len(tags) > MAX_TAGS:
            raise InvalidParameter("Tags", f"At most {MAX_TAGS} tags are allowed.")
        for tag in tags:
            key, value = tag.get("TagKey") or "", tag.get("TagValue") or ""
            if not key or len(key) > 64 or key.lower().startswith(("aliyun", "acs:")) or "://" in key:
                raise InvalidParameter("Tags", f"The tag key {key!r} is not valid.")
            if len(value) > 128 or value.lower().startswith(("aliyun", "acs:")) or "://" in value:
                raise InvalidParameter("Tags", f"The tag value {value!r} is not valid.")
