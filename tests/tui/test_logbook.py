"""The log panel's data without a screen: traces kept whole, filters, search, memory, rates."""

from __future__ import annotations

from tests.tui.log_fixture import PHP_FATAL, PY_TRACE, STDERR, STDOUT, hub_lines, morning
from warroom.logtext import ERROR
from warroom.tui.logbook import CONT, LEVEL, SERIAL, SHOWN, SOURCE, TEXT, Level, Logbook

T0 = 1_773_480_600.0  # 2026-03-14 09:30 UTC


def texts(book: Logbook) -> list[str]:
    return [line[TEXT] for line in book.view]


def test_errors_filter_keeps_each_stack_trace_whole() -> None:
    book = Logbook()
    book.add(morning(T0), T0 + 60)
    book.set_filter(None, Level.ERRORS)
    shown = texts(book)
    # The PHP fatal with its "Stack trace:" and frames, the Python traceback from its first
    # line to the exception, and the rsync error: nothing else, and nothing cut.
    assert shown == [*PHP_FATAL, *PY_TRACE, "mw1315: ERROR: rsync failed with exit 23 for l10n"]
    frames = [line for line in book.view if line[CONT]]
    assert {line[LEVEL] for line in frames} == {0}, "the hub saw the frames as plain lines"
    assert all(line[SHOWN] == ERROR for line in frames)


def test_a_trace_is_followed_on_its_own_source_and_stream() -> None:
    # stdout lines of the same source, and another source, come between a trace's lines.
    lines = hub_lines(
        [
            ("scap", PY_TRACE[0], STDERR),
            ("scap", "progress 40%", STDOUT),
            ("sync", "  indented, but sync is in no trace", STDOUT),
            ("scap", PY_TRACE[1], STDERR),
            ("scap", PY_TRACE[2], STDERR),
            ("scap", "  indented on stdout, in no trace", STDOUT),
        ],
        T0,
    )
    book = Logbook()
    book.add(lines, T0)
    book.set_filter(None, Level.ERRORS)
    assert texts(book) == PY_TRACE[:3]


def test_warnings_filter_and_source_filter() -> None:
    book = Logbook()
    book.add(morning(T0), T0)
    book.set_filter(None, Level.WARNINGS)
    assert "mw1306: WARNING: sync-file took 7s, slower than usual" in texts(book)
    assert len(texts(book)) == len(PHP_FATAL) + len(PY_TRACE) + 2
    book.set_filter("scap", Level.ALL)
    assert texts(book)[0] == "sync-masters: 1/3 masters done"
    assert {line[SOURCE] for line in book.view} == {"scap"}
    assert book.next_source() is None, "after the last source comes every source"
    book.set_filter(None, Level.ALL)
    assert book.next_source() == "sync"


def test_memory_is_bounded_and_a_paused_reader_keeps_their_page() -> None:
    book = Logbook(limit=100, pinned_limit=250)
    many = hub_lines([("sync", f"line {n}", STDOUT) for n in range(1, 401)], T0)
    added, dropped = book.add(many[:150], T0)
    assert (added, dropped) == (150, 50)
    assert len(book.lines) == 100 and book.view[0][TEXT] == "line 51"
    book.pin = book.view[10][SERIAL]  # a reader paused on "line 61"
    book.add(many[150:300], T0)
    assert book.view[0][TEXT] == "line 61", "the page being read stays in memory"
    assert len(book.lines) == 240
    book.add(many[300:], T0)
    assert len(book.lines) == 250, "but never beyond the hard limit"
    book.pin = None
    book.add([], T0)
    assert len(book.lines) == 100 and book.view[-1][TEXT] == "line 400"
    assert book.sources == {"sync": 100}


def test_search_counts_and_steps_through_matches_smart_case() -> None:
    book = Logbook()
    book.add(morning(T0), T0)
    assert book.search("sync-masters") == 2
    first = book.find(0, +1)
    assert first is not None and book.view[first][TEXT].startswith("sync-masters: 1/3")
    second = book.find(first + 1, +1)
    assert second is not None and book.view[second][TEXT].startswith("sync-masters: 2/3")
    assert book.find(second + 1, +1) is None
    assert book.find(len(book.view) - 1, -1) == second
    book.go_to(second)
    assert book.ordinal == 2
    assert book.spans("x sync-masters y") == [(2, 14)]
    assert book.search("syncerror") == 2, "lower case: any case matches"
    assert book.search("SyncError") == 2
    assert book.search("SYNCERROR") == 0, "a capital: case matters"


def test_rates_follow_the_hubs_clock_and_fade() -> None:
    book = Logbook()
    # 100 lines a second for 10 s, stamped by the hub; they arrive here a minute later (a
    # joiner's backlog, or a clock a minute off): the rate is still 100/s.
    lines = hub_lines([("sync", f"l{n}", STDOUT) for n in range(1000)], T0, step=0.01)
    book.add(lines, T0 + 70)
    assert 95 <= book.rate("sync", T0 + 70) <= 105
    assert book.rate("sync", T0 + 80) == 0.0, "ten seconds of silence later"
    assert book.rate("scap", T0 + 70) == 0.0


def test_the_trace_of_a_line_is_its_error_line_and_frames_on_its_own_stream() -> None:
    php = [("group1", text, STDERR) for text in PHP_FATAL]
    lines = hub_lines(
        [
            ("group1", "sync ok", STDOUT),
            php[0],
            ("sync", "mw1301: ok", STDOUT),  # another source, in between
            php[1],
            ("group1", "progress 40%", STDOUT),  # the same source on stdout, in between
            *php[2:],
            ("group1", "PHP Warning: something else in /srv/x.php on line 3", STDERR),
        ],
        T0,
    )
    book = Logbook()
    book.add(lines, T0)
    head, frame = book.lines[1][SERIAL], book.lines[5][SERIAL]
    assert book.trace_at(head) == "\n".join(PHP_FATAL)
    assert book.trace_at(frame) == "\n".join(PHP_FATAL)  # from a frame, back to its error
    assert book.trace_at(book.lines[0][SERIAL]) == "sync ok"  # a line in no trace, alone
    assert book.trace_at(10_000) == ""
    # The newest error in view above a row: the fatal, not the warning's row itself.
    warning_row = len(book.view) - 1
    assert book.last_error_row(warning_row) == 1
    assert book.last_error_row(1) is None
