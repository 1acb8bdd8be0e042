"""Continuing a room from what is intact in a damaged journal, in a new epoch.

The hub refuses a damaged journal rather than serve it; the operator chooses to go on from the
intact part with `warroom salvage`. Every event that reads back whole and in order, from seq 1,
is kept; the rest is left behind. The damaged files move to `rooms/ROOM.damaged-TIME/` and a
new journal, with a new epoch, takes their place, so every client loads a fresh snapshot
instead of splicing its old replica onto a different history. Safe while the hub runs: a
damaged room is not open there.
"""

from __future__ import annotations

import shutil
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import msgpack

from server.journal import CommandRecord, Entry, Journal, checksum
from server.logstore import LogRow, LogStore
from warroom.core import Event


@dataclass(frozen=True, slots=True)
class Salvaged:
    """What `salvage` kept and where it put the damaged files."""

    kept: int  # events 1..kept survive
    why_stopped: str  # what ended the intact part ("" when the whole journal read back)
    acknowledged: int  # the high-water mark of the damaged journal (0 if unreadable)
    epoch: str  # the new journal's epoch
    moved_to: Path
    log_lines: int


def salvage(data_dir: Path, room: str, now: float | None = None) -> Salvaged:
    """Move `room`'s journal aside and start a new epoch from its intact events."""
    rooms = data_dir / "rooms"
    path = rooms / f"{room}.db"
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(time.time() if now is None else now))
    aside = rooms / f"{room}.damaged-{stamp}"
    aside.mkdir(mode=0o700)
    names = [f"{room}.db", f"{room}.db-wal", f"{room}.db-shm", f"{room}.hwm"]
    for name in names:
        if (rooms / name).exists():
            shutil.move(rooms / name, aside / name)
    acknowledged = _acknowledged(aside / f"{room}.hwm")
    entries, commands, lines, sources, why = _read(aside / f"{room}.db")
    journal = Journal(path)
    try:
        journal.commit(entries, [c for c in commands if c.seq <= len(entries)])
        store = LogStore(journal.db, retention=max(len(lines), 1))
        if lines or sources:
            store.append(lines, sources)
        epoch = journal.epoch
    finally:
        journal.close()
    return Salvaged(len(entries), why, acknowledged, epoch, aside, len(lines))


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
        while True:
            try:
                row = cursor.fetchone()
            except sqlite3.Error as exc:
                why = f"event {len(entries) + 1} cannot be read: {exc}"
                break
            if row is None:
                break
            seq, ts, kind, actor, data, stored = row
            if seq != len(entries) + 1:
                why = f"event {len(entries) + 1} is missing"
                break
            if stored is not None and stored != checksum(seq, ts, kind, actor, data):
                why = f"event {seq} fails its checksum"
                break
            try:
                body = msgpack.unpackb(data, raw=False)
            except Exception as exc:  # msgpack raises several unrelated types
                why = f"event {seq} cannot be decoded: {exc}"
                break
            entries.append(Entry(seq, Event(kind, ts, actor, body)))
        have = {str(r[1]) for r in db.execute("PRAGMA table_info(commands)")}
        dig = "digest" if "digest" in have else "NULL"
        for query, sink in (
            (f"SELECT actor, id, seq, {dig} FROM commands", "commands"),
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
