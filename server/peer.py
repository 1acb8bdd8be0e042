"""One connected client's send side: a bounded queue of encoded frames and its writer task."""

from __future__ import annotations

import asyncio
import contextlib

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from warroom.core import Actor
from warroom.protocol import Close


class Peer:
    """Frames pushed here are sent in order; a peer that falls `limit` frames behind is dropped."""

    def __init__(self, ws: ServerConnection, actor: Actor, limit: int) -> None:
        self.ws = ws
        self.actor = actor
        self._queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=limit)
        self._dropped = False
        self._writer = asyncio.create_task(self._write(), name=f"peer-writer-{actor.conn}")

    @property
    def alive(self) -> bool:
        return not self._dropped

    def push(self, frame: bytes) -> bool:
        """Queue `frame`; False (and the peer is being dropped) when it is too far behind."""
        if self._dropped:
            return False
        try:
            self._queue.put_nowait(frame)
        except asyncio.QueueFull:
            self.drop(Close.TOO_SLOW, "too far behind; resume to catch up")
            return False
        return True

    def drop(self, code: Close, reason: str) -> None:
        """Close the connection with `code`, discarding whatever is still queued."""
        if self._dropped:
            return
        self._dropped = True
        self._writer.cancel()
        asyncio.create_task(self._close(code, reason))

    async def finish(self) -> None:
        """Stop the writer once the connection is gone."""
        self._dropped = True
        self._writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._writer

    async def _close(self, code: Close, reason: str) -> None:
        with contextlib.suppress(ConnectionClosed, OSError):
            await self.ws.close(int(code), reason)

    async def _write(self) -> None:
        queue, ws = self._queue, self.ws
        with contextlib.suppress(ConnectionClosed, OSError):
            while True:
                frame = await queue.get()
                await ws.send(frame)
