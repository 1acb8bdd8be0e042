"""What the hub allows one person in one room, over all their connections at once.

Frames share one token bucket, so forty connections of one token get no more than one, and
the bytes of commands (journaled for good) share another; over-limit frames count as strikes
that fade at half the refill rate, so a flood is cut off even when some of its frames get
through; connections are capped, and so is how often they may be opened. A visitor who
leaves is not written as gone at once: coming back within the linger (a flaky network, a
reconnect loop) reuses the connection id and writes nothing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from server.ratelimit import TokenBucket
from server.roomhost import Submission


@dataclass(slots=True)
class _Lingering:
    conn: str
    room: str
    leave: Submission
    timer: asyncio.TimerHandle


@dataclass(slots=True)
class Person:
    """One person's connections, rate and admission state in one room."""

    rate: float
    burst: float
    join_rate: float  # connections per minute, and at once
    byte_rate: float  # bytes of commands per second
    byte_burst: float
    slots: int = 0  # connections admitted and not yet ended, joined or still joining
    bucket: TokenBucket = field(init=False)
    volume: TokenBucket = field(init=False)  # bytes, for commands
    joins: TokenBucket = field(init=False)
    strikes: float = 0.0
    _struck_at: float = 0.0
    _seen: float = field(default_factory=time.monotonic)
    _lingering: list[_Lingering] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.bucket = TokenBucket(self.rate, self.burst)
        self.volume = TokenBucket(self.byte_rate, self.byte_burst)
        self.joins = TokenBucket(self.join_rate / 60.0, self.join_rate)

    def admit(self, now: float, max_conns: int) -> str:
        """Why a new connection is refused, or "" when it may come in."""
        self._seen = time.monotonic()
        if self.slots >= max_conns:
            return f"{max_conns} connections are open for this person already; close one first"
        if not self.joins.take(self._seen):
            return "connecting too often; wait a few seconds before trying again"
        self.slots += 1  # taken now, not once joined: hellos racing a slow room open count
        return ""

    def vacate(self) -> None:
        """A connection `admit` let in has ended."""
        self.slots -= 1

    def strike(self, now: float) -> bool:
        """Count an over-limit frame at monotonic `now`; True when it is a flood to cut off."""
        self.strikes = max(0.0, self.strikes - (now - self._struck_at) * self.rate / 2) + 1
        self._struck_at = now
        return self.strikes > self.burst

    def linger(
        self, conn: str, room: str, leave: Submission, delay: float, gone: Callable[[], None]
    ) -> None:
        """Hold `leave` for `delay` seconds, then call `gone` unless the person came back."""

        def fire() -> None:
            self._lingering = [entry for entry in self._lingering if entry.conn != conn]
            gone()

        timer = asyncio.get_running_loop().call_later(delay, fire)
        self._lingering.append(_Lingering(conn, room, leave, timer))

    def take_back(self) -> str | None:
        """The id of a connection that left within the linger, now taken back (its leave is
        never written); or None."""
        if not self._lingering:
            return None
        entry = self._lingering.pop(0)
        entry.timer.cancel()
        return entry.conn

    def release_lingering(self) -> list[tuple[str, Submission]]:
        """Every held leave, as (room, leave), to write now (the hub is stopping)."""
        held = [(e.room, e.leave) for e in self._lingering]
        for entry in self._lingering:
            entry.timer.cancel()
        self._lingering = []
        return held

    def forgettable(self, now: float) -> bool:
        """Nothing open, nothing held, and long enough gone that its limits have refilled."""
        refill = max(self.burst / self.rate, 60.0)
        return not self.slots and not self._lingering and now - self._seen > refill
