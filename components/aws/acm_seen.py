"""What this run read of ACM certificates, for the edge check at refresh (edge_check.py).

A refresh reads every certificate (DescribeCertificate; an import's read also gets its certificate with
GetCertificate) and every distribution, whose edge check then asked ACM for the bound certificate once more
(GetCertificate): a third call per entry. The provider process serves the whole refresh, and certificates come
before their distributions in the state, so the check looks here first: a certificate read by this refresh (less
than MAX_AGE_SECONDS ago) is taken as what ACM holds now, as the certificate's own refresh reports it. The
engine reads every certificate before the distributions, paced (1,000 certificates: 111 s at DescribeCertificate's
9 a second, then 222 s of distributions), so the age allows a refresh of a few thousand entries; a renewal ACM
makes within that window shows at the next refresh (as a renewal made just after the refresh would). The edge serves it when the served leaf is that certificate: the same
SHA-256 when the run read its body (an import), else the same serial number and expiry as ACM described (a CA
never issues two certificates with one serial). Anything else, or nothing seen, asks ACM as before.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

from cryptography import x509

MAX_AGE_SECONDS = 900.0


@dataclass(frozen=True)
class Seen:
    """One read of a certificate: its serial and expiry (DescribeCertificate), its SHA-256 when its body was read."""

    serial: int | None
    not_after: datetime | None
    fingerprint: str
    at: float

    def is_served(self, der: bytes) -> bool:
        """True when `der` (the leaf an edge served) is this certificate."""
        if self.fingerprint:
            return hashlib.sha256(der).hexdigest() == self.fingerprint
        leaf = x509.load_der_x509_certificate(der)
        return (self.serial is not None and leaf.serial_number == self.serial
                and self.not_after is not None and leaf.not_valid_after_utc == self.not_after)


_lock = threading.Lock()
_seen: dict[str, Seen] = {}


def note_described(arn: str, described: Mapping[str, Any], fingerprint: str | None = None) -> None:
    """A DescribeCertificate answer of this run (and the certificate's SHA-256 when its body was read too)."""
    serial, not_after = parse_serial(described.get("Serial")), described.get("NotAfter")
    if described.get("Status") != "ISSUED" or (serial is None and not fingerprint):
        return  # nothing an edge could serve as this certificate
    with _lock:
        _seen[arn] = Seen(serial, not_after if isinstance(not_after, datetime) else None, fingerprint or "",
                          time.monotonic())


def recent(arn: str) -> Seen | None:
    """The certificate as this run read it, if less than MAX_AGE_SECONDS ago."""
    with _lock:
        seen = _seen.get(arn)
    return seen if seen is not None and time.monotonic() - seen.at < MAX_AGE_SECONDS else None


def parse_serial(text: Any) -> int | None:
    """ACM's Serial ("0a:1b:...") as an integer; None when there is none."""
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        return int(text.replace(":", ""), 16)
    except ValueError:
        return None


def reset() -> None:
    """Forget what was read (a new run; tests)."""
    with _lock:
        _seen.clear()
