"""Times a page states about its own serving rather than about its subject: relative times
("Updated 5 minutes ago"), how long the page took to make ("Page generated in 87 ms") and
clock stamps, which change at every fetch and are never edits."""

from __future__ import annotations

import re
from collections.abc import Sequence

from preserve.changes.diff import Hunk

# A time said relative to when the page was served ("Updated 5 minutes ago"): it changes at
# every fetch and says nothing about the article.
_RELATIVE_TIME = re.compile(
    r"\b(?:(?:\d+|an?|one|a\s+few|few|several)\s+"
    r"(?:sec(?:ond)?|min(?:ute)?|h(?:ou)?r|hour|day|week|month|year)s?\s+ago|just\s+now)\b",
    re.IGNORECASE,
)


# How long the server or the CMS took to make the page, as some say at its foot ("Page
# generated in 0.123 seconds", "rendered in 87 ms", "Query time: 12ms"): a figure about this
# fetch, not the article. Only after those verbs and nouns: "the vote took 5 seconds" is prose.
_UNIT = r"\d+(?:[.,]\d+)?\s?(?:ms|msecs?|milliseconds?|s|secs?|seconds?)\b"
_RENDER_TIME = re.compile(
    r"\b(?:generated|rendered|served|built|compiled)\s+in\s+" + _UNIT
    + r"|\b(?:generation|render(?:ing)?|response|load|execution|query)\s+time\s?:?\s+" + _UNIT,
    re.IGNORECASE,
)  # fmt: skip


def relative_time(hunk: Hunk, old_words: Sequence[str], new_words: Sequence[str]) -> bool:
    """Whether every word a hunk changes, on both sides, lies inside a relative time
    ("5 minutes ago" → "2 hours ago"). A number anywhere else, a view counter included, is
    an edit: nothing tells it from a number the article states."""
    return _only_within(_RELATIVE_TIME, hunk, old_words, new_words)


def render_time(hunk: Hunk, old_words: Sequence[str], new_words: Sequence[str]) -> bool:
    """Whether every word a hunk changes, on both sides, lies inside a statement of how long
    the page took to make ("generated in 871 ms" → "generated in 478 ms")."""
    return _only_within(_RENDER_TIME, hunk, old_words, new_words)


def _only_within(
    pattern: re.Pattern[str], hunk: Hunk, old_words: Sequence[str], new_words: Sequence[str]
) -> bool:
    if not hunk.old and not hunk.new:
        return False
    return _within(pattern, old_words, hunk.old_at, len(hunk.old)) and (
        _within(pattern, new_words, hunk.new_at, len(hunk.new))
    )


def _within(pattern: re.Pattern[str], words: Sequence[str], at: int, count: int) -> bool:
    if count == 0:
        return True
    low, high = max(0, at - 4), min(len(words), at + count + 4)
    starts, line = [], ""
    for word in words[low:high]:
        starts.append(len(line))
        line += word + " "
    covered: set[int] = set()
    for match in pattern.finditer(line):
        for offset, start in enumerate(starts):
            if start < match.end() and start + len(words[low + offset]) > match.start():
                covered.add(low + offset)
    return all(i in covered for i in range(at, at + count))


# A time of day or a timestamp: `10:42`, `10:42:07`, `2026-12-07T10:42`, `10.42pm`. A point
# between hour and minute only with am/pm or after a date: "0.50 percent" is a number.
_CLOCK = re.compile(
    r"^[(\[]?(?:(?:\d{4}-\d\d-\d\d[t ]?)?(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d)?(?:\.\d+)?"
    r"(?:z|[ap]\.?m\.?)?|(?:\d{4}-\d\d-\d\d[t ]?)?(?:[01]?\d|2[0-3])\.[0-5]\d(?:[ap]\.?m\.?)"
    r"|\d{4}-\d\d-\d\d[t ](?:[01]?\d|2[0-3])\.[0-5]\d)[)\],.;]?$",
    re.IGNORECASE,
)


# A date or a time of day anywhere in a line: a clock stamp, a year, a date in figures.
_DATED = re.compile(
    r"(?<![\d.,])(?:(?:[01]?\d|2[0-3]):[0-5]\d|(?:19|20)\d\d|\d{1,4}[./-]\d{1,2}[./-]\d{1,4})(?![\d,])"
)


def dated(line: str) -> bool:
    """Whether a line states a date or a time of day ("Updated Monday 7 December 2026,
    10:45"): a line that says when the page was written or served, whose words (a weekday, a
    month) change with it."""
    return bool(_DATED.search(line))


def clock_stamp(hunk: Hunk) -> bool:
    """Whether every word a hunk changes, on both sides, is a time of day or a timestamp
    ("10:42" → "11:05"): what a page says of when it was served or refreshed."""
    words = [*hunk.old, *hunk.new]
    return bool(words) and all(_CLOCK.match(word) for word in words)
