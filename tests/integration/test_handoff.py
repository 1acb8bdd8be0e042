"""Hand-off through a real hub: the conductor drops; after the grace the seat is taken."""

from __future__ import annotations

import asyncio
from pathlib import Path

from server.clock import ManualClock
from tests.integration.conftest import stop_hub
from tests.integration.test_votes import start_clocked_hub
from tests.unit.train_helpers import runbook_data
from warroom.client import RoomClient


async def test_the_seat_is_taken_after_the_conductors_connection_is_killed(
    tmp_path: Path,
) -> None:
    clock = ManualClock()
    hub, server = await start_clocked_hub(tmp_path, clock)
    book = runbook_data()
    book["rules"]["handoff_grace"] = 5
    ana = RoomClient(hub.url(), hub.token("ana", "conductor"))
    ana_task = asyncio.create_task(ana.run())
    await ana.wait_live()
    bea = RoomClient(hub.url(), hub.token("bea"), "America/New_York")
    bea_task = asyncio.create_task(bea.run())
    await bea.wait_live()
    try:
        assert (await ana.send("open_train", {"runbook": book, "version": "v1"})).ok
        assert (
            await bea.send(
                "queue_join", {"tz": "America/New_York", "start": "08:00", "end": "16:00"}
            )
        ).ok
        # Kill ana's connection for good: no reconnect, as when a laptop dies.
        ana.reconnect = False
        room = hub.hub.rooms["r1"]
        peer = next(p for p in room.peers if p.actor.name == "ana")
        peer.ws.transport.abort()
        await asyncio.wait_for(ana_task, 5)
        for _ in range(200):  # the hub notices she left: the grace starts now
            if not room.state.members["ana"].present:
                break
            await asyncio.sleep(0.01)
        assert not room.state.members["ana"].present
        early = await bea.send("take_seat", {})
        assert not early.ok and "holds the seat" in early.reason
        clock.advance(4.9)
        assert (await bea.send("note", {"text": "waiting for ana"})).ok
        assert room.state.conductor == "ana"  # still within the grace
        clock.advance(0.1)
        for _ in range(200):
            if bea.state.conductor is None:
                break
            await asyncio.sleep(0.01)
        assert bea.state.conductor is None  # "no conductor", after the 5 s grace
        assert (await bea.send("take_seat", {})).ok
        assert bea.state.conductor == "bea"
        assert (await bea.send("promote", {"override": "drill"})).ok
    finally:
        await bea.close()
        await bea_task
        await stop_hub(hub, server)
