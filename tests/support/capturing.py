"""Capturing in tests: news stories that cite their sources inline, `preserve capture --json`
with loopback allowed, and the rows a capture wrote."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from tests.support.cli import PRESERVE
from tests.support.sites import Page, Site, article_html
from tests.support.warc_checks import rows

BIN = Path(sys.executable).parent
FAST = ("--allow-private", "--timeout", "2")
SHA256_HEX = set("0123456789abcdef")

COMMENTS = """<section id="comments" class="comments"><h3>Comments</h3>
<div class="comment"><p>Great piece! More on this <a href="/comment-spam">here</a>.</p>
</div></section>"""


def paragraph(n: int, href: str, anchor: str) -> str:
    """A paragraph of prose that cites `href`; its middle sentence is the link's context."""
    return (
        f"Reporters covered development number {n} of the harbour story all week long. "
        f'Officials said on Monday, according to <a href="{href}">{anchor}</a>, that '
        f"matter {n} was under review. Further remarks followed in the afternoon session "
        "of the council, where members asked for the full documents."
    )


CLOSING = (
    "Residents gathered at the quay in the evening to ask when the ferry would run "
    "again; nobody from the port authority came to answer their questions that night."
)


def story(
    *cited: tuple[str, str],
    title: str = "Harbour closed after moorings fail",
    comments: str = COMMENTS,
    **kwargs: str,
) -> str:
    """A news page citing (href, anchor) pairs inline, with nav, sidebar, comments, footer."""
    paragraphs = [paragraph(n, href, anchor) for n, (href, anchor) in enumerate(cited)]
    html = article_html(title, [*paragraphs, CLOSING], **kwargs)
    return html.replace("</main>", comments + "</main>")


def context(n: int, anchor: str) -> str:
    return f"Officials said on Monday, according to {anchor}, that matter {n} was under review."


def capture(archive: Path, *args: str, code: int = 0) -> dict[str, Any]:
    """`preserve capture --json ARGS` with loopback allowed; the parsed document."""
    result = PRESERVE.run(archive, "capture", "--json", *FAST, *args)
    assert result.exit_code == code, (result.output, result.stderr, result.exception)
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def article_capture(archive: Path, url: str) -> dict[str, Any]:
    (row,) = rows(
        archive,
        "SELECT * FROM captures WHERE url = ? AND role = 'article' ORDER BY id DESC LIMIT 1",
        (url,),
    )
    return row


def capture_of(archive: Path, url: str) -> dict[str, Any]:
    found = rows(archive, "SELECT * FROM captures WHERE url = ? ORDER BY id", (url,))
    assert len(found) == 1, found
    return found[0]


def by_url(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["url"]: c for c in document["citations"]}


def citation_sources(site: Site, other: Site) -> tuple[list[str], list[tuple[str, str]]]:
    """Three sources (relative, absolute on this site, on another site) with their links."""
    site.pages["/sources/notice"] = Page("<html><body><p>Notice text</p></body></html>")
    site.pages["/sources/inspection"] = Page("<html><body><p>Inspection</p></body></html>")
    other.pages["/radio/interview"] = Page("<html><body><p>Interview</p></body></html>")
    urls = [
        site.url("/sources/notice"),
        site.url("/sources/inspection"),
        other.url("/radio/interview"),
    ]
    links = [
        ("/sources/notice", "a notice from the maritime authority"),
        (urls[1], "an inspection report"),
        (urls[2] + "#t=120", "a local radio station"),
    ]
    return urls, links


def status_of(archive: Path) -> list[dict[str, Any]]:
    result = PRESERVE.run(archive, "status", "--json")
    assert result.exit_code == 0, result.output
    targets: list[dict[str, Any]] = json.loads(result.stdout)["targets"]
    return targets
