"""Plain words and marks for a train, shared by the train bar, the banner and the checklist.

No Textual here: these are pure functions of the replica, so they are tested without a screen.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from warroom.core.train import Blocker, Item, Train, TrainStatus
from warroom.timezones import zone_or_utc


class Mark(StrEnum):
    """Where one stage stands; the value is its glyph on the map."""

    NEW = "●"  # runs the version going out
    CURRENT = "◐"  # in progress
    OLD = "○"  # not yet (or rolled back)
    UNDONE = "↺"  # just rolled back by a partial rollback


def clock(ts: float, tz: str) -> str:
    """HH:MM of `ts` in `tz`."""
    return datetime.fromtimestamp(ts, zone_or_utc(tz)).strftime("%H:%M")


def stage_marks(train: Train) -> list[Mark]:
    """One mark per stage, in order."""
    if train.rollback == "full":
        return [Mark.OLD] * len(train.stages)
    marks = []
    for index in range(len(train.stages)):
        if index < train.current or (index == train.current and train.status is TrainStatus.DONE):
            marks.append(Mark.NEW)
        elif index == train.current:
            marks.append(Mark.CURRENT)
        elif index == train.current + 1 and train.rollback == "partial":
            marks.append(Mark.UNDONE)
        else:
            marks.append(Mark.OLD)
    return marks


def blocker_name(blocker: Blocker) -> str:
    """What people call a blocker: its task id or link, else its own id."""
    return blocker.link or blocker.id


def blocker_line(blocker: Blocker, tz: str) -> str:
    """`blocker T12345: fatal on enwiki Special:Search (raised by raj 14:10)`."""
    raised = f"raised by {blocker.raised_by} {clock(blocker.raised_at, tz)}"
    return f"blocker {blocker_name(blocker)}: {blocker.reason} ({raised})"


def next_stage(train: Train) -> str:
    """The stage a promotion would move onto the new version, or "" after the last one."""
    index = train.current + 1
    return train.stages[index] if index < len(train.stages) else ""


def promotion_effect(train: Train) -> list[str]:
    """What a promotion does, in words, for the confirmation."""
    target = next_stage(train)
    lines = [f"promote {target}: {target} moves to {train.version}"]
    later = train.stages[train.current + 2 :]
    if later:
        lines.append(f"{', '.join(later)} stay{'s' if len(later) == 1 else ''} on the old version")
    lines.append(f"the checklist moves on from {train.stage} to {target}")
    return lines


def finish_effect(train: Train) -> list[str]:
    """What marking the train done does, in words, for the confirmation."""
    return [
        f"mark train {train.version} done: every stage runs it ({', '.join(train.stages)})",
        "the train is over: no more ticks, blockers or promotions",
    ]


def required_left(train: Train, stage: str) -> list[Item]:
    """The required items of `stage` nobody has ticked yet."""
    return [i for i in train.stage_items(stage) if i.required and not i.done]
