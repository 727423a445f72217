"""An edit's passages: the changed paragraphs with context around them, as word segments."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby

from preserve.changes.diff import Hunk
from preserve.changes.words import is_negation, is_number
from preserve.report.model import Paragraph, Segment

# Unchanged paragraphs shown either side of a changed one.
CONTEXT_PARAGRAPHS = 1


def passages(
    old: str, new: str, hunks: Sequence[Hunk], context: int = CONTEXT_PARAGRAPHS
) -> list[Paragraph]:
    """The changed paragraphs of a diff with `context` paragraphs either side, each as
    segments to render with <del>/<ins>. `hunks` is `word_diff(old, new)` (the changes, in
    order); the equal words between them are taken from the texts.

    A paragraph of the display starts wherever either text starts one, so a deleted or an
    inserted paragraph stands on its own."""
    old_words = old.split()
    old_para, new_para = _paragraph_of(old), _paragraph_of(new)
    shown: list[list[tuple[str, str]]] = []
    last_old: int | None = None
    last_new: int | None = None

    def add(op: str, words: Sequence[str], in_old: int | None, in_new: int | None) -> None:
        """Words that share their paragraphs: a new display paragraph if either changed."""
        nonlocal last_old, last_new
        if (
            not shown
            or (in_old is not None and last_old is not None and in_old != last_old)
            or (in_new is not None and last_new is not None and in_new != last_new)
        ):
            shown.append([])
        shown[-1].extend((op, word) for word in words)
        last_old = in_old if in_old is not None else last_old
        last_new = in_new if in_new is not None else last_new

    def run(
        op: str, paras: Sequence[int | None], others: Sequence[int | None], words: Sequence[str]
    ) -> None:
        at = 0
        for (in_old, in_new), group in groupby(zip(paras, others, strict=True)):
            size = sum(1 for _ in group)
            add(op, words[at : at + size], in_old, in_new)
            at += size

    at_old = at_new = 0
    for hunk in [*hunks, None]:
        upto = hunk.old_at if hunk is not None else len(old_words)
        size = upto - at_old  # the equal run before this hunk
        run(
            "equal", old_para[at_old:upto], new_para[at_new : at_new + size], old_words[at_old:upto]
        )
        at_old, at_new = upto, at_new + size
        if hunk is None:
            break
        run(
            "delete",
            old_para[hunk.old_at : hunk.old_at + len(hunk.old)],
            [None] * len(hunk.old),
            hunk.old,
        )
        run(
            "insert",
            [None] * len(hunk.new),
            new_para[hunk.new_at : hunk.new_at + len(hunk.new)],
            hunk.new,
        )
        at_old, at_new = hunk.old_at + len(hunk.old), hunk.new_at + len(hunk.new)
    changed = [i for i, words in enumerate(shown) if any(op != "equal" for op, _ in words)]
    keep = sorted(
        {j for i in changed for j in range(i - context, i + context + 1) if 0 <= j < len(shown)}
    )
    result = []
    for position, index in enumerate(keep):
        gap = index > 0 if position == 0 else index != keep[position - 1] + 1
        result.append(Paragraph(_segments(shown[index]), index in changed, gap))
    return result


def _paragraph_of(text: str) -> list[int]:
    """The paragraph index of each whitespace-split word, as `diff` splits texts."""
    indexes: list[int] = []
    paragraphs = [p for p in text.split("\n") if p.strip()]
    for i, paragraph in enumerate(paragraphs):
        indexes.extend([i] * len(paragraph.split()))
    return indexes


def _segments(words: Sequence[tuple[str, str]]) -> tuple[Segment, ...]:
    segments: list[Segment] = []
    for op, word in words:
        mark = ""
        if op != "equal":
            mark = "negation" if is_negation(word) else "number" if is_number(word) else ""
        if segments and segments[-1].op == op and not mark and not segments[-1].mark:
            segments[-1] = Segment(op, f"{segments[-1].text} {word}")
        else:
            segments.append(Segment(op, word, mark))
    return tuple(segments)
