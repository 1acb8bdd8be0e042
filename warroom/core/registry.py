"""The tables that capability modules fill in: operations, event kinds, and deadlines.

Each capability (presence, notes, checklist, votes, hand-offs...) registers its commands with
`op`, next to their rules: who may send one (`roles`), its arguments (`fields`), whether this
actor may try it now (`pre`), and the decider. Its events go in with `applies` (and, when
another capability's event changes its part of the state, `also_applies`); the times at which
the hub must act for it, with `deadlines`. `warroom.core.dispatch` reads these tables.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from warroom.core.model import Actor, Command, Deadline, Event, Reject, Role, RoomState
from warroom.core.roles import ACTORS, CONDUCTOR_ONLY, EVERYONE
from warroom.core.schema import Field

__all__ = [
    "ACTORS",
    "CONDUCTOR_ONLY",
    "DEADLINES",
    "EVENTS",
    "EVERYONE",
    "OPS",
    "EventSpec",
    "OpSpec",
    "also_applies",
    "applies",
    "arg_field",
    "arg_fields",
    "deadlines",
    "op",
]

Decider = Callable[[RoomState, Actor, Command], "Sequence[Event] | Reject"]
Precondition = Callable[[RoomState, Actor], "Reject | None"]
StaleCheck = Callable[[RoomState, Mapping[str, Any]], "Reject | None"]
Applier = Callable[[RoomState, Event], RoomState]
Describer = Callable[[Event], str]
DeadlineLister = Callable[[RoomState], "Sequence[Deadline]"]


@dataclass(frozen=True, slots=True)
class OpSpec:
    """A command: who may send it, its argument rules, and the function that decides it.

    `pre` says whether this actor may try it in this state at all, from the state and the
    actor alone (a ballot needs an open vote the actor may vote on); `stale` refuses a
    command whose arguments name a view of the room that moved on (an `expect`ed stage, a
    vote id), and runs just before `pre`, so a sender on an old view learns that first.
    """

    name: str
    roles: frozenset[Role]
    fields: Mapping[str, Field]
    decide: Decider
    public: bool = True
    summary: str = ""
    pre: Precondition | None = None
    stale: StaleCheck | None = None


@dataclass(frozen=True, slots=True)
class EventSpec:
    """An event kind: how it changes state and how the timeline says it; `then` are the
    changes other capabilities make to their part of the state on the same event."""

    kind: str
    apply: Applier
    describe: Describer
    fields: Mapping[str, Field] = field(default_factory=dict)
    then: tuple[Applier, ...] = ()


OPS: dict[str, OpSpec] = {}
EVENTS: dict[str, EventSpec] = {}
DEADLINES: list[DeadlineLister] = []
_FOLLOWERS: dict[str, list[Applier]] = {}


def op(
    name: str,
    roles: frozenset[Role],
    fields: Mapping[str, Field],
    *,
    public: bool = True,
    summary: str = "",
    pre: Precondition | None = None,
    stale: StaleCheck | None = None,
) -> Callable[[Decider], Decider]:
    """Register a command's decider under `name`, with its precondition (see `OpSpec`)."""

    def register(fn: Decider) -> Decider:
        if name in OPS:
            raise ValueError(f"op {name!r} registered twice")
        OPS[name] = OpSpec(name, roles, dict(fields), fn, public, summary, pre, stale)
        return fn

    return register


def applies(kind: str, describe: Describer) -> Callable[[Applier], Applier]:
    """Register how an event kind changes the state and reads in the timeline."""

    def register(fn: Applier) -> Applier:
        if kind in EVENTS:
            raise ValueError(f"event {kind!r} registered twice")
        EVENTS[kind] = EventSpec(kind, fn, describe, then=tuple(_FOLLOWERS.get(kind, ())))
        return fn

    return register


def also_applies(kind: str) -> Callable[[Applier], Applier]:
    """Register a further change to the state on another capability's event kind, applied
    after the kind's own (in the order registered); the kind may be registered later."""

    def register(fn: Applier) -> Applier:
        _FOLLOWERS.setdefault(kind, []).append(fn)
        spec = EVENTS.get(kind)
        if spec is not None:
            EVENTS[kind] = replace(spec, then=tuple(_FOLLOWERS[kind]))
        return fn

    return register


def deadlines(fn: DeadlineLister) -> DeadlineLister:
    """Register a function listing a capability's deadlines in a state (see `Deadline`)."""
    DEADLINES.append(fn)
    return fn


def arg_fields(op_name: str) -> Mapping[str, Field]:
    """The arguments of op `op_name` with their rules; KeyError for an unknown op."""
    return OPS[op_name].fields


def arg_field(op_name: str, arg: str) -> Field:
    """The rule of one argument (its kind, whether required, its length limits, its
    choices), for a form to follow; KeyError for an unknown op or argument."""
    return OPS[op_name].fields[arg]
