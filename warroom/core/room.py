"""`decide` and `apply`: the only ways a room's state changes."""

from __future__ import annotations

from collections.abc import Iterable

from warroom.core.model import Actor, Code, Command, Event, Reject, Role, RoomState
from warroom.core.registry import EVENTS, OPS
from warroom.core.schema import check_args


def acting_role(state: RoomState, actor: Actor) -> Role:
    """The role `actor` acts with now: a conductor token drives only from the seat."""
    if actor.role is Role.VISITOR:
        return Role.VISITOR
    return Role.CONDUCTOR if state.conductor == actor.name else Role.ENGINEER


def permitted(state: RoomState, actor: Actor, op: str) -> Reject | None:
    """The refusal `decide` would give `actor` for `op` on grounds of role alone, or None.

    Lets a UI explain a key that will not work before it opens a form for it.
    """
    spec = OPS.get(op)
    if spec is None or not spec.public:
        return Reject(Code.UNKNOWN_OP, f"unknown operation {op!r}")
    if actor.role is Role.CONDUCTOR and state.conductor is None:
        return None  # the first act takes the free seat
    role = acting_role(state, actor)
    return None if role in spec.roles else Reject(Code.FORBIDDEN, _forbidden(state, role, op))


def seat_taken(actor: Actor, ts: float) -> Event:
    """The event of `actor` taking the empty seat, with the role they took it with: a name
    that holds the seat without ever joining keeps that role like a member's."""
    return Event("seat_taken", ts, actor.name, {"role": actor.role.value})


def role_clash(state: RoomState, actor: Actor) -> Reject | None:
    """The refusal for a token that names a person of this room with another role.

    The first role recorded for a name holds: otherwise a token minted with the seat holder's
    name and any role would act from the seat. The operator can mint one that changes it.
    """
    member = state.members.get(actor.name)
    if member is None or member.role is actor.role:
        return None
    return Reject(
        Code.FORBIDDEN,
        f"{actor.name} is in this room as {member.role.value}; a token naming them"
        f" {actor.role.value} is refused",
    )


def decide(
    state: RoomState, actor: Actor, command: Command, *, trusted: bool = False
) -> list[Event] | Reject:
    """Turn a command into events, or a rejection; `trusted` admits the hub's own ops."""
    spec = OPS.get(command.op)
    if spec is None or not (spec.public or trusted):
        return Reject(Code.UNKNOWN_OP, f"unknown operation {command.op!r}")
    clash = None if trusted else role_clash(state, actor)
    if clash is not None:
        return clash
    # A conductor token takes a free seat with its first accepted act (a script, say,
    # that never joined the roster); the seat event comes first so the act is the seat's.
    seat: list[Event] = []
    # take_seat is left to its own rules: the queue decides who takes an emptied seat.
    claim = command.op != "take_seat"
    if claim and not trusted and actor.role is Role.CONDUCTOR and state.conductor is None:
        seat = [seat_taken(actor, command.ts)]
        state = apply(state, seat[0])
    role = acting_role(state, actor)
    if role not in spec.roles:
        return Reject(Code.FORBIDDEN, _forbidden(state, role, command.op))
    args = check_args(command.op, spec.fields, command.args)
    if isinstance(args, str):
        return Reject(Code.INVALID, args)
    # The decider sees the arguments as checked, their text cleaned: events carry no escape.
    result = spec.decide(state, actor, Command(command.op, args, command.ts))
    return result if isinstance(result, Reject) else [*seat, *result]


def apply(state: RoomState, event: Event) -> RoomState:
    """Return the state after `event`; an unknown kind is a bug or version skew, so it raises."""
    spec = EVENTS.get(event.kind)
    if spec is None:
        raise ValueError(f"unknown event kind {event.kind!r}")
    return spec.apply(state, event)


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


def _forbidden(state: RoomState, role: Role, op: str) -> str:
    if role is Role.VISITOR:
        return f"visitors are read-only and cannot {op}"
    holder = state.conductor or "nobody"
    return f"only the conductor may {op} ({holder} holds the seat)"
