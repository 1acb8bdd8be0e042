"""`warroom demo`: a hub in a temporary directory and the client in a sample room."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from warroom.core import Role
from warroom.hubproc import HubProcess
from warroom.timezones import local_tz

ROOM = "train-demo"
SAMPLE_RUNBOOK = Path(__file__).resolve().parents[1] / "examples" / "mediawiki-train.toml"


def run_demo(role: Role) -> None:
    """Run the demo until the user quits; the hub and its files are gone afterwards."""
    from server.auth import load_or_create_secret, mint
    from warroom.tui.app import WarroomApp

    with tempfile.TemporaryDirectory(prefix="warroom-demo-") as tmp:
        data = Path(tmp)
        hub = HubProcess(data)
        try:
            secret = load_or_create_secret(data)
            name = _your_name()
            token = mint(secret, ROOM, name, role, 12 * 3600, time.time())
            # The sample train is opened by whoever conducts: you, or "ana" when you watch.
            conductor = name if role is Role.CONDUCTOR else "ana"
            opener = mint(secret, ROOM, conductor, Role.CONDUCTOR, 3600, time.time())
            _open_sample_train(hub.room_url(ROOM), opener)
            WarroomApp(hub.room_url(ROOM), token, local_tz()).run()
        finally:
            hub.stop()


def _your_name() -> str:
    """The login name when it can name a person, else "demo"."""
    import getpass

    from server.auth import AuthError, check_name

    try:
        return check_name(getpass.getuser())
    except (AuthError, OSError, KeyError):
        return "demo"


def _open_sample_train(url: str, token: str) -> None:
    """Open the MediaWiki-style sample train, when the examples are at hand (a source checkout)."""
    import asyncio

    from warroom.core.runbook import parse, to_data
    from warroom.script import send_one

    path = SAMPLE_RUNBOOK
    if not path.is_file():
        return
    runbook = to_data(parse(path.read_text(encoding="utf-8"), str(path)))
    asyncio.run(send_one(url, token, "open_train", {"runbook": runbook, "version": "1.44.0-wmf.5"}))
