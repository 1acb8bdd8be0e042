"""A room's live log stream: feeders' lines batched per frame, stored, fanned out, acknowledged.

Lines are held at most `FLUSH_DELAY` before one transaction stores them; only then are they
sent to clients and acknowledged to feeders, so an acknowledged line survives a crash.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any

from server.logstore import LogRow, LogStore
from server.peer import Peer, wire_frame
from server.roomio import SerialIO
from server.spikes import SpikeDetector
from warroom import logtext
from warroom import protocol as p

log = logging.getLogger("warroom.hub")

FLUSH_DELAY = 0.025
BACKLOG_ON_JOIN = 5000  # lines a joining client gets at once
LINES_PER_FRAME = 2000  # in a live frame
BACKLOG_PER_FRAME = 1000  # in a backlog frame
FRAME_BYTES = 512 << 10  # of line text per frame, counted in characters (a bound, not a size)


class LogStream:
    """Owns one room's log buffer and backlog; runs on the event loop, stores on `io`."""

    def __init__(
        self,
        store: LogStore,
        io: SerialIO,
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
        self.head = store.head()  # the last lseq given out, buffered or stored
        self.published = self.head  # the last lseq sent to clients
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
                await self._io.run(self.store.append, rows, nexts)
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

    @property
    def idle(self) -> bool:
        """Nothing buffered and no write under way."""
        return self._flushing is None and not self._buffer

    async def flushed(self) -> None:
        """Wait for the write under way, if any."""
        task = self._flushing
        if task is not None:
            await asyncio.wait([task])

    def _publish(self, rows: list[LogRow], ackers: dict[str, set[Peer]]) -> None:
        if rows:
            self.published = rows[-1][0]
        for run in _runs(rows, LINES_PER_FRAME):
            payload = p.encode_loglines(self._epoch, run)
            ws = wire_frame(payload)
            for peer in list(self._peers()):
                # One still catching up reads these lines from the backlog when it is done.
                if peer.logs and not peer.catching_up:
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

    def backlog_start(self, after: int | None) -> int:
        """Where a (re)joining client's backlog starts: after `after`, or from the start when
        it has nothing here (or names a line this room never gave out)."""
        return 0 if after is None or after > self.published else after

    async def backlog_frames(self, after: int, upto: int) -> list[bytes]:
        """`loglines` frames of the most recent lines in (`after`, `upto`], oldest first."""
        lines = await self._io.run(self.store.after, after, upto, BACKLOG_ON_JOIN)
        return [p.encode_loglines(self._epoch, run) for run in _runs(lines, BACKLOG_PER_FRAME)]


def _runs(lines: Sequence[Sequence[Any]], count: int) -> list[Sequence[Sequence[Any]]]:
    """`lines` cut into frames of at most `count` lines and about `FRAME_BYTES` of text."""
    out: list[Sequence[Sequence[Any]]] = []
    start, size = 0, 0
    for i, line in enumerate(lines):
        cost = len(line[5]) + 48
        if i > start and (i - start >= count or size + cost > FRAME_BYTES):
            out.append(lines[start:i])
            start, size = i, 0
        size += cost
    if start < len(lines):
        out.append(lines[start:])
    return out
