"""The retrospective of a known run: a train with an alert, a blocker, a vote, a rollback, a
hand-off and a second try, every event made by the real core at pinned times."""

from __future__ import annotations

import json
import re

import pytest

from tests.tui.train_fixture import ANA, BOB, RAJ, T0, VIC, _Run
from tests.unit.train_helpers import runbook_data
from warroom.core import Actor, Role
from warroom.retro import NoTrain, build
from warroom.retrodoc import span, to_json, to_markdown

HUB = Actor("hub", Role.ENGINEER, "hub")


def known_run() -> _Run:
    run = _Run("train-42")
    for minute, actor in enumerate((ANA, RAJ, BOB, VIC)):
        run.do(minute, actor, "join", trusted=True, tz=actor.tz)
    run.do(5, ANA, "open_train", runbook=runbook_data(), version="1.44.0-wmf.5")
    run.tick(6, ANA, "Cut the wmf branch")
    run.tick(7, RAJ, "Check the train blocker task")
    run.do(10, ANA, "promote")  # testwikis at 09:40
    run.do(30, ANA, "promote", override="testwikis checked by hand")  # group0 at 10:00
    run.do(32, HUB, "raise_alert", trusted=True, source="sync", text="error rate 40/min")
    run.do(33, BOB, "raise_blocker", reason="fatal | on Special:Search", link="T12345")
    run.do(34, RAJ, "call_vote", proposal="partial", reason="fatals since group0")
    run.do(35, RAJ, "ballot", vote="v1", choice="yes", comment="users hit it")
    run.do(36, BOB, "ballot", vote="v1", choice="yes")
    run.do(38, ANA, "rollback", scope="partial", expect="group0", reason="the room voted")
    run.do(50, BOB, "resolve_blocker", blocker="T12345", note="reverted")
    run.do(52, RAJ, "queue_join", tz="Asia/Kolkata", start="09:00", end="18:00")
    run.do(53, ANA, "offer_seat", note="over to you")
    run.do(54, RAJ, "accept_seat")
    run.do(60, RAJ, "promote", override="the revert is in")  # group0 again at 10:30
    return run


def test_stages_incidents_votes_and_people_of_a_known_run() -> None:
    run = known_run()
    retro = build(run.events, run.state)
    assert retro.version == "1.44.0-wmf.5" and retro.outcome == "running"
    assert [(s.stage, s.ended is not None) for s in retro.stages] == [
        ("prep", True), ("testwikis", True), ("group0", True), ("testwikis", True),
        ("group0", False),
    ]  # fmt: skip
    assert retro.stages[2].how == "rolled back by ana, as vote v1 decided"
    # One incident: from the alert at 10:02 to the rollback at 10:08, six minutes.
    [incident] = retro.incidents
    assert incident.cause == "alert on sync: error rate 40/min"
    assert incident.ttr == 6 * 60 and incident.how.startswith("ana rolled back group0")
    [vote] = retro.votes
    assert (vote.outcome, vote.yes, vote.no, vote.needed) == ("passed", 2, 0, 2)
    assert [b["name"] for b in vote.ballots] == ["bob", "raj"]
    [blocker] = retro.blockers
    assert blocker.resolved_by == "bob" and blocker.resolved == T0 + 50 * 60
    assert [text for _, text in retro.handoffs] == [
        "raj queued for the seat (Asia/Kolkata, 09:00–18:00 local)",
        "ana offered the conductor seat to raj: over to you",
        "raj accepted the conductor seat from ana, who is now an engineer",
    ]
    people = {p.name: (p.role, p.acts) for p in retro.people}
    assert people["raj"] == ("engineer", 6) and people["vic"] == ("visitor", 0)


def test_the_markdown_reads_well_in_a_tracker() -> None:
    run = known_run()
    text = to_markdown(build(run.events, run.state), "Europe/Berlin")
    assert text.startswith("# Train 1.44.0-wmf.5: running\n")
    assert "opened by ana at 2026-03-14 10:35:00" in text  # 09:35 UTC, in Berlin
    assert "| Stage | Started | Ended | Took | How it ended |" in text
    assert "| prep | 10:35:00 | 10:40:00 | 5m 00s | promoted to testwikis by ana |" in text
    assert (
        "| group0 | 11:00:00 | 11:08:00 | 8m 00s | rolled back by ana, as vote v1 decided |" in text
    )
    assert (
        "1. **6m 00s** — from 11:02:00, alert on sync: error rate 40/min; recovered at 11:08:00: "
        "ana rolled back group0, as vote v1 decided." in text
    )
    # A pipe in a reason does not break the table.
    assert "| T12345 fatal \\| on Special:Search | group0 | 11:03:00 by bob |" in text
    assert "- **v1: roll back the last stage**, called by raj at 11:04:00" in text
    assert "  - raj: yes — users hit it" in text
    assert "- 11:24:00 raj accepted the conductor seat from ana, who is now an engineer" in text
    assert "| raj | engineer | Asia/Kolkata | 6 |" in text


def test_the_json_has_the_same_facts_as_numbers() -> None:
    run = known_run()
    data = to_json(build(run.events, run.state))
    json.dumps(data)  # plain data all the way down
    assert data["incidents"][0]["ttr"] == 360.0
    assert data["votes"][0]["ballots"][1] == {"name": "raj", "yes": True, "comment": "users hit it"}
    assert data["alerts"] == [{"at": T0 + 32 * 60, "source": "sync", "text": "error rate 40/min"}]


def test_a_room_without_a_train_has_nothing_to_export() -> None:
    run = _Run("empty")
    run.do(0, ANA, "join", trusted=True, tz="UTC")
    with pytest.raises(NoTrain, match="has not run a train"):
        build(run.events, run.state)


def test_spans() -> None:
    assert [span(None), span(12.4), span(245), span(3720)] == ["—", "12s", "4m 05s", "1h 02m"]


def test_who_holds_the_seat_at_the_end_is_said() -> None:
    run = known_run()
    assert "The conductor seat is with raj at the end." in to_markdown(build(run.events, run.state))


def test_a_run_ends_at_done_and_what_follows_is_left_out() -> None:
    run = known_run()
    for item in [i for i in run.state.train.items if not i.done]:  # type: ignore[union-attr]
        run.do(61, RAJ, "tick", item=item.id)
    run.do(62, RAJ, "promote")
    run.do(63, RAJ, "promote")
    run.do(64, RAJ, "finish_train")
    run.do(70, HUB, "raise_alert", trusted=True, source="sync", text="after the train")
    run.do(71, BOB, "note", text="lunch")
    retro = build(run.events, run.state)
    assert retro.outcome == "done" and retro.ended == T0 + 64 * 60
    assert len(retro.incidents) == 1 and len(retro.alerts) == 1  # the later alert is not in it
    assert {p.name: p.acts for p in retro.people}["bob"] == 3  # his note after the end neither
    assert "Total: 59m 00s." in to_markdown(retro)


def test_a_full_rollback_ends_the_run_and_people_text_stays_on_one_line() -> None:
    run = known_run()
    run.do(61, RAJ, "raise_blocker", reason="still broken\n# not a heading", link="T9")
    run.do(62, RAJ, "rollback", scope="full", reason="give up")
    run.do(70, HUB, "raise_alert", trusted=True, source="sync", text="noise")
    retro = build(run.events, run.state)
    assert retro.outcome == "rolled back" and retro.ended == T0 + 62 * 60
    assert [i.ended is not None for i in retro.incidents] == [True, True]  # no new one opened
    text = to_markdown(retro)
    assert "| T9 still broken # not a heading |" in text
    assert "\n# not a heading" not in text


def test_a_history_the_hub_no_longer_replays_is_refused() -> None:
    run = known_run()
    with pytest.raises(NoTrain, match="no longer replays the whole history"):
        build(run.events[-10:], run.state)


def test_people_text_is_not_markdown_or_html_in_the_markdown() -> None:
    run = known_run()
    reason = "[click](https://evil.example) **loud** <img src=x onerror=alert(1)> &#x202E;"
    run.do(61, RAJ, "raise_blocker", link="T9", reason=reason)
    run.do(62, RAJ, "call_vote", proposal="hold", reason="`rm -rf` _now_ ~~no~~ $x$")
    text = to_markdown(build(run.events, run.state))
    assert (
        "| T9 \\[click\\](https://evil.example) \\*\\*loud\\*\\* "
        "\\<img src=x onerror=alert(1)\\> \\&#x202E; |" in text
    )
    assert "hold and investigate**, called by raj" in text
    assert ": \\`rm -rf\\` \\_now\\_ \\~\\~no\\~\\~ \\$x\\$. **OPEN**" in text
    assert "| vic | visitor | America/New_York | 0 |" in text  # between letters, _ stays
    # None of these is ours: each one in the document is people's, escaped.
    assert not re.findall(r"(?<!\\)[<>&\[\]`$~]", text)
