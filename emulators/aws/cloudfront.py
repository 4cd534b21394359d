"""CloudFront as AWS has it, around moto's CloudFrontBackend.

`install(state)` wraps moto's backend methods (once per process) so that, before moto's own work:
  create/update  quantities match, CallerReference unchanged (update), the viewer certificate is usable
                 for every alias, no alias is on another distribution, IfMatch is the current ETag;
  delete         IfMatch is the current ETag, the distribution is disabled and Deployed;
  list           runs under the emulator's lock (moto walks its dict unlocked);
and after it: every change gets a new ETag and a new deployment (InProgress for `deploy_seconds`, then
Deployed; reads report it, replacing moto's state-manager transition), and LastModifiedTime moves.
The checks run in the order AWS's modeled errors suggest: missing resource, IfMatch, request shape, then
conflicts with other resources.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from moto.cloudfront import models as cloudfront_models
from moto.cloudfront.exceptions import InvalidIfMatchVersion, NoSuchDistribution

from emulators.aws import acm
from emulators.aws.exceptions import (
    CNAMEAlreadyExists, DistributionNotDisabled, IllegalUpdate, InconsistentQuantities, PreconditionFailed,
    aliases_need_certificate, certificate_not_covering, certificate_unusable,
)

if TYPE_CHECKING:
    from emulators.aws.models import EmulatorState

Distribution = cloudfront_models.Distribution
CloudFrontBackend = cloudfront_models.CloudFrontBackend
DEPLOYED_AT = "_certfleet_deployed_at"   # attribute on moto's Distribution: monotonic deadline of the deployment


def install(state: "EmulatorState") -> None:
    if getattr(CloudFrontBackend, "_certfleet_installed", False):
        return
    original_create = CloudFrontBackend.create_distribution_with_tags
    original_update = CloudFrontBackend.update_distribution
    original_delete = CloudFrontBackend.delete_distribution
    original_list = CloudFrontBackend.list_distributions

    def create_distribution_with_tags(self, distribution_config, tags):
        with state.lock:
            check_quantities(distribution_config)
            check_viewer_certificate(self.account_id, distribution_config)
            check_aliases_free(self, distribution_config, distribution_id=None)
            dist, location, _ = original_create(self, distribution_config, tags)
            record_change(dist, state)
            return dist, location, dist.etag

    def update_distribution(self, dist_config, _id, if_match):
        with state.lock:
            dist = self.distributions.get(_id)
            if dist is None:
                raise NoSuchDistribution
            check_if_match(dist, if_match)
            check_quantities(dist_config)
            if dist_config.get("CallerReference") != dist.distribution_config.caller_reference:
                raise IllegalUpdate
            check_viewer_certificate(self.account_id, dist_config)
            check_aliases_free(self, dist_config, distribution_id=_id)
            dist, location, _ = original_update(self, dist_config, _id, if_match)
            record_change(dist, state)
            return dist, location, dist.etag

    def delete_distribution(self, distribution_id, if_match):
        with state.lock:
            dist = self.distributions.get(distribution_id)
            if dist is None:
                raise NoSuchDistribution
            check_if_match(dist, if_match)
            if is_enabled(dist.distribution_config.Enabled) or dist.status != "Deployed":
                raise DistributionNotDisabled
            return original_delete(self, distribution_id, if_match)

    original_init = Distribution.__init__

    def distribution_init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        aws_id = next_id()
        self.arn = self.arn.removesuffix(self.distribution_id) + aws_id
        self.distribution_id = self.id = aws_id

    Distribution.__init__ = distribution_init
    def list_distributions(self, *args, **kwargs):
        with state.lock:  # moto walks its dict unlocked; a create meanwhile would break the walk
            return original_list(self, *args, **kwargs)

    CloudFrontBackend.create_distribution_with_tags = create_distribution_with_tags
    CloudFrontBackend.update_distribution = update_distribution
    CloudFrontBackend.delete_distribution = delete_distribution
    CloudFrontBackend.list_distributions = list_distributions
    Distribution.status = property(deployment_status)
    CloudFrontBackend._certfleet_installed = True


# --- ids as AWS gives them: "E" and 13 upper-case letters and digits (moto's start with any letter) ---

_next_ids: list[str] = []  # ids asked for through the control API, for the next creates (a fixed local template)


def set_next_id(distribution_id: str) -> None:
    _next_ids.append(distribution_id)


def next_id() -> str:
    return _next_ids.pop(0) if _next_ids else "E" + cloudfront_models.random_id(length=13)


# --- deployments -----------------------------------------------------------------------------------

def deployment_status(dist) -> str:
    return "Deployed" if time.monotonic() >= getattr(dist, DEPLOYED_AT, 0.0) else "InProgress"


def record_change(dist, state: "EmulatorState") -> None:
    """A change AWS has accepted: a new ETag, a new deployment, a new LastModifiedTime."""
    dist.etag = cloudfront_models.random_id()
    setattr(dist, DEPLOYED_AT, time.monotonic() + state.settings.deploy_seconds)
    dist.last_modified_time = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def finish_deployments(distribution_id: str | None = None) -> list[str]:
    """Make in-progress deployments (all, or one distribution's) Deployed now; returns their ids."""
    finished = []
    for backend in all_backends():
        for dist in backend.distributions.values():
            if distribution_id in (None, dist.distribution_id) and deployment_status(dist) == "InProgress":
                setattr(dist, DEPLOYED_AT, 0.0)
                finished.append(dist.distribution_id)
    return finished


def all_backends() -> list[CloudFrontBackend]:
    backends = []
    for account_id in list(cloudfront_models.cloudfront_backends.keys()):
        backends.extend(cloudfront_models.cloudfront_backends[account_id].values())
    return backends


def describe(dist) -> dict:
    """What the control API shows of a distribution."""
    config = dist.distribution_config
    return {"id": dist.distribution_id, "arn": dist.arn, "status": deployment_status(dist), "etag": dist.etag,
            "enabled": is_enabled(config.Enabled), "aliases": list(config.Aliases.get("Items") or []),
            "certificate_arn": config.ViewerCertificate.acm_certificate_arn or None}


# --- checks ----------------------------------------------------------------------------------------

def check_if_match(dist, if_match: str | None) -> None:
    if not if_match:
        raise InvalidIfMatchVersion
    if if_match != dist.etag:
        raise PreconditionFailed


def check_quantities(node) -> None:
    """Every {Quantity, Items} pair in the config agrees (CloudFront checks them all, not only Aliases)."""
    if isinstance(node, dict):
        if "Quantity" in node:
            items = node.get("Items") or []
            if _as_int(node["Quantity"]) != len(items):
                raise InconsistentQuantities
        for value in node.values():
            check_quantities(value)
    elif isinstance(node, list):
        for value in node:
            check_quantities(value)


def check_viewer_certificate(account_id: str, config: dict) -> None:
    aliases = alias_items(config)
    viewer = config.get("ViewerCertificate") or {}
    arn = viewer.get("ACMCertificateArn")
    if not arn:
        if aliases and not viewer.get("IAMCertificateId"):
            raise aliases_need_certificate()
        return
    names = acm.issued_names(account_id, arn)
    if names is None:
        raise certificate_unusable()
    for alias in aliases:
        if not acm.names_cover(names, alias):
            raise certificate_not_covering()


def check_aliases_free(backend: CloudFrontBackend, config: dict, distribution_id: str | None) -> None:
    wanted = {alias.lower() for alias in alias_items(config)}
    if not wanted:
        return
    for other in backend.distributions.values():
        if other.distribution_id == distribution_id:
            continue
        if wanted & {alias.lower() for alias in other.distribution_config.Aliases.get("Items") or []}:
            raise CNAMEAlreadyExists


def alias_items(config: dict) -> list[str]:
    return list((config.get("Aliases") or {}).get("Items") or [])


def is_enabled(value) -> bool:
    return value is True or str(value).lower() == "true"


def _as_int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1
