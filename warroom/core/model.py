"""The room's value types: actors, commands, events, rejections and the room state."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from warroom.core.alerts import Alert
    from warroom.core.changes import Changes
    from warroom.core.handoff import Offer, QueueEntry
    from warroom.core.train import Train
    from warroom.core.votes import Vote


class Role(StrEnum):
    """A token's role, and the role a person acts with.

    A conductor token lets its holder take a free seat; whoever holds the seat acts as
    conductor (a hand-off can seat an engineer), and visitors never act.
    """

    CONDUCTOR = "conductor"
    ENGINEER = "engineer"
    VISITOR = "visitor"


class Code(StrEnum):
    """Reason codes for a rejected command; part of the wire contract."""

    FORBIDDEN = "forbidden"
    INVALID = "invalid"
    UNKNOWN_OP = "unknown_op"
    CONFLICT = "conflict"
    RATE_LIMITED = "rate_limited"
    GATED = "gated"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who sends a command: the name and role from their token, and their connection."""

    name: str
    role: Role
    conn: str = ""
    tz: str = "UTC"


@dataclass(frozen=True, slots=True)
class Command:
    """A request to change the room; `ts` is the hub's clock when it was decided."""

    op: str
    args: Mapping[str, Any]
    ts: float


@dataclass(frozen=True, slots=True)
class Event:
    """A fact that happened to the room. Events are the only thing `apply` accepts."""

    kind: str
    ts: float
    actor: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Reject:
    """A refused command: a reason code from `Code` and a sentence for people."""

    code: Code
    reason: str


@dataclass(frozen=True, slots=True)
class Member:
    """A person who has been in the room; present while `conns` is non-empty."""

    name: str
    role: Role
    tz: str
    conns: frozenset[str] = frozenset()
    since: float = 0.0
    left_at: float = 0.0  # when the last connection went: the dropped-driver clock

    @property
    def present(self) -> bool:
        return bool(self.conns)


def _empty_members() -> Mapping[str, Member]:
    return MappingProxyType({})


def _empty_feeds() -> Mapping[str, int]:
    return {}


@dataclass(frozen=True, slots=True)
class RoomState:
    """Everything the room knows. Replace, never mutate: `apply` returns a new one."""

    room: str
    members: Mapping[str, Member] = field(default_factory=_empty_members)
    conductor: str | None = None
    seat_since: float = 0.0  # when the holder took the seat: the grace never starts before it
    notes: int = 0
    train: Train | None = None
    alerts: tuple[Alert, ...] = ()  # the most recent ones
    alert_count: int = 0
    feeds: Mapping[str, int] = field(default_factory=_empty_feeds)  # exit status per source
    vote: Vote | None = None  # the open vote, or the last one closed
    votes_held: int = 0
    queue: tuple[QueueEntry, ...] = ()  # who takes the seat next, in order
    offer: Offer | None = None  # the seat offered and not yet answered
    changes: Changes | None = None  # the manifest: commits going out; None until published

    def present(self) -> list[Member]:
        """Members with at least one live connection, in name order."""
        return sorted((m for m in self.members.values() if m.present), key=lambda m: m.name)

    def role_of(self, name: str) -> Role | None:
        """The role a person acts with now: only the seat holder acts as conductor."""
        member = self.members.get(name)
        if member is None:
            return None
        if member.role is Role.VISITOR:
            return Role.VISITOR
        return Role.CONDUCTOR if self.conductor == name else Role.ENGINEER
