"""The post-deploy edge check (issue 9 item 5): does the edge serve, for each alias, the certificate ACM holds now?

For each bound alias of a Deployed distribution: one TLS handshake with SNI = the alias against the distribution's
endpoint (`<domain_name>:443`, or CERTFLEET_EDGE_ENDPOINT=host:port for the local emulator's edge), verification
off so that whatever is served can be read (check_hostname must be turned off before CERT_NONE), then the served
leaf (DER) is compared with the certificate ACM holds right now for the ARN the resource binds (GetCertificate: after
an ACM renewal or a re-import the edge must serve the new one, so no fingerprint stored earlier is the reference).
The checks run in order and the first one that has a problem names it:

  handshake failed           no TLS session with this SNI name (not served, refused, unreachable)
  name not covered           the served certificate does not name the alias
  fingerprint differs        SHA-256 of the served leaf is not that of ACM's current certificate
  expired                    the served certificate's notAfter is past (certfleet's clock, components/clock.py)

The result is one entry per alias, {ok, fingerprint, not_after, problem}, never null (a null output reads as unknown
in a preview): fingerprint and not_after of the served leaf ("" when none was served), problem "" when ok. It runs
after a create or update once the distribution is Deployed (edges differ while it deploys), retrying failures with a
bounded backoff (`edgeCheckTimeoutSeconds`; an endpoint that does not resolve or refuses the connection is reported
at once), and again at every refresh (one look; ACM's certificate as the same refresh read it,
acm_seen.py, when the served leaf is that one, else GetCertificate): a change of the served certificate without any
change to the distribution (ACM's managed renewal) shows there. A re-import of the import or deployed copy that
serves it changes the distribution's `certificate_fingerprint` input, so the distribution updates and checks again
in that run (cloudfront.py); the report flags a result whose fingerprint is not that one (scripts/report.py,
edge_lines). It is not an input, so it never makes a preview show a diff. Modes (`edgeCheck`): report (default:
record the result), require (a failure after the wait fails the create or update, naming the aliases), off (no
handshake).
IAM: acm:GetCertificate.
"""

from __future__ import annotations

import hashlib
import os
import socket
import ssl
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Mapping

import botocore.exceptions
from cryptography import x509

from components import clock, names
from components.aws import acm_seen
from components.aws.acm_import import fingerprint_of
from components.aws.clients import client
from components.aws.limits import CLOUDFRONT_CERTIFICATE_REGION
from components.dynamic import Clock, wait_for
from components.errors import CloudError, WaitTimeout

ENDPOINT_VARIABLE = "CERTFLEET_EDGE_ENDPOINT"
DEFAULT_MODE = "report"
HTTPS_PORT = 443
HANDSHAKE_TIMEOUT_SECONDS = 5.0
REGION = CLOUDFRONT_CERTIFICATE_REGION  # CloudFront's certificates live there


@dataclass(frozen=True)
class Expected:
    """The certificate ACM holds now for the bound ARN (fingerprint "" and `error` when it cannot be read)."""

    arn: str
    fingerprint: str
    not_after: datetime | None
    error: str = ""


@dataclass(frozen=True)
class AliasFacts:
    """What one handshake for one alias showed, beside what ACM holds."""

    alias: str
    endpoint: str               # host:port the handshake went to
    served: bytes | None        # the leaf's DER; None when the handshake failed
    handshake_error: str
    expected: Expected
    now: datetime

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.served).hexdigest() if self.served else ""

    @property
    def leaf(self) -> x509.Certificate | None:
        return x509.load_der_x509_certificate(self.served) if self.served else None


# --- the checks, in order ----------------------------------------------------------------------------------

def handshake_failed(facts: AliasFacts) -> str | None:
    if facts.served is None:
        return f"TLS handshake with SNI {facts.alias} at {facts.endpoint} failed: {facts.handshake_error}"
    return None


def name_not_covered(facts: AliasFacts) -> str | None:
    held = served_names(facts.leaf)
    if not any(names.covers(name, names.normalise(facts.alias)) for name in held):
        return f"the served certificate names {', '.join(held) or 'nothing'}, not {facts.alias}"
    return None


def fingerprint_differs(facts: AliasFacts) -> str | None:
    expected = facts.expected
    if expected.error:
        return f"ACM's current certificate {expected.arn} could not be read to compare: {expected.error}"
    if facts.fingerprint != expected.fingerprint:
        return (f"serves SHA-256 {facts.fingerprint[:16]}… (not after {iso(not_after(facts.leaf))}), but ACM holds "
                f"{expected.fingerprint[:16]}… (not after {iso(expected.not_after)}) for {expected.arn}")
    return None


def expired(facts: AliasFacts) -> str | None:
    ends = not_after(facts.leaf)
    if ends <= facts.now:
        return f"the served certificate expired at {iso(ends)}"
    return None


CHECKS: tuple[Callable[[AliasFacts], str | None], ...] = (handshake_failed, name_not_covered, fingerprint_differs,
                                                          expired)


def verdict(facts: AliasFacts) -> dict[str, Any]:
    """{ok, fingerprint, not_after, problem}: the first check's problem, or ok."""
    problem = next((p for p in (check(facts) for check in CHECKS) if p), "")
    return {"ok": not problem, "fingerprint": facts.fingerprint,
            "not_after": iso(not_after(facts.leaf)) if facts.served else "", "problem": problem}


# --- facts -------------------------------------------------------------------------------------------------

def served_names(leaf: x509.Certificate | None) -> list[str]:
    """The leaf's DNS names (subjectAltName; the CN when it has none), lower-case."""
    if leaf is None:
        return []
    try:
        dns = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
            x509.DNSName)
    except x509.ExtensionNotFound:
        dns = [str(a.value) for a in leaf.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)]
    return sorted({names.normalise(n) for n in dns})


def not_after(leaf: x509.Certificate | None) -> datetime | None:
    return leaf.not_valid_after_utc if leaf is not None else None


def iso(moment: datetime | None) -> str:
    return moment.astimezone(timezone.utc).isoformat() if moment else ""


def endpoint(domain_name: str) -> tuple[str, int]:
    """Where the edge is asked: the distribution's own *.cloudfront.net name on 443 (independent of the customer's
    DNS cut-over), or CERTFLEET_EDGE_ENDPOINT (host:port, the local emulator's edge)."""
    override = os.environ.get(ENDPOINT_VARIABLE, "").strip()
    if not override:
        return domain_name, HTTPS_PORT
    host, _, port = override.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"{ENDPOINT_VARIABLE} must be host:port, not {override!r}")
    return host, int(port)


def served_leaf(host: str, port: int, alias: str, timeout: float = HANDSHAKE_TIMEOUT_SECONDS) -> bytes:
    """The leaf (DER) the edge serves for SNI = alias. Raises OSError (ssl.SSLError included) when it serves none."""
    context = ssl.create_default_context()
    context.check_hostname = False          # must come before CERT_NONE (ValueError otherwise)
    context.verify_mode = ssl.CERT_NONE     # read whatever is served; the checks judge it
    with socket.create_connection((host, port), timeout=timeout) as raw:
        with context.wrap_socket(raw, server_hostname=alias) as tls:  # server_hostname is what sends SNI
            der = tls.getpeercert(binary_form=True)
    if not der:
        raise ssl.SSLError("no certificate was presented")
    return der


def expected_certificate(arn: str) -> Expected:
    """ACM's certificate for `arn` as it is now (GetCertificate)."""
    try:
        pem = client("acm", REGION).get_certificate(CertificateArn=arn)["Certificate"]
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as err:
        return Expected(arn, "", None, str(err))
    leaf = x509.load_pem_x509_certificate(pem.encode())
    return Expected(arn, fingerprint_of(pem), leaf.not_valid_after_utc)


# The endpoint cannot be reached from here at all (no such name, nothing listening): waiting changes nothing, so
# these are reported at once, not retried (a runner without egress, a stack run against emulators without an edge);
# nor is a certificate ACM will not show (no acm:GetCertificate).
UNREACHABLE = (socket.gaierror, ConnectionRefusedError)


def look(aliases: list[str], domain_name: str, arn: str,
         seen: acm_seen.Seen | None = None) -> tuple[dict[str, dict[str, Any]], set[str]]:
    """One handshake per alias, each judged by the checks; and the aliases whose failure waiting cannot change.
    `seen`: the certificate as this run read it (a refresh, acm_seen.py): a leaf that is it needs no GetCertificate."""
    host, port = endpoint(domain_name)
    asked: list[Expected] = []   # GetCertificate, once, when needed

    def expected_for(served: bytes | None) -> Expected:
        if seen is not None and served is not None and seen.is_served(served):
            return Expected(arn, hashlib.sha256(served).hexdigest(), seen.not_after)
        if seen is not None and served is None:
            return Expected(arn, seen.fingerprint, seen.not_after)   # a failed handshake is judged before it
        if not asked:
            asked.append(expected_certificate(arn))
        return asked[0]

    now = clock.now()
    results, unreachable = {}, set()
    for alias in aliases:
        try:
            served, error = served_leaf(host, port, alias), ""
        except (OSError, ValueError) as err:
            served, error = None, f"{type(err).__name__}: {err}"
            if isinstance(err, UNREACHABLE):
                unreachable.add(alias)
        expected = expected_for(served)
        if expected.error:
            unreachable.add(alias)
        results[alias] = verdict(AliasFacts(alias, f"{host}:{port}", served, error, expected, now))
    return results, unreachable


# --- when it runs --------------------------------------------------------------------------------------------

def settings(props: Mapping[str, Any]) -> tuple[str, float]:
    """(mode, timeout seconds) from the provider's `edge_check` input. Missing (a state written before the check
    existed, or a provider test's props): report, one look."""
    given = props.get("edge_check") or {}
    return given.get("mode") or DEFAULT_MODE, float(given.get("timeout_seconds") or 0)


def wanted_arn(outs: Mapping[str, Any], props: Mapping[str, Any]) -> str:
    """The certificate the distribution should serve: the resource's input once ACM has issued it (a certificate
    swapped out of band is then a fingerprint that differs, not a new reference); while the wanted one is still
    pending, the bound one, which keeps serving by design until it is issued (cloudfront.py, binding)."""
    if outs.get("certificate_status") == "ISSUED" and props.get("certificate_arn"):
        return props["certificate_arn"]
    return outs.get("bound_certificate_arn") or ""


def applicable(outs: Mapping[str, Any], props: Mapping[str, Any]) -> bool:
    """A check means something only for a bound, enabled, Deployed distribution with the check on."""
    return (settings(props)[0] != "off" and outs.get("status") == "Deployed" and bool(outs.get("bound"))
            and bool(outs.get("enabled", True)) and bool(wanted_arn(outs, props)))


def after_change(outs: Mapping[str, Any], props: Mapping[str, Any], resource: str,
                 clock_: type[Clock] = Clock, poll_seconds: float = 30.0) -> dict[str, dict[str, Any]]:
    """After a create or update: look until every alias passes or the timeout runs out (backoff from 1 s); with
    `require`, failures then fail the step, naming each alias. {} when there is nothing to check yet."""
    if not applicable(outs, props):
        return {}
    mode, timeout = settings(props)
    aliases, domain, arn = list(outs["bound_aliases"]), outs["domain_name"], wanted_arn(outs, props)
    last: dict[str, dict[str, Any]] = {}
    unreachable: set[str] = set()

    def probe() -> dict[str, dict[str, Any]] | None:
        results, unreachable_now = look([a for a in aliases if not last.get(a, {}).get("ok") and a not in unreachable],
                                        domain, arn)
        last.update(results)
        unreachable.update(unreachable_now)
        return last if all(result["ok"] or alias in unreachable for alias, result in last.items()) else None

    try:
        results = wait_for(f"the edge to serve the certificate of {resource}", probe, timeout, poll_seconds, clock_,
                           first_interval_seconds=1.0)
    except WaitTimeout:
        results = last
    results = dict(sorted(results.items()))
    failed = failures(results)
    if failed and mode == "require":
        raise CloudError("aws", "edge check", resource, "EdgeCheckFailed",
                         f"the edge does not serve the bound certificate ({', '.join(failed)}); edgeCheck: require "
                         f"fails the run (report only records it)")
    return results


def at_refresh(outs: Mapping[str, Any], props: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """At a refresh (read): one look, never a failure (a refresh records what is)."""
    if not applicable(outs, props):
        return {}
    arn = wanted_arn(outs, props)
    results, _ = look(list(outs["bound_aliases"]), outs["domain_name"], arn, acm_seen.recent(arn))
    return dict(sorted(results.items()))


def failures(results: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """"alias: problem" for each alias that failed."""
    return [f"{alias}: {result['problem']}" for alias, result in sorted(results.items()) if not result.get("ok")]
