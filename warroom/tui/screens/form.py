"""A small modal form: a few text fields, checkboxes or choices, and a confirm button.

Used for everything that needs a word or two before it goes to the hub: a comment on an
item, a blocker's reason and link, a resolution note, a new item, an abandon reason, or just
"are you sure" before removing an item. It returns the values by field name, or None.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

Kind = Literal["text", "check", "choice"]


@dataclass(frozen=True, slots=True)
class Ask:
    """One field of a form: its name in the result, its label, and how it is filled."""

    name: str
    label: str
    kind: Kind = "text"
    required: bool = False
    placeholder: str = ""
    value: str | bool = ""
    choices: tuple[tuple[str, str], ...] = ()  # (label, value) for a choice
    max_len: int = 500  # the hub's limit for most texts


class FormScreen(ModalScreen[dict[str, Any] | None]):
    """Asks for `fields` under `title`; Enter or the confirm button sends, Esc cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self,
        title: str,
        fields: list[Ask],
        *,
        intro: str = "",
        confirm: str = "OK",
        danger: bool = False,
    ) -> None:
        super().__init__()
        self.title_text = title
        self.fields = fields
        self.intro = intro
        self.confirm = confirm
        self.danger = danger

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as dialog:
            dialog.border_title = Content(self.title_text)  # titles quote people: not markup
            dialog.border_subtitle = "enter confirms · esc cancels"
            if self.intro:
                yield Static(self.intro, classes="dialog-intro", markup=False)
            for ask in self.fields:
                yield from self._field(ask)
            yield Static("", id="form-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="cancel", compact=True)
                yield Button(
                    self.confirm,
                    id="confirm",
                    variant="error" if self.danger else "primary",
                    compact=True,
                )

    def _field(self, ask: Ask) -> ComposeResult:
        field_id = f"field-{ask.name}"
        if ask.kind == "check":
            yield Checkbox(ask.label, bool(ask.value), id=field_id)
            return
        mark = " *" if ask.required else ""
        yield Label(f"{ask.label}{mark}", classes="dialog-label")
        if ask.kind == "choice":
            # A choice can quote people (a blocker's reason): its prompt is text, not markup.
            choices = [(Content(prompt), value) for prompt, value in ask.choices]
            yield Select(
                choices, value=str(ask.value), allow_blank=False, id=field_id, compact=True
            )
        else:
            yield Input(
                str(ask.value),
                placeholder=ask.placeholder,
                max_length=ask.max_len,
                id=field_id,
                compact=True,
            )

    def on_mount(self) -> None:
        # Start where there is something to type; a bare confirmation starts on its button.
        first = next(iter(self.query(Input)), None)
        if first is not None:
            first.focus()
        else:
            self.query_one("#confirm", Button).focus()

    def values(self) -> dict[str, Any]:
        """What the fields hold now, by name (texts stripped)."""
        out: dict[str, Any] = {}
        for ask in self.fields:
            widget = self.query_one(f"#field-{ask.name}")
            if isinstance(widget, Input):
                out[ask.name] = widget.value.strip()
            elif isinstance(widget, Checkbox):
                out[ask.name] = widget.value
            elif isinstance(widget, Select):
                out[ask.name] = widget.value
        return out

    @on(Input.Submitted)
    @on(Button.Pressed, "#confirm")
    def _submit(self) -> None:
        values = self.values()
        for ask in self.fields:
            if ask.required and not values.get(ask.name):
                self.query_one("#form-error", Static).update(f"Fill in “{ask.label}” first.")
                self.query_one(f"#field-{ask.name}").focus()
                return
        self.dismiss(values)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Close without doing anything."""
        self.dismiss(None)
