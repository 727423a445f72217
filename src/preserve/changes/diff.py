"""What changed in what a page says: word diffs of its normalised main text (which spans
changed, whether a changed span is a real edit or only the extractor's boundary moving, a
short summary an investigator can read) and the diff of its citation list.

Pure functions over values; `compare.classify` uses them, and `report` renders the results.

Decisions (see notes/change-detection.md §4, §6, §7):

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
- **Only the real span is reported** (notes §13.17). A hunk that mixes explained pieces (a
  pulled-in headline) with unexplained ones (a sentence added to the first paragraph) is
  cut down to its unexplained runs by `unexplained_hunks`; the summary counts only those.
- **Citations** are compared by `url_key` (the notes' "same URL": http↔https, `www.`, a
  trailing slash, the fragment and utm_*/fbclid/gclid do not count). A removed and an added
  link with the same non-empty anchor text are one retargeting; a link whose URL stayed but
  whose anchor text changed is re-anchored.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from difflib import SequenceMatcher
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

ALONE_TOKENS = 5
CONTEXT_WORDS = 3
MOVE_MIN_WORDS = 5
PEEL_MIN_WORDS = 2
BIG_BLOCK = 4000

# Words whose appearance or disappearance flips a claim ("denied" → "did not deny"), with
# the commonest ones of a few other languages the sample sources use.
NEGATIONS = frozenset(
    "not no never none nobody nothing nowhere neither nor without cannot "
    "deny denies denied denying denial "
    "не нет никогда ни nicht kein keine nie jamais nunca".split()
)
NUMBER_WORDS = frozenset(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy "
    "eighty ninety hundred thousand million billion trillion dozen half".split()
)
# Words that belong to the number before them, so "40 million" → "4 million" reads whole.
SCALE_WORDS = frozenset(
    "hundred thousand million millions billion billions trillion percent per cent % "
    "people dollars euros pounds years".split()
)
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*$")
_TRACKING = re.compile(r"^(utm_.*|fbclid|gclid)$", re.IGNORECASE)


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


@dataclass(frozen=True)
class EditSummary:
    """What an edit did, in a few lines: counts over the changed hunks (moves excluded)."""

    words_added: int
    words_removed: int
    percent_changed: float  # (added + removed) / (old words + new words), in percent
    first_changed_old: str  # the first changed sentence as it was ("" if it is new)
    first_changed_new: str  # and as it is ("" if it was removed)
    numbers_changed: tuple[tuple[str, str], ...]  # ("40 million", "4 million"), per hunk
    negations_added: tuple[str, ...]
    negations_removed: tuple[str, ...]
    moves: int  # spans moved word-for-word
    hunks: tuple[Hunk, ...]

    def to_json(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k != "hunks"}
        data["numbers_changed"] = [list(pair) for pair in self.numbers_changed]
        data["negations_added"] = list(self.negations_added)
        data["negations_removed"] = list(self.negations_removed)
        data["hunks"] = [h.to_json() for h in self.hunks]
        return data


class _Doc:
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
    a, b = _Doc(old), _Doc(new)
    runs: list[tuple[str, int, int, int, int]] = []
    if a.words == b.words:
        # Only paragraph breaks differ. Matched paragraph by paragraph, "a a\na a a" and
        # "a a a\na a" would come out as an insertion and a deletion of the same words.
        opcodes = [("equal", 0, len(a.paragraphs), 0, len(b.paragraphs))] if a.words else []
    else:
        matcher = SequenceMatcher(None, a.paragraphs, b.paragraphs, autojunk=False)
        opcodes = matcher.get_opcodes()
    for tag, i1, i2, j1, j2 in opcodes:
        o1, o2, n1, n2 = a.starts[i1], a.starts[i2], b.starts[j1], b.starts[j2]
        if tag != "replace":
            runs.append((tag, o1, o2, n1, n2))
            continue
        big = (o2 - o1) + (n2 - n1) > BIG_BLOCK
        words = SequenceMatcher(None, a.words[o1:o2], b.words[n1:n2], autojunk=big)
        for sub, x1, x2, y1, y2 in words.get_opcodes():
            runs.append((sub, o1 + x1, o1 + x2, n1 + y1, n1 + y2))
    hunks = [_hunk(a, b, *run) for run in runs if include_equal or run[0] != "equal"]
    return _mark_moves(hunks)


def _hunk(a: _Doc, b: _Doc, op: str, o1: int, o2: int, n1: int, n2: int) -> Hunk:
    old, new = tuple(a.words[o1:o2]), tuple(b.words[n1:n2])
    left, left_at, left_end = (a, o1, o2) if old else (b, n1, n2)
    right, right_at, right_end = (b, n1, n2) if new else (a, o1, o2)
    first = left.para_of[left_at] if left_end > left_at else left.paragraph_at(left_at)
    last = right.para_of[right_end - 1] if right_end > right_at else first
    removed, added = _diff_counts(old, new, is_number)
    neg_removed, neg_added = _diff_counts(old, new, is_negation)
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


def _clean(word: str) -> str:
    """A word without surrounding punctuation, casefolded, with the curly apostrophe folded."""
    return word.strip("\"'“”‘’«»()[]{}.,;:!?…").casefold().replace("’", "'")


def is_number(word: str) -> bool:
    """Digits or a number word ("40", "4.5%", "four"): reports highlight these in edits."""
    cleaned = _clean(word)
    return any(c.isdigit() for c in cleaned) or cleaned in NUMBER_WORDS


def is_negation(word: str) -> bool:
    """A word that flips a claim ("not", "never", "denied", "didn't")."""
    cleaned = _clean(word)
    return cleaned in NEGATIONS or cleaned.endswith("n't")


def _diff_counts(
    old: Sequence[str], new: Sequence[str], keep: Callable[[str], bool]
) -> tuple[list[str], list[str]]:
    """The words passing `keep` that the old side has more of, and those the new side has."""
    before = Counter(_clean(w) for w in old if keep(w))
    after = Counter(_clean(w) for w in new if keep(w))
    return list((before - after).elements()), list((after - before).elements())


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
    a, b = _Doc(old), _Doc(new)
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
    a, b = _Doc(old), _Doc(new)
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
            kept.append(_hunk(a, b, op, x1, x2, y1, y2))
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


def _segments(doc: _Doc, start: int, end: int, page: _Page) -> list[tuple[int, int, bool]]:
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


def _piece_in_page(doc: _Doc, at: int, stop: int, page: _Page) -> bool:
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


def summarise(old: str, new: str, hunks: Sequence[Hunk] | None = None) -> EditSummary:
    """Summarise the change from `old` to `new`: over `hunks` when given (for instance only
    the spans the boundary-shift test could not explain), else over the whole word diff."""
    a, b = _Doc(old), _Doc(new)
    changed = tuple(h for h in (word_diff(old, new) if hunks is None else hunks) if h.op != "equal")
    edits = [h for h in changed if not h.moved]
    added = sum(len(h.new) for h in edits)
    removed = sum(len(h.old) for h in edits)
    total = len(a.words) + len(b.words)
    neg_removed: list[str] = []
    neg_added: list[str] = []
    numbers: list[tuple[str, str]] = []
    for hunk in edits:
        gone, came = _diff_counts(hunk.old, hunk.new, is_negation)
        neg_removed += gone
        neg_added += came
        if hunk.numbers:
            numbers.append(
                (
                    _number_phrase(a, hunk.old_at, hunk.old_at + len(hunk.old)),
                    _number_phrase(b, hunk.new_at, hunk.new_at + len(hunk.new)),
                )
            )
    first = edits[0] if edits else (changed[0] if changed else None)
    was = _sentence(a, first.old_at, first.old_at + len(first.old), first.new) if first else ""
    now = _sentence(b, first.new_at, first.new_at + len(first.new), first.old) if first else ""
    return EditSummary(
        words_added=added,
        words_removed=removed,
        percent_changed=round(100 * (added + removed) / total, 2) if total else 0.0,
        first_changed_old=was,
        first_changed_new=now,
        numbers_changed=tuple(numbers),
        negations_added=tuple(neg_added),
        negations_removed=tuple(neg_removed),
        moves=sum(1 for h in changed if h.moved and h.op == "delete"),
        hunks=changed,
    )


def _number_phrase(doc: _Doc, start: int, end: int) -> str:
    """The changed words, plus the scale word after them ("40" + "million")."""
    words = doc.words[start:end]
    if words and end < len(doc.words) and doc.para_of[end] == doc.para_of[end - 1]:
        if _clean(doc.words[end]) in SCALE_WORDS:
            words = [*words, doc.words[end]]
    return " ".join(words)


def _sentence(doc: _Doc, start: int, end: int, other: Sequence[str]) -> str:
    """The sentence(s) around doc.words[start:end]. For an empty span (this side gained
    nothing, the other side has `other`): "" when the other side is a whole sentence or
    paragraph of its own, else the sentence the other side's words were put into."""
    words = doc.words
    if start == end and (
        start == 0
        or start >= len(words)
        or doc.para_of[start - 1] != doc.para_of[start]
        or (other and _ends_sentence(other[-1]) and _ends_sentence(words[start - 1]))
    ):
        return ""
    first = doc.para_of[start]
    lo = start
    while lo > doc.starts[first] and not _ends_sentence(words[lo - 1]):
        lo -= 1
    limit = doc.starts[(doc.para_of[end - 1] if end > start else first) + 1]
    hi = end
    while hi < limit and not (hi > start and _ends_sentence(words[hi - 1])):
        hi += 1
    return " ".join(words[lo:hi])


def _ends_sentence(word: str) -> bool:
    return bool(_SENTENCE_END.search(word))


# Scripts written without spaces between words (Chinese, Japanese kana, Thai, Lao, Khmer,
# Myanmar): each of their characters is a token of its own, so that a whole paragraph of
# Chinese is not one "word" to similarity measures.
_UNSPACED = (
    "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
)
_TOKEN = re.compile(f"[{_UNSPACED}]|[^\\s{_UNSPACED}]+")


def tokens(text: str) -> list[str]:
    """The words of a text for measuring similarity: whitespace-separated words, and each
    character of the scripts written without spaces. The same as `text.split()` for text
    without those scripts."""
    return _TOKEN.findall(text)


def shingles(text: str, size: int = 3) -> set[tuple[str, ...]]:
    """Token `size`-shingles of a text (see `tokens`), casefolded; a text shorter than that
    is one shingle."""
    words = tokens(text.casefold())  # the texts are normalised (NFKC) already
    if len(words) < size:
        return {tuple(words)} if words else set()
    return {tuple(words[i : i + size]) for i in range(len(words) - size + 1)}


def jaccard3(old: str, new: str) -> float:
    """Jaccard similarity of word 3-shingles: 1.0 for two empty texts."""
    a, b = shingles(old), shingles(new)
    return len(a & b) / len(a | b) if a or b else 1.0


def overlap3(old: str, new: str) -> float:
    """Share of the smaller text's word 3-shingles found in the other (overlap coefficient):
    unlike Jaccard it stays high when one text merely contains the other."""
    a, b = shingles(old), shingles(new)
    return len(a & b) / min(len(a), len(b)) if a and b else float(a == b)


@dataclass(frozen=True)
class Link:
    """A citation: where it points and the words that link there."""

    url: str
    anchor: str


@dataclass(frozen=True)
class Retarget:
    anchor: str
    old_url: str
    new_url: str


@dataclass(frozen=True)
class Reanchor:
    url: str
    old_anchor: str
    new_anchor: str


@dataclass(frozen=True)
class LinkChanges:
    """How an article's citations changed: added, removed, retargeted (same anchor text,
    another URL) and re-anchored (same URL, other anchor text)."""

    added: tuple[Link, ...] = ()
    removed: tuple[Link, ...] = ()
    retargeted: tuple[Retarget, ...] = ()
    reanchored: tuple[Reanchor, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.retargeted or self.reanchored)

    def added_urls(self) -> list[str]:
        """URLs the article cites now and did not before: new sources to capture."""
        return [link.url for link in self.added] + [r.new_url for r in self.retargeted]

    def describe(self) -> list[str]:
        """One line per change, for a text report."""
        return (
            [f"+ cites {link.url} ({link.anchor!r})" for link in self.added]
            + [f"- no longer cites {link.url} ({link.anchor!r})" for link in self.removed]
            + [
                f"~ {r.anchor!r} now points to {r.new_url} (was {r.old_url})"
                for r in self.retargeted
            ]
            + [f"~ {r.url}: anchor {r.old_anchor!r} → {r.new_anchor!r}" for r in self.reanchored]
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def url_key(url: str) -> str:
    """The form in which two URLs are "the same URL" (notes §12): host lowercased, default
    port, fragment and utm_*/fbclid/gclid dropped, http↔https, `www.` and a trailing slash
    ignored. Path case and query order are kept: the server may care."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return url.strip()
    host = (parts.hostname or "").rstrip(".").lower().removeprefix("www.")
    if port and port not in (80, 443):
        host = f"{host}:{port}"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, True) if not _TRACKING.match(k)])
    path = parts.path.rstrip("/") or "/"
    return f"{host}{path}?{query}" if query else f"{host}{path}"


def link_changes(
    old_links: Sequence[tuple[str, str]], new_links: Sequence[tuple[str, str]]
) -> LinkChanges:
    """Compare two citation lists of (url, anchor text), URLs compared by `url_key`. A
    removed and an added link with the same (non-empty) anchor text are one retargeting."""
    old = _by_key(old_links)
    new = _by_key(new_links)
    removed = [Link(*old[k]) for k in old if k not in new]
    added = [Link(*new[k]) for k in new if k not in old]
    retargeted = []
    for gone in list(removed):
        anchor = _anchor(gone.anchor)
        match = next((a for a in added if anchor and _anchor(a.anchor) == anchor), None)
        if match:
            retargeted.append(Retarget(gone.anchor, gone.url, match.url))
            removed.remove(gone)
            added.remove(match)
    reanchored = [
        Reanchor(new[k][0], old[k][1], new[k][1])
        for k in new
        if k in old and _anchor(old[k][1]) != _anchor(new[k][1])
    ]
    return LinkChanges(tuple(added), tuple(removed), tuple(retargeted), tuple(reanchored))


def _by_key(links: Sequence[tuple[str, str]]) -> dict[str, tuple[str, str]]:
    keyed: dict[str, tuple[str, str]] = {}
    for url, anchor in links:
        keyed.setdefault(url_key(url), (url, anchor))
    return keyed


def _anchor(text: str) -> str:
    return " ".join(text.split()).casefold()
