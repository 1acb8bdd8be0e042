"""Who is here: joins and leaves (sent by the hub, never by clients) and the conductor seat."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from types import MappingProxyType

from warroom.core.model import Actor, Command, Event, Member, Reject, Role, RoomState
from warroom.core.registry import applies, op
from warroom.core.roles import EVERYONE, claims_seat, role_clash, seat_taken
from warroom.core.schema import Field


@op(
    "join",
    EVERYONE,
    {"tz": Field(str, max_len=64), "rerole": Field(bool, required=False)},
    public=False,
)
def _decide_join(state: RoomState, actor: Actor, cmd: Command) -> Sequence[Event] | Reject:
    clash = role_clash(state, actor)
    if clash is not None and not cmd.args.get("rerole", False):
        return clash
    events = [
        Event(
            "joined",
            cmd.ts,
            actor.name,
            {"conn": actor.conn, "role": actor.role.value, "tz": cmd.args["tz"]},
        )
    ]
    if claims_seat(state, actor):
        events.append(seat_taken(actor, cmd.ts))
    return events


@op("leave", EVERYONE, {}, public=False)
def _decide_leave(state: RoomState, actor: Actor, cmd: Command) -> Sequence[Event] | Reject:
    member = state.members.get(actor.name)
    if member is None or actor.conn not in member.conns:
        return []
    return [Event("left", cmd.ts, actor.name, {"conn": actor.conn})]


@op("reset_presence", EVERYONE, {}, public=False)
def _decide_reset(state: RoomState, actor: Actor, cmd: Command) -> Sequence[Event] | Reject:
    if not state.present():
        return []
    return [Event("presence_reset", cmd.ts, actor.name, {})]


def _describe_joined(e: Event) -> str:
    return f"{e.actor} joined as {e.data['role']} ({e.data['tz']})"


@applies("joined", _describe_joined)
def _apply_joined(state: RoomState, e: Event) -> RoomState:
    old = state.members.get(e.actor)
    conns = (old.conns if old else frozenset()) | {str(e.data["conn"])}
    since = old.since if old is not None and old.present else e.ts
    member = Member(e.actor, Role(e.data["role"]), str(e.data["tz"]), conns, since)
    # (A vote open now takes the newcomer into its electorate: `warroom.core.votes`.)
    return replace(state, members=MappingProxyType({**state.members, e.actor: member}))


@applies("left", lambda e: f"{e.actor} left")
def _apply_left(state: RoomState, e: Event) -> RoomState:
    old = state.members[e.actor]
    conns = old.conns - {str(e.data["conn"])}
    member = replace(old, conns=conns, left_at=old.left_at if conns else e.ts)
    return replace(state, members=MappingProxyType({**state.members, e.actor: member}))


@applies(
    "presence_reset", lambda e: "The hub restarted; everyone was marked away until they reconnect"
)
def _apply_reset(state: RoomState, e: Event) -> RoomState:
    members = {
        name: replace(m, conns=frozenset(), left_at=e.ts if m.present else m.left_at)
        for name, m in state.members.items()
    }
    return replace(state, members=MappingProxyType(members))


@applies("seat_taken", lambda e: f"{e.actor} took the conductor seat")
def _apply_seat(state: RoomState, e: Event) -> RoomState:
    queue = tuple(q for q in state.queue if q.name != e.actor)
    role = e.data.get("role")  # absent in events from before roles were recorded with seats
    if e.actor not in state.members and isinstance(role, str):
        # A script's conductor token takes the seat without joining: record the name, away,
        # so no token naming it with another role acts from the seat.
        member = Member(e.actor, Role(role), "UTC", left_at=e.ts)
        state = replace(state, members=MappingProxyType({**state.members, e.actor: member}))
    return replace(state, conductor=e.actor, seat_since=e.ts, offer=None, queue=queue)
