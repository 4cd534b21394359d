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

The shape is documented in README.md ("Config reference") and published as `schema/certfleet.schema.json`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from components.alicloud.config import AlicloudSpec, _alicloud
from components.aws.config import AwsSpec, _aws
from components.errors import ConfigError
from components.huaweicloud.config import HuaweiSpec, _huaweicloud
from components.rules import _check_keys, _Problems

NAMESPACE = "certfleet"


@dataclass(frozen=True)
class FleetSpec:
    aws: AwsSpec | None
    warnings: tuple[str, ...] = field(default=())
    huaweicloud: HuaweiSpec | None = None
    alicloud: AlicloudSpec | None = None


# --- entry points ----------------------------------------------------------------------------------------

_SECTIONS: dict[str, Callable[[_Problems, str, Any], Any]] = {
    "aws": _aws, "huaweicloud": _huaweicloud, "alicloud": _alicloud}


def load_fleet(raw: Mapping[str, Any]) -> FleetSpec:
    """Validate `raw` ({"aws": {...}, ...}: the `certfleet:` keys, namespace removed, values decoded).

    Raises ConfigError listing every problem; returns the frozen model with any warnings.
    """
    p = _Problems()
    _check_keys(p, NAMESPACE, raw, tuple(_SECTIONS))
    sections = {key: reader(p, f"{NAMESPACE}:{key}", raw[key])
                for key, reader in _SECTIONS.items() if key in raw}
    if p.errors:
        raise ConfigError(p.errors)
    return FleetSpec(aws=sections.get("aws"), warnings=tuple(p.warnings),
                     huaweicloud=sections.get("huaweicloud"), alicloud=sections.get("alicloud"))


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


def load_from_pulumi() -> FleetSpec:
    """Read the running stack's config (inside a Pulumi program)."""
    from pulumi.runtime import config as runtime_config  # the program's config bag, secrets decrypted

    raw = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    return load_fleet(decode_config_values(raw))
