"""The changes screen with a big manifest: opening it, and a key typed in its filter.

A room holding one manifest of `commits` commits (50 authors, one file each), built by the
real core, is fed to an offline `WarroomApp` under Textual's test driver at 120x40. Timed:
`g` until the screen is drawn, then each key of `author:17` until the screen is idle again
(the filter applies once typing pauses, `FILTER_PAUSE`, which is in the figure).

Run alone: python -m benches.tui_changes [--commits N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from typing import Any

from warroom.core import Actor, Command, Reject, Role, RoomState, apply, decide
from warroom.core.commits import Commit, FileChange, commit_to_data
from warroom.manifest import chunks
from warroom.replica import Status
from warroom.tui.app import WarroomApp
from warroom.tui.messages import ConnectionChanged, RoomSynced

RAJ = Actor("raj", Role.ENGINEER, "c-raj", "UTC")
NOW = 1_790_000_000.0


def room(count: int) -> RoomState:
    """A room with `raj` present and a manifest of `count` commits."""
    state = RoomState(room="bench")

    def do(op: str, args: dict[str, Any], trusted: bool = False) -> None:
        nonlocal state
        result = decide(state, RAJ, Command(op, args, NOW), trusted=trusted)
        assert not isinstance(result, Reject), result
        for event in result:
            state = apply(state, event)

    do("join", {"tz": "UTC"}, trusted=True)
    begin = {"repo": "mw", "batch": "b1", "from": "v1", "to": "v2", "from_sha": "0" * 40,
             "to_sha": "1" * 40, "count": count, "path": ""}  # fmt: skip
    do("manifest_begin", begin)
    commits = [
        commit_to_data(
            Commit(
                f"{n:07x}".ljust(40, "a"),
                f"{n:07x}",
                f"Author {n % 50}",
                f"a{n % 50}@x.org",
                int(NOW) - n,
                f"Change {n} to the thing",
                (FileChange(f"includes/f{n % 300}.php", 3, 1),),
            )  # fmt: skip
        )
        for n in range(count)
    ]
    offset = 0
    for run in chunks(commits):
        do("manifest_add", {"repo": "mw", "batch": "b1", "offset": offset, "commits": run})
        offset += len(run)
    return state


async def measure(count: int) -> dict[str, Any]:
    state = room(count)
    app = WarroomApp("ws://hub.invalid/bench", "unused", "UTC", clock=lambda: NOW, connect=False)
    async with app.run_test(size=(120, 40)) as pilot:
        app.room_screen.post_message(RoomSynced(state, [], "raj", "engineer"))
        app.room_screen.post_message(ConnectionChanged(Status.LIVE))
        await pilot.pause()
        start = time.perf_counter()
        await pilot.press("g")
        await pilot.pause()
        opened = time.perf_counter() - start
        await pilot.press("slash")
        keys = []
        for key in "author:17":
            start = time.perf_counter()
            await pilot.press(key)
            await pilot.pause(0.15)  # the filter's pause, then the rebuild
            keys.append(time.perf_counter() - start - 0.15)
    return {
        "commits": count,
        "open_ms": round(opened * 1000, 1),
        "filter_key_ms_median": round(statistics.median(keys) * 1000, 1),
        "filter_key_ms_max": round(max(keys) * 1000, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=5000)
    print(json.dumps(asyncio.run(measure(parser.parse_args().commits))))


if __name__ == "__main__":
    main()
