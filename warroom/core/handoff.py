"""The conductor seat between time zones: a queue of next conductors, offers, and dropped drivers.

The seat moves only by an accepted offer, or, when its holder has been gone longer than the
grace period (the hub sends `vacate_seat` then), by someone taking the empty seat: the first
present person in the queue, or any present engineer when nobody queued.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from warroom.core.guards import rules_of
from warroom.core.model import (
    WORDS,
    Actor,
    Code,
    Command,
    Deadline,
    Event,
    Offer,
    QueueEntry,
    Reject,
    Role,
    RoomState,
)
from warroom.core.registry import applies, deadlines, op
from warroom.core.roles import ACTORS, CONDUCTOR_ONLY, EVERYONE, seat_taken
from warroom.core.schema import Field

__all__ = ["Offer", "QueueEntry", "absent_since", "summary"]  # the values live in model

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_TZ = re.compile(r"^[A-Za-z_]+(/[A-Za-z0-9_+-]+){0,2}$|^UTC$")


def absent_since(state: RoomState) -> float:
    """Since when the seat holder has been away: their last leaving, or taking the seat."""
    member = state.members.get(state.conductor or "")
    return max(member.left_at if member is not None else 0.0, state.seat_since)


def _present(state: RoomState, name: str) -> bool:
    member = state.members.get(name)
    return member is not None and member.present and member.role is not Role.VISITOR


def _zone_name(name: str, value: Any) -> str | None:
    return None if _TZ.match(value) else f"{value!r} is not a time zone name"


def _hh_mm(name: str, value: Any) -> str | None:
    return None if _HHMM.match(value) else f"{name} must be HH:MM, not {value!r}"


def _may_queue(state: RoomState, actor: Actor) -> Reject | None:
    if any(e.name == actor.name for e in state.queue):
        return Reject(Code.CONFLICT, f"{actor.name} is already in the queue")
    if state.conductor == actor.name:
        return Reject(Code.CONFLICT, "you hold the seat already")
    return None


@op(
    "queue_join",
    ACTORS,
    {
        "tz": Field(str, min_len=1, max_len=64, check=_zone_name),
        "start": Field(str, max_len=5, check=_hh_mm),
        "end": Field(str, max_len=5, check=_hh_mm),
        "note": Field(str, required=False, max_len=500),
    },
    summary="queue yourself for the conductor seat: zone and shift (HH:MM local)",
    pre=_may_queue,
)
def _queue_join(state: RoomState, actor: Actor, cmd: Command) -> Sequence[Event] | Reject:
    a = cmd.args
    data = {"tz": a["tz"], "start": a["start"], "end": a["end"], "note": a.get("note", "").strip()}
    return [Event("queue_joined", cmd.ts, actor.name, data)]


@op(
    "queue_remove",
    ACTORS,
    {"name": Field(str, min_len=1, max_len=40)},
    summary="take someone out of the queue (yourself, or anyone as conductor)",
)
def _queue_remove(state: RoomState, actor: Actor, cmd: Command) -> Sequence[Event] | Reject:
    name = cmd.args["name"]
    if name != actor.name and state.conductor != actor.name:
        return Reject(Code.FORBIDDEN, "only the conductor removes others from the queue")
    if all(e.name != name for e in state.queue):
        return Reject(Code.INVALID, f"{name} is not in the queue")
    return [Event("queue_left", cmd.ts, actor.name, {"name": name})]


@op(
    "queue_move",
    CONDUCTOR_ONLY,
    {"name": Field(str, min_len=1, max_len=40), "position": Field(int)},
    summary="move someone to a position (from 0) in the queue",
)
def _queue_move(state: RoomState, actor: Actor, cmd: Command) -> Sequence[Event] | Reject:
    names = [e.name for e in state.queue]
    name, position = cmd.args["name"], cmd.args["position"]
    if name not in names:
        return Reject(Code.INVALID, f"{name} is not in the queue")
    if not 0 <= position < len(names):
        return Reject(Code.INVALID, f"position must be 0 to {len(names) - 1}")
    return [Event("queue_moved", cmd.ts, actor.name, {"name": name, "position": position})]


def _not_offered(state: RoomState, actor: Actor) -> Reject | None:
    if state.offer is not None:
        return Reject(Code.CONFLICT, f"the seat is already offered to {state.offer.to}")
    return None


@op(
    "offer_seat",
    CONDUCTOR_ONLY,
    {
        "to": Field(str, required=False, max_len=40),
        "note": Field(str, required=False, max_len=1000),
    },
    summary="offer the seat to the next in the queue, or to a named engineer present",
    pre=_not_offered,
)
def _offer(state: RoomState, actor: Actor, cmd: Command) -> Sequence[Event] | Reject:
    to = cmd.args.get("to", "").strip()
    if not to:
        waiting = [e.name for e in state.queue if _present(state, e.name)]
        if not waiting:
            return Reject(Code.CONFLICT, "nobody in the queue is present; name someone")
        to = waiting[0]
    if to == actor.name:
        return Reject(Code.INVALID, "you hold the seat already")
    if not _present(state, to):
        return Reject(Code.INVALID, f"{to} is not an engineer present in the room")
    seconds = rules_of(state).handoff_window
    data = {"to": to, "note": cmd.args.get("note", "").strip(), "expires": cmd.ts + seconds}
    return [Event("seat_offered", cmd.ts, actor.name, data)]


def _offered_to_me(state: RoomState, actor: Actor) -> Reject | None:
    offer = state.offer
    if offer is None or offer.to != actor.name:
        return Reject(Code.CONFLICT, "no offer of the seat is open for you")
    return None


def _may_accept(state: RoomState, actor: Actor) -> Reject | None:
    refused = _offered_to_me(state, actor)
    if refused is None and state.offer is not None and state.conductor != state.offer.by:
        return Reject(Code.CONFLICT, f"{state.offer.by} no longer holds the seat; the offer lapsed")
    return refused


@op("accept_seat", ACTORS, {}, summary="accept the seat you were offered", pre=_may_accept)
def _accept(state: RoomState, actor: Actor, cmd: Command) -> Sequence[Event] | Reject:
    assert state.offer is not None
    return [Event("seat_accepted", cmd.ts, actor.name, {"from": state.offer.by})]


@op(
    "decline_seat",
    ACTORS,
    {"note": Field(str, required=False, max_len=500)},
    summary="decline the seat you were offered",
    pre=_offered_to_me,
)
def _decline(state: RoomState, actor: Actor, cmd: Command) -> Sequence[Event] | Reject:
    assert state.offer is not None
    data = {"from": state.offer.by, "note": cmd.args.get("note", "").strip()}
    return [Event("seat_declined", cmd.ts, actor.name, data)]


@op("expire_offer", EVERYONE, {}, public=False)
def _expire_offer(state: RoomState, actor: Actor, cmd: Command) -> Sequence[Event] | Reject:
    offer = state.offer
    if offer is None or cmd.ts < offer.expires:
        return []
    return [Event("seat_declined", cmd.ts, offer.to, {"from": offer.by, "expired": True})]


@op("vacate_seat", EVERYONE, {}, public=False)
def _vacate(state: RoomState, actor: Actor, cmd: Command) -> Sequence[Event] | Reject:
    holder = state.conductor
    if holder is None:
        return []
    member = state.members.get(holder)
    if member is not None and member.present:
        return []  # back within the grace period: the seat stays theirs
    if cmd.ts < absent_since(state) + rules_of(state).handoff_grace:
        return []
    return [Event("seat_vacated", cmd.ts, "hub", {"holder": holder})]


def _may_take(state: RoomState, actor: Actor) -> Reject | None:
    if state.conductor is not None:
        return Reject(Code.CONFLICT, f"{state.conductor} holds the seat")
    first = next((e.name for e in state.queue if _present(state, e.name)), None)
    if first is not None and first != actor.name:
        return Reject(Code.FORBIDDEN, f"{first} is first in the queue and present; they take it")
    return None


@op("take_seat", ACTORS, {}, summary="take the empty conductor seat", pre=_may_take)
def _take(state: RoomState, actor: Actor, cmd: Command) -> Sequence[Event] | Reject:
    return [seat_taken(actor, cmd.ts)]


@deadlines
def _seat_deadlines(state: RoomState) -> list[Deadline]:
    """An open offer lapses at its expiry; a seat holder who is away loses the seat once the
    grace period has passed since they went (or took it)."""
    due: list[Deadline] = []
    if state.offer is not None:
        due.append(Deadline(state.offer.expires, "expire_offer", {}))
    holder = state.members.get(state.conductor) if state.conductor else None
    if state.conductor and (holder is None or not holder.present):
        due.append(Deadline(absent_since(state) + rules_of(state).handoff_grace, "vacate_seat"))
    return due


def summary(state: RoomState) -> list[str]:
    """What an incoming conductor must know, in lines: stage, work left, blockers, vote, alerts."""
    lines: list[str] = []
    train = state.train
    if train is None:
        lines.append("No train is running.")
    else:
        lines.append(f"Train {train.version} at {train.stage} ({train.label()})")
        left = [i.text for i in train.stage_items(train.stage) if i.required and not i.done]
        if left:
            items = "item" if len(left) == 1 else "items"
            lines.append(
                f"{len(left)} required {items} unticked in {train.stage}: " + "; ".join(left)
            )
        else:
            lines.append(f"Every required item of {train.stage} is ticked")
        blockers = train.open_blockers()
        for b in blockers:
            lines.append(f"Open blocker {b.link or b.id}: {b.reason} (raised by {b.raised_by})")
        if not blockers:
            lines.append("No open blockers")
        if train.approved:
            lines.append(f"A {train.approved} rollback is approved by vote and not yet executed")
    # Said even when absent: the incoming conductor should not have to wonder.
    vote = state.vote
    if vote is not None and vote.open:
        yes, no = vote.tally()
        lines.append(
            f"Vote {vote.id} open, to {WORDS[vote.proposal]}: {vote.reason} "
            f"({yes} yes, {no} no, {vote.needed} needed)"
        )
    else:
        lines.append("No vote open")
    for alert in state.alerts[-3:]:
        lines.append(f"Alert: {alert.text}")
    if not state.alerts:
        lines.append("No alerts")
    if state.offer is not None and state.offer.note:
        lines.append(f"Note from {state.offer.by}: {state.offer.note}")
    return lines


def _entry(e: Event) -> QueueEntry:
    d = e.data
    return QueueEntry(e.actor, d["tz"], d["start"], d["end"], d["note"], e.ts)


@applies(
    "queue_joined",
    lambda e: (
        f"{e.actor} queued for the seat ({e.data['tz']}, "
        f"{e.data['start']}–{e.data['end']} local)"
        + (f": {e.data['note']}" if e.data["note"] else "")
    ),
)
def _joined_queue(state: RoomState, e: Event) -> RoomState:
    return replace(state, queue=(*state.queue, _entry(e)))


@applies(
    "queue_left",
    lambda e: (
        f"{e.actor} took {e.data['name']} out of the seat queue"
        if e.actor != e.data["name"]
        else f"{e.actor} left the seat queue"
    ),
)
def _left_queue(state: RoomState, e: Event) -> RoomState:
    return replace(state, queue=tuple(q for q in state.queue if q.name != e.data["name"]))


@applies(
    "queue_moved",
    lambda e: f"{e.actor} moved {e.data['name']} to place {e.data['position'] + 1} in the queue",
)
def _moved_queue(state: RoomState, e: Event) -> RoomState:
    entry = next(q for q in state.queue if q.name == e.data["name"])
    rest = [q for q in state.queue if q.name != entry.name]
    rest.insert(e.data["position"], entry)
    return replace(state, queue=tuple(rest))


@applies(
    "seat_offered",
    lambda e: (
        f"{e.actor} offered the conductor seat to {e.data['to']}"
        + (f": {e.data['note']}" if e.data["note"] else "")
    ),
)
def _offered(state: RoomState, e: Event) -> RoomState:
    d = e.data
    return replace(state, offer=Offer(d["to"], e.actor, e.ts, float(d["expires"]), d["note"]))


@applies(
    "seat_accepted",
    lambda e: (
        f"{e.actor} accepted the conductor seat from {e.data['from']}, who is now an engineer"
    ),
)
def _accepted(state: RoomState, e: Event) -> RoomState:
    queue = tuple(q for q in state.queue if q.name != e.actor)
    return replace(state, conductor=e.actor, seat_since=e.ts, offer=None, queue=queue)


def _said_declined(e: Event) -> str:
    if e.data.get("expired"):
        return f"the offer of the seat to {e.actor} expired; {e.data['from']} keeps it"
    return f"{e.actor} declined the conductor seat; {e.data['from']} keeps it"


@applies("seat_declined", _said_declined)
def _declined(state: RoomState, e: Event) -> RoomState:
    return replace(state, offer=None)


@applies(
    "seat_vacated",
    lambda e: (
        f"{e.data['holder']} has been gone longer than the grace period: the room has no conductor"
    ),
)
def _vacated(state: RoomState, e: Event) -> RoomState:
    return replace(state, conductor=None, offer=None)
