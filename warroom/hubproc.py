"""Starting a hub as a child process and learning its port: used by the demo and the tests."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

_LISTENING = re.compile(r"listening on (wss?://[^ ]+)")


class HubProcess:
    """A `warroom hub` child on a free port; stop() ends it and waits."""

    def __init__(
        self,
        data_dir: Path,
        *extra: str,
        port: int = 0,
        quiet: bool = True,
        own_session: bool = True,
        stderr: Path | None = None,
        max_files: int | None = None,
    ) -> None:
        """`own_session=False` keeps it in our process group, so a hang-up of our terminal
        ends it too (the demo); the tests give it a session of its own to kill whole.
        `stderr` appends the hub's log to that file (instead of `quiet`'s nowhere); a
        `max_files` sets its open-file limit, soft and hard, as a starved host would."""
        self.data_dir = data_dir
        self.own_session = own_session
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
        limit = None if max_files is None else _file_limit(max_files)
        with contextlib.ExitStack() as files:
            err: int | IO[bytes] | None = subprocess.DEVNULL if quiet else None
            if stderr is not None:
                err = files.enter_context(stderr.open("ab"))
            self.proc = subprocess.Popen(
                cmd,
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
                start_new_session=own_session,
                preexec_fn=limit,
            )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        match = _LISTENING.search(line)
        if not match:
            self.stop()
            raise RuntimeError(f"hub did not start: {line.strip() or 'no output'}")
        self.url = match.group(1)
        self.port = int(self.url.rsplit(":", 1)[1])

    @property
    def pid(self) -> int:
        """The hub's process id."""
        return self.proc.pid

    def room_url(self, room: str) -> str:
        """The URL of `room` on this hub."""
        return f"{self.url}/{room}"

    def kill(self) -> None:
        """SIGKILL: the crash the journal must survive."""
        self._signal(signal.SIGKILL)
        self.proc.wait()

    def _signal(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):
            if self.own_session:
                os.killpg(self.proc.pid, sig)
            else:
                self.proc.send_signal(sig)

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM, then SIGKILL if it has not ended within `timeout` seconds."""
        if self.proc.poll() is not None:
            return
        self._signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        if self.proc.poll() is None:
            self.kill()


def _file_limit(limit: int) -> Callable[[], None]:
    def apply() -> None:  # in the child, before it runs the hub
        import resource

        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))

    return apply
