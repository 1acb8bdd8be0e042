"""Bad input of every kind gets a clear error or close code, and the hub keeps serving."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import msgpack
import pytest
from websockets.exceptions import ConnectionClosed

from tests.integration.conftest import LiveHub, Raw, start_hub, stop_hub
from warroom import protocol as p
from warroom.protocol import Close


async def closed_with(raw: Raw) -> tuple[int | None, str]:
    with pytest.raises(ConnectionClosed):
        for _ in range(50):
            await raw.frame()
    return raw.ws.close_code, raw.ws.close_reason or ""


async def refused(hub: LiveHub, first: bytes | str) -> tuple[p.HubFrame, int | None]:
    raw = await Raw.open(hub.url())
    await raw.ws.send(first)
    error = await raw.frame()
    code, _ = await closed_with(raw)
    return error, code


async def assert_still_serving(hub: LiveHub) -> None:
    raw = await Raw.open(hub.url())
    await raw.hello(hub.token("ok-user"))
    await raw.cmd("alive", "note", text="still here")
    assert isinstance(await raw.answer("alive"), p.Ack)
    await raw.close()


async def test_command_before_hello(hub: LiveHub) -> None:
    error, code = await refused(hub, p.encode(p.Cmd("1", "note", {"text": "x"})))
    assert error == p.Error("handshake_required", "send hello before anything else")
    assert code == Close.HANDSHAKE_REQUIRED
    await assert_still_serving(hub)


async def test_garbage_before_hello(hub: LiveHub) -> None:
    error, code = await refused(hub, b"\x00\xff garbage")
    assert isinstance(error, p.Error) and error.code == "bad_frame"
    assert code == Close.BAD_FRAME


async def test_other_protocol_version_is_refused_clearly(hub: LiveHub) -> None:
    hello = msgpack.packb({"t": "hello", "v": 99, "token": "x", "room": "r1"})
    error, code = await refused(hub, hello)
    assert isinstance(error, p.Error) and error.code == "unsupported_version"
    assert "speaks warroom protocol 1" in error.message and "version 99" in error.message
    assert code == Close.UNSUPPORTED_VERSION


@pytest.mark.parametrize(
    ("make_token", "words"),
    [
        (lambda h: "nonsense", "malformed"),
        (lambda h: h.token("ana", ttl=-10), "expired"),
        (lambda h: h.token("ana", room="elsewhere"), "for room 'elsewhere'"),
        (lambda h: h.token("ana")[:-4] + "AAAA", "signature"),
    ],
)
async def test_bad_tokens_are_refused_at_the_handshake(hub: LiveHub, make_token, words) -> None:  # type: ignore[no-untyped-def]
    hello = p.encode(p.Hello(p.VERSION, make_token(hub), "r1"))
    error, code = await refused(hub, hello)
    assert isinstance(error, p.Error) and error.code == "unauthorized"
    assert words in error.message
    assert code == Close.UNAUTHORIZED
    assert "r1" not in hub.hub.rooms or hub.hub.rooms["r1"].state.present() == []


async def test_url_and_hello_must_name_the_same_room(hub: LiveHub) -> None:
    raw = await Raw.open(hub.url("r2"))
    await raw.ws.send(p.encode(p.Hello(p.VERSION, hub.token("ana"), "r1")))
    error = await raw.frame()
    assert isinstance(error, p.Error) and error.code == "bad_room"
    assert (await closed_with(raw))[0] == Close.BAD_FRAME


async def test_bad_frames_after_hello_get_errors_and_the_connection_lives(hub: LiveHub) -> None:
    raw = await Raw.open(hub.url())
    await raw.hello(hub.token("ana"))
    await raw.until(p.Snapshot)
    head = hub.hub.rooms["r1"].head
    bad = [
        b"\xc1",
        msgpack.packb([1, 2, 3]),
        msgpack.packb({"t": "cmd", "id": 7, "op": "note"}),
        msgpack.packb({"t": "cmd", "id": "a", "op": "note", "args": "text"}),
        msgpack.packb({"t": "warp"}),
        "a text frame",
    ]
    for data in bad:
        await raw.ws.send(data)
        error = await raw.until(p.Error)
        assert error.code == "bad_frame" and error.message
    for cid, op, args, code in [
        ("u1", "launch", {}, "unknown_op"),
        ("w1", "note", {"text": 12}, "invalid"),
        ("w2", "note", {}, "invalid"),
        ("w3", "join", {"tz": "UTC"}, "unknown_op"),
    ]:
        await raw.ws.send(p.encode(p.Cmd(cid, op, args)))
        answer = await raw.answer(cid)
        assert isinstance(answer, p.RejectFrame) and answer.code == code
    assert hub.hub.rooms["r1"].head == head  # nothing half-applied
    await raw.cmd("ok", "note", text="fine")
    assert isinstance(await raw.answer("ok"), p.Ack)
    await raw.close()


async def test_oversized_frame_closes_1009(tmp_path: Path) -> None:
    live, server = await start_hub(tmp_path, max_frame=4096)
    try:
        raw = await Raw.open(live.url())
        await raw.hello(live.token("ana"))
        await raw.until(p.Snapshot)
        await raw.cmd("big", "note", text="x" * 10_000)
        code, _ = await closed_with(raw)
        assert code == Close.TOO_BIG
        assert live.hub.rooms["r1"].state.notes == 0
        await assert_still_serving(live)
    finally:
        await stop_hub(live, server)


async def test_handshake_timeout(tmp_path: Path) -> None:
    live, server = await start_hub(tmp_path, handshake_timeout=0.3)
    try:
        raw = await Raw.open(live.url())
        error = await raw.frame()
        assert isinstance(error, p.Error) and error.code == "handshake_timeout"
        assert (await closed_with(raw))[0] == Close.HANDSHAKE_TIMEOUT
    finally:
        await stop_hub(live, server)


async def test_a_flood_is_rate_limited_then_cut_off(tmp_path: Path) -> None:
    live, server = await start_hub(tmp_path, rate=5.0, burst=10.0)
    try:
        flood = await Raw.open(live.url())
        await flood.hello(live.token("fay"))
        await flood.until(p.Snapshot)
        for i in range(15):
            await flood.cmd(f"f{i}", "note", text="spam")
        # Rejects are immediate while acks wait for the commit, so they arrive out of order.
        answers: list[p.Ack | p.RejectFrame] = []
        while len(answers) < 15:
            frame = await flood.frame()
            if isinstance(frame, p.Ack | p.RejectFrame):
                answers.append(frame)
        limited = [a for a in answers if isinstance(a, p.RejectFrame)]
        assert limited and all(a.code == "rate_limited" for a in limited)
        assert sum(isinstance(a, p.Ack) for a in answers) <= 11
        with pytest.raises(ConnectionClosed):
            for i in range(200):
                await flood.cmd(f"g{i}", "note", text="more spam")
                await asyncio.sleep(0)
            for _ in range(400):
                await flood.frame()
        assert flood.ws.close_code == Close.RATE_LIMITED
        await assert_still_serving(live)
    finally:
        await stop_hub(live, server)


async def test_a_slow_client_is_dropped_and_the_others_get_everything(tmp_path: Path) -> None:
    live, server = await start_hub(tmp_path, send_budget=64 << 10, rate=1e6, burst=1e6)
    try:
        slow = await Raw.open(live.url(), rcvbuf=4096)
        await slow.hello(live.token("sam"))
        slow.ws.transport.pause_reading()  # it stops reading, as a stalled laptop would
        while not any(pr.actor.name == "sam" for pr in live.hub.rooms["r1"].peers):
            await asyncio.sleep(0.01)  # it joins the fan-out once its catch-up is queued
        peer = next(pr for pr in live.hub.rooms["r1"].peers if pr.actor.name == "sam")
        # Small kernel buffers on both ends, so the hub's own queue is what overflows.
        hub_sock = peer.ws.transport.get_extra_info("socket")
        hub_sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        fast = await Raw.open(live.url())
        await fast.hello(live.token("fei"))
        sender = await Raw.open(live.url())
        await sender.hello(live.token("sid"))
        total = 400

        async def read_all() -> int:
            got = 0
            while got < total:
                frame = await fast.frame(10)
                if isinstance(frame, p.Events):
                    got += sum(1 for e in frame.events if e["kind"] == "note")
            return got

        reader = asyncio.create_task(read_all())
        for i in range(total):  # one commit, so one frame, per command
            await sender.cmd(f"s{i}", "note", text=f"{i:04d} " + "y" * 500)
            assert isinstance(await sender.answer(f"s{i}"), p.Ack)
        assert await reader == total
        assert not peer.alive
        assert peer not in live.hub.rooms["r1"].peers
        slow.ws.transport.resume_reading()
        with pytest.raises(ConnectionClosed):
            while True:
                await slow.frame(10)
        # Cut off at once, without a close handshake it would never finish: the hub's log and
        # the peer record why; the client sees the connection drop.
        assert slow.ws.close_code == 1006
        assert peer.why.startswith(f"{int(Close.TOO_SLOW)} ") and "budget" in peer.why
        await fast.close()
        await sender.close()
    finally:
        await stop_hub(live, server)


async def test_unknown_time_zone_is_refused(hub: LiveHub) -> None:
    hello = p.encode(p.Hello(p.VERSION, hub.token("ana"), "r1", "Mars/Olympus_Mons"))
    error, code = await refused(hub, hello)
    assert isinstance(error, p.Error) and "unknown time zone" in error.message
    assert code == Close.BAD_FRAME


async def test_a_query_string_does_not_change_the_room(hub: LiveHub) -> None:
    raw = await Raw.open(hub.url() + "?from=bookmark")
    welcome = await raw.hello(hub.token("ana"))
    assert welcome.room == "r1"
    await raw.close()


async def test_welcome_names_the_role_a_person_acts_with(hub: LiveHub) -> None:
    first = await Raw.open(hub.url())
    assert (await first.hello(hub.token("ana", "conductor"))).role == "conductor"
    second = await Raw.open(hub.url())
    # The seat is taken, so a second conductor token acts as an engineer.
    assert (await second.hello(hub.token("cat", "conductor"))).role == "engineer"
    await first.close()
    await second.close()
