"""AWS Certificate Manager: certificates requested with DNS validation (seed 000, acm_op=create).

Environment (read in the provider process, never stored in state):
  AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN / AWS_PROFILE   credentials (boto3 chain)
  AWS_ENDPOINT_URL                       endpoint override (the local default points it at moto server)
IAM actions used: acm:RequestCertificate, acm:DescribeCertificate, acm:ListTagsForCertificate, acm:ListCertificates,
  acm:AddTagsToCertificate, acm:RemoveTagsFromCertificate, acm:DeleteCertificate, tag:GetResources
  (optional: finds a certificate an interrupted run already requested; without it the idempotency token
  alone protects retries within ACM's one-hour token window).

Lifecycle (the shape of terraform-provider-aws's certificate.go: find / status / wait):
- create: look for a certificate this resource already requested (tags; a run that touches many lists them
  at most once a minute, components/aws/tag_index.py), else RequestCertificate with a deterministic
  idempotency token; then wait, bounded, until ACM has published a validation record for every name;
  optionally wait, bounded, for ISSUED. A wait that runs out never fails the create: the certificate exists,
  so it is recorded with its status and a message, and `pulumi up --refresh` resumes.
- read (refresh): gone -> removed from state; otherwise names, key, tags and status from ACM, returned as
  both outputs and inputs so drift shows in the next preview (tags from the run's listing when it agrees with
  the state, else ListTagsForCertificate: tag_index.py).
- update: tags in place; a renamed entry (`previousNames`, a Pulumi alias) or a renamed project/stack
  re-tags the certificate with its new identity in place. Names, key algorithm or region replace
  (create-before-delete).
- delete: not-found is success; ResourceInUseException is retried until deleteInUseTimeoutSeconds.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any, Callable, Mapping

import botocore.exceptions
import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, ReadResult, UpdateResult

from components import names
from components.aws import acm_seen, adopt
from components.aws.config import ACM_KEY_ALGORITHMS, AcmCertificateSpec, AwsSpec
from components.dynamic import (ISSUANCE, RECORDS, REPLACED, CertfleetProvider, Clock, changed_keys,
                                note_declared, resource_identity, tell_user, wait_for)
from components.aws.clients import _clients, client, error_code as _error_code  # noqa: F401 (tests clear _clients)
from components.aws.clients import TransportErrors, cloud_error
from components.aws.tag_index import TagIndex
from components.errors import CloudError, WaitTimeout
from components.packed_provider import PackedResource, packed_fields

RESOURCE_TAG = "certfleet:resource"   # "<project>/<stack>/<certificate name>": which resource owns it
REQUEST_TAG = "certfleet:request"     # hash of the request: tells a retry from a replacement
# A fresh value per create. When a create adopts a certificate (a retry, or a replacement whose request
# is unchanged), it re-stamps this tag, so the delete of the resource it replaces leaves it alone.
GENERATION_TAG = "certfleet:generation"
KIND = "aws:AcmCertificate"  # for components.dynamic.REPLACED
NAME_KIND = KIND + "/name"    # the names a certificate declared in this run covers (dns/record_checks.ACM_NAME_KIND)
# Statuses after which the certificate can never be issued: the next `pulumi up` replaces it.
DEAD_STATUSES = ("FAILED", "VALIDATION_TIMED_OUT", "REVOKED", "EXPIRED", "INACTIVE")
REPLACE_KEYS = ("domain", "sans", "key_algorithm", "region")
# on_destroy is a diff key (destroy reads it from state); adopt_id and replace_adopted are not: removing
# `adopt` from an entry changes nothing (components/aws/adopt.py).
INPUT_KEYS = REPLACE_KEYS + ("cert_name", "resource_tag", "tags", "validation_record_timeout_seconds",
                             "issued_timeout_seconds", "delete_in_use_timeout_seconds", "on_destroy")
CERTFLEET_TAGS = ("certfleet:resource", "certfleet:request", "certfleet:generation")
# certfleet's certificates (requested and imported) of a region, listed once when a run touches many.
CERTIFICATES = TagIndex(RESOURCE_TAG)
# (description, tags) of the certificate a request was answered with, as just read: not asked for again.
Answer = tuple[dict[str, Any], dict[str, str]]
POLL_SECONDS = 2.0
# ListCertificates shows only RSA_1024 and RSA_2048 unless asked for every key type.
ALL_KEY_TYPES = ["RSA_1024", "RSA_2048", "RSA_3072", "RSA_4096", "EC_prime256v1", "EC_secp384r1", "EC_secp521r1"]

# --- pure helpers ---------------------------------------------------------------------------------------

def request_hash(props: Mapping[str, Any]) -> str:
    """Hash of everything that defines the requested certificate. 32 hex chars fit ACM's token (\\w{1,32})."""
    body = json.dumps({k: props[k] for k in ("domain", "sans", "key_algorithm", "region", "resource_tag")},
                      sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()[:32]


def idempotency_token(props: Mapping[str, Any], attempt: int = 0) -> str:
    """Deterministic, so a retried create within ACM's one-hour window returns the same certificate.

    `attempt` > 0 is used only when the token points at a certificate that was deleted since.
    """
    return request_hash(props) if attempt == 0 else hashlib.sha256(
        f"{request_hash(props)}:{attempt}".encode()).hexdigest()[:32]


def validation_records(certificate: Mapping[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """De-duplicated DNS records to publish (apex and wildcard share one), and the names still without one."""
    records: dict[tuple[str, str, str], dict[str, Any]] = {}
    missing: list[str] = []
    for option in certificate.get("DomainValidationOptions", []):
        domain = names.normalise(option["DomainName"])
        record = option.get("ResourceRecord")
        if not record:
            missing.append(domain)
            continue
        key = (record["Name"].lower(), record["Type"], record["Value"])
        entry = records.setdefault(key, {"name": key[0], "type": key[1], "value": key[2], "domains": []})
        entry["domains"] = sorted({*entry["domains"], domain})
    return sorted(records.values(), key=lambda r: r["name"]), sorted(missing)


def status_message(status: str, missing_records: list[str], failure_reason: str | None) -> str:
    if status == "ISSUED":
        return "issued"
    if status in DEAD_STATUSES:
        return (f"{status}{f' ({failure_reason})' if failure_reason else ''}: this certificate can no longer "
                f"be issued; the next `pulumi up` replaces it")
    if missing_records:
        return (f"ACM has not yet published validation records for {', '.join(missing_records)}; "
                f"run `pulumi up --refresh` to pick them up")
    if status == "PENDING_VALIDATION":
        # Short: it is stored twice per certificate (its state and the stack's export).
        return "waiting for validation: publish validation_records in DNS, then `pulumi up --refresh`"
    return status


def renewal_outputs(described: Mapping[str, Any]) -> dict[str, Any]:
    """ACM's managed renewal: `renewal_status` (RenewalSummary.RenewalStatus: PENDING_AUTO_RENEWAL,
    PENDING_VALIDATION, SUCCESS, FAILED; null before ACM's first attempt, 60 days before expiry) and
    `renewal_eligibility` (ELIGIBLE while a service such as CloudFront uses it, else INELIGIBLE)."""
    return {"renewal_status": (described.get("RenewalSummary") or {}).get("RenewalStatus"),
            "renewal_eligibility": described.get("RenewalEligibility")}


def user_tags(tags: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in tags.items() if not k.startswith("certfleet:")}


def check_inputs(news: Mapping[str, Any]) -> list[CheckFailure]:
    """The config rules again, for resources built without components/config.py."""
    failures = []
    domain, sans = news.get("domain"), news.get("sans")
    if isinstance(domain, str):
        problem = names.dns_name_problem(domain) or names.acm_domain_problem(domain)
        if problem:
            failures.append(CheckFailure("domain", problem))
    if isinstance(sans, list):
        for san in sans:
            problem = names.dns_name_problem(san) if isinstance(san, str) else "must be a string"
            if problem:
                failures.append(CheckFailure("sans", problem))
        if isinstance(domain, str) and domain not in sans:
            failures.append(CheckFailure("sans", "must include the domain"))
    if news.get("key_algorithm") not in ACM_KEY_ALGORITHMS and isinstance(news.get("key_algorithm"), str):
        failures.append(CheckFailure("key_algorithm", f"must be one of {', '.join(ACM_KEY_ALGORITHMS)}"))
    for key, value in (news.get("tags") or {}).items():
        problem = names.aws_tag_problem(key, value)
        if problem:
            failures.append(CheckFailure("tags", problem))
    return failures


# --- the provider -----------------------------------------------------------------------------------------

class AcmCalls:
    """ACM calls shared by the certificate providers (this one and acm_import.AcmImportProvider): the tag
    look-up before a create, tags, describe, and the delete that waits for a certificate to be released."""

    clock = Clock

    def _find_tagged(self, props: Mapping[str, Any], wanted_for: Callable[[str], dict[str, str]],
                     usable: Callable[[dict[str, Any]], bool], ask_acm: bool = False,
                     listing: bool = False) -> str | None:
        """The first `usable` certificate (by ARN) tagged `wanted_for(identity)`, for the resource's identity
        or a former one (`previous_resource_tags`). Needs props region, cert_name, resource_tag, domain.

        `ask_acm`: skip the tag index (it can lag behind ACM) and list ACM's own certificates instead.
        `listing`: the run's listing may answer (tag_index.py: only where an idempotency token backs it up).
        """
        acm = client("acm", props["region"])
        candidates: list[str] = []
        listed: list[str] | None = None
        indexed = CERTIFICATES.tags_by_arn(props["region"], for_create=True) if listing and not ask_acm else None
        for identity in [props["resource_tag"], *(props.get("previous_resource_tags") or [])]:
            wanted = wanted_for(identity)
            if indexed is not None:
                tagged = [arn for arn, tags in indexed.items() if wanted.items() <= tags.items()]
            else:
                tagged = None if ask_acm else self._tagged_arns(props, wanted)
            if tagged is None:  # asked to, or no tag:GetResources permission: list ACM, filtered by domain
                listed = self._arns_for_domain(acm, props) if listed is None else listed
                tagged = [arn for arn in listed if wanted.items() <= self._tags(acm, arn, arn).items()]
            candidates += tagged
        for arn in sorted(set(candidates)):
            described = self._describe(acm, arn, arn)
            if described and usable(described):
                return arn
        return None

    def _tagged_arns(self, props: Mapping[str, Any], wanted: Mapping[str, str]) -> list[str] | None:
        tagging = client("resourcegroupstaggingapi", props["region"])
        try:
            pages = tagging.get_paginator("get_resources").paginate(
                ResourceTypeFilters=["acm:certificate"],
                TagFilters=[{"Key": k, "Values": [v]} for k, v in wanted.items()])
            return [r["ResourceARN"] for page in pages for r in page.get("ResourceTagMappingList", [])]
        except botocore.exceptions.ClientError as err:
            if _error_code(err) in ("AccessDeniedException", "AccessDenied"):
                return None
            raise cloud_error("acm", "GetResources (tag lookup)", f"certificate '{props['cert_name']}'", err) from err

    def _arns_for_domain(self, acm: Any, props: Mapping[str, Any]) -> list[str]:
        try:
            pages = acm.get_paginator("list_certificates").paginate(Includes={"keyTypes": ALL_KEY_TYPES})
            return [c["CertificateArn"] for page in pages for c in page.get("CertificateSummaryList", [])
                    if names.normalise(c.get("DomainName", "")) == props["domain"]]
        except botocore.exceptions.ClientError as err:
            raise cloud_error("acm", "ListCertificates", f"certificate '{props['cert_name']}'", err) from err

    def _tags(self, acm: Any, arn: str, resource: str) -> dict[str, str]:
        """The certificate's tags; {} if it is gone."""
        try:
            tags = acm.list_tags_for_certificate(CertificateArn=arn).get("Tags", [])
        except botocore.exceptions.ClientError as err:
            if _error_code(err) == "ResourceNotFoundException":
                return {}
            raise cloud_error("acm", "ListTagsForCertificate", resource, err) from err
        return {t["Key"]: t.get("Value", "") for t in tags}

    def _current_tags(self, acm: Any, arn: str, props: Mapping[str, Any], resource: str) -> dict[str, str]:
        """The certificate's tags: the run's listing when it agrees with `props` (tag_index.py), else ACM's."""
        listed = CERTIFICATES.refresh_tags(props["region"], arn, props.get("tags"), user_tags)
        return listed if listed is not None else self._tags(acm, arn, resource)

    def _describe(self, acm: Any, arn: str, resource: str) -> dict[str, Any] | None:
        try:
            return acm.describe_certificate(CertificateArn=arn)["Certificate"]
        except botocore.exceptions.ClientError as err:
            if _error_code(err) == "ResourceNotFoundException":
                return None
            raise cloud_error("acm", "DescribeCertificate", resource, err) from err

    def _tag(self, acm: Any, arn: str, tags: Mapping[str, str], resource: str) -> None:
        try:
            acm.add_tags_to_certificate(CertificateArn=arn, Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
        except botocore.exceptions.ClientError as err:
            raise cloud_error("acm", "AddTagsToCertificate", resource, err) from err
        CERTIFICATES.learn(acm.meta.region_name, arn, dict(tags))

    def _delete_until_released(self, acm: Any, arn: str, resource: str, timeout_seconds: float,
                               resource_tag: str = "") -> None:
        """Delete; not-found is success; in use (or ACM busy) is retried until `timeout_seconds`, unless only
        distributions of this stack use it: the engine deletes after every update of the run, so they keep it
        past this run (their new certificate is not issued yet) and waiting would only block a worker."""
        last_error: list[botocore.exceptions.ClientError] = []

        def try_delete() -> bool | None:
            try:
                acm.delete_certificate(CertificateArn=arn)
                return True
            except botocore.exceptions.ClientError as err:
                code = _error_code(err)
                if code == "ResourceNotFoundException":
                    return True  # already gone: that is what delete wants
                if code == "ResourceInUseException" and resource_tag:
                    self._refuse_if_kept_by_stack(acm, arn, resource, resource_tag)
                if code in ("ResourceInUseException", "ThrottlingException", "ConflictException"):
                    last_error[:] = [err]
                    return None  # a distribution still uses it (or ACM is busy): retry until the deadline
                raise cloud_error("acm", "DeleteCertificate", resource, err) from err

        try:
            wait_for(f"{resource} to be released", try_delete, timeout_seconds, POLL_SECONDS * 5, self.clock)
        except WaitTimeout:
            raise cloud_error("acm", "DeleteCertificate", resource, last_error[0]) from None


    def _release(self, acm: Any, arn: str, props: Mapping[str, Any], resource: str) -> None:
        """Keep the certificate but take certfleet's own tags off it (only while it is this resource's), so
        another entry or stack may adopt it later without being refused as owned; user tags stay."""
        if self._tags(acm, arn, resource).get(RESOURCE_TAG) == props.get("resource_tag"):
            try:
                acm.remove_tags_from_certificate(CertificateArn=arn, Tags=[{"Key": k} for k in CERTFLEET_TAGS])
            except botocore.exceptions.ClientError as err:
                raise cloud_error("acm", "RemoveTagsFromCertificate", resource, err) from err
        tell_user(adopt.keep_message(resource, arn, props, "ACM"))

    def _adoptable(self, props: Mapping[str, Any], what: str) -> tuple[dict[str, Any], dict[str, str]] | str | None:
        """(description, tags) of the certificate to adopt; a problem's text; None when the account cannot be
        looked at (no credentials: a PR preview skips the look)."""
        arn = props["adopt_id"]
        acm = client("acm", props["region"])
        try:
            described = acm.describe_certificate(CertificateArn=arn)["Certificate"]
            tags = {t["Key"]: t.get("Value", "") for t in
                    acm.list_tags_for_certificate(CertificateArn=arn).get("Tags", [])}
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as err:
            if adopt.no_account_access(err):
                return None
            if isinstance(err, botocore.exceptions.ClientError) and _error_code(err) == "ResourceNotFoundException":
                return (f"{what}: {arn} does not exist in ACM ({props['region']}) or is not visible to these "
                        f"credentials; nothing to adopt")
            raise cloud_error("acm", "DescribeCertificate", what, err) from err
        owner = adopt.foreign_owner(tags.get(RESOURCE_TAG), props)
        return adopt.owned_elsewhere(what, arn, owner) if owner else (described, tags)

    @staticmethod
    def _tag_differences(tags: Mapping[str, str], props: Mapping[str, Any]) -> list[str]:
        live = {k: v for k, v in user_tags(tags).items() if not k.startswith("aws:")}
        return adopt.differences([("tags", live, dict(props.get("tags") or {}))])

    def _adopt_tags(self, acm: Any, arn: str, props: Mapping[str, Any], certfleet_tags: Mapping[str, str],
                    resource: str) -> None:
        """The adopted certificate's user tags become the entry's; certfleet's identity tags are added."""
        live = user_tags(self._tags(acm, arn, resource))
        wanted = dict(props.get("tags") or {})
        dropped = [{"Key": k} for k in live if k not in wanted and not k.startswith("aws:")]
        try:
            if dropped:
                acm.remove_tags_from_certificate(CertificateArn=arn, Tags=dropped)
        except botocore.exceptions.ClientError as err:
            raise cloud_error("acm", "RemoveTagsFromCertificate", resource, err) from err
        self._tag(acm, arn, {**{k: v for k, v in wanted.items() if live.get(k) != v}, **certfleet_tags}, resource)

    @staticmethod
    def _refuse_if_kept_by_stack(acm: Any, arn: str, resource: str, resource_tag: str) -> None:
        users = (acm.describe_certificate(CertificateArn=arn)["Certificate"].get("InUseBy") or [])
        distributions = [user for user in users if ":cloudfront::" in user and ":distribution/" in user]
        if not distributions or len(distributions) != len(users):
            return
        cloudfront = client("cloudfront", "us-east-1")
        stack_prefix = resource_tag.rsplit("/", 1)[0] + "/"
        owners = [{t["Key"]: t["Value"] for t in cloudfront.list_tags_for_resource(Resource=user)["Tags"]
                   .get("Items") or []}.get(RESOURCE_TAG, "") for user in distributions]
        if all(owner.startswith(stack_prefix) for owner in owners):
            ids = ", ".join(user.rsplit("/", 1)[-1] for user in distributions)
            raise CloudError("aws", "acm.DeleteCertificate", resource, "ResourceInUseException",
                             f"distribution(s) {ids} of this stack still use it, and keep it until their new "
                             f"certificate is issued: nothing is lost, this certificate serves meanwhile. Publish "
                             f"the new certificate's validation records; then `pulumi up --refresh` binds it and "
                             f"deletes this one")


class AcmCertificateProvider(AcmCalls, CertfleetProvider):
    """Dynamic provider for one ACM certificate. Holds no state: everything it needs is in the props."""

    clock = Clock

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        adopt.note_declared_names(KIND, news, "cert_name")  # a delete in this run is a replacement's
        # The names this certificate still covers: their validation CNAMEs stay (components/dns/record_checks.py).
        names_covered = [news.get("domain"), *(news.get("sans") or [])]
        note_declared(NAME_KIND, *(names.base_name(n) for n in names_covered if isinstance(n, str)))
        failures = check_inputs(news)
        if not failures and adopt.standing_for_adopted(olds, news, "arn"):
            failures = self._adoption_problems(news)
        return CheckResult(news, failures)

    def _adoption_problems(self, news: Mapping[str, Any]) -> list[CheckFailure]:
        """adopt.py's order: no access (skip), missing, owned elsewhere, replace-level differences."""
        what = f"certificate '{news['cert_name']}'"
        with TransportErrors("acm", "check", what):
            found = self._adoptable(news, what)
        failures = adopt.look_failures(found)
        if failures is not None:
            return failures
        described, tags = found
        replaced = self._replace_differences(described, news)
        if replaced and not news.get("replace_adopted"):
            return [CheckFailure("adopt_id", adopt.replace_refused(what, news["adopt_id"], replaced, "certificate"))]
        adopt.tell_differences(what, news["adopt_id"], self._tag_differences(tags, news), replaced, "certificate")
        return []

    @staticmethod
    def _replace_differences(described: Mapping[str, Any], props: Mapping[str, Any]) -> list[str]:
        """What only a new certificate can change: the kind, names and key algorithm."""
        domain = names.normalise(described.get("DomainName", ""))
        live_names = list(names.name_set(domain, (names.normalise(s) for s in
                                                  described.get("SubjectAlternativeNames") or [])))
        return adopt.differences([
            ("type", described.get("Type"), "AMAZON_ISSUED"),
            ("domain", domain, props["domain"]),
            ("names", live_names, sorted(props["sans"])),
            ("key_algorithm", str(described.get("KeyAlgorithm", "")).replace("-", "_"), props["key_algorithm"])])

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        result = self._diff(olds, news)
        if result.replaces:
            REPLACED.add((KIND, id_))  # the replacing create must stamp it as its own if ACM answers with it
        return result

    @staticmethod
    def _diff(olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = changed_keys(olds, news, REPLACE_KEYS)
        if olds.get("status") in DEAD_STATUSES:
            # Nothing in the inputs changed, but the certificate can never be issued: replace it.
            return DiffResult(changes=True, replaces=replaces or ["status"], delete_before_replace=False)
        if not changed_keys(olds, news, INPUT_KEYS):
            return DiffResult(changes=False)
        # changes=None lets the engine compute (and show) the detailed diff; it keeps our replaces.
        return DiffResult(changes=None, replaces=replaces, delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        acm = client("acm", props["region"])
        resource = f"certificate '{props['cert_name']}'"
        generation = uuid.uuid4().hex
        with TransportErrors("acm", "create", resource):
            # The entry's `adopt` first (None: no adopt, or replaceAdopted and a new certificate is needed).
            adopted = self._adopt(acm, props, generation, resource) if props.get("adopt_id") else None
            arn = adopted or self._find_existing(props)
            known: Answer | None = None
            if arn and not adopted:
                self._tag(acm, arn, {GENERATION_TAG: generation}, resource)  # an earlier create's: now ours
            elif not arn:
                arn, generation, known = self._request(acm, props, generation, resource)
        with TransportErrors("acm", "create: waiting for validation records", resource):
            return CreateResult(arn, {**self._settle(acm, arn, props, resource, known), "generation": generation,
                                      **adopt.adoption_outputs(props, bool(adopted))})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        acm = client("acm", props["region"])
        resource = f"certificate '{props.get('cert_name', id_)}'"
        with TransportErrors("acm", "read", resource):
            described = self._describe(acm, id_, resource)
            if described is None:
                return ReadResult("", {})  # deleted out of band: the engine drops it, `up` recreates it
            acm_seen.note_described(id_, described)   # the distribution's edge check compares with it
            outs = {**self._outputs(acm, id_, described, props, resource), "generation": props.get("generation"),
                    **adopt.adoption_outputs(props, props.get("adopted"))}
            inputs = {k: outs[k] for k in INPUT_KEYS}
            return ReadResult(id_, outs, inputs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        acm = client("acm", news["region"])
        resource = f"certificate '{news['cert_name']}'"
        with TransportErrors("acm", "update", resource):
            old_tags, new_tags = olds.get("tags") or {}, news.get("tags") or {}
            removed = [{"Key": k} for k in old_tags if k not in new_tags]
            changed = [{"Key": k, "Value": v} for k, v in new_tags.items() if old_tags.get(k) != v]
            if olds.get("resource_tag") != news["resource_tag"]:
                # Renamed entry, project or stack: the look-up tags follow the new identity.
                changed += [{"Key": RESOURCE_TAG, "Value": news["resource_tag"]},
                            {"Key": REQUEST_TAG, "Value": request_hash(news)}]
            try:
                if removed:
                    acm.remove_tags_from_certificate(CertificateArn=id_, Tags=removed)
                if changed:
                    acm.add_tags_to_certificate(CertificateArn=id_, Tags=changed)
            except botocore.exceptions.ClientError as err:
                raise cloud_error("acm", "AddTagsToCertificate/RemoveTagsFromCertificate", resource, err) from err
            return UpdateResult({**self._settle(acm, id_, news, resource), "generation": olds.get("generation"),
                                 **adopt.adoption_outputs(news, olds.get("adopted"))})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        acm = client("acm", props["region"])
        resource = f"certificate '{props.get('cert_name', id_)}'"
        with TransportErrors("acm", "delete", resource):
            if adopt.kept_on_destroy(KIND, props.get("cert_name", ""), props):
                self._release(acm, id_, props, resource)
                return
            if self._adopted_by_newer_create(acm, id_, props, resource):
                return  # a replacement adopted this very certificate: it is not ours to delete any more
            self._delete_until_released(acm, id_, resource, props.get("delete_in_use_timeout_seconds", 1200),
                                        props.get("resource_tag", ""))

    # --- steps ---

    def _find_existing(self, props: Mapping[str, Any], ask_acm: bool = False) -> str | None:
        """A certificate an interrupted run of this resource already requested, found by its tags."""
        # Under a former name (renamed entry) the request hash was made with the former identity.
        return self._find_tagged(
            props, lambda identity: {RESOURCE_TAG: identity,
                                     REQUEST_TAG: request_hash({**props, "resource_tag": identity})},
            lambda described: described.get("Status") not in DEAD_STATUSES, ask_acm, listing=True)

    def _adopt(self, acm: Any, props: Mapping[str, Any], generation: str, resource: str) -> str | None:
        """The certificate the entry names, tagged as this resource's; None when it differs in what only a new
        certificate can change and the entry says replaceAdopted (then a new one is requested)."""
        found = self._adoptable(props, resource)
        if not isinstance(found, tuple):  # check refused it at preview; it changed since, or no access now
            raise CloudError("aws", "acm.DescribeCertificate", resource, "AdoptRefused",
                             found or f"cannot read {props['adopt_id']} to adopt it")
        replaced = self._replace_differences(found[0], props)
        if replaced:
            if props.get("replace_adopted"):
                return None
            raise CloudError("aws", "acm.DescribeCertificate", resource, "AdoptRefused",
                             adopt.replace_refused(resource, props["adopt_id"], replaced, "certificate"))
        self._adopt_tags(acm, props["adopt_id"], props, {RESOURCE_TAG: props["resource_tag"],
                                                         GENERATION_TAG: generation}, resource)
        return props["adopt_id"]

    def _adopted_by_newer_create(self, acm: Any, arn: str, props: Mapping[str, Any], resource: str) -> bool:
        stamped = self._tags(acm, arn, resource).get(GENERATION_TAG)
        return bool(stamped and props.get("generation") and stamped != props["generation"])

    def _request(self, acm: Any, props: Mapping[str, Any], generation: str,
                 resource: str) -> tuple[str, str, Answer | None]:
        """(ARN, the create's generation, (its description, its tags) as just read, when they were). A
        certificate ACM answers the request with keeps the request's generation (a rerun then sends the very
        same request), unless it is one a replacement in this run is replacing: that one is stamped with
        `generation`, so the old resource's delete leaves it alone."""
        tags = [{"Key": k, "Value": v} for k, v in sorted((props.get("tags") or {}).items())]
        # certfleet's own three tags travel with the request (config leaves room for them in ACM's 50), so
        # no later tagging call can fail on the limit after the certificate exists. The generation sent is
        # the request's, the same on every retry: a rerun after a crash (whose tag look-up may miss the new
        # certificate while the index lags) sends the very same request, which ACM answers with the same
        # certificate for an hour (moto only while the tags are unchanged).
        requested = f"requested-{request_hash(props)}"
        tags += [{"Key": RESOURCE_TAG, "Value": props["resource_tag"]},
                 {"Key": REQUEST_TAG, "Value": request_hash(props)},
                 {"Key": GENERATION_TAG, "Value": requested}]
        for attempt in range(3):
            try:
                arn = acm.request_certificate(
                    DomainName=props["domain"], SubjectAlternativeNames=list(props["sans"]),
                    ValidationMethod="DNS", KeyAlgorithm=props["key_algorithm"],
                    IdempotencyToken=idempotency_token(props, attempt), Tags=tags)["CertificateArn"]
            except botocore.exceptions.ClientError as err:
                if err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) < 500 or attempt == 2:
                    raise cloud_error("acm", "RequestCertificate", resource, err) from err
                # A server error leaves it open whether the request went through: look again in ACM
                # itself, then ask with the next token (moto answers 500 to a token of a deleted
                # certificate, so the same token would fail forever there).
                arn = self._find_existing(props, ask_acm=True)
                if arn:
                    self._tag(acm, arn, {GENERATION_TAG: generation}, resource)
                    return arn, generation, None
                continue
            # Within an hour ACM answers a reused token with the earlier certificate, even one deleted
            # or failed since: then ask again with the next token.
            described = self._describe(acm, arn, resource)
            if described is not None and described.get("Status") not in DEAD_STATUSES:
                # Read, not assumed: ACM may have answered with an earlier request's certificate (same token).
                tags = self._tags(acm, arn, resource)
                CERTIFICATES.learn(props["region"], arn, tags)   # a later look in this run finds it
                if (KIND, arn) not in REPLACED and tags.get(GENERATION_TAG) == requested:
                    return arn, requested, (described, tags)  # this request's certificate (new, or a crashed run's)
                self._tag(acm, arn, {GENERATION_TAG: generation}, resource)  # an earlier create's: now ours
                return arn, generation, (described, {**tags, GENERATION_TAG: generation})
        raise CloudError("aws", "acm.RequestCertificate", resource, "ResourceNotFoundException",
                         "ACM answered three idempotency tokens with deleted or failed certificates")

    def _settle(self, acm: Any, arn: str, props: Mapping[str, Any], resource: str,
                known: Answer | None = None) -> dict[str, Any]:
        """Bounded waits for validation records, then (optionally) for ISSUED. Never fails on a timeout.
        `known`: (description, tags) just read by the caller: the first look and the tags, without asking again."""
        unread = [known[0]] if known else []

        def current() -> dict[str, Any]:
            described = unread.pop() if unread else self._describe(acm, arn, resource)
            if described is None:
                raise CloudError("aws", "acm.DescribeCertificate", resource, "ResourceNotFoundException",
                                 f"{arn} disappeared while certfleet was waiting for it")
            return described

        def until(done: Any) -> Any:
            return lambda: (d if done(d := current()) else None)

        waits = ((until(lambda d: not validation_records(d)[1]),
                  props.get("validation_record_timeout_seconds", 300), RECORDS),
                 (until(lambda d: d.get("Status") != "PENDING_VALIDATION"),
                  props.get("issued_timeout_seconds", 0), ISSUANCE))
        described = None
        for probe, timeout, kind in waits[:2 if props.get("issued_timeout_seconds", 0) else 1]:
            try:
                described = wait_for(resource, probe, timeout, POLL_SECONDS, self.clock, shared=kind)
            except WaitTimeout:
                described = None
                break
        return self._outputs(acm, arn, described or current(), props, resource, known[1] if known else None)

    def _outputs(self, acm: Any, arn: str, described: Mapping[str, Any], props: Mapping[str, Any],
                 resource: str, tags: Mapping[str, str] | None = None) -> dict[str, Any]:
        records, missing = validation_records(described)
        status = described.get("Status", "UNKNOWN")
        failure = described.get("FailureReason")
        not_after = described.get("NotAfter")
        domain = names.normalise(described.get("DomainName", props["domain"]))
        return {
            "cert_name": props["cert_name"],
            "resource_tag": props["resource_tag"],
            "region": props["region"],
            "domain": domain,
            "sans": list(names.name_set(domain, (names.normalise(s) for s in
                                                 described.get("SubjectAlternativeNames", [])))),
            # As requested: ACM cannot change it, and moto reports RSA-2048 whatever was asked for.
            "key_algorithm": props["key_algorithm"],
            "tags": user_tags(tags if tags is not None else self._current_tags(acm, arn, props, resource)),
            "validation_record_timeout_seconds": props.get("validation_record_timeout_seconds", 300),
            "issued_timeout_seconds": props.get("issued_timeout_seconds", 0),
            "delete_in_use_timeout_seconds": props.get("delete_in_use_timeout_seconds", 1200),
            "arn": arn,
            "status": status,
            "status_message": status_message(status, missing, failure),
            "validation_records": records,
            "not_after": not_after.isoformat() if hasattr(not_after, "isoformat") else not_after,
            # ACM renews a requested certificate itself (same ARN, new NotAfter): certfleet reports how it goes.
            # Outputs only, never inputs, so a renewal never shows as drift in a preview.
            **renewal_outputs(described),
            "in_use_by": sorted(described.get("InUseBy", [])),
            "on_destroy": props.get("on_destroy"),
        }


# --- the resource -------------------------------------------------------------------------------------------

# What the program reads of a certificate (components/aws/fleet.py, dns/, cloudfront.py).
FIELDS = ("arn", "status", "status_message", "domain", "sans", "validation_records", "not_after", "renewal_status",
          "renewal_eligibility", "in_use_by", "adopted")


@packed_fields(*FIELDS)
class AcmCertificate(PackedResource, module="aws", name="AcmCertificate"):
    """An ACM certificate with DNS validation. Type token: pulumi-python:dynamic/aws:AcmCertificate.

    Its state is one JSON property, `spec` (components/packing.py); its FIELDS are attributes that read it."""

    spec: pulumi.Output[str]

    def __init__(self, name: str, spec: AcmCertificateSpec, aws: AwsSpec,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(AcmCertificateProvider(), name, certificate_inputs(spec, aws, resource_identity(spec.name)),
                         opts)


def certificate_inputs(spec: AcmCertificateSpec, aws: AwsSpec, resource_tag: str) -> dict[str, Any]:
    """The provider's inputs for one certificate of the config model."""
    return {
        "cert_name": spec.name,
        "resource_tag": resource_tag,
        "previous_resource_tags": [resource_identity(n) for n in spec.previous_names],
        "region": aws.region,
        "domain": spec.domain,
        "sans": list(spec.sans),
        "key_algorithm": spec.key_algorithm,
        "tags": dict(spec.tags),
        "validation_record_timeout_seconds": aws.validation_record_timeout_seconds,
        "issued_timeout_seconds": aws.issued_timeout_seconds,
        "delete_in_use_timeout_seconds": aws.delete_in_use_timeout_seconds,
        **adopt.adoption_inputs(spec),
    }
