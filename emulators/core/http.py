"""Request/response values passed between the server, the control API and an API emulator."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from email.message import Message
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Request:
    """One HTTP request as the emulator sees it.

    `raw_query` is kept exactly as sent because signatures are computed over it; `query` is the
    decoded view (pairs in wire order, blank values kept, as Alibaba's SDK sends `Username=`).
    """

    method: str
    target: str  # path + "?" + query, exactly as on the request line
    headers: Message
    body: bytes = b""

    @property
    def path(self) -> str:
        return urlsplit(self.target).path or "/"

    @property
    def raw_query(self) -> str:
        return urlsplit(self.target).query

    @property
    def query(self) -> list[tuple[str, str]]:
        return parse_qsl(self.raw_query, keep_blank_values=True)

    @property
    def params(self) -> dict[str, str]:
        """Query parameters as a dict; the first value wins for repeated keys."""
        result: dict[str, str] = {}
        for key, value in self.query:
            result.setdefault(key, value)
        return result

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name, default)

    def json(self) -> dict:
        """The body parsed as a JSON object ({} for an empty body)."""
        if not self.body.strip():
            return {}
        value = json.loads(self.body)
        if not isinstance(value, dict):
            raise ValueError("expected a JSON object")
        return value


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def json_response(status: int, payload, headers: dict[str, str] | None = None) -> Response:
    # Alibaba and Huawei both answer with this content type; SDKs only check it is JSON.
    all_headers = {"Content-Type": "application/json;charset=utf-8"}
    all_headers.update(headers or {})
    return Response(status, json.dumps(payload).encode("utf-8"), all_headers)


class EmulatorError(Exception):
    """A vendor error: HTTP status, vendor code and message. The API's `render_error` shapes it."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


class ControlError(Exception):
    """An error from the control API (`/_emulator/...`), answered as {"error": message}."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message
