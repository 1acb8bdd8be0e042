"""Protocol codec: round trips, and every kind of bad frame."""

from __future__ import annotations

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from warroom import protocol as p
from warroom.protocol import ErrorCode, ProtocolError

HUB_FRAMES = [
    p.Welcome(1, "r1", "ana", "conductor", "e1", 7, True),
    p.Snapshot(
        "e1",
        7,
        {"room": "r1"},
        [{"seq": 7, "ts": 1.5, "kind": "note", "actor": "a", "data": {"text": "x"}}],
    ),
    p.Events("e1", [{"seq": 1, "ts": 1.0, "kind": "note", "actor": "a", "data": {}}]),
    p.Ack("c1", "e1", 3),
    p.RejectFrame("c1", "forbidden", "visitors are read-only"),
    p.Error("bad_frame", "nope"),
]


def pack(body: object) -> bytes:
    return msgpack.packb(body, use_bin_type=True)


@pytest.mark.parametrize("frame", HUB_FRAMES, ids=lambda f: type(f).__name__)
def test_hub_frames_round_trip(frame: p.HubFrame) -> None:
    assert p.decode_hub(p.encode(frame)) == frame


def test_client_frames_round_trip() -> None:
    hello = p.Hello(1, "tok", "train-1", "Europe/Berlin", p.Resume("e1", 42), False)
    assert p.decode_client(p.encode(hello)) == hello
    cmd = p.Cmd("id-1", "note", {"text": "hi"})
    assert p.decode_client(p.encode(cmd)) == cmd


def test_events_frame_matches_the_generic_encoder() -> None:
    events = [{"seq": 1, "ts": 1.0, "kind": "note", "actor": "a", "data": {}}]
    frame = p.events_frame("e", [p.pack(e) for e in events])
    assert frame == p.encode(p.Events("e", events))
    assert p.decode_hub(frame) == p.Events("e", events)


@given(
    st.text(max_size=200),
    st.dictionaries(
        st.text(max_size=10),
        st.one_of(st.text(), st.integers(-(2**63), 2**64 - 1), st.booleans()),
        max_size=5,
    ),
)
def test_any_command_text_round_trips(text: str, args: dict[str, object]) -> None:
    cmd = p.Cmd("x", "note", {"text": text, **args})
    assert p.decode_client(p.encode(cmd)) == cmd


@given(st.binary(max_size=64))
def test_garbage_never_crashes_the_decoder(data: bytes) -> None:
    try:
        p.decode_client(data)
    except ProtocolError as exc:
        assert exc.code in set(ErrorCode)


@pytest.mark.parametrize(
    ("data", "code", "words"),
    [
        (b"\xc1", ErrorCode.BAD_FRAME, "not valid MessagePack"),
        (pack([1, 2]), ErrorCode.BAD_FRAME, "must be a map"),
        (pack({"t": "launch"}), ErrorCode.BAD_FRAME, "unknown frame type"),
        (pack({"t": "welcome", "v": 1}), ErrorCode.BAD_FRAME, "unknown frame type"),
        (pack({"t": "cmd", "op": "note"}), ErrorCode.BAD_FRAME, "missing field 'id'"),
        (pack({"t": "cmd", "id": 5, "op": "note"}), ErrorCode.BAD_FRAME, "'id' must be str"),
        (pack({"t": "cmd", "id": "", "op": "note"}), ErrorCode.BAD_FRAME, "1 to 64"),
        (pack({"t": "cmd", "id": "x" * 65, "op": "note"}), ErrorCode.BAD_FRAME, "1 to 64"),
        (
            pack({"t": "cmd", "id": "a", "op": "note", "args": [1]}),
            ErrorCode.BAD_FRAME,
            "'args' must be dict",
        ),
        (
            pack({"t": "hello", "v": 1, "token": "t", "room": "r", "resume": {"epoch": 1}}),
            ErrorCode.BAD_FRAME,
            "resume must be",
        ),
        (
            pack({"t": "hello", "v": True, "token": "t", "room": "r"}),
            ErrorCode.BAD_FRAME,
            "'v' must be int",
        ),
        (
            pack({"t": "hello", "v": 1, "token": "t", "room": "../etc"}),
            ErrorCode.BAD_ROOM,
            "bad room name",
        ),
        (
            pack({"t": "hello", "v": 2, "shape": "new"}),
            ErrorCode.UNSUPPORTED_VERSION,
            "protocol 1; the client sent version 2",
        ),
        ("text frame", ErrorCode.BAD_FRAME, "text frames"),
    ],
)
def test_bad_client_frames(data: bytes | str, code: ErrorCode, words: str) -> None:
    with pytest.raises(ProtocolError) as info:
        p.decode_client(data)
    assert info.value.code is code
    assert words in info.value.message


def test_bad_event_inside_an_events_frame() -> None:
    frame = pack({"t": "events", "epoch": "e", "events": [{"seq": "1"}]})
    with pytest.raises(ProtocolError, match="'seq' must be int"):
        p.decode_hub(frame)


def test_handshake_state_machine() -> None:
    conn = p.HubConnection()
    cmd = p.encode(p.Cmd("1", "note", {}))
    with pytest.raises(ProtocolError) as info:
        conn.receive(cmd)
    assert info.value.code is ErrorCode.HANDSHAKE_REQUIRED
    assert conn.phase is p.Phase.AWAIT_HELLO  # an illegal frame leaves the phase unchanged
    with pytest.raises(ProtocolError):
        conn.receive(b"\xc1")
    assert conn.phase is p.Phase.AWAIT_HELLO
    hello = p.encode(p.Hello(1, "tok", "r"))
    assert isinstance(conn.receive(hello), p.Hello)
    assert conn.phase is p.Phase.READY
    with pytest.raises(ProtocolError, match="already"):
        conn.receive(hello)
    assert isinstance(conn.receive(cmd), p.Cmd)
    conn.close()
    with pytest.raises(ProtocolError):
        conn.receive(cmd)


def test_room_names() -> None:
    assert p.check_room("train-2026.11_a") == "train-2026.11_a"
    for bad in ["", "a b", "x" * 65, ".hidden", "a/b", "healthz"]:
        with pytest.raises(ProtocolError):
            p.check_room(bad)


def test_unencodable_values_are_a_protocol_error() -> None:
    with pytest.raises(ProtocolError, match="cannot encode cmd frame"):
        p.encode(p.Cmd("x", "note", {"n": 2**70}))
