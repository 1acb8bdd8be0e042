"""Starting a hub as a child process and learning its port: used by the demo and the tests."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

_LISTENING = re.compile(r"listening on (wss?://[^ ]+)")


class HubProcess:
    """A `warroom hub` child on a free port; stop() ends it and waits."""

    def __init__(self, data_dir: Path, *extra: str, port: int = 0, quiet: bool = True) -> None:
        self.data_dir = data_dir
        cmd = [
            sys.executable,
            "-m",
            "warroom",
            "hub",
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
            *extra,
        ]
        self.proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL if quiet else None,
            text=True,
            start_new_session=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        match = _LISTENING.search(line)
        if not match:
            self.stop()
            raise RuntimeError(f"hub did not start: {line.strip() or 'no output'}")
        self.url = match.group(1)
        self.port = int(self.url.rsplit(":", 1)[1])

    def room_url(self, room: str) -> str:
        """The URL of `room` on this hub."""
        return f"{self.url}/{room}"

    def kill(self) -> None:
        """SIGKILL: the crash the journal must survive."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM, then SIGKILL if it has not ended within `timeout` seconds."""
        if self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        if self.proc.poll() is None:
            self.kill()
