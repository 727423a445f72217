"""Pages to capture for the hostile tests (articles citing hostile links, many pages that
change), and their rows read back."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path
from typing import Any

from tests.support.processes import spawn
from tests.support.sites import Page, Site, article_html

# --- rows -----------------------------------------------------------------------------------


def rows(archive: Path, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    conn = sqlite3.connect(archive / "preserve.db")
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, params)]
    finally:
        conn.close()


def capture_row(archive: Path, url: str) -> dict[str, Any]:
    found = rows(archive, "SELECT * FROM captures WHERE url = ? ORDER BY id DESC", (url,))
    assert found, f"no capture of {url}"
    return found[0]


def cite(*hrefs: str, title: str = "A hostile page") -> bytes:
    """An article citing each href in a sentence of its own (entities allowed in hrefs)."""
    paragraphs = [
        f"Reporters covered matter number {n} of the affair at length this week. "
        f'Officials said, according to <a href="{href}">source {n}</a>, that the '
        f"matter was under review. More remarks followed in the afternoon."
        for n, href in enumerate(hrefs)
    ]
    return article_html(title, paragraphs).encode()


WORDS = " ".join(
    random.Random(0).choices(("harbour", "ferry", "quay", "council", "storm", "mooring"), k=100_000)
)


def many_pages(site: Site, generation: int, articles: int = 3, sources: int = 30) -> list[str]:
    """Articles citing `sources` sources each; bodies change with `generation` so that every
    run writes full records, and some answer slowly so that runs last a few seconds."""
    rng = random.Random(generation)
    for n in range(sources * articles):
        start = rng.randrange(len(WORDS) // 2)
        words = WORDS[start : start + rng.randint(15_000, 200_000)]
        site.pages[f"/src/{n}"] = Page(
            article_html(f"Source {n}", [f"Generation {generation}.", words]),
            delay=rng.choice((0, 0, 0.05, 0.2)),
        )
    urls = []
    for a in range(articles):
        hrefs = [(f"/src/{a * sources + i}", f"source {i}") for i in range(sources)]
        paragraphs = [
            f"Paragraph {i} of article {a}, generation {generation}, cites "
            f'<a href="{href}">{anchor}</a> about the harbour.'
            for i, (href, anchor) in enumerate(hrefs)
        ]
        site.pages[f"/article/{a}"] = Page(article_html(f"Article {a}", paragraphs))
        urls.append(site.url(f"/article/{a}"))
    return urls


def captured_article(tmp_path: Path, site: Site, more: dict[str, Page] | None = None) -> Path:
    """`tmp_path/archive` after capturing the site's /a, which cites /b; `more`: other pages
    the site serves, set before the capture."""
    archive = tmp_path / "archive"
    site.pages["/a"] = Page(cite("/b"))
    site.pages.update(more or {})
    assert spawn(archive, "capture", site.url("/a"), "--allow-private", "-q").code == 0
    return archive
