"""changes.classify on the same main text in other bytes: an edit of the prose the page shows
outside it (`outside-main-text`), a page whose rest could not be compared (`unverified`),
noise (`markup`); and PDFs, compared by their text when they have one."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from preserve.changes.classify import classify
from preserve.changes.model import Outcome, Snapshot
from tests.changes.helpers import ARTICLE, NEGATED, T0, TITLE, page

NAV = "Home News World Politics"
CORRECTION = (
    "Correction: an earlier version of this story said the vote was 7 to 2 in favour of the plan."
)
CORRECTED = CORRECTION.replace("7 to 2", "5 to 2")


def around(*after: str, before: tuple[str, ...] = ()) -> str:
    """A visible text: nav, headline, byline, `before`, the main text, `after`, footer."""
    return "\n".join([NAV, TITLE, "By Jane Doe", *before, ARTICLE, *after, "(c) News"])


def compared(old_visible: str, new_visible: str, **fields: Any) -> Outcome:
    """The outcome for two captures with the same main text and these visible texts (the
    bytes differ, as they do when anything visible does)."""
    baseline = page(visible=old_visible, nonce="before", **fields)
    current = page(visible=new_visible, nonce="after", **fields)
    return classify(baseline, current, now=T0)


# --- an edit outside the main text ----------------------------------------------------------------


def test_a_number_changed_in_a_correction_box_is_an_edit_outside_the_main_text() -> None:
    outcome = compared(around(CORRECTION, "Most read"), around(CORRECTED, "Most read"))

    assert (outcome.outcome, outcome.reason, outcome.rule, outcome.confirmed) == (
        "edited",
        "outside-main-text",
        "visible.prose-edited",
        True,
    )
    assert outcome.text_equal is True  # the main text itself is the same
    assert outcome.passages == (CORRECTION, CORRECTED)
    edit = outcome.edit
    assert edit is not None
    assert (edit.words_added, edit.words_removed) == (1, 1)
    assert edit.numbers_changed == (("7", "5"),)
    assert (edit.first_changed_old, edit.first_changed_new) == (CORRECTION, CORRECTED)
    ((old, new),) = [(h.old, h.new) for h in edit.hunks]
    assert (old, new) == (("7",), ("5",))


def test_a_paragraph_cut_from_between_two_paragraphs_outside_the_main_text() -> None:
    standfirst = "The harbour plan was approved after a night of debate in the council chamber."
    note = "This story was first published in the evening edition of the harbour paper."
    outcome = compared(
        around(before=(standfirst, CORRECTION, note)), around(before=(standfirst, note))
    )

    assert (outcome.outcome, outcome.reason) == ("edited", "outside-main-text")
    assert outcome.passages == (CORRECTION, "")
    assert outcome.edit is not None and outcome.edit.words_added == 0
    assert outcome.edit.words_removed == len(CORRECTION.split())


def test_several_passages_edited_are_all_in_the_passages() -> None:
    caption = "The new moorings in the harbour, seen from the air. Photo: Coast Agency"
    outcome = compared(
        around(caption, CORRECTION),
        around(caption.replace("the air", "the pier"), CORRECTED),
    )

    assert outcome.passages == (
        f"{caption}\n{CORRECTION}",
        caption.replace("the air", "the pier") + "\n" + CORRECTED,
    )
    assert outcome.edit is not None
    assert (outcome.edit.words_added, outcome.edit.words_removed) == (2, 2)


def test_a_word_changed_in_a_caption_inside_the_article_is_an_edit_outside_the_main_text() -> None:
    """A line too short to be prose (a caption without a sentence), right after a paragraph
    of the main text: its one word changed is an edit; the same line in the sidebar, or a
    count in its place, is the page around the article."""
    caption = "Minister at the harbour inquiry (Coast Agency)"
    changed = caption.replace("harbour ", "")

    edited = compared(around(caption), around(changed))  # right after the last paragraph
    in_sidebar = compared(around("Most read", caption), around("Most read", changed))
    counted = compared(around("Comments on this story: 12"), around("Comments on this story: 13"))

    assert (edited.outcome, edited.reason) == ("edited", "outside-main-text")
    assert edited.passages == (caption, changed)
    assert in_sidebar.outcome == counted.outcome == "cosmetic"


def test_an_edit_outside_the_main_text_under_the_same_stated_date_is_silent() -> None:
    same_date = compared(around(CORRECTION), around(CORRECTED), modified="2026-11-01T08:00Z")
    no_date = compared(around(CORRECTION), around(CORRECTED), modified="")

    assert (same_date.reason, same_date.silent_edit) == ("outside-main-text", True)
    assert (no_date.reason, no_date.silent_edit) == ("outside-main-text", False)


def test_an_edit_outside_the_main_text_keeps_the_title_that_changed_with_it() -> None:
    baseline = page(visible=around(CORRECTION))
    current = page(visible=around(CORRECTED), title="Harbour plan approved, 5 to 2")

    outcome = classify(baseline, current, now=T0)

    assert (outcome.outcome, outcome.reason) == ("edited", "outside-main-text")
    assert [(m.field, m.after) for m in outcome.metadata] == [
        ("title", "Harbour plan approved, 5 to 2")
    ]


# --- not an edit ----------------------------------------------------------------------------------


def test_only_the_page_around_the_article_changing_is_cosmetic_markup() -> None:
    old = around("Most read", "Storm closes coast road", "Mayor opens bridge", "Comments (12)")
    new = around(
        "Most read",
        "Fishing quota cut again",
        "School roof repaired",
        "Comments (14)",
        "Ana wrote: I think the council made the right choice for the harbour this time.",
        "Updated 5 minutes ago",
    )

    outcome = compared(old, new)

    assert (outcome.outcome, outcome.reason, outcome.rule) == ("cosmetic", "markup", "text.equal")
    assert (outcome.text_equal, outcome.passages, outcome.edit) == (True, None, None)


def test_a_main_text_edit_is_reported_as_such_not_as_outside() -> None:
    outcome = classify(
        page(visible=around(CORRECTION)), page(NEGATED, visible=around(CORRECTED)), now=T0
    )

    assert (outcome.outcome, outcome.reason, outcome.passages) == ("edited", "text", None)


# --- a side whose visible text could not be had ---------------------------------------------------


def missing(snapshot: Snapshot) -> Snapshot:
    """The snapshot as check has it when its WARC record is lost."""
    return replace(snapshot, visible_text="", visible_missing=True)


def test_a_baseline_without_its_visible_text_is_unverified_never_unchanged() -> None:
    baseline = missing(page(visible=around(CORRECTION), nonce="before"))

    for current in (
        page(visible=around(CORRECTED), nonce="after"),  # an edit it cannot see
        page(visible=around(CORRECTION), nonce="after"),  # or none
    ):
        outcome = classify(baseline, current, now=T0)
        assert (outcome.outcome, outcome.reason, outcome.rule) == (
            "cosmetic",
            "unverified",
            "visible.missing",
        )
        assert (outcome.text_equal, outcome.passages) == (True, None)


def test_a_recapture_without_its_visible_text_is_unverified_too() -> None:
    both = classify(
        missing(page(nonce="before")),
        missing(page(visible=around(CORRECTED), nonce="after")),
        now=T0,
    )
    current = classify(page(nonce="before"), missing(page(nonce="after")), now=T0)

    assert (both.outcome, both.reason) == ("cosmetic", "unverified")
    assert (current.outcome, current.reason) == ("cosmetic", "unverified")


def test_what_can_be_compared_still_decides_when_the_visible_text_is_missing() -> None:
    """The title changed: an edit, whatever the rest of the page did."""
    outcome = classify(
        missing(page(nonce="before")), page(title="Former minister admits wiretap"), now=T0
    )

    assert (outcome.outcome, outcome.reason) == ("edited", "title-only")


def test_the_same_bytes_need_no_visible_text() -> None:
    outcome = classify(missing(page()), page(), now=T0)

    assert (outcome.outcome, outcome.rule) == ("unchanged", "payload.equal")


# --- PDFs -----------------------------------------------------------------------------------------

ANNEX = (
    "Technical annex, 2015\nThe crossing point was surveyed in March 2015.\n"
    "Observers counted 40 vehicles."
)


def document(
    text: str = ANNEX, *, nonce: str = "", title: str = "Technical annex", **fields: Any
) -> Snapshot:
    """A PDF: its text layer is its main text and its visible text."""
    return page(text, kind="pdf", visible=text, links=(), title=title, nonce=nonce, **fields)


def test_a_pdf_whose_words_changed_is_edited_with_a_word_diff() -> None:
    outcome = classify(document(), document(ANNEX.replace("40 vehicles", "14 vehicles")), now=T0)

    assert (outcome.outcome, outcome.reason, outcome.rule) == ("edited", "text", "text.edited")
    assert outcome.edit is not None
    ((old, new),) = [(h.old, h.new) for h in outcome.edit.hunks]
    assert (old, new) == (("40",), ("14",))
    assert outcome.edit.numbers_changed == (("40", "14"),)


def test_a_pdf_saved_again_with_the_same_text_is_cosmetic_resaved() -> None:
    outcome = classify(document(nonce="producer A"), document(nonce="producer B"), now=T0)

    assert (outcome.outcome, outcome.reason, outcome.rule) == (
        "cosmetic",
        "resaved",
        "document.text-equal",
    )
    assert outcome.text_equal is True


def test_a_pdf_saved_again_under_another_title_is_a_title_edit() -> None:
    outcome = classify(document(), document(title="Annex withdrawn"), now=T0)

    assert (outcome.outcome, outcome.reason) == ("edited", "title-only")


def test_a_pdf_without_a_text_layer_is_compared_by_its_bytes() -> None:
    scan = document("", nonce="scan 1")

    changed = classify(scan, document("", nonce="scan 2"), now=T0)
    same = classify(scan, document("", nonce="scan 1"), now=T0)

    assert (changed.outcome, changed.reason, changed.rule) == (
        "edited",
        "payload",
        "payload.differs",
    )
    assert (changed.text_equal, changed.edit) == (None, None)
    assert (same.outcome, same.rule) == ("unchanged", "payload.equal")


def test_a_pdf_that_lost_its_text_layer_is_an_edit_of_its_bytes_naming_what_went() -> None:
    outcome = classify(document(), document("", nonce="scanned"), now=T0)

    assert (outcome.outcome, outcome.reason, outcome.text_equal) == ("edited", "payload", False)
    assert outcome.edit is not None and outcome.edit.words_removed == len(ANNEX.split())


def test_a_page_that_became_a_pdf_changed_kind() -> None:
    outcome = classify(page(), document(ARTICLE), now=T0)

    assert (outcome.outcome, outcome.reason, outcome.rule) == (
        "edited",
        "kind-changed",
        "kind.changed",
    )


# --- a side without text to speak of --------------------------------------------------------------

LOADING = page("Loading...", links=(), visible="Loading...", title="Harbour news", nonce="app")
STATEMENT = "The ministry will publish the full list of harbour contracts on its site next week."
NOTICE = "Ferry tickets bought online can be refunded at the port office until the end of May."


def test_a_script_shell_in_place_of_the_article_is_restricted_not_gone() -> None:
    outcome = classify(page(), LOADING, now=T0)

    assert (outcome.outcome, outcome.reason, outcome.rule) == (
        "restricted",
        "no-text",
        "text.no-text",
    )


def test_the_article_in_place_of_a_script_shell_is_its_text_arriving() -> None:
    outcome = classify(LOADING, page(), now=T0)

    assert (outcome.outcome, outcome.reason, outcome.rule) == ("edited", "text", "text.edited")
    assert outcome.edit is not None and outcome.edit.words_removed == 1


def test_a_short_page_replaced_by_another_short_page_is_still_replaced() -> None:
    outcome = classify(page(STATEMENT, links=()), page(NOTICE, links=()), now=T0)

    assert (outcome.outcome, outcome.reason) == ("gone", "replaced")


def test_a_thin_page_that_says_what_it_is_is_judged_by_what_it_says() -> None:
    parked = page("This domain is for sale. Buy this domain today.", links=(), title="Parked")
    missing = page("Nothing here.", links=(), title="404 Not Found")

    assert classify(page(), parked, now=T0).reason == "parked"
    assert classify(page(), missing, now=T0).reason == "soft-404"
