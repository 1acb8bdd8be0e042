"""A client that never reads costs the hub a bounded number of bytes, then its connection.

Against a real `warroom hub` child, so the memory measured is the hub's own (VmRSS), and the
socket seen closing is the hub's end of the connection (its file descriptor).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed

from server.auth import load_or_create_secret, mint
from tests.integration import procfs
from tests.integration.conftest import Raw
from warroom import protocol as p
from warroom.core import Role
from warroom.hubproc import HubProcess

STREAM_FOR = 8.0  # seconds of logs at full rate (benches and the issue 12 note: a minute)
WINDOW = 10_000  # log lines the feeder keeps unacknowledged
BATCH = 500  # lines per frame
TEXT = "2026-11-22T05:30:27.123Z INFO checkout-api-7f9c4 GET /api/v2/cart 200 in 12 ms user=4411 #"


async def feed(raw: Raw, until: float) -> int:
    """Send log lines as fast as the hub acknowledges them until `until`; lines acked."""
    acked = 0
    moved = asyncio.Event()

    async def acks() -> None:
        nonlocal acked
        while True:
            frame = await raw.frame(10)
            if isinstance(frame, p.LogsAck):
                acked = max(acked, frame.next)
                moved.set()

    reader = asyncio.create_task(acks())
    sent = 0
    try:
        while time.monotonic() < until:
            if sent - acked >= WINDOW:
                moved.clear()
                await asyncio.wait_for(moved.wait(), 10)
                continue
            lines = [[f"{TEXT}{sent + i}", 0] for i in range(BATCH)]
            await raw.ws.send(p.encode(p.Logs("deploy", sent, lines)))
            sent += BATCH
    finally:
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
    return acked


async def test_a_visitor_that_never_reads_is_cut_off_and_hub_memory_stays_flat(
    tmp_path: Path,
) -> None:
    secret = load_or_create_secret(tmp_path)
    now = time.time()
    fed = mint(secret, "r1", "fed", Role.ENGINEER, 600, now)
    vic = mint(secret, "r1", "vic", Role.VISITOR, 600, now)
    log = tmp_path / "hub.log"
    hub = HubProcess(tmp_path, "--rate", "100000", "--burst", "100000", stderr=log)
    try:
        feeder = await Raw.open(hub.room_url("r1"))
        await feeder.hello(fed, presence=False)
        slow = await Raw.open(hub.room_url("r1"), rcvbuf=4096)
        await slow.hello(vic)  # presence on, so the log stream too
        slow.ws.transport.pause_reading()  # and it never reads again
        port = slow.ws.transport.get_extra_info("sockname")[1]
        inode = procfs.tcp_inode(hub.port, port)
        assert inode is not None and procfs.holds_socket(hub.pid, inode)
        await asyncio.sleep(0.5)
        before = procfs.rss_mib(hub.pid)
        start = time.monotonic()
        feeding = asyncio.create_task(feed(feeder, start + STREAM_FOR))
        peak, cut_after = before, None
        while not feeding.done():
            peak = max(peak, procfs.rss_mib(hub.pid))
            if cut_after is None and not procfs.holds_socket(hub.pid, inode):
                cut_after = time.monotonic() - start
            await asyncio.sleep(0.2)
        lines = await feeding
        after = procfs.rss_mib(hub.pid)
        print(
            f"\nhub RSS {before:.1f} MiB before, peak {peak:.1f}, after {after:.1f};"
            f" {lines} lines acked in {STREAM_FOR:g}s; visitor cut after {cut_after}s"
        )
        assert lines > 50_000, "the feeder was not streaming at full rate"
        assert peak - before < 50, f"hub RSS grew {peak - before:.0f} MiB"
        assert cut_after is not None and cut_after < 10, "the hub kept the non-reader's socket"
        # The hub said why; the client, reading again, finds the connection gone.
        assert "cut off vic" in log.read_text() and "budget" in log.read_text()
        slow.ws.transport.resume_reading()
        with pytest.raises(ConnectionClosed):
            while True:
                await slow.frame(10)
        assert slow.ws.close_code == 1006  # aborted: no close handshake waited on
        await feeder.close()
    finally:
        hub.stop()
