"""Hand-offs: the queue, offers, accept and decline, and the dropped driver (time is input)."""

from __future__ import annotations

from tests.unit.train_helpers import ANA, RAJ, VIC, Room, opened
from warroom.core import Actor, Code, Role, describe
from warroom.core.handoff import summary

BEA = Actor("bea", Role.ENGINEER, "c5", "America/New_York")
HUB = Actor("hub", Role.ENGINEER, "hub")


def queued() -> Room:
    room = opened()
    room.join(BEA)
    room.ok(BEA, "queue_join", tz="America/New_York", start="08:00", end="16:00", note="US shift")
    room.ok(RAJ, "queue_join", tz="Asia/Kolkata", start="09:00", end="17:00")
    return room


def test_queue_rules() -> None:
    room = queued()
    assert [q.name for q in room.state.queue] == ["bea", "raj"]
    assert (
        room.refused(BEA, "queue_join", tz="UTC", start="08:00", end="16:00").code is Code.CONFLICT
    )
    assert (
        room.refused(VIC, "queue_join", tz="UTC", start="08:00", end="16:00").code is Code.FORBIDDEN
    )
    bad = room.refused(ANA, "queue_join", tz="UTC", start="8am", end="16:00")
    assert "HH:MM" in bad.reason
    assert room.refused(RAJ, "queue_move", name="raj", position=0).code is Code.FORBIDDEN
    room.ok(ANA, "queue_move", name="raj", position=0)
    assert [q.name for q in room.state.queue] == ["raj", "bea"]
    assert room.refused(RAJ, "queue_remove", name="bea").code is Code.FORBIDDEN
    room.ok(RAJ, "queue_remove", name="raj")
    room.ok(ANA, "queue_remove", name="bea")
    assert room.state.queue == ()
    assert describe(room.events[-1]) == "ana took bea out of the seat queue"


def test_offer_to_the_next_in_queue_and_accept_moves_the_seat_atomically() -> None:
    room = queued()
    room.ok(ANA, "offer_seat", note="group1 is clean; watch the fatals dashboard")
    assert room.state.offer is not None and room.state.offer.to == "bea"
    lines = summary(room.state)
    assert lines[0].startswith("Train 1.44.0-wmf.5 at prep")
    assert lines[1].startswith("2 required items unticked in prep: ")
    # What is absent is said too: the incoming conductor should not have to wonder.
    assert lines[2:5] == ["No open blockers", "No vote open", "No alerts"]
    assert lines[-1] == "Note from ana: group1 is clean; watch the fatals dashboard"
    assert room.refused(RAJ, "accept_seat").code is Code.CONFLICT  # not offered to raj
    events = room.ok(BEA, "accept_seat")
    assert describe(events[0]) == "bea accepted the conductor seat from ana, who is now an engineer"
    assert room.state.conductor == "bea" and room.state.offer is None
    assert [q.name for q in room.state.queue] == ["raj"]
    assert room.refused(ANA, "promote").code is Code.FORBIDDEN  # ana is an engineer now
    assert room.refused(ANA, "offer_seat").code is Code.FORBIDDEN


def test_decline_leaves_everything_as_it_was() -> None:
    room = queued()
    room.ok(ANA, "offer_seat", to="raj")
    room.ok(RAJ, "decline_seat")
    assert room.state.conductor == "ana" and room.state.offer is None
    assert [q.name for q in room.state.queue] == ["bea", "raj"]


def test_offers_only_to_engineers_present_and_one_at_a_time() -> None:
    room = queued()
    assert room.refused(ANA, "offer_seat", to="vic").code is Code.INVALID
    assert room.refused(ANA, "offer_seat", to="nobody").code is Code.INVALID
    room.ok(ANA, "offer_seat", to="raj")
    assert room.refused(ANA, "offer_seat", to="bea").code is Code.CONFLICT


def test_an_unanswered_offer_expires() -> None:
    room = queued()
    room.ok(ANA, "offer_seat")
    assert room.do(HUB, "expire_offer", trusted=True) == []  # too early
    assert room.state.offer is not None
    room.clock = room.state.offer.expires
    events = room.do(HUB, "expire_offer", trusted=True)
    assert isinstance(events, list) and "expired" in describe(events[0])
    assert room.state.offer is None and room.state.conductor == "ana"


def test_dropped_driver_grace_then_queue_first_takes_the_seat() -> None:
    room = queued()
    room.do(ANA, "leave", trusted=True)
    assert room.do(HUB, "vacate_seat", trusted=True) == []  # within the grace period
    room.clock += 120
    events = room.do(HUB, "vacate_seat", trusted=True)
    assert isinstance(events, list) and room.state.conductor is None
    assert "the room has no conductor" in describe(events[0])
    assert room.refused(RAJ, "take_seat").code is Code.FORBIDDEN  # bea is first and present
    room.ok(BEA, "take_seat")
    assert room.state.conductor == "bea"


def test_a_returning_conductor_keeps_the_seat() -> None:
    room = queued()
    room.do(ANA, "leave", trusted=True)
    room.join(ANA)
    room.clock += 600
    assert room.do(HUB, "vacate_seat", trusted=True) == []
    assert room.state.conductor == "ana"


def test_with_an_empty_queue_any_engineer_present_takes_it_never_a_visitor() -> None:
    room = opened()
    room.do(ANA, "leave", trusted=True)
    room.clock += 200
    room.do(HUB, "vacate_seat", trusted=True)
    assert room.refused(VIC, "take_seat").code is Code.FORBIDDEN
    room.ok(RAJ, "take_seat")
    assert room.state.conductor == "raj"
    assert room.refused(ANA, "take_seat").code is Code.CONFLICT


def test_a_seat_taken_by_a_script_gets_its_full_grace() -> None:
    room = opened()
    room.do(ANA, "leave", trusted=True)
    room.clock += 600
    room.do(HUB, "vacate_seat", trusted=True)
    assert room.state.conductor is None
    script = Actor("ana", Role.CONDUCTOR, "script", "UTC")  # never joins the roster
    room.ok(script, "note", text="taking it back from a script")
    assert room.state.conductor == "ana"
    assert room.do(HUB, "vacate_seat", trusted=True) == []  # the grace starts now
    room.clock += 200
    assert room.do(HUB, "vacate_seat", trusted=True) != []


def test_a_conductor_token_arriving_takes_an_emptied_seat() -> None:
    room = queued()
    room.do(ANA, "leave", trusted=True)
    room.clock += 200
    room.do(HUB, "vacate_seat", trusted=True)
    cat = Actor("cat", Role.CONDUCTOR, "c7", "UTC")
    room.join(cat)  # arriving with a conductor token takes the free seat
    assert room.state.conductor == "cat"
