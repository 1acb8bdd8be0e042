"""Blocking journal work for many rooms on one bounded pool of threads.

A room's SQLite connection must be used by one thread at a time, and its writes must keep
their order, so each room runs its calls one after another; different rooms share the pool.
A hub serving ten thousand rooms over its life thus holds `threads` threads, not one a room.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


class SerialIO:
    """One room's queue of blocking calls, run in order on the shared pool."""

    def __init__(self, pool: ThreadPoolExecutor) -> None:
        self._pool = pool
        self._lock = asyncio.Lock()

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        """Run `fn(*args)` on the pool after every call submitted before it has finished."""
        async with self._lock:
            future = asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)
            cancelled = False
            while not future.done():
                try:
                    await asyncio.wait({future})
                except asyncio.CancelledError:
                    # The call goes on in its thread: hold the room's turn until it ends, or
                    # the next call would share the connection with it.
                    cancelled = True
            if cancelled:
                raise asyncio.CancelledError  # whatever the call's outcome: the caller left
            return future.result()
