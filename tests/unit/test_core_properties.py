"""Property tests: random command sequences from random roles."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from warroom.core import Actor, Command, Event, Reject, Role, RoomState, apply, decide, replay
from warroom.core.wire import state_from_wire, state_to_wire

PEOPLE = ["ana", "ben", "cat", "vic"]
ROLES = list(Role)

actors = st.builds(
    Actor,
    name=st.sampled_from(PEOPLE),
    role=st.sampled_from(ROLES),
    conn=st.sampled_from(["c1", "c2", "c3"]),
    tz=st.sampled_from(["UTC", "Europe/Berlin", "Asia/Kolkata"]),
)
commands = st.one_of(
    st.tuples(
        st.just("join"),
        st.fixed_dictionaries({"tz": st.sampled_from(["UTC", "x" * 70])}),
        st.just(True),
    ),
    st.tuples(st.just("leave"), st.just({}), st.just(True)),
    st.tuples(st.just("reset_presence"), st.just({}), st.just(True)),
    st.tuples(
        st.just("note"),
        st.dictionaries(
            st.sampled_from(["text", "extra"]), st.one_of(st.text(max_size=5), st.integers())
        ),
        st.just(False),
    ),
    st.tuples(st.sampled_from(["note", "join", "bogus"]), st.just({"text": "hi"}), st.just(False)),
)
steps = st.lists(st.tuples(actors, commands), max_size=60)


@settings(max_examples=300, deadline=None)
@given(steps)
def test_visitors_never_change_state_and_replay_matches(
    seq: list[tuple[Actor, tuple[str, dict[str, object], bool]]],
) -> None:
    state = RoomState("r")
    log: list[Event] = []
    for ts, (actor, (op, args, trusted)) in enumerate(seq):
        result = decide(state, actor, Command(op, args, float(ts)), trusted=trusted)
        if actor.role is Role.VISITOR and not trusted:
            assert isinstance(result, Reject), (op, args, result)
        if isinstance(result, Reject):
            continue
        for event in result:
            # Only a conductor token ever takes the seat.
            if event.kind == "seat_taken":
                assert actor.role is Role.CONDUCTOR
            state = apply(state, event)
            log.append(event)
    assert replay("r", log) == state
    assert state_from_wire(state_to_wire(state)) == state
