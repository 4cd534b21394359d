"""The policy pack's resource policies (policy/certfleet_policy/checks.py) on plain inputs, as the engine sends
them: no None values, integers as floats, unknowns during preview."""

from __future__ import annotations

import json
from datetime import timedelta

import jsonschema
import pytest
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

from components import keys
from policy.certfleet_policy import checks
from policy.certfleet_policy.checks import RULES, with_defaults
from policy.certfleet_policy.resources import (ACM_CERTIFICATE, ACM_IMPORT, CAS_INSTANCE_CERTIFICATE, CAS_ORDER,
                                               DISTRIBUTION, SCM_CERTIFICATE, UNKNOWN, Key, config_path,
                                               key_from_algorithm, key_of, names_of, plain, stack_of)
from tests import pki
from tests.conftest import ROOT

RULE = {rule.name: rule for rule in RULES}
URN = "urn:pulumi:{stack}::certfleet::certfleet:aws:Certificates$pulumi-python:dynamic/aws:AcmCertificate::web"


def run(name: str, resource_type: str, props: dict, config: dict | None = None, stack: str = "dev") -> list[str]:
    rule = RULE[name]
    assert resource_type in rule.types
    return rule.check(resource_type, props, with_defaults(rule, config), stack)


def acm(**props) -> dict:
    return {"cert_name": "web", "domain": "web.example.com", "sans": ["web.example.com"],
            "key_algorithm": "RSA_2048", "tags": {}, **props}


def scm(**props) -> dict:
    return {"cert_name": "portal", "brand": "GEOTRUST", "type": "DV_SSL_CERT", "domain_type": "SINGLE_DOMAIN",
            "years": 1.0, "domains": ["portal.example.cn"], "csr": "scm", "key_algorithm": "RSA_2048",
            "tags": {}, "on_destroy": "keep", **props}


def cas(**props) -> dict:
    return {"order_name": "shop", "product_code": "symantec-dv-1-starter", "domains": ["shop.example.cn"],
            "csr_mode": "cas", "key_algorithm": "RSA_2048", "tags": {}, "revoke_on_delete": False, **props}


# --- facts ---------------------------------------------------------------------------------------------------

def test_plain_turns_unknowns_into_a_marker_and_keeps_the_rest():
    proxy = unknown_checking_proxy({"domain": "a.example.com", "journal": UNKNOWN_STRING_VALUE,
                                    "sans": ["a.example.com", UNKNOWN_STRING_VALUE], "tags": {"t": "v"}})
    assert plain(proxy) == {"domain": "a.example.com", "journal": UNKNOWN, "sans": ["a.example.com", UNKNOWN],
                            "tags": {"t": "v"}}


def test_stack_and_config_path_come_from_the_urn_and_the_entry_name():
    assert stack_of(URN.format(stack="prod")) == "prod"
    assert stack_of("not-a-urn") == ""
    assert config_path(SCM_CERTIFICATE, scm()) == "certfleet:huaweicloud.certificates.portal"
    assert config_path(CAS_INSTANCE_CERTIFICATE, {"order_name": UNKNOWN}) == "certfleet:alicloud.orders.?"


@pytest.mark.parametrize("name, key", [
    ("RSA_2048", Key("RSA_2048", "RSA", 2048)), ("RSA_4096", Key("RSA_4096", "RSA", 4096)),
    ("EC_prime256v1", Key("EC_prime256v1", "EC", 256)), ("EC_secp384r1", Key("EC_secp384r1", "EC", 384)),
    ("EC_P384", Key("EC_P384", "EC", 384)), ("SM2", Key("SM2", "SM2", 256)), ("DSA_1024", None)])
def test_key_algorithm_names_of_acm_scm_and_certfleet(name, key):
    assert key_from_algorithm(name) == key


def test_the_key_comes_from_the_csr_or_the_imported_certificate_when_there_is_one():
    _, csr = keys.generate_key_and_csr(["a.example.cn"], "EC_P384")
    assert key_of(CAS_ORDER, cas(csr_mode="pem", csr_pem=csr)).bits == 384
    assert key_of(SCM_CERTIFICATE, scm(csr=csr)).family == "EC"
    assert key_of(CAS_ORDER, cas(csr_mode="pem", csr_pem="garbage")) is None
    certificate, _ = pki.self_signed(["static.example.net"], "RSA_2048")
    assert key_of(ACM_IMPORT, {"cert_name": "static", "certificate_pem": certificate}).bits == 2048
    assert key_of(ACM_CERTIFICATE, acm(key_algorithm=UNKNOWN)) is None


def test_names_of_each_kind():
    assert names_of(ACM_CERTIFICATE, acm(domain="A.example.com", sans=["*.a.example.com", UNKNOWN])) == \
        ["*.a.example.com", "a.example.com"]
    certificate, _ = pki.self_signed(["static.example.net", "*.static.example.net"])
    assert names_of(ACM_IMPORT, {"certificate_pem": certificate}) == ["*.static.example.net", "static.example.net"]
    assert names_of(DISTRIBUTION, {"aliases": ["*.example.com"]}) == []


# --- key-algorithm -------------------------------------------------------------------------------------------

def test_key_algorithm_allows_the_default_keys():
    assert run("key-algorithm", ACM_CERTIFICATE, acm()) == []
    assert run("key-algorithm", ACM_CERTIFICATE, acm(key_algorithm="EC_prime256v1")) == []


def test_key_algorithm_refuses_a_small_key_naming_the_entry_and_the_config_key():
    [message] = run("key-algorithm", ACM_CERTIFICATE, acm(), {"minimumBits": {"RSA": 3072.0}})
    assert message == ("certfleet:aws.certificates.web: key RSA_2048 has 2048 bits, below the minimum of 3072 "
                       "for RSA keys (key-algorithm: minimumBits.RSA)")


def test_key_algorithm_refuses_a_type_not_allowed():
    [message] = run("key-algorithm", SCM_CERTIFICATE, scm(key_algorithm="SM2"))
    assert "key SM2 (SM2) is not an allowed key type; allowed: RSA, EC (key-algorithm: allowed)" in message
    assert run("key-algorithm", SCM_CERTIFICATE, scm(key_algorithm="SM2"), {"allowed": ["RSA", "EC", "SM2"]}) == []


def test_key_algorithm_reads_a_users_csr():
    _, csr = keys.generate_key_and_csr(["shop.example.cn"], "RSA_2048")
    [message] = run("key-algorithm", CAS_ORDER, cas(csr_mode="pem", csr_pem=csr), {"minimumBits": {"RSA": 4096}})
    assert "key RSA 2048 (from the CSR) has 2048 bits" in message


# --- allowed-issuers -----------------------------------------------------------------------------------------

def test_allowed_issuers_allows_anything_by_default():
    assert run("allowed-issuers", CAS_ORDER, cas()) == []
    assert run("allowed-issuers", SCM_CERTIFICATE, scm()) == []


def test_allowed_issuers_checks_the_cas_brand_and_plan():
    config = {"casBrands": ["digicert", "symantec"], "casProductCodes": ["digicert-free-1-free"]}
    assert run("allowed-issuers", CAS_ORDER, cas(product_code="digicert-free-1-free"), config) == []
    problems = run("allowed-issuers", CAS_ORDER, cas(product_code="geotrust-dv-1-starter"), config)
    assert problems == [
        "certfleet:alicloud.orders.shop: CA brand geotrust is not allowed; allowed: digicert, symantec "
        "(allowed-issuers: casBrands)",
        "certfleet:alicloud.orders.shop: CAS plan (productCode) geotrust-dv-1-starter is not allowed; allowed: "
        "digicert-free-1-free (allowed-issuers: casProductCodes)"]


def test_allowed_issuers_checks_the_scm_brand_and_type():
    config = {"scmBrands": ["GLOBALSIGN"], "scmTypes": []}
    problems = run("allowed-issuers", SCM_CERTIFICATE, scm(), config)
    assert [p.split(": ", 1)[1].split(" is ")[0] for p in problems] == ["SCM brand GEOTRUST",
                                                                       "SCM certificate type DV_SSL_CERT"]
    assert problems[1].endswith("allowed: none (allowed-issuers: scmTypes)")


# --- max-validity ----------------------------------------------------------------------------------------------

def test_max_validity_limits_scm_years():
    assert run("max-validity", SCM_CERTIFICATE, scm()) == []
    [message] = run("max-validity", SCM_CERTIFICATE, scm(years=3.0), {"maximumYears": 2.0})
    assert message == ("certfleet:huaweicloud.certificates.portal: years 3 is longer than the maximum validity of 2 "
                       "year(s) (max-validity: maximumYears)")


def test_max_validity_of_imports_only_when_configured():
    certificate, _ = pki.self_signed(["static.example.net"], not_before=pki.NOW,
                                     not_after=pki.NOW + timedelta(days=825))
    props = {"cert_name": "static", "certificate_pem": certificate}
    assert run("max-validity", ACM_IMPORT, props) == []
    [message] = run("max-validity", ACM_IMPORT, props, {"maximumImportedDays": 398})
    assert "valid for 825 days, longer than the maximum of 398 (max-validity: maximumImportedDays)" in message


# --- wildcard-approval -----------------------------------------------------------------------------------------

def test_wildcards_need_the_approval_tag():
    wildcard = acm(domain="*.apps.example.com", sans=["*.apps.example.com", "apps.example.com"])
    [message] = run("wildcard-approval", ACM_CERTIFICATE, wildcard)
    assert message == ("certfleet:aws.certificates.web: wildcard certificate (*.apps.example.com) without an "
                       "approval: add the tag 'wildcard-approved-by' naming who approved it (wildcard-approval: tagKey)")
    assert run("wildcard-approval", ACM_CERTIFICATE, {**wildcard, "tags": {"wildcard-approved-by": " "}})
    assert run("wildcard-approval", ACM_CERTIFICATE, {**wildcard, "tags": {"wildcard-approved-by": "sec-42"}}) == []
    assert run("wildcard-approval", ACM_CERTIFICATE, {**wildcard, "tags": {"ok": "sec"}}, {"tagKey": "ok"}) == []
    assert run("wildcard-approval", ACM_CERTIFICATE, acm()) == []


def test_wildcards_of_every_kind():
    assert run("wildcard-approval", CAS_ORDER, cas(domains=["*.shop.example.cn"]))
    assert run("wildcard-approval", CAS_INSTANCE_CERTIFICATE, cas(domains=["*.login.example.cn"]))
    assert run("wildcard-approval", SCM_CERTIFICATE, scm(domain_type="WILDCARD"))
    certificate, _ = pki.self_signed(["*.static.example.net"])
    assert run("wildcard-approval", ACM_IMPORT, {"cert_name": "static", "certificate_pem": certificate, "tags": {}})


# --- no-revoke-on-protected-stacks ------------------------------------------------------------------------------

def test_revoke_and_delete_on_destroy_are_refused_on_protected_stacks_only():
    revoking = cas(revoke_on_delete=True)
    [message] = run("no-revoke-on-protected-stacks", CAS_ORDER, revoking, stack="prod")
    assert message.startswith("certfleet:alicloud.orders.shop: revokeOnDelete: true (or alicloud.revokeOnDelete) "
                              "is not allowed on the protected stack 'prod'")
    assert run("no-revoke-on-protected-stacks", CAS_ORDER, revoking, stack="dev") == []
    assert run("no-revoke-on-protected-stacks", CAS_ORDER, revoking, {"protected": True}, stack="dev")
    assert run("no-revoke-on-protected-stacks", CAS_ORDER, revoking, {"protectedStacks": ["live"]}, "prod") == []


def test_on_destroy_delete_is_refused_on_protected_stacks_for_every_kind():
    for resource_type, props in ((SCM_CERTIFICATE, scm(on_destroy="delete")),
                                 (ACM_CERTIFICATE, acm(on_destroy="delete")),
                                 (DISTRIBUTION, {"dist_name": "shop", "on_destroy": "delete"})):
        [message] = run("no-revoke-on-protected-stacks", resource_type, props, stack="production")
        assert "onDestroy: delete is not allowed on the protected stack 'production'" in message
    assert run("no-revoke-on-protected-stacks", SCM_CERTIFICATE, scm(), stack="prod") == []
    assert run("no-revoke-on-protected-stacks", ACM_CERTIFICATE, acm(), stack="prod") == []  # AWS default: None


# --- cloudfront-min-tls ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("version, ok", [("TLSv1.2_2021", True), ("TLSv1.2_2025", True), ("TLSv1.3_2025", True),
                                         ("TLSv1.2_2019", False), ("TLSv1.1_2016", False), ("TLSv1", False),
                                         ("SSLv3", False), ("TLSv9_nonsense", False)])
def test_cloudfront_minimum_tls(version, ok):
    problems = run("cloudfront-min-tls", DISTRIBUTION, {"dist_name": "shop", "minimum_protocol_version": version})
    assert (problems == []) is ok
    if not ok:
        assert problems == [f"certfleet:aws.distributions.shop: minimumProtocolVersion {version} is below the "
                            f"minimum TLSv1.2_2021 (cloudfront-min-tls: minimum)"]


def test_cloudfront_minimum_tls_is_configurable_and_ordered():
    assert checks.tls_rank("TLSv1_2016") < checks.tls_rank("TLSv1.1_2016") < checks.tls_rank("TLSv1.2_2018")
    assert checks.tls_rank("TLSv1.2_2025") < checks.tls_rank("TLSv1.3_2025")
    props = {"dist_name": "shop", "minimum_protocol_version": "TLSv1.2_2019"}
    assert run("cloudfront-min-tls", DISTRIBUTION, props, {"minimum": "TLSv1.2_2018"}) == []


# --- the rules as a whole ----------------------------------------------------------------------------------------

def test_config_defaults_are_overridden_by_the_policy_config_and_unknown_keys_ignored():
    rule = RULE["max-validity"]
    assert with_defaults(rule, None) == {"maximumYears": 1, "maximumImportedDays": None}
    assert with_defaults(rule, {"maximumYears": 2.0, "enforcementLevel": "advisory"})["maximumYears"] == 2.0


def test_every_rule_has_a_schema_for_each_config_key_and_a_unique_name():
    names = [rule.name for rule in (*RULES, checks.STACK_RULE)]
    assert len(names) == len(set(names)) == 7
    for rule in (*RULES, checks.STACK_RULE):
        assert set(rule.schema) == set(rule.defaults), rule.name


@pytest.mark.parametrize("path", sorted((ROOT / "policy" / "config").glob("*.json")), ids=lambda p: p.name)
def test_the_shipped_policy_configs_fit_the_schemas(path):
    """What the engine checks before the pack starts (`--policy-pack-config`): known policies, a level or an
    object of the policy's config keys (plus enforcementLevel), each valid against the policy's schema."""
    levels = {"advisory", "mandatory", "remediate", "disabled"}
    config = json.loads(path.read_text())
    by_name = {rule.name: rule for rule in (*RULES, checks.STACK_RULE)}
    for name, value in config.items():
        if name == "all" or isinstance(value, str):
            assert value in levels, (name, value)
            continue
        rule = by_name[name]
        assert set(value) <= {*rule.schema, "enforcementLevel"}, name
        assert value.get("enforcementLevel", "mandatory") in levels
        jsonschema.validate({k: v for k, v in value.items() if k != "enforcementLevel"},
                            {"type": "object", "properties": dict(rule.schema)})
