"""CAS backend: resource plans (packages), certificate orders and certificates, with Alibaba's rules.

What is emulated: the resource-plan ("CPACK") order lifecycle of CAS API 2020-04-07 and uploaded
certificates. Accounts: every access key stands for an account of its own, so orders and certificates are
visible only to the access key that placed or uploaded them (another key gets NotFound, as another account
would); the control API sees them all, and resource plans (packages) are shared by every key. What is
not: purchases (BUY orders), OV company checks against "Information Management", CNAME validation, SM
certificates. V2.0 certificate instances live in emulators/cas/instances.py (InstanceBook, held here as
`self.instances` and saved with this backend's state). Here: CasBackend with the order state machine,
packages and persistence; the records it keeps are in records.py, the certificate store (status, list,
upload, delete) in certificates.py and the request checks in checks.py (both mixins of CasBackend).

Order states (`DescribeCertificateState.Type`): payed -> domain_verify -> process -> certificate, or
verify_fail; plus "revoked" after CancelCertificateForPackageRequest (reported as Type "unknow").
Transitions after submission happen lazily when an order is read: once the challenge is published
(control API) and `validation_wait` seconds passed the order is in review (process); `review_wait`
seconds later it is issued. The control API can also force or fail a transition. ListUserCertificateOrder
shows an order's primary name only by default (`order_domain_style`), and a new order's challenge may lag it
(`challenge_lag_reads`), and the CA may add a free name to a DV certificate (`free_extra_name`): see
CasBackend.__init__. With the setting `dns_resolver` (`--dns-resolver HOST:PORT`) a DNS challenge also
counts as published from the first read at which that DNS server serves its TXT record
(emulators/core/dns_check.py).
"""

from __future__ import annotations

import secrets
import string
from dataclasses import asdict
from datetime import datetime, timedelta

from emulators.cas.certificates import CertificateStore
from emulators.cas.checks import RequestChecks
from emulators.cas.exceptions import (
    InvalidParameter, MissingParameter, NotFound, NotFoundPackage, NotRemainCount,
    OperationDeniedStatusNotSupport,
)
from emulators.cas.instances import InstanceBook
from emulators.cas.records import (
    DEFAULT_PRODUCT_CODE, DV_PRODUCT_CODES, PRODUCTS, Certificate, Order, Package, _check_product_code,
    _keyword_matches, _visible, is_wildcard_product, ms_to_datetime, now_ms,
)
from emulators.core.ca import EmulatorCA, generate_key_and_csr
from emulators.core.clock import Clock
from emulators.core.dns_check import parse_resolver, txt_records_served


# Revoking an issued certificate gives the plan unit back only this soon after issuance.
QUOTA_REFUND_WINDOW = timedelta(days=30)
DNS_RECORD_HOST = "_dnsauth"
FILE_VALIDATION_URI = "/.well-known/pki-validation/fileauth.txt"
# Order IDs above 2**53 (as in Alibaba's docs) so a client that routes them through floats breaks.
FIRST_ORDER_ID = 98987582437920968
FIRST_CERT_ID = 12000001

# ListUserCertificateOrder Status for each order state (mapping inferred, see the reference).
ORDER_STATUS = {
    "payed": "PAYED", "domain_verify": "CHECKING", "process": "CHECKING", "verify_fail": "CHECKED_FAIL",
    "revoked": "REVOKED",
}


# ListUserCertificateOrder's `Domain` of an order: its primary name only (the CSR's CN, or the first name), as
# every published sample shows one name (reference A1), or every name comma-joined, CN first.
ORDER_DOMAIN_STYLES = ("primary", "all")
SETTINGS = ("package_total", "validation_wait", "review_wait", "record_domain_style", "list_lag",
            "order_domain_style", "challenge_lag_reads", "free_extra_name", "dns_resolver")


class CasBackend(RequestChecks, CertificateStore):
    def __init__(self, clock: Clock, ca: EmulatorCA, package_total: int = 20, validation_wait: float = 0,
                 review_wait: float = 0, record_domain_style: str = "relative", list_lag: float = 0,
                 order_domain_style: str = "primary", challenge_lag_reads: int = 0, free_extra_name: bool = False,
                 dns_resolver: str = ""):
        """`package_total` units are pre-bought for every ProductCode after a reset; waits are in
        seconds of the emulator clock; `record_domain_style` is "relative" (`_dnsauth`, as Alibaba's
        examples show) or "fqdn" (`_dnsauth.example.com`); `list_lag` seconds pass before ListUserCertificateOrder
        shows a new order (eventual consistency, to exercise clients that look for an order right after buying);
        `order_domain_style` is ListUserCertificateOrder's `Domain` for an order: "primary" (the CSR's CN, or the
        first name: every published sample has one name) or "all" (every name comma-joined, CN first);
        `challenge_lag_reads`: DescribeCertificateState reads of a new order in domain_verify that show empty
        record fields before the challenge (other tools see it lag the order); `free_extra_name`: the CA adds a
        free name to the certificate of a one-name DV order (`www.` + the name, or the bare name of a `www.` or
        wildcard name), as CAS reportedly does; the order itself (list, DomainCount) keeps its own names;
        `dns_resolver` "HOST:PORT" of a DNS server that DNS challenges are looked up on ("": publish only)."""
        self.clock = clock
        self.ca = ca
        self.settings: dict = {}
        self.update_settings({
            "package_total": package_total,
            "validation_wait": validation_wait,
            "review_wait": review_wait,
            "record_domain_style": record_domain_style,
            "list_lag": list_lag,
            "order_domain_style": order_domain_style,
            "challenge_lag_reads": challenge_lag_reads,
            "free_extra_name": free_extra_name,
            "dns_resolver": dns_resolver,
        })
        self.instances = InstanceBook(self)
        self.reset()

    def update_settings(self, changes: dict) -> None:
        """Raises ValueError for an unknown setting or a bad value (nothing is changed then)."""
        unknown = set(changes) - set(SETTINGS)
        if unknown:
            raise ValueError(f"unknown settings: {sorted(unknown)}")
        for name in ("package_total", "validation_wait", "review_wait", "list_lag"):
            if name in changes and (not isinstance(changes[name], (int, float)) or changes[name] < 0):
                raise ValueError(f"{name} must be a number >= 0")
        lag_reads = changes.get("challenge_lag_reads", 0)
        if not isinstance(lag_reads, int) or isinstance(lag_reads, bool) or lag_reads < 0:
            raise ValueError("challenge_lag_reads must be an integer >= 0")
        if changes.get("record_domain_style", "relative") not in ("relative", "fqdn"):
            raise ValueError("record_domain_style must be relative or fqdn")
        if not isinstance(changes.get("free_extra_name", False), bool):
            raise ValueError("free_extra_name must be true or false")
        if changes.get("order_domain_style", "primary") not in ORDER_DOMAIN_STYLES:
            raise ValueError("order_domain_style must be primary or all")
        if not isinstance(changes.get("dns_resolver", ""), str):
            raise ValueError("dns_resolver must be a string, HOST:PORT or empty")
        parse_resolver(changes.get("dns_resolver", ""))  # ValueError for a bad one
        self.settings.update(changes)

    # ----- persistence -----

    def reset(self) -> None:
        self.packages = {code: Package(code, self.settings["package_total"]) for code in PRODUCTS}
        self.orders: dict[int, Order] = {}
        self.certificates: dict[int, Certificate] = {}
        self.next_order_id = FIRST_ORDER_ID
        self.next_cert_id = FIRST_CERT_ID
        self.instances.reset()

    def to_state(self) -> dict:
        # Settings are configuration (flags, constructor) and are not saved: a restart applies new flags.
        return {
            "packages": [asdict(p) for p in self.packages.values()],
            # Keys are strings in JSON, so keep lists and rebuild the ID maps on load.
            "orders": [asdict(o) for o in self.orders.values()],
            "certificates": [asdict(c) for c in self.certificates.values()],
            "next_order_id": self.next_order_id,
            "next_cert_id": self.next_cert_id,
            "instances": self.instances.to_state(),
        }

    def load_state(self, state: dict) -> None:
        self.packages = {p["product_code"]: Package(**p) for p in state["packages"]}
        self.orders = {o["order_id"]: Order(**o) for o in state["orders"]}
        self.certificates = {c["cert_id"]: Certificate(**c) for c in state["certificates"]}
        self.next_order_id = state["next_order_id"]
        self.next_cert_id = state["next_cert_id"]
        self.instances.load_state(state.get("instances", []))  # absent in state files from before instances

    # ----- orders -----

    def create_certificate_for_package(self, product_code: str, domain: str, csr: str, validate_type: str,
                                       contact: dict, company_name: str, tags: list[dict],
                                       account: str | None = None) -> Order:
        """CreateCertificateForPackageRequest: any plan; Domain and/or Csr (the CSR's names win);
        contact fields optional (CAS would use the latest saved contact)."""
        product_code = _check_product_code(product_code or DEFAULT_PRODUCT_CODE)
        if csr:
            domains = self._names_from_csr(csr)
        elif domain:
            domains = self._check_domains([d.strip() for d in domain.split(",")])
        else:
            raise MissingParameter("Domain")
        return self._submit_order(product_code, domains, csr, validate_type or "DNS", contact, company_name,
                                  tags, account=account)

    def create_certificate(self, product_code: str, domain: str, validate_type: str, contact: dict,
                           tags: list[dict], account: str | None = None) -> Order:
        """CreateCertificateRequest: DV plans only, exactly one domain whose kind matches the plan,
        contact required; CAS generates the key."""
        product_code = self._check_dv_product(product_code)
        self._require_contact(contact)
        if not domain:
            raise MissingParameter("Domain")
        domains = self._check_domains([d.strip() for d in domain.split(",")])
        if len(domains) != 1:
            raise InvalidParameter("Domain", "CreateCertificateRequest accepts exactly one domain name.")
        if domains[0].startswith("*.") != is_wildcard_product(product_code):
            raise InvalidParameter(
                "Domain", f"The domain {domains[0]} does not match the specification {product_code}."
            )
        return self._submit_order(product_code, domains, "", validate_type or "DNS", contact, "", tags,
                                  account=account)

    def create_certificate_with_csr(self, product_code: str, csr: str, validate_type: str, contact: dict,
                                    tags: list[dict], account: str | None = None) -> Order:
        """CreateCertificateWithCsrRequest: DV plans only; Csr, contact and ValidateType required."""
        product_code = self._check_dv_product(product_code)
        if not csr:
            raise MissingParameter("Csr")
        self._require_contact(contact)
        if not validate_type:
            raise MissingParameter("ValidateType")
        domains = self._names_from_csr(csr)
        return self._submit_order(product_code, domains, csr, validate_type, contact, "", tags, account=account)

    def describe_order(self, order_id: int, account: str | None = None) -> Order:
        """`account`: the access key asking (None: the control API, which sees every order)."""
        order = self._order(order_id, account)
        self._advance_lazily(order)
        return order

    def challenge_read(self, order: Order) -> bool:
        """One DescribeCertificateState read of `order`: does it show the challenge yet? The first
        `challenge_lag_reads` reads in domain_verify show empty record fields (the challenge lags the order)."""
        if order.state != "domain_verify":
            return True
        order.challenge_reads += 1
        return order.challenge_reads > self.settings["challenge_lag_reads"]

    def listed_domain(self, order: Order) -> str:
        """ListUserCertificateOrder's `Domain` for `order` (setting order_domain_style)."""
        if self.settings["order_domain_style"] == "all":
            return ",".join(order.domains)
        return order.domains[0]  # CN first for a CSR order (_names_from_csr)

    def cancel_order(self, order_id: int, account: str | None = None) -> None:
        """CancelOrderRequest: while validating or under review; the order goes back to payed."""
        order = self.describe_order(order_id, account)
        if order.state not in ("domain_verify", "process"):
            raise OperationDeniedStatusNotSupport(f"The order in status {order.state} cannot be cancelled.")
        order.state = "payed"
        order.challenge_published_ms = None
        order.process_started_ms = None

    def delete_order(self, order_id: int, account: str | None = None) -> None:
        """DeleteCertificateRequest: only failed or cancelled (payed) orders; the plan unit comes back."""
        order = self.describe_order(order_id, account)
        if order.state not in ("verify_fail", "payed"):
            raise OperationDeniedStatusNotSupport(f"The order in status {order.state} cannot be deleted.")
        self.packages[order.product_code].used_count -= 1
        del self.orders[order_id]

    def cancel_certificate_for_package(self, order_id: int, account: str | None = None) -> None:
        """CancelCertificateForPackageRequest: revoke an issued certificate and close the order; the
        plan unit comes back only within 30 days of issuance."""
        order = self.describe_order(order_id, account)
        if order.state != "certificate":
            raise OperationDeniedStatusNotSupport(
                f"Only an issued certificate can be revoked; the order is in status {order.state}."
            )
        certificate = self.certificates[order.cert_id]
        if self.clock.now() - ms_to_datetime(certificate.issued_ms) <= QUOTA_REFUND_WINDOW:
            self.packages[order.product_code].used_count -= 1
        certificate.revoked = True
        order.state = "revoked"

    def renew_order(self, order_id: int, csr: str, tags: list[dict], account: str | None = None) -> Order:
        """RenewCertificateOrderForPackageRequest: when the order's certificate is about to expire,
        place a new order in state payed (applying for it is a console step: control API `advance`)."""
        order = self.describe_order(order_id, account)
        if self.order_status(order) != "WILLEXPIRED":
            raise OperationDeniedStatusNotSupport(
                f"Only an order whose certificate is about to expire can be renewed (status "
                f"{self.order_status(order)})."
            )
        domains = self._names_from_csr(csr) if csr else list(order.domains)
        renewal = self._submit_order(order.product_code, domains, csr, order.validate_type, order.contact,
                                     order.company_name, tags or order.tags, state="payed",
                                     account=order.owner or account)
        renewal.renewed_from_order_id = order.order_id
        return renewal

    def list_orders(self, keyword: str, status: str, account: str | None = None) -> list[Order]:
        """CPACK orders of `account` (None: all), newest first. `keyword` is a case-insensitive substring of a
        domain or of the order's resource (instance) ID, which is what Alibaba documents for Keyword."""
        result = []
        for order in sorted(self.orders.values(), key=lambda o: (o.buy_date_ms, o.order_id), reverse=True):
            if not _visible(order.owner, account):
                continue
            self._advance_lazily(order)
            if status and self.order_status(order) != status:
                continue
            if keyword and not _keyword_matches(keyword, order.domains + [order.instance_id]):
                continue
            if now_ms(self.clock) - order.buy_date_ms < self.settings["list_lag"] * 1000:
                continue  # not listed yet
            result.append(order)
        return result

    def order_status(self, order: Order) -> str:
        if order.state == "certificate":
            return self.certificate_status(self.certificates[order.cert_id])
        return ORDER_STATUS[order.state]

    # ----- control hooks -----

    def publish_challenge(self, order_id: int) -> Order:
        """The customer published the DNS record or file; validation then completes lazily."""
        order = self._order(order_id)
        if order.state != "domain_verify":
            raise OperationDeniedStatusNotSupport(f"The order in status {order.state} has no open challenge.")
        order.challenge_published_ms = now_ms(self.clock)
        return self.describe_order(order_id)

    def advance_order(self, order_id: int, target: str | None) -> Order:
        """Force the next state (payed -> domain_verify -> process -> certificate) or `target`."""
        order = self.describe_order(order_id)
        steps = ["payed", "domain_verify", "process", "certificate"]
        if order.state not in steps[:-1]:
            raise OperationDeniedStatusNotSupport(f"The order in status {order.state} cannot advance.")
        target = target or steps[steps.index(order.state) + 1]
        if target not in steps or steps.index(target) <= steps.index(order.state):
            raise OperationDeniedStatusNotSupport(f"Cannot advance from {order.state} to {target}.")
        while order.state != target:
            self._enter_state(order, steps[steps.index(order.state) + 1])
        return order

    def fail_order(self, order_id: int) -> Order:
        order = self.describe_order(order_id)
        if order.state not in ("domain_verify", "process"):
            raise OperationDeniedStatusNotSupport(f"The order in status {order.state} cannot fail review.")
        order.state = "verify_fail"
        return order

    def set_package(self, product_code: str, total_count: int | None) -> Package | None:
        """Set a plan's purchased units; None removes the plan (NotFoundPackage from then on)."""
        _check_product_code(product_code)
        if total_count is None:
            self.packages.pop(product_code, None)
            return None
        package = self.packages.setdefault(product_code, Package(product_code, 0))
        package.total_count = int(total_count)
        return package

    # ----- packages -----

    def describe_package(self, product_code: str) -> Package:
        product_code = _check_product_code(product_code or DEFAULT_PRODUCT_CODE)
        package = self.packages.get(product_code)
        if package is None:
            raise NotFoundPackage(product_code)
        return package

    # ----- certificates -----

    # ----- internals -----

    def _submit_order(self, product_code: str, domains: list[str], csr: str, validate_type: str,
                      contact: dict, company_name: str, tags: list[dict], state: str = "domain_verify",
                      account: str | None = None) -> Order:
        if validate_type not in ("DNS", "FILE"):
            raise InvalidParameter("ValidateType", "ValidateType must be DNS or FILE.")
        if contact.get("Email") and "@" not in contact["Email"]:
            raise InvalidParameter("Email", f"The email address {contact['Email']} is not valid.")
        self._check_tags(tags)
        package = self.packages.get(product_code)
        if package is None:
            raise NotFoundPackage(product_code)
        if package.remaining <= 0:
            raise NotRemainCount(product_code)
        # Consumed on submission, as the SDK docs and the English WithCsr page say.
        package.used_count += 1
        order_id = self.next_order_id
        self.next_order_id += 1
        order = Order(
            order_id=order_id, instance_id=f"cas-cn-{secrets.token_hex(6)}", product_code=product_code,
            domains=domains, validate_type=validate_type, state="payed", buy_date_ms=now_ms(self.clock),
            csr=csr, contact=contact, company_name=company_name, tags=tags, owner=account or "",
        )
        self.orders[order_id] = order
        if state == "domain_verify":
            self._enter_state(order, "domain_verify")
        return order

    def _enter_state(self, order: Order, state: str) -> None:
        if state == "domain_verify":
            order.challenge_token = _challenge_token(self.clock.now())
            order.challenge_published_ms = None
            order.challenge_reads = 0
        elif state == "process":
            order.process_started_ms = now_ms(self.clock)
        elif state == "certificate":
            self._issue(order)
        order.state = state

    def _advance_lazily(self, order: Order) -> None:
        now = now_ms(self.clock)
        record = (f"{DNS_RECORD_HOST}.{order.validation_domain}", order.challenge_token)
        if order.state == "domain_verify" and order.challenge_published_ms is None and order.validate_type == "DNS" \
                and txt_records_served(self.settings["dns_resolver"], [record]):
            order.challenge_published_ms = now  # the CA saw the record: published from now
        if order.state == "domain_verify" and order.challenge_published_ms is not None:
            validated_at = order.challenge_published_ms + int(self.settings["validation_wait"] * 1000)
            if now >= validated_at:
                order.state = "process"
                order.process_started_ms = validated_at
        if order.state == "process" and order.process_started_ms is not None:
            if now >= order.process_started_ms + int(self.settings["review_wait"] * 1000):
                self._enter_state(order, "certificate")

    def _issue(self, order: Order) -> None:
        private_key_pem = ""
        csr = order.csr
        if not csr:
            private_key_pem, csr = generate_key_and_csr(order.domains)
        validity = timedelta(days=PRODUCTS[order.product_code].validity_days)
        issued = self.ca.issue(csr, order.domains + self._free_names(order), not_after=self.clock.now() + validity)
        cert_id = self._new_cert_id()
        self.certificates[cert_id] = Certificate(
            cert_id=cert_id, name=f"cert-{order.validation_domain}-{cert_id}",
            certificate_pem=issued.certificate_pem + issued.chain_pem, private_key_pem=private_key_pem,
            upload=False, created_ms=now_ms(self.clock), order_id=order.order_id,
            instance_id=order.instance_id, tags=list(order.tags), issued_ms=now_ms(self.clock), owner=order.owner,
        )
        order.cert_id = cert_id
        self.packages[order.product_code].issued_count += 1

    def _free_names(self, order: Order) -> list[str]:
        """The free name the CA adds (setting free_extra_name) to a one-name DV order's certificate."""
        dv = order.product_code in DV_PRODUCT_CODES
        if not (self.settings["free_extra_name"] and dv and len(order.domains) == 1):
            return []
        name = order.domains[0]
        bare = name.removeprefix("*.").removeprefix("www.")
        return [bare if bare != name else f"www.{name}"]

    def _new_cert_id(self) -> int:
        cert_id = self.next_cert_id
        self.next_cert_id += 1
        return cert_id

    def _order(self, order_id: int, account: str | None = None) -> Order:
        order = self.orders.get(order_id)
        if order is None or not _visible(order.owner, account):  # another account's order: as if none
            raise NotFound(f"The order {order_id} does not exist.")
        return order


def _challenge_token(now: datetime) -> str:
    # Same shape as Alibaba's example: a date stamp, then lower-case alphanumerics (64 chars).
    alphabet = string.ascii_lowercase + string.digits
    return now.strftime("%Y%m%d") + "000000" + "".join(secrets.choice(alphabet) for _ in range(50))

