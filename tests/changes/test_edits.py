"""changes.classify: what an edit names (the changed span, mixed hunks, links, the title,
the byline and the stated date)."""

from __future__ import annotations

import json

import pytest

from preserve.changes.boundary import explained_spans, unexplained_hunks
from preserve.changes.classify import classify
from preserve.changes.diff import word_diff
from preserve.changes.model import MetadataChange, metadata_json
from tests.changes.helpers import (
    ARTICLE,
    BASE,
    LINKS,
    NEGATED,
    P1,
    P2,
    P3,
    P4,
    P5,
    P6,
    T0,
    TITLE,
    page,
)


def test_edit_names_exactly_the_negated_span() -> None:
    outcome = classify(BASE, page(NEGATED), now=T0)
    edit = outcome.edit
    assert edit is not None and outcome.text_equal is False
    assert [(h.old, h.new) for h in edit.hunks] == [(("denied",), ("did", "not", "deny"))]
    assert (edit.words_removed, edit.words_added) == (1, 3)
    assert edit.first_changed_old == P1
    assert edit.first_changed_new == P1.replace("denied", "did not deny")
    assert edit.negations_removed == ("denied",)
    assert set(edit.negations_added) == {"not", "deny"}
    assert edit.hunks[0].negations


def test_real_edit_inside_a_boundary_shift_reports_only_the_edit() -> None:
    # The H1 is pulled in (explained) and a number is changed (not explained).
    text = f"{TITLE}\n{ARTICLE.replace('40 million', '4 million')}"
    outcome = classify(BASE, page(text), now=T0)
    assert (outcome.outcome, outcome.reason) == ("edited", "text")
    assert outcome.edit is not None
    assert [(h.old, h.new) for h in outcome.edit.hunks] == [(("40",), ("4",))]
    assert outcome.edit.numbers_changed == (("40 million", "4 million"),)


# A real edit and a boundary shift in one hunk: the headline and byline are
# pulled into the main text (the old page showed them) and the edit touches the first words
# after them, so the word diff reports both as one hunk; only the edit may be reported.
HEAD = f"{TITLE}\nBy Jane Doe"
CORRECTION = "Correction: an earlier version misstated the date of the interview."
NO_FORMER = P1.replace("The former", "No former")
MERGED = "Officials said on Friday that the inquiry would reopen."

# id, old main text, new main text, (outcome, reason), reported hunks as (old, new) strings
MIXED_CASES = [
    (
        "headline-and-negation-in-one-hunk",
        ARTICLE,
        "\n".join([HEAD, NO_FORMER, P2, P3, P4, P5, P6]),
        ("edited", "text"),
        [("The", "No")],
    ),
    ("headline-only", ARTICLE, f"{HEAD}\n{ARTICLE}", ("cosmetic", "boundary-shift"), []),
    (
        "headline-and-new-paragraph",
        ARTICLE,
        f"{HEAD}\n{CORRECTION}\n{ARTICLE}",
        ("edited", "text"),
        [("", CORRECTION)],
    ),
    (
        "new-paragraph-only",
        ARTICLE,
        f"{P1}\n{CORRECTION}\n{ARTICLE[len(P1) + 1 :]}",
        ("edited", "text"),
        [("", CORRECTION)],
    ),
    (
        # The extractor merged the headline into the paragraph a sentence was added to: the
        # headline, a whole line of the old page at the start of the paragraph, is shed.
        "headline-merged-into-an-added-sentence",
        ARTICLE,
        f"{TITLE} {MERGED} {ARTICLE}",
        ("edited", "text"),
        [("", MERGED)],
    ),
    (
        # A sidebar heading the old extraction took in is dropped (it is still on the page)
        # in the same hunk as a paragraph really removed.
        "sidebar-dropped-and-paragraph-removed",
        f"{ARTICLE}\nMost read",
        "\n".join([P1, P2, P3, P4, P5]),
        ("edited", "text"),
        [(P6, "")],
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "expected", "reported"),
    [case[1:] for case in MIXED_CASES],
    ids=[case[0] for case in MIXED_CASES],
)
def test_mixed_hunk_reports_only_its_unexplained_part(
    old: str, new: str, expected: tuple[str, str], reported: list[tuple[str, str]]
) -> None:
    outcome = classify(page(old), page(new, nonce="redesign"), now=T0)
    assert (outcome.outcome, outcome.reason) == expected
    if not reported:
        assert outcome.edit is None and outcome.text_equal is True
        return
    edit = outcome.edit
    assert edit is not None and outcome.text_equal is False
    assert [(" ".join(h.old), " ".join(h.new)) for h in edit.hunks] == reported
    assert edit.words_removed == sum(len(old.split()) for old, _ in reported)
    assert edit.words_added == sum(len(new.split()) for _, new in reported)


def test_headline_and_negation_in_one_hunk_summarise_only_the_negation() -> None:
    text = "\n".join([HEAD, NO_FORMER, P2, P3, P4, P5, P6])
    [hunk] = word_diff(ARTICLE, text)
    assert " ".join(hunk.new) == f"{TITLE} By Jane Doe No"  # one hunk, mostly explained
    visible = page(text).visible_text
    assert explained_spans(
        ARTICLE, text, [hunk], old_visible=BASE.visible_text, new_visible=visible
    ) == (False,)
    [only] = unexplained_hunks(
        ARTICLE, text, [hunk], old_visible=BASE.visible_text, new_visible=visible
    )
    assert (only.old, only.new) == (("The",), ("No",))
    edit = classify(BASE, page(text), now=T0).edit
    assert edit is not None
    assert (edit.words_removed, edit.words_added) == (1, 1)
    assert edit.negations_added == ("no",) and edit.negations_removed == ()
    assert (edit.first_changed_old, edit.first_changed_new) == (P1, NO_FORMER)
    assert edit.hunks == (only,)
    assert only.op == "replace" and only.negations and only.after.startswith("former minister")
    assert edit.percent_changed < 2


def test_a_line_inside_a_paragraph_does_not_explain_an_insertion() -> None:
    # An author box reads "Jane Doe"; the same two words put into a sentence are an edit.
    visible = f"Home\nJane Doe\n{ARTICLE}"
    text = ARTICLE.replace("the minister said", "the minister Jane Doe said")
    hunks = word_diff(ARTICLE, text)
    kept = unexplained_hunks(ARTICLE, text, hunks, old_visible=visible, new_visible=text)
    assert [h.new for h in kept] == [("Jane", "Doe")]


def test_unexplained_hunks_keeps_a_wholly_unexplained_hunk_as_it_is() -> None:
    hunks = word_diff(ARTICLE, NEGATED)
    visible = BASE.visible_text
    assert unexplained_hunks(ARTICLE, NEGATED, hunks, old_visible=visible, new_visible="") == hunks


def test_links_only_reports_retargeted_removed_and_added() -> None:
    new_links = (
        (
            "https://radio.example/interview/123?utm_source=x",
            "interview with a regional radio station",
        ),
        ("https://archive.example/memo-v2.pdf", "leaked memo"),
        ("https://court.example/ruling", "ruling"),
    )
    outcome = classify(BASE, page(links=new_links), now=T0)
    links = outcome.links
    assert links is not None
    assert [(r.anchor, r.old_url, r.new_url) for r in links.retargeted] == [
        ("leaked memo", "https://docs.example/memo.pdf", "https://archive.example/memo-v2.pdf")
    ]
    assert [link.url for link in links.removed] == ["https://inquiry.example/report"]
    assert [link.url for link in links.added] == ["https://court.example/ruling"]
    assert links.added_urls() == [
        "https://court.example/ruling",
        "https://archive.example/memo-v2.pdf",
    ]
    assert len(links.describe()) == 3
    json.dumps(links.to_json())


def test_edited_article_also_reports_its_citations() -> None:
    outcome = classify(BASE, page(NEGATED, links=LINKS[:2]), now=T0)
    assert outcome.reason == "text"
    assert outcome.links is not None and len(outcome.links.removed) == 1


def test_title_change_is_carried() -> None:
    outcome = classify(BASE, page(title="Minister admits it"), now=T0)
    assert outcome.metadata == (MetadataChange("title", TITLE, "Minister admits it"),)
    assert outcome.text_equal is True
    assert metadata_json(outcome.metadata) == {
        "title": {"before": TITLE, "after": "Minister admits it"}
    }


DATED = page(byline="By Jane Doe", modified="2026-11-01T08:00:00Z")


@pytest.mark.parametrize(
    ("changes", "expected", "rule"),
    [
        ({"byline": "By John Roe"}, ("edited", "byline-only"), "byline.differs"),
        ({"byline": ""}, ("edited", "byline-only"), "byline.differs"),  # the byline removed
        (
            {"byline": "By John Roe", "title": "Minister admits it"},
            ("edited", "title-and-byline"),
            "title+byline.differ",
        ),
        ({"byline": "By John Roe", "links": LINKS[:2]}, ("edited", "byline-and-links"), None),
        (
            {"byline": "By John Roe", "title": "Minister admits it", "links": LINKS[:2]},
            ("edited", "title-byline-and-links"),
            "title+byline+links.differ",
        ),
        ({"modified": "2026-11-02T09:30:00Z"}, ("cosmetic", "date-modified"), "modified.differs"),
        ({"byline": "  By Jane   Doe "}, ("cosmetic", "markup"), "text.equal"),  # spaces only
    ],
)
def test_byline_and_stated_date_are_compared_each_on_its_own(
    changes: dict[str, object], expected: tuple[str, str], rule: str | None
) -> None:
    values: dict[str, object] = {"byline": "By Jane Doe", "modified": "2026-11-01T08:00:00Z"}
    values.update(changes)
    outcome = classify(DATED, page(nonce="new bytes", **values), now=T0)  # type: ignore[arg-type]
    assert (outcome.outcome, outcome.reason) == expected
    assert rule is None or outcome.rule == rule
    assert outcome.text_equal is True
    changed = {c.field: (c.before, c.after) for c in outcome.metadata}
    for field in ("byline", "modified"):
        if field in changes and expected[1] != "markup":
            assert changed[field] == (getattr(DATED, field), changes[field] or None)


def test_a_byline_or_date_the_baseline_never_recorded_is_no_change() -> None:
    # Captures made before preserve recorded them hold NULL: unknown, not "none".
    unknown = page()
    assert unknown.byline is None and unknown.modified is None
    current = page(nonce="new bytes", byline="By Jane Doe", modified="2026-11-02")
    outcome = classify(unknown, current, now=T0)
    assert (outcome.outcome, outcome.reason, outcome.metadata) == ("cosmetic", "markup", ())


def test_an_edit_under_the_same_stated_date_is_silent() -> None:
    silent = classify(DATED, page(NEGATED, byline="By Jane Doe", modified=DATED.modified), now=T0)
    assert (silent.outcome, silent.reason, silent.silent_edit) == ("edited", "text", True)
    assert silent.metadata == ()
    owned = classify(DATED, page(NEGATED, byline="By Jane Doe", modified="2026-11-03"), now=T0)
    assert (owned.reason, owned.silent_edit) == ("text", False)
    assert owned.metadata == (MetadataChange("modified", DATED.modified, "2026-11-03"),)
    undated = page(byline="By Jane Doe", modified="")
    never = classify(undated, page(NEGATED, byline="By Jane Doe", modified=""), now=T0)
    assert (never.reason, never.silent_edit) == ("text", False)  # no date stated: no claim
    same_text = classify(
        DATED, page(nonce="x", byline="By Jane Doe", modified=DATED.modified), now=T0
    )
    assert same_text.silent_edit is False
