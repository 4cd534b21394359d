"""What every certfleet dynamic provider shares: the Resource base class, bounded waits, input helpers.

Pitfalls handled here (reference/pulumi-dynamic-providers.md):
- Provider classes live in importable modules, so they are pickled by reference: ~100 bytes per resource,
  and refresh/destroy run the code on disk, not a frozen copy.
- `serialize_provider` wraps pickle's `_batch_setitems` again on every resource and never restores it;
  after a few hundred resources that is a RecursionError. `CertfleetResource` restores the original first.
- Providers hold no SDK clients (they cannot be pickled); clients are built lazily in the provider process.
- Providers hold no state at all, so a pickled provider is class references (and a packed one's key names)
  only: `CertfleetProvider` has it stored plain, not as a secret (tests/unit/test_packed_outputs.py checks it).
"""

from __future__ import annotations

import pickle
import random
import threading
import time
import uuid
from typing import Any, Callable, Iterable, Mapping, TypeVar

import pulumi
from pulumi.dynamic import Resource, ResourceProvider

from components.errors import WaitTimeout

_ORIGINAL_BATCH_SETITEMS = pickle._Pickler._batch_setitems  # type: ignore[attr-defined]

T = TypeVar("T")


class CertfleetProvider(ResourceProvider):
    """Base of certfleet's providers. Pulumi stores the pickled provider (`__provider`, in each resource's inputs
    and outputs) as a secret unless told otherwise; certfleet's hold no state, never a credential (they read
    those from the environment when they run), and the SDK still makes it secret if it captured a secret
    output. Plain, it is half the bytes in state and two values fewer per resource for the engine to encrypt
    and decrypt."""

    serialize_as_secret_always = False


class CertfleetResource(Resource):
    """Base of certfleet's dynamic resources (adds the pickling fix; see the module docstring)."""

    def __init__(self, provider: Any, name: str, props: Mapping[str, Any],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        pickle._Pickler._batch_setitems = _ORIGINAL_BATCH_SETITEMS  # type: ignore[attr-defined]
        super().__init__(provider, name, dict(props), opts)


def resource_identity(name: str) -> str:
    """`<project>/<stack>/<name>`: which certfleet resource owns a cloud object (tagged on it, looked up by it)."""
    return f"{pulumi.get_project()}/{pulumi.get_stack()}/{name}"


def foreign_owner(owner: str | None, props: Mapping[str, Any]) -> str | None:
    """The other certfleet identity a cloud object is tagged with, or None (untagged, or this resource's: its
    `resource_tag` or one of its `previous_resource_tags`)."""
    if not owner or owner in (props.get("resource_tag"), *(props.get("previous_resource_tags") or [])):
        return None
    return owner


def renamed_from(previous_names: Iterable[str], opts: pulumi.ResourceOptions) -> pulumi.ResourceOptions:
    """An entry's former names as Pulumi aliases: the resource keeps its identity, nothing is replaced."""
    aliases = [pulumi.Alias(name=old) for old in previous_names]
    return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(aliases=aliases)) if aliases else opts


def tell_user(message: str) -> None:
    """A warning in the `pulumi` CLI's output, from inside the provider process (e.g. "kept ...").

    Outside an engine (provider tests call the methods directly) there is no one to tell: never fail.
    """
    try:
        pulumi.log.warn(message)
    except Exception:  # noqa: BLE001 - a message must never fail the operation it describes
        pass


def is_unknown(value: Any) -> bool:
    """During preview, inputs computed from other resources arrive as pulumi's Unknown sentinel."""
    return type(value).__name__ == "Unknown"


def changed_keys(olds: Mapping[str, Any], news: Mapping[str, Any], keys: Iterable[str]) -> list[str]:
    """Keys whose value differs (an unknown new value counts as a change)."""
    return [k for k in keys if is_unknown(news.get(k)) or olds.get(k) != news.get(k)]


class Clock:
    """Monotonic time and sleep, swappable in tests."""

    now: Callable[[], float] = staticmethod(time.monotonic)
    sleep: Callable[[float], None] = staticmethod(time.sleep)


# --- one run = one provider process ----------------------------------------------------------------------
# The engine starts one dynamic-provider process per `pulumi up`/`preview`/`destroy` and sends it every
# call of that run, so process-wide facts are facts about the run.

RUN_ID = uuid.uuid4().hex  # this run; the purchase journal (components/journal.py) stamps entries with it

class RunSet:
    """A set of facts about this run, shared by the provider process's worker threads."""

    def __init__(self) -> None:
        self._items: set[Any] = set()
        self._lock = threading.Lock()

    def add(self, item: Any) -> None:
        with self._lock:
            self._items.add(item)

    def __contains__(self, item: Any) -> bool:
        with self._lock:
            return item in self._items

    def snapshot(self) -> frozenset[Any]:
        with self._lock:
            return frozenset(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


DECLARED = RunSet()   # (kind, name) of what the program declares in this run (see note_declared)
# (kind, id) of cloud objects this run's diffs decided to replace: still live while the replacing create
# looks before it buys (create before delete), so that create must not take them for its own.
REPLACED = RunSet()


def note_declared(kind: str, *names: Any) -> None:
    """Called from `check`: the program declares this resource in this run, under each of these names (its own
    and its former ones; anything but a string, e.g. an unset name, is skipped). `check` runs for every
    resource the program registers, also under `pulumi up --replace`, and never under `pulumi destroy`."""
    for name in names:
        if isinstance(name, str):
            DECLARED.add((kind, name))


def declared_in_this_run(kind: str, name: str) -> bool:
    """In `delete`: True when the program still declares the resource, i.e. this delete is the old half of a
    replacement, not a real destroy. Opt-in destruction (revoke, delete) applies to a real destroy only."""
    return (kind, name) in DECLARED


class WaitWindow:
    """One window per kind of long wait (issuance, validation records, order processing) of a run.

    The provider process serves only a few calls at once (the dynamic provider's gRPC server has 4 workers),
    so per-resource waits of up to an hour would queue behind each other: 300 certificates x 1 h. Instead
    the window of a kind opens at its first wait and lasts as long as the longest timeout asked for that
    kind; a wait ends at its own deadline or when its window closes, whichever is first, and a wait that
    starts after the window closed looks once. A run's total waiting of each kind is bounded by that kind's
    longest timeout, whatever the stack's size; what is still pending is recorded and `pulumi up
    --refresh` continues.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[float, float]] = {}  # kind -> (opened, length)

    def deadline(self, kind: str, timeout_seconds: float, clock: type[Clock]) -> float:
        now = clock.now()
        with self._lock:
            opened, length = self._windows.get(kind, (now, 0.0))
            length = max(length, timeout_seconds)
            self._windows[kind] = (opened, length)
            return min(now + timeout_seconds, opened + length)

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()


RUN_WAITS = WaitWindow()
ISSUANCE, RECORDS, ORDER_PROCESSING = "issuance", "validation records", "order processing"  # kinds of waits
DEPLOYMENT = "deployment"  # a CloudFront distribution reaching Deployed


def wait_for(what: str, probe: Callable[[], T | None], timeout_seconds: float,
             interval_seconds: float = 2.0, clock: type[Clock] = Clock, shared: str | None = None,
             first_interval_seconds: float | None = None) -> T:
    """Call `probe` until it returns something other than None, for at most `timeout_seconds`.

    The first probe always runs (so a timeout of 0 means "look once"). Raises WaitTimeout naming `what`.
    `first_interval_seconds`: start polling at this interval and double it up to `interval_seconds` (a change
    that is often quick is seen quickly; a slow one costs a few calls more).
    `shared`: the kind of a long wait for the cloud's progress (ISSUANCE, RECORDS, ORDER_PROCESSING) that also
    ends when the run's window of that kind closes. Never for a look-before-buy: those run their full length.
    """
    deadline = RUN_WAITS.deadline(shared, timeout_seconds, clock) if shared else clock.now() + timeout_seconds
    interval = min(first_interval_seconds or interval_seconds, interval_seconds)
    while True:
        result = probe()
        if result is not None:
            return result
        remaining = deadline - clock.now()
        if remaining <= 0:
            raise WaitTimeout(f"gave up after {timeout_seconds:g}s waiting for {what}")
        clock.sleep(min(interval, remaining))
        interval = min(interval * 2, interval_seconds)  # `first_interval_seconds`: quick looks first, then slower


# --- look before you buy: ordered checks, cert-manager style ----------------------------------------------
# Each check looks at one object found in the cloud and has an opinion (a Verdict) or none; the first
# opinion decides: SKIP (not this purchase's), ADOPT, or REFUSE (stop, buy nothing; `why` is the error).

SKIP, ADOPT, REFUSE = "skip", "adopt", "refuse"
Verdict = tuple[str, str]  # (SKIP | ADOPT | REFUSE, why)


def first_opinion(checks: Iterable[Callable[..., Verdict | None]], *facts: Any) -> Verdict:
    """The first opinion of `checks`, in order, on `facts` (the last check must always have one)."""
    for check in checks:
        verdict = check(*facts)
        if verdict is not None:
            return verdict
    raise AssertionError("the last check decides every case")


# Retries of one cloud call: exponential backoff with full jitter, never shorter than the server asks.
MAX_ATTEMPTS = 5
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 8.0


def backoff_seconds(attempt: int, at_least: float = 0.0) -> float:
    """Delay before retry number `attempt` (from 0): full jitter under an exponential cap."""
    return max(random.uniform(0, min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** attempt)), at_least)


def with_retries(send: Callable[[], T], *, errors: tuple[type[BaseException], ...],
                 retryable: Callable[[Any], bool], to_error: Callable[[Any], Exception],
                 wait_at_least: Callable[[Any], float] = lambda err: 0.0, clock: type[Clock] = Clock,
                 attempts: int = MAX_ATTEMPTS) -> T:
    """Run `send`; on one of `errors` that is `retryable`, wait and run it again, `attempts` times at most.

    Anything else, or the last failure, is raised as `to_error(err)` (a CloudError naming the call).
    """
    for attempt in range(attempts):
        try:
            return send()
        except errors as err:
            if not retryable(err) or attempt == attempts - 1:
                raise to_error(err) from err
            clock.sleep(backoff_seconds(attempt, wait_at_least(err)))
    raise AssertionError("unreachable")
