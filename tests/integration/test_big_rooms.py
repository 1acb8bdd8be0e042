"""Every frame the hub builds is bounded by bytes, and a room too big for one frame still
loads: its snapshot comes in parts. Here the room is made too big the way an older hub let it
grow, by writing its journal directly (today's caps refuse such a manifest)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

from server.auth import load_or_create_secret, mint
from server.journal import Entry, Journal
from server.roomhost import FRAME_BYTES
from tests.integration.conftest import Raw, start_hub, stop_hub
from warroom import protocol as p
from warroom.client import RoomClient
from warroom.core import Event, Role
from warroom.hubproc import HubProcess

FILES = 200
SHA = "{:040x}"


def fat_commit(i: int) -> dict[str, object]:
    sha = SHA.format(i + 1)
    return {
        "sha": sha,
        "short": sha[:7],
        "author": f"Author {i % 40}",
        "email": f"a{i % 40}@example.org",
        "date": 1_700_000_000 + i,
        "subject": f"change {i}: " + "s" * 200,
        "files": [[f"dir{i}/" + "p" * 280 + f"/{f}.php", 1, 1, ""] for f in range(FILES)],
        "more_files": 0,
        "merge": False,
        "revert": False,
        "reverts": "",
        "trailers": [],
    }


def write_big_room(data_dir: Path, commits: int) -> int:
    """A room whose manifest is `commits` fat commits (about 60 KiB each); its head."""
    journal = Journal(data_dir / "rooms" / "r1.db")
    begun = {
        "repo": "core",
        "batch": "b1",
        "from": "v1",
        "to": "v2",
        "from_sha": "a" * 40,
        "to_sha": "b" * 40,
        "count": commits,
        "path": "",
        "replaces": False,
    }
    entries = [Entry(1, Event("manifest_begun", 1.0, "raj", begun))]
    for offset in range(0, commits, 100):
        chunk = [fat_commit(i) for i in range(offset, min(commits, offset + 100))]
        data = {
            "repo": "core",
            "batch": "b1",
            "offset": offset,
            "commits": chunk,
            "received": offset + len(chunk),
            "count": commits,
            "authors": 40,
        }
        entries.append(Entry(len(entries) + 1, Event("manifest_added", 2.0, "raj", data)))
    journal.commit(entries, [])
    journal.close()
    return len(entries)


async def test_a_room_bigger_than_a_client_frame_loads_in_parts(tmp_path: Path) -> None:
    write_big_room(tmp_path, 1300)  # about 75 MiB of state: over the client's 64 MiB frame
    live, server = await start_hub(tmp_path)
    try:
        raw = await Raw.open(live.url())
        await raw.ws.send(p.encode(p.Hello(p.VERSION, live.token("vic", "visitor"), "r1")))
        welcome = await raw.until(p.Welcome, timeout=30)
        head = await raw.frame(timeout=30)
        assert isinstance(head, p.Snapshot) and head.state is None
        assert head.parts > 64 and head.size > 64 << 20
        sizes = []
        pieces = []
        for _ in range(head.parts):
            raw_frame = await asyncio.wait_for(raw.ws.recv(), 30)
            assert isinstance(raw_frame, bytes)
            sizes.append(len(raw_frame))
            part = p.decode_hub(raw_frame)
            assert isinstance(part, p.SnapshotPart)
            pieces.append(part)
        assert max(sizes) <= FRAME_BYTES + 128  # every frame bounded, not one of 75 MiB
        assembly = p.SnapshotAssembly(head)
        state = None
        for part in pieces:
            state = assembly.add(part)
        assert state is not None and len(state["changes"]["repos"][0]["commits"]) == 1300
        assert head.seq == welcome.seq
        await raw.close()

        # The reference client, and so `join`, `state` and `export`, load it too.
        client = RoomClient(live.url(), live.token("wes", "visitor"), presence=False)
        task = asyncio.create_task(client.run())
        await client.wait_live(60)
        assert client.state.changes is not None
        assert client.state.changes.commit_count == 1300
        await client.close()
        await task
    finally:
        await stop_hub(live, server)


def test_state_and_export_of_a_big_room_work_from_the_command_line(tmp_path: Path) -> None:
    write_big_room(tmp_path, 1150)  # about 66 MiB: just over the client's frame limit
    hub = HubProcess(tmp_path)
    try:
        tok = mint(load_or_create_secret(tmp_path), "r1", "vic", Role.VISITOR, 600, time.time())
        base = [sys.executable, "-m", "warroom"]
        started = time.monotonic()
        state = subprocess.run(
            [*base, "state", hub.room_url("r1"), "--token", tok],
            capture_output=True,
            text=True,
            timeout=120,
        )
        took = time.monotonic() - started
        assert state.returncode == 0, state.stderr
        assert len(json.loads(state.stdout)["state"]["changes"]["repos"][0]["commits"]) == 1150
        export = subprocess.run(
            [*base, "export", hub.room_url("r1"), "--token", tok, "--format", "json"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        # It loads the whole history; this room has commits but no train run to report on.
        assert export.returncode == 1 and "train" in export.stderr, export.stderr
        assert "connection lost" not in export.stderr
        print(f"`warroom state` of a 66 MiB room: {took:.1f} s")
    finally:
        hub.stop()


async def test_catch_up_frames_are_bounded_by_bytes(tmp_path: Path) -> None:
    live, server = await start_hub(tmp_path, rate=1e4, burst=1e4)
    try:
        raw = await Raw.open(live.url())
        await raw.hello(live.token("ana"), presence=False)
        for i in range(250):  # 250 notes of about 6 KiB of text each: 1.5 MiB
            await raw.cmd(f"n{i}", "note", text="€" * 1990)
            assert isinstance(await raw.answer(f"n{i}"), p.Ack)
        await raw.close()
        host = live.hub.rooms["r1"]
        for ring in (True, False):
            if not ring:
                host.ring.clear()  # the catch-up then comes from the journal on disk
            reader = await Raw.open(live.url())
            welcome = await reader.hello(live.token("bo"), resume=p.Resume("", 0), presence=False)
            assert welcome.resumed
            got, sizes = 0, []
            while got < welcome.seq:
                data = await asyncio.wait_for(reader.ws.recv(), 10)
                assert isinstance(data, bytes)
                frame = p.decode_hub(data)
                if isinstance(frame, p.Events):
                    sizes.append(len(data))
                    got = frame.events[-1]["seq"]
            assert len(sizes) > 1 and max(sizes) <= FRAME_BYTES + (8 << 10)
            await reader.close()
    finally:
        await stop_hub(live, server)
