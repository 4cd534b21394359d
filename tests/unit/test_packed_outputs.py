"""The program's side of the packing (components/packed_provider.py) under Pulumi's mocks: in a preview, what
the engine cannot know yet (a new certificate's ARN: its preview outputs are its inputs) stays unknown, as the SDK
makes a missing output, while what the inputs say (its domain) is known; after `up` every field is known."""

from __future__ import annotations

import asyncio

import pulumi
import pytest

from components.config import load_fleet
from components.packing import packed, unpacked

FLEET = {"aws": {"certificates": {"shop": {"domain": "shop.example.com", "sans": ["www.shop.example.com"]}}}}


class Mocks(pulumi.runtime.Mocks):
    """The engine in a preview of a create (outputs = inputs), or after `up` (the provider's outputs too)."""

    def __init__(self, preview: bool):
        self.preview = preview

    def new_resource(self, args):
        if self.preview or "spec" not in args.inputs:
            return "", args.inputs
        return "arn:1", packed({**unpacked(args.inputs), "arn": "arn:1", "status": "PENDING_VALIDATION"})

    def call(self, args):
        return {}


@pytest.mark.parametrize("preview", [True, False])
def test_a_new_certificates_fields_are_unknown_in_preview_until_the_engine_knows_them(preview):
    asyncio.set_event_loop(asyncio.new_event_loop())
    pulumi.runtime.set_mocks(Mocks(preview), project="certfleet", stack="t", preview=preview)
    from components.fleet import AwsCertificates
    result: dict = {}

    async def look(cert, entry):
        result["arn_known"] = await cert.arn.is_known()
        result["domain"] = await cert.domain.future()
        result["arn"] = await cert.arn.future()
        result["entry"] = await entry.future()

    @pulumi.runtime.test
    def run():
        component = AwsCertificates("aws", load_fleet(FLEET).aws)
        cert = component.certificates["shop"]
        return pulumi.Output.from_input(asyncio.ensure_future(look(cert, component.summary()["shop"])))

    run()
    assert result["domain"] == "shop.example.com"
    if preview:
        assert result["arn_known"] is False
        assert result["entry"]["domain"] == "shop.example.com"
        assert result["entry"]["arn"] == pulumi.runtime.rpc.UNKNOWN   # serialised as the engine's unknown
    else:
        assert result["arn_known"] is True and result["arn"] == "arn:1"
        assert result["entry"]["arn"] == "arn:1" and result["entry"]["status"] == "PENDING_VALIDATION"
