"""Real git repositories for tests, built with gitpython: several authors, a merge, a rename,
a revert, trailers and a binary file, each commit on a fixed date."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from warroom.demorepo import GitRepo

ANA = ("Ana Lima", "ana@example.org")
RAJ = ("Raj Patel", "raj@example.org")
BO = ("Bo Chen", "bo@example.net")
CAT = ("Cat Ng", "cat@example.com")

FOO = "".join(f"$line{n} = {n};\n" for n in range(1, 21))  # includes/Foo.php, 20 lines


class Repo(GitRepo):
    """A repository in a temporary directory: `main`, an hour between commits from a fixed
    date, Ana unless you say whom."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, branch="main", start=1_790_003_600, step=3600)

    def commit(
        self, message: str, who: tuple[str, str] = ANA, files: dict[str, str | bytes] | None = None
    ) -> str:
        return super().commit(message, who, files)

    def edit_line(self, rel: str, number: int, text: str) -> None:
        self.edit(rel, number, text)


@dataclass
class History:
    """The shas of the standard history, by what each commit did."""

    repo: Repo
    shas: dict[str, str] = field(default_factory=dict)


def standard_history(path: Path) -> History:
    """v1, then: a fix with trailers (Raj), a rename (Bo), a feature branch (Cat) merged by Ana,
    the feature reverted (Ana), a binary file (Bo), a JS change (Raj); tagged v2."""
    r = Repo(path)
    h = History(r)
    r.commit(
        "Initial import",
        ANA,
        {
            "includes/Foo.php": FOO,
            "includes/Old.php": "<?php\nclass Old {}\n" + "// filler\n" * 30,
            "src/cart.js": "function total() {\n  return 0;\n}\n",
            "README": "hello\n",
        },
    )
    r.repo.git.tag("v1")
    r.edit_line("includes/Foo.php", 3, "$line3 = 'fixed';")
    h.shas["fix"] = r.commit(
        "Fix cart totals\n\nThe total forgot the tax.\n\n"
        "Bug: T12345\nChange-Id: I0123456789abcdef0123456789abcdef01234567",
        RAJ,
    )
    r.repo.git.mv("includes/Old.php", "includes/New.php")
    r.write("includes/New.php", (r.path / "includes/New.php").read_text() + "// one more\n")
    h.shas["rename"] = r.commit("Rename Old to New", BO)
    r.repo.git.checkout("-q", "-b", "feature")
    h.shas["feature"] = r.commit(
        "Add tax rates", CAT, {"includes/Tax.php": "<?php\n$rate = 0.2;\n"}
    )
    r.repo.git.checkout("-q", "main")
    r.repo.git.merge("-q", "--no-ff", "-m", "Merge branch 'feature'", "feature", env=r.env(ANA))
    h.shas["merge"] = r.head()
    r.repo.git.revert("--no-edit", h.shas["feature"], env=r.env(ANA))
    h.shas["revert"] = r.head()
    h.shas["binary"] = r.commit("Add logo", BO, {"assets/logo.png": b"\x89PNG\x00\x01\x02"})
    r.edit_line("src/cart.js", 2, "  return 42;")
    h.shas["js"] = r.commit("Return the real total", RAJ)
    r.repo.git.tag("v2")
    return h


def checkout_extension(path: Path) -> Repo:
    """An extension whose own includes/Foo.php Cat changed between wmf.4 and wmf.5: the same
    file name as core's, so suspects must tell the repositories apart."""
    ext = Repo(path)
    ext.commit("Initial import", ANA, {"includes/Foo.php": FOO})
    ext.repo.git.tag("wmf.4")
    ext.edit_line("includes/Foo.php", 7, "$seven = 'checkout';")
    ext.commit("Checkout: count again", CAT)
    ext.repo.git.tag("wmf.5")
    return ext
