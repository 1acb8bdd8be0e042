"""Who acts with which role: the role sets ops allow, the seat's acting role, a token that
names a member with another role, and the `seat_taken` event that fills an empty seat.

Shared by the dispatcher (`warroom.core.dispatch`) and the capabilities that seat someone
(presence, hand-off) or ask who drives (the checklist), so none imports another.
"""

from __future__ import annotations

from warroom.core.model import Actor, Code, Event, Reject, Role, RoomState

EVERYONE = frozenset(Role)
ACTORS = frozenset({Role.CONDUCTOR, Role.ENGINEER})
CONDUCTOR_ONLY = frozenset({Role.CONDUCTOR})


def acting_role(state: RoomState, actor: Actor) -> Role:
    """The role `actor` acts with now: a conductor token drives only from the seat."""
    if actor.role is Role.VISITOR:
        return Role.VISITOR
    return Role.CONDUCTOR if state.conductor == actor.name else Role.ENGINEER


def claims_seat(state: RoomState, actor: Actor) -> bool:
    """Whether `actor`'s next accepted act takes the seat: a conductor token and no holder."""
    return actor.role is Role.CONDUCTOR and state.conductor is None


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


def forbidden(state: RoomState, role: Role, op: str) -> Reject:
    """The refusal of `op` to someone acting as `role`."""
    if role is Role.VISITOR:
        return Reject(Code.FORBIDDEN, f"visitors are read-only and cannot {op}")
    holder = state.conductor or "nobody"
    return Reject(Code.FORBIDDEN, f"only the conductor may {op} ({holder} holds the seat)")
