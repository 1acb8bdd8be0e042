"""The log panel's top line: every source seen, its lines per second, a feeder's exit status.

`all · sync 2,341/s · scap ✔ exit 0 · php ✖ exit 255 · group1 ⚠ 12/s`, and the panel's keys
on the right. The source shown is highlighted; a click on one shows only it (a click on `all`
shows them all again).
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.message import Message
from textual.widgets import Static

KEYS = "s source · e level · / search · l zoom"


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """What the bar says about one source."""

    name: str
    rate: float  # lines per second, lately
    exit: int | None = None  # the feeder's command's exit status, once it ended
    alert: bool = False  # an error-spike alert was raised on it lately


def describe_rate(rate: float) -> str:
    """`2,341/s`, `3/s`, `<1/s`, or `idle`."""
    if rate <= 0:
        return "idle"
    if rate < 1:
        return "<1/s"
    return f"{rate:,.0f}/s"


class SourceBar(Horizontal):
    """Shows `SourceInfo`s; posts `Picked` when one is clicked."""

    class Picked(Message):
        """The user clicked a source (None: all of them)."""

        def __init__(self, source: str | None) -> None:
            super().__init__()
            self.source = source

    def compose(self) -> ComposeResult:
        yield _Chips(Content.styled("no sources yet", "dim"), id="source-chips")
        yield Static(KEYS, id="log-keys")

    def show(self, sources: list[SourceInfo], selected: str | None) -> None:
        """Draw `sources`, with `selected` (None: all) highlighted."""
        chips = self.query_one(_Chips)
        if not sources:
            chips.update(Content.styled("no sources yet", "dim"), layout=False)
            self._fit()
            return
        parts: list[Content] = [self._chip("all", "", selected is None)]
        for info in sources:
            words: list[str | tuple[str, str]] = []
            if info.alert:
                words.append((" ⚠", "$text-error bold"))
            if info.exit is None:
                words.append((f" {describe_rate(info.rate)}", "dim"))
            elif info.exit == 0:
                words.append((" ✔ exit 0", "$text-success"))
            else:
                words.append((f" ✖ exit {info.exit}", "$text-error bold"))
            parts.append(self._chip(info.name, info.name, info.name == selected, words))
        # Redrawn every second for the rates: its box is fixed, so no layout is needed.
        chips.update(Content(" · ").join(parts), layout=False)
        self._fit()

    def on_resize(self, event: events.Resize) -> None:
        self._fit()

    def _fit(self) -> None:
        # The sources come first: the key hints give way when both do not fit.
        chips = self.query_one(_Chips).visual
        wanted = chips.cell_length if isinstance(chips, Content) else 0
        room = self.content_size.width - wanted - 2
        keys = self.query_one("#log-keys", Static)
        fits = room >= len(KEYS) + 2
        if keys.display != fits:
            keys.display = fits

    def _chip(
        self,
        label: str,
        value: str,
        selected: bool,
        words: list[str | tuple[str, str]] | None = None,
    ) -> Content:
        # Source names are letters, digits and . _ - : / (the protocol's rule): safe in quotes.
        click = f"@click=pick('{value}')"
        name_style = "reverse bold" if selected else "bold"
        chip = Content.styled(label, name_style).stylize(click)
        if words:
            # Not clickable: a link's style would take the colours that carry the meaning.
            chip = chip + Content.assemble(*words)
        return chip


class _Chips(Static):
    """The clickable part of the bar: a click runs `pick` here, which tells the bar's owner."""

    def action_pick(self, source: str) -> None:
        """Show only `source` ("" for all)."""
        self.post_message(SourceBar.Picked(source or None))
