"""components/fleet_files.py: the stack config continued in `certfleet:fleetFiles` (large fleets)."""

from __future__ import annotations

import pytest

from components.config import load_fleet
from components.errors import ConfigError
from components.fleet_files import name_files, with_fleet_files

CERT = {"domain": "a.example.com"}


def write(root, name, text):
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_entries_split_across_the_stack_config_and_files_merge(tmp_path):
    write(tmp_path, "fleet/b.yaml", "certfleet:aws:\n  certificates:\n    b: {domain: b.example.com}\n")
    write(tmp_path, "fleet/c.yaml", "certfleet:aws:\n  certificates:\n    c: {domain: c.example.com}\n"
                                    "certfleet:huaweicloud:\n  tags: {team: web}\n")
    raw = {"aws": {"region": "us-east-1", "certificates": {"a": CERT}}, "fleetFiles": ["fleet/*.yaml"]}
    merged, origins = with_fleet_files(raw, tmp_path)
    assert "fleetFiles" not in merged
    assert set(merged["aws"]["certificates"]) == {"a", "b", "c"}
    assert merged["aws"]["region"] == "us-east-1"
    assert origins == {"certfleet:aws.certificates.b": "fleet/b.yaml", "certfleet:aws.certificates.c": "fleet/c.yaml",
                       "certfleet:huaweicloud": "fleet/c.yaml"}
    fleet = load_fleet({"aws": merged["aws"]})
    assert [c.name for c in fleet.aws.certificates] == ["a", "b", "c"]


def test_without_fleet_files_the_config_is_as_it_was(tmp_path):
    raw = {"aws": {"certificates": {"a": CERT}}}
    assert with_fleet_files(raw, tmp_path) == (raw, {})


@pytest.mark.parametrize("files, content, expected", [
    ("fleet.yaml", None, "certfleet:fleetFiles: must be a list"),
    (["missing.yaml"], None, "certfleet:fleetFiles[0]: 'missing.yaml' names no file"),
    (["nothing/*.yaml"], None, "certfleet:fleetFiles[0]: 'nothing/*.yaml' names no file"),
    (["f.yaml"], "certfleet:aws: [unclosed", "f.yaml: cannot be read as YAML"),
    (["f.yaml"], "- a\n- b\n", "f.yaml: must be a map of `certfleet:<section>` keys"),
    (["f.yaml"], "aws:\n  certificates: {}\n", "f.yaml: 'aws': a fleet file holds `certfleet:<section>` keys"),
    (["f.yaml"], "certfleet:aws:\n  certificates:\n    a: {domain: other.example.com}\n",
     "certfleet:aws.certificates.a.domain: given in both the stack config and f.yaml"),
    (["f.yaml"], "certfleet:aws:\n  imports:\n    x: {privateKey: {secure: v1:abc}}\n",
     "certfleet:aws.imports.x.privateKey (in f.yaml): a secret stays in the stack config"),
    # a plain-text key is refused here too: the AWS rule (a key must be a secret) can be fooled by a secret
    # elsewhere in certfleet:aws when the stack file cannot tell which paths are secret
    (["f.yaml"], "certfleet:aws:\n  imports:\n    x: {privateKey: '-----BEGIN PRIVATE KEY-----'}\n",
     "certfleet:aws.imports.x.privateKey (in f.yaml): a secret stays in the stack config"),
    (["/etc/fleet/*.yaml"], None, "certfleet:fleetFiles[0]: '/etc/fleet/*.yaml' must be relative to the project"),
    (["../f.yaml"], None, "certfleet:fleetFiles[0]: '../f.yaml' must be relative to the project directory"),
])
def test_problems_name_the_file_or_the_config_path_and_the_rule(tmp_path, files, content, expected):
    if content is not None:
        write(tmp_path, "f.yaml", content)
    with pytest.raises(ConfigError) as err:
        with_fleet_files({"aws": {"certificates": {"a": CERT}}, "fleetFiles": files}, tmp_path)
    assert expected in str(err.value)


def test_a_value_given_in_two_files_names_both(tmp_path):
    write(tmp_path, "one.yaml", "certfleet:aws:\n  region: eu-west-1\n")
    write(tmp_path, "two.yaml", "certfleet:aws:\n  region: us-east-1\n")
    with pytest.raises(ConfigError) as err:
        with_fleet_files({"fleetFiles": ["one.yaml", "two.yaml"]}, tmp_path)
    assert "certfleet:aws.region: given in both one.yaml and two.yaml" in str(err.value)


def test_a_broken_entry_from_a_file_names_the_file_beside_its_path(tmp_path):
    write(tmp_path, "fleet.yaml", "certfleet:aws:\n  certificates:\n    b: {domain: 'not a name'}\n")
    merged, origins = with_fleet_files({"aws": {"certificates": {"a": CERT}}, "fleetFiles": ["fleet.yaml"]},
                                       tmp_path)
    with pytest.raises(ConfigError) as err:
        load_fleet(merged)
    named = name_files(err.value.problems, origins)
    assert named and all(p.startswith("certfleet:aws.certificates.b.domain (in fleet.yaml): ") for p in named)
    from_stack = ["certfleet:aws.certificates.a.domain: bad"]
    assert name_files(from_stack, origins) == from_stack   # a value from the stack config: no file named


def test_a_file_that_is_not_utf8_is_a_problem_not_a_crash(tmp_path):
    (tmp_path / "f.yaml").write_bytes("certfleet:aws:\n  tags: {team: caf\xe9}\n".encode("latin-1"))
    with pytest.raises(ConfigError) as err:
        with_fleet_files({"fleetFiles": ["f.yaml"]}, tmp_path)
    assert "f.yaml: cannot be read as YAML" in str(err.value)


def test_one_file_named_twice_is_read_once(tmp_path):
    write(tmp_path, "fleet/a.yaml", "certfleet:aws:\n  region: eu-west-1\n")
    merged, _ = with_fleet_files({"fleetFiles": ["fleet/a.yaml", "fleet/*.yaml"]}, tmp_path)
    assert merged == {"aws": {"region": "eu-west-1"}}


def test_a_conflict_names_the_file_that_gave_the_value_first(tmp_path):
    write(tmp_path, "one.yaml", "certfleet:aws:\n  certificates:\n    b: {domain: b.example.com}\n")
    write(tmp_path, "two.yaml", "certfleet:aws:\n  certificates:\n    c: {domain: c.example.com}\n")
    write(tmp_path, "three.yaml", "certfleet:aws:\n  certificates:\n    c: {domain: d.example.com}\n")
    with pytest.raises(ConfigError) as err:
        with_fleet_files({"aws": {"region": "us-east-1"}, "fleetFiles": ["one.yaml", "two.yaml", "three.yaml"]},
                         tmp_path)
    assert "certfleet:aws.certificates.c.domain: given in both two.yaml and three.yaml" in str(err.value)


def test_an_empty_map_left_in_the_stack_config_is_named(tmp_path):
    write(tmp_path, "f.yaml", "certfleet:aws:\n  certificates:\n    b: {domain: b.example.com}\n")
    with pytest.raises(ConfigError) as err:
        with_fleet_files({"aws": {"certificates": None}, "fleetFiles": ["f.yaml"]}, tmp_path)
    assert "certfleet:aws.certificates: is null in the stack config and given in f.yaml: remove it" in str(err.value)
