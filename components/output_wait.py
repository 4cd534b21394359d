"""The program's wait for its outputs at the end of a run, in time linear in the outputs.

When a Pulumi Python program has declared everything, the SDK waits for every pending output
(pulumi/runtime/stack.py `wait_for_rpcs`) with `asyncio.wait(..., FIRST_COMPLETED)`: it returns at each
completion, and every return puts a callback on each output still pending and takes it off again. Its work is
outputs x completions. A certfleet resource has 20 to 40 properties (an output each) plus its exports, so at 300
ACM certificates the program spent 44.7 CPU seconds of a 74 s `up` there, and more than twice the floor's CPU in
a preview (docs/scale.md, "Where the time goes"); the growth is quadratic in the fleet.

`install()` keeps the SDK's own pump of the engine calls (`wait_for_rpcs(await_all_outstanding_tasks=False)`,
its error handling included) and replaces only the wait for outputs: it waits for all pending outputs at once,
returning early only when one fails (FIRST_EXCEPTION), so each output is waited on about once. What it raises
and what it ignores are the SDK's: an output's own error, but not ResourceRegistrationFailed (the outputs of a
resource the engine reported failed, which `--continue-on-error` goes past). Outputs created meanwhile are
waited for in the next round, and the rounds repeat while the engine calls or outputs keep coming.

Installed only for the SDK version it was written against (requirements.txt pins it): another version keeps its
own wait, and tests/unit/test_output_wait.py fails, so that the change is looked at again.
"""

from __future__ import annotations

import asyncio

SDK_VERSION = "3.259.0"


async def _wait_for_outputs(settings, registration_failed: type[BaseException]) -> None:
    while True:
        with settings.lock:
            if not settings.outputs:
                return
            pending = list(settings.outputs)
            settings.outputs.clear()
        done, not_done = await asyncio.wait(pending, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            try:
                await task   # an output's error is raised here, as the SDK raises it
            except registration_failed:
                pass
        if not_done:
            with settings.lock:
                settings.outputs.update(not_done)


def install() -> bool:
    """Replace the SDK's end-of-program wait (see the module docstring); False if this SDK is not the one it was
    written against (nothing changed)."""
    from importlib.metadata import version

    from pulumi.runtime import stack
    from pulumi.runtime.settings import SETTINGS, _get_rpc_manager

    sdk_wait = stack.wait_for_rpcs
    if version("pulumi") != SDK_VERSION or getattr(sdk_wait, "certfleet", False):
        return False

    async def wait_for_rpcs(await_all_outstanding_tasks: bool = True) -> None:
        while True:
            await sdk_wait(await_all_outstanding_tasks=False)   # the engine calls, as the SDK pumps them
            if await_all_outstanding_tasks:
                await _wait_for_outputs(SETTINGS, stack.ResourceRegistrationFailed)
            if not _get_rpc_manager().rpcs:
                return

    wait_for_rpcs.certfleet = True  # type: ignore[attr-defined]
    stack.wait_for_rpcs = wait_for_rpcs
    return True
