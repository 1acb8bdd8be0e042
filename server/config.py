"""The hub's limits and paths, apart from the hub itself: `warroom hub` reads its options'
defaults from here without loading the hub (websockets, SQLite) to parse a command line."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class HubConfig:
    """Limits and paths; every field has a command-line option in `warroom hub`."""

    data_dir: Path
    secret: bytes
    max_frame: int = 1 << 20
    send_budget: int = 4 << 20  # bytes queued for one connection before it is cut off
    rate: float = 50.0  # frames per second per person, over all their connections
    burst: float = 200.0
    byte_rate: float = 1 << 20  # bytes of commands per second per person (16 s of it at once)
    handshake_timeout: float = 10.0
    retention: int = 50_000
    max_conns: int = 8  # open connections per person and room
    join_rate: float = 30.0  # connections a person may open per minute (and at once)
    # Connections not yet past their hello; None: 1024, or a quarter of the open-file limit
    # when that is lower, so idle sockets can never take the descriptors people need.
    max_pending: int | None = None
    room_idle: float = 60.0  # seconds a room nobody uses stays open
    linger: float = 10.0  # seconds a visitor's leaving waits for them to come back
    io_threads: int = 8  # journal threads shared by every room


def default(name: str) -> Any:
    """The default of `HubConfig` field `name`, for a command-line option."""
    return next(f.default for f in fields(HubConfig) if f.name == name)
