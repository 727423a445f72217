"""check, end to end: takedowns confirmed over time, with the clock moved by the test, and
errors that never replace the baseline."""

from __future__ import annotations

from datetime import timedelta

from tests.support.checking import HOUR, Lab, gone_checks, short_article
from tests.support.sites import Page, Site, redirect


def test_404_is_confirmed_by_three_checks_a_day_apart(lab: Lab, site: Site) -> None:
    site.pages["/doc"] = Page(short_article())
    url = site.url("/doc")
    lab.capture(url)
    baseline = lab.baseline(url)
    del site.pages["/doc"]
    seen = gone_checks(lab, url, [HOUR, 2 * HOUR, 25 * HOUR, 25 * HOUR])
    assert seen == [
        ("gone", "http-404", False),
        ("gone", "http-404", False),  # two hours later: too soon to count
        ("gone", "http-404", False),
        ("gone", "http-404", True),
    ]
    assert lab.baseline(url) == baseline
    target = lab.store.target(url)
    assert target is not None and (target.state, target.confirmed) == ("gone", 1)


def test_410_is_confirmed_by_a_recheck_an_hour_later(lab: Lab, site: Site) -> None:
    site.pages["/doc"] = Page(short_article())
    url = site.url("/doc")
    lab.capture(url)
    site.pages["/doc"] = Page("<html><body>Gone</body></html>", 410)
    seen = gone_checks(lab, url, [HOUR, timedelta(minutes=30), timedelta(minutes=45)])
    assert seen == [
        ("gone", "http-410", False),
        ("gone", "http-410", False),
        ("gone", "http-410", True),
    ]


def test_451_and_soft_404_confirmation_rules(lab: Lab, site: Site) -> None:
    site.pages["/"] = Page(short_article("Front page", 6))
    site.pages["/legal"] = Page(short_article("Legal"))
    site.pages["/soft"] = Page(short_article("Soft"))
    legal, soft = site.url("/legal"), site.url("/soft")
    lab.capture(legal)
    lab.capture(soft)
    site.pages["/legal"] = Page("<html><body>Blocked</body></html>", 451)
    site.pages["/soft"] = redirect(site.url("/"), 301)
    seen = []
    for gap in (HOUR, 2 * HOUR, 25 * HOUR):
        lab.clock.advance(gap)
        results = lab.check()
        seen.append({u: (r.outcome.reason, r.outcome.confirmed) for u, r in results.items()})
    assert [s[legal] for s in seen] == [("http-451", False), ("http-451", True), ("http-451", True)]
    assert [s[soft] for s in seen] == [("soft-404", False), ("soft-404", False), ("soft-404", True)]


def test_a_good_answer_resets_the_404_count(lab: Lab, site: Site) -> None:
    site.pages["/doc"] = Page(short_article())
    url = site.url("/doc")
    lab.capture(url)
    healthy = site.pages.pop("/doc")
    assert gone_checks(lab, url, [HOUR, 25 * HOUR]) == [("gone", "http-404", False)] * 2
    site.pages["/doc"] = healthy
    lab.clock.advance(25 * HOUR)
    restored = lab.check_one(url).outcome
    assert (restored.outcome, restored.reason, restored.text_equal) == (
        "restored",
        "http-404",
        True,
    )
    del site.pages["/doc"]
    assert gone_checks(lab, url, [25 * HOUR, 25 * HOUR, 25 * HOUR]) == [
        ("gone", "http-404", False),
        ("gone", "http-404", False),
        ("gone", "http-404", True),
    ]


def test_errors_never_replace_the_baseline(lab: Lab, site: Site) -> None:
    site.pages["/doc"] = Page(short_article())
    url = site.url("/doc")
    lab.capture(url)
    baseline = lab.baseline(url)
    for page in (
        Page("<html><body>Down</body></html>", 503),
        Page("<html><body>Bad gateway</body></html>", 502),
        Page("<html><body>Forbidden</body></html>", 403),
        Page("<html><body>Missing</body></html>", 404),
    ):
        site.pages["/doc"] = page
        lab.clock.advance(HOUR)
        lab.check_one(url)
        assert lab.baseline(url) == baseline, page.status
    checks = lab.rows("SELECT outcome, baseline_capture_id FROM checks WHERE url = ?", [url])
    assert [c["outcome"] for c in checks] == ["unreachable", "unreachable", "restricted", "gone"]
    assert {c["baseline_capture_id"] for c in checks} == {baseline}
