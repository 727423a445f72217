"""check --due: only the targets whose interval has passed."""

from __future__ import annotations

from datetime import datetime, timedelta

from preserve.engine.check import select_targets
from preserve.times import iso
from tests.support.checking import DAY, HOUR, Lab, short_article
from tests.support.cli import Preserve, assert_one_error_line
from tests.support.sites import Page, Site, article_html


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


def test_a_paused_target_is_never_due_and_is_due_again_once_resumed(
    lab: Lab, site: Site, preserve: Preserve
) -> None:
    site.pages["/a"] = Page(article_html("A", ['See <a href="/src">the source</a>.']))
    site.pages["/src"] = Page(short_article("Source"))
    site.pages["/b"] = Page(short_article("B"))
    a, source, b = site.url("/a"), site.url("/src"), site.url("/b")
    lab.capture(a, b)

    paused = preserve.run(lab.path, "track", a, "--pause")
    lab.clock.advance(DAY + HOUR)
    due_while_paused = {t.url for t in select_targets(lab.store, None, due=True, now=lab.clock.now)}
    checked_while_paused = set(lab.check(due=True))
    by_name = set(lab.check(a))  # named, a paused URL is checked all the same
    resumed = preserve.run(lab.path, "track", a, "--resume")
    # The source fell due while paused: due at once. The others were just checked.
    checked_at_once = set(lab.check(due=True))
    lab.clock.advance(DAY + HOUR)
    checked_a_day_on = set(lab.check(due=True))

    assert paused.exit_code == 0 and resumed.exit_code == 0, (paused.output, resumed.output)
    assert due_while_paused == checked_while_paused == {b}
    assert by_name == {a}
    assert "2 tracked URL(s) resumed" in resumed.stdout
    assert checked_at_once == {source}
    assert checked_a_day_on == {a, source, b}


def test_track_needs_something_to_change(lab: Lab, site: Site, preserve: Preserve) -> None:
    site.pages["/a"] = Page(short_article("A"))
    lab.capture(site.url("/a"))

    result = preserve.run(lab.path, "track", site.url("/a"))

    assert_one_error_line(result)
    assert "give --every, --pause, --resume or --browser" in result.stderr
