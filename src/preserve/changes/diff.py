"""What changed in what a page says: word diffs of its normalised main text (which spans
changed, whether a changed span is a real edit or only the extractor's boundary moving, a
short summary an investigator can read) and the diff of its citation list.

Pure functions over values; `compare.classify` uses them, and `report` renders the results.

Decisions (docs/architecture.md, "Boundary shifts"):

- **Two-level difflib.** Paragraphs are matched first (`autojunk=False`), then words only
  inside replaced paragraph blocks, which keeps a 5,000-word article with a few edits at
  about a millisecond. A replaced block of more than `BIG_BLOCK` words on both sides together
  turns difflib's junk heuristic on, trading some alignment quality for bounded time.
- **Pure moves.** A deleted span of at least `MOVE_MIN_WORDS` words that is inserted
  word-for-word elsewhere is marked `moved` on both hunks; shorter spans are never moves,
  because moving "not" changes the meaning.
- **Boundary-shift test** (`explained_spans`, `unexplained_hunks`). A removed span is
  explained when it is still in the new page's full visible text; an added span when it was
  already in the old page's. Each paragraph piece of a span is tested on its own: pieces of
  `ALONE_TOKENS` words or more alone, shorter ones with up to `CONTEXT_WORDS` words of
  context on each side taken from the same paragraph, and a short piece that is a whole
  paragraph (a heading, a byline) must be a whole line of the visible text. An unexplained
  piece at the start (end) of its paragraph still sheds the whole visible lines it starts
  (ends) with, for a headline merged into the paragraph of a real edit. With no visible text
  nothing is explained, so the safe answer (an edit) wins.
- **Only the real span is reported.** A hunk that mixes explained pieces (a
  pulled-in headline) with unexplained ones (a sentence added to the first paragraph) is
  cut down to its unexplained runs by `unexplained_hunks`; the summary counts only those.
- **Citations** are compared by `url_key` ("the same URL": http↔https, `www.`, a
  trailing slash, the fragment and utm_*/fbclid/gclid do not count). A removed and an added
  link with the same non-empty anchor text are one retargeting; a link whose URL stayed but
  whose anchor text changed is re-anchored.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from difflib import SequenceMatcher
from typing import Any

from preserve.changes.words import diff_counts, is_negation, is_number

MOVE_MIN_WORDS = 5
BIG_BLOCK = 4000


@dataclass(frozen=True)
class Hunk:
    """One run of the diff. `old_at`/`new_at` index the whitespace-split words of the whole
    text; `before` and `after` are the rest of the hunk's paragraph (the old side before, the
    new side after, or the only side that has words); `context_before`/`context_after` are the
    neighbouring paragraphs (±1 paragraph of context)."""

    op: str  # "equal", "insert", "delete" or "replace"
    old: tuple[str, ...]
    new: tuple[str, ...]
    old_at: int
    new_at: int
    old_paragraph: int
    new_paragraph: int
    before: str = ""
    after: str = ""
    context_before: str = ""
    context_after: str = ""
    numbers: bool = False  # a number (digits or a number word) differs between the sides
    negations: bool = False  # a negation word was added or removed
    moved: bool = False  # the same words were deleted here and inserted elsewhere

    def segments(self) -> Iterator[tuple[str, str]]:
        """(op, text) pieces to render the hunk inline in its paragraph: the words before,
        the removed words ("delete"), the added words ("insert"), the words after."""
        if self.op == "equal":
            yield "equal", " ".join(self.old)
            return
        for op, text in (
            ("equal", self.before),
            ("delete", " ".join(self.old)),
            ("insert", " ".join(self.new)),
            ("equal", self.after),
        ):
            if text:
                yield op, text

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["old"], data["new"] = " ".join(self.old), " ".join(self.new)
        return data


class Doc:
    """A text split into paragraphs (lines) and words, with where each paragraph starts."""

    def __init__(self, text: str) -> None:
        self.paragraphs = [" ".join(p.split()) for p in text.split("\n") if p.strip()]
        self.words: list[str] = []
        self.para_of: list[int] = []
        self.starts: list[int] = []
        for i, paragraph in enumerate(self.paragraphs):
            self.starts.append(len(self.words))
            words = paragraph.split()
            self.words.extend(words)
            self.para_of.extend([i] * len(words))
        self.starts.append(len(self.words))  # sentinel: the end of the last paragraph

    def paragraph_at(self, at: int) -> int:
        return self.para_of[at] if at < len(self.words) else len(self.paragraphs)

    def paragraph(self, index: int) -> str:
        return self.paragraphs[index] if 0 <= index < len(self.paragraphs) else ""


def word_diff(old: str, new: str, *, include_equal: bool = False) -> list[Hunk]:
    """Word-level diff of two normalised texts (paragraphs separated by "\\n").

    Only changes are returned unless `include_equal`, in which case the equal runs come too,
    in order, so that the whole new text can be rendered with `<del>`/`<ins>`.
    """
    a, b = Doc(old), Doc(new)
    runs: list[tuple[str, int, int, int, int]] = []
    if a.words == b.words:
        # Only paragraph breaks differ. Matched paragraph by paragraph, "a a\na a a" and
        # "a a a\na a" would come out as an insertion and a deletion of the same words.
        opcodes: list[tuple[str, int, int, int, int]] = (
            [("equal", 0, len(a.paragraphs), 0, len(b.paragraphs))] if a.words else []
        )
    else:
        matcher = SequenceMatcher(None, a.paragraphs, b.paragraphs, autojunk=False)
        opcodes = list(matcher.get_opcodes())
    for tag, i1, i2, j1, j2 in opcodes:
        o1, o2, n1, n2 = a.starts[i1], a.starts[i2], b.starts[j1], b.starts[j2]
        if tag != "replace":
            runs.append((tag, o1, o2, n1, n2))
            continue
        big = (o2 - o1) + (n2 - n1) > BIG_BLOCK
        words = SequenceMatcher(None, a.words[o1:o2], b.words[n1:n2], autojunk=big)
        for sub, x1, x2, y1, y2 in words.get_opcodes():
            runs.append((sub, o1 + x1, o1 + x2, n1 + y1, n1 + y2))
    hunks = [make_hunk(a, b, *run) for run in runs if include_equal or run[0] != "equal"]
    return _mark_moves(hunks)


def make_hunk(a: Doc, b: Doc, op: str, o1: int, o2: int, n1: int, n2: int) -> Hunk:
    old, new = tuple(a.words[o1:o2]), tuple(b.words[n1:n2])
    left, left_at, left_end = (a, o1, o2) if old else (b, n1, n2)
    right, right_at, right_end = (b, n1, n2) if new else (a, o1, o2)
    first = left.para_of[left_at] if left_end > left_at else left.paragraph_at(left_at)
    last = right.para_of[right_end - 1] if right_end > right_at else first
    removed, added = diff_counts(old, new, is_number)
    neg_removed, neg_added = diff_counts(old, new, is_negation)
    return Hunk(
        op=op,
        old=old,
        new=new,
        old_at=o1,
        new_at=n1,
        old_paragraph=a.paragraph_at(o1),
        new_paragraph=b.paragraph_at(n1),
        before=" ".join(left.words[left.starts[first] : left_at]) if left_end > left_at else "",
        after=" ".join(right.words[right_end : right.starts[last + 1]])
        if right_end > right_at
        else "",
        context_before=left.paragraph(first - 1),
        context_after=right.paragraph(last + 1),
        numbers=bool(removed or added),
        negations=bool(neg_removed or neg_added),
    )


def _mark_moves(hunks: list[Hunk]) -> list[Hunk]:
    inserted: dict[tuple[str, ...], list[int]] = {}
    for i, hunk in enumerate(hunks):
        if hunk.op == "insert" and len(hunk.new) >= MOVE_MIN_WORDS:
            inserted.setdefault(hunk.new, []).append(i)
    moved: set[int] = set()
    for i, hunk in enumerate(hunks):
        if hunk.op == "delete" and inserted.get(hunk.old):
            moved.update((i, inserted[hunk.old].pop(0)))
    return [replace(h, moved=True) if i in moved else h for i, h in enumerate(hunks)]
