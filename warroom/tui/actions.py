"""The train's acts as one table: key, footer label, palette title, and who may do each.

The room screen's bindings, the `?` help and the command palette are all made from this
table, so a key, its help line and its palette entry cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from textual.binding import Binding


@dataclass(frozen=True, slots=True)
class TrainAction:
    """One act: `name` is the action's parameter; `verb` finishes "only the conductor may …"."""

    name: str
    keys: str
    label: str
    title: str
    help: str
    verb: str
    conductor: bool = False  # only the seat holder may
    footer: bool = True  # shown in the footer (when allowed); the rest are in `?` and ctrl+p
    key_display: str | None = None


ACTIONS: tuple[TrainAction, ...] = (
    TrainAction(
        "tick",
        "space",
        "Tick",
        "Tick or untick the item",
        "Tick the selected item, or untick it; on a stage, open or fold it",
        "tick items",
    ),
    TrainAction(
        "take",
        "m",
        "Take",
        "Take the item",
        "Assign the selected item to me; again to give it back",
        "take items",
    ),
    TrainAction(
        "comment",
        "c",
        "Comment",
        "Comment on the item",
        "Write or change the selected item's note",
        "comment on items",
    ),
    TrainAction(
        "block",
        "b",
        "Block",
        "Raise a blocker",
        "Hold the train: a reason, and a task id or link",
        "raise blockers",
    ),
    TrainAction(
        "unblock",
        "u",
        "Unblock",
        "Resolve a blocker",
        "Resolve an open blocker, with a note saying how",
        "resolve blockers",
    ),
    TrainAction(
        "promote",
        "p",
        "Promote",
        "Promote the next stage",
        "Promote the next stage, after a look at what it does and its gates",
        "promote",
        conductor=True,
    ),
    TrainAction(
        "rollback",
        "R",
        "Rollback",
        "Roll back",
        "Roll back the last promoted stage, or every stage",
        "roll back",
        conductor=True,
        footer=False,
    ),
    TrainAction(
        "finish",
        "F",
        "Finish",
        "Mark the train done",
        "Mark the train done once the last stage is through",
        "mark the train done",
        conductor=True,
        footer=False,
    ),
    TrainAction(
        "abandon",
        "X",
        "Abandon",
        "Abandon the train",
        "Abandon the train, with a reason",
        "abandon the train",
        conductor=True,
        footer=False,
    ),
    TrainAction(
        "assign",
        "a",
        "Assign",
        "Assign the item to someone",
        "Assign the selected item to anyone here, or to nobody",
        "assign items to others",
        conductor=True,
        footer=False,
    ),
    TrainAction(
        "add",
        "plus,insert",
        "Add item",
        "Add a checklist item",
        "Add an item to the selected stage",
        "edit the checklist",
        conductor=True,
        footer=False,
    ),
    TrainAction(
        "remove",
        "delete,minus",
        "Remove item",
        "Remove the checklist item",
        "Remove the selected item from the checklist",
        "edit the checklist",
        conductor=True,
        footer=False,
    ),
    TrainAction(
        "move_up",
        "left_square_bracket,shift+up",
        "Move up",
        "Move the item up",
        "Move the selected item up within its stage",
        "edit the checklist",
        conductor=True,
        footer=False,
    ),
    TrainAction(
        "move_down",
        "right_square_bracket,shift+down",
        "Move down",
        "Move the item down",
        "Move the selected item down within its stage",
        "edit the checklist",
        conductor=True,
        footer=False,
    ),
)

BY_NAME = {action.name: action for action in ACTIONS}


def train_bindings() -> Iterator[Binding]:
    """Two bindings per act: the act itself, and a hidden one that explains a refusal.

    The screen's `check_action` hides the act from whoever may not do it (a visitor, an
    engineer for conductor acts) and enables the explanation instead, so the same key still
    answers, with the reason.
    """
    for action in ACTIONS:
        yield Binding(
            action.keys,
            f"train('{action.name}')",
            action.label,
            show=action.footer,
            key_display=action.key_display,
            tooltip=action.help,
        )
        yield Binding(action.keys, f"explain('{action.name}')", "", show=False)
