"""The Pulumi SDK's own debug messages: kept in the program unless asked for.

The SDK logs about four debug messages per resource ("Preparing resource", "resource registration prepared",
...). Each is a blocking gRPC call from the program's event loop to the engine, which shows it only with
`pulumi ... --debug`. Measured on the engine's floor (300 no-op resources, no-change preview): 3.3 CPU s for the
program, engine and provider with them, 2.75 s without (docs/scale.md, "Where the time goes"). The program
cannot tell whether the CLI was run with `--debug` (nothing in its arguments or environment says so), so
`CERTFLEET_SDK_DEBUG=1` keeps them: set it beside `--debug` when the SDK's own messages are wanted.

Only `pulumi.log.debug` changes (certfleet itself logs no debug messages); info, warnings and errors still go.
"""

from __future__ import annotations

import os

ENV = "CERTFLEET_SDK_DEBUG"


def wanted() -> bool:
    return os.environ.get(ENV, "").lower() in ("1", "true", "yes")


def install() -> bool:
    """Drop the SDK's debug messages unless CERTFLEET_SDK_DEBUG is set; True when they are dropped."""
    import pulumi.log

    if wanted():
        return False
    pulumi.log.debug = _dropped
    return True


def _dropped(msg: str, resource=None, stream_id=None, ephemeral=None) -> None:   # the SDK's signature
    """A debug message no one asked for: not sent to the engine."""
