"""Large fleets: the stack config continued in files named by `certfleet:fleetFiles`.

Pulumi hands a Python program (and a policy pack) its whole stack config in one environment variable,
PULUMI_CONFIG, and Linux refuses a single variable over 128 KiB (`argument list too long`; pulumi/pulumi#20402):
about 575 SCM certificates with their applicant, 800 distributions, 1,400 ACM certificates (docs/scale.md).
`certfleet:fleetFiles` lists YAML files (or glob patterns), relative to the project directory, each a map of
`certfleet:<section>` keys exactly as under `config:` in Pulumi.<stack>.yaml, so a block moves from the stack
file to a fleet file unchanged. The program reads them at every preview and up.

Merge: maps merge key by key, however deep (an entry map such as `certificates` may be split across the stack
file and any number of fleet files); anything else given twice is refused, naming both places. Secrets stay in
the stack config (`pulumi config set --secret`): a fleet file is plain text, a `secure:` value or a `privateKey`
in one is refused. Paths stay inside the project directory (no absolute path, no `..`).
A problem in a value from a file names the file beside the config path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from components.errors import ConfigError
from components.rules import NAMESPACE

FILES_KEY = "fleetFiles"
STACK_CONFIG = "the stack config"


def fleet_file_paths(patterns: Any, root: Path) -> tuple[list[Path], list[str]]:
    """(the files `certfleet:fleetFiles` names, in order, each once; problems)."""
    path = f"{NAMESPACE}:{FILES_KEY}"
    if not isinstance(patterns, list) or not all(isinstance(p, str) and p for p in patterns):
        return [], [f"{path}: must be a list of file paths or glob patterns, relative to the project directory"]
    files: list[Path] = []
    problems = []
    for index, pattern in enumerate(patterns):
        if Path(pattern).is_absolute() or ".." in Path(pattern).parts:
            problems.append(f"{path}[{index}]: {pattern!r} must be relative to the project directory and stay in it")
            continue
        found = sorted(root.glob(pattern)) if any(c in pattern for c in "*?[") else [root / pattern]
        found = [f for f in found if f.is_file()]
        if not found:
            problems.append(f"{path}[{index}]: {pattern!r} names no file (relative to {root})")
        seen = {f.resolve() for f in files}   # one file under two spellings (or a symlink) is read once
        files += [f for f in found if f.resolve() not in seen]
    return files, problems


def with_fleet_files(raw: Mapping[str, Any], root: Path) -> tuple[dict[str, Any], dict[str, str]]:
    """(`raw` -- the decoded `certfleet:` keys -- with the fleet files merged in and FILES_KEY removed,
    {config path: file} of what each file added). Raises ConfigError listing every problem."""
    merged = {key: value for key, value in raw.items() if key != FILES_KEY}
    if FILES_KEY not in raw:
        return merged, {}
    files, problems = fleet_file_paths(raw[FILES_KEY], root)
    origins: dict[str, str] = {}
    for file in files:
        name = str(file.relative_to(root)) if file.is_relative_to(root) else str(file)
        content, problem = _read(file, name)
        if problem:
            problems.append(problem)
            continue
        for key, value in content.items():
            if not isinstance(key, str) or not key.startswith(NAMESPACE + ":") or key == f"{NAMESPACE}:{FILES_KEY}":
                problems.append(f"{name}: {key!r}: a fleet file holds `{NAMESPACE}:<section>` keys (as under "
                                f"`config:` in Pulumi.<stack>.yaml), not fleetFiles")
                continue
            problems += _secure_values(name, key, value)
            section = key[len(NAMESPACE) + 1:]
            problems += _merge(merged, section, value, key, name, origins)
    if problems:
        raise ConfigError(problems)
    return merged, origins


def load_yaml(text: str) -> Any:
    """YAML's safe loader, libyaml's when there is one: the pure-Python one takes seconds for a stack file of a
    thousand entries, on every preview."""
    import yaml

    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 - a safe loader


def _read(file: Path, name: str) -> tuple[Mapping[str, Any], str | None]:
    import yaml

    try:
        content = load_yaml(file.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeError, yaml.YAMLError) as err:
        return {}, f"{name}: cannot be read as YAML ({str(err).splitlines()[0]})"
    if not isinstance(content, dict):
        return {}, f"{name}: must be a map of `{NAMESPACE}:<section>` keys"
    return content, None


def _secure_values(name: str, path: str, value: Any) -> list[str]:
    """A secret (or a private key, secret or not: a fleet file is committed plain text) in a fleet file."""
    if (isinstance(value, dict) and set(value) == {"secure"}) or path.endswith(".privateKey"):
        return [f"{path} (in {name}): a secret stays in the stack config (`pulumi config set --secret --path`): a "
                f"fleet file is plain text"]
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    return [problem for key, item in items
            for problem in _secure_values(name, f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}", item)]


def _merge(into: dict[str, Any], key: str, value: Any, path: str, name: str, origins: dict[str, str]) -> list[str]:
    """Merge `value` at `into[key]` (config path `path`); maps merge, anything else given twice is a problem."""
    if key not in into:
        into[key] = value
        origins[path] = name
        return []
    if isinstance(into[key], dict) and isinstance(value, dict):
        return [problem for sub, item in value.items()
                for problem in _merge(into[key], sub, item, f"{path}.{sub}", name, origins)]
    first = _origin_of(path, origins)
    if into[key] is None and first is None:
        return [f"{path}: is null in {STACK_CONFIG} and given in {name}: remove it from {STACK_CONFIG}"]
    return [f"{path}: given in both {first or STACK_CONFIG} and {name}: give it in one place"]


def _origin_of(path: str, origins: Mapping[str, str]) -> str | None:
    """The fleet file that gave the value at `path` (the longest origin above it), or None: the stack config."""
    above = [prefix for prefix in origins if path == prefix or path.startswith((prefix + ".", prefix + "["))]
    return origins[max(above, key=len)] if above else None


def name_files(problems: list[str], origins: Mapping[str, str]) -> list[str]:
    """Each problem about a value that came from a fleet file, with the file named: `<path> (in <file>): ...`."""
    named = []
    for problem in problems:
        path = problem.split(": ", 1)[0]
        origin = _origin_of(path, origins)
        named.append(problem.replace(path, f"{path} (in {origin})", 1) if origin else problem)
    return named
