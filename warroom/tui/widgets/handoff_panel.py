"""The hand-off panel: "no conductor", an open offer, and the queue of next conductors.

Each queued shift shows the person's local time now, their shift in their zone, in mine and
in UTC (see `warroom.tui.shifts`). The countdown is to the next planned hand-off, taken as
the start of the first queued person's next shift (or "on now" while it runs): the queue's
order is the plan, and the current conductor's own hours are not known to the room.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.timer import Timer
from textual.widgets import Static

from warroom.core import RoomState
from warroom.core.handoff import QueueEntry
from warroom.tui.shifts import clock, countdown, next_window, span_in


def entry_text(entry: QueueEntry, place: int, viewer_tz: str, now: float, me: str) -> Text:
    """One queued person: place, name, zone and clock there, the shift there / mine / UTC."""
    window = next_window(entry.tz, entry.shift_start, entry.shift_end, now)
    out = Text()
    who = f"{entry.name} (you)" if entry.name == me else entry.name
    out.append(f"{place}. {who}", "bold")
    out.append(f"  {entry.tz} {clock(entry.tz, now)}\n", "dim")
    out.append(f"   shift {entry.shift_start}–{entry.shift_end} there\n")
    mine = span_in(window, viewer_tz, now)
    utc = span_in(window, "UTC", now)
    # One line per clock, as the side column is narrow; one line when they agree.
    if mine == utc:
        out.append(f"   = {utc} UTC (yours)\n", "dim")
    else:
        out.append(f"   = {mine} yours\n   = {utc} UTC\n", "dim")
    if entry.note:
        out.append(f"   {entry.note}\n", "italic")
    return out


def next_handoff(state: RoomState, now: float) -> str:
    """The countdown line: to the start of the first queued shift, or that it is on now."""
    if not state.queue:
        return ""
    first = state.queue[0]
    window = next_window(first.tz, first.shift_start, first.shift_end, now)
    if window.contains(now):
        return f"{first.name}'s shift is on now: hand-off due"
    return f"hand-off to {first.name} in {countdown(window.start.timestamp() - now)}"


def handoff_text(state: RoomState, me: str, viewer_tz: str, now: float, *, may_take: bool) -> Text:
    """The panel's content."""
    out = Text()
    if state.conductor is None:
        out.append(" NO CONDUCTOR ", "bold reverse red")
        out.append("  T takes the seat\n" if may_take else "  the seat is empty\n", "bold")
    offer = state.offer
    if offer is not None:
        target = "you" if offer.to == me else offer.to
        out.append(f"{offer.by} offers the seat to {target}", "bold yellow")
        out.append(f" · lapses in {countdown(offer.expires - now)}\n")
        if offer.to == me:
            out.append("o answers the offer\n", "bold")
    # The countdown before the entries: in a short terminal the panel is cut from the bottom.
    if state.queue:
        out.append(next_handoff(state, now) + "\n", "bold")
    for place, entry in enumerate(state.queue, 1):
        out.append_text(entry_text(entry, place, viewer_tz, now, me))
    if state.queue:
        out.rstrip()
    elif state.conductor is not None and offer is None:
        out.append("nobody queued · h queues you", "dim")
    return out


class HandoffPanel(Static):
    """Shows the seat's hand-off; hidden while there is nothing to hand off."""

    def __init__(
        self, viewer_tz: str, clock: Callable[[], float], *, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.viewer_tz = viewer_tz
        self.clock = clock
        self.state: RoomState | None = None
        self.me = ""
        self.may_take = False
        self._ticker: Timer | None = None
        self.border_title = "Hand-off"

    def on_mount(self) -> None:
        self._ticker = self.set_interval(1, self._render_panel)

    def show(self, state: RoomState, me: str, *, may_take: bool) -> None:
        """Take the room's queue, offer and seat; `may_take`: whether T would take it."""
        self.state, self.me, self.may_take = state, me, may_take
        vacant = bool(me) and state.conductor is None
        self.set_class(vacant or bool(state.queue) or state.offer is not None, "-shown")
        self.set_class(vacant, "-vacant")
        self.border_subtitle = f"{len(state.queue)} queued" if state.queue else ""
        self._render_panel()

    def _render_panel(self) -> None:
        if self.state is None or not self.has_class("-shown"):
            return
        now = self.clock()
        self.update(handoff_text(self.state, self.me, self.viewer_tz, now, may_take=self.may_take))
