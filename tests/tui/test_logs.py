"""The log panel: against a real hub where lines cross the wire, offline for keys and alerts."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Sequence
from typing import Any

from textual.message import Message
from textual.widgets import Input

from tests.conftest import Minter
from tests.tui.helpers import live, notifications, region_text, screen_text, until
from tests.tui.log_fixture import PHP_FATAL, PY_TRACE, STDERR, STDOUT, morning
from tests.tui.room_fixture import NOW, T0, URL, fixed_events, fixed_state
from warroom.client import LogBatch
from warroom.core import Actor, Command, Event, Reject, Role, RoomState, apply, decide
from warroom.feed import Feeder
from warroom.hubproc import HubProcess
from warroom.tui.app import WarroomApp
from warroom.tui.logbook import TEXT
from warroom.tui.messages import LogsArrived, RoomApplied, RoomSynced
from warroom.tui.widgets.alert_banner import AlertBanner
from warroom.tui.widgets.log_panel import LogPanel
from warroom.tui.widgets.log_view import LogView

SIZE = (120, 40)
RSYNC = "mw1315: ERROR: rsync failed with exit 23 for l10n"
SPIKE = "error rate on group1 logs 40/min, 10× baseline (4.0/min)"


async def feed(url: str, token: str, source: str, lines: Sequence[tuple[str, int]]) -> None:
    """Send `lines` ((text, stream) pairs) as `warroom feed` does; returns once all are stored."""

    async def each() -> AsyncIterator[tuple[str, int]]:
        for line in lines:
            yield line

    await Feeder(url, token, source).run(each())


async def trickle(url: str, token: str, source: str, count: int, every: float) -> None:
    """Send `count` numbered lines, 20 at a time, one batch every `every` seconds."""

    async def each() -> AsyncIterator[tuple[str, int]]:
        for n in range(1, count + 1):
            yield f"{source} line {n}", STDOUT
            if n % 20 == 0:
                await asyncio.sleep(every)

    await Feeder(url, token, source).run(each())


def panel(app: WarroomApp) -> LogPanel:
    return app.query_one(LogPanel)


ROW = re.compile(r"^ \d\d:\d\d:\d\d \S+ +([│┃].*?)[ ▁▂▃▄▅▆▇█]*$")


def rows(app: WarroomApp) -> list[str]:
    """The log view's lines as shown from the stream mark on (no time, no source)."""
    found = (ROW.match(row) for row in region_text(app, "#log-view"))
    return [match.group(1) for match in found if match]


def texts(app: WarroomApp) -> list[str]:
    return [line[TEXT] for line in panel(app).book.view]


def border(app: WarroomApp) -> tuple[str, str]:
    """The panel's top and bottom border lines: its title and subtitle."""
    lines = region_text(app, "#logs")
    return lines[0], lines[-1]


# --- against a real hub ---------------------------------------------------------------------


async def test_a_late_joiner_sees_the_backlog_at_once(
    hub_process: HubProcess, mint_token: Minter
) -> None:
    url = hub_process.room_url("room1")
    sent = [(f"sync line {n}", STDOUT) for n in range(1, 301)] + [(t, STDERR) for t in PHP_FATAL]
    await feed(url, mint_token("feeder"), "sync", sent)

    wakeups: list[Message] = []
    app = WarroomApp(url, mint_token("bob"), "UTC")
    hook = wakeups.append
    async with app.run_test(size=SIZE, message_hook=hook) as pilot:
        await until(pilot, lambda: live(app), "bob to be live")
        await until(pilot, lambda: len(texts(app)) == len(sent), "the backlog")
        # Every line once, in order, the newest at the bottom of a view that follows.
        assert texts(app) == [text for text, _ in sent]
        assert app.query_one(LogView).following
        await pilot.pause()
        assert rows(app)[-1] == "┃┆ #2 {main}"
        assert "Logs · following" in border(app)[0]
        assert "sync" in region_text(app, "#source-bar")[0]
        assert sum(isinstance(m, LogsArrived) for m in wakeups) <= 2


async def test_scrolling_up_pauses_and_f_or_end_follows_again(
    hub_process: HubProcess, mint_token: Minter
) -> None:
    url = hub_process.room_url("room1")
    app = WarroomApp(url, mint_token("bob"), "UTC")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: live(app), "bob to be live")
        feeding = asyncio.create_task(trickle(url, mint_token("feeder"), "sync", 600, 0.1))
        view = app.query_one(LogView)
        await until(pilot, lambda: len(texts(app)) > 60, "enough lines to scroll")
        view.focus()
        await pilot.press("pageup")
        assert not view.following
        reading = rows(app)
        await until(pilot, lambda: view.new_lines >= 40, "lines to arrive below")
        title = border(app)[0]
        assert "‖ paused" in title and "new lines · f follows" in title
        assert rows(app) == reading, "a paused reader keeps their page"
        assert "f Follow" in screen_text(app).splitlines()[-1]

        await pilot.press("f")
        assert view.following and view.new_lines == 0
        await until(pilot, lambda: "following" in border(app)[0], "the title to say so")
        newest = texts(app)[-1]
        await until(pilot, lambda: newest in "\n".join(rows(app)), "the newest line")

        await pilot.press("up")  # one line up is enough to pause
        assert not view.following
        await pilot.press("end")
        assert view.following
        await feeding
        await until(pilot, lambda: rows(app)[-1].endswith("sync line 600"), "the last line")


async def test_filters_by_level_keep_traces_whole_and_by_source(
    hub_process: HubProcess, mint_token: Minter
) -> None:
    url = hub_process.room_url("room1")
    token = mint_token("feeder")
    lines = morning(T0)  # the hub stamps and classifies them again; only the text is used
    for source in ("sync", "scap"):
        await feed(
            url,
            token,
            source,
            [(text, stream) for _, _, s, stream, _, text in lines if s == source],
        )
    app = WarroomApp(url, mint_token("bob"), "UTC")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: live(app), "bob to be live")
        await until(pilot, lambda: len(texts(app)) == len(lines), "every line")
        await pilot.press("e")
        assert "warnings+" in border(app)[1]
        assert "mw1306: WARNING: sync-file took 7s, slower than usual" in texts(app)
        await pilot.press("e")
        assert "errors" in border(app)[1]
        # The PHP fatal with its frames, the rsync error, the Python traceback: whole.
        assert texts(app) == [*PHP_FATAL, RSYNC, *PY_TRACE]
        shown = rows(app)
        assert shown[0].startswith("┃✖ PHP Fatal error:")
        for row, text in zip(shown[1:5], PHP_FATAL[1:], strict=True):
            assert ("┃┆ " + text).startswith(row.removesuffix("…")), "a frame, cut at the edge"
        assert shown[5] == "│✖ " + RSYNC

        await pilot.press("s")
        assert texts(app) == [*PHP_FATAL, RSYNC]
        assert border(app)[1].rstrip("─╯ ").endswith(f"sync · errors · 6 of {len(lines)} lines")
        await pilot.press("s")
        assert texts(app) == PY_TRACE
        await pilot.press("s", "e")
        assert len(texts(app)) == len(lines), "every source, every level again"


# --- offline: keys, layout and alerts ---------------------------------------------------------


def offline_app() -> WarroomApp:
    return WarroomApp(URL, "unused", "UTC", clock=lambda: NOW, connect=False)


async def with_lines(app: WarroomApp, lines: list[list[Any]], pilot: Any) -> None:
    screen = app.room_screen
    screen.post_message(RoomSynced(fixed_state(), fixed_events(), "ana", "conductor"))
    app._relay(LogBatch(lines))
    await pilot.pause()
    await pilot.pause()


async def test_search_goes_to_next_and_previous_matches_and_esc_gives_n_back() -> None:
    app = offline_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await with_lines(app, morning(T0), pilot)
        await pilot.press("slash")
        assert app.focused is app.query_one("#log-search-input", Input)
        await pilot.press(*"sync-masters", "enter")
        view = app.query_one(LogView)
        assert view.has_focus and not view.following
        assert "/sync-masters 2 of 2" in border(app)[1]
        current = panel(app).book.current
        assert current is not None and current[TEXT] == "sync-masters: 2/3 masters done"
        await pilot.press("N")
        assert "/sync-masters 1 of 2" in border(app)[1]
        await pilot.press("N")
        assert any("No match above" in n.message for n in notifications(app, "warning"))
        app.clear_notifications()  # the toast would cover the border
        await pilot.press("n")
        assert "/sync-masters 2 of 2" in border(app)[1]
        footer = screen_text(app).splitlines()[-1]
        assert "n Next match" in footer and "N Prev match" in footer

        await pilot.press("escape")
        assert panel(app).book.needle == ""
        await pilot.press("n")  # no search: n is the note key again
        assert app.focused is app.query_one("#note-input", Input)


async def test_l_gives_the_logs_the_whole_body_and_back() -> None:
    app = offline_app()
    async with app.run_test(size=SIZE) as pilot:
        await with_lines(app, morning(T0), pilot)
        small = panel(app).region.height
        await pilot.press("l")
        assert not app.query_one("#body").display or not app.query_one("#body").region
        assert panel(app).region.height > small
        assert app.query_one(LogView).has_focus
        assert "PHP Fatal error" in screen_text(app)
        await pilot.press("l")
        assert panel(app).region.height == small
        assert "Timeline" in screen_text(app)


async def test_the_relay_wakes_the_screen_once_for_many_batches() -> None:
    app = offline_app()
    seen: list[Message] = []
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        lines = morning(T0)
        for n in range(500):  # 500 frames in one go, before the screen can take any
            app._relay(LogBatch([[n + 1, T0, "sync", 0, 0, f"frame {n}"]]))
        app._relay(LogBatch(lines))
        await pilot.pause()
        assert sum(isinstance(m, LogsArrived) for m in seen) == 1
        assert len(texts(app)) == 500 + len(lines)


def alert_state() -> tuple[RoomState, list[tuple[int, Event]]]:
    """The fixed room after the hub's spike detector raised an alert, made by the real core."""
    state = fixed_state()
    hub = Actor("hub", Role.ENGINEER, "hub")
    cmd = Command("raise_alert", {"source": "group1", "text": SPIKE}, NOW - 60)
    events = decide(state, hub, cmd, trusted=True)
    assert not isinstance(events, Reject)
    for event in events:
        state = apply(state, event)
    first = len(fixed_events()) + 1
    return state, list(enumerate(events, start=first))


async def test_an_alert_shows_to_everyone_as_a_toast_a_banner_and_on_its_source() -> None:
    state, events = alert_state()
    apps = [offline_app(), offline_app()]
    async with (
        apps[0].run_test(size=SIZE, notifications=True) as ana_pilot,
        apps[1].run_test(size=SIZE, notifications=True) as bob_pilot,
    ):
        for app, pilot, me in ((apps[0], ana_pilot, "ana"), (apps[1], bob_pilot, "bob")):
            group1 = [[1, NOW - 70, "group1", 0, 2, "PHP Fatal error: x"]]
            await with_lines(app, group1, pilot)
            app.room_screen.post_message(RoomApplied(state, events))
            await pilot.pause()
            toast = notifications(app, "error")
            assert [n.message for n in toast] == [SPIKE], me
            assert toast[0].title == "ALERT · group1"
            banner = region_text(app, "#alerts")
            assert banner[0].strip() == f"ALERT  09:54 {SPIKE}"
            assert "group1 ⚠" in region_text(app, "#source-bar")[0]
            assert f"ALERT {SPIKE}" in screen_text(app)  # the timeline's line


async def test_an_alert_leaves_the_banner_once_it_is_old() -> None:
    state, _ = alert_state()
    later = [NOW]
    app = WarroomApp(URL, "unused", "UTC", clock=lambda: later[0], connect=False)
    async with app.run_test(size=SIZE) as pilot:
        app.room_screen.post_message(RoomSynced(state, fixed_events(), "ana", "conductor"))
        await pilot.pause()
        banner = app.query_one(AlertBanner)
        assert banner.display, "a joiner sees a fresh alert without a toast"
        later[0] = NOW + 20 * 60
        banner.show(state.alerts)
        assert not banner.display
