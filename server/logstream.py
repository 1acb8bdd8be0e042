"""A room's live log stream: feeders' lines batched per frame, stored, fanned out, acknowledged.

Lines are held at most `FLUSH_DELAY` before one transaction stores them; only then are they
sent to clients and acknowledged to feeders, so an acknowledged line survives a crash.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from server.logstore import LogRow, LogStore
from server.peer import Peer, wire_frame
from server.spikes import SpikeDetector
from warroom import logtext
from warroom import protocol as p

log = logging.getLogger("warroom.hub")

FLUSH_DELAY = 0.025
BACKLOG_ON_JOIN = 5000  # lines a joining client gets at once
LINES_PER_FRAME = 2000


class LogStream:
    """Owns one room's log buffer and backlog; runs on the event loop, stores on `io`."""

    def __init__(
        self,
        store: LogStore,
        io: Executor,
        epoch: str,
        peers: Callable[[], set[Peer]],
        alert: Callable[[str, str], None],
        clock: Callable[[], float],
        thresholds: Callable[[], tuple[float, int]],
    ) -> None:
        self.store = store
        self._io = io
        self._epoch = epoch
        self._peers = peers
        self._alert = alert
        self._clock = clock
        self._thresholds = thresholds
        self.head = store.head()
        self._durable = store.sources()  # next offset per source, as stored
        self._next = dict(self._durable)  # next offset per source, including the buffer
        self._buffer: list[LogRow] = []
        self._ackers: dict[str, set[Peer]] = {}
        self._flushing: asyncio.Task[None] | None = None
        self.detector = SpikeDetector()

    def receive(self, peer: Peer, frame: p.Logs) -> None:
        """Take a feeder's frame: drop what is already held, buffer the rest."""
        nxt = self._next.get(frame.source, 0)
        if frame.offset > nxt:
            # A gap: lines before this frame never arrived. Store nothing, say where we are;
            # the feeder resends from there.
            peer.push(p.encode(p.LogsAck(frame.source, self._durable.get(frame.source, 0))))
            return
        skip = nxt - frame.offset
        now = self._clock()
        for text, stream in frame.lines[skip:]:
            clean = logtext.clean(text)
            self.head += 1
            self._buffer.append(
                (self.head, now, frame.source, stream, logtext.level(clean, stream), clean)
            )
        end = frame.offset + len(frame.lines)
        if end > nxt:
            self._next[frame.source] = end
        self._ackers.setdefault(frame.source, set()).add(peer)
        if self._flushing is None:
            self._flushing = asyncio.create_task(self._flush_soon())

    async def _flush_soon(self) -> None:
        ackers: dict[str, set[Peer]] = {}
        try:
            await asyncio.sleep(FLUSH_DELAY)
            while True:
                rows, self._buffer = self._buffer, []
                ackers, self._ackers = self._ackers, {}
                self.detector.factor, self.detector.floor = self._thresholds()
                nexts = dict(self._next)
                await asyncio.get_running_loop().run_in_executor(
                    self._io, self.store.append, rows, nexts
                )
                self._durable = nexts
                self._publish(rows, ackers)
                if not self._buffer and not self._ackers:
                    return
        except Exception:
            log.exception("log flush failed; its feeders are dropped to resend")
            # Forget what was not stored, and make its feeders reconnect and resend it.
            self._next = dict(self._durable)
            self._buffer = []
            # Lines that arrived during the failed write are dropped too; so are their feeders.
            for peers in (*ackers.values(), *self._ackers.values()):
                for peer in peers:
                    peer.drop(p.Close.INTERNAL, "the hub could not store your lines; resend")
            self._ackers = {}
        finally:
            self._flushing = None

    def _publish(self, rows: list[LogRow], ackers: dict[str, set[Peer]]) -> None:
        for i in range(0, len(rows), LINES_PER_FRAME):
            payload = p.encode_loglines(self._epoch, rows[i : i + LINES_PER_FRAME])
            ws = wire_frame(payload)
            for peer in list(self._peers()):
                if peer.logs:
                    peer.push(payload, ws)
        for source, peers in ackers.items():
            ack = p.encode(p.LogsAck(source, self._durable.get(source, 0)))
            for peer in peers:
                peer.push(ack)
        errors: dict[str, int] = {}
        for row in rows:
            errors[row[2]] = errors.get(row[2], 0) + (row[4] == logtext.ERROR)
        now = self._clock()
        for source, count in errors.items():
            text = self.detector.observe(source, now, count)
            if text:
                self._alert(source, text)

    async def backlog(self, after: int | None) -> list[list[Any]]:
        """Lines a (re)joining client needs: those after `after`, or the recent backlog."""
        start = 0 if after is None or after > self.head else after
        return await asyncio.get_running_loop().run_in_executor(
            self._io, self.store.after, start, BACKLOG_ON_JOIN
        )
