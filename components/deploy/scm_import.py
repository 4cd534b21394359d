"""Huawei SCM as a deployment target: a certificate of another cloud imported (import_certificate), so Huawei
CDN, ELB and WAF can use it by its SCM certificate id.

Environment: as components/huaweicloud/client.py (HUAWEICLOUD_SDK_AK / _SK / _DOMAIN_ID, endpoint override).
SCM operations used: import_certificate, show_certificate, list_certificates (content = the copy's name),
list_tags_by_certificate, batch_create_or_delete_tags, delete_certificate.

The resource's id is stable (its identity, `<project>/<stack>/deploy:<source>:huaweicloud`); the copy it holds
now is `certificate_id`. Lifecycle (material and pending sources: material.py):
- create: look first: a copy named `<name>-<8 hex of the leaf's fingerprint>` holding the same certificate and
  tagged certfleet-resource=<identity> is this resource's. One with that name and certificate but no tag (a run
  that died between the import and the tag, or someone else's import of the same PEMs: SCM's import carries no
  tag nor token that could tell) is used as the copy but never tagged, so never deleted: certfleet deletes only
  what it can prove it placed, and says so. Else import_certificate, then the tag.
- update (the source renewed): import the new copy, then delete the previous one (proven by its tag). SCM
  refusing that deletion keeps it (`kept_certificate_ids`, status message); later updates and the delete retry.
- read: the copy gone -> the resource leaves the state, `pulumi up` imports it again.
- delete: only copies tagged as this resource's; not-found is success.
The key travels in import_certificate only; it is a secret input and output, and no error text holds it.
"""

from __future__ import annotations

import hashlib
from typing import Any, Mapping

import pulumi

from components.deploy import material
from components.deploy.copies import CopyProvider
from components.dynamic import CertfleetResource, tell_user
from components.errors import CloudError
from components.huaweicloud import client as scm_api
from components.huaweicloud.scm_model import RESOURCE_TAG

INPUT_KEYS = ("source", "resource_tag", "name", "region", *material.MATERIAL_KEYS, "source_pending")
OUTPUT_KEYS = ("certificate_id", "copy_name", "fingerprint", "not_after", "status", "status_message",
               "kept_certificate_ids", "owner")
SECRET_OUTPUTS = ["private_key_pem"]
NOT_FOUND = ("SCM.0020", "SCM.0008", "404")


def sha1_of(certificate_pem: str) -> str:
    """SCM reports a SHA-1 fingerprint of the leaf: the same, in bare lower-case hex."""
    from cryptography.hazmat.primitives import serialization
    leaf = material.leaf_certificate(certificate_pem)
    return hashlib.sha1(leaf.public_bytes(serialization.Encoding.DER)).hexdigest() if leaf else ""  # noqa: S324


def bare_fingerprint(fingerprint: str | None) -> str:
    return (fingerprint or "").replace(":", "").lower()


class ScmImportProvider(CopyProvider):
    """One certificate imported into SCM from another cloud (the lifecycle: copies.py)."""

    cloud, made, copy_key, kept_key = "SCM", "imported into SCM", "certificate_id", "kept_certificate_ids"
    input_keys, replace_keys = INPUT_KEYS, ("region",)

    def _exists(self, props: Mapping[str, Any], copy_id: str, resource: str) -> bool:
        return self._show(props, copy_id, resource) is not None

    def _owner(self, props: Mapping[str, Any]) -> dict[str, str]:
        return scm_api.owner(props["region"])

    def _client(self, props: Mapping[str, Any]) -> Any:
        return scm_api.scm_client(props["region"])

    def _call(self, operation: str, resource: str, send: Any, may_repeat: bool = True) -> Any:
        return scm_api.call(operation, resource, send, may_repeat=may_repeat, clock=self.clock)

    def _copy(self, props: Mapping[str, Any], resource: str) -> str:
        from huaweicloudsdkscm.v3 import ImportCertificateRequest, ImportCertificateRequestBody

        leaf, chain = material.split_bundle(props["certificate_pem"], props.get("chain_pem") or "")
        name = material.copy_name(props["name"], leaf)
        found = self._find_own(props, name, leaf, resource)
        if found:
            return found
        body = ImportCertificateRequestBody(name=name, certificate=leaf, certificate_chain=chain or None,
                                            private_key=props["private_key_pem"], duplicate_check=False)
        client = self._client(props)
        # Not repeated on an unclear failure: an import has no token; the next run looks before importing again.
        answer = self._call("ImportCertificate", resource, lambda: client.import_certificate(
            ImportCertificateRequest(body=body)), may_repeat=False)
        self._tag(props, answer.certificate_id, resource)
        return answer.certificate_id

    def _find_own(self, props: Mapping[str, Any], name: str, leaf: str, resource: str) -> str | None:
        """A copy of this certificate under this name: tagged as ours, or untagged (used, never claimed)."""
        from huaweicloudsdkscm.v3 import ListCertificatesRequest

        client = self._client(props)
        listed = self._call("ListCertificates", resource, lambda: client.list_certificates(
            ListCertificatesRequest(content=name, status="ALL", limit=50)))
        for item in listed.certificates or []:
            if item.name != name:
                continue
            shown = self._show(props, item.id, resource)
            if shown is None or bare_fingerprint(shown.fingerprint) != sha1_of(leaf):
                continue
            owner = self._tags(props, item.id, resource).get(RESOURCE_TAG)
            if owner == props["resource_tag"]:
                return item.id
            if owner is None:
                # A run that died between the import and the tag, or someone else's import of the same PEMs:
                # nothing proves which, so it serves (no second copy) but is never tagged, taken over or deleted.
                tell_user(f"{resource}: SCM certificate {item.id} ({name}) holds this certificate but has no "
                          f"{RESOURCE_TAG} tag, so certfleet cannot prove it imported it: it is used as the copy, "
                          f"and left in place when it is retired or the target deleted (delete it by hand then)")
                return item.id
        return None

    def _tag(self, props: Mapping[str, Any], certificate_id: str, resource: str) -> None:
        from huaweicloudsdkscm.v3 import (BatchCreateOrDeleteTagsRequest, BatchCreateOrDeleteTagsRequestBody,
                                          ScsResourceTag)

        body = BatchCreateOrDeleteTagsRequestBody(action="create", tags=[ScsResourceTag(
            key=RESOURCE_TAG, value=props["resource_tag"])])
        client = self._client(props)
        self._call("BatchCreateOrDeleteTags", resource, lambda: client.batch_create_or_delete_tags(
            BatchCreateOrDeleteTagsRequest(resource_id=certificate_id, body=body)))

    def _tags(self, props: Mapping[str, Any], certificate_id: str, resource: str) -> dict[str, str]:
        from huaweicloudsdkscm.v3 import ListTagsByCertificateRequest

        client = self._client(props)
        listed = self._call("ListTagsByCertificate", resource, lambda: client.list_tags_by_certificate(
            ListTagsByCertificateRequest(resource_id=certificate_id)))
        return {t.key: t.value for t in listed.tags or []}

    def _show(self, props: Mapping[str, Any], certificate_id: str, resource: str) -> Any | None:
        from huaweicloudsdkscm.v3 import ShowCertificateRequest

        client = self._client(props)
        try:
            return self._call("ShowCertificate", resource, lambda: client.show_certificate(
                ShowCertificateRequest(certificate_id=certificate_id)))
        except CloudError as err:
            if err.code in NOT_FOUND:
                return None
            raise

    def _delete_own(self, certificate_ids: list[str], props: Mapping[str, Any], resource: str) -> list[str]:
        """Delete each copy this resource made (proven by its tag); the ones SCM refuses to delete are returned."""
        from huaweicloudsdkscm.v3 import DeleteCertificateRequest

        client = self._client(props)
        kept = []
        for certificate_id in certificate_ids:
            if self._show(props, certificate_id, resource) is None:
                continue  # already gone
            owner = self._tags(props, certificate_id, resource).get(RESOURCE_TAG)
            if owner != props["resource_tag"]:
                tagged = f"is tagged {RESOURCE_TAG}={owner!r}" if owner else f"has no {RESOURCE_TAG} tag"
                tell_user(f"{resource}: left SCM certificate {certificate_id}: it {tagged}, not "
                          f"{props['resource_tag']!r}, so it is not this resource's to delete")
                continue
            try:
                self._call("DeleteCertificate", resource, lambda c=certificate_id: client.delete_certificate(
                    DeleteCertificateRequest(certificate_id=c)))
            except CloudError as err:
                if err.code in NOT_FOUND:
                    continue
                kept.append(certificate_id)
                tell_user(f"{resource}: SCM refused to delete the previous copy {certificate_id} ({err.code}); "
                          f"it is kept")
        return kept


class ScmImport(CertfleetResource, module="deploy", name="ScmImport"):
    """A certificate of another cloud imported into SCM. Type token: pulumi-python:dynamic/deploy:ScmImport."""

    certificate_id: pulumi.Output[str]
    copy_name: pulumi.Output[str]
    fingerprint: pulumi.Output[str]
    not_after: pulumi.Output[str]
    status: pulumi.Output[str]
    status_message: pulumi.Output[str]
    kept_certificate_ids: pulumi.Output[list]

    def __init__(self, name: str, inputs: Mapping[str, Any], opts: pulumi.ResourceOptions | None = None) -> None:
        secret = pulumi.ResourceOptions(additional_secret_outputs=SECRET_OUTPUTS)
        super().__init__(ScmImportProvider(), name, {**inputs, **dict.fromkeys(OUTPUT_KEYS)},
                         pulumi.ResourceOptions.merge(opts, secret))
