"""The room screen's pieces without a hub: a bounded timeline, UTC switching, status wording."""

from __future__ import annotations

from tests.tui.helpers import screen_text
from tests.tui.room_fixture import NOW, T0, URL, fixed_events, fixed_state
from warroom.client import Status
from warroom.core import Event
from warroom.tui.app import WarroomApp
from warroom.tui.messages import RoomApplied, RoomSynced
from warroom.tui.widgets.header import describe_status
from warroom.tui.widgets.roster import clock_in
from warroom.tui.widgets.timeline import MAX_ENTRIES, Timeline


def offline_app(tz: str = "UTC") -> WarroomApp:
    return WarroomApp(URL, "unused", tz, clock=lambda: NOW, connect=False)


def notes(first: int, count: int) -> list[tuple[int, Event]]:
    return [
        (seq, Event("note", T0 + seq, "bob", {"text": f"note {seq}"}))
        for seq in range(first, first + count)
    ]


async def test_timeline_keeps_only_the_newest_entries() -> None:
    app = offline_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.room_screen
        screen.post_message(RoomSynced(fixed_state(), fixed_events(), "ana", "conductor"))
        screen.post_message(RoomApplied(fixed_state(), notes(10, MAX_ENTRIES + 500)))
        await pilot.pause()
        timeline = app.query_one(Timeline)
        assert len(timeline.entries) == MAX_ENTRIES
        assert timeline.entries[0].text == "bob: note 510"
        assert timeline.entries[-1].text == f"bob: note {MAX_ENTRIES + 509}"
        assert timeline.line_count <= 2 * MAX_ENTRIES
        assert f"bob: note {MAX_ENTRIES + 509}" in screen_text(app), "it follows the newest"


async def test_replayed_events_are_not_shown_twice_and_a_snapshot_replaces_all() -> None:
    app = offline_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.room_screen
        screen.post_message(RoomSynced(fixed_state(), fixed_events(), "ana", "conductor"))
        screen.post_message(RoomApplied(fixed_state(), notes(10, 3)))
        screen.post_message(RoomApplied(fixed_state(), notes(11, 3)))
        await pilot.pause()
        timeline = app.query_one(Timeline)
        assert [e.seq for e in timeline.entries][-4:] == [10, 11, 12, 13]
        screen.post_message(RoomSynced(fixed_state(), notes(40, 2), "ana", "conductor"))
        await pilot.pause()
        assert [e.text for e in timeline.entries] == ["bob: note 40", "bob: note 41"]
        assert "earlier events are not shown" in screen_text(app)


async def test_t_switches_timeline_times_between_my_zone_and_utc() -> None:
    app = offline_app("Asia/Kolkata")
    async with app.run_test(size=(120, 40)) as pilot:
        app.room_screen.post_message(RoomSynced(fixed_state(), fixed_events(), "ana", "conductor"))
        await pilot.pause()
        assert "15:06 ana: promoting" in screen_text(app)
        assert "times in Asia/Kolkata" in screen_text(app)
        await pilot.press("t")
        assert "09:36 ana: promoting" in screen_text(app)
        assert "times in UTC" in screen_text(app)


def test_status_wording() -> None:
    assert describe_status(Status.LIVE, "", None) == "● live"
    assert describe_status(Status.CONNECTING, "", None) == "◌ connecting…"
    assert (
        describe_status(Status.RECONNECTING, "hub refused the connection", 2.6)
        == "↻ reconnecting in 3s · hub refused the connection"
    )
    assert describe_status(Status.RECONNECTING, "lost", 0.1) == "↻ reconnecting · lost"
    assert describe_status(Status.FAILED, "token has expired", None) == (
        "✖ failed · token has expired"
    )


def test_local_clock_names_the_day_when_it_differs() -> None:
    assert clock_in("UTC", NOW, "UTC") == "09:55"
    assert clock_in("Asia/Kolkata", NOW, "UTC") == "15:25"
    assert clock_in("Asia/Tokyo", NOW, "Pacific/Honolulu") == "Sat 18:55"
    assert clock_in("Pacific/Honolulu", NOW, "Asia/Tokyo") == "Fri 23:55"
    assert clock_in("Not/AZone", NOW, "UTC") == "09:55"


async def test_timeline_follows_new_lines_until_scrolled_up_and_again_after_end() -> None:
    app = offline_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.room_screen
        screen.post_message(RoomSynced(fixed_state(), notes(1, 100), "ana", "conductor"))
        await pilot.pause()
        timeline = app.query_one(Timeline)
        assert timeline.has_focus
        assert timeline.scroll_y == timeline.max_scroll_y > 0
        await pilot.press("pageup")
        reading = timeline.scroll_y
        assert reading < timeline.max_scroll_y
        screen.post_message(RoomApplied(fixed_state(), notes(101, 5)))
        await pilot.pause()
        assert timeline.scroll_y == reading, "a reader scrolled up is left where they are"
        assert "bob: note 105" not in screen_text(app)
        await pilot.press("end")
        screen.post_message(RoomApplied(fixed_state(), notes(106, 5)))
        await pilot.pause()
        await pilot.pause()
        assert timeline.scroll_y == timeline.max_scroll_y
        assert "bob: note 110" in screen_text(app)


async def test_timeline_redraws_in_the_new_theme() -> None:
    app = offline_app()
    async with app.run_test(size=(120, 40)) as pilot:
        app.room_screen.post_message(RoomSynced(fixed_state(), fixed_events(), "ana", "conductor"))
        await pilot.pause()
        timeline = app.query_one(Timeline)
        rule = timeline.render_line(0)
        app.theme = "textual-light"
        await pilot.pause()
        assert timeline.render_line(0).text == rule.text
        assert timeline.render_line(0) != rule, "the day rule keeps the old theme's colour"
