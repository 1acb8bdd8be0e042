"""Stack frames out of log lines and pasted traces, and matching them to a repository's files.

Understood: PHP (`#0 /srv/.../Foo.php(123): Bar->baz()`, `... in /srv/.../File.php on line
42`, `... in File.php:42`), Python (`File "/app/x.py", line 3, in f`), Java and Kotlin
(`at com.acme.billing.Invoice.total(Invoice.java:88)`, the path guessed from the package), and
JavaScript (`at fn (/app/src/cart.js:12:5)`, `at /app/src/cart.js:12:5`,
`fn@https://host/app.js:1:2`).

A deployed path is not a repository path: `/srv/mediawiki/php-1.44.0-wmf.5/includes/Foo.php` is
`includes/Foo.php` of the repository. Paths are matched by their longest common suffix.
Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_PHP_EXT = r"\.(?:php\d?|inc|phtml)"
_PHP_FRAME = re.compile(
    rf"#\d+\s+(?P<path>[^\s()]+?{_PHP_EXT})\((?P<line>\d+)\)(?::\s*(?P<fn>\S+?)\()?"
)
_PHP_AT = re.compile(
    rf"\b(?:in|from)\s+(?P<path>[^\s()]+?{_PHP_EXT})"
    r"(?:\s+on\s+line\s+|:|\()(?P<line>\d+)"
)
_PYTHON = re.compile(r'File "(?P<path>[^"]+)", line (?P<line>\d+)(?:, in (?P<fn>\S+))?')
_JAVA = re.compile(
    r"\bat\s+(?:[\w.$-]+//?)*(?P<fn>[\w$.<>]+)"  # a module or class loader prefix, then the method
    r"\((?P<file>[\w$-]+\.(?:java|kt|scala|groovy)):(?P<line>\d+)\)"
)
_JS = re.compile(
    r"(?:\bat\s+(?:async\s+)?(?P<fn>[^\s(]+)\s+\(|(?P<ffn>[\w$.<>/]*)@)?"
    r"(?P<path>(?:[a-z][a-z0-9+.-]*://[^\s()]*?|[^\s()@'\"]*?)"
    r"\.(?:[cm]?js|jsx|tsx?|vue|svelte))"
    r"(?:\?[^\s:()]*)?:(?P<line>\d+)(?::\d+)?"
)
# Lines that start a new stack: depths count from each stack's innermost frame.
_NEW_STACK = re.compile(
    r"\s*(?:Traceback \(most recent call last\)|Caused by:|Suppressed:|Next\s|PHP \w+ error)",
    re.IGNORECASE,
)
# A versioned deployment directory: what follows it is the repository's tree.
_DEPLOY_ROOT = re.compile(r"(?:^|/)php-(?:\d|master)[^/]*/")
_SUBPROJECTS = {"extensions", "skins", "vendor"}
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://[^/]*/+", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Frame:
    """One place in the code a trace names; depth 0 is where it failed."""

    path: str  # as the trace gives it (for Java, the package path guessed from the class)
    line: int  # 0 when the trace gives none
    function: str
    language: str  # php, python, java or js
    depth: int = 0


def parse_frames(text: str) -> list[Frame]:
    """Every frame in `text`, innermost first within each stack, each place once."""
    text = text.replace("\\n", "\n").replace("\\t", "\t")  # a trace escaped in a JSON log
    stacks: list[list[Frame]] = [[]]
    located = False  # the current stack holds only an error's "in FILE on line N" so far
    for raw in text.splitlines():
        found, location = _frames_in(raw)
        # PHP prints the error's location, then its trace from #0: one stack, not two.
        new = bool(_NEW_STACK.match(raw)) or (raw.lstrip().startswith("#0 ") and not located)
        if (new or location) and stacks[-1]:
            stacks.append([])
        if found:
            located = location or (located and not stacks[-1])
        stacks[-1].extend(found)
    frames: dict[tuple[str, int], Frame] = {}
    for stack in stacks:
        # Python prints the innermost frame last ("most recent call last").
        ordered = stack[::-1] if stack and stack[0].language == "python" else stack
        for depth, frame in enumerate(ordered):
            key = (frame.path, frame.line)
            if key not in frames or frames[key].depth > depth:
                frames[key] = Frame(frame.path, frame.line, frame.function, frame.language, depth)
    return sorted(frames.values(), key=lambda f: f.depth)


def _frames_in(line: str) -> tuple[list[Frame], bool]:
    """The frames on one line, and whether it is an error's own location (PHP's "in FILE")."""
    if m := _PYTHON.search(line):
        return [Frame(m["path"], int(m["line"]), m["fn"] or "", "python")], False
    if m := _PHP_FRAME.search(line):
        return [Frame(m["path"], int(m["line"]), m["fn"] or "", "php")], False
    if m := _PHP_AT.search(line):
        return [Frame(m["path"], int(m["line"]), "", "php")], True
    if m := _JAVA.search(line):
        return [Frame(_java_path(m["fn"], m["file"]), int(m["line"]), m["fn"], "java")], False
    frames = [
        Frame(m["path"], int(m["line"]), m["fn"] or m["ffn"] or "", "js")
        for m in _JS.finditer(line)
    ]
    return frames, False


def _java_path(method: str, file: str) -> str:
    """`com.acme.billing.Invoice.total` in Invoice.java → com/acme/billing/Invoice.java."""
    package = method.split(".")[:-2]  # drop the method and the class (inner classes use $)
    return "/".join([*package, file])


def repo_relative(path: str) -> tuple[str, bool]:
    """The path with what deployment put before the repository's tree removed, as far as that
    can be known, and whether it is known to start at a deployment root."""
    path = path.replace("\\", "/").split("?", 1)[0].split("#", 1)[0]
    path = _URL.sub("", path)  # https://host/static/app.js, webpack:///./src/x.js, file:///app/x
    roots = list(_DEPLOY_ROOT.finditer(path))
    if roots:
        return path[roots[-1].end() :], True
    return path, False


def _parts(path: str) -> list[str]:
    return [p for p in path.split("/") if p and p != "."]


def suffix_score(frame_path: str, repo: str, path: str) -> int:
    """How well a repository file fits a frame's path: trailing components in common, 0 for no
    match.

    The whole of the shorter path must match, or at least two components (a bare file name is
    too common to trust across directories). When the frame is known to start at a deployment
    root, a repository file deeper in it must sit under a directory named after its repository
    (`extensions/Foo/includes/Bar.php` is `includes/Bar.php` of Foo, not of core), and a file
    at the root belongs to no repository named as living below it (`mediawiki/extensions/Foo`).
    """
    rel, anchored = repo_relative(frame_path)
    fparts, rparts = _parts(rel), _parts(path)
    common = 0
    for a, b in zip(reversed(fparts), reversed(rparts), strict=False):
        if a != b:
            break
        common += 1
    if common == 0:
        return 0
    repo_dir = repo.rsplit("/", 1)[-1].lower()
    if common == len(rparts):
        extra = fparts[: len(fparts) - common]
        named = bool(extra) and extra[-1].lower() == repo_dir
        if anchored and (not named if extra else _below_root(repo)):
            return 0
        return common + (1 if named else 0)
    if common == len(fparts) or common >= 2:
        return common
    return 0


def _below_root(repo: str) -> bool:
    """Whether a repository's name places it below a deployment's root, as MediaWiki's
    projects do (`mediawiki/extensions/Cart` is deployed at `extensions/Cart/`)."""
    return bool({c.lower() for c in repo.split("/")[:-1]} & _SUBPROJECTS)


def best_files(frame: Frame, files: Iterable[tuple[str, str]]) -> list[tuple[str, str, int]]:
    """The (repo, path, score) of the files that fit `frame` best: the longest suffix wins."""
    scored = [(repo, path, suffix_score(frame.path, repo, path)) for repo, path in files]
    best = max((s for _, _, s in scored), default=0)
    return [entry for entry in scored if best and entry[2] == best]
