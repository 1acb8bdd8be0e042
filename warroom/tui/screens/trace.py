"""Paste a stack trace: the suspects are found from whatever the text area holds.

It returns the text, or None when cancelled.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static, TextArea

INTRO = (
    "Paste a stack trace or a fatal error line (PHP, Python, Java or JavaScript). Its file "
    "paths and line numbers are matched against the files the manifest changed, and blamed "
    "where the repository is on this machine."
)


class TraceScreen(ModalScreen[str | None]):
    """A text area for a pasted trace; ctrl+s or the button finds the suspects."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "find", "Find suspects", priority=True),
    ]

    def __init__(self, text: str = "") -> None:
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="trace-dialog") as dialog:
            dialog.border_title = "Suspects from a stack trace"
            dialog.border_subtitle = "ctrl+s finds · esc cancels"
            yield Static(INTRO, classes="dialog-intro")
            yield TextArea(self.text, id="trace-text", soft_wrap=False, show_line_numbers=False)
            yield Static("", id="trace-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="cancel", compact=True)
                yield Button("Find suspects", id="find", variant="primary", compact=True)

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    @on(Button.Pressed, "#find")
    def action_find(self) -> None:
        """Hand back the text, if there is any."""
        text = self.query_one(TextArea).text.strip()
        if not text:
            self.query_one("#trace-error", Static).update("Paste a trace first.")
            return
        self.dismiss(text)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Close without looking."""
        self.dismiss(None)
