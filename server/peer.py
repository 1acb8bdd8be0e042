"""One connected client's send side, bounded by bytes.

Server-to-client websocket frames are unmasked and we use no extensions, so one serialized
frame serves every client; fan-out writes those bytes straight to each transport while the
client keeps up. A client whose socket backs up gets a queue drained by a writer task, and a
client whose queue passes its byte budget is cut off at once (the transport aborted, no close
handshake to wait on) to resume later.

A joining client's catch-up (snapshot, missed events, log backlog) is not queued: the writer
pulls it from an iterator as the socket drains, so a big room loads at the client's pace
without the hub holding it as queued frames, and live frames queue behind it in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame, Opcode
from websockets.protocol import State

from warroom.core import Actor
from warroom.protocol import Close, close_reason

log = logging.getLogger("warroom.hub")

# Bytes buffered in a transport before a client counts as backed up and gets the queue.
HIGH_WATER = 64 * 1024
CLOSE_WAIT = 2.0  # seconds a closing peer gets to take its close frame


def wire_frame(payload: bytes) -> bytes:
    """`payload` as a complete binary websocket frame from the hub."""
    return Frame(Opcode.BINARY, payload).serialize(mask=False)


class Peer:
    """Frames pushed here arrive in order; a peer more than `budget` bytes behind is cut off."""

    def __init__(
        self,
        ws: ServerConnection,
        actor: Actor,
        budget: int,
        logs: bool = False,
    ) -> None:
        self.ws = ws
        self.actor = actor
        self.budget = budget
        self.logs = logs  # whether this client wants the log stream
        self.log_from: int | None = None  # the last log line it has, when resuming
        self.why = ""  # why the hub ended the connection, when it did
        self.catching_up = False  # its catch-up has not reached the live log stream yet
        self._queue: deque[bytes] = deque()  # serialized websocket frames
        self._queued = 0  # bytes in the queue
        self._catch_up: AsyncIterator[bytes] | None = None
        self._wake = asyncio.Event()
        self._dropped = False
        self._busy = False  # the writer holds a frame not yet handed to the socket
        self._writer = asyncio.create_task(self._write(), name=f"peer-writer-{actor.conn}")

    @property
    def alive(self) -> bool:
        return not self._dropped

    @property
    def queued(self) -> int:
        """Bytes waiting for this peer: its queue and its transport's buffer."""
        transport = self.ws.transport
        return self._queued + (0 if transport.is_closing() else transport.get_write_buffer_size())

    def catch_up(self, frames: AsyncIterator[bytes]) -> None:
        """Send `frames` (payloads, in order) before anything pushed from now on."""
        self._catch_up = frames
        self._wake.set()

    def push(self, payload: bytes, wire: bytes | None = None) -> bool:
        """Send `payload` (its serialized frame `wire` if the caller has it); False if dropped."""
        if self._dropped:
            return False
        frame = wire if wire is not None else wire_frame(payload)
        transport = self.ws.transport
        if (
            not self._busy
            and not self._queue
            and self._catch_up is None
            and self.ws.protocol.state is State.OPEN
            and transport.get_write_buffer_size() < HIGH_WATER
        ):
            transport.write(frame)
            return True
        queued = self.queued
        if queued and queued + len(frame) > self.budget:
            self.cut(
                Close.TOO_SLOW,
                f"{(queued + len(frame)) / 2**20:.1f} MiB waiting, over its"
                f" {self.budget / 2**20:.1f} MiB budget",
            )
            return False
        self._queue.append(frame)
        self._queued += len(frame)
        self._wake.set()
        return True

    def drop(self, code: Close, reason: str, notice: bytes | None = None) -> None:
        """Close the connection with `code`, discarding whatever is still queued; `notice` (an
        `error` frame saying why, in full) goes out first, ahead of what was queued."""
        if self._dropped:
            return
        self._stop(f"{int(code)} {reason}")
        if notice is not None and self.ws.protocol.state is State.OPEN:
            # Only whole frames are ever in the transport, so this one cannot split another.
            self.ws.transport.write(wire_frame(notice))
        asyncio.create_task(self._close(code, reason))

    def cut(self, code: Close, why: str) -> None:
        """End the connection at once, without a close handshake: for a peer that does not
        read, whose close frame would only wait behind everything it has not taken."""
        if self._dropped:
            return
        self._stop(f"{int(code)} {why}")
        log.warning("cut off %s (connection %s): %s", self.actor.name, self.actor.conn, why)
        self.ws.transport.abort()

    async def finish(self) -> None:
        """Stop the writer once the connection is gone."""
        self._stop(self.why or "closed")
        with contextlib.suppress(asyncio.CancelledError):
            await self._writer

    def _stop(self, why: str) -> None:
        self._dropped = True
        self.why = self.why or why
        self._queue.clear()
        self._queued = 0
        self._writer.cancel()
        frames, self._catch_up = self._catch_up, None
        if frames is not None:
            # Let the catch-up release what it holds (a snapshot, a journal cursor) now.
            asyncio.create_task(_close_iterator(frames))

    async def _close(self, code: Close, reason: str) -> None:
        # A close waits for the socket to drain first; a peer that never reads would hold it
        # (and its buffers) forever, so the wait is bounded and then the transport aborted.
        try:
            async with asyncio.timeout(CLOSE_WAIT):
                await self.ws.close(int(code), close_reason(reason))
        except TimeoutError:
            self.ws.transport.abort()
        except (ConnectionClosed, OSError):
            pass

    async def _send(self, frame: bytes) -> None:
        ws = self.ws
        if self._dropped or ws.protocol.state is not State.OPEN:
            raise ConnectionClosed(None, None)
        ws.transport.write(frame)
        await ws.drain()  # waits only while the transport is over its high-water mark

    async def _write(self) -> None:
        with contextlib.suppress(ConnectionClosed, OSError):
            while True:
                await self._wake.wait()
                self._wake.clear()
                self._busy = True
                if self._catch_up is not None:
                    async for payload in self._catch_up:
                        await self._send(wire_frame(payload))
                    self._catch_up = None
                while self._queue:
                    frame = self._queue.popleft()
                    self._queued -= len(frame)
                    await self._send(frame)
                self._busy = False


async def _close_iterator(frames: AsyncIterator[bytes]) -> None:
    aclose = getattr(frames, "aclose", None)
    if aclose is not None:
        with contextlib.suppress(Exception):
            await aclose()
