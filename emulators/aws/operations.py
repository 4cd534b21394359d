"""Which AWS service and operation a raw request is, before moto sees it (for throttling and faults).

The service is the signing name in the SigV4 credential scope ("cloudfront", "acm", "tagging"). JSON
services name the operation in `X-Amz-Target` ("CertificateManager.DescribeCertificate"); CloudFront and
Route 53 are REST-XML, so their operation is found from method + path + query against the request URIs of
botocore's own model (e.g. PUT /2020-05-31/distribution/{Id}/config = UpdateDistribution).
"""

from __future__ import annotations

import functools
import re
from urllib.parse import parse_qs

import botocore.session

# X-Amz-Target prefixes of the JSON services, for unsigned requests.
TARGET_PREFIXES = {"CertificateManager": "acm", "ResourceGroupsTaggingAPI_20170126": "tagging"}
# REST-XML services: signing name -> the path prefix of their API version.
REST_XML_SERVICES = {"cloudfront": "/2020-05-31/", "route53": "/2013-04-01/"}


def identify(environ: dict) -> tuple[str, str]:
    """(service signing name, operation name); ("unknown", "<METHOD> <path>") when not recognised."""
    method = environ.get("REQUEST_METHOD", "GET")
    path = environ.get("PATH_INFO", "")
    service = signing_service(environ.get("HTTP_AUTHORIZATION", ""))
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        prefix, _, operation = target.rpartition(".")
        return service or TARGET_PREFIXES.get(prefix, "unknown"), operation
    for rest_service, prefix in REST_XML_SERVICES.items():
        if service == rest_service or (service is None and path.startswith(prefix)):
            operation = rest_operation(rest_service, method, path, environ.get("QUERY_STRING", ""))
            if operation:
                return rest_service, operation
    return service or "unknown", f"{method} {path}"


def signing_service(authorization: str) -> str | None:
    # "AWS4-HMAC-SHA256 Credential=KEY/20240101/us-east-1/acm/aws4_request, SignedHeaders=..., Signature=..."
    start = authorization.find("Credential=")
    if start < 0:
        return None
    scope = authorization[start + len("Credential="):].split(",", 1)[0].split("/")
    return scope[3] if len(scope) == 5 else None


def rest_operation(service: str, method: str, path: str, query: str) -> str | None:
    params = parse_qs(query, keep_blank_values=True)
    for route_method, pattern, required, name in _rest_routes(service):
        if route_method == method and pattern.fullmatch(path) and all(
                key in params and (value is None or value in params[key]) for key, value in required):
            return name
    return None


@functools.lru_cache(maxsize=None)
def _rest_routes(service: str) -> list[tuple[str, re.Pattern, tuple, str]]:
    model = botocore.session.get_session().get_service_model(service)
    routes = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        path, _, query = http["requestUri"].partition("?")
        required = []
        for part in filter(None, query.split("&")):
            key, has_value, value = part.partition("=")
            required.append((key, value if has_value else None))
        routes.append((http["method"], _uri_pattern(path), tuple(required), name))
    # Query-discriminated operations (CreateDistributionWithTags = POST .../distribution?WithTags) first.
    routes.sort(key=lambda route: -len(route[2]))
    return routes


def _uri_pattern(uri: str) -> re.Pattern:
    parts = re.split(r"(\{[^}]+\})", uri)
    regex = "".join(("[^/]+" if not part.endswith("+}") else ".+") if part.startswith("{") else re.escape(part)
                    for part in parts)
    return re.compile(regex)


def warm_up() -> None:
    """Load the REST-XML models now rather than on the first request."""
    for service in REST_XML_SERVICES:
        _rest_routes(service)
