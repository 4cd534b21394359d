"""The AWS quotas and formats that certfleet:aws is checked against before any call, each with its source.

A leaf module: the section's rule modules (config.py, config_distributions.py, config_imports.py) all take
their numbers from here, so that no two of them can disagree on a limit and none imports another.
"""

from __future__ import annotations

import re

import botocore.session

# Every pattern here is used with fullmatch(): match() and `$` would let a trailing newline through.
AWS_REGION_PATTERN = re.compile(r"[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d")

# ACM (ACM user guide, "Quotas"): 100 names is the hard maximum per certificate; 10 is the default account
# quota, which an account must ask AWS to raise.
ACM_MAX_NAMES = 100
ACM_DEFAULT_NAME_QUOTA = 10
ACM_KEY_ALGORITHMS = ("RSA_2048", "EC_prime256v1", "EC_secp384r1")  # what RequestCertificate accepts
# What CloudFront serves of those: RSA and ECDSA P-256 only (CloudFront developer guide, "Requirements for
# using SSL/TLS certificates with CloudFront"; see components/aws/pem.py for imports).
CLOUDFRONT_KEY_ALGORITHMS = ("RSA_2048", "EC_prime256v1")

# Tags: ACM allows 50 per certificate (ACM user guide, "Tagging resources") and CloudFront 50 per
# distribution (CloudFront developer guide, "Quotas", general quotas on distributions). certfleet keeps three
# for itself on every kind (certfleet:resource, certfleet:request, certfleet:generation on a certificate), so
# that one tag budget holds for certificates, imports and distributions alike.
ACM_MAX_TAGS = 50
CLOUDFRONT_MAX_TAGS = 50
ACM_CERTFLEET_TAGS = 3
AWS_MAX_USER_TAGS = ACM_MAX_TAGS - ACM_CERTFLEET_TAGS

# CloudFront uses ACM certificates from US East (N. Virginia) only (CloudFront developer guide, "Requirements
# for using SSL/TLS certificates with CloudFront": "request or import the certificate in ... us-east-1").
CLOUDFRONT_CERTIFICATE_REGION = "us-east-1"
# "Alternate domain names (CNAMEs) per distribution: 100" (CloudFront developer guide, "Quotas", general quotas
# on distributions; a default an account can have raised, but certfleet holds to it like ACM's hard maximum).
CLOUDFRONT_MAX_ALIASES = 100
CLOUDFRONT_MAX_COMMENT = 128   # DistributionConfig.Comment: "cannot be longer than 128 characters" (API reference)
# A distribution id as CloudFront returns it (E195R1W5GIVPF5): "E" and 12 or 13 upper-case letters and digits.
# botocore's model types it as a bare string, so the shape comes from real ids.
DISTRIBUTION_ID_PATTERN = re.compile(r"E[A-Z0-9]{12,13}")
# An ACM certificate's ARN (ACM API reference, CertificateArn; "arn:aws:acm:us-east-1:123456789012:certificate/
# 12345678-1234-1234-1234-123456789012"): the region is a group, since an adopted certificate must be in aws.region.
ACM_ARN_PATTERN = re.compile(r"arn:aws(-[a-z]+)*:acm:(?P<region>[a-z0-9-]+):[0-9]{12}:certificate/"
                             r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# DistributionConfig.Logging.Bucket is the bucket's S3 domain name (API reference: "for example,
# amzn-s3-demo-bucket.s3.amazonaws.com"); the bucket part follows S3's bucket naming rules.
LOGGING_BUCKET_PATTERN = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\.s3\.amazonaws\.com")
DEFAULT_MINIMUM_PROTOCOL_VERSION = "TLSv1.2_2021"   # what CloudFront Extensions binds with (reference §5)


def _minimum_protocol_versions() -> tuple[str, ...]:
    """The MinimumProtocolVersion enum of botocore's CloudFront model, less SSLv3.

    certfleet binds with SSLSupportMethod sni-only, and CloudFront refuses SSLv3 with sni-only (API reference,
    ViewerCertificate.MinimumProtocolVersion: "If you specify sni-only, you must specify TLSv1 or later").
    """
    model = botocore.session.get_session().get_service_model("cloudfront")
    return tuple(v for v in model.shape_for("MinimumProtocolVersion").enum if v != "SSLv3")


MINIMUM_PROTOCOL_VERSIONS = _minimum_protocol_versions()

# DynamoDB table names: 3 to 255 of a-z, A-Z, 0-9, '_', '-', '.' (DynamoDB developer guide, "Naming rules").
DYNAMODB_TABLE_PATTERN = re.compile(r"[A-Za-z0-9_.-]{3,255}")
