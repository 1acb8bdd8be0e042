"""The room screen: header, timeline, roster and note bar, fed by the connection's messages.

The timeline and roster sit in `#main` and `#side`; later panels (checklist, log tail, hand-off
queue, vote, changes going out) join those columns, or `#main` becomes tabs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Input

from warroom.client import Answer, Status
from warroom.core import Role, RoomState
from warroom.tui.messages import ConnectionChanged, HubFailed, RoomApplied, RoomSynced
from warroom.tui.widgets.header import RoomHeader
from warroom.tui.widgets.note_bar import VISITOR_BANNER, NoteBar
from warroom.tui.widgets.roster import Roster
from warroom.tui.widgets.timeline import Timeline

Sender = Callable[[str, Mapping[str, Any]], Awaitable[Answer | None]]


class RoomScreen(Screen[None]):
    """Everything one participant sees of a room."""

    AUTO_FOCUS = "#timeline"
    BINDINGS = [
        Binding("n", "note", "Note", tooltip="Write a note for the timeline"),
        Binding(
            "t",
            "toggle_times",
            "UTC/local",
            tooltip="Show the timeline's times in UTC or in your zone",
        ),
        Binding("escape", "leave_note", "Back", tooltip="Leave the note input for the timeline"),
    ]

    def __init__(self, room: str, tz: str, clock: Callable[[], float], send: Sender) -> None:
        super().__init__()
        self.room = room
        self.tz = tz
        self.clock = clock
        self._send = send
        self.me = ""
        self.token_role = ""
        self._hub_error = ""

    def compose(self) -> ComposeResult:
        yield RoomHeader(self.room, id="header")
        with Horizontal(id="body"):
            with Vertical(id="main"):
                yield Timeline(self.tz, id="timeline")
            with Vertical(id="side"):
                yield Roster(self.tz, self.clock, id="roster")
        yield NoteBar(id="note-bar")
        yield Footer()

    # --- the connection's messages ---------------------------------------------------------

    def on_connection_changed(self, message: ConnectionChanged) -> None:
        self.query_one(RoomHeader).set_status(message.status, message.detail, message.retry_in)
        # Dim what may be out of date; the timeline catches up on reconnect, so it stays lit.
        self.set_class(message.status is not Status.LIVE, "-offline")
        if message.status is Status.FAILED:
            # A refusal arrives twice, as the hub's error frame and as the failure; say it once.
            if message.detail != self._hub_error:
                self.notify(message.detail, title="Cannot stay in the room", severity="error")
            self.query_one(NoteBar).disabled = True

    def on_room_synced(self, message: RoomSynced) -> None:
        self.me, self.token_role = message.me, message.role
        self.refresh_bindings()
        self.query_one(RoomHeader).me = message.me
        self.query_one(Roster).me = message.me
        self.query_one(NoteBar).role = message.role
        self._show(message.state)
        self.query_one(Timeline).rebuild(message.recent)

    def on_room_applied(self, message: RoomApplied) -> None:
        self._show(message.state)
        self.query_one(Timeline).add(message.events)

    def on_hub_failed(self, message: HubFailed) -> None:
        self._hub_error = message.message
        self.notify(message.message, title=f"Hub error: {message.code}", severity="error")

    def _show(self, state: RoomState) -> None:
        header = self.query_one(RoomHeader)
        header.seat = state.conductor
        header.role = self._acting_role(state)
        self.query_one(Roster).state = state

    def _acting_role(self, state: RoomState) -> str:
        acting = state.role_of(self.me)
        if acting is None:
            return self.token_role
        if acting is Role.ENGINEER and self.token_role == Role.CONDUCTOR:
            return "engineer (conductor without the seat)"
        return acting.value

    # --- notes -----------------------------------------------------------------------------

    @on(NoteBar.Submitted)
    def _note_submitted(self, event: NoteBar.Submitted) -> None:
        self._post_note(event.text)

    @work(group="note")
    async def _post_note(self, text: str) -> None:
        answer = await self._send("note", {"text": text})
        bar = self.query_one(NoteBar)
        if answer is not None and answer.ok:
            bar.sent(text)
        else:
            bar.failed()

    # --- keys ------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # False hides a key from the footer: a visitor has no note to write, and Esc only
        # means something while typing.
        if action == "note":
            return self.token_role != Role.VISITOR
        if action == "leave_note":
            return isinstance(self.focused, Input)
        return True

    def action_note(self) -> None:
        """Focus the note input; a visitor (from the palette) is told why there is none."""
        field = self.query_one(NoteBar).input
        if field is not None:
            field.focus()
        elif self.token_role == Role.VISITOR:
            self.notify(VISITOR_BANNER, severity="warning")

    def action_leave_note(self) -> None:
        """Go back from the note input to the timeline."""
        self.query_one(Timeline).focus()

    def action_toggle_times(self) -> None:
        """Show the timeline's times in UTC, or in my own zone."""
        timeline = self.query_one(Timeline)
        timeline.utc = not timeline.utc
