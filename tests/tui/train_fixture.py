"""A MediaWiki train morning in group1, made by the real core (`decide`) at pinned times.

Every event comes out of `decide` exactly as the hub would make it, so the snapshot shows what
a real run looks like: three stages through, group1 promoted and half checked, a tick with a
note, an item taken, and a blocker holding the train.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.unit.train_helpers import runbook_data
from warroom.core import Actor, Command, Event, Reject, Role, RoomState, apply, decide

T0 = datetime(2026, 3, 14, 9, 30, tzinfo=UTC).timestamp()
NOW = T0 + 85 * 60  # 10:55 UTC
URL = "ws://hub.invalid:8765/train-42"
VERSION = "1.44.0-wmf.5"

ANA = Actor("ana", Role.CONDUCTOR, "c-ana", "UTC")
RAJ = Actor("raj", Role.ENGINEER, "c-raj", "Asia/Kolkata")
BOB = Actor("bob", Role.ENGINEER, "c-bob", "Europe/Berlin")
VIC = Actor("vic", Role.VISITOR, "c-vic", "America/New_York")


class _Run:
    """Drives the core like the hub does, keeping every event with its sequence number."""

    def __init__(self, room: str) -> None:
        self.state = RoomState(room=room)
        self.events: list[tuple[int, Event]] = []

    def do(self, minute: int, actor: Actor, op: str, trusted: bool = False, **args: Any) -> None:
        result = decide(self.state, actor, Command(op, args, T0 + minute * 60), trusted=trusted)
        assert not isinstance(result, Reject), (op, result)
        for event in result:
            self.state = apply(self.state, event)
            self.events.append((len(self.events) + 1, event))

    def item(self, text_start: str) -> str:
        # The stage in progress first: several stages have a "Watch the new-errors dashboard".
        train = self.state.train
        assert train is not None
        items = [*train.stage_items(train.stage), *train.items]
        return next(i.id for i in items if i.text.startswith(text_start))

    def tick(self, minute: int, actor: Actor, text_start: str, note: str = "") -> None:
        args = {"note": note} if note else {}
        self.do(minute, actor, "tick", item=self.item(text_start), **args)


def _run(room: str) -> _Run:
    run = _Run(room)
    for minute, actor in enumerate((ANA, RAJ, BOB, VIC)):
        run.do(minute, actor, "join", trusted=True, tz=actor.tz)
    run.do(5, ANA, "open_train", runbook=runbook_data(), version=VERSION)
    run.tick(9, ANA, "Cut the wmf branch")
    run.tick(11, RAJ, "Check the train blocker task")
    run.do(13, ANA, "promote")
    run.tick(20, ANA, "Sync the new branch")
    run.tick(24, RAJ, "Verify Special:Version")
    run.tick(40, BOB, "Watch the new-errors dashboard for 15")
    run.tick(41, RAJ, "Log triage: go or no-go for group0")
    run.do(43, ANA, "promote")
    run.tick(45, ANA, "Promote group0")
    run.tick(52, BOB, "Watch the new-errors dashboard")
    run.tick(53, RAJ, "Check the version page on mediawiki.org")
    run.tick(58, RAJ, "Log triage: go or no-go for group1")
    run.do(60, ANA, "promote")
    run.tick(62, ANA, "Promote group1")
    run.do(63, BOB, "assign", item=run.item("Watch the new-errors dashboard and"), to="bob")
    run.tick(70, RAJ, "Check the version page on commons", note="shows 1.44.0-wmf.5")
    run.do(
        76,
        BOB,
        "note",
        text="fatals on Special:Search since the group1 promotion, about 40 a minute",
    )
    run.do(80, BOB, "raise_blocker", reason="fatal on commons Special:Search", link="T12345")
    return run


def train_events() -> list[tuple[int, Event]]:
    """The morning's events, numbered from 1."""
    return _run("train-42").events


def train_state(room: str = "train-42") -> RoomState:
    """The state those events leave behind."""
    return _run(room).state


def _vote_run(room: str) -> _Run:
    # The blocker's fatals lead raj to call a partial rollback; bob is for it, ana not yet.
    # Meanwhile raj and bob queued for the seat, for the hand-off from ana (UTC).
    run = _run(room)
    run.do(81, BOB, "queue_join", tz="Europe/Berlin", start="14:00", end="22:00", note="evening")
    run.do(81, RAJ, "queue_join", tz="Asia/Kolkata", start="09:30", end="18:30")
    run.do(
        82, RAJ, "call_vote", proposal="partial", reason="fatals on Special:Search", ref="T12345"
    )
    run.do(83, RAJ, "ballot", vote="v1", choice="yes", comment="group1 is hurting users")
    run.do(84, BOB, "ballot", vote="v1", choice="no", comment="a fix is 5 minutes out")
    return run


def vote_events() -> list[tuple[int, Event]]:
    """The morning, then two people queued for the seat and a rollback vote under way."""
    return _vote_run("train-42").events


def vote_state(room: str = "train-42") -> RoomState:
    """The state those events leave behind."""
    return _vote_run(room).state
