"""The hub's log throttle: a few records of a kind per interval, the rest counted."""

from __future__ import annotations

import logging

import pytest

from server.main import Throttle


def record(msg: str, *args: object, exc: bool = False) -> logging.LogRecord:
    info = None
    if exc:
        try:
            raise OSError(24, "Too many open files")
        except OSError as error:
            info = (OSError, error, error.__traceback__)
    return logging.LogRecord("warroom.hub", logging.WARNING, "x", 1, msg, args, info)


def test_one_kind_passes_a_few_times_an_interval_and_then_says_how_many_were_held(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [1000.0]
    monkeypatch.setattr("server.main.time.monotonic", lambda: now[0])
    throttle = Throttle(interval=10, burst=3, ceiling=100)
    first = record("accept failed: %s", "EMFILE", exc=True)
    assert throttle.filter(first) and first.exc_info is not None
    passed = [throttle.filter(r) for r in [record("accept failed: %s", "EMFILE", exc=True)] * 50]
    assert passed.count(True) == 2  # 3 in all this interval
    now[0] += 11
    later = record("accept failed: %s", "EMFILE")
    assert throttle.filter(later)
    assert later.getMessage() == "accept failed: EMFILE [48 more like it before]"


def test_one_noisy_name_does_not_hide_the_others_but_a_flood_of_names_is_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("server.main.time.monotonic", lambda: 5.0)
    throttle = Throttle(interval=10, burst=2, ceiling=30)
    noisy = sum(throttle.filter(record("refused %s: %s", "eve", "bad token")) for _ in range(100))
    ana = throttle.filter(record("refused %s: %s", "ana", "expired"))
    assert (noisy, ana) == (2, True)
    many = sum(throttle.filter(record("refused %s: %s", f"n{i}", "bad")) for i in range(500))
    assert many == 30 - 3  # the template's ceiling, counting the three that passed before


def test_records_below_warning_always_pass() -> None:
    throttle = Throttle(interval=10, burst=1)
    info = logging.LogRecord("warroom.hub", logging.INFO, "x", 1, "raised %s", ("x",), None)
    assert all(throttle.filter(info) for _ in range(10))
