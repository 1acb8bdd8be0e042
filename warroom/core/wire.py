"""Plain-data forms of events and room state, for the wire and the journal.

What comes in from the wire is cleaned here (`warroom.core.text`) before it becomes an event
or a state: the hub cleans every argument since the rule exists, but a journal written before
it may hold raw escapes, and every view (the TUI, the export, `warroom state` and `events`)
reads the room through these two functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from warroom.core.commits import commit_from_data, commit_size, commit_to_data
from warroom.core.model import (
    Alert,
    Ballot,
    Call,
    Changes,
    Event,
    Manifest,
    Mark,
    Member,
    Offer,
    QueueEntry,
    Role,
    RoomState,
    Vote,
)
from warroom.core.runbook import Rules
from warroom.core.text import clean, clean_data
from warroom.core.train import Blocker, Item, Train, TrainStatus


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
    """The (seq, event) pair from a wire map that the protocol has already validated; its
    text cleaned."""
    return int(raw["seq"]), Event(
        clean(str(raw["kind"])),
        float(raw["ts"]),
        clean(str(raw["actor"])),
        dict(clean_data(raw["data"])),
    )


def state_to_wire(state: RoomState) -> dict[str, Any]:
    """The whole room state as plain maps and lists."""
    return {
        "room": state.room,
        "conductor": state.conductor,
        "seat_since": state.seat_since,
        "notes": state.notes,
        "train": None if state.train is None else train_to_wire(state.train),
        "alerts": [_fields(a) for a in state.alerts],
        "alert_count": state.alert_count,
        "feeds": dict(state.feeds),
        "vote": None if state.vote is None else vote_to_wire(state.vote),
        "votes_held": state.votes_held,
        "queue": [_fields(q) for q in state.queue],
        "offer": None if state.offer is None else _fields(state.offer),
        "changes": None if state.changes is None else changes_to_wire(state.changes),
        "members": [
            {
                "name": m.name,
                "role": m.role.value,
                "tz": m.tz,
                "conns": sorted(m.conns),
                "since": m.since,
                "left_at": m.left_at,
            }
            for m in sorted(state.members.values(), key=lambda m: m.name)
        ],
    }


def state_from_wire(raw: Mapping[str, Any]) -> RoomState:
    """Rebuild a state from `state_to_wire`'s output, its text cleaned; raises KeyError or
    ValueError when malformed."""
    raw = clean_data(raw)
    members = {
        str(m["name"]): Member(
            str(m["name"]),
            Role(m["role"]),
            str(m["tz"]),
            frozenset(str(c) for c in m["conns"]),
            float(m["since"]),
            float(m["left_at"]),
        )
        for m in raw["members"]
    }
    conductor = raw["conductor"]
    return RoomState(
        room=str(raw["room"]),
        members=MappingProxyType(members),
        conductor=None if conductor is None else str(conductor),
        seat_since=float(raw["seat_since"]),
        notes=int(raw["notes"]),
        train=None if raw.get("train") is None else train_from_wire(raw["train"]),
        alerts=tuple(Alert(**a) for a in raw["alerts"]),
        alert_count=int(raw["alert_count"]),
        feeds={str(k): int(v) for k, v in raw["feeds"].items()},
        vote=None if raw.get("vote") is None else vote_from_wire(raw["vote"]),
        votes_held=int(raw["votes_held"]),
        queue=tuple(QueueEntry(**q) for q in raw["queue"]),
        offer=None if raw.get("offer") is None else Offer(**raw["offer"]),
        changes=None if raw.get("changes") is None else changes_from_wire(raw["changes"]),
    )


def train_to_wire(train: Train) -> dict[str, Any]:
    """A train run as plain maps and lists."""
    return {
        "name": train.name,
        "version": train.version,
        "stages": list(train.stages),
        "items": [_fields(i) for i in train.items],
        "rules": _fields(train.rules),
        "opened_by": train.opened_by,
        "opened_at": train.opened_at,
        "current": train.current,
        "status": train.status.value,
        "rollback": train.rollback,
        "blockers": [_fields(b) for b in train.blockers],
        "counter": train.counter,
        "ended_at": train.ended_at,
        "end_reason": train.end_reason,
        "approved": train.approved,
        "approved_by_vote": train.approved_by_vote,
        "incident_at": train.incident_at,
    }


def train_from_wire(raw: Mapping[str, Any]) -> Train:
    """Rebuild a train from `train_to_wire`'s output."""
    return Train(
        name=raw["name"],
        version=raw["version"],
        stages=tuple(raw["stages"]),
        items=tuple(Item(**i) for i in raw["items"]),
        rules=Rules(**raw["rules"]),
        opened_by=raw["opened_by"],
        opened_at=float(raw["opened_at"]),
        current=int(raw["current"]),
        status=TrainStatus(raw["status"]),
        rollback=raw["rollback"],
        blockers=tuple(Blocker(**b) for b in raw["blockers"]),
        counter=int(raw["counter"]),
        ended_at=float(raw["ended_at"]),
        end_reason=raw["end_reason"],
        approved=raw["approved"],
        approved_by_vote=raw["approved_by_vote"],
        incident_at=float(raw["incident_at"]),
    )


def vote_to_wire(vote: Vote) -> dict[str, Any]:
    """A vote as plain maps and lists."""
    data = _fields(vote)
    data["electorate"] = sorted(vote.electorate)
    data["ballots"] = [_fields(b) for b in sorted(vote.ballots.values(), key=lambda b: b.name)]
    return data


def vote_from_wire(raw: Mapping[str, Any]) -> Vote:
    """Rebuild a vote from `vote_to_wire`'s output."""
    ballots = {b["name"]: Ballot(**b) for b in raw["ballots"]}
    return Vote(
        **{**raw, "electorate": frozenset(raw["electorate"]), "ballots": MappingProxyType(ballots)}
    )


def changes_to_wire(changes: Changes) -> dict[str, Any]:
    """The manifest, marks and call-ins as plain maps and lists."""
    return {
        "repos": [
            {
                "repo": m.repo,
                "batch": m.batch,
                "from": m.from_rev,
                "to": m.to_rev,
                "from_sha": m.from_sha,
                "to_sha": m.to_sha,
                "count": m.count,
                "complete": m.complete,  # derived: every announced commit has arrived
                "published_by": m.published_by,
                "published_at": m.published_at,
                "path": m.path,
                "commits": [commit_to_data(c) for c in m.commits],
            }
            for m in changes.repos
        ],
        "marks": [_fields(changes.marks[key]) for key in sorted(changes.marks)],
        "calls": [_fields(c) for c in changes.calls],
    }


def changes_from_wire(raw: Mapping[str, Any]) -> Changes:
    """Rebuild the changes from `changes_to_wire`'s output."""
    repos = tuple(
        Manifest(
            repo=m["repo"],
            batch=m["batch"],
            from_rev=m["from"],
            to_rev=m["to"],
            from_sha=m["from_sha"],
            to_sha=m["to_sha"],
            count=int(m["count"]),
            published_by=m["published_by"],
            published_at=float(m["published_at"]),
            path=m["path"],
            commits=tuple(commit_from_data(c) for c in m["commits"]),
            size=sum(commit_size(c) for c in m["commits"]),
        )
        for m in raw["repos"]
    )
    marks = {(k["repo"], k["sha"]): Mark(**k) for k in raw["marks"]}
    calls = tuple(Call(**c) for c in raw["calls"])
    return Changes(repos, MappingProxyType(marks), calls)


def _fields(obj: Any) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in obj.__slots__}
