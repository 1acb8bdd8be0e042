"""The log panel: the source bar, the log tail and its search line, in one bordered box.

The border says whether the tail follows (or how many lines arrived since it paused) and which
filters and search are on. The room screen's keys call the methods here; `n` and `N` belong to
the tail itself, and only while a search is on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Input, Label

from warroom.core import RoomState
from warroom.tui.logbook import MAX_LINES, Level, Logbook
from warroom.tui.widgets.alert_banner import fresh_alerts
from warroom.tui.widgets.log_view import LogView
from warroom.tui.widgets.source_bar import SourceBar, SourceInfo

RATES_EVERY = 1.0  # seconds between redraws of the source bar's rates


class LogPanel(Vertical):
    """Everything about the room's log stream; `add` lines, `show` it the room's state."""

    BINDINGS = [
        Binding("escape", "close_search", "Cancel search", show=False),
    ]

    zoomed: reactive[bool] = reactive(False)  # the screen gave the panel the whole body

    def __init__(
        self, tz: str, clock: Callable[[], float], *, limit: int = MAX_LINES, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.clock = clock
        self.book = Logbook(limit)
        self.view = LogView(self.book, tz, id="log-view")
        self.feeds: dict[str, int] = {}
        self.alerted: set[str] = set()
        self._title: Content | None = None
        self._subtitle: Content | None = None
        self._keys = (True, False)  # (following, searching) when the footer was last checked

    def compose(self) -> ComposeResult:
        yield SourceBar(id="source-bar")
        yield self.view

    def on_mount(self) -> None:
        self.watch(self.view, "following", self._retitle, init=False)
        self.watch(self.view, "new_lines", self._retitle, init=False)
        self.watch(self.view, "matched", self._retitle, init=False)
        self.set_interval(RATES_EVERY, self._draw_sources)
        self._draw_sources()
        self._quiet()
        self._retitle()

    def watch_zoomed(self) -> None:
        self._retitle()

    # --- what the screen calls ---------------------------------------------------------------

    def add(self, lines: Sequence[Sequence[Any]]) -> None:
        """Show newly received lines (many at once: a frame's worth, or a joiner's backlog)."""
        known = len(self.book.sources)
        added, dropped = self.book.add(lines, self.clock())
        self.view.rows_changed(added, dropped)
        if len(self.book.sources) != known:
            self._draw_sources()
            self._quiet()
        self._retitle()

    def show(self, state: RoomState) -> None:
        """Take the feeders' exit statuses and the recent alerts from the room's state."""
        self.feeds = dict(state.feeds)
        self.alerted = {alert.source for alert in fresh_alerts(state.alerts, self.clock())}
        self._draw_sources()
        self._quiet()

    def _quiet(self) -> None:
        # A room without a feeder has nothing to tail: the panel keeps one line to say so
        # and leaves the room to the checklist, the timeline and the people.
        self.set_class(not self.book.sources and not self.feeds, "-quiet")

    def set_zone(self, tz: str) -> None:
        """Show line times in `tz` (the timeline's zone)."""
        self.view.tz = tz
        self.view.redraw()

    def cycle_level(self) -> None:
        """Every level → warnings and errors → errors only → every level."""
        self._filter(self.book.source, self.book.level.next())

    def cycle_source(self) -> None:
        """All sources → each source seen, in turn → all again."""
        if not self.book.sources:
            self.notify("No log source has sent a line yet.", severity="warning")
            return
        self._filter(self.book.next_source(), self.book.level)

    def pick_source(self, source: str | None) -> None:
        """Show only `source`, or every source for None."""
        self._filter(source, self.book.level)

    def open_search(self) -> None:
        """Show the search line and put the cursor in it."""
        if self.has_class("-searching"):
            self.query_one("#log-search-input", Input).focus()
            return
        # Mounted only while searching: the room has one text input (the note) otherwise.
        self.add_class("-searching")
        field = Input(
            self.book.needle,
            placeholder="search the logs · enter finds the newest match · esc cancels",
            compact=True,
            id="log-search-input",
        )
        self.mount(Horizontal(Label("/", id="log-search-prompt"), field, id="log-search"))
        self.call_after_refresh(field.focus)

    def follow(self) -> None:
        """Follow the newest line again."""
        self.view.follow()

    @property
    def sources(self) -> list[str]:
        """Every source seen, in the order first seen, with any that only reported an exit."""
        return [*self.book.sources, *(s for s in self.feeds if s not in self.book.sources)]

    # --- filters and search ------------------------------------------------------------------

    def _filter(self, source: str | None, level: Level) -> None:
        keep = None if self.view.following else self.view.top_line()
        self.book.set_filter(source, level)
        self.view.reset(keep)
        self._draw_sources()
        self._retitle()

    @on(SourceBar.Picked)
    def _picked(self, event: SourceBar.Picked) -> None:
        self.pick_source(event.source)

    @on(Input.Changed, "#log-search-input")
    def _typed(self, event: Input.Changed) -> None:
        # Matches light up as the needle is typed; Enter goes to one.
        self.book.search(event.value)
        self.view.matched = -1
        self.view.redraw()
        self._retitle()

    @on(Input.Submitted, "#log-search-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._close_search_line()
        self.view.focus()
        if not self.book.needle:
            return
        view = self.view
        bottom = round(view.scroll_y) + view.scrollable_content_region.height - 1
        row = self.book.find(bottom, -1)
        if row is None:
            self.notify(f"No line matches “{self.book.needle}”.", severity="warning")
            return
        view.show_match(row)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "close_search":
            return self.has_class("-searching")
        return True

    def action_close_search(self) -> None:
        """Leave the search line and forget the search."""
        self._clear_search()
        self.view.focus()

    @on(LogView.SearchDismissed)
    def _dismissed(self) -> None:
        self._clear_search()

    def _close_search_line(self) -> None:
        self.remove_class("-searching")
        self.query("#log-search").remove()

    def _clear_search(self) -> None:
        self._close_search_line()
        self.book.search("")
        self.view.matched = -1
        self.view.redraw()
        self._retitle()

    # --- the border and the source bar -------------------------------------------------------

    def _draw_sources(self) -> None:
        now = self.clock()
        infos = [
            SourceInfo(name, self.book.rate(name, now), self.feeds.get(name), name in self.alerted)
            for name in self.sources
        ]
        self.query_one(SourceBar).show(infos, self.book.source)

    def _retitle(self) -> None:
        view, book = self.view, self.book
        if view.following:
            state = Content.styled("following", "$text-success")
        else:
            more = f" · {view.new_lines:,} new lines" if view.new_lines else ""
            state = Content.assemble(("‖ paused", "$text-warning bold"), more, " · f follows")
        title = Content.assemble(("Logs", "bold"), " · ", state)
        if self.zoomed:
            title += Content.styled(" · l back", "dim")
        parts: list[Content | str] = [
            book.source or "all sources",
            book.level.label,
            f"{len(book.view):,} lines"
            if len(book.view) == len(book.lines)
            else f"{len(book.view):,} of {len(book.lines):,} lines",
        ]
        if book.needle:
            found = f"{book.matches:,} match{'es' if book.matches != 1 else ''}"
            if book.ordinal:
                found = f"{book.ordinal:,} of {book.matches:,}"
            parts.append(Content.assemble(("/", "bold"), (book.needle, "$text-accent"), " ", found))
        subtitle = Content(" · ").join(parts)
        keys = (view.following, bool(book.needle))
        if keys != self._keys:
            # `f` shows only while paused, `n` / `N` only while searching.
            self._keys = keys
            self.screen.refresh_bindings()
        if title != self._title:
            self._title = self.border_title = title
        if subtitle != self._subtitle:
            self._subtitle = self.border_subtitle = subtitle
