"""The log stream end to end: file following, commands, resume after a crash, late joiners."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from server.auth import load_or_create_secret, mint
from tests.integration.conftest import LiveHub, Raw
from warroom import protocol as p
from warroom.client import LogBatch, RoomClient, Update
from warroom.core import Role
from warroom.feed import Feeder, follow_file
from warroom.hubproc import HubProcess


async def collect(
    agen: AsyncIterator[tuple[str, int]], count: int, timeout: float = 10
) -> list[str]:
    out: list[str] = []

    async def take() -> None:
        async for text, _ in agen:
            out.append(text)
            if len(out) == count:
                return

    await asyncio.wait_for(take(), timeout)
    return out


async def test_follow_file_from_the_end_through_rotation_and_truncation(tmp_path: Path) -> None:
    log = tmp_path / "scap.log"
    log.write_text("old line, not sent\n")
    done = False
    lines = follow_file(log, from_start=False, stop=lambda: done)
    reader = asyncio.create_task(collect(lines, 6))
    await asyncio.sleep(0.3)
    with log.open("a") as fh:
        fh.write("one\ntwo\n")
    await asyncio.sleep(0.3)
    log.rename(tmp_path / "scap.log.1")  # rotation: the old file keeps its last words
    with (tmp_path / "scap.log.1").open("a") as fh:
        fh.write("three, late in the old file\n")
    log.write_text("four, in the new file\n")
    await asyncio.sleep(0.4)
    with log.open("r+") as fh:  # truncation in place
        fh.truncate(0)
    await asyncio.sleep(0.3)
    with log.open("a") as fh:
        fh.write("five after truncation\nsix\n")
    got = await reader
    done = True
    assert got == [
        "one",
        "two",
        "three, late in the old file",
        "four, in the new file",
        "five after truncation",
        "six",
    ]


async def test_follow_file_from_start_and_a_file_that_appears_later(tmp_path: Path) -> None:
    log = tmp_path / "later.log"
    lines = follow_file(log, from_start=True)
    reader = asyncio.create_task(collect(lines, 2))
    await asyncio.sleep(0.3)
    log.write_bytes(b"first \xff\nsecond\n")
    assert await reader == ["first \ufffd", "second"]


def warroom(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "warroom", *args], capture_output=True, text=True, timeout=60
    )


async def read_logs(url: str, token: str, until: int, timeout: float = 20) -> list[list[Any]]:
    lines: list[list[Any]] = []

    def on_update(update: Update) -> None:
        if isinstance(update, LogBatch):
            lines.extend(update.lines)

    client = RoomClient(url, token, on_update=on_update)
    task = asyncio.create_task(client.run())
    deadline = time.monotonic() + timeout
    while len(lines) < until and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    await client.close()
    await task
    return lines


async def test_a_command_feed_marks_stderr_and_posts_its_exit(tmp_path: Path) -> None:
    hub = HubProcess(tmp_path)
    try:
        secret = load_or_create_secret(tmp_path)
        eng = mint(secret, "r1", "ana", Role.ENGINEER, 600, time.time())
        script = (
            "import sys; print('sync ok'); sys.stdout.flush(); "
            "print('PHP Fatal error: boom', file=sys.stderr); sys.exit(3)"
        )
        out = await asyncio.to_thread(
            warroom,
            "feed",
            hub.room_url("r1"),
            "-t",
            eng,
            "--source",
            "group1",
            "--",
            sys.executable,
            "-c",
            script,
        )
        assert out.returncode == 3, out.stderr
        lines = await read_logs(hub.room_url("r1"), eng, 2)
        by_text = {line[5]: line for line in lines}
        assert by_text["sync ok"][3] == 0  # stdout
        fatal = by_text["PHP Fatal error: boom"]
        assert fatal[3] == 1 and fatal[4] == 2  # stderr, error level
        events = warroom("events", hub.room_url("r1"), "-t", eng).stdout
        assert '"kind": "feed_exited"' in events and '"status": 3' in events
    finally:
        hub.stop()


async def test_visitors_cannot_feed(hub: LiveHub) -> None:
    raw = await Raw.open(hub.url())
    await raw.hello(hub.token("vic", "visitor"))
    await raw.ws.send(p.encode(p.Logs("s", 0, [["hello", 0]])))
    error = await raw.until(p.Error)
    assert error.code == "forbidden" and "visitors cannot feed" in error.message
    await raw.close()


async def test_duplicates_are_dropped_and_a_gap_is_refused(hub: LiveHub) -> None:
    raw = await Raw.open(hub.url())
    await raw.hello(hub.token("ana"), presence=False)
    await raw.ws.send(p.encode(p.Logs("s", 0, [["a", 0], ["b", 0]])))
    assert (await raw.until(p.LogsAck)).next == 2
    await raw.ws.send(p.encode(p.Logs("s", 1, [["b", 0], ["c", 0]])))  # b again, then c
    assert (await raw.until(p.LogsAck)).next == 3
    await raw.ws.send(p.encode(p.Logs("s", 7, [["h", 0]])))  # 3..6 never came
    assert (await raw.until(p.LogsAck)).next == 3
    await raw.close()
    watcher = await read_logs(hub.url(), hub.token("wes"), 3, timeout=3)
    assert [line[5] for line in watcher] == ["a", "b", "c"]


async def test_a_late_joiner_sees_the_backlog_at_once(hub: LiveHub) -> None:
    feeder = Feeder(hub.url(), hub.token("ana"), "group0")

    async def lines() -> AsyncIterator[tuple[str, int]]:
        for i in range(1200):
            yield f"line {i}", 0

    await feeder.run(lines())
    late = await read_logs(hub.url(), hub.token("late"), 1200, timeout=5)
    assert [line[5] for line in late] == [f"line {i}" for i in range(1200)]
    assert [line[0] for line in late] == list(range(1, 1201))


@pytest.mark.timeout(90)
async def test_kill_the_hub_during_a_feed_and_every_line_arrives_once(tmp_path: Path) -> None:
    hub = HubProcess(tmp_path)
    port = hub.port
    secret = load_or_create_secret(tmp_path)
    eng = mint(secret, "r1", "ana", Role.ENGINEER, 600, time.time())
    script = (
        "import sys, time\n"
        "for i in range(3000):\n"
        "    print(f'line {i}', flush=True)\n"
        "    if i % 100 == 0: time.sleep(0.05)\n"
    )
    feeder = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "warroom",
            "feed",
            hub.room_url("r1"),
            "-t",
            eng,
            "--source",
            "deploy",
            "--",
            sys.executable,
            "-c",
            script,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    again = None
    try:
        await asyncio.sleep(0.8)
        hub.kill()
        await asyncio.sleep(0.5)
        again = HubProcess(tmp_path, port=port)
        assert await asyncio.to_thread(feeder.wait, 60) == 0, (
            feeder.stderr.read() if feeder.stderr else ""
        )
        lines = await read_logs(again.room_url("r1"), eng, 3000)
        texts = [line[5] for line in lines]
        assert len(texts) == 3000, f"{len(texts)} lines, {len(set(texts))} distinct"
        assert texts == [f"line {i}" for i in range(3000)]
    finally:
        if feeder.poll() is None:
            feeder.kill()
        hub.stop()
        if again is not None:
            again.stop()


async def test_a_client_too_slow_for_the_logs_is_dropped_and_others_get_every_line(
    tmp_path: Path,
) -> None:
    import socket

    from tests.integration.conftest import start_hub, stop_hub

    live, server = await start_hub(tmp_path, send_budget=64 << 10, rate=1e6, burst=1e6)
    try:
        slow = await Raw.open(live.url(), rcvbuf=4096)
        await slow.hello(live.token("sam"))
        slow.ws.transport.pause_reading()
        while not any(pr.actor.name == "sam" for pr in live.hub.rooms["r1"].peers):
            await asyncio.sleep(0.01)
        peer = next(pr for pr in live.hub.rooms["r1"].peers if pr.actor.name == "sam")
        peer.ws.transport.get_extra_info("socket").setsockopt(
            socket.SOL_SOCKET, socket.SO_SNDBUF, 4096
        )
        got: list[str] = []
        fast = RoomClient(
            live.url(),
            live.token("fei"),
            on_update=lambda u: (
                got.extend(line[5] for line in u.lines) if isinstance(u, LogBatch) else None
            ),
        )
        fast_task = asyncio.create_task(fast.run())
        await fast.wait_live()
        feeder = Feeder(live.url(), live.token("ana"), "deploy")

        async def lines() -> AsyncIterator[tuple[str, int]]:
            for i in range(4000):
                yield f"{i:05d} " + "z" * 200, 0
                if i % 50 == 0:
                    await asyncio.sleep(0.03)  # many flushes, so many frames

        await feeder.run(lines())
        while len(got) < 4000:
            await asyncio.sleep(0.05)
        assert got == [f"{i:05d} " + "z" * 200 for i in range(4000)]
        assert not peer.alive
        await fast.close()
        await fast_task
        slow.ws.transport.abort()
    finally:
        await stop_hub(live, server)


async def test_long_lines_are_framed_under_the_limit_and_all_arrive(hub: LiveHub) -> None:
    feeder = Feeder(hub.url(), hub.token("ana"), "big")

    async def lines() -> AsyncIterator[tuple[str, int]]:
        for i in range(1500):
            yield f"{i:04d} " + "€" * 3000, 0  # cut to 2,000 characters, 3 bytes each

    await feeder.run(lines())
    got = await read_logs(hub.url(), hub.token("wes"), 1500, timeout=10)
    assert len(got) == 1500
    assert got[0][5].endswith("…[1005 more characters cut]")


async def test_a_stream_flag_must_be_an_integer(hub: LiveHub) -> None:
    raw = await Raw.open(hub.url())
    await raw.hello(hub.token("ana"), presence=False)
    await raw.ws.send(p.encode(p.Logs("s", 0, [["x", True]])))
    error = await raw.until(p.Error)
    assert error.code == "bad_frame" and "[text, 0 or 1]" in error.message
    await raw.close()
