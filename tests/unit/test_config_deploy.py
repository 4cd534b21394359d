"""`deployTo` (components/deploy/config.py): every rule fails at preview with its config path, and a CloudFront
distribution served by a deployed copy is checked across sections."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from components.config import load_fleet
from components.deploy.config import DeployTarget
from components.errors import ConfigError
from tests.emulators.cas_scaffolding import make_csr
from tests.pki import Pki

CAS = "certfleet:alicloud.orders.docs"
SCM = "certfleet:huaweicloud.certificates.portal"
APPLICANT = {"name": "Zhang.San", "phone": "13800000000", "email": "ops@example.com"}
NOW = datetime(2030, 6, 1, tzinfo=timezone.utc)


def cas_order(**fields):
    return {"productCode": "digicert-free-1-free", "domains": ["docs.example.com"], "csr": "generate", **fields}


def scm_cert(**fields):
    return {"brand": "GEOTRUST", "type": "DV_SSL_CERT", "domainType": "SINGLE_DOMAIN",
            "domains": ["portal.example.com"], "applicant": APPLICANT, **fields}


def load(raw, **kwargs):
    return load_fleet(raw, **kwargs)


def problems(raw, **kwargs) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        load_fleet(raw, **kwargs)
    return raised.value.problems


def cas(**order):
    return {"alicloud": {"orders": {"docs": cas_order(**order)}}}


def scm(**cert):
    return {"huaweicloud": {"certificates": {"portal": scm_cert(**cert)}}}


def test_targets_with_their_defaults_and_keys():
    spec = load(cas(deployTo=[{"cloud": "aws"}, {"cloud": "huaweicloud", "name": "docs-copy",
                                                   "region": "ap-southeast-1"}])).alicloud.orders[0]
    assert spec.deploy_to == (DeployTarget("aws", region="us-east-1"),
                              DeployTarget("huaweicloud", name="docs-copy", region="ap-southeast-1"))
    spec = load(scm(deployTo=[{"cloud": "aws", "region": "eu-west-1", "tags": {"team": "web"}},
                              {"cloud": "alicloud", "name": "portal"}])).huaweicloud.certificates[0]
    assert spec.deploy_to == (DeployTarget("aws", region="eu-west-1", tags=(("team", "web"),)),
                              DeployTarget("alicloud", name="portal"))
    assert load(cas()).alicloud.orders[0].deploy_to == ()


def test_the_own_cloud_and_a_second_copy_to_one_cloud_are_refused_at_their_paths():
    assert problems(cas(deployTo=[{"cloud": "alicloud"}])) == [
        f"{CAS}.deployTo[0].cloud: the certificate is in alicloud already: a target is another cloud"]
    assert problems(scm(deployTo=[{"cloud": "aws"}, {"cloud": "aws", "region": "eu-west-1"}])) == [
        f"{SCM}.deployTo[1].cloud: aws is a target already ({SCM}.deployTo[0]): one copy per cloud"]


@pytest.mark.parametrize("target, path, rule", [
    ({"cloud": "gcp"}, "deployTo[0].cloud", "must be one of aws, alicloud, huaweicloud, got 'gcp'"),
    ({"region": "us-east-1"}, "deployTo[0].cloud", "is required: one of aws, alicloud, huaweicloud"),
    ({"cloud": "aws", "name": "x"}, "deployTo[0].name", "unknown key"),
    ({"cloud": "aws", "region": "moon-1"}, "deployTo[0].region", "must be an AWS region name such as us-east-1"),
    ({"cloud": "aws", "tags": {"aws:x": "y"}}, "deployTo[0].tags.aws:x", ""),
    ({"cloud": "huaweicloud", "name": "has space"}, "deployTo[0].name", "must be 2 to 54 letters"),
    ({"cloud": "huaweicloud", "name": "x" * 55}, "deployTo[0].name", "must be 2 to 54 letters"),
    ({"cloud": "huaweicloud", "region": "cn_north_4"}, "deployTo[0].region", "must be a Huawei Cloud region"),
])
def test_each_cloud_has_its_own_rules(target, path, rule):
    [problem] = problems(cas(deployTo=[target]))
    assert problem.startswith(f"{CAS}.{path}: {rule}")


def test_a_cas_name_leaves_room_for_the_fingerprint_suffix():
    [problem] = problems(scm(deployTo=[{"cloud": "alicloud", "name": "n" * 55}]))
    assert problem.startswith(f"{SCM}.deployTo[0].name: must be 1 to 54 characters: CAS allows 63")
    assert load(scm(deployTo=[{"cloud": "alicloud", "name": "n" * 54}])).huaweicloud.certificates[0].deploy_to


def test_deploy_to_must_be_a_list():
    assert problems(cas(deployTo={"cloud": "aws"})) == [
        f"{CAS}.deployTo: must be a list of targets such as [{{cloud: aws}}], got dict"]


def test_a_source_whose_key_nobody_holds_cannot_be_deployed():
    csr_pem, _ = make_csr("docs.example.com")
    [problem] = problems(cas(csr={"pem": csr_pem}, domains=["docs.example.com"], deployTo=[{"cloud": "aws"}]))
    assert problem.startswith(f"{CAS}.deployTo: this entry's certificate is issued for your own CSR (csr.pem)")
    [problem] = problems(scm(csr=make_csr("portal.example.com")[0], deployTo=[{"cloud": "alicloud"}]))
    assert problem.startswith(f"{SCM}.deployTo: this certificate is issued for your own CSR: Huawei does not keep")
    # CAS's own key (csr left out) and SCM's (csr: scm) are returned with the certificate: deployable.
    assert load({"alicloud": {"orders": {"docs": {"productCode": "digicert-free-1-free",
                                                  "domains": ["docs.example.com"],
                                                  "deployTo": [{"cloud": "aws"}]}}}}).alicloud.orders[0].deploy_to
    assert load(scm(csr="scm", deployTo=[{"cloud": "aws"}])).huaweicloud.certificates[0].deploy_to


def test_an_import_deploys_to_other_clouds_only():
    pki = Pki.make(slot=3, now=NOW)
    certificate, key = pki.leaf(["static.example.com"])
    entry = {"certificate": certificate, "chain": pki.chain_pem(), "privateKey": key}
    spec = load({"aws": {"imports": {"static": {**entry, "deployTo": [{"cloud": "huaweicloud"}]}}}},
                now=NOW).aws.imports[0]
    assert spec.deploy_to == (DeployTarget("huaweicloud"),)
    assert problems({"aws": {"imports": {"static": {**entry, "deployTo": [{"cloud": "aws"}]}}}}, now=NOW) == [
        "certfleet:aws.imports.static.deployTo[0].cloud: the certificate is in aws already: a target is another cloud"]


# --- a distribution served by a deployed copy ------------------------------------------------------------------

def with_distribution(source: dict, **distribution) -> dict:
    return {**source, "aws": {"distributions": {"web": {"template": "E195R1W5GIVPF5", **distribution}}}}


def test_a_distribution_served_by_a_deployed_copy_takes_its_names():
    fleet = load(with_distribution(scm(deployTo=[{"cloud": "aws"}]), certificate="huaweicloud.certificates.portal"))
    [dist] = fleet.aws.distributions
    assert (dist.serving_kind, dist.serving_certificate, dist.aliases) == (
        "deployed", "huaweicloud.certificates.portal", ("portal.example.com",))


def test_a_deployed_copy_must_be_in_acm_us_east_1_and_cover_the_aliases():
    d = "certfleet:aws.distributions.web"
    assert problems(with_distribution(cas(), certificate="alicloud.orders.docs")) == [
        f"{d}.certificate: {CAS} is not deployed to ACM in us-east-1: add `deployTo: [{{cloud: aws}}]` to it "
        f"(CloudFront serves certificates from ACM in us-east-1 only)"]
    assert len(problems(with_distribution(cas(deployTo=[{"cloud": "aws", "region": "eu-west-1"}]),
                                          certificate="alicloud.orders.docs"))) == 1
    assert problems(with_distribution(cas(deployTo=[{"cloud": "aws"}]), certificate="alicloud.orders.docs",
                                      aliases=["docs.example.com", "www.example.com"])) == [
        f"{d}.aliases[1]: 'www.example.com' is not covered by {CAS} (it names docs.example.com): CloudFront refuses "
        f"an alias its certificate does not cover"]
    assert problems(with_distribution(cas(deployTo=[{"cloud": "aws"}]), certificate="alicloud.orders.nope"))[0] \
        .startswith(f"{d}.certificate: 'alicloud.orders.nope' is not an entry of this stack (entries that can be "
                    f"deployed: alicloud.orders.docs)")


# --- the published schema agrees (schema/certfleet.schema.json) ----------------------------------------------

def test_schema_lists_the_deploy_to_keys_the_model_accepts():
    import json

    from components.deploy import config as deploy_config
    from tests.conftest import ROOT
    schema = json.loads((ROOT / "schema" / "certfleet.schema.json").read_text())
    branches = schema["$defs"]["deployTo"]["items"]["oneOf"]
    assert {b["properties"]["cloud"]["const"]: tuple(sorted(b["properties"])) for b in branches} == \
        {cloud: tuple(sorted(keys)) for cloud, keys in deploy_config._KEYS.items()}


@pytest.mark.parametrize("raw, accepted", [
    (cas(deployTo=[{"cloud": "aws"}, {"cloud": "huaweicloud", "name": "docs.copy_1"}]), True),
    (with_distribution(scm(deployTo=[{"cloud": "aws"}]), certificate="huaweicloud.certificates.portal"), True),
    (cas(deployTo=[{"cloud": "alicloud"}]), False),
    (cas(deployTo=[{"cloud": "aws", "name": "x"}]), False),
    (scm(deployTo=[{"cloud": "alicloud", "name": "n" * 55}]), False),
    (cas(deployTo=[{"cloud": "huaweicloud", "name": "has space"}]), False),
])
def test_schema_and_model_agree(raw, accepted):
    import json

    import jsonschema

    from tests.conftest import ROOT
    schema = json.loads((ROOT / "schema" / "certfleet.schema.json").read_text())
    schema_ok = not list(jsonschema.Draft202012Validator(schema).iter_errors(raw))
    try:
        load_fleet(raw)
        model_ok = True
    except ConfigError:
        model_ok = False
    assert (schema_ok, model_ok) == (accepted, accepted)


SERVED = "RSA_2048, RSA_3072, RSA_4096 or EC_P256"


@pytest.mark.parametrize("source, path, algorithm", [
    (cas(keyAlgorithm="EC_P384", deployTo=[{"cloud": "aws"}]), CAS, "EC_P384"),
    (scm(csr="scm", keyAlgorithm="EC_P384", deployTo=[{"cloud": "aws"}]), SCM, "EC_P384"),
    (scm(csr="generate", keyAlgorithm="EC_P384", deployTo=[{"cloud": "aws"}]), SCM, "EC_P384"),
])
def test_an_acm_copy_of_a_key_cloudfront_cannot_serve_fails_at_the_target_and_the_distribution(source, path,
                                                                                                 algorithm):
    source_path = path.split(":", 1)[1]
    assert problems(with_distribution(source, certificate=source_path)) == [
        f"{path}.deployTo[0].cloud: its key is {algorithm} (keyAlgorithm), which ACM imports but CloudFront cannot "
        f"serve; certfleet copies into ACM only keys CloudFront serves: {SERVED}",
        f"certfleet:aws.distributions.web.certificate: {path} cannot serve this distribution: its key is "
        f"{algorithm} (keyAlgorithm), which ACM imports but CloudFront cannot serve; certfleet copies into ACM only "
        f"keys CloudFront serves: {SERVED}"]


def test_an_sm2_certificate_cannot_be_copied_into_acm():
    assert problems(scm(csr="scm", keyAlgorithm="SM2", deployTo=[{"cloud": "aws"}, {"cloud": "alicloud"}])) == [
        f"{SCM}.deployTo[0].cloud: its key is SM2 (keyAlgorithm), which ACM cannot import; an ACM copy needs {SERVED}"]
    assert load(scm(csr="scm", keyAlgorithm="SM2", deployTo=[{"cloud": "alicloud"}])).huaweicloud  # CAS takes it
    assert load(cas(keyAlgorithm="EC_P256", deployTo=[{"cloud": "aws"}])).alicloud  # P-256 is served
