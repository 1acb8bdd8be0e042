"""Helpers for Pilot tests: wait for a condition, read the screen as text, list notifications."""

from __future__ import annotations

import io
import time
from collections.abc import Callable

from rich.console import Console
from textual.app import App
from textual.notifications import Notification
from textual.pilot import Pilot

from warroom.client import Status
from warroom.tui.app import WarroomApp
from warroom.tui.widgets.timeline import Timeline


async def until(
    pilot: Pilot[None], check: Callable[[], object], what: str, timeout: float = 15.0
) -> None:
    """Let the app run until `check()` is true; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.05)


def screen_text(app: App[None]) -> str:
    """Everything on the screen as plain text, the way a person would read it."""
    width, height = app.size
    console = Console(
        width=width, height=height, file=io.StringIO(), record=True, legacy_windows=False
    )
    # The same render that App.export_screenshot makes, exported as text instead of SVG.
    console.print(
        app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    )
    return console.export_text(styles=False)


def header_text(app: WarroomApp) -> str:
    """The header line as shown: room, me, the seat and the connection state."""
    return screen_text(app).splitlines()[0]


def timeline_texts(app: WarroomApp) -> list[str]:
    """The timeline's sentences, oldest first."""
    return [entry.text for entry in app.query_one(Timeline).entries]


def notifications(app: App[None], severity: str = "error") -> list[Notification]:
    """The notifications of `severity` still showing (Textual keeps them privately)."""
    return [n for n in app._notifications if n.severity == severity]


def live(app: WarroomApp) -> bool:
    """Connected, and the header says so (it is re-laid out a frame after its text changes)."""
    return app.client.status is Status.LIVE and header_text(app).rstrip().endswith("● live")


def region_text(app: App[None], selector: str) -> list[str]:
    """The screen lines inside the widget `selector`, as a person would read them."""
    region = app.screen.query_one(selector).region
    lines = screen_text(app).splitlines()[region.y : region.bottom]
    return [line[region.x : region.right] for line in lines]
