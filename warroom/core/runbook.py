"""Runbooks: a train described in TOML (stages, checklist items, room rules), checked strictly.

Every problem names the file, the key and the line, so a broken runbook is fixed in one go.
The same checks run on the plain-data form the hub receives (`from_data`), without lines.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

WHO = ("engineer", "conductor")


class RunbookError(Exception):
    """A runbook that cannot be used; the message names file, key and line."""


@dataclass(frozen=True, slots=True)
class ItemSpec:
    """A checklist item as the runbook describes it."""

    text: str
    hint: str = ""
    required: bool = True
    who: str = "engineer"  # who may tick it: any engineer (and the conductor), or the conductor
    assignee: str = ""


@dataclass(frozen=True, slots=True)
class StageSpec:
    """A stage: its name and its checklist."""

    name: str
    items: tuple[ItemSpec, ...]


@dataclass(frozen=True, slots=True)
class Rules:
    """Room rules the hub enforces for this train."""

    min_present: int = 2
    handoff_window: int = 300
    vote_window: int = 300
    handoff_grace: int = 120
    spike_factor: float = 5.0
    spike_min_per_min: int = 20


@dataclass(frozen=True, slots=True)
class Runbook:
    """A whole train description."""

    name: str
    stages: tuple[StageSpec, ...]
    rules: Rules = field(default_factory=Rules)


def parse(text: str, source: str = "<runbook>") -> Runbook:
    """Check runbook TOML text; `source` names it in error messages."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RunbookError(f"{source}: not valid TOML: {exc}") from None
    lines = _KeyLines(text)

    def fail(path: str, problem: str) -> RunbookError:
        return RunbookError(f"{source}:{lines.find(path)}: {path}: {problem}")

    return _check(data, fail)


def from_data(data: object) -> Runbook:
    """Check a runbook already in plain-data form (as `to_data` makes it)."""

    def fail(path: str, problem: str) -> RunbookError:
        return RunbookError(f"runbook: {path}: {problem}")

    if not isinstance(data, dict):
        raise fail("runbook", "must be a map")
    return _check(data, fail)


def to_data(runbook: Runbook) -> dict[str, Any]:
    """The runbook as plain maps and lists, the form it travels in."""
    return {
        "name": runbook.name,
        "stages": [
            {
                "name": s.name,
                "items": [
                    {
                        "text": i.text,
                        "hint": i.hint,
                        "required": i.required,
                        "who": i.who,
                        "assignee": i.assignee,
                    }
                    for i in s.items
                ],
            }
            for s in runbook.stages
        ],
        "rules": {name: getattr(runbook.rules, name) for name in _RULE_BOUNDS},
    }


def _check(data: dict[str, Any], fail: Any) -> Runbook:
    for key in sorted(set(data) - {"name", "stages", "rules"}):
        raise fail(key, "unknown key (expected name, stages, rules)")
    name = _string(data, "name", fail, required=True)
    raw_stages = data.get("stages")
    if not isinstance(raw_stages, list) or not raw_stages:
        raise fail("stages", "needs at least one [[stages]] table")
    stages: list[StageSpec] = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_stages):
        where = f"stages[{i}]"
        if not isinstance(raw, dict):
            raise fail(where, "must be a table")
        _only(raw, {"name", "items"}, where, fail)
        stage_name = _string(raw, "name", fail, required=True, where=where)
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._%-]{0,31}", stage_name):
            raise fail(f"{where}.name", "use up to 32 letters, digits, '.', '_', '%' or '-'")
        if stage_name in seen:
            raise fail(f"{where}.name", f"stage {stage_name!r} appears twice")
        seen.add(stage_name)
        raw_items = raw.get("items", [])
        if not isinstance(raw_items, list):
            raise fail(f"{where}.items", "must be a list of [[stages.items]] tables")
        items = tuple(_item(it, f"{where}.items[{j}]", fail) for j, it in enumerate(raw_items))
        stages.append(StageSpec(stage_name, items))
    return Runbook(name, tuple(stages), _rules(data.get("rules", {}), fail))


def _item(raw: object, where: str, fail: Any) -> ItemSpec:
    if not isinstance(raw, dict):
        raise fail(where, "must be a table")
    _only(raw, {"text", "hint", "required", "who", "assignee"}, where, fail)
    who = _string(raw, "who", fail, where=where) or "engineer"
    if who not in WHO:
        raise fail(f"{where}.who", f"must be one of {', '.join(WHO)}, not {who!r}")
    required = raw.get("required", True)
    if not isinstance(required, bool):
        raise fail(f"{where}.required", "must be true or false")
    return ItemSpec(
        text=_string(raw, "text", fail, required=True, where=where),
        hint=_string(raw, "hint", fail, where=where),
        required=required,
        who=who,
        assignee=_string(raw, "assignee", fail, where=where),
    )


_RULE_BOUNDS: dict[str, tuple[type, float, float]] = {
    "min_present": (int, 1, 100),
    "handoff_window": (int, 10, 86_400),
    "vote_window": (int, 10, 86_400),
    "handoff_grace": (int, 5, 86_400),
    "spike_factor": (float, 1.5, 1000),
    "spike_min_per_min": (int, 1, 1_000_000),
}


def _rules(raw: object, fail: Any) -> Rules:
    if not isinstance(raw, dict):
        raise fail("rules", "must be a table")
    _only(raw, set(_RULE_BOUNDS), "rules", fail)
    values: dict[str, Any] = {}
    for key, value in raw.items():
        kind, low, high = _RULE_BOUNDS[key]
        ok_type = isinstance(value, int | float) if kind is float else isinstance(value, int)
        if isinstance(value, bool) or not ok_type:
            raise fail(f"rules.{key}", f"must be {'a number' if kind is float else 'an integer'}")
        if not low <= value <= high:
            raise fail(f"rules.{key}", f"must be between {low:g} and {high:g}, not {value}")
        values[key] = kind(value)
    return Rules(**values)


def _only(raw: Mapping[str, Any], allowed: set[str], where: str, fail: Any) -> None:
    for key in sorted(set(raw) - allowed):
        raise fail(f"{where}.{key}", f"unknown key (expected {', '.join(sorted(allowed))})")


def _string(
    raw: Mapping[str, Any], key: str, fail: Any, *, required: bool = False, where: str = ""
) -> str:
    path = f"{where}.{key}" if where else key
    if key not in raw:
        if required:
            raise fail(where or key, f"missing {key!r}")
        return ""
    value = raw[key]
    if not isinstance(value, str):
        raise fail(path, "must be a string")
    if required and not value.strip():
        raise fail(path, "must not be empty")
    if len(value) > 500:
        raise fail(path, "is longer than 500 characters")
    return value.strip()


class _KeyLines:
    """Line numbers of runbook keys, for error messages: tomllib keeps no positions.

    It knows the runbook's shape ([[stages]], [[stages.items]], [rules]), which is all it needs.
    """

    _HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
    _KEY = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*=")

    def __init__(self, text: str) -> None:
        self.where: dict[str, int] = {}
        stage = item = -1
        prefix = ""
        for number, line in enumerate(text.splitlines(), start=1):
            header = self._HEADER.match(line)
            if header:
                name = header.group(2).replace(" ", "")
                if name == "stages":
                    stage, item = stage + 1, -1
                    prefix = f"stages[{stage}]"
                elif name == "stages.items":
                    item += 1
                    prefix = f"stages[{stage}].items[{item}]"
                else:
                    prefix = name
                self.where.setdefault(prefix, number)
                continue
            key = self._KEY.match(line)
            if key:
                self.where.setdefault(
                    f"{prefix}.{key.group(1)}" if prefix else key.group(1), number
                )

    def find(self, path: str) -> int:
        """The line of `path`, or of its nearest enclosing table; 1 when unknown."""
        while path:
            if path in self.where:
                return self.where[path]
            trimmed = re.sub(r"(\.[^.\[]+|\[\d+\])$", "", path)
            if trimmed == path:
                break
            path = trimmed
        return 1
