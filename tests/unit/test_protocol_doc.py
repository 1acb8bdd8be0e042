"""docs/protocol.md against the code: every op, event kind, close code, error code, frame type
and state field the code has is documented where a client author looks for it, and nothing is
documented that the code does not have."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import pytest

from warroom import protocol as p
from warroom.core import EVENTS, OPS, Actor, Command, Role, RoomState, apply, decide
from warroom.core.wire import state_to_wire

DOC = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"
# Close codes the doc lists that the hub's own code never sends: 1006 is no close frame at all
# (a dropped or cut-off TCP connection), and 1011 comes from the WebSocket library (an
# exception in a handler, a ping without a pong).
LIBRARY_CLOSES = {1006, 1011}
_HEADING = re.compile(r"^(#{2,4}) (\S+)")


@pytest.fixture(scope="module")
def doc() -> str:
    return DOC.read_text(encoding="utf-8")


def section(doc: str, number: str) -> str:
    """The text of section `number` ("9.2", "16"), from its heading to the next heading of
    the same or a higher level."""
    lines = doc.splitlines()
    want = {number, f"{number}."}  # "## 16. Close codes", "### 9.2 Operations…"
    start = level = None
    for i, line in enumerate(lines):
        match = _HEADING.match(line)
        if match is None:
            continue
        depth = len(match.group(1))
        if start is None:
            if depth <= 3 and match.group(2) in want:
                start, level = i, depth
        elif level is not None and depth <= level:
            return "\n".join(lines[start:i])
    assert start is not None, f"docs/protocol.md has no section {number}"
    return "\n".join(lines[start:])


def first_cells(text: str) -> list[str]:
    """The first cell of every table row in `text`, header and separator rows left out."""
    cells = []
    rows = [line for line in text.splitlines() if line.startswith("|")]
    for i, row in enumerate(rows):
        cell = row.split("|")[1].strip()
        nxt = rows[i + 1] if i + 1 < len(rows) else ""
        if set(cell) <= set("-: ") or re.fullmatch(r"\|[-:| ]+\|", nxt):
            continue  # a separator, or the header above one
        cells.append(cell)
    return cells


def backticked(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def table_after(text: str, marker: str) -> str:
    """The table that follows the line `marker` in `text`."""
    lines = text.splitlines()
    assert marker in lines, f"docs/protocol.md: no line {marker!r} before a table"
    rest = lines[lines.index(marker) + 1 :]
    while rest and not rest[0].startswith("|"):
        rest.pop(0)
    table = []
    for line in rest:
        if not line.startswith("|"):
            break
        table.append(line)
    return "\n".join(table)


def fields_of(table: str) -> set[str]:
    """The names in the first column of `table` (a cell may name several: `from`, `to`)."""
    names: set[str] = set()
    for cell in first_cells(table):
        names.update(backticked(cell))
    return names


def mismatch(what: str, where: str, code: set[str], documented: set[str], origin: str) -> str:
    problems = []
    if code - documented:
        problems.append(f"{what} in {origin} missing from {where}: {sorted(code - documented)}")
    if documented - code:
        problems.append(
            f"{what} in {where} that {origin} does not have: {sorted(documented - code)}"
        )
    return "; ".join(problems)


def test_every_public_op_is_in_the_ops_table(doc: str) -> None:
    table = {c.strip("`") for c in first_cells(section(doc, "9.2")) if re.fullmatch(r"`\w+`", c)}
    public = {name for name, spec in OPS.items() if spec.public}
    assert table == public, mismatch(
        "public ops", "the §9.2 table", public, table, "warroom.core.OPS"
    )


def test_every_internal_op_is_in_the_internal_paragraph(doc: str) -> None:
    text = section(doc, "9.2")
    phrase = "exist inside the hub but are not accepted from clients"
    paragraph = next((para for para in text.split("\n\n") if phrase in para), None)
    assert paragraph is not None, f"§9.2 has no paragraph saying which ops {phrase}"
    named = set(backticked(paragraph.split(phrase)[0]))
    internal = {name for name, spec in OPS.items() if not spec.public}
    assert named == internal, mismatch(
        "hub-internal ops", "§9.2's paragraph of internal ops", internal, named, "warroom.core.OPS"
    )


def test_every_event_kind_is_in_the_events_table(doc: str) -> None:
    cells = first_cells(section(doc, "9.3"))
    table = {c.strip("`") for c in cells if re.fullmatch(r"`\w+`", c)}
    assert table == set(EVENTS), mismatch(
        "event kinds", "the §9.3 table", set(EVENTS), table, "warroom.core.EVENTS"
    )


def test_every_close_code_is_in_the_close_table(doc: str) -> None:
    table = {int(c) for c in first_cells(section(doc, "16")) if c.isdigit()}
    code = {int(c) for c in p.Close}
    assert table - LIBRARY_CLOSES == code, mismatch(
        "close codes",
        "the §16 table",
        {str(c) for c in code},
        {str(c) for c in table - LIBRARY_CLOSES},
        "warroom.protocol.Close",
    )


def test_final_close_codes_are_the_ones_the_doc_calls_final(doc: str) -> None:
    text = section(doc, "16")
    sentence = next((s for s in text.split("\n\n") if "FATAL_CLOSES" in s), "")
    bold = re.search(r"treats \*\*([^*]+)\*\*", sentence)
    assert bold is not None, (
        "§16 does not say, in bold, which close codes the client treats as final"
    )
    said = {int(n) for n in re.findall(r"\d{4}", bold.group(1))}
    fatal = {int(c) for c in p.FATAL_CLOSES}
    assert said == fatal, mismatch(
        "final close codes",
        "§16's sentence on FATAL_CLOSES",
        {str(c) for c in fatal},
        {str(c) for c in said},
        "warroom.protocol.FATAL_CLOSES",
    )


def test_every_error_code_is_in_the_error_table(doc: str) -> None:
    table: set[str] = set()
    for cell in first_cells(section(doc, "15")):
        table.update(backticked(cell))
    code = {c.value for c in p.ErrorCode}
    assert table == code, mismatch(
        "error codes", "the §15 table", code, table, "warroom.protocol.ErrorCode"
    )


def _frame_headings(text: str) -> set[str]:
    return set(re.findall(r"^#### `(\w+)`", text, re.MULTILINE))


def test_every_frame_type_has_its_section(doc: str) -> None:
    tags = set(p._TAGS.values())
    documented = _frame_headings(section(doc, "7"))
    assert documented == tags, mismatch(
        "frame types", "§7's frame sections", tags, documented, "warroom.protocol._TAGS"
    )
    client = {p._TAGS[cls] for cls in typing.get_args(p.ClientFrame)}
    from_clients = _frame_headings(section(doc, "7.1"))
    assert from_clients == client, mismatch(
        "client frame types", "§7.1", client, from_clients, "warroom.protocol.ClientFrame"
    )
    from_hub = _frame_headings(section(doc, "7.2"))
    assert from_hub == tags - client, mismatch(
        "hub frame types", "§7.2", tags - client, from_hub, "warroom.protocol.HubFrame"
    )


def _state_with_a_train() -> dict[str, typing.Any]:
    state = RoomState(room="r1")
    ana = Actor("ana", Role.CONDUCTOR, "c1", "UTC")
    runbook = {"name": "Train", "stages": [{"name": "s1", "items": [{"text": "do it"}]}]}
    for op, args in (("join", {"tz": "UTC"}), ("open_train", {"runbook": runbook, "version": "1"})):
        events = decide(state, ana, Command(op, args, 1.0), trusted=op == "join")
        assert isinstance(events, list), events
        for event in events:
            state = apply(state, event)
    return state_to_wire(state)


@pytest.mark.parametrize(
    ("marker", "path"),
    [
        ("`snapshot.state`, in version 1:", ()),
        ("Each member:", ("members", 0)),
        ("The train:", ("train",)),
        ("Each checklist item:", ("train", "items", 0)),
    ],
)
def test_every_state_field_is_in_the_state_tables(
    doc: str, marker: str, path: tuple[str | int, ...]
) -> None:
    wire: typing.Any = _state_with_a_train()
    for key in path:
        wire = wire[key]
    documented = fields_of(table_after(section(doc, "8.3"), marker))
    where = f"§8.3's table after {marker!r}"
    assert documented == set(wire), mismatch(
        "state fields", where, set(wire), documented, "warroom.core.wire.state_to_wire"
    )
