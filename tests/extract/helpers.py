"""A news page with nav, sidebar, comments and footer around its article, and extraction
from literal bodies."""

from __future__ import annotations

from typing import Any

from preserve.extract.extractor import Extracted, extract
from tests.support.sites import article_html

PAGE = "http://news.example.com/2016/10/harbour-closure/"
HTML = "text/html; charset=utf-8"
MiB = 1024 * 1024

# Body paragraphs long enough for trafilatura to be sure of them; each cites something.
BODY = [
    'Port officials closed the northern harbour on Monday after <a href="https://ports.example.org'
    '/notices/2016-114">a notice from the maritime authority</a> warned of unstable moorings. '
    "Fishing crews were told to stay ashore until further notice.",
    "The harbour master said the decision was not taken lightly. According to "
    '<a href="/2016/10/earlier-inspection/">an inspection report from last spring</a>, repairs '
    "had been postponed twice for lack of funds.",
    'Engineers from the regional council, quoted by <a href="http://radio.example.net/'
    'harbour-interview#t=120">a local radio station</a>, estimated that the work would take '
    "at least six weeks and cost more than the annual maintenance budget.",
    "Residents gathered at the quay in the evening to ask when the ferry would run again; "
    "nobody from the port authority came to answer their questions in person that night.",
]
CITED = [
    "https://ports.example.org/notices/2016-114",
    "http://news.example.com/2016/10/earlier-inspection/",
    "http://radio.example.net/harbour-interview",
]
COMMENTS = """<section id="comments" class="comments"><h3>Comments</h3>
<div class="comment"><p>Great piece! More on this <a href="http://spam.example/deals">here</a>.</p>
</div></section>"""


def page(paragraphs: list[str] = BODY, *, comments: str = COMMENTS, **kwargs: str) -> bytes:
    html = article_html("Harbour closed after moorings fail", paragraphs, **kwargs)
    return html.replace("</main>", comments + "</main>").encode("utf-8")


def html_doc(body: str, head: str = "") -> bytes:
    return f"<!DOCTYPE html><html><head>{head}</head><body>{body}</body></html>".encode()


def run(raw: bytes, url: str = PAGE, content_type: str | None = HTML, **kwargs: Any) -> Extracted:
    return extract(raw, url=url, content_type=content_type, **kwargs)


def urls(result: Extracted) -> list[str]:
    return [c.url for c in result.citations]
