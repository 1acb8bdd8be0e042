"""The checklist: the train's items grouped by stage, the stage in progress open.

Every stage is one header line (its mark on the map, how many items are done); the stage in
progress is open underneath, the others are folded to keep the panel short. Enter or a click on
a header opens or folds it. Each item shows its box, text, hint, who may tick it, whether it is
optional, its assignee, its note, and who ticked it when. A click on an item's box asks to tick
it (`TickClicked`); the keys live on the screen so they work from any panel.
"""

from __future__ import annotations

from rich.console import RenderableType
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual import events, on
from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from warroom.core import RoomState
from warroom.core.stages import gates
from warroom.core.train import Item, Train
from warroom.tui.trainview import Mark, clock, next_stage, required_left, stage_marks

ITEM = "item:"
STAGE = "stage:"
_BOX = {True: "✔", False: "☐"}


class Checklist(OptionList):
    """A cursor over stage headers and items; `show` it a state, read `selected_item`."""

    COMPONENT_CLASSES = OptionList.COMPONENT_CLASSES | {
        "checklist--box",
        "checklist--done",
        "checklist--muted",
        "checklist--mine",
        "checklist--conductor",
        "checklist--stage",
        "checklist--new",
        "checklist--current",
        "checklist--undone",
    }

    class TickClicked(Message):
        """The user clicked an item's box: the screen ticks (or unticks) it."""

        def __init__(self, item: str) -> None:
            super().__init__()
            self.item = item

    def __init__(self, tz: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.tz = tz
        self.me = ""
        self.train: Train | None = None
        self._expanded: set[str] = set()
        self._current = ""  # the stage in progress when last shown
        self._opened_at = 0.0  # tells one train run from the next
        self._unmet: list[str] = []  # the promotion's gates not met yet
        self.border_title = "Checklist"

    # --- what the screen calls -------------------------------------------------------------

    def show(self, state: RoomState, me: str) -> None:
        """Render `state`'s train, keeping the cursor on the same item or header."""
        self.me = me
        train = state.train
        if train is not None and train.opened_at != self._opened_at:
            self._opened_at, self._current = train.opened_at, ""
            self._expanded = set()
        if train is not None and train.stage != self._current:
            # The stage in progress opens; the one before folds (Enter opens it again).
            self._expanded.discard(self._current)
            self._current = train.stage
            self._expanded.add(train.stage)
        self.train = train
        self._unmet = gates(state) if train is not None and not train.finished else []
        self._rebuild()

    def set_zone(self, tz: str) -> None:
        """Show tick times in `tz` (the timeline's zone)."""
        self.tz = tz
        self._rebuild()

    @property
    def selected_item(self) -> Item | None:
        """The item under the cursor, or None on a stage header."""
        option = self.highlighted_option
        if self.train is None or option is None or not option.id:
            return None
        if not option.id.startswith(ITEM):
            return None
        return self.train.item(option.id.removeprefix(ITEM))

    @property
    def selected_stage(self) -> str | None:
        """The stage of the header or item under the cursor."""
        option = self.highlighted_option
        if option is None or not option.id:
            return None
        if option.id.startswith(STAGE):
            return option.id.removeprefix(STAGE)
        item = self.selected_item
        return item.stage if item else None

    def toggle_stage(self, stage: str) -> None:
        """Open a folded stage, or fold an open one."""
        self._expanded ^= {stage}
        self._rebuild(keep=f"{STAGE}{stage}")

    def select_item(self, item_id: str) -> None:
        """Put the cursor on an item, opening its stage if need be."""
        if self.train is None or (item := self.train.item(item_id)) is None:
            return
        if item.stage not in self._expanded:
            self._expanded.add(item.stage)
            self._rebuild()
        self.highlighted = self.get_option_index(f"{ITEM}{item_id}")

    # --- events ----------------------------------------------------------------------------

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option_id and event.option_id.startswith(STAGE):
            self.toggle_stage(event.option_id.removeprefix(STAGE))

    async def _on_click(self, event: events.Click) -> None:
        tick = event.style.meta.get("tick")
        if isinstance(tick, str):
            # The box itself was clicked: that is a tick, not just a move of the cursor.
            event.stop()
            self.select_item(tick)
            self.post_message(self.TickClicked(tick))
            return
        await super()._on_click(event)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        if self.is_mounted:
            self._rebuild()  # the rows hold resolved colours; a new theme needs new ones

    # --- rendering -------------------------------------------------------------------------

    def _rebuild(self, keep: str | None = None) -> None:
        train = self.train
        if keep is None and self.highlighted_option is not None:
            keep = self.highlighted_option.id
        scroll = self.scroll_y
        options: list[Option] = []
        if train is not None:
            marks = stage_marks(train)
            for index, stage in enumerate(train.stages):
                options.append(Option(self._stage_row(train, index, marks[index]), STAGE + stage))
                if stage in self._expanded:
                    for item in train.stage_items(stage):
                        options.append(Option(self._item_row(item), ITEM + item.id))
        self.set_options(options)
        self.scroll_to(y=scroll, animate=False, immediate=True)
        ids = [o.id for o in options]
        target = keep if keep in ids else self._default(train)
        if target in ids:
            self.highlighted = ids.index(target)
        self._subtitle(train)

    def _default(self, train: Train | None) -> str | None:
        # The first unticked item of the stage in progress, where the work is.
        if train is None:
            return None
        for item in train.stage_items(train.stage):
            if not item.done:
                return ITEM + item.id
        return STAGE + train.stage

    def _subtitle(self, train: Train | None) -> None:
        if train is None:
            self.border_title, self.border_subtitle = "Checklist", ""
            return
        self.border_title = Content(f"Checklist · {train.name}")  # a name, not markup
        target = next_stage(train)
        if train.finished or train.rollback == "full":
            self.border_subtitle = train.label().lower()
        elif self._unmet:
            s = "s" if len(self._unmet) > 1 else ""
            self.border_subtitle = f"{len(self._unmet)} gate{s} unmet for {target or 'done'}"
        else:
            self.border_subtitle = f"ready for {target}" if target else "ready to be marked done"

    def _stage_row(self, train: Train, index: int, mark: Mark) -> RenderableType:
        stage = train.stages[index]
        items = train.stage_items(stage)
        done = sum(1 for i in items if i.done)
        opened = stage in self._expanded
        colour = {
            Mark.NEW: "checklist--new",
            Mark.CURRENT: "checklist--current",
            Mark.UNDONE: "checklist--undone",
            Mark.OLD: "checklist--muted",
        }[mark]
        name_style = self._style("checklist--stage")
        if index == train.current and not train.finished:
            name_style += Style(bold=True)
        head = Text.assemble(
            ("▾ " if opened else "▸ ", self._style("checklist--muted")),
            (f"{mark.value} ", self._style(colour)),
            (stage, name_style),
        )
        if not items:
            count = Text("no items", style=self._style("checklist--muted"))
        else:
            count = Text(f"{done}/{len(items)} done", style=self._style("checklist--muted"))
            left = len(required_left(train, stage))
            if index == train.current and left and not train.finished:
                count.append(f" · {left} required left", style=self._style("checklist--current"))
        grid = Table.grid(expand=True)
        grid.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        grid.add_column(justify="right", no_wrap=True)
        grid.add_row(head, count)
        return grid

    def _item_row(self, item: Item) -> RenderableType:
        muted = self._style("checklist--muted")
        box = Text(
            _BOX[item.done],
            style=self._style("checklist--done" if item.done else "checklist--box")
            + Style(meta={"tick": item.id}),
        )
        text = Text(item.text, style=muted if item.done else Style())
        status = Text()
        if item.done:
            status.append(
                f"{item.done_by} {clock(item.done_at, self.tz)}", self._style("checklist--done")
            )
        elif item.assignee:
            status.append(f"@{item.assignee}", self._assignee_style(item.assignee))
        tags = Text(justify="right")
        if item.done and item.assignee and item.assignee != item.done_by:
            tags.append(f"@{item.assignee} ", self._assignee_style(item.assignee))
        if item.who == "conductor":
            tags.append("★ conductor ", self._style("checklist--conductor"))
        if not item.required:
            tags.append("optional ", muted)
        tags.rstrip()
        grid = Table.grid(expand=True, padding=(0, 1, 0, 0))
        grid.add_column(width=3, no_wrap=True)  # indent under the header's arrow, and the box
        grid.add_column(ratio=1)
        grid.add_column(justify="right", no_wrap=True)
        if not item.hint and tags:
            # No hint to share the second line with: the tags fit beside the status.
            status = Text(" ").join(t for t in (tags, status) if t)
            tags = Text()
        grid.add_row(Text.assemble("  ", box), text, status)
        if item.hint:
            grid.add_row("", Text(item.hint, style=muted), tags)
        if item.note:
            grid.add_row("", Text(f"✎ {item.note}", style=muted + Style(italic=True)), "")
        return grid

    def _assignee_style(self, name: str) -> Style:
        return self._style("checklist--mine" if name == self.me else "checklist--stage")

    def _style(self, component: str) -> Style:
        # The full style resolves theme colours such as "auto 60%"; drop its background so a
        # styled span never paints a band under the cursor.
        full = self.get_component_rich_style(component)
        return Style(color=full.color, bold=full.bold, italic=full.italic)
