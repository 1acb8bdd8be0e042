"""The rollback vote: electorate, ballots, thresholds, outcomes, deadlines, time to recovery."""

from __future__ import annotations

from tests.unit.train_helpers import ANA, RAJ, VIC, Room, opened, tick_stage
from warroom.core import Actor, Code, Role, describe
from warroom.core.votes import Vote

BEA = Actor("bea", Role.ENGINEER, "c5", "America/Los_Angeles")
JON = Actor("jon", Role.ENGINEER, "c6", "UTC")


def at_group0() -> Room:
    room = opened()
    for _ in range(2):
        tick_stage(room)
        room.ok(ANA, "promote")
    return room


def vote(room: Room) -> Vote:
    assert room.state.vote is not None
    return room.state.vote


def test_calling_a_vote_fixes_the_electorate_and_the_deadline() -> None:
    room = at_group0()
    room.join(BEA)
    events = room.ok(RAJ, "call_vote", proposal="partial", reason="fatals on group0", ref="a1")
    v = vote(room)
    assert v.electorate == {"ana", "raj", "bea"}  # present non-visitors; vic watches
    assert v.deadline == events[0].ts + 300  # the runbook's vote_window
    assert v.needed == 2
    assert describe(events[0]) == (
        "raj called a vote to roll back the last stage: fatals on group0 (a1); 3 may vote"
    )
    assert room.refused(ANA, "call_vote", proposal="hold", reason="x").code is Code.CONFLICT
    assert room.refused(VIC, "call_vote", proposal="hold", reason="x").code is Code.FORBIDDEN


def test_a_joiner_may_vote_and_a_visitor_may_not() -> None:
    room = at_group0()
    room.ok(ANA, "call_vote", proposal="full", reason="data loss risk", deadline=120)
    room.join(BEA)
    assert "bea" in vote(room).electorate
    refusal = room.refused(VIC, "ballot", choice="yes")
    assert refusal.code is Code.FORBIDDEN


def test_the_conductor_alone_cannot_pass_a_vote() -> None:
    room = Room()
    room.join(ANA)
    from tests.unit.train_helpers import runbook_data

    room.ok(ANA, "open_train", runbook=runbook_data(), version="v1")
    room.ok(ANA, "call_vote", proposal="hold", reason="gut feeling")
    events = room.ok(ANA, "ballot", choice="yes")
    assert [e.kind for e in events] == ["ballot_cast", "vote_closed"]
    assert vote(room).outcome == "failed"  # one yes can never make two


def test_one_ballot_per_person_changeable_until_closed() -> None:
    room = at_group0()
    room.join(BEA, JON)
    room.ok(RAJ, "call_vote", proposal="partial", reason="fatals")
    assert vote(room).needed == 3  # majority of four
    room.ok(RAJ, "ballot", choice="yes")
    assert room.ok(RAJ, "ballot", choice="yes") == []  # the same again changes nothing
    other_conn = Actor("raj", Role.ENGINEER, "c99", "UTC")  # same person, second connection
    room.ok(other_conn, "ballot", choice="no", comment="actually, logs look fine")
    assert vote(room).tally() == (0, 1)
    assert "raj changed their ballot to no" in describe(room.events[-1])
    room.ok(RAJ, "ballot", choice="yes")
    room.ok(BEA, "ballot", choice="yes")
    events = room.ok(ANA, "ballot", choice="yes", comment="agreed")
    assert [e.kind for e in events] == ["ballot_cast", "vote_closed"]
    closed = events[-1]
    assert closed.data["outcome"] == "passed" and closed.data["yes"] == 3
    assert [b["name"] for b in closed.data["ballots"]] == ["ana", "bea", "raj"]
    assert room.refused(JON, "ballot", choice="no").code is Code.CONFLICT  # closed now


def test_it_fails_as_soon_as_it_can_no_longer_pass() -> None:
    room = at_group0()
    room.join(BEA)
    room.ok(RAJ, "call_vote", proposal="full", reason="?")
    room.ok(RAJ, "ballot", choice="no")
    events = room.ok(BEA, "ballot", choice="no")  # 0 yes + 1 to vote < 2 needed
    assert events[-1].kind == "vote_closed" and events[-1].data["outcome"] == "failed"


def test_a_passed_rollback_is_approved_then_executed_with_time_to_recovery() -> None:
    room = at_group0()
    room.ok(RAJ, "raise_blocker", reason="fatal on Special:Search", link="T1")
    incident = room.events[-1].ts
    room.ok(RAJ, "call_vote", proposal="partial", reason="fatals", ref="T1")
    room.ok(RAJ, "ballot", choice="yes")
    room.ok(ANA, "ballot", choice="yes")
    train = room.state.train
    assert train is not None and train.approved == "partial"
    assert train.label() == "ROLLBACK APPROVED"
    events = room.ok(ANA, "rollback", scope="partial")
    assert events[0].data["vote"] == "v1"
    assert events[0].data["ttr"] == events[0].ts - incident
    sentence = describe(events[0])
    assert "as vote v1 decided" in sentence and "time to recovery 4m 00s" in sentence
    train = room.state.train
    assert train is not None and train.approved == "" and train.stage == "testwikis"
    assert vote(room).executed


def test_resolving_the_last_blocker_ends_the_incident_as_a_rollback_does() -> None:
    # The export counts an incident until its rollback or its blockers' resolution: the
    # timeline's time to recovery follows the same rule.
    room = at_group0()
    room.ok(RAJ, "raise_blocker", reason="fatal", link="T1")
    room.ok(RAJ, "raise_blocker", reason="lag", link="T2")
    room.ok(RAJ, "resolve_blocker", blocker="T1", note="fixed")
    assert room.state.train is not None and room.state.train.incident_at  # T2 is still open
    room.ok(RAJ, "resolve_blocker", blocker="T2", note="fixed")
    assert room.state.train is not None and room.state.train.incident_at == 0.0
    room.ok(RAJ, "raise_blocker", reason="fatal again", link="T3")
    again = room.events[-1].ts
    events = room.ok(ANA, "rollback", scope="partial", reason="T3")
    assert events[0].data["ttr"] == events[0].ts - again


def test_a_passed_hold_raises_a_blocker() -> None:
    room = at_group0()
    room.ok(RAJ, "call_vote", proposal="hold", reason="let us look at the logs")
    room.ok(RAJ, "ballot", choice="yes")
    events = room.ok(ANA, "ballot", choice="yes")
    assert [e.kind for e in events] == ["ballot_cast", "vote_closed", "blocker_raised"]
    train = room.state.train
    assert train is not None and train.held
    assert train.open_blockers()[0].reason == "the room voted to hold: let us look at the logs"


def test_cancel_needs_the_conductor_and_a_reason() -> None:
    room = at_group0()
    room.ok(RAJ, "call_vote", proposal="full", reason="x")
    assert room.refused(RAJ, "cancel_vote", reason="no").code is Code.FORBIDDEN
    assert room.refused(ANA, "cancel_vote", reason=" ").code is Code.INVALID
    events = room.ok(ANA, "cancel_vote", reason="wrong train")
    assert events[0].data["outcome"] == "cancelled"
    assert "cancelled by ana: wrong train" in describe(events[0])


def test_expiry_only_at_the_deadline_and_only_once() -> None:
    room = at_group0()
    room.ok(RAJ, "call_vote", proposal="full", reason="x", deadline=600)
    v = vote(room)
    hub = Actor("hub", Role.ENGINEER, "hub")
    assert room.do(hub, "expire_vote", trusted=True, vote=v.id) == []  # 60 s later: too early
    room.clock = v.deadline
    events = room.do(hub, "expire_vote", trusted=True, vote=v.id)
    assert isinstance(events, list) and events[0].data["outcome"] == "expired"
    assert room.do(hub, "expire_vote", trusted=True, vote=v.id) == []
    assert room.refused(RAJ, "expire_vote", vote=v.id).code is Code.UNKNOWN_OP


def test_tally_matches_a_simple_model_and_outcomes_never_change() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from warroom.core import replay

    people = ["raj", "bea", "jon", "kim", "vic"]
    step = st.tuples(
        st.sampled_from(["join", "leave", "yes", "no", "restart"]),
        st.sampled_from(people),
        st.sampled_from(["c1", "c2"]),
    )

    @settings(max_examples=200, deadline=None)
    @given(st.lists(step, max_size=40))
    def check(steps: list[tuple[str, str, str]]) -> None:
        room = at_group0()
        room.ok(ANA, "call_vote", proposal="full", reason="model check")
        model: dict[str, bool] = {}
        electorate = set(vote(room).electorate)
        outcome = ""
        for what, name, conn in steps:
            actor = Actor(name, Role.VISITOR if name == "vic" else Role.ENGINEER, conn, "UTC")
            if what == "join":
                room.do(actor, "join", trusted=True, tz="UTC")
                if name != "vic" and not outcome:
                    electorate.add(name)
            elif what == "leave":
                room.do(actor, "leave", trusted=True)
            elif what == "restart":
                room.state = replay("train-1", room.events)
            else:
                result = room.do(actor, "ballot", choice=what)
                accepted = not hasattr(result, "code")
                assert accepted == (name in electorate and not outcome), (what, name, result)
                if accepted:
                    model[name] = what == "yes"
            v = vote(room)
            if outcome:
                assert v.outcome == outcome  # once reached, never changes
            outcome = v.outcome
            yes = sum(model.values())
            assert v.tally() == (yes, len(model) - yes)
            assert v.electorate == electorate
            needed = max(2, len(electorate) // 2 + 1)
            if yes >= needed:
                assert v.outcome == "passed"

    check()


def test_the_rollback_credits_the_vote_that_approved_it_and_promotion_sets_it_aside() -> None:
    room = at_group0()
    room.ok(RAJ, "call_vote", proposal="partial", reason="fatals")
    room.ok(RAJ, "ballot", choice="yes")
    room.ok(ANA, "ballot", choice="yes")
    room.ok(RAJ, "call_vote", proposal="hold", reason="unrelated")  # v2, still open
    events = room.ok(ANA, "rollback", scope="partial")
    assert events[0].data["vote"] == "v1"
    assert vote(room).id == "v2" and not vote(room).executed
    room.ok(ANA, "cancel_vote", reason="done")
    room.ok(RAJ, "call_vote", proposal="partial", reason="again")
    room.ok(RAJ, "ballot", choice="yes")
    room.ok(ANA, "ballot", choice="yes")
    room.ok(ANA, "promote", override="fixed forward instead")
    train = room.state.train
    assert train is not None and train.approved == "" and train.label() != "ROLLBACK APPROVED"


def test_no_full_rollback_vote_once_everything_is_rolled_back() -> None:
    room = at_group0()
    room.ok(ANA, "rollback", scope="full")
    assert room.refused(RAJ, "call_vote", proposal="full", reason="x").code is Code.CONFLICT
