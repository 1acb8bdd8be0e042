"""The demo's git repositories: a week of MediaWiki-style changes by several people.

Two real repositories are built in a directory with gitpython: `mediawiki` (core, tagged
`wmf.4` and `wmf.5` around 30-odd commits, with a merge and a revert) and `CirrusSearch` (an
extension). One of Lee's commits changes line 42 of `includes/search/SearchEngine.php`; the
demo's fatal error points at exactly that line, so `git blame` names the change.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import git

BEA = ("Bea Vogel", "bea@example.org")
RAJ = ("Raj Patel", "raj@example.org")
LEE = ("Lee Park", "lee@example.org")
ANA = ("Ana Lima", "ana@example.org")
SAM = ("Sam Okafor", "sam@example.net")
YUKI = ("Yuki Tanaka", "yuki@example.jp")
MARTA = ("Marta Ruiz", "marta@example.com")

BAD_FILE = "includes/search/SearchEngine.php"
BAD_LINE = 42
FROM, TO = "wmf.4", "wmf.5"
START = 1_763_000_000  # the first commit's date; each next one an hour or so later


def php_file(name: str, lines: int = 80) -> str:
    """A PHP class of `lines` lines, each one distinct, so blame can tell them apart."""
    body = [f"    $this->step{n} = {n}; // {name} step {n}" for n in range(1, lines - 3)]
    return "\n".join(["<?php", f"class {name} {{", *body, "}"]) + "\n"


@dataclass
class DemoRepos:
    """Where the repositories are, and the sha of the commit the demo's fatal blames."""

    core: Path
    extension: Path
    culprit: str


class GitRepo:
    """A repository at `path` that commits as whoever you say, each commit `step` seconds
    after the last from `start`: the same shas every time. The tests build theirs with it."""

    def __init__(
        self, path: Path, *, branch: str = "master", start: int = START, step: int = 3271
    ) -> None:
        path.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.repo = git.Repo.init(path, initial_branch=branch)
        with self.repo.config_writer() as config:
            config.set_value("user", "name", "Demo")
            config.set_value("user", "email", "demo@example.org")
            config.set_value("commit", "gpgsign", "false")
        self._clock = itertools.count(start, step)

    def env(self, who: tuple[str, str]) -> dict[str, str]:
        """Git's environment for one commit by `who` at the next time on the clock."""
        date = f"{next(self._clock)} +0000"
        name, email = who
        return {
            "GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_AUTHOR_DATE": date,
            "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email, "GIT_COMMITTER_DATE": date,
        }  # fmt: skip

    def write(self, rel: str, text: str | bytes) -> None:
        target = self.path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            target.write_bytes(text)
        else:
            target.write_text(text, encoding="utf-8")

    def edit(self, rel: str, line: int, text: str) -> None:
        """Replace line `line` (from 1) of `rel` with `text`."""
        lines = (self.path / rel).read_text(encoding="utf-8").splitlines(keepends=True)
        lines[line - 1] = text + "\n"
        self.write(rel, "".join(lines))

    def commit(
        self, message: str, who: tuple[str, str], files: Mapping[str, str | bytes] | None = None
    ) -> str:
        """Write `files`, stage everything, commit; the new sha."""
        for rel, text in (files or {}).items():
            self.write(rel, text)
        self.repo.git.add("-A")
        self.repo.git.commit("-q", "--allow-empty", "-m", message, env=self.env(who))
        return self.head()

    def head(self) -> str:
        return self.repo.head.commit.hexsha

    def merge(self, branch: str, who: tuple[str, str]) -> None:
        self.repo.git.merge("-q", "--no-ff", "-m", f"Merge branch '{branch}'", branch,
                            env=self.env(who))  # fmt: skip

    def revert(self, sha: str, who: tuple[str, str]) -> None:
        self.repo.git.revert("--no-edit", sha, env=self.env(who))


def _bug(n: int) -> str:
    return f"\n\nBug: T{n}\nChange-Id: I{n:040x}"


def build(base: Path) -> DemoRepos:
    """Build both repositories under `base`; a second or so."""
    culprit = _build_core(base / "mediawiki")
    extension = _build_extension(base / "CirrusSearch")
    return DemoRepos(base / "mediawiki", extension, culprit)


def _build_core(path: Path) -> str:
    r = GitRepo(path)
    files = {
        BAD_FILE: php_file("SearchEngine"),
        "includes/specials/SpecialSearch.php": php_file("SpecialSearch", 120),
        "includes/api/ApiQuery.php": php_file("ApiQuery"),
        "includes/libs/rdbms/database/Database.php": php_file("Database", 200),
        "includes/parser/Parser.php": php_file("Parser", 160),
        "includes/user/User.php": php_file("User"),
        "resources/src/startup/startup.js": "function startUp() {\n  return true;\n}\n",
        "languages/i18n/en.json": '{\n  "search": "Search"\n}\n',
        "RELEASE-NOTES-1.44": "== MediaWiki 1.44 ==\n",
    }
    r.commit("Import MediaWiki 1.44 alpha", ANA, files)
    r.repo.git.tag(FROM)
    r.edit(
        "includes/parser/Parser.php",
        17,
        "    $this->step14 = 14; // tidy the preprocessor cache key",
    )
    r.commit("Parser: fix the preprocessor cache key for templates" + _bug(381201), SAM)
    r.edit("includes/libs/rdbms/database/Database.php", 120,
           "    $this->step117 = 117; // retry once on a lost connection")  # fmt: skip
    r.commit("rdbms: retry once when the connection is lost mid-query" + _bug(380944), RAJ)
    r.edit("languages/i18n/en.json", 2, '  "search": "Search this wiki"')
    r.commit("Localisation updates from translatewiki.net", MARTA)
    r.edit("includes/user/User.php", 30, "    $this->step27 = 27; // cache the options lookup")
    r.commit("User: cache the options lookup per request" + _bug(379880), YUKI)
    r.edit("includes/api/ApiQuery.php", 12, "    $this->step9 = 9; // validate the continue token")
    r.commit("API: validate the continue parameter before use" + _bug(381002), BEA)
    r.edit("includes/specials/SpecialSearch.php", 60,
           "    $this->step57 = 57; // keep the profile in the form")  # fmt: skip
    r.commit("SpecialSearch: keep the search profile when paging" + _bug(380771), LEE)
    r.edit(BAD_FILE, BAD_LINE, f"    $this->step{BAD_LINE - 2} = $term ?? null; // no normalising")
    culprit = r.commit(
        "SearchEngine: skip term normalisation for empty queries\n\n"
        "Saves a round trip for the empty search box." + _bug(381355),
        LEE,
    )
    r.edit("resources/src/startup/startup.js", 2, "  return !!window.fetch;")
    r.commit("startup: require fetch() in modern browsers" + _bug(378120), MARTA)
    r.repo.git.checkout("-q", "-b", "rdbms-stats")
    r.edit("includes/libs/rdbms/database/Database.php", 150, "    $this->step147 = 147; // stats")
    r.commit("rdbms: count replica lag waits", RAJ)
    r.edit("includes/libs/rdbms/database/Database.php", 151, "    $this->step148 = 148; // stats")
    r.commit("rdbms: report the waits to statsd", RAJ)
    r.repo.git.checkout("-q", "master")
    r.merge("rdbms-stats", BEA)
    r.edit("includes/parser/Parser.php", 90, "    $this->step87 = 87; // limit nesting")
    limit = r.commit("Parser: lower the template nesting limit to 40" + _bug(380012), SAM)
    r.revert(limit, SAM)
    for n, (who, subject) in enumerate(
        [
            (YUKI, "User: drop the unused getSkin() fallback"),
            (MARTA, "Localisation updates from translatewiki.net"),
            (BEA, "API: document the new maxlag behaviour"),
            (ANA, "RELEASE-NOTES: add the 1.44 search changes"),
            (RAJ, "rdbms: log slow queries with their caller"),
            (SAM, "Parser: remove the deprecated tidy hooks"),
            (LEE, "SpecialSearch: show the did-you-mean link first"),
            (YUKI, "User: make the session cookie SameSite=Lax"),
            (MARTA, "startup: load the search module on demand"),
            (BEA, "ApiQuery: share the continue token helper"),
        ]
    ):
        target = {
            YUKI: ("includes/user/User.php", 40 + n),
            MARTA: ("languages/i18n/en.json", 1),
            BEA: ("includes/api/ApiQuery.php", 30 + n),
            ANA: ("RELEASE-NOTES-1.44", 1),
            RAJ: ("includes/libs/rdbms/database/Database.php", 60 + n),
            SAM: ("includes/parser/Parser.php", 120 + n),
            LEE: ("includes/specials/SpecialSearch.php", 90 + n),
        }[who]
        rel, line = target
        if rel.endswith(".json"):
            r.write(rel, f'{{\n  "search": "Search this wiki",\n  "rev": "{n}"\n}}\n')
        elif rel.startswith("RELEASE"):
            r.write(rel, "== MediaWiki 1.44 ==\n* Search: empty queries are faster.\n")
        else:
            r.edit(rel, line, f"    $this->step{line - 3} = {n}; // {subject}")
        r.commit(subject + _bug(381400 + n), who)
    r.repo.git.tag(TO)
    return culprit


def _build_extension(path: Path) -> Path:
    r = GitRepo(path)
    r.commit("Import CirrusSearch", ANA, {"includes/Searcher.php": php_file("Searcher")})
    r.repo.git.tag(FROM)
    for n, (who, subject) in enumerate(
        [
            (RAJ, "Searcher: time out slow Elasticsearch queries after 10 s"),
            (BEA, "Use the new SearchEngine profile API"),
            (LEE, "Searcher: pass the raw term to the completion suggester"),
        ]
    ):
        r.edit("includes/Searcher.php", 20 + n, f"    $this->step{17 + n} = {n}; // {subject}")
        r.commit(subject + _bug(381500 + n), who)
    r.repo.git.tag(TO)
    return path
