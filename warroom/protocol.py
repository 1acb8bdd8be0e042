"""The wire protocol, sans I/O: frame types, MessagePack encoding, validation, close codes.

Nothing here touches a socket. docs/protocol.md is the contract this module implements.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Any

import msgpack

VERSION = 1
MAX_ID_LEN = 64
ROOM_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")


class Close(IntEnum):
    """WebSocket close codes the hub uses; 4000-4999 are warroom's own."""

    NORMAL = 1000
    GOING_AWAY = 1001
    TOO_BIG = 1009
    BAD_FRAME = 4000
    UNAUTHORIZED = 4001
    UNSUPPORTED_VERSION = 4002
    HANDSHAKE_REQUIRED = 4003
    HANDSHAKE_TIMEOUT = 4004
    TOKEN_EXPIRED = 4005
    TOKEN_REVOKED = 4006
    TOO_SLOW = 4008
    RATE_LIMITED = 4009
    TOO_MANY = 4010
    INTERNAL = 4011
    ROOM_UNAVAILABLE = 4012


class ErrorCode(StrEnum):
    """Codes carried by `error` frames."""

    BAD_FRAME = "bad_frame"
    UNAUTHORIZED = "unauthorized"
    UNSUPPORTED_VERSION = "unsupported_version"
    HANDSHAKE_REQUIRED = "handshake_required"
    HANDSHAKE_TIMEOUT = "handshake_timeout"
    FORBIDDEN = "forbidden"
    BAD_ROOM = "bad_room"
    TOO_SLOW = "too_slow"
    RATE_LIMITED = "rate_limited"
    TOO_MANY = "too_many"
    ROOM_UNAVAILABLE = "room_unavailable"
    INTERNAL = "internal"


# Close codes after which reconnecting with the same token cannot help.
FATAL_CLOSES = frozenset(
    {
        Close.BAD_FRAME,
        Close.UNAUTHORIZED,
        Close.UNSUPPORTED_VERSION,
        Close.HANDSHAKE_REQUIRED,
        Close.TOKEN_EXPIRED,
        Close.TOKEN_REVOKED,
    }
)
# Paths the hub answers over plain HTTP; no room may take their names, in any case.
RESERVED_ROOMS = frozenset({"healthz"})
# How deeply maps and lists may nest inside a client's frame (the frame itself is depth 1).
MAX_DEPTH = 32


class ProtocolError(Exception):
    """A frame that breaks the contract; `code` is an `ErrorCode` value."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# --- frames -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Resume:
    """Where a client's replica stands: the journal epoch and the last sequence it applied."""

    epoch: str
    seq: int


@dataclass(frozen=True, slots=True)
class Hello:
    """Client to hub, first frame: protocol version, token, room, time zone, resume point."""

    v: int
    token: str
    room: str
    tz: str = "UTC"
    resume: Resume | None = None
    presence: bool = True
    logs: bool | None = None  # receive the log stream; by default, when `presence` is true
    logs_from: int | None = None  # the last log seq this client has; absent: the recent backlog


@dataclass(frozen=True, slots=True)
class Cmd:
    """Client to hub: a command with a client-generated id, unique per person and room."""

    id: str
    op: str
    args: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Welcome:
    """Hub to client, after a good hello: who you are and how you will catch up."""

    v: int
    room: str
    name: str
    role: str
    epoch: str
    seq: int
    resumed: bool


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Hub to client: the whole state at (epoch, seq) and the most recent events for context.

    A state too big for one frame comes as `parts` `snapshot_part` frames instead (`state` is
    None): their `data`, joined in order, is the MessagePack encoding of the state map,
    `size` bytes long.
    """

    epoch: str
    seq: int
    state: Mapping[str, Any] | None
    recent: Sequence[Mapping[str, Any]]
    parts: int = 0
    size: int = 0


@dataclass(frozen=True, slots=True)
class SnapshotPart:
    """Hub to client: one piece of a state sent in parts; `index` counts from 0."""

    epoch: str
    seq: int
    index: int
    data: bytes


@dataclass(frozen=True, slots=True)
class Events:
    """Hub to client: consecutive events of one epoch, in sequence order."""

    epoch: str
    events: Sequence[Mapping[str, Any]]


@dataclass(frozen=True, slots=True)
class Ack:
    """Hub to client: the command is durably applied; `seq` is its last event (or the head)."""

    id: str
    epoch: str
    seq: int


@dataclass(frozen=True, slots=True)
class RejectFrame:
    """Hub to client: the command was refused and changed nothing."""

    id: str
    code: str
    reason: str


@dataclass(frozen=True, slots=True)
class Error:
    """Hub to client: a frame-level problem; a close may follow."""

    code: str
    message: str


@dataclass(frozen=True, slots=True)
class Logs:
    """Feeder to hub: consecutive lines of one source, the first at `offset`.

    Each line is [text, stream] with stream 0 for stdout (or a file) and 1 for stderr.
    """

    source: str
    offset: int
    lines: Sequence[Sequence[Any]]


@dataclass(frozen=True, slots=True)
class LogsAck:
    """Hub to feeder: every line of `source` before offset `next` is durably stored."""

    source: str
    next: int


@dataclass(frozen=True, slots=True)
class LogLines:
    """Hub to client: log lines, each [lseq, ts, source, stream, level, text], in lseq order."""

    epoch: str
    lines: Sequence[Sequence[Any]]


ClientFrame = Hello | Cmd | Logs
HubFrame = (
    Welcome | Snapshot | SnapshotPart | Events | Ack | RejectFrame | Error | LogsAck | LogLines
)

MAX_LINES_PER_FRAME = 5000
SOURCE_CHARS = ROOM_CHARS | frozenset(":/")

_TAGS: dict[type, str] = {
    Logs: "logs",
    LogsAck: "logs_ack",
    LogLines: "loglines",
    Hello: "hello",
    Cmd: "cmd",
    Welcome: "welcome",
    Snapshot: "snapshot",
    SnapshotPart: "snapshot_part",
    Events: "events",
    Ack: "ack",
    RejectFrame: "reject",
    Error: "error",
}
_BY_TAG = {tag: cls for cls, tag in _TAGS.items()}

# Field rules per frame tag: name -> (accepted types, required). Checked before construction.
_Spec = dict[str, tuple[tuple[type, ...], bool]]
_STR, _INT, _MAP, _LIST = (str,), (int,), (dict,), (list,)
_NUM = (int, float)
_FIELDS: dict[str, _Spec] = {
    "hello": {
        "v": (_INT, True),
        "token": (_STR, True),
        "room": (_STR, True),
        "tz": (_STR, False),
        "resume": ((dict, type(None)), False),
        "presence": ((bool,), False),
        "logs": ((bool, type(None)), False),
        "logs_from": ((int, type(None)), False),
    },
    "cmd": {"id": (_STR, True), "op": (_STR, True), "args": (_MAP, False)},
    "welcome": {
        "v": (_INT, True),
        "room": (_STR, True),
        "name": (_STR, True),
        "role": (_STR, True),
        "epoch": (_STR, True),
        "seq": (_INT, True),
        "resumed": ((bool,), True),
    },
    "snapshot": {
        "epoch": (_STR, True),
        "seq": (_INT, True),
        "state": ((dict, type(None)), True),
        "recent": (_LIST, True),
        "parts": (_INT, False),
        "size": (_INT, False),
    },
    "snapshot_part": {
        "epoch": (_STR, True),
        "seq": (_INT, True),
        "index": (_INT, True),
        "data": ((bytes,), True),
    },
    "events": {"epoch": (_STR, True), "events": (_LIST, True)},
    "ack": {"id": (_STR, True), "epoch": (_STR, True), "seq": (_INT, True)},
    "reject": {"id": (_STR, True), "code": (_STR, True), "reason": (_STR, True)},
    "error": {"code": (_STR, True), "message": (_STR, True)},
    "logs": {"source": (_STR, True), "offset": (_INT, True), "lines": (_LIST, True)},
    "logs_ack": {"source": (_STR, True), "next": (_INT, True)},
    "loglines": {"epoch": (_STR, True), "lines": (_LIST, True)},
}
_EVENT_FIELDS: _Spec = {
    "seq": (_INT, True),
    "ts": (_NUM, True),
    "kind": (_STR, True),
    "actor": (_STR, True),
    "data": (_MAP, True),
}
_CLIENT_TAGS = frozenset({"hello", "cmd", "logs"})
_HUB_TAGS = frozenset(_FIELDS) - _CLIENT_TAGS


def encode(frame: ClientFrame | HubFrame) -> bytes:
    """The frame as one MessagePack map with its type under "t"; ProtocolError if unencodable."""
    body: dict[str, Any] = {"t": _TAGS[type(frame)]}
    for name in frame.__slots__:
        value = getattr(frame, name)
        if isinstance(value, Resume):
            value = {"epoch": value.epoch, "seq": value.seq}
        elif isinstance(value, Mapping):
            value = dict(value)
        body[name] = value
    try:
        return msgpack.packb(body, use_bin_type=True)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ProtocolError(
            ErrorCode.BAD_FRAME, f"cannot encode {body['t']} frame: {exc}"
        ) from None


def pack(value: object) -> bytes:
    """One value as MessagePack, the way every frame encodes it."""
    return msgpack.packb(value, use_bin_type=True)


def _array_header(count: int) -> bytes:
    if count < 16:
        return bytes([0x90 | count])
    if count < 1 << 16:
        return b"\xdc" + count.to_bytes(2, "big")
    return b"\xdd" + count.to_bytes(4, "big")


def events_frame(epoch: str, packed: Sequence[bytes]) -> bytes:
    """An `events` frame from events already encoded one by one (`pack` of each wire map)."""
    head = pack({"t": "events", "epoch": epoch, "events": None})[:-1]  # drop the nil
    return head + _array_header(len(packed)) + b"".join(packed)


def snapshot_frame(
    epoch: str,
    seq: int,
    state: bytes | None,
    recent: Sequence[bytes],
    parts: int = 0,
    size: int = 0,
) -> bytes:
    """A `snapshot` frame from the packed state (None when it follows in parts) and events."""
    body = {"t": "snapshot", "epoch": epoch, "seq": seq, "parts": parts, "size": size}
    head = pack(body)
    # Two more keys than `body` holds: the state (raw bytes, already packed) and `recent`.
    fields = pack("state") + (state if state is not None else pack(None))
    fields += pack("recent") + _array_header(len(recent)) + b"".join(recent)
    return bytes([0x80 | (len(body) + 2)]) + head[1:] + fields


def chunks(packed: Sequence[bytes], max_bytes: int, max_count: int) -> list[list[bytes]]:
    """`packed` cut into runs of at most `max_count` items and `max_bytes` (one item alone
    may be bigger), in order."""
    out: list[list[bytes]] = []
    run: list[bytes] = []
    size = 0
    for item in packed:
        if run and (len(run) >= max_count or size + len(item) > max_bytes):
            out.append(run)
            run, size = [], 0
        run.append(item)
        size += len(item)
    if run:
        out.append(run)
    return out


def decode_client(data: bytes | str) -> ClientFrame:
    """Decode and validate a frame a client sent; raises ProtocolError."""
    frame = _decode(data, _CLIENT_TAGS)
    assert isinstance(frame, Hello | Cmd | Logs)
    return frame


def decode_hub(data: bytes | str) -> HubFrame:
    """Decode and validate a frame the hub sent; raises ProtocolError."""
    frame = _decode(data, _HUB_TAGS)
    assert not isinstance(frame, Hello | Cmd | Logs)
    return frame


def _decode(data: bytes | str, allowed: frozenset[str]) -> ClientFrame | HubFrame:
    if isinstance(data, str):
        raise ProtocolError(
            ErrorCode.BAD_FRAME, "text frames are not accepted; send binary MessagePack"
        )
    try:
        body = msgpack.unpackb(data, raw=False, strict_map_key=True, use_list=True)
    except Exception as exc:  # msgpack raises several unrelated types for bad input
        raise ProtocolError(
            ErrorCode.BAD_FRAME, f"not valid MessagePack ({type(exc).__name__}: {exc})"
        ) from None
    if not isinstance(body, dict):
        raise ProtocolError(ErrorCode.BAD_FRAME, "a frame must be a map")
    tag = body.get("t")
    if not isinstance(tag, str) or tag not in allowed:
        raise ProtocolError(ErrorCode.BAD_FRAME, f"unknown frame type {tag!r}")
    # The version is checked before the fields: another version may shape its hello differently.
    version = body.get("v")
    if tag == "hello" and isinstance(version, int) and version != VERSION:
        raise ProtocolError(
            ErrorCode.UNSUPPORTED_VERSION,
            f"this hub speaks warroom protocol {VERSION}; the client sent version {version}",
        )
    spec = _FIELDS[tag]
    _check(tag, spec, body)
    if tag in _CLIENT_TAGS and not _shallow(body, MAX_DEPTH):
        raise ProtocolError(
            ErrorCode.BAD_FRAME, f"{tag}: maps and lists nest deeper than {MAX_DEPTH} levels"
        )
    values = {name: body[name] for name in spec if name in body}
    if tag == "hello":
        return _hello(values)
    if tag == "cmd":
        return _cmd(values)
    if tag == "logs":
        return _logs(values)
    if tag == "loglines":
        for line in values["lines"]:
            check_logline(line)
    if tag == "events":
        for raw in values["events"]:
            check_event(raw)
    if tag == "snapshot":
        for raw in values["recent"]:
            check_event(raw)
        parts = values.get("parts", 0)
        if parts < 0 or values.get("size", 0) < 0 or (values["state"] is None) != (parts > 0):
            raise ProtocolError(
                ErrorCode.BAD_FRAME, "snapshot: a state comes inline, or in parts > 0, not both"
            )
    cls: Any = _BY_TAG[tag]
    return cls(**values)  # type: ignore[no-any-return]


def _shallow(root: object, limit: int) -> bool:
    """Whether maps and lists nest at most `limit` deep in `root` (itself at depth 1)."""
    level: list[object] = [root]
    for _ in range(limit):
        below: list[object] = []
        for item in level:
            if isinstance(item, dict):
                below.extend(v for v in item.values() if isinstance(v, dict | list))
            elif isinstance(item, list):
                below.extend(v for v in item if isinstance(v, dict | list))
        if not below:
            return True
        level = below
    return False


def check_event(raw: object) -> None:
    """Raise ProtocolError unless `raw` is a well-formed event map."""
    if not isinstance(raw, dict):
        raise ProtocolError(ErrorCode.BAD_FRAME, "an event must be a map")
    _check("event", _EVENT_FIELDS, raw)


def _check(tag: str, spec: _Spec, body: Mapping[str, Any]) -> None:
    for name, (types, required) in spec.items():
        if name not in body:
            if required:
                raise ProtocolError(ErrorCode.BAD_FRAME, f"{tag}: missing field {name!r}")
            continue
        value = body[name]
        bad_bool = isinstance(value, bool) and bool not in types
        if bad_bool or not isinstance(value, types):
            want = " or ".join(t.__name__ for t in types)
            raise ProtocolError(
                ErrorCode.BAD_FRAME,
                f"{tag}: field {name!r} must be {want}, not {type(value).__name__}",
            )


def _hello(values: dict[str, Any]) -> Hello:
    raw_resume = values.pop("resume", None)
    resume = None
    if raw_resume is not None:
        epoch, seq = raw_resume.get("epoch"), raw_resume.get("seq")
        if (
            not isinstance(epoch, str)
            or not isinstance(seq, int)
            or isinstance(seq, bool)
            or seq < 0
        ):
            raise ProtocolError(
                ErrorCode.BAD_FRAME, "hello: resume must be {epoch: string, seq: integer >= 0}"
            )
        resume = Resume(epoch, seq)
    logs_from = values.get("logs_from")
    if logs_from is not None and logs_from < 0:
        raise ProtocolError(ErrorCode.BAD_FRAME, "hello: logs_from must be an integer >= 0")
    check_room(values["room"])
    return Hello(resume=resume, **values)


def _cmd(values: dict[str, Any]) -> Cmd:
    for name in ("id", "op"):
        if not 1 <= len(values[name]) <= MAX_ID_LEN:
            raise ProtocolError(
                ErrorCode.BAD_FRAME, f"cmd: {name} must be 1 to {MAX_ID_LEN} characters"
            )
    if not all(isinstance(k, str) for k in values.get("args", {})):
        raise ProtocolError(ErrorCode.BAD_FRAME, "cmd: argument names must be strings")
    return Cmd(**values)


def _logs(values: dict[str, Any]) -> Logs:
    source = values["source"]
    if not 1 <= len(source) <= 64 or not set(source) <= SOURCE_CHARS:
        raise ProtocolError(
            ErrorCode.BAD_FRAME,
            "logs: source must be 1-64 letters, digits, '.', '_', '-', ':', '/'",
        )
    if values["offset"] < 0:
        raise ProtocolError(ErrorCode.BAD_FRAME, "logs: offset must be >= 0")
    lines = values["lines"]
    if len(lines) > MAX_LINES_PER_FRAME:
        raise ProtocolError(ErrorCode.BAD_FRAME, f"logs: more than {MAX_LINES_PER_FRAME} lines")
    for line in lines:
        if (
            not isinstance(line, list)
            or len(line) != 2
            or not isinstance(line[0], str)
            or type(line[1]) is not int
            or line[1] not in (0, 1)
        ):
            raise ProtocolError(ErrorCode.BAD_FRAME, "logs: each line must be [text, 0 or 1]")
    return Logs(**values)


_LOGLINE_TYPES: tuple[type | tuple[type, ...], ...] = (int, (int, float), str, int, int, str)


def check_logline(line: object) -> None:
    """Raise ProtocolError unless `line` is [lseq, ts, source, stream, level, text]."""
    if not isinstance(line, list) or len(line) != 6:
        raise ProtocolError(ErrorCode.BAD_FRAME, "a log line must be a 6-element array")
    for value, kind in zip(line, _LOGLINE_TYPES, strict=True):
        if not isinstance(value, kind) or isinstance(value, bool):
            raise ProtocolError(ErrorCode.BAD_FRAME, "a log line has a field of the wrong type")


def encode_loglines(epoch: str, lines: Sequence[Sequence[Any]]) -> bytes:
    """A `loglines` frame built straight from line arrays: the hub's log hot path."""
    return msgpack.packb({"t": "loglines", "epoch": epoch, "lines": lines}, use_bin_type=True)


def check_room(room: str) -> str:
    """Return `room` if it is a valid room name (1-64 of letters, digits, '.', '_', '-')."""
    if room.lower() in RESERVED_ROOMS:
        raise ProtocolError(ErrorCode.BAD_ROOM, f"room name {room!r} is reserved")
    if not 1 <= len(room) <= 64 or not set(room) <= ROOM_CHARS or room.startswith("."):
        raise ProtocolError(
            ErrorCode.BAD_ROOM, f"bad room name {room!r}: use 1-64 letters, digits, '.', '_' or '-'"
        )
    return room


MAX_STATE = 1 << 30  # the largest state a client assembles from parts


class SnapshotAssembly:
    """A state arriving in `snapshot_part` frames, put back together and decoded."""

    def __init__(self, head: Snapshot) -> None:
        if head.size > MAX_STATE:
            raise ProtocolError(
                ErrorCode.BAD_FRAME, f"snapshot: a state of {head.size} bytes is too big"
            )
        self.head = head
        self._pieces: list[bytes] = []
        self._size = 0

    def add(self, part: SnapshotPart) -> Mapping[str, Any] | None:
        """Take the next part; the decoded state once the last one is in, else None."""
        head = self.head
        if (part.epoch, part.seq, part.index) != (head.epoch, head.seq, len(self._pieces)):
            raise ProtocolError(
                ErrorCode.BAD_FRAME,
                f"snapshot part {part.index} of {part.epoch}/{part.seq} came out of order",
            )
        self._pieces.append(part.data)
        self._size += len(part.data)
        if self._size > head.size:
            raise ProtocolError(ErrorCode.BAD_FRAME, "snapshot: parts exceed the stated size")
        if len(self._pieces) < head.parts:
            return None
        if self._size != head.size:
            raise ProtocolError(ErrorCode.BAD_FRAME, "snapshot: parts fall short of the size")
        try:
            state = msgpack.unpackb(b"".join(self._pieces), raw=False, strict_map_key=True)
        except Exception as exc:  # msgpack raises several unrelated types for bad input
            raise ProtocolError(
                ErrorCode.BAD_FRAME, f"snapshot: the state is not valid MessagePack ({exc})"
            ) from None
        if not isinstance(state, dict):
            raise ProtocolError(ErrorCode.BAD_FRAME, "snapshot: the state must be a map")
        return state


def close_reason(text: str) -> str:
    """`text` cut to fit a websocket close frame (123 bytes of UTF-8; we keep to 120)."""
    data = text.encode()[:120]
    return data.decode("utf-8", errors="ignore")


# --- the hub side of one connection, as a table-driven state machine -----------------------


class Phase(StrEnum):
    """Where a connection stands in the handshake."""

    AWAIT_HELLO = "await_hello"
    READY = "ready"
    CLOSED = "closed"


_TRANSITIONS: dict[tuple[Phase, type], Phase] = {
    (Phase.AWAIT_HELLO, Hello): Phase.READY,
    (Phase.READY, Cmd): Phase.READY,
    (Phase.READY, Logs): Phase.READY,
}


class HubConnection:
    """Tracks one client's phase; an illegal frame raises and leaves the phase unchanged."""

    def __init__(self) -> None:
        self.phase = Phase.AWAIT_HELLO

    def receive(self, data: bytes | str) -> ClientFrame:
        """Decode `data` and advance the phase, or raise ProtocolError."""
        if self.phase is Phase.CLOSED:
            raise ProtocolError(ErrorCode.BAD_FRAME, "connection is closed")
        frame = decode_client(data)
        nxt = _TRANSITIONS.get((self.phase, type(frame)))
        if nxt is None:
            if self.phase is Phase.AWAIT_HELLO:
                raise ProtocolError(ErrorCode.HANDSHAKE_REQUIRED, "send hello before anything else")
            raise ProtocolError(ErrorCode.BAD_FRAME, "hello was already received")
        self.phase = nxt
        return frame

    def close(self) -> None:
        """Mark the connection closed; every later frame is refused."""
        self.phase = Phase.CLOSED
