"""Log line safety and levels, and error-spike detection (time is an input: no sleeping)."""

from __future__ import annotations

from server.spikes import SpikeDetector
from warroom import logtext


def test_binary_junk_and_escapes_are_made_safe() -> None:
    assert logtext.clean(b"ok \xff\xfe junk\r\n") == "ok \ufffd\ufffd junk"
    assert logtext.clean("\x1b[31mred\x1b[0m \x07bell") == "red \ufffdbell"
    assert logtext.clean("tab\tkept") == "tab\tkept"


def test_long_lines_are_cut_with_a_marker() -> None:
    line = logtext.clean("x" * 5000)
    assert line.startswith("x" * logtext.MAX_LINE)
    assert line.endswith("…[3000 more characters cut]")


def test_levels() -> None:
    assert logtext.level("PHP Fatal error:  Uncaught Error: boom") == logtext.ERROR
    assert logtext.level("Traceback (most recent call last):") == logtext.ERROR
    assert logtext.level("java.lang.NullPointerException: x") == logtext.ERROR
    assert logtext.level("TypeError: undefined is not a function") == logtext.ERROR
    assert logtext.level("0 errors, 12 files synced") == logtext.INFO
    assert logtext.level("WARNING: mw1234 is slow") == logtext.WARNING
    assert logtext.level("sync-masters: 100% (ok: 5; fail: 0)") == logtext.INFO


def test_trace_continuations() -> None:
    for line in [
        "  at com.acme.Foo.bar(Foo.java:10)",
        "#0 /srv/w/includes/Foo.php(12): x()",
        '  File "/app/x.py", line 3, in f',
        "Caused by: java.io.IOException",
    ]:
        assert logtext.continues_trace(line), line
    assert not logtext.continues_trace("sync-apaches: 98% (ok: 340; fail: 0)")


def test_a_spike_against_a_quiet_baseline_alerts_once() -> None:
    spikes = SpikeDetector(factor=10, floor=20)
    now = 1000.0
    for _ in range(120):  # ten quiet minutes: one error every 5 s = 12/min
        assert spikes.observe("group1", now, 1) is None
        now += 5
    alerts = []
    for _ in range(12):  # a minute at 20 errors every 5 s = 240/min
        text = spikes.observe("group1", now, 20)
        if text:
            alerts.append(text)
        now += 5
    assert len(alerts) == 1
    assert alerts[0].startswith("error rate on group1 logs ")
    assert "× baseline" in alerts[0]


def test_a_steady_high_rate_is_the_baseline_not_a_spike() -> None:
    spikes = SpikeDetector(factor=5, floor=20)
    now = 0.0
    alerts = 0
    for _ in range(400):
        alerts += spikes.observe("noisy", now, 5) is not None  # 60/min, always
        now += 5
    assert alerts == 0  # the first minute teaches the baseline


def test_below_the_floor_never_alerts_and_sources_are_separate() -> None:
    spikes = SpikeDetector(factor=2, floor=50)
    assert spikes.observe("a", 0.0, 0) is None
    assert all(spikes.observe("a", float(t), 3) is None for t in range(60, 300, 5))  # 36/min
    assert spikes.rate("b", 60.0) == 0.0


def test_it_rearms_after_calming_down() -> None:
    spikes = SpikeDetector(factor=10, floor=20)
    now, seen = 0.0, 0
    for _ in range(24):
        spikes.observe("s", now, 0)
        now += 5
    for burst in (True, False, True):
        for _ in range(24):
            seen += spikes.observe("s", now, 30 if burst else 0) is not None
            now += 5
    assert seen == 2


def test_the_fast_path_gives_the_same_level_as_the_patterns() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    words = st.sampled_from(
        [
            "ERROR",
            "err",
            "Fatal error",
            "warn",
            "Notice",
            "failed",
            "ok",
            "NullPointerException:",
            "TypeError:",
            "sync",
            "100%",
            "é",
            "Ünhandled",
        ]
    )

    @settings(max_examples=300, deadline=None)
    @given(st.lists(st.one_of(words, st.text(max_size=8)), max_size=8))
    def same(parts: list[str]) -> None:
        text = " ".join(parts)
        slow = (
            logtext.ERROR
            if logtext._ERROR.search(text)
            else logtext.WARNING
            if logtext._WARNING.search(text)
            else logtext.INFO
        )
        assert logtext.level(text) == slow

    same()


def test_cleaning_twice_changes_nothing() -> None:
    once = logtext.clean(b"\xff" + b"y" * 9000)
    assert logtext.clean(once) == once
