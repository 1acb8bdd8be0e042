"""The pure room core: state, commands, events, `decide` and `apply`. No I/O, no clock.

`model` (with `train`) holds the value types and imports no rule; each capability module
(alerts, blockers, changes, checklist, handoff, notes, presence, stages, votes) registers its
ops, their preconditions, its events and its deadlines in `registry`; `dispatch` runs them.
"""

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
from warroom.core.dispatch import (
    apply,
    deadlines,
    decide,
    describe,
    next_deadline,
    permitted,
    replay,
)
from warroom.core.guards import rules_of
from warroom.core.model import (
    Actor,
    Code,
    Command,
    Deadline,
    Event,
    Member,
    Reject,
    Role,
    RoomState,
)
from warroom.core.registry import EVENTS, OPS, arg_field, arg_fields
from warroom.core.roles import acting_role
from warroom.core.schema import Field

__all__ = [
    "EVENTS",
    "OPS",
    "Actor",
    "Code",
    "Command",
    "Deadline",
    "Event",
    "Field",
    "Member",
    "Reject",
    "Role",
    "RoomState",
    "acting_role",
    "apply",
    "arg_field",
    "arg_fields",
    "deadlines",
    "decide",
    "describe",
    "next_deadline",
    "permitted",
    "replay",
    "rules_of",
]
