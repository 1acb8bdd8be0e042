"""The pure room core: state, commands, events, `decide` and `apply`. No I/O, no clock."""

from warroom.core import (  # noqa: F401  (importing registers their ops and events)
    alerts,
    blockers,
    changes,
    checklist,
    handoff,
    notes,
    presence,
    stages,
    votes,
)
from warroom.core.model import Actor, Code, Command, Event, Member, Reject, Role, RoomState
from warroom.core.registry import EVENTS, OPS
from warroom.core.room import acting_role, apply, decide, describe, permitted, replay

__all__ = [
    "EVENTS",
    "OPS",
    "Actor",
    "Code",
    "Command",
    "Event",
    "Member",
    "Reject",
    "Role",
    "RoomState",
    "acting_role",
    "apply",
    "decide",
    "permitted",
    "describe",
    "replay",
]
