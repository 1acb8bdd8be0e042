"""Suspects: ranking the manifest's commits against a trace, with git blame where possible."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from tests.unit.git_fixture import ANA, BO, CAT, FOO, RAJ, Repo
from tests.unit.train_helpers import RAJ as RAJ_ACTOR
from tests.unit.train_helpers import Room
from warroom.core.changes import Changes, Manifest, changes_of
from warroom.core.commits import Commit
from warroom.manifest import publish_commands, read_manifest
from warroom.suspects import GitBlame, find_suspects, local_repos, rank_authors, revert_command

WMF = "/srv/mediawiki/php-1.44.0-wmf.5"


class Shop:
    """v1; Raj changes Foo.php line 3; Cat adds Tax.php; Bo changes Foo.php line 15 (newer);
    Ana reverts Cat's commit; Raj changes cart.js; v2. Published to a room as "mediawiki"."""

    def __init__(self, path: Path) -> None:
        r = self.repo = Repo(path)
        r.commit("Initial import", ANA, {"includes/Foo.php": FOO, "src/cart.js": "a\nb\nc\n"})
        r.repo.git.tag("v1")
        r.edit_line("includes/Foo.php", 3, "$line3 = $cart->total() / $n;")
        self.line3 = r.commit("Fix cart totals", RAJ)
        self.tax = r.commit("Add tax", CAT, {"includes/Tax.php": "<?php\n$rate = 0.2;\n"})
        r.edit_line("includes/Foo.php", 15, "$line15 = 'tidy';")
        self.line15 = r.commit("Tidy Foo", BO)
        r.repo.git.revert("--no-edit", self.tax, env=r.env(ANA))
        self.revert = r.head()
        r.edit_line("src/cart.js", 2, "B")
        self.js = r.commit("Shout b", RAJ)
        r.repo.git.tag("v2")
        self.changes = publish(path, "mediawiki")


def publish(path: Path, name: str, room: Room | None = None) -> Changes:
    """Publish the v1..v2 manifest of `path` through the core ops; the room's changes."""
    room = room or Room()
    for op, args in publish_commands(read_manifest(path, "v1", "v2", name), "b1"):
        room.ok(RAJ_ACTOR, op, **args)
    return changes_of(room.state)


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Shop:
    return Shop(tmp_path_factory.mktemp("suspects") / "mediawiki")


def shas(suspects: list) -> list[str]:
    return [s.commit.sha for s in suspects]


def test_blame_puts_the_commit_that_changed_the_line_first(shop: Shop) -> None:
    trace = f"PHP Fatal error:  Uncaught DivisionByZeroError in {WMF}/includes/Foo.php:3"
    found = find_suspects(shop.changes, trace)  # the published path is on this machine
    assert shas(found) == [shop.line3, shop.line15]
    first, second = found
    assert first.reasons == ("changed includes/Foo.php line 3 (blame)",)
    assert second.reasons == ("changed includes/Foo.php (+1 −1)",)
    assert first.score > second.score
    assert first.revert == f"git -C {shop.repo.path.resolve()} revert --no-edit {shop.line3}"


def test_without_the_repository_both_commits_only_touched_the_file(shop: Shop) -> None:
    trace = f"PHP Fatal error:  Uncaught DivisionByZeroError in {WMF}/includes/Foo.php:3"
    moved = Changes(tuple(_without_path(m) for m in shop.changes.repos))
    found = find_suspects(moved, trace)
    # Equal evidence: the newer commit (first in the manifest) leads.
    assert shas(found) == [shop.line15, shop.line3]
    assert {s.score for s in found} == {1.0}
    assert found[0].revert == f"git -C mediawiki revert --no-edit {shop.line15}"


def test_an_explicit_repository_path_and_an_injected_blame(shop: Shop) -> None:
    asked: list[tuple[str, str, str, int]] = []

    def blame(where: str, rev: str, path: str, line: int) -> str | None:
        asked.append((where, rev, path, line))
        return shop.line15

    trace = f"#0 {WMF}/includes/Foo.php(3): Cart->total()"
    found = find_suspects(shop.changes, trace, repos={"mediawiki": "/elsewhere"}, blame=blame)
    assert asked == [("/elsewhere", shop.changes.repos[0].to_sha, "includes/Foo.php", 3)]
    assert shas(found)[0] == shop.line15
    assert found[0].revert.startswith("git -C /elsewhere revert")


def test_a_line_last_changed_before_the_range_is_no_line_evidence(shop: Shop) -> None:
    found = find_suspects(shop.changes, f"in {WMF}/includes/Foo.php on line 1")
    assert all("blame" not in r for s in found for r in s.reasons)
    assert set(shas(found)) == {shop.line3, shop.line15}


def test_frames_nearer_the_top_weigh_more(shop: Shop) -> None:
    trace = """TypeError: b is not a function
    at shout (/app/src/cart.js:2:1)
    at a (/app/src/x.js:1:1)
    at b (/app/src/y.js:1:1)
    at c (/app/src/z.js:1:1)"""
    php = f"\n#0 {WMF}/includes/Foo.php(3): Cart->total()"
    found = find_suspects(shop.changes, trace + php)
    assert shas(found)[0] == shop.js
    assert found[0].reasons == ("changed src/cart.js line 2 (blame)",)
    assert found[0].depth == 0


def test_a_commit_reverted_in_the_range_is_demoted(shop: Shop) -> None:
    found = find_suspects(shop.changes, f"#0 {WMF}/includes/Tax.php(2): f()")
    assert shas(found) == [shop.revert, shop.tax]
    assert found[1].reasons[-1].startswith("already reverted in this range by")
    assert found[1].score < found[0].score


def test_nothing_matches_nothing() -> None:
    assert find_suspects(Changes(), "#0 /srv/x/includes/Foo.php(3): f()") == []


def test_marks_come_with_the_suspects(shop: Shop, tmp_path: Path) -> None:
    room = Room()
    changes = publish(shop.repo.path, "mediawiki", room)
    room.ok(RAJ_ACTOR, "mark_commit", repo="mediawiki", sha=shop.line3, safe=False, why="data")
    changes = changes_of(room.state)
    (first, *_) = find_suspects(changes, f"in {WMF}/includes/Foo.php:3")
    assert first.mark is not None and first.mark.why == "data"


def test_authors_are_ranked_by_their_summed_scores(shop: Shop) -> None:
    trace = f"in {WMF}/includes/Foo.php:3\n#0 /app/src/cart.js(2)\n    at f (/app/src/cart.js:2:1)"
    found = find_suspects(shop.changes, trace)
    authors = rank_authors(found)
    assert [a.name for a in authors][0] == "Raj Patel"
    assert {sha for _, sha in authors[0].commits} == {shop.line3, shop.js}
    assert authors[0].score == pytest.approx(
        sum(s.score for s in found if s.commit.author == "Raj Patel")
    )


def test_extensions_are_told_apart_from_core(shop: Shop, tmp_path: Path) -> None:
    ext = Repo(tmp_path / "Checkout")
    ext.commit("base", ANA, {"includes/Foo.php": FOO})
    ext.repo.git.tag("v1")
    ext.edit_line("includes/Foo.php", 3, "$x = 1;")
    ext_sha = ext.commit("Checkout fix", CAT)
    ext.repo.git.tag("v2")
    room = Room()
    publish(shop.repo.path, "mediawiki", room)
    changes = publish(ext.path, "mediawiki/extensions/Checkout", room)
    found = find_suspects(changes, f"#0 {WMF}/extensions/Checkout/includes/Foo.php(3): f()")
    assert shas(found) == [ext_sha]
    found = find_suspects(changes, f"#0 {WMF}/includes/Foo.php(3): f()")
    assert shas(found)[0] == shop.line3 and ext_sha not in shas(found)


def test_revert_commands() -> None:
    plain = Commit("a" * 40, "aaaaaaa", "A", "a@x", 0, "s")
    merge = Commit("b" * 40, "bbbbbbb", "A", "a@x", 0, "m", merge=True)
    assert revert_command(plain, "/srv/core") == f"git -C /srv/core revert --no-edit {'a' * 40}"
    assert revert_command(merge, "/my repos/core") == (
        f"git -C '/my repos/core' revert --no-edit -m 1 {'b' * 40}"
    )


def test_local_repositories_come_from_hints_that_exist_or_are_given(shop: Shop) -> None:
    assert local_repos(shop.changes) == {"mediawiki": str(shop.repo.path.resolve())}
    moved = Changes(tuple(_without_path(m, "/no/such/dir") for m in shop.changes.repos))
    assert local_repos(moved) == {}
    assert local_repos(moved, {"mediawiki": "/x"}) == {"mediawiki": "/x"}


def test_git_blame_of_missing_things_is_none(shop: Shop, tmp_path: Path) -> None:
    blame = GitBlame()
    to = shop.changes.repos[0].to_sha
    assert blame(str(shop.repo.path), to, "includes/Foo.php", 3) == shop.line3
    assert blame(str(shop.repo.path), to, "includes/Foo.php", 999) is None
    assert blame(str(shop.repo.path), to, "nope.php", 1) is None
    assert blame(str(shop.repo.path), "f" * 40, "includes/Foo.php", 1) is None
    assert blame(str(tmp_path / "nowhere"), to, "includes/Foo.php", 1) is None


def _without_path(manifest: Manifest, path: str = "") -> Manifest:
    return replace(manifest, path=path)
