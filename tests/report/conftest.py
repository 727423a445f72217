"""`investigation`: an archive built end to end, once for the package: an article and its
four sources captured, then the article and one source edited, one taken down, one moved."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from preserve.config import Config, FetchLimits
from preserve.engine.archive import Archive, Run
from preserve.engine.capture import capture_articles
from preserve.engine.check import check_targets
from preserve.report.build import build_report
from preserve.times import iso
from tests.report.helpers import HOSTILE, Investigation, article_page, source_page
from tests.support.clock import Clock
from tests.support.sites import Page, Site, redirect


@pytest.fixture(scope="package")
def investigation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Investigation]:
    """Capture an article and its four sources, then: the article and one source are edited
    (a negation and a number), one source is taken down (410), one moves (301)."""
    news, sources = Site(), Site()
    path = tmp_path_factory.mktemp("report") / "archive"
    clock = Clock()
    config = Config(
        fetch=FetchLimits(timeout=2.0, deadline=5.0, allow_private=True), workers=4, per_host=4
    )
    article = news.url("/2026/10/wiretap")
    news.pages["/2026/10/wiretap"] = Page(article_page(sources, edited=False))
    sources.pages["/ministry/statement"] = Page(
        source_page(
            "Ministry statement",
            "The ministry confirms that the order was signed by the deputy "
            "minister and covered 40 phone lines.",
        )
    )
    sources.pages["/interviews/prosecutor"] = Page(
        source_page(
            "Interview with the prosecutor",
            "The prosecutor said the judge signed the order at "
            "night because the agency said the matter was urgent.",
        )
    )
    sources.pages["/court/ruling"] = Page(
        source_page(
            "Ruling of the administrative court",
            "The court ruled that the interceptions were "
            "carried out by the national security agency without a valid order.",
        )
    )
    sources.pages["/leaks/memo"] = Page(
        source_page(
            "The memo",
            f"The memo contains the words {HOSTILE.replace('<', '&lt;')} and a list "
            "of phone numbers.",
        )
    )
    archive = Archive(path)
    try:
        run = Run(archive, "capture", config, clock, {"urls": [article]})
        try:
            captured = list(capture_articles(run, [article], every_seconds=86400))
        finally:
            run.finish()
        assert captured[0].ok and len(captured[0].citations) == 4

        clock.now += timedelta(days=1)
        news.pages["/2026/10/wiretap"] = Page(article_page(sources, edited=True))
        sources.pages["/ministry/statement"] = Page(
            source_page(
                "Ministry statement",
                "The ministry denies that the order was signed by the "
                "deputy minister and covered 4 phone lines.",
            )
        )
        sources.pages["/ministry/correction"] = Page(
            source_page(
                "Correction", "An earlier version of the statement said the order was signed."
            )
        )
        sources.pages["/interviews/prosecutor"] = Page("<h1>Gone</h1>", status=410)
        sources.pages["/court/rulings/2026/ruling"] = sources.pages["/court/ruling"]
        sources.pages["/court/ruling"] = redirect(
            sources.url("/court/rulings/2026/ruling"), status=301
        )
        for _ in range(2):  # the second check, two hours on, confirms the 410
            run = Run(archive, "check", config, clock, {"urls": []})
            try:
                check_targets(run, archive.store.targets())
            finally:
                run.finish()
            clock.now += timedelta(hours=2)
        report = build_report(
            archive.store, None, archive=str(path), generated_at=iso(clock.now), tool_version="test"
        )
    finally:
        archive.close()
    yield Investigation(path, article, sources, report)
    news.close()
    sources.close()
