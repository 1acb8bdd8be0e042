"""The hub's clock: what time it is, and timers for wall-clock deadlines.

Everything the hub times against the wall clock (a vote's end, an offer's, a dropped
conductor's grace, a room woken for one of them, a token's expiry) goes through a `Clock`,
so tests can run a `ManualClock` and `advance` it instead of sleeping. Durations that are
about the machine (handshake timeouts, close waits, idle rooms, lingers, flush delays) stay on
the event loop.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable
from typing import Protocol, runtime_checkable


class Timer(Protocol):
    """A scheduled callback that can be called off."""

    def cancel(self) -> None: ...


@runtime_checkable
class Clock(Protocol):
    """The time, in UNIX seconds, and callbacks at a time."""

    def now(self) -> float:
        """The time now."""
        ...

    def call_at(self, when: float, callback: Callable[[], object]) -> Timer:
        """Run `callback` on the event loop at `when` (at once if it has passed)."""
        ...


class SystemClock:
    """The real clock (or any now-function), with timers on the running event loop."""

    def __init__(self, now: Callable[[], float] = time.time) -> None:
        self._now = now

    def now(self) -> float:
        return self._now()

    def call_at(self, when: float, callback: Callable[[], object]) -> Timer:
        delay = max(0.0, when - self._now())
        return asyncio.get_running_loop().call_later(delay, callback)


def as_clock(clock: Clock | Callable[[], float]) -> Clock:
    """`clock` itself, or a `SystemClock` reading the now-function it is (as `Hub` took
    before it took a `Clock`)."""
    return clock if isinstance(clock, Clock) else SystemClock(clock)


class _ManualTimer:
    __slots__ = ("when", "callback", "cancelled")

    def __init__(self, when: float, callback: Callable[[], object]) -> None:
        self.when = when
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class ManualClock:
    """A clock for tests: it stands still until `advance` moves it, and then runs every
    timer that falls due, soonest first (and, at one time, in the order they were set).

    A timer set for a time already past runs at once, on the event loop, as the system
    clock's would (a room woken by `advance` acts on the deadline that woke it).
    """

    def __init__(self, start: float | None = None) -> None:
        self._now = time.time() if start is None else start
        self._timers: list[tuple[float, int, _ManualTimer]] = []
        self._order = itertools.count()

    def now(self) -> float:
        return self._now

    def call_at(self, when: float, callback: Callable[[], object]) -> Timer:
        if when <= self._now:
            try:
                return asyncio.get_running_loop().call_soon(callback)
            except RuntimeError:
                pass  # no loop: the next `advance` runs it
        timer = _ManualTimer(when, callback)
        heapq.heappush(self._timers, (when, next(self._order), timer))
        return timer

    @property
    def pending(self) -> list[float]:
        """When the timers still set will run, soonest first."""
        return sorted(t.when for _, _, t in self._timers if not t.cancelled)

    def advance(self, seconds: float) -> int:
        """Move the time on by `seconds`, running each timer due by then at its own time
        (timers they set that fall due run too); returns how many ran."""
        if seconds < 0:
            raise ValueError("a clock does not go back")
        end = self._now + seconds
        ran = 0
        while self._timers and self._timers[0][0] <= end:
            when, _, timer = heapq.heappop(self._timers)
            if timer.cancelled:
                continue
            self._now = max(self._now, when)
            timer.callback()
            ran += 1
        self._now = end
        return ran
