"""The post-deploy edge check end to end (issue 9 item 5): the real `pulumi` CLI, the certfleet program, the AWS
emulator and its CloudFront edge, a TLS listener on loopback serving each distribution's certificate by SNI
(CERTFLEET_EDGE_ENDPOINT, set by tests/conftest.py as scripts/local_servers.py sets it for the local stack)."""

from __future__ import annotations

import copy
import hashlib
import subprocess
import time

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from tests.conftest import ROOT
from tests.e2e.test_cloudfront_e2e import make_template, sdk


def acm_fingerprint(arn: str) -> str:
    pem = sdk("acm").get_certificate(CertificateArn=arn)["Certificate"]
    return hashlib.sha256(x509.load_pem_x509_certificate(pem.encode()).public_bytes(Encoding.DER)).hexdigest()


def swap_certificate_out_of_band(distribution_id: str, arn: str) -> None:
    """Someone points the distribution at another certificate, in the console (once ACM has issued it)."""
    deadline = time.monotonic() + 30
    while sdk("acm").describe_certificate(CertificateArn=arn)["Certificate"]["Status"] != "ISSUED":
        assert time.monotonic() < deadline, "the emulator did not issue the certificate"
        time.sleep(0.3)
    cf = sdk("cloudfront")
    got = cf.get_distribution_config(Id=distribution_id)
    changed = copy.deepcopy(got["DistributionConfig"])
    changed["ViewerCertificate"]["ACMCertificateArn"] = arn
    cf.update_distribution(Id=distribution_id, IfMatch=got["ETag"], DistributionConfig=changed)


def config_for(template: str) -> dict:
    return {"aws": {"region": "us-east-1", "issuedTimeoutSeconds": 30, "deployedTimeoutSeconds": 60,
                    "edgeCheckTimeoutSeconds": 3,
                    "certificates": {"shop": {"domain": "shop.example.com", "sans": ["www.shop.example.com"]},
                                     "blog": {"domain": "blog.example.org"}},
                    "distributions": {"shop": {"template": template, "certificate": "shop"},
                                      "blog": {"template": template, "certificate": "blog"}}}}


def report_text(project) -> str:
    return subprocess.run([str(project.workdir / ".venv" / "bin" / "python"), str(ROOT / "scripts" / "report.py"),
                           "--stack", "e2e"], cwd=project.workdir, env=project.env, capture_output=True, text=True,
                          check=True).stdout


def test_bound_distributions_pass_per_alias_and_a_certificate_swapped_out_of_band_is_reported(project):
    template = make_template()
    project.init()
    project.write_stack("e2e", config_for(template))
    project.run("up", "--yes", "--skip-preview")
    out = project.outputs()["aws"]
    shop_arn, blog_arn = out["certificates"]["shop"]["arn"], out["certificates"]["blog"]["arn"]
    shop, blog = out["distributions"]["shop"], out["distributions"]["blog"]
    assert sorted(shop["edge"]) == ["shop.example.com", "www.shop.example.com"], shop
    assert sorted(blog["edge"]) == ["blog.example.org"], blog
    for dist, arn in ((shop, shop_arn), (blog, blog_arn)):
        for alias, result in dist["edge"].items():
            assert result["ok"] is True and result["problem"] == "", (alias, result)
            assert result["fingerprint"] == acm_fingerprint(arn)
    assert "edge: serves the bound certificate (2 of 2 aliases checked)" in report_text(project)

    # A quiet preview stays quiet: the check is an output, never a diff, and never unknown.
    preview = project.preview_json()
    assert {step["op"] for step in preview["steps"]} == {"same"}, preview["steps"]
    project.run("preview", "--expect-no-changes")

    # Someone points distribution shop at another certificate: a refresh looks again and tells each alias (with
    # --run-program the stack outputs, which the report reads, follow; `up --refresh` would repair it at once).
    other = sdk("acm").request_certificate(DomainName="shop.example.com", SubjectAlternativeNames=[
        "shop.example.com", "www.shop.example.com"], ValidationMethod="DNS", IdempotencyToken="other")["CertificateArn"]
    swap_certificate_out_of_band(shop["distribution_id"], other)
    project.run("refresh", "--yes", "--skip-preview", "--run-program")
    out = project.outputs()["aws"]["distributions"]
    for alias in ("shop.example.com", "www.shop.example.com"):
        result = out["shop"]["edge"][alias]
        assert result["ok"] is False and "ACM holds" in result["problem"] and shop_arn in result["problem"], result
        assert result["fingerprint"] == acm_fingerprint(other)
    assert out["blog"]["edge"]["blog.example.org"]["ok"] is True  # per alias, per distribution
    report = report_text(project)
    assert "edge FAILED for shop.example.com: serves SHA-256" in report
    assert "edge FAILED for www.shop.example.com" in report and "edge FAILED for blog" not in report

    # The next up puts the bound certificate back, and the check after it passes.
    project.run("up", "--yes", "--skip-preview")
    repaired = project.outputs()["aws"]["distributions"]["shop"]["edge"]
    assert all(result["ok"] for result in repaired.values()), repaired
    project.run("destroy", "--yes", "--skip-preview")


def test_require_fails_the_up_naming_the_alias(project):
    """edgeCheck: require on a distribution: a check that fails after a change fails the up, naming each alias."""
    template = make_template()
    config = config_for(template)
    del config["aws"]["distributions"]["blog"], config["aws"]["certificates"]["blog"]
    config["aws"]["distributions"]["shop"]["edgeCheck"] = "require"
    project.init()
    project.write_stack("e2e", config)
    project.run("up", "--yes", "--skip-preview")
    assert all(r["ok"] for r in project.outputs()["aws"]["distributions"]["shop"]["edge"].values())
    # An edge that serves nothing (nothing listens there), and a change so that the update runs and checks.
    project.env["CERTFLEET_EDGE_ENDPOINT"] = "127.0.0.1:1"
    config["aws"]["distributions"]["shop"]["comment"] = "changed"
    project.write_stack("e2e", config)
    failed = project.run("up", "--yes", "--skip-preview", check=False)
    text = failed.stdout + failed.stderr
    assert failed.returncode != 0 and "EdgeCheckFailed" in text, text
    assert "shop.example.com: TLS handshake with SNI shop.example.com at 127.0.0.1:1 failed" in text, text
