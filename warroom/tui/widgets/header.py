"""The header bar: the room, who I am, who holds the conductor seat, and the connection state."""

from __future__ import annotations

import time

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.css.query import NoMatches
from textual.reactive import reactive
from textual.timer import Timer
from textual.widgets import Label

from warroom.replica import Status

_GLYPH = {
    Status.LIVE: "●",
    Status.CONNECTING: "◌",
    Status.RECONNECTING: "↻",
    Status.FAILED: "✖",
    Status.CLOSED: "○",
}


def describe_status(status: Status, detail: str, retry_in: float | None) -> str:
    """The connection state in a few words: `reconnecting in 3s · hub refused the connection`."""
    if status is Status.RECONNECTING and retry_in is not None and retry_in >= 0.5:
        text = f"reconnecting in {retry_in:.0f}s"
    elif status is Status.CONNECTING:
        text = "connecting…"
    else:
        text = status.value
    if detail and status in (Status.RECONNECTING, Status.FAILED):
        text += f" · {detail}"
    return f"{_GLYPH[status]} {text}"


class RoomHeader(Horizontal):
    """One line across the top; set its reactives and it redraws itself."""

    me: reactive[str] = reactive("")
    role: reactive[str] = reactive("")
    seat: reactive[str | None] = reactive(None)

    def __init__(self, room: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.room = room
        self.status = Status.CONNECTING
        self.detail = ""
        # A monotonic deadline rather than a duration, so the countdown can tick down on its own.
        self.retry_at: float | None = None
        self._ticker: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Label("warroom", id="brand")
        # Names and the hub's reasons are shown as text: a label would read them as markup.
        yield Label(Content(self.room), id="room")
        yield Label("joining…", id="me")
        yield Label("", id="seat")
        yield Label(describe_status(self.status, "", None), id="conn", classes="-connecting")

    def set_status(self, status: Status, detail: str, retry_in: float | None) -> None:
        """Show a new connection state; `retry_in` seconds start a countdown."""
        self.status, self.detail = status, detail
        self.retry_at = None if retry_in is None else time.monotonic() + retry_in
        self._show_status()

    def watch_me(self) -> None:
        self._show_identity()
        self._show_seat()

    def watch_role(self) -> None:
        self._show_identity()

    def watch_seat(self) -> None:
        self._show_seat()

    def _label(self, name: str) -> Label | None:
        # None until composed: reactives may change before the labels exist.
        try:
            return self.query_one(f"#{name}", Label)
        except NoMatches:
            return None

    def _show_identity(self) -> None:
        label = self._label("me")
        if label is not None:
            label.update(Content(f"{self.me} · {self.role}" if self.me else "joining…"))

    def _show_seat(self) -> None:
        label = self._label("seat")
        if label is None:
            return
        holder = self.seat
        if not self.me:
            text = ""  # not joined yet: whether the seat is taken is not known
        elif holder is None:
            text = "NO CONDUCTOR · seat empty"
        else:
            text = "seat: you" if holder == self.me else f"seat: {holder}"
        label.update(Content(text))
        label.set_class(bool(self.me) and holder is None, "-empty")

    def _show_status(self) -> None:
        label = self._label("conn")
        if label is None:
            return
        left = None if self.retry_at is None else self.retry_at - time.monotonic()
        label.update(Content(describe_status(self.status, self.detail, left)))
        # The whole reason, when a narrow header cuts it.
        label.tooltip = Content(self.detail) if self.detail else None
        for status in Status:
            label.set_class(status is self.status, f"-{status.value}")
        counting = self.status is Status.RECONNECTING and left is not None and left > 0
        if counting and self._ticker is None:
            self._ticker = self.set_interval(0.5, self._show_status)
        elif not counting and self._ticker is not None:
            self._ticker.stop()
            self._ticker = None
