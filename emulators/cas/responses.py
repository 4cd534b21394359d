"""Turns SDK requests into backend calls and backend objects into CAS JSON.

JSON types follow the SDK 3.9.4 models exactly (their `from_map` does no coercion): e.g. `OrderId` is
a number everywhere, `CertId` is a string in DescribeCertificateState and a number in
UploadUserCertificate.
"""

from __future__ import annotations

import re

from emulators.cas import urls
from emulators.cas.auth import SignatureVerifier, access_key_id_of
from emulators.cas.exceptions import (
    InvalidActionNotFound, InvalidParameter, InvalidVersion, MissingParameter,
)
from emulators.cas.instance_actions import INSTANCE_ACTIONS, InstanceActions
from emulators.cas.models import DNS_RECORD_HOST, FILE_VALIDATION_URI, CasBackend
from emulators.cas.records import CERT_IDENTIFIER_REGION, PRODUCTS, Certificate, Order, datetime_to_ms
from emulators.cas.rpc import AlibabaRpcHooks, action_of, request_id
from emulators.core.api import ApiEmulator, Route
from emulators.core.ca import EmulatorCA, describe_certificate, split_pem_bundle
from emulators.core.clock import Clock
from emulators.core.http import ControlError, Request, Response, json_response

API_VERSION = "2020-04-07"
HOST_ID = "cas.aliyuncs.com"
DEFAULT_ORDER_PAGE_SIZE = 50

ACTIONS = {
    "CreateCertificateForPackageRequest": "create_certificate_for_package_request",
    "CreateCertificateWithCsrRequest": "create_certificate_with_csr_request",
    "CreateCertificateRequest": "create_certificate_request",
    "DescribeCertificateState": "describe_certificate_state",
    "DescribePackageState": "describe_package_state",
    "CancelOrderRequest": "cancel_order_request",
    "DeleteCertificateRequest": "delete_certificate_request",
    "CancelCertificateForPackageRequest": "cancel_certificate_for_package_request",
    "RenewCertificateOrderForPackageRequest": "renew_certificate_order_for_package_request",
    "ListUserCertificateOrder": "list_user_certificate_order",
    "GetUserCertificateDetail": "get_user_certificate_detail",
    "UploadUserCertificate": "upload_user_certificate",
    "DeleteUserCertificate": "delete_user_certificate",
}

# Requests per second per account, as the SDK 2.0.4 doc comments publish them (reference/alibaba-cas.md §8);
# Create*, DescribeCertificateState, DescribePackageState and Renew have none documented.
PUBLISHED_RATES = {
    "CancelOrderRequest": 100, "CancelCertificateForPackageRequest": 10, "GetUserCertificateDetail": 100,
    "UploadUserCertificate": 100, "DeleteUserCertificate": 100, "ListUserCertificateOrder": 10,
}


class CasApi(AlibabaRpcHooks, ApiEmulator):
    name = "cas"
    host_id, product, action_not_found = HOST_ID, "cas", InvalidActionNotFound  # AlibabaRpcHooks
    published_rates = PUBLISHED_RATES

    def __init__(self, credentials: dict[str, str], clock: Clock | None = None, ca: EmulatorCA | None = None,
                 check_nonce: bool = True, max_clock_skew: float | None = None, account_plan: str = "both",
                 seed_instances: int = 0, **backend_settings):
        """`credentials` = {access key id: secret}; `backend_settings` go to CasBackend. V2.0 instances
        (emulators/cas/instances.py): `account_plan` v1 | v2 | both; `seed_instances` per product at start."""
        super().__init__(clock, ca)
        self.backend = CasBackend(self.clock, self.ca, **backend_settings)
        self.instance_actions = InstanceActions(self.backend.instances)
        self.backend.instances.update_settings({"account_plan": account_plan})
        self.backend.instances.seed(seed_instances)
        self.verifier = SignatureVerifier(credentials, self.clock, check_nonce, max_clock_skew)

    # ----- plug-in hooks -----

    def routes(self) -> list[Route]:
        return [Route(method, pattern, getattr(self, handler)) for method, pattern, handler in urls.API_PATHS]

    def control_routes(self) -> list[Route]:
        return ([Route(method, pattern, getattr(self, handler)) for method, pattern, handler in urls.CONTROL_PATHS]
                + self.instance_actions.control_routes())

    # ----- dispatch -----

    def dispatch(self, request: Request, match: re.Match) -> Response:
        action = action_of(request)
        version = request.header("x-acs-version") or request.params.get("Version")
        if action in INSTANCE_ACTIONS:  # V2.0 instances: emulators/cas/instance_actions.py
            if version != API_VERSION:
                raise InvalidVersion(version or "")
            body = getattr(self.instance_actions, INSTANCE_ACTIONS[action])(
                _Params(request, access_key_id_of(request)))
            rid = request_id()
            return json_response(200, {"RequestId": rid, **body}, {"x-acs-request-id": rid})
        self.backend.instances.check_v1_call(action)  # a V2.0-only account: InsufficientQuota
        if action not in ACTIONS:
            raise InvalidActionNotFound(action)
        if version != API_VERSION:
            raise InvalidVersion(version or "")
        # Every access key is an account of its own: it sees only what it placed (models.py).
        body = getattr(self, ACTIONS[action])(_Params(request, access_key_id_of(request)))
        rid = request_id()
        return json_response(200, {"RequestId": rid, **body}, {"x-acs-request-id": rid})

    # ----- operations -----

    def create_certificate_for_package_request(self, params: "_Params") -> dict:
        order = self.backend.create_certificate_for_package(
            params.str("ProductCode"), params.str("Domain"), params.str("Csr"), params.str("ValidateType"),
            params.contact(), params.str("CompanyName"), params.tags(), account=params.account,
        )
        return {"OrderId": order.order_id}

    def create_certificate_with_csr_request(self, params: "_Params") -> dict:
        order = self.backend.create_certificate_with_csr(
            params.str("ProductCode"), params.str("Csr"), params.str("ValidateType"), params.contact(),
            params.tags(), account=params.account,
        )
        return {"OrderId": order.order_id}

    def create_certificate_request(self, params: "_Params") -> dict:
        order = self.backend.create_certificate(
            params.str("ProductCode"), params.str("Domain"), params.str("ValidateType"), params.contact(),
            params.tags(), account=params.account,
        )
        return {"OrderId": order.order_id}

    def describe_certificate_state(self, params: "_Params") -> dict:
        order = self.backend.describe_order(params.int("OrderId"), params.account)
        return self._order_state(order, challenge_shown=self.backend.challenge_read(order))

    def describe_package_state(self, params: "_Params") -> dict:
        package = self.backend.describe_package(params.str("ProductCode"))
        return {
            "ProductCode": package.product_code,
            "TotalCount": package.total_count,
            "UsedCount": package.used_count,
            "IssuedCount": package.issued_count,
        }

    def cancel_order_request(self, params: "_Params") -> dict:
        self.backend.cancel_order(params.int("OrderId"), params.account)
        return {}

    def delete_certificate_request(self, params: "_Params") -> dict:
        self.backend.delete_order(params.int("OrderId"), params.account)
        return {}

    def cancel_certificate_for_package_request(self, params: "_Params") -> dict:
        self.backend.cancel_certificate_for_package(params.int("OrderId"), params.account)
        return {}

    def renew_certificate_order_for_package_request(self, params: "_Params") -> dict:
        order = self.backend.renew_order(params.int("OrderId"), params.str("Csr"), params.tags(), params.account)
        return {"OrderId": order.order_id}

    def list_user_certificate_order(self, params: "_Params") -> dict:
        order_type = params.str("OrderType") or "CPACK"
        keyword, status = params.str("Keyword"), params.str("Status")
        current_page = params.int("CurrentPage", default=1)
        show_size = params.int("ShowSize", default=DEFAULT_ORDER_PAGE_SIZE)
        if current_page < 1 or show_size < 1:
            raise InvalidParameter("", "CurrentPage and ShowSize must be positive.")
        if order_type == "CPACK":
            items = [self._order_item(o) for o in self.backend.list_orders(keyword, status, params.account)]
        elif order_type == "BUY":
            items = []  # the emulator has resource-plan orders only
        elif order_type in ("CERT", "UPLOAD"):
            certificates = self.backend.list_certificates(
                order_type == "UPLOAD", keyword, status, params.str("ResourceGroupId"), params.account
            )
            items = [self._certificate_item(c) for c in certificates]
        else:
            raise InvalidParameter("OrderType", "OrderType must be CPACK, BUY, UPLOAD or CERT.")
        start = (current_page - 1) * show_size
        return {
            "CertificateOrderList": items[start:start + show_size],
            "CurrentPage": current_page,
            "ShowSize": show_size,
            "TotalCount": len(items),
        }

    def get_user_certificate_detail(self, params: "_Params") -> dict:
        certificate = self.backend.get_certificate(params.int("CertId"), params.account)
        info = describe_certificate(certificate.certificate_pem)
        detail = {
            "Id": certificate.cert_id,
            "Name": certificate.name,
            "Common": info.common_name,
            "Sans": ",".join(info.dns_names),
            "CertIdentifier": f"{certificate.cert_id}-{CERT_IDENTIFIER_REGION}",
            "StartDate": info.not_before.strftime("%Y-%m-%d"),
            "EndDate": info.not_after.strftime("%Y-%m-%d"),
            "NotBefore": datetime_to_ms(info.not_before),
            "NotAfter": datetime_to_ms(info.not_after),
            "Expired": self.clock.now() >= info.not_after,
            "BuyInAliyun": not certificate.upload,
            "Fingerprint": info.sha1_fingerprint,
            "Sha2": info.sha256_fingerprint,
            "CertSha2": info.sha256_fingerprint,
            "SerialNo": info.serial_hex,
            "Issuer": info.issuer_common_name,
            "Algorithm": _alibaba_algorithm(info.key_algorithm),
            "InstanceId": certificate.instance_id,
            "ResourceGroupId": certificate.resource_group_id,
            "CertChain": [_chain_entry(pem, self.clock) for pem in split_pem_bundle(certificate.certificate_pem)],
            "Tags": [{"TagKey": t["Key"], "TagValue": t.get("Value", "")} for t in certificate.tags],
        }
        if certificate.order_id is not None:
            detail["OrderId"] = certificate.order_id
        if not params.bool("CertFilter"):
            detail["Cert"] = certificate.certificate_pem
            if certificate.private_key_pem:
                detail["Key"] = certificate.private_key_pem
        return detail

    def upload_user_certificate(self, params: "_Params") -> dict:
        certificate = self.backend.upload_certificate(
            params.str("Name"), params.str("Cert"), params.str("Key"), params.str("ClientToken"),
            params.str("ResourceGroupId"), params.tags(), account=params.account,
        )
        return {"CertId": certificate.cert_id, "ResourceId": certificate.instance_id}

    def delete_user_certificate(self, params: "_Params") -> dict:
        self.backend.delete_certificate(params.int("CertId"), params.account)
        return {}

    # ----- control hooks (/_emulator/cas/...) -----

    def control_publish_challenge(self, request: Request, match: re.Match) -> dict:
        return self._order_snapshot(self.backend.publish_challenge(int(match["order_id"])))

    def control_advance_order(self, request: Request, match: re.Match) -> dict:
        target = request.json().get("to")
        return self._order_snapshot(self.backend.advance_order(int(match["order_id"]), target))

    def control_fail_order(self, request: Request, match: re.Match) -> dict:
        return self._order_snapshot(self.backend.fail_order(int(match["order_id"])))

    def control_get_order(self, request: Request, match: re.Match) -> dict:
        return self._order_snapshot(self.backend.describe_order(int(match["order_id"])))

    def control_set_package(self, request: Request, match: re.Match) -> dict:
        body = request.json()
        if "product_code" not in body or "total_count" not in body:
            raise ControlError(400, "need product_code and total_count (null removes the plan)")
        package = self.backend.set_package(body["product_code"], body["total_count"])
        return {"product_code": body["product_code"], "total_count": package.total_count if package else None}

    def control_get_settings(self, request: Request, match: re.Match) -> dict:
        return dict(self.backend.settings)

    def control_update_settings(self, request: Request, match: re.Match) -> dict:
        self.backend.update_settings(request.json())  # ValueError -> 400 from the server
        return dict(self.backend.settings)

    # ----- rendering -----

    def _order_state(self, order: Order, challenge_shown: bool = True) -> dict:
        """`challenge_shown` False: a domain_verify order whose challenge still lags shows empty record fields."""
        # "revoked" is not a documented Type; Alibaba's catch-all spelling is "unknow".
        body = {"Type": order.state if order.state != "revoked" else "unknow"}
        if order.state == "domain_verify":
            body["ValidateType"] = order.validate_type
            if not challenge_shown:
                empty = ("RecordType", "RecordDomain", "RecordValue") if order.validate_type == "DNS" \
                    else ("Domain", "Uri", "Content")
                body.update(dict.fromkeys(empty, ""))
            elif order.validate_type == "DNS":
                record_domain = DNS_RECORD_HOST
                if self.backend.settings["record_domain_style"] == "fqdn":
                    record_domain = f"{DNS_RECORD_HOST}.{order.validation_domain}"
                body.update(RecordType="TXT", RecordDomain=record_domain, RecordValue=order.challenge_token)
            else:
                body.update(Domain=order.validation_domain, Uri=FILE_VALIDATION_URI, Content=order.challenge_token)
        elif order.state == "certificate":
            certificate = self.backend.certificates[order.cert_id]
            body.update(Certificate=certificate.certificate_pem, CertId=str(certificate.cert_id))
            if certificate.private_key_pem:
                body["PrivateKey"] = certificate.private_key_pem
        return body

    def _order_snapshot(self, order: Order) -> dict:
        return {"order_id": order.order_id, "state": order.state, "status": self.backend.order_status(order),
                "describe": self._order_state(order)}

    def _order_item(self, order: Order) -> dict:
        product = PRODUCTS[order.product_code]
        wildcard_count = sum(d.startswith("*.") for d in order.domains)
        item = {
            "OrderId": order.order_id,
            "InstanceId": order.instance_id,
            "AliyunOrderId": order.order_id,
            "PartnerOrderId": "",
            "ProductCode": order.product_code,
            "ProductName": product.name,
            "CertType": product.cert_type,
            "RootBrand": product.brand,
            "Domain": self.backend.listed_domain(order),  # the primary name, or all (order_domain_style)
            "DomainCount": len(order.domains),
            "WildDomainCount": wildcard_count,
            "DomainType": _domain_type(len(order.domains), wildcard_count),
            "Algorithm": "RSA",
            "BuyDate": order.buy_date_ms,
            "Status": self.backend.order_status(order),
            "SourceType": "cpack",
            "TrusteeStatus": "unTrustee",
        }
        if order.cert_id is not None:
            info = describe_certificate(self.backend.certificates[order.cert_id].certificate_pem)
            item.update(CertStartTime=datetime_to_ms(info.not_before), CertEndTime=datetime_to_ms(info.not_after),
                        Algorithm=_alibaba_algorithm(info.key_algorithm))
        return item

    def _certificate_item(self, certificate: Certificate) -> dict:
        info = describe_certificate(certificate.certificate_pem)
        return {
            "CertificateId": certificate.cert_id,
            "Name": certificate.name,
            "CommonName": info.common_name,
            "Sans": ",".join(info.dns_names),
            "StartDate": info.not_before.strftime("%Y-%m-%d"),
            "EndDate": info.not_after.strftime("%Y-%m-%d"),
            "Expired": self.clock.now() >= info.not_after,
            "Fingerprint": info.sha1_fingerprint,
            "Sha2": info.sha256_fingerprint,
            "SerialNo": info.serial_hex,
            "Issuer": info.issuer_common_name,
            "Upload": certificate.upload,
            "InstanceId": certificate.instance_id,
            "ResourceGroupId": certificate.resource_group_id,
        }


class _Params:
    """Typed access to the query parameters of one request, raising Alibaba-style errors; `account` is the
    access key that signed it."""

    def __init__(self, request: Request, account: str):
        self._query = request.query
        self._params = request.params
        self.account = account

    def str(self, name: str) -> str:
        return self._params.get(name, "")

    def int(self, name: str, default: int | None = None) -> int:
        text = self._params.get(name, "")
        if text == "":
            if default is None:
                raise MissingParameter(name)
            return default
        try:
            return int(text)  # never via float: order IDs exceed 2**53
        except ValueError:
            raise InvalidParameter(name, f"{name} must be an integer.") from None

    def bool(self, name: str) -> bool:
        # The Python SDK sends str(bool): "True"/"False".
        text = self._params.get(name, "").lower()
        if text not in ("", "true", "false"):
            raise InvalidParameter(name, f"{name} must be true or false.")
        return text == "true"

    def contact(self) -> dict:
        return {name: self.str(name) for name in ("Username", "Phone", "Email")}

    def tags(self, prefix: str = "Tags") -> list[dict]:
        """`Tags.N.Key` / `Tags.N.Value` (N from 1) as [{"Key", "Value"}] in N order."""
        by_index: dict[int, dict] = {}
        pattern = re.compile(rf"{re.escape(prefix)}\.(\d+)\.(Key|Value)")
        for key, value in self._query:
            found = pattern.fullmatch(key)
            if found:
                by_index.setdefault(int(found[1]), {})[found[2]] = value
        return [{"Key": tag.get("Key", ""), "Value": tag.get("Value", "")} for _, tag in sorted(by_index.items())]


def _alibaba_algorithm(key_algorithm: str) -> str:
    return {"EC": "ECC"}.get(key_algorithm, key_algorithm)


def _domain_type(count: int, wildcard_count: int) -> str:
    if wildcard_count == 0:
        return "ONE" if count == 1 else "MULTIPLE"
    if wildcard_count == count:
        return "WILDCARD" if count == 1 else "M_WILDCARD"
    return "MIX"


def _chain_entry(pem: str, clock: Clock) -> dict:
    info = describe_certificate(pem)
    return {
        "CommonName": info.common_name,
        "IssuerCommonName": info.issuer_common_name,
        "NotBefore": datetime_to_ms(info.not_before),
        "NotAfter": datetime_to_ms(info.not_after),
        "RemainDay": max(0, (info.not_after - clock.now()).days),
    }
