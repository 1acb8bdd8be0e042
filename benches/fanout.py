"""Fan-out latency: from one client's send until the last of N listeners has the event.

N listeners join one room (with presence, as people do), spread over worker processes so the
load generator is not one busy event loop. A separate sender posts notes at a steady rate, each
carrying its send time (CLOCK_MONOTONIC, shared by every process on the machine). For every
note, each listener notes when the `events` frame holding it arrived; the note's fan-out
latency is the latest of those N arrivals minus the send time. It includes the hub reading the
command, the group commit and its fsync, encoding the frame once and writing it to N sockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing as mp
import time
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from websockets.asyncio.client import ClientConnection

from benches.common import (
    BenchHub,
    Listener,
    cpu_seconds,
    is_events,
    join,
    note_frame,
    percentile,
    running_hub,
)
from warroom import protocol as p

ROOM = "bench-fanout"
MARK = "fanout "
CONNECT_AT_ONCE = 25  # joins in flight per worker while the room fills


@dataclass(frozen=True, slots=True)
class FanoutResult:
    clients: int
    workers: int
    rate: float
    notes: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    first_p50_ms: float  # the same, to the first listener to get each note
    first_p99_ms: float
    ack_p50_ms: float
    ack_p99_ms: float
    missing: int  # deliveries that never arrived (should be 0)
    setup_s: float
    hub_cpu: float  # cores the hub process used while the notes were sent
    client_cpu: float  # cores the sender and listener processes used meanwhile


# --- a listener worker process ---------------------------------------------------------------


def _listener_main(url: str, tokens: Sequence[str], pipe: Connection) -> None:
    """Entry point of a worker process holding some of the listeners."""
    try:
        asyncio.run(_listeners(url, tokens, pipe))
    except Exception as exc:  # tell the coordinator rather than leave it waiting
        with contextlib.suppress(OSError):
            pipe.send(("error", f"{type(exc).__name__}: {exc}"))


class _Collector:
    """What one worker's listeners saw: per note, the latest arrival and how many got it."""

    def __init__(self, listeners: int) -> None:
        # Every listener gets the same frames, so each distinct frame is decoded only once.
        self.decoded: dict[bytes, list[tuple[int, int]]] = {}
        self.worst: dict[int, int] = {}  # note index -> latest arrival minus send time, ns
        self.first: dict[int, int] = {}  # note index -> earliest arrival minus send time, ns
        self.seen: dict[int, int] = {}  # note index -> listeners that got it
        self.last = [-1] * listeners  # per listener, the last note index it got
        self.target: int | None = None
        self.behind = listeners
        self.finished = asyncio.Event()

    def on_frame(self, listener: Listener, data: bytes, arrived: int) -> None:
        if not is_events(data):
            return
        worst, seen, slot = self.worst, self.seen, listener.slot
        before = self.last[slot]
        for index, sent in self._marks(data):
            latency = arrived - sent
            if latency > worst.get(index, -1):
                worst[index] = latency
            if latency < self.first.get(index, 1 << 62):
                self.first[index] = latency
            seen[index] = seen.get(index, 0) + 1
            self.last[slot] = index
        if self.target is not None and before < self.target <= self.last[slot]:
            self._one_more_done()

    def expect(self, target: int) -> None:
        """The last note is `target`: finish once every listener has it."""
        self.target = target
        self.behind = sum(1 for last in self.last if last < target) + 1
        self._one_more_done()

    def _one_more_done(self) -> None:
        self.behind -= 1
        if self.behind == 0:
            self.finished.set()

    def _marks(self, data: bytes) -> list[tuple[int, int]]:
        found = self.decoded.get(data)
        if found is None:
            found = []
            frame = p.decode_hub(data)
            if isinstance(frame, p.Events):
                for event in frame.events:
                    text = event["data"].get("text", "") if event["kind"] == "note" else ""
                    if text.startswith(MARK):
                        index, sent = text[len(MARK) :].split(" ", 2)[:2]
                        found.append((int(index), int(sent)))
            if len(self.decoded) > 256:
                self.decoded.clear()
            self.decoded[data] = found
        return found


async def _listeners(url: str, tokens: Sequence[str], pipe: Connection) -> None:
    collector = _Collector(len(tokens))
    gate = asyncio.Semaphore(CONNECT_AT_ONCE)

    async def open_one(slot: int, token: str) -> Listener:
        async with gate:
            return await Listener.open(url, token, ROOM, collector.on_frame, slot=slot)

    listeners = await asyncio.gather(*(open_one(i, t) for i, t in enumerate(tokens)))
    try:
        pipe.send("ready")
        message = await asyncio.to_thread(pipe.recv)  # ("expect", last note index)
        collector.expect(int(message[1]))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(collector.finished.wait(), timeout=15)
        pipe.send((collector.worst, collector.first, collector.seen))
    finally:
        for listener in listeners:
            listener.abort()


# --- the coordinator and sender --------------------------------------------------------------


async def _send_notes(
    ws: ClientConnection, rate: float, count: int, warmup: int, acks: list[float]
) -> None:
    """Post `warmup + count` notes at `rate` per second on a fixed schedule."""
    sent: dict[str, float] = {}
    total = warmup + count

    async def receive() -> None:
        async for data in ws:
            if is_events(data):
                continue
            frame = p.decode_hub(data)
            if isinstance(frame, p.Ack | p.RejectFrame):
                if not isinstance(frame, p.Ack):
                    raise RuntimeError(f"note rejected: {frame.reason}")
                t0 = sent.pop(frame.id)
                if int(frame.id, 16) >= warmup:
                    acks.append(time.monotonic() - t0)
                if len(acks) == count and not sent:
                    return

    receiver = asyncio.create_task(receive())
    start = time.monotonic() + 0.05
    try:
        for i in range(total):
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            cid = format(i, "x")
            index = i - warmup
            sent[cid] = time.monotonic()
            text = f"{MARK}{index} {time.monotonic_ns()} the canary looks healthy"
            await ws.send(note_frame(cid, text))
        await asyncio.wait_for(receiver, timeout=15)
    finally:
        receiver.cancel()


async def _run(
    hub: BenchHub, clients: int, workers: int, rate: float, seconds: float
) -> FanoutResult:
    began = time.monotonic()
    url = hub.url(ROOM)
    sender, _ = await join(url, hub.token(ROOM, "sender"), ROOM, presence=False)
    tokens = [hub.token(ROOM, f"listener-{i}") for i in range(clients)]
    workers = max(1, min(workers, clients))
    ctx = mp.get_context("spawn")
    pipes: list[Connection] = []
    procs: list[Any] = []
    try:
        for w in range(workers):
            ours, theirs = ctx.Pipe()
            proc = ctx.Process(
                target=_listener_main, args=(url, tokens[w::workers], theirs), daemon=True
            )
            proc.start()
            pipes.append(ours)
            procs.append(proc)
        for pipe in pipes:
            if not await asyncio.to_thread(pipe.poll, 120):
                raise RuntimeError("listeners did not join within 120 s")
            message = pipe.recv()
            if message != "ready":
                raise RuntimeError(f"a listener worker failed: {message}")
        setup = time.monotonic() - began
        await asyncio.sleep(0.5)  # let the last joins' events drain
        warmup = max(10, int(rate // 2))
        count = int(rate * seconds)
        acks: list[float] = []
        pids = [proc.pid for proc in procs]
        cpu_before = [cpu_seconds(hub.pid), *(cpu_seconds(pid) for pid in pids)]
        own_before, wall_before = time.process_time(), time.monotonic()
        await _send_notes(sender, rate, count, warmup, acks)
        wall = time.monotonic() - wall_before
        cpu_after = [cpu_seconds(hub.pid), *(cpu_seconds(pid) for pid in pids)]
        hub_cpu = (cpu_after[0] - cpu_before[0]) / wall
        client_cpu = (
            sum(cpu_after[1:]) - sum(cpu_before[1:]) + time.process_time() - own_before
        ) / wall
        for pipe in pipes:
            pipe.send(("expect", count - 1))
        worst: dict[int, int] = {}
        first: dict[int, int] = {}
        seen: dict[int, int] = {}
        for pipe in pipes:
            if not await asyncio.to_thread(pipe.poll, 30):
                raise RuntimeError("a listener worker did not report")
            message = pipe.recv()
            if message[0] == "error":
                raise RuntimeError(f"a listener worker failed: {message[1]}")
            their_worst, their_first, their_seen = message
            for index, latency in their_worst.items():
                worst[index] = max(latency, worst.get(index, 0))
            for index, latency in their_first.items():
                first[index] = min(latency, first.get(index, 1 << 62))
            for index, n in their_seen.items():
                seen[index] = seen.get(index, 0) + n
    finally:
        await sender.close()
        for proc in procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
                proc.join()
    latencies = sorted(worst[i] / 1e6 for i in range(count) if i in worst)
    firsts = sorted(first[i] / 1e6 for i in range(count) if i in first)
    missing = sum(clients - seen.get(i, 0) for i in range(count))
    acks.sort()
    return FanoutResult(
        clients=clients,
        workers=workers,
        rate=rate,
        notes=count,
        p50_ms=percentile(latencies, 50),
        p99_ms=percentile(latencies, 99),
        max_ms=latencies[-1] if latencies else float("nan"),
        first_p50_ms=percentile(firsts, 50),
        first_p99_ms=percentile(firsts, 99),
        ack_p50_ms=percentile(acks, 50) * 1000,
        ack_p99_ms=percentile(acks, 99) * 1000,
        missing=missing,
        setup_s=setup,
        hub_cpu=hub_cpu,
        client_cpu=client_cpu,
    )


def run(clients: int, workers: int, rate: float = 50.0, seconds: float = 10.0) -> FanoutResult:
    """Measure against a fresh hub child process, with listeners spread over `workers`."""
    with running_hub() as hub:
        return asyncio.run(_run(hub, clients, workers, rate, seconds))


if __name__ == "__main__":
    import sys

    for n in [int(a) for a in sys.argv[1:]] or [10, 100, 500]:
        print(run(n, workers=1 if n <= 100 else 2))
