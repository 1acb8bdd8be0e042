"""Reading manifests from real git repositories, and cutting them into publish commands."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import msgpack
import pytest

from tests.unit.git_fixture import BO, RAJ, History, Repo, standard_history
from warroom import manifest as manifest_module
from warroom.core.changes import CHUNK, MAX_COMMITS
from warroom.core.commits import (
    BINARY,
    MAX_COMMIT_BYTES,
    MAX_FILES,
    Commit,
    FileChange,
    check_commit,
    commit_size,
    commit_to_data,
)
from warroom.manifest import (
    ManifestError,
    RepoRange,
    check_size,
    fit,
    manifest_size,
    parse_log,
    parse_trailers,
    publish_commands,
    read_manifest,
)


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> History:
    return standard_history(tmp_path_factory.mktemp("git") / "mediawiki")


@pytest.fixture(scope="module")
def manifest(history: History) -> RepoRange:
    return read_manifest(history.repo.path, "v1", "v2")


def by_sha(manifest: RepoRange, sha: str) -> Commit:
    return next(c for c in manifest.commits if c.sha == sha)


def test_the_range_holds_what_is_reachable_from_to_and_not_from(
    history: History, manifest: RepoRange
) -> None:
    assert manifest.name == "mediawiki"
    assert manifest.path == str(history.repo.path.resolve())
    assert manifest.from_sha == history.repo.repo.commit("v1").hexsha
    assert manifest.to_sha == history.repo.head()
    # git log order: newest first; the merged branch's commit is in the range too.
    assert [c.sha for c in manifest.commits] == [
        history.shas[k] for k in ("js", "binary", "revert", "merge", "feature", "rename", "fix")
    ]
    for c in manifest.commits:
        assert check_commit(commit_to_data(c)) is None
        assert c.sha.startswith(c.short) and len(c.short) >= 7


def test_authors_dates_subjects_and_trailers(history: History, manifest: RepoRange) -> None:
    fix = by_sha(manifest, history.shas["fix"])
    assert (fix.author, fix.email) == RAJ
    assert fix.subject == "Fix cart totals"
    assert fix.date == history.repo.repo.commit(fix.sha).authored_date
    assert fix.trailer("bug") == ["T12345"]
    assert fix.trailers == (
        ("Bug", "T12345"),
        ("Change-Id", "I0123456789abcdef0123456789abcdef01234567"),
    )
    assert [tuple(f) for f in fix.files] == [("includes/Foo.php", 1, 1, "")]
    assert not fix.merge and not fix.revert


def test_a_rename_records_old_and_new_paths(history: History, manifest: RepoRange) -> None:
    rename = by_sha(manifest, history.shas["rename"])
    assert (rename.author, rename.email) == BO
    assert [tuple(f) for f in rename.files] == [("includes/New.php", 1, 0, "includes/Old.php")]


def test_merges_reverts_and_binary_files(history: History, manifest: RepoRange) -> None:
    merge = by_sha(manifest, history.shas["merge"])
    assert merge.merge and merge.files == () and not merge.revert
    revert = by_sha(manifest, history.shas["revert"])
    assert revert.revert and revert.reverts == history.shas["feature"]
    assert revert.subject == 'Revert "Add tax rates"'
    binary = by_sha(manifest, history.shas["binary"])
    assert binary.files[0].path == "assets/logo.png" and binary.files[0].binary
    assert binary.files[0].added == binary.files[0].deleted == BINARY


def test_an_empty_range_is_empty_not_an_error(history: History) -> None:
    assert read_manifest(history.repo.path, "v2", "v2").commits == []
    assert read_manifest(history.repo.path, "HEAD", "v1").commits == []


@pytest.mark.parametrize("rev", ["v9", "no-such-branch", "deadbeef" * 5, "--all", "v1..v2"])
def test_an_unknown_revision_is_named(history: History, rev: str) -> None:
    with pytest.raises(ManifestError, match="unknown revision"):
        read_manifest(history.repo.path, rev, "v2")
    with pytest.raises(ManifestError, match="unknown revision"):
        read_manifest(history.repo.path, "v1", rev)


def test_a_missing_repository_and_a_plain_directory(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="no such directory"):
        read_manifest(tmp_path / "nowhere", "v1", "v2")
    (tmp_path / "plain").mkdir()
    with pytest.raises(ManifestError, match="not a git repository"):
        read_manifest(tmp_path / "plain", "v1", "v2")


def test_names_default_to_the_directory_and_must_suit_the_room(
    history: History, tmp_path: Path
) -> None:
    assert read_manifest(history.repo.path, "v1", "v2", "core").name == "core"
    odd = Repo(tmp_path / "has space")
    odd.commit("one")
    with pytest.raises(ManifestError, match="give --name"):
        read_manifest(odd.path, "HEAD", "HEAD")
    assert read_manifest(odd.path, "HEAD", "HEAD", "odd").name == "odd"


def test_bare_repositories_drop_the_git_suffix(history: History, tmp_path: Path) -> None:
    history.repo.repo.clone(tmp_path / "core.git", bare=True)
    bare = read_manifest(tmp_path / "core.git", "v1", "v2")
    assert bare.name == "core" and len(bare.commits) == 7


def test_trailers_come_only_from_a_last_paragraph_of_trailers() -> None:
    assert parse_trailers("") == ()
    assert parse_trailers("Just prose: with a colon\nand more") == ()
    assert parse_trailers("Body.\n\nBug: T1\nBug: T2\nChange-Id: Iabc") == (
        ("Bug", "T1"),
        ("Bug", "T2"),
        ("Change-Id", "Iabc"),
    )
    wrapped = "Body.\n\nDepends-On: Ia\n  Ib\n(cherry picked from commit abc)\nBug: T3"
    assert parse_trailers(wrapped) == (("Depends-On", "Ia Ib"), ("Bug", "T3"))
    assert parse_trailers("Body.\n\nBug: T1\nthis line is prose") == ()


def test_odd_paths_and_messages_survive(tmp_path: Path) -> None:
    r = Repo(tmp_path / "odd")
    r.commit("base", RAJ, {"a.txt": "a\n"})
    r.commit("Ünïcode subject\n\nThis reverts commit abcdef1.", RAJ, {"dir with space/ö\tx": "1\n"})
    out = read_manifest(r.path, "HEAD~1", "HEAD")
    (c,) = out.commits
    assert c.subject == "Ünïcode subject"
    assert c.files[0].path == "dir with space/ö\tx"
    assert c.revert and c.reverts == "abcdef1"


def test_undecodable_bytes_become_replacement_characters() -> None:
    record = "\x1e" + "\x1f".join(["a" * 40, "aaaaaaa", "", "Bad \udcff", "x@y", "1", "s\n"])
    (c,) = parse_log(record + "\x1f\x00\n1\t0\tf\udcfe.txt\x00")
    assert c.author == "Bad \ufffd" and c.files[0].path == "f\ufffd.txt"
    msgpack.packb(commit_to_data(c))  # encodable for the wire


def test_huge_commits_list_some_files_and_count_the_rest(tmp_path: Path) -> None:
    r = Repo(tmp_path / "big")
    r.commit("base", RAJ, {"keep": "x\n"})
    r.commit("many", RAJ, {f"f/{i:03}.txt": f"{i}\n" for i in range(MAX_FILES + 50)})
    (c,) = read_manifest(r.path, "HEAD~1", "HEAD").commits
    assert len(c.files) == MAX_FILES and c.more_files == 50
    assert check_commit(commit_to_data(c)) is None


def fake(n: int, files: int = 1) -> list[Commit]:
    return [
        Commit(
            f"{i:040x}",
            f"{i:07x}",
            "A",
            "a@x",
            1,
            "s",
            tuple((f"p/{j:0200}", 1, 0, "") for j in range(files)),  # type: ignore[misc]
        )
        for i in range(n)
    ]


def test_publish_commands_begin_then_chunks_in_order() -> None:
    rng = RepoRange("core", "/srv/core", "v1", "v2", "1" * 40, "2" * 40, fake(2 * CHUNK + 7))
    commands = publish_commands(rng, "b1")
    assert [op for op, _ in commands] == ["manifest_begin"] + ["manifest_add"] * 3
    begin = commands[0][1]
    assert begin == {
        "repo": "core",
        "batch": "b1",
        "from": "v1",
        "to": "v2",
        "from_sha": "1" * 40,
        "to_sha": "2" * 40,
        "count": 2 * CHUNK + 7,
        "path": "/srv/core",
        "size": sum(len(msgpack.packb(commit_to_data(c))) for c in rng.commits),
    }
    adds = [args for _, args in commands[1:]]
    assert [a["offset"] for a in adds] == [0, CHUNK, 2 * CHUNK]
    assert [len(a["commits"]) for a in adds] == [CHUNK, CHUNK, 7]
    assert [c["sha"] for a in adds for c in a["commits"]] == [c.sha for c in rng.commits]


def test_chunks_stay_within_the_byte_budget() -> None:
    rng = RepoRange("core", "", "v1", "v2", "1" * 40, "2" * 40, fake(40, files=50))
    budget = 64 * 1024
    commands = publish_commands(rng, "b1", max_bytes=budget)
    assert len(commands) > 2
    for _, args in commands[1:]:
        assert len(msgpack.packb(args["commits"])) <= budget + 16
    assert sum(len(a["commits"]) for _, a in commands[1:]) == 40


def test_a_range_too_big_for_a_room_is_refused() -> None:
    too_big = RepoRange("core", "", "a", "b", "1" * 40, "2" * 40, fake(MAX_COMMITS + 1))
    with pytest.raises(ManifestError, match=f"at most {MAX_COMMITS}"):
        check_size(too_big)


def test_a_long_history_reads_whole(tmp_path: Path) -> None:
    # How long it takes is measured in benches/manifest.py, not here.
    from benches.manifest import build_history

    build_history(tmp_path / "long", 3000)
    found = read_manifest(tmp_path / "long", "start", "HEAD")
    assert len(found.commits) == 3000
    assert sum(1 for c in found.commits if any(f.old for f in c.files)) > 0  # renames seen


def test_a_commit_too_big_for_the_room_keeps_the_files_that_fit_and_counts_the_rest() -> None:
    (wide,) = fake(1, files=MAX_FILES)  # 200 files of 202-character paths: about 42 KB
    huge = replace(wide, files=tuple(FileChange(p, a, d, p + "~") for p, a, d, _ in wide.files))
    fitted = fit(huge)
    assert check_commit(commit_to_data(fitted)) is None
    assert commit_size(commit_to_data(fitted)) <= MAX_COMMIT_BYTES
    assert 0 < len(fitted.files) < MAX_FILES
    assert len(fitted.files) + fitted.more_files == MAX_FILES
    assert fitted.files == huge.files[: len(fitted.files)]
    assert fit(wide) is wide  # what fits is left as it is


def test_the_commits_are_sent_as_the_hub_will_hold_them() -> None:
    (c,) = fake(1)
    dirty = replace(c, subject="Fix \x1b]52;c;eA==\x07", author="Raj \u202eP")
    assert fit(dirty).subject == "Fix \ufffd]52;c;eA==\ufffd" and fit(dirty).author == "Raj \ufffdP"


def test_a_range_past_the_rooms_bytes_is_refused_before_it_is_sent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = RepoRange("core", "", "v1", "v2", "1" * 40, "2" * 40, fake(300, files=20))
    size = manifest_size(rng)
    assert publish_commands(rng, "b1")[0][1]["size"] == size  # the hub is told, too
    monkeypatch.setattr(manifest_module, "MAX_MANIFEST_BYTES", 2**20)
    assert size > 2**20
    with pytest.raises(ManifestError) as refused:
        check_size(rng)
    assert str(refused.value) == (
        f"v1..v2 in core is {size / 2**20:.1f} MiB of commits; a room holds at most 1 MiB over "
        "every repository: publish a shorter range"
    )
