"""changes.words: which words are numbers, in English and in the languages most cited sources
come in (a changed number word is a changed number, as "forty" → "four" is)."""

from __future__ import annotations

import pytest

from preserve.changes.diff import word_diff
from preserve.changes.summary import summarise
from preserve.changes.words import is_number

# (language, before, after): a number word changed for another in a sentence of its own.
CHANGED_NUMBER_WORDS = [
    ("en", "forty", "four"),
    ("ru", "сорок", "четыре"),
    ("ru", "шестьсот", "семьсот"),
    ("uk", "двадцять", "тридцять"),
    ("uk", "сімдесят", "вісімдесят"),
    ("de", "vierzig", "vier"),
    ("de", "vierzig", "fünfzig"),
    ("de", "elf", "zwölf"),
    ("de", "dreiundzwanzig", "vierundzwanzig"),
    ("de", "zweihundert", "dreihundert"),
    ("fr", "quarante", "quatre"),
    ("fr", "soixante", "quatre-vingts"),
    ("fr", "vingt-deux", "vingt-et-un"),
    ("fr", "onze", "douze"),
    ("es", "sesenta", "setenta"),
    ("es", "quince", "veintidós"),
    ("es", "quinientos", "seiscientos"),
    ("it", "quaranta", "cinquanta"),
    ("it", "undici", "ventotto"),
    ("it", "duecento", "trecento"),
    ("pt", "quarenta", "cinquenta"),
    ("pt", "treze", "quinze"),
]


@pytest.mark.parametrize("language, before, after", CHANGED_NUMBER_WORDS)
def test_a_changed_number_word_is_a_changed_number(language: str, before: str, after: str) -> None:
    old = f"The report ({language}) counted {before} soldiers at the border."
    new = f"The report ({language}) counted {after} soldiers at the border."

    [hunk] = word_diff(old, new)

    assert is_number(before) and is_number(after)
    assert hunk.numbers and (hunk.old, hunk.new) == ((before,), (after,))
    assert summarise(old, new).numbers_changed == ((before, after),)


@pytest.mark.parametrize(
    "word",
    # Articles that are also the word for "one", English words that are numbers elsewhere,
    # words that merely contain a number word, hyphenated words not all of numbers.
    ["un", "une", "una", "uno", "um", "uma", "once", "seize", "doze", "hundertmal", "vingt-ans"],
)
def test_words_that_are_not_numbers(word: str) -> None:
    assert not is_number(word)


def test_case_and_punctuation_do_not_hide_a_number_word() -> None:
    assert is_number("Vierzig,") and is_number("«Quarante»") and is_number("СОРОК.")
