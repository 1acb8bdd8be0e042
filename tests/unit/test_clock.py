"""The hub's clocks: the manual one runs what falls due, in order, only when advanced."""

from __future__ import annotations

import asyncio
import time

import pytest

from server.clock import Clock, ManualClock, SystemClock, as_clock


def test_a_manual_clock_stands_still_until_advanced_and_runs_timers_in_order() -> None:
    clock = ManualClock(1000.0)
    ran: list[tuple[str, float]] = []

    def note(name: str) -> None:
        ran.append((name, clock.now()))

    clock.call_at(1005.0, lambda: note("b"))
    clock.call_at(1002.0, lambda: note("a"))
    clock.call_at(1005.0, lambda: note("c"))  # same time as b: in the order set
    off = clock.call_at(1003.0, lambda: note("cancelled"))
    off.cancel()
    assert clock.now() == 1000.0 and clock.pending == [1002.0, 1005.0, 1005.0]
    assert clock.advance(1.0) == 0 and ran == []
    assert clock.advance(4.0) == 3
    assert ran == [("a", 1002.0), ("b", 1005.0), ("c", 1005.0)]  # each at its own time
    assert clock.now() == 1005.0 and clock.pending == []
    with pytest.raises(ValueError):
        clock.advance(-1)


def test_a_timer_set_by_a_timer_runs_in_the_same_advance_when_due() -> None:
    clock = ManualClock(0.0)
    ran: list[float] = []

    def first() -> None:
        ran.append(clock.now())
        clock.call_at(clock.now() + 2, lambda: ran.append(clock.now()))
        clock.call_at(clock.now() + 20, lambda: ran.append(clock.now()))

    clock.call_at(1.0, first)
    clock.advance(10)
    assert ran == [1.0, 3.0] and clock.now() == 10.0 and clock.pending == [21.0]


async def test_a_timer_already_due_runs_at_once_on_the_loop() -> None:
    clock = ManualClock(50.0)
    ran = asyncio.Event()
    clock.call_at(49.0, ran.set)
    await asyncio.wait_for(ran.wait(), 1)
    assert clock.pending == []


async def test_the_system_clock_runs_timers_on_the_loop() -> None:
    clock = SystemClock()
    ran = asyncio.Event()
    start = time.monotonic()
    clock.call_at(clock.now() + 0.05, ran.set)
    await asyncio.wait_for(ran.wait(), 2)
    assert time.monotonic() - start >= 0.04
    skipped = asyncio.Event()
    clock.call_at(clock.now() + 0.05, skipped.set).cancel()
    await asyncio.sleep(0.1)
    assert not skipped.is_set()


def test_a_now_function_becomes_a_system_clock() -> None:
    manual = ManualClock(5.0)
    assert as_clock(manual) is manual
    wrapped = as_clock(lambda: 42.0)
    assert isinstance(wrapped, SystemClock) and isinstance(wrapped, Clock)
    assert wrapped.now() == 42.0
