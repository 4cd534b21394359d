"""The paid-orders ceiling (a stack policy, policy/certfleet_policy/checks.py) on the resources the engine shows
in preview (new inputs, no ids, for created, replaced and updated resources) and after `up`'s steps (outputs),
the prior state it reads for preview (state.py), and the pack's wiring (pack.py)."""

from __future__ import annotations

import json
import subprocess

from policy.certfleet_policy import pack, state
from policy.certfleet_policy.checks import STACK_RULE, buys, paid_orders_ceiling
from policy.certfleet_policy.resources import CAS_ORDER, PURCHASE_JOURNAL, SCM_CERTIFICATE, UNKNOWN, StackResource
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


def test_unchanged_resources_with_ids_are_not_counted_and_the_state_is_not_read():
    resources = [scm("portal", certificate_id="scs1"), cas("shop", order_id="9", journal=stamp("c1", 5.0)),
                 journal(SCM_SECTION, entries={"portal": "f1"}, stamps={"portal": stamp("f1", 5.0)})]
    assert ceiling(resources, 0.0, None) == []
    assert ceiling.asked is False


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
    {"urn": scm("portal").urn, "type": SCM_CERTIFICATE, "outputs": {"certificate_id": "scs1"}},
    {"urn": journal(SCM_SECTION).urn, "type": PURCHASE_JOURNAL,
     "outputs": {"section": SCM_SECTION, "stamps": {"portal": stamp("f1", 1.0)}}}]}}


def test_prior_state_from_a_stack_export():
    prior = prior_state_of(EXPORT)
    assert scm("portal").urn in prior.urns and len(prior.urns) == 3
    assert prior.stamps == {(SCM_SECTION, "portal"): stamp("f1", 1.0)}
    assert prior_state_of({"version": 3, "deployment": {}}) == PriorState()


def test_read_prior_state_runs_pulumi_stack_export_and_gives_none_on_failure(monkeypatch):
    calls = []

    def fake_run(argv, **kwargs):
        calls.append(argv)
        code = 0 if argv[4] == "dev" else 255
        return subprocess.CompletedProcess(argv, code, json.dumps(EXPORT) if code == 0 else "", "no stack")

    monkeypatch.setattr(state.shutil, "which", lambda name: "/bin/pulumi")
    monkeypatch.setattr(state.subprocess, "run", fake_run)
    assert state.read_prior_state("dev").stamps == {(SCM_SECTION, "portal"): stamp("f1", 1.0)}
    assert calls[0] == ["/bin/pulumi", "stack", "export", "--stack", "dev", "--non-interactive"]
    assert state.read_prior_state("nosuch") is None
    assert state.read_prior_state("") is None


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
    monkeypatch.setattr(pack, "read_prior_state", lambda stack: reads.append(stack) or PriorState())
    violations = []
    resources = [Resource(scm("portal")), Resource(scm("api")), Resource(journal(SCM_SECTION, entries={}))]
    policies[-1].validate(Args(resources, {"maximum": 1.0}), lambda message, urn=None: violations.append(message))
    assert reads == ["dev"] and len(violations) == 1 and "places 2 new paid orders" in violations[0]
