"""A changed text summed up for an investigator: words added and removed, numbers and
negations changed, and the first changed sentence before and after."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from preserve.changes.diff import Doc, Hunk, word_diff
from preserve.changes.words import SCALE_WORDS, clean, diff_counts, is_negation

_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*$")


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


def summarise(old: str, new: str, hunks: Sequence[Hunk] | None = None) -> EditSummary:
    """Summarise the change from `old` to `new`: over `hunks` when given (for instance only
    the spans the boundary-shift test could not explain), else over the whole word diff."""
    a, b = Doc(old), Doc(new)
    changed = tuple(h for h in (word_diff(old, new) if hunks is None else hunks) if h.op != "equal")
    edits = [h for h in changed if not h.moved]
    added = sum(len(h.new) for h in edits)
    removed = sum(len(h.old) for h in edits)
    total = len(a.words) + len(b.words)
    neg_removed: list[str] = []
    neg_added: list[str] = []
    numbers: list[tuple[str, str]] = []
    for hunk in edits:
        gone, came = diff_counts(hunk.old, hunk.new, is_negation)
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


def _number_phrase(doc: Doc, start: int, end: int) -> str:
    """The changed words, plus the scale word after them ("40" + "million")."""
    words = doc.words[start:end]
    if words and end < len(doc.words) and doc.para_of[end] == doc.para_of[end - 1]:
        if clean(doc.words[end]) in SCALE_WORDS:
            words = [*words, doc.words[end]]
    return " ".join(words)


def _sentence(doc: Doc, start: int, end: int, other: Sequence[str]) -> str:
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
