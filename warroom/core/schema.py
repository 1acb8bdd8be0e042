"""Field rules for command arguments: checked, their text cleaned, before a capability sees them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from warroom.core.text import clean_data


@dataclass(frozen=True, slots=True)
class Field:
    """One argument: its type, whether it is required, and bounds.

    For a string, `min_len` and `max_len` bound its characters once cleaned; for a list, its
    items (the items themselves are the capability's to check). Every string in an argument,
    nested ones too, is cleaned (`warroom.core.text`); `lines` lets its line breaks stay.
    `check` looks at the cleaned value's shape once every argument passed the rest: it gets
    the argument's name and value and returns what is wrong (the op's name goes before it),
    or None.
    """

    kind: type
    required: bool = True
    max_len: int = 2000
    min_len: int = 0
    choices: tuple[str, ...] = ()
    lines: bool = False
    check: Callable[[str, Any], str | None] | None = None


_KIND_NAMES: dict[type, str] = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "a boolean",
    list: "a list",
}


def check_args(
    op: str, fields: Mapping[str, Field], args: Mapping[str, Any]
) -> dict[str, Any] | str:
    """The arguments with their text cleaned when they fit `fields`, else a sentence naming
    the first bad one. The cleaned arguments are the ones to decide on: events carry only
    clean text."""
    unknown = sorted(set(args) - set(fields))
    if unknown:
        return f"{op}: unknown argument {unknown[0]!r} (expected: {', '.join(sorted(fields))})"
    cleaned: dict[str, Any] = {}
    for name, spec in fields.items():
        if name not in args:
            if spec.required:
                return f"{op}: missing argument {name!r}"
            continue
        value = args[name]
        if not _is_kind(value, spec.kind):
            return (
                f"{op}: argument {name!r} must be {_KIND_NAMES.get(spec.kind, spec.kind.__name__)}"
            )
        value = cleaned[name] = clean_data(value, lines=spec.lines)
        if isinstance(value, str):
            text = value.strip()
            if len(text) < spec.min_len:
                if spec.min_len > 1:
                    return f"{op}: argument {name!r} must be at least {spec.min_len} characters"
                return f"{op}: argument {name!r} must not be empty"
            if len(value) > spec.max_len:
                return f"{op}: argument {name!r} is longer than {spec.max_len} characters"
            if spec.choices and value not in spec.choices:
                return f"{op}: argument {name!r} must be one of {', '.join(spec.choices)}"
        if isinstance(value, list):
            if len(value) < spec.min_len:
                return f"{op}: argument {name!r} needs at least {spec.min_len} item(s)"
            if len(value) > spec.max_len:
                return f"{op}: argument {name!r} has more than {spec.max_len} items"
    for name, spec in fields.items():
        if spec.check is not None and name in cleaned:
            problem = spec.check(name, cleaned[name])
            if problem is not None:
                return f"{op}: {problem}"
    return cleaned


def _is_kind(value: object, kind: type) -> bool:
    # bool is an int subclass; a flag sent where a count is wanted is a type error, not a 1.
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, kind)
