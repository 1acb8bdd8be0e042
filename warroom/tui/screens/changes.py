"""The changes going out: commits per repository, the recent deployers, and suspects.

Opened from the room with `g` (or with enter on a log line, straight to that line's suspects).
Three lists share the left side, each with a page for the highlighted row on the right:

1. commits, grouped by repository, narrowed by the filter (`/`);
2. people, the recent deployers: whose changes go out and which stages run them;
3. suspects, the commits a stack trace points at, ranked, with why each was picked.

The room screen hands it every new state, so marks and call-ins show as they happen.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

from warroom.core import Actor, Role, RoomState, permitted
from warroom.core.changes import Changes, changes_of
from warroom.core.commits import Commit
from warroom.core.deployers import Deployer, recent_deployers
from warroom.replica import Answer
from warroom.suspects import Suspect, find_suspects, local_repos, rank_authors, revert_command
from warroom.traces import parse_frames
from warroom.tui.changesview import (
    Query,
    commit_page,
    commit_row,
    deployer_page,
    deployer_row,
    repo_heading,
)
from warroom.tui.screens.form import Ask, FormScreen
from warroom.tui.screens.trace import TraceScreen

Sender = Callable[[str, Mapping[str, Any]], Awaitable[Answer | None]]
# Commits listed at once; the filter narrows a bigger manifest. An option list of 2,000 rows
# took half a second to fill, on every key typed in the filter (benches: 5,000 commits).
MAX_ROWS = 400
FILTER_PAUSE = 0.12  # seconds of quiet typing before the filter applies
MODES = {"commits": "1 Commits", "people": "2 People", "suspects": "3 Suspects"}


class ChangesScreen(Screen[None]):
    """What goes out in this train, for `me` acting as `role`."""

    BINDINGS = [
        Binding("escape,g", "close", "Back", tooltip="Back to the room"),
        # The tabs above the list show 1 2 3: the footer keeps its room for the acts.
        Binding(
            "1", "mode('commits')", "Commits", show=False, tooltip="The commits, per repository"
        ),
        Binding(
            "2", "mode('people')", "People", show=False, tooltip="Whose changes go out, and how far"
        ),
        Binding(
            "3", "mode('suspects')", "Suspects", show=False, tooltip="The commits a trace points at"
        ),
        Binding(
            "slash", "filter", "Filter", key_display="/", tooltip="Filter: words, author:, path:"
        ),
        Binding("t", "paste", "Paste trace", tooltip="Paste a stack trace to find its suspects"),
        Binding("i", "call_in", "Call in", tooltip="Call the author in, with the evidence"),
        Binding("s", "mark(True)", "Safe", tooltip="Mark the commit safe to revert"),
        Binding("u", "mark(False)", "Not safe", tooltip="Mark it not safe to revert, saying why"),
        Binding("r", "copy_revert", "Copy revert", tooltip="Copy the commit's git revert command"),
    ]

    def __init__(
        self,
        state: RoomState,
        me: str,
        role: str,
        tz: str,
        send: Sender,
        repos: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.state = state
        self.me = me
        self.role = role
        self.tz = tz
        self._send = send
        self.repos = dict(repos or {})  # repository name -> a local clone, for blame
        self.mode = "commits"
        self.query_text = ""
        self.trace = ""
        self.suspects: list[Suspect] = []
        self.searching = False
        self._shown: tuple[object, ...] = ()
        self._filtering: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="changes-tabs")
        yield Input(
            placeholder="/ filter: words · author:NAME · path:FILE", id="changes-filter",
            compact=True,
        )  # fmt: skip
        with Horizontal(id="changes-body"):
            yield OptionList(id="changes-list")
            with VerticalScroll(id="changes-side"):
                yield Static("", id="changes-page")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._rebuild()
        self.query_one("#changes-list", OptionList).focus()

    # --- the room moves ----------------------------------------------------------------------

    def show(self, state: RoomState) -> None:
        """Take a new room state; the list is rebuilt only when what it shows has changed."""
        self.state = state
        # Before mounting `on_mount` builds it from this state; while closing there is nothing.
        if self.is_mounted and self.query("#changes-list"):
            self._rebuild()

    @property
    def changes(self) -> Changes:
        return changes_of(self.state)

    def _rebuild(self, force: bool = False) -> None:
        people = (
            tuple((m.name, m.present) for m in self.state.members.values())
            if self.mode == "people"
            else ()
        )
        key = (self.mode, self.query_text, self.changes, id(self.suspects), people)
        if key == self._shown and not force:
            self._show_page()
            return
        self._shown = key
        listing = self.query_one("#changes-list", OptionList)
        keep = listing.highlighted_option.id if listing.highlighted_option else None
        options = {
            "commits": self._commit_options,
            "people": self._people_options,
            "suspects": self._suspect_options,
        }[self.mode]()
        listing.set_options(options)
        listing.border_title = MODES[self.mode][2:]
        ids = [o.id for o in options if not o.disabled]
        if ids:
            listing.highlighted = next(
                (i for i, o in enumerate(options) if o.id == (keep if keep in ids else ids[0])), 0
            )
        self._show_tabs()
        self._show_page()

    def _show_tabs(self) -> None:
        out = Text()
        for mode, label in MODES.items():
            out.append(f" {label} ", "bold reverse" if mode == self.mode else "dim")
            out.append(" ")
        changes = self.changes
        total = changes.commit_count
        repos = len(changes.repos)
        out.append(f"  {total} commits in {repos} repositor{'y' if repos == 1 else 'ies'}", "dim")
        self.query_one("#changes-tabs", Static).update(out)

    # --- the lists -----------------------------------------------------------------------------

    def _fit(self, text: Text) -> Text:
        # One row per option, cut with an ellipsis: the list wraps long prompts otherwise.
        listing = self.query_one("#changes-list", OptionList)
        width = listing.scrollable_content_region.width or int(self.app.size.width * 0.55) - 4
        fitted = text.copy()
        fitted.truncate(max(20, width - 1), overflow="ellipsis")
        return fitted

    def on_resize(self) -> None:
        self._rebuild(force=True)

    def _commit_options(self) -> list[Option]:
        changes = self.changes
        if not changes.repos:
            return [Option(Text("Nothing published yet: warroom manifest URL --repo PATH "
                                "--from REV --to REV", "dim"), disabled=True)]  # fmt: skip
        query = Query.parse(self.query_text)
        options: list[Option] = []
        listed = 0
        for manifest in changes.repos:
            hits = [c for c in manifest.commits if not query or query.matches(manifest.repo, c)]
            options.append(Option(self._fit(repo_heading(manifest, len(hits))), disabled=True))
            room = max(0, MAX_ROWS - listed)
            for commit in hits[:room]:
                mark = changes.mark(manifest.repo, commit.sha)
                options.append(
                    Option(
                        self._fit(commit_row(commit, mark)), id=f"c\t{manifest.repo}\t{commit.sha}"
                    )
                )
            listed += min(room, len(hits))
            if len(hits) > room:
                more = len(hits) - room
                options.append(
                    Option(Text(f"  … {more} more: filter to narrow", "dim"), disabled=True)
                )
        if query and listed == 0:
            options.append(
                Option(Text(f"No commit matches “{self.query_text}”", "dim"), disabled=True)
            )
        return options

    def _people_options(self) -> list[Option]:
        people = recent_deployers(self.state)
        query = Query.parse(self.query_text)
        if query:
            # The same filter as the commits: the people with a commit that passes it.
            hits = {
                (m.repo, c.sha) for m in self.changes.repos for c in m.commits
                if query.matches(m.repo, c)
            }  # fmt: skip
            people = [p for p in people if hits.intersection(p.commits)]
        if not people:
            return [Option(Text("Nobody's changes are published yet.", "dim"), disabled=True)]
        heading = Text("Whose changes go out: the people to page if this train breaks", "dim")
        options = [Option(heading, disabled=True)]
        for deployer in people:
            member = self.state.members.get(deployer.member) if deployer.member else None
            present = member is not None and member.present
            options.append(
                Option(
                    self._fit(deployer_row(deployer, present)),
                    id=f"p\t{deployer.email}\t{deployer.name}",
                )
            )
        return options

    def _suspect_options(self) -> list[Option]:
        if not self.trace:
            return [Option(Text("No trace yet: t pastes one, or enter on a log line.", "dim"),
                           disabled=True)]  # fmt: skip
        if not self.suspects:
            return [Option(Text("No commit in the manifest changed a file of this trace.", "dim"),
                           disabled=True)]  # fmt: skip
        authors = rank_authors(self.suspects)
        names = " · ".join(f"{a.name} {a.score:.1f}" for a in authors[:5])
        options = [Option(Text(f"Authors: {names}", "bold"), disabled=True)]
        for n, suspect in enumerate(self.suspects):
            mark = self.changes.mark(suspect.repo, suspect.commit.sha)
            options.append(
                Option(self._fit(commit_row(suspect.commit, mark, suspect.score)), id=f"s\t{n}")
            )
        return options

    # --- the page ------------------------------------------------------------------------------

    def _selected(self) -> tuple[str, Commit, Suspect | None] | Deployer | None:
        option = self.query_one("#changes-list", OptionList).highlighted_option
        if option is None or option.id is None:
            return None
        kind, first, second = (option.id.split("\t") + ["", ""])[:3]
        if kind == "c":
            manifest = self.changes.repo(first)
            commit = (
                next((c for c in manifest.commits if c.sha == second), None) if manifest else None
            )
            return (first, commit, None) if commit is not None else None
        if kind == "s" and int(first) < len(self.suspects):
            suspect = self.suspects[int(first)]
            return suspect.repo, suspect.commit, suspect
        if kind == "p":
            return next(
                (d for d in recent_deployers(self.state) if (d.email, d.name) == (first, second)),
                None,
            )
        return None

    @on(OptionList.OptionHighlighted, "#changes-list")
    def _highlighted(self) -> None:
        self._show_page()

    def _show_page(self) -> None:
        page = self.query_one("#changes-page", Static)
        selected = self._selected()
        side = self.query_one("#changes-side")
        if isinstance(selected, Deployer):
            side.border_title = Content(selected.name)  # a commit author's name, not markup
        elif selected is not None:
            side.border_title = Content(f"{selected[0]} {selected[1].short}")
        else:
            side.border_title = "Help"
        if isinstance(selected, Deployer):
            page.update(deployer_page(selected, self.changes, self._stages()))
        elif selected is not None:
            repo, commit, suspect = selected
            page.update(commit_page(repo, commit, changes=self.changes, where=self._where(repo),
                                    tz=self.tz, suspect=suspect))  # fmt: skip
        elif self.mode == "suspects" and self.trace:
            page.update(self._frames_page())
        else:
            page.update(Text(HELP, "dim"))

    def _frames_page(self) -> Text:
        frames = parse_frames(self.trace)
        out = Text("Frames found in the trace\n", "bold")
        for frame in frames[:40]:
            out.append(f"  {frame.path}:{frame.line}\n")
        if not frames:
            out.append("  none: no file path with a line number was recognised\n", "dim")
        return out

    def _stages(self) -> tuple[str, ...]:
        train = self.state.train
        return train.stages if train is not None else ()

    def _where(self, repo: str) -> str:
        return local_repos(self.changes, self.repos).get(repo, repo)

    # --- keys ----------------------------------------------------------------------------------

    def action_close(self) -> None:
        """Back to the room."""
        if self.focused is self.query_one("#changes-filter", Input):
            self.query_one("#changes-list", OptionList).focus()
            return
        self.dismiss(None)

    def action_mode(self, mode: str) -> None:
        """Show the commits, the people, or the suspects."""
        self.mode = mode
        self._rebuild()
        self.query_one("#changes-list", OptionList).focus()

    def action_filter(self) -> None:
        """Type a filter; enter or esc goes back to the list."""
        self.query_one("#changes-filter", Input).focus()

    @on(Input.Changed, "#changes-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        # Applied once typing pauses, not at every letter of "author:".
        if self._filtering is not None:
            self._filtering.stop()
        self._filtering = self.set_timer(FILTER_PAUSE, self._apply_filter)

    def _apply_filter(self) -> None:
        self._filtering = None
        self.query_text = self.query_one("#changes-filter", Input).value.strip()
        self._rebuild()

    @on(Input.Submitted, "#changes-filter")
    def _filter_done(self) -> None:
        if self._filtering is not None:
            self._filtering.stop()
            self._apply_filter()
        self.query_one("#changes-list", OptionList).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Typing in the filter: the letters are text, not keys.
        if isinstance(self.focused, Input) and action not in ("close", "filter"):
            return False
        return True

    def action_paste(self) -> None:
        """Paste a trace and find its suspects."""
        self.app.push_screen(TraceScreen(self.trace), self._pasted)

    def _pasted(self, text: str | None) -> None:
        if text:
            self.find(text)

    def find(self, trace: str) -> None:
        """Rank the suspects of `trace` (blame runs git, so off the event loop)."""
        self.trace = trace
        self.mode = "suspects"
        self.suspects = []
        if self.is_mounted:
            self._rebuild(force=True)
            self.query_one("#changes-page", Static).update(Text("Blaming the lines…", "dim"))
        self._find_worker(trace, self.changes)

    @work(thread=True, exclusive=True, group="suspects", exit_on_error=False)
    def _find_worker(self, trace: str, changes: Changes) -> None:
        try:
            found = find_suspects(changes, trace, repos=self.repos)
        except Exception as exc:  # git missing, a repository unreadable: say so, stay up
            message = f"{type(exc).__name__}: {exc}"
            self.app.call_from_thread(self.notify, message, title="Suspects", severity="error")
            return
        self.app.call_from_thread(self._found, trace, found)

    def _found(self, trace: str, found: list[Suspect]) -> None:
        if trace != self.trace:
            return  # a newer trace was asked for meanwhile
        self.suspects = found
        self._rebuild(force=True)
        if found:
            top = found[0]
            self.notify(f"{top.commit.short} by {top.commit.author}: {top.evidence}",
                        title=f"{len(found)} suspect{'s' if len(found) != 1 else ''}")  # fmt: skip

    def _refusal(self, op: str) -> str | None:
        if self.role == Role.VISITOR:
            return "Visitors are read-only: you can look, but not call in or mark commits."
        if not self.role:
            return "Not in the room yet."
        if permitted(self.state, Actor(self.me, Role(self.role)), op) is not None:
            return "Your role may not do that here."
        return None

    def _commit_or_say(self) -> tuple[str, Commit, Suspect | None] | None:
        selected = self._selected()
        if selected is None or isinstance(selected, Deployer):
            self.notify("Pick a commit first (1 lists them, 3 the suspects).", severity="warning")
            return None
        return selected

    @work(group="changes", exclusive=True, exit_on_error=False)
    async def action_call_in(self) -> None:
        """Call the selected commit's author in, with the evidence (confirmed)."""
        why = self._refusal("call_in")
        if why is not None:
            self.notify(why, title="Call in", severity="warning")
            return
        selected = self._commit_or_say()
        if selected is None:
            return
        repo, commit, suspect = selected
        evidence = suspect.evidence if suspect is not None else ""
        form = FormScreen(
            f"Call in {commit.author}",
            [
                Ask("author", "Who", value=commit.author, max_len=100),
                Ask("evidence", "Evidence", value=evidence[:500], max_len=500,
                    placeholder="what points at this commit"),
            ],
            intro=f"{commit.short} {commit.subject}\nEveryone in the room sees it in the "
            "timeline; if they are here, they are told at once.",
            confirm="Call in",
        )  # fmt: skip
        values: dict[str, Any] | None = await self.app.push_screen_wait(form)
        if values is None:
            return
        args = {"repo": repo, "sha": commit.sha, "author": values["author"] or commit.author}
        if values["evidence"]:
            args["evidence"] = values["evidence"]
        await self._send("call_in", args)

    @work(group="changes", exclusive=True, exit_on_error=False)
    async def action_mark(self, safe: bool) -> None:
        """Mark the selected commit safe, or not safe to revert (saying why)."""
        why = self._refusal("mark_commit")
        if why is not None:
            self.notify(why, title="Mark", severity="warning")
            return
        selected = self._commit_or_say()
        if selected is None:
            return
        repo, commit, _ = selected
        word = "safe" if safe else "not safe"
        form = FormScreen(
            f"Mark {commit.short} {word} to revert",
            [Ask("why", "Why", required=not safe, max_len=500,
                 placeholder="e.g. schema change, revert needs a migration")],
            intro=commit.subject,
            confirm=f"Mark {word}",
            danger=not safe,
        )  # fmt: skip
        values: dict[str, Any] | None = await self.app.push_screen_wait(form)
        if values is not None:
            args = {"repo": repo, "sha": commit.sha, "safe": safe, "why": values["why"]}
            await self._send("mark_commit", args)

    def action_copy_revert(self) -> None:
        """Copy the revert command of the selected commit (and show it)."""
        selected = self._commit_or_say()
        if selected is None:
            return
        repo, commit, _ = selected
        command = revert_command(commit, self._where(repo))
        self.app.copy_to_clipboard(command)
        self.notify(command, title="Copied the revert command")


HELP = (
    "1 commits · 2 people · 3 suspects\n\n"
    "/ filters: plain words match anywhere (subject, sha, files, trailers); author:NAME and "
    "path:FILE narrow by those only.\n\n"
    "t pastes a stack trace; in the room, enter on a log line (or on the newest error in view) "
    "opens its suspects here.\n\n"
    "i calls in the author of the selected commit, with the evidence; s marks it safe to "
    "revert, u not safe (saying why); r copies its git revert command. esc goes back to the "
    "room."
)
