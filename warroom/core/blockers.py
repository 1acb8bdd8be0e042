"""Blockers: any engineer or the conductor holds the train; resolving one needs a note."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from warroom.core.guards import the_train, train_running, with_train
from warroom.core.model import Actor, Code, Command, Event, Reject, RoomState
from warroom.core.registry import applies, op
from warroom.core.roles import ACTORS
from warroom.core.schema import Field
from warroom.core.train import Blocker, Train


@op(
    "raise_blocker",
    ACTORS,
    {"reason": Field(str, min_len=1, max_len=500), "link": Field(str, required=False, max_len=300)},
    summary="hold the train: a reason, and optionally a link or task id",
    pre=train_running,
)
def _raise(state: RoomState, actor: Actor, cmd: Command) -> Sequence[Event] | Reject:
    train = the_train(state)
    data = {
        "blocker": f"b{train.counter + 1}",
        "reason": cmd.args["reason"].strip(),
        "link": cmd.args.get("link", "").strip(),
        "stage": train.stage,
    }
    return [Event("blocker_raised", cmd.ts, actor.name, data)]


@op(
    "resolve_blocker",
    ACTORS,
    {"blocker": Field(str, min_len=1, max_len=300), "note": Field(str, min_len=1, max_len=500)},
    summary="resolve a blocker, with a note saying how",
    pre=train_running,
)
def _resolve(state: RoomState, actor: Actor, cmd: Command) -> Sequence[Event] | Reject:
    train = the_train(state)
    wanted = cmd.args["blocker"]
    matching = [b for b in train.blockers if wanted in (b.id, b.link)]
    # A link can name several blockers over a run; the open one is meant.
    blocker = next((b for b in matching if b.open), matching[0] if matching else None)
    if blocker is None:
        return Reject(Code.INVALID, f"no blocker {wanted!r}")
    if not blocker.open:
        return Reject(
            Code.CONFLICT, f"blocker {wanted} was already resolved by {blocker.resolved_by}"
        )
    data = {
        "blocker": blocker.id,
        "link": blocker.link,
        "reason": blocker.reason,
        "note": cmd.args["note"].strip(),
    }
    return [Event("blocker_resolved", cmd.ts, actor.name, data)]


def _name(e: Event) -> str:
    return str(e.data["link"] or e.data["blocker"])


@applies("blocker_raised", lambda e: f"{e.actor} raised blocker {_name(e)}: {e.data['reason']}")
def _raised(state: RoomState, e: Event) -> RoomState:
    d = e.data
    blocker = Blocker(d["blocker"], d["reason"], d["link"], e.actor, e.ts)
    return with_train(
        state,
        lambda t: replace(
            t,
            blockers=(*t.blockers, blocker),
            counter=t.counter + 1,
            incident_at=t.incident_at or e.ts,
        ),
    )


@applies(
    "blocker_resolved",
    lambda e: f"{e.actor} resolved blocker {_name(e)} ({e.data['reason']}): {e.data['note']}",
)
def _resolved(state: RoomState, e: Event) -> RoomState:
    def resolve(b: Blocker) -> Blocker:
        if b.id != e.data["blocker"]:
            return b
        return replace(b, resolved_by=e.actor, resolved_at=e.ts, resolution=e.data["note"])

    def settle(t: Train) -> Train:
        t = replace(t, blockers=tuple(map(resolve, t.blockers)))
        # The last open blocker resolved ends the incident, as a rollback does: a later
        # rollback counts its time to recovery from the next alert or blocker.
        return t if t.open_blockers() else replace(t, incident_at=0.0)

    return with_train(state, settle)
