"""One connected client's send side: direct writes while it keeps up, a bounded queue when not.

Server-to-client websocket frames are unmasked and we use no extensions, so one serialized
frame serves every client; fan-out writes those bytes straight to each transport. A client
whose socket backs up gets a queue and a writer task that waits for it, and a client that
falls `limit` frames behind is dropped to resume later.
"""

from __future__ import annotations

import asyncio
import contextlib

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame, Opcode
from websockets.protocol import State

from warroom.core import Actor
from warroom.protocol import Close

# Bytes buffered in a transport before a client counts as backed up and gets the queue.
HIGH_WATER = 64 * 1024


def wire_frame(payload: bytes) -> bytes:
    """`payload` as a complete binary websocket frame from the hub."""
    return Frame(Opcode.BINARY, payload).serialize(mask=False)


class Peer:
    """Frames pushed here arrive in order; a peer `limit` frames behind is dropped."""

    def __init__(self, ws: ServerConnection, actor: Actor, limit: int, logs: bool = False) -> None:
        self.ws = ws
        self.actor = actor
        self.logs = logs  # whether this client wants the log stream
        self.log_from: int | None = None  # the last log line it has, when resuming
        self._queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=limit)
        self._dropped = False
        self._busy = False  # the writer task holds a frame not yet handed to the socket
        self._writer = asyncio.create_task(self._write(), name=f"peer-writer-{actor.conn}")

    @property
    def alive(self) -> bool:
        return not self._dropped

    def push(self, payload: bytes, wire: bytes | None = None) -> bool:
        """Send `payload` (its serialized frame `wire` if the caller has it); False if dropped."""
        if self._dropped:
            return False
        ws = self.ws
        if (
            not self._busy
            and self._queue.empty()
            and ws.protocol.state is State.OPEN
            and ws.transport.get_write_buffer_size() < HIGH_WATER
        ):
            ws.transport.write(wire if wire is not None else wire_frame(payload))
            return True
        try:
            self._queue.put_nowait(payload)
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
                payload = await queue.get()
                self._busy = True
                # ws.send waits for the socket to drain: this is where a slow client waits.
                await ws.send(payload)
                self._busy = not queue.empty()
