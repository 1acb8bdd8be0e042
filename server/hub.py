"""The hub: accepts websocket connections, authenticates them, and routes their frames to rooms.

Admission is bounded everywhere a stranger could make the hub hold something: connections
not yet past their hello (the oldest is let go when there are too many), connections and
reconnections per person, frames per person across all their connections, bytes queued per
connection. Rooms open on first use and are put away when nobody has used them for a while.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
import secrets
import ssl
import time
import zoneinfo
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from http import HTTPStatus
from urllib.parse import urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from server.admission import Person
from server.auth import AuthError, Claims, is_name, peek, verify
from server.clock import Clock, Timer, as_clock
from server.config import HubConfig as HubConfig  # re-exported: the hub's config
from server.peer import CLOSE_WAIT, Peer
from server.revocations import Revocations
from server.roomhost import RoomHost, Submission, digest, room_refusal
from server.rooms import RoomNameTaken, Rooms, RoomUnavailable
from warroom import protocol as p
from warroom.core import Actor, Code, Role
from warroom.core.roles import role_clash
from warroom.protocol import Close, ErrorCode, ProtocolError

log = logging.getLogger("warroom.hub")
_ZONES = frozenset(zoneinfo.available_timezones()) | {"UTC"}

_CLOSE_FOR = {
    ErrorCode.BAD_FRAME: Close.BAD_FRAME,
    ErrorCode.BAD_ROOM: Close.BAD_FRAME,
    ErrorCode.UNSUPPORTED_VERSION: Close.UNSUPPORTED_VERSION,
    ErrorCode.HANDSHAKE_REQUIRED: Close.HANDSHAKE_REQUIRED,
}
POLL = 0.5  # seconds between looks at the revocation file


@dataclass(slots=True)
class _Live:
    """One admitted connection: its peer, its token and the timer that ends it."""

    peer: Peer
    claims: Claims
    expiry: Timer | None = None


class Hub:
    """Every room this process serves, and the websocket handler that feeds them."""

    def __init__(self, config: HubConfig, clock: Clock | Callable[[], float] = time.time) -> None:
        """`clock` times every wall-clock deadline (a `ManualClock` in tests); a plain
        now-function is read with timers on the event loop."""
        self.config = config
        self.clock = as_clock(clock)
        self._people: dict[tuple[str, str], Person] = {}
        self._live: dict[Peer, _Live] = {}
        self._pending: OrderedDict[ServerConnection, None] = OrderedDict()
        self._pool = ThreadPoolExecutor(config.io_threads, thread_name_prefix="journal")
        self.book = Rooms(
            config.data_dir,
            self._pool,
            self.clock,
            retention=config.retention,
            idle=config.room_idle,
        )
        self._revoked: Revocations | None = None
        self._poller: asyncio.Task[None] | None = None
        self._stopping = False
        self._max_pending = config.max_pending or pending_limit()

    @property
    def rooms(self) -> dict[str, RoomHost]:
        """The rooms open now, by name."""
        return self.book.open

    # --- life cycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Read the hub's own files and wake every room whose deadline is due."""
        await self.book.start()
        loop = asyncio.get_running_loop()
        self._revoked = await loop.run_in_executor(self._pool, Revocations, self.config.data_dir)
        self._poller = asyncio.create_task(self._poll(), name="hub-poll")

    async def close(self) -> None:
        """Stop every room, writing what is queued, and close the hub's files."""
        self._stopping = True
        if self._poller is not None:
            self._poller.cancel()
        for person in self._people.values():
            for name, sub in person.release_lingering():
                host = self.book.open.get(name)
                if host is not None:
                    host.submit(sub)
        await self.book.close()
        if self._revoked is not None:
            await asyncio.get_running_loop().run_in_executor(self._pool, self._revoked.close)
        self._pool.shutdown(wait=True)

    # --- connections -----------------------------------------------------------------------

    def process_request(self, conn: ServerConnection, request: Request) -> Response | None:
        """Answer GET /healthz with 200 on the websocket port; let upgrades through."""
        upgrade = "upgrade" in request.headers.get("Connection", "").lower()
        if urlsplit(request.path).path == "/healthz" and not upgrade:
            return conn.respond(HTTPStatus.OK, "ok\n")
        if not upgrade:
            return Response(
                HTTPStatus.UPGRADE_REQUIRED,
                "Upgrade Required",
                Headers([("Content-Type", "text/plain")]),
                b"this is a warroom hub: connect with `warroom join`\n",
            )
        return None

    def arrived(self, conn: ServerConnection) -> None:
        """A TCP connection was accepted: count it until its hello is accepted, and let one
        go when there are too many (idle sockets must not starve people trying to join).

        The one let go is the oldest that has not even sent its HTTP request: a person's
        client sends it at once, so during a flood of silent sockets a join in the middle of
        its handshake is not the oldest, and not cut, however busy the hub is. Only when
        every pending connection has spoken is the oldest of them let go."""
        pending = self._pending
        pending[conn] = None
        while len(pending) > self._max_pending:
            victim = next((c for c in pending if c.request is None), None)
            if victim is None:
                victim = next(iter(pending))
            del pending[victim]
            victim.transport.abort()

    def departed(self, conn: ServerConnection) -> None:
        """A TCP connection ended."""
        self._pending.pop(conn, None)

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
                    f"URL names room {path_room[:64]!r} but hello names {hello.room!r}",
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
        claims = await self._admit(ws, hello)
        if claims is None:
            return
        self._pending.pop(ws, None)
        person = self._person(hello.room, claims.name)
        self.book.use(hello.room)
        try:
            await self._join(ws, conn, hello, claims, person)
        finally:
            person.vacate()
            self.book.release(hello.room)

    async def _admit(self, ws: ServerConnection, hello: p.Hello) -> Claims | None:
        """The claims of an acceptable hello; otherwise refuse the connection, say why (and
        log it, never the token), and return None."""
        try:
            claims = verify(self.config.secret, hello.token, hello.room, self.clock.now())
            revoked = await self._revocation(claims)
            if revoked:
                raise AuthError(revoked)
        except AuthError as exc:
            claimed = peek(hello.token).get("sub")
            who = claimed if is_name(claimed) else "a token naming nobody"
            log.warning("refused %s for room %s from %s: %s", who, hello.room, _peer(ws), exc)
            await _refuse(ws, ErrorCode.UNAUTHORIZED, Close.UNAUTHORIZED, str(exc))
            return None
        person = self._person(hello.room, claims.name)
        refusal = person.admit(self.clock.now(), self.config.max_conns)
        if refusal:
            log.warning("refused %s for room %s: %s", claims.name, hello.room, refusal)
            await _refuse(ws, ErrorCode.TOO_MANY, Close.TOO_MANY, refusal)
            return None
        return claims

    async def _join(
        self,
        ws: ServerConnection,
        conn: p.HubConnection,
        hello: p.Hello,
        claims: Claims,
        person: Person,
    ) -> None:
        try:
            host = await self.book.get(hello.room)
        except RoomNameTaken as exc:
            await _refuse(ws, ErrorCode.BAD_ROOM, Close.BAD_FRAME, f"room {hello.room}: {exc}")
            return
        except RoomUnavailable as exc:
            reason = room_refusal(hello.room, str(exc))
            await _refuse(ws, ErrorCode.ROOM_UNAVAILABLE, Close.ROOM_UNAVAILABLE, reason)
            return
        # The room may have taken a while to open: look again at what could have changed.
        # From this look on there is no wait until the connection is in `_live`, where the
        # poll sees it: a revocation cannot slip between the two.
        revoked = await self._revocation(claims)
        refusal = self._still_refused(host, claims, hello, revoked)
        if refusal is not None:
            code, close, reason = refusal
            log.warning("refused %s for room %s: %s", claims.name, hello.room, reason)
            await _refuse(ws, code, close, reason)
            return
        member = host.state.members.get(claims.name)
        clash = role_clash(host.state, Actor(claims.name, claims.role)) is not None
        wants_logs = hello.presence if hello.logs is None else hello.logs
        # A visitor back within the linger keeps the connection id it left with: no churn.
        # Not one that comes back as someone else: a new role or zone is a new arrival.
        same = member is not None and not clash and member.tz == hello.tz
        conn_id = person.take_back() if hello.presence and same else None
        rejoining = conn_id is not None
        if rejoining:
            self.book.release(hello.room)  # the use its held leave kept
        actor = Actor(claims.name, claims.role, conn_id or secrets.token_hex(6), hello.tz)
        peer = Peer(ws, actor, self.config.send_budget, logs=wants_logs)
        peer.log_from = hello.logs_from
        live = self._live[peer] = _Live(peer, claims)
        live.expiry = self.clock.call_at(claims.expires, partial(self._end_token, peer))
        # A script's connection (presence false) is not a person arriving: no join, no leave.
        op = "join" if hello.presence and not rejoining else None
        args = {"tz": hello.tz, **({"rerole": True} if claims.rerole else {})}
        host.submit(Submission(actor, op, args, trusted=True, joining=peer, resume=hello.resume))
        try:
            await self._serve(ws, conn, host, peer, person)
        finally:
            host.remove(peer)
            if live.expiry is not None:
                live.expiry.cancel()
            self._live.pop(peer, None)
            if hello.presence:
                self._leave(host, person, actor)
            await peer.finish()

    def _still_refused(
        self, host: RoomHost, claims: Claims, hello: p.Hello, revoked: str | None
    ) -> tuple[ErrorCode, Close, str] | None:
        """Why a connection admitted before the room opened is refused now: the room proved
        damaged, the token was revoked or ran out meanwhile, or the room knows the person
        with another role (the core's rule; a `rerole` token changes it only by joining)."""
        if host.damage:
            reason = room_refusal(host.name, host.damage)
            return ErrorCode.ROOM_UNAVAILABLE, Close.ROOM_UNAVAILABLE, reason
        if revoked:
            return ErrorCode.UNAUTHORIZED, Close.UNAUTHORIZED, revoked
        if self.clock.now() >= claims.expires:
            return (
                ErrorCode.UNAUTHORIZED,
                Close.UNAUTHORIZED,
                "token has expired; ask for a new one",
            )
        clash = role_clash(host.state, Actor(claims.name, claims.role))
        if clash is not None and not (claims.rerole and hello.presence):
            extra = " until it joins with presence, which records the new role"
            return (
                ErrorCode.UNAUTHORIZED,
                Close.UNAUTHORIZED,
                clash.reason + (extra if claims.rerole else ""),
            )
        return None

    def _leave(self, host: RoomHost, person: Person, actor: Actor) -> None:
        leave = Submission(actor, "leave", {}, trusted=True)
        if actor.role is not Role.VISITOR or self._stopping or self.config.linger <= 0:
            host.submit(leave)
            return
        # The room stays in use while the leave waits, so it is written before it closes.
        self.book.use(host.name)

        def gone() -> None:
            host.submit(leave)
            self.book.release(host.name)

        person.linger(actor.conn, host.name, leave, self.config.linger, gone)

    async def _serve(
        self,
        ws: ServerConnection,
        conn: p.HubConnection,
        host: RoomHost,
        peer: Peer,
        person: Person,
    ) -> None:
        live = self._live[peer]
        with contextlib.suppress(ConnectionClosed):
            async for data in ws:
                if not peer.alive:
                    continue  # ended (revoked, expired, damaged): read, never act, until closed
                if self.clock.now() >= live.claims.expires:
                    self._end_token(peer)
                    continue
                now = time.monotonic()
                if not person.bucket.take(now):
                    self._over_limit(peer, person, now, data)
                    continue
                try:
                    frame = conn.receive(data)
                except ProtocolError as exc:
                    peer.push(p.encode(p.Error(exc.code, exc.message)))
                    continue
                if isinstance(frame, p.Logs):
                    self._feed(host, peer, frame)
                    continue
                assert isinstance(frame, p.Cmd)
                # Commands are journaled for good: their bytes are bounded too, not only their
                # number (log lines are kept only to the retention, so they are not counted).
                if not person.volume.take(now, len(data)):
                    self._over_limit(peer, person, now, data)
                    continue
                host.submit(
                    Submission(
                        peer.actor,
                        frame.op,
                        frame.args,
                        cmd_id=frame.id,
                        reply=peer,
                        size=len(data),
                        digest=digest(frame.op, frame.args),
                    )
                )

    def _over_limit(self, peer: Peer, person: Person, now: float, data: bytes | str) -> None:
        """Answer an over-limit frame `rate_limited`; once it is a flood, cut the connection
        off (its later frames are read and dropped, so the close handshake completes)."""
        if person.strike(now):
            peer.drop(Close.RATE_LIMITED, "too many frames; slow down")
        else:
            _reject_flood(peer, data)

    def _feed(self, host: RoomHost, peer: Peer, frame: p.Logs) -> None:
        if peer.actor.role is Role.VISITOR:
            peer.push(p.encode(p.Error(ErrorCode.FORBIDDEN, "visitors cannot feed logs")))
            return
        assert host.logs is not None
        host.logs.receive(peer, frame)

    def _person(self, room: str, name: str) -> Person:
        key = (room, name)
        person = self._people.get(key)
        if person is None:
            person = self._people[key] = Person(
                self.config.rate,
                self.config.burst,
                self.config.join_rate,
                self.config.byte_rate,
                max(16 * self.config.byte_rate, self.config.max_frame),
            )
        return person

    def _end_token(self, peer: Peer, why: str = "") -> None:
        """Close a connection whose token ran out (or was revoked, saying `why`)."""
        if why:
            code, text = Close.TOKEN_REVOKED, why
        else:
            code, text = Close.TOKEN_EXPIRED, "your token expired; ask for a new one"
        log.warning("closed %s (connection %s): %s", peer.actor.name, peer.actor.conn, text)
        peer.drop(code, text, p.encode(p.Error(ErrorCode.UNAUTHORIZED, text)))

    async def _revocation(self, claims: Claims) -> str | None:
        """Why `claims`' token is revoked, as the revocation file says now; None if it is not."""
        revoked = self._revoked
        if revoked is None:
            return None
        await asyncio.get_running_loop().run_in_executor(self._pool, revoked.refresh)
        return revoked.reason(claims)

    async def _poll(self) -> None:
        """Look at the revocation file twice a second; forget people long gone."""
        loop = asyncio.get_running_loop()
        seen = -1
        while True:
            await asyncio.sleep(POLL)
            revoked = self._revoked
            if revoked is None:
                continue
            await loop.run_in_executor(self._pool, revoked.refresh)
            # Whoever refreshed (a join may have), every open connection is looked at again.
            if revoked.changes != seen:
                seen = revoked.changes
                for live in list(self._live.values()):
                    why = revoked.reason(live.claims)
                    if why:
                        self._end_token(live.peer, why)
            now = time.monotonic()
            for key in [k for k, v in self._people.items() if v.forgettable(now)]:
                del self._people[key]

    async def serve(self, host: str, port: int, tls: ssl.SSLContext | None = None) -> Server:
        """Start listening; the returned server's sockets tell the bound port."""
        await self.start()
        hub = self

        class _Connection(ServerConnection):
            """Tells the hub when a TCP connection starts and ends, before any handshake; and
            ends one whose peer closed the WebSocket but never the TCP connection."""

            reaper: asyncio.TimerHandle | None = None

            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                super().connection_made(transport)
                hub.arrived(self)

            def data_received(self, data: bytes) -> None:
                super().data_received(data)
                # After the close handshake websockets waits for the peer to close TCP, and
                # `recv` with it: a peer that never does (its process stopped reading) held
                # the connection's handler, and with it the hub's shutdown, forever.
                if self.reaper is None and self.protocol.close_expected():
                    self.reaper = self.loop.call_later(CLOSE_WAIT, self.transport.abort)

            def connection_lost(self, exc: Exception | None) -> None:
                super().connection_lost(exc)
                if self.reaper is not None:
                    self.reaper.cancel()
                hub.departed(self)

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
            create_connection=_Connection,
            # Past asyncio's 100: during a flood of sockets a person's SYN waits in the kernel
            # rather than being dropped and retried a second later.
            backlog=1024,
            # A TLS connection reaches `arrived` only once its TLS handshake is done; websockets
            # bounds that handshake by its open timeout (10 s), not asyncio's 60 s.
        )


def pending_limit() -> int:
    """The default cap on connections not past their hello, from the open-file limit."""
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if soft == resource.RLIM_INFINITY:
        return 1024
    return max(16, min(1024, soft // 4))


def _peer(ws: ServerConnection) -> str:
    try:
        host, port = ws.remote_address[:2]
    except (TypeError, ValueError):
        return "an unknown address"
    return f"{host}:{port}"


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
    # Bounded: a refused peer that does not read must not hold the handler.
    with contextlib.suppress(ConnectionClosed, TimeoutError, OSError):
        async with asyncio.timeout(2):
            await ws.send(p.encode(p.Error(code, message)))
            await ws.close(int(close), p.close_reason(message))
    ws.transport.abort()
