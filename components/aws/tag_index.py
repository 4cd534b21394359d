"""certfleet's tagged ACM certificates of one region, listed once when a run touches many.

Each create of a requested certificate looks before it requests (tag:GetResources filtered by its identity, 2
requests a second) and each refresh read asks for the certificate's tags (acm:ListTagsForCertificate): a call
per certificate each. A run that touches more than `INDEX_AFTER` certificates of a region lists every
certificate tagged with certfleet's identity tag instead (GetResources, 100 per page: 10 calls for 1,000
certificates); a look before create lists again when the listing is older than `MAX_AGE_SECONDS`.

Why a listing up to a minute old is safe:
- Look before create: what it must find is a certificate an interrupted run requested, or one this run's
  create of the same entry requested (a replacement that sends the same request). The stack is locked, and
  what this run requests or tags is added to the listing (`learn`), so the only thing a listing can miss that
  asking at create time would not is a certificate the tag index had not caught up with when the listing was
  taken: asking at create time
  misses it as well within the index's own lag (seconds to minutes), and the request's idempotency token gets
  that certificate back from ACM for an hour, far longer than the lag plus a minute. Imports have no token:
  their look (acm_import.py) never uses the listing.
- Refresh: tags the listing shows that differ from the state are confirmed with ListTagsForCertificate (so tags
  certfleet changed a moment ago never show as drift); tags it shows equal to the state are taken as they are,
  so a tag changed in the console shortly before the refresh (within the index's lag) or during it is seen by
  the next refresh. A certificate the listing does not show is asked directly.
A listing that fails (no tag:GetResources permission, throttled, unreachable) changes nothing: every look and
read asks per certificate, as before, until the listing is tried again a minute later.
"""

from __future__ import annotations

import threading
import time
from typing import Callable, Mapping

import botocore.exceptions

from components.aws.clients import client

INDEX_AFTER = 10     # look-ups in a region and run before one listing costs less than asking each time
PAGE = 100           # GetResources' largest page
# A page is also cut at TagsPerPage tags (100 unless asked; moto does the same): 25 certificates of 4 tags. The
# largest allowed lets ResourcesPerPage cut the pages while a certificate has at most 5 tags.
TAGS_PER_PAGE = 500
MAX_AGE_SECONDS = 60.0


class TagIndex:
    """{ARN: tags} of a region's certificates carrying `tag_key`, listed at most once per provider process."""

    def __init__(self, tag_key: str, resource_type: str = "acm:certificate") -> None:
        self.tag_key = tag_key
        self.resource_type = resource_type
        self._lock = threading.Lock()      # the counts and the per-region locks
        self._uses: dict[str, int] = {}
        self._region_locks: dict[str, threading.Lock] = {}
        self._listed: dict[str, tuple[float, dict[str, dict[str, str]] | None]] = {}   # region -> (taken, listing)

    def tags_by_arn(self, region: str, for_create: bool) -> dict[str, dict[str, str]] | None:
        """The region's listing, once this run has asked more than INDEX_AFTER times there; None before that,
        or when listing fails (ask per certificate). `for_create`: a look before create takes a listing at most
        MAX_AGE_SECONDS old and waits while one is taken; a refresh read takes the run's listing, and asks per
        certificate meanwhile instead of waiting (a listing of 1,000 takes 5 s at GetResources' 2 a second)."""
        with self._lock:
            uses = self._uses[region] = self._uses.get(region, 0) + 1
            if uses <= INDEX_AFTER:
                return None
            region_lock = self._region_locks.setdefault(region, threading.Lock())
        if not region_lock.acquire(blocking=for_create):
            return None
        try:   # one listing at a time per region
            taken, listing = self._listed.get(region, (None, None))
            if taken is None or (for_create and time.monotonic() - taken > MAX_AGE_SECONDS):
                taken, listing = time.monotonic(), self._list(region)
                self._listed[region] = (taken, listing)
            return listing
        finally:
            region_lock.release()

    def refresh_tags(self, region: str, arn: str, state_tags: Mapping[str, str] | None,
                     user_tags: Callable[[Mapping[str, str]], dict[str, str]]) -> dict[str, str] | None:
        """A refresh read's tags from the run's listing when its user tags are the state's; None when the read
        must ask the cloud (no listing, not listed, or tags that differ: confirmed, see the module docstring)."""
        indexed = self.tags_by_arn(region, for_create=False)
        listed = indexed.get(arn) if indexed else None
        return listed if listed is not None and user_tags(listed) == dict(state_tags or {}) else None

    def learn(self, region: str, arn: str, tags: dict[str, str]) -> None:
        """Tags this run put on a certificate (a request's, a re-stamp): a listing taken before shows them too,
        so a second look in the run (a replacement's create) finds what the first create requested. The
        listing is replaced, not changed, since other workers may be reading it."""
        with self._lock:
            taken, listing = self._listed.get(region, (None, None))
            if listing is not None:
                self._listed[region] = (taken, {**listing, arn: {**listing.get(arn, {}), **tags}})

    def _list(self, region: str) -> dict[str, dict[str, str]] | None:
        tagging = client("resourcegroupstaggingapi", region)
        try:
            pages = tagging.get_paginator("get_resources").paginate(
                ResourceTypeFilters=[self.resource_type], TagFilters=[{"Key": self.tag_key}], ResourcesPerPage=PAGE,
                TagsPerPage=TAGS_PER_PAGE)
            return {r["ResourceARN"]: {t["Key"]: t.get("Value", "") for t in r.get("Tags", [])}
                    for page in pages for r in page.get("ResourceTagMappingList", [])}
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError):
            return None   # ask per certificate, as without the listing (module docstring)

    def reset(self) -> None:
        """Forget the listings and counts (a new run; tests)."""
        with self._lock:
            self._uses.clear()
            self._listed.clear()
