"""Votes through a real hub: duplicate ballots, two connections, visitors, restart mid-vote."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from server.auth import load_or_create_secret, mint
from tests.integration.conftest import LiveHub, Raw
from tests.unit.train_helpers import runbook_data
from warroom import protocol as p
from warroom.client import RoomClient
from warroom.core import Role
from warroom.hubproc import HubProcess


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
    hub = HubProcess(tmp_path)
    port = hub.port
    secret = load_or_create_secret(tmp_path)
    ana = mint(secret, "r1", "ana", Role.CONDUCTOR, 600, time.time())
    raj = mint(secret, "r1", "raj", Role.ENGINEER, 600, time.time())
    again = None
    try:
        client, task = await seated(hub.room_url("r1"), ana)
        other, other_task = await seated(hub.room_url("r1"), raj)
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
        hub.kill()
        again = HubProcess(tmp_path, port=port)
        raw = await Raw.open(again.room_url("r1"))
        await raw.hello(ana, presence=False, resume=p.Resume("", 0))
        closed = None
        while closed is None:
            frame = await raw.frame(timeout=20)
            if isinstance(frame, p.Events):
                closed = next((e for e in frame.events if e["kind"] == "vote_closed"), None)
        assert closed["data"]["outcome"] == "expired"
        assert closed["data"]["yes"] == 1  # raj's ballot survived the crash
        assert deadline <= closed["ts"] < deadline + 3
        await raw.close()
    finally:
        hub.stop()
        if again is not None:
            again.stop()
