"""certfleet:aws distributions, imports, aggregate, cnameCheck, deployedTimeoutSeconds and versionStore (issue 8).

Every rule both fires (its config path and message asserted) and stays quiet on a valid value. Imported
certificates are real X.509 from tests/pki.py, checked at its fixed NOW.
"""

from __future__ import annotations

import itertools
from datetime import timedelta

import botocore.session
import pytest

from components import config as fleet_config
from components.aws import aggregate
from components.aws.aggregate import CertificateEntry
from components.aws.config import AcmImportSpec, DistributionSpec, LoggingSpec, VersionStoreSpec
from components.aws.limits import MINIMUM_PROTOCOL_VERSIONS
from components.config import load_fleet, secret_config_paths
from components.errors import ConfigError
from tests.pki import NOW, Pki, self_signed

TEMPLATE = "E195R1W5GIVPF5"
SHOP = {"domain": "shop.example.com", "sans": ["www.shop.example.com"]}
D = "certfleet:aws.distributions"
ALL_SECRET = frozenset({"certfleet:aws"})   # what the engine says when any path of certfleet:aws is secret


def load(aws: dict, secret_paths=ALL_SECRET):
    return load_fleet({"aws": aws}, secret_paths=secret_paths, now=NOW)


def problems(aws: dict, secret_paths=ALL_SECRET) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        load(aws, secret_paths)
    return raised.value.problems


def only_problem(aws: dict, secret_paths=ALL_SECRET) -> str:
    found = problems(aws, secret_paths)
    assert len(found) == 1, found
    return found[0]


def dist(**fields) -> dict:
    return {"template": TEMPLATE, "certificate": "shop", **fields}


def with_dists(certificates: dict | None = None, **dists) -> dict:
    return {"certificates": {"shop": SHOP} if certificates is None else certificates, "distributions": dists}


# --- distributions: valid input ------------------------------------------------------------------------------

def test_a_minimal_distribution_takes_every_default():
    aws = load(with_dists(web=dist())).aws
    assert aws.distributions == (DistributionSpec(
        name="web", template=TEMPLATE, template_version=None, certificate="shop", serving_certificate="shop",
        serving_kind="certificate", aliases=("shop.example.com", "www.shop.example.com"), enabled=True, comment=None,
        minimum_protocol_version="TLSv1.2_2021", logging=None, tags=(), previous_names=()),)
    assert (aws.cname_check, aws.aggregate, aws.deployed_timeout_seconds, aws.version_store) == (True, False, 600, None)
    assert (aws.reuses, aws.imports) == ((), ())


def test_every_distribution_field():
    aws = load({"tags": {"team": "web", "env": "prod"}, "certificates": {"shop": SHOP}, "distributions": {
        "web": dist(templateVersion="3", aliases=["WWW.shop.example.com ", "shop.example.com"], enabled=False,
                    comment="the shop", minimumProtocolVersion="TLSv1.2_2019",
                    logging={"bucket": "logs.s3.amazonaws.com", "prefix": "cdn/", "includeCookies": True},
                    tags={"env": "dev"}, previousNames=["shop-web"])}}).aws
    web = aws.distributions[0]
    assert web.template_version == "3"
    assert web.aliases == ("shop.example.com", "www.shop.example.com")
    assert (web.enabled, web.comment, web.minimum_protocol_version) == (False, "the shop", "TLSv1.2_2019")
    assert web.logging == LoggingSpec(bucket="logs.s3.amazonaws.com", prefix="cdn/", include_cookies=True)
    assert web.tags == (("env", "dev"), ("team", "web"))
    assert web.previous_names == ("shop-web",)


def test_a_template_version_written_as_a_number_is_the_same_text():
    assert load(with_dists(web=dist(templateVersion=3))).aws.distributions[0].template_version == "3"


def test_logging_prefix_and_cookies_default_to_empty_and_off():
    logging = load(with_dists(web=dist(logging={"bucket": "my-logs.s3.amazonaws.com"}))).aws.distributions[0].logging
    assert logging == LoggingSpec("my-logs.s3.amazonaws.com", "", False)


@pytest.mark.parametrize("comment", ["", "x" * 128, "café — shop"])
def test_comments_cloudfront_accepts(comment):
    assert load(with_dists(web=dist(comment=comment))).aws.distributions[0].comment == comment


def test_an_alias_may_be_a_name_a_wildcard_of_the_certificate_covers():
    certs = {"shop": {"domain": "*.shop.example.com"}}
    web = load(with_dists(certs, web=dist(aliases=["a.shop.example.com", "*.shop.example.com"]))).aws.distributions[0]
    assert web.aliases == ("*.shop.example.com", "a.shop.example.com")


def test_one_template_may_serve_several_distributions():
    certs = {"shop": SHOP, "blog": {"domain": "blog.example.com"}}
    aws = load(with_dists(certs, a=dist(), b=dist(certificate="blog", templateVersion="2"))).aws
    assert [d.template for d in aws.distributions] == [TEMPLATE, TEMPLATE]


# --- distributions: every rule -------------------------------------------------------------------------------

@pytest.mark.parametrize("template", ["E195R1W5GIVPF5", "E2QWRUHAPOMQZL", "E1ABCDEFGHIJK"])
def test_distribution_ids_that_pass(template):
    assert load(with_dists(web=dist(template=template))).aws.distributions[0].template == template


@pytest.mark.parametrize("template", ["e195r1w5givpf5", "X195R1W5GIVPF5", "E195R1W5GIV", "E195R1W5GIVPF5XY",
                                      "E195R1W5GIVP-5", "arn:aws:cloudfront::1:distribution/E1"])
def test_a_template_must_be_a_distribution_id(template):
    assert only_problem(with_dists(web=dist(template=template))) == (
        f"{D}.web.template: must be a CloudFront distribution id, 'E' and 12 or 13 upper-case letters or digits, "
        f"got {template!r}")


def test_a_template_with_a_newline_is_refused():
    assert only_problem(with_dists(web=dist(template="E195R1W5GIVPF5\n"))) == (
        f"{D}.web.template: must be one line of text without control characters, got 'E195R1W5GIVPF5\\n'")


def test_template_is_required():
    assert only_problem(with_dists(web={"certificate": "shop"})) == f"{D}.web.template: is required"


@pytest.mark.parametrize("version", ["", "0", "01", "-1", "1.5", "v3", " 3", 0, -2, 1.0, True, None])
def test_a_template_version_is_a_whole_number_from_1(version):
    problem = only_problem(with_dists(web=dist(templateVersion=version)))
    assert problem.startswith(f"{D}.web.templateVersion: must be a config version id, a whole number from 1 "
                              f"such as \"3\" (leave it out to follow the live template), got ")


def test_certificate_is_required_and_must_name_an_entry():
    assert only_problem(with_dists(web={"template": TEMPLATE})) == f"{D}.web.certificate: is required"
    assert only_problem(with_dists({"shop": SHOP, "blog": {"domain": "blog.example.com"}}, web=dist(
        certificate="shp"))) == (f"{D}.web.certificate: 'shp' is not an entry of certfleet:aws.certificates or "
                                 f"certfleet:aws.imports (entries: blog, shop), nor a deployed copy "
                                 f"(alicloud.orders.<name> or huaweicloud.certificates.<name>)")
    assert only_problem(with_dists({}, web=dist())) == (
        f"{D}.web.certificate: 'shop' is not an entry of certfleet:aws.certificates or certfleet:aws.imports "
        f"(entries: there are none), nor a deployed copy (alicloud.orders.<name> or huaweicloud.certificates.<name>)")


def test_a_broken_certificate_entry_is_reported_once_not_again_by_its_distribution():
    assert only_problem(with_dists({"shop": {"domain": "shop..example.com"}}, web=dist())).startswith(
        "certfleet:aws.certificates.shop.domain: ")


@pytest.mark.parametrize("aliases,path,rule", [
    (["shop.example.com", "a..example.com"], "aliases[1]", "'a..example.com' has an empty label"),
    (["shop.example.com", "Shop.Example.com"], "aliases[1]", "'shop.example.com' is listed twice"),
    (["shop.example.com\n"], "aliases[0]", "control characters"),
    ("shop.example.com", "aliases", "must be a list of DNS names, got a string"),
    ([5], "aliases[0]", "must be a string, got a number"),
])
def test_alias_syntax(aliases, path, rule):
    problem = only_problem(with_dists(web=dist(aliases=aliases)))
    assert problem.startswith(f"{D}.web.{path}: ") and rule in problem, problem


@pytest.mark.parametrize("alias", ["api.shop.example.com", "example.com", "a.www.shop.example.com"])
def test_every_alias_must_be_covered_by_the_certificate(alias):
    assert only_problem(with_dists(web=dist(aliases=["shop.example.com", alias]))) == (
        f"{D}.web.aliases[1]: '{alias}' is not covered by certificate certfleet:aws.certificates.shop: CloudFront "
        f"refuses an alias its certificate does not cover; add it to that certificate's sans")


@pytest.mark.parametrize("alias", ["a.b.example.com", "example.com", "*.example.com.evil.net"])
def test_a_wildcard_covers_exactly_one_label(alias):
    problem = only_problem(with_dists({"shop": {"domain": "*.example.com"}}, web=dist(aliases=[alias])))
    assert problem.startswith(f"{D}.web.aliases[0]: '{alias}' is not covered by certificate")


def test_at_most_100_aliases_per_distribution():
    certs = {"shop": {"domain": "*.example.com"}}
    hundred = [f"n{i}.example.com" for i in range(100)]
    assert len(load(with_dists(certs, web=dist(aliases=hundred))).aws.distributions[0].aliases) == 100
    assert only_problem(with_dists(certs, web=dist(aliases=hundred + ["n100.example.com"]))) == (
        f"{D}.web.aliases: CloudFront allows at most 100 aliases per distribution (its default quota), got 101")


def test_distributions_need_us_east_1_because_cloudfront_takes_certificates_only_from_there():
    assert only_problem({"region": "eu-west-1", **with_dists(web=dist())}) == (
        "certfleet:aws.region: must be us-east-1 when certfleet:aws.distributions has entries: CloudFront uses ACM "
        "certificates from us-east-1 only, got 'eu-west-1'")
    assert load({"region": "eu-west-1", "certificates": {"shop": SHOP}}).aws.region == "eu-west-1"
    assert load({"region": "eu-west-1", "certificates": {"shop": SHOP}, "distributions": {}}).aws.distributions == ()


def test_minimum_protocol_versions_are_botocores_cloudfront_enum_less_sslv3():
    enum = botocore.session.get_session().get_service_model("cloudfront").shape_for("MinimumProtocolVersion").enum
    assert MINIMUM_PROTOCOL_VERSIONS == tuple(v for v in enum if v != "SSLv3")
    assert "TLSv1.2_2021" in MINIMUM_PROTOCOL_VERSIONS


def test_minimum_protocol_version_rules():
    assert only_problem(with_dists(web=dist(minimumProtocolVersion="TLSv1.2"))) == (
        f"{D}.web.minimumProtocolVersion: must be one of {', '.join(MINIMUM_PROTOCOL_VERSIONS)}, got 'TLSv1.2'")
    assert only_problem(with_dists(web=dist(minimumProtocolVersion="SSLv3"))) == (
        f"{D}.web.minimumProtocolVersion: CloudFront allows SSLv3 only with dedicated IP addresses; certfleet binds "
        f"with SNI (sni-only), which needs TLSv1 or later")


@pytest.mark.parametrize("comment,rule", [
    ("x" * 129, "CloudFront allows at most 128 characters, got 129"),
    ("two\nlines", "must be one line of text without control characters, got 'two\\nlines'"),
    (5, "must be a string, got a number"),
])
def test_comment_rules(comment, rule):
    assert only_problem(with_dists(web=dist(comment=comment))) == f"{D}.web.comment: {rule}"


@pytest.mark.parametrize("logging,path,rule", [
    ({"bucket": "logs"}, "logging.bucket",
     "must be the bucket's S3 domain name, <bucket>.s3.amazonaws.com, got 'logs'"),
    ({"bucket": "logs.s3.eu-west-1.amazonaws.com"}, "logging.bucket", "<bucket>.s3.amazonaws.com"),
    ({"bucket": "Logs.s3.amazonaws.com"}, "logging.bucket", "<bucket>.s3.amazonaws.com"),
    ({"prefix": "cdn/"}, "logging.bucket", "is required"),
    ({"bucket": "logs.s3.amazonaws.com", "prefix": "/cdn"}, "logging.prefix", "not starting with '/'"),
    ({"bucket": "logs.s3.amazonaws.com", "prefix": "cdn\n"}, "logging.prefix", "one line"),
    ({"bucket": "logs.s3.amazonaws.com", "includeCookies": "yes"}, "logging.includeCookies",
     "must be true or false, got 'yes'"),
    ({"bucket": "logs.s3.amazonaws.com", "cookies": True}, "logging.cookies", "did you mean 'includeCookies'?"),
    ("on", "logging", "must be an object, got a string"),
])
def test_logging_rules(logging, path, rule):
    problem = only_problem(with_dists(web=dist(logging=logging)))
    assert problem.startswith(f"{D}.web.{path}: ") and rule in problem, problem


@pytest.mark.parametrize("fields,path,rule", [
    ({"enabled": "false"}, "enabled", "must be true or false, got 'false'"),
    ({"alias": []}, "alias", "unknown key; did you mean 'aliases'?"),
    ({"tags": {"aws:team": "x"}}, "tags.aws:team", "reserved prefix"),
    ({"previousNames": ["web"]}, "previousNames[0]", "'web' is this distribution's own name"),
])
def test_other_distribution_rules(fields, path, rule):
    problem = only_problem(with_dists(web=dist(**fields)))
    assert problem.startswith(f"{D}.web.{path}: ") and rule in problem, problem


def test_distribution_names_follow_the_entry_name_rule():
    problem = only_problem(with_dists(**{"Web": dist()}))
    assert problem.startswith(f"{D}.Web: distribution names must be 1-63 lower-case letters")


def test_47_distribution_tags_pass_and_48_fail():
    section = {f"s{i}": "v" for i in range(40)}
    assert len(load({"tags": section, **with_dists(web=dist(tags={f"k{i}": "v" for i in range(7)}))})
               .aws.distributions[0].tags) == 47
    assert only_problem({"tags": section, **with_dists(web=dist(tags={f"k{i}": "v" for i in range(8)}))}) == (
        f"{D}.web.tags: at most 47 tags per distribution (aws.tags included; CloudFront allows 50 and certfleet "
        f"uses 3), got 48")


# --- cnameCheck: an alias belongs to one distribution of the stack ------------------------------------------------

def test_an_alias_declared_by_two_distributions_names_both():
    assert only_problem(with_dists(a=dist(), b=dist(aliases=["WWW.shop.example.com"]))) == (
        f"{D}.b: 'www.shop.example.com' is already claimed by {D}.a; a name belongs to one distribution")


def test_with_cname_check_off_the_stack_still_refuses_an_alias_twice_because_cloudfront_would():
    aws = {"cnameCheck": False, **with_dists(a=dist(), b=dist(aliases=["shop.example.com"]))}
    assert only_problem(aws).startswith(f"{D}.b: 'shop.example.com' is already claimed by {D}.a")


def test_cname_check_defaults_on_and_can_be_turned_off():
    assert load(with_dists(a=dist())).aws.cname_check is True
    assert load({"cnameCheck": False, **with_dists(a=dist())}).aws.cname_check is False
    assert only_problem({"cnameCheck": "false"}) == "certfleet:aws.cnameCheck: must be true or false, got 'false'"


def test_distributions_with_different_aliases_share_a_certificate():
    aws = load(with_dists(a=dist(aliases=["shop.example.com"]), b=dist(aliases=["www.shop.example.com"]))).aws
    assert [d.aliases for d in aws.distributions] == [("shop.example.com",), ("www.shop.example.com",)]


# --- deployedTimeoutSeconds and versionStore ------------------------------------------------------------------

@pytest.mark.parametrize("seconds", [0, 3600])
def test_deployed_timeout_bounds_pass(seconds):
    assert load({"deployedTimeoutSeconds": seconds}).aws.deployed_timeout_seconds == seconds


@pytest.mark.parametrize("seconds", [-1, 3601, "600", True, 1.5])
def test_deployed_timeout_rule(seconds):
    assert only_problem({"deployedTimeoutSeconds": seconds}) == (
        f"certfleet:aws.deployedTimeoutSeconds: must be a whole number of seconds from 0 to 3600, got {seconds!r}")


def test_version_store():
    assert load({"versionStore": {"table": "CloudFrontConfigVersionTable"}}).aws.version_store == \
        VersionStoreSpec(table="CloudFrontConfigVersionTable", region="us-east-1")
    assert load({"versionStore": {"table": "cfe.Version_table-1", "region": "eu-west-1"}}).aws.version_store == \
        VersionStoreSpec(table="cfe.Version_table-1", region="eu-west-1")


@pytest.mark.parametrize("store,path,rule", [
    ({}, "table", "is required"),
    ({"table": "ab"}, "table", "must be a DynamoDB table name, 3 to 255 letters, digits, '_', '-' or '.', got 'ab'"),
    ({"table": "version table"}, "table", "must be a DynamoDB table name"),
    ({"table": "t" * 256}, "table", "must be a DynamoDB table name"),
    ({"table": "versions", "region": "Europe"}, "region", "must be an AWS region name such as us-east-1"),
    ({"table": "versions", "tabel": "x"}, "tabel", "did you mean 'table'?"),
])
def test_version_store_rules(store, path, rule):
    problem = only_problem({"versionStore": store})
    assert problem.startswith(f"certfleet:aws.versionStore.{path}: ") and rule in problem, problem


# --- aggregate ------------------------------------------------------------------------------------------------

WILD = {"domain": "*.example.com"}


def test_aggregate_reuses_a_covering_wildcard_certificate_and_says_so():
    fleet = load({"aggregate": True, "certificates": {"wild": WILD, "cdn": {"domain": "cdn.example.com",
                                                                            "sans": ["A.Example.COM"]}},
                  "distributions": {"cdn": dist(certificate="cdn")}})
    assert [c.name for c in fleet.aws.certificates] == ["wild"]        # cdn is not requested
    assert fleet.aws.reuses == (("cdn", "wild"),)
    assert fleet.aws.aggregate is True
    cdn = fleet.aws.distributions[0]
    assert (cdn.certificate, cdn.serving_certificate, cdn.serving_kind) == ("cdn", "wild", "certificate")
    assert cdn.aliases == ("a.example.com", "cdn.example.com")
    assert fleet.warnings == ("certfleet:aws.certificates.cdn: reuses certificate wild (aggregate: its names are "
                              "covered by *.example.com); it is not requested",)


@pytest.mark.parametrize("san", ["a.b.example.com", "a.example.com.evil.net", "a.exampleXcom", "example.com"])
def test_what_cloudfront_extensions_matched_wrongly_is_not_covered(san):
    fleet = load({"aggregate": True, "certificates": {"wild": WILD, "x": {"domain": san}}})
    assert fleet.aws.reuses == () and fleet.warnings == ()
    assert sorted(c.name for c in fleet.aws.certificates) == ["wild", "x"]


def test_one_uncovered_name_keeps_the_entry_requested():
    fleet = load({"aggregate": True, "certificates": {
        "wild": WILD, "x": {"domain": "a.example.com", "sans": ["b.example.com", "a.example.org"]}}})
    assert fleet.aws.reuses == ()


def test_aggregate_is_off_by_default():
    fleet = load({"certificates": {"wild": WILD, "cdn": {"domain": "cdn.example.com"}}})
    assert fleet.aws.aggregate is False and fleet.aws.reuses == () and len(fleet.aws.certificates) == 2
    assert only_problem({"aggregate": "true"}) == "certfleet:aws.aggregate: must be true or false, got 'true'"


def test_aggregation_does_not_depend_on_the_order_of_the_entries():
    certs = {"b-wild": WILD, "a": {"domain": "a.example.com"}, "z": {"domain": "z.example.com"},
             "org": {"domain": "*.example.org", "sans": ["x.example.com"]}, "m": {"domain": "m.example.org"}}
    results = {load({"aggregate": True, "certificates": dict(order)}).aws
               for order in itertools.permutations(certs.items())}
    assert len(results) == 1
    aws = results.pop()
    assert aws.reuses == (("a", "b-wild"), ("m", "org"), ("z", "b-wild"))
    # `org` has a wildcard name, so it is never reused, although *.example.com covers its x.example.com.
    assert [c.name for c in aws.certificates] == ["b-wild", "org"]


def test_reuses_as_a_function_of_entries_in_any_order():
    entries = [CertificateEntry("wild-b", "certificate", ("*.example.com",)),
               CertificateEntry("wild-a", "import", ("*.example.com", "example.com")),
               CertificateEntry("cdn", "certificate", ("cdn.example.com", "img.example.com")),
               CertificateEntry("apex", "certificate", ("example.com",)),
               CertificateEntry("imp", "import", ("x.example.com",))]
    for order in itertools.permutations(entries):
        # Several cover cdn: the first by name. An import is never requested, so it never reuses.
        assert aggregate.reuses(order) == (aggregate.Reuse("cdn", "wild-a", ("*.example.com",)),)


def test_an_entry_with_only_its_domain_is_aggregated_too():
    assert load({"aggregate": True, "certificates": {"wild": WILD, "one": {"domain": "one.example.com"}}}) \
        .aws.reuses == (("one", "wild"),)


def test_an_alias_is_checked_against_the_entry_as_written_so_aggregate_never_changes_what_is_valid():
    aws = {"aggregate": True, "certificates": {"wild": WILD, "cdn": {"domain": "cdn.example.com"}},
           "distributions": {"cdn": dist(certificate="cdn", aliases=["img.example.com"])}}
    assert only_problem(aws).startswith(f"{D}.cdn.aliases[0]: 'img.example.com' is not covered by certificate "
                                        f"certfleet:aws.certificates.cdn")


# --- imports --------------------------------------------------------------------------------------------------

PKI = Pki.make()
I = "certfleet:aws.imports"


def imported(names: list[str] = ("Shop.Example.com", "example.com", "*.shop.example.com"), **fields) -> dict:
    certificate, key = PKI.leaf(list(names))
    return {"certificate": certificate, "chain": PKI.chain_pem(), "privateKey": key, **fields}


def test_an_import_reads_its_names_from_the_certificate():
    entry = imported(tags={"owner": "web"}, previousNames=["old-shop"])
    spec = load({"tags": {"team": "t"}, "imports": {"shop": entry}}).aws.imports[0]
    assert spec == AcmImportSpec(
        name="shop", certificate_pem=entry["certificate"], chain_pem=PKI.chain_pem(),
        private_key_pem=entry["privateKey"],
        domain="shop.example.com", names=("*.shop.example.com", "example.com", "shop.example.com"),
        not_after=NOW + timedelta(days=365), key_algorithm="RSA_2048", expiry_margin_days=30,
        tags=(("owner", "web"), ("team", "t")), previous_names=("old-shop",))


def test_the_private_key_is_never_in_the_repr():
    entry = imported()
    fleet = load({"imports": {"shop": entry}})
    body = entry["privateKey"].splitlines()[1]
    assert body not in repr(fleet) and "private_key_pem" not in repr(fleet.aws.imports[0])


def test_a_self_signed_certificate_needs_no_chain():
    certificate, key = self_signed(["self.example.com"])
    spec = load({"imports": {"self": {"certificate": certificate, "privateKey": key}}}).aws.imports[0]
    assert spec.chain_pem == "" and spec.names == ("self.example.com",)


def test_a_plain_text_private_key_is_refused_with_the_command_that_stores_it_as_a_secret():
    entry = imported()
    found = problems({"imports": {"shop": entry}}, secret_paths=frozenset())
    assert found == [f"{I}.shop.privateKey: the private key is in plain text in the stack config; keep it only as a "
                     f"Pulumi secret: pulumi config set --secret --path '{I}.shop.privateKey' < key.pem (treat a key "
                     f"that was ever committed in plain text as exposed, and replace it)"]
    # The whole error, as the CLI prints it, holds nothing of the key.
    text = str(ConfigError(found))
    assert all(line not in text for line in entry["privateKey"].splitlines()[1:-1])


def test_a_secret_key_passes_whether_its_own_path_or_a_parent_is_known_secret():
    entry = {"imports": {"shop": imported()}}
    for paths in ({f"{I}.shop.privateKey"}, {f"{I}.shop"}, {"certfleet:aws"}):
        assert load(entry, secret_paths=frozenset(paths)).aws.imports[0].private_key_pem
    # Another secret next to a plain key does not make the key secret.
    assert problems(entry, secret_paths=frozenset({f"{I}.shop.privateKeyOld", f"{I}.sho"}))[0].startswith(
        f"{I}.shop.privateKey: the private key is in plain text")


def test_without_knowledge_of_secrets_the_key_is_taken_as_given():
    entry = imported()
    assert load({"imports": {"shop": entry}}, secret_paths=None).aws.imports[0].private_key_pem == entry["privateKey"]


def test_a_stack_file_read_without_decryption_holds_the_ciphertext_and_is_checked_without_the_key():
    entry = {**imported(), "privateKey": {"secure": "v1:abc:def"}}
    spec = load({"imports": {"shop": entry}}, secret_paths=frozenset()).aws.imports[0]
    assert spec.private_key_pem is None and spec.domain == "shop.example.com"


@pytest.mark.parametrize("fields,path,rule", [
    ({"privateKey": None}, "privateKey",
     f"must be the private key's PEM text, set as a Pulumi secret (pulumi config set --secret --path "
     f"'{I}.shop.privateKey' < key.pem), got null"),
    ({"certificate": 5}, "certificate", "must be a string, got a number"),
    ({"chain": ["x"]}, "chain", "must be a string, got a list"),
    ({"expiryMarginDays": 366}, "expiryMarginDays", "must be a whole number of days from 0 to 365, got 366"),
    ({"expiryMarginDays": -1}, "expiryMarginDays", "must be a whole number of days from 0 to 365, got -1"),
    ({"chain": ""}, "chain", "the chain is missing: the certificate was issued by CN=Test Intermediate CA"),
    ({"certificate": "not a pem"}, "certificate", "the certificate is not PEM"),
    ({"privateKey": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"}, "privateKey",
     "the private key is not a valid PEM private key"),
    ({"tags": {"certfleet:x": "y"}}, "tags.certfleet:x", "reserved prefix"),
    ({"chian": ""}, "chian", "did you mean 'chain'?"),
])
def test_import_rules(fields, path, rule):
    problem = only_problem({"imports": {"shop": {**imported(), **fields}}})
    assert problem.startswith(f"{I}.shop.{path}: ") and rule in problem, problem


def test_certificate_and_private_key_are_required():
    found = problems({"imports": {"shop": {}}})
    assert found == [f"{I}.shop.certificate: is required: the leaf certificate's PEM (-----BEGIN CERTIFICATE-----)",
                     f"{I}.shop.privateKey: is required, as a Pulumi secret: pulumi config set --secret --path "
                     f"'{I}.shop.privateKey' < key.pem"]


def test_a_key_of_another_certificate_is_refused_without_showing_it():
    _, other_key = PKI.leaf(["other.example.com"], slot=1)
    problem = only_problem({"imports": {"shop": {**imported(), "privateKey": other_key}}})
    assert problem.startswith(f"{I}.shop.privateKey: the private key (RSA_2048) does not belong to the certificate")
    assert other_key.splitlines()[1] not in problem


def test_expiry_margin():
    certificate, key = PKI.leaf(["soon.example.com"], not_after=NOW + timedelta(days=20))
    entry = {"certificate": certificate, "chain": PKI.chain_pem(), "privateKey": key}
    assert only_problem({"imports": {"soon": entry}}).startswith(
        f"{I}.soon.expiryMarginDays: the certificate expires on ")
    assert load({"imports": {"soon": {**entry, "expiryMarginDays": 10}}}).aws.imports[0].expiry_margin_days == 10


def test_an_import_and_a_certificate_cannot_share_an_entry_name_or_a_dns_name():
    assert only_problem({"certificates": {"shop": SHOP}, "imports": {"shop": imported()}}) == (
        f"{I}.shop: 'shop' is also the name of certfleet:aws.certificates.shop; a distribution names its certificate "
        f"by entry name, so an import and a certificate cannot share one")
    assert only_problem({"certificates": {"web": SHOP}, "imports": {"shop": imported()}}) == (
        f"{I}.shop: 'shop.example.com' is already claimed by certfleet:aws.certificates.web; a name belongs to one "
        f"certificate")


def test_a_distribution_served_by_an_import():
    aws = load({"imports": {"shop": imported()}, "distributions": {"web": dist()}}).aws
    web = aws.distributions[0]
    assert (web.serving_certificate, web.serving_kind) == ("shop", "import")
    assert web.aliases == ("*.shop.example.com", "example.com", "shop.example.com")
    uncovered = {"imports": {"shop": imported()}, "distributions": {"web": dist(aliases=["www.example.com"])}}
    assert only_problem(uncovered) == (
        f"{D}.web.aliases[0]: 'www.example.com' is not a name of the imported certificate {I}.shop (it names "
        f"*.shop.example.com, example.com, shop.example.com): CloudFront refuses an alias its certificate does not "
        f"cover; import a certificate that names it")


def test_a_wildcard_import_serves_aggregated_certificates():
    aws = load({"aggregate": True, "imports": {"wild": imported(["*.example.com"])},
                "certificates": {"cdn": {"domain": "cdn.example.com"}},
                "distributions": {"cdn": dist(certificate="cdn")}}).aws
    assert aws.certificates == () and aws.reuses == (("cdn", "wild"),)
    assert (aws.distributions[0].serving_certificate, aws.distributions[0].serving_kind) == ("wild", "import")


def test_a_stack_with_distributions_imports_and_aggregate_loads_into_the_model():
    aws = load({"aggregate": True, "deployedTimeoutSeconds": 900, "cnameCheck": True,
                "versionStore": {"table": "CloudFrontConfigVersionTable"},
                "certificates": {"wild": {"domain": "*.apps.example.com"}, "api": {"domain": "api.apps.example.com"},
                                 "blog": {"domain": "blog.example.org"}},
                "imports": {"shop": imported()},
                "distributions": {"api": dist(certificate="api", templateVersion="2"),
                                  "blog": dist(certificate="blog", logging={"bucket": "logs.s3.amazonaws.com"}),
                                  "shop": dist(aliases=["shop.example.com"])}}).aws
    assert [c.name for c in aws.certificates] == ["blog", "wild"]
    assert [i.name for i in aws.imports] == ["shop"]
    assert aws.reuses == (("api", "wild"),)
    assert [(d.name, d.serving_certificate, d.serving_kind, d.aliases) for d in aws.distributions] == [
        ("api", "wild", "certificate", ("api.apps.example.com",)),
        ("blog", "blog", "certificate", ("blog.example.org",)),
        ("shop", "shop", "import", ("shop.example.com",))]
    assert (aws.deployed_timeout_seconds, aws.version_store.table) == (900, "CloudFrontConfigVersionTable")


# --- which config paths are secret: the stack file decides, else the engine's secret keys --------------------

def test_secret_config_paths_come_from_the_stack_file_where_it_holds_the_key():
    file_config = {"certfleet:aws": {"region": "us-east-1", "imports": {
        "a": {"certificate": "...", "privateKey": {"secure": "v1:x"}}, "b": {"privateKey": "plain"}}},
        "certfleet:list": [{"secure": "v1:y"}]}
    paths = secret_config_paths(file_config, {"certfleet:aws", "certfleet:list", "certfleet:other"})
    assert paths == {f"{I}.a.privateKey", "certfleet:list[0]", "certfleet:other"}


def test_without_a_stack_file_every_secret_key_is_secret_all_the_way_down():
    assert secret_config_paths(None, ["certfleet:aws"]) == {"certfleet:aws"}


def test_a_stack_file_is_found_through_the_projects_stack_config_dir(tmp_path, monkeypatch):
    (tmp_path / "Pulumi.yaml").write_text("name: p\nruntime: python\nstackConfigDir: stacks\n")
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "Pulumi.dev.yaml").write_text(
        "config:\n  certfleet:aws:\n    imports:\n      a:\n        privateKey:\n          secure: v1:abc\n")
    monkeypatch.setattr("pulumi.runtime.get_root_directory", lambda: str(tmp_path))
    monkeypatch.setattr("pulumi.get_stack", lambda: "dev")
    assert fleet_config._stack_file_config() == {
        "certfleet:aws": {"imports": {"a": {"privateKey": {"secure": "v1:abc"}}}}}
    monkeypatch.setattr("pulumi.get_stack", lambda: "prod")
    assert fleet_config._stack_file_config() is None


def test_a_p384_certificate_cannot_serve_a_distribution():
    from components.config import load_fleet
    from components.errors import ConfigError
    raw = {"aws": {"certificates": {"shop": {"domain": "shop.example.com", "keyAlgorithm": "EC_secp384r1"}},
                   "distributions": {"cdn": {"template": "E195R1W5GIVPF5", "certificate": "shop"}}}}
    with pytest.raises(ConfigError) as caught:
        load_fleet(raw)
    assert "certfleet:aws.certificates.shop.keyAlgorithm" in str(caught.value)
    assert "CloudFront serves RSA_2048, EC_prime256v1" in str(caught.value)
    raw["aws"]["certificates"]["shop"]["keyAlgorithm"] = "EC_prime256v1"
    assert load_fleet(raw).aws.distributions[0].serving_certificate == "shop"
