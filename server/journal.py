"""The per-room event journal: an SQLite file in WAL mode, one transaction per group commit.

Each room gets its own file, so rooms commit in parallel and can be reset one at a time.
Every call blocks; the hub runs them on one thread per room.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgpack

from warroom.core import Event

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY, ts REAL NOT NULL, kind TEXT NOT NULL, actor TEXT NOT NULL,
    data BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS commands (
    actor TEXT NOT NULL, id TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (actor, id)
) WITHOUT ROWID;
"""


@dataclass(frozen=True, slots=True)
class Entry:
    """One journaled event with its sequence number."""

    seq: int
    event: Event


@dataclass(frozen=True, slots=True)
class CommandRecord:
    """A command that was acknowledged: who sent it, its id, and the seq its ack named."""

    actor: str
    id: str
    seq: int


class Journal:
    """An append-only, durable log of one room's events."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, one per group commit.
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit is on disk before it returns, so an ack never outlives a power cut.
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        row = self._db.execute("SELECT value FROM meta WHERE key='epoch'").fetchone()
        if row is None:
            self.epoch = secrets.token_hex(8)
            self._db.execute("INSERT INTO meta VALUES ('epoch', ?)", (self.epoch,))
        else:
            self.epoch = str(row[0])

    @property
    def db(self) -> sqlite3.Connection:
        """The connection, for stores that live in the same file (the log backlog)."""
        return self._db

    def head(self) -> int:
        """The last sequence number written, 0 for an empty journal."""
        row = self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()
        return int(row[0])

    def entries(self, after: int = 0, limit: int | None = None) -> Iterator[Entry]:
        """Events with seq > `after`, in order."""
        sql = "SELECT seq, ts, kind, actor, data FROM events WHERE seq > ? ORDER BY seq"
        params: tuple[Any, ...] = (after,)
        if limit is not None:
            sql += " LIMIT ?"
            params = (after, limit)
        for seq, ts, kind, actor, data in self._db.execute(sql, params):
            yield Entry(seq, Event(kind, ts, actor, msgpack.unpackb(data, raw=False)))

    def tail(self, count: int) -> list[Entry]:
        """The last `count` events, in order."""
        start = max(0, self.head() - count)
        return list(self.entries(after=start))

    def commands(self) -> Iterator[CommandRecord]:
        """Every acknowledged command id, for retry detection after a restart."""
        for actor, cid, seq in self._db.execute("SELECT actor, id, seq FROM commands"):
            yield CommandRecord(actor, cid, seq)

    def commit(self, entries: Sequence[Entry], commands: Sequence[CommandRecord]) -> None:
        """Write a group of events and command ids in one durable transaction."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany(
                "INSERT INTO events VALUES (?, ?, ?, ?, ?)",
                [
                    (
                        e.seq,
                        e.event.ts,
                        e.event.kind,
                        e.event.actor,
                        msgpack.packb(dict(e.event.data), use_bin_type=True),
                    )
                    for e in entries
                ],
            )
            db.executemany(
                "INSERT OR IGNORE INTO commands VALUES (?, ?, ?)",
                [(c.actor, c.id, c.seq) for c in commands],
            )
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def close(self) -> None:
        """Close the database; the journal is unusable afterwards."""
        self._db.close()
