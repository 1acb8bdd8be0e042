"""The retrospective written out: Markdown for a task tracker, or JSON for tools."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from warroom.core.stages import duration
from warroom.core.votes import WORDS
from warroom.retro import Retro


def _at(ts: float | None, tz: str) -> str:
    if ts is None:
        return "—"
    return datetime.fromtimestamp(ts, ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M:%S")


def _clock(ts: float | None, tz: str) -> str:
    if ts is None:
        return "—"
    return datetime.fromtimestamp(ts, ZoneInfo(tz)).strftime("%H:%M:%S")


def span(seconds: float | None) -> str:
    """A duration as the timeline says it (`45s`, `4m 05s`, `1h 02m`); `—` when not ended."""
    return "—" if seconds is None else duration(seconds)


def _line(text: str) -> str:
    # People's text is one line in a list item: a newline could start a heading or a rule.
    return " ".join(text.split())


def _cell(text: str) -> str:
    # ...and in a table cell, a pipe would end the cell.
    return _line(text).replace("|", "\\|")


def to_markdown(retro: Retro, tz: str = "UTC") -> str:
    """The retrospective as Markdown that reads well pasted into a task tracker."""
    lines = [
        f"# Train {retro.version}: {retro.outcome}",
        "",
        f"Room **{retro.room}**, runbook *{retro.runbook or 'unnamed'}*, opened by "
        f"{retro.opened_by} at {_at(retro.opened, tz)}, ended at {_at(retro.ended, tz)} "
        f"(times in {tz}). Total: {span((retro.ended or retro.last) - retro.opened)}"
        f"{'' if retro.ended else ' so far'}.",
        "",
        "## Stages",
        "",
        "| Stage | Started | Ended | Took | How it ended |",
        "|---|---|---|---|---|",
    ]
    for s in retro.stages:
        took = span(s.ended - s.started) if s.ended is not None else "running"
        lines.append(
            f"| {_cell(s.stage)} | {_clock(s.started, tz)} | {_clock(s.ended, tz)} | {took} "
            f"| {_cell(s.how) or '—'} |"
        )
    lines += ["", "## Incidents and time to recovery", ""]
    if not retro.incidents:
        lines.append("No alert or blocker was raised.")
    for n, inc in enumerate(retro.incidents, 1):
        ended = f"recovered at {_clock(inc.ended, tz)}: {inc.how}" if inc.ended else "not recovered"
        lines.append(
            f"{n}. **{span(inc.ttr) if inc.ttr is not None else 'open'}** — from "
            f"{_clock(inc.started, tz)}, {_line(inc.cause)}; {_line(ended)}."
        )
    lines += ["", "## Blockers", ""]
    if not retro.blockers:
        lines.append("None.")
    else:
        lines += ["| Blocker | Stage | Raised | Resolved | Open for |", "|---|---|---|---|---|"]
        for b in retro.blockers:
            raised = f"{_clock(b.raised, tz)} by {b.raised_by}"
            resolved = (
                f"{_clock(b.resolved, tz)} by {b.resolved_by}: {b.note}" if b.resolved else "open"
            )
            took = span(b.resolved - b.raised) if b.resolved is not None else "—"
            name = f"{b.link} " if b.link else ""
            lines.append(
                f"| {_cell(name + b.reason)} | {_cell(b.stage) or '—'} | {raised} "
                f"| {_cell(resolved)} | {took} |"
            )
    lines += ["", "## Votes", ""]
    if not retro.votes:
        lines.append("None.")
    for v in retro.votes:
        why = f" ({v.close_reason})" if v.close_reason else ""
        lines.append(
            f"- **{v.id}: {WORDS.get(v.proposal, v.proposal)}**, called by {v.called_by} at "
            f"{_clock(v.opened, tz)}: {_line(v.reason)}. **{v.outcome.upper()}**{_line(why)} at "
            f"{_clock(v.closed, tz)}: {v.yes} yes, {v.no} no, {v.needed} needed."
        )
        for ballot in v.ballots:
            comment = f" — {_line(ballot['comment'])}" if ballot.get("comment") else ""
            lines.append(f"  - {ballot['name']}: {'yes' if ballot['yes'] else 'no'}{comment}")
    for title, rows in (("Alerts", [(t, f"{s}: {x}") for t, s, x in retro.alerts]),
                        ("Hand-offs", retro.handoffs), ("Called in", retro.calls)):  # fmt: skip
        lines += ["", f"## {title}", ""]
        lines += [f"- {_clock(t, tz)} {_line(text)}" for t, text in rows] or ["None."]
    seat = f" The conductor seat is with {retro.seat} at the end." if retro.seat else ""
    lines += ["", "## Who took part", "", f"Roles are as their tokens give them.{seat}", ""]
    lines += ["| Name | Role | Zone | Acts |", "|---|---|---|---|"]
    lines += [f"| {p.name} | {p.role} | {p.tz} | {p.acts} |" for p in retro.people]
    return "\n".join(lines) + "\n"


def to_json(retro: Retro) -> dict[str, Any]:
    """The retrospective as plain data (times as UNIX seconds, durations in seconds)."""
    out = asdict(retro)
    out["incidents"] = [{**asdict(i), "ttr": i.ttr} for i in retro.incidents]
    out["handoffs"] = [{"at": t, "what": x} for t, x in retro.handoffs]
    out["alerts"] = [{"at": t, "source": s, "text": x} for t, s, x in retro.alerts]
    out["calls"] = [{"at": t, "what": x} for t, x in retro.calls]
    return out
