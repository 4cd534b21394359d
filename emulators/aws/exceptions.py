"""Errors the AWS emulator adds to moto's, in the wire format boto3 parses.

Raised inside moto's backends, they are serialised by moto itself: CloudFront errors are moto
`ServiceException`s (REST-XML `<ErrorResponse><Error><Type>Sender</Type><Code>..`, the HTTP status taken
from the botocore model: 409 for CNAMEAlreadyExists, 412 for PreconditionFailed, ...); ACM errors are
moto `AWSError`s (JSON 1.1 `{"__type": .., "message": ..}`, HTTP 400). Throttling is answered by the
middleware before moto runs, so `throttling_response` renders those bodies itself.

Messages marked "AWS wording" are what AWS answers (its docs, or errors quoted in public issues); the
others are our wording where none is published (emulators/aws/COVERAGE.md lists which).
"""

from __future__ import annotations

import json
import uuid

from moto.core.exceptions import AWSError, ServiceException

ALIAS_RULES = "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/CNAMEs.html" \
              "#alternate-domain-names-requirements"


# --- CloudFront (REST-XML; status from the botocore model) ---------------------------------------

class CNAMEAlreadyExists(ServiceException):
    code = "CNAMEAlreadyExists"  # 409
    message = "One or more of the CNAMEs you provided are already associated with a different resource."  # AWS wording


class PreconditionFailed(ServiceException):
    code = "PreconditionFailed"  # 412
    message = "The precondition given in one or more of the request-header fields evaluated to false."  # AWS wording


class DistributionNotDisabled(ServiceException):
    code = "DistributionNotDisabled"  # 409
    message = "The distribution you are trying to delete has not been disabled."  # AWS wording


class InvalidViewerCertificate(ServiceException):
    code = "InvalidViewerCertificate"  # 400


def certificate_unusable() -> InvalidViewerCertificate:
    # AWS wording, for a missing, unissued, expired or non-us-east-1 certificate alike.
    return InvalidViewerCertificate("The specified SSL certificate doesn't exist, isn't in us-east-1 region, "
                                    "isn't valid, or doesn't include a valid certificate chain.")


def certificate_not_covering() -> InvalidViewerCertificate:
    return InvalidViewerCertificate("The certificate that is attached to your distribution doesn't cover the "
                                    "alternate domain name (CNAME) that you're trying to add. For more details, "
                                    f"see: {ALIAS_RULES}")  # AWS wording


def aliases_need_certificate() -> InvalidViewerCertificate:
    return InvalidViewerCertificate("To add an alternate domain name (CNAME) to a CloudFront distribution, you "
                                    "must attach a trusted certificate that validates your authorization to use "
                                    f"the domain name. For more details, see: {ALIAS_RULES}")  # AWS wording


class InconsistentQuantities(ServiceException):
    code = "InconsistentQuantities"  # 400
    message = "The value of Quantity and the size of Items don't match."


class IllegalUpdate(ServiceException):
    code = "IllegalUpdate"  # 400
    message = "The update contains modifications that are not allowed: CallerReference cannot be changed."


# --- ACM (JSON 1.1, HTTP 400) ---------------------------------------------------------------------

class ResourceInUseException(AWSError):
    TYPE = "ResourceInUseException"

    def __init__(self, arn: str, account_id: str):
        super().__init__(f"Certificate {arn} in account {account_id} is in use.")


class RequestInProgressException(AWSError):
    TYPE = "RequestInProgressException"

    def __init__(self, arn: str):
        super().__init__(f"Certificate {arn} is not yet issued: the certificate request is in process.")


class ValidationException(AWSError):
    TYPE = "ValidationException"


# --- throttling, answered by the middleware before moto runs ---------------------------------------

THROTTLE_MESSAGE = "Rate exceeded"  # AWS wording (all four services)
# service signing name -> (error code, body format)
THROTTLE_CODES = {
    "cloudfront": "Throttling",
    "acm": "ThrottlingException",
    "tagging": "ThrottledException",
    "route53": "Throttling",
}
# REST-XML error namespaces
XML_NAMESPACES = {"cloudfront": "http://cloudfront.amazonaws.com/doc/2020-05-31/",
                  "route53": "https://route53.amazonaws.com/doc/2013-04-01/"}


def throttling_response(service: str) -> tuple[str, list[tuple[str, str]], bytes]:
    """(status line, headers, body) of a throttled call to `service`, as that service answers it."""
    request_id = str(uuid.uuid4())
    code = THROTTLE_CODES.get(service, "ThrottlingException")
    if service in XML_NAMESPACES:
        body = (f'<?xml version="1.0"?>\n<ErrorResponse xmlns="{XML_NAMESPACES[service]}">'
                f"<Error><Type>Sender</Type><Code>{code}</Code><Message>{THROTTLE_MESSAGE}</Message></Error>"
                f"<RequestId>{request_id}</RequestId></ErrorResponse>").encode()
        content_type = "text/xml"
    else:
        message_key = "Message" if service == "tagging" else "message"
        body = json.dumps({"__type": code, message_key: THROTTLE_MESSAGE}).encode()
        content_type = "application/x-amz-json-1.1"
    headers = [("Content-Type", content_type), ("Content-Length", str(len(body))),
               ("x-amzn-RequestId", request_id)]
    return "400 Bad Request", headers, body
