"""Escape sequences people send reach nobody: a real hub cleans them as it checks arguments, and
`warroom events`, `state` and `export` (Markdown and JSON) carry only the cleaned text."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.integration.conftest import Raw
from tests.integration.test_cli import running, token, warroom  # noqa: F401  (a fixture)
from tests.unit.train_helpers import runbook_data
from warroom import protocol as p
from warroom.core.text import clean
from warroom.hubproc import HubProcess

OSC52 = "\x1b]52;c;cm0gLXJmIH4K\x07"  # puts "rm -rf ~" on the clipboard
OSC0 = "\x1b]0;you are owned\x07"  # sets the window title
RLO = "\u202e"
NOTE = f"group0 is clean {OSC52} honest"
REASON = f"fatal on {OSC0} Special:{RLO}hcraeS"
UNSAFE = ("\x1b", "\x07", "\x9b", "\x9d", RLO)


def assert_no_escape(text: str, where: str) -> None:
    found = [c for c in UNSAFE if c in text]
    assert not found, f"{where} holds {found!r}"


def strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*strings(k), *strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


async def test_escapes_in_notes_and_reasons_arrive_cleaned_everywhere(
    running: HubProcess,  # noqa: F811
    tmp_path: Path,
) -> None:
    url = running.room_url("train-1")
    ana = token(running.data_dir, "ana", "conductor")
    raj = token(running.data_dir, "raj", "engineer")
    conductor = await Raw.open(url)
    await conductor.hello(ana, "train-1")
    runbook = runbook_data("service-rollout.toml")
    runbook["name"] = f"Rollout {OSC0}"
    await conductor.cmd("c1", "open_train", runbook=runbook, version="2.7.0")
    assert isinstance(await conductor.answer("c1"), p.Ack)
    engineer = await Raw.open(url)
    await engineer.hello(raj, "train-1")
    for cid, op, args in (
        ("r1", "note", {"text": NOTE}),
        ("r2", "raise_blocker", {"reason": REASON, "link": f"INC-1{RLO}"}),
        ("r3", "call_vote", {"proposal": "hold", "reason": f"look {OSC52}"}),
        ("r4", "ballot", {"choice": "yes", "comment": f"yes {OSC0}"}),
    ):
        await engineer.cmd(cid, op, **args)
        answer = await engineer.answer(cid)
        assert isinstance(answer, p.Ack), answer
    # What the hub streams to everyone in the room is clean already.
    streamed: list[Any] = []
    while len(streamed) < 5:  # the conductor's stream: the train, the note, blocker, vote, ballot
        frame = await conductor.frame()
        if isinstance(frame, p.Events):
            streamed.extend(frame.events)
    assert {e["kind"] for e in streamed} >= {"note", "blocker_raised", "ballot_cast"}
    assert all(clean(s) == s for s in strings(streamed))
    await engineer.close()
    await conductor.close()

    events = warroom("events", url, "-t", raj)
    assert events.returncode == 0, events.stderr
    rows = [json.loads(line) for line in events.stdout.splitlines()]
    assert_no_escape(events.stdout, "warroom events")
    texts = [s for row in rows for s in strings(row)]
    assert all(clean(s) == s for s in texts)
    notes = [r["data"]["text"] for r in rows if r["kind"] == "note"]
    assert notes == [clean(NOTE)] == ["group0 is clean \ufffd]52;c;cm0gLXJmIH4K\ufffd honest"]
    (raised,) = [r["data"] for r in rows if r["kind"] == "blocker_raised"]
    assert raised["reason"] == clean(REASON) and raised["link"] == "INC-1\ufffd"
    (ballot,) = [r["data"] for r in rows if r["kind"] == "ballot_cast"]
    assert ballot["comment"] == "yes \ufffd]0;you are owned\ufffd"

    state = warroom("state", url, "-t", raj)
    assert state.returncode == 0, state.stderr
    assert all(clean(s) == s for s in strings(json.loads(state.stdout)))

    md = warroom("export", url, "-t", raj)
    assert md.returncode == 0, md.stderr
    assert_no_escape(md.stdout, "the Markdown export")
    # Cleaned, then escaped as Markdown (the "]" of the OSC would close a link).
    assert (
        "| INC-1\ufffd fatal on \ufffd\\]0;you are owned\ufffd Special:\ufffdhcraeS |" in md.stdout
    )
    assert "*Rollout \ufffd\\]0;you are owned\ufffd*" in md.stdout

    out = tmp_path / "retro.json"
    exported = warroom("export", url, "-t", raj, "--format", "json", "-o", str(out))
    assert exported.returncode == 0, exported.stderr
    data = json.loads(out.read_text())
    assert all(clean(s) == s for s in strings(data))
    assert data["blockers"][0]["reason"] == clean(REASON)
    assert data["votes"][0]["reason"] == clean(f"look {OSC52}")
