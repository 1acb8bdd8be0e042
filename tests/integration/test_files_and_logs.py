"""Files and logs: a refused token is logged with the name it claims and why, never the token
itself; journals and the data dir are the hub owner's alone, whatever the umask."""

from __future__ import annotations

import logging
import os
import stat
import time
from pathlib import Path

import pytest

from server.auth import load_or_create_secret, mint
from tests.integration.conftest import LiveHub, Raw
from warroom import protocol as p
from warroom.core import Role
from warroom.hubproc import HubProcess


async def refused(hub: LiveHub, token: str) -> p.HubFrame:
    raw = await Raw.open(hub.url())
    await raw.ws.send(p.encode(p.Hello(p.VERSION, token, "r1")))
    frame = await raw.frame()
    await raw.close()
    return frame


async def test_failed_authentication_is_logged_with_name_and_reason_not_token(
    hub: LiveHub, caplog: pytest.LogCaptureFixture
) -> None:
    now = time.time()
    cases = {
        # token: (what the log names, why)
        mint(
            b"the secret of some other hub, 32+ bytes", "r1", "mallory", Role.CONDUCTOR, 600, now
        ): (
            "mallory",
            "signature is not valid",
        ),
        mint(hub.secret, "r1", "ex-contractor", Role.ENGINEER, 1, now - 3600): (
            "ex-contractor",
            "expired",
        ),
        mint(hub.secret, "other-room", "wanderer", Role.ENGINEER, 600, now): (
            "wanderer",
            "for room 'other-room'",
        ),
        "not-a-token-at-all": ("a token naming nobody", "malformed"),
    }
    with caplog.at_level(logging.WARNING, logger="warroom.hub"):
        for token in cases:
            frame = await refused(hub, token)
            assert isinstance(frame, p.Error) and frame.code == "unauthorized"
    lines = [r.getMessage() for r in caplog.records if r.name == "warroom.hub"]
    print("\n" + "\n".join(lines))
    for who, why in cases.values():
        logged = [line for line in lines if who in line and why in line]
        assert logged, f"no log line names {who} and says {why!r}"
        assert "127.0.0.1" in logged[0] and "room r1" in logged[0]
    for token in cases:
        for text in (caplog.text, *lines):
            assert token not in text
            assert token.split(".")[-1] not in text  # not even its signature


def modes(root: Path) -> dict[str, str]:
    """Every path under `root` (and `root`) with its permission bits."""
    return {
        str(path.relative_to(root.parent)): oct(stat.S_IMODE(path.stat().st_mode))
        for path in sorted([root, *root.rglob("*")])
    }


async def test_the_data_dir_and_journals_are_owner_only_whatever_the_umask(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"  # the hub creates it
    before = os.umask(0)  # the most permissive umask: the hub must not rely on it
    try:
        hub = HubProcess(data)
    finally:
        os.umask(before)
    try:
        secret = load_or_create_secret(data)
        raw = await Raw.open(hub.room_url("r1"))
        await raw.hello(mint(secret, "r1", "ana", Role.ENGINEER, 600, time.time()))
        await raw.cmd("c1", "note", text="written")
        assert isinstance(await raw.answer("c1"), p.Ack)
        while_open = modes(data)
        await raw.close()
    finally:
        hub.stop()
    after_stop = modes(data)
    print(f"\n{while_open}\n{after_stop}")
    for seen in (while_open, after_stop):
        assert "data/rooms/r1.db" in seen and "data/secret.key" in seen
        for path, mode in seen.items():
            is_dir = (tmp_path / path).is_dir()
            assert mode == ("0o700" if is_dir else "0o600"), f"{path} is {mode}"
    assert any(path.endswith("-wal") for path in while_open)  # companions checked too
