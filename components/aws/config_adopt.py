"""certfleet:aws entries that stand for an object made outside certfleet: `adopt`, `replaceAdopted`, `onDestroy`.

Every entry kind of the section (certificates, imports, distributions) takes the three keys; the rules are here
once, and aws/config.py checks what spans entries (the ARN's region against aws.region, one id adopted by one
entry, an adopted certificate never left unrequested by aggregate). The providers read the object at preview
(its `check`): this module checks only what needs no call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from components.aws.limits import ACM_ARN_PATTERN, DISTRIBUTION_ID_PATTERN
from components.rules import _choice, _flag, _Problems, _text_field

ADOPT_KEYS = ("adopt", "replaceAdopted", "onDestroy")
ON_DESTROY = ("keep", "delete")
_RULES = {
    "certificate": (ACM_ARN_PATTERN, "must be an ACM certificate ARN, arn:aws:acm:<region>:<account>:certificate/<id>"),
    "import": (ACM_ARN_PATTERN, "must be the ARN of an imported ACM certificate, "
                                "arn:aws:acm:<region>:<account>:certificate/<id>"),
    "distribution": (DISTRIBUTION_ID_PATTERN, "must be a CloudFront distribution id, 'E' and 12 or 13 upper-case "
                                              "letters or digits"),
}


@dataclass(frozen=True)
class Adoption:
    """What an entry says about the object it adopts and about destroy."""

    adopt: str | None          # the object's ARN or id; None: certfleet makes the object
    replace_adopted: bool      # a replace-level difference makes a new object (the adopted one is kept)
    on_destroy: str | None     # "keep" | "delete"; None: the default (keep an adopted object, delete one made)


def _adoption(p: _Problems, path: str, obj: Mapping[str, Any], kind: str) -> Adoption:
    """The three keys of one entry at `path` (`kind`: certificate, import or distribution)."""
    pattern, rule = _RULES[kind]
    adopt = _text_field(p, path, obj, "adopt", required=False, pattern=pattern, rule=rule)
    replace_adopted = _flag(p, path, obj, "replaceAdopted", False)
    if replace_adopted and "adopt" not in obj:
        p.warn(f"{path}.replaceAdopted", "has no effect without adopt")
    on_destroy = _choice(p, f"{path}.onDestroy", obj["onDestroy"], ON_DESTROY) if "onDestroy" in obj else None
    return Adoption(adopt=adopt, replace_adopted=replace_adopted, on_destroy=on_destroy)


def check_adopted_ids(p: _Problems, path: str, region: str, entries: Iterable[tuple[str, str, Any]]) -> None:
    """`entries`: (section, name, spec) of every certificates, imports and distributions entry. An ACM ARN must
    be in aws.region (the providers call ACM there); an object is adopted by one entry only (two resources
    would each tag it as theirs)."""
    adopted_by: dict[str, str] = {}
    for section, name, spec in entries:
        if not spec.adopt:
            continue
        entry_path = f"{path}.{section}.{name}"
        match = ACM_ARN_PATTERN.fullmatch(spec.adopt)
        if match and match["region"] != region:
            p.error(f"{entry_path}.adopt", f"{spec.adopt} is in {match['region']}, but certfleet:aws.region is "
                                           f"{region}: certfleet manages ACM certificates of that region only")
        if spec.adopt in adopted_by:
            p.error(f"{entry_path}.adopt", f"{spec.adopt} is already adopted by {adopted_by[spec.adopt]}; an object "
                                           f"belongs to one entry")
        else:
            adopted_by[spec.adopt] = entry_path
