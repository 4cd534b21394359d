"""The lifecycle CAS and SCM targets share (cas_upload.py, scm_import.py): a stable resource id, and the copy the
cloud holds now, made anew for each new certificate.

- check: the last deployed material while the source has none (material.keep_deployed);
- create: nothing while the source has no certificate, else a copy;
- update: a new copy when the certificate (or the name) changed, then the previous copy deleted; a copy the cloud
  refuses to delete is kept, listed (`kept_key`) and said in the status message; later updates and the delete
  try it again;
- read: the copy gone -> the resource leaves the state (`pulumi up` makes it again);
- delete: every copy this resource made (each target proves it by its tag), not-found is success.
Each target provides the cloud calls: `_copy` (make or find the copy; its id), `_exists`, `_delete_own`
(returns the ids the cloud refused to delete) and `_owner`. The key is in no error text (components/key_text.py).
"""

from __future__ import annotations

from typing import Any, Mapping

from pulumi.dynamic import CheckResult, CreateResult, DiffResult, ReadResult, UpdateResult

from components.key_text import NoKeyText
from components.deploy import material
from components.dynamic import CertfleetProvider, Clock, changed_keys, tell_user


class CopyProvider(CertfleetProvider):
    """A certificate copied into a cloud that gives every copy a new id. Holds no state: everything is in props."""

    clock: Any = Clock
    cloud = ""                    # CAS | SCM, for messages
    made = ""                     # "uploaded to CAS", "imported into SCM"
    copy_key = ""                 # the output holding the current copy's id
    kept_key = ""                 # the output listing copies the cloud refused to delete
    input_keys: tuple[str, ...] = ()
    replace_keys: tuple[str, ...] = ()   # inputs another copy cannot take (SCM: the region)

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return CheckResult(material.keep_deployed(olds, news), [])

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = changed_keys(olds, news, self.replace_keys) if olds.get(self.copy_key) else []
        return DiffResult(changes=bool(changed_keys(olds, news, self.input_keys)), replaces=replaces,
                          delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        resource = self._what(props)
        with self._no_key_text("create", resource, props):
            copy_id = self._copy(props, resource) if material.has_material(props) else None
            return CreateResult(props["resource_tag"], self._outputs(props, copy_id, []))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        resource = self._what(news)
        with self._no_key_text("update", resource, news):
            previous = olds.get(self.copy_key)
            kept = [c for c in olds.get(self.kept_key) or [] if c != previous]
            new_copy = material.has_material(news) and (
                not previous or material.fingerprint(news["certificate_pem"]) != olds.get("fingerprint")
                or material.copy_name(news["name"], news["certificate_pem"]) != olds.get("copy_name"))
            copy_id = self._copy(news, resource) if new_copy else previous
            retired = [previous] if new_copy and previous and previous != copy_id else []
            kept = self._delete_own(retired + kept, news, resource)
            # Without a new copy the news' material is the copy's (the same leaf, or kept while pending).
            return UpdateResult(self._outputs(news, copy_id, kept))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        resource = self._what(props)
        with self._no_key_text("read", resource, props):
            if props.get(self.copy_key) and not self._exists(props, props[self.copy_key], resource):
                return ReadResult("", {})  # deleted out of band: `pulumi up` makes it again
            return ReadResult(id_, props, {k: props.get(k) for k in self.input_keys})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        resource = self._what(props)
        with self._no_key_text("delete", resource, props):
            copies = [c for c in [props.get(self.copy_key), *(props.get(self.kept_key) or [])] if c]
            kept = self._delete_own(copies, props, resource)
            if kept:
                tell_user(f"{resource}: {self.cloud} kept {', '.join(map(str, kept))} (it refused the deletion, e.g. "
                          f"still in use by a CDN or load balancer): unbind it and delete it in the console")

    # --- what each cloud provides ---

    def _copy(self, props: Mapping[str, Any], resource: str) -> str:
        raise NotImplementedError

    def _exists(self, props: Mapping[str, Any], copy_id: str, resource: str) -> bool:
        raise NotImplementedError

    def _delete_own(self, copy_ids: list[str], props: Mapping[str, Any], resource: str) -> list[str]:
        raise NotImplementedError

    def _owner(self, props: Mapping[str, Any]) -> dict[str, str]:
        raise NotImplementedError

    # --- shared ---

    def _no_key_text(self, step: str, resource: str, props: Mapping[str, Any]) -> NoKeyText:
        cloud, service = {"CAS": ("alicloud", "cas"), "SCM": ("huaweicloud", "scm")}.get(self.cloud, ("aws", "acm"))
        return NoKeyText(step, resource, props, cloud, service)

    def _what(self, props: Mapping[str, Any]) -> str:
        return f"{self.cloud} copy of {props.get('source')}"

    def _outputs(self, props: Mapping[str, Any], copy_id: str | None, kept: list[str]) -> dict[str, Any]:
        certificate = props.get("certificate_pem") or ""
        holding = copy_id is not None
        if not holding:
            status, message = material.WAITING, (f"nothing deployed yet: {props.get('source')} has no certificate "
                                                 f"yet; the next `pulumi up` after it is issued deploys it")
        else:
            status, message = "DEPLOYED", f"{self.made} as {copy_id}"
            if props.get("source_pending"):
                message += f"; kept while {props.get('source')} has no new certificate yet"
        if kept:
            message += (f"; {self.cloud} refused to delete the previous copies {', '.join(map(str, kept))} (e.g. "
                        f"still in use): they are kept, and the next update or the delete tries again")
        return {**{k: props.get(k) for k in self.input_keys},
                self.copy_key: copy_id,
                "copy_name": material.copy_name(props["name"], certificate) if holding else None,
                "fingerprint": material.fingerprint(certificate) if holding else None,
                "not_after": material.not_after(certificate) if holding else None,
                "status": status, "status_message": message, self.kept_key: list(kept),
                "owner": self._owner(props) if holding else None}
