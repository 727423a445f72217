"""`normalise` is a stored contract (every text hash depends on it) and it has fast paths:
they must give exactly what the plain definition gives, for any text."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from preserve.extract.normalise import _FOLD, _INVISIBLE, normalise
from preserve.tokens import count_tokens, tokens


def reference(text: str) -> str:
    """norm_v1 as first written: translate, NFKC, fold, one space per run, no blank lines."""
    text = unicodedata.normalize("NFKC", text.translate(_INVISIBLE)).translate(_FOLD)
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


# Whitespace and line breaks of every kind, the characters removed and folded, and a few
# that NFKC changes, mixed with plain letters.
_TRICKY = (
    " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2028\u2029\u3000"
    "ab.,\u00e9e\u0301\ufb01\u2026\u00bd\u1e9b\u0323"
    + "".join(chr(c) for c in list(_INVISIBLE) + list(_FOLD))
)


@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet=st.sampled_from(_TRICKY), max_size=40))
def test_fast_paths_match_the_definition_on_tricky_text(text: str) -> None:
    assert normalise(text) == reference(text)


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=200))
def test_fast_paths_match_the_definition_on_any_text(text: str) -> None:
    assert normalise(text) == reference(text)


def test_ascii_lines_pass_through() -> None:
    text = "One line.\n\n  Two   words \tand\x1fmore \n"
    assert normalise(text) == reference(text) == "One line.\nTwo words andmore"


def test_normalising_twice_changes_nothing_for_any_code_point() -> None:
    """`loose(text, normalised=True)` relies on it: every assigned code point, alone, between
    letters and before a combining accent, normalises to a text that normalising leaves
    alone (a line each, 4,096 code points at a time; a failing block is searched for its
    culprit). Unassigned and private-use code points pass through every step unchanged."""
    codes = [
        c
        for c in range(0x110000)
        if unicodedata.category(chr(c)) not in ("Cn", "Co", "Cs")  # Cs: surrogates, no text
    ]
    for start in range(0, len(codes), 4096):
        block = codes[start : start + 4096]
        text = "\n".join(f"{c}\na{c}b\n{c}\u0301\n {c}\t{c} " for c in map(chr, block))
        once = normalise(text)
        if normalise(once) != once:
            culprits = [hex(c) for c in block if normalise(normalise(chr(c))) != normalise(chr(c))]
            raise AssertionError(f"normalising twice differs near {culprits or hex(block[0])}")


@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet=st.sampled_from(_TRICKY + "\u4e00\u0e01"), max_size=40))
def test_words_of_normalised_text_are_counted_as_split_counts_them(text: str) -> None:
    normalised = normalise(text)
    assert count_tokens(normalised, normalised=True) == len(tokens(normalised))


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=200))
def test_words_of_any_normalised_text_are_counted_as_split_counts_them(text: str) -> None:
    normalised = normalise(text)
    assert count_tokens(normalised, normalised=True) == len(tokens(normalised))
