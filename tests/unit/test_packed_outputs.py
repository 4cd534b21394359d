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


# --- CAS orders and SCM certificates: one exported output per entry --------------------------------------------

CONTACT = {"name": "Tom Zhang", "email": "tom.zhang@example.com", "phone": "13000000000"}
APPLICANT = {"name": "Zhang.San", "phone": "13800000000", "email": "ops@example.com"}
PAID = {
    "alicloud": {"contact": CONTACT, "orders": {"docs": {"productCode": "digicert-free-1-free",
                                                         "domains": ["docs.example.cn"]}}},
    "huaweicloud": {"certificates": {"shop": {"brand": "GEOTRUST", "type": "DV_SSL_CERT",
                                              "domainType": "SINGLE_DOMAIN", "domains": ["shop.example.cn"],
                                              "applicant": APPLICANT}}},
}
ISSUED = {"CasOrder": {"order_id": "101", "state": "certificate", "cert_id": "7", "certificate_pem": "PEM",
                       "not_after": "2027-03-01T00:00:00+00:00", "adopted": False,
                       "renewal_held": {"generation": 0, "renews": None}},
          "ScmCertificate": {"certificate_id": "scs-1", "order_id": "CS1", "status": "ISSUED",
                             "certificate_pem": "PEM", "not_after": "2027-03-01 00:00:00", "adopted": False,
                             "renewal_held": {"generation": 0, "renews": None}}}


class PaidMocks(Mocks):
    """A CAS order and an SCM certificate after `up` (issued, a key of their own) or in a create's preview."""

    def new_resource(self, args):
        kind = args.typ.split(":")[-1]
        if self.preview or kind not in ISSUED:
            return "", args.inputs
        secret = "private_key" if kind == "CasOrder" else "private_key_pem"
        return "id-1", {**packed({**unpacked(args.inputs), **ISSUED[kind]}, (secret,)), secret: "KEY"}


def summaries(preview: bool) -> dict:
    """Each paid entry's exported output, and the same entry built field by field (the DNS-validated path)."""
    asyncio.set_event_loop(asyncio.new_event_loop())
    pulumi.runtime.set_mocks(PaidMocks(preview), project="certfleet", stack="t", preview=preview)
    from components.fleet import AlicloudOrders, HuaweiCertificates
    result: dict = {}

    async def resolve(value):
        if isinstance(value, pulumi.Output):
            result.setdefault("secret", []).append(await value.is_secret())
            return await resolve(await value.future()) if await value.is_known() else "<unknown>"
        if isinstance(value, dict):
            return {k: await resolve(v) for k, v in value.items()}
        return value

    async def look(orders, certs):
        for label, section, item in (("cas", orders, "docs"), ("scm", certs, "shop")):
            resource = (section.orders if label == "cas" else section.certificates)[item]
            result[label] = await resolve(section._entry(item, resource))
            result[f"{label}-by-field"] = await resolve(section._validated_entry(item, resource))

    @pulumi.runtime.test
    def run():
        fleet = load_fleet(PAID)
        orders, certs = AlicloudOrders("alicloud", fleet.alicloud), HuaweiCertificates("huaweicloud", fleet.huaweicloud)
        return pulumi.Output.from_input(asyncio.ensure_future(look(orders, certs)))

    run()
    return result


def test_a_paid_entry_exported_as_one_output_is_what_it_is_field_by_field_after_up():
    result = summaries(preview=False)
    for label in ("cas", "scm"):
        assert result[label] == result[f"{label}-by-field"], label
    assert result["cas"]["order_id"] == "101" and result["cas"]["private_key"] == "KEY"
    assert result["cas"]["renewal"]["state"] == "not-declared"
    assert result["cas"]["renewal"]["not_after"] == "2027-03-01T00:00:00+00:00"
    assert result["scm"]["certificate_id"] == "scs-1" and "private_key_pem" not in result["scm"]
    assert result["scm"]["renewal"]["not_after"] == "2027-03-01 00:00:00"


def test_a_cas_orders_key_stays_a_secret_of_its_own_inside_the_one_output():
    asyncio.set_event_loop(asyncio.new_event_loop())
    pulumi.runtime.set_mocks(PaidMocks(False), project="certfleet", stack="t", preview=False)
    from components.fleet import AlicloudOrders
    seen: dict = {}

    async def look(entry):
        seen["entry_secret"] = await entry.is_secret()
        fields = await entry.future()
        seen["key_secret"] = await fields["private_key"].is_secret()
        seen["key"] = await fields["private_key"].future()

    @pulumi.runtime.test
    def run():
        orders = AlicloudOrders("alicloud", load_fleet(PAID).alicloud)
        return pulumi.Output.from_input(asyncio.ensure_future(look(orders.summary()["docs"])))

    run()
    # The entry is not secret as a whole (its order id and state stay readable); the key is.
    assert seen == {"entry_secret": False, "key_secret": True, "key": "KEY"}


def test_in_a_create_preview_what_the_engine_cannot_know_is_unknown_and_the_inputs_are_known():
    result = summaries(preview=True)
    unknown = pulumi.runtime.rpc.UNKNOWN
    assert result["cas"]["order_id"] == unknown and result["cas"]["renewal"] == unknown
    assert result["cas"]["product_code"] == "digicert-free-1-free"
    assert result["cas"]["private_key"] == "<unknown>"
    assert result["scm"]["certificate_id"] == unknown and result["scm"]["renewal"] == unknown
    assert result["scm"]["domains"] == ["shop.example.cn"]
