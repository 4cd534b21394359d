"""The CAS certificate store: issued and uploaded certificates, their status, listing, upload and deletion.

Apart from models.py, which keeps the order state machine that issues certificates into this store (and the
V2.0 instances, instances.py, do too). CertificateStore is a mixin of models.CasBackend: it uses the
backend's `clock`, `certificates`, `_new_cert_id` and `_check_tags` (checks.RequestChecks).
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from emulators.cas.exceptions import InvalidParameter, MissingParameter, NotFound, OperationDeniedStatusNotSupport
from emulators.cas.records import Certificate, _keyword_matches, _visible, now_ms
from emulators.core.ca import describe_certificate, private_key_matches

MAX_UPLOAD_NAME_LENGTH = 63
# ListUserCertificateOrder reports WILLEXPIRED this long before expiry (inferred, not documented).
WILL_EXPIRE_WINDOW = timedelta(days=30)


class CertificateStore:
    """Certificates of every account: GetUserCertificateDetail, ListUserCertificateOrder (CERT, UPLOAD),
    UploadUserCertificate, DeleteUserCertificate (a mixin of models.CasBackend)."""

    def get_certificate(self, cert_id: int, account: str | None = None) -> Certificate:
        certificate = self.certificates.get(cert_id)
        if certificate is None or not _visible(certificate.owner, account):
            raise NotFound(f"The certificate {cert_id} does not exist.")
        return certificate

    def certificate_status(self, certificate: Certificate) -> str:
        if certificate.revoked:
            return "REVOKED"
        not_after = describe_certificate(certificate.certificate_pem).not_after
        now = self.clock.now()
        if now >= not_after:
            return "EXPIRED"
        if now >= not_after - WILL_EXPIRE_WINDOW:
            return "WILLEXPIRED"
        return "ISSUED"

    def list_certificates(self, uploaded_only: bool, keyword: str, status: str,
                          resource_group_id: str, account: str | None = None) -> list[Certificate]:
        """OrderType CERT (issued and uploaded) or UPLOAD, of `account` (None: all); without `status` only
        valid ones."""
        wanted = {status} if status else {"ISSUED", "WILLEXPIRED"}
        result = []
        for certificate in sorted(self.certificates.values(), key=lambda c: c.cert_id, reverse=True):
            if not _visible(certificate.owner, account):
                continue
            if uploaded_only and not certificate.upload:
                continue
            if self.certificate_status(certificate) not in wanted:
                continue
            if resource_group_id and certificate.resource_group_id != resource_group_id:
                continue
            info = describe_certificate(certificate.certificate_pem)
            names = [info.common_name, *info.dns_names, certificate.instance_id, certificate.name]
            if keyword and not _keyword_matches(keyword, names):
                continue
            result.append(certificate)
        return result

    def upload_certificate(self, name: str, certificate_pem: str, private_key_pem: str, client_token: str,
                           resource_group_id: str, tags: list[dict], account: str | None = None) -> Certificate:
        """UploadUserCertificate: Name unique in the account (<= 63 chars); key must match the certificate;
        a repeated ClientToken returns the certificate created with it."""
        own = [c for c in self.certificates.values() if _visible(c.owner, account)]
        if client_token:
            for certificate in own:
                if certificate.upload and certificate.client_token == client_token:
                    return certificate
        if not name:
            raise MissingParameter("Name")
        if len(name) > MAX_UPLOAD_NAME_LENGTH:
            raise InvalidParameter("Name", f"The certificate name must be at most {MAX_UPLOAD_NAME_LENGTH} characters.")
        if any(c.name == name for c in own):
            raise InvalidParameter("NameExists", "The certificate name already exists.")
        if not certificate_pem:
            raise MissingParameter("Cert")
        if not private_key_pem:
            raise MissingParameter("Key")
        try:
            describe_certificate(certificate_pem)
        except ValueError:
            raise InvalidParameter("Cert", "The certificate is not a valid PEM X.509 certificate.") from None
        try:
            matches = private_key_matches(private_key_pem, certificate_pem)
        except (ValueError, TypeError):
            raise InvalidParameter("Key", "The private key is not a valid unencrypted PEM key.") from None
        if not matches:
            raise InvalidParameter("Key", "The private key does not match the certificate.")
        self._check_tags(tags)
        cert_id = self._new_cert_id()
        certificate = Certificate(
            cert_id=cert_id, name=name, certificate_pem=certificate_pem.strip() + "\n",
            private_key_pem=private_key_pem.strip() + "\n", upload=True, created_ms=now_ms(self.clock),
            instance_id=f"cas-upload-{secrets.token_hex(4)}", resource_group_id=resource_group_id,
            tags=tags, client_token=client_token, owner=account or "",
        )
        self.certificates[cert_id] = certificate
        return certificate

    def delete_certificate(self, cert_id: int, account: str | None = None) -> None:
        """DeleteUserCertificate: uploaded, expired or revoked certificates only."""
        certificate = self.get_certificate(cert_id, account)
        if not certificate.upload and self.certificate_status(certificate) not in ("EXPIRED", "REVOKED"):
            raise OperationDeniedStatusNotSupport(
                "Only uploaded or expired certificates can be deleted; revoke an issued one instead."
            )
        del self.certificates[cert_id]
