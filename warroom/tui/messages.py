"""Typed messages that carry the connection's updates from the client callback into the UI."""

from __future__ import annotations

from collections import deque
from typing import Any

from textual.message import Message

from warroom.client import Status
from warroom.core import Event, RoomState


class ConnectionChanged(Message):
    """The link to the hub changed: live, connecting, reconnecting (in `retry_in` s) or failed."""

    def __init__(self, status: Status, detail: str = "", retry_in: float | None = None) -> None:
        super().__init__()
        self.status = status
        self.detail = detail
        self.retry_in = retry_in


class RoomSynced(Message):
    """A snapshot replaced the replica; `recent` rebuilds the timeline; `me`, `role`: who we are."""

    def __init__(
        self, state: RoomState, recent: list[tuple[int, Event]], me: str, role: str
    ) -> None:
        super().__init__()
        self.state = state
        self.recent = recent
        self.me = me
        self.role = role


class RoomApplied(Message):
    """New events were applied to the replica, in order; the timeline appends them."""

    def __init__(self, state: RoomState, events: list[tuple[int, Event]]) -> None:
        super().__init__()
        self.state = state
        self.events = events


class HubFailed(Message):
    """The hub sent an error frame; shown to the user as an error."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__()
        self.code = code
        self.message = message


class LogInbox:
    """Log lines received but not yet shown: the connection fills it, the screen drains it.

    The hub sends a batch every 25 ms, each of up to thousands of lines; a message per batch
    (or per line) would queue behind the screen at high rates. The inbox gathers them and a
    single `LogsArrived` wakes the screen, whatever the number of batches in between.
    """

    def __init__(self) -> None:
        self._batches: deque[list[list[Any]]] = deque()

    def __bool__(self) -> bool:
        return bool(self._batches)

    def put(self, lines: list[list[Any]]) -> bool:
        """Keep `lines`; True when the inbox was empty, so a wake-up must be posted."""
        first = not self._batches
        self._batches.append(lines)
        return first

    def take(self, limit: int) -> list[list[Any]]:
        """Up to `limit` of the lines kept, oldest first; the rest stay for the next take."""
        batches = self._batches
        if len(batches) == 1 and len(batches[0]) <= limit:
            return batches.popleft()
        out: list[list[Any]] = []
        while batches and len(out) < limit:
            room = limit - len(out)
            batch = batches[0]
            if len(batch) <= room:
                out.extend(batches.popleft())
            else:
                out.extend(batch[:room])
                batches[0] = batch[room:]
        return out


class LogsArrived(Message, bubble=False):
    """Lines wait in `inbox`; posted only when it turns non-empty, and two pending ones merge.

    It does not bubble: only the room screen takes them.
    """

    def __init__(self, inbox: LogInbox) -> None:
        super().__init__()
        self.inbox = inbox

    def can_replace(self, message: Message) -> bool:
        # Both point at the same inbox: dropping one loses no line.
        return isinstance(message, LogsArrived) and message.inbox is self.inbox
