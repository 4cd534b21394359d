"""One state property per resource: its inputs and outputs as one JSON string (`spec`), not one property each.

Why: the engine's and the SDK's cost is per property value, not per byte (docs/scale.md, "Against the engine's
floor"). Measured on the floor (N = 1,000, the same bytes): 2 string properties took 5.7 s for a new-stack
preview and 6.7 s for a no-change preview; 24 properties 11.0 s and 12.9 s; the same 24 nested under one
object 7.9 s and 10.3 s. One JSON string costs what one string costs, and `pulumi preview` still shows a
change field by field: the engine decodes a JSON string on both sides and prints the object diff
("spec: (json) { ~ domain: ... }").

The provider never sees the packing: `PackedProvider` unpacks at the boundary and packs what the provider
returns. Kept top level (never in `spec`): the dynamic provider's own `__provider`, the keys a resource names
(its secret outputs: `additional_secret_outputs` names top-level keys only), and any value not known yet (an
Output in the program, unknown at preview).

A state written before packing (flat) is read as it is. Its first diff reports a change even when nothing
changed, and that update rewrites the state packed, its outputs as they were, without calling the cloud. (A
refresh keeps it flat: read runs the provider pickled in the state, the one from before packing.) Until that
`up`, a `--target` run that leaves such a resource out reads its fields as null: run one full `pulumi up`.

Readers of the state or of `pulumi preview --json` (scripts/pr_summary_digest.py, the policy pack) unpack
with `unpacked`.
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Mapping

SPEC = "spec"
PROVIDER_KEY = "__provider"   # pulumi.dynamic's own input: the pickled provider


def _plain(value: Any) -> bool:
    """JSON data all through: not a program's Output, not a preview's Unknown (those stay top level)."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return True
    if isinstance(value, Mapping):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    return False


def packed(props: Mapping[str, Any], top_level: Iterable[str] = ()) -> dict[str, Any]:
    """`props` with every value under `spec` (a JSON string) but `__provider`, `top_level` and what is not
    plain data yet (an Output in the program, an Unknown at preview: the provider packs it once known)."""
    keep = {PROVIDER_KEY, *top_level}
    inside = {k: v for k, v in props.items() if k not in keep and _plain(v)}
    return {**{k: v for k, v in props.items() if k not in inside},
            SPEC: json.dumps(inside, sort_keys=True, separators=(",", ":"))}


def is_packed(props: Mapping[str, Any]) -> bool:
    return isinstance(props.get(SPEC), str)


def unpacked(props: Mapping[str, Any] | None) -> dict[str, Any]:
    """The flat props of a packed resource; a flat (pre-packing) one as it is."""
    props = dict(props or {})
    if not is_packed(props):
        return props
    # Numbers as the engine hands them over (floats: `years` 1.0), as they reached the provider before packing:
    # a request hash or a message must not change with the state's shape.
    return {**json.loads(props.pop(SPEC), parse_int=float), **props}
