"""`decide` and `apply`, the only ways a room's state changes; `permitted`, which tells a UI
what `decide` would refuse before any argument is chosen; `deadlines`, when the hub must act.

A command is checked in this order, and the first problem is the refusal: an unknown (or
hub-only) op; a token naming a member with another role; the acting role (a conductor token
takes a free seat first); the arguments (`warroom.core.schema`); a stale view (`OpSpec.stale`);
the op's precondition (`OpSpec.pre`); then the op's own decider. `permitted` runs the same
steps but the two that need arguments, so its refusal is the hub's, code and sentence.
"""

from __future__ import annotations

from collections.abc import Iterable

from warroom.core.model import Actor, Code, Command, Deadline, Event, Reject, RoomState
from warroom.core.registry import DEADLINES, EVENTS, OPS, OpSpec
from warroom.core.roles import acting_role, claims_seat, forbidden, role_clash, seat_taken
from warroom.core.schema import check_args


def permitted(state: RoomState, actor: Actor, op: str) -> Reject | None:
    """The refusal `decide` would give `actor` for `op` now whatever the arguments (its role,
    or the op's precondition: no open vote, a seat held...), or None when it may try.

    Lets a UI explain a key that will not work before it opens a form for it; cheap enough
    to ask for every key on every change of the state.
    """
    spec = OPS.get(op)
    if spec is None or not spec.public:
        return _unknown(op)
    clash = role_clash(state, actor)
    if clash is not None:
        return clash
    if op != "take_seat" and claims_seat(state, actor):
        state = _claimed(state, actor)
    return _refusal(state, actor, spec)


def decide(
    state: RoomState, actor: Actor, command: Command, *, trusted: bool = False
) -> list[Event] | Reject:
    """Turn a command into events, or a rejection; `trusted` admits the hub's own ops."""
    spec = OPS.get(command.op)
    if spec is None or not (spec.public or trusted):
        return _unknown(command.op)
    clash = None if trusted else role_clash(state, actor)
    if clash is not None:
        return clash
    # A conductor token takes a free seat with its first accepted act (a script, say,
    # that never joined the roster); the seat event comes first so the act is the seat's.
    # take_seat is left to its own rules: the queue decides who takes an emptied seat.
    seat: list[Event] = []
    if command.op != "take_seat" and not trusted and claims_seat(state, actor):
        seat = [seat_taken(actor, command.ts)]
        state = apply(state, seat[0])
    role = acting_role(state, actor)
    if role not in spec.roles:
        return forbidden(state, role, command.op)
    args = check_args(command.op, spec.fields, command.args)
    if isinstance(args, str):
        return Reject(Code.INVALID, args)
    if spec.stale is not None and (stale := spec.stale(state, args)) is not None:
        return stale
    if spec.pre is not None and (refused := spec.pre(state, actor)) is not None:
        return refused
    # The decider sees the arguments as checked, their text cleaned: events carry no escape.
    result = spec.decide(state, actor, Command(command.op, args, command.ts))
    return result if isinstance(result, Reject) else [*seat, *result]


def apply(state: RoomState, event: Event) -> RoomState:
    """Return the state after `event`; an unknown kind is a bug or version skew, so it raises."""
    spec = EVENTS.get(event.kind)
    if spec is None:
        raise ValueError(f"unknown event kind {event.kind!r}")
    state = spec.apply(state, event)
    for then in spec.then:
        state = then(state, event)
    return state


def replay(room: str, events: Iterable[Event]) -> RoomState:
    """Rebuild a room's state from its whole event history."""
    state = RoomState(room=room)
    for event in events:
        state = apply(state, event)
    return state


def describe(event: Event) -> str:
    """The event as a plain sentence for the timeline; empty when it is not worth a line."""
    spec = EVENTS.get(event.kind)
    return spec.describe(event) if spec else f"{event.actor}: {event.kind}"


def deadlines(state: RoomState) -> list[Deadline]:
    """Every time in `state` at which the hub must act on its own (a vote's end, an offer's,
    a dropped conductor's grace), soonest first, each with the op it sends then; the
    capabilities that own them say which (`warroom.core.registry.deadlines`)."""
    due = [deadline for lister in DEADLINES for deadline in lister(state)]
    due.sort(key=lambda d: d.when)
    return due


def next_deadline(state: RoomState) -> float | None:
    """When the hub must next act on its own in this room, if ever."""
    return min((d.when for lister in DEADLINES for d in lister(state)), default=None)


def _refusal(state: RoomState, actor: Actor, spec: OpSpec) -> Reject | None:
    role = acting_role(state, actor)
    if role not in spec.roles:
        return forbidden(state, role, spec.name)
    return None if spec.pre is None else spec.pre(state, actor)


def _claimed(state: RoomState, actor: Actor) -> RoomState:
    """The state as `decide` sees it once `actor` took the free seat. (Rare: a conductor
    token joining an empty seat takes it at once; this is a script's, or a vacated seat.)"""
    # The time only sets when the seat was taken, which no precondition looks at.
    return apply(state, seat_taken(actor, state.seat_since))


def _unknown(op: str) -> Reject:
    return Reject(Code.UNKNOWN_OP, f"unknown operation {op!r}")
