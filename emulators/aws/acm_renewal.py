"""ACM managed renewal, on the emulator's clock (moto has none: no RenewalSummary, RenewalEligibility always
INELIGIBLE, expiry on the real clock).

`install(state)` wraps moto's CertBundle (once per process; the last AwsEmulator started owns the clock):
  check      every read of a certificate (Describe, List, Get, CloudFront's "is it usable?") first lets the
             emulator's clock act on it, in order:
             - an ISSUED certificate past its NotAfter is EXPIRED (any type); a renewal still pending is FAILED
             - an ISSUED, AMAZON_ISSUED certificate in use by a CloudFront distribution, within RENEWAL_WINDOW
               of its NotAfter, is renewed when every name's validation CNAME is in one of this account's
               Route 53 hosted zones: same ARN, a new serial, NotBefore and NotAfter (RENEWED_VALIDITY from
               the clock's now), RenewalSummary SUCCESS. A CNAME missing: RenewalSummary PENDING_VALIDATION,
               the missing names' ValidationStatus PENDING_VALIDATION, tried again on the next read.
               Not in use: not renewed (AWS: ineligible), so it expires.
  describe   RenewalEligibility ELIGIBLE for an ISSUED AMAZON_ISSUED certificate in use, else INELIGIBLE;
             RenewalSummary {RenewalStatus, DomainValidationOptions, UpdatedAt} once a renewal has started.
Renewal succeeds at once (AWS: PENDING_AUTO_RENEWAL for a while first; never produced here).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from moto.acm import models as acm_models
from moto.route53 import models as route53_models

from emulators.aws.acm import distributions_using
from emulators.core.ca import BACKDATE

if TYPE_CHECKING:
    from emulators.aws.models import EmulatorState

CertBundle = acm_models.CertBundle
# AWS starts trying 60 days before expiry (shared/reference/lifecycle-apis.md §1.2).
RENEWAL_WINDOW = timedelta(days=60)
# Public ACM certificates issued since February 2026 are valid 198 days (moto issues 365 at request).
RENEWED_VALIDITY = timedelta(days=198)
# A renewed certificate's NotBefore is the earlier of the clock's now and the real one, backdated: a clock
# moved forward must not make it "not yet valid" for what checks in real time (TLS clients, moto itself);
# never earlier than the old one's.
RENEWAL = "_certfleet_renewal"  # the bundle attribute holding its RenewalSummary (moto's reset drops bundles)

_active: dict[str, "EmulatorState"] = {}


def install(state: "EmulatorState") -> None:
    _active["state"] = state
    if getattr(CertBundle, "_certfleet_renewal_installed", False):
        return
    original_check = CertBundle.check
    original_describe = CertBundle.describe

    def check(self) -> None:
        original_check(self)
        active = _active["state"]
        with active.lock:
            act_on_clock(self, active.clock.now(), original_describe)

    def describe(self) -> dict[str, Any]:
        result = original_describe(self)
        certificate = result["Certificate"]
        if self.type == "AMAZON_ISSUED":
            in_use = bool(distributions_using(account_of(self.arn)).get(self.arn))
            certificate["RenewalEligibility"] = "ELIGIBLE" if self.status == "ISSUED" and in_use else "INELIGIBLE"
            summary = getattr(self, RENEWAL, None)
            if summary:
                certificate["RenewalSummary"] = dict(summary)
        return result

    CertBundle.check = check
    CertBundle.describe = describe
    CertBundle._certfleet_renewal_installed = True


def account_of(arn: str) -> str:
    return arn.split(":")[4]


def not_after(bundle) -> datetime:
    return bundle._cert.not_valid_after_utc


def act_on_clock(bundle, now: datetime, describe) -> None:
    if bundle.status != "ISSUED":
        return
    if now >= not_after(bundle):
        bundle.status = "EXPIRED"
        summary = getattr(bundle, RENEWAL, None)
        if summary and summary["RenewalStatus"] != "SUCCESS":
            summary.update(RenewalStatus="FAILED", RenewalStatusReason="DOMAIN_VALIDATION_DENIED",
                           UpdatedAt=now.timestamp())
        return
    if bundle.type != "AMAZON_ISSUED" or now < not_after(bundle) - RENEWAL_WINDOW:
        return
    if not distributions_using(account_of(bundle.arn)).get(bundle.arn):
        return  # not in use: ACM does not renew it
    options = describe(bundle)["Certificate"].get("DomainValidationOptions") or []
    published = route53_cnames(account_of(bundle.arn))
    renewed_options = []
    for option in options:
        record = option.get("ResourceRecord") or {}
        served = (fqdn(record.get("Name", "")), fqdn(record.get("Value", ""))) in published
        renewed_options.append({**option, "ValidationStatus": "SUCCESS" if served else "PENDING_VALIDATION"})
    if all(option["ValidationStatus"] == "SUCCESS" for option in renewed_options):
        reissue(bundle, now)
        status = "SUCCESS"
    else:
        status = "PENDING_VALIDATION"
    setattr(bundle, RENEWAL, {"RenewalStatus": status, "DomainValidationOptions": renewed_options,
                              "UpdatedAt": now.timestamp()})


def fqdn(name: str) -> str:
    return name.lower().rstrip(".") + "."


def route53_cnames(account_id: str) -> set[tuple[str, str]]:
    """(name, value) of every CNAME in this account's Route 53 hosted zones."""
    account = route53_models.route53_backends.get(account_id)
    found = set()
    for zone in (zone for backend in (account.values() if account is not None else ())
                 for zone in backend.zones.values()):
        for record_set in zone.rrsets:
            if record_set.type == "CNAME":
                found.update((fqdn(record_set.name), fqdn(value)) for value in record_set.records or [])
    return found


def reissue(bundle, now: datetime) -> None:
    """The renewed certificate: the same names, issuer and key, a new serial and validity."""
    old = bundle._cert
    builder = (x509.CertificateBuilder().subject_name(old.subject).issuer_name(old.issuer)
               .public_key(old.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(max(min(now, datetime.now(timezone.utc)) - BACKDATE,
                                     old.not_valid_before_utc + timedelta(seconds=1)))
               .not_valid_after(now + RENEWED_VALIDITY))
    for extension in old.extensions:
        builder = builder.add_extension(extension.value, extension.critical)
    renewed = builder.sign(bundle._key, hashes.SHA256())
    bundle.cert = renewed.public_bytes(serialization.Encoding.PEM)
    bundle._cert = renewed
