"""Room core: decide/apply rules for presence, the seat and notes."""

from __future__ import annotations

from warroom.core import (
    Actor,
    Code,
    Command,
    Event,
    Reject,
    Role,
    RoomState,
    acting_role,
    apply,
    decide,
    describe,
    replay,
)

ANA = Actor("ana", Role.CONDUCTOR, "c1", "Europe/Berlin")
BEN = Actor("ben", Role.ENGINEER, "c2", "America/New_York")
VIC = Actor("vic", Role.VISITOR, "c3", "UTC")
CAT = Actor("cat", Role.CONDUCTOR, "c4", "UTC")


def run(
    state: RoomState,
    actor: Actor,
    op: str,
    args: dict[str, object],
    ts: float = 1.0,
    trusted: bool = False,
) -> tuple[RoomState, list[Event]]:
    result = decide(state, actor, Command(op, args, ts), trusted=trusted)
    assert not isinstance(result, Reject), result
    for event in result:
        state = apply(state, event)
    return state, result


def joined(*actors: Actor) -> RoomState:
    state = RoomState("r")
    for a in actors:
        state, _ = run(state, a, "join", {"tz": a.tz}, trusted=True)
    return state


def test_first_conductor_takes_the_free_seat_and_a_second_does_not() -> None:
    state = joined(ANA, CAT)
    assert state.conductor == "ana"
    assert acting_role(state, ANA) is Role.CONDUCTOR
    assert acting_role(state, CAT) is Role.ENGINEER


def test_engineer_never_takes_the_seat() -> None:
    state = joined(BEN)
    assert state.conductor is None
    assert acting_role(state, BEN) is Role.ENGINEER


def test_join_and_leave_track_connections_per_person() -> None:
    state = joined(BEN)
    second = Actor("ben", Role.ENGINEER, "c9", "UTC")
    state, _ = run(state, second, "join", {"tz": "UTC"}, trusted=True)
    assert state.members["ben"].conns == {"c2", "c9"}
    state, events = run(state, BEN, "leave", {}, trusted=True)
    assert [e.kind for e in events] == ["left"]
    assert state.members["ben"].present
    state, _ = run(state, second, "leave", {}, trusted=True)
    assert not state.members["ben"].present
    assert state.present() == []


def test_leave_of_an_unknown_connection_is_a_no_op() -> None:
    state = joined(BEN)
    stranger = Actor("ben", Role.ENGINEER, "nope", "UTC")
    assert decide(state, stranger, Command("leave", {}, 2.0), trusted=True) == []


def test_seat_holder_keeps_the_seat_across_a_disconnect() -> None:
    state = joined(ANA)
    state, _ = run(state, ANA, "leave", {}, trusted=True)
    state, _ = run(state, CAT, "join", {"tz": "UTC"}, trusted=True)
    assert state.conductor == "ana"


def test_presence_reset_marks_everyone_away() -> None:
    state = joined(ANA, BEN)
    state, events = run(
        state, Actor("hub", Role.ENGINEER, "hub"), "reset_presence", {}, trusted=True
    )
    assert [e.kind for e in events] == ["presence_reset"]
    assert state.present() == []
    assert state.conductor == "ana"


def test_clients_cannot_send_the_hubs_own_ops() -> None:
    for op in ("join", "leave", "reset_presence"):
        result = decide(RoomState("r"), ANA, Command(op, {"tz": "UTC"}, 1.0))
        assert isinstance(result, Reject) and result.code is Code.UNKNOWN_OP


def test_note_from_engineer_and_conductor() -> None:
    state = joined(ANA, BEN)
    state, events = run(state, BEN, "note", {"text": "  group0 looks clean "})
    assert events[0].data == {"text": "group0 looks clean"}
    state, _ = run(state, ANA, "note", {"text": "promoting"})
    assert state.notes == 2


def test_visitor_note_is_forbidden_and_says_why() -> None:
    state = joined(VIC)
    result = decide(state, VIC, Command("note", {"text": "hi"}, 1.0))
    assert isinstance(result, Reject)
    assert result.code is Code.FORBIDDEN
    assert "read-only" in result.reason


def test_bad_arguments_are_invalid_with_a_reason() -> None:
    state = joined(BEN)
    cases = {
        "missing argument 'text'": {},
        "must be a string": {"text": 5},
        "must not be empty": {"text": "   "},
        "unknown argument 'colour'": {"text": "x", "colour": "red"},
        "longer than 2000": {"text": "x" * 2001},
    }
    for expected, args in cases.items():
        result = decide(state, BEN, Command("note", args, 1.0))
        assert isinstance(result, Reject) and result.code is Code.INVALID
        assert expected in result.reason


def test_unknown_op() -> None:
    result = decide(RoomState("r"), BEN, Command("launch_missiles", {}, 1.0))
    assert isinstance(result, Reject) and result.code is Code.UNKNOWN_OP
    assert "launch_missiles" in result.reason


def test_replay_rebuilds_the_same_state() -> None:
    state = RoomState("r")
    log: list[Event] = []
    for actor, op, args, trusted in [
        (ANA, "join", {"tz": "Europe/Berlin"}, True),
        (BEN, "join", {"tz": "America/New_York"}, True),
        (BEN, "note", {"text": "hello"}, False),
        (ANA, "leave", {}, True),
    ]:
        state, events = run(state, actor, op, args, trusted=trusted)
        log.extend(events)
    assert replay("r", log) == state


def test_timeline_sentences() -> None:
    state = joined(ANA)
    _, events = run(state, ANA, "note", {"text": "group0 looks clean"})
    assert describe(events[0]) == "ana: group0 looks clean"
    _, join_events = run(RoomState("r"), ANA, "join", {"tz": "Europe/Berlin"}, trusted=True)
    assert [describe(e) for e in join_events] == [
        "ana joined as conductor (Europe/Berlin)",
        "ana took the conductor seat",
    ]


def test_apply_refuses_unknown_event_kinds() -> None:
    import pytest

    with pytest.raises(ValueError, match="unknown event kind"):
        apply(RoomState("r"), Event("mystery", 1.0, "ana", {}))


def test_a_conductor_token_that_never_joined_takes_a_free_seat_with_its_first_act() -> None:
    state = joined(BEN)
    script = Actor("ana", Role.CONDUCTOR, "script", "UTC")
    state, events = run(state, script, "note", {"text": "opening soon"})
    assert [e.kind for e in events] == ["seat_taken", "note"]
    assert state.conductor == "ana"
    # Once the seat is held, another conductor token acts as an engineer and takes nothing.
    _, events = run(state, CAT, "note", {"text": "hi"})
    assert [e.kind for e in events] == ["note"]
    # A refused act takes no seat.
    result = decide(joined(BEN), script, Command("note", {"text": ""}, 1.0))
    assert isinstance(result, Reject)
