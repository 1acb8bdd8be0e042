"""Revoked tokens, in `DATA_DIR/revoked.db`: `warroom revoke` writes, the hub reads.

A token is revoked by its id (`jti`), or with every token of a person (in one room or all)
issued before a time: a laptop lost mid-train. The file outlives restarts; the hub polls it
(`PRAGMA data_version` tells it cheaply whether another process wrote) and cuts off open
connections whose token is now revoked.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from server.auth import Claims
from server.journal import secure_dir

FILE = "revoked.db"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS by_id (id TEXT PRIMARY KEY, at REAL NOT NULL, why TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS by_name (
    name TEXT NOT NULL, room TEXT NOT NULL, before REAL NOT NULL, why TEXT NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class _ByName:
    room: str  # "" for every room
    before: float
    why: str


class Revocations:
    """Which tokens no longer count, loaded in memory and refreshed by `refresh`."""

    def __init__(self, data_dir: Path) -> None:
        secure_dir(data_dir)
        path = data_dir / FILE
        if not path.exists():
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        self._db = sqlite3.connect(path, isolation_level=None, timeout=10, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()  # the hub refreshes from more than one thread
        self._version = -1
        self.changes = 0  # counts the reloads: how a reader knows something changed
        self._ids: dict[str, str] = {}
        self._names: dict[str, list[_ByName]] = {}
        self.refresh()

    def revoke_id(self, token_id: str, at: float, why: str = "") -> None:
        """Revoke the token with id `token_id`."""
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO by_id VALUES (?, ?, ?)", (token_id, at, why))
        self.refresh()

    def revoke_name(self, name: str, room: str, before: float, why: str = "") -> None:
        """Revoke every token of `name` (in `room`, or in every room when "") issued before
        `before`."""
        with self._lock:
            self._db.execute("INSERT INTO by_name VALUES (?, ?, ?, ?)", (name, room, before, why))
        self.refresh()

    def refresh(self) -> bool:
        """Reload if anyone wrote since the last look; True when something changed."""
        with self._lock:
            return self._refresh()

    def _refresh(self) -> bool:
        version = int(self._db.execute("PRAGMA data_version").fetchone()[0])
        count = self._db.execute(
            "SELECT (SELECT COUNT(*) FROM by_id) + (SELECT COUNT(*) FROM by_name)"
        ).fetchone()[0]
        if (version, count) == (self._version, len(self)):
            return False
        self._version = version
        self._ids = {i: w for i, w in self._db.execute("SELECT id, why FROM by_id")}
        names: dict[str, list[_ByName]] = {}
        for name, room, before, why in self._db.execute("SELECT * FROM by_name"):
            names.setdefault(name, []).append(_ByName(room, before, why))
        self._names = names
        self.changes += 1
        return True

    def __len__(self) -> int:
        return len(self._ids) + sum(map(len, self._names.values()))

    def reason(self, claims: Claims) -> str | None:
        """Why the token with `claims` is revoked, or None when it is not."""
        if claims.id and claims.id in self._ids:
            why = self._ids[claims.id]
            return f"token {claims.id} was revoked{': ' + why if why else ''}"
        for rule in self._names.get(claims.name, ()):
            if rule.room in ("", claims.room) and claims.issued < rule.before:
                why = f": {rule.why}" if rule.why else ""
                return f"{claims.name}'s tokens issued before then were revoked{why}"
        return None

    def close(self) -> None:
        with self._lock:
            self._db.close()
