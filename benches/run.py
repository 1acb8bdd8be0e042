"""Run every benchmark, print the results and record them in benches/README.md.

python -m benches.run            # the full run (`make bench`), about two minutes
python -m benches.run --quick    # a shorter smoke run; leaves the README alone
python -m benches.run --only logs --no-readme
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from benches import fanout, hub_commands, logs
from benches import manifest as manifest_bench
from benches.common import machine

README = Path(__file__).with_name("README.md")
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"

COMMANDS_TARGET = 2000.0  # durable acks per second
# (connections, commands in flight per connection)
COMMAND_CASES = ((1, 256), (10, 32))
# (listeners, listener processes, p99 target in ms or None)
FANOUT_CASES = ((10, 1, None), (100, 1, 20.0), (500, 2, 60.0))
FANOUT_RATE = 50.0  # notes per second from the one sender
# (feeders, clients, offered lines/s or None for as fast as the hub acknowledges)
LOG_CASES = ((1, 1, None), (1, 10, None), (1, 100, None), (2, 10, None), (1, 10, 20_000.0))
LOG_P99_TARGET = 150.0  # ms, at the offered rate
LOG_SUSTAINED = 0.97  # the delivered rate must be at least this share of the offered rate
LOG_BATCH = 500  # lines per frame when feeding as fast as acknowledged
LOG_WINDOW = 10_000  # unacknowledged lines per feeder


@dataclass(frozen=True, slots=True)
class Durations:
    commands: float  # seconds of pipelining per case
    fanout: float  # seconds of measured notes per case
    logs: float  # seconds of feeding as fast as acknowledged, per case
    logs_rate: float  # seconds of feeding at the offered rate


FULL = Durations(commands=5.0, fanout=20.0, logs=4.0, logs_rate=10.0)
QUICK = Durations(commands=2.0, fanout=3.0, logs=1.5, logs_rate=3.0)


def _ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.1f} ms"


def _verdict(ok: bool) -> str:
    return "met" if ok else "**MISSED**"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A Markdown table, padded so it also reads well in a terminal."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    return [line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, rows)]


def _commands(durations: Durations) -> tuple[list[str], bool]:
    rows, ok_all = [], True
    for connections, window in COMMAND_CASES:
        print(f"  commands: {connections} connection(s), {window} in flight each ...", flush=True)
        r = hub_commands.run(connections, window, durations.commands)
        if r.journaled < r.acked or r.rejected:
            raise SystemExit(
                f"commands benchmark is broken: {r.acked} acked, {r.journaled} journaled, "
                f"{r.rejected} rejected"
            )
        ok = r.per_second >= COMMANDS_TARGET
        ok_all &= ok
        rows.append(
            [
                str(connections),
                str(window),
                f"{r.per_second:,.0f}",
                _ms(r.ack_p50_ms),
                _ms(r.ack_p99_ms),
                f"{r.hub_cpu:.2f}",
                f"{r.client_cpu:.2f}",
                f">= {COMMANDS_TARGET:,.0f}/s {_verdict(ok)}",
            ]
        )
    header = [
        "connections",
        "in flight each",
        "durable acks/s",
        "ack p50",
        "ack p99",
        "hub CPU",
        "load CPU",
        "target",
    ]
    return _table(header, rows), ok_all


def _fanout(durations: Durations) -> tuple[list[str], bool]:
    rows, ok_all = [], True
    for clients, workers, target in FANOUT_CASES:
        print(f"  fan-out: {clients} listeners in {workers} process(es) ...", flush=True)
        r = fanout.run(clients, workers, FANOUT_RATE, durations.fanout)
        ok = r.missing == 0 and (target is None or r.p99_ms < target)
        ok_all &= ok
        verdict = "-" if target is None else f"p99 < {target:.0f} ms {_verdict(ok)}"
        if r.missing:
            verdict += f" ({r.missing} deliveries missing)"
        rows.append(
            [
                str(clients),
                str(r.notes),
                _ms(r.p50_ms),
                _ms(r.p99_ms),
                _ms(r.max_ms),
                _ms(r.first_p50_ms),
                _ms(r.ack_p50_ms),
                f"{r.hub_cpu:.2f}",
                f"{r.client_cpu:.2f}",
                verdict,
            ]
        )
    header = [
        "listeners",
        "notes",
        "last p50",
        "last p99",
        "last max",
        "first p50",
        "sender ack p50",
        "hub CPU",
        "load CPU",
        "target",
    ]
    return _table(header, rows), ok_all


def _logs(durations: Durations) -> tuple[list[str], bool]:
    rows, ok_all = [], True
    for feeders, clients, rate in LOG_CASES:
        how = "as fast as acknowledged" if rate is None else f"at {rate:,.0f} lines/s"
        print(f"  logs: {feeders} feeder(s) to {clients} client(s), {how} ...", flush=True)
        seconds = durations.logs if rate is None else durations.logs_rate
        r = logs.run(feeders, clients, 1, rate, seconds, LOG_BATCH, LOG_WINDOW)
        ok = r.missing == 0 and r.repeated == 0
        verdict = "-"
        if rate is not None:
            ok &= r.per_second >= LOG_SUSTAINED * rate and r.p99_ms < LOG_P99_TARGET
            verdict = f"{rate:,.0f}/s, p99 < {LOG_P99_TARGET:.0f} ms {_verdict(ok)}"
        elif not ok:
            verdict = _verdict(ok)
        if r.missing or r.repeated:
            verdict += f" ({r.missing} deliveries missing, {r.repeated} repeated)"
        ok_all &= ok
        rows.append(
            [
                str(feeders),
                str(clients),
                "as acked" if rate is None else f"{rate:,.0f}/s",
                f"{r.lines:,}",
                f"{r.per_second:,.0f}",
                _ms(r.p50_ms),
                _ms(r.p99_ms),
                _ms(r.max_ms),
                _ms(r.first_p50_ms),
                f"{r.hub_cpu:.2f}",
                f"{r.client_cpu:.2f}",
                verdict,
            ]
        )
    header = [
        "feeders",
        "clients",
        "fed",
        "lines",
        "lines/s to all",
        "last p50",
        "last p99",
        "last max",
        "first p50",
        "hub CPU",
        "load CPU",
        "target",
    ]
    return _table(header, rows), ok_all


def _update_readme(section: list[str]) -> None:
    text = README.read_text() if README.exists() else f"# warroom benchmarks\n\n{BEGIN}\n{END}\n"
    if BEGIN not in text or END not in text:
        text = text.rstrip("\n") + f"\n\n## Results\n\n{BEGIN}\n{END}\n"
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    README.write_text(head + BEGIN + "\n" + "\n".join(section) + "\n" + END + tail)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benches.run", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--only", choices=("commands", "fanout", "logs", "manifest"), help="run one benchmark"
    )
    parser.add_argument(
        "--quick", action="store_true", help="short runs for a smoke test; implies --no-readme"
    )
    parser.add_argument("--no-readme", action="store_true", help="do not update benches/README.md")
    parser.add_argument(
        "--strict", action="store_true", help="exit with status 1 when a target is missed"
    )
    args = parser.parse_args(argv)
    durations = QUICK if args.quick else FULL

    info = machine()
    load = os.getloadavg()[0]
    began = time.monotonic()
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"warroom benchmarks, {stamp}", flush=True)
    sections: list[str] = []
    ok = True
    if args.only in (None, "commands"):
        lines, passed = _commands(durations)
        ok &= passed
        sections += [
            "### Durable acknowledged commands per second",
            "",
            f"`note` commands pipelined for {durations.commands:g} s per row.",
            "",
            *lines,
            "",
        ]
    if args.only in (None, "fanout"):
        lines, passed = _fanout(durations)
        ok &= passed
        sections += [
            "### Fan-out latency",
            "",
            f"One sender posts notes at {FANOUT_RATE:g}/s for {durations.fanout:g} s; latency"
            " is from its send until the last (or first) listener has the event.",
            "",
            *lines,
            "",
        ]
    if args.only in (None, "logs"):
        lines, passed = _logs(durations)
        ok &= passed
        sections += [
            "### Log stream",
            "",
            f"Feeders send {LOG_BATCH}-line frames with up to {LOG_WINDOW:,} lines unacknowledged"
            f' each for {durations.logs:g} s ("as acked"), or offer a fixed rate for'
            f" {durations.logs_rate:g} s; every line must reach every client. Latency is from"
            " a line's send (at the fixed rate: its due time) until the last (or first) client"
            " has it.",
            "",
            *lines,
            "",
        ]
    if args.only in (None, "manifest"):
        result = manifest_bench.run(args.quick)
        ok &= bool(result["met"])
        rows = [
            "| commits | files changed | renames | merges | read | commits/s | chunks |",
            "|---------|---------------|---------|--------|------|-----------|--------|",
            *(
                f"| {c['commits']:,} | {c['files_changed']:,} | {c['renames']} | {c['merges']}"
                f" | {c['read_seconds']:.2f} s | {c['commits_per_second']:,} | {c['chunks']} |"
                for c in result["cases"]
            ),
        ]
        verdict = "met" if result["met"] else "**MISSED**"
        sections += [
            "### Change manifest",
            "",
            "`warroom manifest` reading a git range (one `git log --numstat -M` call, parsed),"
            f" built with `git fast-import`; target: the largest range in"
            f" <= {result['target_seconds']:g} s, {verdict}.",
            "",
            *rows,
            "",
        ]
    took = time.monotonic() - began
    kind = "quick run" if args.quick else "full run"
    summary = [
        f"Run {stamp} ({kind}, {took:.0f} s) on {info['nproc']} CPU(s), {info['cpu']};"
        f" {info['os']}, Python {info['python']}, websockets {info['websockets']},"
        f" msgpack {info['msgpack']}; journals in {info['data']}."
        f" One-minute load average at the start: {load:.2f}.",
        "",
        *sections,
    ]
    print()
    print("\n".join(summary).rstrip())
    if not (args.quick or args.no_readme):
        _update_readme(summary)
        print(f"\nresults written to {README}")
    if not ok:
        print("\nsome targets were missed; see benches/README.md for where the time goes")
    return 1 if args.strict and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
