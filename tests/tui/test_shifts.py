"""Shift windows across zones, around the weeks when Europe and the US change clocks apart."""

from __future__ import annotations

from datetime import UTC, datetime

from warroom.core.handoff import QueueEntry
from warroom.tui.shifts import countdown, next_window, span_in
from warroom.tui.widgets.handoff_panel import entry_text


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def test_berlin_shift_seen_from_new_york_in_the_odd_week_of_october() -> None:
    # 2024-10-29: Berlin is back on CET (since the 27th) but New York is on EDT until 3 Nov,
    # so Berlin is 5 hours ahead instead of the usual 6.
    now = at("2024-10-29T06:00:00")
    window = next_window("Europe/Berlin", "09:00", "17:00", now)
    assert span_in(window, "Europe/Berlin", now) == "09:00–17:00"
    assert span_in(window, "America/New_York", now) == "04:00–12:00"
    assert span_in(window, "UTC", now) == "08:00–16:00"


def test_the_same_shift_a_week_later_when_both_zones_changed() -> None:
    now = at("2024-11-05T06:00:00")
    window = next_window("Europe/Berlin", "09:00", "17:00", now)
    assert span_in(window, "America/New_York", now) == "03:00–11:00"
    assert span_in(window, "UTC", now) == "08:00–16:00"


def test_and_the_week_before_when_neither_had() -> None:
    now = at("2024-10-22T06:00:00")
    window = next_window("Europe/Berlin", "09:00", "17:00", now)
    assert span_in(window, "America/New_York", now) == "03:00–11:00"
    assert span_in(window, "UTC", now) == "07:00–15:00"


def test_a_shift_past_midnight_that_is_on_now_and_one_still_to_come() -> None:
    # 23:00 in Berlin on 29 Oct (CET, UTC+1) is 22:00 UTC: a 22:00–06:00 shift there is on.
    now = at("2024-10-29T22:00:00")
    window = next_window("Europe/Berlin", "22:00", "06:00", now)
    assert window.contains(now)
    assert span_in(window, "Europe/Berlin", now) == "22:00–Wed 06:00"
    # Tokyo (UTC+9) is already on the 30th: its 09:00–17:00 starts in 2 hours.
    later = next_window("Asia/Tokyo", "09:00", "17:00", now)
    assert countdown(later.start.timestamp() - now) == "2h 00m"


def test_the_panel_line_for_a_queued_berlin_engineer_as_new_york_sees_it() -> None:
    entry = QueueEntry("bea", "Europe/Berlin", "09:00", "17:00", "after standup", 0.0)
    text = entry_text(entry, 1, "America/New_York", at("2024-10-29T06:00:00"), "ana").plain
    assert text.splitlines() == [
        "1. bea  Europe/Berlin 07:00",
        "   shift 09:00–17:00 there",
        "   = 04:00–12:00 yours",
        "   = 08:00–16:00 UTC",
        "   after standup",
    ]


def test_countdowns() -> None:
    assert countdown(-5) == "0:00"
    assert countdown(247) == "4:07"
    assert countdown(3900) == "1h 05m"
    assert countdown(2 * 86_400 + 3 * 3600) == "2d 3h"
