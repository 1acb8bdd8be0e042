"""One room on the hub: the authoritative state, its journal, and the single committer task.

Every change goes through `submit`. The committer takes whatever has queued up, decides
each command against the working state, writes the whole group in one transaction (one fsync),
then fans the events out and acknowledges. Nothing is sent before it is durable.

Every frame the room builds is bounded by bytes: events are encoded once each and cut into
frames of at most `FRAME_BYTES`; a state too big for one frame goes out in parts; the ring of
recent events and the events sent with a snapshot have byte budgets, not only counts.

The room's deadlines are the core's (`warroom.core.deadlines`: each capability says which it
has); the room sets a timer on the hub's clock for each and sends the op it names when it
comes, without knowing what it means.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from server.catchup import FRAME_BYTES, CatchUp
from server.clock import Clock, Timer
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
    Deadline,
    Reject,
    Role,
    RoomState,
    apply,
    deadlines,
    decide,
    rules_of,
)
from warroom.core.wire import event_to_wire
from warroom.protocol import Resume

log = logging.getLogger("warroom.hub")

MAX_BATCH = 2000  # commands decided in one group
REPLAY_BATCH = 5000  # events read at a time when a room opens
MAX_BATCH_BYTES = 8 << 20  # and the frames they came in, in bytes
RING = 5000  # recent events kept in memory for resumes and snapshots
RING_BYTES = 32 << 20  # and their encoded size at most
REJECT_MEMORY = 10_000
HUB = Actor("hub", Role.ENGINEER, "hub")


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
        self.ring: deque[tuple[int, bytes]] = deque()
        self._ring_bytes = 0
        self._acked: dict[tuple[str, str], tuple[int, bytes]] = {}
        self._rejected: OrderedDict[tuple[str, str], tuple[Reject, bytes]] = OrderedDict()
        self._inbox: asyncio.Queue[Submission | None] = asyncio.Queue()
        self.pool = pool
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
        self._timers: list[Timer] = []
        self._armed: list[Deadline] = []
        self._catch_up = CatchUp(self)

    # --- life cycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Rebuild the state from the journal and start committing; JournalDamaged if the
        journal cannot be trusted."""
        # In batches, so a long journal is never held whole in memory on the way to its state.
        state, head = RoomState(room=self.name), 0
        tail: deque[Entry] = deque(maxlen=RING)
        while head < self.journal.head():
            entries = await self.io.run(self.journal.batch, head, self.journal.head(), REPLAY_BATCH)
            for entry in entries:
                state = apply(state, entry.event)
            head, self.last_ts = entries[-1].seq, entries[-1].event.ts
            tail.extend(entries)
        self.state, self.head = state, head
        self._remember(list(tail))
        records = await self.io.run(lambda: list(self.journal.commands()))
        self._acked = {(r.actor, r.id): (r.seq, r.digest) for r in records}
        store = await self.io.run(LogStore, self.journal.db, self._retention)
        self.logs = LogStream(
            store,
            self.io,
            self.epoch,
            lambda: self.peers,
            self._alert,
            self._clock.now,
            self._spike_rules,
        )
        if self._index is not None:
            self._indexed = await self.io.run(self._index.get, self.name)
        self._task = asyncio.create_task(self._commit_loop(), name=f"room-{self.name}")
        # Connections do not survive a restart; say so in the journal so state matches reality.
        self.submit(Submission(HUB, "reset_presence", {}, trusted=True))
        self._arm_timers(deadlines(self.state))  # deadlines outlive a restart

    @property
    def idle(self) -> bool:
        """Nobody connected, nothing queued or being written: the room can be put away."""
        logs_idle = self.logs is None or self.logs.idle
        return not self.peers and self._inbox.empty() and not self._committing and logs_idle

    async def stop(self) -> None:
        """Write the lines and commands still queued (an alert the last lines raise among
        them), then stop the committer and close the journal. The next deadline stays in
        the hub's index, to reopen the room for it."""
        for handle in self._timers:
            handle.cancel()
        if self.logs is not None:
            await self.logs.flushed()
        if self._task is not None and not self._task.done():
            self._inbox.put_nowait(None)
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        await self.io.run(self.journal.close)

    def _arm_timers(self, due: list[Deadline]) -> None:
        """Have the hub act when a deadline in the state comes (on the hub's clock); at once
        if it has passed. What each deadline means is its capability's business."""
        if due == self._armed and self._timers:
            return  # the same deadlines: the timers already set stand
        for handle in self._timers:
            handle.cancel()
        self._timers, self._armed = [], due
        for deadline in due:
            sub = Submission(HUB, deadline.op, dict(deadline.args), trusted=True)
            self._timers.append(self._clock.call_at(deadline.when, partial(self.submit, sub)))

    def _alert(self, source: str, text: str) -> None:
        self.submit(Submission(HUB, "raise_alert", {"source": source, "text": text}, trusted=True))

    def _spike_rules(self) -> tuple[float, int]:
        rules = rules_of(self.state)
        return rules.spike_factor, rules.spike_min_per_min

    def submit(self, sub: Submission) -> None:
        """Queue a command for the committer."""
        self._inbox.put_nowait(sub)

    def remove(self, peer: Peer) -> None:
        """Stop sending to `peer`."""
        self.peers.discard(peer)

    def damaged(self, why: str) -> None:
        """The journal cannot be trusted: refuse everyone, loudly, and let the hub put the
        room away; it opens again (and is checked again) on the next join. Whatever is still
        queued is turned away by the committer, never decided."""
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
            if self.damage:
                self._turn_away(batch)
                continue
            self._committing = True
            try:
                await self._commit(batch)
            finally:
                self._committing = False

    async def _commit(self, batch: list[Submission]) -> None:
        """Decide, write and publish one group."""
        group = self._decide(batch)
        due = deadlines(group.state)
        if group.entries or group.records:
            when = due[0].when if due else None
            try:
                # The index may run early, never late: a sooner deadline goes in first, and
                # a failure here refuses the group, since nothing is written yet.
                if self._index is not None and _sooner(when, self._indexed):
                    await self.io.run(self._index.set, self.name, when)
                    self._indexed = when
                await self.io.run(self.journal.commit, group.entries, group.records)
            except JournalDamaged as exc:
                self._refuse(group)
                self.damaged(str(exc))
                return
            except Exception:
                log.exception("room %s: journal write failed; %d refused", self.name, len(batch))
                self._refuse(group)
                return
            # Written: from here on nothing may refuse the group.
            if self._index is not None and when != self._indexed:
                try:
                    await self.io.run(self._index.set, self.name, when)
                    self._indexed = when
                except Exception:
                    # A later deadline not recorded wakes the room early: harmless.
                    log.exception("room %s: could not update the deadline index", self.name)
        self.state, self.head = group.state, group.head
        self._arm_timers(due)
        self._acked.update(group.acked)
        for key, reject in group.rejected.items():
            self._remember_reject(key, reject)
        self._publish(group)

    def _turn_away(self, batch: list[Submission]) -> None:
        """The room is damaged: nothing queued is decided; joiners are refused, commands
        answered unavailable."""
        reason = room_refusal(self.name, self.damage)
        notice = p.encode(p.Error(p.ErrorCode.ROOM_UNAVAILABLE, reason))
        unavailable = Reject(Code.UNAVAILABLE, f"{reason}; nothing was applied")
        for sub in batch:
            if sub.joining is not None:
                sub.joining.drop(p.Close.ROOM_UNAVAILABLE, reason, notice)
            _answer(sub, unavailable, self.epoch)

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
            self.last_ts = max(self.last_ts, self._clock.now())
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
        ring = self.ring
        for item in packed:
            ring.append(item)
            self._ring_bytes += len(item[1])
        while ring and (len(ring) > RING or self._ring_bytes > RING_BYTES):
            self._ring_bytes -= len(ring.popleft()[1])

    # --- catching a new connection up ----------------------------------------------------------

    def _welcome(self, peer: Peer, resume: Resume | None) -> None:
        """Decide, in the room's order, what `peer` needs to catch up, and hand it the frames;
        from now on it gets every new event after them (and log lines once it has caught up)."""
        peer.catch_up(self._catch_up.frames(peer, resume))
        if peer.alive:
            self.peers.add(peer)


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


def _sooner(due: float | None, indexed: float | None) -> bool:
    return due is not None and (indexed is None or due < indexed)
