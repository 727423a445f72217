"""The boundary-shift test: whether a changed span of the main text is a real edit, or only the
extractor's idea of where the article starts and ends moving over text the page still shows."""

from __future__ import annotations

from collections.abc import Sequence

from preserve.changes.diff import Doc, Hunk, make_hunk

ALONE_TOKENS = 5
CONTEXT_WORDS = 3


PEEL_MIN_WORDS = 2


def explained_spans(
    old: str,
    new: str,
    hunks: Sequence[Hunk],
    *,
    old_visible: str,
    new_visible: str,
) -> tuple[bool, ...]:
    """For each hunk: is it explained by the extractor's boundary moving (or by a pure move)?

    `old`/`new` are the texts the hunks were computed from; `old_visible`/`new_visible` the
    full visible text of each page. Equal hunks are trivially explained.
    """
    a, b = Doc(old), Doc(new)
    old_page, new_page = _Page(old_visible), _Page(new_visible)
    return tuple(
        hunk.op == "equal"
        or hunk.moved
        or (
            all(ok for _, _, ok in _segments(a, *_old_span(hunk), new_page))
            and all(ok for _, _, ok in _segments(b, *_new_span(hunk), old_page))
        )
        for hunk in hunks
    )


def unexplained_hunks(
    old: str,
    new: str,
    hunks: Sequence[Hunk],
    *,
    old_visible: str,
    new_visible: str,
) -> list[Hunk]:
    """The changes the boundary-shift test cannot explain, trimmed to their unexplained parts.

    A hunk wholly explained (or a pure move, or equal) is dropped; a hunk with no explained
    part is kept as it is. A hunk that mixes both, say a shifted headline and a sentence
    added to the paragraph after it, is cut into the runs of its unexplained segments (see
    `_segments`): the i-th removed run and the i-th added run make one hunk, any run left
    over on one side is a pure deletion or insertion.
    """
    a, b = Doc(old), Doc(new)
    old_page, new_page = _Page(old_visible), _Page(new_visible)
    kept: list[Hunk] = []
    for hunk in hunks:
        if hunk.op == "equal" or hunk.moved:
            continue
        (o1, o2), (n1, n2) = _old_span(hunk), _new_span(hunk)
        removed = _segments(a, o1, o2, new_page)
        added = _segments(b, n1, n2, old_page)
        verdicts = [ok for _, _, ok in removed + added]
        if all(verdicts):
            continue
        if not any(verdicts):
            kept.append(hunk)
            continue
        old_runs, new_runs = _runs(removed), _runs(added)
        for i in range(max(len(old_runs), len(new_runs))):
            if i < len(old_runs):
                x1, x2 = old_runs[i]
            else:  # an addition with no removal to pair with: anchor it on the old side
                x1 = x2 = old_runs[-1][1] if old_runs else (o1 if new_runs[i][0] == n1 else o2)
            if i < len(new_runs):
                y1, y2 = new_runs[i]
            else:
                y1 = y2 = new_runs[-1][1] if new_runs else (n1 if old_runs[i][0] == o1 else n2)
            op = "replace" if x2 > x1 and y2 > y1 else ("delete" if x2 > x1 else "insert")
            kept.append(make_hunk(a, b, op, x1, x2, y1, y2))
    return kept


def _old_span(hunk: Hunk) -> tuple[int, int]:
    return hunk.old_at, hunk.old_at + len(hunk.old)


def _new_span(hunk: Hunk) -> tuple[int, int]:
    return hunk.new_at, hunk.new_at + len(hunk.new)


def _runs(segments: Sequence[tuple[int, int, bool]]) -> list[tuple[int, int]]:
    """Maximal runs of adjacent unexplained segments, as (start, end) word indexes."""
    runs: list[tuple[int, int]] = []
    for start, end, ok in segments:
        if ok:
            continue
        if runs and runs[-1][1] == start:
            runs[-1] = (runs[-1][0], end)
        else:
            runs.append((start, end))
    return runs


class _Page:
    """Full visible text, searchable for a word sequence (word-aligned) or a whole line."""

    def __init__(self, visible: str) -> None:
        self.flat = f" {' '.join(visible.split())} "
        self.lines = {" ".join(line.split()) for line in visible.split("\n") if line.strip()}
        # Lines of at least PEEL_MIN_WORDS words by their first and by their last word, to
        # find a whole line at either end of a changed piece without trying every length.
        self.by_first: dict[str, set[tuple[str, ...]]] = {}
        self.by_last: dict[str, set[tuple[str, ...]]] = {}
        for line in self.lines:
            words = tuple(line.split())
            if len(words) >= PEEL_MIN_WORDS:
                self.by_first.setdefault(words[0], set()).add(words)
                self.by_last.setdefault(words[-1], set()).add(words)

    def has_phrase(self, words: Sequence[str]) -> bool:
        return f" {' '.join(words)} " in self.flat

    def has_line(self, words: Sequence[str]) -> bool:
        return " ".join(words) in self.lines

    def line_at_start(self, words: Sequence[str]) -> int:
        """The length of the longest whole line that `words` starts with (0 if none)."""
        if not words:
            return 0
        lines = self.by_first.get(words[0], ())
        return max((len(w) for w in lines if tuple(words[: len(w)]) == w), default=0)

    def line_at_end(self, words: Sequence[str]) -> int:
        """The length of the longest whole line that `words` ends with (0 if none)."""
        if not words:
            return 0
        lines = self.by_last.get(words[-1], ())
        return max(
            (len(w) for w in lines if len(w) <= len(words) and tuple(words[-len(w) :]) == w),
            default=0,
        )


def _segments(doc: Doc, start: int, end: int, page: _Page) -> list[tuple[int, int, bool]]:
    """doc.words[start:end] cut into (start, end, explained) segments: one per paragraph
    piece, tested as a whole. An unexplained piece that begins its paragraph then sheds the
    whole lines of `page` (of `PEEL_MIN_WORDS` words or more) it begins with, and one that
    ends its paragraph those it ends with, each an explained segment of its own: a headline
    merged into the paragraph of a sentence added after it. Inside a paragraph nothing is
    shed, so an added "Jane Doe" is not explained by an author box reading "Jane Doe"."""
    segments: list[tuple[int, int, bool]] = []
    at = start
    while at < end:
        paragraph = doc.para_of[at]
        stop = min(end, doc.starts[paragraph + 1])
        if _piece_in_page(doc, at, stop, page):
            segments.append((at, stop, True))
            at = stop
            continue
        head, tail = at, stop
        if head == doc.starts[paragraph]:
            while head < tail and (n := page.line_at_start(doc.words[head:tail])):
                segments.append((head, head + n, True))
                head += n
        ends: list[tuple[int, int, bool]] = []
        if tail == doc.starts[paragraph + 1]:
            while head < tail and (n := page.line_at_end(doc.words[head:tail])):
                ends.append((tail - n, tail, True))
                tail -= n
        if head < tail:
            segments.append((head, tail, False))
        segments.extend(reversed(ends))
        at = stop
    return segments


def _piece_in_page(doc: Doc, at: int, stop: int, page: _Page) -> bool:
    """Do the words doc.words[at:stop], all in one paragraph, appear in `page`?"""
    piece = doc.words[at:stop]
    if len(piece) >= ALONE_TOKENS:
        return page.has_phrase(piece)
    paragraph = doc.para_of[at]
    left = doc.words[max(doc.starts[paragraph], at - CONTEXT_WORDS) : at]
    right = doc.words[stop : min(doc.starts[paragraph + 1], stop + CONTEXT_WORDS)]
    # Without context a short piece is a whole paragraph; "not" alone would be found almost
    # anywhere, so it must stand as a line of its own (a heading, a byline).
    return page.has_phrase(left + piece + right) if left or right else page.has_line(piece)
