"""The packing of components/packing.py at the provider boundary (`PackedProvider`) and in the program
(`PackedResource`, the base of a packed resource; `packed_fields`: its attributes read from its `spec` output)."""

from __future__ import annotations

import asyncio
from typing import Any, Callable, Iterable, Mapping

import pulumi
from pulumi.dynamic import CheckResult, CreateResult, DiffResult, ReadResult, ResourceProvider, UpdateResult
from pulumi.runtime.rpc import UNKNOWN   # the engine's unknown value, as the SDK serialises it

from components.dynamic import CertfleetProvider, CertfleetResource
from components.packing import SPEC, is_packed, packed, unpacked


class PackedProvider(CertfleetProvider):
    """A certfleet provider behind the packing (components/packing.py). Pickled by reference, with the provider.

    Only the program decides what is packed: a key that reaches the provider top level stays top level in what
    it returns (inputs and outputs). The dynamic provider sees secrets as plain values and the engine marks them
    secret again by their top-level key, so a secret input must never move into `spec`; neither may a value
    that was unknown at preview (its shape would change between preview and `up`)."""

    def __init__(self, inner: ResourceProvider, top_level: Iterable[str] = ()) -> None:
        self.inner = inner
        self.top_level = tuple(top_level)

    def _pack(self, props: Mapping[str, Any] | None, arrived: Mapping[str, Any]) -> dict[str, Any] | None:
        """`props` packed, keeping top level what `arrived` top level beside a `spec` (and the resource's own
        top-level keys). A state from before packing (no `spec`) is packed whole but for those own keys: its
        secrets are the resource's secret outputs, which are among them."""
        if props is None:
            return None
        top = self.top_level + (tuple(k for k in arrived if k != SPEC) if is_packed(arrived) else ())
        return packed(props, top)

    def configure(self, req: Any) -> None:
        self.inner.configure(req)

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        result = self.inner.check(unpacked(olds), unpacked(news))
        return CheckResult(self._pack(result.inputs, news), result.failures)

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        result = self.inner.diff(id_, unpacked(olds), unpacked(news))
        if result.changes is False and not is_packed(olds):
            # A state from before packing: rewritten once by update (no cloud call), even though nothing changed.
            return DiffResult(changes=True, replaces=[], delete_before_replace=False)
        return result

    def create(self, props: dict[str, Any]) -> CreateResult:
        result = self.inner.create(unpacked(props))
        return CreateResult(result.id, self._pack(result.outs, props))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        result = self.inner.read(id_, unpacked(props))
        return ReadResult(result.id, self._pack(result.outs, props), self._pack(result.inputs, props))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        flat_olds, flat_news = unpacked(olds), unpacked(news)
        if not is_packed(olds) and self.inner.diff(id_, flat_olds, flat_news).changes is False:
            # The state's shape only: no cloud call, and the outputs as they were (what a "no change" keeps; the
            # new inputs' nulls must not overwrite them, e.g. a CAS renewal's `renews`).
            return UpdateResult(self._pack(flat_olds, news))
        return UpdateResult(self._pack(self.inner.update(id_, flat_olds, flat_news).outs, news))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        self.inner.delete(id_, unpacked(props))


# --- the program's side ---------------------------------------------------------------------------------

class PackedResource(CertfleetResource):
    """A certfleet resource whose state is one `spec` property: its provider behind PackedProvider, its inputs
    packed, and each of its `secret_outputs` a top-level property of its own, declared secret (the engine marks
    a secret output by its top-level name)."""

    def __init__(self, provider: ResourceProvider, name: str, props: Mapping[str, Any],
                 opts: pulumi.ResourceOptions | None = None, secret_outputs: Iterable[str] = ()) -> None:
        secret_outputs = tuple(secret_outputs)
        if secret_outputs:
            opts = pulumi.ResourceOptions.merge(
                opts, pulumi.ResourceOptions(additional_secret_outputs=list(secret_outputs)))
        # A secret output that is also an input (a distribution's cloned template_config) keeps its input.
        super().__init__(PackedProvider(provider, secret_outputs), name,
                         packed({**dict.fromkeys(secret_outputs), **props}, secret_outputs), opts)


def _resolved(value: Any) -> asyncio.Future:
    future: asyncio.Future = asyncio.get_event_loop().create_future()
    future.set_result(value)
    return future


def _unknown() -> pulumi.Output:
    """An output whose value is not known yet (as the SDK makes for an output a preview cannot know)."""
    return pulumi.Output(set(), _resolved(None), _resolved(False))


def field_of(spec: Mapping[str, Any] | None, key: str) -> Any:
    """One output of a resource's decoded `spec`. A key the engine has not filled yet (a create or update in
    a preview: its outputs are its inputs) is unknown in a preview, as the SDK makes a missing output."""
    if spec is not None and key in spec:
        return spec[key]
    return _unknown() if pulumi.runtime.is_dry_run() else None


class PackedOutput:
    """A resource attribute read from its `spec` output (set by `packed_fields`)."""

    def __init__(self, key: str) -> None:
        self.key = key

    def __get__(self, resource: Any, owner: type | None = None) -> Any:
        if resource is None:
            return self
        fields = resource.__dict__.setdefault("_packed_fields", {})
        if self.key not in fields:
            fields[self.key] = decoded_spec(resource).apply(lambda spec, key=self.key: field_of(spec, key))
        return fields[self.key]


def fields_of(resource: Any, keys: Iterable[str]) -> pulumi.Output:
    """`keys` of a packed resource as one output of a dict of values (one per resource, not one per key: the SDK
    walks every output of the stack's export one by one). A key the program kept top level (it passed another
    resource's output: a distribution's certificate ARN, a renewal generation from the previous outputs) is read
    from that top-level output. A key a preview cannot know yet is the engine's unknown value, the others stay
    known. `keys` must not name a secret output: the whole dict would be secret."""
    keys = tuple(keys)
    top_level = [k for k in keys if k in resource.__dict__]   # the SDK's own attributes: the keys kept top level

    def pick(values: list[Any]) -> dict[str, Any]:
        spec, tops = values[0], dict(zip(top_level, values[1:]))
        preview = pulumi.runtime.is_dry_run()
        # Where the state holds it: a key kept in `spec` by a state written before the program passed it as an
        # output stays there until the resource changes (its top-level output is then empty).
        return {k: spec[k] if spec is not None and k in spec else tops[k] if k in tops
                else (UNKNOWN if preview else None) for k in keys}
    return pulumi.Output.all(decoded_spec(resource), *(_known(resource.__dict__[k]) for k in top_level)).apply(pick)


def _known(output: pulumi.Output) -> pulumi.Output:
    """`output` as one that is always known: its value, or the engine's unknown value where a preview cannot know
    it (so that one unknown field leaves the others of fields_of known)."""
    async def value() -> Any:
        return await output.future() if await output.is_known() else UNKNOWN
    return pulumi.Output(output.resources(), asyncio.ensure_future(value()), _resolved(True), output.is_secret())


def packed_fields(*keys: str) -> Callable[[type], type]:
    """Class decorator: `resource.<key>` reads the key from the resource's `spec`, for each of `keys`."""
    def add(cls: type) -> type:
        for key in keys:
            setattr(cls, key, PackedOutput(key))
        return cls
    return add


def decoded_spec(resource: Any) -> pulumi.Output:
    """The resource's `spec` output decoded, once per resource."""
    if "_decoded_spec" not in resource.__dict__:
        resource.__dict__["_decoded_spec"] = getattr(resource, SPEC).apply(
            lambda text: unpacked({SPEC: text}) if isinstance(text, str) else None)
    return resource.__dict__["_decoded_spec"]
