"""The sans-I/O replica, fed bytes made with `warroom.protocol.encode`: hello, catch-up,
resume, gaps, duplicates, epochs, snapshot parts, version skew, answers, logs and closes."""

from __future__ import annotations

from typing import Any

import pytest

from warroom import protocol as p
from warroom.core import Event, RoomState, apply
from warroom.core.wire import state_to_wire
from warroom.replica import (
    Answer,
    Applied,
    Ending,
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

LIVE = StatusChanged(Status.LIVE)


def event(seq: int, kind: str = "note", **data: object) -> dict[str, Any]:
    return {"seq": seq, "ts": 1.0, "kind": kind, "actor": "ana", "data": data or {"text": "x"}}


def welcome(epoch: str = "e1", seq: int = 0, resumed: bool = False) -> bytes:
    return p.encode(p.Welcome(p.VERSION, "r1", "ana", "engineer", epoch, seq, resumed))


def events(*seqs: int, epoch: str = "e1") -> bytes:
    return p.encode(p.Events(epoch, [event(s) for s in seqs]))


def state_after(notes: int) -> RoomState:
    state = RoomState(room="r1")
    for n in range(notes):
        state = apply(state, Event("note", 1.0, "ana", {"text": f"n{n}"}))
    return state


def snapshot(seq: int, epoch: str = "e1", notes: int | None = None) -> bytes:
    state = state_to_wire(state_after(seq if notes is None else notes))
    return p.encode(p.Snapshot(epoch, seq, state, [event(seq)] if seq else []))


def parts(seq: int, count: int, epoch: str = "e1") -> tuple[bytes, list[bytes]]:
    """A snapshot of `seq` notes sent in `count` parts, as the hub cuts one: head, parts."""
    packed = p.pack(state_to_wire(state_after(seq)))
    size = -(-len(packed) // count)
    pieces = [packed[i : i + size] for i in range(0, len(packed), size)]
    assert len(pieces) == count
    head = p.snapshot_frame(epoch, seq, None, [p.pack(event(seq))], count, len(packed))
    return head, [p.encode(p.SnapshotPart(epoch, seq, i, d)) for i, d in enumerate(pieces)]


def hello(replica: Replica) -> p.Hello:
    frame = p.decode_client(replica.hello())
    assert isinstance(frame, p.Hello)
    return frame


def feed(replica: Replica, *frames: bytes) -> list[Update | Ending]:
    out: list[Update | Ending] = []
    for frame in frames:
        out += replica.receive(frame)
    return out


def joined(seq: int = 3) -> Replica:
    """A replica live at `seq` of epoch e1, having had log lines up to lseq 10."""
    replica = Replica("r1", "tok", "Europe/Berlin")
    replica.hello()
    feed(replica, welcome(seq=seq), snapshot(seq), loglines(range(1, 11)))
    assert replica.live and replica.seq == seq
    return replica


def loglines(lseqs: Any, epoch: str = "e1") -> bytes:
    return p.encode(p.LogLines(epoch, [[n, 1.0, "sync", 0, 0, f"line {n}"] for n in lseqs]))


# --- hello ------------------------------------------------------------------------------------


def test_the_first_hello_has_no_resume_and_no_logs_from() -> None:
    replica = Replica("r1", "tok", "Europe/Berlin", presence=False)
    assert hello(replica) == p.Hello(1, "tok", "r1", "Europe/Berlin", None, False)


def test_a_history_read_asks_for_every_event_of_whatever_epoch() -> None:
    assert hello(Replica("r1", "tok", history=True)).resume == p.Resume("", 0)


def test_a_reconnect_resumes_from_the_position_with_the_last_log_line() -> None:
    replica = joined(seq=3)
    again = hello(replica)
    assert again.resume == p.Resume("e1", 3)
    assert again.logs_from == 10
    assert not replica.live, "a new connection is not live until it catches up"


def test_logs_from_goes_only_with_a_resume_and_a_line_received() -> None:
    replica = Replica("r1", "tok")
    replica.hello()
    feed(replica, welcome(seq=2), snapshot(2))
    assert hello(replica).logs_from is None  # an epoch, but no line yet
    history = Replica("r1", "tok", history=True)
    assert hello(history).logs_from is None


# --- catching up ----------------------------------------------------------------------------


def test_a_snapshot_replaces_the_state_and_the_replica_goes_live() -> None:
    replica = Replica("r1", "tok")
    replica.hello()
    assert feed(replica, welcome(seq=2)) == []
    out = feed(replica, snapshot(2))
    assert len(out) == 2 and out[1] == LIVE
    synced = out[0]
    assert isinstance(synced, Synced)
    assert synced.state.notes == 2 and synced.state == replica.state
    assert [seq for seq, _ in synced.recent] == [2]
    assert (synced.name, synced.role) == ("ana", "engineer")
    assert (replica.epoch, replica.seq, replica.name, replica.role) == ("e1", 2, "ana", "engineer")


def test_a_resume_applies_the_missing_events_then_goes_live() -> None:
    replica = joined(seq=3)
    replica.hello()
    assert feed(replica, welcome(seq=5, resumed=True)) == []
    out = feed(replica, events(4, 5))
    applied, live = out
    assert isinstance(applied, Applied) and live == LIVE
    assert [seq for seq, _ in applied.events] == [4, 5]
    assert replica.seq == 5 and replica.state.notes == 5


def test_a_resume_already_at_the_head_is_live_at_the_welcome() -> None:
    replica = joined(seq=3)
    replica.hello()
    assert feed(replica, welcome(seq=3, resumed=True)) == [LIVE]


def test_catch_up_in_several_frames_goes_live_once_at_the_target() -> None:
    replica = joined(seq=1)
    replica.hello()
    feed(replica, welcome(seq=4, resumed=True))
    assert LIVE not in feed(replica, events(2, 3))
    assert feed(replica, events(4))[-1] == LIVE
    assert LIVE not in feed(replica, events(5)), "live already: said once"


def test_live_events_apply_in_order() -> None:
    replica = joined(seq=3)
    out = feed(replica, events(4), events(5, 6))
    assert [[s for s, _ in u.events] for u in out if isinstance(u, Applied)] == [[4], [5, 6]]
    assert replica.state == state_after(6)


# --- duplicates, gaps, epochs -------------------------------------------------------------


def test_events_already_applied_are_skipped() -> None:
    replica = joined(seq=3)
    out = feed(replica, events(2, 3, 4))  # a resend after a reconnect overlaps
    assert len(out) == 1 and isinstance(out[0], Applied)
    assert [s for s, _ in out[0].events] == [4]
    assert feed(replica, events(3, 4)) == [], "nothing new: no update"
    assert replica.seq == 4 and replica.state.notes == 4


def test_a_gap_applies_what_comes_before_it_and_asks_for_a_resume() -> None:
    replica = joined(seq=3)
    out = feed(replica, events(4, 6))
    applied, lost = out
    assert isinstance(applied, Applied) and [s for s, _ in applied.events] == [4]
    assert lost == Lost("missed events; resuming")
    assert replica.seq == 4 and replica.state.notes == 4
    assert hello(replica).resume == p.Resume("e1", 4)


def test_a_snapshot_after_a_gap_replaces_the_replica() -> None:
    replica = joined(seq=3)
    assert feed(replica, events(9))[-1] == Lost("missed events; resuming")
    assert replica.seq == 3, "nothing applied past the gap"
    assert hello(replica).resume == p.Resume("e1", 3)
    # Too far behind: the hub answers the resume with a snapshot instead of events.
    out = feed(replica, welcome(seq=60_000), snapshot(60_000, notes=7))
    assert isinstance(out[0], Synced) and out[-1] == LIVE
    assert replica.seq == 60_000 and replica.state.notes == 7
    assert feed(replica, events(60_001))[0] == Applied(replica.state, replica_events(60_001))


def replica_events(*seqs: int) -> list[tuple[int, Event]]:
    return [(s, Event("note", 1.0, "ana", {"text": "x"})) for s in seqs]


def test_events_of_another_epoch_ask_for_a_resume() -> None:
    replica = joined(seq=3)
    assert feed(replica, events(4, epoch="e2")) == [Lost("missed events; resuming")]
    assert replica.seq == 3 and replica.epoch == "e1"


def test_a_new_epoch_starts_over_from_its_snapshot_and_forgets_the_log_position() -> None:
    replica = joined(seq=3)
    assert hello(replica).resume == p.Resume("e1", 3)
    out = feed(replica, welcome(epoch="e2", seq=1))
    assert out == [] and (replica.epoch, replica.seq, replica.log_seq) == ("e2", 0, 0)
    out = feed(replica, snapshot(1, epoch="e2"))
    assert isinstance(out[0], Synced) and replica.state.notes == 1
    lines = feed(replica, loglines([1, 2], epoch="e2"))  # a reset journal's log starts at 1
    assert lines == [LogBatch([[1, 1.0, "sync", 0, 0, "line 1"], [2, 1.0, "sync", 0, 0, "line 2"]])]
    assert hello(replica).resume == p.Resume("e2", 1) and replica.log_seq == 2


# --- snapshots in parts ---------------------------------------------------------------------


def test_a_snapshot_in_parts_is_assembled_in_order() -> None:
    replica = Replica("r1", "tok")
    replica.hello()
    head, pieces = parts(5, 3)
    assert feed(replica, welcome(seq=5), head, *pieces[:2]) == []
    out = feed(replica, pieces[2])
    assert isinstance(out[0], Synced) and out[1] == LIVE
    assert out[0].state == state_after(5) and replica.seq == 5


def test_a_part_out_of_order_is_a_bad_frame_and_a_resume() -> None:
    replica = Replica("r1", "tok")
    replica.hello()
    head, pieces = parts(5, 3)
    out = feed(replica, welcome(seq=5), head, pieces[1])
    assert len(out) == 2
    error, lost = out
    assert isinstance(error, HubError) and error.code == "bad_frame"
    assert "came out of order" in error.message and error.message.startswith("bad frame from hub")
    assert lost == Lost(error.message)
    assert replica.seq == 0 and not replica.live


def test_a_part_alone_is_a_bad_frame() -> None:
    replica = joined()
    _, pieces = parts(5, 2)
    out = feed(replica, pieces[0])
    assert out[-1] == Lost("bad frame from hub: a snapshot part came alone")


def test_a_new_connection_forgets_a_half_assembled_snapshot() -> None:
    replica = Replica("r1", "tok")
    replica.hello()
    head, pieces = parts(5, 2)
    feed(replica, welcome(seq=5), head, pieces[0])
    replica.hello()  # the connection dropped half-way
    assert feed(replica, pieces[1])[-1] == Lost("bad frame from hub: a snapshot part came alone")
    head, pieces = parts(6, 2)
    out = feed(replica, welcome(seq=6), head, *pieces)
    assert isinstance(out[0], Synced) and replica.seq == 6


def test_a_new_snapshot_drops_an_unfinished_one() -> None:
    replica = Replica("r1", "tok")
    replica.hello()
    first, old = parts(5, 2)
    second, new = parts(6, 2)
    out = feed(replica, welcome(seq=5), first, old[0], second, *new)
    assert isinstance(out[0], Synced) and replica.seq == 6 and replica.state == state_after(6)


def test_parts_that_overrun_the_size_are_refused() -> None:
    replica = Replica("r1", "tok")
    replica.hello()
    head, pieces = parts(5, 2)
    extra = p.encode(p.SnapshotPart("e1", 5, 1, b"\x00" * 100_000))
    out = feed(replica, welcome(seq=5), head, pieces[0], extra)
    assert out[-1] == Lost("bad frame from hub: snapshot: parts exceed the stated size")


# --- version skew and bad frames ------------------------------------------------------------


def test_an_unknown_event_kind_is_fatal_after_what_came_before_it() -> None:
    replica = joined(seq=3)
    out = feed(replica, p.encode(p.Events("e1", [event(4), event(5, "rocket_launched")])))
    applied, fatal = out
    assert isinstance(applied, Applied) and [s for s, _ in applied.events] == [4]
    assert isinstance(fatal, Fatal)
    assert "does not know ('rocket_launched'); upgrade warroom" in fatal.detail
    assert replica.seq == 4 and replica.state == state_after(4), "the position matches the state"


def test_bytes_that_are_no_frame_are_a_bad_frame_and_a_resume() -> None:
    replica = joined()
    error, lost = replica.receive(b"\xc1")
    assert isinstance(error, HubError) and error.code == "bad_frame"
    assert isinstance(lost, Lost) and lost.detail.startswith("bad frame from hub: not valid")
    # A frame only a client sends is no frame from the hub either.
    assert isinstance(replica.receive(p.encode(p.Cmd("c1", "note")))[-1], Lost)


# --- the outbox and answers ---------------------------------------------------------------


def test_the_first_answer_wins_and_a_later_one_is_ignored() -> None:
    replica = joined()
    cid, frame = replica.command("note", {"text": "hi"}, "c1")
    assert cid == "c1" and p.decode_client(frame) == p.Cmd("c1", "note", {"text": "hi"})
    assert replica.pending() == 1
    assert feed(replica, p.encode(p.Ack("c1", "e1", 4))) == [Answer("c1", "note", True, seq=4)]
    assert replica.pending() == 0
    assert feed(replica, p.encode(p.Ack("c1", "e1", 4))) == []  # the resend's answer
    assert feed(replica, p.encode(p.RejectFrame("zz", "invalid", "not ours"))) == []


def test_a_reject_says_why() -> None:
    replica = joined()
    cid, _ = replica.command("promote")
    out = feed(replica, p.encode(p.RejectFrame(cid, "forbidden", "conductor only")))
    assert out == [Answer(cid, "promote", False, code="forbidden", reason="conductor only")]


def test_unanswered_commands_are_resent_in_order_after_a_reconnect() -> None:
    replica = joined(seq=3)
    _, one = replica.command("note", {"text": "1"}, "a")
    replica.command("note", {"text": "2"}, "b")
    _, three = replica.command("note", {"text": "3"}, "c")
    feed(replica, p.encode(p.Ack("b", "e1", 4)))
    replica.hello()
    feed(replica, welcome(seq=3, resumed=True))
    assert replica.unanswered() == [one, three]


def test_fresh_ids_are_random_and_unencodable_args_keep_nothing() -> None:
    replica = Replica("r1", "tok")
    first, _ = replica.command("note", {"text": "x"})
    second, _ = replica.command("note", {"text": "x"})
    assert first != second and len(first) == 16
    with pytest.raises(p.ProtocolError):
        replica.command("note", {"text": object()})
    assert replica.pending() == 2
    assert replica.abandon() == [first, second] and replica.pending() == 0


# --- logs, errors -------------------------------------------------------------------------


def test_log_lines_already_seen_are_dropped() -> None:
    replica = joined()  # has lines up to 10
    out = feed(replica, loglines(range(8, 13)))
    assert out == [LogBatch([[n, 1.0, "sync", 0, 0, f"line {n}"] for n in (11, 12)])]
    assert feed(replica, loglines([11, 12])) == []
    assert replica.log_seq == 12


def test_log_lines_of_another_epoch_are_ignored() -> None:
    replica = joined()
    assert feed(replica, loglines([50], epoch="old")) == []
    assert replica.log_seq == 10


def test_logs_acks_pass_through() -> None:
    replica = joined()
    assert feed(replica, p.encode(p.LogsAck("sync", 43))) == [LogsAcked("sync", 43)]


def test_a_refusal_is_kept_to_say_why_the_close_is_final() -> None:
    replica = Replica("r1", "tok")
    replica.hello()
    error = p.encode(p.Error("unauthorized", "your token expired; ask for a new one"))
    assert feed(replica, error) == [
        HubError("unauthorized", "your token expired; ask for a new one")
    ]
    assert replica.closed(4005, "token expired") == Fatal("your token expired; ask for a new one")


def test_other_errors_leave_the_connection_be() -> None:
    replica = joined()
    out = feed(replica, p.encode(p.Error("bad_frame", "cmd: id must be 1 to 64 characters")))
    assert out == [HubError("bad_frame", "cmd: id must be 1 to 64 characters")]
    assert replica.refusal == ""


# --- closes -------------------------------------------------------------------------------


@pytest.mark.parametrize("code", sorted(p.FATAL_CLOSES))
def test_fatal_close_codes_stop(code: int) -> None:
    replica = joined()
    assert replica.closed(code, "why") == Fatal("why")
    assert replica.closed(code, "") == Fatal(f"refused ({code})")


@pytest.mark.parametrize("code", [1001, 1006, 1011, 4004, 4009, 4010, 4011, 4012, 4999, None])
def test_other_ends_reconnect(code: int | None) -> None:
    replica = joined()
    assert replica.closed(code, "") == Lost("connection lost")
    assert replica.closed(code, "", "missed events; resuming") == Lost("missed events; resuming")
    if code is not None:
        assert replica.closed(code, "hub stopping") == Lost(
            "hub closed the connection: hub stopping"
        )
