"""The confirmation of a promotion (or of marking the train done): what it does, and its gates.

With every gate met it is one button. With gates unmet it lists each one and offers an
override that needs a written reason (the hub demands the same). The room screen hands it the
gates afresh whenever the room changes, so it never shows a stale list. It returns the
override reason ("" when none was needed), or None when cancelled.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

ALL_MET = "every gate is met: required items ticked, no blocker open, enough people here"


class GateScreen(ModalScreen[str | None]):
    """`title`, e.g. "Promote group1"; `effect`, what it does; `unmet`, the gates in words."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, verb: str, effect: list[str], unmet: list[str]) -> None:
        super().__init__()
        self.title_text = title
        self.verb = verb  # the button's word: "Promote group1"
        self.effect = effect
        self.unmet = unmet

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog gate") as dialog:
            dialog.border_title = Content(self.title_text)
            dialog.border_subtitle = "esc cancels"
            yield Label("This will", classes="dialog-label")
            effect = Content("\n").join(Content.assemble("• ", line) for line in self.effect)
            yield Static(effect, id="gate-effect")
            yield Label("Gates", classes="dialog-label")
            yield Static("", id="gate-list")
            yield Label(
                "Override: why go ahead anyway? (goes in the timeline)",
                id="gate-reason-label",
                classes="dialog-label",
            )
            yield Input(
                placeholder="a written reason", max_length=500, id="gate-reason", compact=True
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="cancel", compact=True)
                yield Button(self.verb, id="confirm", compact=True)

    def on_mount(self) -> None:
        self.show_gates(self.unmet)

    def show_gates(self, unmet: list[str]) -> None:
        """Redraw with the gates unmet now (the room moves while the dialog is open)."""
        self.unmet = unmet
        listing = self.query_one("#gate-list", Static)
        if unmet:
            listing.update(
                Content("\n").join(Content.assemble(("✖ ", "$text-error bold"), g) for g in unmet)
            )
        else:
            listing.update(Content.assemble(("✔ ", "$text-success bold"), ALL_MET))
        gated = bool(unmet)
        self.set_class(gated, "-gated")
        self.query_one("#gate-reason-label").display = gated
        reason = self.query_one("#gate-reason", Input)
        reason.display = gated
        button = self.query_one("#confirm", Button)
        button.label = f"Override: {self.verb.lower()}" if gated else self.verb
        button.variant = "error" if gated else "success"
        self._enable()
        if gated and not reason.has_focus:
            reason.focus()
        elif not gated:
            button.focus()

    @on(Input.Changed, "#gate-reason")
    def _enable(self) -> None:
        reason = self.query_one("#gate-reason", Input).value.strip()
        self.query_one("#confirm", Button).disabled = bool(self.unmet) and not reason

    @on(Input.Submitted, "#gate-reason")
    @on(Button.Pressed, "#confirm")
    def _confirm(self) -> None:
        reason = self.query_one("#gate-reason", Input).value.strip()
        if self.unmet and not reason:
            return  # the button is disabled; Enter in an empty reason does nothing either
        self.dismiss(reason if self.unmet else "")

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Close without doing anything."""
        self.dismiss(None)
