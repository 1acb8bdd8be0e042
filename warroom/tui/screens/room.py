"""The room screen: header, train bar, blockers, checklist, timeline, roster and note bar.

The checklist and the timeline share `#main`; the roster sits in `#side`. Later panels (log
tail, hand-off queue, vote, changes going out) join those columns, or `#main` becomes tabs.
The train's keys are made from `warroom.tui.actions` and carried out by `TrainDesk`.
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
from warroom.core.stages import gates
from warroom.tui.actions import train_bindings
from warroom.tui.desk import TrainDesk
from warroom.tui.messages import ConnectionChanged, HubFailed, RoomApplied, RoomSynced
from warroom.tui.screens.gate import GateScreen
from warroom.tui.widgets.blocker_banner import BlockerBanner
from warroom.tui.widgets.checklist import Checklist
from warroom.tui.widgets.header import RoomHeader
from warroom.tui.widgets.note_bar import VISITOR_BANNER, NoteBar
from warroom.tui.widgets.roster import Roster
from warroom.tui.widgets.timeline import Timeline
from warroom.tui.widgets.train_bar import TrainBar

Sender = Callable[[str, Mapping[str, Any]], Awaitable[Answer | None]]


class RoomScreen(Screen[None]):
    """Everything one participant sees of a room."""

    # The checklist is hidden until a train opens (`focusable` ignores display): when one
    # does, `_show` moves the focus there.
    AUTO_FOCUS = "#timeline"
    BINDINGS = [
        *train_bindings(),
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
        self.state = RoomState(room=room)
        self._hub_error = ""
        self.desk = TrainDesk(self, lambda: self.query_one(Checklist), send)

    def compose(self) -> ComposeResult:
        yield RoomHeader(self.room, id="header")
        yield TrainBar(id="train-bar")
        yield BlockerBanner(self.tz, id="blockers")
        with Horizontal(id="body"):
            with Vertical(id="main"):
                yield Checklist(self.tz, id="checklist")
                yield Timeline(self.tz, id="timeline")
            with Vertical(id="side"):
                yield Roster(self.tz, self.clock, id="roster")
        yield NoteBar(id="note-bar")
        yield Footer(compact=True)

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
        self.state = state
        header = self.query_one(RoomHeader)
        header.seat = state.conductor
        header.role = self._acting_role(state)
        self.query_one(Roster).state = state
        train = state.train
        self.query_one(TrainBar).show(train)
        self.query_one(BlockerBanner).show(train)
        checklist = self.query_one(Checklist)
        had_train = self.has_class("-train")
        self.set_class(train is not None, "-train")
        checklist.show(state, self.me)
        if train is not None and not had_train and isinstance(self.focused, Timeline | None):
            checklist.focus()  # a train just appeared: its checklist is where the work is
        gate = self.app.screen
        if isinstance(gate, GateScreen) and train is not None and not train.finished:
            gate.show_gates(gates(state))
        # Which keys show depends on the seat and the train: recheck them on every change.
        self.refresh_bindings()

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
        if action in ("train", "explain"):
            allowed = self.desk.refusal(str(parameters[0])) is None
            return allowed if action == "train" else not allowed
        return True

    def action_train(self, name: str) -> None:
        """Do one of the train's acts (see `warroom.tui.actions`)."""
        self.run_train_action(name)

    def action_explain(self, name: str) -> None:
        """Say why a train key does nothing for me (a visitor, or not the conductor)."""
        self.desk.explain(name)

    def run_train_action(self, name: str) -> None:
        """Start act `name` (from a key or the palette); it may ask in a dialog first."""
        if self.app.screen is not self:
            return  # a dialog is already open: one question at a time
        self._train_worker(name)

    @work(group="train", exit_on_error=False)
    async def _train_worker(self, name: str) -> None:
        try:
            await self.desk.run(name)
        except Exception as exc:
            # A bug behind one key must not take the room down mid-train; it must not hide.
            self.notify(f"{type(exc).__name__}: {exc}", title=f"Bug: {name}", severity="error")
            raise

    @on(Checklist.TickClicked)
    def _tick_clicked(self, event: Checklist.TickClicked) -> None:
        self._tick_worker(event.item)

    @work(group="train", exit_on_error=False)
    async def _tick_worker(self, item: str) -> None:
        await self.desk.tick_item(item)

    def action_note(self) -> None:
        """Focus the note input; a visitor (from the palette) is told why there is none."""
        field = self.query_one(NoteBar).input
        if field is not None:
            field.focus()
        elif self.token_role == Role.VISITOR:
            self.notify(VISITOR_BANNER, severity="warning")

    def action_leave_note(self) -> None:
        """Go back from the note input to the checklist (during a train) or the timeline."""
        target = Checklist if self.has_class("-train") else Timeline
        self.query_one(target).focus()

    def action_toggle_times(self) -> None:
        """Show times in UTC, or in my own zone: timeline, checklist and blockers alike."""
        timeline = self.query_one(Timeline)
        timeline.utc = not timeline.utc
        self.query_one(Checklist).set_zone(timeline.zone)
        self.query_one(BlockerBanner).set_zone(timeline.zone)
