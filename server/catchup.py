"""Catching a joining connection up: the welcome, then a snapshot or the events it missed, then
the log backlog, produced frame by frame as its socket drains.

What a joiner needs is decided in the room's order, when its arrival is committed; the frames
are made only when its writer asks for the next one, so a slow reader holds one frame at a
time, not a copy of the room. The room's state is encoded once per head for every joiner and
sent in parts when it is bigger than a frame. Live log lines are not queued to a connection
still catching up: its backlog runs up to the newest line at the moment it is done, and only
then does it take the live stream, so a slow link loading a big room is not cut off for the
lines that poured in meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from server.journal import JournalDamaged
from server.peer import Peer
from warroom import protocol as p
from warroom.core import RoomState, acting_role
from warroom.core.wire import event_to_wire, state_to_wire
from warroom.protocol import Resume

if TYPE_CHECKING:
    from server.roomhost import RoomHost

log = logging.getLogger("warroom.hub")

SNAPSHOT_RECENT = 300  # events sent with a snapshot so the timeline has context
RECENT_BYTES = 256 << 10  # and their encoded size at most
RESUME_FROM_DISK = 50_000  # beyond this a snapshot is cheaper than replaying events
EVENTS_PER_FRAME = 1000  # in a catch-up `events` frame
FRAME_BYTES = 1 << 20  # any events frame (one bigger event goes alone); a snapshot part


class CatchUp:
    """Builds the catch-up of each connection joining one room."""

    def __init__(self, room: RoomHost) -> None:
        self._room = room
        self._packed: tuple[int, asyncio.Future[bytes]] | None = None

    def frames(self, peer: Peer, resume: Resume | None) -> AsyncIterator[bytes]:
        """What `peer` needs, decided now (in the room's order), made as it is sent."""
        room = self._room
        missed = self._from_ring(resume)
        from_disk = None if missed is not None else self._from_disk(resume)
        resumed = missed is not None or from_disk is not None
        welcome = p.encode(
            p.Welcome(
                p.VERSION,
                room.name,
                peer.actor.name,
                acting_role(room.state, peer.actor).value,
                room.epoch,
                room.head,
                resumed,
            )
        )
        snapshot = None if resumed else (room.state, room.head, self._recent())
        log_start: int | None = None
        if peer.logs and room.logs is not None:
            # A log position from another epoch (a reset journal) means nothing here.
            other_epoch = resume is not None and resume.epoch not in ("", room.epoch)
            log_start = room.logs.backlog_start(None if other_epoch else peer.log_from)
            peer.catching_up = True
        return self._frames(peer, welcome, snapshot, missed, from_disk, log_start)

    def _from_ring(self, resume: Resume | None) -> list[bytes] | None:
        room = self._room
        if resume is None or resume.epoch not in ("", room.epoch) or resume.seq > room.head:
            return None
        if resume.seq == room.head:
            return []
        ring = room.ring
        if ring and ring[0][0] <= resume.seq + 1:
            return [b for seq, b in ring if seq > resume.seq]
        return None

    def _from_disk(self, resume: Resume | None) -> tuple[int, int] | None:
        room = self._room
        if resume is None or resume.epoch not in ("", room.epoch) or resume.seq > room.head:
            return None
        if room.head - resume.seq > RESUME_FROM_DISK:
            return None
        return resume.seq, room.head

    def _recent(self) -> list[bytes]:
        recent: list[bytes] = []
        size = 0
        for _, packed in reversed(self._room.ring):
            if len(recent) >= SNAPSHOT_RECENT or size + len(packed) > RECENT_BYTES:
                break
            recent.append(packed)
            size += len(packed)
        recent.reverse()
        return recent

    async def _frames(
        self,
        peer: Peer,
        welcome: bytes,
        snapshot: tuple[RoomState, int, list[bytes]] | None,
        missed: list[bytes] | None,
        from_disk: tuple[int, int] | None,
        log_start: int | None,
    ) -> AsyncIterator[bytes]:
        room = self._room
        yield welcome
        try:
            if snapshot is not None:
                async for frame in self._snapshot(*snapshot):
                    yield frame
            elif missed is not None:
                for run in p.chunks(missed, FRAME_BYTES, EVENTS_PER_FRAME):
                    yield p.events_frame(room.epoch, run)
            elif from_disk is not None:
                async for frame in self._from_journal(*from_disk):
                    yield frame
            if log_start is not None and room.logs is not None:
                logs, after = room.logs, log_start
                # Until the backlog has reached the newest line, with no wait between that
                # look and taking the live stream, so no line falls between the two.
                while logs.published > after:
                    upto = logs.published
                    for frame in await logs.backlog_frames(after, upto):
                        yield frame
                    after = upto
                peer.catching_up = False
        except JournalDamaged as exc:
            room.damaged(str(exc))
        except Exception:
            log.exception("room %s: could not catch %s up", room.name, peer.actor.name)
            peer.drop(p.Close.INTERNAL, "the hub could not catch you up")

    async def _from_journal(self, after: int, upto: int) -> AsyncIterator[bytes]:
        room = self._room
        while after < upto:
            entries = await room.io.run(room.journal.batch, after, upto, EVENTS_PER_FRAME)
            if not entries:
                raise JournalDamaged(f"events {after + 1}..{upto} cannot be read")
            packed = [p.pack(event_to_wire(e.event, e.seq)) for e in entries]
            for run in p.chunks(packed, FRAME_BYTES, EVENTS_PER_FRAME):
                yield p.events_frame(room.epoch, run)
            after = entries[-1].seq

    async def _snapshot(
        self, state: RoomState, head: int, recent: list[bytes]
    ) -> AsyncIterator[bytes]:
        epoch = self._room.epoch
        # Shielded: one joiner that goes away must not cancel the encoding the others await.
        packed = await asyncio.shield(self._packed_state(state, head))
        if len(packed) + sum(map(len, recent)) <= FRAME_BYTES:
            yield p.snapshot_frame(epoch, head, packed, recent)
            return
        parts = -(-len(packed) // FRAME_BYTES)
        yield p.snapshot_frame(epoch, head, None, recent, parts, len(packed))
        view = memoryview(packed)
        for i in range(parts):
            piece = bytes(view[i * FRAME_BYTES : (i + 1) * FRAME_BYTES])
            yield p.encode(p.SnapshotPart(epoch, head, i, piece))

    def _packed_state(self, state: RoomState, head: int) -> asyncio.Future[bytes]:
        """The state at `head` encoded, off the event loop, once for every joiner at `head`."""
        cached = self._packed
        if cached is not None and cached[0] == head and not _failed(cached[1]):
            return cached[1]
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._room.pool, lambda: p.pack(state_to_wire(state)))
        self._packed = (head, future)
        return future


def _failed(future: asyncio.Future[bytes]) -> bool:
    return future.cancelled() or (future.done() and future.exception() is not None)
