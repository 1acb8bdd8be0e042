"""One room on the hub: the authoritative state, its journal, and the single committer task.

Every change goes through `submit`. The committer takes whatever has queued up, decides
each command against the working state, writes the whole group in one transaction (one fsync),
then fans the events out and acknowledges. Nothing is sent before it is durable.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from server.journal import CommandRecord, Entry, Journal
from server.logstore import LogStore
from server.logstream import LogStream
from server.peer import Peer, wire_frame
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

MAX_BATCH = 2000
RING = 5000  # recent events kept in memory for resumes and snapshots
SNAPSHOT_RECENT = 300  # events sent with a snapshot so the timeline has context
RESUME_FROM_DISK = 50_000  # beyond this a snapshot is cheaper than replaying events
EVENTS_PER_FRAME = 1000
REJECT_MEMORY = 10_000
HUB = Actor("hub", Role.ENGINEER, "hub")


@dataclass(slots=True)
class _Group:
    """One commit group in the making: the working state and everything to write and say."""

    state: RoomState
    head: int
    entries: list[Entry] = field(default_factory=list)
    records: list[CommandRecord] = field(default_factory=list)
    acked: dict[tuple[str, str], int] = field(default_factory=dict)
    rejected: dict[tuple[str, str], Reject] = field(default_factory=dict)
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


class RoomHost:
    """The authoritative copy of one room."""

    def __init__(self, name: str, journal: Journal, retention: int = 50_000) -> None:
        self.name = name
        self.journal = journal
        self.epoch = journal.epoch
        self.state = RoomState(room=name)
        self.head = 0
        self.peers: set[Peer] = set()
        self._ring: deque[dict[str, Any]] = deque(maxlen=RING)
        self._acked: dict[tuple[str, str], int] = {}
        self._rejected: OrderedDict[tuple[str, str], Reject] = OrderedDict()
        self._inbox: asyncio.Queue[Submission] = asyncio.Queue()
        self._io = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"journal-{name}")
        self._task: asyncio.Task[None] | None = None
        self.last_ts = 0.0
        self._retention = retention
        self.logs: LogStream | None = None
        self._timers: list[asyncio.TimerHandle] = []

    # --- life cycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Rebuild the state from the journal and start committing."""
        loop = asyncio.get_running_loop()
        entries = await loop.run_in_executor(self._io, lambda: list(self.journal.entries()))
        records = await loop.run_in_executor(self._io, lambda: list(self.journal.commands()))
        self.state = replay(self.name, (e.event for e in entries))
        if entries:
            self.head = entries[-1].seq
            self.last_ts = entries[-1].event.ts
        self._ring.extend(event_to_wire(e.event, e.seq) for e in entries[-RING:])
        self._acked = {(r.actor, r.id): r.seq for r in records}
        store = await loop.run_in_executor(
            self._io, lambda: LogStore(self.journal.db, self._retention)
        )
        self.logs = LogStream(
            store,
            self._io,
            self.epoch,
            lambda: self.peers,
            self._alert,
            time.time,
            self._spike_rules,
        )
        self._task = asyncio.create_task(self._commit_loop(), name=f"room-{self.name}")
        # Connections do not survive a restart; say so in the journal so state matches reality.
        self.submit(Submission(HUB, "reset_presence", {}, trusted=True))
        self._arm_timers()  # deadlines outlive a restart

    async def stop(self) -> None:
        """Stop the committer and close the journal."""
        for handle in self._timers:
            handle.cancel()
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        await asyncio.get_running_loop().run_in_executor(self._io, self.journal.close)
        self._io.shutdown(wait=True)

    def _arm_timers(self) -> None:
        """Have the hub act when a deadline in the state comes: a vote's, an offer's, and the
        grace period of a conductor who dropped. At once if it has passed (after a restart)."""
        for handle in self._timers:
            handle.cancel()
        self._timers = []
        state, now = self.state, time.time()
        due: list[tuple[float, str, dict[str, Any]]] = []
        if state.vote is not None and state.vote.open:
            due.append((state.vote.deadline, "expire_vote", {"vote": state.vote.id}))
        if state.offer is not None:
            due.append((state.offer.expires, "expire_offer", {}))
        holder = state.members.get(state.conductor) if state.conductor else None
        if state.conductor and (holder is None or not holder.present):
            rules = state.train.rules if state.train is not None else Rules()
            due.append((absent_since(state) + rules.handoff_grace, "vacate_seat", {}))
        loop = asyncio.get_running_loop()
        for when, op, args in due:
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

    # --- the committer ---------------------------------------------------------------------

    async def _commit_loop(self) -> None:
        while True:
            batch = [await self._inbox.get()]
            while len(batch) < MAX_BATCH and not self._inbox.empty():
                batch.append(self._inbox.get_nowait())
            group = self._decide(batch)
            if group.entries or group.records:
                try:
                    await asyncio.get_running_loop().run_in_executor(
                        self._io, self.journal.commit, group.entries, group.records
                    )
                except Exception:
                    log.exception(
                        "room %s: journal write failed; %d refused", self.name, len(batch)
                    )
                    self._refuse(group)
                    continue
            self.state, self.head = group.state, group.head
            self._arm_timers()
            self._acked.update(group.acked)
            for key, reject in group.rejected.items():
                self._remember_reject(key, reject)
            await self._publish(group)

    def _decide(self, batch: list[Submission]) -> _Group:
        """Decide a batch against a working copy of the state; nothing is kept yet."""
        group = _Group(self.state, self.head)
        for sub in batch:
            key = (sub.actor.name, sub.cmd_id) if sub.cmd_id is not None else None
            if key is not None:
                # A retried id gets its first answer: from this group, or settled before it.
                in_group: int | Reject | None = group.acked.get(key, group.rejected.get(key))
                if in_group is not None:
                    group.answers.append((sub, in_group, False))
                    continue
                before: int | Reject | None = self._acked.get(key, self._rejected.get(key))
                if before is not None:
                    group.answers.append((sub, before, True))
                    continue
            if sub.op is None:
                group.answers.append((sub, group.head, False))
                continue
            self.last_ts = max(self.last_ts, time.time())
            command = Command(sub.op, sub.args, self.last_ts)
            result = decide(group.state, sub.actor, command, trusted=sub.trusted)
            if isinstance(result, Reject):
                group.answers.append((sub, result, False))
                if key is not None:
                    group.rejected[key] = result
                continue
            for event in result:
                group.head += 1
                group.state = apply(group.state, event)
                group.entries.append(Entry(group.head, event))
            if key is not None:
                group.acked[key] = group.head
                group.records.append(CommandRecord(key[0], key[1], group.head))
            group.answers.append((sub, group.head, False))
        return group

    async def _publish(self, group: _Group) -> None:
        """Fan the group's events out, then welcome newcomers and answer each command."""
        wire = [event_to_wire(e.event, e.seq) for e in group.entries]
        self._ring.extend(wire)
        if wire:
            frame = p.encode_events(self.epoch, wire)
            ws_frame = wire_frame(frame)  # serialized once for every peer
            for peer in list(self.peers):
                if not peer.push(frame, ws_frame):
                    self.peers.discard(peer)
        for sub, answer, _ in group.answers:
            if sub.joining is not None:
                if isinstance(answer, Reject):
                    sub.joining.push(p.encode(p.Error(p.ErrorCode.BAD_FRAME, answer.reason)))
                    sub.joining.drop(p.Close.BAD_FRAME, answer.reason[:120])
                else:
                    try:
                        await self._welcome(sub.joining, sub.resume)
                    except Exception:
                        log.exception("room %s: could not catch %s up", self.name, sub.actor.name)
                        sub.joining.drop(p.Close.INTERNAL, "the hub could not catch you up")
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

    def _remember_reject(self, key: tuple[str, str], reject: Reject) -> None:
        self._rejected[key] = reject
        if len(self._rejected) > REJECT_MEMORY:
            self._rejected.popitem(last=False)

    # --- catching a new connection up ----------------------------------------------------------

    async def _welcome(self, peer: Peer, resume: Resume | None) -> None:
        actor = peer.actor
        missed = await self._catch_up(resume)
        peer.push(
            p.encode(
                p.Welcome(
                    p.VERSION,
                    self.name,
                    actor.name,
                    acting_role(self.state, actor).value,
                    self.epoch,
                    self.head,
                    missed is not None,
                )
            )
        )
        if missed is None:
            recent = list(self._ring)[-SNAPSHOT_RECENT:]
            peer.push(
                p.encode(p.Snapshot(self.epoch, self.head, state_to_wire(self.state), recent))
            )
        else:
            for i in range(0, len(missed), EVENTS_PER_FRAME):
                peer.push(p.encode_events(self.epoch, missed[i : i + EVENTS_PER_FRAME]))
        if peer.logs and self.logs is not None:
            # A log position from another epoch (a reset journal) means nothing here.
            same_epoch = resume is not None and resume.epoch in ("", self.epoch)
            lines = await self.logs.backlog(peer.log_from if same_epoch else None)
            for i in range(0, len(lines), EVENTS_PER_FRAME):
                peer.push(p.encode_loglines(self.epoch, lines[i : i + EVENTS_PER_FRAME]))
        if peer.alive:
            self.peers.add(peer)

    async def _catch_up(self, resume: Resume | None) -> list[dict[str, Any]] | None:
        """The events after the resume point, or None when only a snapshot will do."""
        # An empty epoch means "whatever epoch you have": `warroom events` reads history so.
        if resume is None or resume.epoch not in ("", self.epoch) or resume.seq > self.head:
            return None
        gap = self.head - resume.seq
        if gap <= len(self._ring):
            return list(self._ring)[len(self._ring) - gap :] if gap else []
        if gap > RESUME_FROM_DISK:
            return None
        entries = await asyncio.get_running_loop().run_in_executor(
            self._io, lambda: list(self.journal.entries(after=resume.seq))
        )
        return [event_to_wire(e.event, e.seq) for e in entries]
