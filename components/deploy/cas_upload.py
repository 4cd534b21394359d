"""Alibaba CAS as a deployment target: a certificate of another cloud uploaded (UploadUserCertificate), so Alibaba
CDN, SLB and ALB can use it by its CertId.

Environment: as components/alicloud/client.py (ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET, endpoint override).
CAS actions used: UploadUserCertificate, GetUserCertificateDetail, ListUserCertificateOrder (OrderType UPLOAD),
DeleteUserCertificate.

The resource's id is stable (its identity, `<project>/<stack>/deploy:<source>:alicloud`); the copy it holds now
is `cert_id`. Lifecycle (material and pending sources: material.py):
- create: upload `<name>-<8 hex of the leaf's fingerprint>`, tagged certfleet-resource=<identity>, with a
  ClientToken derived from the identity and the fingerprint: a retry, or a rerun after a crash, gets the copy it
  made back instead of a second one. A name CAS already holds is adopted only when its tag and fingerprint prove
  it is this resource's copy.
- update (the source renewed): upload the new copy, then delete the previous one. When CAS refuses to delete it
  (in use by CDN/SLB, or any other refusal) it is kept and listed in `kept_cert_ids`, and the status message
  says so; later updates and the delete try again.
- read: the copy gone from CAS -> the resource leaves the state, `pulumi up` uploads it again.
- delete: only copies whose certfleet-resource tag is this resource's; not-found is success.
The key travels in UploadUserCertificate only, in the URL's query (CAS is RPC-style); it is a secret input and
output, and no error text holds it: URL queries are cut from every CAS error (alicloud/client.py), the upload's
error is scrubbed of the key in every encoding, and NoKeyText withholds any text that still shows it
(components/key_text.py). Reads and deletes ask GetUserCertificateDetail with CertFilter=True (no certificate,
no key); only the look for a copy a lost answer left compares the certificate itself.
"""

from __future__ import annotations

import hashlib
from typing import Any, Mapping

import pulumi

from components.alicloud import client as cas_api
from components.deploy import material
from components.deploy.copies import CopyProvider
from components.dynamic import CertfleetResource, tell_user
from components.errors import CloudError
from components.key_text import scrubbed_error

RESOURCE_TAG = "certfleet-resource"
INPUT_KEYS = ("source", "resource_tag", "name", *material.MATERIAL_KEYS, "source_pending")
OUTPUT_KEYS = ("cert_id", "copy_name", "fingerprint", "not_after", "status", "status_message", "kept_cert_ids",
               "owner")
SECRET_OUTPUTS = ["private_key_pem"]
NOT_FOUND = ("NotFound",)


def client_token(resource_tag: str, certificate_pem: str) -> str:
    """Same copy, same token: CAS answers a repeated token with the certificate it made (ClientToken <= 64)."""
    return hashlib.sha256(f"{resource_tag}|{material.fingerprint(certificate_pem)}".encode()).hexdigest()[:32]


class CasUploadProvider(CopyProvider):
    """One certificate uploaded to CAS from another cloud (the lifecycle: copies.py)."""

    cloud, made, copy_key, kept_key = "CAS", "uploaded to CAS", "cert_id", "kept_cert_ids"
    input_keys = INPUT_KEYS

    def _exists(self, props: Mapping[str, Any], copy_id: str, resource: str) -> bool:
        return self._detail(copy_id, resource) is not None

    def _owner(self, props: Mapping[str, Any]) -> dict[str, str]:
        return cas_api.current_owner()

    def _call(self, action: str, resource: str, send: Any, private_key_pem: str | None = None) -> Any:
        """One CAS call. With `private_key_pem` (the upload, whose query carries the key): its error text is
        scrubbed of the key in every encoding here already, not only by NoKeyText."""
        to_error = None if private_key_pem is None else (
            lambda err: scrubbed_error(cas_api.to_cloud_error(action, resource, err), private_key_pem))
        return cas_api.call(action, resource, send, clock=self.clock, to_error=to_error)

    def _copy(self, props: Mapping[str, Any], resource: str) -> str:
        models = cas_api.models()
        leaf, chain = material.split_bundle(props["certificate_pem"], props.get("chain_pem") or "")
        name = material.copy_name(props["name"], leaf)
        request = models.UploadUserCertificateRequest(
            name=name, cert=leaf + chain, key=props["private_key_pem"],
            client_token=client_token(props["resource_tag"], leaf),
            tags=[models.UploadUserCertificateRequestTags(key=RESOURCE_TAG, value=props["resource_tag"])])
        try:
            answer = self._call("UploadUserCertificate", resource,
                                lambda: cas_api.cas_client().upload_user_certificate(request),
                                private_key_pem=props["private_key_pem"])
            return str(answer.body.cert_id)
        except CloudError as err:
            if err.code != "InvalidParameter.NameExists":
                raise
        # The name is taken: this resource's copy from a run whose answer was lost (past the token's life), or
        # someone else's certificate, which is never taken over.
        own = self._find_own(name, leaf, props, resource)
        if own is None:
            raise CloudError("alicloud", "cas.UploadUserCertificate", resource, "InvalidParameter.NameExists",
                             f"CAS already holds a certificate named {name!r} that is not this resource's copy (no "
                             f"{RESOURCE_TAG}={props['resource_tag']} tag, or another certificate): set another "
                             f"`name` on the alicloud target of {props['source']}")
        return own

    def _find_own(self, name: str, leaf: str, props: Mapping[str, Any], resource: str) -> str | None:
        models = cas_api.models()
        listed = self._call("ListUserCertificateOrder", resource, lambda: cas_api.cas_client().list_user_certificate_order(
            models.ListUserCertificateOrderRequest(order_type="UPLOAD", keyword=name, show_size=50)))
        for item in listed.body.certificate_order_list or []:
            if item.name != name:
                continue
            detail = self._detail(int(item.certificate_id), resource, with_certificate=True)
            if detail is not None and self._is_own(detail, props) and \
                    material.fingerprint(detail.cert or "") == material.fingerprint(leaf):
                return str(item.certificate_id)
        return None

    @staticmethod
    def _is_own(detail: Any, props: Mapping[str, Any]) -> bool:
        tags = {t.tag_key: t.tag_value for t in detail.tags or []}
        return tags.get(RESOURCE_TAG) == props["resource_tag"]

    def _detail(self, cert_id: int, resource: str, with_certificate: bool = False) -> Any | None:
        """GetUserCertificateDetail. CertFilter=True (no Cert, no Key) unless the certificate itself is compared:
        the key of a copy is never fetched back just to read its tags."""
        models = cas_api.models()
        try:
            return self._call("GetUserCertificateDetail", resource, lambda: cas_api.cas_client()
                              .get_user_certificate_detail(models.GetUserCertificateDetailRequest(
                                  cert_id=int(cert_id), cert_filter=not with_certificate))).body
        except CloudError as err:
            if err.code in NOT_FOUND:
                return None
            raise

    def _delete_own(self, cert_ids: list[Any], props: Mapping[str, Any], resource: str) -> list[Any]:
        """Delete each copy this resource made (proven by its tag); the ones CAS refuses to delete are returned."""
        models = cas_api.models()
        kept = []
        for cert_id in cert_ids:
            detail = self._detail(cert_id, resource)
            if detail is None:
                continue  # already gone
            if not self._is_own(detail, props):
                tell_user(f"{resource}: left CAS certificate {cert_id}: it is not tagged "
                          f"{RESOURCE_TAG}={props['resource_tag']}, so it is not this resource's to delete")
                continue
            try:
                self._call("DeleteUserCertificate", resource, lambda c=cert_id: cas_api.cas_client()
                           .delete_user_certificate(models.DeleteUserCertificateRequest(cert_id=int(c))))
            except CloudError as err:
                if err.code in NOT_FOUND:
                    continue
                kept.append(cert_id)
                tell_user(f"{resource}: CAS refused to delete the previous copy {cert_id} ({err.code}); it is kept")
        return kept


class CasUpload(CertfleetResource, module="deploy", name="CasUpload"):
    """A certificate of another cloud uploaded to CAS. Type token: pulumi-python:dynamic/deploy:CasUpload."""

    cert_id: pulumi.Output[str]   # CAS's CertId, as text
    copy_name: pulumi.Output[str]
    fingerprint: pulumi.Output[str]
    not_after: pulumi.Output[str]
    status: pulumi.Output[str]
    status_message: pulumi.Output[str]
    kept_cert_ids: pulumi.Output[list]

    def __init__(self, name: str, inputs: Mapping[str, Any], opts: pulumi.ResourceOptions | None = None) -> None:
        secret = pulumi.ResourceOptions(additional_secret_outputs=SECRET_OUTPUTS)
        super().__init__(CasUploadProvider(), name, {**inputs, **dict.fromkeys(OUTPUT_KEYS)},
                         pulumi.ResourceOptions.merge(opts, secret))
