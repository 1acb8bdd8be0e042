"""The TUI's log panel under load: the client's CPU, and how fast a key shows on screen.

The client is the real `warroom join`, in a pseudo-terminal of 120x40, its output read (and
thrown away) as a terminal would; its CPU is read from /proc. Three cases:

- cpu: a feeder process offers 10,000 lines/s to a real hub for `seconds`; the client's CPU
  seconds per wall second over that time, and its lag: from the last line's send until that
  line is on the client's screen.
- keys_hub: the feeder offers 50,000 lines/s to the real hub (which stores and forwards what it
  can: the delivered rate is reported); meanwhile `e` (the level filter, which rebuilds the
  view over the 20,000 lines kept) is pressed every quarter second, and each press is timed from
  the byte written to the terminal until the new filter's name is in the client's output.
- keys_direct: the same presses while a stand-in hub process sends the client `loglines`
  frames at 50,000 lines/s (1,250 lines every 25 ms, the real hub's frame pace): the rate the
  real hub cannot reach on a small machine, so the client alone is measured at it.

Run alone: python -m benches.tui_logs [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import json
import multiprocessing as mp
import os
import pty
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from websockets.asyncio.server import ServerConnection, serve

from benches.common import cpu_seconds, join, percentile, running_hub
from warroom import logtext
from warroom import protocol as p
from warroom.core import RoomState
from warroom.core.wire import state_to_wire

ROOM = "bench-tui"
SIZE = (120, 40)
CPU_RATE = 10_000.0
BURST_RATE = 50_000.0
KEY_TARGET_MS = 100.0
PRESS_EVERY = 0.25  # seconds between timed keypresses
TICK = 0.01  # how often the feeder sends the lines that have fallen due
FRAME = 0.025  # how often the stand-in hub sends a frame (the real hub's FLUSH_DELAY)
# After `e`: the level filter's name as the panel's border shows it, cycling from "every level".
LEVELS = ("warnings+", "errors", "every level")
LIVE = "● live".encode()


def line_text(n: int) -> str:
    """Line `n` of a sync run: mostly copies, some warnings, a few errors and a PHP trace."""
    host = f"mw{1301 + n % 39}"
    if n % 997 == 0:
        return f"{host}: PHP Fatal error: Uncaught RuntimeException: database is read-only #{n}"
    if n % 997 in (1, 2, 3):
        return f"#{n % 997 - 1} /srv/mediawiki/includes/libs/rdbms/Database.php(1400): query() #{n}"
    if n % 101 == 0:
        return f"{host}: WARNING: sync-file took 7s, slower than usual #{n}"
    if n % 331 == 0:
        return f"{host}: ERROR: rsync failed with exit 23 for php-1.44.0-wmf.5/cache/l10n #{n}"
    return f"{host}: Copying php-1.44.0-wmf.5/includes/Foo{n % 997}.php ({n % 90} KiB) ok #{n}"


# --- the client in a terminal -----------------------------------------------------------------


class Terminal:
    """`warroom join` in a pseudo-terminal; a thread reads its output and finds text in it."""

    def __init__(self, url: str, token: str) -> None:
        self.master, slave = pty.openpty()
        rows, cols = SIZE[1], SIZE[0]
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        env = {**os.environ, "TERM": "xterm-256color", "COLORTERM": "truecolor"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "warroom", "join", url, "--token", token, "--tz", "UTC"],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            start_new_session=True,
        )
        os.close(slave)
        self._lock = threading.Lock()
        self._watched: dict[bytes, tuple[threading.Event, list[float]]] = {}
        self._tail = b""
        self.bytes = 0
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 1 << 16)
            except OSError:
                return
            if not chunk:
                return
            now = time.monotonic()
            self.bytes += len(chunk)
            with self._lock:
                text = self._tail + chunk
                for needle, (found, at) in self._watched.items():
                    if not found.is_set() and needle in text:
                        at.append(now)
                        found.set()
                self._tail = chunk[-256:]

    def expect(self, needle: bytes) -> None:
        """Look for `needle` in the output from now on (call before causing it)."""
        with self._lock:
            self._watched[needle] = (threading.Event(), [])

    def wait(self, needle: bytes, timeout: float) -> float | None:
        """When `needle` was first seen since `expect` (monotonic), or None after `timeout`."""
        found, at = self._watched[needle]
        return at[0] if found.wait(timeout) else None

    def press(self, key: bytes) -> float:
        """Write `key` as typed; the monotonic time it was written."""
        at = time.monotonic()
        os.write(self.master, key)
        return at

    def cpu(self) -> float:
        return cpu_seconds(self.proc.pid)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.write(self.master, b"q")
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)


@contextlib.contextmanager
def terminal(url: str, token: str) -> Iterator[Terminal]:
    term = Terminal(url, token)
    try:
        term.expect(LIVE)
        if term.wait(LIVE, 30) is None:
            raise RuntimeError("the client never showed '● live'")
        yield term
    finally:
        term.close()


# --- feeding a real hub ---------------------------------------------------------------------


def _feeder(url: str, token: str, rate: float, seconds: float, conn: Connection) -> None:
    """A process: offer `rate` lines/s of source `sync` for `seconds`; report what was acked."""

    async def main() -> dict[str, float]:
        ws, _ = await join(url, token, ROOM, presence=False)
        acked = 0
        done = asyncio.Event()
        total = int(rate * seconds)

        async def acks() -> None:
            nonlocal acked
            async for data in ws:
                frame = p.decode_hub(data)
                if isinstance(frame, p.LogsAck) and frame.source == "sync":
                    acked = max(acked, frame.next)
                    if acked >= total:
                        done.set()

        reader = asyncio.create_task(acks())
        conn.send("ready")
        conn.recv()  # go
        start = time.monotonic()
        sent = 0
        while sent < total:
            due = min(total, int((time.monotonic() - start) * rate))
            if due > sent:
                lines = [[line_text(n), 0] for n in range(sent, due)]
                await ws.send(p.encode(p.Logs("sync", sent, lines)))
                sent = due
            await asyncio.sleep(TICK)
        last_sent = time.monotonic()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), 60)
        stored = time.monotonic()
        reader.cancel()
        await ws.close()
        return {
            "start": start,
            "last_sent": last_sent,
            "lines": float(total),
            "acked": float(acked),
            "stored_rate": acked / (stored - start),
        }

    conn.send(asyncio.run(main()))


@dataclass
class Feeding:
    """A feeder process, started and waiting for `go`."""

    proc: BaseProcess
    conn: Connection

    def go(self) -> None:
        self.conn.send("go")

    def result(self, timeout: float) -> dict[str, float]:
        if not self.conn.poll(timeout):
            raise RuntimeError("the feeder did not finish")
        out: dict[str, float] = self.conn.recv()
        self.proc.join(5)
        return out


def start_feeder(url: str, token: str, rate: float, seconds: float) -> Feeding:
    ours, theirs = mp.Pipe()
    proc = mp.get_context("spawn").Process(
        target=_feeder, args=(url, token, rate, seconds, theirs), daemon=True
    )
    proc.start()
    if not ours.poll(30) or ours.recv() != "ready":
        raise RuntimeError("the feeder did not connect")
    return Feeding(proc, ours)


# --- a stand-in hub that sends 50,000 lines/s --------------------------------------------------


def _stand_in(rate: float, seconds: float, conn: Connection) -> None:
    """A process: a websocket server that welcomes one client and sends it log lines."""

    async def main() -> None:
        epoch = "bench-epoch"
        texts = [line_text(n) for n in range(997 * 4)]
        levels = [logtext.level(text) for text in texts]
        go = asyncio.Event()
        finished: asyncio.Future[float] = asyncio.get_running_loop().create_future()

        async def handle(ws: ServerConnection) -> None:
            hello = p.decode_client(await ws.recv())
            assert isinstance(hello, p.Hello)
            await ws.send(
                p.encode(p.Welcome(p.VERSION, hello.room, "bob", "engineer", epoch, 0, False))
            )
            state = state_to_wire(RoomState(room=hello.room))
            await ws.send(p.encode(p.Snapshot(epoch, 0, state, [])))
            await go.wait()
            start, sent, total = time.monotonic(), 0, int(rate * seconds)
            last_sent = start
            while sent < total:
                due = min(total, int((time.monotonic() - start + FRAME) * rate))
                now = time.time()
                rows = [
                    [
                        n + 1,
                        now,
                        "sync",
                        0,
                        levels[n % len(texts)],
                        f"{texts[n % len(texts)]} @{n + 1}",
                    ]
                    for n in range(sent, due)
                ]
                for i in range(0, len(rows), 2000):
                    await ws.send(p.encode_loglines(epoch, rows[i : i + 2000]))
                last_sent = time.monotonic()
                sent = due
                await asyncio.sleep(max(0.0, start + sent / rate - time.monotonic()))
            if not finished.done():
                finished.set_result(last_sent)
            await ws.wait_closed()

        async with serve(handle, "127.0.0.1", 0, compression=None, max_size=64 << 20) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            conn.send(port)
            await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # go
            go.set()
            conn.send(await finished)
            await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # stop

    asyncio.run(main())


# --- the cases ----------------------------------------------------------------------------------


@dataclass
class Presses:
    """Timed `e` presses while lines pour in."""

    latencies_ms: list[float] = field(default_factory=list)
    missed: int = 0

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.latencies_ms)
        return {
            "presses": len(ordered) + self.missed,
            "missed": self.missed,
            "p50_ms": round(percentile(ordered, 50), 1),
            "p95_ms": round(percentile(ordered, 95), 1),
            "max_ms": round(ordered[-1], 1) if ordered else float("nan"),
            "target_ms": KEY_TARGET_MS,
            "met": bool(ordered) and not self.missed and percentile(ordered, 95) < KEY_TARGET_MS,
        }


def press_levels(term: Terminal, until: float, presses: Presses, first: int = 0) -> int:
    """Press `e` every `PRESS_EVERY` s until `until` (monotonic); returns the next level index."""
    index = first
    while time.monotonic() + PRESS_EVERY < until:
        time.sleep(PRESS_EVERY)
        label = LEVELS[index % len(LEVELS)].encode()
        term.expect(label)
        pressed = term.press(b"e")
        seen = term.wait(label, 2.0)
        if seen is None:
            presses.missed += 1
        else:
            presses.latencies_ms.append((seen - pressed) * 1000)
        index += 1
    return index


def cpu_case(seconds: float) -> dict[str, Any]:
    """The client's CPU while a real hub brings it `CPU_RATE` lines/s."""
    with running_hub() as hub:
        url = hub.url(ROOM)
        with terminal(url, hub.token(ROOM, "ana")) as term:
            feeding = start_feeder(url, hub.token(ROOM, "feeder"), CPU_RATE, seconds)
            total = int(CPU_RATE * seconds)
            last = f"#{total - 1}".encode()
            term.expect(last)
            cpu0, wall0 = term.cpu(), time.monotonic()
            hub_cpu0 = cpu_seconds(hub.pid)
            feeding.go()
            fed = feeding.result(seconds + 90)
            shown = term.wait(last, 30)
            cpu1, wall1 = term.cpu(), time.monotonic()
            hub_cpu1 = cpu_seconds(hub.pid)
    wall = wall1 - wall0
    return {
        "offered_per_s": CPU_RATE,
        "seconds": round(wall, 2),
        "lines": int(fed["lines"]),
        "stored_per_s": round(fed["stored_rate"]),
        "client_cpu": round((cpu1 - cpu0) / wall, 3),
        "hub_cpu": round((hub_cpu1 - hub_cpu0) / wall, 3),
        "lag_ms": None if shown is None else round((shown - fed["last_sent"]) * 1000, 1),
    }


def keys_hub_case(seconds: float) -> dict[str, Any]:
    """Keypresses while the feeder offers `BURST_RATE` lines/s to a real hub."""
    presses = Presses()
    with running_hub() as hub:
        url = hub.url(ROOM)
        with terminal(url, hub.token(ROOM, "ana")) as term:
            feeding = start_feeder(url, hub.token(ROOM, "feeder"), BURST_RATE, seconds)
            cpu0, wall0 = term.cpu(), time.monotonic()
            feeding.go()
            press_levels(term, wall0 + seconds, presses)
            cpu1, wall1 = term.cpu(), time.monotonic()
            fed = feeding.result(120)
    return {
        "offered_per_s": BURST_RATE,
        "stored_per_s": round(fed["stored_rate"]),
        "client_cpu": round((cpu1 - cpu0) / (wall1 - wall0), 3),
        **presses.summary(),
    }


def keys_direct_case(seconds: float) -> dict[str, Any]:
    """Keypresses while a stand-in hub sends the client `BURST_RATE` lines/s."""
    presses = Presses()
    ours, theirs = mp.Pipe()
    proc = mp.get_context("spawn").Process(
        target=_stand_in, args=(BURST_RATE, seconds, theirs), daemon=True
    )
    proc.start()
    try:
        if not ours.poll(30):
            raise RuntimeError("the stand-in hub did not start")
        port = ours.recv()
        with terminal(f"ws://127.0.0.1:{port}/{ROOM}", "unused") as term:
            last = f"@{int(BURST_RATE * seconds)}".encode()
            term.expect(last)
            cpu0, wall0 = term.cpu(), time.monotonic()
            ours.send("go")
            index = press_levels(term, wall0 + seconds, presses)
            # Back to every level, where the last line shows whatever its level.
            while index % len(LEVELS):
                term.press(b"e")
                index += 1
            if not ours.poll(30):
                raise RuntimeError("the stand-in hub did not finish")
            last_sent = ours.recv()
            cpu1, wall1 = term.cpu(), time.monotonic()
            caught_up = term.wait(last, 30)
            ours.send("stop")
    finally:
        proc.join(5)
        if proc.is_alive():
            proc.kill()
    return {
        "sent_per_s": BURST_RATE,
        "client_cpu": round((cpu1 - cpu0) / (wall1 - wall0), 3),
        "caught_up_ms": None if caught_up is None else round((caught_up - last_sent) * 1000, 1),
        **presses.summary(),
    }


def run(quick: bool) -> dict[str, Any]:
    """Every case; `quick` shortens them from about 10 s to about 3 s each."""
    seconds = 3.0 if quick else 10.0
    return {
        "cpu": cpu_case(seconds),
        "keys_hub": keys_hub_case(seconds),
        "keys_direct": keys_direct_case(seconds),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="about 3 s per case, not 10")
    args = parser.parse_args()
    print(json.dumps(run(args.quick), indent=2))


if __name__ == "__main__":
    main()
