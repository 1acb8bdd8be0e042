"""A clean stop (SIGTERM) closes every connection with 1001 and writes who left: people
connected, and a visitor whose leaving was still lingering, so the journal needs no presence
reset when the hub comes back."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed

from server.auth import load_or_create_secret, mint
from tests.integration.conftest import Raw
from tests.integration.test_churn import presence_of
from tests.integration.test_durability import history
from warroom.core import Role
from warroom.hubproc import HubProcess


async def closed_code(raw: Raw) -> int | None:
    with pytest.raises(ConnectionClosed):
        while True:
            await raw.frame(10)
    return raw.ws.close_code


async def test_sigterm_closes_with_1001_and_writes_who_left(tmp_path: Path) -> None:
    secret = load_or_create_secret(tmp_path)
    now = time.time()
    token = {
        name: mint(secret, "r1", name, role, 600, now)
        for name, role in (
            ("ana", Role.CONDUCTOR),
            ("raj", Role.ENGINEER),
            ("vic", Role.VISITOR),
            ("val", Role.VISITOR),
        )
    }
    hub = HubProcess(tmp_path)  # visitors' leaving lingers 10 s by default
    again = None
    try:
        present = {}
        for name in ("ana", "raj", "vic", "val"):
            present[name] = await Raw.open(hub.room_url("r1"))
            await present[name].hello(token[name])
        await present.pop("val").close()  # val's leaving is held: she may come back
        await asyncio.sleep(0.3)
        events = await history(hub.room_url("r1"), token["ana"])
        assert presence_of(events, "val") == ["joined"]
        head = events[-1][0]
        watchers = {n: asyncio.create_task(closed_code(raw)) for n, raw in present.items()}
        await asyncio.to_thread(hub.stop)
        assert hub.proc.returncode == 0
        codes = {n: await w for n, w in watchers.items()}
        assert codes == {"ana": 1001, "raj": 1001, "vic": 1001}
        again = HubProcess(tmp_path)
        events = await history(again.room_url("r1"), token["ana"])
        after = [(s, e) for s, e in events if s > head]
        print(f"\nwritten at the stop and the restart: {[(e.kind, e.actor) for _, e in after]}")
        for name in ("ana", "raj", "vic", "val"):
            assert presence_of(events, name) == ["joined", "left"], name
        # Everyone's leaving was written by the stop itself: the restart had nobody to reset.
        assert not any(e.kind == "presence_reset" for _, e in after)
    finally:
        hub.stop()
        if again is not None:
            again.stop()


async def test_a_peer_that_closes_the_websocket_but_never_the_tcp_does_not_hold_the_stop(
    tmp_path: Path,
) -> None:
    # The cause of the hub teardowns that waited out SIGTERM: a client sent its close frame
    # (a client process whose loop stopped), the hub answered, and then waited for the TCP
    # close forever; its handler with it, and with that the hub's shutdown.
    secret = load_or_create_secret(tmp_path)
    hub = HubProcess(tmp_path)
    try:
        raw = await Raw.open(hub.room_url("r1"))
        await raw.hello(mint(secret, "r1", "ana", Role.ENGINEER, 600, time.time()))
        raw.ws.transport.pause_reading()  # it never reads the hub's answer, nor closes TCP
        raw.ws.protocol.send_close(1011, "gone")
        raw.ws.send_data()
        await asyncio.sleep(3)  # the hub's close wait (2 s) has passed
        started = time.monotonic()
        await asyncio.to_thread(hub.stop)
        took = time.monotonic() - started
        assert hub.proc.returncode != -9, "the hub had to be killed"
        assert took < 3, f"stopping took {took:.1f} s"
        raw.ws.transport.abort()
    finally:
        hub.stop()
