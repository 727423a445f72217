"""changes.boundary: the boundary-shift test (a change the visible text explains)."""

from __future__ import annotations

from preserve.changes.boundary import explained_spans
from preserve.changes.diff import word_diff
from tests.changes.helpers import ARTICLE, BASE, P1, P2, P3, P4, P5, P6, TITLE


def test_short_span_needs_its_context_to_be_explained() -> None:
    # "not" is removed, and "not" still occurs elsewhere on the new page: without the
    # context window it would wrongly be explained away.
    old = "He said he did not deny the report.\nOthers did not comment."
    new = "He said he did deny the report.\nOthers did not comment."
    hunks = word_diff(old, new)
    assert explained_spans(old, new, hunks, old_visible=old, new_visible=new) == (False,)


def test_heading_pulled_in_is_explained() -> None:
    new = f"{TITLE}\n{ARTICLE}"
    hunks = word_diff(ARTICLE, new)
    assert explained_spans(ARTICLE, new, hunks, old_visible=BASE.visible_text, new_visible="") == (
        True,
    )


def test_removed_span_still_on_the_page_is_explained() -> None:
    new = "\n".join([P1, P2, P3, P4, P5])
    hunks = word_diff(ARTICLE, new)
    visible = f"{new}\nSidebar\n{P6}"
    assert explained_spans(ARTICLE, new, hunks, old_visible="", new_visible=visible) == (True,)
    assert explained_spans(ARTICLE, new, hunks, old_visible="", new_visible=new) == (False,)


def test_nothing_is_explained_without_visible_text() -> None:
    hunks = word_diff(ARTICLE, f"{TITLE}\n{ARTICLE}")
    assert explained_spans(
        ARTICLE, f"{TITLE}\n{ARTICLE}", hunks, old_visible="", new_visible=""
    ) == (False,)
