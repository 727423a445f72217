"""check, end to end: takedowns (gone, restricted, soft 404), moves, unreachable servers
and restorations."""

from __future__ import annotations

import json

import pytest

from preserve.config import Config, FetchLimits
from preserve.warc.reader import read_record
from tests.support.checking import (
    DAY,
    HOUR,
    NEGATED,
    NOT_FOUND_TEMPLATE,
    Lab,
    gone_checks,
    long_paragraphs,
    short_article,
)
from tests.support.sites import Page, Site, article_html, redirect

# --- takedowns ----------------------------------------------------------------------------


@pytest.mark.parametrize("status", [404, 410, 451])
def test_takedown_statuses_are_gone_with_their_reason(lab: Lab, site: Site, status: int) -> None:
    site.pages["/doc"] = Page(short_article())
    url = site.url("/doc")
    lab.capture(url)
    baseline = lab.baseline(url)
    headers = [("Link", '<https://blocker.example/>; rel="blocked-by"')] if status == 451 else []
    notice = "Unavailable for legal reasons: removed following a court order."
    site.pages["/doc"] = Page(f"<html><body><p>{notice}</p></body></html>", status, headers=headers)
    lab.clock.advance(HOUR)
    result = lab.check_one(url)
    assert (result.outcome.outcome, result.outcome.reason) == ("gone", f"http-{status}")
    assert result.outcome.confirmed is False
    assert result.captured.http_status == status
    assert lab.baseline(url) == baseline  # a takedown never becomes the baseline
    if status == 451:
        assert result.outcome.blocked_by == "https://blocker.example/"
        assert result.to_json()["blocked_by"] == "https://blocker.example/"
        (check,) = lab.rows("SELECT detail FROM checks WHERE url = ?", [url])
        assert json.loads(check["detail"])["blocked_by"] == "https://blocker.example/"
        # The evidence is kept: the header and the body, in the WARC record.
        record = read_record(
            lab.archive.warc_path(result.captured.warc),  # type: ignore[arg-type]
            result.captured.offset,  # type: ignore[arg-type]
            lab.store.capture(result.captured.capture_id).length,  # type: ignore[arg-type]
        )
        assert record.http_status == 451
        assert "blocked-by" in (record.http_header("Link") or "")
        assert notice.encode() in record.payload


@pytest.mark.parametrize("status", [401, 403, 429])
def test_restricted_statuses_are_never_gone(lab: Lab, site: Site, status: int) -> None:
    site.pages["/doc"] = Page(short_article())
    url = site.url("/doc")
    lab.capture(url)
    site.pages["/doc"] = Page("<html><body>Forbidden</body></html>", status)
    lab.clock.advance(HOUR)
    result = lab.check_one(url)
    assert (result.outcome.outcome, result.outcome.reason) == ("restricted", f"http-{status}")


@pytest.mark.parametrize("status", [301, 302])
def test_redirect_to_the_home_page_is_a_soft_404(lab: Lab, site: Site, status: int) -> None:
    site.pages["/"] = Page(short_article("Front page", 6))
    site.pages["/2016/10/story"] = Page(short_article())
    url = site.url("/2016/10/story")
    lab.capture(url)
    baseline = lab.baseline(url)
    site.pages["/2016/10/story"] = redirect(site.url("/"), status)
    lab.clock.advance(HOUR)
    result = lab.check_one(url)
    outcome = result.outcome
    assert (outcome.outcome, outcome.reason, outcome.rule) == (
        "gone",
        "soft-404",
        "soft404.root-redirect",
    )
    assert outcome.new_url is None
    assert lab.baseline(url) == baseline
    assert site.url("/") not in {t.url for t in lab.store.targets()}


def test_site_answering_every_missing_url_with_200_is_a_soft_404_found_by_the_probe(
    lab: Lab, site: Site
) -> None:
    site.not_found = Page(NOT_FOUND_TEMPLATE, status=200)
    site.pages["/news/story"] = Page(short_article())
    site.pages["/news/other"] = Page(short_article("Other story"))
    url, other = site.url("/news/story"), site.url("/news/other")
    lab.capture(url)
    lab.capture(other)
    del site.pages["/news/story"]  # now answered with the 200 template
    site.pages["/news/other"] = Page(short_article("Other, updated", seed="Other story"))
    lab.clock.advance(HOUR)
    results = lab.check()
    gone = results[url].outcome
    assert (gone.outcome, gone.reason) == ("gone", "soft-404")
    assert gone.rule.startswith("soft404.probe"), gone.rule
    # The site answers everything with 200, but the real page is a different page: alive.
    alive = results[other].outcome
    assert (alive.outcome, alive.reason) == ("edited", "title-only")
    # One probe per host and directory, recorded as a capture of its own.
    probes = lab.rows("SELECT * FROM captures WHERE role = 'probe' AND run_id = ?", [lab.last_run])
    assert len(probes) == 1 and probes[0]["url"].startswith(site.url("/news/"))
    (check,) = lab.rows("SELECT probe_capture_id FROM checks WHERE url = ?", [url])
    assert check["probe_capture_id"] == probes[0]["id"]


def test_an_honest_site_with_a_real_404_template_is_not_probed_into_soft_404(
    lab: Lab, site: Site
) -> None:
    site.pages["/news/story"] = Page(short_article(seed="x"))
    url = site.url("/news/story")
    lab.capture(url)
    site.pages["/news/story"] = Page(short_article("Harbour budget, again", seed="x"))
    lab.clock.advance(HOUR)
    result = lab.check_one(url)
    assert (result.outcome.outcome, result.outcome.reason) == ("edited", "title-only")


# --- moves and restorations ---------------------------------------------------------------


def test_permanent_redirect_to_the_same_text_is_moved_and_the_new_url_is_tracked(
    lab: Lab, site: Site
) -> None:
    html = article_html("Wiretap inquiry", long_paragraphs(count=6))
    site.pages["/2016/10/old-slug"] = Page(html)
    url, new_url = site.url("/2016/10/old-slug"), site.url("/2016/10/new-slug")
    lab.capture(url)
    site.pages["/2016/10/old-slug"] = redirect(new_url, 301)
    site.pages["/2016/10/new-slug"] = Page(html)
    lab.clock.advance(HOUR)
    result = lab.check_one(url)
    assert result.outcome.outcome == "moved"
    assert result.outcome.new_url == new_url
    assert result.to_json()["new_url"] == new_url
    target = lab.store.target(new_url)
    assert target is not None and target.role == "article"
    assert target.baseline_capture_id == result.captured.capture_id
    lab.clock.advance(HOUR)
    results = lab.check()
    assert set(results) == {url, new_url}
    assert results[new_url].outcome.outcome == "unchanged"


def test_permanent_redirect_to_an_edited_text_is_moved_with_the_edit(lab: Lab, site: Site) -> None:
    site.pages["/2016/10/old-slug"] = Page(article_html("Inquiry", long_paragraphs(count=6)))
    url, new_url = site.url("/2016/10/old-slug"), site.url("/2016/10/new-slug")
    lab.capture(url)
    site.pages["/2016/10/old-slug"] = redirect(new_url, 308)
    site.pages["/2016/10/new-slug"] = Page(
        article_html("Inquiry", long_paragraphs(NEGATED, count=6))
    )
    lab.clock.advance(HOUR)
    outcome = lab.check_one(url).outcome
    assert (outcome.outcome, outcome.reason, outcome.new_url) == ("moved", "text", new_url)
    assert outcome.edit is not None and outcome.edit.negations_added == ("not",)


def test_temporary_redirect_elsewhere_is_judged_on_content_only(lab: Lab, site: Site) -> None:
    html = article_html("Inquiry", long_paragraphs(count=6))
    site.pages["/a"] = Page(html)
    url = site.url("/a")
    lab.capture(url)
    site.pages["/a"] = redirect(site.url("/b"), 302)
    site.pages["/b"] = Page(html)
    lab.clock.advance(HOUR)
    result = lab.check_one(url)
    assert result.outcome.outcome == "unchanged"
    assert lab.store.target(site.url("/b")) is None


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("login", ("restricted", "login")),
        ("loop", ("unreachable", "redirect-loop")),
        ("empty", ("restricted", "no-text")),
        ("shell", ("restricted", "no-text")),
        ("loading", ("restricted", "no-text")),  # a word or two is no text either
    ],
)
def test_inconclusive_answers_are_neither_edited_nor_gone(
    lab: Lab, site: Site, change: str, expected: tuple[str, str]
) -> None:
    site.pages["/doc"] = Page(short_article())
    url = site.url("/doc")
    lab.capture(url)
    baseline = lab.baseline(url)
    if change == "login":
        site.pages["/doc"] = redirect(site.url("/account/login?next=/doc"))
        site.pages["/account/login?next=/doc"] = Page(short_article("Sign in", seed="login"))
    elif change == "loop":
        site.pages["/doc"] = redirect(site.url("/doc2"))
        site.pages["/doc2"] = redirect(site.url("/doc"))
    elif change == "empty":
        site.pages["/doc"] = Page(b"")
    elif change == "shell":
        site.pages["/doc"] = Page(
            '<html><head><title>App</title><script src="/app.js"></script></head>'
            '<body><div id="root"></div><noscript>Enable JavaScript.</noscript></body></html>'
        )
    else:
        site.pages["/doc"] = Page(
            '<html><head><title>App</title><script src="/app.js"></script></head>'
            '<body><div id="app">Loading...</div></body></html>'
        )
    lab.clock.advance(HOUR)
    outcome = lab.check_one(url).outcome
    assert (outcome.outcome, outcome.reason) == expected
    assert lab.baseline(url) == baseline


def test_slow_server_is_unreachable_by_timeout(lab: Lab, site: Site) -> None:
    site.pages["/doc"] = Page(short_article())
    url = site.url("/doc")
    lab.capture(url)
    baseline = lab.baseline(url)
    site.pages["/doc"] = Page(short_article(), delay=1.5)
    lab.config = Config(fetch=FetchLimits(timeout=0.3, deadline=0.6, allow_private=True))
    lab.clock.advance(HOUR)
    outcome = lab.check_one(url).outcome
    assert outcome.outcome == "unreachable" and outcome.reason == "timeout"
    assert lab.baseline(url) == baseline


def test_503_is_unreachable_then_restored_and_never_replaces_the_baseline(
    lab: Lab, site: Site
) -> None:
    site.pages["/doc"] = Page(short_article())
    url = site.url("/doc")
    lab.capture(url)
    baseline = lab.baseline(url)
    healthy = site.pages["/doc"]
    site.pages["/doc"] = Page("<html><body>Service unavailable</body></html>", 503)
    for _ in range(2):
        lab.clock.advance(HOUR)
        result = lab.check_one(url)
        assert (result.outcome.outcome, result.outcome.reason) == ("unreachable", "http-503")
        assert result.outcome.confirmed is False
        assert lab.baseline(url) == baseline
    site.pages["/doc"] = healthy
    lab.clock.advance(HOUR)
    result = lab.check_one(url)
    assert (result.outcome.outcome, result.outcome.reason) == ("restored", "http-503")
    assert result.outcome.text_equal is True
    assert result.to_json()["text_equal"] is True
    assert lab.store.target(url).state == "restored"


def test_restored_with_other_text_says_so_and_carries_the_edit(lab: Lab, site: Site) -> None:
    site.pages["/doc"] = Page(article_html("Inquiry", long_paragraphs(count=6)))
    url = site.url("/doc")
    lab.capture(url)
    site.pages["/doc"] = Page("<html><body>Missing</body></html>", 404)
    lab.clock.advance(HOUR)
    assert lab.check_one(url).outcome.outcome == "gone"
    site.pages["/doc"] = Page(article_html("Inquiry", long_paragraphs(NEGATED, count=6)))
    lab.clock.advance(HOUR)
    result = lab.check_one(url)
    outcome = result.outcome
    assert (outcome.outcome, outcome.reason, outcome.text_equal) == ("restored", "http-404", False)
    assert outcome.edit is not None and outcome.edit.negations_added == ("not",)
    assert lab.baseline(url) == result.captured.capture_id


def test_persistent_unreachability_becomes_gone_only_after_many_checks_over_days(
    lab: Lab, site: Site
) -> None:
    site.pages["/doc"] = Page(short_article())
    url = site.url("/doc")
    lab.capture(url)
    baseline = lab.baseline(url)
    site.pages["/doc"] = Page("<html><body>Down</body></html>", 503)
    seen = gone_checks(lab, url, [HOUR] + [2 * DAY] * 4)
    assert seen[:4] == [("unreachable", "http-503", False)] * 4
    assert seen[4] == ("gone", "unreachable-persistent", True)
    assert lab.baseline(url) == baseline


def test_a_source_that_failed_at_capture_is_new_once_it_answers(lab: Lab, site: Site) -> None:
    site.pages["/story"] = Page(
        article_html("Inquiry", ['As <a href="/late">the late source</a> said, it was so.'])
    )
    url, late = site.url("/story"), site.url("/late")
    (captured,) = lab.capture(url)
    assert [(c.job.url, c.status, c.http_status) for c in captured.citations] == [
        (late, "captured", 404)
    ]
    assert lab.baseline(late) is None
    lab.clock.advance(HOUR)
    failed = lab.check_one(late).outcome
    assert (failed.outcome, failed.reason, failed.confirmed) == ("failed", "http-404", False)
    site.pages["/late"] = Page(short_article("Late source"))
    lab.clock.advance(HOUR)
    result = lab.check_one(late)
    assert result.outcome.outcome == "new"
    assert lab.baseline(late) == result.captured.capture_id


def test_refused_connection_is_unreachable_and_keeps_the_baseline(lab: Lab) -> None:
    dead = Site()
    dead.pages["/doc"] = Page(short_article())
    url = dead.url("/doc")
    lab.capture(url)
    baseline = lab.baseline(url)
    dead.close()
    lab.clock.advance(HOUR)
    result = lab.check_one(url)
    assert result.outcome.outcome == "unreachable"
    assert result.captured.error is not None
    assert lab.baseline(url) == baseline
