"""The vote panel: the proposal, its reason, the tally as a bar, the ballots and a countdown.

Hidden while the room has never voted; a closed vote stays with its outcome, and a passed
rollback tells the conductor which key carries it out.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.timer import Timer
from textual.widgets import Static

from warroom.core import RoomState
from warroom.core.votes import WORDS, Vote
from warroom.tui.shifts import countdown

BAR = 20  # cells of the tally bar, the whole electorate


def tally_bar(vote: Vote, width: int = BAR) -> Text:
    """Yes cells from the left, no cells from the right, `┃` where the yes reach `needed`."""
    total = max(1, len(vote.electorate))
    yes, no = vote.tally()
    yes_cells, no_cells = round(width * yes / total), round(width * no / total)
    mark = min(width - 1, max(0, round(width * vote.needed / total) - 1))
    bar = Text()
    for cell in range(width):
        if cell < yes_cells:
            glyph, style = "█", "green"
        elif cell >= width - no_cells:
            glyph, style = "█", "red"
        else:
            glyph, style = "░", "dim"
        if cell == mark:
            glyph = "┃" if glyph == "░" else glyph
            style += " underline"
        bar.append(glyph, style)
    return bar


def vote_text(vote: Vote, now: float, *, me: str, conductor: bool, approved: str) -> Text:
    """The panel's content for `vote` at `now`, as `me` sees it.

    The state of the vote (the countdown, or the outcome) comes right after the proposal and
    the ballots come last: in a short terminal the panel is cut from the bottom.
    """
    yes, no = vote.tally()
    out = Text()
    out.append(f"{WORDS[vote.proposal]}\n", "bold")
    if vote.open:
        left = vote.deadline - now
        out.append(f"closes in {countdown(left)}", "bold yellow" if left < 60 else "bold")
        if me in vote.electorate:
            mine = vote.ballots.get(me)
            if mine is None:
                out.append("  y yes · x no", "dim")
            else:
                out.append(f" · you: {'yes' if mine.yes else 'no'}", "dim")
    else:
        style = "bold green" if vote.outcome == "passed" else "bold red"
        out.append(vote.outcome.upper(), style)
        if vote.close_reason:
            out.append(f" — {vote.close_reason}", "dim")
    if approved:
        out.append("\nROLLBACK APPROVED", "bold reverse yellow")
        out.append("\nE executes it" if conductor else "\nthe conductor executes it")
    out.append("\n")
    out.append_text(tally_bar(vote))
    out.append(f"\n{yes} yes · {no} no · {vote.needed} needed of {len(vote.electorate)}\n")
    out.append(vote.reason)
    if vote.ref:
        out.append(f" ({vote.ref})", "dim")
    out.append(f"\ncalled by {vote.called_by}", "dim")
    # The ballots cast first, each with its comment; who has not voted yet, on one line.
    for name in sorted(vote.ballots):
        ballot = vote.ballots[name]
        out.append(f"\n  {'✔' if ballot.yes else '✖'} {name}", "green" if ballot.yes else "red")
        if ballot.comment:
            out.append(f" — {ballot.comment}", "italic")
    waiting = sorted(vote.electorate - set(vote.ballots))
    if waiting:
        out.append(f"\n  not voted{' yet' if vote.open else ''}: {', '.join(waiting)}", "dim")
    return out


class VotePanel(Static):
    """Shows the room's vote; `show` it every state; it ticks its countdown itself."""

    def __init__(self, clock: Callable[[], float], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.clock = clock
        self.vote: Vote | None = None
        self.conductor = False
        self.me = ""
        self.approved = ""
        self._ticker: Timer | None = None

    def show(self, state: RoomState, me: str, *, conductor: bool) -> None:
        """Take the room's vote; `conductor`: whether I would carry out an approved one."""
        vote = state.vote
        train = state.train
        self.vote, self.me, self.conductor = vote, me, conductor
        self.approved = train.approved if train is not None and not train.finished else ""
        if vote is not None and vote.executed:
            vote = self.vote = None
        self.set_class(vote is not None and vote.open, "-open")
        self.set_class(vote is not None and not vote.open, "-closed")
        self.set_class(bool(self.approved), "-approved")
        if vote is None:
            self.update("")
        else:
            self.border_title = f"Vote {vote.id}" + ("" if vote.open else f" · {vote.outcome}")
            self.border_subtitle = "open" if vote.open else "closed"
        ticking = vote is not None and vote.open
        if ticking and self._ticker is None:
            self._ticker = self.set_interval(1, self._render_vote)
        elif not ticking and self._ticker is not None:
            self._ticker.stop()
            self._ticker = None
        self._render_vote()

    def _render_vote(self) -> None:
        if self.vote is not None:
            self.update(
                vote_text(
                    self.vote,
                    self.clock(),
                    me=self.me,
                    conductor=self.conductor,
                    approved=self.approved,
                )
            )
