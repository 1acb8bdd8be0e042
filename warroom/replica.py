"""The client's replica of a room, sans I/O: frames in, typed updates out.

`Replica` keeps what docs/protocol.md §20 tells a client to keep: the room state, its position
(epoch, seq), the last log line (lseq) and an outbox of commands not yet answered. It builds
the `hello` that opens each connection and turns every frame the hub sends into a list of
updates. It never touches a socket, a clock or an event loop: `warroom.client` owns those, and
its tests feed this module bytes.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

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


# --- updates: what the replica tells the views ------------------------------------------------


@dataclass(frozen=True, slots=True)
class StatusChanged:
    """The connection changed state; `detail` says why, `retry_in` when it will try again.

    The replica gives `Status.LIVE` once a connection has caught up; the socket loop gives
    the others."""

    status: Status
    detail: str = ""
    retry_in: float | None = None


@dataclass(frozen=True, slots=True)
class Synced:
    """The replica was replaced by a snapshot; `recent` gives the timeline its context;
    `name` and `role` are who the hub welcomed us as."""

    state: RoomState
    recent: list[tuple[int, Event]]
    name: str = ""
    role: str = ""


@dataclass(frozen=True, slots=True)
class Applied:
    """New events were applied to the replica, in order."""

    state: RoomState
    events: list[tuple[int, Event]]


@dataclass(frozen=True, slots=True)
class Answer:
    """The hub's answer to one of our commands (the first one: a repeated answer is dropped)."""

    id: str
    op: str
    ok: bool
    seq: int = 0
    code: str = ""
    reason: str = ""


@dataclass(frozen=True, slots=True)
class HubError:
    """An error frame from the hub, or a frame from it that broke the protocol."""

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


# --- endings: what the replica tells the socket loop ---------------------------------------


@dataclass(frozen=True, slots=True)
class Lost:
    """The replica lost its place (a gap, another epoch, a broken frame): end this
    connection and connect again with `hello()`, which resumes from what it holds."""

    detail: str


@dataclass(frozen=True, slots=True)
class Fatal:
    """Connecting again cannot help (refused for good, or a client older than the hub):
    stop, and fail every command in the outbox."""

    detail: str


Ending = Lost | Fatal


@dataclass(frozen=True, slots=True)
class Pending:
    """A command sent (or to send) and not yet answered: its op and its encoded frame."""

    op: str
    frame: bytes


class Replica:
    """One participant's replica of `room`: `hello()` to connect, `receive()` every frame."""

    def __init__(
        self,
        room: str,
        token: str,
        tz: str = "UTC",
        *,
        history: bool = False,
        presence: bool = True,
    ) -> None:
        """`history`: on the first connection, ask for the epoch's events rather than a
        snapshot; `presence`: this connection is a person arriving (not a script)."""
        self.room = room
        self.token = token
        self.tz = tz
        self.history = history
        self.presence = presence
        self.state = RoomState(room=room)
        self.epoch = ""  # empty until the first welcome
        self.seq = 0  # the last event applied
        self.log_seq = 0  # the last log line received
        self.name = ""
        self.role = ""
        self.live = False  # this connection has caught up
        self.refusal = ""  # why the hub refused us for good, from its error frame
        self.outbox: dict[str, Pending] = {}  # by command id, oldest first
        self._target = 0  # welcome.seq: caught up once seq reaches it
        self._parts: p.SnapshotAssembly | None = None

    # --- a connection ---------------------------------------------------------------------

    def hello(self) -> bytes:
        """Start a new connection: the hello to send first, resuming from what we hold.

        It forgets any snapshot half assembled on the connection before (§20).
        """
        resume = p.Resume(self.epoch, self.seq) if self.epoch else None
        if self.history and not self.epoch:
            resume = p.Resume("", 0)
        # Only with the resume of the epoch the lines came from (§13.3).
        logs_from = self.log_seq if self.epoch and self.log_seq else None
        self.live = False
        self._parts = None
        hello = p.Hello(
            p.VERSION, self.token, self.room, self.tz, resume, self.presence, logs_from=logs_from
        )
        return p.encode(hello)

    def receive(self, data: bytes | str) -> list[Update | Ending]:
        """The updates one frame from the hub makes, in order; an `Ending`, if any, is last."""
        out: list[Update | Ending] = []
        try:
            self._handle(p.decode_hub(data), out)
        except p.ProtocolError as exc:
            detail = f"bad frame from hub: {exc.message}"
            out += [HubError(exc.code, detail), Lost(detail)]
        return out

    def closed(self, code: int | None, reason: str, detail: str = "connection lost") -> Ending:
        """What to do once the connection ended with close `code` and `reason` (None and ""
        when there was no close frame); `detail` says why it ended, for a reconnect."""
        if code is not None and code in p.FATAL_CLOSES:
            return Fatal(self.refusal or reason or f"refused ({code})")
        if reason:
            return Lost(f"hub closed the connection: {reason}")
        return Lost(detail)

    # --- the outbox -------------------------------------------------------------------------

    def command(
        self, op: str, args: Mapping[str, Any] | None = None, cmd_id: str | None = None
    ) -> tuple[str, bytes]:
        """Put a command in the outbox: its id (fresh unless given) and the frame to send.

        Raises ProtocolError, and keeps nothing, when the arguments cannot be encoded.
        """
        cid = cmd_id or secrets.token_hex(8)
        frame = p.encode(p.Cmd(cid, op, dict(args or {})))
        self.outbox[cid] = Pending(op, frame)
        return cid, frame

    def unanswered(self) -> list[bytes]:
        """The frames of every command not yet answered, oldest first: resend them once live."""
        return [pending.frame for pending in self.outbox.values()]

    def pending(self) -> int:
        """Commands sent but not yet answered."""
        return len(self.outbox)

    def abandon(self) -> list[str]:
        """Empty the outbox (we stopped for good); the ids of the commands it held."""
        ids = list(self.outbox)
        self.outbox.clear()
        return ids

    # --- frames ---------------------------------------------------------------------------

    def _handle(self, frame: p.HubFrame, out: list[Update | Ending]) -> None:
        if isinstance(frame, p.Welcome):
            self.name, self.role, self._target = frame.name, frame.role, frame.seq
            if self.epoch and frame.epoch != self.epoch:
                self.seq = self.log_seq = 0  # a reset or salvaged journal: start again
            self.epoch = frame.epoch
            if frame.resumed and self.seq >= self._target:
                self._go_live(out)
        elif isinstance(frame, p.Snapshot):
            if frame.state is None:
                self._parts = p.SnapshotAssembly(frame)  # drops any unfinished one
            else:
                self._synced(frame, frame.state, out)
        elif isinstance(frame, p.SnapshotPart):
            if self._parts is None:
                raise p.ProtocolError(p.ErrorCode.BAD_FRAME, "a snapshot part came alone")
            state = self._parts.add(frame)
            if state is not None:
                head, self._parts = self._parts.head, None
                self._synced(head, state, out)
        elif isinstance(frame, p.Events):
            self._apply(frame, out)
        elif isinstance(frame, p.LogLines):
            fresh = [line for line in frame.lines if line[0] > self.log_seq]
            if fresh and frame.epoch == self.epoch:
                self.log_seq = fresh[-1][0]
                out.append(LogBatch([list(line) for line in fresh]))
        elif isinstance(frame, p.LogsAck):
            out.append(LogsAcked(frame.source, frame.next))
        elif isinstance(frame, p.Ack | p.RejectFrame):
            self._answer(frame, out)
        elif isinstance(frame, p.Error):
            if frame.code in (p.ErrorCode.UNAUTHORIZED, p.ErrorCode.UNSUPPORTED_VERSION):
                self.refusal = frame.message  # a final close follows: this is why
            out.append(HubError(frame.code, frame.message))

    def _synced(
        self, frame: p.Snapshot, state: Mapping[str, Any], out: list[Update | Ending]
    ) -> None:
        self.state = state_from_wire(state)
        self.epoch, self.seq = frame.epoch, frame.seq
        recent = [event_from_wire(raw) for raw in frame.recent]
        out.append(Synced(self.state, recent, self.name, self.role))
        self._go_live(out)

    def _apply(self, frame: p.Events, out: list[Update | Ending]) -> None:
        if frame.epoch != self.epoch:
            out.append(Lost("missed events; resuming"))  # the resume brings a snapshot
            return
        applied: list[tuple[int, Event]] = []
        state = self.state
        ending: Ending | None = None
        for raw in frame.events:
            seq, event = event_from_wire(raw)
            if seq <= self.seq:
                continue  # already have it (a resend after a reconnect)
            if seq != self.seq + 1:
                ending = Lost("missed events; resuming")
                break
            try:
                state = apply(state, event)
            except ValueError:
                # An event kind this client does not know: it is older than the hub.
                ending = Fatal(
                    f"the hub sent an event this client does not know ({event.kind!r}); "
                    "upgrade warroom"
                )
                break
            self.seq = seq
            applied.append((seq, event))
        self.state = state
        if applied:
            out.append(Applied(state, applied))
        if ending is not None:
            out.append(ending)
        elif not self.live and self.seq >= self._target:
            self._go_live(out)

    def _answer(self, frame: p.Ack | p.RejectFrame, out: list[Update | Ending]) -> None:
        pending = self.outbox.pop(frame.id, None)
        if pending is None:
            return  # not ours, or answered already (a resend's second answer)
        if isinstance(frame, p.Ack):
            out.append(Answer(frame.id, pending.op, True, seq=frame.seq))
        else:
            out.append(Answer(frame.id, pending.op, False, code=frame.code, reason=frame.reason))

    def _go_live(self, out: list[Update | Ending]) -> None:
        self.live = True
        out.append(StatusChanged(Status.LIVE))
