"""Suspects: which commits of the manifest a stack trace points at, ranked and explained.

Each frame of the trace is matched to files the manifest changed. Where the repository is on
this machine (given explicitly, or at the path its publisher recorded), `git blame` of the
frame's line at the manifest's `to` revision names the commit that last changed that exact
line; that is far stronger evidence than having touched the file. Frames nearer the top of the
trace (where it failed) weigh more. Only commits in the manifest's range can be suspects.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import git

from warroom.core.changes import Changes, Manifest, Mark, person
from warroom.core.commits import Commit, FileChange
from warroom.traces import Frame, best_files, parse_frames

LINE_WEIGHT = 10.0  # the commit changed the very line in the trace
FILE_WEIGHT = 1.0  # the commit changed the file
REVERTED_FACTOR = 0.2  # the commit was already reverted within the range

Blame = Callable[[str, str, str, int], "str | None"]  # (repo dir, rev, path, line) -> sha


@dataclass(frozen=True, slots=True)
class Suspect:
    """A commit the trace points at, how strongly, and why."""

    repo: str
    commit: Commit
    score: float
    reasons: tuple[str, ...]
    revert: str  # the command that reverts it
    mark: Mark | None = None  # what the room decided about reverting it
    depth: int = 0  # the innermost frame that pointed at it

    @property
    def evidence(self) -> str:
        """The reasons as one line, fit for `call_in`'s evidence."""
        return "; ".join(self.reasons)


@dataclass(frozen=True, slots=True)
class Author:
    """A person behind one or more suspects, with their summed score."""

    name: str
    email: str
    score: float
    commits: tuple[tuple[str, str], ...]  # (repo, sha), strongest first


@dataclass(slots=True)
class _Case:
    repo: str
    commit: Commit
    order: int  # position in its manifest, to break ties in favour of the newer commit
    score: float = 0.0
    depth: int = 1 << 30
    reasons: list[str] = field(default_factory=list)

    def add(self, weight: float, depth: int, reason: str) -> None:
        self.score += weight
        self.depth = min(self.depth, depth)
        if reason not in self.reasons:
            self.reasons.append(reason)


class GitBlame:
    """`git blame` of one line at a revision, through gitpython, remembering what it found."""

    def __init__(self) -> None:
        self._repos: dict[str, git.Repo | None] = {}
        self._seen: dict[tuple[str, str, str, int], str | None] = {}

    def __call__(self, where: str, rev: str, path: str, line: int) -> str | None:
        key = (where, rev, path, line)
        if key not in self._seen:
            self._seen[key] = self._blame(where, rev, path, line)
        return self._seen[key]

    def _blame(self, where: str, rev: str, path: str, line: int) -> str | None:
        repo = self._repo(where)
        if repo is None:
            return None
        try:
            out: str = repo.git.blame("-L", f"{line},{line}", "--porcelain", rev, "--", path)
        except git.GitCommandError:
            return None  # no such line, file or revision here: no evidence either way
        first = out.split(" ", 1)[0]
        return first if len(first) in (40, 64) else None

    def _repo(self, where: str) -> git.Repo | None:
        if where not in self._repos:
            try:
                self._repos[where] = git.Repo(where)
            except (git.NoSuchPathError, git.InvalidGitRepositoryError):
                self._repos[where] = None
        return self._repos[where]


def revert_command(commit: Commit, where: str) -> str:
    """The command that reverts `commit` in the repository at `where` (its first parent's side
    for a merge)."""
    mainline = "-m 1 " if commit.merge else ""
    return f"git -C {shlex.quote(where)} revert --no-edit {mainline}{commit.sha}"


def local_repos(changes: Changes, given: Mapping[str, str] | None = None) -> dict[str, str]:
    """Where each repository can be blamed here: as given, else where its publisher had it, if
    that directory exists on this machine."""
    found = {m.repo: m.path for m in changes.repos if m.path and os.path.isdir(m.path)}
    found.update(given or {})
    return found


def find_suspects(
    changes: Changes,
    trace: str,
    *,
    repos: Mapping[str, str] | None = None,
    blame: Blame | None = None,
) -> list[Suspect]:
    """The manifest's commits that `trace` points at, strongest first.

    `repos` maps repository names to local directories (the published hints are used for the
    others); `blame` defaults to running git; pass a function to decide without any I/O.
    """
    frames = parse_frames(trace)
    local = local_repos(changes, repos)
    blame = blame or GitBlame()
    manifests = {m.repo: m for m in changes.repos}
    by_name = _files_by_name(changes)
    cases: dict[tuple[str, str], _Case] = {}
    for frame in frames:
        name = frame.path.replace("\\", "/").rsplit("/", 1)[-1]
        for repo, path, _ in best_files(frame, by_name.get(name, ())):
            _weigh(frame, manifests[repo], path, local.get(repo), blame, cases)
    _demote_reverted(changes, cases)
    suspects = [
        Suspect(
            c.repo,
            c.commit,
            round(c.score, 3),
            tuple(c.reasons),
            revert_command(c.commit, local.get(c.repo, c.repo)),
            changes.mark(c.repo, c.commit.sha),
            c.depth,
        )
        for c in cases.values()
    ]
    order = {key: c.order for key, c in cases.items()}
    return sorted(suspects, key=lambda s: (-s.score, s.depth, order[(s.repo, s.commit.sha)]))


def rank_authors(suspects: list[Suspect]) -> list[Author]:
    """The people behind the suspects, by their summed score."""
    found: dict[str, Author] = {}
    for s in suspects:
        key = person(s.commit)
        old = found.get(key)
        shas = ((s.repo, s.commit.sha),)
        if old is None:
            found[key] = Author(s.commit.author, s.commit.email, s.score, shas)
        else:
            found[key] = Author(old.name, old.email, old.score + s.score, old.commits + shas)
    return sorted(found.values(), key=lambda a: (-a.score, a.name.lower()))


def _files_by_name(changes: Changes) -> dict[str, list[tuple[str, str]]]:
    """Every (repo, path) the manifest changed, under its file name, so each frame is compared
    with the few files that could match rather than with all of them."""
    index: dict[str, set[tuple[str, str]]] = {}
    for manifest in changes.repos:
        for commit in manifest.commits:
            for f in commit.files:
                index.setdefault(f.path.rsplit("/", 1)[-1], set()).add((manifest.repo, f.path))
    return {name: sorted(entries) for name, entries in index.items()}


def _weigh(
    frame: Frame,
    manifest: Manifest,
    path: str,
    where: str | None,
    blame: Blame,
    cases: dict[tuple[str, str], _Case],
) -> None:
    """Add one frame's evidence against the commits of `manifest` that changed `path`."""
    weight = 1.0 / (1 + frame.depth)
    blamed = blame(where, manifest.to_sha, path, frame.line) if where and frame.line else None
    for order, commit in enumerate(manifest.commits):
        key = (manifest.repo, commit.sha)
        if blamed == commit.sha:
            case = cases.setdefault(key, _Case(manifest.repo, commit, order))
            case.add(LINE_WEIGHT * weight, frame.depth, f"changed {path} line {frame.line} (blame)")
            continue
        change = next((f for f in commit.files if f.path == path), None)
        if change is not None:
            case = cases.setdefault(key, _Case(manifest.repo, commit, order))
            case.add(FILE_WEIGHT * weight, frame.depth, f"changed {path} ({_size(change)})")


def _size(change: FileChange) -> str:
    if change.binary:
        return "binary"
    size = f"+{change.added} −{change.deleted}"
    return f"renamed from {change.old}, {size}" if change.old else size


def _demote_reverted(changes: Changes, cases: dict[tuple[str, str], _Case]) -> None:
    """A commit already reverted later in the same range is probably not what broke."""
    for manifest in changes.repos:
        for commit in manifest.commits:
            if not commit.reverts:
                continue
            for case in cases.values():
                if case.repo == manifest.repo and case.commit.sha.startswith(commit.reverts):
                    case.score *= REVERTED_FACTOR
                    case.reasons.append(f"already reverted in this range by {commit.short}")
