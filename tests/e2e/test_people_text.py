"""A journal an older hub wrote, with raw escapes in people's text, shown safely: by
`warroom export`, and by the real `warroom join` in a pseudo-terminal, whose every byte is read.

The journal is written directly (server.journal), past the hub's argument check, as a journal
from before the rule holds it: OSC 52 (writes the clipboard), OSC 0 (the window title), BEL,
CSI and bidi overrides in a note, a blocker, a runbook and a commit, and Textual markup too.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from server.journal import Entry, Journal
from tests.e2e.test_demo import COLS, ROWS, Terminal
from tests.integration.test_cli import token, warroom
from tests.unit.test_changes import commit
from tests.unit.train_helpers import ANA, RAJ, Room, runbook_data
from warroom.core import Event
from warroom.hubproc import HubProcess

pytestmark = pytest.mark.e2e

OSC52 = "\x1b]52;c;cm0gLXJmIH4K\x07"
OSC0 = "\x1b]0;you are owned\x07"
RLO = "\u202e"
DIRTY = {
    "NOTE": f"group0 clean {OSC52} [b]bold[/b] [@click=app.quit]quit[/]",
    "REASON": f"fatal {OSC0} on {RLO}hcraeS\x1b[2J",
    "RUNBOOK": f"Weekly {OSC0}",
    "SUBJECT": f"Fix {OSC52}",
    "AUTHOR": f"Raj {RLO}Patel",
}
# Byte sequences no person's text may make the terminal see.
FORBIDDEN = (b"\x1b]52", b"\x1b]0;", b"\x1b]2;", b"\x07", RLO.encode(), b"\x1b[2J", b"\xc2\x9b")


def _dirtied(value: Any) -> Any:
    if isinstance(value, str):
        return DIRTY.get(value, value)
    if isinstance(value, dict):
        return {k: _dirtied(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_dirtied(v) for v in value]
    return value


def dirty_events() -> list[Event]:
    """A train run made by the real core with placeholders, which are then swapped for raw
    escapes in the events themselves: what a hub without the rule would have stored."""
    room = Room()
    room.join(ANA, RAJ)
    runbook = runbook_data()
    runbook["name"] = "RUNBOOK"
    room.ok(ANA, "open_train", runbook=runbook, version="1.44.0-wmf.5")
    room.ok(RAJ, "note", text="NOTE")
    room.ok(RAJ, "raise_blocker", reason="REASON", link="T1")
    room.ok(RAJ, "manifest_begin", repo="mediawiki", batch="b1", **{"from": "a", "to": "b"},
            from_sha="1" * 40, to_sha="2" * 40, count=1)  # fmt: skip
    room.ok(RAJ, "manifest_add", repo="mediawiki", batch="b1", offset=0,
            commits=[commit(1, author="AUTHOR", subject="SUBJECT")])  # fmt: skip
    return [Event(e.kind, e.ts, e.actor, _dirtied(dict(e.data))) for e in room.events]


@pytest.fixture
def old_room(tmp_path: Path) -> Iterator[HubProcess]:
    journal = Journal(tmp_path / "rooms" / "train-1.db")
    journal.commit([Entry(n, e) for n, e in enumerate(dirty_events(), start=1)], [])
    journal.close()
    hub = HubProcess(tmp_path)
    yield hub
    hub.stop()


def test_the_export_of_an_old_journal_holds_no_escape(old_room: HubProcess) -> None:
    url = old_room.room_url("train-1")
    raj = token(old_room.data_dir, "raj", "engineer")
    for fmt in ("md", "json"):
        out = warroom("export", url, "-t", raj, "--format", fmt)
        assert out.returncode == 0, out.stderr
        raw = out.stdout.encode()
        assert not [b for b in FORBIDDEN if b in raw], fmt
        assert b"\x1b" not in raw
    data = json.loads(out.stdout)
    assert data["runbook"] == "Weekly \ufffd]0;you are owned\ufffd"
    assert (
        data["blockers"][0]["reason"]
        == "fatal \ufffd]0;you are owned\ufffd on \ufffdhcraeS\ufffd[2J"
    )
    for command in ("events", "state"):
        out = warroom(command, url, "-t", raj)
        assert out.returncode == 0, out.stderr
        # JSON escapes controls anyway; the point is that a tool that decodes it gets none.
        decoded = json.dumps([json.loads(line) for line in out.stdout.splitlines() if line]
                             if command == "events" else json.loads(out.stdout),
                             ensure_ascii=False)  # fmt: skip
        assert not [c for c in ("\x1b", "\x07", RLO) if c in decoded], command


class Recorder(Terminal):
    """The terminal, keeping every byte the command wrote."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.raw = bytearray()
        super().__init__(argv, env)

    def pump(self, seconds: float) -> None:
        feed = self.stream.feed

        def record(data: bytes) -> None:
            self.raw += data
            feed(data)

        self.stream.feed = record  # type: ignore[method-assign]
        try:
            super().pump(seconds)
        finally:
            self.stream.feed = feed  # type: ignore[method-assign]


@pytest.mark.timeout(120)
def test_the_tui_writes_no_escape_from_people_text(old_room: HubProcess, tmp_path: Path) -> None:
    url = old_room.room_url("train-1")
    ana = token(old_room.data_dir, "ana", "conductor")
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(COLS), "LINES": str(ROWS)}
    term = Recorder([sys.executable, "-m", "warroom", "join", url, "--token", ana, "--tz", "UTC"],
                    env)  # fmt: skip
    try:
        screen = term.wait_for(
            lambda s: "cm0gLXJmIH4K" in s and "hcraeS" in s, "the note and the blocker"
        )
        # What was an escape shows as inert text, and the markup as written.
        assert "raj: group0 clean \ufffd]52;c;cm0gLXJmIH4K\ufffd [b]bold[/b]" in screen
        assert "[@click=app.quit]quit[/]" in screen  # the rest of the note, wrapped
        assert "fatal \ufffd]0;you are owned\ufffd on \ufffdhcraeS\ufffd[2J" in screen
        assert "Checklist · Weekly \ufffd]0;you are owned\ufffd" in screen
        term.press("g")  # the changes going out: the dirty commit's author and subject
        term.wait_for(lambda s: "Fix \ufffd]52;c;" in s, "the commit in the changes screen")
        term.press("\x1b")
        time.sleep(0.5)
        term.press("q")
        assert term.wait_exit(30) == 0
        # Textual's own pointer shape (OSC 22, ended by BEL) is the one sequence of its kind
        # the app itself writes; none other may appear.
        raw = re.sub(rb"\x1b\]22;[a-z-]*\x07", b"", bytes(term.raw))
        assert len(raw) > 10_000  # the screen was drawn, several times
        assert not [b for b in FORBIDDEN if b in raw]
    finally:
        term.kill()
