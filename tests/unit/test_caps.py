"""The manifest's byte caps: one commit, and every repository's commits together.

Deciding refuses what would pass them; applying never does, so a room an older hub let grow
too big still replays.
"""

from __future__ import annotations

from typing import Any

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.test_changes import begin, commit, sha_of
from tests.unit.train_helpers import RAJ, Room, opened
from warroom.core import Code, replay
from warroom.core import changes as changes_module
from warroom.core.changes import CHUNK, MAX_MANIFEST_BYTES, changes_of
from warroom.core.commits import MAX_COMMIT_BYTES, check_commit, commit_size
from warroom.core.wire import state_from_wire, state_to_wire

words = st.text(st.characters(codec="utf-8"), max_size=40)
counts = st.one_of(st.integers(-1, 300), st.integers(0, 2**40))
data_forms = st.fixed_dictionaries(
    {
        "sha": st.just("a" * 40),
        "short": st.just("aaaaaaa"),
        "author": words,
        "email": words,
        "date": st.integers(0, 2**40),
        "subject": st.text(max_size=300),
        "files": st.lists(st.tuples(words, counts, counts, words).map(list), max_size=20),
        "more_files": counts.filter(lambda n: n >= 0),
        "merge": st.booleans(),
        "revert": st.booleans(),
        "reverts": st.just(""),
        "trailers": st.lists(st.tuples(words, words).map(list), max_size=20),
    }
)


@given(data_forms)
def test_a_commits_size_is_its_messagepack_bytes(data: dict[str, Any]) -> None:
    assert commit_size(data) == len(msgpack.packb(data))


def files(n: int, path_len: int, renamed: bool = False) -> list[list[Any]]:
    def path(j: int) -> str:
        return f"{j:04d}/".ljust(path_len, "x")

    return [[path(j), 12, 3, path(j + 1000) if renamed else ""] for j in range(n)]


TRAILERS = [["Change-Id", "I" + "f" * 40], ["Bug", "T123456"]] + [["Reviewed-by", "x" * 100]] * 18


def test_a_commit_of_200_ordinary_files_and_trailers_fits_and_a_fat_one_is_refused() -> None:
    ordinary = commit(1, files=files(200, 80), trailers=TRAILERS)
    assert check_commit(ordinary) is None and commit_size(ordinary) < MAX_COMMIT_BYTES / 2
    renamed = commit(2, files=files(200, 140, renamed=True), trailers=TRAILERS)
    assert check_commit(renamed) is None  # 200 renames of 140-character paths still fit
    fat = commit(3, files=files(200, 400))
    problem = check_commit(fat)
    assert problem == (
        f"{commit_size(fat):,} bytes; a commit takes at most 65,536 (64 KiB): list fewer files, "
        "more_files counts the rest"
    )
    room = opened()
    begin(room, count=3)
    refused = room.refused(
        RAJ, "manifest_add", repo="mediawiki", batch="b1", offset=0, commits=[ordinary, fat]
    )
    assert refused.code is Code.INVALID and refused.reason.startswith("manifest_add: commits[1]:")


@pytest.fixture
def small_cap(monkeypatch: pytest.MonkeyPatch) -> int:
    cap = 40_000
    monkeypatch.setattr(changes_module, "MAX_MANIFEST_BYTES", cap)
    return cap


def chunk(first: int, n: int) -> list[dict[str, Any]]:
    return [commit(i, files=files(10, 60)) for i in range(first, first + n)]


def test_the_room_refuses_what_would_pass_its_cap_and_stays_under_it(small_cap: int) -> None:
    room = opened()
    begin(room, count=100)
    offset = 0
    while True:
        result = room.do(
            RAJ,
            "manifest_add",
            repo="mediawiki",
            batch="b1",
            offset=offset,
            commits=chunk(offset, 10),
        )
        if not isinstance(result, list):
            break
        offset += 10
    assert result.code is Code.INVALID
    held = changes_of(room.state).size
    assert 0 < held <= small_cap and offset == 40  # 4 chunks of about 8 KB each
    more = sum(commit_size(c) for c in chunk(offset, 10))

    def mib(size: int) -> str:
        return f"{size:,} bytes ({size / 2**20:.2f} MiB)"

    assert result.reason == (
        f"the manifest would hold {mib(held + more)}: {mib(held)} held already and {mib(more)}"
        f" for this chunk's commits of mediawiki; a room holds at most {mib(small_cap)} of"
        " commits. Drop a repository (manifest_drop) or publish a shorter range"
    )
    # Another repository is refused as well: the cap is over all of them.
    begin(room, repo="Cart", count=10)
    other = room.refused(
        RAJ, "manifest_add", repo="Cart", batch="b1", offset=0, commits=chunk(500, 10)
    )
    assert f"{mib(held)} held already" in other.reason
    # Taking a repository out makes room again.
    room.ok(RAJ, "manifest_drop", repo="mediawiki")
    room.ok(RAJ, "manifest_add", repo="Cart", batch="b1", offset=0, commits=chunk(500, 10))


def test_a_publisher_that_says_its_size_is_refused_before_it_sends(small_cap: int) -> None:
    room = opened()
    begin(room, count=10)
    room.ok(RAJ, "manifest_add", repo="mediawiki", batch="b1", offset=0, commits=chunk(0, 2))
    held = changes_of(room.state).size
    refused = room.refused(
        RAJ, "manifest_begin", repo="Cart", batch="b2", **{"from": "a", "to": "b"},
        from_sha="1" * 40, to_sha="2" * 40, count=5, size=small_cap - held + 1,
    )  # fmt: skip
    assert refused.code is Code.INVALID and "for these commits of Cart" in refused.reason
    # Publishing a repository again counts without its old commits, which it replaces.
    begin(room, count=3, size=small_cap - 10, batch="b3")
    bad = room.refused(
        RAJ, "manifest_begin", repo="Cart", batch="b2", **{"from": "a", "to": "b"},
        from_sha="1" * 40, to_sha="2" * 40, count=5, size=-1,
    )  # fmt: skip
    assert bad.reason == "size must be the bytes of the commits, ≥ 0"


def test_a_room_already_past_the_cap_still_replays_and_opens(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    room = opened()
    begin(room, count=100)
    for offset in range(0, 100, 10):
        room.ok(
            RAJ,
            "manifest_add",
            repo="mediawiki",
            batch="b1",
            offset=offset,
            commits=chunk(offset, 10),
        )
    size = changes_of(room.state).size
    monkeypatch.setattr(changes_module, "MAX_MANIFEST_BYTES", size // 2)  # a stricter hub
    again = replay("train-1", room.events)
    assert again == room.state and changes_of(again).commit_count == 100
    assert state_from_wire(state_to_wire(again)) == again
    # It opens, and takes no more commits; what it has can still be dropped.
    begin(room, repo="Cart", count=1)
    refused = room.refused(
        RAJ, "manifest_add", repo="Cart", batch="b1", offset=0, commits=chunk(900, 1)
    )
    assert refused.code is Code.INVALID
    room.ok(RAJ, "manifest_drop", repo="mediawiki")


def realistic(n: int) -> dict[str, Any]:
    """A commit as a MediaWiki train has them: a subject, four files, the Gerrit trailers."""
    return commit(
        n,
        author=f"Author Number{n % 50}",
        email=f"author{n % 50}@example.org",
        subject=f"SpecialSearch: do not fatal on an empty query in the fulltext path ({n})",
        files=[[f"includes/specials/search/SpecialSearchPart{j}.php", 12, 3, ""] for j in range(4)],
        trailers=[["Change-Id", "I" + sha_of(n)], ["Bug", f"T{100000 + n}"]],
    )


def test_a_real_16000_commit_range_fits_comfortably() -> None:
    room = Room()
    room.join(RAJ)
    total = 16_000
    for repo, first, count in (("mediawiki", 0, 12_000), ("extensions", 12_000, 4_000)):
        begin(room, repo=repo, count=count)
        for offset in range(0, count, CHUNK):
            commits = [realistic(first + offset + i) for i in range(min(CHUNK, count - offset))]
            room.ok(RAJ, "manifest_add", repo=repo, batch="b1", offset=offset, commits=commits)
    changes = changes_of(room.state)
    assert changes.commit_count == total
    assert changes.size < MAX_MANIFEST_BYTES / 3  # about 10 MiB of 32
