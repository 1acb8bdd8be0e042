"""The bar under the timeline: a note input for people who act, a read-only banner for visitors."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Input, Label

VISITOR_BANNER = "You are watching as a visitor: read-only"
NOTE_MAX = 2000  # the hub's limit for a note's text
PROMPT = "note ›"


class NoteBar(Horizontal):
    """Set `role` once known: "visitor" shows the banner, any other role the note input."""

    class Submitted(Message):
        """The user pressed Enter on a note; the screen sends it and calls `sent` on an ack."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    role: reactive[str] = reactive("", recompose=True)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._sending: str | None = None

    def compose(self) -> ComposeResult:
        self.set_class(self.role == "visitor", "-visitor")
        self.set_class(not self.role, "-joining")
        if self.role == "visitor":
            yield Label("VISITOR", id="visitor-tag")
            yield Label(VISITOR_BANNER, id="visitor-banner")
        elif self.role:
            yield Label(PROMPT, id="note-prompt")
            yield Input(
                placeholder="write a note for the timeline · enter sends · esc goes back",
                max_length=NOTE_MAX,
                compact=True,
                id="note-input",
            )

    @property
    def input(self) -> Input | None:
        """The note input, or None for a visitor or before the role is known."""
        found = self.query("#note-input")
        return found.first(Input) if found else None

    @on(Input.Submitted, "#note-input")
    def _submit(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if not text or self._sending is not None:
            return
        self._sending = text
        self.add_class("-sending")
        self._prompt("sending…")
        self.post_message(self.Submitted(text))

    def sent(self, text: str) -> None:
        """The hub acked `text`: clear the input unless the user has already typed on."""
        self._done()
        field = self.input
        if field is not None and field.value.strip() == text:
            field.clear()

    def failed(self) -> None:
        """The note was refused or lost; the text stays so it can be fixed and sent again."""
        self._done()

    def _done(self) -> None:
        self._sending = None
        self.remove_class("-sending")
        self._prompt(PROMPT)

    def _prompt(self, text: str) -> None:
        for label in self.query("#note-prompt").results(Label):
            label.update(text)
