"""The Textual messages that carry the replica's updates to the room screen.

Each message holds the replica's update itself (`message.update`, a `warroom.replica`
dataclass): the frame becomes an update in the replica, and the update travels to the screen
as it is. `message_for` picks the message class by the update's type. Log lines do not travel
one message per batch: they wait in a `LogInbox`, and one `LogsArrived` wakes the screen.
"""

from __future__ import annotations

from collections import deque
from typing import Any, ClassVar, Generic, TypeVar

import rich.repr
from textual.message import Message

from warroom.replica import Applied, HubError, StatusChanged, Synced, Update

U = TypeVar("U", StatusChanged, Synced, Applied, HubError)


class Updated(Message, Generic[U]):
    """One update of the replica, on its way to the screen; `update` is the update itself.

    Made from the update (`RoomSynced(update)`), or from its fields (`RoomSynced(state,
    recent, name, role)`, as tests do), which make the update."""

    carries: ClassVar[type[Any]]

    def __init__(self, *fields: Any, **named: Any) -> None:
        super().__init__()
        if len(fields) == 1 and not named and isinstance(fields[0], self.carries):
            update = fields[0]
        else:
            update = self.carries(*fields, **named)  # the dataclass checks them
        self.update: U = update

    def __rich_repr__(self) -> rich.repr.Result:
        yield self.update


class ConnectionChanged(Updated[StatusChanged]):
    """The link to the hub changed: live, connecting, reconnecting (in `retry_in` s) or failed."""

    carries = StatusChanged


class RoomSynced(Updated[Synced]):
    """A snapshot replaced the replica; `recent` rebuilds the timeline; `name`, `role`: who we
    are."""

    carries = Synced


class RoomApplied(Updated[Applied]):
    """New events were applied to the replica, in order; the timeline appends them."""

    carries = Applied


class HubFailed(Updated[HubError]):
    """The hub sent an error frame (or a broken one); shown to the user as an error."""

    carries = HubError


_MESSAGES: dict[type[Any], type[Updated[Any]]] = {
    cls.carries: cls for cls in (ConnectionChanged, RoomSynced, RoomApplied, HubFailed)
}


def message_for(update: Update) -> Updated[Any] | None:
    """The message that carries `update` to the screen; None for what the screen does not take
    (answers go to whoever awaits them, log acks to feeders, log lines to the inbox)."""
    cls = _MESSAGES.get(type(update))
    return cls(update) if cls is not None else None


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
