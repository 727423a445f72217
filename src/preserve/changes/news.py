"""Which check results are news: a change of what is known about a URL, not a repetition of
it. Every edit and every return is news; a move, a takedown or a restriction when first seen;
a takedown again when it is confirmed. A page that stays gone for a month is news twice, not
thirty times."""

from __future__ import annotations

from preserve.changes.model import Outcome, PastCheck

# Every one of these is a change; the other outcomes say that nothing changed (unchanged,
# cosmetic), that nothing is known yet (new, failed), or only that a fetch did not work
# this time (unreachable), which becomes news when it is persistent (gone).
ALWAYS_NEWS = frozenset({"edited", "restored"})
NEWS_WHEN_FIRST_SEEN = frozenset({"moved", "gone", "restricted"})


def is_news(outcome: Outcome, last: PastCheck | None) -> bool:
    """Whether a check's outcome is news, given the check of the same URL before it."""
    if outcome.outcome in ALWAYS_NEWS:
        return True
    if outcome.outcome not in NEWS_WHEN_FIRST_SEEN:
        return False
    if last is None or (last.outcome, last.reason) != (outcome.outcome, outcome.reason):
        return True
    return outcome.confirmed and not last.confirmed
