"""The connection worker: owns the socket, keeps the replica, resends the outbox, reconnects.

UI code never touches the socket. It calls `send` and receives `Update`s through `on_update`.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from warroom import protocol as p
from warroom.core import Event, RoomState, apply
from warroom.core.wire import event_from_wire, state_from_wire


class Status(StrEnum):
    """The connection as the header shows it."""

    CONNECTING = "connecting"
    LIVE = "live"
    RECONNECTING = "reconnecting"
    FAILED = "failed"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class StatusChanged:
    """The connection changed state; `detail` says why, `retry_in` when it will try again."""

    status: Status
    detail: str = ""
    retry_in: float | None = None


@dataclass(frozen=True, slots=True)
class Synced:
    """The replica was replaced by a snapshot; `recent` gives the timeline its context."""

    state: RoomState
    recent: list[tuple[int, Event]]


@dataclass(frozen=True, slots=True)
class Applied:
    """New events were applied to the replica, in order."""

    state: RoomState
    events: list[tuple[int, Event]]


@dataclass(frozen=True, slots=True)
class Answer:
    """The hub's answer to one of our commands."""

    id: str
    op: str
    ok: bool
    seq: int = 0
    code: str = ""
    reason: str = ""


@dataclass(frozen=True, slots=True)
class HubError:
    """An error frame from the hub."""

    code: str
    message: str


@dataclass(frozen=True, slots=True)
class LogBatch:
    """New log lines, each [lseq, ts, source, stream, level, text], in order, none seen before."""

    lines: list[list[Any]]


@dataclass(frozen=True, slots=True)
class LogsAcked:
    """The hub has stored every line of `source` before offset `next` (for feeders)."""

    source: str
    next: int


Update = StatusChanged | Synced | Applied | Answer | HubError | LogBatch | LogsAcked


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


@dataclass(slots=True)
class _Pending:
    op: str
    frame: bytes
    future: asyncio.Future[Answer] = field(repr=False)


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
        self.state = RoomState(room=self.room)
        self.epoch = ""
        self.seq = 0
        self.log_seq = 0  # the last log line received
        self.name = ""
        self.role = ""
        self.status = Status.CONNECTING
        self._history = history
        self._presence = presence
        self._on_update = on_update or (lambda _u: None)
        self._outbox: dict[str, _Pending] = {}
        self._ws: ClientConnection | None = None
        self._live = asyncio.Event()
        self._target = 0
        self._closing = False
        self._failure: str | None = None
        self._attempt = 0
        self._parts: p.SnapshotAssembly | None = None

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
            delay = min(5.0, 0.2 * 2 ** min(self._attempt, 6)) * random.uniform(0.8, 1.2)
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
            raise ConnectError(
                self._failure or f"no answer from {self.url} in {timeout:g}s"
            ) from None
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
        cid = cmd_id or secrets.token_hex(8)
        frame = p.encode(p.Cmd(cid, op, dict(args or {})))
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        pending = _Pending(op, frame, future)
        self._outbox[cid] = pending
        if self.status is Status.LIVE:
            await self._transmit(pending)
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
        return len(self._outbox)

    async def close(self) -> None:
        """Close the connection for good."""
        self._closing = True
        if self._ws is not None:
            with contextlib.suppress(ConnectionClosed, OSError):
                await self._ws.close()

    # --- one connection -------------------------------------------------------------------------

    async def _session(self) -> str:
        """Run one connection to its end; return why it ended."""
        async with connect(
            self.url, compression=None, max_size=64 << 20, open_timeout=10, close_timeout=2
        ) as ws:
            self._ws = ws
            resume = p.Resume(self.epoch, self.seq) if self.epoch else None
            if self._history and not self.epoch:
                resume = p.Resume("", 0)
            logs_from = self.log_seq if self.epoch and self.log_seq else None
            hello = p.Hello(
                p.VERSION,
                self.token,
                self.room,
                self.tz,
                resume,
                self._presence,
                logs_from=logs_from,
            )
            await ws.send(p.encode(hello))
            self._parts = None
            detail = "connection lost"
            try:
                async for data in ws:
                    if not await self._handle(p.decode_hub(data)):
                        detail = "missed events; resuming"
                        break
            except ConnectionClosed:
                pass
            except p.ProtocolError as exc:
                detail = f"bad frame from hub: {exc.message}"
                self._on_update(HubError(exc.code, detail))
            finally:
                self._ws = None
            code = ws.close_code
            if code is not None and code in p.FATAL_CLOSES:
                raise ConnectError(self._failure or ws.close_reason or f"refused ({code})")
            if ws.close_reason:
                detail = f"hub closed the connection: {ws.close_reason}"
            return detail

    async def _handle(self, frame: p.HubFrame) -> bool:
        if isinstance(frame, p.Welcome):
            self.name, self.role, self._target = frame.name, frame.role, frame.seq
            if self.epoch and frame.epoch != self.epoch:
                self.seq = self.log_seq = 0
            self.epoch = frame.epoch
            if frame.resumed and self.seq >= self._target:
                await self._go_live()
        elif isinstance(frame, p.Snapshot):
            if frame.state is None:
                self._parts = p.SnapshotAssembly(frame)
            else:
                await self._synced(frame, frame.state)
        elif isinstance(frame, p.SnapshotPart):
            if self._parts is None:
                raise p.ProtocolError(p.ErrorCode.BAD_FRAME, "a snapshot part came alone")
            state = self._parts.add(frame)
            if state is not None:
                head, self._parts = self._parts.head, None
                await self._synced(head, state)
        elif isinstance(frame, p.Events):
            if not self._apply(frame):
                return False  # a gap: reconnect and resume from what we have
            if self.status is not Status.LIVE and self.seq >= self._target:
                await self._go_live()
        elif isinstance(frame, p.LogLines):
            fresh = [line for line in frame.lines if line[0] > self.log_seq]
            if fresh and frame.epoch == self.epoch:
                self.log_seq = fresh[-1][0]
                self._on_update(LogBatch([list(line) for line in fresh]))
        elif isinstance(frame, p.LogsAck):
            self._on_update(LogsAcked(frame.source, frame.next))
        elif isinstance(frame, p.Ack | p.RejectFrame):
            self._answer(frame)
        elif isinstance(frame, p.Error):
            if frame.code in (p.ErrorCode.UNAUTHORIZED, p.ErrorCode.UNSUPPORTED_VERSION):
                self._failure = frame.message
            self._on_update(HubError(frame.code, frame.message))
        return True

    async def _synced(self, frame: p.Snapshot, state: Mapping[str, Any]) -> None:
        self.state = state_from_wire(state)
        self.epoch, self.seq = frame.epoch, frame.seq
        recent = [event_from_wire(raw) for raw in frame.recent]
        self._on_update(Synced(self.state, recent))
        await self._go_live()

    def _apply(self, frame: p.Events) -> bool:
        if frame.epoch != self.epoch:
            return False
        applied: list[tuple[int, Event]] = []
        state = self.state
        for raw in frame.events:
            seq, event = event_from_wire(raw)
            if seq <= self.seq:
                continue  # already have it (a resend after a reconnect)
            if seq != self.seq + 1:
                break
            try:
                state = apply(state, event)
            except ValueError:
                # An event kind this client does not know: it is older than the hub.
                raise ConnectError(
                    f"the hub sent an event this client does not know ({event.kind!r}); "
                    "upgrade warroom"
                ) from None
            self.seq = seq
            applied.append((seq, event))
        self.state = state
        if applied:
            self._on_update(Applied(state, applied))
        return not frame.events or int(frame.events[-1]["seq"]) <= self.seq

    def _answer(self, frame: p.Ack | p.RejectFrame) -> None:
        pending = self._outbox.pop(frame.id, None)
        if pending is None:
            return
        if isinstance(frame, p.Ack):
            answer = Answer(frame.id, pending.op, True, seq=frame.seq)
        else:
            answer = Answer(frame.id, pending.op, False, code=frame.code, reason=frame.reason)
        if not pending.future.done():
            pending.future.set_result(answer)
        self._on_update(answer)

    async def _go_live(self) -> None:
        self._attempt = 0  # only a connection that got all the way in resets the backoff
        self._set_status(Status.LIVE)
        self._live.set()
        # Resend whatever was unanswered: the hub applies each id once and answers again.
        for pending in list(self._outbox.values()):
            await self._transmit(pending)

    async def _transmit(self, pending: _Pending) -> None:
        if self._ws is None:
            return
        with contextlib.suppress(ConnectionClosed):
            await self._ws.send(pending.frame)

    def _set_status(self, status: Status, detail: str = "", retry_in: float | None = None) -> None:
        self.status = status
        self._on_update(StatusChanged(status, detail, retry_in))

    def _fail(self, detail: str) -> None:
        self._failure = detail
        self._live.set()
        for pending in self._outbox.values():
            if not pending.future.done():
                pending.future.set_exception(ConnectError(detail))
        self._outbox.clear()
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
