"""The demo's deploy log: scap-like lines for each step, and the fatal error at group1.

Each function returns (text, stream) pairs in the order scap would print them; the demo's
director paces them out. Stream 1 is stderr.
"""

from __future__ import annotations

import random

from warroom.demorepo import BAD_FILE, BAD_LINE

VERSION = "1.44.0-wmf.5"
OLD = "1.44.0-wmf.4"
DEPLOYED = f"/srv/mediawiki/php-{VERSION}"
HOSTS = {
    "testwikis": ["mwdebug1001", "mwdebug1002", "mwdebug2001"],
    "group0": [f"mw13{n:02d}" for n in range(1, 9)],
    "group1": [f"mw14{n:02d}" for n in range(1, 15)],
    "group2": [f"mw2{n:03d}" for n in range(260, 290)],
}
Line = tuple[str, int]


def prep() -> list[Line]:
    """`scap prep auto`: the branch is cut and checked out."""
    return [
        (f"scap prep auto: preparing {VERSION}", 0),
        (f"Creating branch wmf/{VERSION} from master at 8c1f2e0", 0),
        ("Checking out 214 extensions and 14 skins", 0),
        *[(f"  checked out extensions/{name}", 0) for name in ("AbuseFilter", "CirrusSearch",
          "Echo", "FlaggedRevs", "GlobalBlocking", "Kartographer", "VisualEditor", "Wikibase")],
        ("Running composer install --no-dev", 0),
        ("CI build for wmf/" + VERSION + ": SUCCESS (gate-and-submit, 41 min)", 0),
        (f"scap prep auto: {VERSION} ready in {DEPLOYED}", 0),
    ]  # fmt: skip


def sync(stage: str, version: str = VERSION) -> list[Line]:
    """`scap sync-world` to the hosts of `stage`: masters, proxies, then every app server."""
    hosts = HOSTS.get(stage, HOSTS["group1"])
    out: list[Line] = [
        (f"Started scap sync-world: {stage} to {version}", 0),
        ("sync-masters: 100% (in-flight: 0; ok: 2; fail: 0; left: 0)", 0),
        ("sync-proxies: 100% (in-flight: 0; ok: 9; fail: 0; left: 0)", 0),
    ]
    for n, host in enumerate(hosts, 1):
        out.append((f"{host}.eqiad.wmnet: Copying php-{version} (l10n cache 12 MB) ok", 0))
        if n % 5 == 0 or n == len(hosts):
            left = len(hosts) - n
            done = 100 * n // len(hosts)
            out.append((f"sync-apaches: {done}% (in-flight: 0; ok: {n}; fail: 0; left: {left})", 0))
    out.append((f"php-fpm restart on {len(hosts)} hosts: ok", 0))
    out.append((f"Finished scap sync-world: {stage} to {version} (duration: 02m 14s)", 0))
    return out


def quiet(rng: random.Random) -> Line:
    """One line of a healthy fleet: a request log or a slow-ish query warning."""
    host = rng.choice(HOSTS["group1"])
    if rng.random() < 0.08:
        return (f"{host}: Warning: slow query 2.1s in SpecialRecentChanges::doMainQuery", 0)
    wiki = rng.choice(["enwiki", "commonswiki", "dewiki", "jawiki", "wikidatawiki"])
    return (f"{host}: {wiki} GET /w/api.php 200 {rng.randint(12, 190)} ms", 0)


def fatal(rng: random.Random) -> list[Line]:
    """The group1 fatal: a PHP TypeError whose trace points at the culprit's line."""
    host = rng.choice(HOSTS["group1"])
    return [
        (f"{host}: PHP Fatal error:  Uncaught TypeError: SearchEngine::normalizeText(): "
         f"Argument #1 ($text) must be of type string, null given, called in "
         f"{DEPLOYED}/{BAD_FILE} on line {BAD_LINE}", 1),
        ("Stack trace:", 1),
        (f"#0 {DEPLOYED}/{BAD_FILE}({BAD_LINE}): SearchEngine->normalizeText(NULL)", 1),
        (f"#1 {DEPLOYED}/includes/specials/SpecialSearch.php(311): SearchEngine->search(NULL)", 1),
        (f"#2 {DEPLOYED}/includes/specials/SpecialPage.php(701): SpecialSearch->execute(NULL)", 1),
        ("#3 {main}", 1),
    ]  # fmt: skip


def rollback(stage: str) -> list[Line]:
    """The partial rollback: the stage goes back to the old branch."""
    return [
        (f"scap sync-world --revert: {stage} back to {OLD}", 0),
        *sync(stage, OLD)[1:],
    ]
