"""Property tests: random command sequences from random roles."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.train_helpers import runbook_data
from warroom.core import Actor, Command, Event, Reject, Role, RoomState, apply, decide, replay
from warroom.core.wire import state_from_wire, state_to_wire

PEOPLE = ["ana", "ben", "cat", "vic"]
RUNBOOK = runbook_data("service-rollout.toml")
ROLES = list(Role)

actors = st.builds(
    Actor,
    name=st.sampled_from(["ana", "ana", *PEOPLE]),
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
    st.tuples(
        st.just("open_train"),
        st.fixed_dictionaries({"runbook": st.just(RUNBOOK), "version": st.just("v1")}),
        st.just(False),
    ),
    st.tuples(
        st.sampled_from(["tick", "untick", "annotate", "remove_item"]),
        st.fixed_dictionaries({"item": st.sampled_from(["i1", "i2", "i3", "i9"])}),
        st.just(False),
    ),
    st.tuples(
        st.sampled_from(["promote", "finish_train"]),
        st.one_of(st.just({}), st.just({"override": "on purpose"})),
        st.just(False),
    ),
    st.tuples(
        st.just("rollback"),
        st.fixed_dictionaries({"scope": st.sampled_from(["partial", "full"])}),
        st.just(False),
    ),
    st.tuples(st.just("raise_blocker"), st.just({"reason": "fatal", "link": "T1"}), st.just(False)),
    st.tuples(
        st.just("resolve_blocker"), st.just({"blocker": "T1", "note": "fixed"}), st.just(False)
    ),
    st.tuples(st.just("add_item"), st.just({"stage": "canary", "text": "more"}), st.just(False)),
    st.tuples(
        st.just("move_item"),
        st.fixed_dictionaries(
            {"item": st.sampled_from(["i1", "i2"]), "position": st.integers(-1, 3)}
        ),
        st.just(False),
    ),
    st.tuples(
        st.sampled_from(["accept_seat", "decline_seat", "take_seat"]), st.just({}), st.just(False)
    ),
    st.tuples(
        st.just("offer_seat"), st.sampled_from([{}, {"to": "ben"}, {"to": "vic"}]), st.just(False)
    ),
    st.tuples(
        st.just("queue_join"),
        st.just({"tz": "UTC", "start": "08:00", "end": "16:00"}),
        st.just(False),
    ),
    st.tuples(st.sampled_from(["vacate_seat", "expire_offer"]), st.just({}), st.just(True)),
    st.tuples(st.just("call_vote"), st.just({"proposal": "hold", "reason": "r"}), st.just(False)),
    st.tuples(
        st.just("ballot"), st.sampled_from([{"choice": "yes"}, {"choice": "no"}]), st.just(False)
    ),
)
_SHAS = ["ab" * 20, "cd" * 20]
_COMMIT = {
    "short": "",
    "author": "Raj",
    "email": "raj@example.org",
    "date": 1,
    "subject": "s",
    "files": [["includes/Foo.php", 1, 0, ""]],
    "more_files": 0,
    "merge": False,
    "revert": False,
    "reverts": "",
    "trailers": [["Bug", "T1"]],
}
manifest_commands = st.one_of(
    st.tuples(
        st.just("manifest_begin"),
        st.fixed_dictionaries(
            {
                "repo": st.sampled_from(["core", "Cart", "bad name"]),
                "batch": st.sampled_from(["b1", "b2"]),
                "from": st.just("v1"),
                "to": st.just("v2"),
                "from_sha": st.just("1" * 40),
                "to_sha": st.just("2" * 40),
                "count": st.integers(0, 2),
            }
        ),
        st.just(False),
    ),
    st.tuples(
        st.just("manifest_add"),
        st.fixed_dictionaries(
            {
                "repo": st.sampled_from(["core", "Cart"]),
                "batch": st.sampled_from(["b1", "b2"]),
                "offset": st.integers(0, 1),
                "commits": st.lists(
                    st.sampled_from(_SHAS).map(
                        lambda sha: {**_COMMIT, "sha": sha, "short": sha[:7]}
                    ),
                    max_size=2,
                ),
            }
        ),
        st.just(False),
    ),
    st.tuples(
        st.just("mark_commit"),
        st.fixed_dictionaries(
            {
                "repo": st.sampled_from(["core", "Cart"]),
                "sha": st.sampled_from(["abab", "cdcd", "ffff"]),
                "safe": st.booleans(),
                "why": st.sampled_from(["", "schema change"]),
            }
        ),
        st.just(False),
    ),
    st.tuples(
        st.just("call_in"),
        st.fixed_dictionaries(
            {"repo": st.sampled_from(["core", "Cart"]), "sha": st.sampled_from(["abab", "cd"])}
        ),
        st.just(False),
    ),
    st.tuples(
        st.just("manifest_drop"),
        st.fixed_dictionaries({"repo": st.sampled_from(["core", "Cart"])}),
        st.just(False),
    ),
)
steps = st.lists(st.tuples(actors, st.one_of(commands, manifest_commands)), max_size=80)


@settings(max_examples=400, deadline=None)
@given(steps)
def test_visitors_never_change_state_and_replay_matches(
    seq: list[tuple[Actor, tuple[str, dict[str, object], bool]]],
) -> None:
    state = RoomState("r")
    log: list[Event] = []
    # Most interesting rules need a seated conductor and an open train; start from there.
    prelude = [
        (Actor("ana", Role.CONDUCTOR, "c1"), ("join", {"tz": "UTC"}, True)),
        (Actor("ben", Role.ENGINEER, "c2"), ("join", {"tz": "UTC"}, True)),
        (
            Actor("ana", Role.CONDUCTOR, "c1"),
            ("open_train", {"runbook": RUNBOOK, "version": "v"}, False),
        ),
    ]
    for ts, (actor, (op, args, trusted)) in enumerate(prelude + seq):
        result = decide(state, actor, Command(op, args, float(ts)), trusted=trusted)
        if actor.role is Role.VISITOR and not trusted:
            assert isinstance(result, Reject), (op, args, result)
        if isinstance(result, Reject):
            continue
        for event in result:
            # Only a conductor token ever takes the seat.
            # The seat goes to a conductor token on arrival, and otherwise only by an act
            # of someone who is not a visitor.
            if event.kind == "seat_taken":
                if op == "join":
                    assert actor.role is Role.CONDUCTOR
                assert actor.role is not Role.VISITOR
            if event.kind == "seat_accepted":
                assert actor.role is not Role.VISITOR
            state = apply(state, event)
            log.append(event)

    assert replay("r", log) == state
    assert state_from_wire(state_to_wire(state)) == state
