"""What a hub holds after opening many rooms one after another: threads, files, memory.

Each room gets one engineer who joins (presence on, so a `joined` is written) and leaves
(`left`), on a hub started with `--room-idle 0.05`, so a room is put away (its journal closed)
50 ms after the last person leaves. A hub holds resources only for the rooms in use: its thread
count stays within its journal pool (`--io-threads`, 8 by default), and its open files return
to what they were before the first room. The counts come from /proc/<pid>/status (Threads,
VmRSS) and /proc/<pid>/fd, read every `SAMPLE` rooms.

python -m benches.idle_rooms [--rooms N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from typing import Any

from benches.common import BenchHub, running_hub
from warroom import protocol as p

ROOMS = 10_000
QUICK_ROOMS = 1_000
SAMPLE = 500  # rooms between two readings
IO_THREADS = 8  # the hub's default journal pool
ROOM_IDLE = "0.05"


def _status(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def _fds(pid: int) -> tuple[int, int]:
    """Open descriptors, and how many of them are room journal files (db, wal, shm)."""
    total = journals = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        total += 1
        try:
            journals += "/rooms/" in os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
    return total, journals


def _reading(pid: int, rooms: int, since: float) -> dict[str, Any]:
    fds, journals = _fds(pid)
    return {
        "rooms": rooms,
        "seconds": round(time.monotonic() - since, 1),
        "threads": _status(pid, "Threads"),
        "fds": fds,
        "journal_files": journals,
        "rss_mib": round(_status(pid, "VmRSS") / 1024, 1),
    }


async def _open_rooms(hub: BenchHub, count: int) -> dict[str, Any]:
    from websockets.asyncio.client import connect

    pid = hub.pid
    start = time.monotonic()
    readings = [_reading(pid, 0, start)]
    for i in range(count):
        room = f"room-{i}"
        async with connect(hub.url(room), compression=None, close_timeout=5) as ws:
            await ws.send(p.encode(p.Hello(p.VERSION, hub.token(room, "ana"), room)))
            frame = p.decode_hub(await ws.recv())
            if not isinstance(frame, p.Welcome):
                raise RuntimeError(f"room {room}: {frame}")
        if (i + 1) % SAMPLE == 0:
            readings.append(_reading(pid, i + 1, start))
    took = time.monotonic() - start
    await asyncio.sleep(1.0)  # the last rooms' idle time, and then some
    end = _reading(pid, count, start)
    first = readings[0]
    peak_threads = max(r["threads"] for r in readings)
    peak_fds = max(r["fds"] for r in readings)
    met = (
        peak_threads <= first["threads"] + IO_THREADS + 2
        and peak_fds <= first["fds"] + 60
        and end["fds"] <= first["fds"] + 2
        and end["journal_files"] == 0
    )
    return {
        "rooms": count,
        "seconds": round(took, 1),
        "ms_per_room": round(took / count * 1000, 2),
        "readings": readings,
        "end": end,
        "peak_threads": peak_threads,
        "peak_fds": peak_fds,
        "met": met,
    }


def run(quick: bool = False, rooms: int | None = None) -> dict[str, Any]:
    """Open `rooms` rooms one after another on a fresh hub; what it held along the way."""
    count = rooms or (QUICK_ROOMS if quick else ROOMS)
    with running_hub("--room-idle", ROOM_IDLE) as hub:
        return asyncio.run(_open_rooms(hub, count))


def table(result: dict[str, Any]) -> list[str]:
    """The readings as a Markdown table."""
    rows = [
        "| rooms opened | seconds | threads | fds | journal files open | RSS |",
        "|--------------|---------|---------|-----|--------------------|-----|",
    ]
    end = dict(result["end"], rooms="end, 1 s later")
    for r in (*result["readings"], end):
        rooms = r["rooms"] if isinstance(r["rooms"], str) else f"{r['rooms']:,}"
        rows.append(
            f"| {rooms} | {r['seconds']} | {r['threads']} | {r['fds']} | {r['journal_files']}"
            f" | {r['rss_mib']} MiB |"
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rooms", type=int, default=ROOMS, help=f"default {ROOMS:,}")
    result = run(rooms=parser.parse_args().rooms)
    print(
        f"{result['rooms']:,} rooms in {result['seconds']} s ({result['ms_per_room']} ms a"
        f" room); peak threads {result['peak_threads']}, peak fds {result['peak_fds']};"
        f" target {'met' if result['met'] else 'MISSED'}"
    )
    print("\n".join(table(result)))


if __name__ == "__main__":
    main()
