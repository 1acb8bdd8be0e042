"""Joining a big room over a slow link: the catch-up is made frame by frame as the link takes
it, so a joiner that reads slowly (or not at all) costs the hub a frame or two, not a copy of
the room, and live log lines pouring in meanwhile do not get it cut off."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

from websockets.exceptions import ConnectionClosed

from server.auth import load_or_create_secret, mint
from tests.integration import procfs
from tests.integration.conftest import Raw, start_hub, stop_hub
from tests.integration.test_big_rooms import write_big_room
from warroom import protocol as p
from warroom.core import Role
from warroom.hubproc import HubProcess

SLOW_COMMITS = 200  # about 12 MiB of state: 12 snapshot parts
STALLED_COMMITS = 300  # about 18 MiB


async def stream_logs(raw: Raw, stop: asyncio.Event, per_second: int = 10_000) -> None:
    """About 1.2 MB/s of log lines, in frames of 500, until `stop`."""
    sent = 0
    with contextlib.suppress(ConnectionClosed):
        while not stop.is_set():
            lines = [[f"{sent + i:08d} INFO deploy step ok " + "x" * 90, 0] for i in range(500)]
            await raw.ws.send(p.encode(p.Logs("deploy", sent, lines)))
            sent += 500
            await asyncio.sleep(500 / per_second)


async def test_a_slow_link_loads_a_big_room_while_logs_stream(tmp_path: Path) -> None:
    write_big_room(tmp_path, SLOW_COMMITS)
    live, server = await start_hub(tmp_path, rate=1e4, burst=1e4)
    try:
        feeder = await Raw.open(live.url())
        await feeder.hello(live.token("raj"), presence=False)
        stop = asyncio.Event()
        feeding = asyncio.create_task(stream_logs(feeder, stop))
        await asyncio.sleep(0.5)
        slow = await Raw.open(live.url(), rcvbuf=64 << 10)
        await slow.ws.send(p.encode(p.Hello(p.VERSION, live.token("vic", "visitor"), "r1")))
        parts = got = 0
        lines: list[int] = []
        started = time.monotonic()
        # About 2 MB/s: a 12 MiB room takes some six seconds to arrive, while about twice
        # the send budget of log lines is fed.
        while True:
            data = await asyncio.wait_for(slow.ws.recv(), 20)
            assert isinstance(data, bytes)
            await asyncio.sleep(len(data) / 2e6)
            frame = p.decode_hub(data)
            if isinstance(frame, p.Snapshot):
                parts = frame.parts
            elif isinstance(frame, p.SnapshotPart):
                got += 1
            elif isinstance(frame, p.LogLines):
                lines.extend(line[0] for line in frame.lines)
                if got == parts and len(lines) > 10_000:
                    break
        took = time.monotonic() - started
        stop.set()
        await feeding
        assert parts >= 12 and got == parts
        assert took > 4  # it really was slow
        assert lines == sorted(lines) and len(set(lines)) == len(lines)  # in order, no repeat
        assert slow.ws.close_code is None  # never cut off
        # Neither read what the hub sent last (lines, acks): a polite close would wait for it.
        slow.ws.transport.abort()
        feeder.ws.transport.abort()
    finally:
        await stop_hub(live, server)


async def test_joiners_that_stop_reading_cost_the_hub_a_frame_each_not_the_room(
    tmp_path: Path,
) -> None:
    write_big_room(tmp_path, STALLED_COMMITS)
    hub = HubProcess(tmp_path, "--max-conns", "16")
    try:
        token = mint(load_or_create_secret(tmp_path), "r1", "vic", Role.VISITOR, 600, time.time())
        first = await Raw.open(hub.room_url("r1"))  # opens the room and packs its state once
        await first.hello(token, presence=False)
        await first.until(p.Snapshot, timeout=60)
        await asyncio.sleep(0.5)
        before = procfs.rss_mib(hub.pid)
        stalled = []
        for _ in range(8):
            raw = await Raw.open(hub.room_url("r1"), rcvbuf=16 << 10)
            await raw.ws.send(p.encode(p.Hello(p.VERSION, token, "r1", presence=False)))
            raw.ws.transport.pause_reading()
            stalled.append(raw)
        await asyncio.sleep(2)
        grown = procfs.rss_mib(hub.pid) - before
        # Each holds the part it is sending and a kernel buffer: a few MiB in all, where a
        # copy of the 18 MiB room per joiner would be 144.
        assert grown < 40, f"hub RSS grew {grown:.0f} MiB for 8 stalled joiners"
        for raw in (first, *stalled):
            raw.ws.transport.abort()
    finally:
        hub.stop()
