"""Two people run the sample train from start to done through a real hub."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.integration.conftest import LiveHub
from tests.unit.train_helpers import runbook_data
from warroom.client import Answer, Applied, RoomClient, Update
from warroom.core import Event, describe


async def join(
    hub: LiveHub, name: str, role: str, log: list[tuple[int, Event]]
) -> tuple[RoomClient, asyncio.Task[None]]:
    def on_update(update: Update) -> None:
        if isinstance(update, Applied):
            log.extend(update.events)

    client = RoomClient(hub.url(), hub.token(name, role), "UTC", on_update=on_update)
    task = asyncio.create_task(client.run())
    await client.wait_live()
    return client, task


async def ok(client: RoomClient, op: str, **args: Any) -> Answer:
    answer = await client.send(op, args)
    assert answer.ok, (op, answer.code, answer.reason)
    return answer


async def test_two_people_run_the_sample_train_to_done(hub: LiveHub) -> None:
    ana_log: list[tuple[int, Event]] = []
    raj_log: list[tuple[int, Event]] = []
    ana, ana_task = await join(hub, "ana", "conductor", ana_log)
    raj, raj_task = await join(hub, "raj", "engineer", raj_log)
    await ok(ana, "open_train", runbook=runbook_data(), version="1.44.0-wmf.5")
    promoted = 0
    while True:
        train = ana.state.train
        assert train is not None
        for item in train.stage_items(train.stage):
            if item.required and not item.done:
                # The conductor ticks conductor-only items; raj ticks the rest.
                await ok(ana if item.who == "conductor" else raj, "tick", item=item.id)
        if train.stage == "group0" and promoted == 2:
            await ok(raj, "raise_blocker", reason="fatal on enwiki Special:Search", link="T12345")
            refused = await ana.send("promote", {})
            assert not refused.ok and refused.code == "gated" and "T12345" in refused.reason
            await ok(raj, "resolve_blocker", blocker="T12345", note="reverted the bad change")
        if train.current + 1 == len(train.stages):
            break
        await ok(ana, "promote")
        promoted += 1
    await ok(ana, "finish_train")
    for _ in range(100):
        if raj.seq == ana.seq == hub.hub.rooms["r1"].head:
            break
        await asyncio.sleep(0.02)
    assert ana.state == raj.state == hub.hub.rooms["r1"].state
    assert raj.state.train is not None and raj.state.train.label() == "DONE"
    ana_timeline = [describe(e) for _, e in ana_log if e.kind not in ("joined", "left")]
    raj_timeline = [describe(e) for _, e in raj_log if e.kind not in ("joined", "left")]
    assert ana_timeline[-len(raj_timeline) :] == raj_timeline
    assert "raj raised blocker T12345: fatal on enwiki Special:Search" in raj_timeline
    assert any(s.startswith("ana promoted group2") for s in raj_timeline)
    assert raj_timeline[-1] == "ana marked the train done"
    for client, task in ((ana, ana_task), (raj, raj_task)):
        await client.close()
        await task
