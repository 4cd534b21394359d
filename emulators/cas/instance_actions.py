"""The CAS V2.0 instance API actions: SDK requests -> InstanceBook calls -> JSON typed as the SDK 3.9.4 models.

Apart from instances.py, which keeps the instances' state and rules (InstanceBook): here only parsing of the
parameters, the answers' shapes and the control routes (/_emulator/cas/instances...). Dispatched from
responses.CasApi; `params` is responses._Params.
"""

from __future__ import annotations

import re

from emulators.cas.exceptions import InvalidParameter, MissingParameter
from emulators.cas.instances import DEFAULT_LIST_SIZE, MAX_LIST_SIZE, Instance, InstanceBook
from emulators.cas.records import CERT_IDENTIFIER_REGION, PRODUCTS
from emulators.core.api import Route
from emulators.core.ca import describe_certificate

INSTANCE_ACTIONS = {
    "ListInstances": "list_instances",
    "GetInstanceDetail": "get_instance_detail",
    "UpdateInstance": "update_instance",
    "ApplyCertificate": "apply_certificate",
    "CancelPendingCertificate": "cancel_pending_certificate",
    "RevokeCertificate": "revoke_certificate",
    "DeleteInstance": "delete_instance",
    "UntagResources": "untag_resources",
}


class InstanceActions:
    """Instance API requests -> InstanceBook calls -> JSON typed as the SDK 3.9.4 models expect."""

    def __init__(self, book: InstanceBook) -> None:
        self.book = book

    def list_instances(self, params) -> dict:
        current_page = params.int("CurrentPage", default=1)
        show_size = params.int("ShowSize", default=DEFAULT_LIST_SIZE)
        if current_page < 1 or not 1 <= show_size <= MAX_LIST_SIZE:
            raise InvalidParameter("", f"CurrentPage must be positive and ShowSize 1 to {MAX_LIST_SIZE}.")
        found = self.book.list(params.str("Keyword"), params.str("Status"), params.str("CertificateStatus"),
                               params.account)
        start = (current_page - 1) * show_size
        return {"InstanceList": [self._summary(i) for i in found[start:start + show_size]],
                "CurrentPage": current_page, "ShowSize": show_size, "TotalCount": len(found)}

    def get_instance_detail(self, params) -> dict:
        instance = self.book.get(params.str("InstanceId"), params.account)
        return {**self._summary(instance),
                "Csr": instance.csr, "GenerateCsrMethod": instance.generate_csr_method,
                "ValidationMethod": instance.validation_method, "ContactIdList": list(instance.contact_ids),
                **({"CompanyId": instance.company_id} if instance.company_id else {}),
                "DomainValidationList": self.book.validation_list(instance),
                "Tags": [{"TagKey": t["TagKey"], "TagValue": t.get("TagValue", "")} for t in instance.tags]}

    def update_instance(self, params) -> dict:
        fields = {"domain": params.str("Domain"), "csr": params.str("Csr"),
                  "generate_csr_method": params.str("GenerateCsrMethod"), "key_algorithm": params.str("KeyAlgorithm"),
                  "validation_method": params.str("ValidationMethod"),
                  "certificate_name": params.str("CertificateName"),
                  "contact_ids": _int_list(params, "ContactIdList") or None,
                  "company_id": params.int("CompanyId", default=0) or None,
                  "tags": _instance_tags(params)}
        self.book.update(params.str("InstanceId"), params.account, fields)
        return {}

    def apply_certificate(self, params) -> dict:
        self.book.apply(params.str("InstanceId"), params.account)
        return {}

    def cancel_pending_certificate(self, params) -> dict:
        self.book.cancel_pending(params.str("InstanceId"), params.account)
        return {}

    def revoke_certificate(self, params) -> dict:
        self.book.revoke(params.str("InstanceId"), params.int("CertificateId", default=0) or None, params.account)
        return {}

    def delete_instance(self, params) -> dict:
        self.book.delete(params.str("InstanceId"), params.account)
        return {}

    def untag_resources(self, params) -> dict:
        if not params.str("RegionId"):
            raise MissingParameter("RegionId")
        if params.str("ResourceType") != "instance":
            raise InvalidParameter("ResourceType", "ResourceType must be instance.")
        instance_ids, tag_keys = _str_list(params, "ResourceId"), _str_list(params, "TagKey")
        if not instance_ids:
            raise MissingParameter("ResourceId")
        remove_all = params.bool("All") and not tag_keys  # All applies only without TagKey.N (SDK doc comment)
        if not tag_keys and not remove_all:
            raise MissingParameter("TagKey")  # invented: nothing to remove
        self.book.untag(instance_ids, tag_keys, remove_all, params.account)
        return {}

    def _summary(self, instance: Instance) -> dict:
        product = PRODUCTS[instance.product_code]
        body = {
            "InstanceId": instance.instance_id, "InstanceType": "BUY", "Status": instance.status,
            "Brand": product.brand, "CertificateType": "DV" if product.cert_type == "FREE" else product.cert_type,
            "Spec": instance.product_code, "Domain": self.book.shown_domain(instance),
            "KeyAlgorithm": instance.key_algorithm,
            "CertificateName": instance.certificate_name, "FullDomainCount": instance.full_domain_count,
            "WildcardDomainCount": instance.wildcard_domain_count, "OrderStartTime": instance.order_start,
            "OrderEndTime": instance.order_end, "PendingResult": instance.pending_result, "AutoReissue": "disable",
        }
        if instance.cert_id is not None:
            info = describe_certificate(self.book.backend.certificates[instance.cert_id].certificate_pem)
            body.update(CertificateId=instance.cert_id, CertIdentifier=f"{instance.cert_id}-{CERT_IDENTIFIER_REGION}",
                        CertificateStatus=self.book.certificate_status(instance),
                        CertificateDomain=",".join(info.dns_names),
                        CertificateNotBefore=int(info.not_before.timestamp()),
                        CertificateNotAfter=int(info.not_after.timestamp()),
                        InstanceStartTime=int(info.not_before.timestamp()),
                        InstanceEndTime=int(info.not_after.timestamp()))
        return body

    # ----- control hooks (/_emulator/cas/instances...) -----

    def control_routes(self) -> list:
        return [Route("POST", r"instances", self.control_buy),
                Route("GET", r"instance-settings", lambda request, match: dict(self.book.settings)),
                Route("POST", r"instance-settings", self.control_update_settings),
                Route("GET", r"instances/(?P<instance_id>[a-z0-9_-]+)", self.control_get),
                Route("POST", r"instances/(?P<instance_id>[a-z0-9_-]+)/publish", self.control_publish),
                Route("POST", r"instances/(?P<instance_id>[a-z0-9_-]+)/reissue", self.control_reissue)]

    def control_buy(self, request, match) -> dict:
        """{product_code, account?, instance_id?, full_domain_count?, wildcard_domain_count?}"""
        body = request.json()
        if not body.get("product_code"):
            raise ValueError("need product_code")
        instance = self.book.buy(body["product_code"], body.get("account"), body.get("instance_id"),
                                 body.get("full_domain_count"), body.get("wildcard_domain_count"))
        return self.control_snapshot(instance)

    def control_get(self, request, match) -> dict:
        return self.control_snapshot(self.book.get(match["instance_id"]))

    def control_publish(self, request, match) -> dict:
        return self.control_snapshot(self.book.publish(match["instance_id"]))

    def control_reissue(self, request, match) -> dict:
        return self.control_snapshot(self.book.reissue(match["instance_id"]))

    def control_update_settings(self, request, match) -> dict:
        self.book.update_settings(request.json())  # ValueError -> 400
        return dict(self.book.settings)

    def control_snapshot(self, instance: Instance) -> dict:
        return {"instance_id": instance.instance_id, "status": instance.status, "domain": instance.domain,
                "product_code": instance.product_code, "cert_id": instance.cert_id,
                "validation": self.book.validation_list(instance)}


def _int_list(params, name: str) -> list[int]:
    """`ContactIdList.1=…&ContactIdList.2=…` (the SDK's int-list form) in index order."""
    found = {}
    for key, value in params._query:
        match = re.fullmatch(rf"{name}\.(\d+)", key)
        if match:
            try:
                found[int(match[1])] = int(value)
            except ValueError:
                raise InvalidParameter(name, f"{name} must hold integers.") from None
    return [found[k] for k in sorted(found)]


def _str_list(params, name: str) -> list[str]:
    """`ResourceId.1=…&ResourceId.2=…` (the SDK's flattened list) in index order."""
    found = {}
    for key, value in params._query:
        match = re.fullmatch(rf"{name}\.(\d+)", key)
        if match:
            found[int(match[1])] = value
    return [found[k] for k in sorted(found)]


def _instance_tags(params) -> list[dict] | None:
    """UpdateInstance's `Tags.N.TagKey` / `Tags.N.TagValue` (not Key/Value); None when no tag was sent."""
    by_index: dict[int, dict] = {}
    for key, value in params._query:
        match = re.fullmatch(r"Tags\.(\d+)\.(TagKey|TagValue)", key)
        if match:
            by_index.setdefault(int(match[1]), {})[match[2]] = value
    if not by_index:
        return None
    return [{"TagKey": t.get("TagKey", ""), "TagValue": t.get("TagValue", "")} for _, t in sorted(by_index.items())]
