"""How much of a page a capture holds as text. A page built by scripts, a bot check or a
consent wall leaves a capture with a few words or none: it is stored as evidence of what was
served, but it is no archive of what a reader sees, and must never pass for one."""

from __future__ import annotations

# A page with fewer words of main text than this (characters, in scripts written without
# spaces) has no text to speak of: "Loading…", "Checking your browser", "Accept cookies".
THIN_WORDS = 30
# What each gap means, for people.
GAPS = {
    "no-text": "no main text to speak of: a page built by scripts, a bot check or a consent "
    "wall? The page is not really archived yet",
    "no-text-layer": "a PDF without a text layer (a scan?): its bytes are archived, its words "
    "cannot be compared",
}


def text_gap(kind: str | None, words: int | None) -> str | None:
    """What a capture of this kind with this many words of main text lacks: `no-text`, a
    page or text file without text to speak of; `no-text-layer`, a PDF with no text; None
    when it has its text, or when that is not known (a capture from before it was
    counted, a file that is not text)."""
    if words is None:
        return None
    if kind in ("html", "text") and words < THIN_WORDS:
        return "no-text"
    if kind == "pdf" and words == 0:
        return "no-text-layer"
    return None
