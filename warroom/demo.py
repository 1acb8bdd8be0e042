"""`warroom demo`: a hub in a temporary directory and the client in a sample room."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from warroom.core import Role
from warroom.hubproc import HubProcess
from warroom.timezones import local_tz

ROOM = "train-demo"


def run_demo(role: Role) -> None:
    """Run the demo until the user quits; the hub and its files are gone afterwards."""
    from server.auth import load_or_create_secret, mint
    from warroom.tui.app import WarroomApp

    with tempfile.TemporaryDirectory(prefix="warroom-demo-") as tmp:
        data = Path(tmp)
        hub = HubProcess(data)
        try:
            secret = load_or_create_secret(data)
            name = {"conductor": "you", "engineer": "you", "visitor": "guest"}[role.value]
            token = mint(secret, ROOM, name, role, 12 * 3600, time.time())
            WarroomApp(hub.room_url(ROOM), token, local_tz()).run()
        finally:
            hub.stop()
