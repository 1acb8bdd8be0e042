"""The train's pieces without a hub: marks on the map, folding stages, help and palette."""

from __future__ import annotations

from dataclasses import replace

from textual.pilot import Pilot

from tests.tui import train_fixture
from tests.tui.helpers import region_text, screen_text
from warroom.client import Status
from warroom.core.train import TrainStatus
from warroom.tui.actions import ACTIONS
from warroom.tui.app import WarroomApp
from warroom.tui.messages import ConnectionChanged, RoomSynced
from warroom.tui.screens.help import HelpScreen
from warroom.tui.trainview import Mark, blocker_line, stage_marks
from warroom.tui.widgets.checklist import Checklist
from warroom.tui.widgets.train_bar import train_map

N, C, OLD, U = Mark.NEW, Mark.CURRENT, Mark.OLD, Mark.UNDONE


def test_marks_follow_promotions_rollbacks_and_the_end() -> None:
    train = train_fixture.train_state().train
    assert train is not None and train.stage == "group1"
    assert stage_marks(train) == [N, N, N, C, OLD]
    assert train_map(train).plain == "prep ●  testwikis ●  group0 ●  group1 ◐  group2 ○"
    partial = replace(train, current=2, rollback="partial")
    assert stage_marks(partial) == [N, N, C, U, OLD]
    full = replace(train, rollback="full", status=TrainStatus.ROLLED_BACK)
    assert stage_marks(full) == [OLD] * 5
    done = replace(train, current=4, status=TrainStatus.DONE)
    assert stage_marks(done) == [N] * 5


def test_blocker_line_reads_like_the_banner() -> None:
    train = train_fixture.train_state().train
    assert train is not None
    (blocker,) = train.open_blockers()
    line = blocker_line(blocker, "UTC")
    assert line == "blocker T12345: fatal on commons Special:Search (raised by bob 10:50)"
    assert blocker_line(blocker, "Asia/Kolkata").endswith("(raised by bob 16:20)")


def listing(app: WarroomApp) -> str:
    return "\n".join(region_text(app, "#checklist"))


async def fed(pilot: Pilot[None], app: WarroomApp, me: str, role: str) -> None:
    state, events = train_fixture.train_state(), train_fixture.train_events()
    app.room_screen.post_message(RoomSynced(state, events, me, role))
    app.room_screen.post_message(ConnectionChanged(Status.LIVE))
    await pilot.pause()
    await pilot.pause()


def offline_app() -> WarroomApp:
    url, now = train_fixture.URL, train_fixture.NOW
    return WarroomApp(url, "unused", "UTC", clock=lambda: now, connect=False)


async def test_enter_opens_and_folds_a_stage_and_the_cursor_stays() -> None:
    app = offline_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await fed(pilot, app, "ana", "conductor")
        checklist = app.query_one(Checklist)
        assert checklist.has_focus, "a train puts the checklist in front"
        assert checklist.selected_item is not None
        assert checklist.selected_item.text.startswith("Watch the new-errors dashboard and")
        assert "Promote group0" not in listing(app)
        checklist.highlighted = checklist.get_option_index("stage:group0")
        await pilot.press("enter")
        assert "Promote group0" in listing(app)
        assert checklist.selected_stage == "group0"
        await pilot.press("space")  # on a stage, space folds it too
        assert "Promote group0" not in listing(app)
        # A new event keeps the cursor where it was.
        await fed(pilot, app, "ana", "conductor")
        assert checklist.selected_stage == "group0"


async def test_times_follow_the_timeline_zone() -> None:
    app = offline_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await fed(pilot, app, "ana", "conductor")
        assert "ana 10:32" in screen_text(app) and "raised by bob 10:50" in screen_text(app)
        app.room_screen.tz = "Asia/Kolkata"
        app.query_one("#timeline").viewer_tz = "Asia/Kolkata"  # type: ignore[attr-defined]
        await pilot.press("t")  # to UTC: unchanged here
        await pilot.press("t")  # back to "my" zone, now Kolkata
        await pilot.pause()
        assert "ana 16:02" in screen_text(app) and "raised by bob 16:20" in screen_text(app)


async def test_help_lists_the_conductor_keys_the_footer_leaves_out() -> None:
    app = offline_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await fed(pilot, app, "ana", "conductor")
        footer = screen_text(app).splitlines()[-1]
        assert "Promote" in footer and "Rollback" not in footer
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        listed = dict((what, key) for key, what in app.screen.keys)
        for action in ACTIONS:
            assert action.help in listed, action.name
        assert listed["Roll back the last promoted stage, or every stage"] == "R"
        assert listed["Add an item to the selected stage"] == "+ / insert"
        text = screen_text(app)
        assert "Leave the room and quit" in text and "Abandon the train, with a reason" in text
        # The vote's keys, with no vote open, are listed apart: not now, but they exist.
        later = dict((what, key) for key, what in app.screen.later)
        assert later["Vote yes on the open vote (confirmed)"] == "y"
        assert "Call a rollback vote" in listed and "Call a rollback vote" not in later


async def test_palette_offers_every_train_act() -> None:
    app = offline_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await fed(pilot, app, "vic", "visitor")
        titles = {command.title for command in app.get_system_commands(app.screen)}
        assert {action.title for action in ACTIONS} <= titles
        # From the palette a visitor is told why, as with the keys.
        promote = next(
            c for c in app.get_system_commands(app.screen) if c.title == "Promote the next stage"
        )
        promote.callback()
        await pilot.pause()
        assert app.screen is app.room_screen
        assert any("read-only" in n.message for n in app._notifications)
