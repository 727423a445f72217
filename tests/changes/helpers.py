"""Snapshots to classify: a news article with its paragraphs and links, failures,
redirects and the soft-404 probe's page."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from preserve.changes.links import url_key
from preserve.changes.model import Snapshot

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
HOUR, DAY = timedelta(hours=1), timedelta(days=1)
URL = "https://news.example/2016/10/story/"
ROOT = "https://news.example/"
TITLE = "Former minister denies ordering wiretap"

P1 = (
    "The former minister denied on Tuesday that he had ordered the wiretap, according to a "
    "transcript seen by this newspaper."
)
P2 = (
    "Officials said 40 million documents were reviewed by the inquiry, which began in March "
    "and reported in September."
)
P3 = (
    "In an interview with a regional radio station, the minister said the claims were a "
    "fabrication and that he would sue."
)
P4 = (
    "Critics pointed to a leaked memo which, they argue, shows that the order was signed by "
    "his deputy at the ministry."
)
P5 = (
    "The chair of the inquiry declined to comment on the memo, saying only that the final "
    "report would be published in full."
)
P6 = (
    "A spokesperson for the opposition said the review had not yet begun and called for an "
    "independent look at every surveillance order issued since 2014."
)
ARTICLE = "\n".join([P1, P2, P3, P4, P5, P6])
LINKS = (
    ("https://radio.example/interview/123", "interview with a regional radio station"),
    ("https://docs.example/memo.pdf", "leaked memo"),
    ("https://inquiry.example/report", "final report"),
)
SHOP = (
    "Welcome to our shop. Browse the latest offers on garden furniture, lamps and rugs. Free "
    "delivery on orders over fifty pounds. Sign up for our newsletter to hear about new "
    "arrivals and seasonal sales, and follow us for weekly ideas for your home and garden."
)
NOT_FOUND = (
    "Sorry, the page you were looking for could not be found. It may have been moved or "
    "deleted. Try searching the site or return to the homepage to find the latest news."
)


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def loose(text: str) -> str:
    return "".join(c for c in text.casefold() if c.isalnum())


def page(
    text: str = ARTICLE,
    *,
    url: str = URL,
    title: str | None = TITLE,
    links: tuple[tuple[str, str], ...] = LINKS,
    visible: str | None = None,
    nonce: str = "",
    status: int | None = 200,
    **fields: object,
) -> Snapshot:
    """A capture of a news page: nav, headline, byline, main text, sidebar, footer. `nonce`
    changes the bytes (an ad id, a CSP nonce) without changing what extraction sees."""
    if visible is None:
        visible = "\n".join(
            ["Home News World Politics", title or "", "By Jane Doe", text, "Most read", "(c) News"]
        )
    payload = sha(f"{title}|{text}|{links}|{nonce}")
    links_key = sorted((url_key(u), a) for u, a in links)
    values: dict[str, object] = dict(
        url=url,
        captured_at=T0,
        status=status,
        final_url=url,
        payload_sha256=payload,
        title=title,
        text=text,
        visible_text=visible,
        links=links,
        text_sha256=sha(text),
        loose_sha256=sha(loose(text)),
        links_sha256=sha(repr(links_key)),
    )
    values.update(fields)
    return Snapshot(**values)  # type: ignore[arg-type]


def failure(error: str | None = None, status: int | None = None, **fields: object) -> Snapshot:
    """A fetch that ended in an error or an error status, with no page to compare."""
    values: dict[str, object] = dict(url=URL, captured_at=T0, error=error, status=status)
    values.update(fields)
    return Snapshot(**values)  # type: ignore[arg-type]


def redirected(final: str, *hops: int, text: str = ARTICLE, **fields: Any) -> Snapshot:
    """A page reached through redirects with the given statuses, ending at `final`."""
    chain = [URL] + [f"{URL}hop{i}" for i in range(1, len(hops))]
    return page(text, final_url=final, redirects=tuple(zip(chain, hops, strict=True)), **fields)


BASE = page()
NEGATED = ARTICLE.replace("minister denied on", "minister did not deny on")
PROBE_404 = failure(status=404, url="https://news.example/2016/10/qwertyuiopasdfghjklzxcvbn")
PROBE_TEMPLATE = page(
    NOT_FOUND,
    url="https://news.example/2016/10/qwertyuiopasdfghjklzxcvbn",
    title="News",
    visible=f"Home News World Politics\n{NOT_FOUND}\n(c) News",
)
# A site whose nav and footer dwarf a short page's own text.
BOILERPLATE = " ".join(f"section{i} menu{i}" for i in range(150))
HEAVY_PROBE = replace(PROBE_TEMPLATE, visible_text=f"{BOILERPLATE}\n{NOT_FOUND}\n{BOILERPLATE}")
