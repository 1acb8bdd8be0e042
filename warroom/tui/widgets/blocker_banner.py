"""The blocker banner: a red bar across the screen while any blocker holds the train.

`HELD — blocker T12345: fatal on enwiki Special:Search (raised by raj 14:10)`; hidden when none.
"""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from warroom.core.train import Train
from warroom.tui.trainview import blocker_line

MAX_LINES = 3  # beyond this the banner would crowd out the checklist; the rest are counted


class BlockerBanner(Static):
    """Shows the open blockers of the train it is given, one line each."""

    def __init__(self, tz: str, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.tz = tz
        self.train: Train | None = None

    def show(self, train: Train | None) -> None:
        """Draw the open blockers of `train` (or hide when there are none)."""
        self.train = train
        self._draw()

    def set_zone(self, tz: str) -> None:
        """Show raise times in `tz` (the timeline's zone)."""
        self.tz = tz
        self._draw()

    def _draw(self) -> None:
        train = self.train
        open_ = train.open_blockers() if train is not None and not train.finished else []
        self.display = bool(open_)
        if not open_:
            self.update("")
            return
        lines = []
        for blocker in open_[:MAX_LINES]:
            lines.append(
                Content.assemble((" HELD ", "bold reverse"), " — ", blocker_line(blocker, self.tz))
            )
        more = len(open_) - MAX_LINES
        if more > 0:
            lines.append(Content(f" and {more} more blocker{'s' if more > 1 else ''} open"))
        self.update(Content("\n").join(lines))
