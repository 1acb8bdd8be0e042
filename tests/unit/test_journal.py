"""The SQLite journal: durable groups, epochs, command ids."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.journal import CommandRecord, Entry, Journal
from warroom.core import Event


def entries(start: int, count: int) -> list[Entry]:
    return [
        Entry(start + i, Event("note", float(i), "ana", {"text": f"n{i}"})) for i in range(count)
    ]


def test_commit_and_read_back(tmp_path: Path) -> None:
    j = Journal(tmp_path / "r.db")
    j.commit(entries(1, 3), [CommandRecord("ana", "c1", 3)])
    j.commit(entries(4, 2), [])
    assert j.head() == 5
    assert [e.seq for e in j.entries(after=2)] == [3, 4, 5]
    assert [e.seq for e in j.batch(3, 5, 10)] == [4, 5]
    assert [e.seq for e in j.entries(after=1, upto=3)] == [2, 3]
    assert list(j.commands()) == [CommandRecord("ana", "c1", 3)]
    assert next(j.entries()).event == Event("note", 0.0, "ana", {"text": "n0"})
    epoch = j.epoch
    j.close()
    again = Journal(tmp_path / "r.db")
    assert again.epoch == epoch and again.head() == 5


def test_new_journal_new_epoch(tmp_path: Path) -> None:
    assert Journal(tmp_path / "a.db").epoch != Journal(tmp_path / "b.db").epoch


def test_failed_group_writes_nothing(tmp_path: Path) -> None:
    j = Journal(tmp_path / "r.db")
    j.commit(entries(1, 2), [])
    with pytest.raises(Exception, match="UNIQUE"):
        j.commit(entries(3, 2) + entries(2, 1), [CommandRecord("ana", "x", 4)])
    assert j.head() == 2
    assert list(j.commands()) == []


def test_wal_mode_and_full_sync(tmp_path: Path) -> None:
    import sqlite3

    Journal(tmp_path / "r.db")
    db = sqlite3.connect(tmp_path / "r.db")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
