"""The certfleet policy pack: checks.RULES as pulumi-policy resource policies, plus the paid-orders ceiling as a
stack policy. `serve()` starts the analyzer (PolicyPack blocks, serving the engine over gRPC).

The ceiling compares the stack's paid resources with their state before the update. The engine analyses each
resource's inputs before that resource's step, so the first Analyze call of a paid resource (resources.PAID)
comes before any paid step: the pack reads the state then (PriorStateAtStart), once, and every later paid
Analyze waits for it; after `up`'s steps (when the stack policy runs) the state holds the new ids already. A
stack without paid resources is never exported (the ceiling has nothing to compare).

Never write to stdout before PolicyPack has printed its port: the engine reads the first stdout line as the
port (reference pulumi-pipelines.md §1.3). Nothing here prints at all.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from pulumi_policy import (EnforcementLevel, PolicyConfigSchema, PolicyPack, ReportViolation,
                           ResourceValidationArgs, ResourceValidationPolicy, StackValidationArgs,
                           StackValidationPolicy)

from .checks import RULES, STACK_RULE, Rule, with_defaults
from .resources import PAID, StackResource, fields, stack_of
from .state import PriorState, read_prior_state

PACK_NAME = "certfleet-policies"
# The engine starts the pack when the update (or preview) starts, before any step: a purchase journalled at or
# after this moment is one of this update's (checks.new_in_this_update).
STARTED_AT = time.time()


class PriorStateAtStart:
    """The stack's prior state (state.read_prior_state), read once by whichever policy asks first."""

    def __init__(self, read: Any = None) -> None:
        self._read = read
        self._lock = threading.Lock()
        self._done = False
        self._state: PriorState | None = None

    def get(self, stack: str) -> PriorState | None:
        with self._lock:  # the engine may analyse resources concurrently: the others wait for the one read
            if not self._done:
                self._state = (self._read or read_prior_state)(stack)
                self._done = True
        return self._state


PRIOR_STATE = PriorStateAtStart()


def _schema(rule: Rule) -> PolicyConfigSchema:
    return PolicyConfigSchema(properties=dict(rule.schema), required=[])


def resource_policy(rule: Rule) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type in PAID:  # before the first paid step (the ceiling compares with it)
            PRIOR_STATE.get(stack_of(args.urn))
        if args.resource_type not in rule.types:
            return
        config = with_defaults(rule, args.get_config())
        for message in rule.check(args.resource_type, fields(args.props), config, stack_of(args.urn)):
            report_violation(message)

    return ResourceValidationPolicy(name=rule.name, description=rule.description, validate=validate,
                                    config_schema=_schema(rule))


def stack_policy(rule: Rule) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        resources = [StackResource(r.resource_type, r.urn, fields(r.props), tuple(r.opts.aliases or ()))
                     for r in args.resources if r.resource_type in rule.types]
        stack = stack_of(resources[0].urn) if resources else ""
        # Read already by the first paid resource's Analyze; here only when every resource policy is disabled
        # (the ceiling asks only when the stack has a paid resource).
        for message in rule.check(resources, with_defaults(rule, args.get_config()), STARTED_AT,
                                  lambda: PRIOR_STATE.get(stack)):
            report_violation(message)

    return StackValidationPolicy(name=rule.name, description=rule.description, validate=validate,
                                 config_schema=_schema(rule))


def policies() -> list[Any]:
    return [*(resource_policy(rule) for rule in RULES), stack_policy(STACK_RULE)]


def serve() -> None:
    """Every policy is mandatory unless the stack's policy config (`--policy-pack-config`) says otherwise."""
    PolicyPack(name=PACK_NAME, policies=policies(), enforcement_level=EnforcementLevel.MANDATORY)
