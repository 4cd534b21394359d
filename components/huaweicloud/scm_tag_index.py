"""The tags of certfleet's SCM certificates, listed once when a refresh reads many (read's second call).

A refresh read shows the certificate (ShowCertificate) and asks for its tags (ListTagsByCertificate), for the
user tags it reports: two calls per certificate. A run that reads more than `INDEX_AFTER` certificates with one
client (one access key, account and endpoint: client.scm_client) lists every certificate carrying certfleet's
resource tag instead (ListCertificatesByTag, any value of the key, 50 a page: 20 calls for 1,000 certificates)
and takes each certificate's tags from that listing. Only read uses it: create's look before buying
(scm_candidates.py), update and delete ask SCM each time.

Why that is safe (the same rules as components/aws/tag_index.py for ACM):
- Ownership never comes from the listing: ShowCertificate, under the recorded owner, still tells "gone".
- Tags the listing shows that differ from the state are confirmed with ListTagsByCertificate (tags certfleet
  changed a moment ago never show as drift); tags it shows equal to the state are taken as they are, so a tag
  changed in the console shortly before the refresh (within the tag index's lag, reference/huawei-scm.md A5)
  or during it is seen by the next refresh. A certificate the listing does not show is asked directly.
- A listing that fails (no scm:cert:listCertificatesByTag permission, throttled past the retries) changes
  nothing: each read asks per certificate, as before; so does an empty listing (an SCM that took the empty
  value list for "no value"). While a listing is being taken, reads ask per certificate instead of waiting; a
  listing is taken again when it is older than `MAX_AGE_SECONDS`.
The listing holds every certificate of the account that carries the key, other stacks' too: its pages grow
with those, not with this stack's certificates.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable

INDEX_AFTER = 10     # reads with one client before one listing costs less than asking each time
PAGE = 50            # ListCertificatesByTag's largest page (10, 20 or 50)
MAX_AGE_SECONDS = 60.0

Listing = dict[str, dict[str, str]]   # certificate id -> its tags (certfleet's own included)


class RefreshTagIndex:
    """{certificate id: tags} of the certificates one client sees with `tag_key`, listed at most once a minute."""

    def __init__(self) -> None:
        self._lock = threading.Lock()      # the counts, the listings and the per-client locks
        self._uses: dict[int, int] = {}
        self._clients: dict[int, Any] = {}   # keeps each counted client alive, so its id is never reused
        self._listing_locks: dict[int, threading.Lock] = {}
        self._listed: dict[int, tuple[float, Listing | None]] = {}

    def tags_of(self, client: Any, cert_id: str, list_tags: Callable[[], Listing | None]) -> dict[str, str] | None:
        """`cert_id`'s tags in the client's listing; None when this read should ask SCM itself (one of the
        client's first INDEX_AFTER reads, a listing being taken or failed, a certificate it does not show).
        `list_tags` takes the listing (None when it fails)."""
        key = id(client)
        with self._lock:
            self._clients[key] = client
            uses = self._uses[key] = self._uses.get(key, 0) + 1
            if uses <= INDEX_AFTER:
                return None
            taken, listing = self._listed.get(key, (None, None))
            if taken is not None and time.monotonic() - taken <= MAX_AGE_SECONDS:
                return _tags_in(listing, cert_id)
            listing_lock = self._listing_locks.setdefault(key, threading.Lock())
        if not listing_lock.acquire(blocking=False):
            return None   # another read is taking the listing: ask rather than wait
        try:
            listing = list_tags()
            with self._lock:
                self._listed[key] = (time.monotonic(), listing)
            return _tags_in(listing, cert_id)
        finally:
            listing_lock.release()

    def reset(self) -> None:
        """Forget the counts and listings (a new run; tests)."""
        with self._lock:
            self._uses.clear()
            self._clients.clear()
            self._listed.clear()


def _tags_in(listing: Listing | None, cert_id: str) -> dict[str, str] | None:
    return None if listing is None else listing.get(cert_id)


def list_tagged(client: Any, tag_key: str, call: Callable[[str, Callable[[], Any]], Any]) -> Listing:
    """Every certificate the client sees carrying `tag_key` (any value), with all its tags. `call(operation,
    send)` runs one SDK call with certfleet's retries (it raises CloudError)."""
    from huaweicloudsdkscm.v3 import ListCertificatesByTagRequest, ListCertificatesByTagRequestBody, ScsTag

    listing: Listing = {}
    offset = 0
    while True:
        # An empty value list: the key with any value (reference/huawei-scm.md A5).
        body = ListCertificatesByTagRequestBody(action="filter", limit=PAGE, offset=offset,
                                                tags=[ScsTag(key=tag_key, values=[])])
        page = call("ListCertificatesByTag", lambda: client.list_certificates_by_tag(
            ListCertificatesByTagRequest(resource_instances="resource_instances", body=body)))
        for item in page.resources or []:
            listing[item.resource_id] = {t.key: t.value for t in item.tags or []}
        offset += len(page.resources or [])
        if not page.resources or offset >= (page.total_count or 0):
            return listing
