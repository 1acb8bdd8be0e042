"""Idle rooms cost nothing: a room nobody uses is put away (its journal closed, no thread of
its own), and a deadline in it (a vote's end) still comes on time, the room reopened for it,
even when the hub restarted in between."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from pathlib import Path

from server.auth import load_or_create_secret, mint
from tests.integration import procfs
from tests.integration.conftest import Raw
from tests.integration.test_durability import history
from tests.integration.test_votes import seated
from tests.unit.train_helpers import runbook_data
from warroom.core import Role
from warroom.hubproc import HubProcess

ROOMS = 1000  # benches/idle_rooms.py opens 10,000
IO_THREADS = 8  # the hub's default journal pool


def open_journals(pid: int) -> int:
    """How many room journal files (db, wal, shm) the hub has open."""
    return (
        procfs.open_files(pid, ".db", under="/rooms/")
        + procfs.open_files(pid, "-wal", under="/rooms/")
        + procfs.open_files(pid, "-shm", under="/rooms/")
    )


async def test_rooms_opened_one_after_another_hold_no_thread_or_file(tmp_path: Path) -> None:
    secret = load_or_create_secret(tmp_path)
    hub = HubProcess(tmp_path, "--room-idle", "0.05")
    try:
        threads0, fds0 = procfs.threads(hub.pid), procfs.fds(hub.pid)
        peak_threads, peak_fds, peak_journals = threads0, fds0, 0
        start = time.monotonic()
        for i in range(ROOMS):
            room = f"room-{i}"
            raw = await Raw.open(hub.room_url(room))
            await raw.hello(mint(secret, room, "ana", Role.ENGINEER, 600, time.time()), room=room)
            await raw.close()  # a join and a leave: three events written in each room
            if i % 50 == 0:
                peak_threads = max(peak_threads, procfs.threads(hub.pid))
                peak_fds = max(peak_fds, procfs.fds(hub.pid))
                peak_journals = max(peak_journals, open_journals(hub.pid))
        took = time.monotonic() - start
        await asyncio.sleep(0.5)  # the last rooms' idle time
        end_threads, end_fds, end_journals = (
            procfs.threads(hub.pid),
            procfs.fds(hub.pid),
            open_journals(hub.pid),
        )
        print(
            f"\n{ROOMS} rooms in {took:.1f}s ({took / ROOMS * 1000:.1f} ms a room): threads"
            f" {threads0} at start, peak {peak_threads}, end {end_threads}; fds {fds0}, peak"
            f" {peak_fds}, end {end_fds}; journal files open: peak {peak_journals}, end"
            f" {end_journals}; RSS {procfs.rss_mib(hub.pid):.1f} MiB"
        )
        assert peak_threads <= threads0 + IO_THREADS + 2
        assert peak_fds <= fds0 + 60  # the few rooms in their idle time
        assert end_journals == 0
        assert end_fds <= fds0 + 2
        assert len(list((tmp_path / "rooms").glob("room-*.db"))) == ROOMS
    finally:
        hub.stop()


def closed_votes(data_dir: Path, room: str) -> list[float]:
    """When the room's journal says its votes closed, read from the file itself (read-only:
    joining would open the room, and a room opened late expires a vote late)."""
    path = data_dir / "rooms" / f"{room}.db"
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        rows = db.execute("SELECT ts FROM events WHERE kind = 'vote_closed' ORDER BY seq")
        return [float(ts) for (ts,) in rows]


async def open_vote_and_leave(hub: HubProcess, room: str, secret: bytes) -> float:
    """A conductor and an engineer open a train and a 10 s vote, then both leave; when the
    room is put away, return the vote's deadline."""
    now = time.time()
    ana, ana_task = await seated(
        hub.room_url(room), mint(secret, room, "ana", Role.CONDUCTOR, 600, now)
    )
    raj, raj_task = await seated(
        hub.room_url(room), mint(secret, room, "raj", Role.ENGINEER, 600, now)
    )
    assert (await ana.send("open_train", {"runbook": runbook_data(), "version": "v"})).ok
    vote = {"proposal": "full", "reason": "fatals in group1", "deadline": 10}  # the minimum
    assert (await ana.send("call_vote", vote)).ok
    assert (await raj.send("ballot", {"choice": "yes"})).ok
    assert ana.state.vote is not None and ana.state.vote.open
    deadline = ana.state.vote.deadline
    for client, task in ((ana, ana_task), (raj, raj_task)):
        await client.close()
        await task
    for _ in range(100):  # nobody left: the room is put away, its journal closed
        if not procfs.open_files(hub.pid, f"/rooms/{room}.db"):
            break
        await asyncio.sleep(0.05)
    assert not procfs.open_files(hub.pid, f"/rooms/{room}.db"), "the idle room stayed open"
    assert closed_votes(hub.data_dir, room) == []
    return deadline


async def wait_past(deadline: float, margin: float) -> None:
    await asyncio.sleep(max(0.0, deadline + margin - time.time()))


async def test_a_vote_in_a_room_put_away_expires_on_time_with_or_without_a_restart(
    tmp_path: Path,
) -> None:
    # Two hubs at once, to wait for one vote window: one keeps running, one is restarted.
    closed = await asyncio.gather(
        vote_scenario(tmp_path / "kept", restart=False),
        vote_scenario(tmp_path / "restarted", restart=True),
    )
    print(f"\nvotes closed after their deadline by: kept {closed[0]}, restarted {closed[1]}")


async def vote_scenario(data_dir: Path, restart: bool) -> str:
    """Open a vote, let the room be put away (and the hub restarted); the vote must close at
    its deadline. Returns how late it closed."""
    secret = load_or_create_secret(data_dir)
    # Started and stopped off the event loop, which the other scenario shares.
    hubs = [await asyncio.to_thread(HubProcess, data_dir, "--room-idle", "0.2")]
    try:
        deadline = await open_vote_and_leave(hubs[0], "r1", secret)
        if restart:
            await asyncio.to_thread(hubs[0].stop)  # the new hub has only its index to go on
            hubs.append(await asyncio.to_thread(HubProcess, data_dir, "--room-idle", "0.2"))
            assert deadline - time.time() > 3, "too slow to restart before the deadline"
        await wait_past(deadline, 3.0)
        closed = closed_votes(data_dir, "r1")
        assert len(closed) == 1 and deadline <= closed[0] < deadline + 2.0, (closed, deadline)
        # The room goes back to sleep once its vote is closed.
        await asyncio.sleep(0.5)
        assert not procfs.open_files(hubs[-1].pid, "/rooms/r1.db")
        await expired_in_history(hubs[-1], secret, "r1")
        return f"{closed[0] - deadline:.2f}s"
    finally:
        for hub in hubs:
            await asyncio.to_thread(hub.stop)


async def expired_in_history(hub: HubProcess, secret: bytes, room: str) -> None:
    token = mint(secret, room, "ana", Role.CONDUCTOR, 600, time.time())
    events = await history(hub.room_url(room), token)
    closes = [e for _, e in events if e.kind == "vote_closed"]
    assert [(e.data["outcome"], e.data["reason"]) for e in closes] == [
        ("expired", "the deadline passed")
    ]
