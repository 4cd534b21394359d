"""List what already exists in the accounts, who owns it, and the config entries that would adopt the rest.

    python -m scripts.candidates [--cloud aws|alicloud|huaweicloud ...] [--stack NAME] [--region R]

Per cloud, read-only:
  aws          ACM certificates (us-east-1, every key type, every page) and CloudFront distributions; owner from
               the tag certfleet:resource (<project>/<stack>/<entry>)
  alicloud     CAS orders (ListUserCertificateOrder, resource-plan orders, every page); CAS keeps no owner mark,
               so with --stack the stack's outputs say which entry holds an order
  huaweicloud  SCM certificates (ListCertificates, every page); owner from the SCM tag certfleet-resource
Then, for everything no certfleet entry owns, the `config:` YAML that adopts it (`adopt: <id>`), ready to paste
into stacks/Pulumi.<stack>.yaml; what the listing cannot know (an imported certificate's private key, an SCM
applicant) is said in a comment beside it.

Credentials and endpoints are read exactly as the providers read them (boto3's chain and AWS_ENDPOINT_URL;
ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET and CERTFLEET_ALICLOUD_CAS_ENDPOINT/_PROTOCOL; HUAWEICLOUD_SDK_AK/SK/DOMAIN_ID
and CERTFLEET_HUAWEICLOUD_SCM_ENDPOINT). A cloud without credentials is skipped with a note. Nothing secret is
ever printed: no key, no credential.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, TextIO

from scripts.cfe_request import entry_name, unique_name
from scripts.convert_cfe import dump_yaml

CLOUDS = ("aws", "alicloud", "huaweicloud")


class Skipped(Exception):
    """A cloud that cannot be listed here (no credentials, endpoint down): a note, not a failure."""


@dataclass
class Candidate:
    cloud: str
    section: str                 # the config section that would hold it: certificates, imports, distributions, orders
    id: str                      # what `adopt:` takes
    names: tuple[str, ...]
    status: str
    expiry: str                  # ISO date or ""
    owner: str | None            # the certfleet resource that owns it, or None
    entry: dict[str, Any] = field(default_factory=dict)   # the config entry that would adopt it (adopt added later)
    note: str = ""               # what the entry still needs
    certificate_id: str | None = None   # a distribution's certificate (ARN): its entry is named in adopt_config


def _date(value: Any) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, (int, float)) and value > 0:   # CAS and SCM give epoch milliseconds
        return datetime.utcfromtimestamp(value / 1000).date().isoformat()
    return str(value or "")


# --- AWS ----------------------------------------------------------------------------------------------------

def aws_candidates(region: str | None, owners: dict[str, str]) -> list[Candidate]:
    from scripts import aws_inventory
    if not aws_inventory.available():
        raise Skipped("no AWS credentials (AWS_ACCESS_KEY_ID / AWS_PROFILE / a role)")
    found: list[Candidate] = []
    for c in aws_inventory.certificates(region or aws_inventory.REGION):
        owner = c.owner or owners.get(c.arn)
        if c.type == "IMPORTED":
            certificate, chain = aws_inventory.certificate_pems(c.arn, region or aws_inventory.REGION)
            entry = {"certificate": certificate.strip() + "\n", "chain": chain.strip() + "\n" if chain else ""}
            note = "privateKey: pulumi config set --secret --path 'certfleet:aws.imports.<name>.privateKey' < key.pem"
            section = "imports"
        else:
            entry = {"domain": c.domain, **({"sans": [n for n in c.names if n != c.domain]}
                                            if len(c.names) > 1 else {})}
            algorithm = c.key_algorithm.replace("-", "_")   # ACM says RSA-2048, the config RSA_2048
            note, section = "", "certificates"
            if algorithm in ("EC_prime256v1", "EC_secp384r1"):
                entry["keyAlgorithm"] = algorithm
            elif algorithm != "RSA_2048":
                note = f"its key is {c.key_algorithm}; a requested certificate is RSA_2048, EC_prime256v1 or EC_secp384r1"
            if c.type == "PRIVATE":
                note = "issued by a private CA: certfleet requests public certificates only"
        found.append(Candidate("aws", section, c.arn, c.names, c.status, _date(c.not_after), owner, entry, note))
    for d in aws_inventory.distributions():
        entry = {"template": d.id, **({"aliases": list(d.aliases)} if d.aliases else {})}
        note = "template is itself: its own config is what a replacement would clone"
        if not d.certificate_arn:
            note += "; it serves CloudFront's default certificate: name a certificate entry"
        found.append(Candidate("aws", "distributions", d.id, d.aliases, d.status, "", d.owner or owners.get(d.id),
                               entry, note, certificate_id=d.certificate_arn))
    return found


# --- Alibaba Cloud CAS --------------------------------------------------------------------------------------

def alicloud_candidates(region: str | None, owners: dict[str, str]) -> list[Candidate]:
    from components import keys
    from components.alicloud import client as cas_api
    from components.alicloud.candidates import ISSUED_ORDER_STATUSES, listed_names
    from components.alicloud.purchase import each_listed_order
    from components.dynamic import Clock
    from components.errors import CertfleetError
    from alibabacloud_cas20200407 import models
    if not cas_api.Config.available():
        raise Skipped(f"no {cas_api.ENV_ACCESS_KEY_ID} / {cas_api.ENV_ACCESS_KEY_SECRET}")
    try:
        cas = cas_api.cas_client()
    except CertfleetError as err:
        raise Skipped(str(err)) from None
    found: list[Candidate] = []
    for item in each_listed_order(cas, None, "candidates", Clock):
        order_id = str(item.order_id)
        # CAS may list only an order's primary name: an issued order's names come from its certificate.
        domains = listed_names(item.domain or item.common_name)
        note = ""
        if item.status in ISSUED_ORDER_STATUSES:
            state = cas_api.call("DescribeCertificateState", "candidates", lambda: cas.describe_certificate_state(
                models.DescribeCertificateStateRequest(order_id=item.order_id))).body
            if state.certificate:
                try:
                    domains = keys.certificate_names(state.certificate)[1] or domains
                except ValueError:  # one bad certificate must not stop the listing
                    note = (f"its certificate does not parse: `domains` are the {len(domains)} name(s) CAS lists; "
                            f"check the others in the console")
        elif item.domain_count and item.domain_count > len(domains):
            note = (f"CAS lists {len(domains)} of its {item.domain_count} names: add the others to `domains` "
                    f"(CN first) from the order in the console")
        entry = {"productCode": item.product_code, **({"domains": domains} if domains else {})}
        found.append(Candidate("alicloud", "orders", order_id, tuple(domains), item.status or "",
                               _date(item.cert_end_time), owners.get(order_id), entry, note))
    return found


# --- Huawei Cloud SCM ---------------------------------------------------------------------------------------

def huaweicloud_candidates(region: str | None, owners: dict[str, str]) -> list[Candidate]:
    from components.errors import CertfleetError
    from components.huaweicloud import client as scm_api
    from components.huaweicloud.scm import RESOURCE_TAG
    from huaweicloudsdkscm.v3 import model
    region = region or "cn-north-4"
    try:
        client = scm_api.scm_client(region)
    except CertfleetError as err:
        raise Skipped(str(err)) from None
    found: list[Candidate] = []
    offset = 0
    while True:
        answer = scm_api.call("ListCertificates", "candidates", lambda: client.list_certificates(
            model.ListCertificatesRequest(limit=50, offset=offset, status="ALL")))
        certificates = answer.certificates or []
        for c in certificates:
            tags = {t.key: t.value for t in scm_api.call("ListTagsByCertificate", "candidates", lambda: (
                client.list_tags_by_certificate(model.ListTagsByCertificateRequest(resource_id=c.id)))).tags or []}
            domains = [d for d in [c.domain, *(c.sans or "").split(",")] if d]
            domains = list(dict.fromkeys(d.strip().lower() for d in domains if d.strip()))
            entry = {"brand": c.brand, "type": c.type, "domainType": c.domain_type,
                     **({"domains": domains} if domains else {})}
            found.append(Candidate("huaweicloud", "certificates", c.id, tuple(domains), c.status or "",
                                   _date(c.expire_time), tags.get(RESOURCE_TAG) or owners.get(c.id), entry,
                                   "add applicant (and company for OV/EV) as for any SCM entry"))
        offset += len(certificates)
        if not certificates or offset >= (answer.total_count or 0):
            return found


LISTERS: dict[str, Callable[[str | None, dict[str, str]], list[Candidate]]] = {
    "aws": aws_candidates, "alicloud": alicloud_candidates, "huaweicloud": huaweicloud_candidates}


# --- a stack's own view (CAS has no owner mark) ------------------------------------------------------------

def stack_owners(stack: str) -> dict[str, str]:
    """id -> "<stack>: <section>.<entry>" for every object the stack's outputs name (`pulumi stack output`; secrets
    stay masked)."""
    try:
        result = subprocess.run(["pulumi", "stack", "output", "--json", "--stack", stack], capture_output=True,
                                text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise Skipped(f"cannot read the outputs of stack {stack}: {err}") from None
    if result.returncode != 0:
        raise Skipped(f"cannot read the outputs of stack {stack}: {result.stderr.strip().splitlines()[-1:]}")
    return owners_from_outputs(stack, json.loads(result.stdout or "{}"))


def owners_from_outputs(stack: str, outputs: dict[str, Any]) -> dict[str, str]:
    owners: dict[str, str] = {}
    id_keys = ("arn", "certificate_arn", "id", "distribution_id", "order_id", "certificate_id")
    for cloud, sections in outputs.items():
        for section, entries in (sections or {}).items() if isinstance(sections, dict) else ():
            for name, values in (entries or {}).items() if isinstance(entries, dict) else ():
                if not isinstance(values, dict):
                    continue
                for key in id_keys:
                    if key == "certificate_arn" and section == "distributions":
                        continue   # a distribution's certificate belongs to the certificate entry
                    if values.get(key) not in (None, ""):
                        owners.setdefault(str(values[key]), f"{stack}: {cloud}.{section}.{name}")
    return owners


# --- output -------------------------------------------------------------------------------------------------

def table(candidates: list[Candidate]) -> list[str]:
    lines = []
    for c in candidates:
        owner = c.owner or ("none known (CAS orders carry no owner mark: --stack NAME)" if c.cloud == "alicloud"
                            else "none")
        names = ", ".join(c.names[:4]) + (f" (+{len(c.names) - 4})" if len(c.names) > 4 else "")
        lines.append(f"{c.cloud:<12} {c.section:<13} {c.id}  names: {names or '-'}  status: {c.status or '-'}  "
                     f"expires: {c.expiry or '-'}  owner: {owner}")
    return lines


def adopt_config(candidates: list[Candidate]) -> tuple[dict[str, Any], list[str]]:
    """The `config:` mapping that adopts every unowned candidate, and the notes (entry path: what it needs)."""
    config: dict[str, Any] = {}
    notes: list[str] = []
    taken: dict[str, set[str]] = {}
    # Entry names of the certificates, for the distributions that name theirs: an owned one by its owner's name.
    entry_of = {c.id: c.owner.rsplit("/", 1)[-1].rsplit(".", 1)[-1] for c in candidates if c.owner}
    for c in sorted(candidates, key=lambda c: c.section == "distributions"):
        if c.owner:
            continue
        if c.certificate_id:
            c.entry["certificate"] = entry_of.get(c.certificate_id, c.certificate_id)
            if c.certificate_id not in entry_of:
                c.note += f"; its certificate {c.certificate_id} is not listed: name its entry"
        base = entry_name(c.names[0] if c.names else f"{c.section.rstrip('s')}-{c.id}")
        # A distribution may share its entry name with a certificate; imports and certificates may not.
        pool = "distributions" if c.section == "distributions" else c.section if c.cloud != "aws" else "aws-certs"
        name = unique_name(base, taken.setdefault(f"{c.cloud}/{pool}", set()))
        section = config.setdefault(f"certfleet:{c.cloud}", {}).setdefault(c.section, {})
        section[name] = {**c.entry, "adopt": c.id}
        entry_of[c.id] = name
        if c.note:
            notes.append(f"certfleet:{c.cloud}.{c.section}.{name}: {c.note.replace('<name>', name)}")
    return {"config": config} if config else {}, notes


def run(argv: list[str], out: TextIO, err: TextIO) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.candidates", description=__doc__.split("\n\n")[0])
    parser.add_argument("--cloud", action="append", choices=CLOUDS, help="repeat for several (default: all)")
    parser.add_argument("--stack", help="also name the entries of this stack's outputs as owners (CAS needs it)")
    parser.add_argument("--region", help="ACM region (default us-east-1) or SCM region (default cn-north-4)")
    args = parser.parse_args(argv)
    owners: dict[str, str] = {}
    if args.stack:
        try:
            owners = stack_owners(args.stack)
        except Skipped as note:
            print(f"note: {note}", file=err)
    everything: list[Candidate] = []
    for cloud in args.cloud or CLOUDS:
        try:
            found = LISTERS[cloud](args.region, owners)
        except Skipped as note:
            print(f"{cloud}: skipped: {note}", file=err)
            continue
        print(f"# {cloud}: {len(found)} found, {sum(1 for c in found if not c.owner)} not owned by certfleet",
              file=out)
        for line in table(found):
            print(f"# {line}", file=out)
        everything += found
    document, notes = adopt_config(everything)
    if document:
        print("# config entries that adopt what no certfleet entry owns (paste into stacks/Pulumi.<stack>.yaml):",
              file=out)
        for note in notes:
            print(f"#   {note}", file=out)
        out.write(dump_yaml(document))
    return 0


def main() -> None:
    sys.exit(run(sys.argv[1:], sys.stdout, sys.stderr))


if __name__ == "__main__":
    main()
