"""Snapshots of the room screen, built from fixed rooms with a pinned clock and no hub."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from tests.tui import train_fixture
from tests.tui.room_fixture import NOW, URL, fixed_events, fixed_state
from warroom.client import Status
from warroom.tui.app import WarroomApp
from warroom.tui.messages import ConnectionChanged, RoomSynced

SIZE = (120, 40)


def fixed_app(me: str, role: str) -> tuple[WarroomApp, Any]:
    """An app that never dials out, and a `run_before` that feeds it the fixed room."""
    app = WarroomApp(URL, "unused", "UTC", clock=lambda: NOW, connect=False)

    async def feed(pilot: Pilot[None]) -> None:
        screen = app.room_screen
        screen.post_message(RoomSynced(fixed_state(), fixed_events(), me, role))
        screen.post_message(ConnectionChanged(Status.LIVE))
        await pilot.pause()
        await pilot.pause()

    return app, feed


def test_conductor_screen(snap_compare: Any) -> None:
    app, feed = fixed_app("ana", "conductor")
    assert snap_compare(app, terminal_size=SIZE, run_before=feed)


def test_visitor_screen(snap_compare: Any) -> None:
    app, feed = fixed_app("vic", "visitor")
    assert snap_compare(app, terminal_size=SIZE, run_before=feed)


def train_app(me: str, role: str, tz: str = "UTC") -> tuple[WarroomApp, Any]:
    """An app fed the MediaWiki train in group1, held by a blocker (see train_fixture)."""
    app = WarroomApp(
        train_fixture.URL, "unused", tz, clock=lambda: train_fixture.NOW, connect=False
    )

    async def feed(pilot: Pilot[None]) -> None:
        screen = app.room_screen
        state, events = train_fixture.train_state(), train_fixture.train_events()
        screen.post_message(RoomSynced(state, events, me, role))
        screen.post_message(ConnectionChanged(Status.LIVE))
        await pilot.pause()
        await pilot.pause()

    return app, feed


def test_train_in_group1(snap_compare: Any) -> None:
    app, feed = train_app("ana", "conductor")
    assert snap_compare(app, terminal_size=SIZE, run_before=feed)


def test_train_small_terminal_for_a_visitor(snap_compare: Any) -> None:
    app, feed = train_app("vic", "visitor", "America/New_York")
    assert snap_compare(app, terminal_size=(100, 30), run_before=feed)


def test_promotion_dialog_lists_unmet_gates(snap_compare: Any) -> None:
    app, feed = train_app("ana", "conductor")

    async def open_dialog(pilot: Pilot[None]) -> None:
        await feed(pilot)
        await pilot.press("p")
        await pilot.pause()
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=open_dialog)
