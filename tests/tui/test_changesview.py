"""The changes screen's text: the filter's terms, list rows, and a commit's page."""

from __future__ import annotations

from warroom.core.changes import Call, Changes, Mark
from warroom.core.commits import BINARY, Commit, FileChange
from warroom.tui.changesview import Query, commit_page, commit_row

FIX = Commit(
    sha="4193452a117f7dea595e153853e7be644eb43085",
    short="4193452",
    author="Raj Patel",
    email="raj@example.org",
    date=1_790_003_600,
    subject="Fix cart totals",
    files=(
        FileChange("includes/Foo.php", 1, 1),
        FileChange("assets/logo.png", BINARY, BINARY),
        FileChange("includes/New.php", 3, 0, "includes/Old.php"),
    ),
    trailers=(("Bug", "T12345"),),
)


def test_filter_terms_author_path_and_words_must_all_match() -> None:
    assert not Query.parse("  ")
    assert Query.parse("author:raj").matches("mw", FIX)
    assert Query.parse("a:example.org").matches("mw", FIX)  # the email counts as the author
    assert not Query.parse("author:cat").matches("mw", FIX)
    assert Query.parse("path:foo.php").matches("mw", FIX)
    assert not Query.parse("path:cart").matches("mw", FIX)  # only the files, not the subject
    assert Query.parse("cart").matches("mw", FIX)  # a word matches the subject...
    assert Query.parse("t12345 4193452").matches("mw", FIX)  # ...trailers and the sha
    assert Query.parse("Author:RAJ Totals").matches("mw", FIX)  # case does not matter
    assert not Query.parse("author:raj billing").matches("mw", FIX)


def test_a_row_shows_sha_author_subject_and_the_mark() -> None:
    assert str(commit_row(FIX, None)).split() == [
        "4193452",
        "Raj",
        "Patel",
        "Fix",
        "cart",
        "totals",
    ]
    unsafe = Mark("mw", FIX.sha, False, "schema change", "ana", 0.0)
    assert str(commit_row(FIX, unsafe)).startswith("4193452 ⚠ Raj Patel")
    assert str(commit_row(FIX, None, 10.0)).startswith(" 10.0 4193452")


def test_a_commit_page_has_its_files_mark_calls_and_revert() -> None:
    mark = Mark("mw", FIX.sha, True, "", "bo", 0.0)
    call = Call("mw", FIX.sha, "Raj Patel", "changed includes/Foo.php line 3", "ana", 0.0)
    changes = Changes(marks={("mw", FIX.sha): mark}, calls=(call,))
    page = str(commit_page("mw", FIX, changes=changes, where="/srv/mw", tz="Europe/Berlin"))
    assert "Raj Patel <raj@example.org> · 2026-09-21 17:13 CEST" in page
    assert "Bug: T12345" in page
    assert "✔ safe to revert — bo" in page
    assert "☎ ana called in Raj Patel: changed includes/Foo.php line 3" in page
    assert f"git -C /srv/mw revert --no-edit {FIX.sha}" in page
    assert "Files (3)" in page and "binary" in page
    assert "includes/Old.php → includes/New.php" in page
