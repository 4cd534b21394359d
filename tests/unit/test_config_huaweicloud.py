"""certfleet:huaweicloud config rules (seed 002 and the apply body): every error names its config path."""

from __future__ import annotations

import pytest

from components.config import load_fleet
from components.errors import ConfigError

APPLICANT = {"name": "Zhang.San", "phone": "13800000000", "email": "ops@example.com"}
COMPANY = {"name": "Example Ltd", "province": "Beijing", "city": "Beijing", "country": "cn"}
PATH = "certfleet:huaweicloud.certificates.api"


def load(huawei_extra=None, **cert):
    raw = {"brand": "GEOTRUST", "type": "DV_SSL_CERT", "domainType": "SINGLE_DOMAIN",
           "domains": ["api.example.com"], "applicant": APPLICANT, **cert}
    return load_fleet({"huaweicloud": {**(huawei_extra or {}), "certificates": {"api": raw}}})


def problems(**kwargs) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        load(**kwargs)
    return raised.value.problems


def test_defaults_and_normalisation():
    spec = load(domains=["API.Example.com"]).huaweicloud
    cert = spec.certificates[0]
    assert (spec.region, spec.issued_timeout_seconds, spec.validation_record_timeout_seconds) == ("cn-north-4", 0, 300)
    assert (cert.domains, cert.years, cert.domain_numbers) == (("api.example.com",), 1, 1)
    assert (cert.validation, cert.csr, cert.key_algorithm, cert.on_destroy) == ("DNS", "scm", "RSA_2048", "keep")


def test_multi_domain_ov_with_company():
    cert = load(brand="GLOBALSIGN", type="OV_SSL_CERT", domainType="MULTI_DOMAIN", company=COMPANY,
                domains=["api.example.com", "*.api.example.com"], domainNumbers=5).huaweicloud.certificates[0]
    assert cert.domain_numbers == 5 and cert.applicant.country == "CN" and cert.applicant.company_city == "Beijing"


@pytest.mark.parametrize("cert, path, rule", [
    ({"brand": "DIGICERT"}, f"{PATH}.brand", "must be one of GEOTRUST"),
    ({"type": "DV"}, f"{PATH}.type", "must be one of"),
    ({"domainType": "DOUBLE"}, f"{PATH}.domainType", "must be one of"),
    ({"years": 0}, f"{PATH}.years", "1 to 3"),
    ({"years": 4}, f"{PATH}.years", "1 to 3"),
    ({"years": True}, f"{PATH}.years", "1 to 3"),
    ({"domains": ["a.example.com", "b.example.com"]}, f"{PATH}.domains", "exactly one name"),
    ({"domains": ["*.example.com"]}, f"{PATH}.domains[0]", "use domainType WILDCARD"),
    ({"domainType": "WILDCARD"}, f"{PATH}.domains[0]", "*.example.com"),
    ({"domainType": "MULTI_DOMAIN"}, f"{PATH}.domains", "2 to 100 names"),
    ({"domainType": "MULTI_DOMAIN", "domains": [f"n{i}.example.com" for i in range(101)]}, f"{PATH}.domains",
     "2 to 100 names"),
    ({"domainType": "MULTI_DOMAIN", "domains": ["a.example.com", "b.example.com"], "domainNumbers": 101},
     f"{PATH}.domainNumbers", "to 100"),
    ({"domainType": "MULTI_DOMAIN", "domains": ["a.example.com", "b.example.com", "c.example.com"],
      "domainNumbers": 2}, f"{PATH}.domainNumbers", "from 3"),
    ({"domainNumbers": 2}, f"{PATH}.domainNumbers", "must be 1"),
    ({"domains": ["a.example.com", "a.example.com"], "domainType": "MULTI_DOMAIN"}, f"{PATH}.domains[1]",
     "listed twice"),
    ({"domains": ["bad_name.example.com"]}, f"{PATH}.domains[0]", "RFC 1123"),
    ({"domains": ["10.0.0.1"]}, f"{PATH}.domains[0]", "IP address"),
    ({"validation": "FILE"}, f"{PATH}.validation", "IP-address certificates"),
    ({"validation": "HTTP"}, f"{PATH}.validation", "must be one of DNS, EMAIL"),
    ({"csr": "nonsense"}, f"{PATH}.csr", "PEM certificate signing request"),
    ({"csr": "generate", "keyAlgorithm": "SM2"}, f"{PATH}.keyAlgorithm", "csr: generate"),
    ({"keyAlgorithm": "RSA_1024"}, f"{PATH}.keyAlgorithm", "must be one of"),
    ({"type": "OV_SSL_CERT", "company": COMPANY}, f"{PATH}.caHashAlgorithm", "GeoTrust OV"),
    ({"type": "EV_SSL_CERT", "brand": "GLOBALSIGN"}, f"{PATH}.company", "required for OV and EV"),
    ({"type": "OV_SSL_CERT", "brand": "GLOBALSIGN", "company": {**COMPANY, "country": "CHN"}},
     f"{PATH}.company.country", "two-letter"),
    ({"type": "OV_SSL_CERT", "brand": "GLOBALSIGN", "company": {"name": "x" * 64, "province": "B", "city": "B",
                                                                "country": "CN"}},
     f"{PATH}.company.name", "at most 63"),
    ({"applicant": {**APPLICANT, "name": "Li"}}, f"{PATH}.applicant.name", "4-100 bytes"),
    ({"applicant": {**APPLICANT, "name": "Zhang San"}}, f"{PATH}.applicant.name", "no spaces"),
    ({"applicant": {**APPLICANT, "phone": "call me"}}, f"{PATH}.applicant.phone", "phone number"),
    ({"applicant": {**APPLICANT, "email": "nobody"}}, f"{PATH}.applicant.email", "email address"),
    ({"applicant": {"name": "Zhang.San"}}, f"{PATH}.applicant.phone", "is required"),
    ({"applicant": {**APPLICANT, "nmae": "x"}}, f"{PATH}.applicant.nmae", "did you mean 'name'"),
    ({"tags": {"certfleet-resource": "x"}}, f"{PATH}.tags.certfleet-resource", "certfleet's own"),
    ({"tags": {"bad/key": "x"}}, f"{PATH}.tags.bad/key", "SCM tag keys"),
    ({"tags": {f"k{i}": "v" for i in range(8)}}, f"{PATH}.tags", "at most 7 tags"),
    ({"onDestroy": "revoke"}, f"{PATH}.onDestroy", "must be one of keep, delete"),
    ({"brnad": "GEOTRUST"}, f"{PATH}.brnad", "did you mean 'brand'"),
])
def test_rule_names_its_path(cert, path, rule):
    found = [p for p in problems(**cert) if p.startswith(f"{path}: ")]
    assert found and rule in found[0], problems(**cert)


def test_required_fields_and_section_rules():
    with pytest.raises(ConfigError) as raised:
        load_fleet({"huaweicloud": {"region": "mars", "enterpriseProjectId": "nope", "certificates": {"Bad": {}}}})
    text = "\n".join(raised.value.problems)
    for expected in ("certfleet:huaweicloud.region: must be a Huawei Cloud region",
                     "certfleet:huaweicloud.enterpriseProjectId: must be '0'",
                     "certfleet:huaweicloud.certificates.Bad: certificate names",
                     "certfleet:huaweicloud.certificates.Bad.brand: is required",
                     "certfleet:huaweicloud.certificates.Bad.domains: is required",
                     "certfleet:huaweicloud.certificates.Bad.applicant: is required"):
        assert expected in text


def test_every_problem_is_reported_at_once():
    assert len(problems(brand="X", years=9, validation="FILE")) == 3


def test_given_csr_must_name_the_primary_domain():
    from components.keys import generate_key_and_csr

    _, csr = generate_key_and_csr(["other.example.com"], "EC_P256")
    assert any("does not name the primary domain" in p for p in problems(csr=csr))
    _, csr = generate_key_and_csr(["api.example.com"], "EC_P256")
    assert load(csr=csr).huaweicloud.certificates[0].csr == csr


def test_extra_name_numbers_default_to_the_names_listed():
    cert = load(brand="GLOBALSIGN", type="OV_SSL_CERT", domainType="MULTI_DOMAIN", company=COMPANY,
                domains=["api.example.com", "*.api.example.com", "www.example.com", "*.www.example.com",
                         "m.example.com"]).huaweicloud.certificates[0]
    assert (cert.single_domain_number, cert.wildcard_domain_number) == (2, 2)
    single = load().huaweicloud.certificates[0]
    assert (single.single_domain_number, single.wildcard_domain_number) == (None, None)


def test_extra_name_numbers_can_buy_room_for_later_names():
    cert = load(domainType="MULTI_DOMAIN", domains=["api.example.com", "www.example.com"], domainNumbers=10,
                singleDomainNumber=5, wildcardDomainNumber=4).huaweicloud.certificates[0]
    assert (cert.single_domain_number, cert.wildcard_domain_number, cert.domain_numbers) == (5, 4, 10)


@pytest.mark.parametrize("cert, path, rule", [
    ({"singleDomainNumber": 2}, f"{PATH}.singleDomainNumber", "only for domainType MULTI_DOMAIN"),
    ({"domainType": "MULTI_DOMAIN", "domains": ["a.example.com", "b.example.com", "c.example.com"],
      "singleDomainNumber": 1}, f"{PATH}.singleDomainNumber", "from 2 (the names listed) to 100"),
    ({"domainType": "MULTI_DOMAIN", "domains": ["a.example.com", "b.example.com"], "wildcardDomainNumber": 101},
     f"{PATH}.wildcardDomainNumber", "to 100"),
    ({"domainType": "MULTI_DOMAIN", "domains": ["a.example.com", "b.example.com"], "domainNumbers": 3,
      "singleDomainNumber": 2, "wildcardDomainNumber": 1}, PATH, "must not exceed domainNumbers - 1 (2)"),
])
def test_extra_name_number_rules(cert, path, rule):
    found = problems(**cert)
    assert any(p.startswith(path + ": ") and rule in p for p in found), found


# --- full matches and blank text --------------------------------------------------------------------------------

OV = {"brand": "GLOBALSIGN", "type": "OV_SSL_CERT"}


@pytest.mark.parametrize("cert, path, rule", [
    ({"domains": ["api.example.com\n"]}, f"{PATH}.domains[0]", "control characters"),
    ({"domains": ["api\n.example.com"]}, f"{PATH}.domains[0]", "control characters"),
    ({"domainType": "MULTI_DOMAIN", "domains": ["api.example.com", "www.example.com\t"]}, f"{PATH}.domains[1]",
     "control characters"),
    ({"tags": {"env\n": "prod"}}, f"{PATH}.tags.env\n", "SCM tag keys"),
    ({"tags": {"env": "prod\n"}}, f"{PATH}.tags.env", "SCM tag values"),
    ({"tags": {"env": "pr\tod"}}, f"{PATH}.tags.env", "SCM tag values"),
    ({"applicant": {**APPLICANT, "name": "Zhang.San\n"}}, f"{PATH}.applicant.name", "one line of text"),
    ({"applicant": {**APPLICANT, "phone": "13800000000\n"}}, f"{PATH}.applicant.phone", "one line of text"),
    ({"applicant": {**APPLICANT, "email": "ops@example.com\n"}}, f"{PATH}.applicant.email", "one line of text"),
    ({"applicant": {**APPLICANT, "contactName": "  "}}, f"{PATH}.applicant.contactName", "empty or blank"),
    ({**OV, "company": {**COMPANY, "country": "CN\n"}}, f"{PATH}.company.country", "one line of text"),
    ({**OV, "company": {**COMPANY, "name": ""}}, f"{PATH}.company.name", "must not be empty or blank, got ''"),
    ({**OV, "company": {**COMPANY, "province": "   "}}, f"{PATH}.company.province", "empty or blank"),
    ({**OV, "company": {**COMPANY, "city": "Beijing\n"}}, f"{PATH}.company.city", "one line of text"),
    ({**OV, "company": {**COMPANY, "unit": ""}}, f"{PATH}.company.unit", "empty or blank"),
])
def test_values_must_match_whole_and_not_be_blank(cert, path, rule):
    found = problems(**cert)
    assert len(found) == 1 and found[0].startswith(f"{path}: ") and rule in found[0], found


@pytest.mark.parametrize("section, path, rule", [
    ({"region": "cn-north-4\n"}, "certfleet:huaweicloud.region", "Huawei Cloud region"),
    ({"enterpriseProjectId": "0\n"}, "certfleet:huaweicloud.enterpriseProjectId", "one line of text"),
    ({"enterpriseProjectId": "0 "}, "certfleet:huaweicloud.enterpriseProjectId", "must be '0' (the default project)"),
    ({"tags": {"team\n": "web"}}, "certfleet:huaweicloud.tags.team\n", "SCM tag keys"),
])
def test_section_values_must_match_whole(section, path, rule):
    found = problems(huawei_extra=section)
    assert len(found) == 1 and found[0].startswith(f"{path}: ") and rule in found[0], found


def test_certificate_names_must_match_whole():
    with pytest.raises(ConfigError) as raised:
        load_fleet({"huaweicloud": {"certificates": {"api\n": {}}}})
    assert raised.value.problems[0] == ("certfleet:huaweicloud.certificates.api\n: certificate names must be 1-63 "
                                        "lower-case letters, digits or '-', starting and ending with a letter or "
                                        "digit, got 'api\\n'")


# --- listingLagSeconds and previousNames ---------------------------------------------------------------------

def test_listing_lag_seconds_default_and_range():
    assert load().huaweicloud.listing_lag_seconds == 120
    assert load({"listingLagSeconds": 0}).huaweicloud.listing_lag_seconds == 0
    assert load({"listingLagSeconds": 3600}).huaweicloud.listing_lag_seconds == 3600
    for bad in (3601, -1, "120", False):
        assert problems(huawei_extra={"listingLagSeconds": bad}) == [
            f"certfleet:huaweicloud.listingLagSeconds: must be a whole number of seconds from 0 to 3600, got {bad!r}"]


def test_previous_names_of_certificates():
    assert load(previousNames=["api-v1"]).huaweicloud.certificates[0].previous_names == ("api-v1",)
    assert load().huaweicloud.certificates[0].previous_names == ()


def portal(**extra):
    return {"brand": "GEOTRUST", "type": "DV_SSL_CERT", "domainType": "SINGLE_DOMAIN",
            "domains": ["portal.example.eu"], "applicant": APPLICANT, **extra}


@pytest.mark.parametrize("previous, rule", [
    (["portal-eu"], "'portal-eu' is this certificate's own name"),
    (["portal"], "'portal' is the name of a current certificate, certfleet:huaweicloud.certificates.portal"),
    (["portal-de", "portal-de"], None),
    (["Portal"], "certificate names must be 1-63 lower-case letters"),
    (["portal-\n"], "certificate names must be 1-63 lower-case letters"),
])
def test_previous_name_rules(previous, rule):
    with pytest.raises(ConfigError) as raised:
        load_fleet({"huaweicloud": {"certificates": {
            "portal": portal(), "portal-eu": portal(domains=["portal.example.de"], previousNames=previous)}}})
    [problem] = raised.value.problems
    if rule is None:
        assert problem == "certfleet:huaweicloud.certificates.portal-eu.previousNames[1]: 'portal-de' is listed twice"
    else:
        assert problem.startswith(f"certfleet:huaweicloud.certificates.portal-eu.previousNames[0]: {rule}"), problem


def test_a_previous_name_belongs_to_one_certificate():
    with pytest.raises(ConfigError) as raised:
        load_fleet({"huaweicloud": {"certificates": {
            "portal-de": portal(domains=["portal.example.de"], previousNames=["portal"]),
            "portal-eu": portal(previousNames=["portal"])}}})
    assert raised.value.problems == [
        "certfleet:huaweicloud.certificates.portal-eu.previousNames[0]: 'portal' is already claimed by "
        "certfleet:huaweicloud.certificates.portal-de; a previous name belongs to one certificate"]
