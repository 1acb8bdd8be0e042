"""The retrospective written out: Markdown for a task tracker, or JSON for tools."""

from __future__ import annotations

import re
from dataclasses import asdict
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from warroom.core.stages import duration
from warroom.core.text import clean
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


# Markdown and HTML would act on these in people's text: emphasis (* _ ~), code (`), links
# and images ([ ]), HTML and autolinks (< >), entities (&, as in "&#x202E;"), math ($), the
# end of a table cell (|), and the escape itself. A backslash before each shows it as typed.
# An underscore between two letters or digits emphasises nothing (New_York, snake_case) and
# stays as it is.
_MARKUP = re.compile(r"[\\`*~\[\]<>&$|]|(?<![^\W_])_|_(?![^\W_])")


def _md(text: str) -> str:
    """People's text as Markdown that shows it as written: on one line (a newline could start
    a heading, a list or a rule), and with every character Markdown would act on escaped."""
    return _MARKUP.sub(lambda m: "\\" + m.group(), " ".join(clean(text).split()))


def to_markdown(retro: Retro, tz: str = "UTC") -> str:
    """The retrospective as Markdown that reads well pasted into a task tracker."""
    lines = [
        f"# Train {_md(retro.version)}: {retro.outcome}",
        "",
        f"Room **{_md(retro.room)}**, runbook *{_md(retro.runbook) or 'unnamed'}*, opened by "
        f"{_md(retro.opened_by)} at {_at(retro.opened, tz)}, ended at {_at(retro.ended, tz)} "
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
            f"| {_md(s.stage)} | {_clock(s.started, tz)} | {_clock(s.ended, tz)} | {took} "
            f"| {_md(s.how) or '—'} |"
        )
    lines += ["", "## Incidents and time to recovery", ""]
    if not retro.incidents:
        lines.append("No alert or blocker was raised.")
    for n, inc in enumerate(retro.incidents, 1):
        ended = f"recovered at {_clock(inc.ended, tz)}: {inc.how}" if inc.ended else "not recovered"
        lines.append(
            f"{n}. **{span(inc.ttr) if inc.ttr is not None else 'open'}** — from "
            f"{_clock(inc.started, tz)}, {_md(inc.cause)}; {_md(ended)}."
        )
    lines += ["", "## Blockers", ""]
    if not retro.blockers:
        lines.append("None.")
    else:
        lines += ["| Blocker | Stage | Raised | Resolved | Open for |", "|---|---|---|---|---|"]
        for b in retro.blockers:
            raised = f"{_clock(b.raised, tz)} by {_md(b.raised_by)}"
            resolved = (
                f"{_clock(b.resolved, tz)} by {b.resolved_by}: {b.note}" if b.resolved else "open"
            )
            took = span(b.resolved - b.raised) if b.resolved is not None else "—"
            name = f"{b.link} " if b.link else ""
            lines.append(
                f"| {_md(name + b.reason)} | {_md(b.stage) or '—'} | {raised} "
                f"| {_md(resolved)} | {took} |"
            )
    lines += ["", "## Votes", ""]
    if not retro.votes:
        lines.append("None.")
    for v in retro.votes:
        why = f" ({v.close_reason})" if v.close_reason else ""
        lines.append(
            f"- **{_md(v.id)}: {_md(WORDS.get(v.proposal, v.proposal))}**, called by "
            f"{_md(v.called_by)} at "
            f"{_clock(v.opened, tz)}: {_md(v.reason)}. **{v.outcome.upper()}**{_md(why)} at "
            f"{_clock(v.closed, tz)}: {v.yes} yes, {v.no} no, {v.needed} needed."
        )
        for ballot in v.ballots:
            comment = f" — {_md(ballot['comment'])}" if ballot.get("comment") else ""
            vote = "yes" if ballot["yes"] else "no"
            lines.append(f"  - {_md(str(ballot['name']))}: {vote}{comment}")
    for title, rows in (("Alerts", [(t, f"{s}: {x}") for t, s, x in retro.alerts]),
                        ("Hand-offs", retro.handoffs), ("Called in", retro.calls)):  # fmt: skip
        lines += ["", f"## {title}", ""]
        lines += [f"- {_clock(t, tz)} {_md(text)}" for t, text in rows] or ["None."]
    seat = f" The conductor seat is with {_md(retro.seat)} at the end." if retro.seat else ""
    lines += ["", "## Who took part", "", f"Roles are as their tokens give them.{seat}", ""]
    lines += ["| Name | Role | Zone | Acts |", "|---|---|---|---|"]
    lines += [f"| {_md(p.name)} | {p.role} | {_md(p.tz)} | {p.acts} |" for p in retro.people]
    return "\n".join(lines) + "\n"


def to_json(retro: Retro) -> dict[str, Any]:
    """The retrospective as plain data (times as UNIX seconds, durations in seconds)."""
    out = asdict(retro)
    out["incidents"] = [{**asdict(i), "ttr": i.ttr} for i in retro.incidents]
    out["handoffs"] = [{"at": t, "what": x} for t, x in retro.handoffs]
    out["alerts"] = [{"at": t, "source": s, "text": x} for t, s, x in retro.alerts]
    out["calls"] = [{"at": t, "what": x} for t, x in retro.calls]
    return out
