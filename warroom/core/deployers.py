"""The recent deployers: the people whose changes go out in this train, and how far they got.

Every commit of the manifest rides the train's version, so a person's changes have reached
exactly the stages that run the new version: all of them or none after a full rollback.
"""

from __future__ import annotations

from dataclasses import dataclass

from warroom.core.commits import person
from warroom.core.model import Role, RoomState, changes_of


@dataclass(frozen=True, slots=True)
class Deployer:
    """One person whose commits go out, with where those commits are running now."""

    name: str  # as on their newest commit
    email: str
    commits: tuple[tuple[str, str], ...]  # (repo, sha), newest first within each repository
    repos: tuple[str, ...]
    stages: tuple[str, ...]  # the stages running their changes, in train order
    member: str = ""  # the room member this looks like (same name or email user), if any

    @property
    def count(self) -> int:
        return len(self.commits)


def reached(state: RoomState) -> tuple[str, ...]:
    """The stages running the version going out; none before a train opens."""
    train = state.train
    if train is None:
        return ()
    return tuple(s for i, s in enumerate(train.stages) if train.on_new_version(i))


def recent_deployers(state: RoomState) -> list[Deployer]:
    """Everyone with a commit in the manifest, most commits first; merges count for nobody.

    A merge only joins work already listed under its own authors, so counting it would credit
    whoever pressed the button rather than whoever wrote the change.
    """
    stages = reached(state)
    found: dict[str, tuple[str, str, list[tuple[str, str]], list[str]]] = {}
    for manifest in changes_of(state).repos:
        for commit in manifest.commits:
            if commit.merge:
                continue
            key = person(commit)
            if key not in found:
                found[key] = (commit.author, commit.email, [], [])
            _, _, shas, repos = found[key]
            shas.append((manifest.repo, commit.sha))
            if manifest.repo not in repos:
                repos.append(manifest.repo)
    people = [
        Deployer(name, email, tuple(shas), tuple(repos), stages, _member(state, name, email))
        for name, email, shas, repos in found.values()
    ]
    return sorted(people, key=lambda d: (-d.count, d.name.lower(), d.email))


def is_author(member: str, author: str, email: str) -> bool:
    """Whether room member `member` looks like the commit author: the same name, or the user
    part of the author's email."""
    wanted = {author.lower(), email.partition("@")[0].lower()} - {""}
    return bool(member) and member.lower() in wanted


def _member(state: RoomState, name: str, email: str) -> str:
    """The room member (not a visitor) who looks like the author, or ""."""
    for member in state.members.values():
        if member.role is not Role.VISITOR and is_author(member.name, name, email):
            return member.name
    return ""
