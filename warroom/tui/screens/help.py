"""The `?` help: a modal listing the keys that work on the screen underneath, and the roles."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

# Keys that work everywhere but that the footer leaves out to stay short.
ALWAYS = [
    (
        "tab / shift+tab",
        "Move between the checklist, the timeline, the people, the logs and the note",
    ),
    ("↑ ↓ pgup pgdn home end", "Move in the focused panel; end follows the newest line again"),
    ("n / N", "In the logs, while searching: the next (newer) / previous (older) match"),
    ("← →", "In the logs: move long lines sideways"),
    ("enter", "On a checklist stage: open or fold it (a click works too)"),
    ("esc", "Leave the note input"),
    ("ctrl+p", "Command palette: every action by name"),
    ("ctrl+q", "Quit, even while typing"),
]

LEGEND = (
    "Logs: ✖ error, ▲ warning, ┆ a stack trace's frame (kept with its error line by the "
    "level filter), ┃ stderr. Scrolling up pauses the tail; f or End follows again."
)

ROLES = (
    "The conductor drives the train from the seat; engineers act and post notes; "
    "visitors watch, read-only. Only one person holds the conductor seat."
)


class HelpScreen(ModalScreen[None]):
    """Lists (key, what it does) pairs handed in by whoever opens it."""

    BINDINGS = [
        Binding("escape,question_mark,q", "dismiss", "Close", key_display="esc"),
    ]

    def __init__(
        self, keys: list[tuple[str, str]], later: list[tuple[str, str]] | None = None
    ) -> None:
        """`keys` work now; `later` are acts that do not apply now or not to my role."""
        super().__init__()
        self.keys = keys
        self.later = later or []

    def compose(self) -> ComposeResult:
        rows = [*self.keys, *ALWAYS, *self.later]
        width = max(len(key) for key, _ in rows)  # both tables' keys in one column
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True, min_width=width)
        table.add_column()
        seen = set()
        for key, what in [*self.keys, *ALWAYS]:
            if key not in seen:
                seen.add(key)
                table.add_row(key, what)
        with Vertical(id="help-dialog") as dialog:
            dialog.border_title = "Keys"
            dialog.border_subtitle = "esc closes"
            yield Static(table, id="help-keys")
            if self.later:
                yield Static(
                    "Not now, or not for your role (pressed anyway, they say why):",
                    id="help-later-title",
                )
                later = Table.grid(padding=(0, 2))
                later.add_column(style="bold", no_wrap=True, min_width=width)
                later.add_column()
                for key, what in self.later:
                    later.add_row(key, what)
                yield Static(later, id="help-later")
            yield Static(Text(LEGEND), id="help-legend")
            yield Static(Text(ROLES), id="help-roles")
