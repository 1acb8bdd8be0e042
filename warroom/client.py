"""The connection worker: the socket loop around the sans-I/O replica.

It connects, sends the replica's hello, feeds it every frame, writes what it must send (the
outbox once live, new commands), and reconnects with backoff until closed or refused for good.
The room's rules of order, resume and duplicates are `warroom.replica`'s; UI code never touches
the socket: it calls `send` and receives the replica's `Update`s through `on_update`.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from warroom import protocol as p
from warroom.core import RoomState
from warroom.replica import (
    Answer,
    Applied,
    Fatal,
    HubError,
    LogBatch,
    LogsAcked,
    Lost,
    Replica,
    Status,
    StatusChanged,
    Synced,
    Update,
)

# The update types are the replica's; they are named here too for the callers of the client.
__all__ = [
    "Answer",
    "Applied",
    "ConnectError",
    "HubError",
    "LogBatch",
    "LogsAcked",
    "RoomClient",
    "Status",
    "StatusChanged",
    "Synced",
    "Update",
    "backoff",
    "room_of",
]


class ConnectError(Exception):
    """The hub could not be reached or refused us for good."""


def room_of(url: str) -> str:
    """The room named by a ws:// or wss:// URL's path; raises ValueError when it names none."""
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.netloc:
        raise ValueError(f"{url!r} is not a ws:// or wss:// URL")
    room = parts.path.strip("/")
    if not room:
        raise ValueError(f"{url!r} names no room: add it as the path, e.g. ws://host:8765/train-1")
    try:
        return p.check_room(room)
    except p.ProtocolError as exc:
        raise ValueError(exc.message) from None


def backoff(attempt: int, jitter: float = 1.0) -> float:
    """Seconds to wait before connection attempt `attempt` (counting those that did not
    reach live, from 1), times `jitter` (drawn from 0.8 to 1.2): docs/protocol.md §16."""
    return min(5.0, 0.2 * 2.0 ** min(attempt, 6)) * jitter


class RoomClient:
    """One participant's link to a room; run `run()` as a task, then `send` commands."""

    def __init__(
        self,
        url: str,
        token: str,
        tz: str = "UTC",
        *,
        on_update: Callable[[Update], None] | None = None,
        reconnect: bool = True,
        history: bool = False,
        presence: bool = True,
    ) -> None:
        self.url = url
        self.room = room_of(url)
        self.token = token
        self.tz = tz
        self.reconnect = reconnect
        self.replica = Replica(self.room, token, tz, history=history, presence=presence)
        self.status = Status.CONNECTING
        self._on_update = on_update or (lambda _u: None)
        self._answers: dict[str, asyncio.Future[Answer]] = {}
        self._ws: ClientConnection | None = None
        self._live = asyncio.Event()
        self._closing = False
        self._failure: str | None = None
        self._attempt = 0

    # The replica's position and state, read through the client.

    @property
    def state(self) -> RoomState:
        """The room as the replica has it."""
        return self.replica.state

    @property
    def epoch(self) -> str:
        """The journal epoch of the replica; empty until the first welcome."""
        return self.replica.epoch

    @property
    def seq(self) -> int:
        """The last event applied."""
        return self.replica.seq

    @property
    def log_seq(self) -> int:
        """The last log line received."""
        return self.replica.log_seq

    @property
    def name(self) -> str:
        """Who the hub welcomed us as."""
        return self.replica.name

    @property
    def role(self) -> str:
        """The role we act with, as of the last welcome."""
        return self.replica.role

    # --- public API ---------------------------------------------------------------------------

    async def run(self) -> None:
        """Connect, and keep reconnecting with backoff until closed or refused for good."""
        self._attempt = 0
        while not self._closing:
            self._live.clear()
            try:
                detail = await self._session()
            except ConnectError as exc:
                self._fail(str(exc))
                return
            except (OSError, InvalidHandshake, TimeoutError, ConnectionClosed) as exc:
                detail = _describe(exc)
            if self._closing:
                break
            if not self.reconnect:
                self._fail(detail)
                return
            self._attempt += 1
            delay = backoff(self._attempt, random.uniform(0.8, 1.2))
            # Until we have been in once, this is still the first connection attempt.
            again = Status.RECONNECTING if self.epoch else Status.CONNECTING
            self._set_status(again, detail, delay)
            await asyncio.sleep(delay)
        self._set_status(Status.CLOSED)

    async def wait_live(self, timeout: float = 10.0) -> None:
        """Wait until joined and caught up; raises ConnectError if that fails."""
        waiter = asyncio.ensure_future(self._live.wait())
        try:
            await asyncio.wait_for(asyncio.shield(waiter), timeout)
        except TimeoutError:
            why = self._failure or self.replica.refusal
            raise ConnectError(why or f"no answer from {self.url} in {timeout:g}s") from None
        finally:
            waiter.cancel()
        if self._failure:
            raise ConnectError(self._failure)

    async def send(
        self, op: str, args: Mapping[str, Any] | None = None, cmd_id: str | None = None
    ) -> Answer:
        """Send a command and wait for its ack or reject, resending it across reconnects.

        Raises ProtocolError at once when the arguments cannot be encoded.
        """
        cid, frame = self.replica.command(op, args, cmd_id)
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._answers[cid] = future
        if self.status is Status.LIVE:
            await self._transmit(frame)
        return await future

    async def send_frame(self, frame: bytes) -> bool:
        """Send an encoded frame now if live (False if not); for feeders' `logs` frames."""
        if self.status is not Status.LIVE or self._ws is None:
            return False
        try:
            await self._ws.send(frame)
        except ConnectionClosed:
            return False
        return True

    def pending(self) -> int:
        """Commands sent but not yet answered."""
        return self.replica.pending()

    async def close(self) -> None:
        """Close the connection for good."""
        self._closing = True
        if self._ws is not None:
            with contextlib.suppress(ConnectionClosed, OSError):
                await self._ws.close()

    # --- one connection -------------------------------------------------------------------------

    async def _session(self) -> str:
        """Run one connection to its end; return why it ended (ConnectError: for good)."""
        async with connect(
            self.url, compression=None, max_size=64 << 20, open_timeout=10, close_timeout=2
        ) as ws:
            self._ws = ws
            await ws.send(self.replica.hello())
            detail = "connection lost"
            try:
                async for data in ws:
                    ending = await self._take(self.replica.receive(data))
                    if isinstance(ending, Fatal):
                        raise ConnectError(ending.detail)
                    if ending is not None:
                        detail = ending.detail
                        break
            except ConnectionClosed:
                pass
            finally:
                self._ws = None
            ended = self.replica.closed(ws.close_code, ws.close_reason or "", detail)
            if isinstance(ended, Fatal):
                raise ConnectError(ended.detail)
            return ended.detail

    async def _take(self, updates: list[Update | Lost | Fatal]) -> Lost | Fatal | None:
        """Pass the replica's updates on; the ending among them (always the last), if any."""
        for update in updates:
            if isinstance(update, Lost | Fatal):
                return update
            if isinstance(update, Answer):
                future = self._answers.pop(update.id, None)
                if future is not None and not future.done():
                    future.set_result(update)
            live = isinstance(update, StatusChanged) and update.status is Status.LIVE
            if live:
                self._attempt = 0  # only a connection that got all the way in resets the backoff
                self.status = Status.LIVE
            self._on_update(update)
            if live:
                self._live.set()
                # Resend whatever was unanswered: the hub applies each id once and answers again.
                for frame in self.replica.unanswered():
                    await self._transmit(frame)
        return None

    async def _transmit(self, frame: bytes) -> None:
        if self._ws is None:
            return
        with contextlib.suppress(ConnectionClosed):
            await self._ws.send(frame)

    def _set_status(self, status: Status, detail: str = "", retry_in: float | None = None) -> None:
        self.status = status
        self._on_update(StatusChanged(status, detail, retry_in))

    def _fail(self, detail: str) -> None:
        self._failure = detail
        self._live.set()
        self.replica.abandon()
        for future in self._answers.values():
            if not future.done():
                future.set_exception(ConnectError(detail))
        self._answers.clear()
        self._set_status(Status.FAILED, detail)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "hub refused the connection (is it running?)"
    if isinstance(exc, ConnectionClosed):
        reason = exc.rcvd.reason if exc.rcvd else ""
        return f"connection closed{': ' + reason if reason else ''}"
    if isinstance(exc, InvalidURI):
        return f"bad URL: {exc}"
    return str(exc) or type(exc).__name__
