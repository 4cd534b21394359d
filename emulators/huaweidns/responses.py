"""HTTP side of the Huawei DNS emulator: parse requests, call the backend, answer in Huawei's shapes.

JSON shapes follow `huaweicloudsdkdns` 3.1.219's v2 models. Every answer carries an X-Request-Id header.
"""

from __future__ import annotations

import datetime
import math
import re
import uuid
from urllib.parse import unquote

from emulators.core.api import ApiEmulator, Route
from emulators.core.auth import LiveSecretKeys
from emulators.core.clock import Clock
from emulators.core.http import ControlError, EmulatorError, Request, Response, json_response
from emulators.huaweidns import urls
from emulators.huaweidns.exceptions import BadRequest, DnsError, InjectedError, InvalidQuery
from emulators.huaweidns.models import DEFAULT_DOMAIN_ID, DEFAULT_PROJECT_ID, HuaweiDnsBackend
from emulators.scm.auth import DEFAULT_MAX_CLOCK_SKEW, AkSkAuthenticator, access_key_of
from emulators.scm.exceptions import error_body
from emulators.scm.gateway import HuaweiGatewayRoutes

HOST = "https://dns.myhuaweicloud.com"
MAX_LIMIT = 500
_FAULT_CODES = {400: "DNS.0001", 401: "APIGW.0301", 403: "DNS.0013", 404: "DNS.0302", 429: "APIGW.0308",
                500: "DNS.0500"}
_PRIVATE_FIELDS = ("pending_reads_left", "domain_id")


class HuaweiDnsApi(HuaweiGatewayRoutes, ApiEmulator):
    """Huawei Cloud DNS v2 public zones and record sets for `EmulatorServer`."""

    name = "huaweidns"
    paths = urls  # HuaweiGatewayRoutes

    def __init__(self, credentials: dict[str, str], domain_id: str = DEFAULT_DOMAIN_ID,
                 project_id: str = DEFAULT_PROJECT_ID, feed=None, seed_zones: tuple[str, ...] = (),
                 pending_reads: int = 0, max_clock_skew: datetime.timedelta = DEFAULT_MAX_CLOCK_SKEW,
                 clock: Clock | None = None):
        super().__init__(clock)
        self.backend = HuaweiDnsBackend(self.clock, credentials, domain_id, project_id, feed=feed,
                                        seed_zones=seed_zones, pending_reads=pending_reads)
        # The gateway checks X-Sdk-Date against real time, not the emulator clock that tests move.
        self.authenticator = AkSkAuthenticator(credentials=LiveSecretKeys(self.backend, "sk"),
                                               max_clock_skew=max_clock_skew,
                                               now=lambda: datetime.datetime.now(datetime.timezone.utc))

    # --- plug-in hooks ----------------------------------------------------------------------------

    def authenticate(self, request: Request, route: Route, match: re.Match) -> None:
        caller = self.authenticator.authenticate(request.method, request.path, request.raw_query, request.headers,
                                                 request.body)
        if caller.access_key is None:  # DNS is called with AK/SK only here
            raise InjectedError(401, "APIGW.0301", "Incorrect IAM authentication information: x-auth-token "
                                                   "is not accepted by this emulator")

    def render_error(self, error: EmulatorError, request: Request) -> Response:
        request_id = uuid.uuid4().hex
        if error.code.startswith("APIGW."):  # the API gateway's envelope
            body = error_body(error, request_id)
        else:
            if not isinstance(error, DnsError) and error.status >= 500:
                error = InjectedError(500, "DNS.0500", f"Internal error: {error.message}")
            body = {"code": error.code, "message": error.message}
        return json_response(error.status, body, {"X-Request-Id": request_id, **error.headers})

    def fault_error(self, status, code, message, retry_after) -> EmulatorError:
        headers = {"Retry-After": str(math.ceil(retry_after))} if retry_after is not None else {}
        code = code or _FAULT_CODES.get(status, "DNS.0500" if status >= 500 else "DNS.0001")
        return InjectedError(status, code, message or f"Injected fault ({code})", headers)

    # --- zones ------------------------------------------------------------------------------------

    def list_public_zones(self, request: Request, match: re.Match) -> Response:
        query = request.params
        zones = [] if query.get("type", "public") != "public" else self.backend.zones_of(_ak(request))
        zones = [z for z in zones if _name_matches(z["name"], query.get("name"), query.get("search_mode"))
                 and _equals(z["status"], query.get("status")) and _equals(z["id"], query.get("id"))]
        zones.sort(key=lambda z: (z["created_at"], z["id"]), reverse=query.get("sort_dir", "desc") != "asc")
        page, next_marker = _page(zones, query)
        return _ok({"links": _links("/v2/zones", next_marker, query), "zones": [self._zone_view(z) for z in page],
                    "metadata": {"total_count": len(zones)}})

    def show_public_zone(self, request: Request, match: re.Match) -> Response:
        return _ok(self._zone_view(self._zone(request, match, "ShowPublicZone")))

    # --- record sets ------------------------------------------------------------------------------

    def create_record_set(self, request: Request, match: re.Match) -> Response:
        zone = self._zone(request, match, "CreateRecordSet")
        return _ok(_set_view(self.backend.create(zone, _json_body(request))), status=202)

    def list_record_sets_by_zone(self, request: Request, match: re.Match) -> Response:
        zone = self._zone(request, match, "ListRecordSetsByZone")
        query = request.params
        found = [s for s in self.backend.sets_of(zone)
                 if _name_matches(s["name"], query.get("name"), query.get("search_mode"))
                 and _equals(s["type"], query.get("type")) and _equals(s["id"], query.get("id"))
                 and _equals(s["status"], query.get("status"))]
        sort_key = query.get("sort_key") if query.get("sort_key") in ("name", "type") else "create_at"
        found.sort(key=lambda s: (s[sort_key], s["id"]), reverse=query.get("sort_dir") == "desc")
        page, next_marker = _page(found, query)
        path = f"/v2/zones/{zone['id']}/recordsets"
        return _ok({"links": _links(path, next_marker, query),
                    "recordsets": [_set_view(self.backend.read(s)) for s in page],
                    "metadata": {"total_count": len(found)}})

    def show_record_set(self, request: Request, match: re.Match) -> Response:
        zone, record_set = self._record_set(request, match, "ShowRecordSet")
        return _ok(_set_view(self.backend.read(record_set)))

    def update_record_set(self, request: Request, match: re.Match) -> Response:
        zone, record_set = self._record_set(request, match, "UpdateRecordSet")
        return _ok(_set_view(self.backend.update(zone, record_set, _json_body(request))), status=202)

    def delete_record_set(self, request: Request, match: re.Match) -> Response:
        zone, record_set = self._record_set(request, match, "DeleteRecordSet")
        return _ok(_set_view(self.backend.delete(zone, record_set)), status=202)

    def _zone_view(self, zone: dict) -> dict:
        view = {k: v for k, v in zone.items() if k not in _PRIVATE_FIELDS}
        return {**view, "links": {"self": f"{HOST}/v2/zones/{zone['id']}"}, "tags": [],
                "record_num": len(self.backend.sets_of(zone))}

    def _zone(self, request: Request, match: re.Match, operation: str) -> dict:
        return self.backend.own_zone(unquote(match["zone_id"]), _ak(request), operation)

    def _record_set(self, request: Request, match: re.Match, operation: str) -> tuple[dict, dict]:
        zone = self._zone(request, match, operation)
        return zone, self.backend.own_record_set(zone, unquote(match["recordset_id"]))

    # --- control API (/_emulator/huaweidns/...) ---------------------------------------------------

    def control_list_zones(self, request: Request, match: re.Match) -> dict:
        return {"zones": list(self.backend.zones.values())}

    def control_add_zone(self, request: Request, match: re.Match) -> dict:
        body = request.json()
        if not isinstance(body.get("name"), str) or not body["name"].strip(".").strip():
            raise ControlError(400, "name (the zone's domain name) is required")
        return self.backend.add_zone(body["name"], body.get("domain_id") or self.backend.default_domain_id)

    def control_delete_zone(self, request: Request, match: re.Match) -> dict:
        try:
            self.backend.delete_zone(match["zone_id"])
        except KeyError:
            raise ControlError(404, f"no zone {match['zone_id']}") from None
        return {"deleted": match["zone_id"]}

    def control_deny(self, request: Request, match: re.Match) -> dict:
        body = request.json()
        try:
            return self.backend.deny(match["zone_id"], body.get("operation"), body.get("ak"))
        except KeyError:
            raise ControlError(404, f"no zone {match['zone_id']}") from None

    def control_allow(self, request: Request, match: re.Match) -> dict:
        self.backend.denials = [d for d in self.backend.denials if d["zone_id"] != match["zone_id"]]
        return {"denials": []}

    def control_add_access_key(self, request: Request, match: re.Match) -> dict:
        body = request.json()
        self.backend.add_access_key(body.get("ak"), body.get("sk"), body.get("domain_id"), body.get("project_id"))
        return {"ak": body["ak"], "domain_id": body["domain_id"]}

    def control_show_settings(self, request: Request, match: re.Match) -> dict:
        return self.backend.settings

    def control_update_settings(self, request: Request, match: re.Match) -> dict:
        return self.backend.update_settings(request.json())


def _ak(request: Request) -> str:
    return access_key_of(request.headers)


def _json_body(request: Request) -> dict:
    try:
        return request.json()
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("The request body must be a JSON object.") from None


def _name_matches(name: str, wanted: str | None, search_mode: str | None) -> bool:
    if not wanted:
        return True
    name, wanted = name.lower().rstrip("."), wanted.lower().rstrip(".")
    return name == wanted if search_mode == "equal" else wanted in name


def _equals(actual: str, wanted: str | None) -> bool:
    return not wanted or actual.upper() == wanted.upper()


def _page(items: list[dict], query: dict) -> tuple[list[dict], str | None]:
    """(this page, marker of the next page or None): `marker` (id of the last item seen) wins over `offset`."""
    try:
        limit = int(query.get("limit", MAX_LIMIT))
        offset = int(query.get("offset", 0))
    except ValueError:
        raise InvalidQuery("limit and offset must be integers.") from None
    if not 0 <= limit <= MAX_LIMIT or offset < 0:
        raise InvalidQuery(f"limit must be 0 to {MAX_LIMIT} and offset >= 0.")
    if query.get("marker"):
        ids = [item["id"] for item in items]
        if query["marker"] not in ids:
            raise InvalidQuery(f"Invalid marker {query['marker']!r}.")
        offset = ids.index(query["marker"]) + 1
    page = items[offset:offset + limit]
    more = offset + limit < len(items) and page
    return page, (page[-1]["id"] if more else None)


def _links(path: str, next_marker: str | None, query: dict) -> dict:
    links = {"self": f"{HOST}{path}"}
    if next_marker:
        links["next"] = f"{HOST}{path}?limit={query.get('limit', MAX_LIMIT)}&marker={next_marker}"
    return links


def _set_view(record_set: dict) -> dict:
    view = {k: v for k, v in record_set.items() if k not in _PRIVATE_FIELDS}
    return {**view, "links": {"self": f"{HOST}/v2/zones/{record_set['zone_id']}/recordsets/{record_set['id']}"}}


def _ok(payload: dict, status: int = 200) -> Response:
    return json_response(status, payload, {"X-Request-Id": uuid.uuid4().hex})
