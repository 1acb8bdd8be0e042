"""One room on the hub: the authoritative state, its journal, and the single committer task.

Every change goes through `submit`. The committer takes whatever has queued up, decides
each command against the working state, writes the whole group in one transaction (one fsync),
then fans the events out and acknowledges. Nothing is sent before it is durable.

Every frame the room builds is bounded by bytes: events are encoded once each and cut into
frames of at most `FRAME_BYTES`; a state too big for one frame goes out in parts; the ring of
recent events and the events sent with a snapshot have byte budgets, not only counts.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from server.deadlines import DeadlineIndex
from server.journal import CommandRecord, Entry, Journal, JournalDamaged
from server.logstore import LogStore
from server.logstream import LogStream
from server.peer import Peer, wire_frame
from server.roomio import SerialIO
from warroom import protocol as p
from warroom.core import (
    Actor,
    Code,
    Command,
    Reject,
    Role,
    RoomState,
    acting_role,
    apply,
    decide,
    replay,
)
from warroom.core.handoff import absent_since
from warroom.core.runbook import Rules
from warroom.core.wire import event_to_wire, state_to_wire
from warroom.protocol import Resume

log = logging.getLogger("warroom.hub")

MAX_BATCH = 2000  # commands decided in one group
MAX_BATCH_BYTES = 8 << 20  # and the frames they came in, in bytes
RING = 5000  # recent events kept in memory for resumes and snapshots
RING_BYTES = 32 << 20  # and their encoded size at most
SNAPSHOT_RECENT = 300  # events sent with a snapshot so the timeline has context
RECENT_BYTES = 256 << 10  # and their encoded size at most
RESUME_FROM_DISK = 50_000  # beyond this a snapshot is cheaper than replaying events
EVENTS_PER_FRAME = 1000  # in a catch-up `events` frame
FRAME_BYTES = 1 << 20  # any events frame (one bigger event goes alone); a snapshot part
REJECT_MEMORY = 10_000
HUB = Actor("hub", Role.ENGINEER, "hub")

Clock = Callable[[], float]


def digest(op: str, args: Mapping[str, Any]) -> bytes:
    """What a command asks, in 8 bytes: a retried id must ask the same thing."""
    return hashlib.blake2b(p.pack([op, _canonical(args)]), digest_size=8).digest()


def _canonical(value: Any) -> Any:
    if isinstance(value, Mapping):
        return [[k, _canonical(value[k])] for k in sorted(value, key=str)]
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return value


@dataclass(slots=True)
class _Group:
    """One commit group in the making: the working state and everything to write and say."""

    state: RoomState
    head: int
    entries: list[Entry] = field(default_factory=list)
    records: list[CommandRecord] = field(default_factory=list)
    acked: dict[tuple[str, str], tuple[int, bytes]] = field(default_factory=dict)
    rejected: dict[tuple[str, str], tuple[Reject, bytes]] = field(default_factory=dict)
    # (submission, seq or reject, whether that answer was settled before this group)
    answers: list[tuple[Submission, int | Reject, bool]] = field(default_factory=list)


def _answer(sub: Submission, answer: int | Reject, epoch: str) -> None:
    if sub.reply is None or sub.cmd_id is None:
        return
    if isinstance(answer, Reject):
        sub.reply.push(p.encode(p.RejectFrame(sub.cmd_id, answer.code.value, answer.reason)))
    else:
        sub.reply.push(p.encode(p.Ack(sub.cmd_id, epoch, answer)))


@dataclass(slots=True)
class Submission:
    """A command waiting for the committer, with where its answer goes."""

    actor: Actor
    op: str | None  # None: nothing to decide, only a connection to welcome in order
    args: Mapping[str, Any]
    cmd_id: str | None = None
    reply: Peer | None = None
    trusted: bool = False
    joining: Peer | None = None
    resume: Resume | None = None
    size: int = 0  # bytes of the frame it came in
    digest: bytes = b""  # of op and args, for commands with an id


def next_deadline(state: RoomState) -> float | None:
    """When the hub must next act on its own in this room, if ever."""
    due = _due(state)
    return min(when for when, _, _ in due) if due else None


def _due(state: RoomState) -> list[tuple[float, str, dict[str, Any]]]:
    """The deadlines in the state: a vote's, an offer's, and the grace period of a
    conductor who dropped, each with the op the hub sends when it comes."""
    due: list[tuple[float, str, dict[str, Any]]] = []
    if state.vote is not None and state.vote.open:
        due.append((state.vote.deadline, "expire_vote", {"vote": state.vote.id}))
    if state.offer is not None:
        due.append((state.offer.expires, "expire_offer", {}))
    holder = state.members.get(state.conductor) if state.conductor else None
    if state.conductor and (holder is None or not holder.present):
        rules = state.train.rules if state.train is not None else Rules()
        due.append((absent_since(state) + rules.handoff_grace, "vacate_seat", {}))
    return due


class RoomHost:
    """The authoritative copy of one room."""

    def __init__(
        self,
        name: str,
        journal: Journal,
        pool: ThreadPoolExecutor,
        *,
        retention: int = 50_000,
        clock: Clock,
        index: DeadlineIndex | None = None,
        on_damage: Callable[[RoomHost, str], None] | None = None,
    ) -> None:
        self.name = name
        self.journal = journal
        self.epoch = journal.epoch
        self.state = RoomState(room=name)
        self.head = 0
        self.peers: set[Peer] = set()
        self.damage = ""  # why the journal cannot be trusted, once found
        self._ring: deque[tuple[int, bytes]] = deque()
        self._ring_bytes = 0
        self._acked: dict[tuple[str, str], tuple[int, bytes]] = {}
        self._rejected: OrderedDict[tuple[str, str], tuple[Reject, bytes]] = OrderedDict()
        self._inbox: asyncio.Queue[Submission | None] = asyncio.Queue()
        self._pool = pool
        self.io = SerialIO(pool)
        self._task: asyncio.Task[None] | None = None
        self._committing = False
        self.last_ts = 0.0
        self._retention = retention
        self._clock = clock
        self._index = index
        self._indexed: float | None = None  # the deadline the index holds for this room
        self._on_damage = on_damage
        self.logs: LogStream | None = None
        self._timers: list[asyncio.TimerHandle] = []
        self._snapshot: tuple[int, asyncio.Future[bytes]] | None = None

    # --- life cycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Rebuild the state from the journal and start committing; JournalDamaged if the
        journal cannot be trusted."""
        entries = await self.io.run(lambda: list(self.journal.entries()))
        records = await self.io.run(lambda: list(self.journal.commands()))
        self.state = replay(self.name, (e.event for e in entries))
        if entries:
            self.head = entries[-1].seq
            self.last_ts = entries[-1].event.ts
        self._remember(entries[-RING:])
        self._acked = {(r.actor, r.id): (r.seq, r.digest) for r in records}
        store = await self.io.run(LogStore, self.journal.db, self._retention)
        self.logs = LogStream(
            store,
            self.io,
            self.epoch,
            lambda: self.peers,
            self._alert,
            self._clock,
            self._spike_rules,
        )
        if self._index is not None:
            self._indexed = await self.io.run(self._index.get, self.name)
        self._task = asyncio.create_task(self._commit_loop(), name=f"room-{self.name}")
        # Connections do not survive a restart; say so in the journal so state matches reality.
        self.submit(Submission(HUB, "reset_presence", {}, trusted=True))
        self._arm_timers()  # deadlines outlive a restart

    @property
    def idle(self) -> bool:
        """Nobody connected, nothing queued or being written: the room can be put away."""
        logs_idle = self.logs is None or self.logs.idle
        return not self.peers and self._inbox.empty() and not self._committing and logs_idle

    async def stop(self) -> None:
        """Decide and write whatever is queued, then stop the committer and close the
        journal. The next deadline stays in the hub's index, to reopen the room for it."""
        for handle in self._timers:
            handle.cancel()
        if self._task is not None and not self._task.done():
            self._inbox.put_nowait(None)
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        if self.logs is not None:
            await self.logs.flushed()
        await self.io.run(self.journal.close)

    def _arm_timers(self) -> None:
        """Have the hub act when a deadline in the state comes; at once if it has passed."""
        for handle in self._timers:
            handle.cancel()
        self._timers = []
        loop, now = asyncio.get_running_loop(), self._clock()
        for when, op, args in _due(self.state):
            sub = Submission(HUB, op, args, trusted=True)
            self._timers.append(loop.call_later(max(0.0, when - now), self.submit, sub))

    def _alert(self, source: str, text: str) -> None:
        self.submit(Submission(HUB, "raise_alert", {"source": source, "text": text}, trusted=True))

    def _spike_rules(self) -> tuple[float, int]:
        train = self.state.train
        rules = train.rules if train is not None else Rules()
        return rules.spike_factor, rules.spike_min_per_min

    def submit(self, sub: Submission) -> None:
        """Queue a command for the committer."""
        self._inbox.put_nowait(sub)

    def remove(self, peer: Peer) -> None:
        """Stop sending to `peer`."""
        self.peers.discard(peer)

    def damaged(self, why: str) -> None:
        """The journal cannot be trusted: refuse everyone, loudly, and let the hub put the
        room away; it opens again (and is checked again) on the next join."""
        if self.damage:
            return
        self.damage = why
        log.error("room %s: journal damaged, refusing to serve it: %s", self.name, why)
        reason = room_refusal(self.name, why)
        notice = p.encode(p.Error(p.ErrorCode.ROOM_UNAVAILABLE, reason))
        for peer in list(self.peers):
            peer.drop(p.Close.ROOM_UNAVAILABLE, reason, notice)
        self.peers.clear()
        if self._on_damage is not None:
            self._on_damage(self, why)

    # --- the committer ---------------------------------------------------------------------

    async def _commit_loop(self) -> None:
        stopping = False
        while not stopping:
            first = await self._inbox.get()
            if first is None:
                return
            batch, size = [first], first.size
            while len(batch) < MAX_BATCH and size < MAX_BATCH_BYTES and not self._inbox.empty():
                sub = self._inbox.get_nowait()
                if sub is None:
                    stopping = True
                    break
                batch.append(sub)
                size += sub.size
            self._committing = True
            try:
                if not await self._commit(batch):
                    return
            finally:
                self._committing = False

    async def _commit(self, batch: list[Submission]) -> bool:
        """Decide, write and publish one group; False once the journal proved untrustworthy."""
        group = self._decide(batch)
        if group.entries or group.records:
            due = next_deadline(group.state)
            try:
                # The index may run early, never late: a sooner deadline goes in first.
                if self._index is not None and _sooner(due, self._indexed):
                    await self.io.run(self._index.set, self.name, due)
                    self._indexed = due
                await self.io.run(self.journal.commit, group.entries, group.records)
                if self._index is not None and due != self._indexed:
                    await self.io.run(self._index.set, self.name, due)
                    self._indexed = due
            except JournalDamaged as exc:
                self._refuse(group)
                self.damaged(str(exc))
                return False
            except Exception:
                log.exception("room %s: journal write failed; %d refused", self.name, len(batch))
                self._refuse(group)
                return True
        self.state, self.head = group.state, group.head
        self._arm_timers()
        self._acked.update(group.acked)
        for key, reject in group.rejected.items():
            self._remember_reject(key, reject)
        self._publish(group)
        return True

    def _decide(self, batch: list[Submission]) -> _Group:
        """Decide a batch against a working copy of the state; nothing is kept yet."""
        group = _Group(self.state, self.head)
        for sub in batch:
            key = (sub.actor.name, sub.cmd_id) if sub.cmd_id is not None else None
            if key is not None:
                # A retried id gets its first answer: from this group, or settled before it.
                settled = _settled(key, sub, (group.acked, group.rejected))
                if settled is not None:
                    group.answers.append((sub, settled, False))
                    continue
                settled = _settled(key, sub, (self._acked, self._rejected))
                if settled is not None:
                    group.answers.append((sub, settled, True))
                    continue
            if sub.op is None:
                group.answers.append((sub, group.head, False))
                continue
            self.last_ts = max(self.last_ts, self._clock())
            command = Command(sub.op, sub.args, self.last_ts)
            result = decide(group.state, sub.actor, command, trusted=sub.trusted)
            if isinstance(result, Reject):
                group.answers.append((sub, result, False))
                if key is not None:
                    group.rejected[key] = (result, sub.digest)
                continue
            for event in result:
                group.head += 1
                group.state = apply(group.state, event)
                group.entries.append(Entry(group.head, event))
            if key is not None:
                group.acked[key] = (group.head, sub.digest)
                group.records.append(CommandRecord(key[0], key[1], group.head, sub.digest))
            group.answers.append((sub, group.head, False))
        return group

    def _publish(self, group: _Group) -> None:
        """Fan the group's events out, then welcome newcomers and answer each command."""
        packed = [p.pack(event_to_wire(e.event, e.seq)) for e in group.entries]
        self._remember_packed([(e.seq, b) for e, b in zip(group.entries, packed, strict=True)])
        for run in p.chunks(packed, FRAME_BYTES, len(packed) or 1):
            frame = p.events_frame(self.epoch, run)
            ws_frame = wire_frame(frame)  # serialized once for every peer
            for peer in list(self.peers):
                if not peer.push(frame, ws_frame):
                    self.peers.discard(peer)
        for sub, answer, _ in group.answers:
            if sub.joining is not None:
                if isinstance(answer, Reject):
                    notice = p.encode(p.Error(p.ErrorCode.UNAUTHORIZED, answer.reason))
                    sub.joining.drop(p.Close.UNAUTHORIZED, answer.reason, notice)
                else:
                    self._welcome(sub.joining, sub.resume)
            _answer(sub, answer, self.epoch)

    def _refuse(self, group: _Group) -> None:
        """The journal write failed: nothing of this group happened; say so to everyone in it."""
        unavailable = Reject(
            Code.UNAVAILABLE, "the hub could not write its journal; nothing was applied, try again"
        )
        for sub, answer, from_before in group.answers:
            if sub.joining is not None:
                sub.joining.drop(p.Close.INTERNAL, "the hub could not record your arrival")
            # An answer given before this group was durable already; repeat it faithfully.
            _answer(sub, answer if from_before else unavailable, self.epoch)

    def _remember_reject(self, key: tuple[str, str], reject: tuple[Reject, bytes]) -> None:
        self._rejected[key] = reject
        if len(self._rejected) > REJECT_MEMORY:
            self._rejected.popitem(last=False)

    def _remember(self, entries: list[Entry]) -> None:
        self._remember_packed([(e.seq, p.pack(event_to_wire(e.event, e.seq))) for e in entries])

    def _remember_packed(self, packed: list[tuple[int, bytes]]) -> None:
        ring = self._ring
        for item in packed:
            ring.append(item)
            self._ring_bytes += len(item[1])
        while ring and (len(ring) > RING or self._ring_bytes > RING_BYTES):
            self._ring_bytes -= len(ring.popleft()[1])

    # --- catching a new connection up ----------------------------------------------------------

    def _welcome(self, peer: Peer, resume: Resume | None) -> None:
        """Decide, in the room's order, what `peer` needs to catch up, and hand it the frames;
        from now on it gets every new event and line after them."""
        actor = peer.actor
        missed = self._from_ring(resume)
        from_disk = None if missed is not None else self._from_disk(resume)
        resumed = missed is not None or from_disk is not None
        welcome = p.encode(
            p.Welcome(
                p.VERSION,
                self.name,
                actor.name,
                acting_role(self.state, actor).value,
                self.epoch,
                self.head,
                resumed,
            )
        )
        snapshot = None if resumed else (self.state, self.head, self._recent())
        backlog: tuple[int, int] | None = None
        if peer.logs and self.logs is not None:
            # A log position from another epoch (a reset journal) means nothing here.
            other_epoch = resume is not None and resume.epoch not in ("", self.epoch)
            start = None if other_epoch else peer.log_from
            backlog = (self.logs.backlog_start(start), self.logs.published)
        peer.catch_up(self._catch_up(peer, welcome, snapshot, missed, from_disk, backlog))
        if peer.alive:
            self.peers.add(peer)

    def _from_ring(self, resume: Resume | None) -> list[bytes] | None:
        if resume is None or resume.epoch not in ("", self.epoch) or resume.seq > self.head:
            return None
        if resume.seq == self.head:
            return []
        if self._ring and self._ring[0][0] <= resume.seq + 1:
            return [b for seq, b in self._ring if seq > resume.seq]
        return None

    def _from_disk(self, resume: Resume | None) -> tuple[int, int] | None:
        if resume is None or resume.epoch not in ("", self.epoch) or resume.seq > self.head:
            return None
        if self.head - resume.seq > RESUME_FROM_DISK:
            return None
        return resume.seq, self.head

    def _recent(self) -> list[bytes]:
        recent: list[bytes] = []
        size = 0
        for _, packed in reversed(self._ring):
            if len(recent) >= SNAPSHOT_RECENT or size + len(packed) > RECENT_BYTES:
                break
            recent.append(packed)
            size += len(packed)
        recent.reverse()
        return recent

    async def _catch_up(
        self,
        peer: Peer,
        welcome: bytes,
        snapshot: tuple[RoomState, int, list[bytes]] | None,
        missed: list[bytes] | None,
        from_disk: tuple[int, int] | None,
        backlog: tuple[int, int] | None,
    ) -> AsyncIterator[bytes]:
        yield welcome
        try:
            if snapshot is not None:
                for frame in await self._snapshot_frames(*snapshot):
                    yield frame
            elif missed is not None:
                for run in p.chunks(missed, FRAME_BYTES, EVENTS_PER_FRAME):
                    yield p.events_frame(self.epoch, run)
            elif from_disk is not None:
                after, upto = from_disk
                while after < upto:
                    entries = await self.io.run(self.journal.batch, after, upto, EVENTS_PER_FRAME)
                    if not entries:
                        raise JournalDamaged(f"events {after + 1}..{upto} cannot be read")
                    packed = [p.pack(event_to_wire(e.event, e.seq)) for e in entries]
                    for run in p.chunks(packed, FRAME_BYTES, EVENTS_PER_FRAME):
                        yield p.events_frame(self.epoch, run)
                    after = entries[-1].seq
            if backlog is not None and self.logs is not None:
                for frame in await self.logs.backlog_frames(*backlog):
                    yield frame
        except JournalDamaged as exc:
            self.damaged(str(exc))
        except Exception:
            log.exception("room %s: could not catch %s up", self.name, peer.actor.name)
            peer.drop(p.Close.INTERNAL, "the hub could not catch you up")

    async def _snapshot_frames(
        self, state: RoomState, head: int, recent: list[bytes]
    ) -> list[bytes]:
        # Shielded: one joiner that goes away must not cancel the encoding the others await.
        packed = await asyncio.shield(self._packed_state(state, head))
        if len(packed) + sum(map(len, recent)) <= FRAME_BYTES:
            return [p.snapshot_frame(self.epoch, head, packed, recent)]
        parts = -(-len(packed) // FRAME_BYTES)
        frames = [p.snapshot_frame(self.epoch, head, None, recent, parts, len(packed))]
        for i in range(parts):
            piece = packed[i * FRAME_BYTES : (i + 1) * FRAME_BYTES]
            frames.append(p.encode(p.SnapshotPart(self.epoch, head, i, piece)))
        return frames

    def _packed_state(self, state: RoomState, head: int) -> asyncio.Future[bytes]:
        """The state at `head` encoded, off the event loop, once for every joiner at `head`."""
        cached = self._snapshot
        if cached is not None and cached[0] == head and not _failed(cached[1]):
            return cached[1]
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._pool, lambda: p.pack(state_to_wire(state)))
        self._snapshot = (head, future)
        return future


def room_refusal(room: str, why: str) -> str:
    """The sentence a refused joiner reads when `room` cannot be served."""
    return f"room {room} is unavailable: {why}"


def _settled(
    key: tuple[str, str],
    sub: Submission,
    memory: tuple[
        Mapping[tuple[str, str], tuple[int, bytes]], Mapping[tuple[str, str], tuple[Reject, bytes]]
    ],
) -> int | Reject | None:
    """The answer already given to `key`, or a refusal when the id asked something else."""
    acked, rejected = memory
    found: tuple[int | Reject, bytes] | None = acked.get(key) or rejected.get(key)
    if found is None:
        return None
    answer, asked = found
    if asked and sub.digest and asked != sub.digest:
        return Reject(
            Code.INVALID,
            f"command id {key[1]!r} was already used by {key[0]} for another command;"
            " send it with a new id",
        )
    return answer


def _failed(future: asyncio.Future[bytes]) -> bool:
    return future.cancelled() or (future.done() and future.exception() is not None)


def _sooner(due: float | None, indexed: float | None) -> bool:
    return due is not None and (indexed is None or due < indexed)
