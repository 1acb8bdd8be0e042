"""Votes through a real hub: duplicate ballots, two connections, visitors, restart mid-vote."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from server.clock import ManualClock
from tests.integration.conftest import LiveHub, Raw, start_hub, stop_hub
from tests.unit.train_helpers import runbook_data
from warroom import protocol as p
from warroom.client import RoomClient


async def start_clocked_hub(
    data_dir: Path, clock: ManualClock, **limits: Any
) -> tuple[LiveHub, Any]:
    """`start_hub` on `clock` (kept under this name for the tests that import it)."""
    return await start_hub(data_dir, clock, **limits)


async def seated(url: str, token: str) -> tuple[RoomClient, asyncio.Task[None]]:
    client = RoomClient(url, token)
    task = asyncio.create_task(client.run())
    await client.wait_live()
    return client, task


async def test_duplicate_ballots_count_once_and_visitors_cannot_vote(hub: LiveHub) -> None:
    ana, ana_task = await seated(hub.url(), hub.token("ana", "conductor"))
    raj, raj_task = await seated(hub.url(), hub.token("raj"))
    bea, bea_task = await seated(hub.url(), hub.token("bea"))
    vic, vic_task = await seated(hub.url(), hub.token("vic", "visitor"))
    assert (await ana.send("open_train", {"runbook": runbook_data(), "version": "v1"})).ok
    assert (await ana.send("call_vote", {"proposal": "full", "reason": "x"})).ok
    # 64 concurrent copies of one ballot on one connection, and raj's second connection too.
    raj2, raj2_task = await seated(hub.url(), hub.token("raj"))
    answers = await asyncio.gather(
        *(raj.send("ballot", {"choice": "yes"}) for _ in range(64)),
        *(raj2.send("ballot", {"choice": "yes"}) for _ in range(8)),
    )
    assert all(a.ok for a in answers)
    vote = hub.hub.rooms["r1"].state.vote
    assert vote is not None and vote.tally() == (1, 0) and vote.open
    refused = await vic.send("ballot", {"choice": "yes"})
    assert not refused.ok and refused.code == "forbidden"
    assert (await bea.send("ballot", {"choice": "yes", "comment": "agreed"})).ok
    vote = hub.hub.rooms["r1"].state.vote
    assert vote is not None and vote.outcome == "passed"
    for _ in range(50):  # every participant, visitors included, sees the same result
        if vic.state.vote is not None and vic.state.vote.outcome:
            break
        await asyncio.sleep(0.02)
    assert vic.state.vote == vote
    for client, task in (
        (ana, ana_task),
        (raj, raj_task),
        (bea, bea_task),
        (vic, vic_task),
        (raj2, raj2_task),
    ):
        await client.close()
        await task


async def test_a_vote_outlives_a_hub_restart_and_expires_at_its_deadline(tmp_path: Path) -> None:
    clock = ManualClock()
    hub, server = await start_clocked_hub(tmp_path, clock)
    ana, raj = hub.token("ana", "conductor"), hub.token("raj")
    try:
        client, task = await seated(hub.url(), ana)
        other, other_task = await seated(hub.url(), raj)
        assert (await client.send("open_train", {"runbook": runbook_data(), "version": "v"})).ok
        assert (
            await client.send("call_vote", {"proposal": "full", "reason": "x", "deadline": 10})
        ).ok
        assert (await other.send("ballot", {"choice": "yes"})).ok
        assert client.state.vote is not None
        deadline = client.state.vote.deadline
        for c, t in ((client, task), (other, other_task)):
            await c.close()
            await t
    finally:
        await stop_hub(hub, server)
    clock.advance(4)  # the hub is down a while
    again, server = await start_clocked_hub(tmp_path, clock)
    try:
        raw = await Raw.open(again.url())
        await raw.hello(ana, presence=False, resume=p.Resume("", 0))
        room = again.hub.rooms["r1"]
        assert deadline in clock.pending  # the restarted room set its timer from the journal
        clock.advance(deadline - 0.5 - clock.now())
        await raw.cmd("c1", "note", text="still open?")
        assert isinstance(await raw.answer("c1"), p.Ack)
        assert room.state.vote is not None and room.state.vote.open
        clock.advance(0.5)
        closed = None
        while closed is None:
            frame = await raw.frame()
            if isinstance(frame, p.Events):
                closed = next((e for e in frame.events if e["kind"] == "vote_closed"), None)
        assert closed["data"]["outcome"] == "expired"
        assert closed["data"]["yes"] == 1  # raj's ballot survived the restart
        assert closed["ts"] == deadline
        await raw.close()
    finally:
        await stop_hub(again, server)
