"""The scriptable client behind `warroom send`, `state` and `events`."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from warroom.client import RoomClient
from warroom.core import Event, RoomState
from warroom.core.wire import event_to_wire, state_to_wire
from warroom.replica import Applied, Synced, Update


def parse_pairs(pairs: Iterable[str]) -> dict[str, Any]:
    """key=value gives a string; key:=JSON gives a typed value (number, boolean, list...)."""
    args: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep:
            raise ValueError(f"{pair!r} is not key=value")
        value: Any = raw
        if key.endswith(":"):
            key = key[:-1]
            try:
                value = json.loads(raw)
            except json.JSONDecodeError:
                raise ValueError(f"{pair!r}: the value after := must be JSON") from None
        if not key:
            raise ValueError(f"{pair!r} has no key")
        args[key] = value
    return args


async def _connected(client: RoomClient) -> asyncio.Task[None]:
    task = asyncio.create_task(client.run())
    await client.wait_live()
    return task


async def _finish(client: RoomClient, task: asyncio.Task[None]) -> None:
    await client.close()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(task, 5)


async def send_one(url: str, token: str, op: str, args: dict[str, Any]) -> dict[str, Any]:
    """Send one command; the answer as a JSON-ready map."""
    client = RoomClient(url, token, reconnect=False, presence=False)
    task = await _connected(client)
    try:
        answer = await client.send(op, args)
    finally:
        await _finish(client, task)
    if answer.ok:
        return {"ok": True, "id": answer.id, "op": op, "epoch": client.epoch, "seq": answer.seq}
    return {"ok": False, "id": answer.id, "op": op, "code": answer.code, "reason": answer.reason}


async def send_all(
    url: str, token: str, commands: Sequence[tuple[str, dict[str, Any]]]
) -> dict[str, Any]:
    """Send commands one after another on one connection, each once the last was applied;
    stop at the first refusal. The answer says how many were applied, and the refusal."""
    client = RoomClient(url, token, reconnect=False, presence=False)
    task = await _connected(client)
    applied = 0
    try:
        for op, args in commands:
            answer = await client.send(op, args)
            if not answer.ok:
                return {
                    "ok": False,
                    "applied": applied,
                    "op": op,
                    "code": answer.code,
                    "reason": answer.reason,
                }
            applied += 1
    finally:
        await _finish(client, task)
    return {"ok": True, "applied": applied, "epoch": client.epoch, "seq": client.seq}


async def fetch_state(url: str, token: str) -> dict[str, Any]:
    """The room's state as a JSON-ready map, with the journal position it reflects."""
    client = RoomClient(url, token, reconnect=False, presence=False)
    task = await _connected(client)
    try:
        return {"epoch": client.epoch, "seq": client.seq, "state": state_to_wire(client.state)}
    finally:
        await _finish(client, task)


async def fetch_history(url: str, token: str) -> tuple[list[tuple[int, Event]], RoomState]:
    """Every event the hub still has for the room, oldest first, and the state they lead to.

    When the hub answers with a snapshot (a history longer than it replays), the events are
    the recent ones that came with it.
    """
    events: list[tuple[int, Event]] = []

    def on_update(update: Update) -> None:
        if isinstance(update, Applied):
            events.extend(update.events)
        elif isinstance(update, Synced):
            events[:] = update.recent

    client = RoomClient(url, token, reconnect=False, history=True, presence=False,
                        on_update=on_update)  # fmt: skip
    task = await _connected(client)
    try:
        return events, client.state
    finally:
        await _finish(client, task)


async def print_events(url: str, token: str, follow: bool, out: Callable[[str], None]) -> None:
    """Print the room's history as JSON lines, then (with `follow`) every new event."""
    queue: asyncio.Queue[list[tuple[int, Event]]] = asyncio.Queue()

    def on_update(update: Update) -> None:
        if isinstance(update, Applied):
            queue.put_nowait(update.events)
        elif isinstance(update, Synced):
            # The hub sent a snapshot instead of the full history: print what it sent.
            queue.put_nowait(update.recent)

    client = RoomClient(
        url, token, reconnect=follow, history=True, presence=False, on_update=on_update
    )
    task = await _connected(client)
    try:
        while True:
            if not follow and queue.empty():
                break
            for seq, event in await queue.get():
                out(json.dumps(event_to_wire(event, seq), sort_keys=True))
    finally:
        await _finish(client, task)
