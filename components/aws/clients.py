"""boto3 clients and AWS errors, shared by the AWS providers (acm.py, acm_import.py, cloudfront.py, templates.py).

Clients are process-wide and built lazily: SDK clients cannot be pickled into state, and the engine sends one
provider process every call of a run from several threads.
"""

from __future__ import annotations

import threading
from typing import Any

import boto3
import botocore.config
import botocore.exceptions

from components.errors import CloudError

_clients: dict[tuple[str, str], Any] = {}
_clients_lock = threading.Lock()
_BOTO_CONFIG = botocore.config.Config(retries={"mode": "standard", "max_attempts": 5},
                                      connect_timeout=10, read_timeout=60)


def client(service: str, region: str) -> Any:
    """A boto3 client per (service, region), shared by the provider process's worker threads."""
    with _clients_lock:
        if (service, region) not in _clients:
            _clients[(service, region)] = boto3.session.Session().client(
                service, region_name=region, config=_BOTO_CONFIG)
        return _clients[(service, region)]


def error_code(err: botocore.exceptions.ClientError) -> str:
    return err.response.get("Error", {}).get("Code", "Unknown")


def cloud_error(service: str, call: str, resource: str, err: botocore.exceptions.ClientError) -> CloudError:
    """A cloud error naming the resource, the call (`<service>.<Call>`) and AWS's error code."""
    return CloudError("aws", f"{service}.{call}", resource, error_code(err),
                      err.response.get("Error", {}).get("Message", str(err)))


class TransportErrors:
    """Errors below the API (no endpoint, timeouts, no credentials) as CloudErrors naming the step."""

    def __init__(self, service: str, step: str, resource: str) -> None:
        self.service, self.step, self.resource = service, step, resource

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, err: Any, _tb: Any) -> bool:
        if isinstance(err, botocore.exceptions.BotoCoreError) and not isinstance(err, botocore.exceptions.ClientError):
            raise CloudError("aws", f"{self.service} ({self.step})", self.resource, type(err).__name__,
                             str(err)) from err
        return False
