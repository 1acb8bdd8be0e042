"""The real `warroom` command: token, send, state, events, and its error messages."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from warroom.hubproc import HubProcess


def warroom(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "warroom", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


@pytest.fixture
def running(tmp_path: Path) -> Iterator[HubProcess]:
    hub = HubProcess(tmp_path)
    yield hub
    hub.stop()


def token(data_dir: Path, name: str, role: str, room: str = "train-1") -> str:
    out = warroom(
        "token", "--data-dir", str(data_dir), "--room", room, "--name", name, "--role", role
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_send_state_and_events(running: HubProcess) -> None:
    url = running.room_url("train-1")
    ana = token(running.data_dir, "ana", "conductor")
    sent = warroom("send", url, "--token", ana, "note", "text=group0 looks clean")
    assert sent.returncode == 0, sent.stderr
    answer = json.loads(sent.stdout)
    assert answer["ok"] is True and answer["op"] == "note" and answer["seq"] >= 1

    state = json.loads(warroom("state", url, "-t", ana).stdout)
    assert state["state"]["notes"] == 1
    assert state["seq"] == answer["seq"]

    lines = warroom("events", url, "-t", ana).stdout.splitlines()
    events = [json.loads(line) for line in lines]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert events[-1]["kind"] == "note"
    assert events[-1]["data"] == {"text": "group0 looks clean"}
    assert events[-1]["actor"] == "ana"


def test_token_from_the_environment_and_typed_values(running: HubProcess) -> None:
    import os

    env = {**os.environ, "WARROOM_TOKEN": token(running.data_dir, "ben", "engineer")}
    url = running.room_url("train-1")
    out = warroom("send", url, "note", "text:=5", env=env)
    assert out.returncode == 1
    assert json.loads(out.stdout)["code"] == "invalid"
    out = warroom("send", url, "note", 'text:="typed"', env=env)
    assert out.returncode == 0, out.stdout + out.stderr


def test_visitor_send_is_rejected_with_exit_1(running: HubProcess) -> None:
    vic = token(running.data_dir, "vic", "visitor")
    out = warroom("send", running.room_url("train-1"), "-t", vic, "note", "text=hi")
    assert out.returncode == 1
    answer = json.loads(out.stdout)
    assert answer == {**answer, "ok": False, "code": "forbidden"}
    assert "read-only" in answer["reason"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["send", "ws://127.0.0.1:1/train-1", "-t", "x", "note", "text=a"], "refused"),
        (["send", "http://example/train-1", "-t", "x", "note"], "not a ws:// or wss:// URL"),
        (["send", "ws://127.0.0.1:1/", "-t", "x", "note"], "names no room"),
        (["send", "ws://127.0.0.1:1/r", "-t", "x", "note", "novalue"], "is not key=value"),
        (["token", "--room", "r", "--name", "two words", "--role", "engineer"], "bad name"),
        (
            ["token", "--room", "r", "--name", "a", "--role", "engineer", "--ttl", "1y"],
            "bad duration",
        ),
        (["token", "--room", "r", "--name", "a", "--role", "king"], "'king' is not one of"),
        (["join", "ws://127.0.0.1:1/r", "-t", "x", "--tz", "Mars/Olympus"], "unknown time zone"),
    ],
)
def test_bad_input_gets_a_clear_message(tmp_path: Path, args: list[str], message: str) -> None:
    if args[0] == "token":
        args = [*args, "--data-dir", str(tmp_path)]
    out = warroom(*args)
    assert out.returncode != 0
    assert message in out.stderr, out.stderr
    assert "Traceback" not in out.stderr


def test_bad_token_is_refused_with_the_reason(running: HubProcess, tmp_path: Path) -> None:
    other = token(tmp_path / "elsewhere", "ana", "conductor")  # signed by another secret
    out = warroom("state", running.room_url("train-1"), "-t", other)
    assert out.returncode == 1
    assert "signature is not valid" in out.stderr


def test_hub_refuses_a_broken_secret_file(tmp_path: Path) -> None:
    bad = tmp_path / "secret"
    bad.write_text("short")
    out = warroom("hub", "--port", "0", "--data-dir", str(tmp_path), "--secret-file", str(bad))
    assert out.returncode != 0
    assert "fewer than 16 bytes" in out.stderr


def test_open_a_train_from_a_runbook(running: HubProcess, tmp_path: Path) -> None:
    url = running.room_url("train-1")
    ana = token(running.data_dir, "ana", "conductor")
    runbook = str(Path(__file__).resolve().parents[2] / "examples" / "mediawiki-train.toml")
    out = warroom("open", url, "-t", ana, "--runbook", runbook, "--version", "1.44.0-wmf.5")
    assert out.returncode == 0, out.stdout + out.stderr
    state = json.loads(warroom("state", url, "-t", ana).stdout)["state"]
    assert state["train"]["version"] == "1.44.0-wmf.5"
    assert state["train"]["stages"] == ["prep", "testwikis", "group0", "group1", "group2"]
    raj = token(running.data_dir, "raj", "engineer")
    refused = warroom("open", url, "-t", raj, "--runbook", runbook, "--version", "x")
    assert refused.returncode == 1 and json.loads(refused.stdout)["code"] == "forbidden"


def test_a_broken_runbook_is_refused_naming_file_key_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'name = "x"\n\n[[stages]]\nname = "canary"\n\n  [[stages.items]]\n'
        '  text = "deploy"\n  who = "everyone"\n'
    )
    out = warroom("open", "ws://127.0.0.1:1/r", "-t", "x", "--runbook", str(bad), "--version", "1")
    assert out.returncode != 0
    assert f"{bad}:8: stages[0].items[0].who: must be one of engineer, conductor" in out.stderr
    missing = warroom(
        "open", "ws://127.0.0.1:1/r", "-t", "x", "--runbook", "/nope.toml", "--version", "1"
    )
    assert "/nope.toml: cannot read" in missing.stderr
