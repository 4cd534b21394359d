"""The paid-orders ceiling (a stack policy, policy/certfleet_policy/checks.py) on the resources the engine shows
in preview (new inputs, no ids, for created, replaced and updated resources) and after `up`'s steps (outputs),
the prior state it reads for preview (state.py), and the pack's wiring (pack.py)."""

from __future__ import annotations

import json
import subprocess

from policy.certfleet_policy import pack, state
from policy.certfleet_policy.checks import STACK_RULE, buys, paid_orders_ceiling
from policy.certfleet_policy.resources import (ACM_CERTIFICATE, CAS_INSTANCE_CERTIFICATE, CAS_ORDER, DISTRIBUTION,
                                               PURCHASE_JOURNAL, SCM_CERTIFICATE, UNKNOWN, StackResource)
from policy.certfleet_policy.state import PriorState, prior_state_of

STARTED = 1_000_000.0
PREFIX = "urn:pulumi:dev::certfleet::"
SCM_SECTION, CAS_SECTION = "huaweicloud.certificates", "alicloud.orders"


def scm(name: str, **props) -> StackResource:
    return StackResource(SCM_CERTIFICATE, f"{PREFIX}x${SCM_CERTIFICATE}::{name}", {"cert_name": name, **props})


def cas(name: str, **props) -> StackResource:
    return StackResource(CAS_ORDER, f"{PREFIX}x${CAS_ORDER}::{name}",
                         {"order_name": name, "product_code": "symantec-dv-1-starter", **props})


def journal(section: str, **props) -> StackResource:
    return StackResource(PURCHASE_JOURNAL, f"{PREFIX}x${PURCHASE_JOURNAL}::{section}", {"section": section, **props})


def entry(resource: StackResource) -> str:
    return resource.props.get("cert_name") or resource.props["order_name"]


def stamp(fingerprint: str, at: float) -> dict:
    return {"fingerprint": fingerprint, "run": "r", "at": at}


def ceiling(resources, maximum: float, prior: PriorState | None = None) -> list[str]:
    asked = []

    def read_prior():
        asked.append(True)
        return prior

    problems = paid_orders_ceiling(resources, {"maximum": maximum}, STARTED, read_prior)
    ceiling.asked = bool(asked)
    return problems


def test_preview_of_a_new_stack_counts_every_purchase_and_names_them():
    resources = [scm("portal"), scm("api"), cas("shop"), journal(SCM_SECTION, entries={"portal": "f1", "api": "f2"})]
    assert ceiling(resources, 3.0, PriorState()) == []
    [message] = ceiling(resources, 2.0, PriorState())
    assert message.startswith(
        "this update places 3 new paid orders, more than the maximum of 2 per update (paid-orders-ceiling: "
        "maximum): certfleet:alicloud.orders.shop, certfleet:huaweicloud.certificates.api, "
        "certfleet:huaweicloud.certificates.portal.")


def test_preview_tells_an_update_in_place_from_a_replacement_by_the_prior_state():
    prior = PriorState(frozenset({scm("portal").urn, scm("api").urn}),
                       {(SCM_SECTION, "portal"): stamp("f1", 1.0), (SCM_SECTION, "api"): stamp("f2", 1.0)})
    # portal: tags changed (same purchase fingerprint); api: type changed (a new purchase); extra: created.
    resources = [scm("portal", journal=UNKNOWN), scm("api", journal=UNKNOWN), scm("extra"),
                 journal(SCM_SECTION, entries={"portal": "f1", "api": "f2-new", "extra": "f3"})]
    [message] = ceiling(resources, 0.0, prior)
    assert "places 2 new paid orders" in message
    assert message.endswith(": certfleet:huaweicloud.certificates.api, certfleet:huaweicloud.certificates.extra. "
                            "Split the change over several updates, or raise the maximum in this stack's policy "
                            "config")


def test_preview_follows_a_declared_rename():
    renamed = scm("portal-eu")._replace(aliases=(scm("portal").urn,))
    prior = PriorState(frozenset({scm("portal").urn}), {(SCM_SECTION, "portal"): stamp("f1", 1.0)})
    resources = [renamed, journal(SCM_SECTION, entries={"portal-eu": "f1"}, previous={"portal-eu": ["portal"]})]
    assert ceiling(resources, 0.0, prior) == []


def test_preview_counts_when_the_state_cannot_be_read_or_the_fingerprint_is_unknown():
    resources = [scm("portal"), journal(SCM_SECTION, entries={"portal": "f1"})]
    assert ceiling(resources, 0.0, None)
    prior = PriorState(frozenset({scm("portal").urn}), {(SCM_SECTION, "portal"): stamp("f1", 1.0)})
    assert ceiling([scm("portal"), journal(SCM_SECTION, entries={"portal": UNKNOWN})], 0.0, prior)


def test_unchanged_resources_with_ids_are_not_counted():
    resources = [scm("portal", certificate_id="scs1"), cas("shop", order_id="9", journal=stamp("c1", 5.0)),
                 journal(SCM_SECTION, entries={"portal": "f1"}, stamps={"portal": stamp("f1", 5.0)})]
    assert ceiling(resources, 0.0, None) == []   # state unreadable: the journal stamps are old
    prior = PriorState(frozenset({scm("portal").urn, cas("shop").urn}), {},
                       {scm("portal").urn: "scs1", cas("shop").urn: "9"})
    resources[1] = cas("shop", order_id=9.0, journal=stamp("c1", 5.0))   # integers reach a policy as floats
    assert ceiling(resources, 0.0, prior) == []  # the ids they had before the update


def test_preview_counts_the_replacement_of_a_dead_certificate_or_order_whose_config_did_not_change():
    # A refresh stored these statuses; the providers' diff replaces each with a new purchase (replaces=["status"]
    # / ["state"]) while the purchase fingerprint stays the same.
    statuses = {"expired": "EXPIRED", "revoked": "REVOKED", "revoking": "REVOKING", "issued": "ISSUED",
                "rejected": "verify_fail", "cancelled": "payed", "pending": "domain_verify"}
    resources = [scm(n, journal=UNKNOWN) if s.isupper() else cas(n, journal=UNKNOWN) for n, s in statuses.items()]
    prior = PriorState(frozenset(r.urn for r in resources),
                       {(SCM_SECTION if r.type == SCM_CERTIFICATE else CAS_SECTION, entry(r)): stamp("f", 1.0)
                        for r in resources},
                       statuses={r.urn: statuses[entry(r)] for r in resources})
    planned = resources + [journal(SCM_SECTION, entries={entry(r): "f" for r in resources[:4]}),
                           journal(CAS_SECTION, entries={entry(r): "f" for r in resources[4:]})]
    [message] = ceiling(planned, 0.0, prior)
    assert message.startswith("this update places 5 new paid orders")
    assert ("certfleet:alicloud.orders.cancelled, certfleet:alicloud.orders.rejected, "
            "certfleet:huaweicloud.certificates.expired, certfleet:huaweicloud.certificates.revoked, "
            "certfleet:huaweicloud.certificates.revoking.") in message


def test_preview_counts_a_paid_resource_the_cli_is_told_to_replace():
    prior = PriorState(frozenset({scm("portal").urn, scm("api").urn}),
                       {(SCM_SECTION, "portal"): stamp("f1", 1.0), (SCM_SECTION, "api"): stamp("f2", 1.0)},
                       statuses={scm("portal").urn: "ISSUED", scm("api").urn: "ISSUED"},
                       replacing=frozenset({scm("portal").urn}))   # pulumi up --replace <portal's URN>
    resources = [scm("portal", journal=UNKNOWN), scm("api", journal=UNKNOWN),
                 journal(SCM_SECTION, entries={"portal": "f1", "api": "f2"})]
    [message] = ceiling(resources, 0.0, prior)
    assert "places 1 new paid orders" in message and message.count("certfleet:") == 1
    assert "certfleet:huaweicloud.certificates.portal." in message


def test_after_up_a_new_id_is_a_purchase_even_when_the_journal_stamp_is_old():
    # Replaced for a dead status or by --replace: new ids, the journal keeps the old stamps (same fingerprint).
    old = stamp("f", 1.0)
    renamed = scm("portal-eu", certificate_id="scs-portal", journal=old)._replace(aliases=(scm("portal").urn,))
    resources = [scm("expired", certificate_id="scs-new", journal=old), cas("shop", order_id=10.0, journal=old),
                 scm("kept", certificate_id="scs-kept", journal=old), renamed,
                 scm("created", certificate_id="scs-created", journal=old)]
    prior = PriorState(frozenset({scm("expired").urn, cas("shop").urn, scm("kept").urn, scm("portal").urn}), {},
                       {scm("expired").urn: "scs-old", cas("shop").urn: "9", scm("kept").urn: "scs-kept",
                        scm("portal").urn: "scs-portal"})
    [message] = ceiling(resources, 0.0, prior)
    assert message.startswith("this update places 3 new paid orders")
    assert ("certfleet:alicloud.orders.shop, certfleet:huaweicloud.certificates.created, "
            "certfleet:huaweicloud.certificates.expired.") in message


def test_the_dead_statuses_are_the_providers_own():
    from components.alicloud.status import DEAD_STATES
    from components.huaweicloud.scm_model import DEAD
    from policy.certfleet_policy.checks import CAS_DEAD_STATES, SCM_DEAD_STATUSES
    assert CAS_DEAD_STATES == DEAD_STATES and SCM_DEAD_STATUSES == DEAD


def test_after_up_the_journal_stamps_of_this_update_mark_the_new_purchases():
    resources = [scm("portal", certificate_id="scs1"), scm("api", certificate_id="scs2"),
                 cas("shop", order_id="9", journal=stamp("c1", STARTED + 3)),
                 journal(SCM_SECTION, entries={"portal": "f1", "api": "f2"},
                         stamps={"portal": stamp("f1", STARTED - 86400), "api": stamp("f2", STARTED + 2)}),
                 journal(CAS_SECTION, entries={"shop": "c1"}, stamps={"shop": stamp("c1", STARTED + 3)})]
    [message] = ceiling(resources, 1.0)
    assert "places 2 new paid orders" in message
    assert "certfleet:alicloud.orders.shop, certfleet:huaweicloud.certificates.api." in message


def test_only_purchases_count():
    assert buys(SCM_CERTIFICATE, {"cert_name": "p"})
    assert not buys(SCM_CERTIFICATE, {"adopt_id": "scs1"})                 # adopts, buys nothing
    assert buys(SCM_CERTIFICATE, {"adopt_id": "scs1", "replace_adopted": True})  # may buy a replacement
    assert not buys(SCM_CERTIFICATE, {"adopted": True})
    assert not buys(CAS_ORDER, {"order_name": "o"})                         # no plan: nothing bought
    assert not buys("pulumi-python:dynamic/alicloud:CasInstanceCertificate", {"order_name": "login"})
    assert not buys("pulumi-python:dynamic/aws:AcmCertificate", {"cert_name": "web"})


# --- the prior state ---------------------------------------------------------------------------------------------

EXPORT = {"version": 3, "deployment": {"resources": [
    {"urn": f"{PREFIX}pulumi:pulumi:Stack::certfleet-dev", "type": "pulumi:pulumi:Stack"},
    {"urn": scm("portal").urn, "type": SCM_CERTIFICATE, "outputs": {"certificate_id": "scs1", "status": "EXPIRED"}},
    {"urn": cas("shop").urn, "type": CAS_ORDER, "outputs": {"order_id": 9.0, "state": "verify_fail"}},
    {"urn": journal(SCM_SECTION).urn, "type": PURCHASE_JOURNAL,
     "outputs": {"section": SCM_SECTION, "stamps": {"portal": stamp("f1", 1.0)}}}]}}


def test_prior_state_from_a_stack_export():
    prior = prior_state_of(EXPORT)
    assert scm("portal").urn in prior.urns and len(prior.urns) == 4
    assert prior.stamps == {(SCM_SECTION, "portal"): stamp("f1", 1.0)}
    assert prior.ids == {scm("portal").urn: "scs1", cas("shop").urn: "9"}
    assert prior.statuses == {scm("portal").urn: "EXPIRED", cas("shop").urn: "verify_fail"}
    assert prior_state_of({"version": 3, "deployment": {}}) == PriorState()


def test_read_prior_state_runs_pulumi_stack_export_and_gives_none_on_failure(monkeypatch):
    calls = []

    def fake_run(argv, **kwargs):
        calls.append(argv)
        code = 0 if argv[4] == "dev" else 255
        return subprocess.CompletedProcess(argv, code, json.dumps(EXPORT) if code == 0 else "", "no stack")

    monkeypatch.setattr(state.shutil, "which", lambda name: "/bin/pulumi")
    monkeypatch.setattr(state.subprocess, "run", fake_run)
    monkeypatch.setattr(state, "replace_targets", lambda: frozenset({"urn:x"}))
    assert state.read_prior_state("dev").stamps == {(SCM_SECTION, "portal"): stamp("f1", 1.0)}
    assert calls[0] == ["/bin/pulumi", "stack", "export", "--stack", "dev", "--non-interactive"]
    assert state.read_prior_state("dev").replacing == {"urn:x"}
    assert state.read_prior_state("nosuch") is None
    assert state.read_prior_state("") is None


def _process(proc, pid: int, parent: int, *argv: str) -> None:
    (proc / str(pid)).mkdir()
    (proc / str(pid) / "cmdline").write_bytes(b"\0".join(a.encode() for a in argv) + b"\0")
    (proc / str(pid) / "stat").write_text(f"{pid} ({argv[0][-15:]}) S {parent} {pid} 0 0\n")


def test_replace_targets_come_from_the_pulumi_command_that_started_the_pack(tmp_path):
    portal, api = scm("portal").urn, scm("api").urn
    _process(tmp_path, 10, 1, "/opt/bin/pulumi", "up", "--replace", portal, f"--target-replace={api}", "-s", "dev")
    _process(tmp_path, 20, 10, "/opt/bin/pulumi-language-python", "-root", "/work")
    _process(tmp_path, 30, 20, "/work/.venv/bin/python", "/work/policy", "127.0.0.1:4000")
    assert state.replace_targets(str(tmp_path), pid=20) == {portal, api}
    _process(tmp_path, 40, 1, "/opt/bin/pulumi", "preview")
    _process(tmp_path, 50, 40, "/opt/bin/pulumi-language-python")
    assert state.replace_targets(str(tmp_path), pid=50) == frozenset()
    assert state.replace_targets(str(tmp_path), pid=30) == {portal, api}   # from the pack: python, host, CLI
    _process(tmp_path, 60, 1, "/usr/bin/python3", "policy")
    assert state.replace_targets(str(tmp_path), pid=60) == frozenset()   # no pulumi above it: nothing known
    assert state.replace_targets(str(tmp_path / "none"), pid=20) == frozenset()
    assert state.replace_targets_in(["pulumi", "up", "--replace"]) == frozenset()


# --- the pack ------------------------------------------------------------------------------------------------------

class Args:
    """What pulumi-policy hands a stack policy: resources with resource_type/urn/props/opts, and get_config."""

    def __init__(self, resources, config):
        self.resources, self._config = resources, config

    def get_config(self):
        return self._config


class Resource:
    def __init__(self, resource: StackResource):
        self.resource_type, self.urn, self.props = resource.type, resource.urn, resource.props
        self.opts = type("Opts", (), {"aliases": list(resource.aliases)})()


def test_the_pack_serves_every_rule_and_the_stack_policy_reads_the_state_once(monkeypatch):
    policies = pack.policies()
    assert [p.name for p in policies][-1] == STACK_RULE.name and len(policies) == 7
    reads = []
    monkeypatch.setattr(pack, "PRIOR_STATE", pack.PriorStateAtStart())
    monkeypatch.setattr(pack, "read_prior_state", lambda stack: reads.append(stack) or PriorState())
    violations = []
    resources = [Resource(scm("portal")), Resource(scm("api")), Resource(journal(SCM_SECTION, entries={}))]
    policies[-1].validate(Args(resources, {"maximum": 1.0}), lambda message, urn=None: violations.append(message))
    assert reads == ["dev"] and len(violations) == 1 and "places 2 new paid orders" in violations[0]


class Analyzed:
    """What pulumi-policy hands a resource policy (ResourceValidationArgs)."""

    def __init__(self, resource: StackResource):
        self.resource_type, self.urn, self.props = resource.type, resource.urn, resource.props

    def get_config(self):
        return {}


def test_the_pack_reads_the_state_at_the_first_analyzed_paid_resource_and_the_ceiling_after_up_compares_with_it(
        monkeypatch):
    """After `up`'s steps the state holds the new ids: the ids to compare with are those read before the first
    paid step, at the first paid resource's Analyze call (the engine analyses a resource before its step)."""
    before = PriorState(frozenset({scm("portal").urn}), {}, {scm("portal").urn: "scs-old"})
    after = PriorState(frozenset({scm("portal").urn}), {}, {scm("portal").urn: "scs-new"})
    states = [before, after]
    monkeypatch.setattr(pack, "PRIOR_STATE", pack.PriorStateAtStart())
    monkeypatch.setattr(pack, "read_prior_state", lambda stack: states.pop(0))
    policies = pack.policies()
    policies[0].validate(Analyzed(scm("portal")), lambda message, urn=None: None)   # before portal's step
    violations = []
    replaced = Resource(scm("portal", certificate_id="scs-new", journal=stamp("f1", 1.0)))   # after the steps
    policies[-1].validate(Args([replaced], {"maximum": 0.0}), lambda message, urn=None: violations.append(message))
    assert states == [after] and len(violations) == 1 and "places 1 new paid orders" in violations[0]


def free(resource_type: str, name: str, **props) -> StackResource:
    return StackResource(resource_type, f"{PREFIX}x${resource_type}::{name}", props)


def test_the_pack_exports_no_state_for_a_stack_without_paid_resources(monkeypatch):
    """ACM, CloudFront and CAS instance certificates (their plan is bought already) buy nothing: no
    `pulumi stack export` in Analyze nor in the ceiling."""
    exports = []
    monkeypatch.setattr(pack, "PRIOR_STATE", pack.PriorStateAtStart())
    monkeypatch.setattr(pack, "read_prior_state", lambda stack: exports.append(stack) or PriorState())
    policies = pack.policies()
    resources = [free(ACM_CERTIFICATE, "shop", cert_name="shop", domain="shop.example.com", key_algorithm="RSA_2048"),
                 free(DISTRIBUTION, "site", dist_name="site", minimum_protocol_version="TLSv1.2_2021"),
                 free(CAS_INSTANCE_CERTIFICATE, "inst", order_name="inst", domains=["inst.example.cn"],
                      key_algorithm="RSA_2048")]
    violations = []
    for resource in resources:
        for policy in policies[:-1]:
            policy.validate(Analyzed(resource), lambda message, urn=None: violations.append(message))
    policies[-1].validate(Args([Resource(r) for r in resources], {"maximum": 0.0}),
                          lambda message, urn=None: violations.append(message))
    assert exports == [] and violations == []


def test_the_pack_exports_the_state_once_at_the_start_of_the_first_paid_resources_analysis(monkeypatch):
    """Not at a free resource analysed earlier; at the first paid one before its checks run (so before its
    step); later paid resources reuse it."""
    events = []
    monkeypatch.setattr(pack, "PRIOR_STATE", pack.PriorStateAtStart())
    monkeypatch.setattr(pack, "read_prior_state", lambda stack: events.append(f"export {stack}") or PriorState())
    policies = pack.policies()
    small_key = {"key_algorithm": "RSA_1024"}   # one key-algorithm violation per resource, to see the order
    for resource in (free(ACM_CERTIFICATE, "shop", cert_name="shop", domain="shop.example.com", **small_key),
                     cas("blog", domains=["blog.example.cn"], **small_key),
                     scm("portal", domains=["portal.example.com"], **small_key)):
        for policy in policies[:-1]:
            policy.validate(Analyzed(resource), lambda message, urn=None: events.append(message.split(": ")[0]))
    assert events == ["certfleet:aws.certificates.shop", "export dev", "certfleet:alicloud.orders.blog",
                      "certfleet:huaweicloud.certificates.portal"]


class AnalyzedWith(Analyzed):
    def __init__(self, resource: StackResource, config: dict):
        super().__init__(resource)
        self._config = config

    def get_config(self):
        return self._config


def test_dns_validation_resources_pass_every_policy_and_export_no_state(monkeypatch):
    """Zero-touch validation's `dns:Record`, `dns:Validation` and `dns:Owner` (docs/dns-validation.md) are no
    certificate and buy nothing: no policy matches them, with production's config (protected, all mandatory) too.
    Their inputs as a new stack's preview hands them over (tests/data/previews/dns-new.json: values unknown)."""
    from scripts.pr_summary_digest import UNKNOWN as ENGINE_UNKNOWN
    from tests.conftest import ROOT

    steps = json.loads((ROOT / "tests/data/previews/dns-new.json").read_text())["steps"]
    resources = [StackResource(s["newState"]["type"], s["urn"],
                               {k: UNKNOWN if v == ENGINE_UNKNOWN else v for k, v in s["newState"]["inputs"].items()
                                if k != "__provider"})
                 for s in steps if "/dns:" in s["newState"]["type"]]
    assert {r.type for r in resources} == {f"pulumi-python:dynamic/dns:{t}" for t in ("Record", "Validation", "Owner")}
    exports = []
    monkeypatch.setattr(pack, "PRIOR_STATE", pack.PriorStateAtStart())
    monkeypatch.setattr(pack, "read_prior_state", lambda stack: exports.append(stack) or PriorState())
    prod = json.loads((ROOT / "policy/config/prod.json").read_text())
    policies, violations = pack.policies(), []
    for resource in resources:
        for policy in policies[:-1]:
            policy.validate(AnalyzedWith(resource, prod.get(policy.name) or {}),
                            lambda message, urn=None: violations.append(message))
    policies[-1].validate(Args([Resource(r) for r in resources], prod["paid-orders-ceiling"]),
                          lambda message, urn=None: violations.append(message))
    assert len(resources) == 10 and violations == [] and exports == []
