"""A fleet of 1,000 certificates registers: the pickling fix in components/dynamic.py holds.

Without it, pulumi's serialize_provider nests one more `_batch_setitems` wrapper per resource and a
program fails with RecursionError after a few hundred dynamic resources.
"""

from __future__ import annotations

import asyncio
import pickle

import pulumi

from components.config import load_fleet
from components.dynamic import _ORIGINAL_BATCH_SETITEMS


class Mocks(pulumi.runtime.Mocks):
    def new_resource(self, args):
        return f"{args.name}-id", args.inputs

    def call(self, args):
        return {}


def test_a_thousand_certificates_register_without_recursion_error():
    fleet = load_fleet({"aws": {"certificates": {
        f"c{i}": {"domain": f"s{i}.example.com"} for i in range(1000)}}})
    asyncio.set_event_loop(asyncio.new_event_loop())  # earlier tests may have closed the current one
    pulumi.runtime.set_mocks(Mocks(), project="certfleet", stack="scale", preview=False)
    from components.fleet import AwsCertificates

    @pulumi.runtime.test
    def register():
        component = AwsCertificates("aws", fleet.aws)
        assert len(component.certificates) == 1000
        return pulumi.Output.all(*[c.domain for c in component.certificates.values()]).apply(
            lambda domains: assert_all(domains))

    def assert_all(domains):
        assert sorted(domains) == sorted(f"s{i}.example.com" for i in range(1000))

    register()
    # pulumi leaves one wrapper around the original at most, never a chain of them
    wrapper = pickle._Pickler._batch_setitems
    closure = [c.cell_contents for c in (wrapper.__closure__ or ())]
    assert wrapper is _ORIGINAL_BATCH_SETITEMS or _ORIGINAL_BATCH_SETITEMS in closure
