"""The demo's director: bots in three time zones run a train with you, in about three minutes.

`warroom demo` starts it as a child process (python -m warroom.demostory ...). It builds the
sample repositories, publishes their manifest, feeds a scap-like log and a fatal monitor, and
plays the bots: they tick items, raise a blocker when group1 starts throwing fatals, find the
suspect commit and call its author in, vote to roll back, and queue for the seat.

Acts only the conductor may do are done by whoever holds the seat. A bot does them at once.
When you hold it, a bot's note asks you first (p, E, O...). If you have not acted when the
patience runs out, the autopilot does it with your token, and says so in a note. Everything
the bots do goes through the hub like anyone's commands: refused acts are written to stderr,
and the story goes on.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import sys
import time
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

from warroom.client import RoomClient
from warroom.core import Role, RoomState
from warroom.core.train import Item
from warroom.demolog import Line, fatal, prep, quiet, rollback, sync
from warroom.demorepo import FROM, TO, build
from warroom.feed import Feeder
from warroom.manifest import publish_commands, read_manifest
from warroom.suspects import find_suspects

# name, zone, role: the people the demo brings in (ana conducts when you do not).
BOTS = [
    ("bea", "Europe/Berlin", Role.ENGINEER),
    ("raj", "Asia/Kolkata", Role.ENGINEER),
    ("lee", "America/Los_Angeles", Role.ENGINEER),
    ("kim", "Asia/Tokyo", Role.VISITOR),
]
CONDUCTOR_BOT = ("ana", "Europe/Lisbon", Role.CONDUCTOR)
BLOCKER_TASK = "T381600"


def _say(text: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {text}", file=sys.stderr, flush=True)


class Bot:
    """One participant played by the director."""

    def __init__(self, url: str, token: str, name: str, tz: str, presence: bool = True) -> None:
        self.name = name
        self.client = RoomClient(url, token, tz, presence=presence)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self.client.run())
        await self.client.wait_live(30)

    async def do(self, op: str, **args: Any) -> bool:
        answer = await self.client.send(op, args)
        if not answer.ok:
            _say(f"{self.name}: {op} refused: {answer.code} {answer.reason}")
        return answer.ok

    async def stop(self) -> None:
        await self.client.close()
        if self._task is not None:
            with contextlib.suppress(Exception):
                await self._task


class Log:
    """One log source fed through a real `Feeder`, paced line by line."""

    def __init__(self, url: str, token: str, source: str) -> None:
        self.feeder = Feeder(url, token, source)
        self.queue: asyncio.Queue[Line | None] = asyncio.Queue()
        self.task = asyncio.create_task(self.feeder.run(self._lines()))

    async def _lines(self) -> AsyncIterator[Line]:
        while (line := await self.queue.get()) is not None:
            yield line

    def put(self, lines: Sequence[Line]) -> None:
        for line in lines:
            self.queue.put_nowait(line)


class Director:
    """Plays the story in `room` at `url`; you are `me`, acting as `role`."""

    def __init__(
        self, url: str, secret: bytes, room: str, me: str, role: Role, work: Path, speed: float
    ) -> None:
        self.url, self.secret, self.room = url, secret, room
        self.me, self.role, self.work, self.speed = me, role, work, speed
        self.bots: dict[str, Bot] = {}
        self.autopilot: Bot | None = None
        self.rng = random.Random(7)
        self.start = 0.0
        self.burst = False
        self.core_path = work / "mediawiki"

    def token(self, name: str, role: Role) -> str:
        from server.auth import mint

        return mint(self.secret, self.room, name, role, 12 * 3600, time.time())

    @property
    def state(self) -> RoomState:
        return self.bots["bea"].client.state

    async def at(self, t: float) -> None:
        """Wait until story second `t` (scaled by the speed)."""
        delay = self.start + t / self.speed - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)

    # --- the cast ------------------------------------------------------------------------------

    async def cast(self) -> None:
        people = list(BOTS)
        if self.role is not Role.CONDUCTOR:
            people.insert(0, CONDUCTOR_BOT)
        for name, tz, role in people:
            bot = Bot(self.url, self.token(name, role), name, tz)
            await bot.start()
            self.bots[name] = bot
            await asyncio.sleep(0.4 / self.speed)
        if self.role is Role.CONDUCTOR:
            self.autopilot = Bot(
                self.url, self.token(self.me, Role.CONDUCTOR), self.me, "UTC", presence=False
            )
            await self.autopilot.start()

    # --- conductor acts --------------------------------------------------------------------------

    async def conduct(
        self,
        op: str,
        args: dict[str, Any],
        done: Callable[[RoomState], bool],
        ask: str,
        patience: float = 15,
    ) -> None:
        """Have the seat holder do `op`: a bot at once; you after `ask`, or after `patience`
        story seconds the autopilot."""
        if done(self.state):
            return
        holder = self.state.conductor
        if holder in self.bots:
            await asyncio.sleep(5 / self.speed)  # a person reads the gates before pressing
            await self._conduct_as(self.bots[holder], op, args)
            return
        if holder != self.me or self.autopilot is None:
            return  # nobody holds the seat: the story waits for no one
        patience = max(3.0, patience / self.speed)
        await self.bots["bea"].do("note", text=f"{self.me}: {ask} (autopilot in {patience:.0f} s)")
        deadline = time.monotonic() + patience
        while time.monotonic() < deadline:
            if done(self.state) or self.state.conductor != self.me:
                return
            await asyncio.sleep(0.25)
        await self.autopilot.do("note", text=f"(the demo's autopilot acts for me: {op})")
        await self._conduct_as(self.autopilot, op, args)

    async def _conduct_as(self, bot: Bot, op: str, args: dict[str, Any]) -> None:
        if not await bot.do(op, **args) and op == "promote":
            # Someone unticked a required item or a blocker is open: say so, go on anyway.
            await bot.do(op, **args, override="the demo's story goes on: gates checked by hand")

    def _find(self, state: RoomState, text_start: str) -> Item | None:
        # The stage in progress first: several stages have a "Watch the new-errors dashboard".
        train = state.train
        if train is None:
            return None
        items = [*train.stage_items(train.stage), *train.items]
        return next((i for i in items if i.text.startswith(text_start)), None)

    def item(self, text_start: str) -> str:
        found = self._find(self.state, text_start)
        if found is None:
            raise LookupError(f"no item {text_start!r}")
        return found.id

    def ticked(self, text_start: str) -> Callable[[RoomState], bool]:
        def check(state: RoomState) -> bool:
            found = self._find(state, text_start)
            return found is not None and found.done

        return check

    def reached(self, stage: str) -> Callable[[RoomState], bool]:
        def check(state: RoomState) -> bool:
            train = state.train
            return train is not None and (
                train.finished or train.stages.index(stage) <= train.current
            )

        return check

    async def tick(self, who: str, text_start: str, note: str = "") -> None:
        if self.ticked(text_start)(self.state):
            return
        await asyncio.sleep(2.5 / self.speed)  # people check, then tick
        if self.ticked(text_start)(self.state):
            return  # you ticked it meanwhile
        args = {"note": note} if note else {}
        await self.bots[who].do("tick", item=self.item(text_start), **args)

    async def promote(self, stage: str) -> None:
        await self.conduct("promote", {}, self.reached(stage), f"promote {stage} when ready (p)")

    async def conductor_tick(self, text_start: str) -> None:
        ask = f'tick "{text_start}" (space)'
        item = {"item": self.item(text_start)}
        await self.conduct("tick", item, self.ticked(text_start), ask, patience=8)

    # --- the logs ------------------------------------------------------------------------------

    async def pace(self, log: Log, lines: Sequence[Line], per_second: float) -> None:
        for line in lines:
            log.put([line])
            await asyncio.sleep(1 / (per_second * self.speed))

    async def monitor(self, log: Log) -> None:
        """The fatal monitor: a healthy fleet's chatter, and fatals while `burst` is on."""
        while True:
            log.put([quiet(self.rng)])
            if self.burst:
                log.put(fatal(self.rng))
            await asyncio.sleep((0.4 if self.burst else 1.5) / self.speed)

    # --- the story -----------------------------------------------------------------------------

    async def run(self) -> None:
        self.start = time.monotonic()
        repos = await asyncio.to_thread(build, self.work)
        await self.cast()
        feed_token = self.token("scap", Role.ENGINEER)
        scap, monitor = (
            Log(self.url, feed_token, "scap"),
            Log(self.url, feed_token, "fatal-monitor"),
        )
        watcher = asyncio.create_task(self.monitor(monitor))
        try:
            await self.story(scap, repos.extension)
        except Exception as exc:  # you may have taken the train elsewhere: the room stays
            _say(f"the story stopped: {type(exc).__name__}: {exc}")
        _say("the story is over; the room stays open")
        await watcher  # the fleet's chatter goes on, and the bots stay, until the demo ends

    async def story(self, scap: Log, extension: Path) -> None:
        bea, raj, lee = self.bots["bea"], self.bots["raj"], self.bots["lee"]
        await self.at(2)
        await bea.do("note", text="Morning from Berlin! 1.44.0-wmf.5 today; I'm on the dashboards.")
        await self.at(4)
        for path, name in ((self.core_path, "mediawiki"), (extension, "CirrusSearch")):
            manifest = await asyncio.to_thread(read_manifest, path, FROM, TO, name)
            for op, args in publish_commands(manifest, f"demo-{name}"):
                await raj.do(op, **args)
        await raj.do(
            "note", text="Manifest is up for core and CirrusSearch: g shows what goes out."
        )
        await self.at(6)
        await lee.do("queue_join", tz="America/Los_Angeles", start="08:00", end="16:00",
                     note="I take the train for the US afternoon")  # fmt: skip
        await self.at(8)
        await self.pace(scap, prep(), 4)
        await self.tick("bea", "Check the train blocker task", "no open subtasks")
        await self.tick("raj", "Announce the train")
        await self.at(14)
        await self.conductor_tick("Cut the wmf branch")
        await self.promote("testwikis")

        await self.pace(scap, sync("testwikis"), 5)
        await self.conductor_tick("Sync the new branch")
        await self.tick("raj", "Verify Special:Version", "1.44.0-wmf.5 (8c1f2e0)")
        await self.tick("bea", "Watch the new-errors dashboard for 15")
        await self.tick("lee", "Log triage: go or no-go for group0", "go")
        await self.promote("group0")

        await self.pace(scap, sync("group0"), 5)
        await self.conductor_tick("Promote group0")
        await self.tick("bea", "Watch the new-errors dashboard")
        await self.tick("raj", "Check the version page on mediawiki.org")
        await self.tick("lee", "Log triage: go or no-go for group1", "go")
        await self.promote("group1")

        await self.pace(scap, sync("group1"), 5)
        await self.conductor_tick("Promote group1")
        await self.incident(scap)
        await self.handoff()
        await self.second_try(scap)

    async def incident(self, scap: Log) -> None:
        bea, raj, lee = self.bots["bea"], self.bots["raj"], self.bots["lee"]
        self.burst = True
        alerts = len(self.state.alerts)
        # The hub's spike detector speaks first when it can (it needs a minute of a source's
        # normal running, so not at high speeds); then bea holds the train.
        deadline = time.monotonic() + max(6.0, 20 / self.speed)
        while len(self.state.alerts) == alerts and time.monotonic() < deadline:
            await asyncio.sleep(0.25)
        await asyncio.sleep(2 / self.speed)
        await bea.do("raise_blocker", reason="PHP fatals on Special:Search since group1",
                     link=BLOCKER_TASK)  # fmt: skip
        trace = "\n".join(text for text, _ in fatal(self.rng))
        changes = self.state.changes
        suspects = []
        if changes is not None:
            repos = {"mediawiki": str(self.core_path)}
            suspects = await asyncio.to_thread(find_suspects, changes, trace, repos=repos)
        if suspects:
            top = suspects[0]
            await raj.do("note", text=f"The trace points at {top.commit.short}: {top.evidence}")
            await raj.do("call_in", repo=top.repo, sha=top.commit.sha, author="lee",
                         evidence=f"fatal trace: {top.evidence}")  # fmt: skip
            await asyncio.sleep(3 / self.speed)
            await lee.do("note", text=f"Here. {top.commit.short} is mine: the null check. "
                         "Reverting it is safe.")  # fmt: skip
            await lee.do("mark_commit", repo=top.repo, sha=top.commit.sha, safe=True,
                         why="no schema or config change")  # fmt: skip
        await asyncio.sleep(2 / self.speed)
        reason = "fatals on Special:Search since group1"
        await bea.do("call_vote", proposal="partial", reason=reason, ref=BLOCKER_TASK, deadline=120)
        vote = self.state.vote
        for who, comment in ((raj, "users are hitting it"), (lee, "roll back, I'll fix forward"),
                             (bea, "group1 back to wmf.4")):  # fmt: skip
            await asyncio.sleep(3 / self.speed)
            if vote is not None:
                await who.do("ballot", vote=vote.id, choice="yes", comment=comment)
        await asyncio.sleep(1 / self.speed)
        train = self.state.train
        if train is not None and train.approved:
            args = {"scope": train.approved, "expect": train.stage,
                    "reason": f"the room voted for it ({vote.id if vote else 'vote'})"}  # fmt: skip
            await self.conduct("rollback", args, lambda s: not (s.train and s.train.approved),
                               "the rollback is approved: execute it (E)")  # fmt: skip
        await self.pace(scap, rollback("group1"), 6)
        self.burst = False
        await asyncio.sleep(3 / self.speed)
        await lee.do("note", text="Revert of the SearchEngine change merged; fix forward tomorrow.")
        fixed = "group1 is back on wmf.4 and the revert is in wmf.5: fatals gone"
        await raj.do("resolve_blocker", blocker=BLOCKER_TASK, note=fixed)

    async def handoff(self) -> None:
        lee = self.bots["lee"]
        await asyncio.sleep(3 / self.speed)
        note = "Berlin is signing off: group1 again now that the revert is in, then group2."
        await self.conduct("offer_seat", {"to": "lee", "note": note},
                           lambda s: s.offer is not None or s.conductor == "lee",
                           "offer the seat to lee for the US afternoon (O)")  # fmt: skip
        await asyncio.sleep(3 / self.speed)
        if self.state.offer is not None and self.state.offer.to == "lee":
            await lee.do("accept_seat")
            await lee.do("note", text="Thanks! Taking the train from Los Angeles.")

    async def second_try(self, scap: Log) -> None:
        await asyncio.sleep(3 / self.speed)
        await self.promote("group1")
        await self.pace(scap, sync("group1"), 5)
        await self.conductor_tick("Promote group1")
        await self.tick("bea", "Watch the new-errors dashboard and fatal monitor", "clean")
        await self.tick("raj", "Check the version page on commons")
        await self.tick("bea", "Log triage: go or no-go for group2", "go")
        await self.promote("group2")
        await self.pace(scap, sync("group2"), 8)
        await self.conductor_tick("Promote group2")
        await self.tick("raj", "Watch error rates for 30 minutes", "flat")
        await self.tick("bea", "Check the version page on en.wikipedia.org")
        await self.tick("lee", "Close the train blocker task")
        await self.conduct("finish_train", {}, lambda s: bool(s.train and s.train.finished),
                           "every stage is out: mark the train done (F)")  # fmt: skip
        await self.bots["bea"].do("note", text="Train done. Thanks all! (export: warroom export)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="The warroom demo's director (started by it).")
    parser.add_argument("url")
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--me", required=True)
    parser.add_argument("--role", choices=[r.value for r in Role], required=True)
    parser.add_argument("--speed", type=float, default=1.0)
    args = parser.parse_args(argv)
    from server.auth import load_or_create_secret
    from warroom.client import room_of

    secret = load_or_create_secret(args.data_dir)
    director = Director(args.url, secret, room_of(args.url), args.me, Role(args.role),
                        args.work, args.speed)  # fmt: skip
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(director.run())


if __name__ == "__main__":
    main()
