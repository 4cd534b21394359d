"""Turns Alidns SDK requests into backend calls and records into Alidns JSON.

JSON types follow `alibabacloud-alidns20150109` 4.6.1's models (their `from_map` does no coercion):
RecordId is a string, TTL/TotalCount/PageNumber/PageSize numbers, Locked a boolean.
"""

from __future__ import annotations

import re

from emulators.alidns import urls
from emulators.alidns.exceptions import InvalidActionNotFound, InvalidParameter, InvalidVersion, MissingParameter
from emulators.alidns.models import DEFAULT_ACCOUNT_ID, DNS_SERVERS, AlidnsBackend, Change, Denial, normalise_domain
from emulators.cas.auth import SignatureVerifier, access_key_id_of
from emulators.cas.rpc import AlibabaRpcHooks, action_of, request_id
from emulators.core.api import ApiEmulator, Route
from emulators.core.auth import LiveSecretKeys
from emulators.core.clock import Clock
from emulators.core.http import ControlError, Request, Response, json_response

API_VERSION = "2015-01-09"
HOST_ID = "alidns.aliyuncs.com"
ACTIONS = {
    "AddDomainRecord": "add_domain_record",
    "UpdateDomainRecord": "update_domain_record",
    "DeleteDomainRecord": "delete_domain_record",
    "DescribeDomainRecords": "describe_domain_records",
    "DescribeDomains": "describe_domains",
}
MAX_RECORD_PAGE_SIZE, MAX_DOMAIN_PAGE_SIZE = 500, 100


class AlidnsApi(AlibabaRpcHooks, ApiEmulator):
    name = "alidns"
    host_id, product, action_not_found = HOST_ID, "Alidns", InvalidActionNotFound  # AlibabaRpcHooks

    def __init__(self, credentials: dict[str, str], clock: Clock | None = None, feed=None,
                 seed_domains: tuple[str, ...] = (), check_nonce: bool = True,
                 max_clock_skew: float | None = None):
        """`credentials` {access key id: secret} of the default account; `feed` a DnsFeed or None."""
        super().__init__(clock)
        self.backend = AlidnsBackend(self.clock, credentials, feed=feed, seed_domains=seed_domains)
        self.verifier = SignatureVerifier({}, self.clock, check_nonce, max_clock_skew)
        # keys added by the control API count at once
        self.verifier.credentials = LiveSecretKeys(self.backend, "secret")

    # ----- plug-in hooks -----

    def routes(self) -> list[Route]:
        return [Route(method, pattern, getattr(self, handler)) for method, pattern, handler in urls.API_PATHS]

    def control_routes(self) -> list[Route]:
        return [Route(method, pattern, getattr(self, handler), handler)
                for method, pattern, handler in urls.CONTROL_PATHS]

    # ----- dispatch -----

    def dispatch(self, request: Request, match: re.Match) -> Response:
        action = action_of(request)
        if action not in ACTIONS:
            raise InvalidActionNotFound(action)
        version = request.header("x-acs-version") or request.params.get("Version")
        if version != API_VERSION:
            raise InvalidVersion(version or "")
        access_key_id = access_key_id_of(request)
        params = _Params(request, access_key_id, self.backend.account_of(access_key_id), action)
        body = getattr(self, ACTIONS[action])(params)
        rid = request_id()
        return json_response(200, {"RequestId": rid, **body}, {"x-acs-request-id": rid})

    # ----- operations -----

    def add_domain_record(self, params: "_Params") -> dict:
        domain = self._domain(params, params.required("DomainName"))
        record = self.backend.add_record(domain, params.change())
        return {"RecordId": record.record_id}

    def update_domain_record(self, params: "_Params") -> dict:
        record = self.backend.own_record(params.required("RecordId"), params.account)
        self.backend.check_permission(params.action, record.domain_name, params.access_key_id)
        self.backend.update_record(record, params.change())
        return {"RecordId": record.record_id}

    def delete_domain_record(self, params: "_Params") -> dict:
        record = self.backend.own_record(params.required("RecordId"), params.account)
        self.backend.check_permission(params.action, record.domain_name, params.access_key_id)
        self.backend.delete_record(record)
        return {"RecordId": record.record_id}

    def describe_domain_records(self, params: "_Params") -> dict:
        domain = self._domain(params, params.required("DomainName"))
        records = [r for r in self.backend.list_records(domain) if _record_matches(r, params)]
        records.sort(key=lambda r: (r.created_ms, int(r.record_id)),
                     reverse=(params.get("Direction") or "DESC").upper() != "ASC")
        page_number, page_size = params.page(MAX_RECORD_PAGE_SIZE)
        page = records[(page_number - 1) * page_size:page_number * page_size]
        return {"TotalCount": len(records), "PageNumber": page_number, "PageSize": page_size,
                "DomainRecords": {"Record": [r.view() for r in page]}}

    def describe_domains(self, params: "_Params") -> dict:
        keyword = (params.get("KeyWord") or "").lower()
        exact = (params.get("SearchMode") or "LIKE").upper() == "EXACT"
        domains = [d for d in self.backend.list_domains(params.account)
                   if not keyword or (d["domain_name"] == keyword if exact else keyword in d["domain_name"])]
        domains.sort(key=lambda d: d["created_ms"], reverse=True)
        page_number, page_size = params.page(MAX_DOMAIN_PAGE_SIZE)
        page = domains[(page_number - 1) * page_size:page_number * page_size]
        return {"TotalCount": len(domains), "PageNumber": page_number, "PageSize": page_size,
                "Domains": {"Domain": [self._domain_view(d) for d in page]}}

    def _domain(self, params: "_Params", domain_name: str) -> str:
        domain = self.backend.own_domain(domain_name, params.account)
        self.backend.check_permission(params.action, domain, params.access_key_id)
        return domain

    def _domain_view(self, domain: dict) -> dict:
        return {"DomainId": domain["domain_id"], "DomainName": domain["domain_name"],
                "PunyCode": domain["domain_name"], "AliDomain": False,
                "RecordCount": self.backend.record_count(domain["domain_name"]),
                "DnsServers": {"DnsServer": list(DNS_SERVERS)}, "VersionCode": "mianfei",
                "VersionName": "Alibaba Cloud DNS", "CreateTimestamp": domain["created_ms"],
                "GroupId": "", "GroupName": "", "InstanceId": "", "ResourceGroupId": "", "Starmark": False}

    # ----- control API -----

    def control_list_domains(self, request: Request, match: re.Match) -> dict:
        return {"domains": list(self.backend.domains.values())}

    def control_add_domain(self, request: Request, match: re.Match) -> dict:
        body = request.json()
        account_id = str(body.get("account_id") or DEFAULT_ACCOUNT_ID)
        return self.backend.add_domain(body.get("domain_name") or "", account_id)

    def control_delete_domain(self, request: Request, match: re.Match) -> dict:
        try:
            self.backend.delete_domain(match["domain"])
        except KeyError:
            raise ControlError(404, f"no domain {match['domain']}") from None
        return {"deleted": normalise_domain(match["domain"])}

    def control_deny(self, request: Request, match: re.Match) -> dict:
        body = request.json()
        action = body.get("action")
        if action not in ACTIONS and action != "*":
            raise ControlError(400, f"action must be one of {sorted(ACTIONS)} or *")
        denial = Denial(normalise_domain(match["domain"]), action, body.get("access_key_id"),
                        body.get("code") or "Forbidden.RAM")
        return vars(self.backend.deny(denial))

    def control_allow(self, request: Request, match: re.Match) -> dict:
        domain = normalise_domain(match["domain"])
        self.backend.denials = [d for d in self.backend.denials if d.domain != domain]
        return {"denials": []}

    def control_lock_record(self, request: Request, match: re.Match) -> dict:
        record = self.backend.records.get(match["record_id"])
        if record is None:
            raise ControlError(404, f"no record {match['record_id']}")
        record.locked = bool(request.json().get("locked", True))
        return record.view()

    def control_add_access_key(self, request: Request, match: re.Match) -> dict:
        body = request.json()
        self.backend.add_access_key(body.get("access_key_id"), body.get("access_key_secret"), body.get("account_id"))
        return {"access_key_id": body["access_key_id"], "account_id": str(body["account_id"])}


# ----- DescribeDomainRecords filters (SDK 4.6.1 doc comments) -----

def _record_matches(record, params: "_Params") -> bool:
    keyword = params.get("KeyWord")
    mode = (params.get("SearchMode") or ("LIKE" if keyword else "ADVANCED")).upper()
    if mode in ("LIKE", "EXACT"):
        if not keyword:
            return True
        keyword = keyword.lower()
        fields = (record.rr.lower(), record.value.lower())
        return keyword in fields if mode == "EXACT" else any(keyword in f for f in fields)
    exact = mode == "COMBINATION"
    checks = (
        (params.get("RRKeyWord"), record.rr, exact),
        (params.get("ValueKeyWord"), record.value, exact),
        (params.get("TypeKeyWord"), record.type, True),
        (params.get("Type"), record.type, True),
        (params.get("Line"), record.line, True),
        (params.get("Status"), record.status, True),
    )
    for wanted, actual, must_equal in checks:
        if wanted:
            wanted, actual = wanted.lower(), actual.lower()
            if (wanted != actual) if must_equal else (wanted not in actual):
                return False
    return True


class _Params:
    """The query parameters of one call, with the caller's access key and account."""

    def __init__(self, request: Request, access_key_id: str, account: str, action: str):
        self.values = request.params
        self.access_key_id = access_key_id
        self.account = account
        self.action = action

    def get(self, name: str) -> str | None:
        value = self.values.get(name)
        return value if value not in (None, "") else None

    def required(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise MissingParameter(name)
        return value

    def integer(self, name: str, default: int | None) -> int | None:
        value = self.get(name)
        if value is None:
            return default
        try:
            return int(value)
        except ValueError:
            raise InvalidParameter(name, value, "an integer") from None

    def page(self, max_size: int) -> tuple[int, int]:
        number, size = self.integer("PageNumber", 1), self.integer("PageSize", 20)
        if number < 1:
            raise InvalidParameter("PageNumber", str(number), "1 or more")
        if not 1 <= size <= max_size:
            raise InvalidParameter("PageSize", str(size), f"1 to {max_size}")
        return number, size

    def change(self) -> Change:
        record_type = self.required("Type").upper()
        return Change(rr=self.required("RR").lower(), type=record_type, value=self.required("Value"),
                      ttl=self.integer("TTL", 600), line=self.get("Line") or "default",
                      priority=self.integer("Priority", 10 if record_type == "MX" else None))
