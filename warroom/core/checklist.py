"""The shared checklist: tick, untick, assign, annotate; the conductor edits the list."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from warroom.core.guards import find_item, the_train, train_running, with_item, with_train
from warroom.core.model import Actor, Code, Command, Event, Reject, Role, RoomState
from warroom.core.registry import applies, op
from warroom.core.roles import ACTORS, CONDUCTOR_ONLY, acting_role
from warroom.core.runbook import WHO
from warroom.core.schema import Field
from warroom.core.train import Item

_ITEM = {"item": Field(str, min_len=1, max_len=32)}


def _target(state: RoomState, cmd: Command) -> Item | Reject:
    return find_item(the_train(state), cmd.args["item"])


def _facts(item: Item, **more: Any) -> dict[str, Any]:
    # Events carry the item's words so the timeline reads without the state.
    return {"item": item.id, "stage": item.stage, "text": item.text, **more}


def _may_tick(state: RoomState, actor: Actor, item: Item) -> Reject | None:
    if item.who == "conductor" and acting_role(state, actor) is not Role.CONDUCTOR:
        return Reject(Code.FORBIDDEN, f'only the conductor may tick "{item.text}"')
    return None


@op(
    "tick",
    ACTORS,
    {**_ITEM, "note": Field(str, required=False, max_len=500)},
    summary="tick a checklist item",
    pre=train_running,
)
def _tick(state: RoomState, actor: Actor, cmd: Command) -> Sequence[Event] | Reject:
    item = _target(state, cmd)
    if isinstance(item, Reject):
        return item
    if (denied := _may_tick(state, actor, item)) is not None:
        return denied
    if item.done:
        return Reject(Code.CONFLICT, f'"{item.text}" is already ticked by {item.done_by}')
    note = cmd.args.get("note", "").strip()
    return [Event("item_ticked", cmd.ts, actor.name, _facts(item, note=note))]


@op("untick", ACTORS, _ITEM, summary="untick a checklist item", pre=train_running)
def _untick(state: RoomState, actor: Actor, cmd: Command) -> Sequence[Event] | Reject:
    item = _target(state, cmd)
    if isinstance(item, Reject):
        return item
    if (denied := _may_tick(state, actor, item)) is not None:
        return denied
    if not item.done:
        return Reject(Code.CONFLICT, f'"{item.text}" is not ticked')
    return [Event("item_unticked", cmd.ts, actor.name, _facts(item))]


@op(
    "assign",
    ACTORS,
    {**_ITEM, "to": Field(str, max_len=40)},
    summary="assign an item (to yourself, or to anyone as conductor); empty to unassign",
    pre=train_running,
)
def _assign(state: RoomState, actor: Actor, cmd: Command) -> Sequence[Event] | Reject:
    item = _target(state, cmd)
    if isinstance(item, Reject):
        return item
    to = cmd.args["to"].strip()
    conductor = acting_role(state, actor) is Role.CONDUCTOR
    if not conductor and to not in (actor.name, "") and to != item.assignee:
        return Reject(Code.FORBIDDEN, "engineers assign items only to themselves")
    if not conductor and to == "" and item.assignee not in ("", actor.name):
        return Reject(Code.FORBIDDEN, f"only the conductor may unassign {item.assignee}")
    if to and to in state.members and state.members[to].role is Role.VISITOR:
        return Reject(Code.INVALID, f"{to} is a visitor and cannot take items")
    if to == item.assignee:
        return Reject(Code.CONFLICT, f'"{item.text}" is already assigned to {to or "nobody"}')
    return [Event("item_assigned", cmd.ts, actor.name, _facts(item, to=to))]


@op(
    "annotate",
    ACTORS,
    {**_ITEM, "text": Field(str, max_len=500)},
    summary="set an item's note",
    pre=train_running,
)
def _annotate(state: RoomState, actor: Actor, cmd: Command) -> Sequence[Event] | Reject:
    item = _target(state, cmd)
    if isinstance(item, Reject):
        return item
    return [Event("item_noted", cmd.ts, actor.name, _facts(item, note=cmd.args["text"].strip()))]


_ITEM_FIELDS = {
    "text": Field(str, required=False, min_len=1, max_len=500),
    "hint": Field(str, required=False, max_len=500),
    "required": Field(bool, required=False),
    "who": Field(str, required=False, choices=WHO),
    "assignee": Field(str, required=False, max_len=40),
}


@op(
    "add_item",
    CONDUCTOR_ONLY,
    {
        "stage": Field(str, min_len=1, max_len=32),
        **_ITEM_FIELDS,
        "text": Field(str, min_len=1, max_len=500),
    },
    summary="add a checklist item to a stage",
    pre=train_running,
)
def _add(state: RoomState, actor: Actor, cmd: Command) -> Sequence[Event] | Reject:
    train = the_train(state)
    stage = cmd.args["stage"]
    if stage not in train.stages:
        return Reject(Code.INVALID, f"no stage {stage!r} (stages: {', '.join(train.stages)})")
    item = Item(
        id=f"i{train.counter + 1}",
        stage=stage,
        text=cmd.args["text"].strip(),
        hint=cmd.args.get("hint", "").strip(),
        required=cmd.args.get("required", True),
        who=cmd.args.get("who", "engineer"),
        assignee=cmd.args.get("assignee", "").strip(),
    )
    data = _facts(
        item, hint=item.hint, required=item.required, who=item.who, assignee=item.assignee
    )
    return [Event("item_added", cmd.ts, actor.name, data)]


@op(
    "edit_item",
    CONDUCTOR_ONLY,
    {**_ITEM, **_ITEM_FIELDS},
    summary="change an item",
    pre=train_running,
)
def _edit(state: RoomState, actor: Actor, cmd: Command) -> Sequence[Event] | Reject:
    item = _target(state, cmd)
    if isinstance(item, Reject):
        return item
    wanted = {k: v.strip() if isinstance(v, str) else v for k, v in cmd.args.items()}
    changes = {k: v for k, v in wanted.items() if k != "item" and getattr(item, k) != v}
    if not changes:
        return Reject(Code.INVALID, "edit_item: nothing to change")
    return [Event("item_edited", cmd.ts, actor.name, _facts(item, changes=changes))]


@op("remove_item", CONDUCTOR_ONLY, _ITEM, summary="remove a checklist item", pre=train_running)
def _remove(state: RoomState, actor: Actor, cmd: Command) -> Sequence[Event] | Reject:
    item = _target(state, cmd)
    if isinstance(item, Reject):
        return item
    return [Event("item_removed", cmd.ts, actor.name, _facts(item))]


@op(
    "move_item",
    CONDUCTOR_ONLY,
    {**_ITEM, "position": Field(int)},
    summary="move an item to a position (from 0) within its stage",
    pre=train_running,
)
def _move(state: RoomState, actor: Actor, cmd: Command) -> Sequence[Event] | Reject:
    item = _target(state, cmd)
    if isinstance(item, Reject):
        return item
    assert state.train is not None
    siblings = state.train.stage_items(item.stage)
    position = cmd.args["position"]
    if not 0 <= position < len(siblings):
        return Reject(Code.INVALID, f"position must be 0 to {len(siblings) - 1} in {item.stage}")
    if siblings[position].id == item.id:
        return Reject(Code.CONFLICT, f'"{item.text}" is already at position {position}')
    return [Event("item_moved", cmd.ts, actor.name, _facts(item, position=position))]


def _quoted(e: Event) -> str:
    return f'"{e.data["text"]}" ({e.data["stage"]})'


def _said_ticked(e: Event) -> str:
    note = f" — {e.data['note']}" if e.data.get("note") else ""
    return f"{e.actor} ticked {_quoted(e)}{note}"


def _said_assigned(e: Event) -> str:
    to = e.data["to"]
    if not to:
        return f"{e.actor} unassigned {_quoted(e)}"
    return (
        f"{e.actor} took {_quoted(e)}"
        if to == e.actor
        else f"{e.actor} assigned {_quoted(e)} to {to}"
    )


@applies("item_ticked", _said_ticked)
def _ticked(state: RoomState, e: Event) -> RoomState:
    note = e.data["note"]
    return with_item(
        state,
        e.data["item"],
        lambda i: replace(i, done_by=e.actor, done_at=e.ts, note=note or i.note),
    )


@applies("item_unticked", lambda e: f"{e.actor} unticked {_quoted(e)}")
def _unticked(state: RoomState, e: Event) -> RoomState:
    return with_item(state, e.data["item"], lambda i: replace(i, done_by="", done_at=0.0))


@applies("item_assigned", _said_assigned)
def _assigned(state: RoomState, e: Event) -> RoomState:
    return with_item(state, e.data["item"], lambda i: replace(i, assignee=e.data["to"]))


@applies("item_noted", lambda e: f"{e.actor} noted on {_quoted(e)}: {e.data['note']}")
def _noted(state: RoomState, e: Event) -> RoomState:
    return with_item(state, e.data["item"], lambda i: replace(i, note=e.data["note"]))


@applies("item_added", lambda e: f"{e.actor} added {_quoted(e)}")
def _added(state: RoomState, e: Event) -> RoomState:
    d = e.data
    item = Item(d["item"], d["stage"], d["text"], d["hint"], d["required"], d["who"], d["assignee"])
    return with_train(state, lambda t: replace(t, items=(*t.items, item), counter=t.counter + 1))


@applies(
    "item_edited",
    lambda e: (
        f"{e.actor} edited {_quoted(e)}: "
        + ", ".join(f"{k} → {v}" for k, v in e.data["changes"].items())
    ),
)
def _edited(state: RoomState, e: Event) -> RoomState:
    return with_item(state, e.data["item"], lambda i: replace(i, **e.data["changes"]))


@applies("item_removed", lambda e: f"{e.actor} removed {_quoted(e)}")
def _removed(state: RoomState, e: Event) -> RoomState:
    return with_train(
        state, lambda t: replace(t, items=tuple(i for i in t.items if i.id != e.data["item"]))
    )


@applies("item_moved", lambda e: f"{e.actor} moved {_quoted(e)} to position {e.data['position']}")
def _moved(state: RoomState, e: Event) -> RoomState:
    def move(t: Any) -> Any:
        item = t.item(e.data["item"])
        rest = [i for i in t.items if i.id != item.id]
        siblings = [i for i in rest if i.stage == item.stage]
        position = e.data["position"]
        # Insert before the sibling now at `position`, or after the last one.
        anchor = siblings[position] if position < len(siblings) else None
        index = rest.index(anchor) if anchor else rest.index(siblings[-1]) + 1 if siblings else 0
        rest.insert(index, item)
        return replace(t, items=tuple(rest))

    return with_train(state, move)
