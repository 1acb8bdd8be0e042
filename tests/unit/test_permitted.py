"""`permitted` says what the hub's `decide` would: for every public op, every kind of actor and
many states, a refusal it gives is the hub's refusal with valid arguments (code and sentence),
and when it lets an actor try, the hub refuses nothing on grounds of role or precondition."""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from tests.unit.train_helpers import runbook_data
from warroom.core import (
    OPS,
    Actor,
    Code,
    Command,
    Event,
    Reject,
    Role,
    RoomState,
    apply,
    arg_field,
    arg_fields,
    decide,
    permitted,
)
from warroom.core.schema import Field, check_args
from warroom.core.stages import rollback_scopes
from warroom.core.votes import open_proposals

ANA = Actor("ana", Role.CONDUCTOR, "c1")  # the first conductor: holds the seat when present
CY = Actor("cy", Role.CONDUCTOR, "c2")  # a second conductor token: an engineer while ana sits
RAJ = Actor("raj", Role.ENGINEER, "c3")
BEA = Actor("bea", Role.ENGINEER, "c4")
VIC = Actor("vic", Role.VISITOR, "c5")
ZED = Actor("zed", Role.ENGINEER, "c6")  # never joins: not a member
OTTO = Actor("otto", Role.CONDUCTOR, "c7")  # a script's conductor token, never joins
ACTORS = (ANA, CY, RAJ, BEA, VIC, ZED, OTTO)
PUBLIC = sorted(name for name, spec in OPS.items() if spec.public)
T0 = 1_800_000_000.0
RUNBOOK = runbook_data()

# Refusals that depend on the state and the actor alone: `permitted` must foresee each of them.
STATE_ONLY = re.compile(
    "|".join(
        (
            r"^visitors are read-only",
            r"^only the conductor may \w+ \(",
            r" is in this room as ",
            r"^no train is running",
            r"^the train .* is (done|abandoned)$",
            r"is still running; mark it done",
            r"^no vote is open$",
            r"^a vote is already open",
            r" is not in the electorate of ",
            r"^\S+ holds the seat$",
            r" is first in the queue and present",
            r"^the seat is already offered",
            r"^no offer of the seat is open for you",
            r" no longer holds the seat; the offer lapsed",
            r" is already in the queue$",
            r"fully rolled back",
            r" is the last stage; ",
            r"^stages not promoted yet",
            r"^every stage is already rolled back",
        )
    )
)


class Walk:
    """A room moved by events, at a clock of its own."""

    def __init__(self) -> None:
        self.state = RoomState("r")
        self.ts = T0

    def event(self, kind: str, actor: str, **data: Any) -> None:
        self.ts += 1
        self.state = apply(self.state, Event(kind, self.ts, actor, data))

    def do(self, actor: Actor, op: str, *, trusted: bool = False, **args: Any) -> bool:
        self.ts += 1
        result = decide(self.state, actor, Command(op, args, self.ts), trusted=trusted)
        if isinstance(result, Reject):
            return False
        for event in result:
            self.state = apply(self.state, event)
        return True

    def ok(self, actor: Actor, op: str, *, trusted: bool = False, **args: Any) -> None:
        assert self.do(actor, op, trusted=trusted, **args), (op, args)

    def join(self, *actors: Actor) -> None:
        for actor in actors:
            self.ok(actor, "join", trusted=True, tz="UTC")

    def leave(self, actor: Actor) -> None:
        self.ok(actor, "leave", trusted=True)


def scenes() -> Iterator[tuple[str, RoomState]]:
    """Rooms in the states the rules turn on, by name."""
    w = Walk()
    yield "empty room", w.state
    w.join(RAJ, VIC)
    yield "no conductor yet, no train", w.state
    w.join(ANA, CY, BEA)
    yield "ana seated, no train", w.state
    w.ok(RAJ, "queue_join", tz="UTC", start="08:00", end="16:00")
    w.ok(ANA, "offer_seat", to="bea")
    yield "offer open to bea, raj queued", w.state
    w.ok(BEA, "decline_seat")
    w.ok(ANA, "offer_seat")
    yield "offer open to raj", w.state
    w.ok(RAJ, "decline_seat")
    w.ok(ANA, "open_train", runbook=RUNBOOK, version="v1")
    yield "running train", w.state
    w.leave(BEA)
    w.ok(RAJ, "call_vote", proposal="full", reason="fatals")
    yield "vote open, bea away and not in it", w.state
    w.join(BEA)
    w.ok(RAJ, "ballot", choice="yes")
    yield "vote open, bea back in it, raj voted", w.state
    w.ok(CY, "ballot", choice="yes")
    yield "vote passed: rollback approved", w.state
    w.ok(RAJ, "raise_blocker", reason="db lag")
    yield "held by a blocker", w.state
    w.ok(ANA, "rollback", scope="full")
    yield "fully rolled back", w.state
    w.ok(ANA, "abandon_train", reason="start again")
    yield "train abandoned", w.state
    w.ok(ANA, "open_train", runbook=RUNBOOK, version="v2")
    train = w.state.train
    assert train is not None
    for _ in train.stages[1:]:
        w.ok(ANA, "promote", override="drill")
    yield "last stage", w.state
    w.ok(ANA, "finish_train", override="drill")
    yield "train done", w.state

    # The seat emptied: a dropped conductor, a queue with someone present ahead.
    w = Walk()
    w.join(ANA, RAJ, BEA, VIC, CY)
    w.ok(ANA, "open_train", runbook=RUNBOOK, version="v1")
    w.ok(BEA, "queue_join", tz="UTC", start="08:00", end="16:00")
    w.ok(RAJ, "queue_join", tz="UTC", start="08:00", end="16:00")
    w.leave(ANA)
    w.ts += 3600
    w.ok(ANA, "vacate_seat", trusted=True)
    assert w.state.conductor is None
    yield "seat free, bea present first in the queue", w.state
    w.leave(BEA)
    yield "seat free, bea first but away, raj next", w.state
    w.ok(RAJ, "queue_remove", name="raj")
    yield "seat free, nobody present in the queue", w.state
    w.ok(RAJ, "take_seat")
    w.ok(RAJ, "offer_seat", to="cy")
    yield "raj seated by the queue, offer open to cy", w.state


def valid_args(op: str) -> dict[str, Any]:
    """Arguments of the right shape for `op`, whatever the state."""
    return {name: _valid(field) for name, field in arg_fields(op).items() if field.required}


def _valid(field: Field) -> Any:
    if field.choices:
        return field.choices[0]
    if field.check is not None:
        for sample in ("UTC", "08:00"):
            if field.check("start", sample) is None:
                return sample
    text = "x" * max(1, field.min_len)
    return {str: text, int: 1, float: 1.0, bool: True, list: [1], dict: {}}[field.kind]


def good_args(state: RoomState, actor: Actor, op: str) -> dict[str, Any] | None:
    """Arguments with which `op` should pass in `state` once `permitted` lets `actor` try;
    None where no argument can (nothing to untick, no manifest to mark)."""
    train = state.train
    items = train.items if train is not None else ()
    mine = [i for i in items if i.who == "engineer"]
    present = [m.name for m in state.present() if m.role is not Role.VISITOR]
    open_blockers = train.open_blockers() if train is not None else []
    stages = [s for s in (train.stages if train else ()) if len(train.stage_items(s)) > 1]
    simple: dict[str, dict[str, Any] | None] = {
        "note": {"text": "hello"},
        "feed_exited": {"source": "scap", "status": 0},
        "open_train": {"runbook": RUNBOOK, "version": "v9"},
        "promote": {"override": "drill"},
        "rollback": {"scope": "full"},
        "finish_train": {"override": "drill"},
        "abandon_train": {"reason": "enough"},
        "tick": next(({"item": i.id} for i in mine if not i.done), None),
        "untick": next(({"item": i.id} for i in mine if i.done), None),
        "assign": next(({"item": i.id, "to": actor.name} for i in items), None),
        "annotate": next(({"item": i.id, "text": "seen"} for i in items), None),
        "add_item": {"stage": train.stages[0], "text": "one more"} if train else None,
        "edit_item": next(({"item": i.id, "text": "said again"} for i in items), None),
        "remove_item": next(({"item": i.id} for i in items), None),
        "move_item": (
            {"item": train.stage_items(stages[0])[0].id, "position": 1}
            if stages
            else None
        ),
        "raise_blocker": {"reason": "it hurts"},
        "resolve_blocker": (
            {"blocker": open_blockers[0].id, "note": "fixed"} if open_blockers else None
        ),
        "call_vote": {"proposal": "hold", "reason": "look first"},
        "ballot": {"choice": "no", "comment": "not yet"},
        "cancel_vote": {"reason": "wrong call"},
        "queue_join": {"tz": "UTC", "start": "08:00", "end": "16:00"},
        "queue_remove": {"name": actor.name} if any(e.name == actor.name for e in state.queue)
        else None,
        "queue_move": {"name": state.queue[0].name, "position": 0} if state.queue else None,
        "offer_seat": next(({"to": n} for n in present if n != actor.name), None),
        "accept_seat": {},
        "decline_seat": {},
        "take_seat": {},
        "manifest_begin": {
            "repo": "mw",
            "batch": "b1",
            "from": "a",
            "to": "b",
            "from_sha": "a" * 40,
            "to_sha": "b" * 40,
            "count": 1,
        },
    }  # fmt: skip
    return simple.get(op)


SCENES = list(scenes())


@pytest.mark.parametrize(("scene", "state"), SCENES, ids=[name for name, _ in SCENES])
def test_permitted_is_the_hubs_answer_for_every_op_and_actor(scene: str, state: RoomState) -> None:
    checked = 0
    for actor in ACTORS:
        for op in PUBLIC:
            assert_agrees(state, actor, op)
            checked += 1
    assert checked == len(ACTORS) * len(PUBLIC)


def assert_agrees(state: RoomState, actor: Actor, op: str) -> None:
    refused = permitted(state, actor, op)
    candidates = [valid_args(op)]
    good = good_args(state, actor, op)
    if good is not None:
        candidates.append(good)
    for args in candidates:
        result = decide(state, actor, Command(op, args, T0 + 10**6))
        where = (actor.name, op, args)
        if refused is not None:
            assert result == refused, where
        elif isinstance(result, Reject):
            # Refused for something in the arguments, never the role or the state alone.
            assert not STATE_ONLY.search(result.reason), (*where, result)
            assert args is not good, (*where, result)


def test_permitted_follows_a_random_room_step_by_step() -> None:
    # Random acts of random people, in a room whose members come and go: after each, every
    # public op of every actor agrees with the hub.
    rng = random.Random(13)
    people = (ANA, CY, RAJ, BEA, VIC)
    for _ in range(4):
        w = Walk()
        w.join(*people)
        for _ in range(80):
            actor = rng.choice((*people, OTTO))
            roll = rng.random()
            if roll < 0.1:
                member = w.state.members.get(actor.name)
                if member is not None and member.present:
                    w.leave(actor)
                elif actor is not OTTO:
                    w.join(actor)
            elif roll < 0.15:
                w.ts += 3600
                for op in ("vacate_seat", "expire_offer"):
                    w.do(ANA, op, trusted=True)
            else:
                op = rng.choice(PUBLIC)
                args = good_args(w.state, actor, op) or valid_args(op)
                w.do(actor, op, **args)
            for someone in ACTORS:
                for op in PUBLIC:
                    assert_agrees(w.state, someone, op)


def test_unknown_and_hub_only_ops_are_unknown_to_both() -> None:
    state = RoomState("r")
    for op in ("nope", "join", "expire_vote", "vacate_seat", "raise_alert"):
        refused = permitted(state, RAJ, op)
        assert refused == Reject(Code.UNKNOWN_OP, f"unknown operation {op!r}")
        assert decide(state, RAJ, Command(op, {}, T0)) == refused


def test_a_conductor_token_at_an_empty_seat_is_told_what_the_seat_would_allow() -> None:
    w = Walk()
    w.join(RAJ)
    w.ok(RAJ, "queue_join", tz="UTC", start="08:00", end="16:00")
    # otto's first act would take the seat: then conductor-only ops are open to him...
    assert permitted(w.state, OTTO, "cancel_vote") == Reject(Code.CONFLICT, "no vote is open")
    assert permitted(w.state, OTTO, "offer_seat") is None
    # ...but take_seat is left to the queue, where raj is first and present.
    assert permitted(w.state, OTTO, "take_seat") == Reject(
        Code.FORBIDDEN, "raj is first in the queue and present; they take it"
    )


def test_a_ui_reads_form_limits_from_the_ops_schema() -> None:
    assert arg_field("ballot", "comment").max_len == 300
    assert arg_field("call_vote", "reason") == Field(str, min_len=1, max_len=500)
    assert arg_field("call_vote", "proposal").choices == ("partial", "full", "hold")
    assert not arg_field("queue_join", "note").required
    assert set(arg_fields("offer_seat")) == {"to", "note"}
    with pytest.raises(KeyError):
        arg_field("ballot", "nope")


def test_a_fields_check_refuses_with_the_ops_name_after_every_other_rule() -> None:
    fields = arg_fields("queue_join")
    bad_zone = {"tz": "Tokyo!", "start": "9:00", "end": "16:00"}
    assert check_args("queue_join", fields, bad_zone) == (
        "queue_join: 'Tokyo!' is not a time zone name"
    )
    bad_time = {**bad_zone, "tz": "Asia/Tokyo"}
    assert check_args("queue_join", fields, bad_time) == (
        "queue_join: start must be HH:MM, not '9:00'"
    )
    # The shape is checked once every argument passed its type and length.
    too_long = {**bad_zone, "note": "x" * 501}
    assert "longer than 500" in str(check_args("queue_join", fields, too_long))
    assert replace(fields["tz"], check=None).check is None


@pytest.mark.parametrize(("scene", "state"), SCENES, ids=[name for name, _ in SCENES])
def test_the_choices_a_form_offers_are_the_ones_the_hub_takes(scene: str, state: RoomState) -> None:
    # A vote's proposals and a rollback's scopes depend on where the train is: the core says
    # which pass, so a form offers only those.
    for op, arg, offered in (
        ("call_vote", "proposal", open_proposals(state)),
        ("rollback", "scope", rollback_scopes(state)),
    ):
        actor = CY if op == "call_vote" else ANA
        if state.conductor != "ana" or permitted(state, actor, op) is not None:
            continue
        for choice in arg_field(op, arg).choices:
            args = {**valid_args(op), arg: choice}
            result = decide(state, actor, Command(op, args, T0 + 10**6))
            assert (choice in offered) == (not isinstance(result, Reject)), (op, choice, result)
