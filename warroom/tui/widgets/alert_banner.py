"""The alert banner: the hub's recent alerts (error spikes in the logs), one line each.

` ALERT  10:42 error rate on group1 logs 40/min, 10× baseline (4.0/min)`; an alert shows for
`FRESH` seconds after it was raised, then stays in the timeline only. Hidden when none is fresh.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from textual.content import Content
from textual.widgets import Static

from warroom.core.alerts import Alert
from warroom.tui.trainview import clock

FRESH = 15 * 60.0  # seconds an alert stays in the banner
MAX_LINES = 2  # the newest; the rest are counted
RECHECK = 15.0  # seconds between checks for alerts that have aged out


def fresh_alerts(alerts: Sequence[Alert], now: float) -> list[Alert]:
    """The alerts raised in the last `FRESH` seconds, newest first."""
    return sorted((a for a in alerts if now - a.ts < FRESH), key=lambda a: a.ts, reverse=True)


class AlertBanner(Static):
    """Shows the fresh alerts of the alerts it is given; `clock` says what time it is."""

    def __init__(self, tz: str, clock: Callable[[], float], *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.tz = tz
        self.clock = clock
        self.alerts: Sequence[Alert] = ()

    def on_mount(self) -> None:
        self.set_interval(RECHECK, self._draw)
        self._draw()

    def show(self, alerts: Sequence[Alert]) -> None:
        """Draw the fresh ones among `alerts` (or hide when none is)."""
        self.alerts = alerts
        self._draw()

    def set_zone(self, tz: str) -> None:
        """Show raise times in `tz` (the timeline's zone)."""
        self.tz = tz
        self._draw()

    def _draw(self) -> None:
        shown = fresh_alerts(self.alerts, self.clock())
        self.display = bool(shown)
        lines = [
            Content.assemble((" ALERT ", "bold reverse"), f" {clock(a.ts, self.tz)} {a.text}")
            for a in shown[:MAX_LINES]
        ]
        more = len(shown) - MAX_LINES
        if more > 0:
            lines.append(Content(f" and {more} more alert{'s' if more > 1 else ''} lately"))
        self.update(Content("\n").join(lines))
