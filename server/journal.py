"""The per-room event journal: an SQLite file in WAL mode, one transaction per group commit.

Each room gets its own file, so rooms commit in parallel and can be reset one at a time.
Every call blocks; the hub runs them on its pool of journal threads, one call of a room at a
time.

A journal is never served as if whole when it is not. Opening one runs SQLite's
`quick_check` and checks that its events run 1..head with no gap; every event row carries a
CRC-32 of its contents, checked whenever it is read; and beside the file a high-water mark
(`ROOM.hwm`, fsynced after every commit, before any ack) records the last acknowledged seq,
so a journal that lost its tail (a truncated WAL, a restored backup) is caught even though
SQLite itself sees nothing wrong. Any of these raises `JournalDamaged`.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sqlite3
import struct
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgpack

from warroom.core import Event

FORMAT = 2  # 1: no checksums, no digests
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY, ts REAL NOT NULL, kind TEXT NOT NULL, actor TEXT NOT NULL,
    data BLOB NOT NULL, crc INTEGER
);
CREATE TABLE IF NOT EXISTS commands (
    actor TEXT NOT NULL, id TEXT NOT NULL, seq INTEGER NOT NULL, digest BLOB,
    PRIMARY KEY (actor, id)
) WITHOUT ROWID;
"""


class JournalDamaged(Exception):
    """The journal cannot be trusted; the message says what is wrong, for the operator."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One journaled event with its sequence number."""

    seq: int
    event: Event


@dataclass(frozen=True, slots=True)
class CommandRecord:
    """A command that was acknowledged: who sent it, its id, the seq its ack named, and a
    digest of what it asked (empty when a journal from before digests recorded it)."""

    actor: str
    id: str
    seq: int
    digest: bytes = b""


def checksum(seq: int, ts: float, kind: str, actor: str, data: bytes) -> int:
    """The CRC-32 an event row carries."""
    head = struct.pack("<qd", seq, ts) + kind.encode() + b"\0" + actor.encode() + b"\0"
    return zlib.crc32(data, zlib.crc32(head))


def secure_dir(path: Path) -> None:
    """Create `path` (and its parents) readable by its owner only, tightening it if needed."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        os.chmod(path, 0o700)


class HighWater:
    """The last acknowledged seq of a journal, in a small file of its own, fsynced."""

    WIDTH = 64

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def read(self) -> tuple[str, int] | None:
        """(epoch, seq) as last written, None when there is no mark."""
        try:
            text = self.path.read_text("ascii").strip()
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise JournalDamaged(
                f"its high-water mark {self.path.name} is unreadable: {exc}"
            ) from None
        parts = text.split()
        if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
            epoch, seq = parts[0], int(parts[1])
            if zlib.crc32(f"{epoch} {seq}".encode()) == int(parts[2]):
                return epoch, seq
        raise JournalDamaged(f"its high-water mark {self.path.name} is corrupt ({text[:40]!r})")

    def write(self, epoch: str, seq: int) -> None:
        """Record `seq` durably before it is acknowledged."""
        if self._fd is None:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600)
        body = f"{epoch} {seq}"
        line = f"{body} {zlib.crc32(body.encode())}".ljust(self.WIDTH - 1) + "\n"
        os.pwrite(self._fd, line.encode("ascii"), 0)
        os.fdatasync(self._fd)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class Journal:
    """An append-only, durable log of one room's events."""

    def __init__(self, path: Path) -> None:
        secure_dir(path.parent)
        self.path = path
        self.mark = HighWater(path.with_suffix(".hwm"))
        acked = self.mark.read()
        fresh = not path.exists()
        if fresh and acked is not None:
            raise JournalDamaged(
                f"its journal file is missing, yet {acked[1]} events were acknowledged"
            )
        if fresh:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        for companion in (path, *_companions(path)):
            with contextlib.suppress(FileNotFoundError):
                os.chmod(companion, 0o600)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, one per group commit.
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        try:
            self._open(fresh, acked)
        except sqlite3.DatabaseError as exc:
            self.close()
            if is_corrupt(exc):
                raise JournalDamaged(f"SQLite cannot read it: {exc}") from None
            raise  # a full disk, a lock, a file it may not write: not damage
        except BaseException:
            self.close()
            raise

    def _open(self, fresh: bool, acked: tuple[str, int] | None) -> None:
        db = self._db
        if not fresh:
            problems = [str(r[0]) for r in db.execute("PRAGMA quick_check(5)")]
            if problems != ["ok"]:
                raise JournalDamaged(f"SQLite's integrity check fails: {'; '.join(problems)}")
        db.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit is on disk before it returns, so an ack never outlives a power cut.
        db.execute("PRAGMA synchronous=FULL")
        db.executescript(_SCHEMA)
        marked = db.execute("SELECT 1 FROM meta WHERE key='format'").fetchone() is not None
        self._migrate()
        row = db.execute("SELECT value FROM meta WHERE key='epoch'").fetchone()
        if row is None:
            self.epoch = secrets.token_hex(8)
            db.execute("INSERT INTO meta VALUES ('epoch', ?)", (self.epoch,))
            db.execute("INSERT OR REPLACE INTO meta VALUES ('format', ?)", (str(FORMAT),))
        else:
            self.epoch = str(row[0])
        low, high, count = db.execute(
            "SELECT COALESCE(MIN(seq), 1), COALESCE(MAX(seq), 0), COUNT(*) FROM events"
        ).fetchone()
        if count != high or low != 1:
            raise JournalDamaged(f"events are missing: {count} rows where seqs 1..{high} should be")
        self._head = int(high)
        if acked is None and marked and self._head:
            # This journal has always had a mark beside it; without one, nothing tells
            # whether its tail is all that was acknowledged (a backup restored alone?).
            raise JournalDamaged(
                f"its high-water mark {self.mark.path.name} is missing, so its {self._head}"
                " events cannot be checked against what was acknowledged"
            )
        if acked is not None:
            epoch, seq = acked
            if epoch != self.epoch:
                raise JournalDamaged(
                    f"it is epoch {self.epoch}, but epoch {epoch} was acknowledged (replaced?)"
                )
            if seq > self._head:
                raise JournalDamaged(
                    f"it ends at seq {self._head}, but seq {seq} was acknowledged:"
                    f" {seq - self._head} events are lost"
                )
        if acked is None or acked[1] != self._head:
            # Events past the mark may sit in the page cache only (the hub was killed between
            # SQLite's write and its fsync): make them durable before the mark vouches for
            # them, and before their retries are answered with acks.
            for name in (self.path, *_companions(self.path)):
                _sync_file(name)
            self.mark.write(self.epoch, self._head)
            if fresh:
                sync_dir(self.path.parent)

    def _migrate(self) -> None:
        db = self._db
        columns = {str(r[1]) for r in db.execute("PRAGMA table_info(events)")}
        if "crc" not in columns:
            db.execute("ALTER TABLE events ADD COLUMN crc INTEGER")
        if "digest" not in {str(r[1]) for r in db.execute("PRAGMA table_info(commands)")}:
            db.execute("ALTER TABLE commands ADD COLUMN digest BLOB")
        # Rows from before checksums get theirs now, after the integrity check passed.
        rows = db.execute(
            "SELECT seq, ts, kind, actor, data FROM events WHERE crc IS NULL"
        ).fetchall()
        db.execute("BEGIN IMMEDIATE")
        db.executemany(
            "UPDATE events SET crc = ? WHERE seq = ?", [(checksum(*r), r[0]) for r in rows]
        )
        db.execute("INSERT OR REPLACE INTO meta VALUES ('format', ?)", (str(FORMAT),))
        db.execute("COMMIT")

    @property
    def db(self) -> sqlite3.Connection:
        """The connection, for stores that live in the same file (the log backlog)."""
        return self._db

    def head(self) -> int:
        """The last sequence number written, 0 for an empty journal."""
        return self._head

    def entries(self, after: int = 0, upto: int | None = None) -> Iterator[Entry]:
        """Events with `after` < seq <= `upto`, in order, each checked against its checksum."""
        sql = "SELECT seq, ts, kind, actor, data, crc FROM events WHERE seq > ? AND seq <= ?"
        rows = self._db.execute(
            sql + " ORDER BY seq", (after, self._head if upto is None else upto)
        )
        yield from checked(rows, after)

    def batch(self, after: int, upto: int, limit: int) -> list[Entry]:
        """Up to `limit` checked events after `after`, none past `upto`."""
        return list(self.entries(after, min(upto, after + limit)))

    def commands(self) -> Iterator[CommandRecord]:
        """Every acknowledged command id, for retry detection after a restart."""
        for actor, cid, seq, digest in self._db.execute(
            "SELECT actor, id, seq, digest FROM commands"
        ):
            yield CommandRecord(actor, cid, seq, bytes(digest or b""))

    def commit(self, entries: Sequence[Entry], commands: Sequence[CommandRecord]) -> None:
        """Write a group of events and command ids in one durable transaction, then move the
        high-water mark past them: both are on disk when this returns."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            rows: list[tuple[Any, ...]] = []
            for e in entries:
                data = msgpack.packb(dict(e.event.data), use_bin_type=True)
                ev = e.event
                crc = checksum(e.seq, ev.ts, ev.kind, ev.actor, data)
                rows.append((e.seq, ev.ts, ev.kind, ev.actor, data, crc))
            db.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)", rows)
            db.executemany(
                "INSERT OR IGNORE INTO commands VALUES (?, ?, ?, ?)",
                [(c.actor, c.id, c.seq, c.digest or None) for c in commands],
            )
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        if entries:
            self._head = entries[-1].seq
            try:
                self.mark.write(self.epoch, self._head)
            except OSError as exc:
                # The events are on disk but cannot be acknowledged: the room must be opened
                # afresh, which finds them and answers their retries.
                raise JournalDamaged(f"cannot record its high-water mark: {exc}") from None

    def close(self) -> None:
        """Close the database; the journal is unusable afterwards."""
        self._db.close()
        self.mark.close()


def checked(
    rows: Iterable[tuple[Any, ...]], after: int, *, unsummed: bool = False
) -> Iterator[Entry]:
    """Event rows (seq, ts, kind, actor, data, crc) as entries, in order from `after` + 1;
    JournalDamaged at the first that is missing, fails its checksum or cannot be decoded.
    `unsummed` takes a crc of None (a row from before checksums) as it is."""
    expect = after + 1
    for seq, ts, kind, actor, data, crc in rows:
        if seq != expect:
            raise JournalDamaged(f"event {expect} is missing")
        if (crc is not None or not unsummed) and crc != checksum(seq, ts, kind, actor, data):
            raise JournalDamaged(f"event {seq} fails its checksum")
        try:
            body = msgpack.unpackb(data, raw=False)
        except Exception as exc:  # msgpack raises several unrelated types for bad input
            raise JournalDamaged(f"event {seq} cannot be decoded: {exc}") from None
        expect += 1
        yield Entry(seq, Event(kind, ts, actor, body))


def is_corrupt(exc: sqlite3.DatabaseError) -> bool:
    """Whether SQLite says the file itself is bad, rather than that it cannot do its job now."""
    name = getattr(exc, "sqlite_errorname", "")
    return name in ("SQLITE_CORRUPT", "SQLITE_NOTADB") or not isinstance(
        exc, sqlite3.OperationalError
    )


def _companions(path: Path) -> tuple[Path, ...]:
    return (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm"))


def _sync_file(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sync_dir(path: Path) -> None:
    """Make the entries of directory `path` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
