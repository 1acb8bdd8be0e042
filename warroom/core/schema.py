"""Field rules for command arguments, checked before any capability sees them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Field:
    """One argument: its type, whether it is required, and bounds.

    For a string, `min_len` and `max_len` bound its characters; for a list, its items (the
    items themselves are the capability's to check).
    """

    kind: type
    required: bool = True
    max_len: int = 2000
    min_len: int = 0
    choices: tuple[str, ...] = ()


_KIND_NAMES: dict[type, str] = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "a boolean",
    list: "a list",
}


def check_args(op: str, fields: Mapping[str, Field], args: Mapping[str, Any]) -> str | None:
    """Return a sentence naming the first bad argument, or None when `args` fit `fields`."""
    unknown = sorted(set(args) - set(fields))
    if unknown:
        return f"{op}: unknown argument {unknown[0]!r} (expected: {', '.join(sorted(fields))})"
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
    return None


def _is_kind(value: object, kind: type) -> bool:
    # bool is an int subclass; a flag sent where a count is wanted is a type error, not a 1.
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, kind)
