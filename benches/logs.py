"""Log stream: lines/s from feeders to every connected client, and how long each line takes.

One or two feeders send `logs` frames on bare connections (presence off, no log stream of
their own), as `warroom feed` does but without its batching delay. C clients join the room with
presence on, which asks for the log stream by default, spread over worker processes so the load
generator is not one busy event loop. Every line carries its feeder, its index and a time stamp
(CLOCK_MONOTONIC, shared by every process on the machine) at the end of its text.

Two ways of feeding:

- as fast as the hub acknowledges: each feeder keeps up to `window` lines unacknowledged, in
  frames of `batch` lines, for a fixed time. A line is stamped when its frame is sent.
- at a fixed offered rate: a frame every `TICK` with the lines that have fallen due, each
  stamped with its own due time, so a feeder held back by a full window shows up as latency.

Each client stamps a `loglines` frame as soon as it is read. A line's latency is the latest of
the C arrivals minus its stamp ("last"; the earliest is "first"). The delivered rate is the
lines fed divided by the time from the first send until the last client had the last line.
Every client must get every line exactly once and in order; a missing or repeated line fails
the case.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing as mp
import time
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import msgpack
from websockets.asyncio.client import ClientConnection

from benches.common import BenchHub, Listener, cpu_seconds, is_events, join, percentile, running_hub
from warroom import protocol as p

ROOM = "bench-logs"
CONNECT_AT_ONCE = 25  # joins in flight per worker while the room fills
TICK = 0.005  # how often a fixed-rate feeder sends the lines that have fallen due
# What a line looks like before its mark: a plausible access-log line of about 100 characters.
TEXT = "2026-11-22T05:30:27.123Z INFO checkout-api-7f9c4 GET /api/v2/cart 200 in 12 ms user=4411 #"
# Every `loglines` frame starts with a map header and then "t": "loglines" (see is_events).
LOGLINES_PREFIX = msgpack.packb("t") + msgpack.packb("loglines")
TAIL = 48  # bytes at a frame's end that identify it: they hold its last line's unique mark


@dataclass(frozen=True, slots=True)
class LogsResult:
    feeders: int
    clients: int
    workers: int
    rate: float | None  # offered lines/s, None when fed as fast as the hub acknowledges
    lines: int  # lines fed, all feeders together
    seconds: float  # from the first send until the last client had the last line
    per_second: float  # lines delivered to every client per second
    p50_ms: float  # to the last client
    p99_ms: float
    max_ms: float
    first_p50_ms: float  # to the first client
    missing: int  # deliveries that never arrived (should be 0)
    repeated: int  # deliveries that came twice or out of order (should be 0)
    setup_s: float
    hub_cpu: float  # cores the hub process used while the lines were fed
    client_cpu: float  # cores the feeders' and the clients' processes used meanwhile


def is_loglines(data: bytes | str) -> bool:
    """True when `data` is (almost certainly) a `loglines` frame."""
    return isinstance(data, bytes) and data[1 : 1 + len(LOGLINES_PREFIX)] == LOGLINES_PREFIX


# --- a client worker process -----------------------------------------------------------------


def _clients_main(url: str, tokens: Sequence[str], pipe: Connection) -> None:
    """Entry point of a worker process holding some of the clients."""
    try:
        asyncio.run(_clients(url, tokens, pipe))
    except Exception as exc:  # tell the coordinator rather than leave it waiting
        with contextlib.suppress(OSError):
            pipe.send(("error", f"{type(exc).__name__}: {exc}"))


@dataclass(slots=True)
class _Batch:
    """One distinct `loglines` frame as this process saw it, across all of its clients."""

    marks: list[tuple[int, int, int]]  # (feeder, index, stamp ns) of every line
    first: int  # lseq of its first line
    last: int  # lseq of its last line
    earliest: int = 1 << 62  # arrival at the first client to read it, ns
    latest: int = 0  # arrival at the last client to read it, ns
    count: int = 0  # clients that read it


@dataclass(slots=True)
class _Collector:
    """What one worker's clients saw. Every client gets the same frames, so each distinct
    frame is decoded once; per client only its line count and last lseq are kept."""

    clients: int
    batches: dict[tuple[int, bytes], _Batch] = field(default_factory=dict)
    got: list[int] = field(default_factory=list)  # lines per client
    last: list[int] = field(default_factory=list)  # last lseq per client
    repeated: int = 0  # lines a client had already seen, by lseq
    target: int | None = None
    behind: int = 0
    finished: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.got = [0] * self.clients
        self.last = [0] * self.clients
        self.behind = self.clients

    def on_frame(self, client: Listener, data: bytes, arrived: int) -> None:
        if not is_loglines(data):
            return
        # The frame's last bytes are its last line's mark, unique per line: a cheap key where
        # hashing the whole frame would cost ~35 us per 100 kB for every client.
        key = (len(data), data[-TAIL:])
        batch = self.batches.get(key)
        if batch is None:
            batch = self.batches[key] = _decode(data)
        slot = client.slot
        if batch.first <= self.last[slot]:
            self.repeated += min(batch.last, self.last[slot]) - batch.first + 1
        self.last[slot] = max(self.last[slot], batch.last)
        before = self.got[slot]
        self.got[slot] = now = before + len(batch.marks)
        batch.count += 1
        batch.latest = max(batch.latest, arrived)
        batch.earliest = min(batch.earliest, arrived)
        if self.target is not None and before < self.target <= now:
            self._one_more_done()

    def expect(self, target: int) -> None:
        """Every client should end with `target` lines: finish once they all have them."""
        self.target = target
        self.behind = sum(1 for got in self.got if got < target) + 1
        self._one_more_done()

    def _one_more_done(self) -> None:
        self.behind -= 1
        if self.behind == 0:
            self.finished.set()

    def report(self, fed: Sequence[int]) -> dict[str, Any]:
        """Per feeder and line: latest and earliest latency (ns, -1 if never seen) and how
        many of these clients got it."""
        worst = [array("q", [-1]) * n for n in fed]
        first = [array("q", [-1]) * n for n in fed]
        seen = [array("l", [0]) * n for n in fed]
        stray = 0
        latest = 0
        for batch in self.batches.values():
            latest = max(latest, batch.latest)
            for feeder, index, stamp in batch.marks:
                if feeder >= len(fed) or index >= fed[feeder]:
                    stray += batch.count
                    continue
                worst[feeder][index] = max(worst[feeder][index], batch.latest - stamp)
                early = batch.earliest - stamp
                if first[feeder][index] < 0 or early < first[feeder][index]:
                    first[feeder][index] = early
                seen[feeder][index] += batch.count
        return {
            "worst": worst,
            "first": first,
            "seen": seen,
            "latest": latest,
            "repeated": self.repeated,
            "stray": stray,
        }


def _decode(data: bytes) -> _Batch:
    # msgpack directly rather than protocol.decode_hub: its per-line checks would cost the load
    # generator more than the hub spends on some of these lines.
    body = msgpack.unpackb(data, raw=False, use_list=True)
    lines = body["lines"]
    if not lines or not data.endswith(lines[-1][5].encode()):
        raise RuntimeError("a loglines frame does not end with its last line; make the key longer")
    marks = []
    for line in lines:
        feeder, index, stamp = line[5][line[5].rindex("#") + 1 :].split(":")
        marks.append((int(feeder), int(index), int(stamp)))
    return _Batch(marks, lines[0][0], lines[-1][0])


async def _clients(url: str, tokens: Sequence[str], pipe: Connection) -> None:
    collector = _Collector(len(tokens))
    gate = asyncio.Semaphore(CONNECT_AT_ONCE)

    async def open_one(slot: int, token: str) -> Listener:
        async with gate:
            return await Listener.open(url, token, ROOM, collector.on_frame, slot=slot)

    clients = await asyncio.gather(*(open_one(i, t) for i, t in enumerate(tokens)))
    try:
        pipe.send("ready")
        message = await asyncio.to_thread(pipe.recv)  # ("expect", [lines fed per feeder])
        fed = list(message[1])
        collector.expect(sum(fed))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(collector.finished.wait(), timeout=20)
        pipe.send(collector.report(fed))
    finally:
        for client in clients:
            client.abort()


# --- the coordinator and the feeders ---------------------------------------------------------


@dataclass(slots=True)
class _Feed:
    """One feeder connection: its source, where it started, and how far it has got."""

    number: int
    ws: ClientConnection
    source: str
    base: int  # the source's next offset when the run began
    sent: int = 0  # lines sent in this run
    acked: int = 0  # lines acknowledged in this run
    progress: asyncio.Event = field(default_factory=asyncio.Event)
    started_ns: int = 0  # when its first frame was sent
    failure: str | None = None  # why acks stopped coming, once they have

    async def frame(self, stamps: Sequence[int]) -> None:
        """Send the next len(stamps) lines, the i-th stamped stamps[i]."""
        start = self.sent
        tag = f"{self.number}:"
        lines = [[f"{TEXT}{tag}{start + i}:{stamp}", 0] for i, stamp in enumerate(stamps)]
        if not self.started_ns:
            self.started_ns = time.monotonic_ns()
        await self.ws.send(p.encode(p.Logs(self.source, self.base + start, lines)))
        self.sent += len(lines)

    async def room_for(self, lines: int, window: int) -> None:
        """Wait until `lines` more fit in the window of unacknowledged lines."""
        while self.sent - self.acked + lines > window:
            await self._progress()

    async def receive(self) -> None:
        """Take acks until the connection closes; then make the feeding stop too."""
        try:
            async for data in self.ws:
                if is_events(data) or is_loglines(data):
                    continue
                frame = p.decode_hub(data)
                if isinstance(frame, p.Error):
                    self.failure = f"the hub refused a logs frame: {frame.message}"
                    return
                if isinstance(frame, p.LogsAck) and frame.source == self.source:
                    self.acked = max(self.acked, frame.next - self.base)
                    self.progress.set()
            self.failure = "the hub closed the feeder's connection"
        except Exception as exc:
            self.failure = f"{type(exc).__name__}: {exc}"
        finally:
            self.progress.set()

    async def drained(self) -> None:
        """Wait until every line sent is acknowledged."""
        while self.acked < self.sent:
            await self._progress()

    async def _progress(self) -> None:
        if self.failure is not None:
            raise RuntimeError(f"feeder {self.number}: {self.failure}")
        self.progress.clear()
        await asyncio.wait_for(self.progress.wait(), timeout=15)


async def _open_feed(hub: BenchHub, number: int) -> tuple[_Feed, asyncio.Task[None]]:
    source = f"bench/feeder-{number}"
    ws, _ = await join(hub.url(ROOM), hub.token(ROOM, f"feeder-{number}"), ROOM, presence=False)
    # An empty frame asks where the source stands.
    await ws.send(p.encode(p.Logs(source, 0, [])))
    while True:
        data = await asyncio.wait_for(ws.recv(), timeout=10)
        if is_events(data):
            continue
        frame = p.decode_hub(data)
        if isinstance(frame, p.LogsAck) and frame.source == source:
            break
    feed = _Feed(number, ws, source, frame.next)
    return feed, asyncio.create_task(feed.receive())


async def _feed_fast(feed: _Feed, stop: float, batch: int, window: int) -> None:
    """Keep up to `window` lines unacknowledged, in frames of `batch`, until `stop`."""
    while time.monotonic() < stop:
        await feed.room_for(batch, window)
        await feed.frame([time.monotonic_ns()] * batch)
    await feed.drained()


async def _feed_rate(feed: _Feed, rate: float, seconds: float, window: int) -> None:
    """Offer `rate` lines/s for `seconds`: every TICK, the lines that have fallen due."""
    total = int(rate * seconds)
    start = time.monotonic_ns() + 20_000_000
    step = 1e9 / rate
    while feed.sent < total:
        due = min(total, int((time.monotonic_ns() - start) / step) + 1)
        count = min(due - feed.sent, p.MAX_LINES_PER_FRAME)
        if count > 0:
            await feed.room_for(count, window)
            await feed.frame([start + int((feed.sent + i) * step) for i in range(count)])
        await asyncio.sleep(TICK)
    await feed.drained()


async def _message(pipe: Connection, proc: Any, timeout: float, what: str) -> Any:
    """The worker's next message; fails early when the worker dies instead of waiting."""
    deadline = time.monotonic() + timeout
    while not await asyncio.to_thread(pipe.poll, 0.5):
        if not proc.is_alive():
            raise RuntimeError(f"a client worker died before its {what} (exit {proc.exitcode})")
        if time.monotonic() > deadline:
            raise RuntimeError(f"a client worker sent no {what} within {timeout:g} s")
    return pipe.recv()


async def _run(
    hub: BenchHub,
    feeders: int,
    clients: int,
    workers: int,
    rate: float | None,
    seconds: float,
    batch: int,
    window: int,
) -> LogsResult:
    began = time.monotonic()
    url = hub.url(ROOM)
    tokens = [hub.token(ROOM, f"viewer-{i}") for i in range(clients)]
    workers = max(1, min(workers, clients))
    ctx = mp.get_context("spawn")
    pipes: list[Connection] = []
    procs: list[Any] = []
    feeds: list[_Feed] = []
    readers: list[asyncio.Task[None]] = []
    try:
        for w in range(workers):
            ours, theirs = ctx.Pipe()
            proc = ctx.Process(
                target=_clients_main, args=(url, tokens[w::workers], theirs), daemon=True
            )
            proc.start()
            pipes.append(ours)
            procs.append(proc)
        for pipe, proc in zip(pipes, procs, strict=True):
            message = await _message(pipe, proc, 120, "join")
            if message != "ready":
                raise RuntimeError(f"a client worker failed: {message}")
        for number in range(feeders):
            feed, reader = await _open_feed(hub, number)
            feeds.append(feed)
            readers.append(reader)
        setup = time.monotonic() - began
        await asyncio.sleep(0.3)  # let the last joins' events drain
        pids = [proc.pid for proc in procs]
        cpu_before = [cpu_seconds(hub.pid), *(cpu_seconds(pid) for pid in pids)]
        own_before, wall_before = time.process_time(), time.monotonic()
        if rate is None:
            stop = time.monotonic() + seconds
            work = [_feed_fast(feed, stop, batch, window) for feed in feeds]
        else:
            work = [_feed_rate(feed, rate / feeders, seconds, window) for feed in feeds]
        await asyncio.gather(*work)
        wall = time.monotonic() - wall_before
        cpu_after = [cpu_seconds(hub.pid), *(cpu_seconds(pid) for pid in pids)]
        hub_cpu = (cpu_after[0] - cpu_before[0]) / wall
        client_cpu = (
            sum(cpu_after[1:]) - sum(cpu_before[1:]) + time.process_time() - own_before
        ) / wall
        fed = [feed.sent for feed in feeds]
        for pipe in pipes:
            pipe.send(("expect", fed))
        reports = []
        for pipe, proc in zip(pipes, procs, strict=True):
            message = await _message(pipe, proc, 40, "report")
            if isinstance(message, tuple) and message[0] == "error":
                raise RuntimeError(f"a client worker failed: {message[1]}")
            reports.append(message)
    finally:
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*(feed.ws.close() for feed in feeds), return_exceptions=True)
        for proc in procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
                proc.join()
    worst: list[int] = []
    first: list[int] = []
    missing = 0
    repeated = sum(r["repeated"] + r["stray"] for r in reports)
    for number in range(feeders):
        seen = zip(*(r["seen"][number] for r in reports), strict=True)
        lasts = zip(*(r["worst"][number] for r in reports), strict=True)
        firsts = zip(*(r["first"][number] for r in reports), strict=True)
        for counts, latest, earliest in zip(seen, lasts, firsts, strict=True):
            got = sum(counts)
            if got == clients:
                worst.append(max(latest))
                first.append(min(earliest))
            else:
                missing += max(0, clients - got)
                repeated += max(0, got - clients)
    worst.sort()
    first.sort()
    started = min(feed.started_ns for feed in feeds)
    took = (max(r["latest"] for r in reports) - started) / 1e9
    lines = sum(fed)
    return LogsResult(
        feeders=feeders,
        clients=clients,
        workers=workers,
        rate=rate,
        lines=lines,
        seconds=took,
        per_second=lines / took if took > 0 else float("nan"),
        p50_ms=percentile(worst, 50) / 1e6,
        p99_ms=percentile(worst, 99) / 1e6,
        max_ms=worst[-1] / 1e6 if worst else float("nan"),
        first_p50_ms=percentile(first, 50) / 1e6,
        missing=missing,
        repeated=repeated,
        setup_s=setup,
        hub_cpu=hub_cpu,
        client_cpu=client_cpu,
    )


def run(
    feeders: int,
    clients: int,
    workers: int,
    rate: float | None = None,
    seconds: float = 4.0,
    batch: int = 500,
    window: int = 10_000,
) -> LogsResult:
    """Measure against a fresh hub child process: as fast as acknowledged (rate None) or at
    `rate` lines/s offered, split over `feeders`."""
    with running_hub() as hub:
        return asyncio.run(_run(hub, feeders, clients, workers, rate, seconds, batch, window))


if __name__ == "__main__":
    import sys

    args = sys.argv[1:]
    print(run(1, int(args[0]) if args else 10, 1, float(args[1]) if len(args) > 1 else None))
