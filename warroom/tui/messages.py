"""Typed messages that carry the connection's updates from the client callback into the UI."""

from __future__ import annotations

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
