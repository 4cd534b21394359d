"""The `dns` block of a section and of an entry: where certfleet writes an entry's validation records.

    certfleet:aws:
      dns: {provider: route53}                 # every requested certificate: its zone found automatically
      certificates:
        blog:
          domain: blog.example.org
          dns: {zone: Z0123456789ABCDEFGHIJ}   # this entry: the section's block with `zone` replaced
        legacy:
          domain: legacy.example.com
          dns: false                           # this entry publishes by hand, as without a block

Rules, each reported at its config path: `provider` is route53, alidns or huaweicloud (required in the section's
block, or in an entry's when the section has none); `zone` is a Route 53 hosted zone id, an Alibaba Cloud DNS
domain name (which must contain the entry's names), or a Huawei Cloud DNS zone id (omitted: the longest zone of
the account that contains the name, found at preview); `ttl` in the DNS service's range; the timeouts in seconds.
An entry's block may only be given where the CA validates through DNS (ACM; CAS and SCM with `validation: DNS`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from components import names
from components.rules import _check_keys, _choice, _object, _Problems, _seconds, _whole_number, _text_field

DNS_PROVIDERS = ("route53", "alidns", "huaweicloud")
DNS_KEYS = ("provider", "zone", "ttl", "region", "propagationTimeoutSeconds", "validationTimeoutSeconds")
# Route 53 hosted zone ids: upper-case letters and digits, `Z...` on the real service (botocore strips a
# `/hostedzone/` prefix; we ask for the id alone so that one zone is spelt one way in state; moto's ids do not
# start with Z). Huawei zone ids: 32 hex digits on the real service; letters, digits and '-' are accepted.
ROUTE53_ZONE_ID = re.compile(r"[A-Z0-9]{1,32}")
HUAWEI_ZONE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,63}")
# TTLs each service accepts for a record (Alidns: the free edition's floor is 600, paid editions go lower, so
# certfleet only checks the API's bounds; Route 53 and Huawei: 1 s up). The defaults are what a validation
# record needs: short, so a changed challenge is seen soon.
TTL_RANGE = {"route53": (1, 2147483647), "alidns": (1, 86400), "huaweicloud": (1, 2147483647)}
DEFAULT_TTL = {"route53": 60, "alidns": 600, "huaweicloud": 300}
HUAWEI_REGION = re.compile(r"[a-z]{2}(-[a-z0-9]+){1,3}")


@dataclass(frozen=True)
class DnsSpec:
    provider: str                       # route53 | alidns | huaweicloud
    zone: str | None                    # None: the longest zone of the account that contains the name
    ttl: int
    region: str | None                  # Huawei Cloud DNS's region (its endpoint); unused by the others
    propagation_timeout_seconds: int    # until every authoritative server serves a written record
    validation_timeout_seconds: int     # after that, until the CA issues (the rest waits for `up --refresh`)

    def describe(self) -> str:
        return f"{self.provider} zone {self.zone or '(found automatically)'}"


def section_dns(p: _Problems, path: str, obj: Mapping[str, Any], region: str | None = None) -> DnsSpec | None:
    """The section's `dns` block (`<path>.dns`), or None. `region`: the section's own (Huawei DNS default)."""
    if "dns" not in obj:
        return None
    return _dns_block(p, f"{path}.dns", obj["dns"], None, region)


def entry_dns(p: _Problems, path: str, obj: Mapping[str, Any], section: DnsSpec | None, validated_by_dns: bool,
              entry_names: Iterable[str], region: str | None = None) -> DnsSpec | None:
    """An entry's DNS target: its own `dns` block over the section's, `dns: false` for none.

    Entries the CA does not validate through DNS (FILE, EMAIL) take no block; the section's does not apply to
    them. `entry_names`: the entry's DNS names, which an Alidns zone given by name must contain.
    """
    if "dns" not in obj:
        spec = section if validated_by_dns else None
    elif obj["dns"] is False:
        return None
    elif not validated_by_dns:
        p.error(f"{path}.dns", "only for entries validated through DNS (validation: DNS); remove it, or use "
                               "`dns: false`")
        return None
    else:
        spec = _dns_block(p, f"{path}.dns", obj["dns"], section, region)
    if spec is not None and spec.provider == "alidns" and spec.zone:
        where = f"{path}.dns.zone" if "dns" in obj else f"{path} (the section's dns.zone)"
        for name in entry_names:
            if not names.within_zone(name, spec.zone):
                p.error(where, f"'{name}' is not inside the Alibaba Cloud DNS domain '{spec.zone}'")
    return spec


def _dns_block(p: _Problems, path: str, raw: Any, inherited: DnsSpec | None, region: str | None) -> DnsSpec | None:
    if raw is True or raw is False:
        p.error(path, "must be an object ({provider: ..., zone: ...}); `dns: false` is for an entry only"
                if raw is False else "must be an object ({provider: ..., zone: ...}), got true")
        return None
    obj = _object(p, path, raw)
    if obj is None:
        return None
    _check_keys(p, path, obj, DNS_KEYS)
    if "provider" not in obj and inherited is None:
        p.error(f"{path}.provider", f"is required (one of {', '.join(DNS_PROVIDERS)}): the section has no dns block "
                                    "to take it from")
        return None
    provider = _choice(p, f"{path}.provider", obj["provider"], DNS_PROVIDERS) if "provider" in obj \
        else inherited.provider  # type: ignore[union-attr]
    if provider is None:
        return None
    # An entry that names another provider takes nothing else of the section's: a zone of one service means
    # nothing to another.
    base = inherited if inherited is not None and inherited.provider == provider else None
    zone = _zone(p, path, obj, provider) if "zone" in obj else (base.zone if base else None)
    low, high = TTL_RANGE[provider]
    ttl = _whole_number(p, path, obj, "ttl", base.ttl if base else DEFAULT_TTL[provider], low, high, "seconds")
    dns_region = _region(p, path, obj, provider, base.region if base else region)
    spec = DnsSpec(provider=provider, zone=zone, ttl=ttl, region=dns_region,
                   propagation_timeout_seconds=_seconds(p, path, obj, "propagationTimeoutSeconds",
                                                        base.propagation_timeout_seconds if base else 120, 3600),
                   validation_timeout_seconds=_seconds(p, path, obj, "validationTimeoutSeconds",
                                                       base.validation_timeout_seconds if base else 300, 3600))
    return spec


def _zone(p: _Problems, path: str, obj: Mapping[str, Any], provider: str) -> str | None:
    if provider == "route53":
        return _text_field(p, path, obj, "zone", required=False, pattern=ROUTE53_ZONE_ID,
                           rule="must be a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ (upper-case "
                                "letters and digits, without /hostedzone/)")
    if provider == "huaweicloud":
        return _text_field(p, path, obj, "zone", required=False, pattern=HUAWEI_ZONE_ID,
                           rule="must be a Huawei Cloud DNS zone id (letters, digits and '-')")
    text = _text_field(p, path, obj, "zone", required=False)
    if text is None:
        return None
    zone = names.normalise(text)
    problem = names.dns_name_problem(zone)
    if problem or zone.startswith("*."):
        p.error(f"{path}.zone", f"must be the Alibaba Cloud DNS domain name, e.g. example.cn: "
                                f"{problem or 'not a wildcard'}")
        return None
    return zone


def _region(p: _Problems, path: str, obj: Mapping[str, Any], provider: str, default: str | None) -> str | None:
    if "region" in obj and provider != "huaweicloud":
        p.error(f"{path}.region", f"only for provider huaweicloud ({provider} needs no region)")
        return None
    if provider != "huaweicloud":
        return None
    if "region" not in obj:
        if default is None:
            p.error(f"{path}.region", "is required for provider huaweicloud (e.g. cn-north-4): Huawei Cloud DNS is "
                                      "reached through a regional endpoint")
        return default
    return _text_field(p, path, obj, "region", required=True, pattern=HUAWEI_REGION,
                       rule="must be a Huawei Cloud region such as cn-north-4")


def check_shared_names(p: _Problems, entries: Iterable[tuple[str, Iterable[str], DnsSpec | None]]) -> None:
    """Entries of a section whose names share a validation record (a wildcard and its apex, `*.x` and `x`) write
    it as one record: they must name the same place for it (`entries`: (config path, names, dns) of each)."""
    seen: dict[str, tuple[str, DnsSpec]] = {}
    for path, entry_names, spec in entries:
        if spec is None:
            continue
        for base in sorted({names.base_name(n) for n in entry_names}):
            first = seen.setdefault(base, (path, spec))
            where, what = (first[1].provider, first[1].zone, first[1].region, first[1].ttl), \
                (spec.provider, spec.zone, spec.region, spec.ttl)
            if first[0] != path and where != what:
                p.error(f"{path}.dns", f"'{base}' shares its validation record with {first[0]}, which writes it with "
                                       f"dns {first[1].describe()} (ttl {first[1].ttl}): entries sharing a record "
                                       f"must give it the same provider, zone, region and ttl")
