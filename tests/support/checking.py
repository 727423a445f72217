"""Checking in tests: an archive captured and checked through the library with a clock
the test moves (`Lab`), generated articles, and a story captured on the command line."""

from __future__ import annotations

import random
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from preserve.config import Config, FetchLimits
from preserve.engine.archive import Archive, Run
from preserve.engine.capture import capture_articles
from preserve.engine.captured import ArticleCapture
from preserve.engine.check import check_targets, select_targets
from preserve.engine.results import CheckResult
from tests.support.cli import PRESERVE
from tests.support.clock import Clock
from tests.support.sites import Page, Site, article_html

BIN = Path(sys.executable).parent
HOUR, DAY = timedelta(hours=1), timedelta(days=1)

CLAIM = "The deputy minister confirmed that the wiretap order was signed in March."
NEGATED = "The deputy minister did not confirm that the wiretap order was signed in March."
VOCABULARY = (
    "archive court letter minister office river village document report inquiry border "
    "council witness evidence statement agency budget harbour mayor station railway "
    "committee hearing transcript province election museum bridge factory"
).split()


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


# What a site that answers a missing page with 200 serves (a soft-404): `site.not_found =
# Page(NOT_FOUND_TEMPLATE, status=200)`.
NOT_FOUND_TEMPLATE = article_html(
    "Example News",
    [
        "Sorry, we could not find the page you were looking for. It may have been moved, "
        "renamed or deleted, or the address may have been typed incorrectly.",
        "Try the search box above, or browse the sections of the site to find our most "
        "recent reporting, opinion, photography and investigations from around the world.",
    ],
)


def cli_capture(archive: Path, site: Site) -> str:
    """The story of the `cli_site` fixture (tests/cli/conftest.py) captured with `preserve
    capture --json`, its source with it; the story's URL."""
    url = site.url("/2016/10/story")
    data = PRESERVE.json(archive, "capture", url, "--allow-private", "--timeout", "2")
    assert data["article"]["status"] == "captured"
    assert [c["status"] for c in data["citations"]] == ["captured"]
    return url


# A site redesign: the same story in a new wrapper that pulls the headline and the byline
# into what the extractor takes for the text.
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


def gone_checks(lab: Lab, url: str, gaps: list[timedelta]) -> list[tuple[str, str | None, bool]]:
    """Check `url` after each gap: (outcome, reason, confirmed) of each check."""
    out = []
    for gap in gaps:
        lab.clock.advance(gap)
        outcome = lab.check_one(url).outcome
        out.append((outcome.outcome, outcome.reason, outcome.confirmed))
    return out
