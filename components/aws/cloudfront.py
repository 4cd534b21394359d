"""CloudFront distributions cloned from a template and bound to an ACM certificate (seed 000, auto_creation).

Environment (read in the provider process, never stored in state): the AWS credentials chain and
AWS_ENDPOINT_URL, as for components/aws/acm.py. CloudFront is global; its tags and ACM's certificates for it
live in us-east-1. Throttling and transient errors are retried by the shared clients (components/aws/clients.py);
validation errors fail at once, naming the resource, the call and AWS's code.
IAM actions used: cloudfront:CreateDistributionWithTags, cloudfront:GetDistribution, cloudfront:UpdateDistribution,
  cloudfront:DeleteDistribution, cloudfront:ListTagsForResource, cloudfront:TagResource, cloudfront:UntagResource,
  cloudfront:ListDistributions (cnameCheck, naming an alias's holder), acm:DescribeCertificate, tag:GetResources,
  acm:GetCertificate (the edge check).

Lifecycle (docs/distributions.md):
- create: look before create (a distribution tagged with this resource's identity is adopted), else
  CreateDistributionWithTags with a clone of the template (distribution_config.py) and a CallerReference
  fixed for the run, so a retried create is answered DistributionAlreadyExists and the look finds it.
- binding: aliases and certificate go on only when ACM itself says the certificate is ISSUED. Until then
  the distribution serves its *.cloudfront.net name unbound (stage "waiting for certificate"); the wiring
  passes the certificate's status as an input, so `pulumi up --refresh` after issuance shows a diff and
  the update binds.
- update: read config and ETag fresh, send IfMatch, re-read on PreconditionFailed. An alias another
  distribution of the same stack still holds (it is being removed there in this run) is retried; one held
  outside the stack fails naming the holder. Nothing replaces a distribution.
- after create/update: a bounded wait for Deployed that never fails the run ("deploying" is recorded); once
  Deployed, the edge check (edge_check.py): a TLS handshake per bound alias, its result the `edge` output.
- read: live aliases, certificate, enabled, comment, TLS, logging, tags and cloned config, as inputs: drift
  shows in the preview and the next `up` repairs it.
- delete: only a distribution tagged as this resource's; disable, wait Deployed, delete with a fresh ETag.
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any, Callable, Mapping

import botocore.exceptions
import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, ReadResult, UpdateResult

from components import names
from components.aws import adopt, cname_check, distribution_config as dc, edge_check
from components.aws.acm import DEAD_STATUSES, RESOURCE_TAG, user_tags
from components.aws.clients import TransportErrors, client, cloud_error
from components.aws.config import AwsSpec
from components.aws.config_distributions import DistributionSpec
from components.aws.distribution_config import REGION, arn_region
from components.aws.limits import CLOUDFRONT_MAX_COMMENT
from components.aws.tag_index import TagIndex
from components.deploy.config import DEPLOYED_REFERENCE
from components.dynamic import (DEPLOYMENT, RUN_ID, CertfleetProvider, Clock, is_unknown, resource_identity, tell_user,
                                wait_for)
from components.errors import CloudError, WaitTimeout
from components.packed_provider import PackedResource, packed_fields

INPUT_KEYS = ("dist_name", "resource_tag", "previous_resource_tags", "template_id", "template_version",
              "template_config", "certificate_name", "certificate_arn", "certificate_status", "aliases", "enabled",
              "comment", "minimum_protocol_version", "logging", "tags", "deployed_timeout_seconds", "cname_check",
              "on_destroy", "edge_check", "certificate_fingerprint")
# certificate_fingerprint: SHA-256 of the leaf the serving ACM import or deployed copy holds ("" for a requested
# certificate). A re-import keeps the ARN, so without it the distribution would not notice: a new value updates
# it, which binds aliases the new certificate covers and re-runs the edge check. Unknown (a preview) or absent
# from a state written before it existed: no change, so a quiet preview stays quiet.
FINGERPRINT_KEY = "certificate_fingerprint"
# certificate_status while the certificate of a distribution served by a deployed copy is ISSUED but does not
# cover its aliases yet (the source's names changed; its successor is not deployed yet): it waits.
NOT_COVERING = "ISSUED (not covering the aliases yet)"
# adopt_id is no diff key: removing `adopt` changes nothing (components/aws/adopt.py).
KIND = "aws:Distribution"  # for adopt.note_declared_names / declared_in_this_run
OUTPUT_KEYS = ("distribution_id", "arn", "domain_name", "status", "bound", "bound_aliases", "bound_certificate_arn",
               "stage", "status_message", "caller_reference", "adopted", "edge")
# What adopting compares at preview: every one is changed in place (a distribution never replaces).
ADOPT_COMPARED = ("aliases", "certificate_arn", "enabled", "comment", "minimum_protocol_version", "logging")


def caller_reference(resource_tag: str) -> str:
    """The same for every attempt of one run (a retry after a lost answer is DistributionAlreadyExists), new
    for the next run (a distribution deleted since does not block its successor)."""
    return "certfleet-" + hashlib.sha256(f"{resource_tag}:{RUN_ID}".encode()).hexdigest()[:32]


# The tags a refresh reports, from one listing of the account's certfleet distributions when a run reads many
# (tag_index.py: the same rules as ACM's certificates; CloudFront's tags are served from us-east-1).
DISTRIBUTIONS = TagIndex(RESOURCE_TAG, "cloudfront:distribution")


# --- check -------------------------------------------------------------------------------------------------

def alias_conflicts(news: Mapping[str, Any], olds: Mapping[str, Any] | None = None) -> list[CheckFailure]:
    """cnameCheck: aliases another distribution of the account (not of this stack) serves fail the preview.
    `olds`: the inputs of the distribution as it is (the engine's check gets the old inputs). Aliases it serves
    already (it had them with an issued certificate, so the last update bound them; while the certificate was
    pending they were held back, on no distribution) are not asked about again: CloudFront lets one distribution
    hold an alias, and this one does. So a preview that adds no alias lists nothing (the listing is 2 calls per
    100 distributions, paced, and every check waits for it); were one taken away in the console and given to
    another distribution since, CloudFront's CNAMEAlreadyExists names it at update."""
    aliases = news.get("aliases")
    if not news.get("cname_check") or is_unknown(aliases) or not aliases:
        return []
    had = olds.get("aliases") if olds and olds.get("certificate_status") == "ISSUED" else None
    if isinstance(had, list):
        held = {names.normalise(a) for a in had if isinstance(a, str)}
        aliases = [a for a in aliases if names.normalise(a) not in held]
        if not aliases:
            return []
    adopted = news.get("adopt_id")
    if adopted and not is_unknown(adopted):
        # The distribution being adopted serves them already: that is no conflict, it becomes this resource.
        holders = cname_check.LISTING.holders() or {}
        aliases = [a for a in aliases if {h[0] for h in holders.get(names.normalise(a), ())} - {adopted}]
    return [CheckFailure("aliases", m) for m in cname_check.account_conflicts(aliases, news["resource_tag"])]


def alias_holders(aliases: list[str]) -> dict[str, tuple[tuple[str, str | None], ...]]:
    """Who serves each alias right now: (distribution id, its certfleet:resource tag or None) pairs, from one
    fresh listing of the account (cname_check's, which this also refreshes)."""
    listing = cname_check.LISTING.relist() or {}
    return {alias: listing.get(names.normalise(alias), ()) for alias in aliases}


class _Summaries:
    """(ARN, comment) of every distribution of the account: listed once per provider process (what crashed runs
    left is there before this run starts), or again when asked for a fresh look."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listed: list[tuple[str, str]] | None = None

    def with_comment(self, comments: set[Any], fresh: bool) -> list[str]:
        with self._lock:
            if fresh or self._listed is None:
                pages = client("cloudfront", REGION).get_paginator("list_distributions").paginate()
                self._listed = [(item["ARN"], item.get("Comment", "")) for page in pages
                                for item in page.get("DistributionList", {}).get("Items") or []]
            return sorted(arn for arn, comment in self._listed if comment in comments)

    def clear(self) -> None:
        with self._lock:
            self._listed = None


SUMMARIES = _Summaries()


# --- the provider ------------------------------------------------------------------------------------------

class DistributionProvider(CertfleetProvider):
    """Dynamic provider for one distribution. Holds no state: everything it needs is in the props."""

    clock = Clock
    poll_seconds = 10.0
    first_poll_seconds = 1.0  # deployments polled at 1, 2, 4, 8 s, then every poll_seconds
    alias_move_timeout_seconds = 300.0  # how long an alias another distribution of the stack holds is retried
    conflict_attempts = 5               # PreconditionFailed / DistributionNotDisabled re-reads per call

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        adopt.note_declared_names(KIND, news, "dist_name")  # a delete in this run is a replacement's
        failures = [CheckFailure(key, reason) for key, reason in dc.input_problems(news)]
        if not failures and adopt.standing_for_adopted(olds, news, "distribution_id"):
            failures = self._adoption_problems(news)
        return CheckResult(news, failures or alias_conflicts(news, olds))

    def _adoption_problems(self, news: Mapping[str, Any]) -> list[CheckFailure]:
        """adopt.py's order: no access (skip), missing, owned elsewhere; then every difference is told (all are
        changed in place). Aliases the adopted distribution itself serves are no cnameCheck conflict."""
        what = f"distribution '{news['dist_name']}'"
        found = self._adoptable(news, what)
        failures = adopt.look_failures(found)
        if failures is not None:
            return failures
        distribution, tags = found
        live = {**self._live_inputs(distribution["DistributionConfig"], {}), "tags": user_tags(tags)}
        pairs = [(key, live.get(key), news.get(key)) for key in (*ADOPT_COMPARED, "tags")
                 if not is_unknown(news.get(key))]
        template = news.get("template_config")
        if not is_unknown(template) and not dc.same_clone(distribution["DistributionConfig"], template or {}):
            pairs.append(("template config (origins, behaviours, ...)", "the distribution's", "the template's"))
        adopt.tell_differences(what, news["adopt_id"], adopt.differences(pairs), [], "distribution")
        return []

    def _adoptable(self, props: Mapping[str, Any], what: str) -> tuple[dict[str, Any], dict[str, str]] | str | None:
        """(the distribution, its tags); a problem's text; None when the account cannot be looked at."""
        distribution_id = props["adopt_id"]
        cloudfront = client("cloudfront", REGION)
        try:
            distribution = cloudfront.get_distribution(Id=distribution_id)["Distribution"]
            answer = cloudfront.list_tags_for_resource(Resource=distribution["ARN"])
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as err:
            if adopt.no_account_access(err):
                return None
            if isinstance(err, botocore.exceptions.ClientError) and \
                    err.response.get("Error", {}).get("Code") == "NoSuchDistribution":
                return f"{what}: distribution {distribution_id} does not exist or is not visible to these credentials"
            raise cloud_error("cloudfront", "GetDistribution", what, err) from err
        tags = {t["Key"]: t.get("Value", "") for t in answer.get("Tags", {}).get("Items") or []}
        owner = adopt.foreign_owner(tags.get(RESOURCE_TAG), props)
        return adopt.owned_elsewhere(what, distribution_id, owner) if owner else (distribution, tags)

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [k for k in INPUT_KEYS if k not in ("template_config", FINGERPRINT_KEY)
                   and (is_unknown(news.get(k)) or olds.get(k) != news.get(k))]
        fingerprint = news.get(FINGERPRINT_KEY)
        if FINGERPRINT_KEY in olds and not is_unknown(fingerprint) and \
                (olds[FINGERPRINT_KEY] or "") != (fingerprint or ""):
            changed.append(FINGERPRINT_KEY)  # the serving certificate was re-imported: bind and check again
        old_template, new_template = olds.get("template_config") or {}, news.get("template_config")
        if is_unknown(new_template) or not dc.same_clone(old_template, new_template or {}):
            changed.append("template_config")
        # Never a replacement: every field of a distribution can be updated in place.
        return DiffResult(changes=None, replaces=[]) if changed else DiffResult(changes=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        resource = f"distribution '{props['dist_name']}'"
        with TransportErrors("cloudfront", "create", resource):
            if props.get("adopt_id"):
                return CreateResult(props["adopt_id"], {**self._adopt_by_id(props, resource),
                                                        **adopt.adoption_outputs(props, True)})
            found = self._find(props, resource)
            if found:  # an earlier create of this resource whose answer was lost
                return CreateResult(found, {**self._converge(found, {}, props, resource),
                                            **adopt.adoption_outputs(props, False)})
            certificate_status = self._certificate_status(props, resource)
            distribution_id = self._create(props, certificate_status == "ISSUED", resource)
            return CreateResult(distribution_id, {**self._settle(distribution_id, props, certificate_status, resource),
                                                  **adopt.adoption_outputs(props, False)})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        resource = f"distribution '{props.get('dist_name', id_)}'"
        with TransportErrors("cloudfront", "read", resource):
            distribution = self._get(id_, resource, missing_ok=True)
            if distribution is None:
                return ReadResult("", {})  # deleted out of band: the engine drops it, `up` creates it again
            live = distribution["DistributionConfig"]
            inputs = {**props, **self._live_inputs(live, props),
                      "tags": user_tags(self._current_tags(distribution["ARN"], props, resource))}
            outs = {**self._outputs(distribution, inputs, props.get("certificate_status") or ""),
                    **adopt.adoption_outputs(props, props.get("adopted"))}
            outs["edge"] = edge_check.at_refresh(outs, props)  # a refresh re-checks: ACM may have renewed
            return ReadResult(id_, outs, {k: outs[k] for k in INPUT_KEYS})

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        resource = f"distribution '{news['dist_name']}'"
        with TransportErrors("cloudfront", "update", resource):
            return UpdateResult({**self._converge(id_, olds, news, resource),
                                 **adopt.adoption_outputs(news, olds.get("adopted"))})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        resource = f"distribution '{props.get('dist_name', id_)}'"
        with TransportErrors("cloudfront", "delete", resource):
            distribution = self._get(id_, resource, missing_ok=True)
            if distribution is None:
                return
            owner = self._tags(distribution["ARN"], resource).get(RESOURCE_TAG)
            if adopt.kept_on_destroy(KIND, props.get("dist_name", ""), props):
                if owner == props.get("resource_tag"):  # release it: another entry or stack may adopt it later
                    self._call("UntagResource", lambda: client("cloudfront", REGION).untag_resource(
                        Resource=distribution["ARN"], TagKeys={"Items": [RESOURCE_TAG]}), resource)
                tell_user(adopt.keep_message(resource, id_, props, "CloudFront"))
                return
            if owner not in (props.get("resource_tag"), *(props.get("previous_resource_tags") or [])):
                tell_user(f"{resource}: {id_} is tagged {RESOURCE_TAG}={owner}, not as this resource's: left in place")
                return
            self._delete(id_, props, resource)

    # --- steps ---

    def _converge(self, id_: str, olds: Mapping[str, Any], props: dict[str, Any], resource: str) -> dict[str, Any]:
        """Make the live distribution what `props` says (config, binding, tags), then wait for Deployed."""
        certificate_status = self._certificate_status(props, resource)
        self._apply(id_, props, certificate_status == "ISSUED", resource)
        distribution = self._get(id_, resource)
        self._sync_tags(distribution["ARN"], olds, props, resource)
        return self._settle(id_, props, certificate_status, resource)

    def _adopt_by_id(self, props: dict[str, Any], resource: str) -> dict[str, Any]:
        """The distribution the entry names, tagged as this resource's and re-configured in place: the template's
        config, the entry's aliases, certificate, TLS, comment, logging and tags (its other user tags dropped)."""
        found = self._adoptable(props, resource)
        if not isinstance(found, tuple):  # check refused it at preview; it changed since, or no access now
            raise CloudError("aws", "cloudfront.GetDistribution", resource, "AdoptRefused",
                             found or f"cannot read {props['adopt_id']} to adopt it")
        distribution, tags = found
        self._tag(distribution["ARN"], {RESOURCE_TAG: props["resource_tag"]}, resource)
        return self._converge(props["adopt_id"], {"tags": user_tags(tags)}, props, resource)

    def _call(self, call: str, send: Callable[[], Any], resource: str) -> Any:
        try:
            return send()
        except botocore.exceptions.ClientError as err:
            raise cloud_error("cloudfront", call, resource, err) from err

    def _retrying(self, attempt: Callable[[], Any], props: Mapping[str, Any], own_id: str | None,
                  resource: str, call: str) -> Any:
        """`attempt` until it returns: PreconditionFailed is re-read at once (bounded); an alias another
        distribution of this stack holds is retried until alias_move_timeout_seconds."""
        last: list[CloudError] = []

        def probe() -> Any:
            for _ in range(self.conflict_attempts):
                try:
                    return attempt()
                except CloudError as err:
                    last[:] = [err]
                    if err.code == "PreconditionFailed":
                        continue  # changed since our read: read again, decide again
                    if err.code == "CNAMEAlreadyExists":
                        if self._took_from_stack(props, own_id, resource, call):
                            continue  # taken off the other distribution of this stack: try again at once
                        return None  # not in the listing yet, or changing meanwhile: look again shortly
                    raise
            raise last[0]

        try:
            return wait_for(f"the aliases of {resource} to be free", probe, self.alias_move_timeout_seconds,
                            self.poll_seconds, self.clock)
        except WaitTimeout:
            raise CloudError("aws", f"cloudfront.{call}", resource, "CNAMEAlreadyExists",
                             f"{last[0]} (still so after {self.alias_move_timeout_seconds:g}s)") from None

    def _took_from_stack(self, props: Mapping[str, Any], own_id: str | None, resource: str, call: str) -> bool:
        """After CNAMEAlreadyExists: a holder outside the stack fails the call, naming alias and holder; aliases
        held by a distribution of this project/stack are taken off it (True when one was)."""
        stack_prefix = props["resource_tag"].rsplit("/", 1)[0] + "/"
        in_stack: dict[str, list[str]] = {}  # holder id -> the aliases of ours it holds
        for alias, holders in alias_holders(props["aliases"]).items():
            for distribution_id, owner in holders:
                if distribution_id == own_id:
                    continue
                if (owner or "").startswith(stack_prefix):
                    in_stack.setdefault(distribution_id, []).append(alias)
                    continue
                who = f"{RESOURCE_TAG}={owner}" if owner else f"no {RESOURCE_TAG} tag: not managed by certfleet"
                raise CloudError("aws", f"cloudfront.{call}", resource, "CNAMEAlreadyExists",
                                 f"alias '{alias}' is already served by distribution {distribution_id} ({who}); "
                                 f"remove it there, or drop it from this distribution's aliases")
        return any([self._release(holder_id, aliases, resource) for holder_id, aliases in in_stack.items()])

    def _release(self, holder_id: str, aliases: list[str], resource: str) -> bool:
        """Take `aliases` off another distribution of this stack (remove before add). The config gives each alias
        to one distribution of the stack, so the holder loses them in this run anyway: by its own update, or by
        its delete, which the engine runs only at the end of the run. Its tag proves it is ours to change."""
        distribution, etag = self._get(holder_id, resource, missing_ok=True, with_etag=True)
        if distribution is None:
            return False
        live = distribution["DistributionConfig"]
        taken = {names.normalise(a) for a in aliases}
        kept = [a for a in live["Aliases"].get("Items") or [] if names.normalise(a) not in taken]
        if len(kept) == live["Aliases"].get("Quantity", 0):
            return False
        config = {**live, "Aliases": {"Quantity": len(kept), "Items": kept}}
        try:
            client("cloudfront", REGION).update_distribution(Id=holder_id, IfMatch=etag, DistributionConfig=config)
        except botocore.exceptions.ClientError:
            return False  # changed meanwhile (its own update, most likely): the next attempt looks again
        tell_user(f"{resource}: took {', '.join(sorted(taken))} off distribution {holder_id} of this stack, "
                  f"which declares them no longer (remove before add)")
        return True

    def _create(self, props: Mapping[str, Any], bind: bool, resource: str) -> str:
        cloudfront = client("cloudfront", REGION)
        config = dc.desired_config(props["template_config"], None, props, caller_reference(props["resource_tag"]),
                                   bind)
        tags = {**(props.get("tags") or {}), RESOURCE_TAG: props["resource_tag"]}
        request = {"DistributionConfig": config,
                   "Tags": {"Items": [{"Key": k, "Value": v} for k, v in sorted(tags.items())]}}

        def attempt() -> str:
            try:
                return self._call("CreateDistributionWithTags", lambda: cloudfront.create_distribution_with_tags(
                    DistributionConfigWithTags=request), resource)["Distribution"]["Id"]
            except CloudError as err:
                if err.code not in ("DistributionAlreadyExists", "CNAMEAlreadyExists"):
                    raise
                # This run's CallerReference, or our own aliases: an earlier attempt whose answer was lost
                # did create it (which of the two CloudFront says first is not documented).
                found = self._find(props, resource, fresh=True)
                if found:
                    return found
                raise

        return self._retrying(attempt, props, None, resource, "CreateDistributionWithTags")

    def _apply(self, id_: str, props: Mapping[str, Any], bind: bool, resource: str) -> None:
        """UpdateDistribution with a fresh ETag, when the live config differs from the desired one."""
        cloudfront = client("cloudfront", REGION)

        def attempt() -> bool:
            distribution, etag = self._get(id_, resource, with_etag=True)
            live = distribution["DistributionConfig"]
            desired = dc.desired_config(props["template_config"], live, props, live["CallerReference"], bind)
            if not dc.same_config(desired, live):
                self._call("UpdateDistribution", lambda: cloudfront.update_distribution(
                    Id=id_, IfMatch=etag, DistributionConfig=desired), resource)
            return True

        self._retrying(attempt, props, id_, resource, "UpdateDistribution")

    def _delete(self, id_: str, props: Mapping[str, Any], resource: str) -> None:
        """Disable, wait for Deployed, delete with the ETag read last. Never deletes an enabled distribution:
        each round reads afresh, and a conflict (changed ETag, enabled again meanwhile) starts a new round."""
        cloudfront = client("cloudfront", REGION)
        timeout = props.get("deployed_timeout_seconds", 600)
        last: CloudError | None = None
        for _ in range(self.conflict_attempts + 2):  # + the disabling round and the deployed round
            distribution, etag = self._get(id_, resource, missing_ok=True, with_etag=True)
            if distribution is None:
                return
            config = distribution["DistributionConfig"]
            try:
                if config.get("Enabled"):
                    self._call("UpdateDistribution", lambda: cloudfront.update_distribution(
                        Id=id_, IfMatch=etag, DistributionConfig={**config, "Enabled": False}), resource)
                elif distribution["Status"] != "Deployed":
                    self._deployed(id_, timeout, resource, at_least=self.poll_seconds * 2)
                else:
                    self._call("DeleteDistribution", lambda: cloudfront.delete_distribution(Id=id_, IfMatch=etag),
                               resource)
                    return
            except WaitTimeout:
                raise CloudError("aws", "cloudfront.DeleteDistribution", resource, "DistributionNotDisabled",
                                 f"{id_} is disabled and CloudFront is still deploying that (this run's wait for "
                                 f"deployments, deployedTimeoutSeconds {timeout:g}s, is over); CloudFront deletes "
                                 f"only a disabled, deployed distribution: run `pulumi destroy` again later "
                                 f"(with --continue-on-error, one run disables all of a large stack)") from None
            except CloudError as err:
                if err.code == "NoSuchDistribution":
                    return
                if err.code not in ("PreconditionFailed", "DistributionNotDisabled"):
                    raise
                last = err
                self.clock.sleep(self.poll_seconds)
        raise last or CloudError("aws", "cloudfront.DeleteDistribution", resource, "Conflict", "gave up")

    def _find(self, props: Mapping[str, Any], resource: str, fresh: bool = False) -> str | None:
        """A live distribution tagged with this resource's identity (current or former), re-tagged if former.

        The tag index (tag:GetResources) first; it can lag behind CloudFront (a crash just after a create, then
        a quick re-run) and may be denied, so when it finds nothing, the distributions whose comment is this
        resource's are asked for their tags directly. `fresh`: list them now (after a lost answer in this run),
        not the process's listing (which holds whatever earlier runs left).
        """
        identities = [props["resource_tag"], *(props.get("previous_resource_tags") or [])]
        for identity in identities:
            live = [arn for arn in self._indexed(identity, resource)
                    if self._get(arn.rsplit("/", 1)[-1], resource, missing_ok=True)]
            if live:
                return self._adopt(live, identity, props, resource)
        comments = {props.get("comment"), *(f"certfleet {identity}"[:CLOUDFRONT_MAX_COMMENT] for identity in identities)}
        for arn in SUMMARIES.with_comment(comments, fresh):
            identity = self._tags(arn, resource).get(RESOURCE_TAG)
            if identity in identities and self._get(arn.rsplit("/", 1)[-1], resource, missing_ok=True):
                return self._adopt([arn], identity, props, resource)
        return None

    def _indexed(self, identity: str, resource: str) -> list[str]:
        """ARNs the tag index has for `identity` ([] when this caller may not ask it)."""
        try:
            pages = client("resourcegroupstaggingapi", REGION).get_paginator("get_resources").paginate(
                ResourceTypeFilters=["cloudfront:distribution"],
                TagFilters=[{"Key": RESOURCE_TAG, "Values": [identity]}])
            return sorted(r["ResourceARN"] for page in pages for r in page.get("ResourceTagMappingList", []))
        except botocore.exceptions.ClientError as err:
            if cname_check.no_account_access(err):
                return []
            raise cloud_error("tag", "GetResources (look before create)", resource, err) from err

    def _adopt(self, live: list[str], identity: str, props: Mapping[str, Any], resource: str) -> str:
        if len(live) > 1:
            tell_user(f"{resource}: several distributions are tagged {RESOURCE_TAG}={identity} "
                      f"({', '.join(live)}); adopting the first, delete the others by hand")
        if identity != props["resource_tag"]:
            self._tag(live[0], {RESOURCE_TAG: props["resource_tag"]}, resource)
        return live[0].rsplit("/", 1)[-1]

    def _get(self, id_: str, resource: str, missing_ok: bool = False, with_etag: bool = False) -> Any:
        try:
            answer = client("cloudfront", REGION).get_distribution(Id=id_)
        except botocore.exceptions.ClientError as err:
            if missing_ok and err.response.get("Error", {}).get("Code") == "NoSuchDistribution":
                return (None, None) if with_etag else None
            raise cloud_error("cloudfront", "GetDistribution", resource, err) from err
        return (answer["Distribution"], answer["ETag"]) if with_etag else answer["Distribution"]

    def _certificate_status(self, props: Mapping[str, Any], resource: str) -> str:
        """ACM's own word on the certificate (the input may be stale), "" when there is none. An ISSUED
        certificate must cover every alias: CloudFront would refuse it (InvalidViewerCertificate)."""
        arn = props.get("certificate_arn") or ""
        if not arn:
            return ""
        if arn_region(arn) != REGION:
            raise CloudError("aws", "acm.DescribeCertificate", resource, "InvalidViewerCertificate",
                             f"CloudFront serves ACM certificates from {REGION} only; {arn} is elsewhere")
        try:
            described = client("acm", REGION).describe_certificate(CertificateArn=arn)["Certificate"]
        except botocore.exceptions.ClientError as err:
            raise cloud_error("acm", "DescribeCertificate", resource, err) from err
        status = described.get("Status", "")
        if status == "ISSUED":
            held = [names.normalise(n) for n in described.get("SubjectAlternativeNames") or [described["DomainName"]]]
            uncovered = [a for a in props["aliases"] if not any(names.covers(n, names.normalise(a)) for n in held)]
            if uncovered and DEPLOYED_REFERENCE.fullmatch(props.get("certificate_name") or ""):
                # The copy still holds the certificate from before the source's names changed: never bind
                # aliases it does not cover; the current binding keeps serving until the successor is deployed.
                return NOT_COVERING
            if uncovered:
                raise CloudError("aws", "cloudfront.UpdateDistribution", resource, "InvalidViewerCertificate",
                                 f"certificate '{props.get('certificate_name')}' ({arn}) does not cover "
                                 f"{', '.join(uncovered)}")
        return status

    def _deployed(self, id_: str, timeout: float, resource: str, at_least: float = 0.0) -> dict[str, Any]:
        """Wait for Deployed within this run's deployment window; `at_least`: a wait of its own when the window
        is already over (a delete late in a large destroy still gives a quick deployment its chance)."""
        def probe() -> dict[str, Any] | None:
            distribution = self._get(id_, resource)
            return distribution if distribution["Status"] == "Deployed" else None
        try:
            return wait_for(f"{resource} to be Deployed", probe, timeout, self.poll_seconds, self.clock,
                            shared=DEPLOYMENT, first_interval_seconds=self.first_poll_seconds)
        except WaitTimeout:
            if not at_least:
                raise
            return wait_for(f"{resource} to be Deployed", probe, at_least, self.poll_seconds, self.clock,
                            first_interval_seconds=self.first_poll_seconds)

    def _settle(self, id_: str, props: Mapping[str, Any], certificate_status: str, resource: str) -> dict[str, Any]:
        """Bounded wait for Deployed; running out is recorded ("deploying"), never a failure."""
        try:
            distribution = self._deployed(id_, props.get("deployed_timeout_seconds", 600), resource)
        except WaitTimeout:
            distribution = self._get(id_, resource)
        outs = self._outputs(distribution, props, certificate_status)
        return {**outs, "edge": edge_check.after_change(outs, props, resource, self.clock, self.poll_seconds)}

    def _tags(self, arn: str, resource: str) -> dict[str, str]:
        answer = self._call("ListTagsForResource", lambda: client("cloudfront", REGION).list_tags_for_resource(
            Resource=arn), resource)
        return {t["Key"]: t.get("Value", "") for t in answer.get("Tags", {}).get("Items") or []}

    def _current_tags(self, arn: str, props: Mapping[str, Any], resource: str) -> dict[str, str]:
        """The distribution's tags: the run's listing when it agrees with `props` (tag_index.py), else CloudFront's."""
        listed = DISTRIBUTIONS.refresh_tags(REGION, arn, props.get("tags"), user_tags)
        return listed if listed is not None else self._tags(arn, resource)

    def _tag(self, arn: str, tags: Mapping[str, str], resource: str) -> None:
        self._call("TagResource", lambda: client("cloudfront", REGION).tag_resource(
            Resource=arn, Tags={"Items": [{"Key": k, "Value": v} for k, v in sorted(tags.items())]}), resource)
        DISTRIBUTIONS.learn(REGION, arn, dict(tags))

    def _sync_tags(self, arn: str, olds: Mapping[str, Any], props: Mapping[str, Any], resource: str) -> None:
        """User tags as configured (a tag dropped from the config is removed), and this resource's identity."""
        live = self._tags(arn, resource)
        wanted = {**(props.get("tags") or {}), RESOURCE_TAG: props["resource_tag"]}
        dropped = sorted(k for k in (olds.get("tags") or {}) if k not in wanted and k in live)
        if dropped:
            self._call("UntagResource", lambda: client("cloudfront", REGION).untag_resource(
                Resource=arn, TagKeys={"Items": dropped}), resource)
        changed = {k: v for k, v in wanted.items() if live.get(k) != v}
        if changed:
            self._tag(arn, changed, resource)

    @staticmethod
    def _live_inputs(live: Mapping[str, Any], props: Mapping[str, Any]) -> dict[str, Any]:
        """The inputs the live config amounts to. A binding left as it was while the certificate is pending
        (stage waiting/failed) is not drift: the wanted aliases and certificate stay the inputs."""
        aliases, arn = dc.live_aliases(live), dc.live_certificate_arn(live)
        held_back = (props.get("stage") in (dc.WAITING, dc.FAILED) and aliases == props.get("bound_aliases")
                     and arn == props.get("bound_certificate_arn"))
        binding = ({k: props.get(k) for k in ("aliases", "certificate_arn", "minimum_protocol_version")} if held_back
                   else {"aliases": aliases, "certificate_arn": arn,
                         "minimum_protocol_version": (live.get("ViewerCertificate") or {}).get(
                             "MinimumProtocolVersion") if arn else props.get("minimum_protocol_version")})
        template = props.get("template_config") or {}
        return {**binding, "enabled": bool(live.get("Enabled")), "comment": live.get("Comment") or "",
                "logging": dc.logging_input(live.get("Logging")),
                "template_config": template if dc.same_clone(live, template) else dc.cloned_part(live)}

    @staticmethod
    def _outputs(distribution: Mapping[str, Any], props: Mapping[str, Any], certificate_status: str) -> dict[str, Any]:
        live = distribution["DistributionConfig"]
        aliases, arn = dc.live_aliases(live), dc.live_certificate_arn(live)
        as_wanted = arn == (props.get("certificate_arn") or "") and aliases == sorted(props.get("aliases") or [])
        stage = dc.stage_of(distribution["Status"], as_wanted, certificate_status, DEAD_STATUSES)
        return {**{k: props.get(k) for k in INPUT_KEYS}, "certificate_status": certificate_status,
                "distribution_id": distribution["Id"], "arn": distribution["ARN"],
                "domain_name": distribution["DomainName"], "status": distribution["Status"],
                "bound": bool(arn and aliases), "bound_aliases": aliases, "bound_certificate_arn": arn,
                "stage": stage, "caller_reference": live.get("CallerReference"),
                "status_message": dc.stage_message(stage, props.get("certificate_name") or "", certificate_status,
                                                   distribution["DomainName"], bool(arn and aliases))}


# --- the resource ------------------------------------------------------------------------------------------

@packed_fields(*OUTPUT_KEYS, *(k for k in INPUT_KEYS if k != "template_config"))
class Distribution(PackedResource, module="aws", name="Distribution"):
    """A CloudFront distribution cloned from a template. Type token: pulumi-python:dynamic/aws:Distribution.

    Its state is one JSON property, `spec` (components/packing.py), beside what the program passes as an output
    of another resource (the cloned `template_config`, a secret; the serving certificate's ARN, status and
    fingerprint), kept top level: `distribution.stage` and the others read `spec` or that output."""

    spec: pulumi.Output[str]
    template_config: pulumi.Output[Any]

    def __init__(self, name: str, spec: DistributionSpec, aws: AwsSpec, template: Any,
                 certificate_arn: pulumi.Input[str], certificate_status: pulumi.Input[str],
                 opts: pulumi.ResourceOptions | None = None, certificate_fingerprint: pulumi.Input[str] = "") -> None:
        """`template`: the DistributionTemplate (components/aws/templates.py) whose `config` is cloned;
        `certificate_fingerprint`: the serving import's or deployed copy's `fingerprint` (never null)."""
        inputs = distribution_inputs(spec, aws, resource_identity(spec.name), template.config, certificate_arn,
                                     certificate_status, certificate_fingerprint)
        # The cloned config may hold origin secrets (CustomHeaders): a secret wherever it is stored or shown.
        super().__init__(DistributionProvider(), name, inputs, opts, secret_outputs=("template_config",))


def distribution_inputs(spec: DistributionSpec, aws: AwsSpec, resource_tag: str, template_config: Any,
                        certificate_arn: Any, certificate_status: Any,
                        certificate_fingerprint: Any = "") -> dict[str, Any]:
    """The provider's inputs for one distribution of the config model."""
    logging = spec.logging
    return {
        "dist_name": spec.name,
        "resource_tag": resource_tag,
        "previous_resource_tags": [resource_identity(n) for n in spec.previous_names],
        "template_id": spec.template,
        "template_version": spec.template_version,
        "template_config": template_config,
        "certificate_name": spec.serving_certificate,  # the entry whose certificate serves it (aggregate)
        "certificate_arn": certificate_arn,
        "certificate_status": certificate_status,
        FINGERPRINT_KEY: certificate_fingerprint,
        "aliases": sorted(spec.aliases),
        "enabled": spec.enabled,
        "comment": spec.comment if spec.comment is not None else f"certfleet {resource_tag}"[:CLOUDFRONT_MAX_COMMENT],
        "minimum_protocol_version": spec.minimum_protocol_version,
        "logging": None if logging is None else {"bucket": logging.bucket, "prefix": logging.prefix,
                                                 "include_cookies": logging.include_cookies},
        "tags": dict(spec.tags),
        "deployed_timeout_seconds": aws.deployed_timeout_seconds,
        "cname_check": aws.cname_check,
        "edge_check": {"mode": spec.edge_check or aws.edge_check, "timeout_seconds": aws.edge_check_timeout_seconds},
        **adopt.adoption_inputs(spec),
    }
