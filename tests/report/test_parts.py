"""Pure parts of the report: passages of context, and the timeline's lanes."""

from __future__ import annotations

from datetime import timedelta

from preserve.changes.diff import word_diff
from preserve.report import timeline
from preserve.report.passages import passages
from preserve.times import iso
from tests.support.clock import T0


def test_passages_keep_one_paragraph_of_context_and_mark_gaps() -> None:
    old = "\n".join(f"Paragraph {i} says nothing new at all." for i in range(10))
    new = old.replace("Paragraph 5 says nothing", "Paragraph 5 says never")
    new += "\nA whole new closing paragraph."
    shown = passages(old, new, word_diff(old, new))
    texts = [" ".join(s.text for s in p.segments) for p in shown]
    assert [p.changed for p in shown] == [False, True, False, False, True]
    assert texts[0].startswith("Paragraph 4") and texts[2].startswith("Paragraph 6")
    assert [p.gap_before for p in shown] == [True, False, False, True, False]
    assert ("negation", "never") in [(s.mark, s.text) for s in shown[1].segments]
    assert [s.op for s in shown[4].segments] == ["insert"]


def test_a_lane_never_holds_more_marks_than_pixels() -> None:
    from preserve.report.model import Lane, Mark

    marks = tuple(Mark(iso(T0 + timedelta(hours=i)), "unchanged") for i in range(5000))
    svg = timeline.timeline_svg([Lane("busy", "https://example.org/", marks)])
    assert svg.count("<circle") <= timeline.SVG_WIDTH // 3 + 1
