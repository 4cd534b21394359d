"""Who in the account already serves an alias (`cnameCheck`, seed 000's enable_cname_check).

CloudFront lets one alias live on one distribution only; CloudFront Extensions never checked and learnt it
from `CNAMEAlreadyExists` mid-job (reference/aws-cloudfront-extensions.md §4.4). The distribution provider's
check() asks `account_conflicts` at preview, so the clash is named before anything is created.

One listing of the account per provider process (a process serves one `pulumi preview`/`up`), shared by its
worker threads: every distribution's aliases (ListDistributions, paginated) and the `certfleet:resource` tag
of every tagged distribution (tag:GetResources, us-east-1, where CloudFront's tags live). A distribution
tagged `<same project>/<same stack>/...` is the stack's own: an alias moving between two distributions of the
stack is not a conflict (the stack-level check and remove-before-add handle it).

Only exact names clash (case-insensitive): CloudFront accepts `*.example.com` on one distribution and
`a.example.com` on another, the more specific one winning.

Without access to the account (no credentials, no endpoint, AccessDenied on either listing) the check is
skipped silently: previews of pull requests run without credentials, and a clash then surfaces at create as
CloudFront's own `CNAMEAlreadyExists`. IAM actions: cloudfront:ListDistributions, tag:GetResources.
"""

from __future__ import annotations

import threading
from typing import Iterable

import botocore.exceptions

from components import names
from components.aws.clients import client, error_code
from components.aws.tag_index import TAGS_PER_PAGE

RESOURCE_TAG = "certfleet:resource"  # the same tag as components/aws/acm.py's, set on every distribution
REGION = "us-east-1"                 # CloudFront is global; its tags are served from us-east-1
PAGE_SIZE = 100                      # items per listing call (tests make it small to cover the paging)

Holder = tuple[str, str | None]           # (distribution id, its certfleet:resource tag or None)
Holders = dict[str, tuple[Holder, ...]]      # normalised alias -> the distributions serving it


def no_account_access(err: BaseException) -> bool:
    """True for errors that mean "this process cannot look at the account": a preview skips the look.

    No credentials, no reachable endpoint, or a caller without the read permission.
    """
    if isinstance(err, (botocore.exceptions.NoCredentialsError, botocore.exceptions.PartialCredentialsError,
                        botocore.exceptions.ConnectionError)):
        return True
    return isinstance(err, botocore.exceptions.ClientError) and error_code(err).startswith("AccessDenied")


# --- the listing ---------------------------------------------------------------------------------------------

def _owner_tags() -> dict[str, str]:
    """Distribution ARN -> its certfleet:resource tag, for every tagged distribution of the account."""
    tagging = client("resourcegroupstaggingapi", REGION)
    pages = tagging.get_paginator("get_resources").paginate(
        TagFilters=[{"Key": RESOURCE_TAG}], ResourceTypeFilters=["cloudfront:distribution"],
        TagsPerPage=TAGS_PER_PAGE, PaginationConfig={"PageSize": PAGE_SIZE})
    return {mapping["ResourceARN"]: tag["Value"]
            for page in pages for mapping in page.get("ResourceTagMappingList", [])
            for tag in mapping.get("Tags", []) if tag.get("Key") == RESOURCE_TAG}


def _list_holders() -> Holders:
    """Every alias of every distribution in the account, with who holds it. Raises the SDK's errors."""
    owners = _owner_tags()
    holders: dict[str, list[Holder]] = {}
    pages = client("cloudfront", REGION).get_paginator("list_distributions").paginate(
        PaginationConfig={"PageSize": PAGE_SIZE})
    for page in pages:
        for summary in page.get("DistributionList", {}).get("Items") or []:
            for alias in (summary.get("Aliases") or {}).get("Items") or []:
                holders.setdefault(names.normalise(alias), []).append(
                    (summary["Id"], owners.get(summary.get("ARN", ""))))
    return {alias: tuple(sorted(found)) for alias, found in holders.items()}


def _fresh_holders() -> Holders | None:
    """A new listing, or None when this process cannot look at the account."""
    try:
        return _list_holders()
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as err:
        if no_account_access(err):
            return None
        raise


class _ListingCache:
    """The process's one listing. The lock is held while listing: concurrent checks wait for one listing."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listed = False
        self._holders: Holders | None = None

    def holders(self) -> Holders | None:
        with self._lock:
            if not self._listed:
                self._holders, self._listed = _fresh_holders(), True
            return self._holders

    def relist(self) -> Holders | None:
        with self._lock:
            self._holders, self._listed = _fresh_holders(), True
            return self._holders

    def clear(self) -> None:
        with self._lock:
            self._holders, self._listed = None, False


LISTING = _ListingCache()


def clear_cache() -> None:
    """Forget the listing (tests; a long-lived process that wants a fresh look)."""
    LISTING.clear()


# --- the questions -------------------------------------------------------------------------------------------

def _stack_prefix(resource_tag: str) -> str:
    """"proj/stack/" of "proj/stack/name": what every certfleet:resource tag of this stack starts with."""
    return resource_tag.rsplit("/", 1)[0] + "/"


def _describe(holder: Holder) -> str:
    distribution_id, owner = holder
    owner_text = f"{RESOURCE_TAG}={owner}" if owner else f"no {RESOURCE_TAG} tag: not managed by certfleet"
    return f"distribution {distribution_id} ({owner_text})"


def account_conflicts(aliases: Iterable[str], resource_tag: str) -> list[str]:
    """Messages for aliases that a distribution not of this project/stack already serves in the account.

    [] when there is none, or when this process cannot look at the account (see the module docstring).
    """
    holders = LISTING.holders()
    if holders is None:
        return []
    ours = _stack_prefix(resource_tag)
    messages = []
    for alias in sorted({names.normalise(a) for a in aliases}):
        foreign = [h for h in holders.get(alias, ()) if not (h[1] or "").startswith(ours)]
        if foreign:
            messages.append(f"alias '{alias}' is already served by "
                            f"{' and '.join(_describe(h) for h in foreign)}")
    return messages


def holder_of(alias: str) -> Holder | None:
    """Who serves `alias` right now (a fresh listing, which also replaces the cached one), or None when no
    distribution does or this process cannot look (e.g. to name the holder after a CNAMEAlreadyExists)."""
    holders = LISTING.relist()
    found = (holders or {}).get(names.normalise(alias), ())
    return found[0] if found else None
