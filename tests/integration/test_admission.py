"""Limits per person, over all their connections: how many at once, how often, how fast."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed

from tests.integration.conftest import LiveHub, Raw, start_hub, stop_hub
from warroom import protocol as p
from warroom.protocol import Close, ErrorCode


async def refused_hello(live: LiveHub, token: str) -> tuple[p.HubFrame, int | None]:
    """Send a hello that should be refused: the error frame, then the close code."""
    raw = await Raw.open(live.url())
    await raw.ws.send(p.encode(p.Hello(p.VERSION, token, "r1", presence=False)))
    error = await raw.frame()
    if not isinstance(error, p.Error):  # admitted after all
        await raw.close()
        return error, None
    with pytest.raises(ConnectionClosed):
        for _ in range(50):
            await raw.frame()
    return error, raw.ws.close_code


async def test_hellos_racing_the_first_open_of_a_room_still_meet_the_cap(
    tmp_path: Path,
) -> None:
    live, server = await start_hub(tmp_path)
    try:
        token = live.token("ana")
        raws = [await Raw.open(live.url()) for _ in range(12)]
        # All at once, before the room is open: the cap must count connections still joining.
        for raw in raws:
            await raw.ws.send(p.encode(p.Hello(p.VERSION, token, "r1", presence=False)))
        firsts = [await raw.frame() for raw in raws]
        welcomed = [f for f in firsts if isinstance(f, p.Welcome)]
        refused = [f for f in firsts if isinstance(f, p.Error) and f.code == ErrorCode.TOO_MANY]
        assert (len(welcomed), len(refused)) == (8, 4)
        for raw in raws:
            with contextlib.suppress(ConnectionClosed):
                await raw.close()
    finally:
        await stop_hub(live, server)


async def test_the_ninth_connection_of_one_person_is_refused(tmp_path: Path) -> None:
    live, server = await start_hub(tmp_path)  # the defaults: 8 connections per person
    try:
        token = live.token("ana")
        conns = []
        for _ in range(8):
            raw = await Raw.open(live.url())
            await raw.hello(token, presence=False)
            conns.append(raw)
        error, code = await refused_hello(live, token)
        assert isinstance(error, p.Error) and error.code == ErrorCode.TOO_MANY
        assert "8 connections" in error.message
        assert code == Close.TOO_MANY
        # Someone else is not held back by ana's connections; and once one of hers
        # closes, she may open another.
        other = await Raw.open(live.url())
        await other.hello(live.token("ben"), presence=False)
        await conns.pop().close()
        for _ in range(100):
            if live.hub._people[("r1", "ana")].slots < 8:
                break
            await asyncio.sleep(0.01)
        again = await Raw.open(live.url())
        await again.hello(token, presence=False)
        for raw in (*conns, other, again):
            await raw.close()
    finally:
        await stop_hub(live, server)


async def test_reconnecting_too_often_is_refused(tmp_path: Path) -> None:
    live, server = await start_hub(tmp_path)  # the defaults: 30 connections a minute
    try:
        token = live.token("ana")
        for _ in range(30):  # one at a time: never more than one open
            raw = await Raw.open(live.url())
            await raw.hello(token, presence=False)
            await raw.close()
        error, code = await refused_hello(live, token)
        assert isinstance(error, p.Error) and error.code == ErrorCode.TOO_MANY
        assert "too often" in error.message
        assert code == Close.TOO_MANY
        raw = await Raw.open(live.url())  # another person is not affected
        await raw.hello(live.token("ben"), presence=False)
        await raw.close()
    finally:
        await stop_hub(live, server)


RATE, BURST = 20.0, 20.0


async def test_forty_connections_of_one_person_share_one_rate(tmp_path: Path) -> None:
    live, server = await start_hub(tmp_path, rate=RATE, burst=BURST, max_conns=40, join_rate=1000.0)
    try:
        token = live.token("ana")
        conns = []
        for _ in range(40):
            raw = await Raw.open(live.url())
            await raw.hello(token, presence=False)
            await raw.until(p.Snapshot)
            conns.append(raw)
        acks: list[float] = []
        rejects = 0
        start = time.monotonic()
        run_for = 6.0

        async def greedy(i: int, raw: Raw) -> None:
            # As many commands as the hub takes, one at a time; a rate_limited reject is
            # honoured with a long pause, so the rejects stay too few to count as a flood.
            nonlocal rejects
            answers: asyncio.Queue[p.Ack | p.RejectFrame] = asyncio.Queue()

            async def read() -> None:  # every frame, so the client's queue never backs up
                while True:
                    frame = await raw.frame(30)
                    if isinstance(frame, p.Ack | p.RejectFrame):
                        answers.put_nowait(frame)

            reader = asyncio.create_task(read())
            try:
                await asyncio.sleep(i * 0.1)
                n = 0
                while time.monotonic() - start < run_for:
                    n += 1
                    await raw.cmd(f"{i}-{n}", "note", text=f"{i}-{n}")
                    answer = await asyncio.wait_for(answers.get(), 10)
                    assert answer.id == f"{i}-{n}"
                    if isinstance(answer, p.Ack):
                        acks.append(time.monotonic() - start)
                        await asyncio.sleep(0.05)
                    else:
                        assert answer.code == "rate_limited"
                        rejects += 1
                        await asyncio.sleep(10.0)
            finally:
                reader.cancel()

        tasks = [asyncio.create_task(greedy(i, raw)) for i, raw in enumerate(conns)]
        await asyncio.sleep(run_for)
        for task in tasks:
            task.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        elapsed = time.monotonic() - start
        crashed = [r for r in results if isinstance(r, BaseException) and not _cancelled(r)]
        assert not crashed, crashed
        steady = [t for t in acks if t >= 2.0]  # after the burst is spent
        print(
            f"\n{len(acks)} acks in {elapsed:.1f}s over 40 connections ({rejects} rejects);"
            f" {len(steady) / (elapsed - 2.0):.1f}/s after the burst"
        )
        assert len(acks) <= BURST + RATE * elapsed * 1.2 + 5
        assert len(steady) <= RATE * (elapsed - 2.0) * 1.25 + 5
        # The bucket was shared, not the connections cut off: acks kept coming.
        assert len(steady) >= RATE * (elapsed - 2.0) * 0.5
        assert all(raw.ws.close_code is None for raw in conns)
        await asyncio.gather(*(raw.close() for raw in conns))
    finally:
        await stop_hub(live, server)


def _cancelled(exc: BaseException) -> bool:
    return isinstance(exc, asyncio.CancelledError)


async def test_a_flood_that_gets_some_frames_through_is_still_cut_off(tmp_path: Path) -> None:
    live, server = await start_hub(tmp_path, rate=RATE, burst=BURST)
    try:
        raw = await Raw.open(live.url())
        await raw.hello(live.token("fay"), presence=False)
        await raw.until(p.Snapshot)
        acked = 0
        start = time.monotonic()

        async def read() -> None:
            nonlocal acked
            while True:
                frame = await raw.frame(10)
                if isinstance(frame, p.Ack):
                    acked += 1

        reader = asyncio.create_task(read())
        with contextlib.suppress(ConnectionClosed):
            for i in range(1000):  # five times the rate, for up to 10 s
                if reader.done():
                    break
                await raw.cmd(f"f{i}", "note", text="spam")
                await asyncio.sleep(1 / (5 * RATE))
        await asyncio.wait([reader], timeout=5)
        cut_after = time.monotonic() - start
        assert reader.done(), f"a flood at {5 * RATE:g}/s was not cut off in {cut_after:.0f}s"
        with pytest.raises(ConnectionClosed):
            reader.result()
        print(f"\nflood at {5 * RATE:g}/s cut after {cut_after:.1f}s with {acked} acked")
        assert raw.ws.close_code == Close.RATE_LIMITED
        # Frames got through after the burst was spent, and did not buy the flood more time.
        assert acked > BURST
        assert cut_after < 5
        ok = await Raw.open(live.url())  # the hub goes on serving others
        await ok.hello(live.token("ben"), presence=False)
        await ok.cmd("x", "note", text="fine")
        assert isinstance(await ok.answer("x"), p.Ack)
        await ok.close()
    finally:
        await stop_hub(live, server)


async def test_the_bytes_a_person_journals_are_bounded_not_only_their_frames(
    tmp_path: Path,
) -> None:
    # 4 KiB/s, with a burst of the largest frame (1 MiB): about 170 notes of 6 KB at once.
    live, server = await start_hub(tmp_path, rate=1e4, burst=1e4, byte_rate=4096)
    try:
        raw = await Raw.open(live.url())
        await raw.hello(live.token("raj"), presence=False)
        acked = limited = 0
        for i in range(300):
            await raw.cmd(f"n{i}", "note", text="€" * 2000)  # 6 KB, well under every count
            answer = await raw.answer(f"n{i}")
            if isinstance(answer, p.Ack):
                acked += 1
            else:
                assert answer.code == "rate_limited", answer
                limited += 1
        assert 150 <= acked <= 190 and limited == 300 - acked
        assert raw.ws.close_code is None  # refused, not cut: it waits for every answer
        await raw.close()
    finally:
        await stop_hub(live, server)
