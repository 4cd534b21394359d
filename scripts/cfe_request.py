"""A CloudFront Extensions "import-create-ssl" request body -> the equivalent `certfleet:aws` config, with every
rule the original never checked reported (reference aws-cloudfront-extensions.md §3, §4, §7, §8).

Pure: no cloud calls, no files. `convert(request)` returns a Conversion: the `certfleet:aws` section (private keys
never in it), the keys to set as Pulumi secrets (entry name -> PEM text, kept out of every repr), and findings,
one sentence each, naming the request path they are about (`cnameList[1].sanList[2]: ...`).

How the request maps (docs/config-aws.md, "Seed 000, field by field"):
  acm_op create, cnameList[]      -> certificates.<name> {domain, sans}
  acm_op import, pemList[]        -> imports.<name> {certificate, chain}; privateKey as a secret (printed command)
  auto_creation "true"            -> distributions.<name> {template, templateVersion, certificate, aliases}
  dist_aggregate                  -> aggregate (only where CFE aggregated: create with auto_creation)
  enable_cname_check              -> cnameCheck: true (CFE never read the flag; certfleet checks anyway)
Entry names come from the domain (`*.a.example.com` -> `wildcard-a-example-com`), made unique by a `-2`, `-3`
suffix in request order, so the same request always converts to the same config.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any, Iterable

from components import names
from components.aws import aggregate, pem
from components.rules import RESOURCE_NAME_PATTERN

# CFE's documented limit of records per request (reference §7); certfleet has none (docs/scale.md).
CFE_MAX_ITEMS = 100
# ACM's default quota of names per requested certificate (certfleet warns above it) and its hard limit.
ACM_DEFAULT_NAMES = 10
ACM_MAX_NAMES = 100
DISTRIBUTION_ID = re.compile(r"E[A-Z0-9]{12,13}")
MAX_ENTRY_NAME = 63


@dataclass
class Conversion:
    """What a request converts to. `aws` is the `certfleet:aws` value; keys go only to `private_keys`."""

    aws: dict[str, Any]
    private_keys: dict[str, str] = field(default_factory=dict, repr=False)   # import entry -> key PEM
    findings: list[str] = field(default_factory=list)
    # entry name -> the request path it came from (for the adopt look-up's messages)
    sources: dict[str, str] = field(default_factory=dict)
    # certificates / imports entry -> every DNS name of its certificate (lower-case, sorted)
    entry_names: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def report(self, path: str, message: str) -> None:
        self.findings.append(f"{path}: {message}")


# --- reading the body ---------------------------------------------------------------------------------------

_TRAILING_COMMA = re.compile(r",(\s*[}\]])")


def parse_request(text: str) -> tuple[dict[str, Any], list[str]]:
    """The request body and findings about its text. CFE's own docs show bodies with trailing commas (seed 000),
    which no JSON parser (API Gateway's included) accepts: those are read anyway, and reported."""
    try:
        body = json.loads(text)
        findings: list[str] = []
    except json.JSONDecodeError:
        body = json.loads(_without_trailing_commas(text))   # still invalid: the caller says so
        findings = ["request: not valid JSON (a comma before '}' or ']', as in CloudFront Extensions' own examples); "
                    "read as if the commas were not there"]
    if not isinstance(body, dict):
        raise ValueError("the request body must be a JSON object")
    return body, findings


def _without_trailing_commas(text: str) -> str:
    """Drop each comma that directly precedes a closing bracket, outside strings."""
    out, in_string, escaped = [], False, False
    for i, char in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "," and re.match(r"\s*[}\]]", text[i + 1:]):
            continue
        out.append(char)
    return "".join(out)


def flag(body: dict[str, Any], key: str, default: bool, conversion: Conversion) -> bool:
    """CFE's flags are the strings "true"/"false" (reference §3.1); a real boolean is taken too."""
    value = body.get(key)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        if value != value.strip().lower():
            conversion.report(key, f"{value!r} taken as {value.strip().lower()} (CFE compares the exact text)")
        return value.strip().lower() == "true"
    conversion.report(key, f"{value!r} is neither \"true\" nor \"false\"; taken as {str(default).lower()}"
                           + (" (CFE answers 500 and makes no job)" if key == "auto_creation" else ""))
    return default


# --- entry names ------------------------------------------------------------------------------------------

def entry_name(domain: str) -> str:
    """A certfleet entry name (1-63 of a-z0-9-) for a domain: `*.` -> `wildcard-`, anything else -> `-`."""
    text = domain.strip().lower()
    if text.startswith("*."):
        text = "wildcard-" + text[2:]
    text = re.sub(r"[^a-z0-9]+", "-", text).strip("-") or "entry"
    if len(text) > MAX_ENTRY_NAME:
        digest = hashlib.sha256(text.encode()).hexdigest()[:8]
        text = text[:MAX_ENTRY_NAME - 9].rstrip("-") + "-" + digest
    return text


def unique_name(base: str, taken: set[str]) -> str:
    name, n = base, 1
    while name in taken:
        n += 1
        suffix = f"-{n}"
        name = base[:MAX_ENTRY_NAME - len(suffix)].rstrip("-") + suffix
    assert RESOURCE_NAME_PATTERN.fullmatch(name), name
    taken.add(name)
    return name


# --- names ------------------------------------------------------------------------------------------------

def clean_name(value: Any, path: str, conversion: Conversion) -> str | None:
    """The normalised DNS name, or None (reported) when certfleet would refuse it."""
    if not isinstance(value, str):
        conversion.report(path, f"must be a DNS name, got {type(value).__name__}; left out")
        return None
    name = names.normalise(value)
    if name != value.strip(" ") and name:
        conversion.report(path, f"'{value}' has upper-case letters: lower-cased to '{name}' (CFE sent it as written; "
                                f"its import path drops such names)")
    problem = names.dns_name_problem(name)
    if problem:
        conversion.report(path, f"{problem}; left out (CFE never checked)")
        return None
    return name


def clean_san_list(entry: dict[str, Any], path: str, conversion: Conversion) -> list[str]:
    """sanList normalised, in order, each name once (repeats reported)."""
    raw = entry.get("sanList")
    if raw is None:
        conversion.report(f"{path}.sanList", "missing (CFE's schema requires it)")
        return []
    if not isinstance(raw, list):
        conversion.report(f"{path}.sanList", f"must be a list of names, got {type(raw).__name__}; ignored")
        return []
    if not raw:
        conversion.report(f"{path}.sanList", "is empty: CFE's aggregation counts an empty list as covered by any "
                                             "wildcard and its distribution gets no aliases; certfleet uses "
                                             "domainName alone, and it is the distribution's alias")
    seen: dict[str, int] = {}
    out: list[str] = []
    for i, value in enumerate(raw):
        name = clean_name(value, f"{path}.sanList[{i}]", conversion)
        if name is None:
            continue
        if name in seen:
            conversion.report(f"{path}.sanList[{i}]", f"'{name}' repeats sanList[{seen[name]}]; taken once")
            continue
        seen[name] = i
        out.append(name)
    return out


# --- CFE's aggregation, as it ran (reference §4.3), to compare with certfleet's ----------------------------

def cfe_aggregation(entries: list[tuple[str, list[str]]]) -> dict[str, str]:
    """Entry -> the entry whose certificate CFE would have reused, walking in request order with its unanchored,
    unescaped regex `.*\\.<wildcard minus *.>` (re.match) over every SAN; an empty list matches vacuously."""
    wildcard_owner: dict[str, str] = {}
    reused: dict[str, str] = {}
    for name, sans in entries:
        wildcard = next((s for s in sans if s.startswith("*")), None)
        if wildcard is not None:
            wildcard_owner[wildcard] = name
            continue
        for w, owner in wildcard_owner.items():
            if all(re.match(r".*\." + w[2:], san) for san in sans):
                reused[name] = owner
                break
    return reused


def aggregation_differences(conversion: Conversion, raw_entries: list[tuple[str, list[str]]],
                            certificates: dict[str, dict[str, Any]]) -> None:
    """Report each entry CFE would have aggregated differently from certfleet (exact, order-independent)."""
    cfe = cfe_aggregation(raw_entries)
    ours = {r.entry: r.certificate for r in aggregate.reuses(
        aggregate.CertificateEntry(n, aggregate.REQUESTED, names.name_set(c["domain"], c.get("sans", [])))
        for n, c in certificates.items())}
    for name in sorted(set(cfe) | set(ours)):
        if cfe.get(name) == ours.get(name):
            continue
        where = conversion.sources.get(name, name)
        theirs = (f"CFE would have reused {cfe[name]}'s certificate (its unanchored regex matched, or the list "
                  f"was empty)" if name in cfe else "CFE would have requested its own certificate (a covering "
                                                    "wildcard entry came later in the list, or none matched)")
        mine = (f"certfleet reuses {ours[name]} (exact one-label coverage)" if name in ours
                else "certfleet requests its own certificate (no wildcard entry covers every name exactly)")
        conversion.report(where, f"aggregation differs for entry {name}: {theirs}; {mine}")


# --- distributions ----------------------------------------------------------------------------------------

def template_of(entry: dict[str, Any], path: str, conversion: Conversion, template_map: dict[str, str],
                kind: str) -> dict[str, Any] | None:
    """{template, templateVersion?} from existing_cf_info, or None (reported) when no distribution can be made."""
    info = entry.get("existing_cf_info")
    if not isinstance(info, dict) or not info.get("distribution_id"):
        conversion.report(f"{path}.existing_cf_info", "missing with auto_creation \"true\": CFE "
                          + ("fails the job with a KeyError after importing" if kind == "import" else
                             "fails the job after creating the certificates")
                          + "; no distribution entry written")
        return None
    template = str(info["distribution_id"]).strip()
    template = template_map.get(template, template)
    if not DISTRIBUTION_ID.fullmatch(template):
        conversion.report(f"{path}.existing_cf_info.distribution_id",
                          f"'{template}' is not a CloudFront distribution id (E and 12-13 upper-case letters or "
                          f"digits); no distribution entry written")
        return None
    out: dict[str, Any] = {"template": template}
    if "config_version_id" in info:
        version = template_version(info["config_version_id"], f"{path}.existing_cf_info.config_version_id",
                                   conversion)
        if version is not None:
            out["templateVersion"] = version
    return out


def template_version(value: Any, path: str, conversion: Conversion) -> str | None:
    """CFE's numeric versionId as certfleet's text (`"3"`), or None (reported): `""` crashed CFE after it had created
    the distribution (int('')), a non-number too; `0` names no version (they start at 1)."""
    text = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else None
    if text is None or not text.isdigit():
        shown = "\"\"" if value == "" else repr(value)
        conversion.report(path, f"{shown} is not a version number (CFE took the versioned path and crashed on int() "
                                f"after creating the distribution); left out: the live template is cloned")
        return None
    if int(text) == 0:
        conversion.report(path, "0 names no version (CFE's versions start at 1); left out: the live template is cloned")
        return None
    if text != str(int(text)) or not isinstance(value, str):
        conversion.report(path, f"{value!r} written as \"{int(text)}\" (numeric text, as certfleet's templateVersion)")
    return str(int(text))


# --- the conversion ---------------------------------------------------------------------------------------

def convert(body: dict[str, Any], template_map: dict[str, str] | None = None) -> Conversion:
    conversion = Conversion(aws={"region": "us-east-1"})
    template_map = template_map or {}
    op = body.get("acm_op")
    auto_creation = flag(body, "auto_creation", False, conversion)
    dist_aggregate = flag(body, "dist_aggregate", False, conversion)
    cname_check = flag(body, "enable_cname_check", False, conversion)
    cname_list = _list(body, "cnameList", conversion)
    pem_list = _list(body, "pemList", conversion)
    if "cnameList" not in body:
        conversion.report("cnameList", "missing: CFE's handler reads it first and fails without it (send [] on import)")
    if op not in ("create", "import"):
        guessed = "import" if pem_list and not cname_list else "create"
        conversion.report("acm_op", f"{op!r} is neither \"create\" nor \"import\" (CFE never checked; its workflow "
                                    f"stops at a Choice with no default); converted as {guessed}")
        op = guessed
    if not cname_check and "enable_cname_check" in body:
        conversion.report("enable_cname_check", "\"false\" not carried over: CFE never read it; certfleet refuses an "
                                                "alias another distribution serves at preview (cnameCheck: true)")
    items = cname_list if op == "create" else pem_list
    if len(items) > CFE_MAX_ITEMS:
        conversion.report("cnameList" if op == "create" else "pemList",
                          f"{len(items)} items: CFE's documented limit is {CFE_MAX_ITEMS} per request (its workflow is "
                          f"throttled and fails); certfleet takes them all in one stack")
    if op == "create" and pem_list:
        conversion.report("pemList", f"{len(pem_list)} item(s) ignored: acm_op is \"create\"")
    if op == "import" and cname_list:
        conversion.report("cnameList", f"{len(cname_list)} item(s) ignored: acm_op is \"import\" (the certificate's "
                                       f"names are the entry's names)")
    taken: set[str] = set()
    claimed: dict[str, str] = {}   # DNS name -> request path of the entry that has it
    distributions: dict[str, Any] = {}
    if op == "create":
        certificates, raw_entries = {}, []
        for i, entry in enumerate(cname_list):
            _create_entry(conversion, i, entry, auto_creation, template_map, taken, claimed, certificates,
                          distributions, raw_entries)
        if certificates:
            conversion.aws["certificates"] = certificates
        if dist_aggregate and not auto_creation:
            conversion.report("dist_aggregate", "\"true\" without auto_creation: CFE did not aggregate then; "
                                                "aggregate: false")
        elif dist_aggregate:
            aggregation_differences(conversion, raw_entries, certificates)
        conversion.aws["aggregate"] = dist_aggregate and auto_creation
    else:
        imports: dict[str, Any] = {}
        for i, entry in enumerate(pem_list):
            _import_entry(conversion, i, entry, auto_creation, template_map, taken, claimed, imports, distributions)
        if imports:
            conversion.aws["imports"] = imports
        if dist_aggregate:
            conversion.report("dist_aggregate", "ignored on import by CFE; aggregate: false")
        conversion.aws["aggregate"] = False
    conversion.aws["cnameCheck"] = True
    if distributions:
        conversion.aws["distributions"] = distributions
        if any("templateVersion" in d for d in distributions.values()):
            conversion.report("existing_cf_info.config_version_id",
                              "CFE's version ids point into its config-version store: add versionStore: {table: "
                              "<its Version table>} to clone those versions; without it templateVersion is a label "
                              "for a snapshot of the live template")
        conversion.report("auto_creation", "certfleet never copies the template's aliases, certificate, comment, "
                                           "enabled state or logging (CFE copied comment, enabled and WebACL); "
                                           "comment defaults to 'certfleet <project>/<stack>/<name>'")
    return conversion


def _list(body: dict[str, Any], key: str, conversion: Conversion) -> list[Any]:
    value = body.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        conversion.report(key, f"must be a list, got {type(value).__name__}; ignored")
        return []
    return value


def _claim(conversion: Conversion, path: str, name: str, claimed: dict[str, str]) -> bool:
    """One DNS name belongs to one certificate of a stack (and one distribution): a later claim is reported."""
    if name in claimed:
        conversion.report(path, f"'{name}' is already in {claimed[name]}: a name belongs to one certificate and one "
                                f"distribution (CFE made both and the second distribution failed with "
                                f"CNAMEAlreadyExists); left out here")
        return False
    claimed[name] = path
    return True


def _origins_dropped(conversion: Conversion, entry: dict[str, Any], path: str) -> None:
    if "originsItemsDomainName" in entry:
        conversion.report(f"{path}.originsItemsDomainName", "dropped: CFE stored it and never used it; a distribution's "
                                                           "origins come from its template")


def _create_entry(conversion: Conversion, i: int, entry: Any, auto_creation: bool, template_map: dict[str, str],
                  taken: set[str], claimed: dict[str, str], certificates: dict[str, Any],
                  distributions: dict[str, Any], raw_entries: list[tuple[str, list[str]]]) -> None:
    path = f"cnameList[{i}]"
    if not isinstance(entry, dict):
        conversion.report(path, f"must be an object, got {type(entry).__name__}; left out")
        return
    _origins_dropped(conversion, entry, path)
    domain = clean_name(entry.get("domainName"), f"{path}.domainName", conversion)
    sans = clean_san_list(entry, path, conversion)
    if domain is None:
        conversion.report(path, "no usable domainName: no certificate entry written")
        return
    if domain in claimed:
        conversion.report(f"{path}.domainName", f"'{domain}' is already the name of {claimed[domain]} (CFE's metadata "
                                                f"rows collide on it and the second bind fails); entry left out")
        return
    claimed[domain] = path
    own = [s for s in sans if s == domain or _claim(conversion, f"{path}.sanList[{_index(entry, s)}]", s, claimed)]
    all_names = names.name_set(domain, own)
    if len(all_names) > ACM_MAX_NAMES:
        conversion.report(path, f"{len(all_names)} names: ACM's hard limit is {ACM_MAX_NAMES} per certificate; "
                                f"entry left out (split it)")
        return
    if len(all_names) > ACM_DEFAULT_NAMES:
        conversion.report(path, f"{len(all_names)} names: above ACM's default quota of {ACM_DEFAULT_NAMES} per "
                                f"certificate; the request fails unless the account's quota was raised (CFE never "
                                f"checked)")
    name = unique_name(entry_name(domain), taken)
    conversion.sources[name] = path
    certificate: dict[str, Any] = {"domain": domain}
    extra = [s for s in own if s != domain]
    if extra:
        certificate["sans"] = extra
    certificates[name] = certificate
    conversion.entry_names[name] = all_names
    raw_entries.append((name, [names.normalise(s) for s in (entry.get("sanList") or []) if isinstance(s, str)]))
    if domain not in sans and sans:
        conversion.report(f"{path}.sanList", f"does not list domainName '{domain}': ACM adds it to the certificate; "
                                             f"the distribution's aliases stay the sanList, as CFE bound them")
    if auto_creation:
        template = template_of(entry, path, conversion, template_map, "create")
        if template is not None:
            distribution = {**template, "certificate": name}
            if sans and set(own) != set(all_names):
                distribution["aliases"] = sorted(own)
            distributions[name] = distribution


def _index(entry: dict[str, Any], name: str) -> int:
    for i, value in enumerate(entry.get("sanList") or []):
        if isinstance(value, str) and names.normalise(value) == name:
            return i
    return 0


def cfe_import_names(cert_names: Iterable[str]) -> list[str]:
    """The names CFE's import path keeps (`is_valid_domain`, reference §7): at least two dots, no upper case."""
    return [n for n in cert_names if n.count(".") >= 2 and re.fullmatch(r"(\*\.)?[a-z0-9.-]+", n)]


def _import_entry(conversion: Conversion, i: int, entry: Any, auto_creation: bool, template_map: dict[str, str],
                  taken: set[str], claimed: dict[str, str], imports: dict[str, Any],
                  distributions: dict[str, Any]) -> None:
    path = f"pemList[{i}]"
    if not isinstance(entry, dict):
        conversion.report(path, f"must be an object, got {type(entry).__name__}; left out")
        return
    _origins_dropped(conversion, entry, path)
    try:
        facts = pem.certificate_facts(str(entry.get("CertPem") or ""))
    except ValueError as err:
        conversion.report(f"{path}.CertPem", f"{err}; entry left out")
        return
    key = entry.get("PrivateKeyPem")
    if not isinstance(key, str) or "PRIVATE KEY" not in key:
        conversion.report(f"{path}.PrivateKeyPem", "missing or not a PEM private key; entry left out")
        return
    chain = entry.get("ChainPem")
    if isinstance(chain, str) and re.search(r"-----BEGIN [A-Z ]*PRIVATE KEY-----", chain):
        # Written as plain text into the stack file, a key here would be exposed: refuse the entry.
        conversion.report(f"{path}.ChainPem", "holds a private key (a chain holds certificates only); entry left out: "
                                              "treat that key as exposed wherever the request was stored")
        return
    if not isinstance(chain, (str, type(None))):
        conversion.report(f"{path}.ChainPem", f"must be PEM text, got {type(chain).__name__}; entry left out")
        return
    if not chain:
        conversion.report(f"{path}.ChainPem", "missing: CFE's schema requires it; certfleet accepts no chain only "
                                              "for a self-signed certificate")
    for n in facts.names:
        if n in claimed:
            conversion.report(f"{path}.CertPem", f"'{n}' is also a name of {claimed[n]}: a name belongs to one "
                                                 f"certificate of a stack; entry left out")
            return
    for n in facts.names:
        claimed[n] = path
    kept_by_cfe = cfe_import_names(facts.names)
    if set(kept_by_cfe) != set(facts.names):
        dropped = sorted(set(facts.names) - set(kept_by_cfe))
        conversion.report(f"{path}.CertPem", f"CFE dropped {', '.join(dropped)} from the names it served (apex or "
                                             f"upper-case names); certfleet keeps every name of the certificate")
    if facts.domain.startswith("*.") and auto_creation:
        conversion.report(f"{path}.CertPem", f"first name '{facts.domain}' is a wildcard: CFE never bound such an import "
                                             f"to its distribution (it looked up the name without '*.')")
    name = unique_name(entry_name(facts.domain), taken)
    conversion.sources[name] = path
    imports[name] = {"certificate": _block_text(entry["CertPem"]), "chain": _block_text(chain or "")}
    conversion.private_keys[name] = key if key.endswith("\n") else key + "\n"
    conversion.entry_names[name] = facts.names
    if auto_creation:
        template = template_of(entry, path, conversion, template_map, "import")
        if template is not None:
            distributions[name] = {**template, "certificate": name}


def _block_text(text: str) -> str:
    """PEM text as a YAML block: one trailing newline."""
    return text.strip() + "\n" if text.strip() else ""
