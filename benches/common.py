"""What the benchmarks share: a hub child process, tokens, a thin raw client, the machine.

Clients here are deliberately thin: a bare `websockets` connection, frames built and read with
`warroom.protocol`, no replica and no reconnects, so the load generator costs as little CPU as
possible and the numbers describe the hub rather than the client library.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import platform
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import msgpack
from websockets.asyncio.client import ClientConnection, connect
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.uri import parse_uri

from server.auth import load_or_create_secret, mint
from warroom import protocol as p
from warroom.core import Role
from warroom.hubproc import HubProcess

# Benchmarks push far past a person's typing speed, so the per-connection flood limit is raised
# out of the way; the send queue is raised so a pipelining client is never dropped as too slow.
# Limits far out of the way: these benchmarks measure throughput, not admission.
HUB_ARGS = (
    "--rate", "1000000", "--burst", "1000000", "--send-budget", str(1 << 30),
    "--max-pending", "100000", "--join-rate", "100000",
)  # fmt: skip
TOKEN_TTL = 3600

# Every `events` frame starts with a map header and then "t": "events". Peeking at those bytes
# lets a client skip frames it does not need without unpacking them; a frame that does not
# match is decoded in full, so a change of key order in the hub costs speed, never correctness.
EVENTS_PREFIX = msgpack.packb("t") + msgpack.packb("events")


def is_events(data: bytes | str) -> bool:
    """True when `data` is (almost certainly) an `events` frame."""
    return isinstance(data, bytes) and data[1 : 1 + len(EVENTS_PREFIX)] == EVENTS_PREFIX


@dataclass(frozen=True, slots=True)
class BenchHub:
    """A running hub child and what a client needs to reach it."""

    proc: HubProcess
    secret: bytes
    data_dir: Path

    @property
    def pid(self) -> int:
        return self.proc.proc.pid

    def url(self, room: str) -> str:
        return self.proc.room_url(room)

    def token(self, room: str, name: str, role: Role = Role.ENGINEER) -> str:
        return mint(self.secret, room, name, role, TOKEN_TTL, time.time())

    def journaled(self, room: str, kind: str) -> int:
        """How many events of `kind` the room's journal holds on disk."""
        path = self.data_dir / "rooms" / f"{room}.db"
        with contextlib.closing(sqlite3.connect(path)) as db:
            row = db.execute("SELECT COUNT(*) FROM events WHERE kind = ?", (kind,)).fetchone()
        return int(row[0])


def data_parent() -> str:
    """Where hub data directories go: $WARROOM_BENCH_DIR, else /var/tmp (a disk, not tmpfs,
    on most systems, so every fsync costs what it would in production)."""
    chosen = os.environ.get("WARROOM_BENCH_DIR")
    if chosen:
        return chosen
    return "/var/tmp" if os.path.isdir("/var/tmp") else tempfile.gettempdir()


def filesystem(path: str) -> str:
    """The file system type and device `path` lives on, from /proc/mounts."""
    best, found = "", "unknown"
    real = os.path.realpath(path)
    with contextlib.suppress(OSError), open("/proc/mounts") as fh:
        for line in fh:
            device, mount, kind = line.split()[:3]
            inside = real == mount or real.startswith(mount.rstrip("/") + "/")
            if inside and len(mount) > len(best):
                best, found = mount, f"{kind} ({device})"
    return found


@contextlib.contextmanager
def running_hub(*extra: str) -> Iterator[BenchHub]:
    """A fresh hub in a fresh data directory, stopped (and the directory removed) after."""
    with tempfile.TemporaryDirectory(prefix="warroom-bench-", dir=data_parent()) as tmp:
        data_dir = Path(tmp)
        secret = load_or_create_secret(data_dir)
        proc = HubProcess(data_dir, *HUB_ARGS, *extra)
        try:
            yield BenchHub(proc, secret, data_dir)
        finally:
            proc.stop()


class JoinError(Exception):
    """The hub refused or never finished welcoming a benchmark client."""


async def join(url: str, token: str, room: str, *, presence: bool) -> tuple[ClientConnection, int]:
    """Open a raw connection, say hello, and read up to the snapshot; returns (ws, seq)."""
    ws = await connect(
        url,
        compression=None,
        max_size=64 << 20,
        proxy=None,
        ping_interval=None,
        open_timeout=30,
        close_timeout=1,
    )
    try:
        await ws.send(p.encode(p.Hello(p.VERSION, token, room, "UTC", None, presence)))
        while True:
            frame = p.decode_hub(await ws.recv())
            if isinstance(frame, p.Snapshot):
                return ws, frame.seq
            if isinstance(frame, p.Error):
                raise JoinError(f"{frame.code}: {frame.message}")
    except BaseException:
        await ws.close()
        raise


# One receive buffer serves every listener of a process: each read is handled before the next.
_READ_BUFFER = memoryview(bytearray(256 * 1024))


class Listener(asyncio.BufferedProtocol):
    """A receive-only client that costs the load generator as little CPU as possible.

    websockets' sans-I/O `ClientProtocol` does the opening handshake and masks what the listener
    sends (its hello, pongs). What the hub sends is parsed here: server frames are never masked
    (RFC 6455, 5.1), so a frame is a 2-10 byte header and its payload, and a loop over the
    bytes beats the general parser by a wide margin. There is no task per connection: each
    complete binary message goes to `on_frame(listener, data, arrived_ns)` from the read
    callback, stamped before anything else is done with it. Use `Listener.open`.
    """

    def __init__(
        self,
        url: str,
        hello: bytes,
        on_frame: Callable[[Listener, bytes, int], None],
        slot: int,
    ) -> None:
        self.slot = slot
        self.seq = 0
        self._hello = hello
        self._on_frame = on_frame
        self._ws: ClientProtocol | None = ClientProtocol(parse_uri(url), max_size=64 << 20)
        self._request = self._ws.connect()
        self._transport: asyncio.Transport | None = None
        self._welcomed: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._pending = b""  # an incomplete frame left over from the last read
        self._parts: list[bytes] = []  # the fragments of an unfinished message

    @classmethod
    async def open(
        cls,
        url: str,
        token: str,
        room: str,
        on_frame: Callable[[Listener, bytes, int], None],
        *,
        slot: int = 0,
        presence: bool = True,
        timeout: float = 30,
    ) -> Listener:
        """Connect, say hello and wait for the snapshot; frames after it go to `on_frame`."""
        parts = urlsplit(url)
        hello = p.encode(p.Hello(p.VERSION, token, room, "UTC", None, presence))
        loop = asyncio.get_running_loop()
        _, self = await loop.create_connection(
            lambda: cls(url, hello, on_frame, slot), parts.hostname or "127.0.0.1", parts.port or 80
        )
        try:
            self.seq = await asyncio.wait_for(asyncio.shield(self._welcomed), timeout)
        except BaseException:
            self.abort()
            raise
        return self

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport) and self._ws is not None
        self._transport = transport
        self._ws.send_request(self._request)
        self._flush()

    def get_buffer(self, sizehint: int) -> memoryview:
        return _READ_BUFFER

    def buffer_updated(self, nbytes: int) -> None:
        arrived = time.monotonic_ns()
        data = _READ_BUFFER[:nbytes].tobytes()
        if self._ws is not None:
            self._handshake(data)
        else:
            self._frames(self._pending + data if self._pending else data, arrived)

    def _handshake(self, data: bytes) -> None:
        ws = self._ws
        assert ws is not None
        ws.receive_data(data)
        for event in ws.events_received():
            if isinstance(event, Response):
                if ws.handshake_exc is not None:
                    self._fail(JoinError(f"handshake failed: {ws.handshake_exc}"))
                    return
                # The hub says nothing until it has our hello, so no frame follows the response
                # in this read; from here on frames are parsed by hand.
                ws.send_binary(self._hello)
                self._flush()
                self._ws = None
                return

    def _frames(self, data: bytes, arrived: int) -> None:
        end, at = len(data), 0
        while end - at >= 2:
            head, size = data[at], data[at + 1] & 0x7F
            start = at + 2
            if size == 126:
                size, start = int.from_bytes(data[start : start + 2]), start + 2
            elif size == 127:
                size, start = int.from_bytes(data[start : start + 8]), start + 8
            if start + size > end:
                break
            payload = data[start : start + size]
            at = start + size
            opcode = head & 0x0F
            if opcode in (Opcode.BINARY.value, Opcode.CONT.value):
                if not head & 0x80:  # FIN is clear: more fragments follow
                    self._parts.append(payload)
                    continue
                if self._parts:
                    self._parts.append(payload)
                    payload = b"".join(self._parts)
                    self._parts.clear()
                self._deliver(payload, arrived)
            elif opcode == Opcode.PING.value and self._transport is not None:
                pong = Frame(Opcode.PONG, payload).serialize(mask=True, extensions=[])
                self._transport.write(pong)
            elif opcode == Opcode.CLOSE.value:
                self.abort()
                return
        self._pending = data[at:]

    def _deliver(self, data: bytes, arrived: int) -> None:
        if self._welcomed.done():
            self._on_frame(self, data, arrived)
            return
        frame = p.decode_hub(data)
        if isinstance(frame, p.Snapshot):
            self._welcomed.set_result(frame.seq)
        elif isinstance(frame, p.Error):
            self._fail(JoinError(f"{frame.code}: {frame.message}"))

    def eof_received(self) -> bool | None:
        return None  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(JoinError(f"connection lost: {exc or 'closed by the hub'}"))

    def abort(self) -> None:
        """Drop the connection at once, without a closing handshake."""
        if self._transport is not None:
            self._transport.abort()

    def _fail(self, exc: Exception) -> None:
        if not self._welcomed.done():
            self._welcomed.set_exception(exc)
        self.abort()

    def _flush(self) -> None:
        if self._ws is None or self._transport is None or self._transport.is_closing():
            return
        for chunk in self._ws.data_to_send():
            if chunk:
                self._transport.write(chunk)


def note_frame(cmd_id: str, text: str) -> bytes:
    """A `note` command, encoded."""
    return p.encode(p.Cmd(cmd_id, "note", {"text": text}))


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The nearest-rank `q`-th percentile (0-100) of already sorted values; nan when empty."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), math.ceil(q / 100 * len(sorted_values))))
    return sorted_values[rank - 1]


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process (all its threads) has used so far."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine() -> dict[str, Any]:
    """Where the numbers were taken."""
    model = "unknown"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as fh:
        for line in fh:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": model,
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
        "websockets": version("websockets"),
        "msgpack": version("msgpack"),
        "data": f"{data_parent()} on {filesystem(data_parent())}",
    }
