"""changes.diff: the word diff."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from preserve.changes.boundary import explained_spans, unexplained_hunks
from preserve.changes.classify import classify
from preserve.changes.diff import word_diff
from preserve.changes.summary import summarise
from tests.changes.helpers import ARTICLE, NEGATED, P1, P2, P3, P4, P5, P6, T0, page


def test_word_diff_hunk_has_paragraph_context() -> None:
    [hunk] = word_diff(ARTICLE, NEGATED)
    assert (hunk.op, hunk.old, hunk.new) == ("replace", ("denied",), ("did", "not", "deny"))
    assert hunk.before == "The former minister"
    assert hunk.after.startswith("on Tuesday that he had ordered")
    assert (hunk.context_before, hunk.context_after) == ("", P2)
    assert (hunk.old_paragraph, hunk.new_paragraph) == (0, 0)
    assert hunk.negations and not hunk.numbers
    segments = list(hunk.segments())
    assert segments[1:3] == [("delete", "denied"), ("insert", "did not deny")]


def test_word_diff_flags_numbers() -> None:
    [hunk] = word_diff(ARTICLE, ARTICLE.replace("40 million", "4 million"))
    assert hunk.numbers and not hunk.negations
    assert (hunk.old, hunk.new) == (("40",), ("4",))


@pytest.mark.parametrize(
    "before, after",
    [
        ("В результате удара погибли два солдата.", "В результате удара погибли три солдата."),
        ("Загинули двоє, поранено дві тисячі людей.", "Загинули двоє, поранено три тисячі людей."),
        ("Il y avait vingt soldats.", "Il y avait trente soldats."),
        ("Es gab zwei Tote.", "Es gab drei Tote."),
        ("Murieron cinco personas.", "Murieron seis personas."),
    ],
)
def test_a_number_written_as_a_word_is_a_number_in_other_languages_too(
    before: str, after: str
) -> None:
    """A changed number in words is reported as a changed number, as "two" → "three" is."""
    [hunk] = word_diff(before, after)
    assert hunk.numbers
    assert summarise(before, after).numbers_changed


def test_articles_are_not_numbers() -> None:
    hunks = word_diff("Un soldat est mort.", "Une soldate est morte.")
    assert hunks and not any(hunk.numbers for hunk in hunks)


def test_word_diff_paragraph_removed_and_inserted() -> None:
    removed = "\n".join([P1, P2, P4, P5, P6])
    [hunk] = word_diff(ARTICLE, removed)
    assert hunk.op == "delete" and " ".join(hunk.old) == P3
    assert (hunk.context_before, hunk.context_after) == (P2, P4)
    inserted = ARTICLE + "\nCorrection: an earlier version misstated the date of the interview."
    [hunk] = word_diff(ARTICLE, inserted)
    assert hunk.op == "insert" and hunk.new[0] == "Correction:"
    assert hunk.context_before == P6 and hunk.old_paragraph == 6
    summary = summarise(ARTICLE, inserted)
    assert summary.first_changed_old == ""
    assert summary.first_changed_new.startswith("Correction:")


def test_word_diff_marks_a_moved_paragraph() -> None:
    hunks = word_diff(ARTICLE, "\n".join([P1, P2, P3, P5, P4, P6]))
    assert hunks and all(h.moved for h in hunks)
    assert summarise(ARTICLE, "\n".join([P1, P2, P3, P5, P4, P6])).moves == 1


def test_word_diff_short_span_is_never_a_move() -> None:
    hunks = word_diff("he did not deny it\nand that is all", "he did deny it\nand that is not all")
    assert not any(h.moved for h in hunks)


def test_word_diff_non_ascii() -> None:
    old = "Министр отрицал, что отдал приказ о прослушке.\nРасследование продолжается."
    new = "Министр не отрицал, что отдал приказ о прослушке.\nРасследование продолжается."
    [hunk] = word_diff(old, new)
    assert (hunk.op, hunk.old, hunk.new) == ("insert", (), ("не",))
    assert hunk.before == "Министр" and hunk.negations
    summary = summarise(old, new)
    assert summary.negations_added == ("не",)
    assert summary.first_changed_new == "Министр не отрицал, что отдал приказ о прослушке."
    json.dumps(summary.to_json(), ensure_ascii=False)


def test_word_diff_include_equal_renders_the_whole_new_text() -> None:
    hunks = word_diff(ARTICLE, NEGATED, include_equal=True)
    assert {h.op for h in hunks} == {"equal", "replace"}
    assert " ".join(w for h in hunks for w in h.new) == " ".join(NEGATED.split())


def long_article(words: int = 5000, seed: int = 7) -> str:
    rng = random.Random(seed)
    vocabulary = [f"w{i}" for i in range(400)] + ["the", "of", "and", "a", "to", "in"] * 30
    paragraphs: list[str] = []
    while sum(len(p.split()) for p in paragraphs) < words:
        sentence_count = rng.randint(2, 5)
        paragraphs.append(
            " ".join(
                " ".join(rng.choice(vocabulary) for _ in range(rng.randint(8, 20))) + "."
                for _ in range(sentence_count)
            )
        )
    return "\n".join(paragraphs)


def test_word_diff_finds_one_negation_in_5000_words() -> None:
    old = long_article()
    paragraphs = old.split("\n")
    middle = len(paragraphs) // 2
    words = paragraphs[middle].split()
    paragraphs[middle] = " ".join([*words[:4], "denied", *words[4:]])
    edited = "\n".join(paragraphs)
    new = edited.replace(" denied ", " did not deny ")
    [hunk] = word_diff(edited, new)
    assert (hunk.old, hunk.new) == (("denied",), ("did", "not", "deny"))
    assert hunk.old_paragraph == middle and hunk.negations
    # and classify calls it an edit of exactly that span
    outcome = classify(page(edited, links=()), page(new, links=()), now=T0)
    assert (outcome.outcome, outcome.reason) == ("edited", "text")
    assert outcome.edit is not None and len(outcome.edit.hunks) == 1


def test_word_diff_and_boundary_test_on_5000_words() -> None:
    # Correctness only: how fast this runs is measured by `make bench`, not asserted here.
    old = long_article()
    paragraphs = old.split("\n")
    for i in range(3, len(paragraphs), len(paragraphs) // 4):  # four edits
        paragraphs[i] = paragraphs[i].replace(" the ", " not the ", 1) + " Added words here."
    new = "\n".join(["A headline pulled in", *paragraphs])
    visible = f"Home\nA headline pulled in\n{old}\nFooter"
    hunks = word_diff(old, new)
    kept = unexplained_hunks(old, new, hunks, old_visible=visible, new_visible=new)
    assert sum("not" in h.new for h in kept) == 4  # the four negations, each reported
    assert sum("Added" in h.new for h in kept) == 4
    assert "pulled" not in " ".join(w for h in kept for w in h.new)


WORDS = st.sampled_from(["a", "b", "c", "not", "40", "Мир", "end.", "x,"])
TEXTS = st.lists(st.lists(WORDS, min_size=1, max_size=8), max_size=6).map(
    lambda paragraphs: "\n".join(" ".join(p) for p in paragraphs)
)


@settings(max_examples=200, deadline=None)
@given(TEXTS, TEXTS)
def test_word_diff_reconstructs_both_sides(old: str, new: str) -> None:
    hunks = word_diff(old, new, include_equal=True)
    assert [w for h in hunks for w in h.old] == old.split()
    assert [w for h in hunks for w in h.new] == new.split()
    changed = [h for h in hunks if h.op != "equal"]
    assert (old.split() == new.split()) == (not changed)
    verdicts = explained_spans(old, new, changed, old_visible=old, new_visible=new)
    assert len(verdicts) == len(changed)
    summary = summarise(old, new)
    assert summary.words_added + summary.words_removed <= len(old.split()) + len(new.split())
