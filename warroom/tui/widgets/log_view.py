"""The log tail: a line-API view over a `Logbook` that draws only the rows on screen.

New lines cost an append; the tail moves and draws at most `FOLLOW_FPS` times a second, the
visible rows only, whatever the rate. The view follows the newest line until the reader
scrolls up; then it stays on the same lines (even as old ones are dropped from memory) and
counts what arrives below, until End or `f` follows again.

`10:42:07 sync     │✖ PHP Fatal error: Uncaught RuntimeException: …` — time, source, the
stream (a heavy bar for stderr), the level (✖ error, ▲ warning, ┆ a stack trace's frame).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.timer import Timer

from warroom.logtext import ERROR, WARNING
from warroom.timezones import zone_or_utc
from warroom.tui.logbook import (
    CONT,
    SERIAL,
    SHOWN,
    SOURCE,
    STREAM,
    TEXT,
    TS,
    Logbook,
    LogLine,
)

SOURCE_WIDTH = (4, 14)  # the source column fits the longest name seen, within these bounds
SHIFT = 20  # columns ← and → move long lines sideways
# A tail at thousands of lines a second reads no better at 60 frames a second than at 20, and
# the frames saved leave the loop free for keys (see benches/tui_logs.py).
FOLLOW_FPS = 20
WAITING = "Waiting for log lines · a feeder sends them: warroom feed URL --source NAME -- COMMAND"
NO_MATCH = "No line here passes the filter ({what}) · e changes the level, s the source"
_CACHE = 200  # rendered rows kept (a few screens); cleared whole when full or stale


class LogView(ScrollView, can_focus=True):
    """Rows of `book.view`; call `rows_changed` after adding lines, `reset` after a filter."""

    COMPONENT_CLASSES = {
        "logview--time",
        "logview--source",
        "logview--stdout",
        "logview--stderr",
        "logview--error",
        "logview--warning",
        "logview--trace",
        "logview--match",
        "logview--cursor",
        "logview--hint",
    }
    BINDINGS = [
        Binding("n", "match(1)", "Next match", tooltip="Go to the next (newer) match"),
        Binding("N", "match(-1)", "Prev match", tooltip="Go to the previous (older) match"),
        Binding("escape", "clear_search", "Clear search", show=False),
        Binding("left", "shift(-1)", "Scroll left", show=False),
        Binding("right", "shift(1)", "Scroll right", show=False),
        Binding(
            "enter",
            "suspects",
            "Suspects",
            tooltip="In the logs: the commits behind the selected line's stack trace "
            "(click a line to select it; without one, the newest error in view)",
        ),
    ]

    class SearchDismissed(Message):
        """Esc in the view while searching: the panel forgets the search."""

    class SuspectsWanted(Message):
        """Enter on a line: find the commits behind `trace`, the line's stack trace."""

        def __init__(self, trace: str) -> None:
            super().__init__()
            self.trace = trace

    following: reactive[bool] = reactive(True)
    new_lines: reactive[int] = reactive(0)  # lines that arrived below since following paused
    matched: reactive[int] = reactive(-1)  # the serial of the current search match, or -1

    def __init__(self, book: Logbook, tz: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.book = book
        self.tz = tz
        self.shift = 0  # columns of text hidden on the left
        self._moving = False  # the view is scrolling itself: not the reader scrolling up
        self._cache: dict[int, Strip] = {}
        self._palette: dict[str, Style] = {}
        self._second = (-1, "")  # the last time stamp formatted, by whole second
        self._source_width = SOURCE_WIDTH[0]
        self._width = 0
        self._row_width = 0
        self._base = Style()
        self._styled: dict[str, Style] = {}
        self._catch_up: Timer | None = None  # the tail's next move, when one is due
        self._caught_up = 0.0  # when the tail last moved (monotonic)

    # --- what the panel calls ----------------------------------------------------------------

    def rows_changed(self, added: int, dropped: int) -> None:
        """Lines were added to the book: `added` rows at the end, `dropped` from the front."""
        widest = max((len(name) for name in self.book.sources), default=0)
        width = max(SOURCE_WIDTH[0], min(SOURCE_WIDTH[1], widest))
        if width != self._source_width:
            self._source_width = width
            self._cache.clear()
            self.refresh()
        if self.following:
            # The tail moves at most FOLLOW_FPS times a second, however fast lines come.
            if self._catch_up is None:
                # (At least a millisecond: a timer of 0 s divides by zero in Textual.)
                wait = max(0.001, self._caught_up + 1 / FOLLOW_FPS - time.monotonic())
                self._catch_up = self.set_timer(wait, self._follow_now)
            return
        with self._scrolling():
            self._resize()
            if dropped:
                # Keep the same lines in view while the oldest are dropped from memory.
                self._go(self.scroll_y - dropped)
        self.new_lines += added
        if dropped:
            self.refresh()

    def _follow_now(self) -> None:
        self._catch_up = None
        self._caught_up = time.monotonic()
        with self._scrolling():
            self._resize()
            if self.following:
                self._go(self.max_scroll_y)
        self.refresh()

    def reset(self, keep: LogLine | None) -> None:
        """The view was rebuilt (a filter changed): follow on, or stay near the line `keep`."""
        self._cache.clear()
        self.matched = -1
        with self._scrolling():
            self._resize()
            if self.following or keep is None:
                self._go(self.max_scroll_y)
            else:
                self._go(self.book.row_of(keep[SERIAL]))
                self.new_lines = max(0, len(self.book.view) - self._bottom_row() - 1)
        self._pin()
        self.refresh()

    def redraw(self) -> None:
        """Draw every row again (the search or the time zone changed)."""
        self._cache.clear()
        self.refresh()

    def follow(self) -> None:
        """Follow the newest line again; a selected line (or search match) is let go."""
        self.following = True
        self.new_lines = 0
        self.book.current = None
        self.matched = -1
        with self._scrolling():
            self._resize()
            self._go(self.max_scroll_y)

    def top_line(self) -> LogLine | None:
        """The line at the top of the view, or None when it is empty."""
        row = round(self.scroll_y)
        return self.book.view[row] if row < len(self.book.view) else None

    def show_match(self, row: int) -> None:
        """Make the match on `row` the current one and bring it into view; following pauses."""
        self.following = False
        self.book.go_to(row)
        self.matched = self.book.view[row][SERIAL]
        height = self.scrollable_content_region.height
        if not self.scroll_y <= row < self.scroll_y + height:
            with self._scrolling():
                self._go(row - height // 2)
        self.new_lines = max(0, len(self.book.view) - self._bottom_row() - 1)
        self._pin()
        self.refresh()

    # --- keys --------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # n / N step through matches only while there is a search: without one, n is the
        # screen's note key again.
        if action in ("match", "clear_search"):
            return bool(self.book.needle)
        return True

    def action_match(self, step: int) -> None:
        """Go to the next (`step` 1) or previous (-1) match from the cursor or the view."""
        current = self.book.current_row()
        if current is not None:
            start = current + step
        else:
            start = self._bottom_row() if step < 0 else round(self.scroll_y)
        row = self.book.find(start, step)
        if row is None:
            where = "below" if step > 0 else "above"
            self.notify(f"No match {where} for “{self.book.needle}”.", severity="warning")
            return
        self.show_match(row)

    def action_suspects(self) -> None:
        """Ask for the suspects of the selected line's trace, or of the newest error in view."""
        row = self.book.current_row()
        if row is None:
            row = self.book.last_error_row(self._bottom_row() + 1)
            if row is None:
                self.notify(
                    "No error line in view: click a line, or search for one with /.",
                    title="Suspects",
                    severity="warning",
                )
                return
            self.select_row(row)
        self.post_message(self.SuspectsWanted(self.book.trace_at(self.book.view[row][SERIAL])))

    def select_row(self, row: int) -> None:
        """Make `row` the selected line (as a search match is), pausing the tail on it."""
        self.show_match(row)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        row = round(self.scroll_y) + offset.y
        if row < len(self.book.view):
            self.select_row(row)

    def action_clear_search(self) -> None:
        """Ask the panel to forget the search."""
        self.post_message(self.SearchDismissed())

    def action_shift(self, step: int) -> None:
        """Move long lines sideways by `SHIFT` columns."""
        self.shift = max(0, self.shift + step * SHIFT)
        self.redraw()

    def action_scroll_end(self) -> None:
        self.follow()

    def action_scroll_home(self) -> None:
        self.scroll_to(y=0, animate=False)

    def action_scroll_up(self) -> None:
        self.scroll_to(y=self.scroll_y - 1, animate=False)

    def action_scroll_down(self) -> None:
        self.scroll_to(y=self.scroll_y + 1, animate=False)

    def action_page_up(self) -> None:
        self.scroll_to(y=self.scroll_y - self.scrollable_content_region.height, animate=False)

    def action_page_down(self) -> None:
        self.scroll_to(y=self.scroll_y + self.scrollable_content_region.height, animate=False)

    # --- following ---------------------------------------------------------------------------

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if self._moving:
            return
        # The reader moved: up pauses following; all the way down follows again.
        at_end = round(new_value) >= self.max_scroll_y
        if at_end and not self.following:
            self.follow()
        elif not at_end and self.following:
            self.following = False
            self.new_lines = 0
        self._pin()

    def watch_following(self) -> None:
        self._pin()

    def _pin(self) -> None:
        # What a paused reader has on screen must not be dropped from memory under them.
        top = None if self.following else self.top_line()
        self.book.pin = None if top is None else top[SERIAL]

    def on_resize(self, event: events.Resize) -> None:
        if self.scrollable_content_region.width != self._width:
            self._width = self.scrollable_content_region.width
            self._cache.clear()
        with self._scrolling():
            self._resize()
            if self.following:
                self._go(self.max_scroll_y)

    @contextmanager
    def _scrolling(self) -> Iterator[None]:
        moving, self._moving = self._moving, True
        try:
            yield
        finally:
            self._moving = moving

    def _go(self, row: float) -> None:
        self.scroll_to(y=max(0, row), animate=False, force=True)

    def _resize(self) -> None:
        size = Size(self.size.width, len(self.book.view))
        if size != self.virtual_size:
            # The view's own box never depends on how many rows it holds, so skip the
            # screen-wide layout a `virtual_size` change asks for (tens of ms, every frame at
            # high rates) and bring only the scrollbar up to date.
            self.set_reactive(LogView.virtual_size, size)
            self._scroll_update(size)

    def _bottom_row(self) -> int:
        return round(self.scroll_y) + self.scrollable_content_region.height - 1

    # --- drawing -----------------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        # Rows keep the colours they were drawn with: redraw when the theme changes them, but
        # not on every focus change, which lands here too. (Before the first draw, the
        # component styles may not exist yet: `render_line` reads them then.)
        if self._palette:
            self._read_palette()

    def _read_palette(self) -> None:
        palette = {name: self._style(name) for name in self.COMPONENT_CLASSES}
        if palette != self._palette:
            self._palette = palette
            self._base = Style()  # makes `render_lines` combine them with the base again

    def render_lines(self, crop: Region) -> list[Strip]:
        # What every row needs, worked out once a frame rather than once a row.
        if not self._palette:
            self._read_palette()
        base = self.rich_style
        if base != self._base or not self._styled:
            # Each component's style laid over the widget's own (its background): rows are
            # then made in one piece, without a pass to apply the base to every segment.
            self._base = base
            self._styled = {name: base + style for name, style in self._palette.items()}
            self._styled["text"] = base
            self._cache.clear()
        self._row_width = self.scrollable_content_region.width
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width = self._row_width
        row = round(self.scroll_y) + y
        view = self.book.view
        if row >= len(view):
            if y == 0 and not view:
                return self._hint(width)
            return Strip.blank(width, self._base)
        line = view[row]
        strip = self._cache.get(line[SERIAL])
        if strip is None:
            if len(self._cache) >= _CACHE:
                self._cache.clear()
            strip = self._cache[line[SERIAL]] = self._render_row(line, width)
        if line is self.book.current:
            # Over the row's own styles (whose background is the widget's), not under them.
            cursor = self._palette["logview--cursor"]
            return Strip([Segment(t, (s or Style()) + cursor) for t, s, _ in strip], width)
        return strip

    def _render_row(self, line: LogLine, width: int) -> Strip:
        styled = self._styled
        second = int(line[TS])
        if self._second[0] != second:
            when = datetime.fromtimestamp(line[TS], zone_or_utc(self.tz)).strftime("%H:%M:%S")
            self._second = (second, when)
        name = line[SOURCE]
        if len(name) > self._source_width:
            name = name[: self._source_width - 1] + "…"
        if line[CONT]:
            mark, text_style = "┆", styled["logview--trace"]
        elif line[SHOWN] >= ERROR:
            mark, text_style = "✖", styled["logview--error"]
        elif line[SHOWN] >= WARNING:
            mark, text_style = "▲", styled["logview--warning"]
        else:
            mark, text_style = " ", styled["text"]
        if line[STREAM]:
            bar = Segment("┃", styled["logview--stderr"])
        else:
            bar = Segment("│", styled["logview--stdout"])
        hint = styled["logview--hint"]
        text = line[TEXT][self.shift :] if self.shift else line[TEXT]
        segments = [
            Segment(self._second[1], styled["logview--time"]),
            Segment(" ", self._base),
            Segment(name.ljust(self._source_width), styled["logview--source"]),
            Segment(" ", self._base),
            bar,
            Segment(mark, text_style),
            Segment("‹" if self.shift else " ", hint),
        ]
        room = width - self._source_width - 13  # the columns left for the text
        if text.isascii() and room > 1:
            # The usual case, one character a cell: cut and pad by length, one Strip made.
            cut = len(text) > room
            shown = text[: room - 1] if cut else text
            segments.extend(self._text(shown, text_style, self.book.spans(text)))
            if cut:
                segments.append(Segment("…", hint))
            else:
                segments.append(Segment(" " * (room - len(shown)), self._base))
            return Strip(segments, width)
        segments.extend(self._text(text, text_style, self.book.spans(text)))
        strip = Strip(segments)
        if strip.cell_length > width:
            strip = Strip([*strip.crop(0, width - 1), Segment("…", hint)])
        return strip.crop_extend(0, width, self._base)

    def _text(self, text: str, style: Style, spans: list[tuple[int, int]]) -> list[Segment]:
        if not spans:
            return [Segment(text, style)]
        match = style + self._palette["logview--match"]
        out, at = [], 0
        for start, end in spans:
            if start >= len(text):
                break
            out.append(Segment(text[at:start], style))
            out.append(Segment(text[start:end], match))
            at = min(end, len(text))
        out.append(Segment(text[at:], style))
        return out

    def _hint(self, width: int) -> Strip:
        book = self.book
        if not book.lines:
            text = WAITING
        else:
            what = f"{book.source or 'every source'}, {book.level.label}"
            text = NO_MATCH.format(what=what)
        strip = Strip([Segment(text, self._palette["logview--hint"])])
        return strip.crop_extend(0, width, None).apply_style(self._base)

    def _style(self, component: str) -> Style:
        # Drop the background the theme gives a component, so a span never paints a band; the
        # cursor and a match keep theirs, as that is how they show.
        full = self.get_component_rich_style(component)
        if component in ("logview--cursor", "logview--match"):
            return full
        return Style(color=full.color, bold=full.bold, italic=full.italic, dim=full.dim)
