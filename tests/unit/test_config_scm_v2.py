"""certfleet:huaweicloud `api: v2` (seed 003): what the v2 purchase can buy, and the schema agreeing with the
model on it. Every error names its config path."""

from __future__ import annotations

import json

import jsonschema
import pytest

from components.config import load_fleet
from components.errors import ConfigError
from tests.conftest import ROOT

SCHEMA = json.loads((ROOT / "schema" / "certfleet.schema.json").read_text())
APPLICANT = {"name": "Zhang.San", "phone": "13800000000", "email": "ops@example.com"}
COMPANY = {"name": "Example Ltd", "province": "Beijing", "city": "Beijing", "country": "CN"}
PROJECT = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
PATH = "certfleet:huaweicloud.certificates.legacy"


def config(section=None, **cert):
    entry = {"api": "v2", "brand": "GLOBALSIGN", "type": "OV_SSL_CERT", "domainType": "MULTI_DOMAIN",
             "domains": ["legacy.example.com", "www.legacy.example.com"], "applicant": APPLICANT, "company": COMPANY,
             **cert}
    return {"huaweicloud": {"projectId": PROJECT, **(section or {}), "certificates": {"legacy": entry}}}


def problems(raw) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        load_fleet(raw)
    with pytest.raises(jsonschema.ValidationError):  # the schema refuses it too
        jsonschema.validate(raw, SCHEMA)
    return raised.value.problems


def test_a_v2_entry_reads_with_its_project():
    raw = config(years=2, domainNumbers=5)
    jsonschema.validate(raw, SCHEMA)
    huawei = load_fleet(raw).huaweicloud
    [cert] = huawei.certificates
    assert (cert.api, cert.years, cert.domain_numbers, huawei.project_id) == ("v2", 2, 5, PROJECT)
    assert (cert.single_domain_number, cert.wildcard_domain_number) == (None, None)  # v2 has no split


def test_the_section_api_is_every_entry_default_and_an_entry_may_override_it():
    raw = config({"api": "v2"})
    del raw["huaweicloud"]["certificates"]["legacy"]["api"]
    raw["huaweicloud"]["certificates"]["modern"] = {"api": "v3", "brand": "GEOTRUST", "type": "DV_SSL_CERT",
                                                    "domainType": "SINGLE_DOMAIN", "domains": ["m.example.com"],
                                                    "applicant": APPLICANT}
    jsonschema.validate(raw, SCHEMA)
    apis = {c.name: c.api for c in load_fleet(raw).huaweicloud.certificates}
    assert apis == {"legacy": "v2", "modern": "v3"}
    assert load_fleet({"huaweicloud": {"certificates": {"m": raw["huaweicloud"]["certificates"]["modern"]}}}) \
        .huaweicloud.certificates[0].api == "v3"  # the default


@pytest.mark.parametrize("cert, path, rule", [
    ({"type": "DV_SSL_CERT", "company": None}, f"{PATH}.type", "sells OV_SSL_CERT and EV_SSL_CERT only"),
    ({"type": "OV_SSL_CERT_PRO"}, f"{PATH}.type", "sells OV_SSL_CERT and EV_SSL_CERT only"),
    ({"years": 3}, f"{PATH}.years", "buys 1 or 2 years"),
    ({"singleDomainNumber": 1}, f"{PATH}.singleDomainNumber", "has no such field"),
    ({"wildcardDomainNumber": 1}, f"{PATH}.wildcardDomainNumber", "has no such field"),
    ({"api": "v1"}, f"{PATH}.api", "must be one of v3, v2"),
])
def test_what_v2_cannot_buy_fails_naming_the_path(cert, path, rule):
    raw = config(**cert)
    if cert.get("company", 1) is None:
        del raw["huaweicloud"]["certificates"]["legacy"]["company"]
    found = problems(raw)
    assert any(p.startswith(f"{path}: ") and rule in p for p in found), found


def test_v2_needs_the_project_of_its_path():
    raw = config()
    del raw["huaweicloud"]["projectId"]
    assert any(p.startswith("certfleet:huaweicloud.projectId: ") for p in problems(config({"projectId": None})))
    found = problems({"huaweicloud": {**raw["huaweicloud"], "api": "v2"}})
    assert any(p.startswith("certfleet:huaweicloud.projectId: is required when a certificate buys through api: v2")
               and "'legacy'" in p for p in found), found
    with pytest.raises(ConfigError) as raised:  # an entry's own api: v2 needs it too (the schema cannot see it)
        load_fleet(raw)
    assert any(p.startswith("certfleet:huaweicloud.projectId: ") for p in raised.value.problems)


def test_a_project_id_has_the_shape_of_one():
    found = problems(config({"api": "v2", "projectId": "my-project"}))
    assert any(p.startswith("certfleet:huaweicloud.projectId: must be a Huawei Cloud project id") for p in found)


def test_v2_cannot_choose_an_enterprise_project():
    found = problems(config({"api": "v2", "enterpriseProjectId": "0c5b5b7e-1c43-4a5e-9a1e-2d5f0c6b7a8d"}))
    assert any(p.startswith("certfleet:huaweicloud.enterpriseProjectId: a v2 purchase") for p in found), found
    load_fleet(config({"enterpriseProjectId": "0"}))  # the default project is where v2 purchases land
