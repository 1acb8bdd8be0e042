"""How long `warroom manifest` takes to read a range of thousands of commits.

A repository is built with `git fast-import` (seconds even for 10,000 commits): a few hundred
files, commits by eight authors changing one to three files each, a rename every 40 commits and
a merged side branch every 100. Only the reading is timed — `read_manifest` (one `git log
--numstat -M` and its parsing) and, separately, cutting the result into publish commands — not
the building, and not the network.

python -m benches.manifest [--quick]
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from warroom.manifest import publish_commands, read_manifest

AUTHORS = [(f"Author {n}", f"author{n}@example.org") for n in range(8)]
FILES = 300
LINES = 40
TARGET = 10.0  # seconds for the largest range measured


class _Stream:
    """A fast-import stream being written, and the files' contents as they evolve."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.parts: list[bytes] = []
        self.mark = 0
        self.clock = 1_700_000_000
        self.files = {
            f"src/mod{i // 30}/file{i}.php": [f"line {j} of {i}\n" for j in range(LINES)]
            for i in range(FILES)
        }

    def data(self, text: str) -> None:
        raw = text.encode()
        self.parts.append(b"data %d\n%s\n" % (len(raw), raw))

    def commit(self, ref: str, message: str, parents: list[int], changes: list[str]) -> int:
        self.mark += 1
        self.clock += 60
        name, email = self.rng.choice(AUTHORS)
        who = f"{name} <{email}> {self.clock} +0000"
        self.parts.append(
            f"commit {ref}\nmark :{self.mark}\nauthor {who}\ncommitter {who}\n".encode()
        )
        self.data(message)
        if parents:
            self.parts.append(f"from :{parents[0]}\n".encode())
        for parent in parents[1:]:
            self.parts.append(f"merge :{parent}\n".encode())
        for change in changes:
            if change.startswith("M "):
                path = change[2:]
                self.parts.append(f"M 100644 inline {path}\n".encode())
                self.data("".join(self.files[path]))
            else:
                self.parts.append(f"{change}\n".encode())
        return self.mark

    def edit(self) -> list[str]:
        """Change one to three files: a line rewritten, a line added."""
        changes = []
        for path in self.rng.sample(sorted(self.files), self.rng.randint(1, 3)):
            lines = self.files[path]
            lines[self.rng.randrange(len(lines))] = f"changed at {self.clock}\n"
            lines.append(f"added at {self.clock}\n")
            changes.append(f"M {path}")
        return changes

    def rename(self) -> list[str]:
        old = self.rng.choice(sorted(self.files))
        new = old.replace(".php", f"_r{self.mark}.php")
        self.files[new] = self.files.pop(old)
        return [f'R "{old}" "{new}"']


def build_history(path: Path, commits: int, seed: int = 7) -> None:
    """A repository at `path` whose tag `start` is followed by exactly `commits` commits."""
    s = _Stream(seed)
    head = s.commit("refs/heads/main", "Initial import", [], [f"M {p}" for p in sorted(s.files)])
    s.parts.append(f"reset refs/tags/start\nfrom :{head}\n".encode())
    made = 0
    while made < commits:
        if made % 100 == 99 and commits - made >= 2:
            side = s.commit("refs/heads/side", f"Side work {made}", [head], s.edit())
            head = s.commit("refs/heads/main", f"Merge side work {made}", [head, side], [])
            made += 2
            continue
        changes = s.rename() if made % 40 == 39 else s.edit()
        message = f"Change {made}\n\nSome words about it.\n\nBug: T{100000 + made}\n"
        head = s.commit("refs/heads/main", message, [head], changes)
        made += 1
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    subprocess.run(
        ["git", "-C", str(path), "fast-import", "--quiet"],
        input=b"".join(s.parts) + b"done\n",
        check=True,
    )


def measure(commits: int, repeats: int) -> dict[str, Any]:
    """Build a history of `commits` and time reading it `repeats` times (the median counts)."""
    with tempfile.TemporaryDirectory(prefix="warroom-manifest-") as tmp:
        repo = Path(tmp) / "repo"
        started = time.perf_counter()
        build_history(repo, commits)
        built = time.perf_counter() - started
        reads, cuts = [], []
        for _ in range(repeats):
            started = time.perf_counter()
            found = read_manifest(repo, "start", "main")
            reads.append(time.perf_counter() - started)
            started = time.perf_counter()
            commands = publish_commands(found, "bench")
            cuts.append(time.perf_counter() - started)
        assert len(found.commits) == commits, (len(found.commits), commits)
        seconds = statistics.median(reads)
        return {
            "commits": commits,
            "files_changed": sum(len(c.files) for c in found.commits),
            "renames": sum(1 for c in found.commits for f in c.files if f.old),
            "merges": sum(1 for c in found.commits if c.merge),
            "build_seconds": round(built, 2),
            "read_seconds": round(seconds, 3),
            "commits_per_second": round(commits / seconds),
            "chunks": len(commands) - 1,
            "chunk_seconds": round(statistics.median(cuts), 3),
        }


def run(quick: bool) -> dict[str, Any]:
    """Time the manifest of several ranges; `quick` measures one smaller range once."""
    sizes = (2000,) if quick else (1000, 5000, 10000)
    cases = [measure(n, 1 if quick else 3) for n in sizes]
    largest = cases[-1]
    return {
        "cases": cases,
        "target_seconds": TARGET,
        "met": largest["read_seconds"] <= TARGET,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one range of 2000 commits")
    result = run(parser.parse_args().quick)
    for case in result["cases"]:
        print(
            f"{case['commits']:>6} commits ({case['files_changed']} file changes, "
            f"{case['renames']} renames, {case['merges']} merges): read in "
            f"{case['read_seconds']:.3f} s ({case['commits_per_second']}/s); "
            f"cut into {case['chunks']} chunks in {case['chunk_seconds']:.3f} s"
        )
    verdict = "met" if result["met"] else "MISSED"
    print(f"target: the largest range in ≤ {result['target_seconds']:.0f} s: {verdict}")


if __name__ == "__main__":
    main()
