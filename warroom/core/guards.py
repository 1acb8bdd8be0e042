"""Preconditions shared by the train's capabilities, as ready-made rejections."""

from __future__ import annotations

from warroom.core.model import Code, Reject, RoomState
from warroom.core.train import Item, Train


def running_train(state: RoomState) -> Train | Reject:
    """The train if one is running (not done or abandoned), else the rejection to send."""
    train = state.train
    if train is None:
        return Reject(Code.CONFLICT, "no train is running; the conductor opens one first")
    if train.finished:
        return Reject(Code.CONFLICT, f"the train {train.version} is {train.status.value}")
    return train


def find_item(train: Train, item_id: str) -> Item | Reject:
    """The checklist item with this id, or the rejection naming the bad id."""
    item = train.item(item_id)
    if item is None:
        return Reject(Code.INVALID, f"no checklist item {item_id!r}")
    return item
