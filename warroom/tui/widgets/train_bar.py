"""The train bar under the header: the version, the map of stages and where the train stands.

`1.44.0-wmf.5 ▏ prep ● testwikis ● group0 ● group1 ◐ group2 ○   26 commits going out · g  HELD`
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Label

from warroom.core.train import Train
from warroom.tui.trainview import Mark, stage_marks

NO_TRAIN = "No train running · the conductor starts one with `warroom open`"
_MARK_STYLE = {
    Mark.NEW: "$text-success",
    Mark.CURRENT: "$text-warning bold",
    Mark.UNDONE: "$text-error bold",
    Mark.OLD: "$text-muted",
}


def train_map(train: Train) -> Content:
    """`prep ● testwikis ◐ group0 ○ …`, each mark coloured by where its stage stands."""
    parts: list[str | tuple[str, str]] = []
    for index, (stage, mark) in enumerate(zip(train.stages, stage_marks(train), strict=True)):
        if index:
            parts.append("  ")
        current = index == train.current and not train.finished and train.rollback != "full"
        parts.append((stage, "bold" if current else ""))
        parts.append((f" {mark.value}", _MARK_STYLE[mark]))
    return Content.assemble(*parts)


class TrainBar(Horizontal):
    """Set `train` (None when there is none) and the bar redraws."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.train: Train | None = None

    def compose(self) -> ComposeResult:
        yield Label("", id="train-version")
        yield Label(NO_TRAIN, id="train-map")
        yield Label("", id="train-label")
        yield Label("", id="train-changes")

    def show(self, train: Train | None, commits: int = 0) -> None:
        """Draw `train`, or say briefly that there is none; `commits`: how many go out."""
        self.train = train
        changes = self.query_one("#train-changes", Label)
        changes.update(
            f"{commits} commit{'s' if commits != 1 else ''} going out · g" if commits else ""
        )
        changes.display = bool(commits)
        version = self.query_one("#train-version", Label)
        layout = self.query_one("#train-map", Label)
        label = self.query_one("#train-label", Label)
        self.set_class(train is None, "-none")
        if train is None:
            version.update("")
            layout.update(NO_TRAIN)
            label.update("")
            return
        version.update(Content(train.version))
        layout.update(train_map(train))
        word = train.label()
        label.update(word)
        for name in ("RUNNING", "HELD", "ROLLED BACK", "DONE", "ABANDONED"):
            label.set_class(word == name, f"-{name.lower().replace(' ', '-')}")
        version.tooltip = Content(f"{train.name}, opened by {train.opened_by}")  # not markup
