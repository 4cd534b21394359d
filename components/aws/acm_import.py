"""AWS Certificate Manager: certificates imported from PEM (seed 000, acm_op=import, pemList).

Environment: as components/aws/acm.py (boto3 credential chain, AWS_ENDPOINT_URL for the local emulator).
IAM actions used: acm:ImportCertificate, acm:DescribeCertificate, acm:GetCertificate, acm:ListTagsForCertificate,
  acm:AddTagsToCertificate, acm:RemoveTagsFromCertificate, acm:DeleteCertificate, tag:GetResources (optional:
  finds a certificate an interrupted run already imported; without it ACM's own listing is used:
  acm:ListCertificates).

Lifecycle:
- check: every rule of components/aws/pem.py again (the config ran them at preview), per input.
- create: look before import. A certificate tagged certfleet:resource=<this resource> (or a former identity)
  that was imported with the same key type is this resource's, left by a run whose answer was lost: it is
  adopted, and re-imported only if it holds other material. Else ImportCertificate, tagged.
- update: new PEMs or a new key (a rotation) are re-imported IN PLACE: same ARN, so distributions keep
  serving it. ACM forbids Tags on a re-import and real ACM keeps the tags (moto drops them): the tags are
  read back and what is missing is re-applied. A change of key type (ACM cannot re-import across key types)
  or of region replaces the certificate (create-before-delete). Tags change in place.
- read: gone -> removed from state; else status, names, dates, in-use and tags from ACM. The private key is
  never read back (ACM does not give it): the input is kept. A certificate re-imported out of band shows as a
  certificate_pem drift, and the next `pulumi up` re-imports the configured one.
- delete: only while the certificate still carries this resource's tag; not-found is success;
  ResourceInUseException is retried until deleteInUseTimeoutSeconds (acm.AcmCalls).

The private key is plain text inside this process only. It is registered as a secret output (the engine
encrypts it in state), the provider object holds nothing (pickled by reference), and no error raised here
can carry it: ACM's own messages may echo input, so every message is scrubbed of PEM and key text
(components/key_text.py).
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from typing import Any, Callable, Mapping

import botocore.exceptions
import pulumi
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, ReadResult, UpdateResult

from components import names
from components.aws import acm_seen, adopt, pem
from components.aws.acm import RESOURCE_TAG, AcmCalls, user_tags
from components.aws.clients import client, error_code
from components.dynamic import (REPLACED, CertfleetProvider, CertfleetResource, changed_keys, is_unknown,
                                resource_identity, tell_user)
from components.errors import CloudError
from components.key_text import NoKeyText, holds_key_text, scrub  # noqa: F401 (re-exported)

KIND = "aws:AcmImport"  # for components.dynamic.REPLACED
MATERIAL_KEYS = ("certificate_pem", "chain_pem", "private_key_pem")
INPUT_KEYS = ("cert_name", "resource_tag", "region", *MATERIAL_KEYS, "tags", "expiry_margin_days",
              "delete_in_use_timeout_seconds", "on_destroy")  # adopt_id is no diff key (components/aws/adopt.py)
OUTPUT_KEYS = ("arn", "status", "status_message", "domain", "sans", "not_after", "key_algorithm", "fingerprint",
               "in_use_by", "adopted")
SECRET_OUTPUTS = ["private_key_pem"]
CALL = "ImportCertificate"

# --- no key text, ever ----------------------------------------------------------------------------------------

# scrub, holds_key_text and NoKeyText: components/key_text.py (the deployment targets use them too).


def _import_error(err: Exception, resource: str, key: str) -> CloudError:
    if isinstance(err, botocore.exceptions.ClientError):
        code = error_code(err)
        message = err.response.get("Error", {}).get("Message", "")
    else:
        code, message = type(err).__name__, str(err)
    return CloudError("aws", f"acm.{CALL}", resource, code, scrub(message, key) or "(no message)")


def _ambiguous(err: Exception) -> bool:
    """Did the import perhaps happen although the call failed (a server error, or no answer at all)?"""
    if isinstance(err, botocore.exceptions.ClientError):
        return err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) >= 500
    return isinstance(err, (botocore.exceptions.ConnectionError, botocore.exceptions.ReadTimeoutError))


# --- pure helpers ------------------------------------------------------------------------------------------

def acm_key_algorithm(described: Mapping[str, Any]) -> str:
    """DescribeCertificate spells it RSA-2048 / EC-prime256v1 on AWS, RSA_2048 on moto: the API's name."""
    return str(described.get("KeyAlgorithm", "")).replace("-", "_")


def leaf_of(certificate_pem: str) -> x509.Certificate | None:
    try:
        return x509.load_pem_x509_certificate(certificate_pem.encode())
    except (ValueError, AttributeError):
        return None


def fingerprint_of(certificate_pem: str) -> str | None:
    leaf = leaf_of(certificate_pem)
    return hashlib.sha256(leaf.public_bytes(serialization.Encoding.DER)).hexdigest() if leaf else None


def status_message(status: str) -> str:
    if status == "ISSUED":
        return "imported"
    if status == "EXPIRED":
        return ("EXPIRED: the imported certificate has expired; set a renewed certificate, chain and privateKey "
                "and run `pulumi up` (it is re-imported in place)")
    return status


def check_inputs(news: Mapping[str, Any], now: datetime) -> list[CheckFailure]:
    """pem.py's rules again (for resources built without components/config.py), and the tag rules."""
    failures = []
    material = [news.get(k) for k in MATERIAL_KEYS]
    if material[2] is None:
        failures.append(CheckFailure("private_key_pem", "is required, as a Pulumi secret: pulumi config set "
                                                        "--secret --path 'certfleet:aws.imports.<name>.privateKey' "
                                                        "< key.pem"))
    if not any(is_unknown(v) for v in material[:2]):
        key = None if is_unknown(material[2]) else material[2]
        for prop, problem in pem.import_problems_by_input(material[0], material[1] or "", key,
                                                          news.get("expiry_margin_days", 30), now):
            failures.append(CheckFailure(prop, problem))
    for tag_key, value in (news.get("tags") or {}).items():
        problem = names.aws_tag_problem(tag_key, value)
        if problem:
            failures.append(CheckFailure("tags", problem))
    return failures


def _key_algorithm_of(props: Mapping[str, Any]) -> str | None:
    certificate_pem = props.get("certificate_pem")
    if not isinstance(certificate_pem, str):
        return None
    try:
        return pem.certificate_facts(certificate_pem).key_algorithm
    except ValueError:
        return None


# --- the provider ------------------------------------------------------------------------------------------

class AcmImportProvider(AcmCalls, CertfleetProvider):
    """Dynamic provider for one imported ACM certificate. Holds no state: everything is in the props."""

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        what = f"imported certificate '{news.get('cert_name')}'"
        with NoKeyText("check", what, news):
            adopt.note_declared_names(KIND, news, "cert_name")  # a delete in this run is a replacement's
            failures = check_inputs(news, datetime.now(timezone.utc))
            if not failures and adopt.standing_for_adopted(olds, news, "arn") and not is_unknown(news["adopt_id"]):
                failures = self._adoption_problems(news, what)
            return CheckResult(news, failures)

    def _adoption_problems(self, news: Mapping[str, Any], what: str) -> list[CheckFailure]:
        """adopt.py's order: no access (skip), missing, owned elsewhere, not imported, another key type."""
        found = self._adoptable(news, what)
        failures = adopt.look_failures(found)
        if failures is not None:
            return failures
        described, tags = found
        if described.get("Type") != "IMPORTED":
            return [CheckFailure("adopt_id", self._not_imported(what, news["adopt_id"], described))]
        replaced = self._replace_differences(described, news)
        if replaced and not news.get("replace_adopted"):
            return [CheckFailure("adopt_id", adopt.replace_refused(what, news["adopt_id"], replaced,
                                                                   "imported certificate"))]
        acm = client("acm", news["region"])
        leaf = [] if replaced or is_unknown(news.get("certificate_pem")) else adopt.differences(
            [("leaf certificate (re-imported in place)", self._fingerprint(acm, news["adopt_id"], what),
              fingerprint_of(news["certificate_pem"]))])
        adopt.tell_differences(what, news["adopt_id"], leaf + self._tag_differences(tags, news), replaced,
                               "imported certificate")
        return []

    @staticmethod
    def _not_imported(what: str, arn: str, described: Mapping[str, Any]) -> str:
        return (f"{what}: {arn} is not an imported certificate (ACM type {described.get('Type')}); adopt it under "
                f"certfleet:aws.certificates")

    @staticmethod
    def _replace_differences(described: Mapping[str, Any], props: Mapping[str, Any]) -> list[str]:
        """ACM re-imports only the same key type: another one needs a new certificate."""
        return adopt.differences([("key_algorithm", acm_key_algorithm(described), _key_algorithm_of(props))])

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = changed_keys(olds, news, ("region",))
        new_algorithm = _key_algorithm_of(news)
        if olds.get("key_algorithm") and new_algorithm and new_algorithm != olds["key_algorithm"]:
            replaces.append("certificate_pem")  # ACM re-imports only the same key type and size
        if replaces:
            REPLACED.add((KIND, id_))  # the replacing create must not adopt (re-import into) this one
        if not changed_keys(olds, news, INPUT_KEYS):
            return DiffResult(changes=False)
        return DiffResult(changes=None, replaces=replaces, delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        resource = f"imported certificate '{props['cert_name']}'"
        with NoKeyText("create", resource, props):
            acm = client("acm", props["region"])
            facts = pem.certificate_facts(props["certificate_pem"])
            adopted = self._adopt(acm, props, facts, resource) if props.get("adopt_id") else None
            arn = adopted or self._find_own(props, facts)
            if arn and not adopted:  # a run whose answer was lost imported it already: adopt it
                if self._fingerprint(acm, arn, resource) != facts.fingerprint:
                    self._import(acm, props, resource, arn)
                self._sync_tags(acm, arn, props, {}, resource)
            elif not arn:
                arn = self._import_new(acm, props, facts, resource)
            return CreateResult(arn, {**self._outputs(acm, arn, props, resource),
                                      **adopt.adoption_outputs(props, bool(adopted))})

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        resource = f"imported certificate '{news['cert_name']}'"
        with NoKeyText("update", resource, news):
            acm = client("acm", news["region"])
            if changed_keys(olds, news, MATERIAL_KEYS):
                self._import(acm, news, resource, id_)  # rotation: same ARN, distributions keep serving it
            self._sync_tags(acm, id_, news, olds.get("tags") or {}, resource)
            return UpdateResult({**self._outputs(acm, id_, news, resource),
                                 **adopt.adoption_outputs(news, olds.get("adopted"))})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        resource = f"imported certificate '{props.get('cert_name', id_)}'"
        with NoKeyText("read", resource, props):
            acm = client("acm", props["region"])
            described = self._describe(acm, id_, resource)
            if described is None:
                return ReadResult("", {})  # deleted out of band: the engine drops it, `up` imports it again
            outs = {**self._outputs(acm, id_, props, resource, described),
                    **adopt.adoption_outputs(props, props.get("adopted"))}
            acm_seen.note_described(id_, described, outs.get("fingerprint"))   # for the distribution's edge check
            if outs["fingerprint"] != props.get("fingerprint"):
                # Re-imported out of band: show ACM's certificate, so the diff re-imports the configured one.
                outs.update(self._acm_material(acm, id_, resource))
            return ReadResult(id_, outs, {k: outs.get(k) for k in (*INPUT_KEYS, "previous_resource_tags")})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        resource = f"imported certificate '{props.get('cert_name', id_)}'"
        with NoKeyText("delete", resource, props):
            acm = client("acm", props["region"])
            if self._describe(acm, id_, resource) is None:
                return  # already gone
            if adopt.kept_on_destroy(KIND, props.get("cert_name", ""), props):
                self._release(acm, id_, props, resource)
                return
            owner = self._tags(acm, id_, resource).get(RESOURCE_TAG)
            if owner != props["resource_tag"]:
                tell_user(f"{resource}: left {id_} in ACM: it is tagged {RESOURCE_TAG}={owner!r}, not "
                          f"{props['resource_tag']!r}, so it is not this resource's to delete")
                return
            self._delete_until_released(acm, id_, resource, props.get("delete_in_use_timeout_seconds", 1200),
                                        props.get("resource_tag", ""))

    # --- steps ---

    def _adopt(self, acm: Any, props: Mapping[str, Any], facts: pem.PemFacts, resource: str) -> str | None:
        """The imported certificate the entry names, with the entry's material (re-imported in place only when
        its leaf differs) and tagged as this resource's; None when its key type differs and the entry says
        replaceAdopted (then a new certificate is imported)."""
        arn = props["adopt_id"]
        found = self._adoptable(props, resource)
        if not isinstance(found, tuple):  # check refused it at preview; it changed since, or no access now
            raise CloudError("aws", "acm.DescribeCertificate", resource, "AdoptRefused",
                             found or f"cannot read {arn} to adopt it")
        if found[0].get("Type") != "IMPORTED":
            raise CloudError("aws", "acm.DescribeCertificate", resource, "AdoptRefused",
                             self._not_imported(resource, arn, found[0]))
        replaced = self._replace_differences(found[0], props)
        if replaced:
            if props.get("replace_adopted"):
                return None
            raise CloudError("aws", "acm.DescribeCertificate", resource, "AdoptRefused",
                             adopt.replace_refused(resource, arn, replaced, "imported certificate"))
        if self._fingerprint(acm, arn, resource) != facts.fingerprint:
            self._import(acm, props, resource, arn)  # same ARN: whatever serves it keeps serving
        self._adopt_tags(acm, arn, props, {RESOURCE_TAG: props["resource_tag"]}, resource)
        return arn

    def _find_own(self, props: Mapping[str, Any], facts: pem.PemFacts, ask_acm: bool = False) -> str | None:
        """An imported certificate of this resource that can take this material (same key type)."""
        def usable(described: dict[str, Any]) -> bool:
            return (described.get("Type") == "IMPORTED" and acm_key_algorithm(described) == facts.key_algorithm
                    and (KIND, described.get("CertificateArn")) not in REPLACED)

        return self._find_tagged({**props, "domain": facts.domain}, lambda identity: {RESOURCE_TAG: identity},
                                 usable, ask_acm)

    def _import(self, acm: Any, props: Mapping[str, Any], resource: str, arn: str | None = None,
                look_again: Callable[[], str | None] | None = None) -> tuple[str, int]:
        """(ARN, SDK retries). With `arn`: a re-import into it, without Tags (ACM refuses tags on a re-import).
        `look_again`: when the call failed without a clear answer, the certificate it may have imported."""
        key = props["private_key_pem"]
        params: dict[str, Any] = {"Certificate": props["certificate_pem"].encode(), "PrivateKey": key.encode()}
        if props.get("chain_pem"):
            params["CertificateChain"] = props["chain_pem"].encode()
        if arn:
            params["CertificateArn"] = arn
        else:
            params["Tags"] = [{"Key": k, "Value": v} for k, v in sorted((props.get("tags") or {}).items())]
            params["Tags"].append({"Key": RESOURCE_TAG, "Value": props["resource_tag"]})
        try:
            response = acm.import_certificate(**params)
            return response["CertificateArn"], response.get("ResponseMetadata", {}).get("RetryAttempts", 0)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as err:
            error, unclear = _import_error(err, resource, key), _ambiguous(err)
        found = look_again() if unclear and look_again else None
        if found:
            return found, 0
        raise error  # raised outside the handler: the SDK's exception, which holds the request, is not chained

    def _import_new(self, acm: Any, props: Mapping[str, Any], facts: pem.PemFacts, resource: str) -> str:
        # An import that failed without a clear answer may have happened: look in ACM itself (the tag
        # index lags) and adopt what is there.
        arn, retries = self._import(acm, props, resource, look_again=lambda: self._find_own(props, facts, ask_acm=True))
        if retries:
            # The SDK sent the import again after an attempt that failed without a clear answer: if that
            # attempt went through, it left a twin certificate. ACM imports have no idempotency token.
            self._delete_twins(acm, props, facts, arn, resource)
        return arn

    def _delete_twins(self, acm: Any, props: Mapping[str, Any], facts: pem.PemFacts, keep: str, resource: str) -> None:
        for arn in self._arns_for_domain(acm, {**props, "domain": facts.domain}):
            if (arn != keep and self._tags(acm, arn, resource).get(RESOURCE_TAG) == props["resource_tag"]
                    and self._fingerprint(acm, arn, resource) == facts.fingerprint):
                self._delete_until_released(acm, arn, resource, 0)

    def _get_certificate(self, acm: Any, arn: str, resource: str) -> dict[str, Any]:
        try:
            return acm.get_certificate(CertificateArn=arn)
        except botocore.exceptions.ClientError as err:
            raise CloudError("aws", "acm.GetCertificate", resource, error_code(err),
                             scrub(err.response.get("Error", {}).get("Message", ""))) from None

    def _fingerprint(self, acm: Any, arn: str, resource: str) -> str | None:
        return fingerprint_of(self._get_certificate(acm, arn, resource).get("Certificate", ""))

    def _acm_material(self, acm: Any, arn: str, resource: str) -> dict[str, str]:
        got = self._get_certificate(acm, arn, resource)
        return {"certificate_pem": got.get("Certificate", ""), "chain_pem": got.get("CertificateChain", "")}

    def _sync_tags(self, acm: Any, arn: str, props: Mapping[str, Any], old_tags: Mapping[str, str],
                   resource: str) -> None:
        """Make the certificate's tags what props say, reading them back first (a re-import may drop them)."""
        current = self._tags(acm, arn, resource)
        wanted = {**(props.get("tags") or {}), RESOURCE_TAG: props["resource_tag"]}
        missing = {k: v for k, v in wanted.items() if current.get(k) != v}
        dropped = [{"Key": k} for k in old_tags if k not in wanted and k in current]
        try:
            if dropped:
                acm.remove_tags_from_certificate(CertificateArn=arn, Tags=dropped)
        except botocore.exceptions.ClientError as err:
            raise CloudError("aws", "acm.RemoveTagsFromCertificate", resource, error_code(err),
                             scrub(err.response.get("Error", {}).get("Message", ""))) from None
        if missing:
            self._tag(acm, arn, missing, resource)

    def _outputs(self, acm: Any, arn: str, props: Mapping[str, Any], resource: str,
                 described: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """`described`: the read's DescribeCertificate answer (else asked here)."""
        described = described if described is not None else (self._describe(acm, arn, resource) or {})
        leaf = self._get_certificate(acm, arn, resource).get("Certificate", "")
        try:
            facts: pem.PemFacts | None = pem.certificate_facts(leaf)
        except ValueError:
            facts = None
        status = described.get("Status", "UNKNOWN")
        not_after = described.get("NotAfter") or (facts.not_after if facts else None)
        domain = names.normalise(described.get("DomainName", facts.domain if facts else ""))
        return {
            "cert_name": props["cert_name"],
            "resource_tag": props["resource_tag"],
            "previous_resource_tags": list(props.get("previous_resource_tags") or []),
            "region": props["region"],
            "certificate_pem": props["certificate_pem"],
            "chain_pem": props.get("chain_pem") or "",
            "private_key_pem": props["private_key_pem"],  # never read back: ACM does not give it; a secret output
            "tags": user_tags(self._current_tags(acm, arn, props, resource)),
            "expiry_margin_days": props.get("expiry_margin_days", 30),
            "delete_in_use_timeout_seconds": props.get("delete_in_use_timeout_seconds", 1200),
            "arn": arn,
            "status": status,
            "status_message": status_message(status),
            "domain": domain,
            # From the certificate in ACM, as the config read them at preview (apex and wildcard kept).
            "sans": list(facts.names) if facts else sorted({names.normalise(s) for s in
                                                           described.get("SubjectAlternativeNames", [])}),
            "not_after": not_after.isoformat() if hasattr(not_after, "isoformat") else not_after,
            "key_algorithm": facts.key_algorithm if facts else acm_key_algorithm(described),
            "fingerprint": facts.fingerprint if facts else None,
            "in_use_by": sorted(described.get("InUseBy", [])),
            "on_destroy": props.get("on_destroy"),
        }


# --- the resource -------------------------------------------------------------------------------------------

class AcmImport(CertfleetResource, module="aws", name="AcmImport"):
    """A certificate imported into ACM from PEM. Type token: pulumi-python:dynamic/aws:AcmImport."""

    arn: pulumi.Output[str]
    status: pulumi.Output[str]
    status_message: pulumi.Output[str]
    domain: pulumi.Output[str]
    sans: pulumi.Output[list]
    not_after: pulumi.Output[str]
    key_algorithm: pulumi.Output[str]
    fingerprint: pulumi.Output[str]
    in_use_by: pulumi.Output[list]
    adopted: pulumi.Output[bool]

    def __init__(self, name: str, spec: Any, aws: Any, opts: pulumi.ResourceOptions | None = None) -> None:
        resource_tag = resource_identity(spec.name)
        secret = pulumi.ResourceOptions(additional_secret_outputs=SECRET_OUTPUTS)
        super().__init__(AcmImportProvider(), name,
                         {**import_inputs(spec, aws, resource_tag), **dict.fromkeys(OUTPUT_KEYS)},
                         pulumi.ResourceOptions.merge(opts, secret))


def import_inputs(spec: Any, aws: Any, resource_tag: str) -> dict[str, Any]:
    """The provider's inputs for one import of the config model (AcmImportSpec, AwsSpec). The key travels
    as a Pulumi secret: the engine encrypts it wherever it is stored."""
    key = spec.private_key_pem
    return {
        "cert_name": spec.name,
        "resource_tag": resource_tag,
        "previous_resource_tags": [resource_identity(n) for n in spec.previous_names],
        "region": aws.region,
        "certificate_pem": spec.certificate_pem,
        "chain_pem": spec.chain_pem or "",
        "private_key_pem": key if key is None or isinstance(key, pulumi.Output) else pulumi.Output.secret(key),
        "tags": dict(spec.tags),
        "expiry_margin_days": spec.expiry_margin_days,
        "delete_in_use_timeout_seconds": aws.delete_in_use_timeout_seconds,
        **adopt.adoption_inputs(spec),
    }
