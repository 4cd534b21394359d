"""The config model: every rule names its config path; valid input normalises to a frozen model."""

from __future__ import annotations

import dataclasses

import pytest

from components.config import ConfigError, decode_config_values, load_fleet


def aws(**certificates):
    return {"aws": {"certificates": certificates}}


def problems(raw) -> list[str]:
    with pytest.raises(ConfigError) as err:
        load_fleet(raw)
    return err.value.problems


def only_problem(raw) -> str:
    found = problems(raw)
    assert len(found) == 1, found
    return found[0]


# --- valid input ----------------------------------------------------------------------------------------

def test_names_are_normalised_deduplicated_and_include_the_domain():
    fleet = load_fleet(aws(shop={"domain": "Shop.Example.COM ",
                                 "sans": ["www.shop.example.com", "WWW.shop.example.com", "shop.example.com"]}))
    cert = fleet.aws.certificates[0]
    assert cert.domain == "shop.example.com"
    assert cert.sans == ("shop.example.com", "www.shop.example.com")


def test_reordering_sans_is_not_a_change():
    a = load_fleet(aws(x={"domain": "a.example.com", "sans": ["c.example.com", "b.example.com"]}))
    b = load_fleet(aws(x={"domain": "a.example.com", "sans": ["b.example.com", "c.example.com"]}))
    assert a == b


def test_defaults():
    fleet = load_fleet(aws(x={"domain": "a.example.com"}))
    assert fleet.aws.region == "us-east-1"
    assert fleet.aws.validation_record_timeout_seconds == 300
    assert fleet.aws.issued_timeout_seconds == 0
    assert fleet.aws.delete_in_use_timeout_seconds == 1200
    assert fleet.aws.certificates[0].key_algorithm == "RSA_2048"
    assert fleet.warnings == ()


def test_model_is_frozen():
    fleet = load_fleet(aws(x={"domain": "a.example.com"}))
    with pytest.raises(dataclasses.FrozenInstanceError):
        fleet.aws.certificates[0].domain = "b.example.com"  # type: ignore[misc]


def test_aws_tags_are_defaults_that_certificates_override():
    fleet = load_fleet({"aws": {"tags": {"team": "platform", "env": "prod"},
                                "certificates": {"x": {"domain": "a.example.com", "tags": {"env": "dev"}}}}})
    assert dict(fleet.aws.certificates[0].tags) == {"team": "platform", "env": "dev"}


def test_wildcard_and_its_apex_are_different_names():
    fleet = load_fleet(aws(w={"domain": "*.example.com", "sans": ["example.com"]},
                           a={"domain": "www.example.com"}))
    assert {c.name for c in fleet.aws.certificates} == {"w", "a"}


def test_no_aws_section_is_fine():
    assert load_fleet({}).aws is None


def test_decode_config_values_takes_only_certfleet_keys_and_parses_json():
    raw = {"certfleet:aws": '{"region": "us-east-1"}', "aws:region": "eu-west-1", "certfleet:plain": "text"}
    assert decode_config_values(raw) == {"aws": {"region": "us-east-1"}, "plain": "text"}


# --- every rule, with the exact path it reports ------------------------------------------------------------

@pytest.mark.parametrize("name,rule", [
    ("exa mple.com", "label 'exa mple'"),
    ("-bad.example.com", "not starting or ending with '-'"),
    ("bad-.example.com", "not starting or ending with '-'"),
    ("a..example.com", "empty label"),
    ("example.com.", "must not end with a dot"),
    ("localhost", "at least two labels"),
    ("*.*.example.com", "wildcard is allowed only as the whole leftmost label"),
    ("www.*.example.com", "wildcard is allowed only as the whole leftmost label"),
    ("w*.example.com", "wildcard is allowed only as the whole leftmost label"),
    ("*.com", "at least two labels"),
    ("10.0.0.1", "IP address"),
    ("bücher.example.com", "punycode"),
    ("a" * 64 + ".example.com", "at most 63"),
    (".".join(["abcdefghij"] * 23) + ".com", "at most 253"),
    ("", "empty string"),
])
def test_invalid_san_is_reported_at_its_index(name, rule):
    problem = only_problem(aws(shop={"domain": "shop.example.com", "sans": ["ok.example.com", name]}))
    assert problem.startswith("certfleet:aws.certificates.shop.sans[1]: ")
    assert rule in problem


def test_domain_longer_than_64_characters_is_refused_with_advice():
    domain = "a" * 60 + ".example.com"
    problem = only_problem(aws(x={"domain": domain}))
    assert problem.startswith("certfleet:aws.certificates.x.domain: ")
    assert "at most 64" in problem and "sans" in problem


def test_missing_domain():
    assert only_problem(aws(x={"sans": ["a.example.com"]})) == "certfleet:aws.certificates.x.domain: is required"


@pytest.mark.parametrize("raw,path,rule", [
    ({"aws": {"regoin": "us-east-1"}}, "certfleet:aws.regoin", "did you mean 'region'?"),
    (aws(x={"domain": "a.example.com", "san": []}), "certfleet:aws.certificates.x.san", "did you mean 'sans'?"),
    ({"awz": {}}, "certfleet.awz", "did you mean 'aws'?"),
    (aws(x={"domain": "a.example.com", "zzz": 1}), "certfleet:aws.certificates.x.zzz", "allowed keys:"),
])
def test_unknown_keys_are_errors_with_a_suggestion(raw, path, rule):
    problem = only_problem(raw)
    assert problem.startswith(path + ": unknown key")
    assert rule in problem


@pytest.mark.parametrize("raw,path,rule", [
    ({"aws": "yes"}, "certfleet:aws", "must be an object, got a string"),
    ({"aws": {"certificates": []}}, "certfleet:aws.certificates", "must be an object, got a list"),
    (aws(x="a.example.com"), "certfleet:aws.certificates.x", "must be an object"),
    (aws(x={"domain": 5}), "certfleet:aws.certificates.x.domain", "must be a string, got a number"),
    (aws(x={"domain": "a.example.com", "sans": "b.example.com"}), "certfleet:aws.certificates.x.sans",
     "must be a list"),
    (aws(x={"domain": "a.example.com", "sans": [None]}), "certfleet:aws.certificates.x.sans[0]",
     "must be a string, got null"),
    (aws(x={"domain": "a.example.com", "keyAlgorithm": "RSA_4096"}), "certfleet:aws.certificates.x.keyAlgorithm",
     "must be one of RSA_2048, EC_prime256v1, EC_secp384r1"),
    ({"aws": {"region": "US-EAST-1"}}, "certfleet:aws.region", "AWS region"),
    ({"aws": {"issuedTimeoutSeconds": -1}}, "certfleet:aws.issuedTimeoutSeconds", "from 0 to 3600"),
    ({"aws": {"validationRecordTimeoutSeconds": True}}, "certfleet:aws.validationRecordTimeoutSeconds",
     "whole number"),
    ({"aws": {"deleteInUseTimeoutSeconds": 99999}}, "certfleet:aws.deleteInUseTimeoutSeconds", "0 to 7200"),
    (aws(**{"Shop": {"domain": "a.example.com"}}), "certfleet:aws.certificates.Shop", "lower-case"),
    (aws(x={"domain": "a.example.com", "tags": {"aws:owner": "me"}}), "certfleet:aws.certificates.x.tags.aws:owner",
     "reserved prefix"),
    (aws(x={"domain": "a.example.com", "tags": {"certfleet:resource": "me"}}),
     "certfleet:aws.certificates.x.tags.certfleet:resource", "reserved prefix"),
    (aws(x={"domain": "a.example.com", "tags": {"k": "bad#value"}}), "certfleet:aws.certificates.x.tags.k",
     "characters AWS does not allow: #"),
    (aws(x={"domain": "a.example.com", "tags": {"k" * 129: "v"}}), "certfleet:aws.certificates.x.tags." + "k" * 129,
     "1 to 128"),
    (aws(x={"domain": "a.example.com", "tags": {"k": 5}}), "certfleet:aws.certificates.x.tags.k", "strings"),
    ({"aws": {"tags": {"aws:x": "y"}}}, "certfleet:aws.tags.aws:x", "reserved prefix"),
])
def test_rule_violations_name_the_path(raw, path, rule):
    problem = only_problem(raw)
    assert problem.startswith(path + ": "), problem
    assert rule in problem


def test_too_many_tags():
    tags = {f"k{i}": "v" for i in range(49)}
    problem = only_problem(aws(x={"domain": "a.example.com", "tags": tags}))
    assert problem.startswith("certfleet:aws.certificates.x.tags: at most 47 tags")


def test_47_user_tags_pass_and_48_fail_because_certfleet_uses_3_of_acms_50():
    section = {f"s{i}": "v" for i in range(40)}  # aws.tags count too: they are merged into every certificate
    fleet = load_fleet({"aws": {"tags": section, "certificates": {
        "x": {"domain": "a.example.com", "tags": {f"k{i}": "v" for i in range(7)}}}}})
    assert len(fleet.aws.certificates[0].tags) == 47
    problem = only_problem({"aws": {"tags": section, "certificates": {
        "x": {"domain": "a.example.com", "tags": {f"k{i}": "v" for i in range(8)}}}}})
    assert problem == ("certfleet:aws.certificates.x.tags: at most 47 tags per certificate (aws.tags included; "
                       "ACM allows 50 and certfleet uses 3), got 48")


def test_same_name_claimed_by_two_certificates():
    problem = only_problem(aws(a={"domain": "a.example.com", "sans": ["shared.example.com"]},
                               b={"domain": "b.example.com", "sans": ["SHARED.example.com"]}))
    assert problem == ("certfleet:aws.certificates.b: 'shared.example.com' is already claimed by "
                       "certfleet:aws.certificates.a; a name belongs to one certificate")


def test_more_than_100_names_is_an_error():
    sans = [f"n{i}.example.com" for i in range(100)]
    problem = only_problem(aws(x={"domain": "a.example.com", "sans": sans}))
    assert problem.startswith("certfleet:aws.certificates.x.sans: ACM allows at most 100 names")
    assert "got 101" in problem


def test_exactly_100_names_is_allowed_with_a_quota_warning():
    sans = [f"n{i}.example.com" for i in range(99)]
    fleet = load_fleet(aws(x={"domain": "a.example.com", "sans": sans}))
    assert len(fleet.aws.certificates[0].sans) == 100
    assert len(fleet.warnings) == 1
    assert fleet.warnings[0].startswith("certfleet:aws.certificates.x.sans: 100 names is above ACM's default quota")


def test_ten_names_is_within_the_default_quota():
    sans = [f"n{i}.example.com" for i in range(9)]
    assert load_fleet(aws(x={"domain": "a.example.com", "sans": sans})).warnings == ()


def test_every_problem_is_reported_not_just_the_first():
    found = problems({"aws": {"region": "moon-1", "certificates": {
        "a": {"domain": "bad_name.example.com"}, "b": {"domain": "b.example.com", "sans": ["x..y.com"]}}}})
    assert len(found) == 3
    assert [p.split(": ")[0] for p in found] == [
        "certfleet:aws.region", "certfleet:aws.certificates.a.domain", "certfleet:aws.certificates.b.sans[0]"]
    assert "3 problem(s)" in str(ConfigError(found))


# --- full matches: a trailing newline or a tab is never part of a valid value ---------------------------------

@pytest.mark.parametrize("name", ["shop.example.com\n", "shop\n.example.com", "shop.example.com\t",
                                  "\nshop.example.com", "shop.example.com\r\n"])
def test_control_characters_in_dns_names_are_refused(name):
    problem = only_problem(aws(shop={"domain": name}))
    assert problem.startswith("certfleet:aws.certificates.shop.domain: ")
    assert "control characters" in problem and repr(name.strip(" ").lower()) in problem
    problem = only_problem(aws(shop={"domain": "shop.example.com", "sans": ["ok.example.com", name]}))
    assert problem.startswith("certfleet:aws.certificates.shop.sans[1]: ") and "control characters" in problem


def test_spaces_around_a_dns_name_are_still_trimmed():
    assert load_fleet(aws(x={"domain": "  a.example.com "})).aws.certificates[0].domain == "a.example.com"


@pytest.mark.parametrize("tags,path,bad", [
    ({"team\t": "platform"}, "tags.team\t", "\\t"),
    ({"team\n": "platform"}, "tags.team\n", "\\n"),
    ({"team": "plat\tform"}, "tags.team", "\\t"),
    ({"team": "platform\n"}, "tags.team", "\\n"),
])
def test_aws_tags_refuse_tabs_and_newlines(tags, path, bad):
    problem = only_problem(aws(x={"domain": "a.example.com", "tags": tags}))
    assert problem.startswith(f"certfleet:aws.certificates.x.{path}: tag ")
    assert problem.endswith(f"has characters AWS does not allow: {bad}")
    assert only_problem({"aws": {"tags": tags}}).startswith(f"certfleet:aws.{path}: tag ")


def test_aws_tags_allow_unicode_letters_digits_and_spaces():
    tags = {"équipe": "données 2024", "Cost Center": "a_b.c:d/e=f+g-h@i", "nbsp": "a\u00a0b"}
    assert dict(load_fleet(aws(x={"domain": "a.example.com", "tags": tags})).aws.certificates[0].tags) == tags


@pytest.mark.parametrize("raw,path,rule", [
    ({"aws": {"region": "us-east-1\n"}}, "certfleet:aws.region", "AWS region"),
    ({"aws": {"region": "us-east-1 "}}, "certfleet:aws.region", "AWS region"),
    (aws(**{"shop\n": {"domain": "a.example.com"}}), "certfleet:aws.certificates.shop\n",
     "certificate names must be 1-63 lower-case letters, digits or '-', starting and ending with a letter or "
     "digit, got 'shop\\n'"),
])
def test_patterns_match_the_whole_value(raw, path, rule):
    problem = only_problem(raw)
    assert problem.startswith(path + ": ") and rule in problem, problem


# --- previousNames: renames keep the resource (Pulumi aliases) -------------------------------------------------

def test_previous_names_are_kept_in_config_order():
    fleet = load_fleet(aws(shop={"domain": "a.example.com", "previousNames": ["store", "shop-old"]},
                           blog={"domain": "b.example.com"}))
    by_name = {c.name: c for c in fleet.aws.certificates}
    assert by_name["shop"].previous_names == ("store", "shop-old")
    assert by_name["blog"].previous_names == ()


@pytest.mark.parametrize("previous,path,rule", [
    (["Store"], "previousNames[0]", "certificate names must be 1-63 lower-case letters, digits or '-', "
                                    "starting and ending with a letter or digit, got 'Store'"),
    (["store\n"], "previousNames[0]", "certificate names must be"),
    (["ok", "-store"], "previousNames[1]", "certificate names must be"),
    (["shop"], "previousNames[0]", "'shop' is this certificate's own name"),
    (["blog"], "previousNames[0]", "'blog' is the name of a current certificate, certfleet:aws.certificates.blog"),
    (["store", "store"], "previousNames[1]", "'store' is listed twice"),
    ([5], "previousNames[0]", "must be a string, got a number"),
    ("store", "previousNames", "must be a list of earlier certificate names, got a string"),
])
def test_previous_name_rules(previous, path, rule):
    problem = only_problem(aws(shop={"domain": "a.example.com", "previousNames": previous},
                               blog={"domain": "b.example.com"}))
    assert problem.startswith(f"certfleet:aws.certificates.shop.{path}: {rule}"), problem


def test_a_previous_name_belongs_to_one_certificate():
    problem = only_problem(aws(a={"domain": "a.example.com", "previousNames": ["old"]},
                               b={"domain": "b.example.com", "previousNames": ["old"]}))
    assert problem == ("certfleet:aws.certificates.b.previousNames[0]: 'old' is already claimed by "
                       "certfleet:aws.certificates.a; a previous name belongs to one certificate")
