"""Log lines as the hub sends them, at pinned times: a sync, a PHP fatal, a Python traceback.

Levels come from `warroom.logtext.level`, as the hub would set them, so the client's grouping of
stack traces is tested against the hub's real classification.
"""

from __future__ import annotations

from typing import Any

from warroom.logtext import level

STDOUT, STDERR = 0, 1

PHP_FATAL = [
    "PHP Fatal error:  Uncaught RuntimeException: database is read-only in "
    "/srv/mediawiki/php-1.44.0-wmf.5/includes/libs/rdbms/database/Database.php:1521",
    "Stack trace:",
    "#0 /srv/mediawiki/php-1.44.0-wmf.5/includes/libs/rdbms/database/Database.php(1400): "
    "Wikimedia\\Rdbms\\Database->query()",
    "#1 /srv/mediawiki/php-1.44.0-wmf.5/includes/Setup.php(512): Wikimedia\\Rdbms\\LB->get()",
    "#2 {main}",
]
PY_TRACE = [
    "Traceback (most recent call last):",
    '  File "/srv/deployment/scap/scap/main.py", line 412, in main',
    "    self._sync_masters()",
    '  File "/srv/deployment/scap/scap/main.py", line 301, in _sync_masters',
    '    raise SyncError("mw2301 refused the connection")',
    "scap.main.SyncError: mw2301 refused the connection",
]


def hub_lines(
    texts: list[tuple[str, str, int]], t0: float, first: int = 1, step: float = 0.25
) -> list[list[Any]]:
    """(source, text, stream) triples as hub lines [lseq, ts, source, stream, level, text]."""
    return [
        [first + i, t0 + i * step, source, stream, level(text, stream), text]
        for i, (source, text, stream) in enumerate(texts)
    ]


def morning(t0: float) -> list[list[Any]]:
    """A sync of group1 interleaved with scap's output, a PHP fatal and a Python traceback."""
    texts: list[tuple[str, str, int]] = []
    for n in range(1, 19):
        texts.append(
            ("sync", f"mw13{n:02d}: Copying php-1.44.0-wmf.5/includes/Foo{n}.php ok", STDOUT)
        )
        if n == 4:
            texts.append(("scap", "sync-masters: 1/3 masters done", STDOUT))
        if n == 6:
            texts.append(("sync", "mw1306: WARNING: sync-file took 7s, slower than usual", STDOUT))
        if n == 8:
            texts.extend(("sync", text, STDERR) for text in PHP_FATAL)
        if n == 10:
            texts.append(("scap", "sync-masters: 2/3 masters done", STDOUT))
        if n == 12:
            texts.extend(("scap", text, STDERR) for text in PY_TRACE)
        if n == 15:
            texts.append(("sync", "mw1315: ERROR: rsync failed with exit 23 for l10n", STDOUT))
    return hub_lines(texts, t0)
