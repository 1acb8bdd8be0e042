"""One commit of a manifest: its value type, its compact data form, and the check of that form.

The data form is what `manifest_add` carries and what the state holds on the wire: a map per
commit with every key present, files as `[path, added, deleted, old_path]` lists. The hub trusts
no publisher, so `check_commit` bounds every field before a commit reaches the state, and the
whole commit by its size in bytes (`commit_size`, which the room's cap adds up).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

MAX_FILES = 200  # files listed per commit; the rest are only counted (`more_files`)
MAX_TRAILERS = 20
MAX_PATH = 1000
MAX_SUBJECT = 300
MAX_NAME = 200
MAX_TEXT = 300  # a trailer's value
BINARY = -1  # `added` and `deleted` of a binary file, which has no line counts
# Bytes of one commit's data form. 200 renamed files of two 140-character paths each and 20
# trailers of 100 characters take about 61 KiB; a real commit of 200 files takes far less (20
# KiB with 80-character paths). The field limits alone would let one commit reach 400 KiB.
MAX_COMMIT_BYTES = 64 * 1024

_HEX = re.compile(r"[0-9a-f]{4,64}")
_TRAILER_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,62}")
KEYS = (
    "sha",
    "short",
    "author",
    "email",
    "date",
    "subject",
    "files",
    "more_files",
    "merge",
    "revert",
    "reverts",
    "trailers",
)


class FileChange(NamedTuple):
    """A file a commit changed: its path afterwards, lines added and deleted, its old path."""

    path: str
    added: int
    deleted: int
    old: str = ""  # the path before a rename; "" when it was not renamed

    @property
    def binary(self) -> bool:
        return self.added == BINARY


@dataclass(frozen=True, slots=True)
class Commit:
    """A commit going out: who wrote it, what it says, and which files it changed."""

    sha: str
    short: str
    author: str
    email: str
    date: int  # author date, UNIX seconds
    subject: str
    files: tuple[FileChange, ...] = ()
    more_files: int = 0  # files changed beyond the MAX_FILES listed
    merge: bool = False
    revert: bool = False
    reverts: str = ""  # the sha a revert names ("This reverts commit ..."); "" when unknown
    trailers: tuple[tuple[str, str], ...] = ()

    def trailer(self, key: str) -> list[str]:
        """The values of trailer `key` (case-insensitive), in message order."""
        return [v for k, v in self.trailers if k.lower() == key.lower()]


def person(commit: Commit) -> str:
    """Who a commit counts for: the author's email, or name when there is no email."""
    return (commit.email or commit.author).lower()


def is_sha(text: str, *, full: bool = False) -> bool:
    """Whether `text` is lowercase hex fit to name a commit (40 or 64 digits when `full`)."""
    return bool(_HEX.fullmatch(text)) and (not full or len(text) in (40, 64))


def commit_to_data(commit: Commit) -> dict[str, Any]:
    """The commit as its data form."""
    return {
        "sha": commit.sha,
        "short": commit.short,
        "author": commit.author,
        "email": commit.email,
        "date": commit.date,
        "subject": commit.subject,
        "files": [list(f) for f in commit.files],
        "more_files": commit.more_files,
        "merge": commit.merge,
        "revert": commit.revert,
        "reverts": commit.reverts,
        "trailers": [list(t) for t in commit.trailers],
    }


def commit_from_data(raw: Mapping[str, Any]) -> Commit:
    """The commit from a data form `check_commit` accepted (or `commit_to_data` made)."""
    return Commit(
        sha=raw["sha"],
        short=raw["short"],
        author=raw["author"],
        email=raw["email"],
        date=int(raw["date"]),
        subject=raw["subject"],
        files=tuple(FileChange(*f) for f in raw["files"]),
        more_files=int(raw["more_files"]),
        merge=bool(raw["merge"]),
        revert=bool(raw["revert"]),
        reverts=raw["reverts"],
        trailers=tuple((k, v) for k, v in raw["trailers"]),
    )


def check_commit(raw: object) -> str | None:
    """The first problem with a commit's data form, in words, or None when it is well formed."""
    if not isinstance(raw, dict):
        return "must be a map"
    keys = set(raw)
    if keys != set(KEYS):
        missing, extra = sorted(set(KEYS) - keys), sorted(keys - set(KEYS))
        return f"missing key {missing[0]!r}" if missing else f"unknown key {extra[0]!r}"
    sha, short = raw["sha"], raw["short"]
    if not isinstance(sha, str) or not is_sha(sha, full=True):
        return "sha must be 40 or 64 lowercase hex digits"
    if not isinstance(short, str) or not is_sha(short) or not sha.startswith(short):
        return "short must be a prefix of sha, at least 4 hex digits"
    for key, limit in (("author", MAX_NAME), ("email", MAX_NAME), ("subject", MAX_SUBJECT)):
        if not _text(raw[key], limit):
            return f"{key} must be a string of at most {limit} characters"
    if not _count(raw["date"]):
        return "date must be an integer ≥ 0 (UNIX seconds)"
    for key in ("merge", "revert"):
        if not isinstance(raw[key], bool):
            return f"{key} must be a boolean"
    reverts = raw["reverts"]
    if not isinstance(reverts, str) or (reverts and not is_sha(reverts)):
        return 'reverts must be "" or 4 to 64 lowercase hex digits'
    if not _count(raw["more_files"]):
        return "more_files must be an integer ≥ 0"
    problem = _check_files(raw["files"]) or _check_trailers(raw["trailers"])
    if problem is not None:
        return problem
    size = commit_size(raw)
    if size > MAX_COMMIT_BYTES:
        return (
            f"{size:,} bytes; a commit takes at most {MAX_COMMIT_BYTES:,} "
            f"({MAX_COMMIT_BYTES // 1024} KiB): list fewer files, more_files counts the rest"
        )
    return None


def commit_size(raw: Mapping[str, Any]) -> int:
    """The bytes of a commit's data form as MessagePack encodes it.

    Exact for a data form `check_commit` accepts (or `commit_to_data` makes): every string is
    its UTF-8 bytes and a header, every integer, list and map the size MessagePack gives it.
    Counted here rather than encoded, since the core does no encoding; a test holds the two
    equal.
    """
    size = _FIXED + _int_size(raw["date"]) + _int_size(raw["more_files"])
    for key in ("sha", "short", "author", "email", "subject", "reverts"):
        size += _str_size(raw[key])
    files = raw["files"]
    size += _header(len(files))
    for path, added, deleted, old in files:
        size += 1 + _str_size(path) + _int_size(added) + _int_size(deleted) + _str_size(old)
    trailers = raw["trailers"]
    size += _header(len(trailers))
    for key, value in trailers:
        size += 1 + _str_size(key) + _str_size(value)
    return size


def _str_size(text: str) -> int:
    n = len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))
    return n + (1 if n < 32 else 2 if n < 256 else 3 if n < 65536 else 5)


def _int_size(value: int) -> int:
    if -32 <= value < 128:
        return 1
    if -128 <= value < 256:
        return 2
    if -32768 <= value < 65536:
        return 3
    return 5 if -(2**31) <= value < 2**32 else 9


def _header(items: int) -> int:
    # A list's or a map's header: fixarray/fixmap, 16 or 32 bits of length.
    return 1 if items < 16 else 3 if items < 65536 else 5


# The map's header and keys, and the two booleans: the same for every commit.
_FIXED = _header(len(KEYS)) + sum(_str_size(k) for k in KEYS) + 2


def _check_files(files: object) -> str | None:
    if not isinstance(files, list) or len(files) > MAX_FILES:
        return f"files must be a list of at most {MAX_FILES} entries"
    for i, entry in enumerate(files):
        if not isinstance(entry, list) or len(entry) != 4:
            return f"files[{i}] must be [path, added, deleted, old_path]"
        path, added, deleted, old = entry
        if not _text(path, MAX_PATH) or not path or not _text(old, MAX_PATH):
            return f"files[{i}]: paths must be strings of 1 to {MAX_PATH} characters"
        if not (_lines(added) and _lines(deleted) and (added == BINARY) == (deleted == BINARY)):
            return f"files[{i}]: added and deleted must be integers ≥ 0 (both -1 for binary)"
    return None


def _check_trailers(trailers: object) -> str | None:
    if not isinstance(trailers, list) or len(trailers) > MAX_TRAILERS:
        return f"trailers must be a list of at most {MAX_TRAILERS} [key, value] pairs"
    for i, pair in enumerate(trailers):
        if not isinstance(pair, list) or len(pair) != 2:
            return f"trailers[{i}] must be [key, value]"
        key, value = pair
        if not isinstance(key, str) or not _TRAILER_KEY.fullmatch(key):
            return f"trailers[{i}]: key must be letters, digits and '-', up to 63"
        if not _text(value, MAX_TEXT):
            return f"trailers[{i}]: value must be a string of at most {MAX_TEXT} characters"
    return None


def _text(value: object, limit: int) -> bool:
    return isinstance(value, str) and len(value) <= limit


def _count(value: object) -> bool:
    # bool is an int subclass; a flag where a count belongs is a malformed commit.
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _lines(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= BINARY
