"""People's text is cleaned where the hub checks arguments: events carry no escape sequence."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.test_changes import begin, commit
from tests.unit.train_helpers import ANA, RAJ, Room, opened, runbook_data
from warroom.core import OPS, Code, Event, apply, describe
from warroom.core.schema import Field, check_args
from warroom.core.text import clean
from warroom.core.wire import event_from_wire, event_to_wire, state_from_wire, state_to_wire

OSC52 = "\x1b]52;c;cm0gLXJmIH4K\x07"
OSC0 = "\x1b]0;owned\x07"
RLO = "\u202e"
DIRTY = f"look {OSC52} at {OSC0} this {RLO}txt.exe\r\nnext"


def strings(value: Any) -> Iterator[str]:
    """Every string in a value, map keys and nested lists included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings(key)
            yield from strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from strings(item)


def assert_clean(events: list[Event]) -> None:
    for event in events:
        for text in (*strings(event.data), event.actor, describe(event)):
            assert clean(text) == text, (event.kind, text)


def test_a_note_and_a_blocker_are_stored_clean() -> None:
    room = opened()
    (note,) = room.ok(RAJ, "note", text=DIRTY)
    assert note.data["text"] == clean(DIRTY)
    assert "\x1b" not in note.data["text"] and "\x07" not in note.data["text"]
    assert note.data["text"].endswith("\ufffdtxt.exe next")  # a line break is a space
    (raised,) = room.ok(RAJ, "raise_blocker", reason=DIRTY, link=f"T1{RLO}")
    assert raised.data["reason"] == clean(DIRTY) and raised.data["link"] == "T1\ufffd"
    (resolved,) = room.ok(ANA, "resolve_blocker", blocker="T1\ufffd", note=OSC0)
    assert_clean([note, raised, resolved])


def test_a_runbook_arrives_clean_all_the_way_down() -> None:
    room = Room()
    room.join(ANA, RAJ)
    runbook = runbook_data()
    runbook["name"] = f"MediaWiki {OSC0}"
    runbook["stages"][0]["items"][0]["text"] = f"Cut the branch {OSC52}"
    runbook["stages"][0]["items"][0]["hint"] = f"ask {RLO}raj"
    (opened_event,) = room.ok(ANA, "open_train", runbook=runbook, version=f"1.44{RLO}")
    assert_clean([opened_event])
    train = room.state.train
    assert train is not None and train.name == clean(runbook["name"])
    assert train.items[0].text == clean(f"Cut the branch {OSC52}")
    assert train.version == "1.44\ufffd"


def test_a_manifest_arrives_clean_and_a_dirty_key_is_refused() -> None:
    room = opened()
    begin(room, count=2, path=f"/home/raj/{OSC0}")
    dirty = commit(
        1,
        author=f"Raj {OSC0}",
        email=f"raj@{RLO}example.org",
        subject=f"Fix {OSC52}",
        files=[[f"includes/{RLO}Foo.php", 1, 0, "old\x1b[2J.php"]],
        trailers=[["Bug", f"T1 {OSC0}"]],
    )
    events = room.ok(RAJ, "manifest_add", repo="mediawiki", batch="b1", offset=0, commits=[dirty])
    assert_clean(events)
    manifest = room.state.changes.repos[0] if room.state.changes else None
    assert manifest is not None and manifest.path == clean(f"/home/raj/{OSC0}")
    (c,) = manifest.commits
    assert c.subject == clean(f"Fix {OSC52}") and c.author == "Raj \ufffd]0;owned\ufffd"
    assert c.files[0].path == "includes/\ufffdFoo.php" and c.files[0].old == "old\ufffd[2J.php"
    assert c.trailers == (("Bug", clean(f"T1 {OSC0}")),)
    bad = room.refused(
        RAJ,
        "manifest_add",
        repo="mediawiki",
        batch="b1",
        offset=1,
        commits=[commit(2, trailers=[[f"Bug{RLO}", "x"]])],
    )
    assert bad.code is Code.INVALID and "trailers[0]: key" in bad.reason


def test_every_text_argument_of_every_op_is_cleaned() -> None:
    checked = 0
    for spec in OPS.values():
        # Cleaning, not shape: a field's own `check` (a zone name, HH:MM) is left out here.
        fields = {n: replace(f, check=None) for n, f in spec.fields.items()}
        for name, field in fields.items():
            if field.kind not in (str, list, dict) or field.choices:
                continue
            value: Any = {str: DIRTY[: field.max_len], list: [DIRTY], dict: {OSC0: [DIRTY]}}[
                field.kind
            ]
            args = {n: _valid(f) for n, f in fields.items() if f.required}
            args[name] = value
            out = check_args(spec.name, fields, args)
            assert isinstance(out, dict), (spec.name, name, out)
            assert all(clean(s) == s for s in strings(out)), (spec.name, name)
            checked += 1
    assert checked > 40  # notes, reasons, comments, names, links, runbooks, commits...


def _valid(field: Field) -> Any:
    if field.choices:
        return field.choices[0]
    return {str: "x" * max(1, field.min_len), int: 1, float: 1.0, bool: True, list: [1]}.get(
        field.kind, {}
    )


def test_lengths_are_counted_on_the_cleaned_text() -> None:
    fields = {"text": Field(str, min_len=1, max_len=5)}
    assert check_args("op", fields, {"text": "ab\r\ncd"}) == {"text": "ab cd"}
    assert check_args("op", fields, {"text": "\r\n\n"}) == "op: argument 'text' must not be empty"
    too_long = check_args("op", fields, {"text": "abc\x1bde"})
    assert too_long == "op: argument 'text' is longer than 5 characters"


def test_a_field_may_keep_its_lines() -> None:
    fields = {"text": Field(str, lines=True), "one": Field(str, required=False)}
    out = check_args("op", fields, {"text": "a\r\nb\x1b", "one": "a\nb"})
    assert out == {"text": "a\nb\ufffd", "one": "a b"}


def test_no_field_keeps_lines_today() -> None:
    # Every text is shown inside a one-line sentence (the timeline, the export's lists and
    # cells): a line break in one would let a person forge a line that reads like the room's.
    assert not [(s.name, n) for s in OPS.values() for n, f in s.fields.items() if f.lines]


@settings(max_examples=60, deadline=None)
@given(
    st.text(st.sampled_from(["a", " ", "\x1b", "\x07", "\x9d", "\r", "\n", RLO, "["]), min_size=1)
)
def test_whatever_is_typed_the_events_are_clean(text: str) -> None:
    room = opened()
    word = f"w{text}"  # never empty once stripped
    for actor, op, args in (
        (RAJ, "note", {"text": word}),
        (RAJ, "raise_blocker", {"reason": word, "link": text}),
        (RAJ, "call_vote", {"proposal": "hold", "reason": word, "ref": text}),
        (RAJ, "ballot", {"choice": "yes", "comment": text}),
        (RAJ, "queue_join", {"tz": "UTC", "start": "08:00", "end": "16:00", "note": text}),
        (ANA, "promote", {"override": word}),
        (ANA, "add_item", {"stage": "group0", "text": word, "hint": text}),
        (ANA, "abandon_train", {"reason": word}),
    ):
        room.do(actor, op, **args)
    assert {"note", "blocker_raised", "vote_opened", "train_abandoned"} <= {
        e.kind for e in room.events
    }
    assert_clean(room.events)


@pytest.mark.parametrize("op", ["note", "raise_blocker"])
def test_a_refusal_quotes_no_raw_escape(op: str) -> None:
    room = opened()
    bad = room.refused(RAJ, op, **{f"x{OSC0}": 1})
    assert "\x1b" not in bad.reason and "\x07" not in bad.reason


def test_the_wire_cleans_what_an_older_hub_stored() -> None:
    # Events applied directly, as a journal written before the rule holds them.
    room = opened()
    dirty = [
        Event("note", 2e9, "raj", {"text": DIRTY}),
        Event(
            "blocker_raised",
            2e9,
            "raj",
            {"blocker": "b9", "reason": OSC52, "link": RLO, "stage": "prep"},
        ),  # fmt: skip
    ]
    state = room.state
    for event in dirty:
        state = apply(state, event)
    seq, event = event_from_wire(event_to_wire(dirty[0], 7))
    assert seq == 7 and event.data["text"] == clean(DIRTY)
    rebuilt = state_from_wire(state_to_wire(state))
    assert all(clean(s) == s for s in strings(state_to_wire(rebuilt)))
    assert rebuilt.train is not None and rebuilt.train.blockers[-1].reason == clean(OSC52)
    # A clean state comes back as it went.
    assert state_from_wire(state_to_wire(room.state)) == room.state
