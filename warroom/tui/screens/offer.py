"""The offer of the conductor seat, as its receiver sees it: the summary, accept or decline.

It returns `("accept", "")`, `("decline", note)`, or None to answer later (o reopens it).
"""

from __future__ import annotations

from collections.abc import Callable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Button, Input, Label, Static

from warroom.core.handoff import Offer
from warroom.tui.shifts import countdown


class OfferScreen(ModalScreen[tuple[str, str] | None]):
    """Shows `offer` with `summary` lines; `clock` counts down to its expiry."""

    AUTO_FOCUS = "#offer-summary-box"
    BINDINGS = [
        Binding("escape", "later", "Later"),
        Binding("ctrl+a", "accept", "Accept"),
        Binding("ctrl+d", "decline", "Decline"),
    ]

    def __init__(self, offer: Offer, summary: list[str], clock: Callable[[], float]) -> None:
        super().__init__()
        self.offer = offer
        self.summary = summary
        self.clock = clock
        self._ticker: Timer | None = None

    def compose(self) -> ComposeResult:
        offer = self.offer
        with Vertical(classes="dialog", id="offer-dialog") as dialog:
            dialog.border_title = Content(f"{offer.by} offers you the conductor seat")
            dialog.border_subtitle = "ctrl+a accepts · ctrl+d declines · esc: later (o)"
            yield Static("", id="offer-expiry", classes="dialog-intro")
            yield Label("Hand-off summary", classes="dialog-label")
            text = "\n".join(f"• {line}" for line in self.summary)
            with VerticalScroll(id="offer-summary-box"):
                yield Static(text, id="offer-summary", markup=False)
            yield Label("Note, if you decline (optional)", classes="dialog-label")
            yield Input(placeholder="why not now", max_length=500, id="offer-note", compact=True)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Decline", id="decline", compact=True)
                yield Button("Accept the seat", id="accept", variant="primary", compact=True)

    def on_mount(self) -> None:
        self._tick()
        self._ticker = self.set_interval(1, self._tick)
        # The summary has the focus, not a button: an enter meant for something else as the
        # offer arrives must not take the seat (nor decline it from the note). ctrl+a accepts,
        # ctrl+d declines, tab reaches the note and the buttons.
        self.query_one("#offer-summary-box").focus()

    def _tick(self) -> None:
        left = self.offer.expires - self.clock()
        self.query_one("#offer-expiry", Static).update(
            Content(
                f"The offer lapses in {countdown(left)} if unanswered; {self.offer.by} keeps the "
                "seat."
                if left > 0
                else "The offer has lapsed."
            )
        )

    @on(Button.Pressed, "#accept")
    def action_accept(self) -> None:
        """Take the seat."""
        self.dismiss(("accept", ""))

    @on(Button.Pressed, "#decline")
    @on(Input.Submitted, "#offer-note")
    def action_decline(self) -> None:
        """Decline, with the note typed, if any."""
        self.dismiss(("decline", self.query_one("#offer-note", Input).value.strip()))

    def action_later(self) -> None:
        """Close without answering."""
        self.dismiss(None)
