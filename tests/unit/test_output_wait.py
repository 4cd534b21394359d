"""components/output_wait.py: the end-of-program wait for outputs raises what the SDK raises and waits for what
it waits for, in one round per failure instead of one per completion."""

from __future__ import annotations

import asyncio
import threading

import pytest
from pulumi.runtime import stack

from components import output_wait
from components.output_wait import _wait_for_outputs


class Failed(Exception):
    """Stands for the SDK's ResourceRegistrationFailed."""


class Settings:
    def __init__(self):
        self.lock = threading.Lock()
        self.outputs: set = set()


def run(scenario):
    # A loop of its own, never made the thread's current one: asyncio.run would leave the thread without a
    # current loop, and the SDK's Outputs built by later tests in this worker need one.
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(scenario())
    finally:
        loop.close()


def test_waits_for_every_output_including_those_created_while_waiting():
    finished = []

    async def scenario():
        settings = Settings()

        async def later(name, seconds, then=None):
            await asyncio.sleep(seconds)
            if then:   # an output whose completion creates another (an apply)
                settings.outputs.add(asyncio.ensure_future(later(then, 0.02)))
            finished.append(name)

        settings.outputs |= {asyncio.ensure_future(later("a", 0.01)),
                             asyncio.ensure_future(later("b", 0.03, then="c"))}
        await _wait_for_outputs(settings, Failed)
        assert not settings.outputs

    run(scenario)
    assert sorted(finished) == ["a", "b", "c"]


def test_an_outputs_error_is_raised_and_a_failed_registration_is_not():
    async def fails(error):
        await asyncio.sleep(0.01)
        raise error

    async def ignored():
        settings = Settings()
        settings.outputs |= {asyncio.ensure_future(fails(Failed())), asyncio.ensure_future(asyncio.sleep(0.02))}
        await _wait_for_outputs(settings, Failed)
        return "done"

    assert run(ignored) == "done"

    async def raised():
        settings = Settings()
        settings.outputs |= {asyncio.ensure_future(fails(ValueError("apply failed")))}
        await _wait_for_outputs(settings, Failed)

    with pytest.raises(ValueError, match="apply failed"):
        run(raised)


def test_waits_are_one_round_per_failure_not_per_completion():
    rounds = {"n": 0}
    real_wait = asyncio.wait

    async def counted(*args, **kwargs):
        rounds["n"] += 1
        return await real_wait(*args, **kwargs)

    async def scenario():
        settings = Settings()
        settings.outputs |= {asyncio.ensure_future(asyncio.sleep(i / 1000)) for i in range(200)}
        asyncio.wait = counted
        try:
            await _wait_for_outputs(settings, Failed)
        finally:
            asyncio.wait = real_wait

    run(scenario)
    assert rounds["n"] == 1   # the SDK's FIRST_COMPLETED wait returns about 200 times here


def test_installed_for_the_pinned_sdk_only():
    original = stack.wait_for_rpcs
    try:
        assert output_wait.install(), (f"the Pulumi SDK is not {output_wait.SDK_VERSION} any more: check its "
                                       "wait_for_rpcs against components/output_wait.py, then update SDK_VERSION")
        assert stack.wait_for_rpcs is not original
        assert not output_wait.install()   # once only: it wraps the SDK's own pump, not itself
    finally:
        stack.wait_for_rpcs = original
