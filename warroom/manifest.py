"""Reading a manifest from git, and cutting it into the commands that publish it to a room.

One `git log --numstat -M -z` call reads the whole range (reachable from `to`, not from `from`);
its output is parsed here. Asking git for one diff per commit instead costs a process or a tree
walk per commit, which is minutes, not seconds, for a range of thousands.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import git

from warroom.core.changes import CHUNK, MAX_COMMITS, MAX_MANIFEST_BYTES, REPO_NAME
from warroom.core.commits import (
    BINARY,
    MAX_COMMIT_BYTES,
    MAX_FILES,
    MAX_NAME,
    MAX_PATH,
    MAX_SUBJECT,
    MAX_TEXT,
    MAX_TRAILERS,
    Commit,
    FileChange,
    commit_from_data,
    commit_size,
    commit_to_data,
)
from warroom.core.text import clean_data

# Fields of one commit, each ended by \x1f; the message (%B) last, since only it can hold a
# newline. -z ends the header and each numstat entry with NUL, which no message or path holds.
_FORMAT = "%x1e" + "%x1f".join(("%H", "%h", "%P", "%aN", "%aE", "%at", "%B")) + "%x1f"
_LOG_OPTIONS = ("-z", "--numstat", "-M", "--no-color", "--no-textconv", "--no-show-signature")
_REVERT_SUBJECT = re.compile(r"Revert\b")
_REVERTS = re.compile(r"This reverts commit ([0-9a-fA-F]{7,64})")
_TRAILER = re.compile(r"([A-Za-z0-9][A-Za-z0-9-]{0,62}):\s*(.*)")
# A frame is at most 1 MiB (the hub's default); the envelope and a margin stay outside this.
CHUNK_BYTES = 640 * 1024


class ManifestError(Exception):
    """The repository or the range cannot be read; the message says why, for people."""


@dataclass(frozen=True, slots=True)
class RepoRange:
    """The commits of one repository in one range, newest first, ready to publish."""

    name: str
    path: str  # absolute: where blame can find the repository again
    from_rev: str
    to_rev: str
    from_sha: str
    to_sha: str
    commits: list[Commit]


def read_manifest(path: str | Path, from_rev: str, to_rev: str, name: str = "") -> RepoRange:
    """The commits reachable from `to_rev` and not from `from_rev` in the repository at `path`."""
    repo = open_repo(path)
    where = Path(repo.working_tree_dir or repo.git_dir).resolve()
    name = name or where.name.removesuffix(".git")
    if not REPO_NAME.fullmatch(name):
        raise ManifestError(
            f"{name!r} cannot name a repository in the room; give --name "
            "(up to 64 letters, digits, '.', '_', '/', '+' or '-')"
        )
    from_sha, to_sha = resolve(repo, from_rev), resolve(repo, to_rev)
    try:
        out = repo.git.log(*_LOG_OPTIONS, f"--format={_FORMAT}", f"{from_sha}..{to_sha}", "--")
    except git.GitCommandError as exc:
        raise ManifestError(f"git log failed in {where}: {_stderr(exc)}") from None
    return RepoRange(name, str(where), from_rev, to_rev, from_sha, to_sha, parse_log(out))


def open_repo(path: str | Path) -> git.Repo:
    """The repository at exactly `path` (a work tree or a bare repository)."""
    try:
        return git.Repo(path)
    except git.NoSuchPathError:
        raise ManifestError(f"{path}: no such directory") from None
    except git.InvalidGitRepositoryError:
        raise ManifestError(f"{path}: not a git repository") from None


def resolve(repo: git.Repo, rev: str) -> str:
    """The full sha of the commit `rev` names (a tag is peeled), or ManifestError."""
    try:
        # --end-of-options: a revision such as "--all" stays a name, never becomes an option.
        sha: str = repo.git.rev_parse(
            "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}"
        )
    except git.GitCommandError:
        where = repo.working_tree_dir or repo.git_dir
        raise ManifestError(f"unknown revision {rev!r} in {where}") from None
    return sha.strip()


def parse_log(out: str) -> list[Commit]:
    """The commits in the output of `git log` run with `_LOG_OPTIONS` and `_FORMAT`."""
    if not out:
        return []
    # git hands undecodable bytes over as surrogates, which cannot be encoded for the wire.
    out = out.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    # Every record but the first follows a NUL (the end of a header or of a numstat entry).
    return [_commit(record) for record in ("\0" + out).split("\0\x1e")[1:]]


def _commit(record: str) -> Commit:
    sha, short, parents, author, email, date, rest = record.split("\x1f", 6)
    message, _, stats = rest.partition("\0")
    message = message.removesuffix("\x1f")
    subject, body = _split_message(message)
    files, more = _files(stats)
    reverts = _REVERTS.search(body)
    return fit(
        Commit(
            sha=sha,
            short=short,
            author=author[:MAX_NAME],
            email=email[:MAX_NAME],
            date=int(date or 0),
            subject=_cut(subject, MAX_SUBJECT),
            files=tuple(files),
            more_files=more,
            merge=len(parents.split()) > 1,
            revert=bool(reverts) or bool(_REVERT_SUBJECT.match(subject)),
            reverts=reverts.group(1).lower() if reverts else "",
            trailers=parse_trailers(body),
        )
    )


def fit(commit: Commit) -> Commit:
    """`commit` as the room will hold it: its text cleaned as the hub cleans it (so its size
    here is the size there), and within the room's bytes for one commit: the files past them
    are left out of the list and only counted (`more_files`), as the files past MAX_FILES are."""
    data = commit_to_data(commit)
    clean = clean_data(data)
    if clean is data and commit_size(data) <= MAX_COMMIT_BYTES:
        return commit
    data = clean
    while data["files"] and commit_size(data) > MAX_COMMIT_BYTES:
        data["files"].pop()
        data["more_files"] += 1
    return commit_from_data(data)


def _split_message(message: str) -> tuple[str, str]:
    """(subject, body): the first paragraph on one line, as %s gives it, and the rest."""
    paragraphs = message.strip("\n").split("\n\n", 1)
    subject = " ".join(line.strip() for line in paragraphs[0].splitlines())
    return subject, paragraphs[1] if len(paragraphs) > 1 else ""


def _files(stats: str) -> tuple[list[FileChange], int]:
    """The numstat entries: `added TAB deleted TAB path` or, for a rename, the path left empty
    and the old and new paths as the next two NUL-separated fields."""
    tokens = iter(stats.lstrip("\n").split("\0"))
    files: list[FileChange] = []
    more = 0
    for token in tokens:
        if not token:
            continue
        added, deleted, path = token.split("\t", 2)
        old = ""
        if not path:
            old, path = next(tokens, ""), next(tokens, "")
        if len(files) >= MAX_FILES or len(path) > MAX_PATH or len(old) > MAX_PATH:
            more += 1
            continue
        binary = added == "-"
        files.append(
            FileChange(
                path, BINARY if binary else int(added), BINARY if binary else int(deleted), old
            )
        )
    return files, more


def parse_trailers(body: str) -> tuple[tuple[str, str], ...]:
    """`Key: value` lines of the message's last paragraph, when every line of it is one.

    Lines that start with white space continue the value above; git's own
    "(cherry picked from commit ...)" line may sit among them.
    """
    paragraphs = [p for p in body.strip("\n").split("\n\n") if p.strip()]
    if not paragraphs:
        return ()
    found: list[list[str]] = []
    for line in paragraphs[-1].splitlines():
        if line[:1].isspace() and found:
            found[-1][1] = f"{found[-1][1]} {line.strip()}"
        elif line.startswith("(cherry picked from commit"):
            continue
        elif match := _TRAILER.fullmatch(line.rstrip()):
            found.append([match.group(1), match.group(2)])
        else:
            return ()  # prose, not trailers
    return tuple((k, _cut(v, MAX_TEXT)) for k, v in found[:MAX_TRAILERS])


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _stderr(exc: git.GitCommandError) -> str:
    text = exc.stderr if isinstance(exc.stderr, str) else str(exc)
    return text.strip().removeprefix("stderr:").strip(" '\n") or str(exc)


# --- publishing ----------------------------------------------------------------------------------


def check_size(manifest: RepoRange) -> None:
    """Raise ManifestError when the range is too big for a room to hold."""
    if len(manifest.commits) > MAX_COMMITS:
        raise ManifestError(
            f"{manifest.from_rev}..{manifest.to_rev} in {manifest.name} holds "
            f"{len(manifest.commits)} commits; a room takes at most {MAX_COMMITS} per repository"
        )
    size = manifest_size(manifest)
    if size > MAX_MANIFEST_BYTES:
        raise ManifestError(
            f"{manifest.from_rev}..{manifest.to_rev} in {manifest.name} is "
            f"{size / 2**20:.1f} MiB of commits; a room holds at most "
            f"{MAX_MANIFEST_BYTES / 2**20:g} MiB over every repository: publish a shorter range"
        )


def manifest_size(manifest: RepoRange) -> int:
    """The bytes the room counts for the commits of `manifest` (its cap is on their sum)."""
    return sum(commit_size(commit_to_data(c)) for c in manifest.commits)


def chunks(commits: list[dict[str, Any]], max_bytes: int = CHUNK_BYTES) -> Iterator[list[Any]]:
    """The commits' data forms in runs of at most CHUNK commits and about `max_bytes` packed."""
    run: list[dict[str, Any]] = []
    size = 0
    for data in commits:
        cost = commit_size(data)  # exactly its MessagePack bytes
        if run and (len(run) >= CHUNK or size + cost > max_bytes):
            yield run
            run, size = [], 0
        run.append(data)
        size += cost
    if run:
        yield run


def publish_commands(
    manifest: RepoRange, batch: str, max_bytes: int = CHUNK_BYTES
) -> list[tuple[str, dict[str, Any]]]:
    """The commands that publish `manifest`: `manifest_begin`, then one `manifest_add` a chunk."""
    begin = {
        "repo": manifest.name,
        "batch": batch,
        "from": manifest.from_rev,
        "to": manifest.to_rev,
        "from_sha": manifest.from_sha,
        "to_sha": manifest.to_sha,
        "count": len(manifest.commits),
        "path": manifest.path[:1000],
        # The hub refuses a range that would pass the room's cap now, before any chunk is sent.
        "size": manifest_size(manifest),
    }
    commands: list[tuple[str, dict[str, Any]]] = [("manifest_begin", begin)]
    offset = 0
    for run in chunks([commit_to_data(c) for c in manifest.commits], max_bytes):
        add = {"repo": manifest.name, "batch": batch, "offset": offset, "commits": run}
        commands.append(("manifest_add", add))
        offset += len(run)
    return commands
