"""The hub against real clients on localhost: order, resume, idempotency, roles."""

from __future__ import annotations

import asyncio
import urllib.request

import pytest

from tests.integration.conftest import LiveHub, Raw
from warroom import protocol as p
from warroom.client import Applied, RoomClient, Synced, Update
from warroom.core import Event


async def live_client(
    hub: LiveHub, name: str, role: str = "engineer", log: list[tuple[int, Event]] | None = None
) -> tuple[RoomClient, asyncio.Task[None]]:
    def on_update(update: Update) -> None:
        if log is not None and isinstance(update, Applied):
            log.extend(update.events)
        if log is not None and isinstance(update, Synced):
            log.clear()
            log.extend(update.recent)

    client = RoomClient(hub.url(), hub.token(name, role), "UTC", on_update=on_update)
    task = asyncio.create_task(client.run())
    await client.wait_live()
    return client, task


async def finish(*pairs: tuple[RoomClient, asyncio.Task[None]]) -> None:
    for client, task in pairs:
        await client.close()
        await asyncio.wait_for(task, 5)


async def test_two_clients_see_the_same_events_in_the_same_order(hub: LiveHub) -> None:
    log_a: list[tuple[int, Event]] = []
    log_b: list[tuple[int, Event]] = []
    a = await live_client(hub, "ana", "conductor", log_a)
    b = await live_client(hub, "ben", "engineer", log_b)
    sends = [a[0].send("note", {"text": f"a{i}"}) for i in range(30)]
    sends += [b[0].send("note", {"text": f"b{i}"}) for i in range(30)]
    answers = await asyncio.gather(*sends)
    assert all(ans.ok for ans in answers)
    last = max(ans.seq for ans in answers)
    for _ in range(100):
        if a[0].seq >= last and b[0].seq >= last:
            break
        await asyncio.sleep(0.02)
    tail_a = [(s, e) for s, e in log_a if s > b[0].seq - 200 and e.kind == "note"]
    tail_b = [(s, e) for s, e in log_b if e.kind == "note"]
    assert tail_a == tail_b
    assert len(tail_b) == 60
    assert a[0].state == b[0].state
    assert a[0].state.notes == 60
    await finish(a, b)


async def test_ack_comes_after_its_event(hub: LiveHub) -> None:
    raw = await Raw.open(hub.url())
    await raw.hello(hub.token("ana"))
    await raw.until(p.Snapshot)
    await raw.cmd("n1", "note", text="hello")
    frames = [await raw.frame(), await raw.frame()]
    assert isinstance(frames[0], p.Events)
    assert frames[0].events[-1]["data"] == {"text": "hello"}
    assert isinstance(frames[1], p.Ack)
    assert frames[1].seq == frames[0].events[-1]["seq"]
    await raw.close()


async def test_a_retried_command_id_applies_once(hub: LiveHub) -> None:
    raw = await Raw.open(hub.url())
    await raw.hello(hub.token("ana"))
    await raw.cmd("same", "note", text="once")
    first = await raw.answer("same")
    await raw.cmd("same", "note", text="once")
    second = await raw.answer("same")
    assert first == second and isinstance(first, p.Ack)
    # Across a new connection too: the id belongs to the person, not the socket.
    await raw.close()
    again = await Raw.open(hub.url())
    await again.hello(hub.token("ana"))
    await again.cmd("same", "note", text="once")
    assert await again.answer("same") == first
    # Many copies in one burst still apply once.
    for _ in range(20):
        await again.cmd("burst", "note", text="burst")
    answers = [await again.answer("burst") for _ in range(20)]
    assert len({a.seq for a in answers if isinstance(a, p.Ack)}) == 1
    await again.close()
    state = hub.hub.rooms["r1"].state
    assert state.notes == 2


async def test_a_retried_rejected_command_gets_the_same_reject(hub: LiveHub) -> None:
    raw = await Raw.open(hub.url())
    await raw.hello(hub.token("vic", "visitor"))
    await raw.cmd("v1", "note", text="hi")
    first = await raw.answer("v1")
    await raw.cmd("v1", "note", text="hi")
    assert await raw.answer("v1") == first
    assert isinstance(first, p.RejectFrame) and first.code == "forbidden"
    await raw.close()


async def test_visitor_commands_are_rejected_and_change_nothing(hub: LiveHub) -> None:
    eng = await live_client(hub, "ben")
    vis = await live_client(hub, "vic", "visitor")
    before = hub.hub.rooms["r1"].state
    head = hub.hub.rooms["r1"].head
    answer = await vis[0].send("note", {"text": "let me in"})
    assert not answer.ok and answer.code == "forbidden"
    assert "read-only" in answer.reason
    assert hub.hub.rooms["r1"].state == before
    assert hub.hub.rooms["r1"].head == head
    await finish(eng, vis)


async def test_dropped_connection_resumes_with_exactly_the_missed_events(hub: LiveHub) -> None:
    log: list[tuple[int, Event]] = []
    watcher = await live_client(hub, "wes", "engineer", log)
    talker = await live_client(hub, "tia", "engineer")
    seen_before = watcher[0].seq
    # Cut the watcher's socket from the hub side, as a network drop would.
    peer = next(pr for pr in hub.hub.rooms["r1"].peers if pr.actor.name == "wes")
    peer.ws.transport.abort()
    for i in range(10):
        assert (await talker[0].send("note", {"text": f"while away {i}"})).ok
    for _ in range(200):
        if watcher[0].seq >= hub.hub.rooms["r1"].head:
            break
        await asyncio.sleep(0.02)
    seqs = [s for s, _ in log]
    assert seqs == sorted(set(seqs)), "duplicates or disorder"
    assert seqs == list(range(seqs[0], seqs[-1] + 1)), "a gap"
    assert seqs[-1] == hub.hub.rooms["r1"].head
    texts = [e.data.get("text") for s, e in log if s > seen_before and e.kind == "note"]
    assert texts == [f"while away {i}" for i in range(10)]
    assert watcher[0].state == hub.hub.rooms["r1"].state
    await finish(watcher, talker)


async def test_resume_point_rules(hub: LiveHub) -> None:
    token = hub.token("ana")
    first = await Raw.open(hub.url())
    welcome = await first.hello(token)
    await first.until(p.Snapshot)
    await first.close()
    # Same epoch, known point: exactly the events after it.
    raw = await Raw.open(hub.url())
    back = await raw.hello(token, resume=p.Resume(welcome.epoch, welcome.seq))
    assert back.resumed
    events = await raw.until(p.Events)
    assert events.events[0]["seq"] == welcome.seq + 1
    await raw.close()
    # A point in the future, or another epoch (a reset journal): a snapshot.
    for resume in (p.Resume(welcome.epoch, 10**6), p.Resume("otherepoch", 1)):
        raw = await Raw.open(hub.url())
        w = await raw.hello(token, resume=resume)
        assert not w.resumed
        snap = await raw.until(p.Snapshot)
        assert snap.seq == w.seq
        await raw.close()


async def test_rooms_are_separate(hub: LiveHub) -> None:
    a = await Raw.open(hub.url("r1"))
    await a.hello(hub.token("ana", room="r1"), room="r1")
    b = await Raw.open(hub.url("r2"))
    await b.hello(hub.token("ana", room="r2"), room="r2")
    await a.cmd("x", "note", text="only in r1")
    assert isinstance(await a.answer("x"), p.Ack)
    assert hub.hub.rooms["r1"].state.notes == 1
    assert hub.hub.rooms["r2"].state.notes == 0
    await a.close()
    await b.close()


async def test_healthz(hub: LiveHub) -> None:
    def get() -> tuple[int, str]:
        with urllib.request.urlopen(f"http://127.0.0.1:{hub.port}/healthz", timeout=5) as r:
            return r.status, r.read().decode()

    assert await asyncio.to_thread(get) == (200, "ok\n")


async def test_resume_beyond_memory_reads_the_journal_and_too_old_gets_a_snapshot(
    hub: LiveHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    import server.catchup as catchup_module

    token = hub.token("ana")
    raw = await Raw.open(hub.url())
    welcome = await raw.hello(token)
    await raw.until(p.Snapshot)
    for i in range(30):
        await raw.cmd(f"n{i}", "note", text=f"n{i}")
        await raw.answer(f"n{i}")
    await raw.close()
    host = hub.hub.rooms["r1"]
    # Shrink the in-memory ring so the missed events must come from SQLite.
    host.ring = type(host.ring)(list(host.ring)[-5:], maxlen=5)
    back = await Raw.open(hub.url())
    w = await back.hello(token, resume=p.Resume(welcome.epoch, welcome.seq))
    assert w.resumed
    got: list[int] = []
    while not got or got[-1] < w.seq:
        got.extend(e["seq"] for e in (await back.until(p.Events)).events)
    assert got == list(range(welcome.seq + 1, w.seq + 1))
    await back.close()
    # Too far behind to be worth replaying: a snapshot instead.
    monkeypatch.setattr(catchup_module, "RESUME_FROM_DISK", 3)
    late = await Raw.open(hub.url())
    w2 = await late.hello(token, resume=p.Resume(welcome.epoch, welcome.seq))
    assert not w2.resumed
    assert (await late.until(p.Snapshot)).seq == w2.seq
    await late.close()
