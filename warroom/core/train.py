"""The train run's value types: its status, stages, checklist items and blockers.

A leaf like `warroom.core.model`, which holds the rest of the room's values.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from warroom.core.runbook import Rules


class TrainStatus(StrEnum):
    """Where the run stands; HELD is not stored: it is RUNNING with an open blocker."""

    RUNNING = "running"
    ROLLED_BACK = "rolled_back"
    DONE = "done"
    ABANDONED = "abandoned"


@dataclass(frozen=True, slots=True)
class Item:
    """A checklist item of one stage, with who ticked it and when."""

    id: str
    stage: str
    text: str
    hint: str = ""
    required: bool = True
    who: str = "engineer"
    assignee: str = ""
    done_by: str = ""
    done_at: float = 0.0
    note: str = ""

    @property
    def done(self) -> bool:
        return bool(self.done_by)


@dataclass(frozen=True, slots=True)
class Blocker:
    """An open (or resolved) reason to hold the train."""

    id: str
    reason: str
    link: str
    raised_by: str
    raised_at: float
    resolved_by: str = ""
    resolved_at: float = 0.0
    resolution: str = ""

    @property
    def open(self) -> bool:
        return not self.resolved_by


@dataclass(frozen=True, slots=True)
class Train:
    """One train run: the version going out and how far it has gone.

    `current` is the stage in progress; every stage before it runs the new version too.
    After a full rollback no stage does.
    """

    name: str
    version: str
    stages: tuple[str, ...]
    items: tuple[Item, ...]
    rules: Rules
    opened_by: str
    opened_at: float
    current: int = 0
    status: TrainStatus = TrainStatus.RUNNING
    rollback: str = ""  # "partial" or "full" after a rollback, until the next promotion
    blockers: tuple[Blocker, ...] = ()
    counter: int = 0  # for new item and blocker ids
    ended_at: float = 0.0
    end_reason: str = ""
    approved: str = ""  # a rollback the room voted for ("partial" or "full"), not yet executed
    approved_by_vote: str = ""  # the id of that vote
    incident_at: float = 0.0  # the first alert or blocker since the last rollback or resolution

    @property
    def stage(self) -> str:
        return self.stages[self.current]

    @property
    def held(self) -> bool:
        return self.status is TrainStatus.RUNNING and any(b.open for b in self.blockers)

    @property
    def finished(self) -> bool:
        return self.status in (TrainStatus.DONE, TrainStatus.ABANDONED)

    def label(self) -> str:
        """RUNNING, HELD, ROLLED BACK, DONE or ABANDONED, as the train map shows it."""
        if self.approved and self.status is TrainStatus.RUNNING:
            return "ROLLBACK APPROVED"
        if self.held:
            return "HELD"
        if self.status is TrainStatus.RUNNING and self.rollback:
            return "ROLLED BACK"
        return self.status.value.replace("_", " ").upper()

    def item(self, item_id: str) -> Item | None:
        return next((i for i in self.items if i.id == item_id), None)

    def stage_items(self, stage: str) -> list[Item]:
        return [i for i in self.items if i.stage == stage]

    def open_blockers(self) -> list[Blocker]:
        return [b for b in self.blockers if b.open]

    def on_new_version(self, index: int) -> bool:
        """Whether stage `index` runs the version going out."""
        return self.rollback != "full" and index <= self.current
