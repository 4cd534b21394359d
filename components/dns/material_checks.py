"""Whether the certificate the DNS validation saw issued may stand for the entry's certificate.

components/dns/fleet.issued_view takes the validation's material while the certificate resource's own state is
pending, so that material must pass the checks that resource's provider applies on its next refresh, or a
certificate certfleet would never record (another key, other names, another application's) would reach the
deploy targets and distributions in the same run. `recorded` is what the certificate resource records
(RECORDED_KEYS, fed by the program as the validation's `recorded` input). The checks run in order; the first
that objects withholds the material ("" everywhere) until the resource's own refresh decides.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import pulumi

from components import keys

# What each cloud's checks read from the certificate resource (its outputs; "" / [] / False for none).
RECORDED_KEYS: dict[str, tuple[str, ...]] = {
    "cas": ("domains", "csr", "adopted"),
    "cas-instance": ("domains", "csr", "csr_pem", "csr_mode", "adopted", "application", "claim", "claim_written",
                     "previous_claims", "cert_id"),
}


def recorded_of(resource: pulumi.Resource, cloud: str) -> pulumi.Output[dict] | None:
    """The certificate resource's RECORDED_KEYS as one output, never null (a null input reads as unknown)."""
    wanted = RECORDED_KEYS.get(cloud)
    if not wanted:
        return None
    return pulumi.Output.all(*[getattr(resource, key) for key in wanted]).apply(
        lambda values: {key: value if value is not None else ([] if key in ("domains", "previous_claims") else "")
                        for key, value in zip(wanted, values)})


def _not_recorded(cloud: str, certificate: str, source: Any, recorded: Mapping[str, Any]) -> str | None:
    if not recorded or not recorded.get("domains"):
        return "the certificate resource's record was not given to the validation"
    return None


def _adopted(cloud: str, certificate: str, source: Any, recorded: Mapping[str, Any]) -> str | None:
    if recorded.get("adopted"):
        return "the order was adopted (certfleet did not place it): only its own refresh takes its certificate"
    return None


def _order_unusable(cloud: str, certificate: str, source: Any, recorded: Mapping[str, Any]) -> str | None:
    """The CAS order provider's status.unusable_certificate, with the key certfleet configured or generated
    (the order's `csr`) and the names check every time (adopted=True asks for it)."""
    from components.alicloud.status import unusable_certificate

    mismatch = unusable_certificate(certificate, {"csr_pem": recorded.get("csr"), "adopted": True,
                                                  "domains": list(recorded["domains"])})
    return f"{mismatch}: not the entry's key, or not for its names with the primary name as CN" if mismatch else None


def _instance_foreign(cloud: str, certificate: str, source: Any, recorded: Mapping[str, Any]) -> str | None:
    """The CAS instance provider's FOREIGN: an application or certificate other than the one it records."""
    from components.alicloud.instance_checks import is_foreign

    if source is None or not recorded.get("application") or is_foreign(source, recorded):
        return "foreign: the instance holds an application or certificate other than the one certfleet recorded"
    return None


def _instance_key_mismatch(cloud: str, certificate: str, source: Any, recorded: Mapping[str, Any]) -> str | None:
    """The CAS instance provider's KEY_MISMATCH: not the key certfleet configured or generated."""
    own_csr = recorded.get("csr_pem") or (recorded.get("csr") if recorded.get("csr_mode") == "generate" else None)
    if own_csr and not keys.certificate_matches_key(certificate, own_csr):
        return "key_mismatch: not the key certfleet configured or generated"
    return None


MaterialCheck = Callable[[str, str, Any, Mapping[str, Any]], "str | None"]
# Per kind of certificate resource, in order (as RECORDED_KEYS): the first with a reason withholds the material.
MATERIAL_CHECKS: dict[str, tuple[MaterialCheck, ...]] = {
    "cas": (_not_recorded, _adopted, _order_unusable),
    "cas-instance": (_not_recorded, _adopted, _instance_foreign, _instance_key_mismatch),
}


def withheld(cloud: str, certificate: str, source: Any, recorded: Mapping[str, Any] | None) -> str | None:
    """Why the validation's certificate may not stand for the entry's (None: it may). `source`: the SDK body
    it was read from (an instance's GetInstanceDetail). Clouds without checks (ACM: no material; SCM: its
    certificate resource records what the CA exports) pass."""
    for check in MATERIAL_CHECKS.get(cloud, ()):
        try:
            reason = check(cloud, certificate, source, recorded or {})
        except ValueError as err:  # a certificate or CSR that does not parse
            reason = f"the certificate could not be checked ({err})"
        if reason:
            return reason
    return None
