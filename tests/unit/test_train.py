"""The train core: gates, overrides, rights to tick, blockers, rollbacks, the checklist."""

from __future__ import annotations

from tests.unit.train_helpers import ANA, RAJ, VIC, Room, opened, runbook_data, tick_stage
from warroom.core import Actor, Code, Reject, Role, describe, replay
from warroom.core.stages import gates
from warroom.core.train import TrainStatus
from warroom.core.wire import state_from_wire, state_to_wire


def test_open_train_builds_stages_and_items() -> None:
    room = opened()
    train = room.state.train
    assert train is not None
    assert train.stages == ("prep", "testwikis", "group0", "group1", "group2")
    assert train.stage == "prep" and train.label() == "RUNNING"
    assert len(train.stage_items("group1")) == 4
    assert describe(room.events[-1]).startswith(
        "ana opened train 1.44.0-wmf.5 (MediaWiki weekly train: prep → testwikis"
    )


def test_only_the_conductor_opens_and_not_twice() -> None:
    room = opened()
    assert (
        room.refused(RAJ, "open_train", runbook=runbook_data(), version="x").code is Code.FORBIDDEN
    )
    again = room.refused(ANA, "open_train", runbook=runbook_data(), version="x")
    assert again.code is Code.CONFLICT and "still running" in again.reason


def test_a_broken_runbook_sent_to_the_hub_is_refused() -> None:
    room = Room()
    room.join(ANA)
    data = runbook_data()
    data["stages"][1]["items"][0]["who"] = "king"
    refusal = room.refused(ANA, "open_train", runbook=data, version="v1")
    assert refusal.code is Code.INVALID
    assert "stages[1].items[0].who" in refusal.reason


def test_promotion_names_every_unmet_gate() -> None:
    room = Room()
    room.join(ANA)
    room.ok(ANA, "open_train", runbook=runbook_data(), version="v1")
    room.ok(ANA, "raise_blocker", reason="fatal on enwiki Special:Search", link="T12345")
    refusal = room.refused(ANA, "promote")
    assert refusal.code is Code.GATED
    assert "2 required items unticked in prep" in refusal.reason
    assert '"Cut the wmf branch and check the build is green"' in refusal.reason
    assert "blocker T12345 is open: fatal on enwiki Special:Search" in refusal.reason
    assert "only 1 of the 2 people needed are present" in refusal.reason
    assert len(gates(room.state)) == 3


def test_visitors_do_not_count_towards_the_minimum() -> None:
    room = Room()
    room.join(ANA, VIC)
    room.ok(ANA, "open_train", runbook=runbook_data(), version="v1")
    tick_stage(room)
    assert gates(room.state) == ["only 1 of the 2 people needed are present (never alone)"]
    room.join(RAJ)
    assert gates(room.state) == []
    room.ok(ANA, "promote")
    assert room.state.train is not None and room.state.train.stage == "testwikis"


def test_optional_items_do_not_gate() -> None:
    room = opened()
    tick_stage(room)
    train = room.state.train
    assert train is not None
    assert any(not i.required and not i.done for i in train.stage_items("prep"))
    assert gates(room.state) == []


def test_override_needs_a_written_reason_and_is_recorded() -> None:
    room = opened()
    room.refused(ANA, "promote", override="   ")
    events = room.ok(ANA, "promote", override="build verified by hand, CI is flaky")
    sentence = describe(events[0])
    assert sentence.startswith("ana promoted testwikis, overriding (2 required items unticked")
    assert sentence.endswith("because: build verified by hand, CI is flaky")
    assert events[0].data["overrode"]


def test_override_without_unmet_gates_records_nothing_special() -> None:
    room = opened()
    tick_stage(room)
    events = room.ok(ANA, "promote", override="just because")
    assert events[0].data["overrode"] == [] and events[0].data["reason"] == ""


def test_only_the_conductor_promotes_and_engineers_are_told_why() -> None:
    room = opened()
    tick_stage(room)
    refusal = room.refused(RAJ, "promote")
    assert refusal.code is Code.FORBIDDEN and "only the conductor" in refusal.reason
    assert room.refused(VIC, "promote").code is Code.FORBIDDEN


def test_rights_to_tick() -> None:
    room = opened()
    conductor_item = room.item_id("Cut the wmf branch")
    anyone_item = room.item_id("Check the train blocker task")
    refusal = room.refused(RAJ, "tick", item=conductor_item)
    assert refusal.code is Code.FORBIDDEN and "only the conductor may tick" in refusal.reason
    ticked = room.ok(RAJ, "tick", item=anyone_item, note="no open subtasks")
    assert room.refused(VIC, "tick", item=anyone_item).code is Code.FORBIDDEN
    room.ok(ANA, "tick", item=conductor_item)
    train = room.state.train
    assert train is not None
    item = train.item(anyone_item)
    assert item is not None and item.done_by == "raj" and item.note == "no open subtasks"
    assert item.done_at == ticked[0].ts
    assert describe(room.events[-2]) == (
        'raj ticked "Check the train blocker task has no open subtasks" (prep) — no open subtasks'
    )


def test_tick_untick_conflicts_and_unknown_items() -> None:
    room = opened()
    item = room.item_id("Check the train blocker task")
    room.ok(RAJ, "tick", item=item)
    assert "already ticked by raj" in room.refused(ANA, "tick", item=item).reason
    room.ok(ANA, "untick", item=item)
    assert room.refused(ANA, "untick", item=item).code is Code.CONFLICT
    assert room.refused(ANA, "tick", item="i999").code is Code.INVALID


def test_assign_rules() -> None:
    room = opened()
    item = room.item_id("Log triage: go or no-go for group0")
    room.ok(RAJ, "assign", item=item, to="raj")
    assert describe(room.events[-1]).startswith('raj took "Log triage')
    assert room.refused(RAJ, "assign", item=item, to="ana").code is Code.FORBIDDEN
    room.ok(ANA, "assign", item=item, to="ana")
    assert room.refused(RAJ, "assign", item=item, to="").code is Code.FORBIDDEN
    assert room.refused(ANA, "assign", item=item, to="vic").code is Code.INVALID
    room.ok(ANA, "assign", item=item, to="")
    train = room.state.train
    assert train is not None and train.item(item) is not None
    assert train.item(item).assignee == ""  # type: ignore[union-attr]


def test_conductor_edits_the_checklist_during_the_run() -> None:
    room = opened()
    room.ok(ANA, "add_item", stage="group0", text="Purge the parser cache", required=False)
    train = room.state.train
    assert train is not None
    new = train.stage_items("group0")[-1]
    assert (
        new.text == "Purge the parser cache" and not new.required and new.id == f"i{train.counter}"
    )
    room.ok(ANA, "edit_item", item=new.id, text="Purge the parser cache on group0", required=True)
    room.ok(ANA, "move_item", item=new.id, position=0)
    train = room.state.train
    assert train is not None
    assert [i.text for i in train.stage_items("group0")][0] == "Purge the parser cache on group0"
    room.ok(ANA, "move_item", item=new.id, position=4)
    assert train.stage_items("group0")[0].id == new.id  # the old state is untouched
    train = room.state.train
    assert train is not None and train.stage_items("group0")[-1].id == new.id
    room.ok(ANA, "remove_item", item=new.id)
    assert room.state.train is not None and room.state.train.item(new.id) is None
    assert room.refused(RAJ, "add_item", stage="group0", text="x").code is Code.FORBIDDEN
    assert room.refused(ANA, "add_item", stage="group9", text="x").code is Code.INVALID
    assert room.refused(ANA, "move_item", item="i1", position=7).code is Code.INVALID
    assert room.refused(ANA, "edit_item", item="i1").code is Code.INVALID


def test_blockers_hold_the_train_and_need_a_note_to_resolve() -> None:
    room = opened()
    room.ok(RAJ, "raise_blocker", reason="fatal on enwiki Special:Search", link="T12345")
    train = room.state.train
    assert train is not None and train.held and train.label() == "HELD"
    assert describe(room.events[-1]) == "raj raised blocker T12345: fatal on enwiki Special:Search"
    assert room.refused(VIC, "raise_blocker", reason="x").code is Code.FORBIDDEN
    assert room.refused(RAJ, "resolve_blocker", blocker="T12345").code is Code.INVALID
    assert room.refused(RAJ, "resolve_blocker", blocker="T12345", note=" ").code is Code.INVALID
    room.ok(RAJ, "resolve_blocker", blocker="T12345", note="reverted gerrit 12345")
    train = room.state.train
    assert train is not None and not train.held and train.label() == "RUNNING"
    assert "reverted gerrit 12345" in describe(room.events[-1])
    assert room.refused(ANA, "resolve_blocker", blocker="b23", note="x").code in (
        Code.CONFLICT,
        Code.INVALID,
    )


def test_rollbacks() -> None:
    room = opened()
    assert room.refused(ANA, "rollback", scope="partial").code is Code.CONFLICT
    for _ in range(3):
        tick_stage(room)
        room.ok(ANA, "promote")
    train = room.state.train
    assert train is not None and train.stage == "group1"
    room.ok(ANA, "rollback", scope="partial", reason="fatal spike on group1")
    train = room.state.train
    assert train is not None and train.stage == "group0" and train.label() == "ROLLED BACK"
    assert not train.on_new_version(3) and train.on_new_version(2)
    assert describe(room.events[-1]) == (
        "ana rolled back group1 (back to group0): fatal spike on group1"
    )
    room.ok(ANA, "promote")  # group0's items are still ticked
    assert room.state.train is not None and room.state.train.label() == "RUNNING"
    room.ok(ANA, "rollback", scope="full")
    train = room.state.train
    assert train is not None and train.label() == "ROLLED BACK"
    assert not any(train.on_new_version(i) for i in range(len(train.stages)))
    assert room.refused(ANA, "promote").code is Code.CONFLICT
    assert room.refused(RAJ, "rollback", scope="full").code is Code.FORBIDDEN
    assert room.refused(ANA, "rollback", scope="sideways").code is Code.INVALID


def test_run_to_done_and_abandon() -> None:
    room = opened()
    for _ in range(4):
        tick_stage(room)
        room.ok(ANA, "promote")
    assert "last stage" in room.refused(ANA, "promote").reason
    assert room.refused(ANA, "finish_train").code is Code.GATED
    tick_stage(room)
    room.ok(ANA, "finish_train")
    train = room.state.train
    assert train is not None and train.status is TrainStatus.DONE and train.label() == "DONE"
    assert room.refused(RAJ, "tick", item="i1").code is Code.CONFLICT
    # A finished train can be followed by a new one.
    room.ok(ANA, "open_train", runbook=runbook_data("service-rollout.toml"), version="2.0")
    assert room.refused(ANA, "abandon_train").code is Code.INVALID
    room.ok(ANA, "abandon_train", reason="payments freeze")
    assert room.state.train is not None and room.state.train.label() == "ABANDONED"


def test_finishing_early_is_refused() -> None:
    room = opened()
    assert "stages not promoted yet" in room.refused(ANA, "finish_train").reason


def test_no_train_yet() -> None:
    room = Room()
    room.join(ANA)
    assert "no train is running" in room.refused(ANA, "tick", item="i1").reason


def test_a_token_naming_the_seat_holder_with_another_role_cannot_conduct() -> None:
    room = opened()
    # Anyone who can mint a token could name it after the seat holder: the first role
    # recorded for a name holds (issue 12), so it acts as nobody.
    same_name_engineer_token = Actor("ana", Role.ENGINEER, "c9", "UTC")
    tick_stage(room)
    reject = room.refused(same_name_engineer_token, "promote")
    assert reject.code is Code.FORBIDDEN
    assert "ana is in this room as conductor" in reject.reason
    room.ok(ANA, "promote")


def test_replay_and_wire_round_trip_with_a_train() -> None:
    room = opened()
    tick_stage(room)
    room.ok(ANA, "promote")
    room.ok(RAJ, "raise_blocker", reason="x", link="T1")
    room.ok(ANA, "add_item", stage="group2", text="extra")
    assert replay("train-1", room.events) == room.state
    assert state_from_wire(state_to_wire(room.state)) == room.state


def test_a_stale_confirmation_is_refused() -> None:
    room = opened()
    tick_stage(room)
    room.ok(ANA, "promote", expect="prep")
    stale = room.refused(ANA, "promote", expect="prep", override="double press")
    assert stale.code is Code.CONFLICT and "testwikis is in progress now, not prep" in stale.reason
    assert room.refused(ANA, "rollback", scope="partial", expect="prep").code is Code.CONFLICT
    room.ok(ANA, "rollback", scope="partial", expect="testwikis")
    assert room.refused(ANA, "finish_train", expect="group2").code is Code.CONFLICT


def test_permitted_explains_role_refusals_before_any_form() -> None:
    from warroom.core import permitted

    room = opened()
    assert permitted(room.state, ANA, "promote") is None
    assert permitted(room.state, RAJ, "tick") is None
    refusal = permitted(room.state, RAJ, "promote")
    assert refusal is not None and "only the conductor may promote (ana holds" in refusal.reason
    visitor = permitted(room.state, VIC, "tick")
    assert visitor is not None and "read-only" in visitor.reason
    assert permitted(room.state, ANA, "join") is not None  # the hub's own op


def test_resolving_by_link_takes_the_open_blocker() -> None:
    room = opened()
    room.ok(RAJ, "raise_blocker", reason="first", link="T1")
    room.ok(RAJ, "resolve_blocker", blocker="T1", note="fixed")
    room.ok(RAJ, "raise_blocker", reason="it is back", link="T1")
    room.ok(ANA, "resolve_blocker", blocker="T1", note="fixed again")
    train = room.state.train
    assert train is not None and not train.open_blockers()
    assert "already resolved" in room.refused(ANA, "resolve_blocker", blocker="T1", note="x").reason


def test_a_seat_taken_by_a_script_keeps_its_role_against_a_same_name_token() -> None:
    room = Room()
    script = Actor("ana", Role.CONDUCTOR, "s1", "UTC")  # `warroom open`: never joins
    room.ok(script, "open_train", runbook=runbook_data(), version="1.44.0-wmf.5")
    assert room.state.conductor == "ana" and not room.state.members["ana"].present
    impostor = Actor("ana", Role.ENGINEER, "s2", "UTC")
    for op, args in (("abandon_train", {"reason": "mine now"}), ("note", {"text": "hi"})):
        reject = room.refused(impostor, op, **args)
        assert reject.code is Code.FORBIDDEN
        assert "ana is in this room as conductor" in reject.reason
    joined = room.do(impostor, "join", trusted=True, tz="UTC")
    assert isinstance(joined, Reject) and joined.code is Code.FORBIDDEN
    room.ok(script, "abandon_train", reason="the real conductor can")
    assert replay("train-1", room.events) == room.state
