"""components/huaweicloud/scm_tag_index.py: when a refresh read takes its tags from the listing, and when it asks."""

from __future__ import annotations

import threading

from components.huaweicloud import scm_tag_index
from components.huaweicloud.scm_tag_index import INDEX_AFTER, RefreshTagIndex

LISTING = {"scs1": {"certfleet-resource": "certfleet/p/s/a", "team": "edge"}}


def test_the_first_reads_ask_then_one_listing_answers_the_rest():
    index, client, listings = RefreshTagIndex(), object(), []

    def list_tags():
        listings.append(1)
        return LISTING

    answers = [index.tags_of(client, "scs1", list_tags) for _ in range(INDEX_AFTER + 5)]
    assert answers[:INDEX_AFTER] == [None] * INDEX_AFTER
    assert answers[INDEX_AFTER:] == [LISTING["scs1"]] * 5 and len(listings) == 1
    assert index.tags_of(client, "scs-not-listed", list_tags) is None  # not in the listing: ask


def test_each_client_has_its_own_count_and_listing():
    index, first, second = RefreshTagIndex(), object(), object()
    for _ in range(INDEX_AFTER):
        index.tags_of(first, "scs1", lambda: LISTING)
    assert index.tags_of(second, "scs1", lambda: LISTING) is None  # other credentials or endpoint: own count
    assert index.tags_of(first, "scs1", lambda: LISTING) == LISTING["scs1"]


def test_a_read_while_the_listing_is_taken_asks_instead_of_waiting():
    index, client = RefreshTagIndex(), object()
    for _ in range(INDEX_AFTER):
        index.tags_of(client, "scs1", lambda: LISTING)
    started, release, answers = threading.Event(), threading.Event(), []

    def slow_listing():
        started.set()
        release.wait(30)  # a guard against a hang, not a timing
        return LISTING

    taker = threading.Thread(target=lambda: answers.append(index.tags_of(client, "scs1", slow_listing)))
    taker.start()
    assert started.wait(30)
    assert index.tags_of(client, "scs1", lambda: LISTING) is None  # another read is listing: ask SCM
    release.set()
    taker.join(30)
    assert answers == [LISTING["scs1"]]


def test_a_failed_listing_makes_reads_ask_and_is_tried_again_a_minute_later(monkeypatch):
    index, client, now = RefreshTagIndex(), object(), [1000.0]
    monkeypatch.setattr(scm_tag_index.time, "monotonic", lambda: now[0])
    for _ in range(INDEX_AFTER):
        index.tags_of(client, "scs1", lambda: LISTING)
    assert index.tags_of(client, "scs1", lambda: None) is None  # the listing failed
    assert index.tags_of(client, "scs1", lambda: LISTING) is None  # not tried again yet
    now[0] += scm_tag_index.MAX_AGE_SECONDS + 1
    assert index.tags_of(client, "scs1", lambda: LISTING) == LISTING["scs1"]
