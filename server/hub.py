"""The hub: accepts websocket connections, authenticates them, and routes their frames to rooms."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import ssl
import time
import zoneinfo
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from urllib.parse import urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from server.auth import AuthError, verify
from server.journal import Journal
from server.peer import Peer
from server.ratelimit import TokenBucket
from server.room import RoomHost, Submission
from warroom import protocol as p
from warroom.core import Actor, Code, Role
from warroom.protocol import Close, ErrorCode, ProtocolError

log = logging.getLogger("warroom.hub")
_ZONES = frozenset(zoneinfo.available_timezones()) | {"UTC"}

_CLOSE_FOR = {
    ErrorCode.BAD_FRAME: Close.BAD_FRAME,
    ErrorCode.BAD_ROOM: Close.BAD_FRAME,
    ErrorCode.UNSUPPORTED_VERSION: Close.UNSUPPORTED_VERSION,
    ErrorCode.HANDSHAKE_REQUIRED: Close.HANDSHAKE_REQUIRED,
}


@dataclass(frozen=True, slots=True)
class HubConfig:
    """Limits and paths; every field has a command-line option in `warroom hub`."""

    data_dir: Path
    secret: bytes
    max_frame: int = 1 << 20
    send_queue: int = 1024
    rate: float = 50.0
    burst: float = 200.0
    handshake_timeout: float = 10.0
    retention: int = 50_000


class Hub:
    """Every room this process serves, and the websocket handler that feeds them."""

    def __init__(self, config: HubConfig) -> None:
        self.config = config
        self.rooms: dict[str, RoomHost] = {}
        self._opening: dict[str, asyncio.Task[RoomHost]] = {}

    async def room(self, name: str) -> RoomHost:
        """The room called `name`, loaded from its journal on first use."""
        if name in self.rooms:
            return self.rooms[name]
        task = self._opening.get(name)
        if task is None:
            task = asyncio.create_task(self._open(name))
            self._opening[name] = task
        return await task

    async def _open(self, name: str) -> RoomHost:
        path = self.config.data_dir / "rooms" / f"{name}.db"
        journal = await asyncio.to_thread(Journal, path)
        host = RoomHost(name, journal, self.config.retention)
        await host.start()
        self.rooms[name] = host
        return host

    async def close(self) -> None:
        """Stop every room, closing its journal."""
        for host in list(self.rooms.values()):
            await host.stop()
        self.rooms.clear()

    def process_request(self, conn: ServerConnection, request: Request) -> Response | None:
        """Answer GET /healthz with 200 on the websocket port; let everything else upgrade."""
        if request.path == "/healthz":
            return conn.respond(HTTPStatus.OK, "ok\n")
        if "upgrade" not in request.headers.get("Connection", "").lower():
            return Response(
                HTTPStatus.UPGRADE_REQUIRED,
                "Upgrade Required",
                Headers([("Content-Type", "text/plain")]),
                b"this is a warroom hub: connect with `warroom join`\n",
            )
        return None

    async def handler(self, ws: ServerConnection) -> None:
        """Run one connection: handshake, then commands until it closes."""
        conn = p.HubConnection()
        try:
            first = await asyncio.wait_for(ws.recv(), self.config.handshake_timeout)
        except TimeoutError:
            await _refuse(
                ws,
                ErrorCode.HANDSHAKE_TIMEOUT,
                Close.HANDSHAKE_TIMEOUT,
                f"no hello within {self.config.handshake_timeout:g}s",
            )
            return
        except ConnectionClosed:
            return
        try:
            hello = conn.receive(first)
            assert isinstance(hello, p.Hello)
            path = urlsplit(ws.request.path).path if ws.request is not None else ""
            path_room = path.strip("/")
            if path_room and path_room != hello.room:
                raise ProtocolError(
                    ErrorCode.BAD_ROOM,
                    f"URL names room {path_room!r} but hello names {hello.room!r}",
                )
            if hello.tz not in _ZONES:
                raise ProtocolError(
                    ErrorCode.BAD_FRAME,
                    f"hello: unknown time zone {hello.tz[:64]!r}; use an IANA name"
                    " such as Europe/Berlin",
                )
        except ProtocolError as exc:
            await _refuse(ws, exc.code, _CLOSE_FOR.get(exc.code, Close.BAD_FRAME), exc.message)
            return
        try:
            claims = verify(self.config.secret, hello.token, hello.room, time.time())
        except AuthError as exc:
            await _refuse(ws, ErrorCode.UNAUTHORIZED, Close.UNAUTHORIZED, str(exc))
            return
        actor = Actor(claims.name, claims.role, secrets.token_hex(6), hello.tz)
        host = await self.room(hello.room)
        wants_logs = hello.presence if hello.logs is None else hello.logs
        peer = Peer(ws, actor, self.config.send_queue, logs=wants_logs)
        peer.log_from = hello.logs_from
        # A script's connection (presence false) is not a person arriving: no join, no leave.
        op = "join" if hello.presence else None
        host.submit(
            Submission(actor, op, {"tz": hello.tz}, trusted=True, joining=peer, resume=hello.resume)
        )
        try:
            await self._serve(ws, conn, host, peer)
        finally:
            host.remove(peer)
            if hello.presence:
                host.submit(Submission(actor, "leave", {}, trusted=True))
            await peer.finish()

    async def _serve(
        self, ws: ServerConnection, conn: p.HubConnection, host: RoomHost, peer: Peer
    ) -> None:
        bucket = TokenBucket(self.config.rate, self.config.burst)
        strikes = 0
        with contextlib.suppress(ConnectionClosed):
            async for data in ws:
                if not bucket.take(time.monotonic()):
                    strikes += 1
                    # A client that ignores rate_limited rejects is flooding; cut it off.
                    if strikes > self.config.burst:
                        peer.drop(Close.RATE_LIMITED, "too many frames; slow down")
                        # Keep reading (and discarding) so the client's close reply gets through.
                        async for _ in ws:
                            pass
                        return
                    _reject_flood(peer, data)
                    continue
                strikes = 0
                try:
                    frame = conn.receive(data)
                except ProtocolError as exc:
                    peer.push(p.encode(p.Error(exc.code, exc.message)))
                    continue
                if isinstance(frame, p.Logs):
                    self._feed(host, peer, frame)
                    continue
                assert isinstance(frame, p.Cmd)
                host.submit(
                    Submission(peer.actor, frame.op, frame.args, cmd_id=frame.id, reply=peer)
                )

    def _feed(self, host: RoomHost, peer: Peer, frame: p.Logs) -> None:
        if peer.actor.role is Role.VISITOR:
            peer.push(p.encode(p.Error(ErrorCode.FORBIDDEN, "visitors cannot feed logs")))
            return
        assert host.logs is not None
        host.logs.receive(peer, frame)

    async def serve(self, host: str, port: int, tls: ssl.SSLContext | None = None) -> Server:
        """Start listening; the returned server's sockets tell the bound port."""
        return await serve(
            self.handler,
            host,
            port,
            process_request=self.process_request,
            max_size=self.config.max_frame,
            compression=None,
            # A client that does not answer our close within 2 s (a stalled one) is cut off.
            close_timeout=2,
            ssl=tls,
            max_queue=64,
        )


def _reject_flood(peer: Peer, data: bytes | str) -> None:
    # Answer with the command's own id when it is readable, so the client can retry it.
    try:
        frame = p.decode_client(data)
    except ProtocolError:
        return
    if isinstance(frame, p.Cmd):
        peer.push(
            p.encode(
                p.RejectFrame(
                    frame.id, Code.RATE_LIMITED.value, "too many commands; wait a moment and retry"
                )
            )
        )


async def _refuse(ws: ServerConnection, code: ErrorCode, close: Close, message: str) -> None:
    with contextlib.suppress(ConnectionClosed):
        await ws.send(p.encode(p.Error(code, message)))
        await ws.close(int(close), message[:120])
