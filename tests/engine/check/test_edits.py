"""check, end to end: real servers on 127.0.0.1 whose pages the tests change between
captures, checked through the library with a clock the tests move (confirmation rules depend
on time) and through the command line (`check`, `status`, `history`, `diff`, `track`)."""

from __future__ import annotations

import hashlib
import itertools
import json
import random
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from preserve.changes.model import Outcome, PastCheck
from preserve.changes.news import is_news
from preserve.cli.main import cli
from preserve.cli.text import check_lines
from preserve.config import Config, FetchLimits
from preserve.engine.archive import Archive, Run
from preserve.engine.capture import capture_articles
from preserve.engine.captured import ArticleCapture
from preserve.engine.check import check_targets, select_targets
from preserve.engine.results import CheckResult
from preserve.extract.normalise import NORMALISATION_VERSION
from preserve.report.build import build_report
from preserve.times import iso
from preserve.warc.reader import read_record
from preserve.warc.scan import strict_check
from tests.support.sites import Page, Site, article_html, redirect

BIN = Path(sys.executable).parent
T0 = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
HOUR, DAY = timedelta(hours=1), timedelta(days=1)

CLAIM = "The deputy minister confirmed that the wiretap order was signed in March."
NEGATED = "The deputy minister did not confirm that the wiretap order was signed in March."
VOCABULARY = (
    "archive court letter minister office river village document report inquiry border "
    "council witness evidence statement agency budget harbour mayor station railway "
    "committee hearing transcript province election museum bridge factory"
).split()


# --- helpers ------------------------------------------------------------------------------


class Clock:
    """A clock the test moves; each reading is a millisecond later, so times stay ordered."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


class Lab:
    """An archive on disk with a moved clock: capture and check through the library."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.clock = Clock()
        self.config = Config(
            fetch=FetchLimits(timeout=2.0, deadline=5.0, allow_private=True),
            workers=4,
            per_host=4,
        )
        self.archive = Archive(path)
        self.store = self.archive.store
        self.last_run: int | None = None

    def capture(self, *urls: str, every: int = 86400) -> list[ArticleCapture]:
        run = Run(self.archive, "capture", self.config, self.clock, {"urls": list(urls)})
        try:
            return list(capture_articles(run, list(urls), every_seconds=every))
        finally:
            run.finish()

    def check(self, *urls: str, due: bool = False) -> dict[str, CheckResult]:
        targets = select_targets(self.store, list(urls) or None, due=due, now=self.clock.now)
        run = Run(self.archive, "check", self.config, self.clock, {"urls": list(urls)})
        try:
            results = check_targets(run, targets)
        finally:
            run.finish()
        self.last_run = run.id
        return {r.url: r for r in results}

    def check_one(self, url: str) -> CheckResult:
        return self.check(url)[url]

    def baseline(self, url: str) -> int | None:
        target = self.store.target(url)
        assert target is not None
        return target.baseline_capture_id

    def rows(self, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        return list(self.store.db.query(sql, params or []))


@pytest.fixture
def site(shared_site: Site) -> Site:
    """One server for the module (stopping one takes half a second), emptied for each test."""
    shared_site.reset()
    return shared_site


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    env = Lab(tmp_path / "archive")
    yield env
    env.archive.close()


def sentences(rng: random.Random, count: int) -> str:
    out = []
    for _ in range(count):
        words = [rng.choice(VOCABULARY) for _ in range(rng.randint(16, 24))]
        out.append(" ".join(words).capitalize() + ".")
    return " ".join(out)


def long_paragraphs(claim: str = CLAIM, count: int = 26, seed: int = 7) -> list[str]:
    """About 2,100 words of generated paragraphs with `claim` in the middle of one."""
    rng = random.Random(seed)
    paragraphs = [sentences(rng, 4) for _ in range(count)]
    middle = count // 2
    paragraphs[middle] = f"{sentences(rng, 2)} {claim} {sentences(rng, 1)}"
    return paragraphs


def short_article(
    title: str = "Council approves the harbour budget", n: int = 3, seed: str | None = None
) -> str:
    rng = random.Random(seed or title)
    return article_html(title, [sentences(rng, 3) for _ in range(n)])


def pdf(text: str) -> bytes:
    """A small valid one-page PDF that shows `text`."""
    stream = f"BT /F1 12 Tf 20 50 Td ({text}) Tj ET".encode()
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 300 100]/Contents 4 0 R"
        b"/Resources<</Font<</F1 5 0 R>>>>>>endobj\n"
        + f"4 0 obj<</Length {len(stream)}>>stream\n".encode()
        + stream
        + b"\nendstream endobj\n5 0 obj<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )


def invoke(archive: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--archive", str(archive), *args])


def cli_json(archive: Path, *args: str, code: int = 0) -> Any:
    result = invoke(archive, *args, "--json")
    assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
    return json.loads(result.stdout)


# --- edits and noise ----------------------------------------------------------------------


def test_one_word_negation_in_a_long_article_is_an_edit_naming_that_change(
    lab: Lab, site: Site
) -> None:
    url = site.url("/2016/10/long-story")
    site.pages["/2016/10/long-story"] = Page(article_html("Wiretap inquiry", long_paragraphs()))
    (captured,) = lab.capture(url)
    assert captured.ok
    baseline_text = lab.store.text(captured.article.text_sha256)  # type: ignore[union-attr]
    assert baseline_text is not None and len(baseline_text[0].split()) >= 2000

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
    assert lab.store.target(url).state == "cosmetic"  # type: ignore[union-attr]


REDESIGN_HEAD = (
    '<h1>The Headline Of The Story</h1><p class="byline">By Staff Writer and Jane Roe</p>'
)


def redesign_page(inner: str) -> Page:
    nav = '<nav class="menu"><a href="/">Home</a> <a href="/world/">World</a></nav>'
    foot = '<footer><a href="/privacy">Privacy</a> Copyright News Co</footer>'
    return Page(
        "<!DOCTYPE html><html><head><title>The Headline</title></head>"
        f"<body>{nav}{inner}{foot}</body></html>"
    )


def before_redesign(body: str) -> Page:
    return redesign_page(
        f'<header>{REDESIGN_HEAD}</header><main><article><div class="article-body">{body}</div>'
        "</article></main>"
    )


def after_redesign(body: str) -> Page:
    """A new wrapper that holds the headline and the byline as well as the body."""
    return redesign_page(f'<div class="content">{REDESIGN_HEAD}{body}</div>')


def redesign_body() -> str:
    rng = random.Random(5)
    return "\n".join(f"<p>{sentences(rng, 3)}</p>" for _ in range(8))


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
    kept = "SELECT visible_text FROM texts WHERE sha256 = ?"
    assert lab.rows(kept, [captured.article.text_sha256]) == [{"visible_text": None}]
    site.pages["/story"] = after_redesign(body)
    lab.clock.advance(HOUR)
    result = lab.check_one(url)
    assert result.outcome.reason == "boundary-shift"
    (row,) = lab.rows(kept, [result.captured.text_sha256])
    assert "The Headline Of The Story" in row["visible_text"]


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
    assert [r.outcome.reverted_to.alternating for r in seen[2:]] == [True, True]  # type: ignore[union-attr]
    assert seen[2].outcome.reverted_to.capture_id == seen[0].captured.capture_id  # type: ignore[union-attr]
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


# --- news: what --on-change is told -------------------------------------------------------


def test_news_is_a_change_of_what_is_known_not_a_repetition(lab: Lab, site: Site) -> None:
    """A takedown is news when first seen and when confirmed, not at every check in
    between; every edit and every return is news; an unchanged page never is."""
    site.pages["/doc"] = Page(short_article())
    url = site.url("/doc")
    lab.capture(url)
    seen = []
    for status, wait in ((200, HOUR), (410, HOUR), (410, HOUR / 4), (410, 2 * HOUR), (410, HOUR)):
        if status == 410:
            site.pages["/doc"] = Page("<html><body><p>Removed.</p></body></html>", 410)
        lab.clock.advance(wait)
        result = lab.check_one(url)
        seen.append((result.outcome.outcome, result.outcome.confirmed, result.news))
        assert result.to_json()["news"] is result.news
    assert seen == [
        ("unchanged", True, False),
        ("gone", False, True),  # first seen
        ("gone", False, False),  # seen again: nothing new
        ("gone", True, True),  # confirmed: news again
        ("gone", True, False),
    ]
    site.pages["/doc"] = Page(short_article())
    lab.clock.advance(HOUR)
    back = lab.check_one(url)
    assert (back.outcome.outcome, back.news) == ("restored", True)


@pytest.mark.parametrize(
    ("outcome", "reason", "confirmed", "last", "news"),
    [
        ("edited", "text", True, ("edited", "text", True), True),  # every edit
        ("moved", None, True, None, True),
        ("moved", None, True, ("moved", None, True), False),
        ("restricted", "paywall", False, ("unchanged", None, True), True),
        ("restricted", "paywall", True, ("restricted", "paywall", False), True),
        ("restricted", "paywall", True, ("restricted", "paywall", True), False),
        ("gone", "http-404", False, ("gone", "http-410", True), True),  # another reason
        ("unreachable", "timeout", False, None, False),  # a fetch that did not work, once
        ("cosmetic", "markup", True, None, False),
        ("failed", "http-404", False, None, False),
    ],
)
def test_what_is_news(
    outcome: str,
    reason: str | None,
    confirmed: bool,
    last: tuple[str, str | None, bool] | None,
    news: bool,
) -> None:
    before = PastCheck(T0, *last) if last else None
    assert is_news(Outcome(outcome, reason, confirmed, "rule"), before) is news


def test_on_change_runs_the_command_with_the_news_only(
    lab: Lab, site: Site, tmp_path: Path
) -> None:
    site.pages["/a"] = Page(short_article(seed="a"))
    site.pages["/b"] = Page(short_article(seed="b"))
    lab.capture(site.url("/a"))
    lab.capture(site.url("/b"))
    told = tmp_path / "told.json"
    command = f'cat > {told} && echo "$PRESERVE_NEWS $PRESERVE_RUN" >> {told}.env'
    site.pages["/a"] = Page(short_article("Council approves the harbour budget, again", seed="a"))
    ran = invoke(lab.path, "check", "--allow-private", "--json", "--on-change", command)
    assert ran.exit_code == 0, (ran.stdout, ran.stderr)
    everything = json.loads(ran.stdout)  # the command's doings are not in preserve's output
    news = json.loads(told.read_text())
    assert news["archive"] == str(lab.path) and news["run"] == everything["run"]
    assert [(r["url"], r["outcome"], r["news"]) for r in news["results"]] == [
        (site.url("/a"), "edited", True)
    ]
    assert news["results"][0] == next(r for r in everything["results"] if r["news"])
    assert (tmp_path / "told.json.env").read_text() == f"1 {everything['run']}\n"

    told.unlink()
    quiet = invoke(lab.path, "check", "--allow-private", "--quiet", "--on-change", command)
    assert (quiet.exit_code, quiet.stdout, quiet.stderr) == (0, "", "")
    assert not told.exists()  # no news: not run


def test_watch_runs_checks_as_they_fall_due_and_tells_the_news(site: Site, tmp_path: Path) -> None:
    """`preserve watch` as a real process: it checks what falls due, runs --on-change with
    the news, and stops cleanly on SIGTERM."""
    archive = tmp_path / "archive"
    site.pages["/a"] = Page(short_article(seed="watched"))
    url = site.url("/a")
    captured = invoke(archive, "capture", url, "--allow-private", "--every", "1s", "--quiet")
    assert captured.exit_code == 0, captured.stderr
    site.pages["/a"] = Page(
        short_article("Harbour budget approved, then withdrawn", seed="watched")
    )
    told = tmp_path / "told.json"
    watcher = subprocess.Popen(
        [str(BIN / "preserve"), "--archive", str(archive), "watch", "--interval", "1"]
        + [
            "--allow-private",
            "--quiet",
            "--on-change",
            f"cat > {told}.part && mv {told}.part {told}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not told.exists() and time.monotonic() < deadline and watcher.poll() is None:
            time.sleep(0.1)
    finally:
        watcher.send_signal(signal.SIGTERM)
        out, err = watcher.communicate(timeout=60)
    assert watcher.returncode == 0, err
    assert (out, err) == (b"", b"")
    news = json.loads(told.read_text())
    assert [(r["url"], r["outcome"], r["reason"]) for r in news["results"]] == [
        (url, "edited", "title-only")
    ]


def test_a_failing_on_change_command_is_said_and_loses_nothing(lab: Lab, site: Site) -> None:
    site.pages["/a"] = Page(short_article(seed="a"))
    url = site.url("/a")
    lab.capture(url)
    site.pages["/a"] = Page("<html><body><p>Removed.</p></body></html>", 410)
    command = "cat > /dev/null; echo 'mail: no route to host'; exit 3"
    ran = invoke(lab.path, "check", "--allow-private", "--quiet", "--on-change", command)
    assert ran.exit_code == 0 and ran.stdout == ""
    assert ran.stderr == (
        "Warning: the --on-change command failed (exit 3): mail: no route to host\n"
    )
    (check,) = lab.rows("SELECT outcome FROM checks WHERE url = ?", [url])
    assert check["outcome"] == "gone"


def test_a_relative_time_in_the_text_is_cosmetic_and_a_counter_is_an_edit(
    lab: Lab, site: Site
) -> None:
    """Pinned: "Updated 5 minutes ago" changes at every fetch and is not an
    edit; a view counter in the main text is, since nothing tells it from a stated number."""
    body = long_paragraphs(count=5)

    def served(when: str, views: str) -> Page:
        return Page(article_html("Wiretap inquiry", [f"Updated {when} by the desk.", *body, views]))

    site.pages["/story"] = served("5 minutes ago", "Read 1,204 times.")
    url = site.url("/story")
    lab.capture(url)
    site.pages["/story"] = served("2 hours ago", "Read 1,204 times.")
    lab.clock.advance(HOUR)
    later = lab.check_one(url).outcome
    assert (later.outcome, later.reason) == ("cosmetic", "relative-time")
    site.pages["/story"] = served("3 hours ago", "Read 1,873 times.")
    lab.clock.advance(HOUR)
    counted = lab.check_one(url).outcome
    assert (counted.outcome, counted.reason) == ("edited", "text")
    assert counted.edit is not None and counted.edit.words_added == 1


def test_a_chinese_article_edited_by_one_character_is_edited_not_gone(lab: Lab, site: Site) -> None:
    """Through a real server: Chinese has no spaces between words, and a
    one-character edit of a paragraph must not read as a replaced page."""
    paragraphs = [
        "市议会周二批准了港口预算，议员们以十二票对三票通过了这项计划，反对者表示将继续上诉。",
        "港口管理局表示，工程将于明年春天开始，预计耗时三年，总投资约为四千万元人民币。",
        "环保组织对此表示担忧，认为新码头可能影响附近湿地的候鸟栖息地，并要求重新评估。",
    ]
    brief = "".join(paragraphs)  # one paragraph: one whitespace "word"
    site.pages["/zh"] = Page(article_html("市议会批准港口预算", [brief]))
    url = site.url("/zh")
    (captured,) = lab.capture(url)
    assert captured.article is not None and captured.article.text_sha256
    edited = brief.replace("十二票", "十一票")
    site.pages["/zh"] = Page(article_html("市议会批准港口预算", [edited]))
    lab.clock.advance(HOUR)
    outcome = lab.check_one(url).outcome
    assert (outcome.outcome, outcome.reason) == ("edited", "text")
    assert outcome.edit is not None and "十一票" in outcome.edit.first_changed_new


def test_a_cookie_consent_wall_is_restricted_never_gone(lab: Lab, site: Site) -> None:
    site.pages["/story"] = Page(article_html("Wiretap inquiry", long_paragraphs(count=5)))
    url = site.url("/story")
    lab.capture(url)
    wall = (
        "We value your privacy. We and our partners use cookies and similar technologies to "
        "store and access information on your device, for personalised ads and content and "
        "to measure them. Click Accept all to agree, or Manage options to make your choices."
    )
    site.pages["/story"] = Page(article_html("Before you continue", [wall]))
    seen = []
    for _ in range(2):
        lab.clock.advance(DAY)
        outcome = lab.check_one(url).outcome
        seen.append((outcome.outcome, outcome.reason, outcome.confirmed))
    assert seen == [("restricted", "consent", False), ("restricted", "consent", True)]


def test_a_live_blog_edited_at_every_check_is_one_event_with_its_totals(
    lab: Lab, site: Site
) -> None:
    """A page edited at every check (a live blog) is one event in the report's
    timeline, with its totals; every edit keeps its own diff. An edit after a quiet check
    is an event of its own."""
    posts = long_paragraphs(count=5)
    site.pages["/live"] = Page(article_html("Live: harbour vote", posts))
    url = site.url("/live")
    lab.capture(url)
    added = []
    for n in range(1, 5):
        update = f"Update {n}: councillor number {n} has now spoken against the plan."
        added.append(len(update.split()))
        posts = [update, *posts]
        site.pages["/live"] = Page(article_html("Live: harbour vote", posts))
        lab.clock.advance(HOUR)
        assert lab.check_one(url).outcome.reason == "text"
    lab.clock.advance(HOUR)
    assert lab.check_one(url).outcome.outcome == "unchanged"
    site.pages["/live"] = Page(article_html("Live: harbour vote", ["Closing note.", *posts]))
    lab.clock.advance(HOUR)
    assert lab.check_one(url).outcome.reason == "text"
    report = build_report(lab.store, [url], archive="a", generated_at="now", tool_version="t")
    (dossier,) = report.articles
    events = [e.describe() for e in dossier.standing.events]
    assert events == [
        "first captured",
        f"edited (text changed, 4 times): +{sum(added)} / -0 words in all",
        "edited (text changed): +2 / -0 words",
    ]
    assert len(dossier.edits) == 5


def redesigned_with_an_edit(lab: Lab, site: Site) -> Any:
    body = redesign_body()
    site.pages["/story"] = before_redesign(body)
    url = site.url("/story")
    lab.capture(url)
    site.pages["/story"] = after_redesign(body.replace("<p>", f"<p>{CLAIM} ", 1))
    lab.clock.advance(HOUR)
    return lab.check_one(url).outcome


def test_a_real_edit_inside_a_redesign_is_still_an_edit(lab: Lab, site: Site) -> None:
    outcome = redesigned_with_an_edit(lab, site)
    assert (outcome.outcome, outcome.reason) == ("edited", "text")
    assert outcome.edit is not None and outcome.edit.words_removed == 0
    assert CLAIM in " ".join(" ".join(h.new) for h in outcome.edit.hunks)


def test_a_real_edit_inside_a_redesign_reports_only_the_real_span(lab: Lab, site: Site) -> None:
    outcome = redesigned_with_an_edit(lab, site)
    assert outcome.edit is not None
    assert [" ".join(h.new) for h in outcome.edit.hunks] == [CLAIM]
    assert outcome.edit.words_added == len(CLAIM.split())


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
            lab.store.capture(result.captured.capture_id).length,  # type: ignore[union-attr]
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


NOT_FOUND_TEMPLATE = article_html(
    "Example News",
    [
        "Sorry, we could not find the page you were looking for. It may have been moved, "
        "renamed or deleted, or the address may have been typed incorrectly.",
        "Try the search box above, or browse the sections of the site to find our most "
        "recent reporting, opinion, photography and investigations from around the world.",
    ],
)


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
    else:
        site.pages["/doc"] = Page(
            '<html><head><title>App</title><script src="/app.js"></script></head>'
            '<body><div id="root"></div><noscript>Enable JavaScript.</noscript></body></html>'
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
    assert lab.store.target(url).state == "restored"  # type: ignore[union-attr]


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


# --- other encodings and kinds ------------------------------------------------------------

RU_CLAIM = "Министр подтвердил, что приказ был подписан в марте."
RU_NEGATED = "Министр не подтвердил, что приказ был подписан в марте."
RU_WORDS = (
    "город суд письмо архив деревня река документ доклад комиссия граница совет свидетель "
    "заявление агентство бюджет гавань мэр станция"
).split()


def cyrillic_page(claim: str) -> Page:
    rng = random.Random(11)

    def para(count: int) -> str:
        return " ".join(
            " ".join(rng.choice(RU_WORDS) for _ in range(14)).capitalize() + "."
            for _ in range(count)
        )

    paragraphs = [para(3) for _ in range(5)]
    paragraphs[2] = f"{para(1)} {claim} {para(1)}"
    html = article_html("Приказ о прослушке", paragraphs).replace('<meta charset="utf-8">', "")
    return Page(html.encode("windows-1251"), content_type="text/html; charset=windows-1251")


def test_windows_1251_page_edited_gives_a_correct_cyrillic_diff(lab: Lab, site: Site) -> None:
    site.pages["/ru/statya"] = cyrillic_page(RU_CLAIM)
    url = site.url("/ru/statya")
    (captured,) = lab.capture(url)
    assert captured.article is not None and captured.article.title == "Приказ о прослушке"
    site.pages["/ru/statya"] = cyrillic_page(RU_NEGATED)
    lab.clock.advance(HOUR)
    result = lab.check_one(url)
    assert (result.outcome.outcome, result.outcome.reason) == ("edited", "text")
    edit = result.outcome.edit
    assert edit is not None
    (hunk,) = edit.hunks
    assert (hunk.old, hunk.new) == ((), ("не",))
    assert hunk.before == "" or hunk.before.endswith("Министр")
    assert edit.negations_added == ("не",)
    assert edit.first_changed_old == RU_CLAIM
    assert edit.first_changed_new == RU_NEGATED
    # And the same through `diff`.
    out = invoke(lab.path, "diff", url)
    assert out.exit_code == 0, out.output
    assert "Министр {+не+} подтвердил," in out.stdout


def test_replaced_pdf_is_edited_by_payload(lab: Lab, site: Site) -> None:
    site.pages["/docs/annex.pdf"] = Page(
        pdf("Technical annex, 2015"), content_type="application/pdf"
    )
    site.pages["/docs/same.pdf"] = Page(pdf("Unchanged annex"), content_type="application/pdf")
    url, same = site.url("/docs/annex.pdf"), site.url("/docs/same.pdf")
    lab.capture(url)
    lab.capture(same)
    site.pages["/docs/annex.pdf"] = Page(
        pdf("Technical annex, 2015, revised"), content_type="application/pdf"
    )
    lab.clock.advance(HOUR)
    results = lab.check()
    edited = results[url].outcome
    assert (edited.outcome, edited.reason, edited.rule) == ("edited", "payload", "payload.differs")
    assert results[same].outcome.outcome == "unchanged"
    assert lab.baseline(url) == results[url].captured.capture_id


def test_a_baseline_from_an_older_extractor_is_re_derived_not_reported_as_an_edit(
    lab: Lab, site: Site
) -> None:
    """An archive made by an older version (another main-text extractor): its stored text
    differs from what today's finds in the same bytes. A cosmetic change must not show up as
    an edit for that; the baseline is extracted again from its WARC record."""
    path = "/2016/10/older-extractor"
    site.pages[path] = Page(article_html("Wiretap inquiry", long_paragraphs(count=6)))
    url = site.url(path)
    (captured,) = lab.capture(url)
    old_text = "Navigation Home World\n" + lab.store.text(captured.article.text_sha256)[0]  # type: ignore[index, union-attr]
    old_sha = hashlib.sha256(old_text.encode()).hexdigest()
    with lab.store.db.conn:
        lab.store.db.execute(
            "INSERT INTO texts (sha256, norm_version, text, visible_text) VALUES (?, 1, ?, ?)",
            [old_sha, old_text, old_text],
        )
        lab.store.db.execute(
            "UPDATE captures SET norm_version = 1, text_sha256 = ? WHERE id = ?",
            [old_sha, captured.article.capture_id],  # type: ignore[union-attr]
        )
    site.pages[path] = Page(
        article_html("Wiretap inquiry", long_paragraphs(count=6)).replace(
            "</body>", "<!-- served 2026-10-02 by cache-7 --></body>"
        )
    )
    lab.clock.advance(HOUR)
    outcome = lab.check_one(url).outcome
    assert (outcome.outcome, outcome.edit) == ("cosmetic", None), outcome
    # The new baseline carries today's version: the next comparison needs no re-derivation.
    (row,) = lab.rows("SELECT norm_version FROM captures WHERE id = ?", [lab.baseline(url)])
    assert row["norm_version"] == NORMALISATION_VERSION


# --- storage ------------------------------------------------------------------------------


def test_unchanged_recaptures_are_small_revisit_records_that_resolve(
    lab: Lab, site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    links = "".join(f' See <a href="/sources/{i}">source number {i}</a>.' for i in range(1, 5))
    paragraphs = long_paragraphs()
    paragraphs[1] += links
    site.pages["/2016/10/story"] = Page(article_html("Wiretap inquiry", paragraphs))
    for i in range(1, 5):
        rng = random.Random(i)
        site.pages[f"/sources/{i}"] = Page(
            article_html(f"Source {i}", [sentences(rng, 30) for _ in range(4)])
        )
    url = site.url("/2016/10/story")
    (captured,) = lab.capture(url)
    assert len(captured.citations) == 4 and all(c.ok for c in captured.citations)
    warcs_before = {p.name: p.stat().st_size for p in lab.archive.warcs.iterdir()}

    lab.clock.advance(HOUR)
    results = lab.check()
    assert len(results) == 5
    assert {r.outcome.outcome for r in results.values()} == {"unchanged"}
    rows = lab.rows("SELECT * FROM captures WHERE run_id = ? AND role != 'probe'", [lab.last_run])
    assert len(rows) == 5
    assert {row["record_type"] for row in rows} == {"revisit"}

    for row in rows:
        record = read_record(lab.archive.warc_path(row["warc"]), row["offset"], row["length"])
        assert record.rec_type == "revisit"
        refers_to = record.header("WARC-Refers-To")
        assert refers_to is not None
        originals = lab.rows(
            "SELECT * FROM captures WHERE record_id = ? AND record_type = 'response'",
            [refers_to],
        )
        assert len(originals) == 1, refers_to
        original = originals[0]
        assert original["url"] == row["url"] == record.header("WARC-Refers-To-Target-URI")
        assert original["payload_sha256"] == row["payload_sha256"]
        body = read_record(
            lab.archive.warc_path(original["warc"]), original["offset"], original["length"]
        ).payload
        assert hashlib.sha256(body).hexdigest() == row["payload_sha256"]
        assert record.payload_digest == f"sha256:{row['payload_sha256']}"

    files = sorted(lab.archive.warcs.glob("*.warc.gz"))
    assert len(files) >= 2
    for path in files:
        checked = subprocess.run(
            [str(BIN / "warcio"), "check", "-v", str(path)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert strict_check(path) == [], path

    # What an unchanged recapture costs: the revisit (WARC and HTTP headers, no payload)
    # and its request record, gzipped; against the full response records of the capture.
    ids = [row["id"] for row in rows]
    marks = ",".join("?" * len(ids))
    records = lab.rows(f"SELECT type, length FROM records WHERE capture_id IN ({marks})", ids)
    revisit = sum(r["length"] for r in records if r["type"] == "revisit") / len(rows)
    request = sum(r["length"] for r in records if r["type"] == "request") / len(rows)
    originals = lab.rows(
        f"SELECT length FROM captures WHERE url IN ({marks}) AND record_type = 'response'",
        [row["url"] for row in rows],
    )
    original = sum(r["length"] for r in originals) / len(originals)
    new_files = [p for p in files if p.name not in warcs_before]
    file_bytes = sum(p.stat().st_size for p in new_files) / len(rows)
    with capsys.disabled():
        print(
            f"\n[revisit cost per unchanged URL] revisit {revisit:.0f} B + request "
            f"{request:.0f} B; {file_bytes:.0f} B of new WARC file with its warcinfo "
            f"(a full response record here: {original:.0f} B)"
        )
    # One revisit and one request per URL, and the article's metadata record.
    types = [r["type"] for r in records]
    assert (types.count("revisit"), types.count("request"), len(types)) == (5, 5, 11)
    assert revisit + request < 2048
    assert file_bytes < 2048 + 512


def test_a_payload_seen_before_is_a_revisit_of_its_first_capture(lab: Lab, site: Site) -> None:
    first, second = short_article("Headline A", seed="s"), short_article("Headline B", seed="s")
    site.pages["/doc"] = Page(first)
    url = site.url("/doc")
    (captured,) = lab.capture(url)
    original = lab.store.capture(captured.article.capture_id)  # type: ignore[union-attr]
    assert original is not None
    outcomes = []
    for html in (second, first, second):
        site.pages["/doc"] = Page(html)
        lab.clock.advance(HOUR)
        result = lab.check_one(url)
        outcomes.append(
            (result.outcome.outcome, result.outcome.reason, result.captured.record_type)
        )
    assert outcomes == [
        ("edited", "title-only", "response"),
        ("edited", "title-only", "revisit"),
        ("edited", "title-only", "revisit"),
    ]
    row = lab.store.capture(result.captured.capture_id)
    assert row is not None and row.warc and row.offset is not None and row.length is not None
    record = read_record(lab.archive.warc_path(row.warc), row.offset, row.length)
    b_rows = lab.rows(
        "SELECT record_id FROM captures WHERE url = ? AND record_type = 'response'"
        " AND payload_sha256 = ?",
        [url, row.payload_sha256],
    )
    assert [r["record_id"] for r in b_rows] == [record.header("WARC-Refers-To")]
    assert row.payload_sha256 != original.payload_sha256


# --- citations over time ------------------------------------------------------------------


def test_edited_article_that_drops_and_adds_citations(lab: Lab, site: Site) -> None:
    rng = random.Random(13)
    intro, rest = sentences(rng, 3), [sentences(rng, 3) for _ in range(3)]

    def article(links: list[tuple[str, str]]) -> Page:
        cited = " ".join(
            f'According to <a href="{href}">{anchor}</a>, it was so.' for href, anchor in links
        )
        return Page(article_html("Wiretap inquiry", [f"{intro} {cited}", *rest]))

    for path, title in (
        ("/src/one", "First report"),
        ("/src/two", "Court filing"),
        ("/src/three", "New statement"),
    ):
        site.pages[path] = Page(short_article(title))
    site.pages["/story"] = article(
        [("/src/one", "the first report"), ("/src/two", "the court filing")]
    )
    url = site.url("/story")
    one, two, three = site.url("/src/one"), site.url("/src/two"), site.url("/src/three")
    (captured,) = lab.capture(url)
    assert [c.job.url for c in captured.citations] == [one, two]
    assert lab.store.target(three) is None

    site.pages["/story"] = article(
        [("/src/two", "the court filing"), ("/src/three", "a new statement")]
    )
    lab.clock.advance(HOUR)
    results = lab.check()
    assert set(results) == {url, one, two}
    result = results[url]
    assert result.outcome.outcome == "edited"
    links = result.outcome.links
    assert links is not None
    assert [link.url for link in links.added] == [three]
    assert [link.url for link in links.removed] == [one]
    data = result.to_json()
    assert [link["url"] for link in data["links"]["added"]] == [three]
    assert [link["url"] for link in data["links"]["removed"]] == [one]
    # The new source is captured at once and tracked as the article's citation.
    assert [(c.job.url, c.ok) for c in result.added_citations] == [(three, True)]
    assert data["added_citations"][0]["url"] == three
    target = lab.store.target(three)
    assert target is not None
    assert (target.role, target.cited_by) == ("citation", url)
    assert target.baseline_capture_id == result.added_citations[0].capture_id
    lab.clock.advance(HOUR)
    assert lab.check_one(three).outcome.outcome == "unchanged"


# --- confirmation over time ---------------------------------------------------------------


def gone_checks(lab: Lab, url: str, gaps: list[timedelta]) -> list[tuple[str, str, bool]]:
    out = []
    for gap in gaps:
        lab.clock.advance(gap)
        outcome = lab.check_one(url).outcome
        out.append((outcome.outcome, outcome.reason, outcome.confirmed))
    return out


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


# --- scheduling ---------------------------------------------------------------------------


def test_due_selects_only_targets_whose_interval_has_passed(lab: Lab, site: Site) -> None:
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
    result = invoke(lab.path, "track", weekly, "--every", "1w")
    assert result.exit_code == 0, result.output
    assert lab.store.target(weekly).every_seconds == 7 * 86400  # type: ignore[union-attr]
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
    assert lab.store.target(weekly).next_due == iso(  # type: ignore[union-attr]
        datetime.fromisoformat(lab.store.target(weekly).last_checked_at)  # type: ignore[union-attr,arg-type]
        + timedelta(weeks=1)
    )


# --- the command line ---------------------------------------------------------------------


@pytest.fixture
def cli_site(site: Site) -> Site:
    site.pages["/2016/10/story"] = Page(
        article_html(
            "Wiretap inquiry",
            [*long_paragraphs(count=4)[:3], 'See <a href="/src/one">the first report</a>.'],
        )
    )
    site.pages["/src/one"] = Page(short_article("First report"))
    return site


def runs_count(archive: Path) -> int:
    opened = Archive(archive, create=False)
    try:
        return int(next(opened.store.db.query("SELECT count(*) AS n FROM runs"))["n"])
    finally:
        opened.close()


def cli_capture(archive: Path, site: Site) -> str:
    url = site.url("/2016/10/story")
    data = cli_json(archive, "capture", url, "--allow-private", "--timeout", "2")
    assert data["article"]["status"] == "captured"
    assert [c["status"] for c in data["citations"]] == ["captured"]
    return url


def test_cli_check_json_and_exit_codes(tmp_path: Path, cli_site: Site) -> None:
    archive = tmp_path / "archive"
    url = cli_capture(archive, cli_site)
    source = cli_site.url("/src/one")

    data = cli_json(archive, "check", "--allow-private", "--timeout", "2", "--exit-code")
    assert isinstance(data["run"], int)
    assert {(r["url"], r["role"], r["outcome"]) for r in data["results"]} == {
        (url, "article", "unchanged"),
        (source, "citation", "unchanged"),
    }
    for result in data["results"]:
        assert {"reason", "confirmed", "http_status"} <= set(result)

    cli_site.pages["/2016/10/story"] = Page(
        article_html(
            "Wiretap inquiry",
            [
                *long_paragraphs(NEGATED, count=4)[:3],
                'See <a href="/src/one">the first report</a>.',
            ],
        )
    )
    plain = invoke(archive, "check", "--allow-private", "--timeout", "2")
    assert plain.exit_code == 0, plain.output  # a check that ran exits 0 whatever it found
    assert "edited" in plain.stdout

    del cli_site.pages["/src/one"]
    data = cli_json(archive, "check", "--allow-private", "--timeout", "2", "--exit-code", code=1)
    outcomes = {r["url"]: (r["outcome"], r["reason"], r["confirmed"]) for r in data["results"]}
    assert outcomes == {url: ("unchanged", None, True), source: ("gone", "http-404", False)}

    # Only the article, which did not change: exit 0 even with --exit-code.
    only = cli_json(archive, "check", url, "--allow-private", "--timeout", "2", "--exit-code")
    assert [r["url"] for r in only["results"]] == [url]

    untracked = cli_site.url("/never/captured")
    runs_before = runs_count(archive)
    bad = invoke(archive, "check", untracked, "--allow-private")
    assert bad.exit_code == 2
    assert f"not tracked: {untracked}" in bad.stderr
    assert bad.stdout == ""
    assert runs_count(archive) == runs_before  # nothing written

    missing = invoke(tmp_path / "nowhere", "check")
    assert missing.exit_code == 2 and "no archive" in missing.stderr
    assert not (tmp_path / "nowhere").exists()

    status = cli_json(archive, "status")
    states = {t["url"]: (t["state"], t["reason"]) for t in status["targets"]}
    assert states == {url: ("unchanged", None), source: ("gone", "http-404")}


def test_cli_diff_history_and_status(tmp_path: Path, cli_site: Site) -> None:
    archive = tmp_path / "archive"
    url = cli_capture(archive, cli_site)
    assert invoke(archive, "check", "--allow-private", "-q").exit_code == 0
    cli_site.pages["/2016/10/story"] = Page(
        article_html(
            "Wiretap inquiry",
            [
                *long_paragraphs(NEGATED, count=4)[:3],
                'See <a href="/src/one">the first report</a>.',
            ],
        )
    )
    assert invoke(archive, "check", "--allow-private", "-q").exit_code == 0

    plain = invoke(archive, "diff", url)
    assert plain.exit_code == 0, plain.output
    assert "[-confirmed-] {+did not confirm+}" in plain.stdout
    assert "\x1b[" not in plain.stdout  # no colour when not on a terminal

    data = cli_json(archive, "diff", url)
    (hunk,) = data["hunks"]
    assert (hunk["old"], hunk["new"]) == ("confirmed", "did not confirm")
    assert hunk["negations"] is True
    assert data["from"]["sha256"] != data["to"]["sha256"]

    history = cli_json(archive, "history", url)
    assert history["url"] == url
    outcomes = [c["outcome"] for c in history["captures"]]
    assert outcomes[0] in ("new", "captured") and outcomes[1:] == ["unchanged", "edited"]
    assert [c["record_type"] for c in history["captures"]] == ["response", "revisit", "response"]
    for entry in history["captures"]:
        assert {
            "captured_at",
            "http_status",
            "sha256",
            "text_sha256",
            "warc",
            "offset",
            "length",
        } <= set(entry)
    times = [c["captured_at"] for c in history["captures"]]
    assert times == sorted(times)

    text = invoke(archive, "history", url)
    assert text.exit_code == 0 and "edited" in text.stdout

    status = invoke(archive, "status")
    assert status.exit_code == 0 and url in status.stdout and "edited" in status.stdout


def test_cli_check_due_on_a_fresh_archive(tmp_path: Path, cli_site: Site) -> None:
    archive = tmp_path / "archive"
    url = cli_capture(archive, cli_site)
    # just captured: nothing is due for a day
    first = cli_json(archive, "check", "--due", "--allow-private", "--timeout", "2")
    assert first["results"] == []
    everything = cli_json(archive, "check", "--allow-private", "--timeout", "2")
    assert {r["url"] for r in everything["results"]} == {url, cli_site.url("/src/one")}
    track = invoke(archive, "track", url, "--every", "1w")
    assert track.exit_code == 0 and "2 tracked URL(s)" in track.stdout
    status = cli_json(archive, "status")
    assert {t["every"] for t in status["targets"]} == {"1w"}
    untracked = invoke(archive, "track", cli_site.url("/nope"), "--every", "1d")
    assert untracked.exit_code == 2 and "not tracked" in untracked.stderr


def two_checks_at_once(archive: Path) -> list[str]:
    """Run two `preserve check` processes on one archive at once; their stdouts."""
    command = [str(BIN / "preserve"), "--archive", str(archive), "check", "--allow-private"]
    command += ["--timeout", "5", "--json"]
    procs = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert "locked" not in err.lower() and "Traceback" not in err, err
        outputs.append(out)
    return outputs


def test_two_checks_at_once_on_one_archive(tmp_path: Path, site: Site) -> None:
    paths = [f"/src/{i}" for i in range(6)]
    links = " ".join(f'See <a href="{p}">source {p}</a>.' for p in paths)
    site.pages["/story"] = Page(article_html("Wiretap inquiry", [*long_paragraphs(count=4), links]))
    for i, path in enumerate(paths):
        site.pages[path] = Page(short_article(f"Source {i}"), delay=0.05)
    archive = tmp_path / "archive"
    data = cli_json(archive, "capture", site.url("/story"), "--allow-private", "--timeout", "2")
    for i, path in enumerate(paths):
        # Slow enough that the two runs surely overlap (each starts in under a second).
        site.pages[path] = Page(short_article(f"Source {i}"), delay=1.0)
    assert len(data["citations"]) == len(paths)
    targets = len(paths) + 1

    outputs = [json.loads(out) for out in two_checks_at_once(archive)]
    runs = [o["run"] for o in outputs]
    assert len(set(runs)) == 2
    # Each URL is checked once, by one run or the other: a run skips what the other holds.
    checked = [r["url"] for output in outputs for r in output["results"]]
    assert sorted(checked) == sorted(set(checked)) and len(checked) == targets
    for output in outputs:
        assert {r["outcome"] for r in output["results"]} <= {"unchanged", "cosmetic"}

    check_archive = Archive(archive, create=False)
    try:
        db = check_archive.store.db
        count = next(db.query("SELECT count(*) AS n FROM checks"))["n"]
        assert count == targets
        files = {
            run: {
                r["name"] for r in db.query("SELECT name FROM warc_files WHERE run_id = ?", [run])
            }
            for run in runs
        }
        assert not files[runs[0]] & files[runs[1]]
        for run in runs:
            used = {
                r["warc"]
                for r in db.query("SELECT DISTINCT warc FROM captures WHERE run_id = ?", [run])
            }
            assert used <= files[run]
        for name in set().union(*files.values()):
            assert strict_check(check_archive.warc_path(name)) == []
    finally:
        check_archive.close()


def test_two_checks_at_once_that_both_track_new_urls(tmp_path: Path, site: Site) -> None:
    """Between them, the runs see the article's new citation and the source's move, and
    track both, each URL checked by one of them."""
    rng = random.Random(17)
    text = [sentences(rng, 3) for _ in range(3)]

    def article(links: list[str]) -> Page:
        cited = " ".join(f'See <a href="{p}">source {p}</a>.' for p in links)
        return Page(article_html("Wiretap inquiry", [*text, cited]))

    site.pages["/story"] = article(["/src/a", "/src/b"])
    site.pages["/src/a"] = Page(short_article("Source a"), delay=0.05)
    site.pages["/src/b"] = Page(short_article("Source b"), delay=0.05)
    archive = tmp_path / "archive"
    cli_json(archive, "capture", site.url("/story"), "--allow-private", "--timeout", "2")
    site.pages["/story"] = article(["/src/a", "/src/b", "/src/c"])
    site.pages["/src/a"] = Page(short_article("Source a"), delay=1.5)  # the runs overlap
    site.pages["/src/c"] = Page(short_article("Source c"), delay=0.2)
    site.pages["/src/b"] = redirect(site.url("/src/b-moved"), 301)
    site.pages["/src/b-moved"] = Page(short_article("Source b"), delay=0.05)

    outputs = [json.loads(out) for out in two_checks_at_once(archive)]
    outcomes = {r["url"]: r["outcome"] for output in outputs for r in output["results"]}
    assert outcomes[site.url("/story")] == "edited"
    assert outcomes[site.url("/src/b")] == "moved"
    checked = [r["url"] for output in outputs for r in output["results"]]
    assert len(checked) == len(set(checked))  # one run or the other, never both
    status = cli_json(archive, "status")
    urls = [t["url"] for t in status["targets"]]
    assert sorted(urls) == sorted(
        site.url(p) for p in ("/story", "/src/a", "/src/b", "/src/c", "/src/b-moved")
    )


def test_diff_shows_a_sentence_with_two_changes_as_one_line(tmp_path: Path, site: Site) -> None:
    """Two words changed in one sentence: one line with both marked, as the report shows
    it, not two lines each showing the other change's words as unchanged."""
    archive = tmp_path / "archive"
    sentence = "The minister said on Tuesday that {} soldiers had crossed the {} border."
    site.pages["/s"] = Page(article_html("S", [sentence.format("forty", "northern"), "Other."]))
    assert invoke(archive, "capture", "--allow-private", "-q", site.url("/s")).exit_code == 0
    site.pages["/s"] = Page(article_html("S", [sentence.format("four", "southern"), "Other."]))
    assert invoke(archive, "check", "--allow-private", "-q").exit_code == 0

    out = invoke(archive, "diff", site.url("/s"))

    assert out.exit_code == 0, out.output
    changed = [line for line in out.stdout.splitlines() if "[-" in line]
    assert changed == [
        "The minister said on Tuesday that [-forty-] {+four+} soldiers had crossed the "
        "[-northern-] {+southern+} border."
    ]


def test_diff_of_a_page_that_never_changed_says_so(tmp_path: Path, site: Site) -> None:
    archive = tmp_path / "archive"
    site.pages["/s"] = Page(article_html("S", ["The same words, every time."]))
    assert invoke(archive, "capture", "--allow-private", "-q", site.url("/s")).exit_code == 0

    once = invoke(archive, "diff", site.url("/s"))
    assert invoke(archive, "check", "--allow-private", "-q").exit_code == 0
    twice = invoke(archive, "diff", site.url("/s"))
    data = cli_json(archive, "diff", site.url("/s"))

    assert (once.exit_code, twice.exit_code) == (0, 0)
    assert "No change: this is the only good capture." in once.stdout
    assert "No change: the main texts are equal." in twice.stdout
    assert data["changed"] is False and data["hunks"] == []


def test_status_keeps_the_last_change_after_a_quiet_check(tmp_path: Path, site: Site) -> None:
    """After an edit and one more quiet check, status said only `unchanged` while report
    said `edited`: one look at status must tell what happened."""
    archive = tmp_path / "archive"
    site.pages["/s"] = Page(article_html("S", ["The minister confirmed the order."]))
    assert invoke(archive, "capture", "--allow-private", "-q", site.url("/s")).exit_code == 0
    site.pages["/s"] = Page(article_html("S", ["The minister denied the order."]))
    assert invoke(archive, "check", "--allow-private", "-q").exit_code == 0
    assert invoke(archive, "check", "--allow-private", "-q").exit_code == 0  # quiet

    text = invoke(archive, "status")
    (target,) = cli_json(archive, "status")["targets"]

    (line,) = [line for line in text.stdout.splitlines() if site.url("/s") in line]
    assert line.split()[:2] == ["unchanged", "edited"]
    assert (target["state"], target["last_event"], target["last_event_reason"]) == (
        "unchanged",
        "edited",
        "text",
    )
    assert target["last_event_at"] and target["last_event_at"][:10] in line


def test_status_puts_long_reasons_last_so_columns_stay_aligned(tmp_path: Path, site: Site) -> None:
    archive = tmp_path / "archive"
    site.pages["/a"] = Page(
        article_html("A", ['See <a href="/gone">this</a> and <a href="/ok">that</a>.'])
    )
    site.pages["/ok"] = Page(article_html("OK", ["Fine."]))
    assert invoke(archive, "capture", "--allow-private", "-q", site.url("/a")).exit_code == 0

    lines = invoke(archive, "status").stdout.splitlines()

    header, rows = lines[0], lines[1:]
    column = header.index("url")
    assert all(row[column : column + 4] == "http" for row in rows), lines
    assert any(row.endswith("(http-404)") for row in rows)


def test_pause_resume_untrack_and_list(tmp_path: Path, site: Site) -> None:
    """What users asked for first: stop checking a URL for a while, or for good, keeping its
    history; and a list of what is tracked and when it is next checked."""
    archive = tmp_path / "archive"
    site.pages["/a"] = Page(article_html("A", ['See <a href="/src">the source</a>.']))
    site.pages["/src"] = Page(article_html("Source", ["The source's words."]))
    site.pages["/b"] = Page(article_html("B", ["Another article."]))
    for path in ("/a", "/b"):
        assert invoke(archive, "capture", "--allow-private", "-q", site.url(path)).exit_code == 0
    a, source, b = site.url("/a"), site.url("/src"), site.url("/b")

    paused = invoke(archive, "track", a, "--pause")
    listed = {e["url"]: e for e in cli_json(archive, "list")["targets"]}
    checked = {r["url"] for r in cli_json(archive, "check", "--allow-private")["results"]}

    assert paused.exit_code == 0 and "2 tracked URL(s) paused" in paused.stdout
    assert listed[a]["paused"] and listed[source]["paused"] and not listed[b]["paused"]
    assert listed[a]["next_check"] is None and listed[b]["next_check"]
    assert (listed[a]["role"], listed[a]["every"]) == ("article", "1d")
    assert checked == {b}  # the paused article and its source were left out
    text = invoke(archive, "list").stdout
    assert any(line.split()[2] == "paused" for line in text.splitlines() if a in line)

    assert invoke(archive, "track", a, "--resume").exit_code == 0
    resumed = {r["url"] for r in cli_json(archive, "check", "--allow-private")["results"]}
    assert resumed == {a, source, b}

    untracked = invoke(archive, "untrack", a)
    assert untracked.exit_code == 0 and "2 URL(s) no longer tracked" in untracked.stdout
    assert [e["url"] for e in cli_json(archive, "list")["targets"]] == [b]
    history = cli_json(archive, "history", a)["captures"]
    assert len(history) == 2  # its capture and its check: the history stays
    assert invoke(archive, "check", a).exit_code == 2  # not tracked any more
    assert invoke(archive, "track", a, "--every", "6h").exit_code == 2
    assert invoke(archive, "track", b).exit_code == 2  # nothing to change


def test_allow_private_is_remembered_for_the_checks_of_the_archive(
    tmp_path: Path, site: Site
) -> None:
    """A check without --allow-private turned every loopback source `unreachable` after a
    capture that used it: the choice is kept in the archive's settings, and said so."""
    archive = tmp_path / "archive"
    site.pages["/a"] = Page(article_html("A", ['See <a href="/src">the source</a>.']))
    site.pages["/src"] = Page(article_html("Source", ["The source's words."]))

    captured = invoke(archive, "capture", "--allow-private", "-q", site.url("/a"))
    again = invoke(archive, "capture", "--allow-private", "-q", site.url("/a"))
    results = cli_json(archive, "check")["results"]  # no --allow-private

    assert "Remembered allow_private = true" in captured.stderr
    assert "Remembered" not in again.stderr  # said once
    assert (archive / "preserve.toml").read_text().count("allow_private = true") == 1
    assert {r["url"]: r["outcome"] for r in results} == {
        site.url("/a"): "unchanged",
        site.url("/src"): "unchanged",
    }
