"""The client's log lines as data: a bounded store, stack traces grouped, filters, search, rates.

No Textual here: the log view renders whatever `Logbook.view` holds, so every rule about which
line shows (a filter, a trace kept whole, what is dropped when memory is full) is tested as
plain Python.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import deque
from collections.abc import Iterable, Sequence
from enum import IntEnum
from itertools import islice
from typing import Any, Final

from warroom.core.text import clean
from warroom.logtext import ERROR, INFO, WARNING, continues_trace

MAX_LINES = 20_000  # lines kept in memory; the oldest go first
# While the reader is paused on a line, it and everything after it are kept too, up to this
# many lines in all: at 2,500 lines/s the 20,000 would otherwise drop the page being read
# within 8 seconds.
MAX_PINNED = 100_000
TRACE_LINES = 200  # frames taken from one trace for the suspects, at most
RATE_WINDOW = 5  # whole seconds a source's line rate is averaged over (and the one under way)
# PHP prints this between a fatal error and its frames; `continues_trace` does not know it.
_PHP_STACK = re.compile(r"^(PHP )?Stack trace:$")


class Level(IntEnum):
    """The level filter: the least a line's level must be to show."""

    ALL = INFO
    WARNINGS = WARNING
    ERRORS = ERROR

    @property
    def label(self) -> str:
        """How the filter reads in the panel's border."""
        return {Level.ALL: "every level", Level.WARNINGS: "warnings+", Level.ERRORS: "errors"}[self]

    def next(self) -> Level:
        """The next filter in the cycle: every level, warnings and errors, errors only."""
        return {Level.ALL: Level.WARNINGS, Level.WARNINGS: Level.ERRORS}.get(self, Level.ALL)


# One line as received, with what the client worked out about it, as a plain tuple indexed
# by the names below. A plain tuple of plain values is one the garbage collector stops
# tracking; with 20,000 to 100,000 lines alive and thousands replaced every second, objects of
# a class of our own (a NamedTuple is one too) made every full collection a pause of 50-100 ms.
LogLine = tuple[int, float, str, int, int, int, bool, str]
SERIAL: Final = 0  # the client's own running number, oldest first (the hub's restarts with epochs)
TS: Final = 1
SOURCE: Final = 2
STREAM: Final = 3  # 0 stdout or a file, 1 stderr
LEVEL: Final = 4  # the line's own level, as the hub classified it
SHOWN: Final = 5  # the level filters see: for a trace frame, its error line's
CONT: Final = 6  # continues the stack trace started above it (same source and stream)
TEXT: Final = 7


class Logbook:
    """The last `limit` lines, the filtered view over them, a search, and lines/s per source."""

    def __init__(self, limit: int = MAX_LINES, pinned_limit: int = MAX_PINNED) -> None:
        self.limit = limit
        self.pinned_limit = max(limit, pinned_limit)
        self.pin: int | None = None  # the serial of the first line the reader must keep
        self.lines: deque[LogLine] = deque()
        self.view: deque[LogLine] = deque()  # the lines the filters let through, in order
        self.source: str | None = None  # the one source shown, or None for all
        self.level = Level.ALL
        self.needle = ""
        self.matches = 0  # lines in the view matching the search
        self.current: LogLine | None = None  # the match the reader went to with n / N
        self._below = 0  # matches in the view after `current`
        self.received = 0
        self.sources: dict[str, int] = {}  # every source seen -> lines kept
        self._serial = 0
        # (source, stream) -> the level of the trace being printed there, INFO when none is.
        self._trace: dict[tuple[str, int], int] = {}
        # Rates go by the hub's time stamps, so a joiner's backlog counts where it belongs:
        # source -> [second, lines] buckets, and the newest stamp with when it arrived here.
        self._rates: dict[str, deque[list[int]]] = {}
        self._newest = (0.0, 0.0)

    # --- arrivals ----------------------------------------------------------------------------

    def add(self, raw: Iterable[Sequence[Any]], now: float) -> tuple[int, int]:
        """Take hub lines `[lseq, ts, source, stream, level, text]` arriving at `now`.

        Returns (lines appended to the view, lines dropped from the front of the view).
        """
        added = 0
        view, lines, trace = self.view, self.lines, self._trace
        source_filter, level_filter = self.source, int(self.level)
        needle = self.needle
        serial = self._serial
        # Runs of lines with one source and one stamp (the hub stamps a feeder's frame once)
        # are counted once, for the sources' tallies and their rates.
        runs: list[tuple[str, float, int]] = []
        run_source, run_ts, run = "", -1.0, 0
        for _lseq, ts, source, stream, level, text in raw:
            if not text.isprintable():
                # The hub cleans lines as they come in; a backlog an older hub stored may still
                # hold a bidi override, and nothing from the wire reaches the screen uncleaned.
                text = clean(text)
            key = (source, stream)
            head = trace.get(key, INFO)
            # Only a line under an error or warning can continue its trace: the regex is skipped
            # for the ordinary run of lines.
            if head > INFO and (continues_trace(text) or _PHP_STACK.match(text) is not None):
                shown = max(level, head)
                line: LogLine = (serial, ts, source, stream, level, shown, True, text)
            else:
                line = (serial, ts, source, stream, level, level, False, text)
                trace[key] = level
            serial += 1
            lines.append(line)
            if (source_filter is None or source == source_filter) and line[SHOWN] >= level_filter:
                view.append(line)
                added += 1
                if needle and self._hit(line):
                    self.matches += 1
                    self._below += 1
            if ts != run_ts or source != run_source:
                if run:
                    runs.append((run_source, run_ts, run))
                run_source, run_ts, run = source, ts, 0
            run += 1
        if run:
            runs.append((run_source, run_ts, run))
        self._serial = self.received = serial
        self._count(runs, now)
        return added, self._trim()

    def _trim(self) -> int:
        dropped = 0
        lines, view, pin = self.lines, self.view, self.pin
        while len(lines) > self.limit:
            if pin is not None and lines[0][SERIAL] >= pin and len(lines) <= self.pinned_limit:
                break
            old = lines.popleft()
            self.sources[old[SOURCE]] -= 1
            if old is self.current:
                self.current = None
            if view and view[0] is old:
                view.popleft()
                dropped += 1
                if self.needle and self._hit(old):
                    self.matches -= 1
        return dropped

    # --- filters -----------------------------------------------------------------------------

    def set_filter(self, source: str | None, level: Level) -> None:
        """Show only `source` (None: every source) at `level` or above, and rebuild the view."""
        self.source, self.level = source, level
        floor = int(level)
        self.view = deque(
            line
            for line in self.lines
            if (source is None or line[SOURCE] == source) and line[SHOWN] >= floor
        )
        self.matches = self._count_matches()
        self.current = None

    def next_source(self) -> str | None:
        """The source after the one shown, in the order first seen; None (all) after the last."""
        names = list(self.sources)
        if self.source is None:
            return names[0] if names else None
        at = names.index(self.source) if self.source in names else len(names)
        return names[at + 1] if at + 1 < len(names) else None

    # --- search ------------------------------------------------------------------------------

    def search(self, needle: str) -> int:
        """Highlight `needle` (smart case: any capital makes it case-sensitive); the count."""
        self.needle = needle
        self.matches = self._count_matches()
        self.current = None
        return self.matches

    @property
    def case_sensitive(self) -> bool:
        """Whether the search heeds case: it does once the needle has a capital in it."""
        return self.needle != self.needle.lower()

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Where the search matches in `text`, as (start, end) pairs."""
        needle = self.needle
        if not needle:
            return []
        hay = text if self.case_sensitive else text.lower()
        found, at = [], hay.find(needle)
        while at >= 0:
            found.append((at, at + len(needle)))
            at = hay.find(needle, at + len(needle))
        return found

    def find(self, start: int, step: int) -> int | None:
        """The first row from `start` (inclusive) going `step` (+1 down, -1 up) that matches."""
        if not self.needle:
            return None
        view, last = self.view, len(self.view) - 1
        start = max(0, min(start, last))
        # Iterate rather than index: a deque's indexing walks from an end each time.
        if step > 0:
            for row, line in enumerate(islice(view, start, None), start):
                if self._hit(line):
                    return row
        else:
            for back, line in enumerate(islice(reversed(view), last - start, None)):
                if self._hit(line):
                    return start - back
        return None

    def go_to(self, row: int) -> None:
        """Make the match on `row` the current one."""
        self.current = self.view[row]
        self._below = sum(1 for line in islice(self.view, row + 1, None) if self._hit(line))

    @property
    def ordinal(self) -> int:
        """Which match the current one is, counting from the oldest; 0 when there is none."""
        return self.matches - self._below if self.current is not None else 0

    def current_row(self) -> int | None:
        """The row of the current match, or None when there is none (or it was dropped)."""
        if self.current is None:
            return None
        row = self.row_of(self.current[SERIAL])
        return row if row < len(self.view) and self.view[row] is self.current else None

    def _hit(self, line: LogLine) -> bool:
        if self.case_sensitive:
            return self.needle in line[TEXT]
        return self.needle in line[TEXT].lower()

    def _count_matches(self) -> int:
        if not self.needle:
            return 0
        return sum(1 for line in self.view if self._hit(line))

    # --- stack traces ------------------------------------------------------------------------

    def trace_at(self, serial: int, limit: int = TRACE_LINES) -> str:
        """The stack trace the line `serial` belongs to, as text: its error line and frames.

        Lines of other sources printed in between are left out; a line outside any trace is
        returned alone (a fatal error with a file and line is evidence enough).
        """
        lines = self.lines
        at = bisect_left(lines, serial, key=lambda line: line[SERIAL])
        if at >= len(lines) or lines[at][SERIAL] != serial:
            return ""
        key = (lines[at][SOURCE], lines[at][STREAM])
        start = at
        while lines[start][CONT]:  # back up to the line that opened the trace
            earlier = next(
                (
                    i
                    for i in range(start - 1, -1, -1)
                    if (lines[i][SOURCE], lines[i][STREAM]) == key
                ),
                None,
            )
            if earlier is None:
                break
            start = earlier
        picked = [lines[start][TEXT]]
        for line in islice(lines, start + 1, None):
            if (line[SOURCE], line[STREAM]) != key:
                continue
            if not line[CONT] or len(picked) >= limit:
                break
            picked.append(line[TEXT])
        return "\n".join(picked)

    def last_error_row(self, before: int) -> int | None:
        """The row of the newest error line (not a frame) in the view above row `before`."""
        view = self.view
        for row in range(min(before, len(view)) - 1, -1, -1):
            line = view[row]
            if line[LEVEL] >= ERROR and not line[CONT]:
                return row
        return None

    # --- positions ---------------------------------------------------------------------------

    def row_of(self, serial: int) -> int:
        """The row of the line `serial` in the view, or of the first line after it."""
        return bisect_left(self.view, serial, key=lambda line: line[SERIAL])

    # --- rates -------------------------------------------------------------------------------

    def _count(self, runs: list[tuple[str, float, int]], now: float) -> None:
        if not runs:
            return
        newest = max(ts for _, ts, _ in runs)
        if newest >= self._newest[0]:
            self._newest = (newest, now)
        oldest = int(newest) - RATE_WINDOW - 1
        for source, ts, count in runs:
            self.sources[source] = self.sources.get(source, 0) + count
            second = int(ts)
            buckets = self._rates.setdefault(source, deque())
            if buckets and buckets[-1][0] == second:
                buckets[-1][1] += count
            elif second > oldest:
                buckets.append([second, count])
            while buckets and buckets[0][0] < oldest:
                buckets.popleft()

    def rate(self, source: str, now: float) -> float:
        """Lines per second from `source` over the last `RATE_WINDOW` seconds and this one.

        "Now" on the hub's clock is the newest stamp plus the time since it arrived: no clock
        skew between the hub and this machine can show up in a rate.
        """
        stamp, arrived = self._newest
        hub_now = stamp + max(0.0, now - arrived)
        start = int(hub_now) - RATE_WINDOW
        buckets = self._rates.get(source, ())
        return sum(count for second, count in buckets if second >= start) / (hub_now - start)
