"""Fixtures for any test tier: a real hub in a child process, and tokens it accepts."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from server.auth import load_or_create_secret, mint
from warroom.core import Role
from warroom.hubproc import HubProcess

Minter = Callable[..., str]


@pytest.fixture
def hub_process(tmp_path: Path) -> Iterator[HubProcess]:
    """A `warroom hub` child on a free port with its data in tmp_path/hub; stopped afterwards."""
    hub = HubProcess(tmp_path / "hub")
    yield hub
    hub.stop()


@pytest.fixture
def mint_token(hub_process: HubProcess) -> Minter:
    """`mint_token(name, role="engineer", room="room1", ttl=3600)`: a token for `hub_process`."""
    secret = load_or_create_secret(hub_process.data_dir)

    def make(name: str, role: str = "engineer", room: str = "room1", ttl: int = 3600) -> str:
        return mint(secret, room, name, Role(role), ttl, time.time())

    return make
