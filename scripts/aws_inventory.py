"""What an AWS account holds that certfleet can adopt: ACM certificates and CloudFront distributions, read-only.

Used by scripts/candidates.py (everything, with its certfleet owner) and scripts/convert_cfe.py --adopt (what one
CloudFront Extensions job made, found by its `job_token` tag). Credentials and endpoint as the providers read
them: boto3's standard chain and AWS_ENDPOINT_URL (components/aws/clients.py, which also paces the calls).
ACM is listed with every key type and followed page by page (reference aws-cloudfront-extensions.md §8 defect 9:
CFE's unpaginated default listing never saw EC or RSA >= 3072 certificates).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import botocore.exceptions

from components.aws import clients
from components.aws.acm import ALL_KEY_TYPES, RESOURCE_TAG

REGION = "us-east-1"   # CloudFront serves ACM certificates from us-east-1 only; CFE used it for everything
JOB_TAG = "job_token"  # CFE's tag on every certificate and distribution of a job (reference §2, §6.3)


@dataclass(frozen=True)
class AcmCertificate:
    arn: str
    domain: str
    names: tuple[str, ...]        # lower-case, sorted: DomainName and SANs
    type: str                     # AMAZON_ISSUED | IMPORTED | PRIVATE
    status: str
    not_after: datetime | None
    key_algorithm: str
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def owner(self) -> str | None:
        return self.tags.get(RESOURCE_TAG)


@dataclass(frozen=True)
class Distribution:
    id: str
    arn: str
    domain_name: str
    aliases: tuple[str, ...]      # lower-case, sorted
    status: str
    certificate_arn: str | None
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def owner(self) -> str | None:
        return self.tags.get(RESOURCE_TAG)


def available() -> bool:
    """Does boto3 find credentials (env, profile, role)? Without, a listing is skipped, not failed."""
    import boto3
    return boto3.session.Session().get_credentials() is not None


# --- ACM ----------------------------------------------------------------------------------------------------

def certificate_arns(region: str = REGION) -> list[str]:
    acm = clients.client("acm", region)
    arns: list[str] = []
    for page in acm.get_paginator("list_certificates").paginate(Includes={"keyTypes": ALL_KEY_TYPES}):
        arns += [c["CertificateArn"] for c in page.get("CertificateSummaryList", [])]
    return arns


def describe_certificate(arn: str, region: str = REGION) -> AcmCertificate:
    acm = clients.client("acm", region)
    c = acm.describe_certificate(CertificateArn=arn)["Certificate"]
    tags = {t["Key"]: t.get("Value", "") for t in acm.list_tags_for_certificate(CertificateArn=arn).get("Tags", [])}
    names = {c.get("DomainName", "").lower(), *(n.lower() for n in c.get("SubjectAlternativeNames") or [])} - {""}
    return AcmCertificate(arn=arn, domain=c.get("DomainName", "").lower(), names=tuple(sorted(names)),
                          type=c.get("Type", ""), status=c.get("Status", ""), not_after=c.get("NotAfter"),
                          key_algorithm=c.get("KeyAlgorithm", ""), tags=tags)


def certificates(region: str = REGION) -> list[AcmCertificate]:
    return [describe_certificate(arn, region) for arn in certificate_arns(region)]


def certificate_pems(arn: str, region: str = REGION) -> tuple[str, str]:
    """(certificate, chain) PEM text of an ACM certificate (public data; ACM never returns an imported key)."""
    answer = clients.client("acm", region).get_certificate(CertificateArn=arn)
    return answer.get("Certificate", ""), answer.get("CertificateChain", "")


# --- CloudFront ---------------------------------------------------------------------------------------------

def _distribution(summary: dict[str, Any], tags: dict[str, str]) -> Distribution:
    viewer = summary.get("ViewerCertificate") or {}
    return Distribution(id=summary["Id"], arn=summary["ARN"], domain_name=summary.get("DomainName", ""),
                        aliases=tuple(sorted(a.lower() for a in (summary.get("Aliases") or {}).get("Items") or [])),
                        status=summary.get("Status", ""), certificate_arn=viewer.get("ACMCertificateArn"), tags=tags)


def _tags_of(arn: str) -> dict[str, str]:
    items = clients.client("cloudfront", REGION).list_tags_for_resource(Resource=arn).get("Tags", {}).get("Items")
    return {t["Key"]: t.get("Value", "") for t in items or []}


def distributions() -> list[Distribution]:
    cloudfront = clients.client("cloudfront", REGION)
    out: list[Distribution] = []
    for page in cloudfront.get_paginator("list_distributions").paginate():
        for summary in (page.get("DistributionList") or {}).get("Items") or []:
            out.append(_distribution(summary, _tags_of(summary["ARN"])))
    return out


def distribution(distribution_id: str) -> Distribution:
    answer = clients.client("cloudfront", REGION).get_distribution(Id=distribution_id)["Distribution"]
    config = answer["DistributionConfig"]
    return _distribution({**config, "Id": answer["Id"], "ARN": answer["ARN"], "DomainName": answer.get("DomainName"),
                          "Status": answer.get("Status")}, _tags_of(answer["ARN"]))


# --- one CloudFront Extensions job --------------------------------------------------------------------------

def tagged_arns(key: str, value: str) -> list[str] | None:
    """ARNs of ACM certificates and CloudFront distributions tagged key=value, through tag:GetResources (one
    call per page); None when the tagging API is not allowed or not there (the caller lists instead)."""
    tagging = clients.client("resourcegroupstaggingapi", REGION)
    arns: list[str] = []
    try:
        for page in tagging.get_paginator("get_resources").paginate(
                TagFilters=[{"Key": key, "Values": [value]}],
                ResourceTypeFilters=["acm:certificate", "cloudfront:distribution"]):
            arns += [r["ResourceARN"] for r in page.get("ResourceTagMappingList", [])]
    except botocore.exceptions.ClientError:
        return None
    return arns


def job_objects(job_id: str) -> tuple[list[AcmCertificate], list[Distribution]]:
    """What a CFE job made: its certificates and distributions, found by the tag job_token=<job id>. The tag
    index is asked first; when it is not usable or shows nothing (it can lag), ACM and CloudFront are listed."""
    arns = tagged_arns(JOB_TAG, job_id) or []
    certs = [describe_certificate(a) for a in arns if ":acm:" in a]
    dists = [distribution(a.rsplit("/", 1)[-1]) for a in arns if ":cloudfront:" in a]
    if not arns:
        certs = [c for c in certificates() if c.tags.get(JOB_TAG) == job_id]
        dists = [d for d in distributions() if d.tags.get(JOB_TAG) == job_id]
    return certs, dists

