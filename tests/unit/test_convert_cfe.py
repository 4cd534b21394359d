"""scripts/convert_cfe.py: every example request of seed 000 and of the reference converts into config that
load_fleet accepts, private keys never in the YAML, and each rule CloudFront Extensions never checked is reported
with the request path it is about."""

from __future__ import annotations

import io
import json
import re
import stat
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml

from components.config import load_fleet
from scripts import cfe_request
from scripts.convert_cfe import run
from tests import pki

SEED = Path("/work/shared/seeds/000_866fa61c1aea088c.txt")
TEMPLATE = "E195R1W5GIVPF5"
# Certificates dated around the real clock: load_fleet checks them against "now".
PKI = pki.Pki.make(slot=7, now=datetime.now(timezone.utc))


def seed_requests() -> list[str]:
    """The seed's request bodies as written (its JSON blocks that are requests, not the response)."""
    blocks = re.findall(r"``` json\n(.*?)```", SEED.read_text(), re.S)
    return [b for b in blocks if '"acm_op"' in b]


def with_real_pems(body: dict, names_per_item: list[list[str]] | None = None) -> dict:
    """The seed's XXXX placeholders replaced by a real leaf, its key and the chain (tests/pki.py)."""
    for i, item in enumerate(body.get("pemList") or []):
        names = (names_per_item or [])[i] if names_per_item else [f"www.site{i}.example.com", f"site{i}.example.com"]
        item["CertPem"], item["PrivateKeyPem"] = PKI.leaf(names, slot=i)
        item["ChainPem"] = PKI.chain_pem()
    return body


def convert(tmp_path: Path, body: dict | str, *args: str) -> tuple[int, str, list[str]]:
    """Run the command on a request file: (exit code, stdout YAML, stderr lines)."""
    request = tmp_path / "request.json"
    request.write_text(body if isinstance(body, str) else json.dumps(body))
    out, err = io.StringIO(), io.StringIO()
    code = run([str(request), *args], out, err)
    return code, out.getvalue(), err.getvalue().splitlines()


def loads(document: str, body: dict) -> object:
    """The YAML through load_fleet, each private key added as the secret `pulumi config set --secret` makes it."""
    aws = yaml.safe_load(document)["config"]["certfleet:aws"]
    conversion = cfe_request.convert(body)
    for name, key in conversion.private_keys.items():
        aws["imports"][name]["privateKey"] = key
    secret_paths = [f"certfleet:aws.imports.{name}.privateKey" for name in conversion.private_keys]
    return load_fleet({"aws": aws}, secret_paths=secret_paths)


def create_request(entries: list[dict], **flags: str) -> dict:
    return {"acm_op": "create", "auto_creation": "true", **flags,
            "cnameList": [{"existing_cf_info": {"distribution_id": TEMPLATE}, **e} for e in entries]}


def test_the_seed_has_five_example_requests():
    assert len(seed_requests()) == 5


@pytest.mark.parametrize("index", range(5))
def test_every_seed_example_converts_into_config_load_fleet_accepts(tmp_path, index):
    body, notes = cfe_request.parse_request(seed_requests()[index])
    body = with_real_pems(body)
    code, document, report = convert(tmp_path, body)
    assert code == 0, report
    fleet = loads(document, body)
    aws = yaml.safe_load(document)["config"]["certfleet:aws"]
    assert aws["region"] == "us-east-1" and aws["cnameCheck"] is True and aws["aggregate"] is False
    assert "PRIVATE KEY" not in document
    entries = body["cnameList"] or body["pemList"]
    assert len(fleet.aws.distributions) == len(entries)   # auto_creation "true": one distribution per item
    assert len(fleet.aws.certificates) + len(fleet.aws.imports) == len(entries)
    for distribution in aws["distributions"].values():
        assert distribution["template"] in (TEMPLATE, "E1DACGTRXKKWCH")


def test_seed_bodies_with_trailing_commas_are_read_and_the_fact_reported():
    texts = seed_requests()
    flawed = [t for t in texts if re.search(r",\s*}", t)]
    assert flawed
    for text in flawed:
        with pytest.raises(json.JSONDecodeError):
            json.loads(text)
        body, notes = cfe_request.parse_request(text)
        assert body["acm_op"] in ("create", "import") and notes and "not valid JSON" in notes[0]


def test_seed_create_example_field_by_field(tmp_path):
    body, _ = cfe_request.parse_request(seed_requests()[0])
    code, document, report = convert(tmp_path, body)
    aws = yaml.safe_load(document)["config"]["certfleet:aws"]
    assert aws["certificates"] == {"yourdomainname-com": {"domain": "yourdomainname.com",
                                                           "sans": ["yourdomainnamealias1.com"]}}
    assert aws["distributions"] == {"yourdomainname-com": {"template": TEMPLATE, "templateVersion": "1",
                                                           "certificate": "yourdomainname-com"}}
    assert "templateVersion: '1'" in document   # text, not a number
    assert any(line.startswith("cnameList[0].domainName: 'YOURDOMAINNAME.COM' has upper-case") for line in report)
    assert any(line.startswith("existing_cf_info.config_version_id: ") and "versionStore" in line for line in report)


def test_seed_duplicate_san_is_reported_at_its_path(tmp_path):
    body, _ = cfe_request.parse_request(seed_requests()[2])
    code, document, report = convert(tmp_path, body)
    assert "cnameList[1].sanList[2]: 'yourdomainname2alias1.com' repeats sanList[1]; taken once" in report
    aws = yaml.safe_load(document)["config"]["certfleet:aws"]
    assert aws["certificates"]["yourdomainname2-com"]["sans"] == ["yourdomainname2alias1.com"]


def test_imports_keys_become_secret_commands_and_files(tmp_path):
    body, _ = cfe_request.parse_request(seed_requests()[4])
    body = with_real_pems(body)
    keys = tmp_path / "keys"
    code, document, report = convert(tmp_path, body, "--stack", "dev", "--write-keys", str(keys))
    assert code == 0 and "PRIVATE KEY" not in document and "PRIVATE KEY" not in "\n".join(report)
    aws = yaml.safe_load(document)["config"]["certfleet:aws"]
    assert sorted(aws["imports"]) == ["www-site0-example-com", "www-site1-example-com"]
    assert "privateKey" not in json.dumps(aws)
    for i, name in enumerate(sorted(aws["imports"])):
        command = (f"  pulumi config set --stack dev --secret --path 'certfleet:aws.imports.{name}.privateKey' "
                   f"< {keys / (name + '.key.pem')}")
        assert command in report
        key_file = keys / f"{name}.key.pem"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        assert key_file.read_text() == body["pemList"][i]["PrivateKeyPem"]
        assert aws["imports"][name]["certificate"] == body["pemList"][i]["CertPem"]


def test_without_write_keys_the_command_names_the_request_path(tmp_path):
    body = with_real_pems(cfe_request.parse_request(seed_requests()[3])[0])
    code, document, report = convert(tmp_path, body)
    assert ("  pulumi config set --secret --path 'certfleet:aws.imports.www-site0-example-com.privateKey' "
            "< www-site0-example-com.key.pem   # pemList[0].PrivateKeyPem") in report
    assert not list(tmp_path.glob("*.key.pem"))


def test_import_names_come_from_the_certificate_and_cfe_drops_are_reported(tmp_path):
    body = with_real_pems({"acm_op": "import", "auto_creation": "true", "cnameList": [],
                           "pemList": [{"existing_cf_info": {"distribution_id": TEMPLATE}}]},
                          [["example.com", "www.example.com"]])
    code, document, report = convert(tmp_path, body)
    fleet = loads(document, body)
    assert fleet.aws.distributions[0].aliases == ("example.com", "www.example.com")
    assert any(line.startswith("pemList[0].CertPem: CFE dropped example.com") for line in report)


def test_missing_existing_cf_info_on_an_import_with_auto_creation(tmp_path):
    body = with_real_pems({"acm_op": "import", "auto_creation": "true", "cnameList": [], "pemList": [{}]})
    code, document, report = convert(tmp_path, body)
    assert code == 0
    assert any(line.startswith("pemList[0].existing_cf_info: missing with auto_creation") and "KeyError" in line
               for line in report)
    assert "distributions" not in yaml.safe_load(document)["config"]["certfleet:aws"]
    loads(document, body)


@pytest.mark.parametrize("version, expected, said", [
    ("", None, '"" is not a version number'),
    ("v3", None, "'v3' is not a version number"),
    ("0", None, "0 names no version"),
    ("03", "3", "'03' written as \"3\""),
    (7, "7", "7 written as \"7\""),
    ("12", "12", None),
])
def test_config_version_id(tmp_path, version, expected, said):
    body = create_request([{"domainName": "a.example.com", "sanList": ["a.example.com"],
                            "existing_cf_info": {"distribution_id": TEMPLATE, "config_version_id": version}}])
    code, document, report = convert(tmp_path, body)
    distribution = yaml.safe_load(document)["config"]["certfleet:aws"]["distributions"]["a-example-com"]
    assert distribution.get("templateVersion") == expected
    path = "cnameList[0].existing_cf_info.config_version_id: "
    assert any(line.startswith(path + said) for line in report) if said else not any(
        line.startswith(path) for line in report)
    loads(document, body)


def test_empty_san_list_uppercase_invalid_names_and_origins(tmp_path):
    body = create_request([
        {"domainName": "Shop.Example.com", "sanList": [], "originsItemsDomainName": "origin.example.com"},
        {"domainName": "api.example.com", "sanList": ["api.example.com", "a..b.example.com", "WWW.api.example.com"]},
    ], enable_cname_check="false")
    code, document, report = convert(tmp_path, body)
    assert any(line.startswith("cnameList[0].sanList: is empty") for line in report)
    assert any(line.startswith("cnameList[0].domainName: 'Shop.Example.com' has upper-case") for line in report)
    assert any(line.startswith("cnameList[0].originsItemsDomainName: dropped") for line in report)
    assert any(line.startswith("cnameList[1].sanList[1]: 'a..b.example.com' has an empty label") for line in report)
    assert any(line.startswith("cnameList[1].sanList[2]: 'WWW.api.example.com' has upper-case") for line in report)
    assert any(line.startswith('enable_cname_check: "false" not carried over') for line in report)
    aws = yaml.safe_load(document)["config"]["certfleet:aws"]
    assert aws["cnameCheck"] is True
    assert aws["certificates"] == {"shop-example-com": {"domain": "shop.example.com"},
                                   "api-example-com": {"domain": "api.example.com", "sans": ["www.api.example.com"]}}
    fleet = loads(document, body)
    assert {d.name: d.aliases for d in fleet.aws.distributions}["shop-example-com"] == ("shop.example.com",)


def test_a_name_in_two_entries_is_reported_and_kept_once(tmp_path):
    body = create_request([{"domainName": "a.example.com", "sanList": ["a.example.com", "b.example.com"]},
                           {"domainName": "c.example.com", "sanList": ["c.example.com", "b.example.com"]},
                           {"domainName": "a.example.com", "sanList": ["a.example.com"]}])
    code, document, report = convert(tmp_path, body)
    assert any(line.startswith("cnameList[1].sanList[1]: 'b.example.com' is already in cnameList[0]")
               for line in report)
    assert any(line.startswith("cnameList[2].domainName: 'a.example.com' is already the name of cnameList[0]")
               for line in report)
    assert len(loads(document, body).aws.certificates) == 2


def test_more_than_100_items_and_more_than_10_names(tmp_path):
    many = [{"domainName": f"h{i}.example.com", "sanList": [f"h{i}.example.com"]} for i in range(101)]
    many[0]["sanList"] = [f"n{j}.h0.example.com" for j in range(11)]
    code, document, report = convert(tmp_path, create_request(many))
    assert any(line.startswith("cnameList: 101 items: CFE's documented limit is 100") for line in report)
    assert any(line.startswith("cnameList[0]: 12 names: above ACM's default quota of 10") for line in report)
    assert len(loads(document, create_request(many)).aws.certificates) == 101


def test_reference_aggregation_example_agrees(tmp_path):
    """Reference §4.3, README example: cdn4 (sans cdn5) reuses cdn2's *.risetron.cn in both."""
    body = create_request([{"domainName": "cdn2.risetron.cn", "sanList": ["*.risetron.cn"]},
                           {"domainName": "cdn4.risetron.cn", "sanList": ["cdn5.risetron.cn"]}], dist_aggregate="true")
    code, document, report = convert(tmp_path, body)
    assert not any("aggregation differs" in line for line in report)
    fleet = loads(document, body)
    assert [tuple(r) for r in fleet.aws.reuses] == [("cdn4-risetron-cn", "cdn2-risetron-cn")]


def test_reference_aggregation_defects_are_reported_per_entry(tmp_path):
    """Reference §4.3's matcher table and order dependence: every entry where CFE and certfleet disagree."""
    body = create_request([
        {"domainName": "before.example.com", "sanList": ["before.example.com"]},       # wildcard comes later
        {"domainName": "wild.example.com", "sanList": ["*.example.com"]},
        {"domainName": "a.b.example.com", "sanList": ["a.b.example.com"]},
        {"domainName": "a.example.com.evil.net", "sanList": ["a.example.com.evil.net"]},
        {"domainName": "a.examplexcom.org", "sanList": ["a.exampleXcom"]},
        {"domainName": "apex.example.com", "sanList": ["example.com"]},
        {"domainName": "ok.example.com", "sanList": ["ok.example.com"]},
    ], dist_aggregate="true")
    code, document, report = convert(tmp_path, body)
    differs = {line.split(":")[0] for line in report if "aggregation differs" in line}
    assert differs == {"cnameList[0]", "cnameList[2]", "cnameList[3]", "cnameList[4]"}
    assert any("cnameList[0]: aggregation differs for entry before-example-com: CFE would have requested" in line
               and "certfleet reuses wild-example-com" in line for line in report)
    fleet = loads(document, body)
    assert {r[0] for r in fleet.aws.reuses} == {"before-example-com", "ok-example-com"}


def test_cfe_matcher_table():
    """Reference §4.3, observed: the regex as CFE ran it."""
    entries = [("w", ["*.example.com"])]
    for san, matched in [("a.b.example.com", True), ("a.example.com.evil.net", True), ("a.exampleXcom", True),
                         ("example.com", False)]:
        assert ("x" in cfe_request.cfe_aggregation(entries + [("x", [san])])) is matched, san
    assert "x" in cfe_request.cfe_aggregation(entries + [("x", [])])   # empty list: vacuous match


def test_aggregate_without_auto_creation_is_off(tmp_path):
    body = {**create_request([{"domainName": "a.example.com", "sanList": ["a.example.com"]}], dist_aggregate="true"),
            "auto_creation": "false"}
    code, document, report = convert(tmp_path, body)
    aws = yaml.safe_load(document)["config"]["certfleet:aws"]
    assert aws["aggregate"] is False and "distributions" not in aws
    assert any(line.startswith('dist_aggregate: "true" without auto_creation') for line in report)


def test_entry_names_are_valid_and_deterministic():
    assert cfe_request.entry_name("*.Apps.Example.com") == "wildcard-apps-example-com"
    long = cfe_request.entry_name("a" * 60 + ".example.com")
    assert len(long) <= 63 and long == cfe_request.entry_name("a" * 60 + ".example.com")
    taken: set[str] = set()
    assert [cfe_request.unique_name("x-com", taken) for _ in range(3)] == ["x-com", "x-com-2", "x-com-3"]


def test_template_map_replaces_the_template(tmp_path):
    body, _ = cfe_request.parse_request(seed_requests()[1])
    code, document, report = convert(tmp_path, body, "--template-map", f"{TEMPLATE}=E2QWRUHAPOMQZL",
                                     "--template-map", "EUNUSED0000000=E2QWRUHAPOMQZL")
    aws = yaml.safe_load(document)["config"]["certfleet:aws"]
    assert aws["distributions"]["yourdomainname-com"]["template"] == "E2QWRUHAPOMQZL"
    assert "--template-map: EUNUSED0000000 is not a distribution_id of the request; unused" in report


def test_nothing_sensible_exits_non_zero(tmp_path):
    code, document, report = convert(tmp_path, seed_requests()[3])   # the seed's XXXX placeholders as they are
    assert code == 1 and document == ""
    assert any(line.startswith("pemList[0].CertPem: ") for line in report)
    code, _, report = convert(tmp_path, "not json")
    assert code == 1


def test_output_file_is_never_overwritten(tmp_path):
    body, _ = cfe_request.parse_request(seed_requests()[0])
    target = tmp_path / "stacks" / "Pulumi.dev.yaml"
    code, document, _ = convert(tmp_path, body, "--output", str(target))
    assert code == 0 and document == "" and yaml.safe_load(target.read_text())["config"]["certfleet:aws"]
    with pytest.raises(SystemExit):
        convert(tmp_path, body, "--output", str(target))


def test_the_documented_example_requests_convert_and_load(tmp_path):
    """docs/moving-to-certfleet.md: `python -m scripts.cfe_examples write DIR`, then convert each."""
    from scripts import cfe_examples
    bodies = cfe_examples.requests()
    assert len(bodies) == 5
    for name, body in bodies.items():
        code, document, report = convert(tmp_path, body)
        assert code == 0, (name, report)
        assert "PRIVATE KEY" not in document
        assert loads(document, body).aws.distributions, name


def test_a_key_inside_the_chain_is_never_written_and_the_entry_is_left_out(tmp_path):
    body = with_real_pems(cfe_request.parse_request(seed_requests()[3])[0])
    item = body["pemList"][0]
    item["ChainPem"] = item["ChainPem"] + item["PrivateKeyPem"]  # a bundle with the key in it
    code, document, report = convert(tmp_path, body)
    assert "PRIVATE KEY" not in document and "PRIVATE KEY" not in "\n".join(report)
    assert any(line.startswith("pemList[0].ChainPem: holds a private key") for line in report), report
    assert not (yaml.safe_load(document) or {}).get("config", {}).get("certfleet:aws", {}).get("imports")
