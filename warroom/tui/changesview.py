"""The changes going out as text: filter terms, list rows and detail pages for the changes screen.

No Textual here, so the rows and pages a person reads are tested as plain strings.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from rich.text import Text

from warroom.core.changes import Call, Changes, Manifest, Mark
from warroom.core.commits import Commit, FileChange
from warroom.core.deployers import Deployer
from warroom.suspects import Suspect, revert_command

AUTHOR_WIDTH = 14
FILES_SHOWN = 40  # files listed in a commit's page; the rest are counted


@dataclass(frozen=True, slots=True)
class Query:
    """A filter as typed: `author:` and `path:` terms, and plain words matched anywhere."""

    authors: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    words: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str) -> Query:
        authors, paths, words = [], [], []
        for term in text.lower().split():
            key, sep, value = term.partition(":")
            if sep and value and key in ("author", "a"):
                authors.append(value)
            elif sep and value and key in ("path", "p", "file"):
                paths.append(value)
            else:
                words.append(term)
        return cls(tuple(authors), tuple(paths), tuple(words))

    def __bool__(self) -> bool:
        return bool(self.authors or self.paths or self.words)

    def matches(self, repo: str, commit: Commit) -> bool:
        """Every term must match: authors by name or email, paths by any changed file, words
        by any of those, the subject, the sha, a trailer or the repository."""
        who = f"{commit.author} {commit.email}".lower()
        files = [f.path.lower() for f in commit.files]
        if not all(a in who for a in self.authors):
            return False
        if not all(any(p in f for f in files) for p in self.paths):
            return False
        if not self.words:
            return True
        trailers = " ".join(f"{k}: {v}" for k, v in commit.trailers)
        blob = " ".join((who, commit.subject, commit.sha, repo, trailers, *files)).lower()
        return all(w in blob for w in self.words)


def mark_text(mark: Mark | None) -> Text:
    """The safety mark as a short tag: `✔ safe to revert`, `⚠ not safe`, or nothing."""
    if mark is None:
        return Text()
    if mark.safe:
        return Text(" ✔ safe to revert", "green")
    return Text(" ⚠ not safe to revert", "bold red")


def commit_row(commit: Commit, mark: Mark | None, score: float | None = None) -> Text:
    """One commit in the list: sha, author, subject, flags and its mark."""
    out = Text()
    if score is not None:
        out.append(f"{score:5.1f} ", "bold yellow")
    out.append(f"{commit.short} ", "dim")
    # The mark as a glyph up front, where a narrow list does not cut it off: ✔ safe to revert,
    # ⚠ not safe (the page says who marked it and why).
    if mark is None:
        out.append("  ")
    else:
        out.append("✔ " if mark.safe else "⚠ ", "green" if mark.safe else "bold red")
    out.append(f"{commit.author[:AUTHOR_WIDTH]:<{AUTHOR_WIDTH}} ", "cyan")
    if commit.merge:
        out.append("merge ", "magenta")
    if commit.revert:
        out.append("revert ", "yellow")
    out.append(commit.subject)
    out.no_wrap = True
    out.overflow = "ellipsis"
    return out


def repo_heading(manifest: Manifest, shown: int) -> Text:
    """A repository's heading in the list: name, range, and how many commits show."""
    out = Text()
    out.append(manifest.repo, "bold")
    out.append(f"  {manifest.from_rev}..{manifest.to_rev}", "dim")
    total = len(manifest.commits)
    counted = f"{shown} of {total}" if shown != total else str(total)
    out.append(f"  {counted} commit{'s' if total != 1 else ''}", "dim")
    if not manifest.complete:
        out.append(f" (receiving {len(manifest.commits)}/{manifest.count})", "yellow")
    return out


def when(ts: float, tz: str) -> str:
    """A time stamp in the viewer's zone, with the date."""
    return datetime.fromtimestamp(ts, ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M %Z")


def commit_page(
    repo: str,
    commit: Commit,
    *,
    changes: Changes,
    where: str,
    tz: str,
    suspect: Suspect | None = None,
) -> Text:
    """Everything about one commit: who, when, the files, the mark, call-ins, and its revert."""
    out = Text()
    out.append(f"{commit.subject}\n", "bold")
    out.append(f"{repo}\n{commit.sha}\n", "dim")
    out.append(f"{commit.author} <{commit.email}>", "cyan")
    out.append(f" · {when(commit.date, tz)}\n", "dim")
    flags = [w for w, on in (("merge", commit.merge), ("revert", commit.revert)) if on]
    if commit.reverts:
        flags.append(f"reverts {commit.reverts[:12]}")
    if flags:
        out.append(" · ".join(flags) + "\n", "yellow")
    for key, value in commit.trailers:
        out.append(f"{key}: ", "dim")
        out.append(f"{value}\n")
    if suspect is not None:
        out.append(f"\nSuspect, score {suspect.score:g}\n", "bold yellow")
        for reason in suspect.reasons:
            out.append(f"  • {reason}\n")
        out.append(f"i calls in {commit.author} with this evidence\n", "dim")
    mark = changes.mark(repo, commit.sha)
    out.append("\n")
    if mark is None:
        out.append("Not marked: s marks it safe to revert, u not safe (why)\n", "dim")
    else:
        out.append_text(mark_text(mark).copy())
        why = f": {mark.why}" if mark.why else ""
        out.append(f" — {mark.by}{why}\n", "dim")
    for call in calls_for(changes.calls, repo, commit.sha):
        out.append(f"☎ {call.by} called in {call.author}", "bold magenta")
        out.append(f": {call.evidence}\n" if call.evidence else "\n", "dim")
    out.append("\nRevert (r copies it):\n", "dim")
    out.append(f"  {revert_command(commit, where)}\n", "bold")
    out.append(f"\nFiles ({len(commit.files) + commit.more_files})\n", "bold")
    for change in commit.files[:FILES_SHOWN]:
        out.append_text(file_line(change))
    hidden = len(commit.files) - FILES_SHOWN + commit.more_files
    if hidden > 0:
        out.append(f"  … and {hidden} more\n", "dim")
    return out


def file_line(change: FileChange) -> Text:
    """One changed file: `+12   −3    path` (`binary` for a file without lines)."""
    out = Text("  ")
    if change.binary:
        out.append(f"{'binary':<11}", "dim")
    else:
        out.append(f"+{change.added:<4}", "green")
        out.append(f" −{change.deleted:<4}", "red")
    if change.old:
        out.append(f"{change.old} → ", "dim")
    out.append(f"{change.path}\n")
    return out


def calls_for(calls: Sequence[Call], repo: str, sha: str) -> Iterator[Call]:
    """The call-ins about one commit, oldest first."""
    return (c for c in calls if c.repo == repo and c.sha == sha)


def deployer_row(deployer: Deployer, present: bool) -> Text:
    """One person in the recent deployers: name, count, whether they are here, repositories."""
    out = Text()
    out.append(f"{deployer.name[:20]:<20} ", "bold cyan")
    out.append(f"{deployer.count:>4} commit{'s' if deployer.count != 1 else ' '}  ")
    if deployer.member:
        where = f"● in the room as {deployer.member}" if present else f"○ {deployer.member}, away"
        out.append(f"{where}  ", "green" if present else "dim")
    out.append(", ".join(deployer.repos), "dim")
    out.no_wrap = True
    out.overflow = "ellipsis"
    return out


def deployer_page(deployer: Deployer, changes: Changes, stages: Sequence[str]) -> Text:
    """One person's page: how to reach them, where their changes run, their commits."""
    out = Text()
    out.append(f"{deployer.name}\n", "bold")
    out.append(f"{deployer.email}\n", "cyan")
    if deployer.member:
        out.append(f"In the room as {deployer.member}\n")
    reached = ", ".join(deployer.stages) if deployer.stages else "no stage yet"
    out.append(f"Their changes run on: {reached}\n", "yellow" if deployer.stages else "dim")
    if stages:
        out.append(f"(the train: {' → '.join(stages)})\n", "dim")
    out.append(f"\n{deployer.count} commit{'s' if deployer.count != 1 else ''}\n", "bold")
    for repo, sha in deployer.commits:
        manifest = changes.repo(repo)
        commit = next((c for c in manifest.commits if c.sha == sha), None) if manifest else None
        if commit is not None:
            out.append(f"  {repo} ", "dim")
            out.append_text(commit_row(commit, changes.mark(repo, sha)))
            out.append("\n")
    return out
