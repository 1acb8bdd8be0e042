"""Snapshots of the room screen, built from fixed rooms with a pinned clock and no hub."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from tests.tui import train_fixture
from tests.tui.log_fixture import morning
from tests.tui.room_fixture import NOW, URL, fixed_events, fixed_state
from warroom.client import LogBatch, Status
from warroom.core import Actor, Command, Reject, Role, apply, decide
from warroom.tui.app import WarroomApp
from warroom.tui.messages import ConnectionChanged, RoomSynced

SIZE = (120, 40)
HUB = Actor("hub", Role.ENGINEER, "hub")  # the hub's own actor, as its spike detector uses
SPIKE = "error rate on sync logs 40/min, 10× baseline (4.0/min)"


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


def train_app(
    me: str, role: str, tz: str = "UTC", *, voting: bool = False
) -> tuple[WarroomApp, Any]:
    """An app fed the MediaWiki train in group1, held by a blocker (see train_fixture);
    `voting`: then with a rollback vote open and two people queued for the seat."""
    app = WarroomApp(
        train_fixture.URL, "unused", tz, clock=lambda: train_fixture.NOW, connect=False
    )

    async def feed(pilot: Pilot[None]) -> None:
        screen = app.room_screen
        if voting:
            state, events = train_fixture.vote_state(), train_fixture.vote_events()
        else:
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


def logs_app(size: tuple[int, int], keys: tuple[str, ...] = ()) -> tuple[WarroomApp, Any]:
    """The train in group1 with a minute of logs, a finished and a failed feeder, an alert."""
    app = WarroomApp(
        train_fixture.URL, "unused", "UTC", clock=lambda: train_fixture.NOW, connect=False
    )
    state, events = train_fixture.train_state(), train_fixture.train_events()
    more = [
        (train_fixture.RAJ, Command("feed_exited", {"source": "prep", "status": 0}, 78)),
        (train_fixture.RAJ, Command("feed_exited", {"source": "l10n", "status": 2}, 79)),
        (HUB, Command("raise_alert", {"source": "sync", "text": SPIKE}, 81)),
    ]
    for actor, cmd in more:
        at = replace(cmd, ts=train_fixture.T0 + cmd.ts * 60)
        result = decide(state, actor, at, trusted=actor is HUB)
        assert not isinstance(result, Reject), result
        for event in result:
            state = apply(state, event)
            events.append((len(events) + 1, event))

    async def feed(pilot: Pilot[None]) -> None:
        screen = app.room_screen
        screen.post_message(RoomSynced(state, events, "ana", "conductor"))
        screen.post_message(ConnectionChanged(Status.LIVE))
        app._relay(LogBatch(morning(train_fixture.NOW - 60)))
        await pilot.pause()
        await pilot.press(*keys)
        await pilot.pause()
        await pilot.pause()

    return app, feed


def test_log_panel_with_traces_rates_exits_and_an_alert(snap_compare: Any) -> None:
    app, feed = logs_app(SIZE)
    assert snap_compare(app, terminal_size=SIZE, run_before=feed)


def test_logs_zoomed_errors_only_with_a_search(snap_compare: Any) -> None:
    keys = ("l", "e", "e", "slash", *"database", "enter")
    app, feed = logs_app((100, 30), keys)
    assert snap_compare(app, terminal_size=(100, 30), run_before=feed)


def test_a_rollback_vote_open_and_the_hand_off_queue(snap_compare: Any) -> None:
    app, feed = train_app("ana", "conductor", voting=True)
    assert snap_compare(app, terminal_size=SIZE, run_before=feed)


def readme_app() -> tuple[WarroomApp, Any]:
    """The room mid-incident, as the README shows it: held, alerted, voting, logs pouring in."""
    app = WarroomApp(
        train_fixture.URL, "unused", "Europe/Berlin", clock=lambda: train_fixture.NOW,
        connect=False,
    )  # fmt: skip
    state, events = train_fixture.vote_state(), train_fixture.vote_events()
    alert = Command("raise_alert", {"source": "sync", "text": SPIKE}, train_fixture.NOW - 20)
    for event in decide(state, HUB, alert, trusted=True):  # type: ignore[union-attr]
        state = apply(state, event)
        events.append((len(events) + 1, event))

    async def feed(pilot: Pilot[None]) -> None:
        screen = app.room_screen
        screen.post_message(RoomSynced(state, events, "bob", "engineer"))
        screen.post_message(ConnectionChanged(Status.LIVE))
        app._relay(LogBatch(morning(train_fixture.NOW - 60)))
        await pilot.pause()
        await pilot.pause()

    return app, feed


def test_readme_screenshot(snap_compare: Any) -> None:
    app, feed = readme_app()
    assert snap_compare(app, terminal_size=(130, 46), run_before=feed)


def test_the_readme_shows_the_current_screen() -> None:
    # docs/screenshot.svg is the snapshot above, copied by `make screenshot`: this keeps the
    # README's picture from drifting away from what the room really looks like.
    root = Path(__file__).resolve().parents[2]
    snapshot = (
        Path(__file__).parent / "__snapshots__" / "test_snapshots" / "test_readme_screenshot.svg"
    )
    assert (root / "docs" / "screenshot.svg").read_bytes() == snapshot.read_bytes(), (
        "docs/screenshot.svg is stale: run make screenshot"
    )
