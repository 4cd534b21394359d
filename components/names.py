"""DNS names and tags: the pure rules every cloud module shares.

Each `*_problem` function returns None when the value is fine, else the rule it breaks, phrased so that it
reads after a config path ("certfleet:aws.certificates.shop.sans[3]: <rule>").
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Iterable

MAX_NAME_LENGTH = 253          # RFC 1035 presentation form without the trailing dot
MAX_LABEL_LENGTH = 63
ACM_MAX_DOMAIN_LENGTH = 64     # ACM's DomainName becomes the certificate CN (X.520 upper bound 64)
_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?")
# One line of text: no control characters (tab, newline, ...). Patterns here and in the config modules are used
# with fullmatch(): `$` and match() would let a trailing newline through.
ONE_LINE = re.compile(r"[^\x00-\x1f\x7f-\x9f]*")
# ACM's tag pattern is [\p{L}\p{Z}\p{N}_.:/=+\-@]*: letters, spaces, numbers (Unicode categories L, Z, N) and these.
_TAG_CATEGORIES = ("L", "Z", "N")
_TAG_EXTRA_CHARS = set("_.:/=+-@")
RESERVED_TAG_PREFIXES = ("aws:", "certfleet:")


def normalise(name: str) -> str:
    """DNS names compare case-insensitively; certfleet stores them lower-case and trimmed of spaces.

    Only spaces: a tab or newline is a mistake that `dns_name_problem` reports, not something to drop silently.
    """
    return name.strip(" ").lower()


def dns_name_problem(name: str) -> str | None:
    """RFC 1123 host name, with `*` allowed only as the whole leftmost label. Expects a normalised name."""
    shown = f"'{name}'"
    if not name:
        return "must be a DNS name, got an empty string"
    if not ONE_LINE.fullmatch(name):
        return f"{name!r} has control characters (such as a newline or tab); a DNS name is one line"
    if name.endswith("."):
        return f"{shown} must not end with a dot"
    if len(name) > MAX_NAME_LENGTH:
        return f"{shown} is {len(name)} characters; a DNS name has at most {MAX_NAME_LENGTH}"
    if not name.isascii():
        return f"{shown} has non-ASCII characters; write internationalised names in punycode (xn--...)"
    labels = name.split(".")
    if "*" in name[2:] or ("*" in name[:2] and labels[0] != "*"):
        return f"{shown}: a wildcard is allowed only as the whole leftmost label, as in *.example.com"
    if labels[0] == "*":
        labels = labels[1:]
    for label in labels:
        if not label:
            return f"{shown} has an empty label (two dots in a row)"
        if len(label) > MAX_LABEL_LENGTH:
            return f"{shown}: label '{label[:20]}...' is {len(label)} characters; at most {MAX_LABEL_LENGTH}"
        if not _LABEL.fullmatch(label):
            return (f"{shown}: label '{label}' must be letters, digits and '-', "
                    f"not starting or ending with '-' (RFC 1123)")
    if len(labels) < 2:
        return f"{shown} must be a fully qualified name with at least two labels, as in example.com"
    if labels[-1].isdigit():
        return f"{shown} looks like an IP address; certificates here are for DNS names only"
    return None


def acm_domain_problem(domain: str) -> str | None:
    if len(domain) > ACM_MAX_DOMAIN_LENGTH:
        return (f"'{domain}' is {len(domain)} characters; ACM's domain (the certificate CN) has at most "
                f"{ACM_MAX_DOMAIN_LENGTH}: put the long name in sans and a shorter one in domain")
    return None


def name_set(domain: str, sans: Iterable[str]) -> tuple[str, ...]:
    """All names of a certificate: de-duplicated, sorted (so a reordering is not a change), domain included."""
    return tuple(sorted({domain, *sans}))


def covers(certificate_name: str, host: str) -> bool:
    """Does a certificate name cover a host? A wildcard covers exactly one label (RFC 6125 6.4.3)."""
    if certificate_name == host:
        return True
    if certificate_name.startswith("*."):
        head, _, rest = host.partition(".")
        return bool(head) and head != "*" and rest == certificate_name[2:]
    return False


def base_name(name: str) -> str:
    """The name a DNS challenge is published under: a wildcard's is its parent's (`*.x.com` -> `x.com`)."""
    return name.removeprefix("*.")


def within_zone(name: str, zone: str) -> bool:
    """Is `name` (or the record name for it) at or below the zone apex `zone`?"""
    name, zone = base_name(name).rstrip(".").lower(), zone.rstrip(".").lower()
    return name == zone or name.endswith("." + zone)


def aws_tag_problem(key: Any, value: Any) -> str | None:
    """ACM/CloudFront tag rules: key 1-128, value 0-256, letters/digits/spaces and _.:/=+-@, no reserved prefix.

    Spaces are Unicode space separators, never control characters: a tab or newline is refused.
    """
    if not isinstance(key, str) or not 1 <= len(key) <= 128:
        return "tag keys must be strings of 1 to 128 characters"
    if not isinstance(value, str) or len(value) > 256:
        return "tag values must be strings of at most 256 characters"
    if key.lower().startswith(RESERVED_TAG_PREFIXES):
        return f"tag key '{key}' uses a reserved prefix ({', '.join(RESERVED_TAG_PREFIXES)})"
    for text, what in ((key, "key"), (value, "value")):
        bad = sorted({c for c in text
                      if unicodedata.category(c)[0] not in _TAG_CATEGORIES and c not in _TAG_EXTRA_CHARS})
        if bad:
            shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in bad)
            return f"tag {what} {text!r} has characters AWS does not allow: {shown}"
    return None
