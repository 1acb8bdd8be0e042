"""The roster: who is here, their role, time zone and local time; people who left, dimmed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from rich.console import RenderableType
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.css.query import NoMatches
from textual.reactive import reactive
from textual.widgets import Static

from warroom.core import Member, Role, RoomState
from warroom.timezones import zone_or_utc

_ORDER = {Role.CONDUCTOR: 0, Role.ENGINEER: 1, Role.VISITOR: 2}
_MARK = {Role.CONDUCTOR: "★", Role.ENGINEER: "●", Role.VISITOR: "◦"}


def clock_in(tz: str, now: float, viewer_tz: str) -> str:
    """HH:MM in `tz`, with the weekday when it is another day there than for the viewer."""
    there = datetime.fromtimestamp(now, zone_or_utc(tz))
    here = datetime.fromtimestamp(now, zone_or_utc(viewer_tz))
    text = there.strftime("%H:%M")
    return text if there.date() == here.date() else f"{there:%a} {text}"


class Roster(VerticalScroll):
    """A panel listing the room's members; present people first, by role, then those away."""

    COMPONENT_CLASSES = {
        "roster--conductor",
        "roster--engineer",
        "roster--visitor",
        "roster--zone",
        "roster--away",
        "roster--heading",
    }

    state: reactive[RoomState | None] = reactive(None)
    me: reactive[str] = reactive("")

    def __init__(
        self, viewer_tz: str, clock: Callable[[], float], *, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.viewer_tz = viewer_tz
        self.clock = clock
        self.border_title = "People"

    def compose(self) -> ComposeResult:
        yield Static(id="roster-body")

    def on_mount(self) -> None:
        self._tick()

    def _tick(self) -> None:
        # Wake on the minute so local times turn over when the wall clock does.
        self.redraw()
        self.set_timer(60.5 - self.clock() % 60, self._tick)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        if self.is_mounted:
            self.redraw()  # the table holds resolved colours; a new theme needs new ones

    def watch_state(self) -> None:
        self.redraw()

    def watch_me(self) -> None:
        self.redraw()

    def redraw(self) -> None:
        """Render the roster for the clock's current time."""
        try:
            body = self.query_one("#roster-body", Static)
        except NoMatches:
            return  # not composed yet; on_mount draws it
        state = self.state
        if state is None:
            body.update(Text("waiting for the room…", style=self._style("roster--zone")))
            self.border_subtitle = ""
            return
        here = sorted(state.present(), key=lambda m: (_ORDER[self._role(state, m)], m.name))
        away = sorted((m for m in state.members.values() if not m.present), key=lambda m: m.name)
        self.border_subtitle = f"{len(here)} here" + (f" · {len(away)} away" if away else "")
        body.update(self._table(state, here, away))

    def _table(self, state: RoomState, here: list[Member], away: list[Member]) -> RenderableType:
        now = self.clock()
        zone_style = self._style("roster--zone")
        table = Table.grid(expand=True, padding=(0, 1))
        table.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        table.add_column(justify="right", no_wrap=True)
        for member in here:
            role = self._role(state, member)
            style = self._style(f"roster--{role.value}")
            name = Text.assemble((f"{_MARK[role]} ", style), (member.name, "bold"))
            if member.name == self.me:
                name.append(" (you)", style=zone_style)
            table.add_row(name, Text(role.value, style=style))
            table.add_row(
                Text(f"  {member.tz}", style=zone_style),
                Text(clock_in(member.tz, now, self.viewer_tz)),
            )
        if not here:
            table.add_row(Text("nobody is here", style=zone_style), "")
        if away:
            away_style = self._style("roster--away")
            table.add_row("", "")
            table.add_row(Text("away", style=self._style("roster--heading")), "")
            for member in away:
                role = self._role(state, member)
                table.add_row(
                    Text(f"  {member.name}", style=away_style), Text(role.value, style=away_style)
                )
        return table

    def _role(self, state: RoomState, member: Member) -> Role:
        # The seat, not the token, makes a conductor: a second conductor token acts as engineer.
        return state.role_of(member.name) or member.role

    def _style(self, component: str) -> Style:
        # The full style resolves theme colours such as "auto 60%"; drop its background so a
        # styled span never paints a band across the panel.
        full = self.get_component_rich_style(component)
        return Style(color=full.color, bold=full.bold, italic=full.italic)
