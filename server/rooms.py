"""The hub's rooms: opened from their journals on first use, put away when nobody has used them
for a while, and woken again for a deadline nobody is there to see come.

A room is in use while a connection is in it (or a visitor's leaving lingers); `use` and
`release` count that. Once nothing uses it for `idle` seconds and nothing of it is queued or
being written, it is closed: its file and its place on the journal threads go, and its next
deadline stays in the hub's index (`server/deadlines.py`), which wakes it on time, also after
the hub restarts. Room names differing only in case never share a journal, on any disk.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from server.clock import Clock, Timer
from server.deadlines import DeadlineIndex
from server.journal import Journal, JournalDamaged, secure_dir
from server.roomhost import RoomHost
from server.salvage import lock_path
from warroom.core import next_deadline

log = logging.getLogger("warroom.hub")


class RoomUnavailable(Exception):
    """A room that cannot be served now; the message says why, for the people refused."""


class RoomNameTaken(RoomUnavailable):
    """A room name that differs only in case from a room the hub has: never servable."""


class Rooms:
    """Every room of one hub: open, opening, closing, in use, and waiting to wake."""

    def __init__(
        self,
        data_dir: Path,
        pool: ThreadPoolExecutor,
        clock: Clock,
        *,
        retention: int,
        idle: float,
    ) -> None:
        self.dir = data_dir / "rooms"
        self.index: DeadlineIndex | None = None
        self.open: dict[str, RoomHost] = {}
        self._hub_file = data_dir / "hub.db"
        self._pool = pool
        self._clock = clock
        self._retention = retention
        self._idle_for = idle
        self._opening: dict[str, asyncio.Task[RoomHost]] = {}  # by casefold name
        self._closing: dict[str, asyncio.Task[None]] = {}
        self._users: dict[str, int] = {}
        self._idle: dict[str, asyncio.TimerHandle] = {}
        self._wake: dict[str, Timer] = {}  # on the hub's clock: deadlines are wall time
        self._files: dict[str, str] = {}  # casefold name -> name on disk
        self._stopping = False

    async def start(self) -> None:
        """Learn the rooms on disk and wake every one whose deadline is due."""
        secure_dir(self.dir)
        for path in self.dir.iterdir():
            if path.suffix in (".db", ".hwm"):
                self._files.setdefault(path.stem.casefold(), path.stem)
        loop = asyncio.get_running_loop()
        self.index = await loop.run_in_executor(self._pool, DeadlineIndex, self._hub_file)
        for name, due in (await loop.run_in_executor(self._pool, self.index.all)).items():
            self._wake_at(name, due)

    async def close(self) -> None:
        """Stop every room, writing what is queued, and close the index."""
        self._stopping = True
        for handle in (*self._idle.values(), *self._wake.values()):
            handle.cancel()
        await asyncio.gather(*self._closing.values(), return_exceptions=True)
        for host in list(self.open.values()):
            await host.stop()
        self.open.clear()
        if self.index is not None:
            await asyncio.get_running_loop().run_in_executor(self._pool, self.index.close)

    async def get(self, name: str) -> RoomHost:
        """The room called `name`, loaded from its journal on first use; RoomUnavailable if
        it cannot be served (a damaged journal, a full disk, a name taken in another case)."""
        while True:
            closing = self._closing.get(name)
            if closing is None:
                break
            await asyncio.wait([closing])
        host = self.open.get(name)
        if host is not None:
            return host
        key = name.casefold()
        on_disk = self._files.get(key)
        if on_disk is not None and on_disk != name:
            raise RoomNameTaken(f"the name differs only in case from room {on_disk}")
        task = self._opening.get(key)
        if task is None:
            task = asyncio.create_task(self._open(name))
            self._opening[key] = task
            task.add_done_callback(lambda _t: self._opening.pop(key, None))
        host = await asyncio.shield(task)
        if host.name != name:
            raise RoomNameTaken(f"the name differs only in case from room {host.name}")
        return host

    def use(self, name: str) -> None:
        """Something needs room `name` open (a connection, a lingering leave)."""
        self._users[name] = self._users.get(name, 0) + 1
        handle = self._idle.pop(name, None)
        if handle is not None:
            handle.cancel()

    def release(self, name: str) -> None:
        """What `use` counted is done with room `name`."""
        self._users[name] = self._users.get(name, 1) - 1
        if self._users[name] <= 0:
            del self._users[name]
            self._schedule_idle(name)

    async def _open(self, name: str) -> RoomHost:
        path = self.dir / f"{name}.db"
        if lock_path(self.dir, name).exists():
            raise RoomUnavailable("its journal is being salvaged; try again in a moment")
        loop = asyncio.get_running_loop()
        try:
            journal = await loop.run_in_executor(self._pool, Journal, path)
        except JournalDamaged as exc:
            log.error("room %s: journal damaged, refusing to serve it: %s", name, exc)
            raise RoomUnavailable(f"its journal is damaged: {exc}") from None
        except OSError as exc:
            log.error("room %s: cannot open its journal: %s", name, exc)
            raise RoomUnavailable(f"its journal cannot be opened: {exc.strerror or exc}") from None
        except Exception as exc:
            log.exception("room %s: cannot open its journal", name)
            raise RoomUnavailable(f"its journal cannot be opened: {exc}") from None
        self._files[name.casefold()] = name
        host = RoomHost(
            name,
            journal,
            self._pool,
            retention=self._retention,
            clock=self._clock,
            index=self.index,
            on_damage=self._put_away_damaged,
        )
        try:
            await host.start()
        except JournalDamaged as exc:
            log.error("room %s: journal damaged, refusing to serve it: %s", name, exc)
            await loop.run_in_executor(self._pool, journal.close)
            raise RoomUnavailable(f"its journal is damaged: {exc}") from None
        except Exception as exc:
            log.exception("room %s: cannot load its journal", name)
            await loop.run_in_executor(self._pool, journal.close)
            raise RoomUnavailable(f"its journal cannot be loaded: {exc}") from None
        wake = self._wake.pop(name, None)
        if wake is not None:
            wake.cancel()  # the room's own timers take over
        self.open[name] = host
        self._schedule_idle(name)
        return host

    def _schedule_idle(self, name: str) -> None:
        if self._stopping or self._users.get(name) or name in self._idle:
            return
        loop = asyncio.get_running_loop()
        self._idle[name] = loop.call_later(self._idle_for, self._idle_check, name)

    def _idle_check(self, name: str) -> None:
        self._idle.pop(name, None)
        host = self.open.get(name)
        if host is None or self._users.get(name) or self._stopping:
            return
        if not host.idle:
            self._schedule_idle(name)
            return
        del self.open[name]
        self._closing[name] = asyncio.create_task(self._put_away(host))

    async def _put_away(self, host: RoomHost) -> None:
        """Close a room; it reopens on the next join, or on its next deadline."""
        try:
            await host.stop()
        except Exception:
            log.exception("room %s: could not close it cleanly", host.name)
        finally:
            self._closing.pop(host.name, None)
        due = next_deadline(host.state)
        if due is not None and not self._stopping:
            self._wake_at(host.name, due)

    def _put_away_damaged(self, host: RoomHost, why: str) -> None:
        if self.open.get(host.name) is host:
            del self.open[host.name]
            self._closing[host.name] = asyncio.create_task(self._put_away(host))

    def _wake_at(self, name: str, due: float) -> None:
        old = self._wake.pop(name, None)
        if old is not None:
            old.cancel()
        self._wake[name] = self._clock.call_at(
            due, lambda: asyncio.create_task(self._wake_up(name), name=f"wake-{name}")
        )

    async def _wake_up(self, name: str) -> None:
        """Open a closed room for a deadline that came; it acts, then goes idle again."""
        self._wake.pop(name, None)
        if self._stopping:
            return
        self.use(name)
        try:
            await self.get(name)
        except RoomUnavailable as exc:
            log.error("room %s: could not wake it for its deadline: %s", name, exc)
        finally:
            self.release(name)
