"""The one rule for unsafe characters (`warroom.core.text`), and the log lines that use it."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from warroom import logtext
from warroom.core.text import REPLACEMENT, clean, clean_data, is_unsafe

OSC52 = "\x1b]52;c;cm0gLXJmIH4K\x07"  # writes "rm -rf ~" to the clipboard
OSC0 = "\x1b]0;you have been pwned\x07"  # sets the window title
RLO = "\u202e"
BREAKS = "\r\n\u2028\u2029"


def unsafe(char: str) -> bool:
    """The rule, said again independently of the regex behind `clean`."""
    code = ord(char)
    return (
        (code < 0x20 and char != "\t")
        or 0x7F <= code <= 0x9F
        or 0x202A <= code <= 0x202E
        or 0x2066 <= code <= 0x2069
        or 0xD800 <= code <= 0xDFFF
        or char in BREAKS
    )


# Any character at all (surrogates too), with the dangerous ones drawn often.
characters = st.one_of(
    st.characters(codec=None, exclude_categories=()),
    st.sampled_from(["\x1b", "\x07", "\x9b", "\x9d", "\x7f", "\r", "\n", "\t", RLO, "\u2066"]),
)
texts = st.text(characters, max_size=60)


@given(texts)
def test_no_unsafe_character_survives(text: str) -> None:
    assert not any(unsafe(c) for c in clean(text))
    assert not any(unsafe(c) and c != "\n" for c in clean(text, lines=True))


@given(texts)
def test_cleaning_twice_changes_nothing(text: str) -> None:
    for lines in (False, True):
        once = clean(text, lines=lines)
        assert clean(once, lines=lines) == once


@given(st.text(st.characters(codec=None, exclude_categories=()).filter(lambda c: not unsafe(c))))
def test_safe_text_is_left_as_it_is(text: str) -> None:
    assert clean(text) is text or clean(text) == text
    assert clean(text, lines=True) == text


@given(texts)
def test_each_unsafe_character_becomes_one_mark_and_each_break_one_space(text: str) -> None:
    out = clean(text)
    assert len(out) == len(text) - text.count("\r\n")
    assert out.count(REPLACEMENT) == text.count(REPLACEMENT) + sum(
        1 for c in text if unsafe(c) and c not in BREAKS
    )


def test_escapes_are_made_inert_and_visible() -> None:
    assert clean(f"ok {OSC52} done") == "ok \ufffd]52;c;cm0gLXJmIH4K\ufffd done"
    assert clean(OSC0) == "\ufffd]0;you have been pwned\ufffd"
    assert clean("\x1b[2J\x9b31m") == "\ufffd[2J\ufffd31m"
    assert clean(f"abc{RLO}fed\u2066x\u2069") == "abc\ufffdfed\ufffdx\ufffd"
    assert clean("tab\tkept") == "tab\tkept"
    assert all(is_unsafe(c) for c in "\x1b\x07\x9b\x7f\r\n" + RLO) and not is_unsafe("\t")


def test_line_breaks_are_one_each_and_stay_only_where_a_field_keeps_them() -> None:
    assert clean("one\r\ntwo\rthree\nfour\u2028five") == "one two three four five"
    assert clean("one\r\ntwo\rthree\n", lines=True) == "one\ntwo\nthree\n"
    assert clean("a\n\x1b[31mb", lines=True) == "a\n\ufffd[31mb"


def test_data_is_cleaned_all_the_way_down_and_left_alone_when_clean() -> None:
    dirty = {"text": OSC52, "files": [["a\x1b.php", 1, 2, ""]], "k\x07": (RLO, 3), "n": None}
    assert clean_data(dirty) == {
        "text": clean(OSC52),
        "files": [["a\ufffd.php", 1, 2, ""]],
        "k\ufffd": ("\ufffd", 3),
        "n": None,
    }
    tidy = {"text": "fine", "files": [["a.php", 1, 2, ""]], "more": [1.5, True]}
    assert clean_data(tidy) is tidy
    assert clean_data("a\nb", lines=True) == "a\nb" and clean_data("a\nb") == "a b"


def test_log_lines_follow_the_same_rule() -> None:
    assert logtext.clean(f"user {RLO}gnp.exe") == "user \ufffdgnp.exe"
    assert logtext.clean(f"x {OSC52}") == "x " + clean(OSC52)
    assert logtext.clean("50%\r60%\r70%\n") == "50% 60% 70%"
    assert logtext.clean("\x1b[31mred\x1b[0m") == "red"  # colours go whole


@given(texts)
def test_log_lines_never_keep_an_unsafe_character(text: str) -> None:
    assert not any(unsafe(c) for c in logtext.clean(text))
