"""A damaged journal is refused loudly, never served as if whole, and can be salvaged into a
new epoch; a room that failed to open is tried again on the next join."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed

from server.auth import load_or_create_secret, mint
from tests.integration.conftest import Raw, start_hub, stop_hub
from warroom import protocol as p
from warroom.core import Role
from warroom.hubproc import HubProcess
from warroom.protocol import Close

FAST = ("--rate", "10000", "--burst", "10000")


def token(data_dir: Path, name: str = "ana", role: Role = Role.ENGINEER) -> str:
    return mint(load_or_create_secret(data_dir), "r1", name, role, 3600, time.time())


async def notes(url: str, tok: str, count: int, prefix: str = "old") -> int:
    """Send `count` acknowledged notes; the seq of the last ack."""
    raw = await Raw.open(url)
    await raw.hello(tok, presence=False)
    seq = 0
    for i in range(count):
        await raw.cmd(f"{prefix}{i}", "note", text=f"{prefix}-{i}")
        answer = await raw.answer(f"{prefix}{i}")
        assert isinstance(answer, p.Ack)
        seq = answer.seq
    await raw.close()
    return seq


async def refused(url: str, tok: str, **hello: object) -> tuple[p.Error, int | None, str]:
    raw = await Raw.open(url)
    await raw.ws.send(p.encode(p.Hello(p.VERSION, tok, "r1", **hello)))  # type: ignore[arg-type]
    frames: list[p.HubFrame] = []
    with pytest.raises(ConnectionClosed):
        for _ in range(20):
            frames.append(await raw.frame())
    assert not any(isinstance(f, p.Welcome | p.Snapshot | p.Events) for f in frames), frames
    error = next(f for f in frames if isinstance(f, p.Error))
    return error, raw.ws.close_code, raw.ws.close_reason or ""


def journal(data_dir: Path) -> Path:
    return data_dir / "rooms" / "r1.db"


async def test_a_truncated_wal_is_refused_never_spliced(tmp_path: Path) -> None:
    tok = token(tmp_path)
    hub = HubProcess(tmp_path, *FAST)
    port = hub.port
    head = await notes(hub.room_url("r1"), tok, 200)
    hub.kill()  # the WAL still holds the events: SQLite had no chance to checkpoint it
    wal = journal(tmp_path).with_name("r1.db-wal")
    data = wal.read_bytes()
    wal.write_bytes(data[: len(data) // 2])
    again = HubProcess(tmp_path, *FAST, port=port)
    try:
        # A client holding the whole history is not told it resumed: it is refused.
        error, code, reason = await refused(
            again.room_url("r1"), tok, resume=p.Resume("e", head), presence=False
        )
        assert error.code == "room_unavailable"
        assert code == Close.ROOM_UNAVAILABLE
        assert "room r1" in reason and "acknowledged" in error.message
        assert "events are lost" in error.message
        # And again: a refused room is checked again on each join, not cached as open.
        error2, code2, _ = await refused(again.room_url("r1"), tok)
        assert code2 == Close.ROOM_UNAVAILABLE and error2.message == error.message
    finally:
        again.stop()


async def test_a_flipped_byte_in_an_event_fails_its_checksum(tmp_path: Path) -> None:
    live, server = await start_hub(tmp_path, rate=1e4, burst=1e4)
    try:
        await notes(live.url(), live.token("ana"), 20, prefix="note")
    finally:
        await stop_hub(live, server)  # a clean stop: the WAL is folded into the file
    db = journal(tmp_path)
    data = bytearray(db.read_bytes())
    at = data.index(b"note-17")
    data[at + 5] ^= 0x01  # "note-17" becomes "note-07" inside the event's data
    db.write_bytes(bytes(data))
    live, server = await start_hub(tmp_path, rate=1e4, burst=1e4)
    try:
        error, code, reason = await refused(live.url(), live.token("ana"))
        assert code == Close.ROOM_UNAVAILABLE
        assert "fails its checksum" in error.message and "r1" in reason
    finally:
        await stop_hub(live, server)


async def test_a_journal_cut_mid_page_is_refused_with_a_reason(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    live, server = await start_hub(tmp_path, rate=1e4, burst=1e4)
    try:
        await notes(live.url(), live.token("ana"), 300, prefix="n")
    finally:
        await stop_hub(live, server)
    db = journal(tmp_path)
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 2 + 1000])
    live, server = await start_hub(tmp_path, rate=1e4, burst=1e4)
    try:
        error, code, reason = await refused(live.url(), live.token("ana"))
        assert code == Close.ROOM_UNAVAILABLE
        assert error.code == "room_unavailable" and "damaged" in error.message
        assert reason.startswith("room r1 is unavailable")
        damaged = [r for r in caplog.records if "journal damaged" in r.getMessage()]
        assert len(damaged) == 1 and damaged[0].exc_info is None  # one line, no traceback
        assert "room r1" in damaged[0].getMessage()
    finally:
        await stop_hub(live, server)


async def test_a_missing_journal_with_acknowledged_events_is_not_a_new_room(
    tmp_path: Path,
) -> None:
    live, server = await start_hub(tmp_path, rate=1e4, burst=1e4)
    try:
        await notes(live.url(), live.token("ana"), 5)
    finally:
        await stop_hub(live, server)
    journal(tmp_path).unlink()
    live, server = await start_hub(tmp_path, rate=1e4, burst=1e4)
    try:
        error, code, _ = await refused(live.url(), live.token("ana"))
        assert code == Close.ROOM_UNAVAILABLE
        assert "missing" in error.message and "5 events were acknowledged" in error.message
    finally:
        await stop_hub(live, server)


async def test_salvage_goes_on_from_the_intact_part_in_a_new_epoch(tmp_path: Path) -> None:
    tok = token(tmp_path)
    hub = HubProcess(tmp_path, *FAST)
    port = hub.port
    raw = await Raw.open(hub.room_url("r1"))
    welcome = await raw.hello(tok, presence=False)
    old_epoch = welcome.epoch
    await raw.close()
    head = await notes(hub.room_url("r1"), tok, 200)
    hub.kill()
    wal = journal(tmp_path).with_name("r1.db-wal")
    wal.write_bytes(wal.read_bytes()[: wal.stat().st_size // 2])
    out = subprocess.run(
        [sys.executable, "-m", "warroom", "salvage", "--data-dir", str(tmp_path), "r1"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "kept events 1.." in out and "acknowledged events are lost" in out
    assert "new epoch" in out
    kept = int(out.split("kept events 1..")[1].split(",")[0])
    assert 0 < kept < head
    moved = list((tmp_path / "rooms").glob("r1.damaged-*"))
    assert len(moved) == 1 and (moved[0] / "r1.db").exists()  # kept aside, not deleted
    again = HubProcess(tmp_path, *FAST, port=port)
    try:
        # A replica from the old epoch gets a fresh snapshot, never a splice onto new seqs.
        raw = await Raw.open(again.room_url("r1"))
        welcome = await raw.hello(tok, resume=p.Resume(old_epoch, head), presence=False)
        assert welcome.epoch != old_epoch and not welcome.resumed
        snapshot = await raw.until(p.Snapshot)
        assert snapshot.state is not None and snapshot.state["notes"] == kept
        await raw.cmd("after", "note", text="after salvage")
        answer = await raw.answer("after")
        assert isinstance(answer, p.Ack) and answer.seq == kept + 1
        await raw.close()
    finally:
        again.stop()


async def test_a_room_that_could_not_be_created_opens_once_it_can(tmp_path: Path) -> None:
    live, server = await start_hub(tmp_path, rate=1e4, burst=1e4)
    try:
        blocker = journal(tmp_path)
        blocker.parent.mkdir(parents=True, exist_ok=True)
        blocker.mkdir()  # the journal's path cannot be a file: the open fails
        error, code, reason = await refused(live.url(), live.token("ana"))
        assert code == Close.ROOM_UNAVAILABLE
        assert "cannot be opened" in error.message and reason
        blocker.rmdir()
        raw = await Raw.open(live.url())
        await raw.hello(live.token("ana"))  # not cached as failed: this join opens it
        await raw.cmd("n", "note", text="in at last")
        assert isinstance(await raw.answer("n"), p.Ack)
        await raw.close()
    finally:
        await stop_hub(live, server)


async def test_a_damage_found_while_serving_closes_the_room_for_everyone(
    tmp_path: Path,
) -> None:
    live, server = await start_hub(tmp_path, rate=1e4, burst=1e4)
    try:
        await notes(live.url(), live.token("ana"), 50)
        host = live.hub.rooms["r1"]
        watcher = await Raw.open(live.url())
        await watcher.hello(live.token("wes"))
        # A resume from disk reads events back; one of them no longer matches its checksum.
        host.journal.db.execute("UPDATE events SET crc = crc + 1 WHERE seq = 10")
        host.ring.clear()
        late = await Raw.open(live.url())
        await late.hello(live.token("lee"), resume=p.Resume(host.epoch, 5), presence=False)
        for raw in (late, watcher):
            seen: list[p.HubFrame] = []
            with pytest.raises(ConnectionClosed):
                while True:
                    seen.append(await raw.frame())
            assert raw.ws.close_code == Close.ROOM_UNAVAILABLE
            # The whole sentence, not only the close reason cut to 120 bytes, even for the
            # one still catching up.
            notice = [f for f in seen if isinstance(f, p.Error)]
            assert notice and notice[-1].code == "room_unavailable"
            assert "event 10 fails its checksum" in notice[-1].message
        await asyncio.sleep(0.1)
        assert "r1" not in live.hub.rooms  # put away; the next join checks it again
        error, code, _ = await refused(live.url(), live.token("ana"))
        assert code == Close.ROOM_UNAVAILABLE and "event 10 fails its checksum" in error.message
    finally:
        await stop_hub(live, server)


async def test_a_journal_without_its_high_water_mark_is_refused(tmp_path: Path) -> None:
    live, server = await start_hub(tmp_path, rate=1e4, burst=1e4)
    try:
        await notes(live.url(), live.token("ana"), 5)
    finally:
        await stop_hub(live, server)
    journal(tmp_path).with_suffix(".hwm").unlink()  # a backup restored without it, say
    live, server = await start_hub(tmp_path)
    try:
        error, code, _ = await refused(live.url(), live.token("ana"))
        assert code == Close.ROOM_UNAVAILABLE
        assert "high-water mark r1.hwm is missing" in error.message
    finally:
        await stop_hub(live, server)


def test_salvage_refuses_a_whole_journal(tmp_path: Path) -> None:
    async def fill() -> None:
        live, server = await start_hub(tmp_path, rate=1e4, burst=1e4)
        try:
            await notes(live.url(), live.token("ana"), 5)
        finally:
            await stop_hub(live, server)

    asyncio.run(fill())
    out = subprocess.run(
        [sys.executable, "-m", "warroom", "salvage", "--data-dir", str(tmp_path), "r1"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 1 and "is whole: there is nothing to salvage" in out.stderr
    assert not list((tmp_path / "rooms").glob("r1.damaged-*"))
    assert not list((tmp_path / "rooms").glob("*salvag*"))


async def test_a_room_being_salvaged_is_refused_not_created_afresh(tmp_path: Path) -> None:
    live, server = await start_hub(tmp_path)
    try:
        rooms = tmp_path / "rooms"
        (rooms / "r1.salvaging").touch()  # what `warroom salvage` holds while it works
        error, code, _ = await refused(live.url(), live.token("ana"))
        assert code == Close.ROOM_UNAVAILABLE and "being salvaged" in error.message
        assert not journal(tmp_path).exists()
        (rooms / "r1.salvaging").unlink()
        raw = await Raw.open(live.url())
        await raw.hello(live.token("ana"))
        await raw.close()
    finally:
        await stop_hub(live, server)


async def test_a_deadline_index_that_fails_after_a_commit_does_not_wedge_the_room(
    tmp_path: Path,
) -> None:
    live, server = await start_hub(tmp_path, rate=1e4, burst=1e4)
    try:
        ana = await Raw.open(live.url())
        await ana.hello(live.token("ana", "conductor"))
        await ana.close()  # the seat's grace starts: a deadline goes in the index
        host = live.hub.rooms["r1"]
        for _ in range(100):
            if host._indexed is not None:
                break
            await asyncio.sleep(0.02)
        assert host._indexed is not None
        live.hub.book.index._db.close()  # type: ignore[union-attr]  # the index can no longer write
        back = await Raw.open(live.url())
        await back.hello(live.token("ana", "conductor"))  # no deadline now: its removal fails
        await back.cmd("after", "note", text="the room goes on")
        answer = await back.answer("after")
        assert isinstance(answer, p.Ack), answer
        assert host.head == host.journal.head()
        await back.close()
    finally:
        live.hub.book.index = None  # already closed
        await stop_hub(live, server)


async def test_joiners_queued_behind_a_damage_are_turned_away_not_left_hanging(
    tmp_path: Path,
) -> None:
    live, server = await start_hub(tmp_path, rate=1e4, burst=1e4)
    try:
        await notes(live.url(), live.token("ana"), 50)
        host = live.hub.rooms["r1"]
        host.journal.db.execute("UPDATE events SET crc = crc + 1 WHERE seq = 10")
        host.ring.clear()
        late = await Raw.open(live.url())
        script = await Raw.open(live.url())
        # The first finds the damage while reading the journal; the second is right behind.
        await late.ws.send(
            p.encode(p.Hello(p.VERSION, live.token("lee"), "r1", "UTC", p.Resume(host.epoch, 5)))
        )
        await script.ws.send(p.encode(p.Hello(p.VERSION, live.token("sam"), "r1", presence=False)))
        await script.cmd("x", "note", text="anyone?")
        for raw in (late, script):
            seen: list[p.HubFrame] = []
            with pytest.raises(ConnectionClosed):
                while True:
                    seen.append(await raw.frame(timeout=5))
            assert raw.ws.close_code == Close.ROOM_UNAVAILABLE, seen
        await asyncio.sleep(0.2)
        assert "r1" not in live.hub.rooms
    finally:
        await stop_hub(live, server)
