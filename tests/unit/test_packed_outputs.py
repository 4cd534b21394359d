"""The program's side of the packing (components/packed_provider.py) under Pulumi's mocks: in a preview, what
the engine cannot know yet (a new certificate's ARN: its preview outputs are its inputs) stays unknown, as the SDK
makes a missing output, while what the inputs say (its domain) is known; after `up` every field is known."""

from __future__ import annotations

import asyncio
import copy

import pulumi
import pytest

from components.config import load_fleet
from components.packing import packed, unpacked
from components.renewal import HELD_KEY, PreviousOutputs

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
    """A CAS order and an SCM certificate after `up` (issued, a key of their own) or in a create's preview. What
    arrives top level stays top level (components/packed_provider.PackedProvider); `held`: False for a state
    written before `renewal_held` existed."""

    def __init__(self, preview: bool, held: bool = True, same: bool = False):
        super().__init__(preview)
        self.held, self.key, self.same = held, "KEY", same

    def new_resource(self, args):
        kind = args.typ.split(":")[-1]
        if (self.preview and not self.same) or kind not in ISSUED:
            return "", args.inputs
        secret = "private_key" if kind == "CasOrder" else "private_key_pem"
        issued = ISSUED[kind] if self.held else {k: v for k, v in ISSUED[kind].items() if k != HELD_KEY}
        # `same`: nothing changed, so the engine hands back the state as it is, written when every input was
        # plain (all of it in `spec`), whatever the program passes top level now.
        top = {secret} if self.same else {secret, *(set(args.inputs) - {"spec"})}
        if self.same:
            issued = {**issued, "renewal_generation": None, "renews": None}   # as written then, not as passed now
        return "id-1", {**packed({**unpacked(args.inputs), **issued}, top), secret: self.key}


def summaries(preview: bool, fleet: dict = PAID, held: bool = True, previous: dict | None = None,
              same: bool = False) -> dict:
    """Each paid entry's exported output, and the same entry built field by field (the DNS-validated path);
    `previous`: the stack's previous outputs per section."""
    asyncio.set_event_loop(asyncio.new_event_loop())
    pulumi.runtime.set_mocks(PaidMocks(preview, held, same), project="certfleet", stack="t", preview=preview)
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
        model = load_fleet(fleet)
        last = PreviousOutputs({k: pulumi.Output.from_input(v) for k, v in previous.items()}) if previous else None
        orders = AlicloudOrders("alicloud", model.alicloud, previous=last)
        certs = HuaweiCertificates("huaweicloud", model.huaweicloud, previous=last)
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


def test_a_renewal_generation_kept_top_level_is_exported_from_a_state_without_renewal_held():
    """renewBefore declared: the program passes the renewal generation as an output (top level in the state). A
    state written before `renewal_held` holds generation 1 only there: the export must say 1, or the next run
    would plan generation 1 again and buy no successor when due."""
    previous_entry = {"not_after": "2027-03-01T00:00:00+00:00",
                      "renewal": {"generation": 1, "state": "renewed", "not_before": "2026-12-01T00:00:00+00:00"}}
    previous = {"alicloud": {"orders": {"docs": {**previous_entry, "order_id": "101"}}},
                "huaweicloud": {"certificates": {"shop": {**previous_entry, "certificate_id": "scs-1"}}}}
    fleet = copy.deepcopy(PAID)
    fleet["alicloud"]["renewBefore"] = fleet["huaweicloud"]["renewBefore"] = 10
    result = summaries(False, fleet, held=False, previous=previous)
    for label in ("cas", "scm"):
        assert result[label]["renewal"]["generation"] == 1, label
        assert result[label] == result[f"{label}-by-field"], label


@pytest.mark.parametrize("preview", [True, False])
def test_a_field_the_state_keeps_in_spec_is_read_there_though_the_program_now_passes_it_top_level(preview):
    """renewBefore added to a section whose states were written without it: the renewal inputs are outputs now
    (top level), the states keep them in `spec` until the resource changes; the export reads them there."""
    previous = {"alicloud": {"orders": {"docs": {"order_id": "101", "not_after": "2027-03-01T00:00:00+00:00",
                                                 "renewal": {"generation": 0, "state": "not-declared"}}}},
                "huaweicloud": {"certificates": {"shop": {"certificate_id": "scs-1",
                                                          "not_after": "2027-03-01T00:00:00+00:00"}}}}
    fleet = copy.deepcopy(PAID)
    fleet["alicloud"]["renewBefore"] = fleet["huaweicloud"]["renewBefore"] = 10
    result = summaries(preview, fleet, previous=previous, same=True)
    for label in ("cas", "scm"):
        assert result[label]["renewal"] != pulumi.runtime.rpc.UNKNOWN, label
        assert result[label]["renewal"]["generation"] == 0 and result[label]["renewal"]["renewBefore"] == 10, label


@pytest.mark.parametrize("key", ["KEY", None])
def test_a_cas_orders_key_stays_a_secret_of_its_own_inside_the_one_output(key):
    asyncio.set_event_loop(asyncio.new_event_loop())
    mocks = PaidMocks(False)
    mocks.key = key
    pulumi.runtime.set_mocks(mocks, project="certfleet", stack="t", preview=False)
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
    # The entry is not secret as a whole (its order id and state stay readable); the key is, when there is one.
    assert seen == {"entry_secret": False, "key_secret": key is not None, "key": key}


def test_in_a_create_preview_what_the_engine_cannot_know_is_unknown_and_the_inputs_are_known():
    result = summaries(preview=True)
    unknown = pulumi.runtime.rpc.UNKNOWN
    assert result["cas"]["order_id"] == unknown and result["cas"]["renewal"] == unknown
    assert result["cas"]["product_code"] == "digicert-free-1-free"
    assert result["cas"]["private_key"] == "<unknown>"
    assert result["scm"]["certificate_id"] == unknown and result["scm"]["renewal"] == unknown
    assert result["scm"]["domains"] == ["shop.example.cn"]


# --- distributions: packed beside the outputs of other resources ------------------------------------------------

DISTRIBUTED = {"aws": {"certificates": {"shop": {"domain": "shop.example.com", "sans": ["www.shop.example.com"]}},
                       "distributions": {"web": {"template": "E195R1W5GIVPF5", "certificate": "shop",
                                                 "aliases": ["shop.example.com"]}}}}
DEPLOYED = {"distribution_id": "EDIST1", "domain_name": "d1.cloudfront.net", "status": "Deployed", "stage": "Deployed",
            "bound": True, "adopted": False, "edge": {"state": "serving"}}


class DistributionMocks(Mocks):
    """After `up`: a certificate, a template snapshot and a distribution (outputs as its provider packs them)."""

    def new_resource(self, args):
        kind = args.typ.split(":")[-1]
        seen = DistributionMocks.registered.setdefault(kind, args.inputs)
        if self.preview:
            return "", args.inputs
        if kind == "AcmCertificate":
            return "arn:1", packed({**unpacked(args.inputs), "arn": "arn:1", "status": "ISSUED"})
        if kind == "DistributionTemplate":
            return "t-1", {**args.inputs, "config": {"Comment": "template", "Origins": {"Quantity": 1}}}
        if kind == "Distribution":
            top = set(seen) - {"spec"}
            return "EDIST1", {**packed({**unpacked(args.inputs), **DEPLOYED}, top)}
        return "", args.inputs


def distribution_entry(preview: bool) -> tuple[dict, dict]:
    """The distribution's exported entry and the inputs it was registered with (the mocks do not mark secret
    outputs: tests/e2e/test_cloudfront_e2e.py reads the state for that)."""
    asyncio.set_event_loop(asyncio.new_event_loop())
    DistributionMocks.registered = {}
    pulumi.runtime.set_mocks(DistributionMocks(preview), project="certfleet", stack="t", preview=preview)
    from components.fleet import AwsCertificates
    result: dict = {}

    async def look(component):
        entry = await component.distributions_summary()["web"].future()
        result["entry"] = {k: (await v.future() if await v.is_known() else "<unknown>")
                           if isinstance(v, pulumi.Output) else v for k, v in entry.items()}

    @pulumi.runtime.test
    def run():
        component = AwsCertificates("aws", load_fleet(DISTRIBUTED).aws)
        return pulumi.Output.from_input(asyncio.ensure_future(look(component)))

    run()
    return result["entry"], DistributionMocks.registered["Distribution"]


def test_a_distribution_is_packed_but_the_outputs_of_other_resources_it_takes():
    entry, registered = distribution_entry(preview=False)
    # Top level: what the program passes as another resource's output (the cloned config, the certificate's ARN
    # and status), and the pickled provider; everything else is in `spec`.
    assert set(registered) == {"__provider", "spec", "template_config", "certificate_arn", "certificate_status"}
    assert "template_config" not in unpacked({"spec": registered["spec"]})
    assert entry["distribution_id"] == "EDIST1" and entry["stage"] == "Deployed" and entry["bound"] is True
    assert entry["certificate_arn"] == "arn:1" and entry["aliases"] == ["shop.example.com"]
    assert entry["certificate_fingerprint"] == "" and entry["edge"] == {"state": "serving"}
    assert entry["certificate"] == "shop" and entry["template"] == "E195R1W5GIVPF5"


def test_in_a_new_stacks_preview_a_distributions_outputs_are_unknown_and_its_inputs_known():
    entry, _ = distribution_entry(preview=True)
    unknown = pulumi.runtime.rpc.UNKNOWN
    assert entry["distribution_id"] == unknown and entry["stage"] == unknown and entry["bound"] == unknown
    assert entry["aliases"] == ["shop.example.com"] and entry["certificate_arn"] == unknown


# --- the pickled provider of a packed resource: names only, so not a secret -------------------------------------

class ProviderMocks(Mocks):
    registered: dict = {}

    def new_resource(self, args):
        ProviderMocks.registered[args.typ.split(":")[-1]] = args.inputs.get("__provider")
        return "", args.inputs


STRUCTURE_OPS = {"PROTO", "FRAME", "STOP", "MARK", "MEMOIZE", "BINPUT", "BINGET", "STACK_GLOBAL", "NEWOBJ",
                 "BUILD", "EMPTY_DICT", "EMPTY_TUPLE", "TUPLE1", "TUPLE2", "TUPLE3", "SETITEM", "SETITEMS"}


def test_a_packed_resources_pickled_provider_holds_only_names_and_is_not_a_secret():
    """components/packed_provider.py serialize_as_secret_always: the pickle must never hold a credential or any
    other value, only class references and key names (what the program builds, for every packed resource)."""
    import base64
    import pickletools
    asyncio.set_event_loop(asyncio.new_event_loop())
    ProviderMocks.registered = {}
    pulumi.runtime.set_mocks(ProviderMocks(False), project="certfleet", stack="t", preview=False)
    from components.fleet import AlicloudOrders, AwsCertificates, HuaweiCertificates

    @pulumi.runtime.test
    def run():
        model = load_fleet({**DISTRIBUTED, **PAID})
        AwsCertificates("aws", model.aws), AlicloudOrders("alicloud", model.alicloud)
        HuaweiCertificates("huaweicloud", model.huaweicloud)
        return pulumi.Output.from_input(None)

    run()
    pickled = {k: ProviderMocks.registered[k] for k in ("AcmCertificate", "CasOrder", "ScmCertificate", "Distribution")}
    allowed_keys = {"private_key", "private_key_pem", "template_config", "inner", "top_level"}
    for kind, provider in pickled.items():
        assert isinstance(provider, str), kind   # not a secret (the mocks would see a secret's wrapper)
        ops = list(pickletools.genops(base64.b64decode(provider)))
        # Objects built from classes and strings only: no number, no bytes, no other value can be in there.
        assert {op.name for op, _, _ in ops} <= STRUCTURE_OPS | {"SHORT_BINUNICODE", "BINUNICODE"}, kind
        texts = [arg for op, arg, _ in ops if op.name in ("SHORT_BINUNICODE", "BINUNICODE")]
        assert all(t.startswith("components.") or t.endswith("Provider") or t in allowed_keys for t in texts), texts


def test_every_certfleet_providers_pickle_is_class_references_only():
    """Every provider is stored plain (components/dynamic.py CertfleetProvider): none may hold state."""
    import base64
    import importlib
    import pickletools

    from components.dynamic import CertfleetProvider
    from components.packed_provider import PackedProvider
    from pulumi.dynamic.dynamic import serialize_provider
    from tests.conftest import ROOT
    for path in sorted((ROOT / "components").rglob("*.py")):   # every module (some packages have no __init__)
        importlib.import_module(".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"))

    def subclasses(cls: type) -> set[type]:
        return {c for sub in cls.__subclasses__() for c in (sub, *subclasses(sub))}
    providers = subclasses(CertfleetProvider) - {PackedProvider}   # PackedProvider: the test above
    assert len(providers) >= 12
    for cls in providers:
        assert cls.serialize_as_secret_always is False
        ops = list(pickletools.genops(base64.b64decode(serialize_provider(cls()))))
        assert {op.name for op, _, _ in ops} <= STRUCTURE_OPS | {"SHORT_BINUNICODE", "BINUNICODE"}, cls
        assert [arg for op, arg, _ in ops if op.name.endswith("UNICODE")] == [cls.__module__, cls.__qualname__]
