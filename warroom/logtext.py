"""Log lines as text: made safe to show, classified by level, and grouped into stack traces.

Pure functions shared by the feeder, the hub and the client.
"""

from __future__ import annotations

import re

from warroom.core import text as unsafe

MAX_LINE = 2000  # characters kept of one line; the rest is cut with a marker
# A line cut once (by the feeder) carries its marker; it must not be cut again (at the hub).
_ROOM_FOR_MARKER = 40
INFO, WARNING, ERROR = 0, 1, 2

# Colour and cursor sequences go whole, so a coloured line reads as its words; what is left
# of any other sequence is made inert by the one rule for unsafe characters (warroom.core.text).
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")
_ERROR = re.compile(
    r"\b(ERROR|ERR|FATAL|CRITICAL|PANIC|Fatal error|Traceback|Exception|"
    r"Uncaught|Unhandled|SEVERE|failed|failure)\b|\w(?:Exception|Error):",
    re.IGNORECASE,
)
_WARNING = re.compile(r"\b(WARN|WARNING|DEPRECATED|Notice)\b", re.IGNORECASE)
# Lines that continue a stack trace in PHP, Python, Java and JavaScript.
_TRACE = re.compile(r"^(\s+at\s|\s+File \"|#\d+\s|\s+\.\.\. \d+ more|Caused by:|\s{2,}\S|\t)")


# Every word the patterns above can match contains one of these, in lower case. Testing for
# them first skips the regexes for most lines: they cost ten times more (hub profile).
_ERROR_STEMS = (
    "err",
    "fatal",
    "critical",
    "panic",
    "traceback",
    "exception",
    "uncaught",
    "unhandled",
    "severe",
    "fail",
)
_WARNING_STEMS = ("warn", "deprecated", "notice")
# The same patterns for lower-cased ASCII text: a case-blind search is several times slower.
_ERROR_LOW = re.compile(_ERROR.pattern.lower())
_WARNING_LOW = re.compile(_WARNING.pattern.lower())


def clean(raw: bytes | str) -> str:
    """A line safe for any terminal: valid UTF-8, no escape sequences, cut when too long.

    Unsafe characters (controls, bidi overrides: `warroom.core.text`) become U+FFFD, and a
    line break inside the line a space.
    """
    if isinstance(raw, str) and len(raw) <= MAX_LINE + _ROOM_FOR_MARKER and raw.isprintable():
        return raw  # the common case, already clean
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    text = text.rstrip("\r\n")
    text = _ANSI.sub("", text)
    text = unsafe.clean(text)
    if len(text) > MAX_LINE + _ROOM_FOR_MARKER:
        cut = len(text) - MAX_LINE
        text = f"{text[:MAX_LINE]} …[{cut} more characters cut]"
    return text


def level(text: str, stream: int = 0) -> int:
    """ERROR, WARNING or INFO for a line; stderr alone does not make a line an error."""
    if text.isascii():  # lower() maps ASCII one to one, so the stems test is exact
        low = text.lower()
        if any(stem in low for stem in _ERROR_STEMS) and _ERROR_LOW.search(low):
            return ERROR
        if any(stem in low for stem in _WARNING_STEMS) and _WARNING_LOW.search(low):
            return WARNING
        return INFO
    if _ERROR.search(text):
        return ERROR
    if _WARNING.search(text):
        return WARNING
    return INFO


def continues_trace(text: str) -> bool:
    """Whether a line continues the stack trace above it (frames, 'Caused by', indented)."""
    return bool(_TRACE.match(text))
