"""The only place that reads certfleet's Pulumi stack config.

It turns the raw `certfleet:*` values into a frozen, validated model before any cloud is called. Every
problem is collected (not just the first) and names its config path, e.g.
`certfleet:aws.certificates.shop.sans[3]`, and the rule it breaks. The same checks run again inside the
dynamic providers' `check()` (see `names.py`), so a resource built outside this module is held to them too.

Each cloud's section has its rules and model in a module beside its provider (components/aws/config.py,
components/alicloud/config.py, components/huaweicloud/config.py); the rules they share (entry names, the
problem collector, the typed readers) are in components/rules.py. This module reads the stack's config, hands
each section to its reader and assembles FleetSpec. The shared rules live apart from this module so that the
imports run one way, config.py -> <cloud>/config.py -> rules.py: were they here, the cloud modules would import
config.py and config.py them, a circle.

A Pulumi program gets its config decrypted, so whether a value was a secret is learnt apart: the engine marks
whole top-level keys, and the stack's config file shows which paths are `{secure: ...}` (`secret_config_paths`).
The AWS section refuses a private key that is not one.

The shape is documented in README.md ("Config reference") and published as `schema/certfleet.schema.json`.
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Collection, Iterable, Iterator, Mapping

from components.alicloud.config import AlicloudSpec, _alicloud
from components.aws.config import AwsSpec, _aws
from components.deploy.config import check_deployed_distributions, check_deployed_key_types
from components.dns.config import check_shared_names
from components.errors import ConfigError
from components.fleet_files import load_yaml, name_files, with_fleet_files
from components.huaweicloud.config import HuaweiSpec, _huaweicloud
from components.rules import NAMESPACE, _check_keys, _Problems


@dataclass(frozen=True)
class FleetSpec:
    aws: AwsSpec | None
    warnings: tuple[str, ...] = field(default=())
    huaweicloud: HuaweiSpec | None = None
    alicloud: AlicloudSpec | None = None


# --- entry points ----------------------------------------------------------------------------------------

_SECTIONS: dict[str, Callable[[_Problems, str, Any], Any]] = {
    "aws": _aws, "huaweicloud": _huaweicloud, "alicloud": _alicloud}


def load_fleet(raw: Mapping[str, Any], secret_paths: Collection[str] | None = None,
               now: datetime | None = None) -> FleetSpec:
    """Validate `raw` ({"aws": {...}, ...}: the `certfleet:` keys, namespace removed, values decoded).

    `secret_paths`: the config paths that hold Pulumi secrets (`secret_config_paths`), e.g.
    `certfleet:aws.imports.shop.privateKey`; a path under one of them is secret too. A private key elsewhere is
    refused as plain text. None: the config was not read from a stack (tests, benchmarks), nothing to tell.
    `now`: the time imported certificates are checked at (default: the clock).
    Raises ConfigError listing every problem; returns the frozen model with any warnings.
    """
    p = _Problems()
    _check_keys(p, NAMESPACE, raw, tuple(_SECTIONS))
    readers = {**_SECTIONS, "aws": functools.partial(_aws, secret_paths=secret_paths, now=now)}
    sections = {key: reader(p, f"{NAMESPACE}:{key}", raw[key])
                for key, reader in readers.items() if key in raw}
    check_shared_names(p, _dns_entries(sections))
    check_deployed_key_types(p, NAMESPACE, sections)  # an ACM copy's key type (components/deploy/config.py)
    if "aws" in sections:  # distributions served by a copy deployed from CAS or SCM (components/deploy/config.py)
        sections["aws"] = check_deployed_distributions(p, NAMESPACE, sections, raw.get("aws"))
    if p.errors:
        raise ConfigError(p.errors)
    return FleetSpec(aws=sections.get("aws"), warnings=tuple(p.warnings),
                     huaweicloud=sections.get("huaweicloud"), alicloud=sections.get("alicloud"))


def _dns_entries(sections: Mapping[str, Any]) -> list[tuple[str, Iterable[str], Any]]:
    """(config path, names, dns) of every entry, across sections: a CAS order and an SCM certificate for one name
    share its `_dnsauth` record, so they must write it in one place too (components/dns/config.py)."""
    aws, alicloud, huawei = sections.get("aws"), sections.get("alicloud"), sections.get("huaweicloud")
    return [*((f"{NAMESPACE}:aws.certificates.{c.name}", c.sans, c.dns) for c in (aws.certificates if aws else ())),
            *((f"{NAMESPACE}:alicloud.orders.{o.name}", o.domains, o.dns)
              for o in ((*alicloud.orders, *alicloud.instance_orders) if alicloud else ())),
            *((f"{NAMESPACE}:huaweicloud.certificates.{c.name}", c.domains, c.dns)
              for c in (huawei.certificates if huawei else ()))]


def decode_config_values(config: Mapping[str, str]) -> dict[str, Any]:
    """`certfleet:<key>` -> decoded value. Pulumi hands structured config to programs as JSON text."""
    out: dict[str, Any] = {}
    prefix = NAMESPACE + ":"
    for key, text in config.items():
        if not key.startswith(prefix):
            continue
        try:
            out[key[len(prefix):]] = json.loads(text)
        except (TypeError, ValueError):
            out[key[len(prefix):]] = text
    return out


def _secure_paths(path: str, value: Any) -> Iterator[str]:
    """The paths under `path` whose value is a `{secure: <ciphertext>}`, as `pulumi config set --secret --path`
    writes it, in the config paths' own syntax (`a.b[2].c`)."""
    if isinstance(value, dict) and set(value) == {"secure"}:
        yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _secure_paths(f"{path}.{key}", item)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _secure_paths(f"{path}[{index}]", item)


def secret_config_paths(stack_file_config: Mapping[str, Any] | None, secret_keys: Iterable[str]) -> frozenset[str]:
    """Which config paths hold Pulumi secrets.

    The engine marks a whole top-level key secret (`certfleet:aws`) when any path inside it is, so a plain-text
    private key next to any secret would pass for one. The stack's config file (`stack_file_config`, its
    `config:` map) says exactly which paths are `{secure: ...}`: it decides for every key it holds. A secret key
    it does not hold (set by --config-file or an ESC environment) counts as secret all the way down.
    """
    file_config = stack_file_config or {}
    paths = {p for key, value in file_config.items() for p in _secure_paths(key, value)}
    return frozenset(paths | {key for key in secret_keys if key not in file_config})


def _stack_file_config() -> Mapping[str, Any] | None:
    """The `config:` map of the running stack's Pulumi.<stack>.yaml (in the project's stackConfigDir), if found."""
    import pulumi
    import yaml

    root = _project_root()
    try:
        project = load_yaml((root / "Pulumi.yaml").read_text()) or {}
        stack_file = root / (project.get("stackConfigDir") or ".") / f"Pulumi.{pulumi.get_stack()}.yaml"
        return (load_yaml(stack_file.read_text()) or {}).get("config") or {}
    except (OSError, yaml.YAMLError, AttributeError):
        return None


def _project_root() -> Path:
    """The running program's project directory (where Pulumi.yaml is)."""
    import pulumi

    return Path(pulumi.runtime.get_root_directory() or os.getcwd())


def load_from_pulumi() -> FleetSpec:
    """Read the running stack's config (inside a Pulumi program), continued in its fleet files if it names any
    (components/fleet_files.py)."""
    from pulumi.runtime import config as runtime_config  # the program's config bag, secrets decrypted

    raw = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    secret_keys = {*runtime_config.get_config_secret_keys_env(),
                   *(key for key in raw if runtime_config.is_config_secret(key))}
    merged, from_files = with_fleet_files(decode_config_values(raw), _project_root())
    try:
        return load_fleet(merged, secret_paths=secret_config_paths(_stack_file_config(), secret_keys))
    except ConfigError as err:
        if not from_files:
            raise
        raise ConfigError(name_files(err.problems, from_files)) from None
