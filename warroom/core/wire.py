"""Plain-data forms of events and room state, for the wire and the journal."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from warroom.core.model import Event, Member, Role, RoomState


def event_to_wire(event: Event, seq: int) -> dict[str, Any]:
    """An event as the map the protocol carries, with its sequence number."""
    return {
        "seq": seq,
        "ts": event.ts,
        "kind": event.kind,
        "actor": event.actor,
        "data": dict(event.data),
    }


def event_from_wire(raw: Mapping[str, Any]) -> tuple[int, Event]:
    """The (seq, event) pair from a wire map that the protocol has already validated."""
    return int(raw["seq"]), Event(
        str(raw["kind"]), float(raw["ts"]), str(raw["actor"]), dict(raw["data"])
    )


def state_to_wire(state: RoomState) -> dict[str, Any]:
    """The whole room state as plain maps and lists."""
    return {
        "room": state.room,
        "conductor": state.conductor,
        "notes": state.notes,
        "members": [
            {
                "name": m.name,
                "role": m.role.value,
                "tz": m.tz,
                "conns": sorted(m.conns),
                "since": m.since,
            }
            for m in sorted(state.members.values(), key=lambda m: m.name)
        ],
    }


def state_from_wire(raw: Mapping[str, Any]) -> RoomState:
    """Rebuild a state from `state_to_wire`'s output; raises KeyError/ValueError when malformed."""
    members = {
        str(m["name"]): Member(
            str(m["name"]),
            Role(m["role"]),
            str(m["tz"]),
            frozenset(str(c) for c in m["conns"]),
            float(m["since"]),
        )
        for m in raw["members"]
    }
    conductor = raw["conductor"]
    return RoomState(
        room=str(raw["room"]),
        members=MappingProxyType(members),
        conductor=None if conductor is None else str(conductor),
        notes=int(raw["notes"]),
    )
