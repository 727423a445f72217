"""Confirmation over time: a takedown seen once is reported at once, unconfirmed, and confirmed
by rules over later checks (a 410 seen again an hour later, a 404 on three checks a day
apart); one good answer resets them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from preserve.changes.model import Outcome, PastCheck

PERSISTENT_CHECKS = 5
PERSISTENT_SPAN = timedelta(days=7)


# reason → (checks needed, minimum gap between counted checks)
CONFIRM = {
    "http-410": (2, timedelta(hours=1)),
    "http-451": (2, timedelta(hours=1)),
    "http-404": (3, timedelta(hours=24)),
    "dns": (3, timedelta(hours=24)),
    "soft-404": (2, timedelta(hours=24)),
    "replaced": (2, timedelta(hours=24)),
    "parked": (2, timedelta(hours=24)),
}


def confirm(result: Outcome, history: Sequence[PastCheck], now: datetime) -> Outcome:
    """Set `confirmed` from the history, and escalate persistent unreachability."""
    if result.outcome == "unreachable":
        run = _run(
            history,
            now,
            lambda c: c.outcome == "unreachable" or c.reason == "unreachable-persistent",
            skip=False,
        )
        if len(run) >= PERSISTENT_CHECKS and run[-1] - run[0] >= PERSISTENT_SPAN:
            return replace(
                result,
                outcome="gone",
                reason="unreachable-persistent",
                confirmed=True,
                rule="unreachable.persistent",
            )
        return result
    if result.outcome == "restricted":
        run = _run(history, now, lambda c: c.outcome == "restricted", skip=False)
        return replace(result, confirmed=len(run) >= 2)
    if result.outcome == "gone" and result.reason in CONFIRM:
        needed, gap = CONFIRM[result.reason]
        run = _run(
            history, now, lambda c: c.outcome == "gone" and c.reason == result.reason, skip=True
        )
        return replace(result, confirmed=_spaced(run, gap) >= needed)
    return result


def _run(
    history: Sequence[PastCheck],
    now: datetime,
    same: Callable[[PastCheck], bool],
    *,
    skip: bool,
) -> list[datetime]:
    """Times of this check and of the newest earlier checks matching `same`, oldest first.
    With `skip`, inconclusive checks (unreachable, restricted) neither count nor end the run."""
    times = [now]
    for check in reversed(history):
        if same(check):
            times.append(check.checked_at)
        elif not (skip and check.outcome in ("unreachable", "restricted")):
            break
    return sorted(times)


def _spaced(times: list[datetime], gap: timedelta) -> int:
    """How many of `times` (sorted) can be counted with at least `gap` between counted ones."""
    count, last = 0, None
    for t in times:
        if last is None or t - last >= gap:
            count, last = count + 1, t
    return count
