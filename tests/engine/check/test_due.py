"""check --due: only the targets whose interval has passed."""

from __future__ import annotations

from datetime import datetime, timedelta

from preserve.engine.check import select_targets
from preserve.times import iso
from tests.support.checking import DAY, HOUR, Lab, short_article
from tests.support.cli import Preserve
from tests.support.sites import Page, Site


def test_due_selects_only_targets_whose_interval_has_passed(
    lab: Lab, site: Site, preserve: Preserve
) -> None:
    site.pages["/weekly"] = Page(short_article("Weekly"))
    site.pages["/daily"] = Page(short_article("Daily"))
    weekly, daily = site.url("/weekly"), site.url("/daily")
    lab.capture(weekly)
    lab.capture(daily)

    # Freshly captured targets are due one interval (1 day by default) after their capture.
    def due_at(moment: datetime) -> set[str]:
        return {t.url for t in select_targets(lab.store, None, due=True, now=moment)}

    captured_at = lab.clock.now
    assert due_at(captured_at) == set()
    assert due_at(captured_at + DAY + HOUR) == {weekly, daily}
    # A new interval moves the next due time too: one week after the capture.
    result = preserve.run(lab.path, "track", weekly, "--every", "1w")
    assert result.exit_code == 0, result.output
    assert lab.store.target(weekly).every_seconds == 7 * 86400
    assert due_at(captured_at + DAY + HOUR) == {daily}
    assert due_at(captured_at + 7 * DAY + HOUR) == {weekly, daily}
    # A check with the clock before anything is due selects nothing and records nothing.
    lab.clock.advance(HOUR)
    assert lab.check(due=True) == {}
    lab.clock.advance(DAY)
    assert set(lab.check(due=True)) == {daily}
    checked_at = lab.clock.now
    assert {t.url for t in lab.store.due(checked_at + DAY + HOUR)} == {daily}
    lab.clock.advance(7 * DAY)
    assert set(lab.check(due=True)) == {weekly, daily}
    assert lab.store.target(weekly).next_due == iso(
        datetime.fromisoformat(lab.store.target(weekly).last_checked_at)  # type: ignore[arg-type]
        + timedelta(weeks=1)
    )
