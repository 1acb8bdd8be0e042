"""The table of operations and event kinds that capability modules fill in.

Each capability (presence, notes, and later checklist, votes, hand-offs) registers its
commands with `op` and its events with `applies`; `decide` and `apply` dispatch here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from warroom.core.model import Actor, Command, Event, Reject, Role, RoomState
from warroom.core.schema import Field

Decider = Callable[[RoomState, Actor, Command], "Sequence[Event] | Reject"]
Applier = Callable[[RoomState, Event], RoomState]
Describer = Callable[[Event], str]

EVERYONE = frozenset(Role)
ACTORS = frozenset({Role.CONDUCTOR, Role.ENGINEER})
CONDUCTOR_ONLY = frozenset({Role.CONDUCTOR})


@dataclass(frozen=True, slots=True)
class OpSpec:
    """A command: who may send it, its argument rules, and the function that decides it."""

    name: str
    roles: frozenset[Role]
    fields: Mapping[str, Field]
    decide: Decider
    public: bool = True
    summary: str = ""


@dataclass(frozen=True, slots=True)
class EventSpec:
    """An event kind: how it changes state and how the timeline says it."""

    kind: str
    apply: Applier
    describe: Describer
    fields: Mapping[str, Field] = field(default_factory=dict)


OPS: dict[str, OpSpec] = {}
EVENTS: dict[str, EventSpec] = {}


def op(
    name: str,
    roles: frozenset[Role],
    fields: Mapping[str, Field],
    *,
    public: bool = True,
    summary: str = "",
) -> Callable[[Decider], Decider]:
    """Register a command's decider under `name`."""

    def register(fn: Decider) -> Decider:
        if name in OPS:
            raise ValueError(f"op {name!r} registered twice")
        OPS[name] = OpSpec(name, roles, dict(fields), fn, public, summary)
        return fn

    return register


def applies(kind: str, describe: Describer) -> Callable[[Applier], Applier]:
    """Register how an event kind changes the state and reads in the timeline."""

    def register(fn: Applier) -> Applier:
        if kind in EVENTS:
            raise ValueError(f"event {kind!r} registered twice")
        EVENTS[kind] = EventSpec(kind, fn, describe)
        return fn

    return register
