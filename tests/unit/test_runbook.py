"""Runbook parsing: the shipped examples load; broken files name the file, key and line."""

from __future__ import annotations

import pytest

from tests.unit.train_helpers import EXAMPLES
from warroom.core.runbook import RunbookError, from_data, parse, to_data

GOOD = """\
name = "svc"

[[stages]]
name = "canary"

  [[stages.items]]
  text = "deploy"

[[stages]]
name = "100%"

  [[stages.items]]
  text = "shift"
"""


@pytest.mark.parametrize("name", ["mediawiki-train.toml", "service-rollout.toml"])
def test_examples_parse_and_round_trip(name: str) -> None:
    path = EXAMPLES / name
    runbook = parse(path.read_text(), str(path))
    assert len(runbook.stages) >= 3
    assert from_data(to_data(runbook)) == runbook


def test_defaults() -> None:
    runbook = parse(GOOD)
    assert runbook.rules.min_present == 2
    item = runbook.stages[0].items[0]
    assert (item.required, item.who, item.hint, item.assignee) == (True, "engineer", "", "")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            GOOD.replace('text = "shift"', 'text = "shift"\nwho = "king"'),
            "svc.toml:14: stages[1].items[0].who: must be one of engineer, conductor",
        ),
        (
            GOOD.replace('text = "deploy"', "text = 5"),
            "svc.toml:7: stages[0].items[0].text: must be a string",
        ),
        (
            GOOD.replace('text = "deploy"', 'text = "deploy"\nrequired = "yes"'),
            "svc.toml:8: stages[0].items[0].required: must be true or false",
        ),
        (
            GOOD.replace('text = "deploy"', 'txt = "deploy"'),
            "svc.toml:7: stages[0].items[0].txt: unknown key",
        ),
        (
            GOOD.replace('name = "100%"', 'name = "canary"'),
            "svc.toml:10: stages[1].name: stage 'canary' appears twice",
        ),
        (
            GOOD + "\n[rules]\nmin_present = 0\n",
            "svc.toml:16: rules.min_present: must be between 1 and 100, not 0",
        ),
        (
            GOOD + '\n[rules]\nvote_window = "5m"\n',
            "svc.toml:16: rules.vote_window: must be an integer",
        ),
        (GOOD + "\n[rules]\nquorum = 3\n", "svc.toml:16: rules.quorum: unknown key"),
        (GOOD.replace('name = "svc"\n', ""), "svc.toml:1: name: missing 'name'"),
        ('name = "svc"\n', "svc.toml:1: stages: needs at least one [[stages]] table"),
        ('name = "svc"\nstages = [\n', "svc.toml: not valid TOML"),
        (GOOD + "\nowner = 'me'\n", "svc.toml:15: stages[1].items[0].owner: unknown key"),
        ("owner = 'me'\n" + GOOD, "svc.toml:1: owner: unknown key (expected name, stages, rules)"),
    ],
)
def test_broken_runbooks_name_file_key_and_line(text: str, expected: str) -> None:
    with pytest.raises(RunbookError) as info:
        parse(text, "svc.toml")
    assert str(info.value).startswith(expected), str(info.value)


def test_from_data_checks_like_parse() -> None:
    with pytest.raises(RunbookError, match="runbook: stages"):
        from_data({"name": "x", "stages": []})
    with pytest.raises(RunbookError, match="must be a map"):
        from_data(["not", "a", "map"])
