"""What the train's capabilities share: the running-train precondition, lookups that refuse
with a reason, and the helpers that replace the train or one of its items in a state."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from warroom.core.model import Actor, Code, Reject, RoomState
from warroom.core.runbook import Rules
from warroom.core.train import Item, Train


def train_running(state: RoomState, actor: Actor) -> Reject | None:
    """The precondition of every train op: a train is running (a fully rolled-back one
    counts), not done or abandoned; else the refusal."""
    train = state.train
    if train is None:
        return Reject(Code.CONFLICT, "no train is running; the conductor opens one first")
    if train.finished:
        return Reject(Code.CONFLICT, f"the train {train.version} is {train.status.value}")
    return None


def the_train(state: RoomState) -> Train:
    """The running train, for a decider whose precondition made sure there is one."""
    assert state.train is not None
    return state.train


def rules_of(state: RoomState) -> Rules:
    """The rules in force: the train's runbook's, or the defaults before any train."""
    return state.train.rules if state.train is not None else Rules()


def find_item(train: Train, item_id: str) -> Item | Reject:
    """The checklist item with this id, or the rejection naming the bad id."""
    item = train.item(item_id)
    if item is None:
        return Reject(Code.INVALID, f"no checklist item {item_id!r}")
    return item


def with_train(state: RoomState, change: Callable[[Train], Train]) -> RoomState:
    """The state with its train replaced by `change(train)`."""
    assert state.train is not None
    return replace(state, train=change(state.train))


def with_item(state: RoomState, item_id: str, change: Callable[[Item], Item]) -> RoomState:
    """The state with one checklist item replaced by `change(item)`."""
    return with_train(
        state,
        lambda t: replace(t, items=tuple(change(i) if i.id == item_id else i for i in t.items)),
    )
