"""DnsFeed: how a DNS-API emulator pushes the zones and records it accepted to the DNS emulator.

`DnsFeed(url)` talks to a separate `python -m emulators.dns` over its control API; `DnsFeed(None)` does
nothing (no feed configured). A ZoneStore has the same three methods, so an emulator that runs the DNS
server in-process (tests) can be given the store itself wherever it takes a feed.
Errors raise DnsFeedError; deleting a zone the server does not have is not an error. `push` is how the
DNS-API emulators call a feed: a failure is written to stderr, not raised.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from typing import Protocol
from urllib.parse import quote

from emulators.dns.exceptions import DnsFeedError

TIMEOUT_SECONDS = 10
# Proxy environment variables must not send loopback calls elsewhere.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class ZoneSink(Protocol):
    """What a DNS-API emulator needs: DnsFeed (over HTTP) and ZoneStore (in-process) both are one."""

    def put_zone(self, zone: str) -> object: ...

    def put_rrset(self, zone: str, name: str, rdtype: str, ttl: int, values: list[str]) -> object: ...

    def delete_zone(self, zone: str) -> None: ...


class DnsFeed:
    def __init__(self, url: str | None):
        self.url = url.rstrip("/") if url else None

    def __bool__(self) -> bool:
        return self.url is not None

    def put_zone(self, zone: str) -> dict | None:
        return self._call("PUT", f"zones/{quote(zone, safe='')}")

    def put_rrset(self, zone: str, name: str, rdtype: str, ttl: int, values: list[str]) -> dict | None:
        body = {"name": name, "type": rdtype, "ttl": ttl, "values": list(values)}
        return self._call("PUT", f"zones/{quote(zone, safe='')}/rrsets", body)

    def delete_zone(self, zone: str) -> None:
        try:
            self._call("DELETE", f"zones/{quote(zone, safe='')}")
        except DnsFeedError as error:
            if error.status != 404:
                raise

    def _call(self, method: str, path: str, body: dict | None = None):
        if self.url is None:
            return None
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.url}/_emulator/dns/{path}", data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with _OPENER.open(request, timeout=TIMEOUT_SECONDS) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            try:
                message = json.loads(error.read() or b"{}").get("error", "")
            except ValueError:
                message = ""
            raise DnsFeedError(f"DNS feed {method} {path}: HTTP {error.code} {message}", error.code) from None
        except OSError as error:
            raise DnsFeedError(f"DNS feed {method} {path}: {error}") from None


def push(feed: ZoneSink | None, emulator: str, method: str, *args) -> None:
    """`feed.<method>(*args)`, a failure written to stderr: the API call was accepted, and a DNS server
    that is down must not fail it."""
    if feed is None:
        return
    try:
        getattr(feed, method)(*args)
    except Exception as error:
        sys.stderr.write(f"{emulator} emulator: DNS feed {method}{args[:2]} failed: {error}\n")


def feed_for(url: str | None) -> DnsFeed | None:
    """The feed a DNS-API emulator's `--dns-feed URL` asks for (None: no feed)."""
    return DnsFeed(url) if url else None
