"""`WarroomApp`: runs the room connection in a worker and hands its updates to the room screen.

The client's updates are the replica's (`warroom.replica`); each goes to the screen in the
message that carries it (`warroom.tui.messages`), log lines through the inbox.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from typing import Any

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.screen import Screen

from warroom.client import ConnectError, RoomClient
from warroom.core.text import clean
from warroom.protocol import ProtocolError
from warroom.replica import Answer, LogBatch, Status, StatusChanged, Update
from warroom.tui.actions import ACTIONS
from warroom.tui.messages import LogInbox, LogsArrived, message_for
from warroom.tui.screens.help import HelpScreen
from warroom.tui.screens.room import RoomScreen
from warroom.tui.seatdesk import SEAT_ACTIONS

HANG_UP = 3.0  # seconds the client's loop gets to end after the close at exit


class WarroomApp(App[None]):
    """One participant's terminal view of a room at `url`."""

    CSS_PATH = ["app.tcss", "screens/dialogs.tcss"]
    BINDINGS = [
        Binding("question_mark", "help", "Keys", key_display="?", tooltip="Show every key"),
        Binding("q", "quit", "Quit", tooltip="Leave the room and quit"),
    ]

    def __init__(
        self,
        url: str,
        token: str,
        tz: str,
        *,
        clock: Callable[[], float] = time.time,
        connect: bool = True,
        repos: Mapping[str, str] | None = None,
    ) -> None:
        """`clock` feeds the roster's local times; `connect=False` leaves the hub alone;
        `repos` maps repository names to local clones, for the suspects' blame."""
        super().__init__()
        self.client = RoomClient(url, token, tz, on_update=self._relay)
        self.room_screen = RoomScreen(self.client.room, tz, clock, self.send, repos)
        self.log_inbox = LogInbox()
        self._connect = connect
        self._runner: asyncio.Task[None] | None = None
        self.title = f"warroom · {self.client.room}"

    def get_default_screen(self) -> Screen[Any]:
        return self.room_screen

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every notification here is plain text, whatever `markup` says: people's words travel
        in them (notes, reasons, alerts, refusals that quote them), and a note such as
        `[@click=app.quit]` must show as written. (Widgets and screens notify through here.)"""
        super().notify(
            clean(message), title=clean(title), severity=severity, timeout=timeout, markup=False
        )

    def on_mount(self) -> None:
        if self._connect:
            self._connection()
        # Textual's own objects, some 65,000 of them, live as long as the app: set them aside
        # from the cycle collector, whose full passes over them (30-40 ms every half second
        # while logs pour in) were the worst of the delays between a key and the screen.
        self.call_after_refresh(gc.freeze)

    async def on_unmount(self) -> None:
        await self._hang_up()
        gc.unfreeze()  # the app is done with them: they may be collected again

    @work(group="connection", exit_on_error=False)
    async def _connection(self) -> None:
        # The client's loop runs shielded from the worker: Textual cancels its workers as the
        # app ends (however it ends: q, an exit, a test's), and a cancelled socket closes
        # with 1011 and leaves its TCP connection open until the loop ends. `_hang_up`, at
        # unmount, closes it as a person leaving does.
        self._runner = asyncio.ensure_future(self.client.run())
        try:
            await asyncio.shield(self._runner)
        except Exception as exc:
            # A bug or version skew in the replica must not take the screen down with it.
            self._relay(StatusChanged(Status.FAILED, f"client error: {exc}"))
            raise

    async def _hang_up(self) -> None:
        """Leave the room with a normal close (1000), and let the client's loop end."""
        await self.client.close()  # no-op when closed; else the close handshake, 2 s at most
        runner = self._runner
        if runner is None or runner.done():
            return
        if self.client.status is not Status.LIVE:
            runner.cancel()  # waiting to reconnect, or still joining: nothing worth a wait
        await asyncio.wait({runner}, timeout=HANG_UP)
        runner.cancel()  # ended by now, unless the hub never answered the close

    def _relay(self, update: Update) -> None:
        # The client calls this on our own loop, so posting is safe without call_from_thread.
        if isinstance(update, LogBatch):
            if self.log_inbox.put(update.lines):
                # One wake-up however many batches follow before the screen takes them.
                self.room_screen.post_message(LogsArrived(self.log_inbox))
            return
        # Answers are not relayed: whoever sent the command awaits its own answer in `send`.
        message = message_for(update)
        if message is not None:
            self.room_screen.post_message(message)

    async def send(self, op: str, args: Mapping[str, Any]) -> Answer | None:
        """Send a command and wait: a refusal is shown and returned; a lost command gives None."""
        try:
            answer = await self.client.send(op, args)
        except ConnectError as exc:
            self.notify(str(exc), title=f"Could not {op}", severity="error")
            return None
        except ProtocolError as exc:
            self.notify(exc.message, title=f"Could not {op}", severity="error")
            return None
        if not answer.ok:
            self.notify(answer.reason or answer.code, title=f"Refused: {op}", severity="error")
        return answer

    def action_help(self) -> None:
        """Show every key that works here, then the acts whose moment or role has not come."""
        if isinstance(self.screen, HelpScreen):
            return
        # The screen's keys left out of the footer for room count too (the app's own hidden
        # ones are in ALWAYS); an action's several keys share one line. The app's own keys
        # (quit, help) come first, so they never scroll out of sight below a long list.
        keys: dict[str, tuple[list[str], str]] = {}
        active = sorted(self.screen.active_bindings.values(), key=lambda a: a.node is not self)
        for bound in active:
            binding = bound.binding
            hidden_here = bound.node is not self and bool(binding.tooltip)
            if not binding.description or not (binding.show or hidden_here):
                continue
            shown, _ = keys.setdefault(binding.action, ([], binding.tooltip or binding.description))
            display = self.get_key_display(binding)
            if display not in shown:
                shown.append(display)
        later = []
        for kind, table in (("train", ACTIONS), ("seat", SEAT_ACTIONS)):
            for act in table:
                if f"{kind}('{act.name}')" not in keys:
                    shown_key = act.key_display or act.keys.split(",")[0]
                    later.append((self.get_key_display(Binding(shown_key, "")), act.help))
        now = [(" / ".join(k), what) for k, what in keys.values()]
        self.push_screen(HelpScreen(now, later))

    async def action_quit(self) -> None:
        """Leave the room cleanly, so the others see us go at once."""
        await self.client.close()
        self.exit()

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        room = self.room_screen
        yield SystemCommand("Write a note", "Focus the note input", room.action_note)
        yield SystemCommand(
            "Timeline in UTC / my zone", "Switch the timeline's clock", room.action_toggle_times
        )
        yield SystemCommand("Help", "Show every key", self.action_help)
        yield from room.log_commands()
        for action in ACTIONS:
            # Everyone sees every act; doing one they may not explains why, as the keys do.
            yield SystemCommand(
                action.title, action.help, partial(room.run_train_action, action.name)
            )
        for action in SEAT_ACTIONS:
            yield SystemCommand(
                action.title, action.help, partial(room.run_seat_action, action.name)
            )
