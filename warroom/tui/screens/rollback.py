"""The confirmation of a rollback: partial (the last promoted stage) or full, and why.

It returns `(scope, reason)`, or None when cancelled.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, RadioButton, RadioSet

from warroom.core.train import Train


class RollbackScreen(ModalScreen[tuple[str, str] | None]):
    """Offers the rollbacks `train` allows, with their effect in words."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, train: Train) -> None:
        super().__init__()
        self.train = train

    def compose(self) -> ComposeResult:
        train = self.train
        # A partial rollback takes back the stage in progress; the first stage has none before.
        partial_ok = train.current > 0
        before = train.stages[train.current - 1] if partial_ok else ""
        with Vertical(classes="dialog") as dialog:
            dialog.border_title = Content(f"Roll back {train.version}")  # not markup
            dialog.border_subtitle = "esc cancels"
            with RadioSet(id="rollback-scope"):
                yield RadioButton(
                    f"partial — take {train.stage} back; {before} is in progress again"
                    if partial_ok
                    else f"partial — not possible: {train.stage} is the first stage",
                    value=partial_ok,
                    disabled=not partial_ok,
                    id="scope-partial",
                )
                yield RadioButton(
                    "full — take every stage back; this run cannot go on",
                    value=not partial_ok,
                    id="scope-full",
                )
            yield Label("Why (goes in the timeline)", classes="dialog-label")
            yield Input(placeholder="a reason", max_length=500, id="rollback-reason", compact=True)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="cancel", compact=True)
                yield Button("Roll back", id="confirm", variant="error", compact=True)

    def on_mount(self) -> None:
        self.query_one("#rollback-reason", Input).focus()

    @property
    def scope(self) -> str:
        """The scope chosen now: "partial" or "full"."""
        return "partial" if self.query_one("#scope-partial", RadioButton).value else "full"

    @on(Input.Submitted, "#rollback-reason")
    @on(Button.Pressed, "#confirm")
    def _confirm(self) -> None:
        self.dismiss((self.scope, self.query_one("#rollback-reason", Input).value.strip()))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Close without doing anything."""
        self.dismiss(None)
