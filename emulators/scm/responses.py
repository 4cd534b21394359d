"""HTTP side of the SCM emulator: parse requests, call the backend, answer in Huawei's shapes.

Handlers only check that a request is well formed (JSON body, path parameters); rules live in
validation.py and models.py. Every answer, success or error, carries an ``X-Request-Id`` header.
"""

import datetime
import math
import re
import uuid
from urllib.parse import unquote

from emulators.core.api import ApiEmulator, Route
from emulators.core.auth import LiveSecretKeys
from emulators.core.ca import EmulatorCA
from emulators.core.clock import Clock
from emulators.core.http import EmulatorError, Request, Response, json_response
from emulators.scm import urls, validation
from emulators.scm.auth import DEFAULT_MAX_CLOCK_SKEW, AkSkAuthenticator, access_key_of
from emulators.scm.exceptions import ApiNotFound, InjectedError, InternalError, InvalidParameter, \
    NoPrivilege, ScmError, Throttled, error_body
from emulators.scm.gateway import HuaweiGatewayRoutes
from emulators.scm.models import ScmBackend, ScmSettings

# Fault defaults: an injected error with only a status answers with the code SCM uses for it. 500 is
# SCM.0016 "order exception", which Terraform saw (as 500) when deleting right after buying and retries.
_FAULT_CODES = {400: "SCM.0005", 401: "APIGW.0301", 403: "SCM.0003", 404: "SCM.0020", 500: "SCM.0016"}


class ScmApi(HuaweiGatewayRoutes, ApiEmulator):
    """Huawei Cloud SCM (v3 certificates and tags, v2 purchase) for ``EmulatorServer``."""

    name = "scm"
    paths = urls  # HuaweiGatewayRoutes

    def __init__(self, credentials: dict[str, str], project_id: str, domain_id: str,
                 auth_tokens: tuple[str, ...] = (), settings: ScmSettings | None = None,
                 max_clock_skew: datetime.timedelta = DEFAULT_MAX_CLOCK_SKEW,
                 clock: Clock | None = None, ca: EmulatorCA | None = None):
        super().__init__(clock, ca)
        self.backend = ScmBackend(self.clock, self.ca, domain_id=domain_id, project_id=project_id,
                                  settings=settings, credentials=dict(credentials))
        # The gateway checks X-Sdk-Date against real time, not the emulator clock that tests move.
        self.authenticator = AkSkAuthenticator(
            credentials=LiveSecretKeys(self.backend, "secret_key"), auth_tokens=set(auth_tokens),
            max_clock_skew=max_clock_skew, now=lambda: datetime.datetime.now(datetime.timezone.utc))

    # --- plug-in hooks ----------------------------------------------------------------------------

    def authenticate(self, request: Request, route: Route, match: re.Match) -> None:
        self.authenticator.authenticate(request.method, request.path, request.raw_query, request.headers,
                                        request.body)

    def render_error(self, error: EmulatorError, request: Request) -> Response:
        if not isinstance(error, ScmError) and error.status >= 500:
            # The core reports emulator bugs as its own 500; answer in SCM's envelope all the same.
            error = InternalError(error.message)
        request_id = _new_request_id()
        return json_response(error.status, error_body(error, request_id),
                             {"X-Request-Id": request_id, **error.headers})

    def fault_error(self, status: int, code: str | None, message: str | None,
                    retry_after: float | None) -> EmulatorError:
        headers = {"Retry-After": str(math.ceil(retry_after))} if retry_after is not None else {}
        if status == 429 and code is None and message is None:
            # Exactly what the gateway sends when throttling: APIGW.0308 and no Retry-After by default.
            return Throttled(headers=headers)
        code = code or _FAULT_CODES.get(status, "SCM.0500" if status >= 500 else "SCM.0005")
        return InjectedError(status, code, message or f"Injected fault ({code})", headers)

    # --- v3 certificates ------------------------------------------------------------------------

    def subscribe_certificate(self, request: Request, match: re.Match) -> Response:
        order = validation.validate_buy_v3(_json_body(request))
        return _ok(self.backend.buy(order, account=self._account(request)))

    def import_certificate(self, request: Request, match: re.Match) -> Response:
        return _ok(self.backend.import_certificate(_json_body(request), account=self._account(request)))

    def list_certificates(self, request: Request, match: re.Match) -> Response:
        return _ok(self.backend.list_certificates(validation.validate_list_query(request.params),
                                                  account=self._account(request)))

    def show_certificate(self, request: Request, match: re.Match) -> Response:
        return _ok(self.backend.show(self._own(request, match, "certificate_id")))

    def delete_certificate(self, request: Request, match: re.Match) -> Response:
        self.backend.delete(self._own(request, match, "certificate_id"))
        return _no_content()

    def apply_certificate(self, request: Request, match: re.Match) -> Response:
        return _ok(self.backend.apply(self._own(request, match, "certificate_id"), _json_body(request)))

    def cancel_certificate_request(self, request: Request, match: re.Match) -> Response:
        return _ok(self.backend.cancel_application(self._own(request, match, "certificate_id")))

    def export_certificate(self, request: Request, match: re.Match) -> Response:
        return _ok(self.backend.export(self._own(request, match, "certificate_id")))

    def unsubscribe_certificate(self, request: Request, match: re.Match) -> Response:
        return _ok(self.backend.unsubscribe(self._own(request, match, "cert_id")))

    # --- tags ----------------------------------------------------------------------------------

    def list_all_tags(self, request: Request, match: re.Match) -> Response:
        return _ok({"tags": self.backend.all_tags(account=self._account(request))})

    def list_certificates_by_tag(self, request: Request, match: re.Match) -> Response:
        # The SDK fills the path parameter in; only the literal "resource_instances" exists.
        if _path_param(match, "resource_instances") != "resource_instances":
            raise ApiNotFound()
        body = _json_body(request)
        action = validation.string_field(body, "action", required=True, choices=("filter", "count"))
        criteria = {
            "without_any_tag": bool(validation.boolean_field(body, "without_any_tag")),
            "tags": validation.tag_filters_field(body, "tags"),
            "tags_any": validation.tag_filters_field(body, "tags_any"),
            "not_tags": validation.tag_filters_field(body, "not_tags"),
            "not_tags_any": validation.tag_filters_field(body, "not_tags_any"),
            "matches": _tag_matches(body),
        }
        found = self.backend.find_by_tags(criteria, account=self._account(request))
        if action == "count":
            return _ok({"total_count": len(found)})
        limit, offset = validation.validate_page(body)
        page = found[offset:offset + limit]
        return _ok({"resources": [self.backend.tag_resource_view(c) for c in page],
                    "total_count": len(found)})

    def batch_create_or_delete_tags(self, request: Request, match: re.Match) -> Response:
        body = _json_body(request)
        action = validation.string_field(body, "action", required=True, choices=("create", "delete"))
        tags = validation.tags_field(body, "tags", max_items=validation.MAX_TAGS_PER_CERTIFICATE)
        resource_id = self._own(request, match, "resource_id")
        if action == "create":
            self.backend.set_tags(resource_id, tags)
        else:
            self.backend.delete_tags(resource_id, tags)
        return _no_content()

    def create_certificate_tag(self, request: Request, match: re.Match) -> Response:
        key, value = validation.tag_pair(validation.require(_json_body(request), "tag"))
        self.backend.set_tags(self._own(request, match, "resource_id"), {key: value})
        return _no_content()

    def list_tags_by_certificate(self, request: Request, match: re.Match) -> Response:
        tags = self.backend.tags_of(self._own(request, match, "resource_id"))
        return _ok({"tags": [{"key": k, "value": v} for k, v in tags.items()]})

    # --- v2 and IAM -----------------------------------------------------------------------------

    def purchase_certificate_v2(self, request: Request, match: re.Match) -> Response:
        project_id = _path_param(match, "project_id")
        self.backend.check_project(project_id)
        order = validation.validate_purchase_v2(_json_body(request))
        return _ok(self.backend.buy(order, api_version="v2", project_id=project_id,
                                    account=self._account(request)))

    def keystone_list_auth_domains(self, request: Request, match: re.Match) -> Response:
        if not self.backend.domain_id:
            raise NoPrivilege("the emulator was started without a domain id")
        return _ok({"domains": [{"id": self._account(request), "name": "certfleet-emulator",
                                 "enabled": True}]})

    # --- accounts -------------------------------------------------------------------------------

    def _account(self, request: Request) -> str:
        """The caller's account (domain id): the owner of the access key it signed with (authenticated)."""
        return self.backend.account_of(access_key_of(request.headers))

    def _own(self, request: Request, match: re.Match, name: str) -> str:
        """The certificate id in path parameter `name`, if the caller's account owns it; else 404 SCM.0020."""
        certificate_id = _path_param(match, name)
        self.backend.owned(certificate_id, self._account(request))
        return certificate_id

    # --- control API (/_emulator/scm/...) --------------------------------------------------------

    def control_list_certificates(self, request: Request, match: re.Match) -> dict:
        return {"certificates": [self.backend.control_view(self.backend.get(certificate_id))
                                 for certificate_id in list(self.backend.certificates)]}

    def control_show_certificate(self, request: Request, match: re.Match) -> dict:
        return self.backend.control_view(self.backend.get(match["certificate_id"]))

    def control_publish_challenge(self, request: Request, match: re.Match) -> dict:
        return self.backend.control_view(self.backend.publish_challenge(match["certificate_id"]))

    def control_approve(self, request: Request, match: re.Match) -> dict:
        return self.backend.control_view(self.backend.approve(match["certificate_id"]))

    def control_reject(self, request: Request, match: re.Match) -> dict:
        reason = request.json().get("reason") or "The application did not pass the CA review"
        return self.backend.control_view(self.backend.reject(match["certificate_id"], reason))

    def control_force_status(self, request: Request, match: re.Match) -> dict:
        status = request.json().get("status")
        return self.backend.control_view(self.backend.force_status(match["certificate_id"], status))

    def control_add_access_key(self, request: Request, match: re.Match) -> dict:
        body = request.json()
        self.backend.add_access_key(body.get("ak"), body.get("sk"), body.get("domain_id"))
        return {"ak": body["ak"], "domain_id": body["domain_id"]}

    def control_show_settings(self, request: Request, match: re.Match) -> dict:
        return vars(self.backend.settings)

    def control_update_settings(self, request: Request, match: re.Match) -> dict:
        return vars(self.backend.update_settings(request.json()))


def _json_body(request: Request) -> dict:
    try:
        return request.json()
    except (ValueError, UnicodeDecodeError):
        raise InvalidParameter("the request body must be a JSON object") from None


def _path_param(match: re.Match, name: str) -> str:
    return unquote(match[name])


def _tag_matches(body: dict) -> list[tuple[str, str]]:
    matches = body.get("matches") or []
    if not isinstance(matches, list):
        raise InvalidParameter("matches must be a list")
    result = []
    for item in matches:
        if not isinstance(item, dict) or item.get("key") != "resource_name" \
                or not isinstance(item.get("value"), str):
            raise InvalidParameter("matches: the only supported key is resource_name, with a string value")
        result.append((item["key"], item["value"]))
    return result


def _new_request_id() -> str:
    return uuid.uuid4().hex  # the gateway's ids are 32 hex digits


def _ok(payload: dict) -> Response:
    return json_response(200, payload, {"X-Request-Id": _new_request_id()})


def _no_content() -> Response:
    return Response(204, b"", {"X-Request-Id": _new_request_id()})
