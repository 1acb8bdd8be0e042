"""`warroom demo`: a hub in a temporary directory, a story played by bots, and you in the room.

One process tree: this process runs the client; a `warroom hub` child holds the room; a
director child (`warroom.demostory`) builds the sample repositories, feeds the logs and plays
the bots. Quitting stops both children and deletes the directory.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from warroom.core import Role
from warroom.hubproc import HubProcess
from warroom.timezones import local_tz

ROOM = "train-demo"
SAMPLE_RUNBOOK = Path(__file__).resolve().parents[1] / "examples" / "mediawiki-train.toml"
VERSION = "1.44.0-wmf.5"


def run_demo(role: Role, speed: float = 1.0) -> None:
    """Run the demo until the user quits; the children and their files are gone afterwards."""
    from server.auth import load_or_create_secret, mint
    from warroom.tui.app import WarroomApp

    with tempfile.TemporaryDirectory(prefix="warroom-demo-") as tmp:
        data, work = Path(tmp) / "hub", Path(tmp) / "work"
        # The children share our process group: if the terminal hangs up, they go with us.
        hub = HubProcess(data, own_session=False)
        director: subprocess.Popen[bytes] | None = None
        try:
            secret = load_or_create_secret(data)
            name = _your_name()
            token = mint(secret, ROOM, name, role, 12 * 3600, time.time())
            # The sample train is opened by whoever conducts: you, or "ana" when you watch.
            conductor = name if role is Role.CONDUCTOR else "ana"
            opener = mint(secret, ROOM, conductor, Role.CONDUCTOR, 3600, time.time())
            url = hub.room_url(ROOM)
            _open_sample_train(url, opener)
            director = _start_director(url, data, work, name, role, speed, Path(tmp))
            app = WarroomApp(url, token, local_tz())
            # A closed terminal or a kill: leave like q does, so the clean-up below runs.
            for sig in (signal.SIGHUP, signal.SIGTERM):
                signal.signal(sig, lambda *_: app.call_later(app.exit))
            app.run()
        finally:
            if director is not None:
                _stop(director)
            hub.stop()


def _start_director(
    url: str, data: Path, work: Path, me: str, role: Role, speed: float, tmp: Path
) -> subprocess.Popen[bytes]:
    # Its notes go to a file in the demo's directory (read it while the demo runs: they say
    # what the bots were refused). The terminal is raw while the client runs, so ctrl+c is a
    # key, not a signal to our whole process group.
    with open(tmp / "director.log", "wb") as log:
        return subprocess.Popen(
            [
                sys.executable, "-m", "warroom.demostory", url,
                "--data-dir", str(data), "--work", str(work),
                "--me", me, "--role", role.value, "--speed", str(speed),
            ],
            stdout=log,
            stderr=log,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _your_name() -> str:
    """The login name when it can name a person (and is not one of the bots), else "you"."""
    import getpass

    from server.auth import AuthError, check_name

    try:
        name = check_name(getpass.getuser())
    except (AuthError, OSError, KeyError):
        return "you"
    return "you" if name in ("ana", "bea", "raj", "lee", "kim", "scap") else name


def _open_sample_train(url: str, token: str) -> None:
    """Open the MediaWiki-style sample train."""
    import asyncio

    from warroom.core.runbook import parse, to_data
    from warroom.script import send_one

    path = SAMPLE_RUNBOOK
    runbook = to_data(parse(path.read_text(encoding="utf-8"), str(path)))
    asyncio.run(send_one(url, token, "open_train", {"runbook": runbook, "version": VERSION}))
