"""The socket loop around the replica, against a scripted websocket peer (no hub): hello,
resend after a drop, the first answer winning, gaps, fatal closes, version skew, backoff.

The replica's own rules are fed bytes in tests/unit/test_replica.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve

from warroom import client as client_module
from warroom import protocol as p
from warroom.client import ConnectError, RoomClient, backoff, room_of
from warroom.core import RoomState
from warroom.core.wire import state_to_wire
from warroom.replica import Answer, Status, StatusChanged, Update

Step = Callable[[ServerConnection, p.Hello], Awaitable[None]]


def event(seq: int, kind: str = "note") -> dict[str, Any]:
    return {"seq": seq, "ts": 1.0, "kind": kind, "actor": "ana", "data": {"text": "x"}}


async def welcome(ws: ServerConnection, seq: int, resumed: bool = False) -> None:
    await ws.send(p.encode(p.Welcome(1, "r1", "ana", "engineer", "e1", seq, resumed)))
    if not resumed:
        state = state_to_wire(RoomState(room="r1", notes=seq))
        await ws.send(p.encode(p.Snapshot("e1", seq, state, [])))


async def command(ws: ServerConnection) -> p.Cmd:
    frame = p.decode_client(await ws.recv())
    assert isinstance(frame, p.Cmd)
    return frame


@asynccontextmanager
async def scripted(*steps: Step) -> AsyncIterator[tuple[str, list[p.Hello]]]:
    """A websocket peer that plays `steps[n]` to its n-th connection (after reading the
    hello) and then closes it; yields its URL and the hellos it got."""
    hellos: list[p.Hello] = []

    async def handler(ws: ServerConnection) -> None:
        hello = p.decode_client(await ws.recv())
        assert isinstance(hello, p.Hello)
        hellos.append(hello)
        await steps[min(len(hellos), len(steps)) - 1](ws, hello)

    async with serve(handler, "127.0.0.1", 0, compression=None) as server:
        port = server.sockets[0].getsockname()[1]
        yield f"ws://127.0.0.1:{port}/r1", hellos


@pytest.fixture
def attempts(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """No waiting between attempts; the attempt numbers the loop asked a delay for."""
    asked: list[int] = []

    def no_wait(attempt: int, jitter: float = 1.0) -> float:
        asked.append(attempt)
        return 0.0

    monkeypatch.setattr(client_module, "backoff", no_wait)
    return asked


async def running(client: RoomClient) -> asyncio.Task[None]:
    task = asyncio.create_task(client.run())
    await client.wait_live(5)
    return task


async def test_a_command_is_resent_after_a_drop_and_its_first_answer_wins(
    attempts: list[int],
) -> None:
    got: list[p.Cmd] = []

    async def first(ws: ServerConnection, hello: p.Hello) -> None:
        await welcome(ws, 2)
        got.append(await command(ws))
        await ws.close(1001)  # the hub stops before answering

    async def second(ws: ServerConnection, hello: p.Hello) -> None:
        await welcome(ws, 2, resumed=True)
        cmd = await command(ws)
        got.append(cmd)
        for _ in range(2):  # a duplicate answer after the resend is ignored
            await ws.send(p.encode(p.Ack(cmd.id, "e1", 3)))
        await ws.send(p.encode(p.Events("e1", [event(3)])))
        await ws.wait_closed()

    async with scripted(first, second) as (url, hellos):
        updates: list[Update] = []
        client = RoomClient(url, "tok", on_update=updates.append)
        task = await running(client)
        answer = await asyncio.wait_for(client.send("note", {"text": "hi"}), 5)
        assert answer == Answer(got[0].id, "note", True, seq=3)
        assert got[0] == got[1], "resent with its id"
        assert client.pending() == 0
        while client.seq < 3:
            await asyncio.sleep(0.01)
        await client.close()
        await task
    assert [h.resume for h in hellos] == [None, p.Resume("e1", 2)]
    assert [u for u in updates if isinstance(u, Answer)] == [answer]
    statuses = [u.status for u in updates if isinstance(u, StatusChanged)]
    assert statuses == [Status.LIVE, Status.RECONNECTING, Status.LIVE, Status.CLOSED]
    assert attempts == [1]


async def test_a_gap_closes_and_resumes_from_the_last_event_applied(attempts: list[int]) -> None:
    async def gap(ws: ServerConnection, hello: p.Hello) -> None:
        await welcome(ws, 2)
        await ws.send(p.encode(p.Events("e1", [event(4)])))
        await ws.wait_closed()

    async def resume(ws: ServerConnection, hello: p.Hello) -> None:
        await welcome(ws, 4, resumed=True)
        await ws.send(p.encode(p.Events("e1", [event(3), event(4)])))
        await ws.wait_closed()

    async with scripted(gap, resume) as (url, hellos):
        updates: list[Update] = []
        client = RoomClient(url, "tok", on_update=updates.append)
        task = asyncio.create_task(client.run())
        while client.seq < 4:
            await asyncio.sleep(0.01)
        await client.close()
        await task
    assert [h.resume for h in hellos] == [None, p.Resume("e1", 2)]
    assert StatusChanged(Status.RECONNECTING, "missed events; resuming", 0.0) in updates


async def test_a_fatal_close_fails_every_command_and_stops(attempts: list[int]) -> None:
    async def expire(ws: ServerConnection, hello: p.Hello) -> None:
        await welcome(ws, 0)
        await command(ws)
        await ws.send(p.encode(p.Error("unauthorized", "your token expired; ask for a new one")))
        await ws.close(4005, "token expired")

    async with scripted(expire) as (url, hellos):
        updates: list[Update] = []
        client = RoomClient(url, "tok", on_update=updates.append)
        task = await running(client)
        with pytest.raises(ConnectError, match="your token expired"):
            await asyncio.wait_for(client.send("note", {"text": "hi"}), 5)
        await asyncio.wait_for(task, 5)
    assert client.status is Status.FAILED and client.pending() == 0
    assert updates[-1] == StatusChanged(Status.FAILED, "your token expired; ask for a new one")
    assert len(hellos) == 1 and attempts == []


async def test_an_event_this_client_does_not_know_stops_it(attempts: list[int]) -> None:
    async def newer(ws: ServerConnection, hello: p.Hello) -> None:
        await welcome(ws, 0)
        await ws.send(p.encode(p.Events("e1", [event(1, "rocket_launched")])))
        await ws.wait_closed()

    async with scripted(newer) as (url, hellos):
        client = RoomClient(url, "tok")
        task = await running(client)
        await asyncio.wait_for(task, 5)
    assert client.status is Status.FAILED and len(hellos) == 1
    with pytest.raises(ConnectError, match="upgrade warroom"):
        await client.wait_live(1)


async def test_only_a_connection_that_got_in_resets_the_backoff(attempts: list[int]) -> None:
    async def busy(ws: ServerConnection, hello: p.Hello) -> None:
        await ws.send(p.encode(p.Error("too_many", "too many connections")))
        await ws.close(4010, "too many")

    async def drop(ws: ServerConnection, hello: p.Hello) -> None:
        await welcome(ws, 0)
        await ws.close(1011)

    async def stay(ws: ServerConnection, hello: p.Hello) -> None:
        await welcome(ws, 0)
        await ws.wait_closed()

    async with scripted(busy, busy, drop, busy, stay) as (url, hellos):
        updates: list[Update] = []
        client = RoomClient(url, "tok", on_update=updates.append)
        task = asyncio.create_task(client.run())
        while len(hellos) < 5 or client.status is not Status.LIVE:
            await asyncio.sleep(0.01)
        await client.close()
        await task
    assert attempts == [1, 2, 1, 2]
    waits = [u for u in updates if isinstance(u, StatusChanged) and u.retry_in is not None]
    assert [u.status for u in waits] == [Status.CONNECTING] * 2 + [Status.RECONNECTING] * 2
    assert waits[0].detail == "hub closed the connection: too many"


async def test_without_reconnect_the_first_end_is_a_failure(attempts: list[int]) -> None:
    async def drop(ws: ServerConnection, hello: p.Hello) -> None:
        await ws.close(1001)

    async with scripted(drop) as (url, hellos):
        client = RoomClient(url, "tok", reconnect=False, presence=False, history=True)
        task = asyncio.create_task(client.run())
        with pytest.raises(ConnectError, match="connection lost"):
            await client.wait_live(5)
        await task
    assert hellos[0].resume == p.Resume("", 0) and hellos[0].presence is False
    assert attempts == []


def test_the_backoff_grows_to_five_seconds() -> None:
    assert [backoff(n) for n in range(1, 8)] == [0.4, 0.8, 1.6, 3.2, 5.0, 5.0, 5.0]
    assert backoff(1, 1.2) == pytest.approx(0.48)


@pytest.mark.parametrize(
    ("url", "room"),
    [("ws://h:1/train-1", "train-1"), ("wss://h/train-1/", "train-1"), ("ws://h:1/r?x=1", "r")],
)
def test_room_from_url(url: str, room: str) -> None:
    assert room_of(url) == room


@pytest.mark.parametrize(
    "url", ["http://h/r", "ws:///r", "ws://h:1/", "ws://h/a b", "ws://h/healthz"]
)
def test_bad_urls(url: str) -> None:
    with pytest.raises(ValueError):
        room_of(url)
