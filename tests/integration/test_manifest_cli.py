"""The real `warroom manifest`, `send call_in` and `suspects` commands against a real hub."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.unit.git_fixture import (
    History,
    Repo,
    checkout_extension,
    standard_history,
)
from warroom.hubproc import HubProcess

WMF = "/srv/mediawiki/php-1.44.0-wmf.5"


def warroom(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "warroom", *args],
        capture_output=True,
        text=True,
        timeout=120,
        input=stdin,
    )


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[HubProcess]:
    running = HubProcess(tmp_path / "hub")
    yield running
    running.stop()


@pytest.fixture
def core(tmp_path: Path) -> History:
    return standard_history(tmp_path / "mediawiki")


@pytest.fixture
def extension(tmp_path: Path) -> Repo:
    return checkout_extension(tmp_path / "checkout-ext")


def token(hub: HubProcess, name: str, role: str) -> str:
    out = warroom(
        "token",
        "--data-dir",
        str(hub.data_dir),
        "--room",
        "train-1",
        "--name",
        name,
        "--role",
        role,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def state(hub: HubProcess, tok: str) -> dict[str, Any]:
    out = warroom("state", hub.room_url("train-1"), "-t", tok)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def publish(hub: HubProcess, tok: str, *args: str) -> subprocess.CompletedProcess[str]:
    return warroom("manifest", hub.room_url("train-1"), "--token", tok, *args)


def test_two_repositories_in_one_room_then_a_call_in(
    hub: HubProcess, core: History, extension: Repo
) -> None:
    raj = token(hub, "raj", "engineer")
    ana = token(hub, "ana", "conductor")
    out = publish(hub, raj, "--repo", str(core.repo.path), "--from", "v1", "--to", "v2")
    assert out.returncode == 0, out.stderr
    answer = json.loads(out.stdout)
    assert answer == {**answer, "ok": True, "repo": "mediawiki", "commits": 7, "chunks": 1}
    assert answer["published"] is True
    out = publish(
        hub, raj, "--repo", str(extension.path), "--from", "wmf.4", "--to", "wmf.5",
        "--name", "mediawiki/extensions/Checkout",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr

    changes = state(hub, ana)["state"]["changes"]
    repos = {r["repo"]: r for r in changes["repos"]}
    assert list(repos) == ["mediawiki", "mediawiki/extensions/Checkout"]
    assert repos["mediawiki"]["complete"] and len(repos["mediawiki"]["commits"]) == 7
    assert repos["mediawiki"]["published_by"] == "raj"
    assert repos["mediawiki"]["path"] == str(core.repo.path.resolve())
    ext = repos["mediawiki/extensions/Checkout"]
    assert ext["complete"] and [c["subject"] for c in ext["commits"]] == ["Checkout: count again"]
    fix = next(c for c in repos["mediawiki"]["commits"] if c["sha"] == core.shas["fix"])
    assert fix["trailers"] == [
        ["Bug", "T12345"],
        ["Change-Id", "I0123456789abcdef0123456789abcdef01234567"],
    ]

    sent = warroom(
        "send", hub.room_url("train-1"), "-t", ana, "call_in", "repo=mediawiki",
        f"sha={fix['short']}", "author=raj", "evidence=changed includes/Foo.php line 3",
    )  # fmt: skip
    assert sent.returncode == 0, sent.stdout + sent.stderr
    lines = warroom("events", hub.room_url("train-1"), "-t", ana).stdout.splitlines()
    events = [json.loads(line) for line in lines]
    called = [e for e in events if e["kind"] == "called_in"]
    assert called and called[0]["actor"] == "ana"
    assert called[0]["data"] == {
        "repo": "mediawiki",
        "sha": core.shas["fix"],
        "short": fix["short"],
        "subject": "Fix cart totals",
        "author": "raj",
        "email": "raj@example.org",
        "evidence": "changed includes/Foo.php line 3",
    }
    kinds = [e["kind"] for e in events]
    assert kinds.count("manifest_begun") == 2 and kinds.count("manifest_added") == 2

    # Marks travel the same way; the suspects command reads the room and blames locally.
    sent = warroom(
        "send", hub.room_url("train-1"), "-t", raj, "mark_commit", "repo=mediawiki",
        f"sha={fix['sha']}", "safe:=false", "why=the fix is also a schema change",
    )  # fmt: skip
    assert sent.returncode == 0, sent.stdout + sent.stderr
    trace = f"PHP Fatal error:  Uncaught Error in {WMF}/includes/Foo.php:3\n#0 {{main}}"
    out = warroom("suspects", hub.room_url("train-1"), "-t", ana, stdin=trace)
    assert out.returncode == 0, out.stderr
    found = json.loads(out.stdout)
    first = found["suspects"][0]
    assert first["sha"] == core.shas["fix"] and first["safe"] is False
    assert first["reasons"] == ["changed includes/Foo.php line 3 (blame)"]
    assert first["revert"] == (
        f"git -C {core.repo.path.resolve()} revert --no-edit {core.shas['fix']}"
    )
    assert found["authors"][0]["name"] == "Raj Patel"
    # The extension's own Foo.php is not the core one.
    assert all(s["repo"] == "mediawiki" for s in found["suspects"])


def test_publishing_again_replaces_and_big_ranges_go_in_chunks(
    hub: HubProcess, tmp_path: Path
) -> None:
    from benches.manifest import build_history

    build_history(tmp_path / "big", 700)
    raj = token(hub, "raj", "engineer")
    out = publish(hub, raj, "--repo", str(tmp_path / "big"), "--from", "start", "--to", "main")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["chunks"] == 3
    out = publish(hub, raj, "--repo", str(tmp_path / "big"), "--from", "main~5", "--to", "main")
    assert out.returncode == 0, out.stderr
    (repo,) = state(hub, raj)["state"]["changes"]["repos"]
    assert repo["complete"] and len(repo["commits"]) == repo["count"] == 5
    assert repo["from"] == "main~5"


def test_nothing_going_out_publishes_nothing(hub: HubProcess, core: History) -> None:
    raj = token(hub, "raj", "engineer")
    before = state(hub, raj)["seq"]
    out = publish(hub, raj, "--repo", str(core.repo.path), "--from", "v2", "--to", "v2")
    assert out.returncode == 0, out.stderr
    answer = json.loads(out.stdout)
    assert answer["published"] is False and answer["commits"] == 0
    assert answer["message"] == "nothing going out in mediawiki: v2..v2 holds no commits"
    after = state(hub, raj)
    assert after["seq"] == before and after["state"]["changes"] is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "v9", "--to", "v2"], "unknown revision 'v9'"),
        (["--from", "v1", "--to", "nope"], "unknown revision 'nope'"),
    ],
)
def test_bad_revisions_say_so(
    hub: HubProcess, core: History, args: list[str], message: str
) -> None:
    out = publish(hub, token(hub, "raj", "engineer"), "--repo", str(core.repo.path), *args)
    assert out.returncode == 1
    assert message in out.stderr and "Traceback" not in out.stderr


def test_a_missing_repository_and_a_visitor(hub: HubProcess, core: History, tmp_path: Path) -> None:
    raj = token(hub, "raj", "engineer")
    out = publish(hub, raj, "--repo", str(tmp_path / "gone"), "--from", "v1", "--to", "v2")
    assert out.returncode == 1 and "no such directory" in out.stderr
    assert "Traceback" not in out.stderr
    vic = token(hub, "vic", "visitor")
    out = publish(hub, vic, "--repo", str(core.repo.path), "--from", "v1", "--to", "v2")
    assert out.returncode == 1
    answer = json.loads(out.stdout)
    assert answer["ok"] is False and answer["code"] == "forbidden" and answer["applied"] == 0
    assert answer["published"] is False
    # The person running it reads the refusal too, not only the JSON line.
    assert "the hub refused manifest_begin after 0 accepted: visitors are read-only" in out.stderr
