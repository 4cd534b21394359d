"""The web team's own Pulumi program: certfleet's components get the certificates, pulumi_aws and pulumi_alicloud
do the rest (docs/composition.md).

- certfleet requests the ACM certificate for the shop (AwsCertificates) and orders a CAS certificate for the docs
  site (AlicloudOrders). Both are built from a config model made here in code with `load_fleet`, which applies
  the same rules as certfleet's own stack config (a bad value fails at preview, naming its path).
- pulumi_aws publishes the ACM validation records in Route 53, waits for issuance (aws.acm.CertificateValidation
  works on any ACM ARN), serves the certificate from a CloudFront distribution of our own and points the site's
  names at it.
- pulumi_alicloud publishes the CAS DNS challenge in Alibaba Cloud DNS while the order is pending; the next
  `pulumi up --refresh` picks up the issued CAS certificate and drops the record.

`components` must be importable by this program and by the dynamic-provider process Pulumi starts for it (their
providers are pickled by reference): here it is a symlink to the repository's components/; in your repository
vendor it (a git submodule or a copy) next to your __main__.py.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_alicloud as alicloud
import pulumi_aws as aws

from components.config import load_fleet
from components.errors import ConfigError
from components.fleet import AlicloudOrders, AwsCertificates

CLOUDFRONT_ZONE_ID = "Z2FDTNDATAQYW2"  # the fixed hosted zone of every *.cloudfront.net alias target
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"  # AWS's managed cache policy


# --- small pure helpers (tests/unit/test_composition.py checks them through the program) ---------------------

def validation_names(domains: tuple[str, ...]) -> list[str]:
    """One ACM validation record per name, where a wildcard shares its apex's (*.a.com and a.com: one)."""
    return sorted({name.removeprefix("*.") for name in domains})


def record_for(records: list[dict[str, Any]] | None, name: str) -> dict[str, Any]:
    """certfleet's `validation_records` entry that validates `name` (or its wildcard)."""
    for record in records or []:
        if name in record["domains"] or f"*.{name}" in record["domains"]:
            return record
    raise ValueError(f"ACM has not published the validation record for {name} yet: run `pulumi up --refresh`")


def relative_name(fqdn: str, zone: str) -> str:
    """Alibaba Cloud DNS wants the host record relative to the domain: _dnsauth.docs.example.cn -> _dnsauth.docs."""
    fqdn, zone = fqdn.rstrip(".").lower(), zone.rstrip(".").lower()
    if fqdn == zone:
        return "@"
    if not fqdn.endswith("." + zone):
        raise ValueError(f"the challenge record {fqdn} is not in the Alibaba Cloud DNS domain {zone}")
    return fqdn[: -len(zone) - 1]


def publish_challenge(order: str, zone: str, challenge: dict[str, Any] | None) -> str | None:
    """The Alibaba Cloud DNS record of a pending order's DNS challenge; none once the order is issued.

    CAS clears the challenge when it issues, so whether the record exists is known only from the order's
    outputs: it is declared here, inside their apply. While the order is pending the record is there (the next
    `pulumi up --refresh` sees the certificate issued); from then on the program stops declaring it and Pulumi
    deletes it. A brand-new order's record shows in `pulumi up`, not in the preview before it (unknown then).
    """
    if not challenge or challenge.get("type") != "DNS":
        return None
    alicloud.dns.AlidnsRecord(
        f"cas-challenge-{order}",
        domain_name=zone,
        rr=relative_name(challenge["name"], zone),
        type=challenge["record_type"],
        value=challenge["value"],
        ttl=600,
    )
    return challenge["name"]


# --- the program -------------------------------------------------------------------------------------------

config = pulumi.Config()
site = config.require("siteDomain")
zone_id = config.require("route53ZoneId")
origin = config.require("originDomain")
cn_domain = config.require("alidnsDomain")

try:
    fleet = load_fleet({
        "aws": {
            "region": "us-east-1",  # CloudFront serves ACM certificates from us-east-1 only
            "tags": {"team": "web"},
            # issuedTimeoutSeconds stays 0: certfleet must not wait for issuance here, since the records that
            # let ACM issue are created by this program after the certificate (CertificateValidation waits).
            "certificates": {"site": {"domain": site, "sans": [f"www.{site}"]}},
        },
        "alicloud": {
            "contact": config.require_object("casContact"),
            "orders": {"docs": {"productCode": "digicert-free-1-free", "domains": [f"docs.{cn_domain}"],
                                "validation": "DNS"}},
        },
    })
except ConfigError as err:
    raise pulumi.RunError(str(err)) from None

# certfleet: the ACM certificate, then pulumi_aws: its validation records, the wait, the distribution.
certificates = AwsCertificates("certfleet-aws", fleet.aws)
site_spec = next(spec for spec in fleet.aws.certificates if spec.name == "site")
site_certificate = certificates.certificates["site"]

validation_records = []
for name in validation_names(site_spec.sans):
    record = site_certificate.validation_records.apply(lambda records, n=name: record_for(records, n))
    validation_records.append(aws.route53.Record(
        f"acm-validation-{name}",
        zone_id=zone_id,
        name=record.apply(lambda r: r["name"]),
        type=record.apply(lambda r: r["type"]),
        records=[record.apply(lambda r: r["value"])],
        ttl=300,
        allow_overwrite=True,  # another certificate for the same name publishes the same record
    ))

issued = aws.acm.CertificateValidation(
    "site",
    certificate_arn=site_certificate.arn,
    validation_record_fqdns=[r.fqdn for r in validation_records],
    region=fleet.aws.region,
)

distribution = aws.cloudfront.Distribution(
    "site",
    enabled=True,
    aliases=list(site_spec.sans),
    origins=[aws.cloudfront.DistributionOriginArgs(
        origin_id="origin",
        domain_name=origin,
        custom_origin_config=aws.cloudfront.DistributionOriginCustomOriginConfigArgs(
            http_port=80, https_port=443, origin_protocol_policy="https-only", origin_ssl_protocols=["TLSv1.2"]),
    )],
    default_cache_behavior=aws.cloudfront.DistributionDefaultCacheBehaviorArgs(
        target_origin_id="origin",
        viewer_protocol_policy="redirect-to-https",
        allowed_methods=["GET", "HEAD"],
        cached_methods=["GET", "HEAD"],
        cache_policy_id=CACHING_OPTIMIZED,
    ),
    restrictions=aws.cloudfront.DistributionRestrictionsArgs(
        geo_restriction=aws.cloudfront.DistributionRestrictionsGeoRestrictionArgs(restriction_type="none")),
    # The validated ARN: CloudFront refuses a certificate that is not issued yet.
    viewer_certificate=aws.cloudfront.DistributionViewerCertificateArgs(
        acm_certificate_arn=issued.certificate_arn,
        ssl_support_method="sni-only",
        minimum_protocol_version="TLSv1.2_2021",
    ),
)

for name in site_spec.sans:
    aws.route53.Record(
        f"site-{name}",
        zone_id=zone_id,
        name=name,
        type="A",
        aliases=[aws.route53.RecordAliasArgs(name=distribution.domain_name, zone_id=CLOUDFRONT_ZONE_ID,
                                             evaluate_target_health=False)],
    )

# certfleet: the CAS order, then pulumi_alicloud: its DNS challenge in Alibaba Cloud DNS.
orders = AlicloudOrders("certfleet-alicloud", fleet.alicloud)
challenge_records = {
    spec.name: orders.orders[spec.name].challenge.apply(lambda c, n=spec.name: publish_challenge(n, cn_domain, c))
    for spec in fleet.alicloud.orders if spec.validation == "DNS"}  # a FILE challenge is the web server's

# certfleet's own outputs, in its versioned schema (docs/outputs.md): scripts/report.py and pipeline gates work on
# this stack as on certfleet's. Our own outputs sit beside them (the schema lets unknown keys through).
pulumi.export("schemaVersion", 1)
pulumi.export("aws", certificates.exports())
pulumi.export("alicloud", {"orders": orders.summary()})
pulumi.export("siteCertificateArn", site_certificate.arn)
pulumi.export("siteDistribution", distribution.domain_name)
pulumi.export("docsOrder", orders.orders["docs"].order_id)
pulumi.export("casChallengeRecords", challenge_records)
