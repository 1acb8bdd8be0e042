"""How big a room still loads, and how long it takes: a state sent in parts.

A room's journal is written directly with a manifest of fat commits (about 60 KiB each, the
way an older hub let one grow; today's caps refuse them), then a real hub is started on it
and the reference client joins, as `warroom join`, `state` and `export` do. Timed: the hub's
opening of the room (replay) as the first join sees it, and the join until the client's
replica is live. The baseline is a room of about 1 MiB, measured in the same run.

python -m benches.big_room            # sizes 1, 16, 75 and 200 MiB
python -m benches.big_room --sizes 1,300
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benches.common import HUB_ARGS, data_parent, machine
from server.auth import load_or_create_secret, mint
from server.journal import Entry, Journal
from warroom.client import RoomClient
from warroom.core import Event, Role
from warroom.hubproc import HubProcess

COMMIT_BYTES = 60_000  # about, in the data form
PER_EVENT = 100  # commits per manifest_added event


@dataclass(frozen=True, slots=True)
class Loaded:
    mib: float  # the state's size, encoded
    commits: int
    first_join_s: float  # from connect to a live replica, the hub opening the room first
    again_s: float  # a second join, the room open
    hub_rss_mib: float


def _commit(i: int) -> dict[str, object]:
    sha = f"{i + 1:040x}"
    return {
        "sha": sha,
        "short": sha[:7],
        "author": f"Author {i % 40}",
        "email": f"a{i % 40}@example.org",
        "date": 1_700_000_000 + i,
        "subject": f"change {i}: " + "s" * 200,
        "files": [[f"dir{i}/" + "p" * 280 + f"/{f}.php", 1, 1, ""] for f in range(200)],
        "more_files": 0,
        "merge": False,
        "revert": False,
        "reverts": "",
        "trailers": [],
    }


def build(data_dir: Path, commits: int) -> None:
    """A room `r1` whose manifest holds `commits` fat commits."""
    journal = Journal(data_dir / "rooms" / "r1.db")
    begun = {
        "repo": "core",
        "batch": "b1",
        "from": "v1",
        "to": "v2",
        "from_sha": "a" * 40,
        "to_sha": "b" * 40,
        "count": commits,
        "path": "",
        "replaces": False,
    }
    entries = [Entry(1, Event("manifest_begun", 1.0, "raj", begun))]
    for offset in range(0, commits, PER_EVENT):
        chunk = [_commit(i) for i in range(offset, min(commits, offset + PER_EVENT))]
        data = {
            "repo": "core",
            "batch": "b1",
            "offset": offset,
            "commits": chunk,
            "received": offset + len(chunk),
            "count": commits,
            "authors": 40,
        }
        entries.append(Entry(len(entries) + 1, Event("manifest_added", 2.0, "raj", data)))
    journal.commit(entries, [])
    journal.close()


async def _join(url: str, token: str) -> float:
    started = time.perf_counter()
    client = RoomClient(url, token, presence=False, reconnect=False)
    task = asyncio.create_task(client.run())
    await client.wait_live(600)
    took = time.perf_counter() - started
    await client.close()
    await task
    return took


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure(mib: float) -> Loaded:
    """Build a room of about `mib` MiB of state and load it twice through a real hub."""
    commits = max(1, round(mib * 2**20 / COMMIT_BYTES))
    with tempfile.TemporaryDirectory(prefix="warroom-big-", dir=data_parent()) as tmp:
        data_dir = Path(tmp)
        build(data_dir, commits)
        secret = load_or_create_secret(data_dir)
        hub = HubProcess(data_dir, *HUB_ARGS)
        try:
            token = mint(secret, "r1", "vic", Role.VISITOR, 3600, time.time())
            first = asyncio.run(_join(hub.room_url("r1"), token))
            again = asyncio.run(_join(hub.room_url("r1"), token))
            rss = _rss_mib(hub.proc.pid)
        finally:
            hub.stop()
    return Loaded(commits * COMMIT_BYTES / 2**20, commits, first, again, rss)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,16,75,200", help="MiB of state, comma-separated")
    sizes = [float(s) for s in parser.parse_args().sizes.split(",")]
    print(machine())
    results = [measure(s) for s in sizes]
    base = results[0]
    print("| state | commits | first join (opens the room) | second join | × baseline | hub RSS |")
    print("|---|---|---|---|---|---|")
    for r in results:
        ratio = r.again_s / base.again_s if base.again_s else float("nan")
        print(
            f"| {r.mib:.0f} MiB | {r.commits:,} | {r.first_join_s:.2f} s | {r.again_s:.2f} s"
            f" | {ratio:.0f}× | {r.hub_rss_mib:.0f} MiB |"
        )


if __name__ == "__main__":
    main()
