"""One room's blocking calls run one at a time, in order, and a caller that leaves is told so."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from server.roomio import SerialIO


async def test_calls_of_one_room_never_overlap_and_keep_their_order() -> None:
    with ThreadPoolExecutor(4) as pool:
        io = SerialIO(pool)
        inside, seen = threading.Lock(), []

        def call(i: int) -> int:
            assert inside.acquire(blocking=False), "two calls of one room at once"
            time.sleep(0.005)
            seen.append(i)
            inside.release()
            return i

        assert await asyncio.gather(*(io.run(call, i) for i in range(20))) == list(range(20))
        assert seen == list(range(20))


async def test_a_cancelled_caller_gets_cancelled_even_when_the_call_then_fails() -> None:
    with ThreadPoolExecutor(2) as pool:
        io = SerialIO(pool)
        started, release = threading.Event(), threading.Event()

        def failing() -> None:
            started.set()
            release.wait(5)
            raise OSError("the disk went away")

        task = asyncio.create_task(io.run(failing))
        await asyncio.to_thread(started.wait, 5)
        task.cancel()
        await asyncio.sleep(0.01)
        release.set()
        with pytest.raises(asyncio.CancelledError):
            await task
        # The room's turn was held until the call ended, and is free again.
        assert await asyncio.wait_for(io.run(lambda: 7), 5) == 7
