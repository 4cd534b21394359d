"""The rules that every section of certfleet's stack config shares, and the tools its readers walk it with.

The entry-name rule (an entry's name doubles as its Pulumi resource name, and so does each of its
`previousNames`), the problem collector (`_Problems`), and the typed readers (`_object`, `_string`, `_seconds`,
`_choice`, `_dns_names`, `_text_field`, `_tags`, ...). Each reader takes the config path it reports, so that every
message reads `certfleet:aws.certificates.shop.sans[3]: <rule>`. The rules on values themselves (DNS names, tags)
are in names.py, which the providers' `check()` share.

Why a module of its own: each cloud's section reader (components/<cloud>/config.py, beside its provider) is built
on these, and components/config.py imports those readers to assemble FleetSpec. Kept in config.py, the helpers
would have config.py and the cloud modules import each other; here the imports run one way,
config.py -> <cloud>/config.py -> rules.py, and this module imports no cloud. Its names keep their leading
underscore: they serve the config modules alone, not the providers.
"""

from __future__ import annotations

import difflib
import re
from typing import Any, Callable, Iterable, Mapping

from components import names

NAMESPACE = "certfleet"   # of every config key (`certfleet:aws`)

# Every pattern of the config modules is used with fullmatch(): match() and `$` would let a trailing newline through.
RESOURCE_NAME_PATTERN = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
_NAME_RULE = "1-63 lower-case letters, digits or '-', starting and ending with a letter or digit"


class _Problems:
    """Collects problems and warnings while the raw config is walked."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.warnings: list[str] = []

    def error(self, path: str, rule: str) -> None:
        self.errors.append(f"{path}: {rule}")

    def warn(self, path: str, message: str) -> None:
        self.warnings.append(f"{path}: {message}")


def _type_name(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "a number",
            float: "a number", type(None): "null"}.get(type(value), type(value).__name__)


def _named_object(p: _Problems, path: str, what: str, name: str, raw: Any,
                  allowed: tuple[str, ...]) -> dict[str, Any] | None:
    """One named entry (a certificate, an order): its name doubles as the Pulumi resource name."""
    if not RESOURCE_NAME_PATTERN.fullmatch(name):
        p.error(path, f"{what} names must be {_NAME_RULE}, got {name!r}")
    obj = _object(p, path, raw)
    if obj is not None:
        _check_keys(p, path, obj, allowed)
    return obj


def _previous_names(p: _Problems, path: str, what: str, entries: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """Each entry's `previousNames` (the names it had before: Pulumi aliases), for one section's `entries`.

    `path` is the section's map, e.g. `certfleet:aws.certificates`. A previous name follows the entry-name rule,
    is not the name of a current entry, and belongs to one entry: two resources cannot inherit one identity.
    """
    claimed: dict[str, str] = {}  # previous name -> config path of the entry that claims it
    found: dict[str, tuple[str, ...]] = {}
    for name in sorted(entries):
        raw = entries[name]
        if not isinstance(raw, dict) or "previousNames" not in raw:
            continue  # a non-object entry is reported by _named_object
        list_path = f"{path}.{name}.previousNames"
        if not isinstance(raw["previousNames"], list):
            p.error(list_path, f"must be a list of earlier {what} names, got {_type_name(raw['previousNames'])}")
            continue
        previous: list[str] = []
        for i, raw_old in enumerate(raw["previousNames"]):
            item_path = f"{list_path}[{i}]"
            old = _string(p, item_path, raw_old)
            if old is None:
                continue
            if not RESOURCE_NAME_PATTERN.fullmatch(old):
                p.error(item_path, f"{what} names must be {_NAME_RULE}, got {old!r}")
            elif old == name:
                p.error(item_path, f"'{old}' is this {what}'s own name")
            elif old in entries:
                p.error(item_path, f"'{old}' is the name of a current {what}, {path}.{old}")
            elif old in previous:
                p.error(item_path, f"'{old}' is listed twice")
            elif old in claimed:
                p.error(item_path, f"'{old}' is already claimed by {claimed[old]}; "
                                   f"a previous name belongs to one {what}")
            else:
                previous.append(old)
                claimed[old] = f"{path}.{name}"
        found[name] = tuple(previous)
    return found


def _claim_names(p: _Problems, claimed: dict[str, str], entry_path: str, dns_names: Iterable[str], what: str) -> None:
    """A DNS name belongs to one entry of a section: `claimed` maps each name to the entry that listed it first."""
    for dns_name in dns_names:
        if dns_name in claimed:
            p.error(entry_path, f"'{dns_name}' is already claimed by {claimed[dns_name]}; a name belongs to one {what}")
        else:
            claimed[dns_name] = entry_path


def _check_keys(p: _Problems, path: str, obj: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    """Unknown keys are errors: a typo must not silently fall back to a default."""
    for key in obj:
        if key not in allowed:
            hint = difflib.get_close_matches(str(key), allowed, n=1)
            suggestion = f"; did you mean '{hint[0]}'?" if hint else f"; allowed keys: {', '.join(allowed)}"
            p.error(f"{path}.{key}", f"unknown key{suggestion}")


def _object(p: _Problems, path: str, value: Any) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        p.error(path, f"must be an object, got {_type_name(value)}")
        return None
    return value


def _string(p: _Problems, path: str, value: Any) -> str | None:
    if not isinstance(value, str):
        p.error(path, f"must be a string, got {_type_name(value)}")
        return None
    return value


def _text_field(p: _Problems, path: str, obj: Mapping[str, Any], key: str, *, required: bool,
                pattern: re.Pattern[str] | None = None, max_length: int | None = None, rule: str = "") -> str | None:
    """A text value at `<path>.<key>`: one line, not blank, within `max_length`, matching `pattern` if given."""
    if key not in obj:
        if required:
            p.error(f"{path}.{key}", "is required")
        return None
    value = _string(p, f"{path}.{key}", obj[key])
    if value is None:
        return None
    if not value.strip():
        p.error(f"{path}.{key}", f"must not be empty or blank, got {value!r}")
        return None
    if not names.ONE_LINE.fullmatch(value):
        p.error(f"{path}.{key}", f"must be one line of text without control characters, got {value!r}")
        return None
    if max_length is not None and len(value) > max_length:
        p.error(f"{path}.{key}", f"at most {max_length} characters, got {len(value)}")
        return None
    if pattern is not None and not pattern.fullmatch(value):
        p.error(f"{path}.{key}", f"{rule}, got {value!r}")
        return None
    return value


def _seconds(p: _Problems, path: str, obj: Mapping[str, Any], key: str, default: int, maximum: int) -> int:
    value = obj.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
        p.error(f"{path}.{key}", f"must be a whole number of seconds from 0 to {maximum}, got {value!r}")
        return default
    return value


def _choice(p: _Problems, path: str, value: Any, choices: tuple[str, ...]) -> str | None:
    if value not in choices:
        p.error(path, f"must be one of {', '.join(choices)}, got {value!r}")
        return None
    return value


def _dns_names(p: _Problems, path: str, raw: Any, unique: bool = False) -> list[str]:
    """A list of DNS names, normalised; each bad item is reported with its index, e.g. `.sans[3]`.

    `unique`: where the order means something (SCM's first name is the primary), a repeat is an error.
    """
    if not isinstance(raw, list):
        p.error(path, f"must be a list of DNS names, got {_type_name(raw)}")
        return []
    out: list[str] = []
    for i, raw_name in enumerate(raw):
        name = _string(p, f"{path}[{i}]", raw_name)
        if name is None:
            continue
        name = names.normalise(name)
        problem = names.dns_name_problem(name)
        if problem:
            p.error(f"{path}[{i}]", problem)
        elif unique and name in out:
            p.error(f"{path}[{i}]", f"'{name}' is listed twice")
            continue
        out.append(name)
    return out


def _tags(p: _Problems, path: str, value: Any, problem: Callable[[str, Any], str | None]) -> dict[str, str]:
    """A map of tags; each bad one is reported at `<path>.<key>` with the cloud's rule (`problem`)."""
    tags = _object(p, path, value)
    if tags is None:
        return {}
    out: dict[str, str] = {}
    for key, tag_value in tags.items():
        found = problem(key, tag_value)
        if found:
            p.error(f"{path}.{key}", found)
        else:
            out[key] = tag_value
    return out


def _flag(p: _Problems, path: str, obj: Mapping[str, Any], key: str, default: bool) -> bool:
    """A true/false switch at `<path>.<key>`. Only YAML booleans: the string "false" is truthy in Python."""
    value = obj.get(key, default)
    if not isinstance(value, bool):
        p.error(f"{path}.{key}", f"must be true or false, got {value!r}")
        return default
    return value


def _whole_number(p: _Problems, path: str, obj: Mapping[str, Any], key: str, default: int, minimum: int,
                  maximum: int, unit: str) -> int:
    """A whole number of `unit`s from `minimum` to `maximum` at `<path>.<key>` (for seconds: `_seconds`)."""
    value = obj.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        p.error(f"{path}.{key}", f"must be a whole number of {unit} from {minimum} to {maximum}, got {value!r}")
        return default
    return value


def _merged_tags(p: _Problems, path: str, obj: Mapping[str, Any], defaults: Mapping[str, str],
                 problem: Callable[[str, Any], str | None], limit: int, what: str, why: str) -> dict[str, str]:
    """An entry's tags: the section's `defaults` overridden by the entry's own `tags`, at most `limit` in all.

    `why` says where the limit comes from, e.g. "aws.tags included; ACM allows 50 and certfleet uses 3".
    """
    tags = dict(defaults)
    if "tags" in obj:
        tags.update(_tags(p, f"{path}.tags", obj["tags"], problem))
    if len(tags) > limit:
        p.error(f"{path}.tags", f"at most {limit} tags per {what} ({why}), got {len(tags)}")
    return tags


def _required_string(p: _Problems, path: str, obj: Mapping[str, Any], key: str, hint: str = "") -> str | None:
    """A string that must be given, of any length and lines (a PEM); `hint` says what it is when it is missing."""
    if key not in obj:
        p.error(f"{path}.{key}", f"is required{': ' + hint if hint else ''}")
        return None
    return _string(p, f"{path}.{key}", obj[key])


def _entries(p: _Problems, path: str, what: str, raw: Any, read: Callable[[str, str, Any, tuple[str, ...]], Any],
             names_of: Callable[[Any], Iterable[str]], claimed: dict[str, str], owner: str) -> dict[str, Any]:
    """A section's map of named entries at `path` (e.g. `certfleet:aws.certificates`), in name order.

    `read(entry_path, name, raw_entry, previous_names)` returns an entry's model, or None when it broke a rule
    (reported). Each DNS name in `names_of(model)` belongs to one `owner`: `claimed` maps it to the entry that
    listed it first; sections whose names must not meet share one `claimed`. Returns name -> model or None.
    """
    entry_map = _object(p, path, raw) or {}
    renames = _previous_names(p, path, what, entry_map)
    found: dict[str, Any] = {}
    for name in sorted(entry_map):
        entry_path = f"{path}.{name}"
        found[name] = read(entry_path, name, entry_map[name], renames.get(name, ()))
        if found[name] is not None:
            _claim_names(p, claimed, entry_path, names_of(found[name]), owner)
    return found
