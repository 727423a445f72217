"""check, end to end: real servers on 127.0.0.1 whose pages the tests change between
captures, checked through the library with a clock the tests move. Edits, and the noise that
never is one."""

from __future__ import annotations

import itertools
import json
import random
import secrets
from datetime import timedelta
from http.server import BaseHTTPRequestHandler

from preserve.cli.text import check_lines
from preserve.report.build import build_report
from tests.support.checking import (
    CLAIM,
    HOUR,
    NEGATED,
    Lab,
    after_redesign,
    before_redesign,
    long_paragraphs,
    redesign_body,
    sentences,
)
from tests.support.clock import T0
from tests.support.sites import Page, Site, article_html


def test_one_word_negation_in_a_long_article_is_an_edit_naming_that_change(
    lab: Lab, site: Site
) -> None:
    url = site.url("/2016/10/long-story")
    site.pages["/2016/10/long-story"] = Page(article_html("Wiretap inquiry", long_paragraphs()))
    (captured,) = lab.capture(url)
    assert captured.ok
    baseline_text = lab.store.text(captured.article.text_sha256)
    assert baseline_text is not None and len(baseline_text.split()) >= 2000

    lab.clock.advance(HOUR)
    assert lab.check_one(url).outcome.outcome == "unchanged"

    site.pages["/2016/10/long-story"] = Page(
        article_html("Wiretap inquiry", long_paragraphs(NEGATED))
    )
    lab.clock.advance(HOUR)
    result = lab.check_one(url)
    outcome = result.outcome
    assert (outcome.outcome, outcome.reason, outcome.confirmed) == ("edited", "text", True)
    edit = outcome.edit
    assert edit is not None
    assert (edit.words_added, edit.words_removed) == (3, 1)
    assert edit.negations_added == ("not",)
    assert edit.first_changed_old == CLAIM
    assert edit.first_changed_new == NEGATED
    (hunk,) = edit.hunks
    assert hunk.old == ("confirmed",)
    assert hunk.new == ("did", "not", "confirm")
    data = result.to_json()
    assert data["edit"]["words_added"] == 3 and len(data["edit"]["hunks"]) == 1
    # An edit moves the baseline on: the next check of the same text is unchanged.
    assert lab.baseline(url) == result.captured.capture_id
    lab.clock.advance(HOUR)
    assert lab.check_one(url).outcome.outcome == "unchanged"


def noisy_page(site: Site, path: str, paragraphs: list[str]) -> None:
    """A page whose every answer differs in ads, tokens, nonces, timestamps, cache-busters,
    comments and a rotating "most read" list, but never in what the article says."""
    hits = itertools.count()

    def handler(request: BaseHTTPRequestHandler) -> None:
        n = next(hits)
        token = secrets.token_hex(16)
        ad = secrets.token_hex(4)
        stamp = (T0 + timedelta(minutes=7 * n)).strftime("%H:%M:%S")
        stories = [f"Most read story number {i}" for i in range(1, 8)]
        rotated = stories[n % 7 :] + stories[: n % 7]
        most_read = "".join(
            f'<li><a href="/most-read/{(i + n) % 7}">{s}</a></li>' for i, s in enumerate(rotated)
        )
        slot = (
            f'<div class="ad-slot" data-slot="{ad}"><span class="ad-label">Advertisement</span>'
            f'<iframe src="https://ads.example/frame/{ad}"></iframe></div>'
        )
        related = (
            f'<aside class="related">Related: <a href="/most-read/{n % 7}">{rotated[0]}</a></aside>'
        )
        body = "\n".join(
            f"<p>{p}</p>" + (slot if i == 1 else related if i == 3 else "")
            for i, p in enumerate(paragraphs)
        )
        html = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Harbour budget approved</title>
<meta name="csrf-token" content="{token}">
<link rel="stylesheet" href="/static/site.css?v={ad}">
<script nonce="{token[:12]}">window.adSlot = "{ad}"; window.rendered = "{stamp}";</script>
</head><body>
<nav class="menu"><a href="/">Home</a> <a href="/world/">World</a></nav>
<div class="ad-banner" id="ad-{ad}"><a href="https://ads.example/c?id={ad}">Sponsored</a></div>
<header><h1>Harbour budget approved</h1><p class="byline">By Staff Writer</p></header>
<main><article><div class="article-body">
{body}
</div></article></main>
<aside class="sidebar"><h2>Most read</h2><ul>{most_read}</ul></aside>
<section class="comments"><h2>Comments ({n})</h2><p>Reader {ad} wrote at {stamp}.</p></section>
<form action="/subscribe" method="post"><input type="hidden" name="csrf" value="{token}">
<input name="email"></form>
<footer>Page generated at {stamp} by node {ad}. <a href="/privacy">Privacy</a></footer>
</body></html>"""
        Site.serve(request, Page(html))

    site.pages[path] = handler


def test_ads_tokens_timestamps_and_rotating_lists_are_never_edits(lab: Lab, site: Site) -> None:
    rng = random.Random(3)
    url = site.url("/2016/10/budget")
    noisy_page(site, "/2016/10/budget", [sentences(rng, 4) for _ in range(6)])
    lab.capture(url)
    outcomes = []
    for _ in range(4):
        lab.clock.advance(HOUR)
        result = lab.check_one(url)
        outcomes.append((result.outcome.outcome, result.outcome.reason))
        assert result.captured.sha256 is not None
    assert all(outcome in ("cosmetic", "unchanged") for outcome, _ in outcomes), outcomes
    assert ("cosmetic", "markup") in outcomes  # the bytes did change every time
    assert lab.store.target(url).state == "cosmetic"


def test_wrapper_change_pulling_headline_and_byline_into_the_text_is_not_an_edit(
    lab: Lab, site: Site
) -> None:
    body = redesign_body()
    site.pages["/story"] = before_redesign(body)
    url = site.url("/story")
    lab.capture(url)
    site.pages["/story"] = after_redesign(body)
    lab.clock.advance(HOUR)
    result = lab.check_one(url)
    assert result.outcome.outcome != "edited", result.outcome
    assert (result.outcome.outcome, result.outcome.reason) == ("cosmetic", "boundary-shift")
    assert result.outcome.text_equal is True
    assert lab.baseline(url) == result.captured.capture_id
    # And back to the old design: a shift again.
    site.pages["/story"] = before_redesign(body)
    lab.clock.advance(HOUR)
    assert lab.check_one(url).outcome.reason == "boundary-shift"


def test_a_capture_leaves_the_visible_text_to_the_check_that_needs_it(lab: Lab, site: Site) -> None:
    """A capture stores no visible text; a check that compares by it extracts the
    baseline's again from its WARC record (the redesign test above shows it used), and
    stores the visible text of what it recaptured."""
    body = redesign_body()
    site.pages["/story"] = before_redesign(body)
    url = site.url("/story")
    (captured,) = lab.capture(url)
    assert captured.article is not None
    kept = (
        "SELECT visible_texts.text AS visible FROM captures"
        " LEFT JOIN visible_texts ON visible_texts.sha256 = captures.visible_sha256"
        " WHERE captures.id = ?"
    )
    assert lab.rows(kept, [captured.article.capture_id]) == [{"visible": None}]
    site.pages["/story"] = after_redesign(body)
    lab.clock.advance(HOUR)
    result = lab.check_one(url)
    assert result.outcome.reason == "boundary-shift"
    (row,) = lab.rows(kept, [result.captured.capture_id])
    assert "The Headline Of The Story" in row["visible"]


def test_a_baseline_whose_warc_file_is_lost_is_compared_without_its_visible_text(
    lab: Lab, site: Site
) -> None:
    """Without its record the baseline's visible text cannot be had again: the shift can
    no longer be told from an edit, so it is reported as one (more, never less)."""
    body = redesign_body()
    site.pages["/story"] = before_redesign(body)
    url = site.url("/story")
    lab.capture(url)
    for path in lab.archive.warcs.iterdir():
        path.unlink()
    site.pages["/story"] = after_redesign(body)
    lab.clock.advance(HOUR)
    assert lab.check_one(url).outcome.outcome == "edited"


def test_a_headline_going_back_and_forth_is_one_alternating_event(lab: Lab, site: Site) -> None:
    """An A/B-tested headline: A, B, A, B. Each change is an edit, but a
    return to an earlier version says so, and the back and forth is one event."""
    headline_a, headline_b = "Harbour closed after moorings fail", "Why the harbour closed"
    body = long_paragraphs(count=6)
    versions = {h: Page(article_html(h, body)) for h in (headline_a, headline_b)}
    site.pages["/story"] = versions[headline_a]
    url = site.url("/story")
    (first,) = lab.capture(url)
    assert first.article is not None
    seen = []
    for headline in (headline_b, headline_a, headline_b, headline_a):
        site.pages["/story"] = versions[headline]
        lab.clock.advance(HOUR)
        seen.append(lab.check_one(url))
    assert [r.outcome.outcome for r in seen] == ["edited"] * 4
    assert seen[0].outcome.reverted_to is None  # B is new
    back = seen[1].outcome.reverted_to  # A again: back to the first capture
    assert back is not None and back.capture_id == first.article.capture_id
    assert not back.alternating
    assert [r.outcome.reverted_to.alternating for r in seen[2:]] == [True, True]
    assert seen[2].outcome.reverted_to.capture_id == seen[0].captured.capture_id
    assert seen[3].to_json()["reverted_to"]["alternating"] is True
    assert "alternating between two versions" in check_lines(seen[3:], colour=False)

    report = build_report(lab.store, [url], archive="a", generated_at="now", tool_version="t")
    (dossier,) = report.articles
    events = [e.describe() for e in dossier.standing.events]
    assert events[0] == "first captured" and events[1].startswith("edited (")
    assert events[2:] == ["alternating between two versions (3 changes)"]


def test_an_edit_back_to_an_older_text_names_the_capture_it_returns_to(
    lab: Lab, site: Site
) -> None:
    first_text, second_text = long_paragraphs(count=5), long_paragraphs(CLAIM + " Twice.", 5)
    site.pages["/story"] = Page(article_html("Wiretap inquiry", first_text))
    url = site.url("/story")
    (first,) = lab.capture(url)
    assert first.article is not None
    site.pages["/story"] = Page(article_html("Wiretap inquiry", second_text))
    lab.clock.advance(HOUR)
    assert lab.check_one(url).outcome.reverted_to is None
    site.pages["/story"] = Page(article_html("Wiretap inquiry", first_text))
    lab.clock.advance(HOUR)
    result = lab.check_one(url)
    assert (result.outcome.outcome, result.outcome.reason) == ("edited", "text")
    assert result.outcome.reverted_to is not None
    assert result.outcome.reverted_to.capture_id == first.article.capture_id
    (captured,) = lab.rows(
        "SELECT started_at FROM captures WHERE id = ?", [first.article.capture_id]
    )
    assert result.outcome.reverted_to.captured_at == captured["started_at"]
    (row,) = lab.rows("SELECT detail FROM checks WHERE id = ?", [result.check_id])
    assert json.loads(row["detail"])["reverted_to"]["capture_id"] == first.article.capture_id


def dated_page(body: list[str], author: str, modified: str) -> Page:
    head = (
        f'<meta name="author" content="{author}">'
        f'<meta property="article:modified_time" content="{modified}">'
    )
    return Page(article_html("Wiretap inquiry", body, extra_head=head))


def test_byline_and_stated_date_are_recorded_and_compared_each_on_its_own(
    lab: Lab, site: Site
) -> None:
    """The byline is part of what an article says; a new stated date
    alone is cosmetic; a text edited under the same stated date is a silent edit."""
    body = long_paragraphs(count=5)
    site.pages["/story"] = dated_page(body, "Jane Doe", "2026-11-01T08:00:00Z")
    url = site.url("/story")
    (first,) = lab.capture(url)
    assert first.article is not None
    (row,) = lab.rows("SELECT * FROM captures WHERE id = ?", [first.article.capture_id])
    assert (row["byline"], row["modified"]) == ("Jane Doe", "2026-11-01T08:00:00Z")

    site.pages["/story"] = dated_page(body, "John Roe", "2026-11-01T08:00:00Z")
    lab.clock.advance(HOUR)
    byline = lab.check_one(url)
    assert (byline.outcome.outcome, byline.outcome.reason) == ("edited", "byline-only")
    assert byline.to_json()["metadata"] == {"byline": {"before": "Jane Doe", "after": "John Roe"}}
    assert 'byline "Jane Doe" → "John Roe"' in check_lines([byline], colour=False)

    site.pages["/story"] = dated_page(body, "John Roe", "2026-11-02T09:30:00Z")
    lab.clock.advance(HOUR)
    dated = lab.check_one(url).outcome
    assert (dated.outcome, dated.reason) == ("cosmetic", "date-modified")

    site.pages["/story"] = dated_page(
        long_paragraphs(CLAIM + " Twice.", 5), "John Roe", "2026-11-02T09:30:00Z"
    )
    lab.clock.advance(HOUR)
    silent = lab.check_one(url)
    assert (silent.outcome.reason, silent.outcome.silent_edit) == ("text", True), silent.outcome
    assert silent.to_json()["silent_edit"] is True and silent.to_json()["metadata"] is None
    (stored,) = lab.rows("SELECT detail FROM checks WHERE id = ?", [silent.check_id])
    assert json.loads(stored["detail"])["silent_edit"] is True

    report = build_report(lab.store, [url], archive="a", generated_at="now", tool_version="t")
    (dossier,) = report.articles
    events = [e.describe() for e in dossier.standing.events]
    assert events[1] == 'edited (byline changed); byline "Jane Doe" → "John Roe"'
    assert "with the same stated date of modification" in events[2]
    (finding,) = dossier.findings()
    assert finding.text.endswith("the page still states the same date of modification")
    event = report.to_json()["articles"][0]["standing"]["events"][1]
    assert list(event["metadata"]) == [
        {"field": "byline", "before": "Jane Doe", "after": "John Roe"}
    ]


def test_captures_from_before_bylines_were_recorded_are_not_read_as_a_change(
    lab: Lab, site: Site
) -> None:
    body = long_paragraphs(count=5)
    site.pages["/story"] = dated_page(body, "Jane Doe", "2026-11-01T08:00:00Z")
    url = site.url("/story")
    lab.capture(url)
    # As an archive made before m008 holds them: NULL, not "none".
    lab.store.db.execute("UPDATE captures SET byline = NULL, modified = NULL")
    lab.store.db.conn.commit()
    lab.clock.advance(HOUR)
    same = lab.check_one(url)
    assert same.outcome.outcome == "unchanged"
    # Unchanged bytes are not extracted again, except to record what the old row lacks.
    (row,) = lab.rows(
        "SELECT byline, modified FROM captures WHERE id = ?", [same.captured.capture_id]
    )
    assert (row["byline"], row["modified"]) == ("Jane Doe", "2026-11-01T08:00:00Z")

    lab.store.db.execute("UPDATE captures SET byline = NULL, modified = NULL")
    lab.store.db.conn.commit()
    site.pages["/story"] = dated_page(body, "John Roe", "2026-11-05T08:00:00Z")
    lab.clock.advance(HOUR)
    outcome = lab.check_one(url).outcome
    assert (outcome.outcome, outcome.reason, outcome.metadata) == ("cosmetic", "markup", ())
