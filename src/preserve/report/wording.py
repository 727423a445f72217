"""The report's words, shared by its text and HTML renderings: times, reasons and states."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: the words load without the diff code
    from preserve.changes.model import MetadataChange

# A check's reason code as words.
REASONS = {
    "http-404": "HTTP 404 Not Found",
    "http-410": "HTTP 410 Gone",
    "http-451": "HTTP 451 Unavailable For Legal Reasons",
    "dns": "the domain name no longer exists",
    "soft-404": 'the site answers with a "not found" page',
    "replaced": "replaced by unrelated content",
    "parked": "the domain is parked or for sale",
    "unreachable-persistent": "unreachable for over a week",
    "text": "text changed",
    "title-only": "title changed",
    "links-only": "cited links changed",
    "title-and-links": "title and cited links changed",
    "byline-only": "byline changed",
    "title-and-byline": "title and byline changed",
    "byline-and-links": "byline and cited links changed",
    "title-byline-and-links": "title, byline and cited links changed",
    "date-modified": "only the stated date of modification changed",
    "punctuation-only": "punctuation or case changed",
    "payload": "the file changed",
    "kind-changed": "the kind of file changed",
    "bot-challenge": "a bot challenge",
    "login": "a login page",
    "paywall": "a paywall",
    "consent": "a cookie-consent wall",
    "no-text": "a page without text",
    "outside-main-text": "a passage the page shows outside its main text changed",
    "unverified": "the main text is the same; the rest of the page could not be compared",
    "resaved": "the document was saved again with the same text",
}

# Said above the diff of an edit outside the main text.
OUTSIDE_MAIN_TEXT = (
    "The main text the extractor took is the same; the page's own passages around it changed:"
)

# What each state (or an article's badge) means, for a reader new to the report.
STATE_WORDS = {
    "ok": "the article has not changed since it was first captured, nor have its sources",
    "sources-changed": "the article has not changed, but sources it cites have",
    "no-text": "archived without its text: a page built by scripts, a bot check or a consent wall?",
    "new": "captured, not checked yet",
    "unchanged": "still says what it said when first captured",
    "cosmetic": "only markup, ads or tokens changed",
    "edited": "its text, title or cited links changed",
    "moved": "answers from another address, with the same text",
    "restored": "was unavailable and came back",
    "gone": 'taken down: 404, 410, 451, the domain vanished, or a "not found" page',
    "failed": "never captured well (the error is recorded)",
    "restricted": 'login, paywall, bot challenge or 401/403/429: inconclusive, never "gone"',
    "unreachable": "timeouts, refusals, server errors: transient",
}


def human_time(moment: str | None, *, seconds: bool = True) -> str:
    """A database time as people read it: `2026-11-27 22:00:04 UTC`."""
    if not moment:
        return "-"
    return moment[: 19 if seconds else 16].replace("T", " ") + " UTC"


# The reasons a URL that was never captured gives, where the words of a takedown would say
# that something existed before: a mistyped domain never "no longer" existed.
NEVER_CAPTURED_REASONS = {
    "dns": "the domain name does not exist",
    "http-410": "HTTP 410 Gone",
}


def reason_text(reason: str | None, *, never_captured: bool = False) -> str:
    """A reason code as words ("http-410" → "HTTP 410 Gone"); unknown codes as they are.
    `never_captured`: the reason a URL was never captured for, in words that claim nothing
    about a past it may not have had."""
    if not reason:
        return ""
    if never_captured and reason in NEVER_CAPTURED_REASONS:
        return NEVER_CAPTURED_REASONS[reason]
    return REASONS.get(reason, reason)


def restated_text(change: MetadataChange) -> str:
    """A change of title, byline or stated date, in words: `title "A" → "B"`."""
    name = {"modified": "stated date of modification"}.get(change.field, change.field)
    return f"{name} {_quoted(change.before)} → {_quoted(change.after)}"


def _quoted(value: str | None) -> str:
    return f'"{value}"' if value else "(none)"
