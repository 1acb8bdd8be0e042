"""The room's value types: actors, commands, events, rejections, deadlines, the room state and
every capability's part of it (the train's parts are in `warroom.core.train`).

A leaf, the h11 way: it imports only other leaves (`train`, `runbook`, `commits`), never a
rule, so every module of the core can import it and nothing imports in a circle.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from warroom.core.commits import Commit
from warroom.core.train import Train


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
class Deadline:
    """A time at which the hub must act on its own: at `when` (the hub's clock, UNIX seconds)
    it sends `op` with `args`, as a trusted command."""

    when: float
    op: str
    args: Mapping[str, Any] = field(default_factory=dict)


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


# --- alerts ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Alert:
    """A notice everyone must see, such as an error spike on a log source."""

    id: str
    ts: float
    source: str
    text: str


# --- votes -------------------------------------------------------------------------------------

PROPOSALS = ("partial", "full", "hold")
MIN_YES = 2  # yes ballots a vote needs at least: nobody passes one alone
WORDS = {
    "partial": "roll back the last stage",
    "full": "roll back every stage",
    "hold": "hold and investigate",
}


@dataclass(frozen=True, slots=True)
class Ballot:
    """One person's current ballot."""

    name: str
    yes: bool
    comment: str
    ts: float


def _no_ballots() -> Mapping[str, Ballot]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Vote:
    """A vote, open (outcome "") or closed with its outcome and every ballot."""

    id: str
    proposal: str
    reason: str
    ref: str
    called_by: str
    opened_at: float
    deadline: float
    electorate: frozenset[str]
    ballots: Mapping[str, Ballot] = field(default_factory=_no_ballots)
    outcome: str = ""  # passed, failed, expired or cancelled once closed
    closed_at: float = 0.0
    close_reason: str = ""
    executed: bool = False

    @property
    def open(self) -> bool:
        return not self.outcome

    @property
    def needed(self) -> int:
        """Yes ballots needed: a majority of the electorate, and never fewer than two."""
        return max(MIN_YES, len(self.electorate) // 2 + 1)

    def tally(self) -> tuple[int, int]:
        """(yes, no) ballots cast so far."""
        yes = sum(1 for b in self.ballots.values() if b.yes)
        return yes, len(self.ballots) - yes

    def settled(self) -> str:
        """ "passed" or "failed" when the ballots decide it now, else ""."""
        yes, _ = self.tally()
        if yes >= self.needed:
            return "passed"
        still_to_vote = len(self.electorate - set(self.ballots))
        return "failed" if yes + still_to_vote < self.needed else ""


# --- the conductor seat ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QueueEntry:
    """Someone waiting for the seat: their zone and shift in their own local time."""

    name: str
    tz: str
    shift_start: str  # HH:MM local
    shift_end: str
    note: str
    since: float


@dataclass(frozen=True, slots=True)
class Offer:
    """The seat offered to one person, open until accepted, declined or expired."""

    to: str
    by: str
    at: float
    expires: float
    note: str


# --- the changes going out ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Manifest:
    """One repository's commits in the train: the range, who published it, and the commits."""

    repo: str
    batch: str  # the upload these commits belong to
    from_rev: str  # the range as the publisher named it, and as resolved
    to_rev: str
    from_sha: str
    to_sha: str
    count: int  # commits announced
    published_by: str
    published_at: float
    path: str = ""  # where the repository was on the publisher's machine: a hint for blame
    commits: tuple[Commit, ...] = ()  # in `git log` order, newest first
    size: int = 0  # bytes of the commits' data forms: derived from them, not on the wire

    @property
    def complete(self) -> bool:
        return len(self.commits) == self.count

    def find(self, ref: str) -> list[Commit]:
        """The commits whose sha starts with `ref` (lowercase hex)."""
        return [c for c in self.commits if c.sha.startswith(ref)]


@dataclass(frozen=True, slots=True)
class Mark:
    """What the room decided about reverting one commit."""

    repo: str
    sha: str
    safe: bool
    why: str
    by: str
    at: float


@dataclass(frozen=True, slots=True)
class Call:
    """Someone was called in about a commit, with the evidence that pointed at it."""

    repo: str
    sha: str
    author: str
    evidence: str
    by: str
    at: float


def _no_marks() -> Mapping[tuple[str, str], Mark]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Changes:
    """Every repository's manifest, in the order first published, with marks and call-ins."""

    repos: tuple[Manifest, ...] = ()
    marks: Mapping[tuple[str, str], Mark] = field(default_factory=_no_marks)  # (repo, sha)
    calls: tuple[Call, ...] = ()  # the most recent ones

    def repo(self, name: str) -> Manifest | None:
        return next((m for m in self.repos if m.repo == name), None)

    @property
    def commit_count(self) -> int:
        """The commits received so far, over every repository."""
        return sum(len(m.commits) for m in self.repos)

    @property
    def size(self) -> int:
        """The bytes of every repository's commits, as the cap counts them."""
        return sum(m.size for m in self.repos)

    def mark(self, repo: str, sha: str) -> Mark | None:
        return self.marks.get((repo, sha))


NO_CHANGES = Changes()


# --- the room ----------------------------------------------------------------------------------


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


def changes_of(state: RoomState) -> Changes:
    """The room's changes; empty before anything was published."""
    return state.changes if state.changes is not None else NO_CHANGES
