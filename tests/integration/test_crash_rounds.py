"""Twenty crashes in a row: a hub child SIGKILLed mid-stream, again and again, on one data
dir, with a client resending what was never answered: no acknowledged command is lost, none is
applied twice, and the seqs run 1..head without a gap."""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path

from tests.integration.conftest import Raw
from tests.integration.test_durability import fetch_state, history, tokens
from warroom import protocol as p
from warroom.core import replay
from warroom.hubproc import HubProcess

ROUNDS = 20
WINDOW = 64  # commands in flight


async def crash_round(
    data_dir: Path, token: str, n: int, resend: list[str]
) -> tuple[set[str], list[str]]:
    """Start a hub, resend `resend` (ids unanswered before), pump new commands with `WINDOW`
    in flight, SIGKILL it mid-stream. Returns (ids acked, ids sent and not answered)."""
    hub = HubProcess(data_dir, "--rate", "100000", "--burst", "100000")
    acked: set[str] = set()
    sent: list[str] = []
    try:
        raw = await Raw.open(hub.room_url("r1"))
        await raw.hello(token)  # present, so the next start has someone to mark gone
        window = asyncio.Semaphore(WINDOW)
        ids = [*resend, *(f"r{n}-c{i}" for i in range(100_000))]

        async def pump() -> None:
            for cid in ids:
                await window.acquire()
                await raw.cmd(cid, "note", text=cid)  # a retry asks exactly the same
                sent.append(cid)

        async def collect() -> None:
            while True:
                frame = await raw.frame()
                if isinstance(frame, p.Ack):
                    acked.add(frame.id)
                    window.release()
                elif isinstance(frame, p.RejectFrame):
                    raise AssertionError(f"{frame.id} rejected: {frame.reason}")

        tasks = [asyncio.create_task(pump()), asyncio.create_task(collect())]
        stop_at = random.randint(len(resend) + 100, len(resend) + 600)
        deadline = time.monotonic() + 20
        while len(acked) < stop_at and time.monotonic() < deadline:
            for t in tasks:
                if t.done():
                    t.result()  # a reject or a lost connection: say so
            await asyncio.sleep(0.002)
        hub.kill()  # SIGKILL, with commands in flight
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        assert len(acked) >= stop_at, f"round {n}: only {len(acked)} acks"
        return acked, [cid for cid in sent if cid not in acked]
    finally:
        hub.kill()


async def test_twenty_sigkills_mid_stream_lose_and_double_nothing(tmp_path: Path) -> None:
    tok = tokens(tmp_path)
    acked: set[str] = set()
    unanswered: list[str] = []
    in_flight = 0
    start = time.monotonic()
    for n in range(ROUNDS):
        got, unanswered = await crash_round(tmp_path, tok["ben"], n, unanswered)
        acked |= got
        in_flight += len(unanswered)
    took = time.monotonic() - start
    again = HubProcess(tmp_path)
    try:
        events = await history(again.room_url("r1"), tok["ana"])
        noted = [e.data["text"] for _, e in events if e.kind == "note"]
        seqs = [s for s, _ in events]
        print(
            f"\n{ROUNDS} SIGKILLs in {took:.1f}s: {len(acked)} commands acked, {in_flight}"
            f" unanswered when killed (resent next round), {len(noted)} notes journaled,"
            f" head {seqs[-1]}"
        )
        assert acked <= set(noted), f"lost {len(acked - set(noted))} acknowledged commands"
        assert len(noted) == len(set(noted)), "a command applied twice"
        assert seqs == list(range(1, len(seqs) + 1))
        # Every start after a crash said who was gone: the journal matches reality.
        assert sum(e.kind == "presence_reset" for _, e in events) == ROUNDS
        state = await fetch_state(again.room_url("r1"), tok["ana"])
        assert replay("r1", (e for s, e in events if s <= state[0])) == state[1]
    finally:
        again.stop()
