"""Edits outside the main text: whether the prose a reader sees changed where the extractor
did not look, told apart from the rest of a live page changing around it.

The main text is what an extractor judged to be the article; on a real page it misses
paragraphs now and then. So when the main text is the same but the page's visible text is
not, the visible texts are compared block by block (a block is a line: a paragraph, a list
item, a heading):

- A **block edited**: a block of prose (`is_prose`: a sentence or more, `PROSE_WORDS` words
  or `PROSE_TOKENS` tokens in scripts written without spaces, ending as a sentence ends)
  whose words mostly stay, with a few changed (at most `MOST_CHANGED` of them): a word
  inserted, removed or replaced, a number changed, a negation added; or whose words all
  stay, with sentences cut from it or added to it, however long, while what is left is
  still prose. An edit, unless every changed word is a time said relative to the fetch or
  a clock stamp.
- A **block removed or added** inside a passage: one prose block gone (or new) between two
  prose blocks that are there on both sides. An edit: a sentence-long paragraph cut.
- A **short block beside the article edited**: a block too short to be prose (a caption, a
  link's label, a line such as "Hier geht's zur Veranstaltung") right before or after a
  paragraph of the main text that is there on both sides, with one or two of its words
  changed (at most `MOST_CHANGED` of them, and not only digits: a count beside the
  article, "12 comments" to "13 comments", is a counter), in a line that states no date or
  time (an "Updated Monday, 10:45" line changes its weekday). An edit: it sits in the
  article's flow, where rotating lists and teasers do not, and a teaser that rotates changes
  most of its words.
- Everything else is the page around the article changing: a block replaced whole by another
  (a rotating "most read" list, a teaser, an ad), a run of blocks coming or going (comments,
  a live ticker), a block moved (a rotating list), short lines (a counter, a render time, a
  date line). Not an edit.

No threshold on how much changed decides it (a one-word edit of a long page is the case that
matters most): only where it changed and how.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from itertools import pairwise

from preserve.changes.clock import clock_stamp, dated, relative_time, render_time
from preserve.changes.diff import Hunk, word_diff
from preserve.tokens import tokens

PROSE_WORDS = 8
PROSE_TOKENS = 20  # in scripts written without spaces, where each character is a token
SIMILAR = 0.5  # two blocks sharing this much of their words are one block edited
MOST_CHANGED = 0.34  # an edit of a block changes at most this share of its words
MOST_PAIRED = 64  # blocks of one changed run compared pairwise at most (a run is a page)
SHORT_WORDS = 3  # a short block with fewer words is a label ("Share", "Step 9"), never an edit
SHORT_CHANGED = 2  # words a short block beside the article may change and still be an edit
# A sentence ends here: at the end of the block, or before a space (a photo's credit or a
# "Read more" may follow the last sentence on the same line).
_SENTENCE_END = re.compile(r"[.!?…。！？｡][\"'”’»)\]」』]*(?=\s|$)")


@dataclass(frozen=True)
class ProseEdit:
    """A block of prose edited, removed or added: the block before and after ("" when it
    was added or removed), and the word changes within it."""

    old: str
    new: str
    hunks: tuple[Hunk, ...]


def is_prose(block: str) -> bool:
    """A sentence or more of running text, as a reader reads it: the block up to its last
    sentence end is long enough."""
    ends = [m.end() for m in _SENTENCE_END.finditer(block.strip())]
    if not ends:
        return False
    sentences = block.strip()[: ends[-1]]
    return len(sentences.split()) >= PROSE_WORDS or len(tokens(sentences)) >= PROSE_TOKENS


def prose_edits(old_visible: str, new_visible: str, main_text: str = "") -> list[ProseEdit]:
    """The edits of a page's prose between two of its visible texts (see the module
    docstring); none when only what surrounds the prose changed. `main_text`: the page's
    main text, the same on both sides; without it no short block is an edit."""
    old = [line.strip() for line in old_visible.split("\n") if line.strip()]
    new = [line.strip() for line in new_visible.split("\n") if line.strip()]
    if old == new:
        return []
    # Short blocks edited, kept until every block's fate is known: whether their neighbours
    # are there on both sides.
    short: list[tuple[int, int, ProseEdit]] = []
    matcher = SequenceMatcher(None, old, new, autojunk=False)
    kept_old: set[int] = set()  # blocks there on both sides (equal or edited)
    kept_new: set[int] = set()
    edits: list[ProseEdit] = []
    gone: list[int] = []  # whole blocks removed or added, judged once all pairs are known
    came: list[int] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            kept_old.update(range(i1, i2))
            kept_new.update(range(j1, j2))
            continue
        pairs = _pairs(old[i1:i2], new[j1:j2]) if op == "replace" else []
        for i, j in pairs:
            kept_old.add(i1 + i)
            kept_new.add(j1 + j)
            if edit := _block_edit(old[i1 + i], new[j1 + j]):
                edits.append(edit)
            elif main_text and (edit := _short_edit(old[i1 + i], new[j1 + j])):
                short.append((i1 + i, j1 + j, edit))
        # Between two pairs (or a pair and the run's end), blocks left on both sides
        # replaced one another (a teaser, an ad in the same place): neither is a block
        # removed or added; unless it is one block for one that shares most of its tokens
        # (a block in a script written without spaces, which words cannot pair, edited).
        bounds = [(i1 - 1, j1 - 1), *((i1 + i, j1 + j) for i, j in pairs), (i2, j2)]
        for (a, b), (c, d) in pairwise(bounds):
            olds, news = range(a + 1, c), range(b + 1, d)
            if (
                olds
                and news
                and not (len(olds) == len(news) == 1 and _similar(old[a + 1], new[b + 1]))
            ):
                continue
            gone += olds
            came += news
    # A block gone from one place and come to another is moved, not removed and added (a
    # rotating list; as spans only moved in the main text are `reordered`).
    moved = {old[i] for i in gone} & {new[j] for j in came}
    edits += [
        ProseEdit(old[i], "", ())
        for i in gone
        if old[i] not in moved and _inside_passage(old, i, kept_old)
    ]
    edits += [
        ProseEdit("", new[j], ())
        for j in came
        if new[j] not in moved and _inside_passage(new, j, kept_new)
    ]
    edits += [
        edit
        for i, j, edit in short
        if _beside_main(old, i, kept_old, main_text) and _beside_main(new, j, kept_new, main_text)
    ]
    return edits


def edited_passages(edits: Sequence[ProseEdit]) -> tuple[str, str]:
    """The blocks the edits touched, as two texts (paragraphs separated by "\\n") whose
    word diff shows them: what `report` and `diff` show of an edit outside the main text."""
    old = "\n".join(edit.old for edit in edits if edit.old)
    new = "\n".join(edit.new for edit in edits if edit.new)
    return old, new


def _pairs(old: Sequence[str], new: Sequence[str]) -> list[tuple[int, int]]:
    """Blocks of a changed run that are one block edited: in order, each old block with the
    most similar new block after the last one paired (similar: `SIMILAR` of the words)."""
    if len(old) * len(new) > MOST_PAIRED * MOST_PAIRED:
        return []  # a whole page replaced: no block is "edited"
    pairs: list[tuple[int, int]] = []
    start = 0
    for i, block in enumerate(old):
        words = block.split()
        best, best_at = SIMILAR, -1
        for j in range(start, len(new)):
            ratio = SequenceMatcher(None, words, new[j].split(), autojunk=False).ratio()
            if ratio >= best:
                best, best_at = ratio, j
        if best_at >= 0:
            pairs.append((i, best_at))
            start = best_at + 1
    return pairs


def _similar(old: str, new: str) -> bool:
    """Whether two blocks share `SIMILAR` of their tokens (`changes.words.tokens`)."""
    matcher = SequenceMatcher(None, tokens(old), tokens(new), autojunk=False)
    return matcher.quick_ratio() >= SIMILAR and matcher.ratio() >= SIMILAR


def _changed_words(old: str, new: str) -> tuple[Hunk, ...]:
    """The word changes between two blocks that are not a time (relative to the fetch, a
    render time, a clock stamp)."""
    old_words, new_words = old.split(), new.split()
    return tuple(
        h
        for h in word_diff(old, new)
        if not relative_time(h, old_words, new_words)
        and not render_time(h, old_words, new_words)
        and not clock_stamp(h)
    )


def _block_edit(old: str, new: str) -> ProseEdit | None:
    """The edit of one block of prose: a few words changed, none of them a time."""
    if not (is_prose(old) or is_prose(new)):
        return None
    real = _changed_words(old, new)
    if not real:
        return None
    old_words, new_words = old.split(), new.split()
    changed = sum(max(len(h.old), len(h.new)) for h in real)
    cut_or_added = all(not h.old for h in real) or all(not h.new for h in real)
    shorter = old if len(old_words) < len(new_words) else new
    if changed > MOST_CHANGED * max(len(old_words), len(new_words)) and not (
        cut_or_added and is_prose(shorter)
    ):
        return None  # rewritten whole: a different teaser in the same place, not an edit
    return ProseEdit(old, new, real)


def _short_edit(old: str, new: str) -> ProseEdit | None:
    """The edit of a block too short to be prose: one or two words changed, not only
    digits, none of them a time, in a line that states no date or time of day. Where it
    lies decides whether it is an edit (`_beside_main`)."""
    shortest = min(len(old.split()), len(new.split()))
    if shortest < SHORT_WORDS or dated(old) or dated(new):
        return None  # a label, or a line saying when the page was written or served
    real = _changed_words(old, new)
    changed = sum(max(len(h.old), len(h.new)) for h in real)
    if not real or changed > min(SHORT_CHANGED, MOST_CHANGED * shortest):
        return None
    if not any(_has_letters(word) for h in real for word in (*h.old, *h.new)):
        return None  # a count
    return ProseEdit(old, new, real)


def _has_letters(word: str) -> bool:
    return any(c.isalpha() for c in word)


def _beside_main(blocks: Sequence[str], at: int, kept: set[int], main_text: str) -> bool:
    """Whether a block right before or after this one is there on both sides and is prose
    of the main text."""
    return any(
        0 <= n < len(blocks) and n in kept and is_prose(blocks[n]) and blocks[n] in main_text
        for n in (at - 1, at + 1)
    )


def _inside_passage(blocks: Sequence[str], at: int, kept: set[int]) -> bool:
    """A block of prose between two blocks of prose that are there on both sides."""
    return (
        is_prose(blocks[at])
        and 0 < at < len(blocks) - 1
        and {at - 1, at + 1} <= kept
        and is_prose(blocks[at - 1])
        and is_prose(blocks[at + 1])
    )
