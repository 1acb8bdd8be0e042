"""Continuing a room from what is intact in a damaged journal, in a new epoch.

The hub refuses a damaged journal rather than serve it; the operator chooses to go on from the
intact part with `warroom salvage`. Every event that reads back whole and in order, from seq 1,
is kept; the rest is left behind. The new journal has a new epoch, so every client loads a
fresh snapshot instead of splicing its old replica onto a different history.

While it works, a lock file (`rooms/ROOM.salvaging`) makes the hub refuse the room, so nobody
joining in the meantime creates an empty room in its place. The damaged files are copied to
`rooms/ROOM.damaged-TIME/` untouched; the new journal is built aside and moved in last. A
journal that is whole is not salvaged.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from server.journal import CommandRecord, Entry, Journal, JournalDamaged, checked, sync_dir
from server.logstore import LogRow, LogStore

LOCK = ".salvaging"


class SalvageError(Exception):
    """Salvage cannot go ahead; the message says why, for the operator."""


@dataclass(frozen=True, slots=True)
class Salvaged:
    """What `salvage` kept and where it put the damaged files."""

    kept: int  # events 1..kept survive
    why_stopped: str  # what ended the intact part ("" when the whole journal read back)
    acknowledged: int  # the high-water mark of the damaged journal (0 if unreadable)
    epoch: str  # the new journal's epoch
    moved_to: Path
    log_lines: int


def lock_path(rooms: Path, room: str) -> Path:
    """The file that says `room` is being salvaged."""
    return rooms / f"{room}{LOCK}"


def salvage(data_dir: Path, room: str, now: float | None = None) -> Salvaged:
    """Start `room` again in a new epoch from the intact part of its damaged journal."""
    rooms = data_dir / "rooms"
    lock = lock_path(rooms, room)
    try:
        os.close(os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        raise SalvageError(
            f"{lock} exists: a salvage of {room} is under way, or one stopped midway"
            " (then remove it and run salvage again)"
        ) from None
    try:
        return _salvage(rooms, room, now)
    finally:
        lock.unlink(missing_ok=True)


def _salvage(rooms: Path, room: str, now: float | None) -> Salvaged:
    names = [f"{room}.db", f"{room}.db-wal", f"{room}.db-shm", f"{room}.hwm"]
    present = [n for n in names if (rooms / n).exists()]
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(time.time() if now is None else now))
    aside = rooms / f"{room}.damaged-{stamp}"
    with tempfile.TemporaryDirectory(dir=rooms, prefix=f".{room}.salvage-") as tmp:
        scratch, fresh = Path(tmp) / "read", Path(tmp) / "new"
        scratch.mkdir()
        for name in present:
            shutil.copy2(rooms / name, scratch / name)
        _refuse_whole(scratch / f"{room}.db")
        aside.mkdir(mode=0o700)
        for name in present:  # kept as they were, for whoever looks into the damage
            shutil.copy2(rooms / name, aside / name)
        acknowledged = _acknowledged(scratch / f"{room}.hwm")
        entries, commands, lines, sources, why = _read(scratch / f"{room}.db")
        journal = Journal(fresh / f"{room}.db")
        try:
            journal.commit(entries, [c for c in commands if c.seq <= len(entries)])
            if lines or sources:
                LogStore(journal.db, retention=max(len(lines), 1)).append(lines, sources)
            epoch = journal.epoch
        finally:
            journal.close()
        for name in present:
            (rooms / name).unlink()
        # The mark first: a journal file without its mark would read as damaged again.
        for name in (f"{room}.hwm", f"{room}.db"):
            os.replace(fresh / name, rooms / name)
        sync_dir(rooms)
    return Salvaged(len(entries), why, acknowledged, epoch, aside, len(lines))


def _refuse_whole(path: Path) -> None:
    if not path.exists():
        return
    try:
        Journal(path).close()
    except JournalDamaged:
        return
    except (OSError, sqlite3.Error):
        return  # unreadable in another way: go on from what can be read
    raise SalvageError(f"the journal {path.name} is whole: there is nothing to salvage")


def _acknowledged(path: Path) -> int:
    try:
        parts = path.read_text("ascii").split()
        return int(parts[1])
    except (OSError, ValueError, IndexError, UnicodeDecodeError):
        return 0


def _read(path: Path) -> tuple[list[Entry], list[CommandRecord], list[LogRow], dict[str, int], str]:
    """The intact prefix of events, the command ids, the log lines and sources, and why the
    events stopped where they did."""
    entries: list[Entry] = []
    commands: list[CommandRecord] = []
    lines: list[LogRow] = []
    sources: dict[str, int] = {}
    if not path.exists():
        return entries, commands, lines, sources, "the journal file is missing"
    why = ""
    try:
        db = sqlite3.connect(path, isolation_level=None)
    except sqlite3.Error as exc:
        return entries, commands, lines, sources, f"SQLite cannot open it: {exc}"
    try:
        columns = {str(r[1]) for r in db.execute("PRAGMA table_info(events)")}
        crc = "crc" if "crc" in columns else "NULL"
        cursor = db.execute(f"SELECT seq, ts, kind, actor, data, {crc} FROM events ORDER BY seq")
        try:
            for entry in checked(_rows(cursor), 0, unsummed=True):
                entries.append(entry)
        except JournalDamaged as exc:
            why = str(exc)
        except sqlite3.Error as exc:
            why = f"event {len(entries) + 1} cannot be read: {exc}"
        have = {str(r[1]) for r in db.execute("PRAGMA table_info(commands)")}
        digest = "digest" if "digest" in have else "NULL"
        for query, sink in (
            (f"SELECT actor, id, seq, {digest} FROM commands", "commands"),
            ("SELECT * FROM log_lines ORDER BY lseq", "lines"),
            ("SELECT source, next FROM log_sources", "sources"),
        ):
            try:
                rows = db.execute(query).fetchall()
            except sqlite3.Error:
                continue
            if sink == "commands":
                commands = [CommandRecord(a, i, s, bytes(d or b"")) for a, i, s, d in rows]
            elif sink == "lines":
                lines = [
                    (int(a), float(b), str(c), int(d), int(e), str(f)) for a, b, c, d, e, f in rows
                ]
            else:
                sources = {str(s): int(n) for s, n in rows}
    finally:
        db.close()
    return entries, commands, lines, sources, why


def _rows(cursor: sqlite3.Cursor) -> Iterator[tuple[object, ...]]:
    # One row at a time, so a page that cannot be read ends the intact part there.
    while True:
        row = cursor.fetchone()
        if row is None:
            return
        yield row
