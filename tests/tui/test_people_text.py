"""What people wrote shows as they wrote it: Textual markup in a note, a name or a reason is
text on screen, never a style, a link or an action."""

from __future__ import annotations

from typing import Any

from textual.content import Content
from textual.pilot import Pilot

from tests.tui.helpers import screen_text, until
from tests.unit.train_helpers import ANA, RAJ, Room, runbook_data
from warroom.client import Status
from warroom.core import Event
from warroom.tui.app import WarroomApp
from warroom.tui.logbook import TEXT, Logbook
from warroom.tui.messages import ConnectionChanged, RoomApplied, RoomSynced
from warroom.tui.screens.form import Ask, FormScreen
from warroom.tui.widgets.train_bar import TrainBar

SIZE = (140, 44)
URL = "ws://hub.invalid:8765/train-1"
BOLD = "[b]Big[/b] train"
CLICK = "[@click=app.quit]quit now[/]"
LINK = "[link=https://evil.example]docs[/link]"


def _room() -> Room:
    room = Room()
    room.join(ANA, RAJ)
    runbook = runbook_data()
    runbook["name"] = BOLD
    runbook["stages"][0]["items"][0]["text"] = f"Cut {CLICK}"
    room.ok(ANA, "open_train", runbook=runbook, version="1.0 [i]x[/i]")
    room.ok(RAJ, "note", text=f"see {LINK} and {CLICK}")
    room.ok(RAJ, "raise_blocker", reason=f"[red]fatal[/red] {CLICK}", link="T1")
    room.ok(RAJ, "raise_blocker", reason=f"second {BOLD}", link="T2")
    return room


async def _shown(app: WarroomApp, pilot: Pilot[None], room: Room, upto: int) -> None:
    events = list(enumerate(room.events[:upto], start=1))
    app.room_screen.post_message(RoomSynced(room.state, events, "ana", "conductor"))
    app.room_screen.post_message(ConnectionChanged(Status.LIVE))
    await pilot.pause()
    await pilot.pause()


def _events(room: Room, since: int) -> list[tuple[int, Event]]:
    return list(enumerate(room.events, start=1))[since:]


async def test_markup_in_people_text_shows_literally() -> None:
    room = _room()
    app = WarroomApp(URL, "unused", "UTC", clock=lambda: room.clock, connect=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await _shown(app, pilot, room, len(room.events))
        await until(pilot, lambda: BOLD in screen_text(app), "the runbook's name in the checklist")
        text = screen_text(app)
        assert f"Checklist · {BOLD}" in text  # a border title
        assert f"[red]fatal[/red] {CLICK}" in text  # the blocker banner
        assert f"see {LINK}" in text  # the timeline
        tooltip: Any = app.query_one(TrainBar).query_one("#train-version").tooltip
        assert isinstance(tooltip, Content) and tooltip.plain == f"{BOLD}, opened by ana"

        # A toast: a vote opened with markup in its reason, and a refusal quoting people.
        before = len(room.events)
        room.ok(RAJ, "call_vote", proposal="hold", reason=f"{CLICK} {BOLD}")
        app.room_screen.post_message(RoomApplied(room.state, _events(room, before)))
        app.notify(f'"{CLICK}" is already ticked by raj', title="Refused: tick")
        await until(pilot, lambda: f"{CLICK} {BOLD}" in screen_text(app), "the vote's toast")
        assert f'"{CLICK}" is already ticked by raj' in screen_text(app)
        assert app.is_running  # the click markup did not quit

        # A choice in a form quotes a blocker's reason.
        train = room.state.train
        assert train is not None
        choices = tuple((f"pick {b.link}: {b.reason}", b.id) for b in train.open_blockers())
        form = FormScreen(
            f"Resolve {BOLD}",
            [Ask("blocker", "Blocker", "choice", value=choices[0][1], choices=choices)],
        )
        app.push_screen(form)
        await pilot.pause()
        await pilot.pause()
        text = screen_text(app)
        assert f"Resolve {BOLD}" in text and f"pick T1: [red]fatal[/red] {CLICK}" in text


async def test_a_dirty_replica_never_reaches_the_screen_raw() -> None:
    # Not through the wire: even text the core holds raw is drawn as text.
    room = _room()
    app = WarroomApp(URL, "unused", "UTC", clock=lambda: room.clock, connect=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await _shown(app, pilot, room, len(room.events))
        app.notify("ring \x07 ring \x1b]0;title\x07", title="\x1b[31mred")
        await pilot.pause()
        await until(pilot, lambda: "ring \ufffd ring" in screen_text(app), "the cleaned toast")


def test_log_lines_from_an_older_hub_are_cleaned_on_arrival() -> None:
    book = Logbook()
    book.add(
        [[1, 1.0, "scap", 0, 0, "user \u202egnp.exe \x1b]0;t\x07"], [2, 1.0, "scap", 0, 0, "ok"]],
        1.0,
    )
    assert [line[TEXT] for line in book.lines] == ["user \ufffdgnp.exe \ufffd]0;t\ufffd", "ok"]
