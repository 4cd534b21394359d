"""Seed 000's example requests, and a CloudFront Extensions "job", for trying the converter on the local servers.

    python -m scripts.cfe_examples write DIR                      # the five example requests as DIR/*.json
    python -m scripts.cfe_examples job JOB_ID --template ID       # what CFE's job makes, on a LOOPBACK endpoint

`write`: the requests of CloudFront Extensions' API docs (seed 000) as the docs have them (upper-case names, a
repeated SAN), except that they are valid JSON (the docs' have trailing commas) and the import examples carry a
real certificate, chain and key made here by a throwaway CA (the docs' are XXXX placeholders). Nothing here is a
credential: the keys belong to certificates no one trusts.

`job`: does with boto3 what CFE's workflow does for the first example (reference aws-cloudfront-extensions.md §5,
§6.3): request the certificate (tag job_token=JOB_ID), clone the template (tagged too), bind them once issued. It
refuses any endpoint but loopback (AWS_ENDPOINT_URL): it is for the AWS emulator only.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.parse
from datetime import datetime, timezone
from pathlib import Path

TEMPLATE = "E195R1W5GIVPF5"
IMPORT_TEMPLATE = "E1DACGTRXKKWCH"


def _cname(domain: str, sans: list[str], version: str | None = None) -> dict:
    info = {"distribution_id": TEMPLATE, **({"config_version_id": version} if version is not None else {})}
    return {"domainName": domain, "sanList": sans, "existing_cf_info": info}


def _pem_items(count: int) -> list[dict]:
    from tests import pki
    authority = pki.Pki.make(slot=50, now=datetime.now(timezone.utc))
    items = []
    for i in range(count):
        cert, key = authority.leaf([f"www.site{i + 1}.example.com", f"site{i + 1}.example.com"], slot=50 + i)
        items.append({"CertPem": cert, "PrivateKeyPem": key, "ChainPem": authority.chain_pem(),
                      "existing_cf_info": {"distribution_id": IMPORT_TEMPLATE}})
    return items


def requests() -> dict[str, dict]:
    create = {"acm_op": "create", "auto_creation": "true"}
    imports = {"acm_op": "import", "auto_creation": "true", "dist_aggregate": "false", "enable_cname_check": "false",
               "cnameList": []}
    return {
        "1-create-from-version": {**create, "cnameList": [
            _cname("YOURDOMAINNAME.COM", ["YOURDOMAINNAME.COM", "YOURDOMAINNAMEALIAS1.COM"], "1")]},
        "2-create": {**create, "cnameList": [
            _cname("YOURDOMAINNAME.COM", ["YOURDOMAINNAME.COM", "YOURDOMAINNAMEALIAS1.COM"])]},
        "3-create-two": {**create, "cnameList": [
            _cname("YOURDOMAINNAME1.COM", ["YOURDOMAINNAME1.COM", "YOURDOMAINNAME1ALIAS1.COM",
                                           "YOURDOMAINNAME1ALIAS2.COM"]),
            _cname("YOURDOMAINNAME2.COM", ["YOURDOMAINNAME2.COM", "YOURDOMAINNAME2ALIAS1.COM",
                                           "YOURDOMAINNAME2ALIAS1.COM"])]},
        "4-import": {**imports, "pemList": _pem_items(1)},
        "5-import-two": {**imports, "pemList": _pem_items(2)},
    }


def write(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, body in requests().items():
        (directory / f"{name}.json").write_text(json.dumps(body, indent=2) + "\n")
        print(directory / f"{name}.json")


def make_job(job_id: str, template: str, domain: str, sans: list[str]) -> None:
    import boto3
    endpoint = os.environ.get("AWS_ENDPOINT_URL", "")
    if urllib.parse.urlparse(endpoint).hostname not in ("127.0.0.1", "localhost", "::1"):
        sys.exit("cfe_examples job: AWS_ENDPOINT_URL must be a loopback emulator (python scripts/local_servers.py "
                 "start prints it); this never runs against real AWS")
    acm = boto3.client("acm", region_name="us-east-1")
    cloudfront = boto3.client("cloudfront", region_name="us-east-1")
    tag = [{"Key": "job_token", "Value": job_id}]
    arn = acm.request_certificate(DomainName=domain, SubjectAlternativeNames=sans, ValidationMethod="DNS",
                                  Tags=[{"Key": "issuer", "Value": domain}, *tag])["CertificateArn"]
    config = cloudfront.get_distribution_config(Id=template)["DistributionConfig"]
    clone = cloudfront.create_distribution_with_tags(DistributionConfigWithTags={
        "DistributionConfig": {**config, "CallerReference": f"{job_id}-{domain}",
                               "Aliases": {"Quantity": 0}, "Comment": config.get("Comment", "")},
        "Tags": {"Items": tag}})["Distribution"]["Id"]
    print(f"certificate {arn}\ndistribution {clone} (cloned from {template})")
    deadline = time.monotonic() + 120
    while acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"] != "ISSUED":
        if time.monotonic() > deadline:
            print("the certificate is not issued yet (publish its DNS record: scripts/local.sh publish); the "
                  "distribution stays unbound, as CFE leaves it while it waits")
            return
        time.sleep(2)
    answer = cloudfront.get_distribution_config(Id=clone)
    config = answer["DistributionConfig"]
    config["Aliases"] = {"Quantity": len(sans), "Items": sans}
    config["ViewerCertificate"] = {"ACMCertificateArn": arn, "SSLSupportMethod": "sni-only",
                                   "MinimumProtocolVersion": "TLSv1.2_2021"}
    cloudfront.update_distribution(Id=clone, IfMatch=answer["ETag"], DistributionConfig=config)
    print(f"bound: {clone} serves {', '.join(sans)} with {arn}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m scripts.cfe_examples", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    write_parser = commands.add_parser("write", help="write the seed's five example requests")
    write_parser.add_argument("directory", type=Path)
    job_parser = commands.add_parser("job", help="make what a CFE job makes, on the AWS emulator")
    job_parser.add_argument("job_id")
    job_parser.add_argument("--template", required=True, help="the distribution to clone")
    job_parser.add_argument("--domain", default="yourdomainname.com")
    job_parser.add_argument("--san", action="append", help="default: the domain and yourdomainnamealias1.com")
    args = parser.parse_args()
    if args.command == "write":
        write(args.directory)
    else:
        make_job(args.job_id, args.template, args.domain, args.san or [args.domain, "yourdomainnamealias1.com"])


if __name__ == "__main__":
    main()
