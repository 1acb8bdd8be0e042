"""Idle rooms cost nothing: a room nobody uses is put away (its journal closed, no thread of
its own), and a deadline in it (a vote's end) still comes on time, the room reopened for it,
even when the hub restarted in between."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import time
from pathlib import Path

from server.auth import load_or_create_secret, mint
from server.clock import ManualClock
from tests.integration import procfs
from tests.integration.conftest import LiveHub, Raw, stop_hub
from tests.integration.test_durability import history
from tests.integration.test_votes import seated, start_clocked_hub
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


async def open_vote_and_leave(hub: LiveHub, room: str) -> float:
    """A conductor and an engineer open a train and a 10 s vote, then both leave; when the
    room is put away, return the vote's deadline."""
    ana, ana_task = await seated(hub.url(room), hub.token("ana", "conductor", room=room))
    raj, raj_task = await seated(hub.url(room), hub.token("raj", room=room))
    assert (await ana.send("open_train", {"runbook": runbook_data(), "version": "v"})).ok
    vote = {"proposal": "full", "reason": "fatals in group1", "deadline": 10}  # the minimum
    assert (await ana.send("call_vote", vote)).ok
    assert (await raj.send("ballot", {"choice": "yes"})).ok
    assert ana.state.vote is not None and ana.state.vote.open
    deadline = ana.state.vote.deadline
    for client, task in ((ana, ana_task), (raj, raj_task)):
        await client.close()
        await task
    await put_away(hub, room)
    assert closed_votes(hub.data_dir, room) == []
    return deadline


def journal_open(hub: LiveHub, room: str) -> bool:
    """Whether this process (the hub's) holds the room's journal file open."""
    return bool(procfs.open_files(os.getpid(), str(hub.data_dir / "rooms" / f"{room}.db")))


async def put_away(hub: LiveHub, room: str) -> None:
    """Wait for the room's idle time to pass and its journal to close (nobody is in it)."""
    for _ in range(200):
        if room not in hub.hub.rooms and not journal_open(hub, room):
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"the idle room {room} stayed open")


async def test_a_vote_in_a_room_put_away_expires_on_time_with_or_without_a_restart(
    tmp_path: Path,
) -> None:
    kept = await vote_scenario(tmp_path / "kept", restart=False)
    restarted = await vote_scenario(tmp_path / "restarted", restart=True)
    assert kept == restarted == 0.0


async def vote_scenario(data_dir: Path, restart: bool) -> float:
    """Open a vote, let the room be put away (and the hub restarted); the vote must close at
    its deadline, the room woken for it. Returns how late it closed, on the hub's clock."""
    clock = ManualClock()
    hub, server = await start_clocked_hub(data_dir, clock, room_idle=0.2)
    try:
        deadline = await open_vote_and_leave(hub, "r1")
        if restart:
            await stop_hub(hub, server)  # the new hub has only its index to go on
            clock.advance(3)
            hub, server = await start_clocked_hub(data_dir, clock, room_idle=0.2)
            assert "r1" not in hub.hub.rooms
        for _ in range(100):  # a wake-up for the room put away, set once it has closed
            if deadline in clock.pending:
                break
            await asyncio.sleep(0.01)
        assert deadline in clock.pending
        clock.advance(deadline - 0.1 - clock.now())
        assert "r1" not in hub.hub.rooms  # not woken early
        clock.advance(0.1)
        for _ in range(250):
            closed = closed_votes(data_dir, "r1")
            if closed:
                break
            await asyncio.sleep(0.02)
        assert closed == [deadline], (closed, deadline)
        # The room goes back to sleep once its vote is closed.
        await put_away(hub, "r1")
        await expired_in_history(hub, "r1")
        return closed[0] - deadline
    finally:
        await stop_hub(hub, server)


async def expired_in_history(hub: LiveHub, room: str) -> None:
    events = await history(hub.url(room), hub.token("ana", "conductor", room=room))
    closes = [e for _, e in events if e.kind == "vote_closed"]
    assert [(e.data["outcome"], e.data["reason"]) for e in closes] == [
        ("expired", "the deadline passed")
    ]
