"""`warroom demo` for real, in a pseudo-terminal read by a terminal emulator (pyte).

What a newcomer sees: the train map, the checklist, log lines, the bots in the roster and the
timeline; then q leaves no process and no file behind.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios
import time
from collections.abc import Callable
from pathlib import Path

import pyte
import pytest

COLS, ROWS = 120, 40
pytestmark = pytest.mark.e2e


class Terminal:
    """A command in a pseudo-terminal of COLS x ROWS, its screen kept by pyte."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.screen = pyte.Screen(COLS, ROWS)
        self.stream = pyte.ByteStream(self.screen)
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: become the command
            os.execvpe(argv[0], argv, env)
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))

    def pump(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([self.fd], [], [], left)
            if not ready:
                return
            try:
                data = os.read(self.fd, 65536)
            except OSError:  # the child is gone
                return
            if not data:
                return
            self.stream.feed(data)

    def text(self) -> str:
        return "\n".join(self.screen.display)

    def wait_for(self, check: Callable[[str], bool], what: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.pump(0.2)
            if check(self.text()):
                return self.text()
        raise AssertionError(f"timed out waiting for {what}; the screen:\n{self.text()}")

    def press(self, keys: str) -> None:
        os.write(self.fd, keys.encode())

    def wait_exit(self, timeout: float) -> int | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.pump(0.1)
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                return os.waitstatus_to_exitcode(status)
        return None

    def kill(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass


def processes_mentioning(text: str) -> list[str]:
    """Command lines of running processes that contain `text`."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if text in cmdline:
            found.append(f"{proc.name}: {cmdline}")
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc to find stray processes")
@pytest.mark.timeout(180)
def test_the_demo_shows_the_whole_room_and_quits_clean(tmp_path: Path) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp), "TERM": "xterm-256color", "COLUMNS": str(COLS),
           "LINES": str(ROWS), "USER": "newcomer", "LOGNAME": "newcomer"}  # fmt: skip
    term = Terminal([sys.executable, "-m", "warroom", "demo", "--speed", "4"], env)
    try:
        parts = ("prep", "group1", "Checklist", "Timeline", "People", "newcomer · conductor",
                 "seat: you")  # fmt: skip
        term.wait_for(lambda s: all(w in s for w in parts), "the room, with me in the seat")
        screen = term.wait_for(
            lambda s: all(f" {bot} " in s for bot in ("bea", "raj", "lee", "kim")),
            "the bots in the roster",
        )
        assert "Europe/Berlin" in screen and "Asia/Kolkata" in screen
        screen = term.wait_for(lambda s: "fatal-monitor │" in s, "log lines")
        screen = term.wait_for(lambda s: "bea joined as engineer" in s or "Manifest is up" in s,
                               "the timeline's story")  # fmt: skip
        # Demo directories and children exist while it runs...
        demo_dirs = list(tmp.glob("warroom-demo-*"))
        assert len(demo_dirs) == 1
        assert len(processes_mentioning(str(demo_dirs[0]))) == 2  # the hub and the director
        term.press("q")
        assert term.wait_exit(30) == 0
        # ...and nothing is left after q.
        deadline = time.monotonic() + 10
        while processes_mentioning(str(tmp)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert processes_mentioning(str(tmp)) == []
        assert list(tmp.iterdir()) == []
    finally:
        term.kill()
