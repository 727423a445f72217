"""An archive to damage or search: a story citing two sources, captured from a local site,
then edited and checked; and plain sqlite3 edits of its database."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

from preserve.config import Config, FetchLimits
from preserve.engine.archive import Archive, Run
from preserve.engine.capture import capture_articles
from preserve.engine.check import check_targets, select_targets
from preserve.evidence.verify import verify
from tests.support.clock import Clock
from tests.support.sites import Page, Site, article_html

OLD = "The deputy minister confirmed that the wiretap order was signed in March."
NEW = "The deputy minister denied that any wiretap order was ever signed."
FILLER = [
    "The inquiry heard from eleven witnesses over three days in the provincial capital.",
    "Council records show the budget for the harbour station was approved in January.",
]


CONFIG = Config(
    fetch=FetchLimits(timeout=2.0, deadline=5.0, allow_private=True), workers=2, per_host=2
)


def story(claim: str) -> str:
    return article_html(
        "Wiretap inquiry",
        [
            FILLER[0],
            f"{claim} Officials at the minister’s office would not comment.",
            'The full <a href="/src/report">report</a> and the <a href="/src/annex.txt">annex</a>.',
            FILLER[1],
        ],
    )


def build(path: Path, site: Site, *, edit: bool = True) -> Path:
    """Capture a story citing two sources, then (optionally) edit it and check everything."""
    site.pages["/2016/10/story"] = Page(story(OLD))
    site.pages["/src/report"] = Page(article_html("Report", ["The report runs to forty pages."]))
    site.pages["/src/annex.txt"] = Page(
        "Annex A. Dates of the hearings.\n", content_type="text/plain"
    )
    clock = Clock()
    archive = Archive(path)
    try:
        run = Run(archive, "capture", CONFIG, clock, {})
        try:
            capture_articles(run, [site.url("/2016/10/story")], every_seconds=86400)
        finally:
            run.finish()
        if edit:
            site.pages["/2016/10/story"] = Page(story(NEW))
            clock.now += timedelta(days=1)
            run = Run(archive, "check", CONFIG, clock, {})
            try:
                check_targets(run, select_targets(archive.store, None, due=False, now=clock.now))
            finally:
                run.finish()
    finally:
        archive.close()
    return path


def run_verify(path: Path, **options: Any) -> list[tuple[str, Any, Any]]:
    handle = Archive(path, create=False)
    try:
        result = verify(handle, **options)
    finally:
        handle.close()
    return [(p.kind, p.warc, p.url) for p in result.problems]


def kinds(path: Path, **options: Any) -> set[str]:
    return {kind for kind, _, _ in run_verify(path, **options)}


def sql(path: Path, statement: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    """A hand edit: plain sqlite3, foreign keys off (as in the sqlite3 shell)."""
    conn = sqlite3.connect(path / "preserve.db")
    conn.row_factory = sqlite3.Row
    try:
        rows = [dict(r) for r in conn.execute(statement, params)]
        conn.commit()
        return rows
    finally:
        conn.close()


def capture_row(path: Path, url_part: str, which: int = 0) -> dict[str, Any]:
    rows = sql(
        path,
        "SELECT * FROM captures WHERE url LIKE ? AND warc IS NOT NULL ORDER BY id",
        (f"%{url_part}",),
    )
    return rows[which]
