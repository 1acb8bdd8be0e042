"""The room's log backlog: lines in the room's SQLite file, kept to a retention limit.

Shares the journal's connection, so it runs on the same journal thread.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS log_lines (
    lseq INTEGER PRIMARY KEY, ts REAL NOT NULL, source TEXT NOT NULL, stream INTEGER NOT NULL,
    level INTEGER NOT NULL, text TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS log_sources (source TEXT PRIMARY KEY, next INTEGER NOT NULL);
"""

LogRow = tuple[int, float, str, int, int, str]  # lseq, ts, source, stream, level, text


class LogStore:
    """Append, read back and prune one room's log lines."""

    def __init__(self, db: sqlite3.Connection, retention: int) -> None:
        self._db = db
        self.retention = retention
        db.executescript(_SCHEMA)

    def head(self) -> int:
        """The last log sequence number stored, 0 when there are none."""
        return int(self._db.execute("SELECT COALESCE(MAX(lseq), 0) FROM log_lines").fetchone()[0])

    def sources(self) -> dict[str, int]:
        """The next expected offset of every source ever fed."""
        return {s: int(n) for s, n in self._db.execute("SELECT source, next FROM log_sources")}

    def append(self, rows: Sequence[LogRow], nexts: dict[str, int]) -> None:
        """Store lines and the sources' new offsets in one durable transaction, then prune."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany("INSERT INTO log_lines VALUES (?, ?, ?, ?, ?, ?)", rows)
            db.executemany(
                "INSERT INTO log_sources VALUES (?, ?) "
                "ON CONFLICT(source) DO UPDATE SET next = excluded.next",
                list(nexts.items()),
            )
            if rows:
                db.execute("DELETE FROM log_lines WHERE lseq <= ?", (rows[-1][0] - self.retention,))
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    def after(self, lseq: int, upto: int, limit: int) -> list[list[Any]]:
        """Up to `limit` lines in (`lseq`, `upto`], the most recent ones when there are more."""
        rows = self._db.execute(
            "SELECT * FROM (SELECT * FROM log_lines WHERE lseq > ? AND lseq <= ?"
            " ORDER BY lseq DESC LIMIT ?) ORDER BY lseq",
            (lseq, upto, limit),
        )
        return [list(r) for r in rows]
