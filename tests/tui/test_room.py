"""The room screen against a real hub: roster, notes, visitors, reconnects, keys."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.widgets import Input

from tests.conftest import Minter
from tests.integration.conftest import LiveHub, start_hub, stop_hub
from tests.tui.helpers import (
    header_text,
    live,
    notifications,
    screen_text,
    timeline_texts,
    until,
)
from warroom.client import Status
from warroom.hubproc import HubProcess
from warroom.tui.app import WarroomApp
from warroom.tui.screens.help import HelpScreen
from warroom.tui.widgets.note_bar import VISITOR_BANNER, NoteBar
from warroom.tui.widgets.roster import Roster
from warroom.tui.widgets.timeline import Timeline

SIZE = (120, 40)


async def test_join_shows_header_roster_and_timeline(
    hub_process: HubProcess, mint_token: Minter
) -> None:
    app = WarroomApp(hub_process.room_url("room1"), mint_token("ana", "conductor"), "UTC")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await until(pilot, lambda: live(app), "ana to be live")
        await until(pilot, lambda: "ana · conductor" in header_text(app), "ana in the header")
        header = header_text(app)
        assert header.startswith(" warroom  room1 ▏ ana · conductor ▏ seat: you ")
        roster = app.query_one(Roster)
        await until(pilot, lambda: roster.border_subtitle == "1 here", "the roster to count ana")
        text = screen_text(app)
        assert "★ ana (you)" in text
        assert "conductor" in text
        assert "UTC" in text
        assert "ana joined as conductor (UTC)" in timeline_texts(app)
        assert "ana took the conductor seat" in timeline_texts(app)

        bob = WarroomApp(hub_process.room_url("room1"), mint_token("bob"), "Europe/Berlin")
        async with bob.run_test(size=SIZE, notifications=True) as bob_pilot:
            await until(bob_pilot, lambda: live(bob), "bob to be live")
            await until(pilot, lambda: roster.border_subtitle == "2 here", "ana to see bob")
            text = screen_text(app)
            assert "● bob" in text and "engineer" in text and "Europe/Berlin" in text
            await until(bob_pilot, lambda: "seat: ana" in header_text(bob), "ana's seat")
        await until(pilot, lambda: "1 here · 1 away" == roster.border_subtitle, "bob to leave")
        assert "bob left" in timeline_texts(app)


async def test_note_reaches_both_timelines_and_clears_the_input(
    hub_process: HubProcess, mint_token: Minter
) -> None:
    url = hub_process.room_url("room1")
    ana = WarroomApp(url, mint_token("ana", "conductor"), "UTC")
    bob = WarroomApp(url, mint_token("bob"), "UTC")
    async with (
        ana.run_test(size=SIZE, notifications=True) as pilot,
        bob.run_test(size=SIZE, notifications=True) as bob_pilot,
    ):
        await until(pilot, lambda: live(ana), "ana to be live")
        await until(bob_pilot, lambda: live(bob), "bob to be live")
        await pilot.press("n")
        field = ana.query_one("#note-input", Input)
        assert field.has_focus
        await pilot.press(*"group0 is green")
        await pilot.press("enter")
        await until(pilot, lambda: field.value == "", "the input to clear on the ack")
        assert "ana: group0 is green" in timeline_texts(ana)
        await until(
            bob_pilot, lambda: "ana: group0 is green" in timeline_texts(bob), "bob to see it"
        )
        assert "ana: group0 is green" in screen_text(bob)
        assert not notifications(ana)
        # Esc leaves the input, so single keys work as commands again.
        await pilot.press("escape")
        assert ana.query_one(Timeline).has_focus


async def test_visitor_is_read_only_and_refused(
    hub_process: HubProcess, mint_token: Minter
) -> None:
    app = WarroomApp(hub_process.room_url("room1"), mint_token("vic", "visitor"), "UTC")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await until(pilot, lambda: live(app), "vic to be live")
        await until(pilot, lambda: app.query_one(NoteBar).role == "visitor", "the role")
        await pilot.pause()
        assert VISITOR_BANNER in screen_text(app)
        assert not app.query(Input)
        await until(pilot, lambda: "vic · visitor" in header_text(app), "vic in the header")
        footer = screen_text(app).splitlines()[-1]
        assert "Note" not in footer
        # The hub, not only the screen, refuses a visitor: try it through the app's own path.
        answer = await app.send("note", {"text": "let me in"})
        assert answer is not None and not answer.ok and answer.code == "forbidden"
        await until(
            pilot,
            lambda: any("visitors are read-only" in n.message for n in notifications(app)),
            "the refusal to show as an error",
        )
        await until(pilot, lambda: "Refused: note" in screen_text(app), "the toast on screen")
        assert "vic: let me in" not in timeline_texts(app)


async def test_reconnect_after_hub_restart_catches_up_without_duplicates(
    hub_process: HubProcess, mint_token: Minter
) -> None:
    url = hub_process.room_url("room1")
    app = WarroomApp(url, mint_token("ana", "conductor"), "UTC")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await until(pilot, lambda: live(app), "ana to be live")
        assert (await app.send("note", {"text": "before the restart"})) is not None
        await asyncio.to_thread(hub_process.stop)
        await until(pilot, lambda: "↻ reconnecting" in header_text(app), "reconnecting")
        assert app.room_screen.has_class("-offline"), "the roster is dimmed while out of date"
        restarted = await asyncio.to_thread(HubProcess, hub_process.data_dir, port=hub_process.port)
        try:
            await until(pilot, lambda: live(app), "live again", timeout=30)
            assert not app.room_screen.has_class("-offline")
            answer = await app.send("note", {"text": "after the restart"})
            assert answer is not None and answer.ok
            await until(
                pilot, lambda: "ana: after the restart" in timeline_texts(app), "the new note"
            )
        finally:
            await asyncio.to_thread(restarted.stop)
        seqs = [entry.seq for entry in app.query_one(Timeline).entries]
        assert seqs == sorted(set(seqs)), "a timeline line appeared twice or out of order"
        texts = timeline_texts(app)
        assert texts.count("ana: before the restart") == 1
        assert texts.count("ana: after the restart") == 1
        assert screen_text(app).count("ana: before the restart") == 1


async def test_help_lists_keys_and_q_quits(hub_process: HubProcess, mint_token: Minter) -> None:
    app = WarroomApp(hub_process.room_url("room1"), mint_token("bob"), "UTC")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await until(pilot, lambda: live(app), "bob to be live")
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        assert "Write a note for the timeline" in text
        assert "ctrl+p" in text and "Leave the room and quit" in text
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running


async def test_bad_token_shows_failed_with_the_reason(hub_process: HubProcess) -> None:
    app = WarroomApp(hub_process.room_url("room1"), "not-a-token", "UTC")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await until(pilot, lambda: app.client.status is Status.FAILED, "the join to fail")
        await until(
            pilot, lambda: "✖ failed · token is malformed" in header_text(app), "the header"
        )
        await pilot.pause(0.2)
        errors = notifications(app)
        assert len(errors) == 1, "the refusal is told once"
        assert "token is malformed" in errors[0].message


async def test_an_app_that_ends_without_q_still_leaves_with_a_normal_close(
    tmp_path: Path,
) -> None:
    # A test's exit (or any exit but q) used to cancel the connection worker: the socket went
    # with 1011, and its TCP connection stayed open until the event loop ended.
    live_hub, server = await start_hub(tmp_path)
    try:
        app = WarroomApp(live_hub.url("r1"), live_hub.token("ana", "conductor"), "UTC")
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: live(app), "ana to be live")
            (connection,) = server.connections
        # The app has ended: its close was a person's leaving, and the TCP connection is gone.
        assert connection.close_code == 1000
        assert connection.transport.is_closing()
        assert app.client.status is Status.CLOSED
        await until_gone(live_hub, "ana")
    finally:
        await stop_hub(live_hub, server)


async def until_gone(live_hub: LiveHub, name: str) -> None:
    """Wait until the hub's room no longer counts `name` present."""
    for _ in range(100):
        room = live_hub.hub.rooms.get("r1")
        member = room.state.members.get(name) if room is not None else None
        if member is None or not member.present:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{name} is still present in the hub's room")
