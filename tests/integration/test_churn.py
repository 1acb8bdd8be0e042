"""A visitor reconnecting in a loop writes no churn: their leaving lingers, their return is
silent, and one `left` is written once they are really gone."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

from websockets.exceptions import ConnectionClosed

from tests.integration.conftest import LiveHub, Raw, start_hub, stop_hub
from tests.integration.test_durability import history
from warroom import protocol as p
from warroom.core import Event

LINGER = 2.0


def presence_of(events: list[tuple[int, Event]], name: str) -> list[str]:
    """The kinds of `name`'s joined and left events, in order."""
    return [e.kind for _, e in events if e.kind in ("joined", "left") and e.actor == name]


async def test_a_reconnect_loop_writes_one_join_and_after_the_linger_one_leave(
    tmp_path: Path,
) -> None:
    # Reconnects are not rate limited here, so every one of them is admitted.
    live, server = await start_hub(tmp_path, linger=LINGER, join_rate=100_000.0)
    try:
        ana = live.token("ana")
        writer = await Raw.open(live.url())
        await writer.hello(ana, presence=False)
        for i in range(10):
            await writer.cmd(f"n{i}", "note", text=f"note {i}")
            assert isinstance(await writer.answer(f"n{i}"), p.Ack)
        await writer.close()
        vic = live.token("vic", "visitor")
        start = time.monotonic()
        for _ in range(200):
            raw = await Raw.open(live.url())
            await raw.hello(vic)
            await raw.close()
        took = time.monotonic() - start
        events = await history(live.url(), ana)
        churn = presence_of(events, "vic")
        print(f"\n200 reconnects in {took:.1f}s wrote {len(churn)} joined/left: {churn[:4]}")
        assert churn == ["joined"]
        # Whoever joins now still has the room's notes in their timeline.
        late = await Raw.open(live.url())
        await late.hello(live.token("bea"), presence=False)
        snapshot = await late.until(p.Snapshot)
        assert [e["data"]["text"] for e in snapshot.recent if e["kind"] == "note"] == [
            f"note {i}" for i in range(10)
        ]
        await late.close()
        # Gone for good: one `left`, once the linger has passed.
        await wait_for_left(live, ana, timeout=LINGER + 5)
        assert presence_of(await history(live.url(), ana), "vic") == ["joined", "left"]
        assert not live.hub.rooms["r1"].state.members["vic"].present
    finally:
        await stop_hub(live, server)


async def wait_for_left(live: LiveHub, token: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if "left" in presence_of(await history(live.url(), token), "vic"):
            return
        await asyncio.sleep(0.2)
    raise AssertionError("no `left` was written after the linger")


async def test_with_the_default_limits_a_reconnect_loop_is_refused_and_writes_one_join(
    tmp_path: Path,
) -> None:
    live, server = await start_hub(tmp_path)
    try:
        vic = live.token("vic", "visitor")
        welcomed, refused = 0, 0
        for _ in range(200):
            raw = await Raw.open(live.url())
            await raw.ws.send(p.encode(p.Hello(p.VERSION, vic, "r1")))
            frame = await raw.frame()
            if isinstance(frame, p.Welcome):
                welcomed += 1
                await raw.close()
                continue
            assert isinstance(frame, p.Error) and frame.code == p.ErrorCode.TOO_MANY
            with contextlib.suppress(ConnectionClosed):
                await raw.frame()
            assert raw.ws.close_code == p.Close.TOO_MANY
            refused += 1
        print(f"\n200 reconnects: {welcomed} welcomed, {refused} refused with 4010")
        assert welcomed == 30 and refused == 170  # 30 a minute, by default
        assert presence_of(await history(live.url(), live.token("ana")), "vic") == ["joined"]
    finally:
        await stop_hub(live, server)


async def test_a_joiner_gone_before_its_snapshot_leaves_the_next_one_theirs(
    tmp_path: Path,
) -> None:
    # One journal thread, kept busy by another room, so a room's state waits its turn to be
    # packed: a visitor's connection (a reconnect loop's) is gone before it is. The state is
    # packed once for everyone who joins at that head; its leaving must not cancel that.
    # (Whether a visitor leaves before the packing is done depends on the machine: on a fast
    # one this may not race; it did every time on the one it was written on.)
    live, server = await start_hub(tmp_path, io_threads=1, rate=1e5, burst=1e5)
    busy = await Raw.open(live.url("r2"))
    await busy.hello(live.token("pam", room="r2"), room="r2", presence=False)
    window = asyncio.Semaphore(64)

    async def pump() -> None:
        for i in range(1_000_000):
            await window.acquire()
            await busy.cmd(f"c{i}", "note", text="busy")

    async def acks() -> None:
        while True:
            if isinstance(await busy.frame(), p.Ack):
                window.release()

    tasks = [asyncio.create_task(pump()), asyncio.create_task(acks())]
    try:
        await asyncio.sleep(0.2)
        for n in range(5):
            vic = await Raw.open(live.url())
            await vic.hello(live.token(f"vic{n}", "visitor"))  # a new head: its joined
            await vic.close()  # and gone at once, its catch-up not yet sent
            late = await Raw.open(live.url())
            await late.hello(live.token("bea"), presence=False)
            await late.until(p.Snapshot)  # the same head: the same packed state
            await late.cmd(f"b{n}", "note", text="and I am heard")
            assert isinstance(await late.answer(f"b{n}"), p.Ack)
            await late.close()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await stop_hub(live, server)
