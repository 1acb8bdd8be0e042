"""The manifest: the commits going out, per repository, and what the room says about them.

A publisher (`warroom manifest`) sends one repository at a time: `manifest_begin` announces the
range and how many commits will follow, then `manifest_add` carries them in chunks small enough
for a frame. A repository's manifest is complete once every announced commit has arrived; until
then it shows as partial. Beginning again replaces the repository's commits, and a chunk of an
older upload (another `batch`) is refused, so two publishers can never interleave.

The room's manifest is bounded by bytes, so no publisher can make the room too big to load: a
commit by `MAX_COMMIT_BYTES`, all the repositories' commits together by `MAX_MANIFEST_BYTES`.
Only deciding refuses; applying never does, so a room an older hub let grow past the cap still
replays and opens (and takes no more commits until some are dropped).

Beside the commits the room keeps a mark per commit (safe to revert, or not and why) and the
people called in about a commit.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from types import MappingProxyType
from typing import Any

from warroom.core.commits import (
    Commit,
    check_commit,
    commit_from_data,
    commit_size,
    is_sha,
    person,
)
from warroom.core.model import (
    Actor,
    Call,
    Changes,
    Code,
    Command,
    Event,
    Manifest,
    Mark,
    Reject,
    RoomState,
    changes_of,
)
from warroom.core.registry import applies, op
from warroom.core.roles import ACTORS
from warroom.core.schema import Field

# The values live in `warroom.core.model` (and `person` in `warroom.core.commits`); these
# names are read from here too.
__all__ = [
    "CHUNK",
    "KEEP_CALLS",
    "MAX_COMMITS",
    "MAX_MANIFEST_BYTES",
    "MAX_REPOS",
    "REPO_NAME",
    "Call",
    "Changes",
    "Manifest",
    "Mark",
    "changes_of",
    "person",
]

MAX_REPOS = 64
MAX_COMMITS = 20_000  # per repository: far beyond a weekly train, small enough for a snapshot
CHUNK = 300  # commits per manifest_add at most
KEEP_CALLS = 100
# Bytes of the commits' data forms (`commit_size`) over every repository of the room. A real
# range averages about 500 bytes a commit (a subject, an author, a few files, two trailers): 16,000
# commits take 8 MiB, and 32 MiB holds them even at 2 KiB each. A room at the cap loads in a few
# seconds at worst (62,000 small commits: 4 s), and its state is half a client's 64 MiB frame.
MAX_MANIFEST_BYTES = 32 * 1024 * 1024
REPO_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/+-]{0,63}")


# --- deciding ----------------------------------------------------------------------------------


def _manifest(state: RoomState, repo: str) -> Manifest | Reject:
    found = changes_of(state).repo(repo)
    if found is not None:
        return found
    names = ", ".join(m.repo for m in changes_of(state).repos) or "none yet"
    return Reject(Code.INVALID, f"no manifest for repository {repo!r} (published: {names})")


def _commit(state: RoomState, repo: str, ref: str) -> tuple[Manifest, Commit] | Reject:
    manifest = _manifest(state, repo)
    if isinstance(manifest, Reject):
        return manifest
    ref = ref.strip().lower()
    if not is_sha(ref):
        return Reject(Code.INVALID, f"{ref!r} is not a commit sha (4 to 64 hex digits)")
    found = manifest.find(ref)
    if not found:
        return Reject(Code.INVALID, f"no commit {ref} in the manifest of {repo}")
    if len(found) > 1:
        return Reject(Code.INVALID, f"{ref} names {len(found)} commits in {repo}; give more")
    return manifest, found[0]


def _about(repo: str, commit: Commit) -> dict[str, Any]:
    # Events carry the commit's words so the timeline reads without the state.
    return {"repo": repo, "sha": commit.sha, "short": commit.short, "subject": commit.subject}


_SHA = Field(str, min_len=40, max_len=64)
_REPO = {"repo": Field(str, min_len=1, max_len=64)}


@op(
    "manifest_begin",
    ACTORS,
    {
        **_REPO,
        "batch": Field(str, min_len=1, max_len=32),
        "from": Field(str, min_len=1, max_len=200),
        "to": Field(str, min_len=1, max_len=200),
        "from_sha": _SHA,
        "to_sha": _SHA,
        "count": Field(int),
        "path": Field(str, required=False, max_len=1000),
        "size": Field(int, required=False),
    },
    summary="announce a repository's manifest: its range, how many commits follow, their bytes",
)
def _begin(state: RoomState, actor: Actor, cmd: Command) -> Sequence[Event] | Reject:
    a = cmd.args
    if not REPO_NAME.fullmatch(a["repo"]):
        return Reject(Code.INVALID, "repo: use up to 64 letters, digits, '.', '_', '/', '+' or '-'")
    for key in ("from_sha", "to_sha"):
        if not is_sha(a[key], full=True):
            return Reject(Code.INVALID, f"{key} must be 40 or 64 lowercase hex digits")
    if not 1 <= a["count"] <= MAX_COMMITS:
        return Reject(Code.INVALID, f"count must be 1 to {MAX_COMMITS} commits")
    old = changes_of(state).repo(a["repo"])
    if old is None and len(changes_of(state).repos) >= MAX_REPOS:
        return Reject(Code.CONFLICT, f"the manifest already spans {MAX_REPOS} repositories")
    if "size" in a:
        # A publisher that says how big its commits are is refused now, before any is sent,
        # rather than part way through; the chunks are counted again as they come.
        if a["size"] < 0:
            return Reject(Code.INVALID, "size must be the bytes of the commits, ≥ 0")
        held = changes_of(state).size - (old.size if old is not None else 0)
        if held + a["size"] > MAX_MANIFEST_BYTES:
            return Reject(Code.INVALID, _over_cap(state, a["repo"], held, a["size"], "these"))
    data = {
        "repo": a["repo"],
        "batch": a["batch"],
        "from": a["from"].strip(),
        "to": a["to"].strip(),
        "from_sha": a["from_sha"],
        "to_sha": a["to_sha"],
        "count": a["count"],
        "path": a.get("path", "").strip(),
        "replaces": old is not None,
    }
    return [Event("manifest_begun", cmd.ts, actor.name, data)]


@op(
    "manifest_add",
    ACTORS,
    {
        **_REPO,
        "batch": Field(str, min_len=1, max_len=32),
        "offset": Field(int),
        "commits": Field(list, min_len=1, max_len=CHUNK),
    },
    summary="add the next chunk of commits to the manifest begun with the same batch",
)
def _add(state: RoomState, actor: Actor, cmd: Command) -> Sequence[Event] | Reject:
    a = cmd.args
    manifest = _manifest(state, a["repo"])
    if isinstance(manifest, Reject):
        return manifest
    if a["batch"] != manifest.batch:
        return Reject(
            Code.CONFLICT,
            f"the manifest of {manifest.repo} was published again by {manifest.published_by}; "
            "this upload is stale",
        )
    have = len(manifest.commits)
    if manifest.complete:
        return Reject(Code.CONFLICT, f"the manifest of {manifest.repo} is already complete")
    if a["offset"] != have:
        return Reject(Code.CONFLICT, f"expected commits from offset {have}, not {a['offset']}")
    if have + len(a["commits"]) > manifest.count:
        return Reject(Code.INVALID, f"more commits than the {manifest.count} announced")
    seen = {c.sha for c in manifest.commits}
    for i, raw in enumerate(a["commits"]):
        problem = check_commit(raw)
        if problem is not None:
            return Reject(Code.INVALID, f"manifest_add: commits[{i}]: {problem}")
        if raw["sha"] in seen:
            return Reject(Code.INVALID, f"manifest_add: commits[{i}]: {raw['sha']} is listed twice")
        seen.add(raw["sha"])
    held, more = changes_of(state).size, sum(commit_size(c) for c in a["commits"])
    if held + more > MAX_MANIFEST_BYTES:
        return Reject(Code.INVALID, _over_cap(state, manifest.repo, held, more, "this chunk's"))
    people = {person(c) for c in manifest.commits if not c.merge}
    people.update(person(commit_from_data(c)) for c in a["commits"] if not c["merge"])
    data = {
        "repo": manifest.repo,
        "batch": manifest.batch,
        "offset": have,
        "commits": list(a["commits"]),
        "received": have + len(a["commits"]),
        "count": manifest.count,
        "authors": len(people),
    }
    return [Event("manifest_added", cmd.ts, actor.name, data)]


def _over_cap(state: RoomState, repo: str, held: int, more: int, which: str) -> str:
    return (
        f"the manifest would hold {_mib(held + more)}: {_mib(held)} held already and"
        f" {_mib(more)} for {which} commits of {repo}; a room holds at most"
        f" {_mib(MAX_MANIFEST_BYTES)} of commits. Drop a repository (manifest_drop) or"
        " publish a shorter range"
    )


def _mib(size: int) -> str:
    # Bytes first: a size just over the cap must not read as equal to it once rounded.
    return f"{size:,} bytes ({size / 2**20:.2f} MiB)"


@op("manifest_drop", ACTORS, _REPO, summary="take a repository out of the manifest")
def _drop(state: RoomState, actor: Actor, cmd: Command) -> Sequence[Event] | Reject:
    manifest = _manifest(state, cmd.args["repo"])
    if isinstance(manifest, Reject):
        return manifest
    data = {"repo": manifest.repo, "count": len(manifest.commits)}
    return [Event("manifest_dropped", cmd.ts, actor.name, data)]


_COMMIT = {**_REPO, "sha": Field(str, min_len=4, max_len=64)}


@op(
    "mark_commit",
    ACTORS,
    {**_COMMIT, "safe": Field(bool), "why": Field(str, required=False, max_len=500)},
    summary="mark a commit safe to revert, or not safe (saying why)",
)
def _mark(state: RoomState, actor: Actor, cmd: Command) -> Sequence[Event] | Reject:
    found = _commit(state, cmd.args["repo"], cmd.args["sha"])
    if isinstance(found, Reject):
        return found
    manifest, commit = found
    safe, why = cmd.args["safe"], cmd.args.get("why", "").strip()
    if not safe and not why:
        return Reject(Code.INVALID, f"say why {commit.short} is not safe to revert")
    old = changes_of(state).mark(manifest.repo, commit.sha)
    if old is not None and (old.safe, old.why) == (safe, why):
        return []  # the same mark again (a retry, a double press) changes nothing
    data = {**_about(manifest.repo, commit), "safe": safe, "why": why}
    return [Event("commit_marked", cmd.ts, actor.name, data)]


@op(
    "call_in",
    ACTORS,
    {
        **_COMMIT,
        "author": Field(str, required=False, min_len=1, max_len=100),
        "evidence": Field(str, required=False, max_len=500),
    },
    summary="call a commit's author in, with the evidence against the commit",
)
def _call_in(state: RoomState, actor: Actor, cmd: Command) -> Sequence[Event] | Reject:
    found = _commit(state, cmd.args["repo"], cmd.args["sha"])
    if isinstance(found, Reject):
        return found
    manifest, commit = found
    data = {
        **_about(manifest.repo, commit),
        "author": cmd.args.get("author", commit.author).strip() or commit.author,
        "email": commit.email,
        "evidence": cmd.args.get("evidence", "").strip(),
    }
    return [Event("called_in", cmd.ts, actor.name, data)]


# --- applying ----------------------------------------------------------------------------------


def _with_changes(state: RoomState, changes: Changes) -> RoomState:
    return replace(state, changes=changes)


def _with_manifest(state: RoomState, manifest: Manifest) -> RoomState:
    """The state with `manifest` in place of its repository's, or appended when new."""
    repos = changes_of(state).repos
    if any(m.repo == manifest.repo for m in repos):
        repos = tuple(manifest if m.repo == manifest.repo else m for m in repos)
    else:
        repos = (*repos, manifest)
    return _with_changes(state, replace(changes_of(state), repos=repos))


def _said_begun(e: Event) -> str:
    d = e.data
    again = " again" if d["replaces"] else ""
    s = "s" if d["count"] != 1 else ""
    return (
        f"{e.actor} is publishing the manifest of {d['repo']}{again}: "
        f"{d['count']} commit{s}, {d['from']}..{d['to']}"
    )


@applies("manifest_begun", _said_begun)
def _begun(state: RoomState, e: Event) -> RoomState:
    d = e.data
    manifest = Manifest(
        d["repo"],
        d["batch"],
        d["from"],
        d["to"],
        d["from_sha"],
        d["to_sha"],
        d["count"],
        e.actor,
        e.ts,
        d["path"],
    )
    return _with_manifest(state, manifest)


def _said_added(e: Event) -> str:
    d = e.data
    if d["received"] < d["count"]:
        first, last = d["offset"] + 1, d["received"]
        return f"{e.actor} sent commits {first}–{last} of {d['count']} for {d['repo']}"
    s = "s" if d["count"] != 1 else ""
    people = f"{d['authors']} {'person' if d['authors'] == 1 else 'people'}"
    return f"{e.actor} published the manifest of {d['repo']}: {d['count']} commit{s} by {people}"


@applies("manifest_added", _said_added)
def _added(state: RoomState, e: Event) -> RoomState:
    manifest = changes_of(state).repo(e.data["repo"])
    assert manifest is not None
    # Not capped here: a room an older hub let grow past the cap must still replay.
    more = tuple(commit_from_data(c) for c in e.data["commits"])
    size = manifest.size + sum(commit_size(c) for c in e.data["commits"])
    return _with_manifest(state, replace(manifest, commits=manifest.commits + more, size=size))


def _said_dropped(e: Event) -> str:
    return f"{e.actor} took {e.data['repo']} out of the manifest ({e.data['count']} commits)"


@applies("manifest_dropped", _said_dropped)
def _dropped(state: RoomState, e: Event) -> RoomState:
    repo = e.data["repo"]
    changes = changes_of(state)
    # Its marks go with it: a later manifest of that name may be another repository.
    marks = {k: m for k, m in changes.marks.items() if k[0] != repo}
    return _with_changes(
        state,
        replace(
            changes,
            repos=tuple(m for m in changes.repos if m.repo != repo),
            marks=MappingProxyType(marks),
        ),
    )


def _said_marked(e: Event) -> str:
    d = e.data
    what = f"{d['short']} ({d['subject']})"
    if d["safe"]:
        why = f": {d['why']}" if d["why"] else ""
        return f"{e.actor} marked {what} safe to revert{why}"
    return f"{e.actor} marked {what} not safe to revert ({d['why']})"


@applies("commit_marked", _said_marked)
def _marked(state: RoomState, e: Event) -> RoomState:
    d = e.data
    changes = changes_of(state)
    mark = Mark(d["repo"], d["sha"], d["safe"], d["why"], e.actor, e.ts)
    marks = MappingProxyType({**changes.marks, (d["repo"], d["sha"]): mark})
    return _with_changes(state, replace(changes, marks=marks))


def _said_called(e: Event) -> str:
    d = e.data
    evidence = f": {d['evidence']}" if d["evidence"] else ""
    return f"{e.actor} called in {d['author']} for {d['short']} ({d['subject']}){evidence}"


@applies("called_in", _said_called)
def _called(state: RoomState, e: Event) -> RoomState:
    d = e.data
    changes = changes_of(state)
    call = Call(d["repo"], d["sha"], d["author"], d["evidence"], e.actor, e.ts)
    return _with_changes(state, replace(changes, calls=(*changes.calls, call)[-KEEP_CALLS:]))
