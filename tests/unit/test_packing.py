"""components/packing.py: a resource's fields as one JSON property (`spec`), and the readers' unpacking."""

from __future__ import annotations

import json

from pulumi.output import Unknown

from components.packing import SPEC, is_packed, packed, unpacked
from policy.certfleet_policy.resources import unpacked as policy_unpacked


def test_packing_keeps_the_provider_the_named_keys_and_unknowns_top_level_and_round_trips():
    props = {"__provider": "pickled", "domain": "shop.example.com", "sans": ["a", "b"], "tags": {"team": "web"},
             "private_key": "secret", "certificate_arn": Unknown(), "records": [{"name": Unknown()}]}
    out = packed(props, top_level=("private_key",))
    assert set(out) == {SPEC, "__provider", "private_key", "certificate_arn", "records"}
    assert json.loads(out[SPEC]) == {"domain": "shop.example.com", "sans": ["a", "b"], "tags": {"team": "web"}}
    assert is_packed(out) and not is_packed(props)
    assert unpacked(out) == props


def test_the_spec_is_compact_and_sorted_so_the_same_fields_give_the_same_string():
    assert packed({"b": 1, "a": [1, 2]})[SPEC] == '{"a":[1,2],"b":1}'
    assert packed({"a": [1, 2], "b": 1}) == packed({"b": 1, "a": [1, 2]})


def test_a_flat_state_from_before_packing_is_read_as_it_is():
    flat = {"domain": "shop.example.com", "arn": "arn:aws:acm:x"}
    assert unpacked(flat) == flat
    assert unpacked(None) == {} and unpacked({}) == {}


def test_the_policy_packs_copy_of_the_reading_half_reads_the_same():
    # The policy pack runs without certfleet's modules (its own environment): its copy must agree.
    for props in ({"__provider": "p", "domain": "d", "tags": {"a": "b"}}, {"domain": "flat"}):
        assert policy_unpacked(packed(props)) == unpacked(packed(props)) == props


def test_a_value_the_program_has_not_resolved_yet_stays_top_level():
    import pulumi
    journal = pulumi.Output.from_input("stamp")
    out = packed({"order_name": "docs", "journal": journal, "renews": None})
    assert out["journal"] is journal and json.loads(out[SPEC]) == {"order_name": "docs", "renews": None}


class Echo:
    """A provider that returns what it is given (and one output): what PackedProvider packs is visible."""

    def check(self, olds, news):
        from pulumi.dynamic import CheckResult
        return CheckResult(news, [])

    def create(self, props):
        from pulumi.dynamic import CreateResult
        return CreateResult("id-1", {**props, "arn": "arn:1"})


def test_the_provider_keeps_top_level_what_reached_it_top_level_a_secret_input_above_all():
    # The dynamic provider sees a secret input as a plain value; the engine marks it secret again by its
    # top-level key. So a key the program kept top level (an Output: maybe a secret) must stay there.
    from components.packed_provider import PackedProvider
    provider = PackedProvider(Echo(), top_level=("private_key",))
    news = {**packed({"domain": "d"}), "journal": "stamp", "csr_pem": "a secret the program passed", "__provider": "p"}
    checked = provider.check({}, news).inputs
    assert set(checked) == {SPEC, "journal", "csr_pem", "__provider"}
    assert json.loads(checked[SPEC]) == {"domain": "d"}
    outs = provider.create(checked).outs
    assert set(outs) == {SPEC, "journal", "csr_pem", "__provider"}
    assert json.loads(outs[SPEC]) == {"domain": "d", "arn": "arn:1"}
    assert "private_key" in provider.create({**checked, "private_key": None}).outs


class Unchanged(Echo):
    def diff(self, id_, olds, news):
        from pulumi.dynamic import DiffResult
        return DiffResult(changes=False)

    def update(self, id_, olds, news):
        raise AssertionError("the state's shape alone never reaches the provider's update (a cloud call)")


def test_the_migration_keeps_the_outputs_as_they_were_a_renewals_predecessor_included():
    # A CAS renewal order in flight: its state says which order it renews; the program's new inputs say null.
    # Losing it would make the next diff take the PAYED renewal for dead and delete it (a paid order).
    from components.packed_provider import PackedProvider
    provider = PackedProvider(Unchanged(), top_level=("private_key",))
    flat_state = {"order_id": "901", "state": "payed", "renews": {"id": "900", "not_after": "2027-01-01"},
                  "private_key": "secret", "__provider": "old"}
    news = packed({"order_name": "shop", "renews": None, "private_key": None, "__provider": "new"},
                  top_level=("private_key",))
    assert provider.diff("901", flat_state, news).changes is True
    outs = provider.update("901", flat_state, news).outs
    assert unpacked(outs)["renews"] == {"id": "900", "not_after": "2027-01-01"}
    assert outs["private_key"] == "secret" and "secret" not in outs[SPEC]


def test_numbers_come_back_as_the_engine_hands_them_over():
    # Floats, as before packing: SCM's request hash (and every message) must not change with the state's shape.
    assert unpacked(packed({"years": 1, "ok": True}))["years"] == 1.0
    assert isinstance(unpacked(packed({"years": 1}))["years"], float) and unpacked(packed({"ok": True}))["ok"] is True
    assert policy_unpacked(packed({"years": 2}))["years"] == 2.0
