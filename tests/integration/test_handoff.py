"""Hand-off through a real hub: the conductor drops; after the grace the seat is taken."""

from __future__ import annotations

import asyncio

from tests.integration.conftest import LiveHub
from tests.unit.train_helpers import runbook_data
from warroom.client import RoomClient


async def test_the_seat_is_taken_after_the_conductors_connection_is_killed(hub: LiveHub) -> None:
    book = runbook_data()
    book["rules"]["handoff_grace"] = 5
    ana = RoomClient(hub.url(), hub.token("ana", "conductor"))
    ana_task = asyncio.create_task(ana.run())
    await ana.wait_live()
    bea = RoomClient(hub.url(), hub.token("bea"), "America/New_York")
    bea_task = asyncio.create_task(bea.run())
    await bea.wait_live()
    assert (await ana.send("open_train", {"runbook": book, "version": "v1"})).ok
    assert (
        await bea.send("queue_join", {"tz": "America/New_York", "start": "08:00", "end": "16:00"})
    ).ok
    # Kill ana's connection for good: no reconnect, as when a laptop dies.
    ana.reconnect = False
    peer = next(p for p in hub.hub.rooms["r1"].peers if p.actor.name == "ana")
    peer.ws.transport.abort()
    await asyncio.wait_for(ana_task, 5)
    early = await bea.send("take_seat", {})
    assert not early.ok and "holds the seat" in early.reason
    for _ in range(100):
        if bea.state.conductor is None:
            break
        await asyncio.sleep(0.1)
    assert bea.state.conductor is None  # "no conductor", after the 5 s grace
    assert (await bea.send("take_seat", {})).ok
    assert bea.state.conductor == "bea"
    assert (await bea.send("promote", {"override": "drill"})).ok
    await bea.close()
    await bea_task
