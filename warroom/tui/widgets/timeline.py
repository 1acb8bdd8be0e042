"""The timeline: every event in the room as a timestamped sentence, newest at the bottom.

A Line API widget: each entry is wrapped once (with a hanging indent under its time) into
strips that are kept until the width or the clock zone changes, so a snapshot of hundreds of
events or a resize costs milliseconds, and scrolling costs nothing.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime

from rich.style import Style
from rich.text import Text
from textual import events
from textual.geometry import Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from warroom.core import Event, describe
from warroom.timezones import zone_or_utc

MAX_ENTRIES = 2000
# Kinds that are bookkeeping rather than acts; they read in a quieter style.
QUIET = frozenset({"joined", "left", "presence_reset"})
TIME_WIDTH = 6  # "HH:MM "
EARLIER = "⋯ earlier events are not shown here"


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of the timeline: the event's sequence number, time, kind, actor and sentence."""

    seq: int
    ts: float
    kind: str
    actor: str
    text: str


class Timeline(ScrollView, can_focus=True):
    """A bounded log of the room's events that follows the newest; `utc` switches the clock."""

    COMPONENT_CLASSES = {
        "timeline--time",
        "timeline--actor",
        "timeline--quiet",
        "timeline--day",
    }

    utc: reactive[bool] = reactive(False)

    def __init__(self, viewer_tz: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.viewer_tz = viewer_tz
        self.entries: deque[Entry] = deque()
        self._strips: list[Strip] = []
        # How many strips each entry took (its day rule included), parallel to `entries`.
        self._heights: deque[int] = deque()
        self._preamble = 0  # strips above the first entry: the "earlier events" line
        # The first sequence number we know of; above 1 means older events exist but are not shown.
        self._horizon = 1
        self._width = 0
        self._palette: tuple[Style, ...] = ()
        self.border_title = "Timeline"

    @property
    def zone(self) -> str:
        """The zone the timestamps are shown in."""
        return "UTC" if self.utc else self.viewer_tz

    @property
    def line_count(self) -> int:
        """Screen lines held, day rules and wrapped lines included."""
        return len(self._strips)

    def rebuild(self, events: list[tuple[int, Event]]) -> None:
        """Replace everything with `events` (a snapshot's recent history)."""
        self.entries.clear()
        self._horizon = events[0][0] if events else 1
        self.entries.extend(self._entries(events)[-MAX_ENTRIES:])
        self._render_all()

    def add(self, events: list[tuple[int, Event]]) -> None:
        """Append newly applied events; the view follows them unless scrolled up."""
        last_seq = self.entries[-1].seq if self.entries else 0
        for entry in self._entries(events):
            if entry.seq <= last_seq:
                continue  # already shown: a replayed event must never print twice
            if len(self.entries) == MAX_ENTRIES:
                self._drop_oldest()
            before = self.entries[-1] if self.entries else None
            self.entries.append(entry)
            strips = self._render_entry(entry, before)
            self._strips.extend(strips)
            self._heights.append(len(strips))
            last_seq = entry.seq
        self._resized()

    def watch_utc(self) -> None:
        self.border_subtitle = f"times in {self.zone} · t switches"
        self._render_all()

    def on_mount(self) -> None:
        self.border_subtitle = f"times in {self.zone} · t switches"
        # Anchored, the view stays on the newest line through writes and resizes; scrolling up
        # releases it, and scrolling back to the end (End) anchors it again.
        self.anchor()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        # Strips keep the colours they were drawn with: redraw when the theme changes them,
        # but not on every focus change, which also lands here.
        if self._width and self._current_palette() != self._palette:
            self._render_all()

    def on_resize(self, event: events.Resize) -> None:
        if self.scrollable_content_region.width != self._width:
            self._render_all()

    def render_line(self, y: int) -> Strip:
        index = round(self.scroll_offset.y) + y
        width = self.scrollable_content_region.width
        if index >= len(self._strips):
            return Strip.blank(width, self.rich_style)
        return (
            self._strips[index].crop_extend(0, width, self.rich_style).apply_style(self.rich_style)
        )

    # --- rendering -------------------------------------------------------------------------

    def _entries(self, events: list[tuple[int, Event]]) -> list[Entry]:
        out = []
        for seq, event in events:
            text = describe(event)
            if text:
                out.append(Entry(seq, event.ts, event.kind, event.actor, text))
        return out

    def _render_all(self) -> None:
        self._width = self.scrollable_content_region.width
        self._strips, self._heights = [], deque()
        self._preamble = 0
        if not self._width:
            return  # not laid out yet; the first resize renders
        self._palette = self._current_palette()
        first = self.entries[0].seq if self.entries else self._horizon
        if min(first, self._horizon) > 1:
            self._strips.append(
                self._line(Text.assemble((EARLIER, self._style("timeline--quiet"))))
            )
            self._preamble = 1
        before = None
        for entry in self.entries:
            strips = self._render_entry(entry, before)
            self._strips.extend(strips)
            self._heights.append(len(strips))
            before = entry
        self._resized()

    def _drop_oldest(self) -> None:
        self.entries.popleft()
        start, height = self._preamble, self._heights.popleft()
        del self._strips[start : start + height]
        if not self._preamble:
            self._strips.insert(
                0, self._line(Text.assemble((EARLIER, self._style("timeline--quiet"))))
            )
            self._preamble = 1
        if self.entries and self._width:
            # The new first entry may have shared its day rule with the one just dropped.
            start, strips = self._preamble, self._render_entry(self.entries[0], None)
            self._strips[start : start + self._heights[0]] = strips
            self._heights[0] = len(strips)

    def _resized(self) -> None:
        self.virtual_size = Size(self._width, len(self._strips))
        self.refresh()

    def _render_entry(self, entry: Entry, before: Entry | None) -> list[Strip]:
        if not self._width:
            return []
        zone = zone_or_utc(self.zone)
        when = datetime.fromtimestamp(entry.ts, zone)
        strips = []
        if before is None or datetime.fromtimestamp(before.ts, zone).date() != when.date():
            strips.append(self._rule(f" {when:%a %d %b %Y} "))
        time_style = self._style("timeline--time")
        body_width = max(10, self._width - TIME_WIDTH)
        console = self.app.console
        for n, line in enumerate(self._text(entry).wrap(console, body_width)):
            prefix = f"{when:%H:%M} " if n == 0 else " " * TIME_WIDTH
            strips.append(self._line(Text.assemble((prefix, time_style), line)))
        return strips

    def _rule(self, title: str) -> Strip:
        left = max(0, (self._width - len(title)) // 2)
        right = max(0, self._width - left - len(title))
        rule = "─" * left + title + "─" * right
        return self._line(Text.assemble((rule, self._style("timeline--day"))))

    def _line(self, text: Text) -> Strip:
        # Text.render ignores a Text's base style: every style here must be a span.
        return Strip(list(text.render(self.app.console)))

    def _text(self, entry: Entry) -> Text:
        quiet = entry.kind in QUIET
        text = Text(entry.text)
        if quiet:
            text.stylize(self._style("timeline--quiet"))
        if entry.actor and entry.text.startswith(entry.actor):
            actor = self._style("timeline--actor")
            # On a quiet line the name keeps its weight but not its colour, so the line stays dim.
            text.stylize(actor.without_color if quiet else actor, 0, len(entry.actor))
        return text

    def _current_palette(self) -> tuple[Style, ...]:
        return tuple(self._style(name) for name in sorted(self.COMPONENT_CLASSES))

    def _style(self, component: str) -> Style:
        # The full style resolves theme colours such as "auto 60%"; drop its background so a
        # styled span never paints a band across the panel.
        full = self.get_component_rich_style(component)
        return Style(color=full.color, bold=full.bold, italic=full.italic)
