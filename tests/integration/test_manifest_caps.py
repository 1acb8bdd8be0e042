"""One engineer cannot brick a room with its manifest: 90 fat but well-formed `manifest_add`
frames to a real hub, each near the 1 MiB frame limit, are taken until the room's byte cap
and refused `invalid` after; the room stays under the cap and still loads. And a room an older
hub let grow past the cap still opens."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from server.journal import Entry, Journal
from tests.integration.conftest import LiveHub, Raw, start_hub, stop_hub
from tests.unit.test_changes import begin, commit
from tests.unit.train_helpers import RAJ, Room
from warroom import protocol as p
from warroom.core import changes as changes_module
from warroom.core.changes import MAX_MANIFEST_BYTES
from warroom.core.commits import MAX_COMMIT_BYTES, commit_from_data, commit_size
from warroom.manifest import RepoRange, publish_commands
from warroom.script import fetch_state, send_all

PER_FRAME = 15
FRAMES = 90


def fat(n: int) -> dict[str, Any]:
    """A commit just under the per-commit cap: 200 files of 300-character paths."""
    files = [[f"{n:06d}/{j:03d}/".ljust(300, "x"), 1, 1, ""] for j in range(200)]
    data = commit(n, files=files)
    assert MAX_COMMIT_BYTES * 0.9 < commit_size(data) <= MAX_COMMIT_BYTES
    return data


async def test_ninety_fat_frames_stop_at_the_cap_and_the_room_still_loads(hub: LiveHub) -> None:
    url = hub.url("r1")
    raj = hub.token("raj")
    client = await Raw.open(url)
    await client.hello(raj)
    total = PER_FRAME * FRAMES
    await client.cmd(
        "b", "manifest_begin", repo="mediawiki", batch="b1", to="v2", from_sha="1" * 40,
        to_sha="2" * 40, count=total, **{"from": "v1"},
    )  # fmt: skip
    assert isinstance(await client.answer("b"), p.Ack)
    accepted = refused = 0
    held = 0
    started = time.monotonic()
    for frame in range(FRAMES):
        commits = [fat(accepted * PER_FRAME + i) for i in range(PER_FRAME)]
        offset = accepted * PER_FRAME  # a sender that keeps trying where the room stands
        await client.cmd(f"a{frame}", "manifest_add", repo="mediawiki", batch="b1",
                         offset=offset, commits=commits)  # fmt: skip
        answer = await client.answer(f"a{frame}", timeout=30)
        if isinstance(answer, p.Ack):
            accepted += 1
            held += sum(commit_size(c) for c in commits)
            assert held <= MAX_MANIFEST_BYTES
        else:
            assert answer.code == "invalid", answer
            assert "a room holds at most 33,554,432 bytes (32.00 MiB) of commits" in answer.reason
            refused += 1
    took = time.monotonic() - started
    await client.close()
    # 36 frames of 15 commits of about 61 KB fit under 32 MiB; the 37th and all after are not.
    assert accepted == MAX_MANIFEST_BYTES // (PER_FRAME * commit_size(fat(0))) == 36
    assert refused == FRAMES - accepted
    assert took < 60

    # The room still loads, whole, for the real client.
    got = await fetch_state(url, hub.token("vic", "visitor"))
    repos = got["state"]["changes"]["repos"]
    commits = [c for r in repos for c in r["commits"]]
    assert len(commits) == accepted * PER_FRAME
    assert sum(commit_size(c) for c in commits) == held <= MAX_MANIFEST_BYTES


async def test_a_room_an_older_hub_let_past_the_cap_still_opens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Written straight to the journal, as a hub without the cap let it in: 3 MiB of commits.
    room = Room()
    room.join(RAJ)
    begin(room, count=50)
    for offset in range(0, 50, 10):
        commits = [fat(offset + i) for i in range(10)]
        room.ok(RAJ, "manifest_add", repo="mediawiki", batch="b1", offset=offset, commits=commits)
    journal = Journal(tmp_path / "rooms" / "r1.db")
    journal.commit([Entry(n, e) for n, e in enumerate(room.events, start=1)], [])
    journal.close()
    monkeypatch.setattr(changes_module, "MAX_MANIFEST_BYTES", 1 << 20)  # this hub: 1 MiB
    live, server = await start_hub(tmp_path, rate=10_000.0, burst=10_000.0)
    try:
        got = await fetch_state(live.url("r1"), live.token("vic", "visitor"))
        (repo,) = got["state"]["changes"]["repos"]
        assert len(repo["commits"]) == 50 and repo["complete"]
        client = await Raw.open(live.url("r1"))
        await client.hello(live.token("raj"))
        await client.cmd("b", "manifest_begin", repo="Cart", batch="b2", to="v2",
                         from_sha="1" * 40, to_sha="2" * 40, count=1, **{"from": "v1"})  # fmt: skip
        assert isinstance(await client.answer("b"), p.Ack)
        await client.cmd("a", "manifest_add", repo="Cart", batch="b2", offset=0,
                         commits=[commit(999)])  # fmt: skip
        refused = await client.answer("a")
        assert isinstance(refused, p.RejectFrame) and refused.code == "invalid"
        assert "a room holds at most 1,048,576 bytes (1.00 MiB) of commits" in refused.reason
        await client.cmd("d", "manifest_drop", repo="mediawiki")
        assert isinstance(await client.answer("d"), p.Ack)
        await client.cmd("a2", "manifest_add", repo="Cart", batch="b2", offset=0,
                         commits=[commit(999)])  # fmt: skip
        assert isinstance(await client.answer("a2"), p.Ack)
        await client.close()
    finally:
        await stop_hub(live, server)


async def test_a_publish_past_the_cap_is_refused_before_any_commit_is_sent(
    hub: LiveHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(changes_module, "MAX_MANIFEST_BYTES", 1 << 20)
    url, raj = hub.url("r1"), hub.token("raj")

    def repo(name: str, first: int, n: int) -> RepoRange:
        commits = [commit_from_data(fat(first + i)) for i in range(n)]
        return RepoRange(name, "/src/" + name, "v1", "v2", "1" * 40, "2" * 40, commits)

    ok = await send_all(url, raj, publish_commands(repo("mediawiki", 0, 10), "b1"))
    assert ok["ok"] and ok["applied"] == 2  # the begin and one chunk
    answer = await send_all(url, raj, publish_commands(repo("Cart", 100, 10), "b2"))
    assert answer["ok"] is False and answer["applied"] == 0
    assert answer["op"] == "manifest_begin" and answer["code"] == "invalid"
    assert answer["reason"].startswith("the manifest would hold 1,")
    assert (
        "for these commits of Cart; a room holds at most 1,048,576 bytes (1.00 MiB) of commits"
        in answer["reason"]
    )
    got = await fetch_state(url, raj)
    assert [r["repo"] for r in got["state"]["changes"]["repos"]] == ["mediawiki"]  # no partial Cart
