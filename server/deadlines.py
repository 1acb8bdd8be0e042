"""The hub's index of when each room must next act on its own (a vote's end, an offer's,
a dropped conductor's grace), so a room nobody is in can be closed and still be reopened on
time, even after the hub restarts.

One small SQLite file for the hub (`DATA_DIR/hub.db`). A room writes its next deadline here
before the journal commit that makes it sooner, and after the one that moves it later or
clears it: the index may wake a room early, never late. Rooms call it from the journal
threads, so every call takes a lock.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

_SCHEMA = "CREATE TABLE IF NOT EXISTS deadlines (room TEXT PRIMARY KEY, due REAL NOT NULL)"


class DeadlineIndex:
    """Room name to the time (hub clock, UNIX seconds) it must be awake."""

    def __init__(self, path: Path) -> None:
        if not path.exists():
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(_SCHEMA)

    def set(self, room: str, due: float | None) -> None:
        """Record `room`'s next deadline; None when it has none."""
        with self._lock:
            if due is None:
                self._db.execute("DELETE FROM deadlines WHERE room = ?", (room,))
            else:
                self._db.execute("INSERT OR REPLACE INTO deadlines VALUES (?, ?)", (room, due))

    def get(self, room: str) -> float | None:
        """`room`'s recorded deadline, if any."""
        with self._lock:
            row = self._db.execute("SELECT due FROM deadlines WHERE room = ?", (room,)).fetchone()
        return None if row is None else float(row[0])

    def all(self) -> dict[str, float]:
        """Every room with a deadline."""
        with self._lock:
            return {
                str(r): float(d) for r, d in self._db.execute("SELECT room, due FROM deadlines")
            }

    def close(self) -> None:
        with self._lock:
            self._db.close()
