"""Text that people and programs send, made safe to print: the one rule for unsafe characters.

A character is unsafe when a terminal or a renderer would act on it instead of showing it:

- C0 controls but tab (ESC starts CSI, OSC, DCS... sequences; BEL ends an OSC 52 clipboard write
  or an OSC 0 window title), DEL, and C1 controls (U+0080-U+009F: CSI and OSC in one byte);
- the Unicode bidi embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069), which
  reorder what is shown around them ("Trojan Source");
- lone surrogates, which are not text and cannot be encoded to be written anywhere.

Each becomes U+FFFD, so a reader sees that something was there. Line breaks (CR LF, CR, LF,
U+2028, U+2029) are one break each: a newline where a field keeps lines, a space where it
does not, so a one-line field never carries a second line that could pass for another entry.

The hub cleans every argument with `clean_data` when it checks it (`warroom.core.schema`), and
every client again where the wire becomes its model (`warroom.core.wire`), so a journal written
before the rule existed is safe to show too. The log lines use the same rule
(`warroom.logtext.clean`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

REPLACEMENT = "\ufffd"

# Tab and LF are left out: tab is kept, and LF is what `_BREAK` leaves where lines are kept.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_BREAK = re.compile("\r\n|[\r\n\u2028\u2029]")


def is_unsafe(char: str) -> bool:
    """Whether one character is one a terminal would act on (a line break counts)."""
    return char in "\r\n\u2028\u2029" or bool(_UNSAFE.match(char))


def clean(text: str, *, lines: bool = False) -> str:
    """`text` with every unsafe character replaced; line breaks kept only when `lines`."""
    if text.isprintable():
        return text  # the common case: no control, no bidi, no break (and no tab)
    text = _BREAK.sub("\n" if lines else " ", text)
    return _UNSAFE.sub(REPLACEMENT, text)


def clean_data(value: Any, *, lines: bool = False) -> Any:
    """`value` with `clean` applied to every string in it, map keys and nested lists included.

    A value with nothing to clean is returned as it is (the common case, found without copying:
    a 16,000-commit state is checked in tens of milliseconds); otherwise lists and tuples keep
    their type, maps become dicts, and other values stay as they are.
    """
    return _cleaned(value, lines) if _dirty(value) else value


def _dirty(value: Any) -> bool:
    # Loops rather than any(): this walks whole snapshots, and a generator costs twice as much.
    kind = type(value)
    if kind is str:
        return not value.isprintable()
    if kind is list or kind is tuple:
        for item in value:
            if type(item) is str:
                if not item.isprintable():
                    return True
            elif type(item) is not int and _dirty(item):
                return True
        return False
    if kind is dict or isinstance(value, Mapping):
        for key, item in value.items():
            if _dirty(key):
                return True
            if type(item) is str:
                if not item.isprintable():
                    return True
            elif type(item) is not int and _dirty(item):
                return True
        return False
    return False


def _cleaned(value: Any, lines: bool) -> Any:
    if isinstance(value, str):
        return value if value.isprintable() else clean(value, lines=lines)
    if isinstance(value, list):
        return [_cleaned(v, lines) for v in value]
    if isinstance(value, tuple):
        return tuple(_cleaned(v, lines) for v in value)
    if isinstance(value, Mapping):
        return {_cleaned(k, lines): _cleaned(v, lines) for k, v in value.items()}
    return value
