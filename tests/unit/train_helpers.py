"""Shared set-up for train tests: a room with people and an open train."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from warroom.core import Actor, Command, Event, Reject, Role, RoomState, apply, decide
from warroom.core.runbook import parse, to_data

ANA = Actor("ana", Role.CONDUCTOR, "c1", "Europe/Berlin")
RAJ = Actor("raj", Role.ENGINEER, "c2", "Asia/Kolkata")
VIC = Actor("vic", Role.VISITOR, "c3", "UTC")
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


class Room:
    """A room driven through decide/apply, keeping every event."""

    def __init__(self) -> None:
        self.state = RoomState("train-1")
        self.events: list[Event] = []
        self.clock = 1_800_000_000.0

    def do(self, actor: Actor, op: str, trusted: bool = False, **args: Any) -> list[Event] | Reject:
        self.clock += 60
        result = decide(self.state, actor, Command(op, args, self.clock), trusted=trusted)
        if not isinstance(result, Reject):
            for event in result:
                self.state = apply(self.state, event)
                self.events.append(event)
        return result

    def ok(self, actor: Actor, op: str, **args: Any) -> list[Event]:
        result = self.do(actor, op, **args)
        assert not isinstance(result, Reject), result
        return result

    def refused(self, actor: Actor, op: str, **args: Any) -> Reject:
        before = self.state
        result = self.do(actor, op, **args)
        assert isinstance(result, Reject), result
        assert self.state == before
        return result

    def join(self, *actors: Actor) -> None:
        for a in actors:
            self.do(a, "join", trusted=True, tz=a.tz)

    def item_id(self, text_start: str) -> str:
        assert self.state.train is not None
        return next(i.id for i in self.state.train.items if i.text.startswith(text_start))


def runbook_data(name: str = "mediawiki-train.toml") -> dict[str, Any]:
    path = EXAMPLES / name
    return to_data(parse(path.read_text(), str(path)))


def opened(name: str = "mediawiki-train.toml") -> Room:
    room = Room()
    room.join(ANA, RAJ, VIC)
    room.ok(ANA, "open_train", runbook=runbook_data(name), version="1.44.0-wmf.5")
    return room


def tick_stage(room: Room, actor: Actor = ANA) -> None:
    train = room.state.train
    assert train is not None
    for item in train.stage_items(train.stage):
        if item.required and not item.done:
            room.ok(actor, "tick", item=item.id)
