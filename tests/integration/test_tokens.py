"""Tokens end when they say, can be revoked on open connections, and name one person with one
role; command ids cannot be reused for something else; names are matched exactly."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
from pathlib import Path

import jwt
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from server.auth import AuthError, load_or_create_secret, mint, token_id
from server.clock import ManualClock
from server.hub import Hub, HubConfig
from tests.integration.conftest import LiveHub, Raw, start_hub, stop_hub
from warroom import protocol as p
from warroom.core import Role
from warroom.hubproc import HubProcess
from warroom.protocol import Close


async def ended(raw: Raw, timeout: float = 5.0) -> tuple[list[p.HubFrame], int | None, str]:
    frames: list[p.HubFrame] = []
    with pytest.raises(ConnectionClosed):
        while True:
            frames.append(await raw.frame(timeout))
    return frames, raw.ws.close_code, raw.ws.close_reason or ""


async def refused(url: str, tok: str, room: str = "r1", **hello: object) -> tuple[str, int | None]:
    raw = await Raw.open(url)
    await raw.ws.send(p.encode(p.Hello(p.VERSION, tok, room, **hello)))  # type: ignore[arg-type]
    frames, code, _ = await ended(raw)
    assert not any(isinstance(f, p.Welcome) for f in frames), frames
    error = next(f for f in frames if isinstance(f, p.Error))
    return error.message, code


async def test_an_open_connection_is_closed_when_its_token_expires(tmp_path: Path) -> None:
    clock = ManualClock()
    live, server = await start_hub(tmp_path, clock)
    try:
        raw = await Raw.open(live.url())
        token = mint(live.secret, "r1", "ana", Role.ENGINEER, 120, clock.now())
        await raw.hello(token)
        clock.advance(119)
        await asyncio.sleep(0.1)
        assert raw.ws.close_code is None  # not yet
        clock.advance(2)  # its exp passes: the hub's timer ends it, no command needed
        frames, code, reason = await ended(raw, timeout=5)
        assert code == Close.TOKEN_EXPIRED and "expired" in reason
        assert any(isinstance(f, p.Error) and f.code == "unauthorized" for f in frames)
    finally:
        await stop_hub(live, server)


async def test_expiry_is_checked_on_every_command(tmp_path: Path) -> None:
    now = [time.time()]
    secret = load_or_create_secret(tmp_path)
    hub = Hub(HubConfig(data_dir=tmp_path, secret=secret), clock=lambda: now[0])
    server = await hub.serve("127.0.0.1", 0)
    try:
        port = server.sockets[0].getsockname()[1]
        raw = await Raw.open(f"ws://127.0.0.1:{port}/r1")
        await raw.hello(mint(secret, "r1", "ana", Role.ENGINEER, 600, now[0]), presence=False)
        await raw.cmd("before", "note", text="in time")
        assert isinstance(await raw.answer("before"), p.Ack)
        now[0] += 601  # the hub's clock passes the token's exp; its timer has not fired
        await raw.cmd("after", "note", text="too late")
        frames, code, _ = await ended(raw)
        assert code == Close.TOKEN_EXPIRED
        assert not any(isinstance(f, p.Ack) for f in frames)
        assert hub.rooms["r1"].state.notes == 1
    finally:
        server.close()
        await server.wait_closed()
        await hub.close()


def revoke(data_dir: Path, *args: str) -> str:
    return subprocess.run(
        [sys.executable, "-m", "warroom", "revoke", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


async def test_a_revoked_token_is_cut_off_within_a_second_and_stays_revoked(
    tmp_path: Path,
) -> None:
    secret = load_or_create_secret(tmp_path)
    lost = mint(secret, "r1", "bob", Role.ENGINEER, 3600, time.time())
    other = mint(secret, "r1", "cy", Role.ENGINEER, 3600, time.time())
    hub = HubProcess(tmp_path)
    port = hub.port
    try:
        raw = await Raw.open(hub.room_url("r1"))
        await raw.hello(lost)
        keep = await Raw.open(hub.room_url("r1"))
        await keep.hello(other)
        out = revoke(tmp_path, "--id", token_id(lost), "--why", "laptop lost")
        assert token_id(lost) in out
        started = time.monotonic()
        frames, code, reason = await ended(raw, timeout=3)
        assert time.monotonic() - started < 1.5
        assert code == Close.TOKEN_REVOKED and "laptop lost" in reason
        await keep.cmd("still", "note", text="cy is unaffected")
        assert isinstance(await keep.answer("still"), p.Ack)
        await keep.close()
    finally:
        hub.stop()
    again = HubProcess(tmp_path, port=port)
    try:
        message, code = await refused(again.room_url("r1"), lost)
        assert code == Close.UNAUTHORIZED and "revoked" in message
    finally:
        again.stop()


async def test_revoking_a_person_ends_every_token_issued_before(tmp_path: Path) -> None:
    live, server = await start_hub(tmp_path)
    try:
        first = await Raw.open(live.url())
        await first.hello(live.token("bob"))
        second = await Raw.open(live.url())
        await second.hello(live.token("bob"), presence=False)
        revoke(tmp_path, "--name", "bob", "--room", "r1", "--before", str(time.time() + 1))
        for raw in (first, second):
            _, code, _ = await ended(raw, timeout=3)
            assert code == Close.TOKEN_REVOKED
        fresh = mint(live.secret, "r1", "bob", Role.ENGINEER, 600, time.time() + 5)
        raw = await Raw.open(live.url())
        await raw.hello(fresh)  # issued after the cut: welcome
        await raw.close()
    finally:
        await stop_hub(live, server)


async def test_a_token_naming_the_seat_holder_with_another_role_is_refused(
    hub: LiveHub,
) -> None:
    ana = await Raw.open(hub.url())
    await ana.hello(hub.token("ana", "conductor"))
    await ana.until(p.Snapshot)
    assert hub.hub.rooms["r1"].state.conductor == "ana"
    impostor = hub.token("ana", "engineer")
    for presence in (True, False):
        message, code = await refused(hub.url(), impostor, presence=presence)
        assert code == Close.UNAUTHORIZED
        assert "ana is in this room as conductor" in message
    assert hub.hub.rooms["r1"].state.train is None and hub.hub.rooms["r1"].state.conductor == "ana"
    # The operator can say otherwise: a token minted to change the role is let in, when it
    # joins (a script's connection would record nothing, so it is refused).
    changed = mint(hub.secret, "r1", "ana", Role.ENGINEER, 600, time.time(), rerole=True)
    message, code = await refused(hub.url(), changed, presence=False)
    assert code == Close.UNAUTHORIZED and "until it joins with presence" in message
    raw = await Raw.open(hub.url())
    await raw.hello(changed)
    await raw.close()
    for _ in range(100):
        if hub.hub.rooms["r1"].state.members["ana"].role is Role.ENGINEER:
            break
        await asyncio.sleep(0.02)
    assert hub.hub.rooms["r1"].state.members["ana"].role is Role.ENGINEER
    await ana.close()


async def test_a_command_id_cannot_be_reused_for_another_command(hub: LiveHub) -> None:
    raw = await Raw.open(hub.url())
    await raw.hello(hub.token("ana"), presence=False)
    await raw.cmd("c1", "note", text="first")
    first = await raw.answer("c1")
    assert isinstance(first, p.Ack)
    await raw.cmd("c1", "note", text="first")  # a retry: the same answer, applied once
    assert await raw.answer("c1") == first
    other = await Raw.open(hub.url())  # another device of the same person
    await other.hello(hub.token("ana"), presence=False)
    await other.cmd("c1", "note", text="something else")
    answer = await other.answer("c1")
    assert isinstance(answer, p.RejectFrame) and answer.code == "invalid"
    assert "already used" in answer.reason
    assert hub.hub.rooms["r1"].state.notes == 1
    await raw.close()
    await other.close()


@pytest.mark.parametrize("name", ["alice\n", "HUB", "Hub", "hub", "al ice", ""])
async def test_names_are_matched_whole_and_reserved_names_in_any_case(
    hub: LiveHub, name: str
) -> None:
    with pytest.raises(AuthError):
        mint(hub.secret, "r1", name, Role.ENGINEER, 600, time.time())
    now = int(time.time())
    crafted = jwt.encode(
        {"room": "r1", "sub": name, "role": "engineer", "iat": now, "exp": now + 600},
        hub.secret,
        algorithm="HS256",
    )
    message, code = await refused(hub.url(), crafted)
    assert code == Close.UNAUTHORIZED and "no valid person" in message


async def test_rooms_differing_only_in_case_never_share_a_journal(hub: LiveHub) -> None:
    raw = await Raw.open(hub.url("r1"))
    await raw.hello(hub.token("ana"))
    await raw.close()
    message, code = await refused(hub.url("R1"), hub.token("ana", room="R1"), room="R1")
    assert code == Close.BAD_FRAME and "differs only in case from room r1" in message
    assert not (hub.data_dir / "rooms" / "R1.db").exists()


async def test_the_reserved_room_is_refused_whatever_its_case_and_path(hub: LiveHub) -> None:
    for room in ("healthz", "HEALTHZ", "Healthz"):
        now = int(time.time())
        crafted = jwt.encode(
            {"room": room, "sub": "ana", "role": "engineer", "iat": now, "exp": now + 60},
            hub.secret,
            algorithm="HS256",
        )
        async with connect(f"ws://127.0.0.1:{hub.port}/{room}") as ws:
            await ws.send(p.encode(p.Hello(p.VERSION, crafted, room)))
            error = p.decode_hub(await ws.recv())
            assert isinstance(error, p.Error) and error.code == "bad_room"
            assert "reserved" in error.message
            with pytest.raises(ConnectionClosed):
                await ws.recv()
            assert ws.close_code == Close.BAD_FRAME


async def test_health_is_answered_with_a_query_string_too(hub: LiveHub) -> None:
    import urllib.request

    def get() -> tuple[int, bytes]:
        url = f"http://127.0.0.1:{hub.port}/healthz?probe=1"
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read()

    assert await asyncio.to_thread(get) == (200, b"ok\n")  # the hub runs on this loop


async def test_logs_from_is_honoured_without_a_resume(hub: LiveHub) -> None:
    feeder = await Raw.open(hub.url())
    await feeder.hello(hub.token("ana"), presence=False)
    await feeder.ws.send(p.encode(p.Logs("s", 0, [[f"line {i}", 0] for i in range(10)])))
    await feeder.until(p.LogsAck)
    reader = await Raw.open(hub.url())
    await reader.hello(hub.token("bo"), presence=False, logs=True, logs_from=7)
    lines = await reader.until(p.LogLines)
    assert [line[0] for line in lines.lines] == [8, 9, 10]
    await feeder.close()
    await reader.close()


async def test_nothing_a_revoked_connection_sends_is_applied(tmp_path: Path) -> None:
    live, server = await start_hub(tmp_path, rate=1e4, burst=1e4, byte_rate=1e9)
    try:
        token = live.token("bob")
        raw = await Raw.open(live.url())
        await raw.hello(token, presence=False)
        raw.ws.transport.pause_reading()  # it never reads the close, so the close lingers
        done = asyncio.Event()

        async def pump() -> None:
            i = 0
            with contextlib.suppress(ConnectionClosed, OSError):
                while not done.is_set():
                    await raw.cmd(f"n{i}", "note", text=f"note {i}")
                    i += 1
                    await asyncio.sleep(0.002)

        task = asyncio.create_task(pump())
        await asyncio.sleep(0.3)
        await asyncio.to_thread(revoke, tmp_path, "--id", token_id(token))
        revoked_at = time.time()
        await asyncio.sleep(2.5)
        done.set()
        await task
        journal = live.hub.rooms["r1"].journal
        noted = [e.event.ts for e in journal.entries() if e.event.kind == "note"]
        assert noted, "the notes before the revocation were applied"
        # Within the poll's half second (and a margin), then nothing, though it kept sending.
        assert max(noted) < revoked_at + 1.0
        raw.ws.transport.abort()
    finally:
        await stop_hub(live, server)


async def test_a_revocation_made_while_the_room_opens_is_not_missed(tmp_path: Path) -> None:
    from tests.integration.test_big_rooms import write_big_room

    write_big_room(tmp_path, 1300)  # about 75 MiB: its room takes seconds to open
    live, server = await start_hub(tmp_path)
    try:
        token = live.token("bob")
        raw = await Raw.open(live.url())
        await raw.ws.send(p.encode(p.Hello(p.VERSION, token, "r1")))
        await asyncio.sleep(0.05)
        assert "r1" not in live.hub.rooms  # still opening
        await asyncio.to_thread(revoke, tmp_path, "--id", token_id(token))
        assert "r1" not in live.hub.rooms, "the room opened before the revocation landed"
        frames, code, _ = await ended(raw, timeout=30)
        assert code == Close.UNAUTHORIZED
        assert not any(isinstance(f, p.Welcome) for f in frames)
        assert any(isinstance(f, p.Error) and "revoked" in f.message for f in frames)
    finally:
        await stop_hub(live, server)


async def test_revoking_a_person_spares_the_token_minted_right_after(hub: LiveHub) -> None:
    await asyncio.to_thread(revoke, hub.data_dir, "--name", "raj")
    fresh = mint(hub.secret, "r1", "raj", Role.ENGINEER, 600, time.time())  # the same second
    raw = await Raw.open(hub.url())
    await raw.hello(fresh)
    await raw.close()
