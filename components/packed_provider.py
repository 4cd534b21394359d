"""The packing of components/packing.py at the provider boundary (`PackedProvider`) and in the program
(`PackedOutput`: a resource's attributes read from its `spec` output)."""

from __future__ import annotations

import asyncio
import json
from typing import Any, Iterable, Mapping

import pulumi
from pulumi.dynamic import CheckResult, CreateResult, DiffResult, ReadResult, ResourceProvider, UpdateResult

from components.packing import SPEC, is_packed, packed, unpacked


class PackedProvider(ResourceProvider):
    """A certfleet provider behind the packing (module docstring). Pickled by reference, with the provider."""

    def __init__(self, inner: ResourceProvider, top_level: Iterable[str] = ()) -> None:
        self.inner = inner
        self.top_level = tuple(top_level)

    def _pack(self, props: Mapping[str, Any] | None) -> dict[str, Any] | None:
        return None if props is None else packed(props, self.top_level)

    def configure(self, req: Any) -> None:
        self.inner.configure(req)

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        result = self.inner.check(unpacked(olds), unpacked(news))
        return CheckResult(self._pack(result.inputs), result.failures)

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        result = self.inner.diff(id_, unpacked(olds), unpacked(news))
        if result.changes is False and not is_packed(olds):
            # A state from before packing: rewritten once by update (no cloud call), even though nothing changed.
            return DiffResult(changes=True, replaces=[], delete_before_replace=False)
        return result

    def create(self, props: dict[str, Any]) -> CreateResult:
        result = self.inner.create(unpacked(props))
        return CreateResult(result.id, self._pack(result.outs))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        result = self.inner.read(id_, unpacked(props))
        return ReadResult(result.id, self._pack(result.outs), self._pack(result.inputs))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        flat_olds, flat_news = unpacked(olds), unpacked(news)
        if not is_packed(olds) and self.inner.diff(id_, flat_olds, flat_news).changes is False:
            return UpdateResult(self._pack({**flat_olds, **flat_news}))   # the state format only: no cloud call
        return UpdateResult(self._pack(self.inner.update(id_, flat_olds, flat_news).outs))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        self.inner.delete(id_, unpacked(props))


# --- the program's side ---------------------------------------------------------------------------------

def _unknown() -> pulumi.Output:
    """An output whose value is not known yet (as the SDK makes for an output a preview cannot know)."""
    value: asyncio.Future = asyncio.get_event_loop().create_future()
    value.set_result(None)
    known: asyncio.Future = asyncio.get_event_loop().create_future()
    known.set_result(False)
    return pulumi.Output(set(), value, known)


def field_of(spec: Mapping[str, Any] | None, key: str) -> Any:
    """One output of a resource's decoded `spec`. A key the engine has not filled yet (a create or update in
    a preview: its outputs are its inputs) is unknown in a preview, as the SDK makes a missing output."""
    if spec is not None and key in spec:
        return spec[key]
    return _unknown() if pulumi.runtime.is_dry_run() else None


class PackedOutput:
    """A resource attribute read from its `spec` output: `arn = PackedOutput()` gives `resource.arn`."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.key = name

    def __get__(self, resource: Any, owner: type | None = None) -> Any:
        if resource is None:
            return self
        fields = resource.__dict__.setdefault("_packed_fields", {})
        if self.key not in fields:
            fields[self.key] = decoded_spec(resource).apply(lambda spec, key=self.key: field_of(spec, key))
        return fields[self.key]


def decoded_spec(resource: Any) -> pulumi.Output:
    """The resource's `spec` output decoded, once per resource."""
    if "_decoded_spec" not in resource.__dict__:
        resource.__dict__["_decoded_spec"] = getattr(resource, SPEC).apply(
            lambda text: json.loads(text) if isinstance(text, str) else None)
    return resource.__dict__["_decoded_spec"]
