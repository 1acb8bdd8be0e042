"""Idle sockets cannot starve a hub of file descriptors: with its open-file limit at 1,024
(soft and hard, so it cannot raise it), 2,000 connections that never send a byte leave
people's joins working, and the hub's log says a few lines, not one per socket."""

from __future__ import annotations

import asyncio
import contextlib
import resource
import socket
import time
from pathlib import Path

from server.auth import load_or_create_secret, mint
from tests.integration import procfs
from tests.integration.conftest import Raw
from warroom import protocol as p
from warroom.core import Role
from warroom.hubproc import HubProcess

IDLE = 2000
FILE_LIMIT = 1024


class Idle:
    """TCP connections to the hub that send nothing, 500 being opened at a time."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.socks: list[socket.socket] = []
        self.connected = 0

    async def open(self, count: int) -> None:
        loop = asyncio.get_running_loop()
        gate = asyncio.Semaphore(500)

        async def one() -> None:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            self.socks.append(sock)
            async with gate:
                with contextlib.suppress(OSError, TimeoutError):
                    await asyncio.wait_for(loop.sock_connect(sock, ("127.0.0.1", self.port)), 10)
                    self.connected += 1

        await asyncio.gather(*(one() for _ in range(count)))

    def close(self) -> None:
        for sock in self.socks:
            sock.close()


async def join_and_note(url: str, token: str) -> float:
    """How long a person takes to join and have a note acknowledged."""
    start = time.monotonic()
    raw = await Raw.open(url)
    await raw.hello(token, presence=False)
    await raw.cmd(f"c{start}", "note", text="still serving")
    assert isinstance(await raw.answer(f"c{start}"), p.Ack)
    await raw.close()
    return time.monotonic() - start


def ensure_files(needed: int) -> None:
    """This test process holds every idle socket itself: let it have enough descriptors."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, needed + 256), hard))


async def test_two_thousand_idle_sockets_leave_joins_working(tmp_path: Path) -> None:
    ensure_files(IDLE + 256)
    secret = load_or_create_secret(tmp_path)
    token = mint(secret, "r1", "ana", Role.ENGINEER, 600, time.time())
    log = tmp_path / "hub.log"
    hub = HubProcess(tmp_path, stderr=log, max_files=FILE_LIMIT)
    idle = Idle(hub.port)
    try:
        start = time.monotonic()
        opening = asyncio.create_task(idle.open(IDLE))
        while idle.connected < FILE_LIMIT + 50 and not opening.done():
            await asyncio.sleep(0.01)
        # More idle connections than the hub has descriptors: a person joins meanwhile.
        during = await asyncio.wait_for(join_and_note(hub.room_url("r1"), token), 8)
        await opening
        opened = time.monotonic() - start
        held = procfs.fds(hub.pid)
        # And once all of them are open, held by this process, someone else joins.
        after = await asyncio.wait_for(join_and_note(hub.room_url("r1"), token), 8)
        await asyncio.sleep(1.0)  # whatever the hub logs about them, let it be written
        lines = log.read_text().splitlines()
        print(
            f"\n{idle.connected} of {IDLE} idle sockets connected in {opened:.1f}s; hub fds"
            f" {held} (limit {FILE_LIMIT}); a join and a note took {during * 1000:.0f} ms"
            f" during, {after * 1000:.0f} ms after; {len(lines)} log lines"
        )
        assert held < FILE_LIMIT - 100, "the idle sockets pinned the hub's descriptors"
        assert len(lines) < 50, "\n".join(lines[:20])
    finally:
        idle.close()
        hub.stop()


async def test_out_of_descriptors_the_hub_logs_a_few_lines_not_one_per_socket(
    tmp_path: Path,
) -> None:
    # An operator who set the pending cap above the file limit: the descriptors do run out.
    ensure_files(IDLE + 256)
    log = tmp_path / "hub.log"
    hub = HubProcess(tmp_path, "--max-pending", "4096", stderr=log, max_files=FILE_LIMIT)
    idle = Idle(hub.port)
    try:
        start = time.monotonic()
        opening = asyncio.create_task(idle.open(IDLE))
        held = 0
        while time.monotonic() - start < 8 and held < FILE_LIMIT - 10:
            await asyncio.sleep(0.05)
            held = procfs.fds(hub.pid)
        full_at = time.monotonic()
        await asyncio.sleep(3.0)  # out of descriptors, the hub keeps failing to accept
        lines = log.read_text().splitlines()
        emfile = [line for line in lines if "Too many open files" in line]
        print(
            f"\nhub fds {held} of {FILE_LIMIT} after {full_at - start:.1f}s: {len(lines)} log"
            f" lines in the next 3 s, {len(emfile)} naming EMFILE"
        )
        opening.cancel()
        await asyncio.gather(opening, return_exceptions=True)
        assert held >= FILE_LIMIT - 10  # it did run out
        assert emfile, "running out of descriptors went unsaid"
        assert len(lines) < 100, "\n".join(lines[:40])
    finally:
        idle.close()
        hub.stop()
