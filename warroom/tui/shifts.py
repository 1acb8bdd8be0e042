"""Shift windows between time zones, and countdowns, for the hand-off panel.

A queued shift is given as HH:MM–HH:MM in its owner's zone. It is placed on today's date
*there* (an end before the start runs past midnight), then converted, as an instant, into the
viewer's zone and UTC; so a daylight-saving change in either zone moves the window correctly.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from warroom.timezones import zone_or_utc


@dataclass(frozen=True, slots=True)
class Window:
    """A shift as two instants (aware datetimes)."""

    start: datetime
    end: datetime

    def contains(self, now: float) -> bool:
        """Whether the shift is on at `now`."""
        return self.start.timestamp() <= now < self.end.timestamp()


def _hhmm(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def window_on(tz: str, start: str, end: str, date: dt.date) -> Window:
    """The shift `start`–`end` (HH:MM in `tz`) on `date` there."""
    here = zone_or_utc(tz)
    begin = datetime.combine(date, _hhmm(start), here)
    finish = datetime.combine(date, _hhmm(end), here)
    if finish <= begin:
        finish += timedelta(days=1)
    # `combine` keeps wall times; a round trip through UTC fixes the offset of each.
    return Window(begin.astimezone(UTC), finish.astimezone(UTC))


def today(tz: str, start: str, end: str, now: float) -> Window:
    """The shift on today's date in its own zone."""
    return window_on(tz, start, end, datetime.fromtimestamp(now, zone_or_utc(tz)).date())


def next_window(tz: str, start: str, end: str, now: float) -> Window:
    """The shift on now, or else the next one to begin (today's or tomorrow's)."""
    date = datetime.fromtimestamp(now, zone_or_utc(tz)).date()
    current = window_on(tz, start, end, date)
    if current.end.timestamp() > now:
        yesterday = window_on(tz, start, end, date - timedelta(days=1))
        # A shift past midnight that began yesterday may still be on.
        return yesterday if yesterday.contains(now) else current
    return window_on(tz, start, end, date + timedelta(days=1))


def span_in(window: Window, tz: str, now: float) -> str:
    """The window as HH:MM–HH:MM in `tz`, with the weekday of an end on another day."""
    there = zone_or_utc(tz)
    begin, finish = window.start.astimezone(there), window.end.astimezone(there)
    reference = datetime.fromtimestamp(now, there).date()
    head = begin.strftime("%H:%M") if begin.date() == reference else f"{begin:%a %H:%M}"
    tail = finish.strftime("%H:%M") if finish.date() == begin.date() else f"{finish:%a %H:%M}"
    return f"{head}–{tail}"


def clock(tz: str, now: float) -> str:
    """The time now in `tz`, HH:MM."""
    return datetime.fromtimestamp(now, zone_or_utc(tz)).strftime("%H:%M")


def countdown(seconds: float) -> str:
    """`4:07`, `1h 05m`, `2d 3h`; `0:00` once past."""
    left = max(0, int(seconds))
    if left < 3600:
        return f"{left // 60}:{left % 60:02d}"
    if left < 86_400:
        return f"{left // 3600}h {left % 3600 // 60:02d}m"
    return f"{left // 86_400}d {left % 86_400 // 3600}h"
