"""A fixed room, built from real core events with pinned times, for tests that need no hub."""

from __future__ import annotations

from datetime import UTC, datetime

from warroom.core import Event, RoomState, apply

T0 = datetime(2026, 3, 14, 9, 30, tzinfo=UTC).timestamp()
NOW = T0 + 25 * 60
URL = "ws://hub.invalid:8765/train-42"


def fixed_events() -> list[tuple[int, Event]]:
    """A short train morning: three people, a seat, a visitor who left, two notes."""

    def joined(minute: int, name: str, role: str, tz: str) -> Event:
        return Event(
            "joined", T0 + minute * 60, name, {"conn": f"c-{name}", "role": role, "tz": tz}
        )

    events = [
        joined(0, "ana", "conductor", "UTC"),
        Event("seat_taken", T0, "ana", {}),
        joined(2, "bob", "engineer", "Europe/Berlin"),
        joined(3, "dee", "engineer", "Asia/Kolkata"),
        joined(4, "vic", "visitor", "America/New_York"),
        Event("note", T0 + 6 * 60, "ana", {"text": "promoting 1.42.0-wmf.3 to group0"}),
        joined(9, "cal", "visitor", "Australia/Sydney"),
        Event("left", T0 + 12 * 60, "cal", {"conn": "c-cal"}),
        Event(
            "note",
            T0 + 21 * 60,
            "bob",
            {"text": "group0 error rate is flat and the logs are quiet; ready for group1"},
        ),
    ]
    return list(enumerate(events, start=1))


def fixed_state(room: str = "train-42") -> RoomState:
    """The state those events leave behind."""
    state = RoomState(room=room)
    for _seq, event in fixed_events():
        state = apply(state, event)
    return state
