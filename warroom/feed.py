"""`warroom feed`: follow a file like `tail -F`, or run a command, and stream its lines to a room.

Every line gets the next offset of its source. Lines stay in memory until the hub says they are
stored; after a dropped connection or a hub restart the unacknowledged ones are sent again and
the hub drops any it already has, so nothing is lost and nothing doubled.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections import deque
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from warroom import logtext
from warroom import protocol as p
from warroom.client import ConnectError, RoomClient
from warroom.replica import LogsAcked, Status, StatusChanged, Update

BATCH_DELAY = 0.02
BATCH_LINES = 2000
FRAME_CHARS = 200_000  # keeps a frame well under the hub's 1 MiB limit even in 4-byte UTF-8
STALL = 3.0  # seconds without an ack while lines wait: send them again
MAX_UNACKED = 200_000  # beyond this, reading pauses until the hub catches up
POLL = 0.1
STDOUT, STDERR = 0, 1


class Feeder:
    """Sends one source's lines to a room, resending what the hub has not acknowledged."""

    def __init__(self, url: str, token: str, source: str) -> None:
        self.source = source
        self.client = RoomClient(url, token, presence=False, on_update=self._on_update)
        self._queue: asyncio.Queue[tuple[str, int]] = asyncio.Queue(maxsize=10_000)
        self._unacked: deque[tuple[int, str, int]] = deque()
        self._next = -1  # unknown until the hub tells us where this source stands
        self._acked = -1
        self._synced = asyncio.Event()
        self._progress = asyncio.Event()
        self._lock = asyncio.Lock()  # one frame at a time, so offsets reach the hub in order
        self._tasks: set[asyncio.Task[None]] = set()
        self._last_progress = 0.0

    def _on_update(self, update: Update) -> None:
        if isinstance(update, LogsAcked) and update.source == self.source:
            if self._next < 0:
                self._next = update.next
                self._synced.set()
            if update.next > self._acked:
                self._acked = update.next
                self._last_progress = asyncio.get_running_loop().time()
            while self._unacked and self._unacked[0][0] < self._acked:
                self._unacked.popleft()
            self._progress.set()
        elif isinstance(update, StatusChanged) and update.status is Status.LIVE:
            # Back in after a drop or a hub restart: send everything not yet acknowledged.
            task = asyncio.get_running_loop().create_task(self._send_from(0))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def put(self, text: str, stream: int) -> None:
        """Queue one line for sending (waits while too much is unacknowledged)."""
        while len(self._unacked) >= MAX_UNACKED:
            self._progress.clear()
            await self._progress.wait()
        await self._queue.put((logtext.clean(text), stream))

    async def run(
        self,
        lines: AsyncIterator[tuple[str, int]],
        exit_status: Callable[[], int | None] | None = None,
    ) -> None:
        """Connect, learn where the source stands, stream `lines` until they end and are acked;
        then report the command's exit status, when there is one."""
        connection = asyncio.create_task(self.client.run())
        try:
            await self.client.wait_live()
            if self.client.role == "visitor":
                raise ConnectError("visitors cannot feed logs: use an engineer's token")
            await self._hello_source()
            sender = asyncio.create_task(self._send_loop())
            watchdog = asyncio.create_task(self._watchdog())
            async for text, stream in lines:
                await self.put(text, stream)
            await self._queue.join()
            while self._unacked:
                self._progress.clear()
                await self._progress.wait()
            sender.cancel()
            watchdog.cancel()
            status = exit_status() if exit_status is not None else None
            if status is not None:
                answer = await self.client.send(
                    "feed_exited", {"source": self.source, "status": status}
                )
                if not answer.ok:
                    raise ConnectError(f"could not report the exit status: {answer.reason}")
        finally:
            await self.client.close()
            with contextlib.suppress(asyncio.CancelledError):
                await connection

    async def _hello_source(self) -> None:
        # An empty frame asks the hub for this source's next offset.
        while not self._synced.is_set():
            await self.client.send_frame(p.encode(p.Logs(self.source, 0, [])))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._synced.wait(), 5)

    async def _send_loop(self) -> None:
        while True:
            batch = [await self._queue.get()]
            # Let a burst gather into one frame; a lone line waits BATCH_DELAY at most.
            await asyncio.sleep(BATCH_DELAY)
            while len(batch) < BATCH_LINES and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            for text, stream in batch:
                self._unacked.append((self._next, text, stream))
                self._next += 1
            await self._send_from(len(self._unacked) - len(batch))
            for _ in batch:
                self._queue.task_done()

    async def _watchdog(self) -> None:
        # Acks that stop coming while lines wait (a frame the hub refused as a gap, say) mean
        # the hub wants them again; it drops whatever it already has.
        loop = asyncio.get_running_loop()
        self._last_progress = loop.time()
        while True:
            await asyncio.sleep(STALL / 3)
            if self._unacked and loop.time() - self._last_progress > STALL:
                self._last_progress = loop.time()
                await self._send_from(0)

    async def _send_from(self, index: int) -> None:
        """Send the unacknowledged lines from position `index` on, in frames."""
        async with self._lock:
            pending = list(self._unacked)[index:]
            start = 0
            while start < len(pending):
                end, size = start, 0
                while end < len(pending) and end - start < BATCH_LINES and size < FRAME_CHARS:
                    size += len(pending[end][1]) + 8
                    end += 1
                chunk = pending[start:end]
                frame = p.Logs(self.source, chunk[0][0], [[t, s] for _, t, s in chunk])
                if not await self.client.send_frame(p.encode(frame)):
                    return  # not connected; everything is resent once live again
                start = end


async def follow_file(
    path: Path, from_start: bool, stop: Callable[[], bool] = lambda: False
) -> AsyncIterator[tuple[str, int]]:
    """Lines appended to `path`, surviving rotation and truncation, like `tail -F`."""
    handle = None
    inode = -1
    partial = b""
    first = True
    while not stop():
        if handle is None:
            try:
                handle = open(path, "rb")  # noqa: SIM115  (kept open across polls)
            except FileNotFoundError:
                await asyncio.sleep(POLL)
                continue
            inode = os.fstat(handle.fileno()).st_ino
            if first and not from_start:
                handle.seek(0, os.SEEK_END)
            first = False
        chunk = handle.read(1 << 16)
        if chunk:
            partial += chunk
            *complete, partial = partial.split(b"\n")
            for raw in complete:
                yield logtext.clean(raw), STDOUT
            continue
        try:
            status = os.stat(path)
        except FileNotFoundError:
            status = None
        if status is None or status.st_ino != inode:
            # Rotated away: the old file is read to its end above; now take the new one.
            handle.close()
            handle = None
            if partial:
                yield logtext.clean(partial), STDOUT
                partial = b""
            continue
        if status.st_size < handle.tell():
            handle.seek(0)  # truncated in place
            partial = b""
            continue
        await asyncio.sleep(POLL)
    if handle is not None:
        handle.close()


class CommandLines:
    """Runs a command; iterating gives its stdout (0) and stderr (1) lines; `status` at the end."""

    def __init__(self, argv: list[str]) -> None:
        self.argv = argv
        self.status: int | None = None

    async def __aiter__(self) -> AsyncIterator[tuple[str, int]]:
        proc = await asyncio.create_subprocess_exec(
            *self.argv,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            stdin=asyncio.subprocess.DEVNULL,
        )
        queue: asyncio.Queue[tuple[str, int] | None] = asyncio.Queue(maxsize=10_000)

        async def pump(stream: asyncio.StreamReader, kind: int) -> None:
            while True:
                try:
                    raw = await stream.readuntil(b"\n")
                except asyncio.IncompleteReadError as exc:
                    if exc.partial:
                        await queue.put((logtext.clean(exc.partial), kind))
                    break
                except asyncio.LimitOverrunError as exc:
                    raw = await stream.readexactly(exc.consumed)
                await queue.put((logtext.clean(raw), kind))
            await queue.put(None)

        assert proc.stdout is not None and proc.stderr is not None
        pumps = [
            asyncio.create_task(pump(proc.stdout, STDOUT)),
            asyncio.create_task(pump(proc.stderr, STDERR)),
        ]
        open_streams = 2
        while open_streams:
            item = await queue.get()
            if item is None:
                open_streams -= 1
                continue
            yield item
        await asyncio.gather(*pumps)
        self.status = await proc.wait()
