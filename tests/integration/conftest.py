"""A real hub on localhost port 0, in the test's own event loop, and raw protocol clients."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from server.auth import load_or_create_secret, mint
from server.clock import ManualClock
from server.hub import Hub, HubConfig
from warroom import protocol as p
from warroom.core import Role


@dataclass
class LiveHub:
    """A running in-process hub."""

    hub: Hub
    port: int
    secret: bytes
    data_dir: Path

    def url(self, room: str = "r1") -> str:
        return f"ws://127.0.0.1:{self.port}/{room}"

    def token(self, name: str, role: str = "engineer", room: str = "r1", ttl: int = 3600) -> str:
        return mint(self.secret, room, name, Role(role), ttl, time.time())


async def start_hub(
    data_dir: Path, clock: ManualClock | None = None, **limits: Any
) -> tuple[LiveHub, Any]:
    """A hub on localhost port 0; on `clock`, its deadlines come when the test advances it.
    Started again on the same `data_dir`, it is the same hub after a restart."""
    secret = load_or_create_secret(data_dir)
    config = HubConfig(data_dir=data_dir, secret=secret, **limits)
    hub = Hub(config) if clock is None else Hub(config, clock=clock)
    server = await hub.serve("127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return LiveHub(hub, port, secret, data_dir), server


async def stop_hub(live: LiveHub, server: Any) -> None:
    server.close()
    await server.wait_closed()
    await live.hub.close()


@pytest.fixture
async def hub(tmp_path: Path) -> AsyncIterator[LiveHub]:
    live, server = await start_hub(tmp_path, rate=10_000.0, burst=10_000.0, byte_rate=1e9)
    yield live
    await stop_hub(live, server)


class Raw:
    """A bare protocol client: frames in, frames out, nothing hidden."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    @classmethod
    async def open(cls, url: str, rcvbuf: int | None = None) -> Raw:
        """Connect; a small `rcvbuf` (set before connecting, so the kernel cannot grow it)
        makes a client that can only take a trickle."""
        if rcvbuf is None:
            return cls(await connect(url, compression=None, max_size=None, close_timeout=2))
        import asyncio
        import socket
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, (parts.hostname, parts.port))
        return cls(await connect(url, sock=sock, compression=None, max_size=None, close_timeout=2))

    async def hello(self, token: str, room: str = "r1", **extra: Any) -> p.Welcome:
        await self.ws.send(p.encode(p.Hello(p.VERSION, token, room, **extra)))
        welcome = await self.frame()
        assert isinstance(welcome, p.Welcome), welcome
        return welcome

    async def cmd(self, cid: str, op: str, **args: Any) -> None:
        await self.ws.send(p.encode(p.Cmd(cid, op, args)))

    async def frame(self, timeout: float = 5.0) -> p.HubFrame:
        import asyncio

        return p.decode_hub(await asyncio.wait_for(self.ws.recv(), timeout))

    async def until(self, kind: type, timeout: float = 5.0) -> Any:
        """Read frames until one of type `kind` arrives; return it."""
        while True:
            frame = await self.frame(timeout)
            if isinstance(frame, kind):
                return frame

    async def answer(self, cid: str, timeout: float = 5.0) -> p.Ack | p.RejectFrame:
        while True:
            frame = await self.frame(timeout)
            if isinstance(frame, p.Ack | p.RejectFrame) and frame.id == cid:
                return frame

    async def close(self) -> None:
        await self.ws.close()
