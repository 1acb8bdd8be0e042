"""Crash and restart: every acknowledged command survives a SIGKILL; state is rebuilt exactly."""

from __future__ import annotations

import asyncio
import subprocess
import time
from pathlib import Path

from server.auth import load_or_create_secret, mint
from tests.integration.conftest import Raw
from warroom import protocol as p
from warroom.client import RoomClient
from warroom.core import Event, Role, replay
from warroom.core.wire import event_from_wire
from warroom.hubproc import HubProcess


def tokens(data_dir: Path) -> dict[str, str]:
    secret = load_or_create_secret(data_dir)
    now = time.time()
    return {
        n: mint(secret, "r1", n, r, 600, now)
        for n, r in [("ana", Role.CONDUCTOR), ("ben", Role.ENGINEER), ("eve", Role.ENGINEER)]
    }


async def history(url: str, token: str) -> list[tuple[int, Event]]:
    raw = await Raw.open(url)
    welcome = await raw.hello(token, resume=p.Resume("", 0), presence=False)
    out: list[tuple[int, Event]] = []
    while not out or out[-1][0] < welcome.seq:
        frame = await raw.until(p.Events)
        out.extend(event_from_wire(e) for e in frame.events)
    await raw.close()
    return out


async def test_sigkill_mid_stream_loses_no_acknowledged_command(tmp_path: Path) -> None:
    tok = tokens(tmp_path)
    hub = HubProcess(tmp_path, "--rate", "100000", "--burst", "100000")
    port = hub.port
    acked: set[str] = set()
    raw = await Raw.open(hub.room_url("r1"))
    await raw.hello(tok["ben"])

    window = asyncio.Semaphore(64)  # commands in flight, like a busy client's outbox

    async def pump() -> None:
        for i in range(100_000):
            await window.acquire()
            await raw.cmd(f"c{i}", "note", text=f"c{i}")

    async def collect() -> None:
        while True:
            frame = await raw.frame()
            if isinstance(frame, p.Ack):
                acked.add(frame.id)
                window.release()

    tasks = [asyncio.create_task(pump()), asyncio.create_task(collect())]
    deadline = time.monotonic() + 30
    while len(acked) < 500 and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    hub.kill()  # SIGKILL, with commands still in flight
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert len(acked) >= 500

    again = HubProcess(tmp_path, port=port)
    try:
        events = await history(again.room_url("r1"), tok["ana"])
        noted = [e.data["text"] for _, e in events if e.kind == "note"]
        assert acked <= set(noted), f"lost {len(acked - set(noted))} acknowledged commands"
        assert len(noted) == len(set(noted)), "a command applied twice"
        seqs = [s for s, _ in events]
        assert seqs == list(range(1, len(seqs) + 1))
        # The restarted hub says who is gone: the journal ends with the presence reset.
        assert any(e.kind == "presence_reset" for _, e in events)
        state = await fetch_state(again.room_url("r1"), tok["ana"])
        rebuilt = replay("r1", (e for s, e in events if s <= state[0]))
        assert rebuilt == state[1]
    finally:
        again.stop()


async def fetch_state(url: str, token: str) -> tuple[int, object]:
    client = RoomClient(url, token, presence=False, reconnect=False)
    task = asyncio.create_task(client.run())
    await client.wait_live()
    result = (client.seq, client.state)
    await client.close()
    await task
    return result


async def test_graceful_restart_keeps_state_and_resumes_clients(tmp_path: Path) -> None:
    tok = tokens(tmp_path)
    hub = HubProcess(tmp_path)
    port = hub.port
    client = RoomClient(hub.room_url("r1"), tok["ana"], "Europe/Berlin")
    task = asyncio.create_task(client.run())
    await client.wait_live()
    assert (await client.send("note", {"text": "before restart"})).ok
    epoch = client.epoch
    hub.stop()
    for _ in range(100):
        if client.status.value == "reconnecting":
            break
        await asyncio.sleep(0.02)
    assert client.status.value == "reconnecting"
    again = HubProcess(tmp_path, port=port)
    try:
        await client.wait_live(15)
        for _ in range(200):
            if client.state.members["ana"].present and client.status.value == "live":
                break
            await asyncio.sleep(0.05)
        assert client.epoch == epoch
        assert client.state.notes == 1
        assert client.state.conductor == "ana"
        assert (await client.send("note", {"text": "after restart"})).ok
        assert client.state.notes == 2
    finally:
        await client.close()
        await task
        again.stop()


def test_tls_and_healthz(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    hub = HubProcess(tmp_path / "data", "--tls-cert", str(cert), "--tls-key", str(key))
    try:
        assert hub.url.startswith("wss://")
        import ssl
        import urllib.request

        ctx = ssl.create_default_context(cafile=str(cert))
        with urllib.request.urlopen(
            f"https://127.0.0.1:{hub.port}/healthz", context=ctx, timeout=5
        ) as r:
            assert r.status == 200

        async def join() -> str:
            from websockets.asyncio.client import connect

            secret = load_or_create_secret(tmp_path / "data")
            token = mint(secret, "r1", "ana", Role.ENGINEER, 60, time.time())
            async with connect(hub.room_url("r1"), ssl=ctx) as ws:
                await ws.send(p.encode(p.Hello(p.VERSION, token, "r1")))
                frame = p.decode_hub(await ws.recv())
                assert isinstance(frame, p.Welcome)
                return frame.name

        assert asyncio.run(join()) == "ana"
    finally:
        hub.stop()
