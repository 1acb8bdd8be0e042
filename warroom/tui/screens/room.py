"""The room screen: header, train bar, blockers and alerts, checklist, timeline, roster, logs.

The checklist and the timeline share `#main`; the vote, the hand-off and the roster sit in
`#side` (the first two only while they have something to say); the log panel runs the full
width under them, where long lines fit, and `l` gives it the whole body (and back).
The train's keys are made from `warroom.tui.actions` and carried out by `TrainDesk`; the vote
and seat keys come from `warroom.tui.seatdesk` and are carried out by `SeatDesk`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping
from functools import partial
from typing import Any

from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Input

from warroom.core import Event, Role, RoomState, describe
from warroom.core.deployers import is_author
from warroom.core.stages import gates
from warroom.replica import Answer, Status
from warroom.tui.actions import train_bindings
from warroom.tui.desk import TrainDesk
from warroom.tui.messages import (
    ConnectionChanged,
    HubFailed,
    LogsArrived,
    RoomApplied,
    RoomSynced,
)
from warroom.tui.screens.changes import ChangesScreen
from warroom.tui.screens.gate import GateScreen
from warroom.tui.seatdesk import SeatDesk, seat_bindings
from warroom.tui.widgets.alert_banner import AlertBanner
from warroom.tui.widgets.blocker_banner import BlockerBanner
from warroom.tui.widgets.checklist import Checklist
from warroom.tui.widgets.handoff_panel import HandoffPanel
from warroom.tui.widgets.header import RoomHeader
from warroom.tui.widgets.log_panel import LogPanel
from warroom.tui.widgets.log_view import LogView
from warroom.tui.widgets.note_bar import VISITOR_BANNER, NoteBar
from warroom.tui.widgets.roster import Roster
from warroom.tui.widgets.timeline import Timeline
from warroom.tui.widgets.train_bar import TrainBar
from warroom.tui.widgets.vote_panel import VotePanel

Sender = Callable[[str, Mapping[str, Any]], Awaitable[Answer | None]]
ALERT_TIMEOUT = 30.0  # seconds an alert's toast stays; the banner keeps it longer
LOG_HELPING = 1500  # log lines taken in at once (about 5 ms of work)
VOTE_TIMEOUT = 20.0  # seconds a vote's toast stays; the panel keeps it


class RoomScreen(Screen[None]):
    """Everything one participant sees of a room."""

    # The checklist is hidden until a train opens (`focusable` ignores display): when one
    # does, `_show` moves the focus there.
    AUTO_FOCUS = "#timeline"
    BINDINGS = [
        *train_bindings(),
        *seat_bindings(),
        Binding("n", "note", "Note", tooltip="Write a note for the timeline"),
        Binding(
            "t",
            "toggle_times",
            "UTC/local",
            show=False,  # the timeline's subtitle shows it: the footer has no room to spare
            tooltip="Show the timeline's times in UTC or in your zone",
        ),
        Binding("escape", "leave_note", "Back", tooltip="Leave the note input for the timeline"),
        Binding(
            "g",
            "changes",
            "Changes",
            tooltip="What goes out: commits per repository, the people behind them, suspects",
        ),
        Binding("g", "changes_explain", "", show=False),
        Binding(
            "slash",
            "logs('search')",
            "Search",
            key_display="/",
            tooltip="Search the logs; then n / N go to the next / previous match, esc clears",
        ),
        Binding(
            "f",
            "logs('follow')",
            "Follow",
            tooltip="Follow the newest log line again (End in the logs does too)",
        ),
        Binding(
            "e",
            "logs('level')",
            "Log level",
            show=False,
            tooltip="Logs: every level → warnings and errors → errors only, traces kept whole",
        ),
        Binding(
            "s",
            "logs('source')",
            "Log source",
            show=False,
            tooltip="Logs: every source → one source at a time (or click one above the logs)",
        ),
        # Left out of the footer, which has no room left at 100 columns: the log panel shows
        # it (`l zoom` beside the sources, `l back` in its title when zoomed).
        Binding(
            "l",
            "logs('zoom')",
            "Logs",
            show=False,
            tooltip="Give the logs the whole body, or bring back the checklist and timeline",
        ),
    ]

    def __init__(
        self,
        room: str,
        tz: str,
        clock: Callable[[], float],
        send: Sender,
        repos: Mapping[str, str] | None = None,
    ) -> None:
        """`repos`: repository name -> a local clone, for the suspects' blame."""
        super().__init__()
        self.repos = dict(repos or {})
        self.room = room
        self.tz = tz
        self.clock = clock
        self._send = send
        self.me = ""
        self.token_role = ""
        self.state = RoomState(room=room)
        self._hub_error = ""
        self.desk = TrainDesk(self, lambda: self.query_one(Checklist), send)
        self.seats = SeatDesk(self, send)

    def compose(self) -> ComposeResult:
        yield RoomHeader(self.room, id="header")
        yield TrainBar(id="train-bar")
        yield BlockerBanner(self.tz, id="blockers")
        yield AlertBanner(self.tz, self.clock, id="alerts")
        with Horizontal(id="body"):
            with Vertical(id="main"):
                yield Checklist(self.tz, id="checklist")
                yield Timeline(self.tz, id="timeline")
            with Vertical(id="side"):
                yield VotePanel(self.clock, id="vote")
                yield HandoffPanel(self.tz, self.clock, id="handoff")
                yield Roster(self.tz, self.clock, id="roster")
        yield LogPanel(self.tz, self.clock, id="logs")
        yield NoteBar(id="note-bar")
        yield Footer(compact=True)

    # --- the connection's messages ---------------------------------------------------------

    def on_connection_changed(self, message: ConnectionChanged) -> None:
        change = message.update
        self.query_one(RoomHeader).set_status(change.status, change.detail, change.retry_in)
        # Dim what may be out of date; the timeline catches up on reconnect, so it stays lit.
        self.set_class(change.status is not Status.LIVE, "-offline")
        if change.status is Status.FAILED:
            # A refusal arrives twice, as the hub's error frame and as the failure; say it once.
            if change.detail != self._hub_error:
                self.notify(change.detail, title="Cannot stay in the room", severity="error")
            self.query_one(NoteBar).disabled = True

    def on_room_synced(self, message: RoomSynced) -> None:
        synced = message.update
        self.me, self.token_role = synced.name, synced.role
        self.refresh_bindings()
        self.query_one(RoomHeader).me = synced.name
        self.query_one(Roster).me = synced.name
        self.query_one(NoteBar).role = synced.role
        self._show(synced.state)
        self.query_one(Timeline).rebuild(synced.recent)

    def on_room_applied(self, message: RoomApplied) -> None:
        applied = message.update
        self._show(applied.state)
        self.query_one(Timeline).add(applied.events)
        for _seq, event in applied.events:
            self._announce(event)

    def _announce(self, event: Event) -> None:
        # Everyone is told at once, whichever panel has the focus; the banners, the panels
        # and the timeline keep it after the toast.
        if event.kind == "alert_raised":
            self.notify(
                event.data["text"],
                title=f"ALERT · {event.data['source'] or 'the room'}",
                severity="error",
                timeout=ALERT_TIMEOUT,
            )
        elif event.kind in ("vote_opened", "vote_closed"):
            # A vote is the room's hard call: the bell reaches whoever looks at another window.
            self.app.bell()
            opened = event.kind == "vote_opened"
            self.notify(
                describe(event),
                title=f"Vote {event.data['vote']} "
                + ("opened: y yes · x no" if opened else "closed"),
                severity="warning" if opened else "information",
                timeout=VOTE_TIMEOUT,
            )
        elif event.kind == "seat_offered" and event.data["to"] == self.me:
            self.app.bell()
            if self.app.screen is self:
                self.run_seat_action("answer")
            else:
                self.notify(f"{event.actor} offers you the conductor seat: o answers.")
        elif event.kind in ("seat_accepted", "seat_vacated", "seat_taken"):
            self.notify(describe(event), title="The conductor seat")
        elif event.kind == "called_in":
            mine = is_author(self.me, event.data["author"], event.data["email"])
            if mine:
                self.app.bell()
            self.notify(
                describe(event),
                title="You are called in" if mine else "Called in",
                severity="warning" if mine else "information",
                timeout=VOTE_TIMEOUT if mine else 8,
            )

    def on_logs_arrived(self, message: LogsArrived) -> None:
        # A few milliseconds of lines at a time: a key pressed meanwhile is handled between
        # two helpings, not after a joiner's backlog or a burst has all been taken in.
        lines = message.inbox.take(LOG_HELPING)
        if lines:
            self.query_one(LogPanel).add(lines)
        if message.inbox:
            self.post_message(LogsArrived(message.inbox))

    def on_hub_failed(self, message: HubFailed) -> None:
        error = message.update
        self._hub_error = error.message
        self.notify(error.message, title=f"Hub error: {error.code}", severity="error")

    def _show(self, state: RoomState) -> None:
        self.state = state
        header = self.query_one(RoomHeader)
        header.seat = state.conductor
        header.role = self._acting_role(state)
        self.query_one(Roster).state = state
        seated = bool(self.me) and state.conductor == self.me
        self.query_one(VotePanel).show(state, self.me, conductor=seated)
        may_take = self.seats.refusal("take") is None
        self.query_one(HandoffPanel).show(state, self.me, may_take=may_take)
        train = state.train
        commits = state.changes.commit_count if state.changes is not None else 0
        self.query_one(TrainBar).show(train, commits)
        self.query_one(BlockerBanner).show(train)
        self.query_one(AlertBanner).show(state.alerts)
        self.query_one(LogPanel).show(state)
        checklist = self.query_one(Checklist)
        had_train = self.has_class("-train")
        self.set_class(train is not None, "-train")
        checklist.show(state, self.me)
        if train is not None and not had_train and isinstance(self.focused, Timeline | None):
            checklist.focus()  # a train just appeared: its checklist is where the work is
        gate = self.app.screen
        if isinstance(gate, GateScreen) and train is not None and not train.finished:
            gate.show_gates(gates(state))
        for screen in self.app.screen_stack:
            if isinstance(screen, ChangesScreen):
                screen.show(state)
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
        if action in ("changes", "changes_explain"):
            # In the footer once something was published; before, the key says how to publish.
            published = self.state.changes is not None and bool(self.state.changes.repos)
            return published if action == "changes" else not published
        if action == "logs" and parameters == ("follow",):
            return not self.query_one(LogView).following
        if action in ("train", "explain"):
            allowed = self.desk.refusal(str(parameters[0])) is None
            return allowed if action == "train" else not allowed
        if action in ("seat", "seat_explain"):
            allowed = self.seats.refusal(str(parameters[0])) is None
            return allowed if action == "seat" else not allowed
        return True

    def action_train(self, name: str) -> None:
        """Do one of the train's acts (see `warroom.tui.actions`)."""
        self.run_train_action(name)

    def action_explain(self, name: str) -> None:
        """Say why a train key does nothing for me (a visitor, or not the conductor)."""
        self.desk.explain(name)

    def run_train_action(self, name: str) -> None:
        """Start act `name` (from a key or the palette); it may ask in a dialog first."""
        self._act(self.desk.run, name)

    def action_seat(self, name: str) -> None:
        """Do one of the vote and seat acts (see `warroom.tui.seatdesk`)."""
        self.run_seat_action(name)

    def action_seat_explain(self, name: str) -> None:
        """Say why a vote or seat key does nothing for me now."""
        self.seats.explain(name)

    def run_seat_action(self, name: str) -> None:
        """Start vote or seat act `name` (from a key, the palette or an offer arriving)."""
        self._act(self.seats.run, name)

    def _act(self, run: Callable[[str], Awaitable[None]], name: str) -> None:
        if self.app.screen is not self:
            return  # a dialog is already open: one question at a time
        self._act_worker(run, name)

    @work(group="train", exit_on_error=False)
    async def _act_worker(self, run: Callable[[str], Awaitable[None]], name: str) -> None:
        try:
            await run(name)
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
        self.query_one(AlertBanner).set_zone(timeline.zone)
        self.query_one(LogPanel).set_zone(timeline.zone)

    # --- the changes going out -------------------------------------------------------------

    def action_changes(self) -> ChangesScreen:
        """Open the changes going out (commits, people, suspects)."""
        screen = ChangesScreen(
            self.state, self.me, self.token_role, self.tz, self._send, self.repos
        )
        self.app.push_screen(screen)
        return screen

    def action_changes_explain(self) -> None:
        """Say that nothing was published yet, and how to."""
        self.notify(
            "Nothing is published yet: warroom manifest URL --token T --repo PATH "
            "--from REV --to REV",
            title="Changes going out",
            severity="warning",
        )

    @on(LogView.SuspectsWanted)
    def _suspects_wanted(self, message: LogView.SuspectsWanted) -> None:
        if self.app.screen is not self:
            return
        self.action_changes().find(message.trace)

    # --- logs --------------------------------------------------------------------------------

    def action_logs(self, what: str) -> None:
        """One of the log panel's acts: search, follow, level, source or zoom."""
        panel = self.query_one(LogPanel)
        if what == "search":
            panel.open_search()
        elif what == "follow":
            panel.follow()
        elif what == "level":
            panel.cycle_level()
        elif what == "source":
            panel.cycle_source()
        elif what == "zoom":
            zoomed = not self.has_class("-logs-zoomed")
            self.set_class(zoomed, "-logs-zoomed")
            panel.zoomed = zoomed
            if zoomed and (self.focused is None or panel not in self.focused.ancestors):
                panel.view.focus()

    def log_commands(self) -> Iterator[SystemCommand]:
        """The log panel's acts for the command palette, one per source to show."""
        panel = self.query_one(LogPanel)
        yield SystemCommand(
            "Logs: search", "Search the log lines", partial(self.action_logs, "search")
        )
        yield SystemCommand(
            "Logs: follow", "Follow the newest log line again", partial(self.action_logs, "follow")
        )
        yield SystemCommand(
            "Logs: cycle the level filter",
            "Every level, warnings and errors, errors only",
            partial(self.action_logs, "level"),
        )
        yield SystemCommand(
            "Logs: zoom in or out",
            "Give the logs the whole body, or share it",
            partial(self.action_logs, "zoom"),
        )
        yield SystemCommand(
            "Logs: every source", "Show the lines of every source", partial(panel.pick_source, None)
        )
        for source in panel.sources:
            yield SystemCommand(
                f"Logs: only {source}",
                f"Show only the lines of {source}",
                partial(panel.pick_source, source),
            )
