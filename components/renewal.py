"""Renewal before expiry: `renewBefore` in config, and the decision, per entry, to order its successor.

Declared once (docs/renewal.md): `renewBefore` per section and per entry, whole days (>= 1) or "N%" of the
certificate's lifetime, as cert-manager's renewBefore / renewBeforePercentage. No `renewBefore`, no automatic
renewal: CAS and SCM successors are paid orders, so they are explicit.

The decision is the PROGRAM's, made before any resource is registered, from the stack's own previous outputs
(the builtin invoke pulumi:pulumi:readStackOutputs on its own stack, read once per run and only if some entry declares renewBefore): each entry's
`renewal` object ({generation, not_before, not_after, state}) and its certificate's id. RENEWAL_CHECKS run in
order on each entry; the first with an opinion decides KEEP or RENEW (cert-manager style). RENEW gives the
entry the next renewal generation and the predecessor's ids (`renews`); the generation is a replace key of
the order/certificate and part of its purchase (journal fingerprint, SCM request hash), so the successor gets
a durable journal stamp before its create and every never-buy-twice rule covers an interrupted renewal.

A generation never goes back: the providers' check keeps the state's generation when the program sends none
(no renewBefore any more, or the previous outputs could not be read), so dropping `renewBefore` buys nothing.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Mapping

from components import clock
from components.dynamic import is_unknown
from components.journal import RENEWAL_KEY  # the provider input: a replace key, part of the purchase
from components.rules import _Problems

RENEWS_KEY = "renews"                # the predecessor's ids, for create's look before buy: never diffed
KEEP, RENEW = "keep", "renew"
_PERCENT = re.compile(r"^([1-9][0-9]?)%$")
RULE = 'must be a whole number of days >= 1, or a percentage of the certificate\'s lifetime "1%".."99%"'


# --- config ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RenewBefore:
    """How long before expiry the successor is ordered: `days`, or `percent` of the lifetime."""

    days: int | None = None
    percent: int | None = None

    def __str__(self) -> str:
        return f"{self.days} days" if self.days is not None else f"{self.percent}% of the lifetime"

    @property
    def config_value(self) -> int | str:
        return self.days if self.days is not None else f"{self.percent}%"

    def window(self, lifetime: timedelta | None) -> timedelta | None:
        """The window as a duration; None for a percentage of an unknown lifetime."""
        if self.days is not None:
            return timedelta(days=self.days)
        return lifetime * self.percent / 100 if lifetime else None


def read_renew_before(p: _Problems, path: str, raw: Any) -> RenewBefore | None:
    if isinstance(raw, int) and not isinstance(raw, bool) and raw >= 1:
        return RenewBefore(days=raw)
    match = _PERCENT.match(raw.strip()) if isinstance(raw, str) else None
    if match:
        return RenewBefore(percent=int(match.group(1)))
    p.error(path, f"{RULE}, got {raw!r}")
    return None


def section_renew_before(p: _Problems, path: str, obj: Mapping[str, Any]) -> RenewBefore | None:
    return read_renew_before(p, f"{path}.renewBefore", obj["renewBefore"]) if "renewBefore" in obj else None


def entry_renew_before(p: _Problems, entry_path: str, raw_entry: Any,
                       default: RenewBefore | None) -> RenewBefore | None:
    """The entry's own renewBefore, else the section's."""
    if isinstance(raw_entry, Mapping) and "renewBefore" in raw_entry:
        return read_renew_before(p, f"{entry_path}.renewBefore", raw_entry["renewBefore"])
    return default


# --- times ----------------------------------------------------------------------------------------------------

def parse_time(value: Any) -> datetime | None:
    """An output's time (ISO 8601, or SCM's "YYYY-MM-DD HH:MM:SS[.f]") as aware UTC; None if absent or unreadable."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def certificate_not_before(certificate_pem: str | None) -> str | None:
    """The leaf's notBefore (ISO 8601 UTC), or None; what a lifetime percentage needs."""
    if not certificate_pem:
        return None
    from cryptography import x509
    try:
        return x509.load_pem_x509_certificate(certificate_pem.encode()).not_valid_before_utc.isoformat()
    except ValueError:
        return None


def days_between(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds() / 86400


# --- the decision ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Previous:
    """An entry as the stack's previous outputs show it."""

    generation: int = 0
    certificate_id: str | None = None
    not_before: datetime | None = None
    not_after: datetime | None = None
    state: str | None = None         # its renewal state then

    @property
    def lifetime(self) -> timedelta | None:
        if self.not_before and self.not_after and self.not_after > self.not_before:
            return self.not_after - self.not_before
        return None


@dataclass(frozen=True)
class Situation:
    """What the checks see of one entry."""

    label: str                       # "<section>.<name>", e.g. alicloud.orders.docs
    renew_before: RenewBefore | None
    previous: Previous | None        # None: no previous outputs for it (first run, new entry)
    now: datetime

    @property
    def days_left(self) -> float | None:
        p = self.previous
        return days_between(p.not_after, self.now) if p and p.not_after else None


Verdict = tuple[str, str]            # (KEEP | RENEW, why)


def not_declared(s: Situation) -> Verdict | None:
    return (KEEP, "no renewBefore: certfleet never renews it by itself") if s.renew_before is None else None


def first_certificate(s: Situation) -> Verdict | None:
    return (KEEP, "no previous outputs: its first certificate") if s.previous is None else None


def not_issued_yet(s: Situation) -> Verdict | None:
    if s.previous.not_after is None or not s.previous.certificate_id:
        return KEEP, "not issued yet"
    return None


def successor_pending(s: Situation) -> Verdict | None:
    if s.previous.state == "renewing":
        return KEEP, f"its successor (generation {s.previous.generation}) is ordered and not issued yet"
    return None


def window_too_long(s: Situation) -> Verdict | None:
    """A window as long as the lifetime (or longer) would renew at once, forever: a third of the lifetime
    instead, as cert-manager does (warned about by `warning`)."""
    lifetime = s.previous.lifetime
    window = s.renew_before.window(lifetime)
    if lifetime is None or window is None or window < lifetime:
        return None
    third = s.previous.not_after - lifetime / 3
    return (RENEW, "within a third of its lifetime (renewBefore is as long as the lifetime)") if s.now >= third \
        else (KEEP, "outside a third of its lifetime (renewBefore is as long as the lifetime)")


def outside_window(s: Situation) -> Verdict | None:
    window = s.renew_before.window(s.previous.lifetime)
    if window is None:
        return KEEP, "renewBefore is a percentage and its lifetime is unknown (no notBefore recorded)"
    return (KEEP, f"{s.days_left:.0f} days left, outside renewBefore") \
        if s.now < s.previous.not_after - window else None


def within_window(s: Situation) -> Verdict | None:
    return RENEW, f"expires in {s.days_left:.0f} days (renewBefore {s.renew_before.config_value})"


RENEWAL_CHECKS: tuple[Callable[[Situation], Verdict | None], ...] = (
    not_declared,
    first_certificate,
    not_issued_yet,
    successor_pending,
    window_too_long,
    outside_window,
    within_window,
)


@dataclass(frozen=True)
class Plan:
    """What the program declares for one entry this run."""

    generation: int
    action: str                      # KEEP | RENEW
    why: str
    renews: dict[str, Any] | None = None   # the predecessor: {id, not_after}
    warning: str | None = None
    days_left: float | None = None

    def inputs(self) -> dict[str, Any]:
        """The provider inputs: absent (None) for generation 0, so states from before renewal show no change."""
        return {RENEWAL_KEY: self.generation or None, RENEWS_KEY: self.renews}

    def log_line(self, label: str, renew_before: RenewBefore | None) -> str:
        return (f"renews {label}: expires in {self.days_left:.0f} days (renewBefore "
                f"{renew_before.config_value if renew_before else '?'}); successor generation {self.generation}")


def decide(s: Situation) -> Plan:
    action, why = next(v for check in RENEWAL_CHECKS if (v := check(s)) is not None)
    previous = s.previous
    generation = previous.generation if previous else 0
    warning = None
    if s.renew_before and previous and previous.lifetime:
        window = s.renew_before.window(previous.lifetime)
        if window is not None and window >= previous.lifetime:
            warning = (f"{s.label}: renewBefore {s.renew_before.config_value} is not shorter than the certificate's "
                       f"lifetime ({previous.lifetime.days} days): certfleet renews a third of the lifetime before "
                       f"expiry instead")
    if action == RENEW:
        renews = {"id": previous.certificate_id, "not_after": previous.not_after.isoformat()}
        return Plan(generation + 1, RENEW, why, renews, warning, s.days_left)
    return Plan(generation, KEEP, why, None, warning, s.days_left)


def previous_of(entry: Any, id_key: str) -> Previous | None:
    """An entry's previous outputs (a mapping, or None) as the checks read them."""
    if not isinstance(entry, Mapping):
        return None
    renewal = entry.get("renewal") if isinstance(entry.get("renewal"), Mapping) else {}
    generation = renewal.get("generation")
    return Previous(generation=int(generation) if isinstance(generation, (int, float)) else 0,
                    certificate_id=str(entry[id_key]) if entry.get(id_key) else None,
                    not_before=parse_time(renewal.get("not_before")), not_after=parse_time(entry.get("not_after")),
                    state=renewal.get("state"))


def plan_section(label: str, renew_before: Mapping[str, RenewBefore | None], previous_entries: Any, id_key: str,
                 now: datetime | None = None) -> dict[str, Plan]:
    """Every entry's plan from the section's previous entries (name -> outputs; None or partial are fine)."""
    entries = previous_entries if isinstance(previous_entries, Mapping) else {}
    at = now or clock.now()
    return {name: decide(Situation(f"{label}.{name}", rb, previous_of(entries.get(name), id_key), at))
            for name, rb in renew_before.items()}


# --- what the stack exports per entry --------------------------------------------------------------------------

def renewal_output(renew_before: RenewBefore | None, generation: int, issued: bool, not_after: str | None,
                   certificate_pem: str | None, now: datetime | None = None) -> dict[str, Any]:
    """The entry's `renewal` object (schema/outputs.v1.schema.json), which the next run decides from."""
    at = now or clock.now()
    expires = parse_time(not_after) if issued else None
    not_before = certificate_not_before(certificate_pem) if issued else None
    renew_at = None
    if renew_before is not None and expires is not None:
        start = parse_time(not_before)
        lifetime = expires - start if start and expires > start else None
        window = renew_before.window(lifetime)
        if window is not None and lifetime is not None and window >= lifetime:
            window = lifetime / 3
        renew_at = (expires - window).isoformat() if window is not None else None
    if renew_before is None:
        state = "not-declared"
    elif not issued:
        state = "renewing" if generation > 0 else "scheduled"
    elif renew_at is not None and at >= parse_time(renew_at):
        state = "due"
    else:
        state = "renewed" if generation > 0 else "scheduled"
    return {"generation": generation, "renewBefore": renew_before.config_value if renew_before else None,
            "not_before": not_before, "not_after": not_after if issued else None, "renew_at": renew_at,
            "days_left": round(days_between(expires, at), 1) if expires else None, "state": state}


# The provider output of the renewal a resource holds: {generation, renews}, never null. Not RENEWAL_KEY: null
# for generation 0, the engine drops it, and the SDK then shows the program's input (the plan) in its place.
HELD_KEY = "renewal_held"


def held_renewal(props: Mapping[str, Any]) -> dict[str, Any]:
    """HELD_KEY's value for a resource whose (stored or checked) inputs are `props`."""
    return {"generation": int(props.get(RENEWAL_KEY) or 0), "renews": props.get(RENEWS_KEY) or None}


def held_of(resource: Any) -> Any:
    """pulumi Output of the renewal the resource holds (the engine drops its null `renews`). A state from before
    HELD_KEY (the SDK gives None: the input placeholder) falls back to its renewal_generation and renews outputs."""
    import pulumi
    return pulumi.Output.all(getattr(resource, HELD_KEY, None), getattr(resource, RENEWAL_KEY),
                             getattr(resource, RENEWS_KEY, None)).apply(lambda v: held_from(*v))


def held_from(held: Any, generation: Any, renews: Any) -> dict[str, Any]:
    """held_of's rule on the values: HELD_KEY's if the resource has it, else its renewal_generation and renews."""
    return held_renewal({RENEWAL_KEY: held.get("generation"), RENEWS_KEY: held.get("renews")}
                        if isinstance(held, Mapping) else {RENEWAL_KEY: generation, RENEWS_KEY: renews})


def keep_generation(olds: Mapping[str, Any], news: dict[str, Any]) -> dict[str, Any]:
    """check's rule: a generation never goes back. Without one from the program (no renewBefore any more) the
    state's stays, so nothing is replaced or bought for it."""
    old = olds.get(RENEWAL_KEY) if olds else None
    new = news.get(RENEWAL_KEY)
    if old and not is_unknown(new) and (new is None or new < old):
        return {**news, RENEWAL_KEY: old}
    return news


# --- the program side: the stack's previous outputs, once -------------------------------------------------------

@dataclass
class PreviousOutputs:
    """The stack's own outputs of its last update, per top-level key, as pulumi Outputs (read once)."""

    sections: dict[str, Any] = field(default_factory=dict)

    def of(self, section: str) -> Any:
        import pulumi
        return self.sections.get(section) or pulumi.Output.from_input(None)


# The builtin invoke a StackReference uses, called directly: synchronous, so a failed read is an exception here
# (a StackReference resource fails the whole run, and its read raced the file backend's checkpoint write at the
# first `up`: "failed to load checkpoint: EOF"). Values come back plain (numbers as floats, secrets decrypted:
# only dates, ids and generations are taken from them).
READ_STACK_OUTPUTS = "pulumi:pulumi:readStackOutputs"
READ_ATTEMPTS = 3
READ_RETRY_SECONDS = 1.0


class PreviousOutputsUnreadable(Exception):
    """The stack's previous outputs could not be read: the run stops before any resource is declared."""


def read_previous_outputs(sections: list[str], invoke: Callable[..., Any] | None = None,
                          sleep: Callable[[float], None] = time.sleep) -> PreviousOutputs:
    """The stack's own last outputs, retried READ_ATTEMPTS times. A read that keeps failing stops the run
    (PreviousOutputsUnreadable) rather than going on without them: the renewal generation is part of each paid
    purchase (journal fingerprint), and a run that could not see it must not buy under another one."""
    import pulumi
    from pulumi import runtime
    invoke = invoke or runtime.invoke
    name = f"{pulumi.get_organization()}/{pulumi.get_project()}/{pulumi.get_stack()}"
    problem: Exception | None = None
    for attempt in range(READ_ATTEMPTS):
        try:
            outputs = (invoke(READ_STACK_OUTPUTS, {"name": name}).value or {}).get("outputs") or {}
            return PreviousOutputs({s: pulumi.Output.from_input(outputs.get(s)) for s in sections})
        except Exception as err:  # noqa: BLE001 - retried, then reported as one error
            problem = err
            if attempt + 1 < READ_ATTEMPTS:
                sleep(READ_RETRY_SECONDS)
    raise PreviousOutputsUnreadable(
        f"renewal: the stack's previous outputs ({name}) could not be read after {READ_ATTEMPTS} attempts "
        f"({type(problem).__name__}: {str(problem)[:200]}); some entry declares renewBefore, and its renewal "
        f"generation is part of what is bought, so nothing is changed in this run: run it again")


def section_plans(label: str, renew_before: Mapping[str, RenewBefore | None], previous_section: Any,
                  entries_key: str, id_key: str) -> Any:
    """pulumi Output of {name: Plan} for a section; logs `renews ...` lines and window warnings (preview and up)."""
    import pulumi

    def plan(previous: Any) -> dict[str, Plan]:
        entries = previous.get(entries_key) if isinstance(previous, Mapping) else None
        plans = plan_section(f"{label}.{entries_key}", renew_before, entries, id_key)
        for name, p in plans.items():
            if p.warning:
                pulumi.log.warn(p.warning)
            if p.action == RENEW:
                pulumi.log.info(p.log_line(f"{label}.{entries_key}.{name}", renew_before[name]))
        return plans
    return pulumi.Output.from_input(previous_section).apply(plan)


def previous_outputs_for(sections: Mapping[str, Any]) -> PreviousOutputs | None:
    """The stack's previous outputs, read once per program and only if some entry of `sections` (top-level
    output key -> entry specs) declares renewBefore; else None (nothing is read, nothing renewed)."""
    if not any(getattr(spec, "renew_before", None) for specs in sections.values() for spec in specs):
        return None
    return read_previous_outputs(list(sections))


class SectionRenewal:
    """One paid section's renewal in the program: the plans, the provider inputs, the journal fingerprint and
    the exported `renewal` object of each entry."""

    def __init__(self, section: str, entries_key: str, specs: Any, previous: PreviousOutputs | None,
                 id_key: str) -> None:
        import pulumi
        self.renew_before = {spec.name: spec.renew_before for spec in specs}
        self.plans = None
        if previous is not None:
            plans = section_plans(section, self.renew_before, previous.of(section), entries_key, id_key)
            # The section's outputs are secret as a whole (private keys); a plan holds none of them.
            self.plans = pulumi.Output.unsecret(plans)

    def inputs(self, name: str) -> dict[str, Any]:
        """The entry's renewal inputs (generation None = 0; components/renewal.py)."""
        if self.plans is None:
            return {RENEWAL_KEY: None, RENEWS_KEY: None}
        return {key: self.plans.apply(lambda ps, key=key: ps[name].inputs()[key]) for key in (RENEWAL_KEY, RENEWS_KEY)}

    def fingerprint(self, name: str, inputs: Mapping[str, Any], keys: tuple[str, ...],
                    fingerprint: Callable[[Mapping[str, Any], tuple[str, ...]], str]) -> Any:
        """The journal fingerprint of the entry's purchase, its renewal generation included."""
        if self.plans is None:
            return fingerprint(inputs, keys)
        return self.plans.apply(lambda ps: fingerprint({**inputs, RENEWAL_KEY: ps[name].generation or None}, keys))

    def output(self, name: str, resource: Any, issued: Any, certificate_pem: Any, not_after: Any = None) -> Any:
        """The entry's exported `renewal` object, from the certificate as issued after this run (`not_after`:
        the resource's own if not given; components/dns/fleet.issued_view gives the DNS validation's too)."""
        import pulumi
        # The generation the resource holds (HELD_KEY), never the program's input: an untargeted resource
        # (`--target`) or a deferred renewal keeps its state, and its plan must not show as done.
        return pulumi.Output.all(held_of(resource), issued,
                                 resource.not_after if not_after is None else not_after, certificate_pem).apply(
            lambda v: self.entry(name, *v))

    def entry(self, name: str, held: Mapping[str, Any], issued: Any, not_after: str | None,
              certificate_pem: str | None) -> dict[str, Any]:
        """`output`'s object from the values: `held` as held_from gives it."""
        return {**renewal_output(self.renew_before.get(name), held["generation"], bool(issued), not_after or None,
                                 certificate_pem or None), "renews": held["renews"]}
