"""The retrospective of a train run, worked out from the room's events. Pure: no I/O, no clock.

`build` reads the events of the last run (from its `train_opened` on) and the room's members;
`warroom.retrodoc` writes it out. An incident opens at the first alert or blocker while
none is open, and closes at the first rollback, or when its last open blocker is resolved; its
time to recovery is the time between.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from warroom.core import Event, RoomState, describe


@dataclass
class StageRun:
    stage: str
    started: float
    ended: float | None = None
    how: str = ""  # what ended it: "promoted to X", "rolled back", "done", "abandoned"


@dataclass
class BlockerRun:
    id: str
    link: str
    reason: str
    stage: str
    raised_by: str
    raised: float
    resolved_by: str = ""
    resolved: float | None = None
    note: str = ""


@dataclass
class VoteRun:
    id: str
    proposal: str
    reason: str
    called_by: str
    opened: float
    outcome: str = "open"
    closed: float | None = None
    yes: int = 0
    no: int = 0
    needed: int = 0
    ballots: list[dict[str, Any]] = field(default_factory=list)
    close_reason: str = ""


@dataclass
class Incident:
    started: float
    cause: str  # the first alert or blocker, in words
    ended: float | None = None
    how: str = ""  # "rolled back by X" or "blockers resolved"

    @property
    def ttr(self) -> float | None:
        return None if self.ended is None else self.ended - self.started


@dataclass
class Person:
    name: str
    role: str
    tz: str
    acts: int  # events of theirs in this run


@dataclass
class Retro:
    room: str
    version: str
    runbook: str
    opened_by: str
    opened: float
    outcome: str  # "done", "abandoned", "rolled back", "running"
    ended: float | None
    seat: str = ""  # who holds the conductor seat at the end
    last: float = 0.0  # the run's last event: how far a running train has come
    stages: list[StageRun] = field(default_factory=list)
    blockers: list[BlockerRun] = field(default_factory=list)
    votes: list[VoteRun] = field(default_factory=list)
    incidents: list[Incident] = field(default_factory=list)
    handoffs: list[tuple[float, str]] = field(default_factory=list)
    alerts: list[tuple[float, str, str]] = field(default_factory=list)  # at, source, text
    calls: list[tuple[float, str]] = field(default_factory=list)
    people: list[Person] = field(default_factory=list)


_SEAT = {"seat_offered", "seat_accepted", "seat_declined", "seat_vacated", "seat_taken",
         "queue_joined", "queue_left", "queue_moved"}  # fmt: skip


class NoTrain(ValueError):
    """The room has never run a train, or the hub no longer has the run's whole history."""


def build(events: Sequence[tuple[int, Event]], state: RoomState) -> Retro:
    """The retrospective of the last train run among `events`; `state` names the people."""
    start = max((i for i, (_, e) in enumerate(events) if e.kind == "train_opened"), default=-1)
    if start < 0 and state.train is not None:
        # A hub replays up to 50,000 events; past that it sends a snapshot with the recent
        # ones, and a retrospective from those would be wrong, not just short.
        raise NoTrain(
            f"the hub no longer replays the whole history of train {state.train.version} in "
            f"room {state.room} (too many events): it cannot be exported from here"
        )
    if start < 0:
        raise NoTrain(f"room {state.room} has not run a train: nothing to export")
    run = [e for _, e in events[start:]]
    opened = run[0]
    retro = Retro(
        room=state.room,
        version=opened.data["version"],
        runbook=str(opened.data["runbook"].get("name", "")),
        opened_by=opened.actor,
        opened=opened.ts,
        outcome="running",
        ended=None,
    )
    stages = opened.data["runbook"]["stages"]
    retro.stages.append(StageRun(stages[0]["name"], opened.ts))
    run = _Walker(retro).walk(run[1:])
    retro.last = run[-1].ts if run else opened.ts
    acts: dict[str, int] = {}
    for e in [opened, *run]:
        acts[e.actor] = acts.get(e.actor, 0) + 1
    retro.seat = state.conductor or ""
    retro.people = [
        Person(m.name, m.role.value, m.tz, acts.get(m.name, 0))
        for m in sorted(state.members.values(), key=lambda m: (m.role.value, m.name))
    ]
    return retro


class _Walker:
    def __init__(self, retro: Retro) -> None:
        self.retro = retro
        self.blockers: dict[str, BlockerRun] = {}
        self.votes: dict[str, VoteRun] = {}
        self.incident: Incident | None = None

    def walk(self, run: Iterable[Event]) -> list[Event]:
        """Take the run's events up to its end (done or abandoned); the ones taken."""
        taken: list[Event] = []
        for e in run:
            if self.retro.outcome in ("done", "abandoned"):
                break  # what follows belongs to the room, not to this run
            taken.append(e)
            handler = getattr(self, f"_{e.kind}", None)
            if handler is not None:
                handler(e)
            if e.kind in _SEAT:
                self.retro.handoffs.append((e.ts, describe(e)))
        return taken

    def _end_stage(self, ts: float, how: str) -> None:
        current = self.retro.stages[-1]
        if current.ended is None:
            current.ended, current.how = ts, how

    def _open_incident(self, ts: float, cause: str) -> None:
        if self.incident is None:
            self.incident = Incident(ts, cause)
            self.retro.incidents.append(self.incident)

    def _close_incident(self, ts: float, how: str) -> None:
        if self.incident is not None:
            self.incident.ended, self.incident.how = ts, how
            self.incident = None

    def _promoted(self, e: Event) -> None:
        self._end_stage(e.ts, f"promoted to {e.data['to']} by {e.actor}")
        self.retro.stages.append(StageRun(e.data["to"], e.ts))

    def _rolled_back(self, e: Event) -> None:
        scope = "every stage" if e.data["scope"] == "full" else e.data["from"]
        voted = f", as vote {e.data['vote']} decided" if e.data.get("vote") else ""
        self._end_stage(e.ts, f"rolled back by {e.actor}{voted}")
        if e.data["to"]:
            self.retro.stages.append(StageRun(e.data["to"], e.ts))
        self._close_incident(e.ts, f"{e.actor} rolled back {scope}{voted}")
        if e.data["scope"] == "full":  # nothing goes out any more: the run ends here
            self.retro.outcome, self.retro.ended = "rolled back", e.ts

    def _train_done(self, e: Event) -> None:
        self._end_stage(e.ts, f"done, marked by {e.actor}")
        self.retro.outcome, self.retro.ended = "done", e.ts

    def _train_abandoned(self, e: Event) -> None:
        self._end_stage(e.ts, f"abandoned by {e.actor}: {e.data['reason']}")
        self.retro.outcome, self.retro.ended = "abandoned", e.ts

    def _blocker_raised(self, e: Event) -> None:
        d = e.data
        blocker = BlockerRun(d["blocker"], d["link"], d["reason"], d["stage"], e.actor, e.ts)
        self.blockers[blocker.id] = blocker
        self.retro.blockers.append(blocker)
        self._open_incident(e.ts, f"blocker {d['link'] or d['blocker']}: {d['reason']}")

    def _blocker_resolved(self, e: Event) -> None:
        blocker = self.blockers.get(e.data["blocker"])
        if blocker is not None:
            blocker.resolved_by, blocker.resolved, blocker.note = e.actor, e.ts, e.data["note"]
        if all(b.resolved is not None for b in self.blockers.values()):
            self._close_incident(e.ts, f"every blocker resolved (last by {e.actor})")

    def _alert_raised(self, e: Event) -> None:
        source = e.data["source"] or "the room"
        self.retro.alerts.append((e.ts, source, e.data["text"]))
        if self.retro.outcome == "running":  # after a full rollback there is nothing to recover
            self._open_incident(e.ts, f"alert on {source}: {e.data['text']}")

    def _vote_opened(self, e: Event) -> None:
        d = e.data
        vote = VoteRun(d["vote"], d["proposal"], d["reason"], e.actor, e.ts)
        self.votes[vote.id] = vote
        self.retro.votes.append(vote)

    def _vote_closed(self, e: Event) -> None:
        vote = self.votes.get(e.data["vote"])
        if vote is not None:
            d = e.data
            vote.outcome, vote.closed, vote.close_reason = d["outcome"], e.ts, d["reason"]
            vote.yes, vote.no, vote.needed = d["yes"], d["no"], d["needed"]
            vote.ballots = [dict(b) for b in d["ballots"]]

    def _called_in(self, e: Event) -> None:
        self.retro.calls.append((e.ts, describe(e)))
