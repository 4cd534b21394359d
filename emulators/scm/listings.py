"""What the SCM emulator shows: the certificate listing (ListCertificates), the tag index (ListCertificatesByTag,
with its lag: `tag_index_lag_reads`) and each certificate's tags (with theirs: `purchase_tags_lag_reads`), and
the views of a certificate that the answers and the control API are made of.

CertificateListings is mixed into ScmBackend (models.py), which supplies `clock`, `certificates`, `get`,
`owner` and `_visible`; the lifecycle (lifecycle.py) supplies `_advance` and `_now_text`.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from emulators.scm import validation
from emulators.scm.exceptions import InvalidParameter
from emulators.scm.lifecycle import DEPLOYABLE_STATUSES, REFUNDABLE_STATUSES, _parse

if TYPE_CHECKING:
    from emulators.scm.models import Certificate

# The date format of the list's `expire_time` example ("2021-05-27 16:46:25.0"), used for every date.
DATE_FORMAT = "%Y-%m-%d %H:%M:%S.0"


class CertificateListings:
    """Listings, tags and views of ScmBackend (see the module docstring)."""

    # --- listing --------------------------------------------------------------------------------

    def list_certificates(self, query: dict, account: str | None = None) -> dict:
        for certificate in self.certificates.values():
            self._advance(certificate)
        selected = [c for c in self._visible(account) if self._matches_list_query(c, query)]
        selected.sort(key=_list_sort_key(query["sort_key"]), reverse=query["sort_dir"] == "DESC")
        page = selected[query["offset"]:query["offset"] + query["limit"]]
        return {"certificates": [self.list_view(c) for c in page], "total_count": len(selected)}

    def _matches_list_query(self, certificate: Certificate, query: dict) -> bool:
        if query["status"] != "ALL" and certificate.status != query["status"]:
            return False
        project = query["enterprise_project_id"]
        if project not in (None, "all") and certificate.enterprise_project_id != project:
            return False
        if query["deploy_support"] and certificate.status not in DEPLOYABLE_STATUSES:
            return False
        if query["content"]:
            keyword = query["content"].lower()
            if keyword not in certificate.name.lower() and keyword not in certificate.domain.lower():
                return False
        if query["expired_days_since"] is not None and certificate.not_after:
            oldest = self.clock.now() - datetime.timedelta(days=query["expired_days_since"])
            if _parse(certificate.not_after) < oldest:
                return False
        return True  # owned_by_self: the emulator has no shared certificates

    # --- tags -----------------------------------------------------------------------------------

    def set_tags(self, certificate_id: str, tags: dict[str, str]) -> None:
        certificate = self.get(certificate_id)
        merged = {**certificate.tags, **tags}
        if len(merged) > validation.MAX_TAGS_PER_CERTIFICATE:
            raise InvalidParameter(f"a certificate may have at most {validation.MAX_TAGS_PER_CERTIFICATE} tags")
        certificate.tags = merged
        certificate.updated_at = self._now_text()

    def tags_of(self, certificate_id: str) -> dict[str, str]:
        """ListTagsByCertificate's tags; a new order's are missing while its `tags_lag_reads` last."""
        certificate = self.get(certificate_id)
        if certificate.tags_lag_reads > 0:
            certificate.tags_lag_reads -= 1
            return {}
        return dict(certificate.tags)

    def delete_tags(self, certificate_id: str, tags: dict[str, str]) -> None:
        certificate = self.get(certificate_id)
        for key, value in tags.items():
            # An empty value deletes the key whatever its value; otherwise key and value must match.
            if key in certificate.tags and (value == "" or certificate.tags[key] == value):
                del certificate.tags[key]
        certificate.updated_at = self._now_text()

    def all_tags(self, account: str | None = None) -> list[dict]:
        values_by_key: dict[str, list[str]] = {}
        for certificate in self._visible(account):
            for key, value in certificate.tags.items():
                values = values_by_key.setdefault(key, [])
                if value not in values:
                    values.append(value)
        return [{"key": key, "values": values} for key, values in values_by_key.items()]

    def find_by_tags(self, criteria: dict, account: str | None = None) -> list[Certificate]:
        """Certificates matching list-by-tag criteria, oldest first (stable paging)."""
        for certificate in self.certificates.values():
            self._advance(certificate)
        found = [c for c in self._visible(account) if _matches_tag_criteria(c, criteria)]
        lagging = [c for c in found if c.tag_lag_reads > 0]
        for certificate in lagging:
            certificate.tag_lag_reads -= 1
        found = [c for c in found if c not in lagging]
        found.sort(key=lambda c: (c.created_at, c.id))
        return found

    # --- views ----------------------------------------------------------------------------------

    def show_view(self, certificate: Certificate) -> dict:
        return {
            "id": certificate.id, "status": certificate.status, "order_id": certificate.order_id,
            "name": certificate.name, "type": certificate.cert_type, "brand": certificate.cert_brand,
            "push_support": "true" if certificate.status in DEPLOYABLE_STATUSES else "false",
            "revoke_reason": "", "signature_algorithm": certificate.signature_algorithm,
            "issue_time": _display(certificate.issue_time), "not_before": _display(certificate.not_before),
            "not_after": _display(certificate.not_after), "validity_period": certificate.effective_time * 12,
            "validation_method": certificate.validation_method, "domain_type": certificate.domain_type,
            "multi_domain_type": _multi_domain_type(certificate), "domain": certificate.domain,
            "sans": ";".join(certificate.sans), "domain_count": certificate.domain_numbers,
            "wildcard_count": _wildcard_count(certificate), "fingerprint": certificate.fingerprint,
            "shared": False, "application_info": certificate.application_info or None,
            "description": "", "enterprise_project_id": certificate.enterprise_project_id,
            "authentification": [_public_record(r) for r in certificate.authentification],
        }

    def list_view(self, certificate: Certificate) -> dict:
        return {
            "id": certificate.id, "name": certificate.name, "domain": certificate.domain,
            "sans": ";".join(certificate.sans), "signature_algorithm": certificate.signature_algorithm,
            "deploy_support": certificate.status in DEPLOYABLE_STATUSES, "type": certificate.cert_type,
            "brand": certificate.cert_brand, "expire_time": _display(certificate.not_after),
            "domain_type": certificate.domain_type, "validity_period": certificate.effective_time * 12,
            "status": certificate.status, "domain_count": certificate.domain_numbers,
            "wildcard_count": _wildcard_count(certificate), "description": "",
            "domain_id": self.owner(certificate), "enterprise_project_id": certificate.enterprise_project_id,
        }

    def tag_resource_view(self, certificate: Certificate) -> dict:
        return {
            "resource_id": certificate.id, "resource_name": certificate.name,
            "tags": [{"key": k, "value": v} for k, v in certificate.tags.items()],
            "resource_detail": {
                "cert_id": certificate.id, "cert_name": certificate.name, "domain": certificate.domain,
                "cert_type": certificate.cert_type, "cert_brand": certificate.cert_brand,
                "domain_type": certificate.domain_type, "purchase_period": certificate.effective_time,
                "expired_time": _milliseconds(certificate.not_after), "order_status": certificate.status,
                "domain_num": certificate.domain_numbers, "wildcard_number": _wildcard_count(certificate),
                "sans": ";".join(certificate.sans), "partner_order_id": certificate.order_id,
                "push_support": certificate.status in DEPLOYABLE_STATUSES,
                "cert_issued_time": _milliseconds(certificate.issue_time), "resource_id": certificate.id,
                "unsubscribe_support": certificate.source == "purchase"
                and certificate.status in REFUNDABLE_STATUSES,
                "enterprise_project_id": certificate.enterprise_project_id,
            },
        }

    def control_view(self, certificate: Certificate) -> dict:
        """Everything the API shows plus what only the emulator knows (never the private key itself)."""
        return {**self.show_view(certificate), "tags": dict(certificate.tags), "source": certificate.source,
                "api_version": certificate.api_version, "challenge_published": certificate.challenge_published,
                "fail_reason": certificate.fail_reason, "has_private_key": bool(certificate.private_key_pem),
                "csr_supplied": bool(certificate.csr_pem), "domain_numbers": certificate.domain_numbers,
                "account": self.owner(certificate),
                "single_domain_number": certificate.single_domain_number,
                "wildcard_domain_number": certificate.wildcard_domain_number}


# --- module helpers -----------------------------------------------------------------------------

def _public_record(record: dict) -> dict:
    return {key: record[key] for key in ("record_name", "record_type", "record_value", "domain")}


def _multi_domain_type(certificate: Certificate) -> str:
    if certificate.domain_type != "MULTI_DOMAIN" or certificate.primary_domain_type is None:
        return ""
    return "primary_wildcard" if certificate.primary_domain_type == "WILDCARD_DOMAIN" else "primary_single"


def _wildcard_count(certificate: Certificate) -> int:
    primary_is_wildcard = certificate.domain_type == "WILDCARD" or \
        certificate.primary_domain_type == "WILDCARD_DOMAIN"
    return (certificate.wildcard_domain_number or 0) + (1 if primary_is_wildcard else 0)


def _matches_tag_criteria(certificate: Certificate, criteria: dict) -> bool:
    tags = certificate.tags
    if criteria["without_any_tag"]:
        return not tags

    def has(key: str, values: list[str]) -> bool:
        # An empty value list means "has the key, any value".
        return key in tags and (not values or tags[key] in values)

    if criteria["tags"] and not all(has(k, v) for k, v in criteria["tags"]):
        return False
    if criteria["tags_any"] and not any(has(k, v) for k, v in criteria["tags_any"]):
        return False
    if criteria["not_tags"] and all(has(k, v) for k, v in criteria["not_tags"]):
        return False
    if criteria["not_tags_any"] and any(has(k, v) for k, v in criteria["not_tags_any"]):
        return False
    for key, value in criteria["matches"]:
        if key == "resource_name" and value.lower() not in certificate.name.lower():
            return False
    return True


def _list_sort_key(sort_key: str | None):
    never = datetime.datetime.min.replace(tzinfo=datetime.timezone.utc)  # not issued yet: sorts first
    if sort_key == "certExpiredTime":
        return lambda c: (_parse(c.not_after) if c.not_after else never, c.id)
    if sort_key == "certStatus":
        return lambda c: (c.status, c.id)
    if sort_key == "certUpdateTime":
        return lambda c: (_parse(c.updated_at), c.id)
    return lambda c: (_parse(c.created_at), c.id)


def _display(text: str | None) -> str:
    """Stored ISO time -> the API's display format (UTC); "" when unknown, as the API does."""
    if not text:
        return ""
    return _parse(text).astimezone(datetime.timezone.utc).strftime(DATE_FORMAT)


def _milliseconds(text: str | None) -> str:
    # Tag resources report times as millisecond timestamps in strings.
    if not text:
        return ""
    return str(int(_parse(text).timestamp() * 1000))
