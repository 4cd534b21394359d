"""Values as the control API and the DNS-API emulators carry them -> dnspython rdata.

TXT values come in two spellings: Route 53 and Huawei DNS send presentation format (`"abc" "def"`, each
string quoted, `\\"` and `\\DDD` escapes), Alibaba DNS sends the raw text (`abc`). A value that is a
sequence of quoted strings is read as presentation format, anything else as raw text. Every string is
then cut into chunks of at most 255 bytes (a DNS character-string's limit), so a long token is served
as several strings whose concatenation is the token - what resolvers and lego's check read.
Other types are parsed by dnspython, names relative to the root (`target.example.com` = absolute).
"""

from __future__ import annotations

import re

import dns.exception
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset
from dns.rdtypes.ANY.TXT import TXT

from emulators.dns.exceptions import InvalidRecord

MAX_STRING = 255
MAX_TTL = 2147483647
QUOTED_STRINGS = re.compile(r'\s*(?:"(?:[^"\\]|\\.)*"\s*)+')
ONE_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
_ESCAPE = re.compile(rb"\\(\d{3}|.)", re.DOTALL)


def parse_name(text: str) -> dns.name.Name:
    """An absolute, lower-cased name; a missing trailing dot is added."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidRecord("a name must be a non-empty string")
    try:
        return dns.name.from_text(text.strip().lower(), origin=dns.name.root)
    except dns.exception.DNSException as error:
        raise InvalidRecord(f"invalid name {text!r}: {error}") from None


def parse_type(text: str) -> int:
    try:
        rdtype = dns.rdatatype.from_text(str(text).upper())
    except dns.exception.DNSException:
        raise InvalidRecord(f"unknown record type {text!r}") from None
    if dns.rdatatype.is_metatype(rdtype) or rdtype in (dns.rdatatype.SOA, dns.rdatatype.OPT):
        raise InvalidRecord(f"type {dns.rdatatype.to_text(rdtype)} cannot be set (SOA is the server's own)")
    return rdtype


def build_rrset(name: dns.name.Name, rdtype: int, ttl, values: list) -> dns.rrset.RRset:
    """One rrset from control-API values; raises InvalidRecord naming the bad value."""
    if isinstance(ttl, bool) or not isinstance(ttl, int) or not 0 <= ttl <= MAX_TTL:
        raise InvalidRecord(f"ttl must be an integer from 0 to {MAX_TTL}")
    if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
        raise InvalidRecord("values must be a list of strings")
    if rdtype == dns.rdatatype.CNAME and len(values) > 1:
        raise InvalidRecord("a CNAME rrset holds exactly one value")
    rrset = dns.rrset.RRset(name, dns.rdataclass.IN, rdtype)
    for value in values:
        rrset.add(_rdata(rdtype, value), ttl)
    return rrset


def txt_strings(value: str) -> list[bytes]:
    """The character-strings of one TXT value (see the module docstring), each at most 255 bytes."""
    if QUOTED_STRINGS.fullmatch(value):
        strings = [_unescape(match.group(1)) for match in ONE_QUOTED.finditer(value)]
    else:
        strings = [value.encode("utf-8")]
    chunks = []
    for string in strings:
        chunks.extend(string[start:start + MAX_STRING] for start in range(0, len(string), MAX_STRING))
        if not string:
            chunks.append(b"")
    return chunks


def _unescape(text: str) -> bytes:
    def replace(match: re.Match) -> bytes:
        escaped = match.group(1)
        return bytes([int(escaped)]) if escaped.isdigit() else escaped

    return _ESCAPE.sub(replace, text.encode("utf-8"))


def _rdata(rdtype: int, value: str) -> dns.rdata.Rdata:
    if rdtype == dns.rdatatype.TXT:
        return TXT(dns.rdataclass.IN, dns.rdatatype.TXT, txt_strings(value))
    try:
        return dns.rdata.from_text(dns.rdataclass.IN, rdtype, value, origin=dns.name.root, relativize=False)
    except (dns.exception.DNSException, ValueError) as error:
        raise InvalidRecord(f"invalid {dns.rdatatype.to_text(rdtype)} value {value!r}: {error}") from None
