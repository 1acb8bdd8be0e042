"""Durable acknowledged commands per second.

C connections join one room and pipeline `note` commands, each keeping up to `window`
unacknowledged. The hub acks a command only after the group commit holding it is in the
SQLite WAL with synchronous=FULL, so every ack counted here is a durable write. The rate is
the acks received in the steady part of the run (after a short warm-up, until sending stops)
divided by its length. Afterwards the journal on disk is counted to check nothing acked is
missing.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from websockets.asyncio.client import ClientConnection

from benches.common import (
    BenchHub,
    cpu_seconds,
    is_events,
    join,
    note_frame,
    percentile,
    running_hub,
)
from warroom import protocol as p

ROOM = "bench-commands"
TEXT = "deploy step finished on canary; error rate flat, latency p99 steady, moving on #"


@dataclass(frozen=True, slots=True)
class CommandsResult:
    connections: int
    window: int
    seconds: float
    acked: int
    rejected: int
    per_second: float
    ack_p50_ms: float
    ack_p99_ms: float
    journaled: int  # notes in the journal on disk afterwards: at least `acked`
    hub_cpu: float  # cores the hub process used while the notes were sent
    client_cpu: float  # cores this load generator used meanwhile


@dataclass(slots=True)
class _Tally:
    acked: int = 0
    in_window: int = 0
    rejected: int = 0


async def _pump(
    ws: ClientConnection,
    window: int,
    start: float,
    stop: float,
    measure_from: float,
    tally: _Tally,
    latencies: list[float],
) -> None:
    """Keep `window` notes in flight on `ws` until `stop`, then wait for the last answers."""
    sent: dict[str, float] = {}
    room = asyncio.Semaphore(window)
    done_sending = asyncio.Event()

    async def send() -> None:
        i = 0
        while time.perf_counter() < stop:
            await room.acquire()
            cid = format(i, "x")
            i += 1
            sent[cid] = time.perf_counter()
            await ws.send(note_frame(cid, TEXT + cid))
        done_sending.set()

    async def receive() -> None:
        async for data in ws:
            if is_events(data):
                continue
            frame = p.decode_hub(data)
            if isinstance(frame, p.Ack | p.RejectFrame):
                now = time.perf_counter()
                latencies.append(now - sent.pop(frame.id))
                if isinstance(frame, p.Ack):
                    tally.acked += 1
                    if measure_from <= now <= stop:
                        tally.in_window += 1
                else:
                    tally.rejected += 1
                room.release()
                if done_sending.is_set() and not sent:
                    return

    await asyncio.sleep(max(0.0, start - time.perf_counter()))
    receiver = asyncio.create_task(receive())
    try:
        await send()
        await asyncio.wait_for(receiver, timeout=10)
    finally:
        receiver.cancel()


async def _run(hub: BenchHub, connections: int, window: int, seconds: float) -> CommandsResult:
    conns = [
        (await join(hub.url(ROOM), hub.token(ROOM, f"load-{i}"), ROOM, presence=False))[0]
        for i in range(connections)
    ]
    tally = _Tally()
    latencies: list[float] = []
    warmup = min(1.0, seconds / 4)
    start = time.perf_counter() + 0.2
    stop = start + seconds
    began, hub_before, own_before = time.perf_counter(), cpu_seconds(hub.pid), time.process_time()
    try:
        await asyncio.gather(
            *(_pump(ws, window, start, stop, start + warmup, tally, latencies) for ws in conns)
        )
        wall = time.perf_counter() - began
        hub_cpu = (cpu_seconds(hub.pid) - hub_before) / wall
        client_cpu = (time.process_time() - own_before) / wall
    finally:
        await asyncio.gather(*(ws.close() for ws in conns), return_exceptions=True)
    latencies.sort()
    return CommandsResult(
        connections=connections,
        window=window,
        seconds=seconds,
        acked=tally.acked,
        rejected=tally.rejected,
        per_second=tally.in_window / (seconds - warmup),
        ack_p50_ms=percentile(latencies, 50) * 1000,
        ack_p99_ms=percentile(latencies, 99) * 1000,
        journaled=hub.journaled(ROOM, "note"),
        hub_cpu=hub_cpu,
        client_cpu=client_cpu,
    )


def run(connections: int, window: int, seconds: float = 5.0) -> CommandsResult:
    """Measure against a fresh hub child process."""
    with running_hub() as hub:
        return asyncio.run(_run(hub, connections, window, seconds))


if __name__ == "__main__":
    for n, w in ((1, 256), (10, 32)):
        print(run(n, w))
