"""`warroom demo`: a hub in a temporary directory, a story played by bots, and you in the room.

One process tree: this process runs the client; a `warroom hub` child holds the room; a
director child (`warroom.demostory`) builds the sample repositories, feeds the logs and plays
the bots. Quitting stops both children and deletes the directory.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from textual.app import App

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

    tmp = Path(tempfile.mkdtemp(prefix="warroom-demo-"))
    data, work = tmp / "hub", tmp / "work"
    director: subprocess.Popen[bytes] | None = None
    hub: HubProcess | None = None
    stopping = threading.Event()

    def clean_up() -> None:
        if director is not None:
            _stop(director)
        if hub is not None:
            hub.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    def hung_up(signum: int, _frame: object) -> None:
        # The terminal is gone: there is no screen to restore, and the client's threads may
        # be stuck on it. Clean up here and leave at once.
        clean_up()
        os._exit(128 + signum)

    # Before anything starts, so that nothing started is left behind. A SIGTERM is only
    # noted here: the watchdog thread leaves the way q does (see `_watch`).
    signal.signal(signal.SIGHUP, hung_up)
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    try:
        # The children share our process group: if the terminal hangs up, they go with us.
        hub = HubProcess(data, own_session=False)
        secret = load_or_create_secret(data)
        name = _your_name()
        token = mint(secret, ROOM, name, role, 12 * 3600, time.time())
        # The sample train is opened by whoever conducts: you, or "ana" when you watch.
        conductor = name if role is Role.CONDUCTOR else "ana"
        opener = mint(secret, ROOM, conductor, Role.CONDUCTOR, 3600, time.time())
        url = hub.room_url(ROOM)
        _open_sample_train(url, opener)
        director = _start_director(url, data, work, name, role, speed, tmp)
        app = WarroomApp(url, token, local_tz())
        threading.Thread(target=_watch, args=(app, stopping, hung_up), daemon=True).start()
        if not stopping.is_set():
            app.run()
    finally:
        clean_up()


def _watch(
    app: App[None], stopping: threading.Event, hung_up: Callable[[int, object], None]
) -> None:
    """Ends the demo when it is told to (SIGTERM), or its terminal or its parent goes away.

    Under `make demo`, make leads the terminal's session: when the terminal closes, make alone
    gets the SIGHUP and we get none, only a terminal that reads as empty forever.
    """
    parent = os.getppid()
    terminal = sys.stdin.isatty()
    while not stopping.wait(1):
        try:
            if terminal:
                os.tcgetpgrp(sys.stdin.fileno())
        except OSError:
            hung_up(signal.SIGHUP, None)
        if os.getppid() != parent:
            break
    # Leave the way q does, so the terminal is restored; the hard way if that has not
    # happened in 3 s. (From another thread: call_from_thread waits for the app's loop.)
    threading.Thread(target=_exit_app, args=(app,), daemon=True).start()
    time.sleep(3)
    hung_up(signal.SIGTERM, None)


def _exit_app(app: App[None]) -> None:
    with contextlib.suppress(RuntimeError):  # not running (yet, or any more)
        app.call_from_thread(app.exit)


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
