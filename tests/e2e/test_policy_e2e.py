"""The policy pack (policy/, docs/policy.md) with the real CLI: a stack against the local AWS, CAS and SCM
servers, previewed with `--policy-pack policy --policy-pack-config <file>` as a pipeline runs it."""

from __future__ import annotations

import pytest

import copy
import json
import shutil

from tests.conftest import ROOT
from tests.e2e.test_cas_e2e import CONFIG as CAS_CONFIG
from tests.e2e.test_cas_e2e import cas_emulator, cas_project  # noqa: F401 - fixtures
from tests.e2e.test_cloudfront_e2e import make_template
from tests.e2e.test_scm_e2e import CONFIG as SCM_CONFIG
from tests.e2e.test_scm_e2e import scm_project  # noqa: F401 - fixture

PACK = "certfleet-policies@v1.0.0 (local: policy)"


# Two CAS orders (digicert, symantec) and two SCM purchases (GEOTRUST, GLOBALSIGN): four new paid orders.
def clean(template: str) -> dict:
    return {
        "aws": {"region": "us-east-1", "issuedTimeoutSeconds": 30, "deployedTimeoutSeconds": 60,
                "certificates": {
                    "web": {"domain": "web.example.com", "keyAlgorithm": "EC_secp384r1"},
                    "wild": {"domain": "*.apps.example.com", "keyAlgorithm": "EC_prime256v1",
                             "tags": {"wildcard-approved-by": "security-team"}}},
                "distributions": {"apps": {"template": template, "certificate": "wild",
                                           "aliases": ["www.apps.example.com"]}}},
        **copy.deepcopy(CAS_CONFIG),
        **copy.deepcopy(SCM_CONFIG),
    }


def violating(template: str) -> dict:
    config = clean(template)
    config["aws"]["certificates"]["web"]["keyAlgorithm"] = "EC_prime256v1"         # key-algorithm (EC >= 384),
    # like wild's P-256 key (CloudFront serves no larger EC key)
    del config["aws"]["certificates"]["wild"]["tags"]                               # wildcard-approval
    config["aws"]["distributions"]["apps"]["minimumProtocolVersion"] = "TLSv1.1_2016"  # cloudfront-min-tls
    config["alicloud"]["orders"]["blog"]["productCode"] = "geotrust-dv-1-starter"   # allowed-issuers
    config["huaweicloud"]["certificates"]["portal"]["years"] = 2                     # max-validity
    config["huaweicloud"]["certificates"]["api"]["onDestroy"] = "delete"             # no-revoke-on-protected-stacks
    return config


POLICY = {
    "key-algorithm": {"allowed": ["RSA", "EC"], "minimumBits": {"RSA": 2048, "EC": 256}},
    "allowed-issuers": {"casBrands": ["digicert", "symantec"], "scmBrands": ["GEOTRUST", "GLOBALSIGN"]},
    "max-validity": {"maximumYears": 1},
    "wildcard-approval": {"tagKey": "wildcard-approved-by"},
    "no-revoke-on-protected-stacks": {"protected": True},
    "cloudfront-min-tls": {"minimum": "TLSv1.2_2021"},
    "paid-orders-ceiling": {"maximum": 4},
}
STRICT = {**POLICY, "key-algorithm": {"minimumBits": {"RSA": 2048, "EC": 384}}, "paid-orders-ceiling": {"maximum": 3}}
VIOLATIONS = (("key-algorithm", "aws:AcmCertificate: web"), ("key-algorithm", "aws:AcmCertificate: wild"),
              ("wildcard-approval", "aws:AcmCertificate: wild"),
              ("cloudfront-min-tls", "aws:Distribution: apps"), ("allowed-issuers", "alicloud:CasOrder: blog"),
              ("max-validity", "huaweicloud:ScmCertificate: portal"),
              ("no-revoke-on-protected-stacks", "huaweicloud:ScmCertificate: api"))
CEILING = "this update places {} new paid orders, more than the maximum of {} per update"


def run_with_pack(project, command: tuple[str, ...], policy: dict):
    path = project.workdir / "policy-config.json"
    path.write_text(json.dumps(policy))
    result = project.run(*command, "--policy-pack", "policy", "--policy-pack-config", str(path), check=False)
    return result, result.stdout + result.stderr


@pytest.mark.long
def test_policy_pack_with_the_cli(cas_project, scm_project):
    project = scm_project
    shutil.copytree(ROOT / "policy", project.workdir / "policy", ignore=shutil.ignore_patterns("__pycache__"))
    project.init()
    template = make_template()

    # Mandatory (the pack's default): preview fails, naming each policy and the resource that breaks it.
    project.write_stack("e2e", violating(template))
    result, text = run_with_pack(project, ("preview",), STRICT)
    assert result.returncode == 1, text
    assert f"❌ {PACK}" in text
    for policy, resource in VIOLATIONS:
        assert f"- [mandatory]  {policy}  (pulumi-python:dynamic/{resource})" in text, (policy, text)
    assert "certfleet:aws.certificates.web: key EC_prime256v1 has 256 bits, below the minimum of 384" in text
    assert "certfleet:alicloud.orders.blog: CA brand geotrust is not allowed; allowed: digicert, symantec" in text
    assert "[mandatory]  paid-orders-ceiling" in text and CEILING.format(4, 3) in text
    assert text.count("[mandatory]") == len(VIOLATIONS) + 1

    # The same policies at advisory (`all`): reported, and the preview passes.
    result, text = run_with_pack(project, ("preview",), {**STRICT, "all": "advisory"})
    assert result.returncode == 0, text
    for policy, resource in VIOLATIONS:
        assert f"- [advisory]  {policy}  (pulumi-python:dynamic/{resource})" in text, (policy, text)
    assert "[mandatory]" not in text and CEILING.format(4, 3) in text

    # A clean stack: no violation (four new paid orders, the ceiling is four).
    project.write_stack("e2e", clean(template))
    result, text = run_with_pack(project, ("preview",), POLICY)
    assert result.returncode == 0 and "[mandatory]" not in text and "[advisory]" not in text, text

    # `up --skip-preview` runs the stack policy only after the steps: the four orders are placed, then the
    # ceiling reports them (counted by their purchase-journal stamps) and the update fails.
    result, text = run_with_pack(project, ("up", "--yes", "--skip-preview"), {**POLICY, **{
        "paid-orders-ceiling": {"maximum": 3}}})
    assert result.returncode == 1 and CEILING.format(4, 3) in text, text
    assert "certfleet:alicloud.orders.blog, certfleet:alicloud.orders.shop, certfleet:huaweicloud.certificates.api, " \
           "certfleet:huaweicloud.certificates.portal" in text

    # Paid orders the stack holds already are not new: a ceiling of 0 passes, also with an in-place update.
    no_new_orders = {**POLICY, "paid-orders-ceiling": {"maximum": 0}}
    result, text = run_with_pack(project, ("preview",), no_new_orders)
    assert result.returncode == 0 and "paid-orders-ceiling" not in text, text
    config = clean(template)
    config["huaweicloud"]["certificates"]["portal"]["tags"] = {"owner": "web-team"}   # an update, buys nothing
    config["huaweicloud"]["certificates"]["api"]["type"] = "OV_SSL_CERT_PRO"           # a replacement: buys
    config["huaweicloud"]["certificates"]["extra"] = {**config["huaweicloud"]["certificates"]["portal"],
                                                     "domains": ["extra.example.cn"]}
    project.write_stack("e2e", config)
    result, text = run_with_pack(project, ("preview",), no_new_orders)
    assert result.returncode == 1, text
    assert "~  pulumi-python:dynamic/huaweicloud:ScmCertificate portal update" in text
    assert "+- pulumi-python:dynamic/huaweicloud:ScmCertificate api replace" in text
    assert CEILING.format(2, 0) + " (paid-orders-ceiling: maximum): certfleet:huaweicloud.certificates.api, " \
                                  "certfleet:huaweicloud.certificates.extra." in text

    # `--replace` of a paid resource whose config did not change buys a new one: the pack reads the target from
    # the CLI's command line (the policy protocol carries no step kind) and counts it.
    project.write_stack("e2e", clean(template))
    portal = next(r["urn"] for r in project.resources() if r["urn"].endswith("ScmCertificate::portal"))
    result, text = run_with_pack(project, ("preview", "--replace", portal), no_new_orders)
    assert result.returncode == 1, text
    assert CEILING.format(1, 0) + " (paid-orders-ceiling: maximum): certfleet:huaweicloud.certificates.portal." in text
